"""``alex-db local``'s front door against browsers and DNS rebinding (issue 17, items 1-2).

Driven with raw HTTP, header by header, as a browser or a rebinding page sends it, and with boto3's
real rds-data client as a user calls it; each hostile request sits next to the request that must
keep working. Nothing a refused request carries ever runs."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.local_support import IN_ALEX, rds_data_client, run, sdk_headers, writable_folder


@pytest.fixture
def drop_box():
    with writable_folder() as folder:
        yield folder


def send(url: str, headers: list[tuple[str, str]], body: bytes = b"", method: str = "POST",
         path: str = "/Execute") -> tuple[int, http.client.HTTPMessage, bytes]:
    """Exactly ``headers`` (and Content-Length), nothing http.client would add on its own."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def signed(url: str, body: bytes, **changes: str | None) -> list[tuple[str, str]]:
    """What boto3 sends for ``body``, with headers replaced (``Host="x"``) or left out
    (``X_Amz_Date=None``); underscores in a name stand for hyphens. A Content-Type given here
    is the one signed, as a client holding the key would send it."""
    content_type = changes.pop("Content_Type", "application/json")
    host = changes.get("Host")
    signing_url = f"http://{host}" if isinstance(host, str) and host else url
    headers = sdk_headers(signing_url, "/Execute", body, content_type=content_type)
    for name, value in changes.items():
        headers.pop(name.replace("_", "-"), None)
        if value is not None:
            headers[name.replace("_", "-")] = value
    return list(headers.items())


def call(sql: str) -> bytes:
    return json.dumps({**IN_ALEX, "sql": sql}).encode()


def refusal(status: int, headers: http.client.HTTPMessage, payload: bytes) -> tuple[int, str, str]:
    return status, headers["x-amzn-ErrorType"], json.loads(payload)["message"]


def port_of(url: str) -> int:
    return urlsplit(url).port


def cors_headers(headers: http.client.HTTPMessage) -> list[str]:
    return [name for name in headers if name.lower().startswith("access-control-")]


# -- browsers and DNS rebinding -----------------------------------------------------------------


def browser_fetch(url: str, body: bytes, host: str | None = None) -> list[tuple[str, str]]:
    """What ``fetch(url, {method: "POST", body: text})`` on http://evil.example sends: a CORS
    "simple request" (text/plain, no custom header), so no preflight precedes it."""
    return [
        ("Host", host or urlsplit(url).netloc),
        ("Connection", "keep-alive"),
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0"),
        ("Content-Type", "text/plain;charset=UTF-8"),
        ("Accept", "*/*"),
        ("Origin", "http://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Dest", "empty"),
        ("Referer", "http://evil.example/"),
    ]


def test_the_simple_request_from_issue_17_runs_nothing(served, drop_box):
    target = drop_box / "pwned"
    body = call(f"COPY (SELECT 1) TO PROGRAM 'touch {target}'")
    status, headers, payload = send(served, browser_fetch(served, body), body)
    code, message = refusal(status, headers, payload)[1:]
    assert (status, code) == (403, "AccessDeniedException")
    assert "Origin 'http://evil.example'" in message and "web browser" in message
    assert cors_headers(headers) == []
    assert not target.exists()


@pytest.mark.parametrize(
    "variant, status, code",
    [
        ("no Origin (a page that got one left out)", 403, "MissingAuthenticationTokenException"),
        ("a rebound name, no Origin", 403, "AccessDeniedException"),
        ("signed, but text/plain", 400, "BadRequestException"),
    ],
)
def test_each_rule_alone_stops_the_simple_request(served, drop_box, variant, status, code):
    target = drop_box / "pwned"
    body = call(f"COPY (SELECT 1) TO PROGRAM 'touch {target}'")
    if variant.startswith("no Origin"):
        headers = [h for h in browser_fetch(served, body) if h[0] != "Origin"]
    elif variant.startswith("a rebound"):
        rebound = f"rebind.evil.example:{port_of(served)}"
        headers = [h for h in browser_fetch(served, body, rebound) if h[0] != "Origin"]
    else:
        headers = signed(served, body, Content_Type="text/plain;charset=UTF-8")
    assert refusal(*send(served, headers, body))[:2] == (status, code)
    assert not target.exists()


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]"])
def test_a_loopback_host_with_this_port_is_answered(served, name):
    body = call("SELECT 1")
    status, headers, payload = send(served, signed(served, body, Host=f"{name}:{port_of(served)}"),
                                    body)
    assert status == 200, payload
    assert json.loads(payload)["records"] == [[{"longValue": 1}]]
    assert cors_headers(headers) == []


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:{port}",
        "localhost.evil.example:{port}",
        "127.0.0.1:{port}.evil.example",
        "127.0.0.1:1",
        "127.0.0.1",
        "192.168.1.20:{port}",
        "",
        None,
        ("127.0.0.1:{port}", "evil.example:{port}"),
    ],
)
def test_any_other_host_is_refused_naming_it(served, host):
    body = call("SELECT 1")
    port = port_of(served)
    headers = signed(served, body, Host=None)
    given = host if isinstance(host, tuple) else (() if host is None else (host,))
    headers += [("Host", value.format(port=port)) for value in given]
    status, code, message = refusal(*send(served, headers, body))
    assert (status, code) == (403, "AccessDeniedException")
    shown = "no Host header" if not given else repr(", ".join(given).format(port=port))
    assert shown in message and f"127.0.0.1:{port}" in message


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:{port}", ""])
def test_any_origin_header_is_refused_even_this_endpoints_own(served, origin):
    body = call("SELECT 1")
    headers = signed(served, body) + [("Origin", origin.format(port=port_of(served)))]
    status, code, message = refusal(*send(served, headers, body))
    assert (status, code) == (403, "AccessDeniedException")
    assert "Origin" in message


def test_a_cors_preflight_gets_no_cors_headers(served):
    status, headers, _ = send(served, [
        ("Host", urlsplit(served).netloc),
        ("Origin", "http://evil.example"),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "authorization,content-type"),
    ], method="OPTIONS")
    assert not 200 <= status < 300
    assert cors_headers(headers) == []


def test_a_get_from_a_page_is_refused_too(served):
    status, headers, payload = send(served, [("Host", urlsplit(served).netloc),
                                             ("Origin", "http://evil.example")], method="GET")
    assert refusal(status, headers, payload)[:2] == (403, "AccessDeniedException")


# -- signatures: what every SDK sends ------------------------------------------------------------


def test_an_unsigned_boto3_call_gets_awss_missing_authentication_token(served):
    unsigned = boto3.client("rds-data", endpoint_url=served, region_name="us-east-1",
                            config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as raised:
        unsigned.execute_statement(sql="SELECT 1", **IN_ALEX)
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert error["Error"]["Message"].startswith("Missing Authentication Token")


def test_boto3_pointed_at_localhost_works(served):
    client = rds_data_client(served.replace("127.0.0.1", "localhost"))
    assert client.execute_statement(sql="SELECT 2", **IN_ALEX)["records"] == [[{"longValue": 2}]]


def test_a_raw_call_without_authorization_is_refused_before_it_runs(served, drop_box):
    target = drop_box / "pwned"
    body = call(f"COPY (SELECT 1) TO PROGRAM 'touch {target}'")
    status, code, message = refusal(*send(served, signed(served, body, Authorization=None), body))
    assert (status, code) == (403, "MissingAuthenticationTokenException")
    assert message.startswith("Missing Authentication Token")
    assert not target.exists()


SCOPE = "local/20260101/us-east-1/rds-data/aws4_request"
SIGNATURE = "0" * 64


@pytest.mark.parametrize("authorization, changes, says", [
    ("Bearer eyJhbGciOi", {}, "AWS4-HMAC-SHA256 algorithm"),
    ("AWS4-HMAC-SHA256", {}, "requires 'Credential' parameter"),
    (f"AWS4-HMAC-SHA256 Credential={SCOPE}", {}, "requires 'Signature' parameter"),
    (f"AWS4-HMAC-SHA256 Credential=local, SignedHeaders=host, Signature={SIGNATURE}", {},
     "Credential must be"),
    (f"AWS4-HMAC-SHA256 Credential={SCOPE.replace('rds-data', 's3')}, SignedHeaders=host, "
     f"Signature={SIGNATURE}", {}, "scoped to correct service: 'rds-data'"),
    (f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=x-amz-date, Signature={SIGNATURE}", {},
     "includes host"),
    (f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host, Signature=abc", {},
     "64 hexadecimal digits"),
    (None, {"X_Amz_Date": None}, "'X-Amz-Date' or a 'Date' header"),
])
def test_a_malformed_signature_is_awss_incomplete_signature(served, authorization, changes, says):
    body = call("SELECT 1")
    headers = signed(served, body, **changes)
    if authorization is not None:
        headers = [h for h in headers if h[0] != "Authorization"] + [("Authorization",
                                                                        authorization)]
    status, code, message = refusal(*send(served, headers, body))
    assert (status, code) == (400, "IncompleteSignatureException")
    assert says in message


# -- bodies: JSON as the SDKs send it --------------------------------------------------------------


@pytest.fixture(scope="module")
def probe(rds):
    run(rds, "CREATE TABLE security_probe (marker text)")
    yield
    run(rds, "DROP TABLE security_probe")


@pytest.mark.parametrize("content_type", [
    "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/x-amz-json-1.1", "application/jsonp", "", None,
])
def test_a_body_that_is_not_declared_json_is_refused_before_it_runs(served, rds, probe,
                                                                     content_type):
    body = call("INSERT INTO security_probe VALUES ('ran')")
    status, code, message = refusal(*send(served, signed(served, body, Content_Type=content_type),
                                          body))
    assert (status, code) == (400, "BadRequestException")
    assert "application/json" in message
    count = run(rds, "SELECT count(*) FROM security_probe")
    assert count["records"] == [[{"longValue": 0}]]


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON"])
def test_json_as_sdks_declare_it_is_answered(served, content_type):
    body = call("SELECT 1")
    status, _, payload = send(served, signed(served, body, Content_Type=content_type), body)
    assert status == 200, payload
