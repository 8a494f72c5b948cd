"""The endpoint under hostile HTTP: clients that stall, trickle, hang up, open connections by the
hundred, or frame a body in ways boto3 never does (issue 22). Each ends in a model error or a
closed connection, never a traceback on the terminal of the person running ``alex-db local``,
never a 500, and never blocks another client; each hostile case is sent as an attacker sends it,
on a raw socket, next to the call boto3 makes."""

from __future__ import annotations

import json
import os
import random
import re
import select
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alex_db.tools.local.endpoint import DATABASE_CONNECTIONS, MAX_REQUEST_BYTES, OWN_FILES
from alex_db.tools.shared.local_identity import REGION
from tests.local_support import (
    IN_ALEX,
    ROOT,
    TEST_KEY,
    error_of,
    header_lines,
    rds_data_client,
    sdk_headers,
    serving,
)

# A request must arrive within REQUEST_SECONDS of its first byte; a keep-alive connection may wait
# IDLE_SECONDS for the next one. Each is far longer than a local client needs.
REQUEST_SECONDS = 0.3
IDLE_SECONDS = 2.0
# How long a test waits for the server before calling it hung: many times either deadline.
PATIENCE_SECONDS = 10.0


@pytest.fixture(scope="module")
def served(local_postgres):
    options = {"idle_seconds": IDLE_SECONDS, "request_seconds": REQUEST_SECONDS}
    with serving(local_postgres, endpoint_options=options) as (_, url):
        address = urlparse(url)
        yield url, (address.hostname, address.port)


def exchange(address, request: bytes) -> bytes:
    """Send ``request`` and read until the server closes the connection."""
    with socket.create_connection(address, timeout=PATIENCE_SECONDS) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def post(url: str, path: str, headers: str, body: bytes = b"") -> bytes:
    """A raw request with the headers boto3 sends (signed over ``body``) and ``headers``."""
    sent = header_lines(sdk_headers(url, path, body))
    return f"POST {path} HTTP/1.1\r\n{sent}{headers}\r\n".encode() + body


def call(sql: str = "SELECT 1") -> bytes:
    return json.dumps({**IN_ALEX, "sql": sql}).encode()


def answers(received: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Every HTTP/1.1 answer in ``received``, each checked to be whole and well formed (a status
    line, headers, a body of exactly its Content-Length); header names are lower-cased."""
    found = []
    while received:
        head, blank, received = received.partition(b"\r\n\r\n")
        assert blank, f"an answer's headers never end: {head[:200]!r}"
        status_line, *lines = head.decode("latin-1").split("\r\n")
        status = re.fullmatch(r"HTTP/1\.1 ([1-5][0-9][0-9]) [^\r\n]*", status_line)
        assert status, f"not an HTTP/1.1 status line: {status_line!r}"
        headers = dict(line.split(": ", 1) for line in lines)
        headers = {name.lower(): value for name, value in headers.items()}
        if status[1].startswith("1"):  # an interim answer (100 Continue): no body, not counted
            continue
        length = int(headers["content-length"])
        assert len(received) >= length, "an answer's body is cut short"
        found.append((int(status[1]), headers, received[:length]))
        received = received[length:]
    return found


def next_answer(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The next whole answer on a keep-alive ``connection`` (headers and body may come apart)."""
    received = b""
    for _ in range(1000):  # an answer here is a few hundred bytes: a few reads at most
        chunk = connection.recv(65536)
        assert chunk, "closed before a whole answer"
        received += chunk
        head, blank, body = received.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: ([0-9]+)", head)
        if blank and length and len(body) >= int(length[1]):
            return answers(received)[0]
    pytest.fail(f"no whole answer in {len(received)} bytes")


def aws_shaped(answer: tuple[int, dict[str, str], bytes]) -> tuple[int, str | None, str | None]:
    """(status, error code, message) of an answer that botocore reads as AWS's: JSON, and an
    error carries its code in x-amzn-ErrorType and a message."""
    status, headers, body = answer
    assert headers["content-type"] == "application/json"
    payload = json.loads(body)
    if status == 200:
        return status, None, None
    assert isinstance(payload["message"], str)
    return status, headers["x-amzn-errortype"], payload["message"]


def refused(received: bytes) -> tuple[int, str | None, str | None]:
    """The one answer in ``received``, which must be its connection's last."""
    (answer,) = answers(received)
    assert answer[1].get("connection") == "close"
    return aws_shaped(answer)


def closed_by_server(connection: socket.socket) -> bool:
    """Whether the server has closed ``connection`` (reads and drops anything it sent first);
    waits up to PATIENCE_SECONDS."""
    connection.settimeout(PATIENCE_SECONDS)
    try:
        while connection.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def hang_up(connections: list[socket.socket]) -> None:
    for connection in connections:
        connection.close()


# -- deadlines ------------------------------------------------------------------------------------


def test_a_request_trickled_a_byte_at_a_time_is_closed_at_its_deadline(served):
    url, address = served
    # A byte every 50 ms: each read is quick, so only a deadline for the whole request ends it.
    trickle = post(url, "/Execute", "X-Padding: " + "a" * 400 + "\r\n")
    with socket.create_connection(address) as connection:
        sent = 0
        for byte in trickle:
            try:
                connection.send(bytes([byte]))
            except OSError:  # reset: closed already
                break
            sent += 1
            if select.select([connection], [], [], 0.05)[0]:
                break  # the server closed it (or answered, which the assertion below catches)
        assert sent < len(trickle), "the whole request went through a byte at a time"
        assert closed_by_server(connection)


def test_a_keep_alive_connection_waits_idle_seconds_for_its_next_request_then_closes(served):
    url, address = served
    with socket.create_connection(address, timeout=PATIENCE_SECONDS) as connection:
        body = call()
        connection.sendall(post(url, "/Execute", f"Content-Length: {len(body)}\r\n", body))
        assert aws_shaped(next_answer(connection))[0] == 200
        # Idle for twice a request's deadline: waiting between requests is not sending one.
        time.sleep(2 * REQUEST_SECONDS)
        connection.sendall(post(url, "/Execute", f"Content-Length: {len(body)}\r\n", body))
        assert aws_shaped(next_answer(connection))[0] == 200
        assert closed_by_server(connection)  # after IDLE_SECONDS without a request


def test_a_stalled_body_is_dropped_at_its_deadline_without_an_error_answer(served, capsys):
    url, address = served
    answer = exchange(address, post(url, "/Execute", "Content-Length: 10\r\n", b"{}"))
    assert answer == b""  # closed, no 500
    assert "internal error" not in capsys.readouterr().err


@pytest.mark.parametrize("key_id, refusal", [
    ("AKIASTRANGER00000001", "UnrecognizedClientException"),  # a key nobody issued
    (None, "MissingAuthenticationTokenException"),  # no signature at all
])
def test_a_caller_without_a_key_is_refused_before_its_body_is_read(served, key_id, refusal):
    """Anyone on the machine may open connections and announce 4 MiB bodies; one read into memory
    before the signature is judged held 4 MiB for each (200 stalled connections: 816 MiB of one
    process, as many as the connection cap allows). What the headers alone refuse is answered at
    once, the body never read: here it is never even sent."""
    url, address = served
    headers = {name: value for name, value in sdk_headers(url, "/Execute", b"").items()
               if name != "Authorization"}
    if key_id:
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={key_id}/{headers['X-Amz-Date'][:8]}/us-east-1/"
            f"rds-data/aws4_request, SignedHeaders=host;x-amz-date, Signature={'0' * 64}"
        )
    head = f"POST /Execute HTTP/1.1\r\n{header_lines(headers)}Content-Length: {MAX_REQUEST_BYTES}\r\n\r\n"
    status, code, _ = refused(exchange(address, head.encode()))
    assert (status, code) == (403, refusal)


def test_a_stalled_connection_never_blocks_another_client(served):
    url, address = served
    with socket.create_connection(address) as stalled:
        stalled.sendall(b"POST /Execute HTTP/1.1\r\nHost: lo")
        result = rds_data_client(url).execute_statement(sql="SELECT 1", **IN_ALEX)
        assert result["records"] == [[{"longValue": 1}]]
        assert closed_by_server(stalled)  # and it is closed at its deadline


def test_a_client_that_hangs_up_before_the_answer_leaves_no_traceback(served, capsys):
    url, address = served
    before = threading.active_count()
    body = call("SELECT pg_sleep(0.2), repeat('x', 500000)")
    connection = socket.create_connection(address)
    connection.sendall(post(url, "/Execute", f"Content-Length: {len(body)}\r\n", body))
    # Reset, not a polite close: the answer then meets a dead socket.
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()
    for _ in range(500):  # until the handler thread is gone (it ends after writing)
        if threading.active_count() <= before:
            break
        time.sleep(0.01)
    assert threading.active_count() <= before
    assert "Traceback" not in capsys.readouterr().err


# -- framing --------------------------------------------------------------------------------------


def test_boto3s_framing_is_answered(served):
    url, _ = served
    result = rds_data_client(url).execute_statement(sql="SELECT 1", **IN_ALEX)
    assert result["records"] == [[{"longValue": 1}]]


@pytest.mark.parametrize("length", ["{n}", " {n}\t", "00{n}"])
def test_one_content_length_of_digits_is_answered(served, length):
    url, address = served
    body = call()
    framed = f"Content-Length: {length.format(n=len(body))}\r\nConnection: close\r\n"
    assert aws_shaped(answers(exchange(address, post(url, "/Execute", framed, body)))[0])[0] == 200


@pytest.mark.parametrize(
    "lengths",
    [
        ["+{n}"],  # int() reads a sign
        ["{n1}_{n2}"],  # int() reads digit-group underscores
        ["{n}.0"],
        ["{n}abc"],
        ["x{n}"],
        ["{n} {n}"],
        ["{n}, {n}"],
        ["0x{hex}"],
        ["-5"],
        ["", "{n}"],
        ["{n}", "{n}"],
        ["{n}", "{more}"],
        ["{more}", "{n}"],
    ],
)
def test_a_content_length_that_is_not_one_number_is_a_bad_request_that_closes(served, lengths):
    url, address = served
    body = call()
    n = str(len(body))
    values = [
        v.format(n=n, n1=n[0], n2=n[1:], hex=f"{len(body):x}", more=len(body) + 5)
        for v in lengths
    ]
    framed = "".join(f"Content-Length: {value}\r\n" for value in values)
    # Whatever the server does not read as this body must not be answered as another request.
    received = exchange(address, post(url, "/Execute", framed, body + b"GET / HTTP/1.1\r\n\r\n"))
    status, code, message = refused(received)
    assert (status, code) == (400, "BadRequestException")
    assert "Content-Length" in message


@pytest.mark.parametrize(
    "encoding", ["chunked", "identity", "identity, chunked", "gzip, chunked", "Chunked", ""]
)
def test_any_transfer_encoding_is_a_bad_request_and_its_chunks_are_never_a_request(
    served, encoding
):
    url, address = served
    body = call()
    # A chunk that is itself a request: smuggled if anything reads it as the next one.
    smuggled = post(url, "/Execute", f"Content-Length: {len(body)}\r\n", body)
    chunked = f"{len(smuggled):x}\r\n".encode() + smuggled + b"\r\n0\r\n\r\n"
    sent = post(url, "/Execute", f"Transfer-Encoding: {encoding}\r\n", chunked)
    status, code, message = refused(exchange(address, sent))
    assert (status, code) == (400, "BadRequestException")
    assert "Transfer-Encoding" in message and "Content-Length" in message


def test_transfer_encoding_beside_a_content_length_is_refused_too(served):
    url, address = served
    body = call()
    framed = f"Content-Length: {len(body)}\r\nTransfer-Encoding: chunked\r\n"
    status, code, _ = refused(exchange(address, post(url, "/Execute", framed, body)))
    assert (status, code) == (400, "BadRequestException")


def test_a_body_over_4_mib_gets_its_400_not_a_reset(served):
    url, address = served
    body = b"x" * (MAX_REQUEST_BYTES + 1)
    request = post(url, "/Execute", f"Content-Length: {len(body)}\r\n", body)
    with socket.create_connection(address, timeout=PATIENCE_SECONDS) as connection:
        # The client sends its whole body, as boto3 does, and only then reads.
        sender = threading.Thread(target=connection.sendall, args=(request,), daemon=True)
        sender.start()
        sender.join(PATIENCE_SECONDS)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    status, code, message = refused(received)
    assert (status, code) == (400, "BadRequestException")
    assert "4 MiB" in message


def test_a_body_over_4_mib_sent_after_100_continue_is_refused_before_it_is_sent(served):
    url, address = served
    too_long = MAX_REQUEST_BYTES + 1
    head = post(url, "/Execute", f"Expect: 100-continue\r\nContent-Length: {too_long}\r\n")
    with socket.create_connection(address, timeout=PATIENCE_SECONDS) as connection:
        connection.sendall(head)  # and waits, as curl does, for 100 Continue before the body
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    assert not received.startswith(b"HTTP/1.1 100")
    status, code, message = refused(received)
    assert (status, code) == (400, "BadRequestException")
    assert "4 MiB" in message


def test_a_body_sent_after_100_continue_is_answered(served):
    url, address = served
    body = call()
    signed = post(url, "/Execute", f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n",
                  body)
    head = signed[: -len(body)]  # the signature covers the body that follows the 100 Continue
    with socket.create_connection(address, timeout=PATIENCE_SECONDS) as connection:
        connection.sendall(head)
        assert connection.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        connection.sendall(body)
        assert aws_shaped(next_answer(connection))[0] == 200


def test_boto3_gets_the_400_for_a_body_over_4_mib(served):
    url, _ = served
    rows = [[{"name": "v", "value": {"stringValue": "x" * 1000}}]] * 4300
    code, message = error_of(
        lambda: rds_data_client(url).batch_execute_statement(
            sql="SELECT :v", parameterSets=rows, **IN_ALEX
        )
    )
    assert code == "BadRequestException"
    assert "4 MiB" in message


@pytest.mark.parametrize(
    "request_head, says",
    [
        (b"GARBAGE\r\n\r\n", "Bad request syntax"),
        (b"PUT /Execute HTTP/1.1\r\n\r\n", "Unsupported method ('PUT')"),
        (b"POST /Execute HTTP/9.9\r\n\r\n", "Invalid HTTP version (9.9)"),
        (b"POST /Execute HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", "Line too long"),
    ],
)
def test_what_http_server_cannot_read_is_a_bad_request_in_awss_shape(served, request_head, says):
    _, address = served
    status, code, message = refused(exchange(address, request_head))
    assert (status, code) == (400, "BadRequestException")
    assert says in message


# -- any header block ----------------------------------------------------------------------------

REQUEST_LINES = st.sampled_from([
    "POST /Execute HTTP/1.1", "POST /Execute HTTP/1.0", "POST /BatchExecute HTTP/1.1",
    "GET / HTTP/1.1", "HEAD / HTTP/1.1", "PUT /Execute HTTP/1.1", "POST /Execute",
    "POST /Nowhere HTTP/1.1", "POST /Execute HTTP/2.0",
])
# Printable Latin-1, as http.server decodes header bytes; no CR or LF, which end a line.
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                    blacklist_characters="\x7f"), max_size=30)
LENGTHS = st.one_of(
    st.sampled_from(["{n}", " {n} ", "+{n}", "0{n}", "{n}0", "-1", "0", "", "{n}, {n}", "0x1f",
                     "1_0", "9" * 30]),
    st.integers(0, 5000).map(str),
    HEADER_TEXT,
)
ENCODINGS = st.one_of(
    st.sampled_from(["chunked", "identity", "gzip", "identity, chunked", "", "Chunked"]),
    HEADER_TEXT,
)
JUNK = st.one_of(
    HEADER_TEXT,  # a line with no colon, a folded line, anything
    st.tuples(st.sampled_from(["Connection", "Expect", "Host", "Content-Type", "X-Junk", "Te"]),
              HEADER_TEXT).map(": ".join),
    st.sampled_from(["Expect: 100-continue", "Connection: close", "Connection: keep-alive"]),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    request_line=REQUEST_LINES,
    signed=st.booleans(),
    lengths=st.lists(LENGTHS, max_size=2),
    encodings=st.lists(ENCODINGS, max_size=2),
    junk=st.lists(JUNK, max_size=3),
    order=st.randoms(use_true_random=False),
    body=st.one_of(st.just(call()), st.binary(max_size=200)),
    trailer=st.binary(max_size=60),
    hang_up=st.booleans(),
)
# Found by this property: a refusal before 100 Continue wrote a body after its answer to HEAD.
@example(request_line="HEAD / HTTP/1.1", signed=False, lengths=[], encodings=["chunked"],
         junk=["EXPECT:100-CONTINUE"], order=random.Random(0), body=call(), trailer=b"",
         hang_up=False)
def test_any_header_block_gets_well_formed_aws_answers_and_the_endpoint_keeps_answering(
    served, request_line, signed, lengths, encodings, junk, order, body, trailer, hang_up
):
    url, address = served
    lines = [f"{name}: {value}" for name, value in sdk_headers(url, "/Execute", body).items()]
    lines = lines if signed else []
    lines += [f"Content-Length: {value.replace('{n}', str(len(body)))}" for value in lengths]
    lines += [f"Transfer-Encoding: {value}" for value in encodings] + junk
    order.shuffle(lines)
    head = "".join(f"{line}\r\n" for line in [request_line, *lines]) + "\r\n"
    with socket.create_connection(address, timeout=PATIENCE_SECONDS) as connection:
        connection.sendall(head.encode() + body + trailer)
        if hang_up:  # half-close: the server sees the end of what was sent at once
            connection.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            pytest.fail(f"the connection was still open after {PATIENCE_SECONDS} s")
        except ConnectionResetError:
            pytest.fail("the connection was reset")
    for answer in answers(received):
        if request_line.startswith("HEAD"):  # an answer to HEAD has headers only (RFC 9110 9.3.2)
            status, code = answer[0], answer[1]["x-amzn-errortype"]
            assert answer[2] == b""
        else:
            status, code, _ = aws_shaped(answer)
        assert status < 500, code
    result = rds_data_client(url).execute_statement(sql="SELECT 1", **IN_ALEX)
    assert result["records"] == [[{"longValue": 1}]]


# -- connections beyond what the open-file limit holds -------------------------------------------

CAP = 3


@pytest.fixture(scope="module")
def capped(local_postgres):
    options = {"max_connections": CAP, "request_seconds": PATIENCE_SECONDS}
    with serving(local_postgres, endpoint_options=options) as (_, url):
        address = urlparse(url)
        yield url, (address.hostname, address.port)


def signed_keep_alive(url: str, address) -> socket.socket:
    """A connection that has made one signed call (answered 200) and stays open, as boto3's."""
    connection = socket.create_connection(address, timeout=PATIENCE_SECONDS)
    body = call()
    connection.sendall(post(url, "/Execute", f"Content-Length: {len(body)}\r\n", body))
    assert aws_shaped(next_answer(connection))[0] == 200
    return connection


def wait_for_thread_count(at_most: int) -> None:
    for _ in range(1000):  # until closed connections' threads have ended; bounded
        if threading.active_count() <= at_most:
            return
        time.sleep(0.01)


def test_connections_that_made_no_signed_call_give_their_place_oldest_first(capped):
    """Anyone on the machine may open connections and leave them idle: at the cap the oldest
    of those is closed, so a caller with the key always gets in and the endpoint's threads stay
    at the cap."""
    url, address = capped
    before = threading.active_count()
    strangers = [socket.create_connection(address, timeout=PATIENCE_SECONDS)
                 for _ in range(3 * CAP)]
    try:
        for connection in strangers:  # each in a request that never ends, until its deadline
            connection.sendall(b"POST /Execute HTTP/1.1\r\n")
        assert all(closed_by_server(connection) for connection in strangers[:2 * CAP])
        client = rds_data_client(url)
        result = client.execute_statement(sql="SELECT 1", **IN_ALEX)
        assert result["records"] == [[{"longValue": 1}]]
        client.close()
        # At most CAP serving threads, and the statement watchdog the first call starts.
        wait_for_thread_count(before + CAP + 1)
        assert threading.active_count() <= before + CAP + 1
    finally:
        hang_up(strangers)


def test_a_callers_own_connections_keep_their_place_and_past_them_is_throttling(capped):
    url, address = capped
    before = threading.active_count()
    own = [signed_keep_alive(url, address) for _ in range(CAP)]
    try:
        strangers = [socket.create_connection(address, timeout=PATIENCE_SECONDS)
                     for _ in range(2 * CAP)]
        for connection in strangers:  # every place holds a signed caller: refused at once
            status, code, message = refused(exchange_on(connection))
            assert (status, code) == (400, "ThrottlingException")
            assert message.startswith("Rate exceeded") and "retry" in message
        # boto3 reads it as AWS's throttling, and retries it as it retries AWS's.
        retrying = boto3.client(
            "rds-data", endpoint_url=url, region_name=REGION, aws_access_key_id=TEST_KEY.key_id,
            aws_secret_access_key=TEST_KEY.secret,
            config=Config(retries={"total_max_attempts": 3, "mode": "standard"}),
        )
        with pytest.raises(ClientError) as raised:
            retrying.execute_statement(sql="SELECT 1", **IN_ALEX)
        error = raised.value.response
        assert error["Error"]["Code"] == "ThrottlingException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error["ResponseMetadata"]["RetryAttempts"] == 2
        body = call()  # and the signed callers' own connections still answer
        for connection in own:
            connection.sendall(post(url, "/Execute", f"Content-Length: {len(body)}\r\n", body))
            assert aws_shaped(next_answer(connection))[0] == 200
    finally:
        hang_up(own)
    wait_for_thread_count(before)
    result = rds_data_client(url).execute_statement(sql="SELECT 1", **IN_ALEX)
    assert result["records"] == [[{"longValue": 1}]]


def exchange_on(connection: socket.socket) -> bytes:
    """Everything the server sends on ``connection`` until it closes it."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


# A child process that serves the session's PostgreSQL under a lowered open-file limit; it prints
# the URL, then serves until stdin closes. Arguments: the data directory, the open-file limit, the
# request deadline and the connection cap ("default": derived from the limit).
CHILD = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[2]), hard))
    from alex_db.tools.local.postgres import LocalPostgres
    from tests.local_support import serving
    options = {"request_seconds": float(sys.argv[3])}
    if sys.argv[4] != "default":
        options["max_connections"] = int(sys.argv[4])
    with serving(LocalPostgres(Path(sys.argv[1])), endpoint_options=options) as (api, url):
        print(url, flush=True)
        sys.stdin.read()
    """
)
CHILD_FILE_LIMIT = 200


def wait_for_threads(pid: int, count: int) -> None:
    """Until the process ``pid`` is down to ``count`` threads (each closed connection's thread
    ends once it sees the hang-up); bounded."""
    for _ in range(1000):
        if threads_of(pid) <= count:
            return
        time.sleep(0.01)
    pytest.fail(f"{threads_of(pid)} threads, not {count}, long after the clients left")


def threads_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Threads:\s+(\d+)", status, re.MULTILINE)[1])


@contextmanager
def child_endpoint(local_postgres, cap: str = "default"):
    """The CHILD process and its address; stopped at the end of the block. Requests get
    PATIENCE_SECONDS: what ends a held connection here is its client hanging up."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(local_postgres.data.root), str(CHILD_FILE_LIMIT),
         str(PATIENCE_SECONDS), cap],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = child.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), child.stderr.read()
        yield child, url, ("127.0.0.1", urlparse(url).port)
    finally:
        child.kill()
        child.wait()


def test_more_connections_than_the_open_file_limit_never_stop_the_endpoint(local_postgres):
    with child_endpoint(local_postgres) as (child, url, address):
        threads_idle = threads_of(child.pid)
        cap = CHILD_FILE_LIMIT - DATABASE_CONNECTIONS - OWN_FILES
        # More connections than the child has files, each in a request that does not end.
        holding = []
        for _ in range(CHILD_FILE_LIMIT + 20):
            holding.append(socket.create_connection(address, timeout=PATIENCE_SECONDS))
            holding[-1].sendall(b"POST /Execute HTTP/1.1\r\n")
        # Accepted in order, none with a signed call: each past the cap takes the place of the
        # oldest, which is closed without an answer; the newest ``cap`` are held.
        for connection in holding[:-cap]:
            assert exchange_on(connection) == b""
        assert not select.select(holding[-cap:], [], [], 0)[0]  # still held, nothing sent back
        wait_for_threads(child.pid, threads_idle + cap)  # the closed ones' threads end
        client = rds_data_client(url)
        result = client.execute_statement(sql="SELECT 1", **IN_ALEX)
        assert result["records"] == [[{"longValue": 1}]]  # a signed caller gets in, at once
        client.close()  # its keep-alive connection too
        hang_up(holding)
        # One thread more than before any call: the statement watchdog the first call starts
        # (service.DataApi, which cancels statements past their deadline).
        wait_for_threads(child.pid, threads_idle + 1)
        _, err = child.communicate("", timeout=PATIENCE_SECONDS)
        assert "Traceback" not in err


def test_when_accept_runs_out_of_files_the_endpoint_waits_says_so_once_and_recovers(
    local_postgres,
):
    # A cap above the limit: accept itself fails (EMFILE) once the files are gone.
    with child_endpoint(local_postgres, cap="1000") as (child, url, address):
        threads_idle = threads_of(child.pid)
        holding = []
        for _ in range(CHILD_FILE_LIMIT + 20):
            holding.append(socket.create_connection(address, timeout=PATIENCE_SECONDS))
            holding[-1].sendall(b"POST /Execute HTTP/1.1\r\n")
        assert select.select([child.stderr], [], [], PATIENCE_SECONDS)[0]
        said = "cannot accept a connection (Too many open files)"
        assert said in child.stderr.readline()
        hang_up(holding)  # files come free; the rest are accepted, find their client gone
        wait_for_threads(child.pid, threads_idle)
        result = rds_data_client(url).execute_statement(sql="SELECT 1", **IN_ALEX)
        assert result["records"] == [[{"longValue": 1}]]
        _, err = child.communicate("", timeout=PATIENCE_SECONDS)
        # One line an episode (a few more when files come free one by one), not one per attempt.
        assert err.count(said) <= 5, err
        assert "Traceback" not in err
