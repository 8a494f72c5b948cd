"""Issue 18 A: ``check`` and ``preflight`` survive an endpoint that is not AWS.

A real loopback server stands in for a corporate proxy, a captive portal or a broken middlebox:
an HTML page with 200 or 502, garbage bytes, a body cut short, a connection reset. botocore's real
clients talk to it through ``AWS_ENDPOINT_URL``, as they would to a proxy's answer. Every case ends
in one line per step and ``Exit.UNREACHABLE`` (check) or a failed/unknown check (preflight), never
a traceback; one subprocess per command proves no traceback reaches a user's terminal.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qs

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alex_db.tools.cli import main
from alex_db.tools.deployed import check as check_module
from alex_db.tools.preflight import clients as clients_module
from alex_db.tools.preflight.clients import CLIENT_CONFIG, READ_ERRORS, cannot_tell
from alex_db.tools.shared import local_identity as local
from alex_db.tools.shared.aws_calls import NoWholeAnswerError, bounded
from alex_db.tools.shared.aws_errors import judge_answers
from alex_db.tools.shared.exits import Exit
from alex_db.tools.shared.report import UNKNOWN
from alex_db.tools.shared.variables import ENDPOINT_VARIABLE

REGION = "us-east-1"
TARGET = [
    "--cluster-arn",
    f"arn:aws:rds:{REGION}:123456789012:cluster:c",
    "--secret-arn",
    f"arn:aws:secretsmanager:{REGION}:123456789012:secret:s-AbCdEf",
    "--wait",
    "2",
]
PROXY_PAGE = b"<html><body><h1>502 Bad Gateway</h1><p>squid</p></body></html>"
# (status, body, how the connection ends): what comes back instead of AWS.
ANSWERS = {
    "proxy 502 page": (502, PROXY_PAGE, "whole"),
    "captive portal 200 page": (200, b"<html><head><title>Sign in to Wi-Fi</title>", "whole"),
    "garbage bytes": (200, bytes(range(256)) * 4, "whole"),
    "truncated body": (200, b'<?xml version="1.0"?><DescribeDBClustersResponse>', "cut"),
    "connection reset": (200, b"", "reset"),
    # Well-formed, but not what any AWS protocol sends: botocore's parsers raise AttributeError
    # or KeyError on these rather than their own error (shared/aws_errors.py).
    "JSON that is not an object": (200, b"0", "whole"),
    "XHTML page": (
        200,
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>Sign in</body></html>',
        "whole",
    ),
}
# The pause between the bytes of a trickled answer (well inside the tests' socket timeouts, so
# only the wall-clock bound can end the call), and an answer that takes seconds to trickle.
TRICKLE_SECONDS = 0.02
TRICKLED_PAGE = PROXY_PAGE * 4
# JSON documents of every shape, for the property below: botocore's JSON parsers read any of
# them, and must not fail on one with anything but their own error.
JSON_BODIES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=6,
).map(lambda value: json.dumps(value).encode())


def operation_of(path: str, target: str | None, body: bytes) -> str:
    """The AWS operation a request calls: the JSON protocols name it in ``X-Amz-Target``
    (``secretsmanager.GetSecretValue``), the query protocols in ``Action``, rds-data in its path."""
    if target:
        return target.rsplit(".", 1)[-1]
    action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    return action[0] if action else path.rstrip("/").rsplit("/", 1)[-1]


class Answers(BaseHTTPRequestHandler):
    """Answers each request with the server's (status, body, ending) for its operation
    (``server.routes``), else with ``server.answer``; a body may be a function, called anew for
    each request."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        """No Nagle delay: headers and body go out in separate writes, and with the client's
        delayed ACK each answer on a kept-alive connection would wait 40 ms."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self):  # noqa: N802 (http.server's name)
        request = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        operation = operation_of(self.path, self.headers.get("X-Amz-Target"), request)
        status, body, ending = self.server.routes.get(operation, self.server.answer)
        body = body() if callable(body) else body
        if ending == "reset":
            # SO_LINGER 0: close with a TCP reset instead of a clean end.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            self.close_connection = True
            return
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body) + (100 if ending == "cut" else 0)))
        self.end_headers()
        if ending == "trickle":  # a byte at a time, each well inside any socket timeout
            for byte in body:
                self.wfile.write(bytes([byte]))
                time.sleep(TRICKLE_SECONDS)
            return
        self.wfile.write(body)
        if ending == "cut":
            self.close_connection = True

    do_GET = do_POST  # noqa: N815 (http.server's name)

    def log_message(self, *args) -> None:
        """Quiet: the tests read the commands' output, not the server's."""


class QuietServer(ThreadingHTTPServer):
    """A loopback server that does not print a traceback to stderr when a client hangs up on it
    (``socketserver.BaseServer.handle_error`` does): the tests read the commands' stderr, and
    a client that stops reading a body it cannot use is what the commands should do."""

    def handle_error(self, request, client_address) -> None:
        """Quiet (above)."""


@pytest.fixture(scope="module")
def server():
    """One loopback server for the module; each test sets ``server.answer``."""
    httpd = QuietServer(("127.0.0.1", 0), Answers)
    httpd.daemon_threads = True
    httpd.answer = ANSWERS["proxy 502 page"]
    httpd.routes = {}
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def pointed_at(server, monkeypatch, tmp_path):
    """The AWS SDK sent to the server, with credentials so that calls are made."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server.answer, server.routes = ANSWERS["proxy 502 page"], {}  # nothing left from the last test
    return server


def run(capsys, *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.out.splitlines(), captured.err


@pytest.mark.parametrize("kind", ANSWERS)
def test_check_says_what_came_back_in_one_line_per_step(pointed_at, capsys, kind):
    pointed_at.answer = ANSWERS[kind]
    code, lines, _ = run(capsys, "check", *TARGET)
    assert code == Exit.UNREACHABLE
    assert [line[:2] for line in lines] == ["✗ ", "✗ ", "- "]  # cluster, secret, skipped query
    if kind not in ("truncated body", "connection reset"):
        assert "not AWS's" in lines[0] or "no AWS error in it" in lines[0], lines[0]
    assert all(len(line) < 400 for line in lines), lines


@pytest.mark.parametrize("kind", ANSWERS)
def test_preflight_stops_at_credentials_as_unreachable(pointed_at, capsys, kind):
    pointed_at.answer = ANSWERS[kind]
    code, lines, _ = run(capsys, "preflight", "--region", REGION)
    assert code == Exit.UNREACHABLE
    assert len(lines) == 1 and lines[0].startswith("✗ credentials: "), lines


@pytest.mark.parametrize("kind", ["proxy 502 page", "garbage bytes", "truncated body", "XHTML page"])
def test_a_preflight_read_that_got_garbage_is_cannot_tell(pointed_at, kind):
    """Past the credentials step, a service that answers garbage makes its check ``?``."""
    pointed_at.answer = ANSWERS[kind]
    rds = judge_answers(boto3.Session(region_name=REGION).client("rds", config=CLIENT_CONFIG))
    with pytest.raises(READ_ERRORS) as raised:
        rds.describe_db_clusters(DBClusterIdentifier="alex-aurora-cluster")
    step = cannot_tell("cluster alex-aurora-cluster", raised.value, "rds:DescribeDBClusters")
    assert step.status == UNKNOWN
    assert step.line().startswith("? cluster alex-aurora-cluster: cannot tell: ")
    assert "\n" not in step.line()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(status=st.integers(200, 599), body=st.binary(max_size=300) | JSON_BODIES)
def test_any_status_and_body_is_a_documented_exit_never_a_traceback(pointed_at, capsys, status, body):
    pointed_at.answer = (status, body, "whole")
    code, lines, _ = run(capsys, "check", *TARGET)
    assert code in set(Exit)
    assert 1 <= len(lines) <= 3 and all("\x1b" not in line for line in lines)


@pytest.mark.parametrize("command", [["check", *TARGET], ["preflight", "--region", REGION]])
def test_the_real_command_prints_no_traceback_for_a_proxy_page(server, tmp_path, command):
    server.answer = ANSWERS["captive portal 200 page"]
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
    }
    env.pop("AWS_PROFILE", None)
    result = subprocess.run(
        [sys.executable, "-m", "alex_db", *command],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == Exit.UNREACHABLE, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "not AWS's" in result.stdout


@pytest.mark.parametrize(
    "command", [["check", *TARGET[:-1], "0"], ["preflight", "--region", REGION]], ids=["check", "preflight"]
)
def test_an_endpoint_that_trickles_its_answer_is_cut_off_like_one_that_never_answers(
    pointed_at, capsys, monkeypatch, command
):
    """botocore's timeouts bound each wait on the socket, so a byte every half second once held
    ``check --wait 3`` for minutes. Each call now ends within its own time (the rule, with the
    per-call times made small so the proof takes a second)."""
    pointed_at.answer = (200, TRICKLED_PAGE, "trickle")
    smallest = 0.25
    monkeypatch.setattr(check_module, "SMALLEST_CALL_SECONDS", smallest)
    monkeypatch.setattr(clients_module, "CALL_SECONDS", smallest)
    started = time.monotonic()
    code, lines, _ = run(capsys, *command)
    assert time.monotonic() - started <= 2 * smallest + 1
    assert code == Exit.UNREACHABLE
    assert "No whole answer from endpoint URL" in lines[0] and "within 0.25 s" in lines[0], lines
    assert len(TRICKLED_PAGE) * TRICKLE_SECONDS > 2 * smallest + 1  # the whole answer is slower


def test_a_paginated_read_from_a_trickling_endpoint_is_cut_off_and_not_waited_for_twice(pointed_at):
    """Preflight reads every page of a listing (``every_item``): each page is a bounded call,
    and once the endpoint has gone unanswered the client's next call fails at once."""
    pointed_at.answer = (200, TRICKLED_PAGE, "trickle")
    seconds = 0.25
    rds = bounded(boto3.Session(region_name=REGION).client("rds", config=CLIENT_CONFIG), seconds)
    started = time.monotonic()
    with pytest.raises(NoWholeAnswerError):
        list(rds.get_paginator("describe_db_clusters").paginate())
    with pytest.raises(NoWholeAnswerError):
        rds.describe_db_clusters()
    assert time.monotonic() - started < seconds + 0.5


# Answers that botocore parses but AWS never gives, per operation (found by a hostile review).
STS_NS = 'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"'
CALLER = (
    f"<GetCallerIdentityResponse {STS_NS}><GetCallerIdentityResult>"
    "<Arn>arn:aws:iam::123456789012:user/x</Arn><UserId>x</UserId>{account}"
    "</GetCallerIdentityResult></GetCallerIdentityResponse>"
)
IDENTITY = (200, CALLER.format(account="<Account>123456789012</Account>").encode(), "whole")
NO_CLUSTERS = (
    b"<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters/>"
    b"</DescribeDBClustersResult></DescribeDBClustersResponse>"
)
TOKENS = count()


def endless_vpc_pages() -> bytes:
    """A page of no VPCs that always names a next page (a new token each time: botocore stops a
    paginator that is handed the same token twice)."""
    return f"<DescribeVpcsResponse><vpcSet/><nextToken>t{next(TOKENS)}</nextToken></DescribeVpcsResponse>".encode()


CHECK_CASES = {
    "an error code that is an element": {
        "DescribeDBClusters": (400, b"<ErrorResponse><Error><Code><x>1</x></Code></Error></ErrorResponse>", "whole"),
    },
    "an error type that is a list": {"GetSecretValue": (400, b'{"__type": ["x"]}', "whole")},
    "a secret string that is an object": {
        "GetSecretValue": (200, b'{"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf", "SecretString": {"username": "u"}}', "whole"),
    },
}
LOCAL_CASES = {
    "a modeled error member of the wrong type": (
        400, b'{"__type": "StatementTimeoutException", "message": "m", "dbConnectionId": "abc"}', "whole"
    ),
    "an error message that is an object": (400, b'{"__type": "BadRequestException", "message": {"a": 1}}', "whole"),
    "a version that is not a string": (200, b'{"records": [[{"stringValue": {"x": 1}}]]}', "whole"),
}
PREFLIGHT_CASES = {
    "an identity without its account": ({"GetCallerIdentity": (200, CALLER.format(account="").encode(), "whole")}, "credentials"),
    "a describe by name with no item": ({"GetCallerIdentity": IDENTITY, "DescribeDBClusters": (200, NO_CLUSTERS, "whole")}, "cluster alex-aurora-cluster"),
    "VPC pages that never end": ({"GetCallerIdentity": IDENTITY, "DescribeVpcs": (200, endless_vpc_pages, "whole")}, "network"),
    "a throttled identity": ({"GetCallerIdentity": (400, b"<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>", "whole")}, "credentials"),
}


@pytest.mark.parametrize("case", CHECK_CASES)
def test_check_reads_only_answers_of_aws_shape(pointed_at, capsys, case):
    pointed_at.routes = CHECK_CASES[case]
    code, lines, _ = run(capsys, "check", *TARGET)
    assert code == Exit.UNREACHABLE, lines
    assert any("not AWS's" in line for line in lines), lines


@pytest.mark.parametrize("case", LOCAL_CASES)
def test_check_against_local_reads_only_answers_of_aws_shape(pointed_at, capsys, monkeypatch, case):
    monkeypatch.setenv(ENDPOINT_VARIABLE, f"http://127.0.0.1:{pointed_at.server_address[1]}")
    pointed_at.routes = {"Execute": LOCAL_CASES[case]}
    code, lines, _ = run(capsys, "check", "--cluster-arn", local.CLUSTER_ARN, "--secret-arn", local.SECRET_ARN)
    assert code == Exit.UNREACHABLE, lines
    assert len(lines) == 1 and "not AWS's" in lines[0], lines


@pytest.mark.parametrize("case", PREFLIGHT_CASES)
def test_preflight_reads_only_answers_of_aws_shape(pointed_at, capsys, case):
    pointed_at.routes, step = PREFLIGHT_CASES[case]
    code, lines, _ = run(capsys, "preflight", "--region", REGION)
    assert code in set(Exit)
    (line,) = [entry for entry in lines if entry[2:].startswith(f"{step}:")]
    if case == "a throttled identity":  # AWS's own answer, but not about the credentials
        assert (code, line) == (Exit.FAILED, "✗ credentials: STS answered Throttling; try again")
    else:
        assert "not AWS's" in line and line[:2] in ("✗ ", "? "), line
