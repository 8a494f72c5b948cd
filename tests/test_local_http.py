"""The endpoint under hostile HTTP: clients that stall, hang up, or frame a body in ways boto3
never does. Each ends in a model error or a closed connection, never a traceback on the
terminal of the person running ``alex-db local``, and never blocks another client."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from urllib.parse import urlparse

import pytest

from tests.local_support import IN_ALEX, header_lines, rds_data_client, sdk_headers, serving

IDLE_SECONDS = 0.3


@pytest.fixture(scope="module")
def served(local_postgres):
    with serving(local_postgres, idle_seconds=IDLE_SECONDS) as (_, url):
        address = urlparse(url)
        yield url, (address.hostname, address.port)


def exchange(address, request: bytes) -> bytes:
    """Send ``request`` and read until the server closes the connection."""
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def post(url: str, path: str, headers: str, body: bytes = b"") -> bytes:
    """A raw request with the headers boto3 sends (signed over ``body``) and ``headers``."""
    sent = header_lines(sdk_headers(url, path, body))
    return f"POST {path} HTTP/1.1\r\n{sent}{headers}\r\n".encode() + body


def test_a_chunked_body_is_refused_and_never_read_as_the_next_request(served):
    url, address = served
    body = json.dumps({**IN_ALEX, "sql": "SELECT 1"}).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    answer = exchange(address, post(url, "/Execute", "Transfer-Encoding: chunked\r\n", chunked))
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"x-amzn-ErrorType: BadRequestException" in head
    assert "Content-Length" in json.loads(payload)["message"]
    assert answer.count(b"HTTP/1.1") == 1  # the chunk was not answered as a request


def test_a_negative_content_length_is_a_bad_request(served):
    url, address = served
    answer = exchange(
        address, post(url, "/Execute", "Content-Length: -5\r\nConnection: close\r\n")
    )
    assert b"x-amzn-ErrorType: BadRequestException" in answer
    assert b"Content-Length" in answer


def test_a_stalled_body_is_dropped_after_the_idle_time_without_an_error_answer(served, capsys):
    url, address = served
    answer = exchange(address, post(url, "/Execute", "Content-Length: 10\r\n", b"{}"))
    assert answer == b""  # closed, no 500
    assert "internal error" not in capsys.readouterr().err


def test_a_stalled_connection_never_blocks_another_client(served):
    url, address = served
    with socket.create_connection(address) as stalled:
        stalled.sendall(b"POST /Execute HTTP/1.1\r\nHost: lo")
        result = rds_data_client(url).execute_statement(sql="SELECT 1", **IN_ALEX)
        assert result["records"] == [[{"longValue": 1}]]
        stalled.settimeout(10)
        assert stalled.recv(100) == b""  # and it is closed once idle


def test_a_client_that_hangs_up_before_the_answer_leaves_no_traceback(served, capsys):
    url, address = served
    before = threading.active_count()
    body = json.dumps({**IN_ALEX, "sql": "SELECT pg_sleep(0.2), repeat('x', 500000)"}).encode()
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
