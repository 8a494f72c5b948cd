"""How ``check`` and ``preflight`` read what an AWS call raised: its code, its text on one line (a
report gives each step one line, and AWS messages can span several), and whether it is AWS's
answer at all.

An endpoint that is not AWS (a corporate proxy's or captive portal's HTML page, a truncated body,
garbage) fails in ways botocore does not wrap as ``ClientError``:

- a success status with a body its parser cannot read raises ``botocore.parsers.
  ResponseParserError``, which derives from ``Exception`` only (``botocore/parsers.py``), so
  ``except (ClientError, BotoCoreError)`` lets it through as a traceback;
- a JSON protocol's body that is not UTF-8 raises ``UnicodeDecodeError`` straight from the
  parser (``botocore/parsers.py``, ``BaseJSONParser._parse_body_as_json`` decodes it unguarded);
- an error status whose body has no AWS error in it becomes a ``ClientError`` whose code is the
  bare HTTP status and whose message is its reason phrase (``botocore/parsers.py``,
  ``_do_generic_error_parse`` and ``_parse_error_from_http_status``); AWS's own codes are names;
- the connection failing, resetting or timing out raises botocore's ``ConnectionError`` family
  (``EndpointConnectionError``, ``ConnectTimeoutError``, ``SSLError``, ``ProxyConnectionError``),
  ``HTTPClientError`` (``ConnectionClosedError``, ``ReadTimeoutError``,
  ``ResponseStreamingError``) or ``IncompleteReadError`` (``botocore/exceptions.py``,
  ``botocore/endpoint.py`` ``_do_get_response``): all ``BotoCoreError``, which every command
  already reports as "cannot reach AWS".

Those are the failures botocore's parser reports; others it does not. A JSON body that is valid
JSON but not an object (``0``, ``[]``) reaches ``BaseJSONParser._handle_structure`` or
``_do_error_parse`` as a non-dict and raises ``AttributeError``; ``null`` parses to None, on which
``_do_get_response`` itself fails; a member of the wrong kind raises ``ValueError`` (a timestamp
that is not one). ``judge_answers`` therefore lets botocore's own
parser (``botocore.parsers.create_parser``) read each answer once before the client does, on the
``before-parse`` event (``botocore/endpoint.py``, ``Endpoint._do_get_response``, which emits it
with the ``operation_model`` and the ``response_dict``), and turns whatever that read raises into
``NotAwsAnswerError``, a ``ResponseParserError``.

botocore's JSON parsers also pass JSON values through whatever the model says (a string member
can arrive as an object), and a Describe by name can come back with no item or several: the
judged answer must also have the model's shape (``misshapen``), and ``only`` and ``needed`` read
what AWS always sends. Each of these failures is ``NotAwsAnswerError`` too.

``not_aws_answer`` names these in one line; callers turn them, like the bare-status ``ClientError``,
into ``Exit.UNREACHABLE`` (``check``) or "cannot tell" (``preflight``).
"""

from __future__ import annotations

import datetime
import json

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import BaseJSONParser, ResponseParserError, create_parser
from botocore.utils import is_json_value_header

# Everything an AWS call can raise that a command must turn into one line.
AWS_CALL_ERRORS = (ClientError, BotoCoreError, ResponseParserError, UnicodeDecodeError)
# How much of an unexpected answer a line quotes.
QUOTED_CHARACTERS = 80
# How much of an answer's body NotAwsAnswerError quotes.
QUOTED_BYTES = 40


class NotAwsAnswerError(ResponseParserError):
    """An answer that is not AWS's: botocore's parser fails on it, or what it reads does not
    have the shape AWS's model gives it."""


# What botocore's parsers give for each scalar type of a service model (botocore/parsers.py):
# the XML parsers convert text by the shape, the JSON parsers pass JSON values through as they
# are, so a string member can arrive as an object.
SCALAR_TYPES = {
    "string": str,
    "character": str,
    "boolean": bool,
    "byte": int,
    "short": int,
    "integer": int,
    "long": int,
    "float": (int, float),
    "double": (int, float),
    "timestamp": datetime.datetime,
    "blob": bytes,
}


def misshapen(shape, value: object, path: str) -> str | None:
    """Where ``value`` (what botocore parsed for ``shape``) is not what the model says, or None."""
    if value is None or shape is None or getattr(shape, "is_document_type", False):
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return f"{path} is not a structure"
        members = shape.members.items()
        found = (misshapen(member, value.get(name), f"{path}.{name}") for name, member in members)
        return next(filter(None, found), None)
    if kind == "list":
        if not isinstance(value, list):
            return f"{path} is not a list"
        items = (misshapen(shape.member, item, f"{path}[{n}]") for n, item in enumerate(value))
        return next(filter(None, items), None)
    if kind == "map":
        if not isinstance(value, dict):
            return f"{path} is not a map"
        entries = (misshapen(shape.value, item, f"{path}.{key}") for key, item in value.items())
        return next(filter(None, entries), None)
    if is_json_value_header(shape):  # a header the rest parsers decode as JSON (RestParser)
        return None
    expected = SCALAR_TYPES.get(kind)
    # bool is an int to Python, never to the model.
    wrong = expected is not None and (
        not isinstance(value, expected) or (isinstance(value, bool) and kind != "boolean")
    )
    return f"{path} is not a {kind}" if wrong else None


def _body_problem(parser, operation_model, response: dict) -> str | None:
    """What is wrong with the body before any parser reads it, or None.

    - Cut short: botocore reads the body with ``enforce_content_length=False``
      (``botocore/httpsession.py``, ``URLLib3Session.send``), so a connection that closes early
      hands the parser what came, and a JSON parser reads a cut body as text (below).
    - Not JSON where a JSON protocol answers: ``BaseJSONParser._parse_body_as_json``
      (``botocore/parsers.py``) turns text that is not JSON into ``{"message": text}``, so a
      captive portal's HTML page with status 200 reads as an answer with nothing in it (check
      against ``local`` said "returned no row", exit 1). Error statuses are left to botocore,
      which makes such a body a bare-status error (``not_aws_answer``), and so are answers
      whose output is a raw payload rather than a JSON document (a ``payload`` member).
    """
    body = bytes(response.get("body") or b"")
    announced = str(response["headers"].get("content-length", ""))
    if announced.isdigit() and len(body) < int(announced):
        return f"cut short: {len(body)} of the {announced} bytes announced"
    output = operation_model.output_shape
    document = output is None or "payload" not in output.serialization
    success = response["status_code"] < 300
    if isinstance(parser, BaseJSONParser) and document and success and body.strip():
        try:
            json.loads(body)
        except ValueError:  # UnicodeDecodeError included
            return "a JSON protocol's answer that is not JSON"
    return None


def _problem(parser, operation_model, response: dict) -> str | None:
    """What is wrong with ``response`` as an answer to ``operation_model``, read as botocore
    reads it (``botocore/endpoint.py``, ``Endpoint._do_get_response``): one parse with the
    operation's output shape (an error parse from status 301 on, ``ResponseParser.parse``), and
    from status 300 on a second with the shape of the error code it found
    (``_add_modeled_error_fields``); first the body itself (``_body_problem``)."""
    problem = _body_problem(parser, operation_model, response)
    if problem is not None:
        return problem
    parsed = parser.parse(response, operation_model.output_shape)
    if not isinstance(parsed, dict):
        return f"read as {type(parsed).__name__}"
    status = response["status_code"]
    if status < 301:
        problem = misshapen(operation_model.output_shape, parsed, "the answer")
        if problem is not None or status < 300:
            return problem
    error = parsed.get("Error", {})
    if not isinstance(error, dict):
        return "the error is not a structure"
    for field in ("Code", "Message"):
        if not isinstance(error.get(field, ""), str):
            return f"the error's {field} is not a string"
    code = error.get("Code")
    error_shape = code and operation_model.service_model.shape_for_error_code(code)
    if not error_shape:
        return None
    modeled = parser.parse(response, error_shape)
    if not isinstance(modeled, dict):
        return f"read as {type(modeled).__name__}"
    return misshapen(error_shape, modeled, code)


def judge_answers(client):
    """``client``, whose every answer that is not AWS's (this module's docstring) raises
    NotAwsAnswerError before botocore's own parse meets it."""

    def read_once(operation_model, response_dict, **_) -> None:
        if operation_model.has_streaming_output:  # the body is a stream that reads only once
            return
        parser = create_parser(operation_model.service_model.resolved_protocol)
        try:
            problem = _problem(parser, operation_model, dict(response_dict))
        except Exception as error:  # noqa: BLE001 (any failure of the parser means the same)
            problem = f"its parser fails with {type(error).__name__}"
        if problem is not None:
            body = bytes(response_dict.get("body") or b"")
            raise NotAwsAnswerError(
                f"HTTP {response_dict.get('status_code')} whose body is not AWS's ({problem}), "
                f"starting {body[:QUOTED_BYTES]!r}"
            )

    client.meta.events.register("before-parse", read_once)
    return client


def only(answer: dict, key: str):
    """The one item of ``answer[key]``: AWS answers a Describe by name with exactly one, or a
    NotFound error; anything else is NotAwsAnswerError."""
    items = answer.get(key)
    if not isinstance(items, list) or len(items) != 1:
        count = len(items) if isinstance(items, list) else "no list of"
        raise NotAwsAnswerError(f"the answer has {count} {key} where AWS sends one")
    return items[0]


def needed(answer: dict, key: str):
    """``answer[key]``, which AWS always sends; NotAwsAnswerError without it."""
    value = answer.get(key)
    if value is None:
        raise NotAwsAnswerError(f"the answer has no {key}, which AWS always sends")
    return value


def one_line(text: object) -> str:
    """``text`` with every run of whitespace, newlines included, made one space."""
    return " ".join(str(text).split())


def quoted(text: object) -> str:
    """``text`` on one line, control characters escaped, cut to QUOTED_CHARACTERS."""
    flat = "".join(c if c.isprintable() else repr(c)[1:-1] for c in one_line(text))
    return flat if len(flat) <= QUOTED_CHARACTERS else f"{flat[:QUOTED_CHARACTERS]}…"


def error_code(error: Exception) -> str:
    """The AWS error code of a ClientError, else empty."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def not_aws_answer(service: str, error: Exception) -> str | None:
    """What came back from ``service`` instead of an AWS answer, in one line; None when
    ``error`` is AWS's own answer (or a local configuration problem)."""
    if isinstance(error, ResponseParserError | UnicodeDecodeError):
        return f"{service} answered something that is not AWS's: {quoted(error)}"
    code = error_code(error)
    if code.isdigit():
        reason = error.response.get("Error", {}).get("Message", "")
        return (
            f"{service} answered HTTP {code} {quoted(reason)} with no AWS error in it (a proxy "
            f"or captive portal?)"
        )
    return None
