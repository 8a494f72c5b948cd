"""AWS Signature Version 4, verified as AWS verifies it: the request is only answered when its
``Authorization`` header was computed with a secret key ``local`` knows.

The algorithm is AWS's "Create a signed AWS API request" (IAM User Guide,
``reference_sigv-create-signed-request.html``; the same steps as the retired General Reference
``sigv4-create-canonical-request.html``):

1. the canonical request: method, the path normalised and URI-encoded once more, the query
   parameters sorted and encoded, the signed headers ``name:value`` (lower-case names, values with
   runs of white space folded to one space, repeated headers joined by commas), the list of signed
   headers, and the hex SHA-256 of the body;
2. the string to sign: ``AWS4-HMAC-SHA256``, the request's time, the credential scope
   (``date/region/service/aws4_request``) and the hex SHA-256 of the canonical request;
3. the signing key: HMAC-SHA256 chained from ``"AWS4" + secret`` through date, region, service
   and ``aws4_request``; the signature is the hex HMAC of the string to sign under that key.

botocore's signer (``botocore/auth.py``, ``SigV4Auth``) is the reference the tests hold this
module to, request for request; this module is written from AWS's description, not from it.

The errors are what AWS's JSON front ends answer (HTTP 403 each, with the ``Exception`` suffix
botocore reads from ``x-amzn-ErrorType``): an access key nobody issued is
``UnrecognizedClientException``, "The security token included in the request is invalid." (as
every JSON service answers it: e.g. aws/aws-sdk-js#4545's neighbours, pynamodb/PynamoDB#603); a
signature that does not match is ``InvalidSignatureException`` with AWS's "The request signature we
calculated does not match the signature you provided..." (IAM User Guide, "Troubleshoot Signature
Version 4 signing": "Canonical request and signing string errors"); a scope for another region is
``InvalidSignatureException`` "Credential should be scoped to a valid region" (aws/aws-sdk-js-v3
#5576, HTTP 403; aws/aws-sdk-ruby#508); a request more than 15 minutes from the server's clock is
refused (AWS Common Errors, ``RequestExpired``: "more than 15 minutes after the date stamp on the
request ... or ... more than 15 minutes in the future"), in the words JSON services use, "Signature
expired: ... is now earlier than ...".
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
TIME_FORMAT = "%Y%m%dT%H%M%SZ"  # ISO 8601 basic, as X-Amz-Date carries it
# How far a request's time may be from this machine's clock (AWS Common Errors, RequestExpired).
ALLOWED_SKEW = timedelta(minutes=15)
# RFC 3986's unreserved characters are the only ones SigV4 leaves unencoded.
UNRESERVED = "-_.~"
CREDENTIAL_SCOPE = re.compile(
    r"(?P<key>[^/\s]+)/(?P<date>[0-9]{8})/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)"
    r"/aws4_request"
)
SIGNED_HEADERS = re.compile(r"[a-z0-9-]+(;[a-z0-9-]+)*")
SIGNATURE = re.compile(r"[0-9a-f]{64}")
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
UNRECOGNIZED = "The security token included in the request is invalid."


@dataclass(frozen=True)
class AccessKey:
    """A key pair ``local`` accepts; ``session_token`` is set for temporary credentials, whose
    ``X-Amz-Security-Token`` must then come with every request; ``source`` says where it came
    from, for messages (never the secret)."""

    key_id: str
    secret: str
    session_token: str | None
    source: str


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers: the request as it came over the wire."""

    method: str
    target: str  # the request line's target: path and query, still percent-encoded
    headers: Message
    body: bytes


class SignatureError(Exception):
    """A request whose signature is refused: AWS's ``code`` (the HTTP status is AWS's for it)
    and its message."""

    STATUS = {
        "IncompleteSignatureException": 400,
        "InvalidSignatureException": 403,
        "UnrecognizedClientException": 403,
    }

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = self.STATUS[code]


@dataclass(frozen=True)
class _Authorization:
    key_id: str
    scope_date: str
    region: str
    signed_headers: list[str]
    signature: str


@dataclass(frozen=True)
class Identity:
    """What a request's headers prove before its body is read (``identify``): the key it names,
    its parsed ``Authorization`` and its time as SigV4 signs it."""

    key: AccessKey
    authorization: _Authorization
    stamp: str


def verify(
    request: SignedRequest,
    find_key: Callable[[str], AccessKey | None],
    region: str,
    service: str,
    now: datetime,
) -> AccessKey:
    """The key that signed ``request`` for ``service`` (the model's ``signingName``), or
    ``SignatureError``: what ``identify`` checks, and ``verify_body``."""
    identity = identify(request.headers, find_key, region, service, now)
    verify_body(request, identity, f"{region}/{service}")
    return identity.key


def identify(
    headers: Message,
    find_key: Callable[[str], AccessKey | None],
    region: str,
    service: str,
    now: datetime,
) -> Identity:
    """What ``verify`` checks that needs no body, or ``SignatureError``: the header is well
    formed, the key is one ``find_key`` knows (with its session token), the scope is this
    region's and service's and the time is within ``ALLOWED_SKEW`` of ``now``. Checked first,
    it keeps a caller holding no key from having a body read and held at all."""
    return Identity(*_identify(headers, find_key, region, service, now))


def verify_body(request: SignedRequest, identity: Identity, where: str) -> None:
    """The rest of ``verify`` once the body is read: the signature is the one the identified
    key's secret gives for this request in ``where`` (``region/service``), or
    ``SignatureError``."""
    expected = signature(
        identity.key.secret, request, identity.authorization.signed_headers, identity.stamp, where
    )
    if not hmac.compare_digest(expected, identity.authorization.signature):
        raise SignatureError("InvalidSignatureException", MISMATCH)


def _identify(
    headers: Message,
    find_key: Callable[[str], AccessKey | None],
    region: str,
    service: str,
    now: datetime,
) -> tuple[AccessKey, _Authorization, str]:
    authorization = _parse(headers, service)
    stamp = _request_time(headers, authorization)
    key = find_key(authorization.key_id)
    if key is None:
        raise SignatureError("UnrecognizedClientException", UNRECOGNIZED)
    _check_token(headers, key)
    if authorization.region != region:
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{authorization.region}'. "
            f"(alex-db local serves region {region}, the region of its cluster ARN)",
        )
    _check_time(stamp, now)
    return key, authorization, stamp


def signature(
    secret: str, request: SignedRequest, signed_headers: list[str], stamp: str, where: str
) -> str:
    """The hex signature of ``request`` under ``secret`` for ``where`` (``region/service``):
    steps 1 to 3 of the module docstring."""
    region, service = where.split("/")
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    canonical = canonical_request(request, signed_headers)
    to_sign = "\n".join(
        (ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    )
    key = ("AWS4" + secret).encode("utf-8")
    for part in (stamp[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def canonical_request(request: SignedRequest, signed_headers: list[str]) -> str:
    """Step 1: the text both sides hash. A header named in ``signed_headers`` that the request
    lacks has no value here, so the signature cannot match (as on AWS)."""
    path, _, query = request.target.partition("?")
    return "\n".join(
        (
            request.method.upper(),
            quote(_normalised_path(path), safe="/" + UNRESERVED),
            _canonical_query(query),
            "".join(f"{name}:{_header_value(request.headers, name)}\n" for name in signed_headers),
            ";".join(signed_headers),
            _payload_hash(request),
        )
    )


def _normalised_path(path: str) -> str:
    """RFC 3986 section 5.2.4's dot-segment removal, with empty segments dropped too (AWS's
    "Normalize URI paths according to RFC 3986. Remove redundant and relative path components"),
    keeping a trailing slash; an empty path is ``/``."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    trailing = "/" if path.endswith("/") and segments else ""
    return "/" + "/".join(segments) + trailing


def _canonical_query(query: str) -> str:
    """Each name and value decoded, then encoded as SigV4 does (only unreserved characters left
    bare), sorted by name and then value."""
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        pairs.append(tuple(quote(unquote(part), safe=UNRESERVED) for part in (name, value)))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _header_value(headers: Message, name: str) -> str:
    """All values of header ``name``, each trimmed with inner runs of white space folded to one
    space, joined by commas."""
    return ",".join(" ".join(value.split()) for value in headers.get_all(name) or [])


def _payload_hash(request: SignedRequest) -> str:
    """The body's hex SHA-256. A client may state it in ``X-Amz-Content-SHA256`` (and then signs
    that value); it must then be the real one, or the body would not be covered at all (S3's
    ``XAmzContentSHA256Mismatch`` rule)."""
    actual = hashlib.sha256(request.body).hexdigest()
    stated = request.headers.get("X-Amz-Content-SHA256")
    if stated is not None and stated != actual:
        raise SignatureError(
            "InvalidSignatureException",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    return actual


def problems(value: str, headers: Mapping[str, str] | Message, service: str) -> list[str]:
    """What a SigV4 ``Authorization`` header lacks, one sentence each (none when well formed);
    the wording follows AWS's own IncompleteSignature messages ("Authorization header requires
    'Credential' parameter.")."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        return [f"Authorization header must use the {ALGORITHM} algorithm."]
    parameters = _parameters(rest)
    found = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "SignedHeaders", "Signature")
        if not parameters.get(name)
    ]
    scope = CREDENTIAL_SCOPE.fullmatch(parameters.get("Credential", ""))
    if parameters.get("Credential") and not scope:
        found.append("Credential must be <access key>/<yyyymmdd>/<region>/<service>/aws4_request.")
    elif scope and scope["service"] != service:
        found.append(f"Credential should be scoped to correct service: '{service}'.")
    signed = parameters.get("SignedHeaders", "")
    dated_by = "x-amz-date" if headers.get("X-Amz-Date") is not None else "date"
    if signed and (
        not SIGNED_HEADERS.fullmatch(signed)
        or not {"host", dated_by} <= set(signed.split(";"))
    ):
        found.append(
            f"SignedHeaders must be a ;-separated list that includes host and {dated_by}."
        )
    if parameters.get("Signature") and not SIGNATURE.fullmatch(parameters["Signature"]):
        found.append("Signature must be 64 hexadecimal digits.")
    if headers.get("X-Amz-Date") is None and headers.get("Date") is None:
        found.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    return found


def _parameters(rest: str) -> dict[str, str]:
    return dict(part.strip().partition("=")[::2] for part in rest.split(",") if "=" in part)


def _parse(headers: Message, service: str) -> _Authorization:
    value = headers.get("Authorization", "")
    found = problems(value, headers, service)
    if found:
        shown = value if len(value) <= 80 else value[:80] + "..."
        raise SignatureError(
            "IncompleteSignatureException", f"{' '.join(found)} Authorization={shown!r}"
        )
    parameters = _parameters(value.strip().partition(" ")[2])
    scope = CREDENTIAL_SCOPE.fullmatch(parameters["Credential"])
    return _Authorization(
        key_id=scope["key"],
        scope_date=scope["date"],
        region=scope["region"],
        signed_headers=parameters["SignedHeaders"].split(";"),
        signature=parameters["Signature"],
    )


def _request_time(headers: Message, authorization: _Authorization) -> str:
    """The request's time as SigV4 signs it: ``X-Amz-Date``, else ``Date`` (an HTTP date) in the
    same basic format; its day must be the scope's."""
    amz_date = headers.get("X-Amz-Date")
    try:
        if amz_date is not None:
            moment = datetime.strptime(amz_date.strip(), TIME_FORMAT).replace(tzinfo=UTC)
        else:
            moment = parsedate_to_datetime(headers.get("Date", "")).astimezone(UTC)
    # OverflowError: a Date in datetime's first or last year whose offset moves it past the
    # calendar's end ("Fri, 31 Dec 9999 23:59:59 -0100"), read before any key is looked up.
    except (ValueError, TypeError, OverflowError):
        raise SignatureError(
            "IncompleteSignatureException",
            "Date must be in ISO-8601 'basic format' (YYYYMMDD'T'HHMMSS'Z') in X-Amz-Date, or an "
            "HTTP date in Date.",
        ) from None
    stamp = moment.strftime(TIME_FORMAT)
    if stamp[:8] != authorization.scope_date:
        raise SignatureError(
            "InvalidSignatureException",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            f"HTTP: '{authorization.scope_date}' != '{stamp[:8]}', from '{stamp}'.",
        )
    return stamp


def _check_time(stamp: str, now: datetime) -> None:
    moment = datetime.strptime(stamp, TIME_FORMAT).replace(tzinfo=UTC)
    shown_now = now.strftime(TIME_FORMAT)
    if moment < now - ALLOWED_SKEW:
        raise SignatureError(
            "InvalidSignatureException",
            f"Signature expired: {stamp} is now earlier than "
            f"{(now - ALLOWED_SKEW).strftime(TIME_FORMAT)} ({shown_now} - 15 min.)",
        )
    if moment > now + ALLOWED_SKEW:
        raise SignatureError(
            "InvalidSignatureException",
            f"Signature not yet current: {stamp} is still later than "
            f"{(now + ALLOWED_SKEW).strftime(TIME_FORMAT)} ({shown_now} + 15 min.)",
        )


def _check_token(headers: Message, key: AccessKey) -> None:
    """Temporary credentials are valid only with their session token; long-term keys take none."""
    sent = headers.get("X-Amz-Security-Token")
    if key.session_token is None:
        matches = sent is None
    else:
        matches = sent is not None and hmac.compare_digest(
            sent.encode("utf-8"), key.session_token.encode("utf-8")
        )
    if not matches:
        raise SignatureError("UnrecognizedClientException", UNRECOGNIZED)
