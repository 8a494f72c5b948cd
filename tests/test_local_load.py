"""The endpoint under a bounded burst of connections (issue 17, item 12): a few hundred clients
connecting at once are all held in the listen backlog and answered, none dropped to wait for a
SYN retransmit (the first one comes after 1 s: RFC 6298's initial RTO, Linux's TCP_TIMEOUT_INIT).
"""

from __future__ import annotations

import selectors
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.local_support import serving

BURST = 300
# Well under the 1 s a dropped SYN costs, well over what 300 loopback handshakes take (~30 ms).
CONNECTED_WITHIN_SECONDS = 0.8
ANSWERED_WITHIN_SECONDS = 20.0


@pytest.fixture(scope="module")
def address(local_postgres):
    with serving(local_postgres) as (_, url):
        parts = urlsplit(url)
        yield parts.hostname, parts.port


def wait_for(sockets: list[socket.socket], event: int, deadline: float, step) -> int:
    """How many of ``sockets`` became ready for ``event`` (``step`` ran on each) by ``deadline``."""
    selector = selectors.DefaultSelector()
    for each in sockets:
        selector.register(each, event)
    done = 0
    while done < len(sockets) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=max(0.0, deadline - time.monotonic())):
            if step(key.fileobj):
                selector.unregister(key.fileobj)
                done += 1
    selector.close()
    return done


def test_a_burst_of_connections_is_held_and_every_one_answered(address):
    sockets = []
    try:
        began = time.monotonic()
        for _ in range(BURST):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(address)
            sockets.append(client)
        connected = wait_for(sockets, selectors.EVENT_WRITE, began + CONNECTED_WITHIN_SECONDS,
                             lambda _: True)
        assert connected == BURST, f"{BURST - connected} of {BURST} still connecting"
        host = f"{address[0]}:{address[1]}"
        for client in sockets:  # a GET: answered (refused) without touching PostgreSQL
            client.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answers: dict[socket.socket, bytes] = {}

        def read(client: socket.socket) -> bool:
            chunk = client.recv(65536)
            answers[client] = answers.get(client, b"") + chunk
            return not chunk  # closed: the whole answer is in

        answered = wait_for(sockets, selectors.EVENT_READ,
                            time.monotonic() + ANSWERED_WITHIN_SECONDS, read)
        assert answered == BURST, f"{BURST - answered} of {BURST} never answered"
        assert all(answer.startswith(b"HTTP/1.1 ") for answer in answers.values())
    finally:
        for client in sockets:
            client.close()
