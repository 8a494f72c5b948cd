"""Which HTTP requests may reach the Data API: the checks made before a request's body is parsed
or any SQL runs.

Loopback is not a trust boundary: every web page the developer opens can send requests to
``127.0.0.1``. A page can ``fetch()`` a CORS "simple request" (``POST`` with ``Content-Type:
text/plain`` and no custom header) without a preflight, and a page on a name the attacker
re-points at 127.0.0.1 (DNS rebinding) is even same-origin to it. So, like Jupyter (Host and Origin
checks, a token) and Vite (``server.allowedHosts``), a request is refused unless all of these hold:

1. ``Host`` names this endpoint by a loopback name and its port (``LOOPBACK_NAMES``): a rebinding
   page sends its own name there (RFC 9110 section 7.2: the Host header carries the target URI's
   authority, which for that page is the attacker's name).
2. No ``Origin`` header: the Fetch standard has browsers add it to every request whose method is
   neither GET nor HEAD (fetch.spec.whatwg.org, "append a request `Origin` header"); SDKs and
   the AWS CLI never send it. No CORS headers are ever sent back, so a preflight never succeeds.
3. An AWS Signature Version 4 ``Authorization`` header, as every AWS SDK and the AWS CLI send on
   every call (botocore/auth.py, ``SigV4Auth``), made with a key ``local`` knows and verified as
   AWS verifies it (``signatures``; the keys: ``access_keys``). Loopback is shared by every user
   of the machine, so the key is what tells the developer's calls from anyone else's. That
   ``Authorization`` is not a CORS-safelisted request header (Fetch standard, "CORS-safelisted
   request-header") also means a page cannot send it without a preflight, which fails (2).
4. ``Content-Type: application/json``, what the SDKs send for the Data API's REST-JSON protocol
   (botocore/serialize.py, ``RestJSONSerializer._serialize_content_type``: "Set Content-Type to
   application/json for all structured bodies"; aws-sdk-java-v2 ``DefaultJsonContentTypeResolver``:
   REST_JSON is "application/json"). ``text/plain``, ``application/x-www-form-urlencoded`` and
   ``multipart/form-data``, the CORS-safelisted types a page can send without a preflight, are
   refused. (The retired AWS SDK for Java 1.x sends an empty Content-Type for rds-data,
   ``withContentTypeOverride("")`` in ``AWSRDSDataClient``; it is refused too.) The RDS control
   plane's route (``CONTROL_PLANE``) takes the form bodies its SDKs send instead; a page could
   send such a form, but never with the signature of rule 3.

The errors are AWS's for the same faults. Unsigned: HTTP 403 ``MissingAuthenticationToken`` with
"Missing Authentication Token"; malformed: ``IncompleteSignature``, HTTP 400 (AWS's "Common
Errors" pages, e.g. the RDS API Reference's CommonErrors.html: "MissingAuthenticationToken ...
HTTP Status Code: 403", "IncompleteSignature: The request signature does not conform to AWS
standards. HTTP Status Code: 400"). AWS's JSON front ends name them with the ``Exception`` suffix
(API Gateway answers an unsigned call "403, x-amzn-ErrorType: MissingAuthenticationTokenException";
JSON services give ``"__type": "IncompleteSignatureException"``), and ``x-amzn-ErrorType`` is what
botocore reads as the error code (botocore/parsers.py, ``RestJSONParser._inject_error_code``).
A wrong Host or an Origin is the model's 403 ``AccessDeniedException``; a body that is not JSON
its ``BadRequestException``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import TypeVar

from alex_db.tools.local.errors import RefusedRequestError, bad_request
from alex_db.tools.local.signatures import (
    AccessKey,
    Identity,
    SignatureError,
    SignedRequest,
    identify,
    verify_body,
)

T = TypeVar("T")

# The names a client on this machine uses for 127.0.0.1 (RFC 6761 section 6.3 reserves
# "localhost"); [::1] is the IPv6 loopback address in a URI's bracket form (RFC 3986 3.2.2).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
JSON_MEDIA_TYPE = "application/json"
# How much of a refused header a message quotes: enough to recognise it, never a page of text.
QUOTED_CHARACTERS = 80


@dataclass(frozen=True)
class Route:
    """What a path serves: ``service`` is the signing name its calls are signed for (the model's
    ``signingName``), ``media_type`` the body its SDK sends, ``name`` what messages call it."""

    service: str
    media_type: str
    name: str


# botocore's rds-data model: REST-JSON, signingName rds-data (service-2.json, "metadata").
DATA_API = Route("rds-data", JSON_MEDIA_TYPE, "the Data API")
# botocore's rds model: the query protocol, signingName rds; its serializer sends
# "application/x-www-form-urlencoded; charset=utf-8" (botocore/serialize.py, QuerySerializer).
CONTROL_PLANE = Route("rds", "application/x-www-form-urlencoded", "the RDS control plane")


@dataclass(frozen=True)
class Signer:
    """What a signature is checked against: the keys ``local`` accepts (``find_key``), the region
    it serves (its cluster ARN's) and the clock."""

    find_key: Callable[[str], AccessKey | None]
    region: str
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def admit_headers(headers: Message, port: int, signer: Signer, route: Route = DATA_API) -> Identity:
    """What the headers prove (``Identity``); refuses (raises ``DataApiError``) a request that
    its headers alone show must be refused: every rule of the module docstring but the
    signature's value, which covers the body. Anyone who can reach the port may send a body of
    up to 4 MiB on each connection it opens; checked first, this keeps the body of a caller
    that holds no key from ever being read into memory."""
    _check_host(headers, port)
    _check_no_origin(headers)
    identity = _check_credentials(
        headers,
        lambda: identify(headers, signer.find_key, signer.region, route.service, signer.now()),
    )
    _check_media_type(headers, route)
    return identity


def admit_body(request: SignedRequest, identity: Identity, signer: Signer, route: Route) -> None:
    """Refuses a request admitted by its headers (``identity``) whose signature is not the one
    its key gives for this body: the last rule, checked once the body is read."""
    _check_credentials(
        request.headers,
        lambda: verify_body(request, identity, f"{signer.region}/{route.service}"),
    )


def loopback_hosts(port: int) -> frozenset[str]:
    """The ``Host`` values that address this endpoint. Port 80, the default, may be left out
    (RFC 9110 section 4.2.1)."""
    named = {f"{name}:{port}" for name in LOOPBACK_NAMES}
    return frozenset(named | (set(LOOPBACK_NAMES) if port == 80 else set()))


def _check_host(headers: Message, port: int) -> None:
    hosts = headers.get_all("Host") or []
    if len(hosts) == 1 and hosts[0].strip().lower() in loopback_hosts(port):
        return
    shown = "no Host header" if not hosts else f"Host {_quoted(', '.join(hosts))}"
    raise RefusedRequestError(
        403,
        "AccessDeniedException",
        f"refused: {shown}; alex-db local answers only requests addressed to "
        f"127.0.0.1:{port}, localhost:{port} or [::1]:{port} (a page on another name that "
        f"resolves here is DNS rebinding)",
    )


def _check_no_origin(headers: Message) -> None:
    origins = headers.get_all("Origin")
    if origins:
        raise RefusedRequestError(
            403,
            "AccessDeniedException",
            f"refused: the request carries Origin {_quoted(', '.join(origins))}, so a web "
            f"browser sent it; alex-db local answers AWS SDKs and the AWS CLI, never web pages",
        )


def _check_credentials(headers: Message, check: Callable[[], T]) -> T:
    """``check()``'s answer; an unsigned request, or its ``SignatureError``, as AWS refuses
    it."""
    if headers.get("Authorization") is None:
        raise RefusedRequestError(
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token: sign the request with AWS Signature Version 4, as "
            "every AWS SDK and the AWS CLI do, with the keys alex-db local wrote to .env or your "
            "own AWS credentials",
        )
    try:
        return check()
    except SignatureError as refusal:
        hint = ""
        if refusal.code == "UnrecognizedClientException":
            hint = (
                " (alex-db local accepts the keys it wrote to .env and the AWS credentials of "
                "the user who started it)"
            )
        raise RefusedRequestError(refusal.status, refusal.code, str(refusal) + hint) from None


def _check_media_type(headers: Message, route: Route) -> None:
    content_type = headers.get("Content-Type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != route.media_type:
        shown = f"Content-Type {_quoted(content_type)}" if content_type else "no Content-Type"
        raise bad_request(
            f"refused: {shown}; {route.name} takes {route.media_type} bodies, as the AWS SDKs "
            f"send them"
        )


def _quoted(text: str) -> str:
    """``text`` as a message quotes it: repr'd (one line, whatever it holds) and cut short."""
    cut = text if len(text) <= QUOTED_CHARACTERS else text[:QUOTED_CHARACTERS] + "..."
    return repr(cut)
