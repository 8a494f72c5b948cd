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

``not_aws_answer`` names the first three in one line; callers turn them, like the third, into
``Exit.UNREACHABLE`` (``check``) or "cannot tell" (``preflight``).
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

# Everything an AWS call can raise that a command must turn into one line.
AWS_CALL_ERRORS = (ClientError, BotoCoreError, ResponseParserError, UnicodeDecodeError)
# How much of an unexpected answer a line quotes.
QUOTED_CHARACTERS = 80


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
