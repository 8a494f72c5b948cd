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

``not_aws_answer`` names these in one line; callers turn them, like the bare-status ``ClientError``,
into ``Exit.UNREACHABLE`` (``check``) or "cannot tell" (``preflight``).
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError, create_parser

# Everything an AWS call can raise that a command must turn into one line.
AWS_CALL_ERRORS = (ClientError, BotoCoreError, ResponseParserError, UnicodeDecodeError)
# How much of an unexpected answer a line quotes.
QUOTED_CHARACTERS = 80
# How much of an answer's body NotAwsAnswerError quotes.
QUOTED_BYTES = 40


class NotAwsAnswerError(ResponseParserError):
    """An answer botocore's parser fails on, whatever it raised doing so."""


def judge_answers(client):
    """``client``, whose every answer botocore's parser cannot read, or reads as something other
    than a dict, raises NotAwsAnswerError instead (this module's docstring)."""

    def read_once(operation_model, response_dict, **_) -> None:
        if operation_model.has_streaming_output:  # the body is a stream that reads only once
            return
        parser = create_parser(operation_model.service_model.resolved_protocol)
        try:
            parsed = parser.parse(dict(response_dict), operation_model.output_shape)
            problem = None if isinstance(parsed, dict) else f"read as {type(parsed).__name__}"
        except Exception as error:  # noqa: BLE001 (any failure of the parser means the same)
            problem = f"its parser fails with {type(error).__name__}"
        if problem is not None:
            body = bytes(response_dict.get("body") or b"")
            raise NotAwsAnswerError(
                f"HTTP {response_dict.get('status_code')} whose body {problem}, starting "
                f"{body[:QUOTED_BYTES]!r}"
            )

    client.meta.events.register("before-parse", read_once)
    return client


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
