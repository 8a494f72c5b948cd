"""Issue 25 item 6: what a hostile endpoint sends is read only up to what AWS sends, and
``check`` against ``alex-db local`` answers with the documented exit codes.

A loopback server streams a body of hundreds of MiB to ``check`` and ``preflight`` run as a user
runs them (a subprocess, ``AWS_ENDPOINT_URL`` pointing at it); the subprocess reports its own
peak resident memory, which once grew with the body (2 GiB streamed: 2.1 GiB resident) and is now
bounded by ANSWER_LIMIT whatever is streamed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from alex_db.tools.shared import aws_calls
from alex_db.tools.shared import local_identity as local
from alex_db.tools.shared.exits import Exit
from alex_db.tools.shared.variables import ENDPOINT_VARIABLE
from tests.conftest import ROOT
from tests.test_bad_answers import ANSWERS, TARGET, QuietServer, pointed_at, run, server  # noqa: F401

MIB = 1024 * 1024
STREAMED = 512 * MIB
CHUNK = b"<a>" + b"x" * (MIB - 3)
# The measured command's peak resident memory with the limit in place is about 110 MB here (the
# interpreter, botocore and its models, and one 16 MiB answer a few times over); without it, it
# grew past the streamed size.
MOST_RESIDENT_MIB = 300


class Streams(BaseHTTPRequestHandler):
    """Answers every request with status 200 and a STREAMED-byte body, a MiB at a time."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(STREAMED))
        self.end_headers()
        try:
            for _ in range(STREAMED // MIB):
                self.wfile.write(CHUNK)
        except OSError:  # the client stopped reading: what it should do
            self.close_connection = True

    def log_message(self, *args) -> None:
        """Quiet: the tests read the commands' output."""


@pytest.fixture(scope="module")
def streaming():
    httpd = QuietServer(("127.0.0.1", 0), Streams)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# The command as a user runs it, reporting its own peak resident memory: VmHWM, the high-water
# mark of this process's memory since its exec (proc(5)); ru_maxrss would carry over the peak of
# the test worker that forked it (Linux keeps it across execve).
MEASURED = """
import sys
from alex_db.tools.cli import main
try:
    code = main(sys.argv[1:])
finally:
    with open("/proc/self/status") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(f"peak {peak_kib // 1024} MiB", file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize(
    "command",
    [["check", *TARGET[:-1], "10"], ["preflight", "--region", "us-east-1"]],
    ids=["check", "preflight"],
)
def test_a_huge_answer_is_read_only_up_to_the_limit(streaming, tmp_path, command):
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": streaming,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("AWS_PROFILE", None)
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, *command],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    peak = int(result.stderr.rsplit("peak ", 1)[1].split()[0])
    assert peak < MOST_RESIDENT_MIB, f"peak {peak} MiB for a {STREAMED // MIB} MiB answer"
    assert result.returncode == Exit.UNREACHABLE, result.stdout + result.stderr
    first = result.stdout.splitlines()[0]
    assert "HTTP 200 whose body is longer than 16 MiB, more than AWS sends" in first, first
    print(f"{command[0]}: peak {peak} MiB for a {STREAMED // MIB} MiB answer")


def test_the_limit_fits_what_aws_sends():
    """The largest answers here: a Data API result set (at most 1 MiB, AWS's limit), a secret
    (64 KiB) and a page of a listing (hundreds of KiB)."""
    assert 4 * MIB <= aws_calls.ANSWER_LIMIT <= 64 * MIB


@pytest.mark.parametrize("kind", ANSWERS)
def test_check_against_local_gives_the_documented_exit_for_anything_that_is_not_an_answer(
    pointed_at, capsys, monkeypatch, kind  # noqa: F811 (fixtures from test_bad_answers)
):
    """docs/commands.md: an HTML page or a body cut short is exit 6 (UNREACHABLE); the local path
    once read a captive portal's 200 page or a truncated body as "no row", exit 1."""
    monkeypatch.setenv(ENDPOINT_VARIABLE, f"http://127.0.0.1:{pointed_at.server_address[1]}")
    pointed_at.answer = ANSWERS[kind]
    code, lines, _ = run(capsys, "check", "--cluster-arn", local.CLUSTER_ARN, "--secret-arn", local.SECRET_ARN, "--wait", "2")
    assert code == Exit.UNREACHABLE, lines
    (line,) = lines
    assert line.startswith("✗ Data API: ") and len(line) < 400, line


def test_a_body_cut_short_of_its_content_length_is_named(pointed_at, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv(ENDPOINT_VARIABLE, f"http://127.0.0.1:{pointed_at.server_address[1]}")
    body = b'{"records": [[{"stringValue": "PostgreSQL 15'
    pointed_at.answer = (200, body, "cut")  # the server announces 100 bytes more than it sends
    code, lines, _ = run(capsys, "check", "--cluster-arn", local.CLUSTER_ARN, "--secret-arn", local.SECRET_ARN, "--wait", "2")
    assert code == Exit.UNREACHABLE
    announced = f"(cut short: {len(body)} of the {len(body) + 100} bytes announced)"
    assert announced in lines[0], lines


def test_a_whole_answer_from_local_still_passes(pointed_at, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv(ENDPOINT_VARIABLE, f"http://127.0.0.1:{pointed_at.server_address[1]}")
    pointed_at.answer = (200, b'{"records": [[{"stringValue": "PostgreSQL 15.12"}]]}', "whole")
    code, lines, _ = run(capsys, "check", "--cluster-arn", local.CLUSTER_ARN, "--secret-arn", local.SECRET_ARN)
    assert (code, lines) == (Exit.OK, ["✓ Data API: SELECT version() -> PostgreSQL 15.12"])

