"""The Data API's HTTP surface on 127.0.0.1: REST-JSON as botocore's ``rds-data`` model defines it.

Each operation is ``POST`` to the model's ``requestUri`` (``/Execute``, ``/BatchExecute``,
``/BeginTransaction``, ``/CommitTransaction``, ``/RollbackTransaction``) with a JSON body; a
success is HTTP 200 with the output shape as JSON; an error is the shape's status with the
``x-amzn-ErrorType`` header, which botocore's REST-JSON parser reads for the error code
(``botocore/parsers.py``, ``RestJSONParser._inject_error_code``), and ``{"message": ...}``.

Requests are limited to 4 MiB, as the model documents ("the maximum size of the HTTP request
submitted through the Data API is 4 MiB"); the response limits are the service's (``service``).

Before a body is parsed, ``admission`` refuses what did not come from an AWS SDK on this machine:
another ``Host``, any ``Origin``, no SigV4 ``Authorization``, a body that is not JSON (browsers and
DNS rebinding; see that module). A refused request's body is still read (within the same limits)
so that the answer is not lost to a reset: closing a socket with unread data sends RST, which can
discard an answer the client has not read yet (RFC 9112 section 9.6 on closing with unread data).

The standard library's threading HTTP server is enough: one local developer, keep-alive
connections, no TLS. It binds 127.0.0.1 and nothing else, and holds a burst of connections in its
listen backlog (``LISTEN_BACKLOG``) rather than http.server's 5, which drops the SYNs of a burst
so that clients wait for retransmits (1 s, then 2 s...). Each connection has its own thread, so a
stalled client blocks nobody else, and a connection idle (or stalled mid-request) for
``idle_seconds`` is closed, so stalled clients do not pile up threads; boto3 reopens a closed
keep-alive connection by itself. A client that hangs up early just loses its answer: nothing is
printed. Bodies come with ``Content-Length``, as every AWS SDK sends them; a chunked body is
refused (and the connection closed, so its chunks are never read as a request).
"""

from __future__ import annotations

import json
import select
import socket
import sys
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session

from alex_db.tools.local import admission
from alex_db.tools.local.errors import DataApiError, bad_request
from alex_db.tools.local.service import OPERATIONS, DataApi

HOST = "127.0.0.1"
MAX_REQUEST_BYTES = 4 * 1024 * 1024
IDLE_CONNECTION_SECONDS = 60.0
# listen(2)'s backlog: a few hundred connections arriving at once wait in the kernel's accept queue
# instead of being dropped. The kernel caps it at net.core.somaxconn (Linux: 4096 since 5.4, 128
# before; listen(2): "silently truncated"), so asking for more than it allows is harmless.
LISTEN_BACKLOG = 1024


def operation_paths() -> dict[str, str]:
    """``requestUri`` -> operation name, read from botocore's own model of the service."""
    model = botocore.session.get_session().get_service_model("rds-data")
    return {model.operation_model(name).http["requestUri"]: name for name in OPERATIONS}


class DataApiEndpoint(ThreadingHTTPServer):
    """Serves one ``DataApi`` on 127.0.0.1:``port`` (0 picks a free port)."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG  # socketserver passes it to listen()

    def __init__(
        self, api: DataApi, port: int, idle_seconds: float = IDLE_CONNECTION_SECONDS
    ) -> None:
        self.api = api
        self.paths = operation_paths()
        self.idle_seconds = idle_seconds
        super().__init__((HOST, port), _Handler)

    @property
    def url(self) -> str:
        """The endpoint for ``AWS_ENDPOINT_URL_RDS_DATA``."""
        return f"http://{HOST}:{self.server_address[1]}"

    def service_actions(self) -> None:
        """Between requests: roll back transactions past AWS's time limits."""
        self.api.expire_transactions()

    def handle_error(self, request, client_address) -> None:
        """A connection's thread failed outside a request: a socket error means the client is
        gone and there is nothing to say; anything else is one line, not socketserver's
        traceback."""
        failure = sys.exc_info()[1]
        if not isinstance(failure, OSError):
            print(f"alex-db local: connection error: {failure!r}", file=sys.stderr)


class _HungUpError(Exception):
    """The client stopped sending (idle time out) or went away mid-request."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; without TCP_NODELAY the second waits for the
    # client's delayed ACK (about 40 ms a call on Linux).
    disable_nagle_algorithm = True
    server: DataApiEndpoint

    def setup(self) -> None:
        """``StreamRequestHandler`` applies ``timeout`` to the socket; ours is the server's."""
        self.timeout = self.server.idle_seconds
        super().setup()

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        self._respond(self._answer)

    def do_GET(self) -> None:  # noqa: N802
        self._respond(self._no_operation)

    def _respond(self, answer: Callable[[], bytes]) -> None:
        try:
            status, body, error = 200, answer(), None
        except _HungUpError:
            self.close_connection = True
            return
        except DataApiError as failure:
            status, body, error = failure.status, _error_body(failure), failure.code
        except Exception as failure:  # a bug here must not take the endpoint down
            print(f"alex-db local: internal error: {failure!r}", file=sys.stderr)
            status, error = 500, "InternalServerErrorException"
            body = json.dumps({"message": "internal error in alex-db local"}).encode()
        self._send(status, body, error)

    def _answer(self) -> bytes:
        raw = self._admitted_body()
        operation = self.server.paths.get(self.path.split("?", 1)[0])
        if operation is None:
            raise bad_request(f"unknown operation path {self.path}")
        answer = self.server.api.handle(operation, _parsed(raw), caller_gone=self._caller_gone)
        return json.dumps(answer).encode()

    def _caller_gone(self) -> bool:
        """Whether the client has closed its end while its call runs (EOF or a reset); data it
        already sent (a next request) means it is still there. poll(), not select(): a
        descriptor may be above select's 1024."""
        try:
            waiting = select.poll()
            waiting.register(self.connection, select.POLLIN)
            if not waiting.poll(0):
                return False
            return self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except (OSError, ValueError):  # ValueError: the socket is closed already
            return True

    def _no_operation(self) -> bytes:
        self._admitted_body()
        raise admission.RefusedRequestError(
            404, "UnknownOperationException", "POST a Data API operation"
        )

    def _admitted_body(self) -> bytes:
        """The body, read whole (within the limits) before the request is judged, so that a
        refusal's answer is not lost to a reset; then the refusal, if any."""
        raw = self._raw_body()
        admission.admit(self.headers, self.server.server_address[1])
        return raw

    def _raw_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise bad_request("send the request body with Content-Length, not chunked")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise bad_request("Content-Length is not a whole number of bytes")
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            raise bad_request(f"the request is {length} bytes; the Data API accepts up to 4 MiB")
        try:
            raw = self.rfile.read(length) if length > 0 else b"{}"
        except OSError:  # TimeoutError included
            raise _HungUpError from None
        if len(raw) < length:
            raise _HungUpError
        return raw

    def _send(self, status: int, body: bytes, error: str | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error:
            self.send_header("x-amzn-ErrorType", error)
        try:
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client hung up before its answer
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: a request log would drown the one line that says where we listen."""


def _error_body(failure: DataApiError) -> bytes:
    return json.dumps({"message": failure.message}).encode()


def _parsed(raw: bytes) -> dict:
    """The request body as the operation's input object."""
    try:
        request = json.loads(raw)
    # ValueError: not UTF-8, not JSON, or a number too long to convert; json recurses once per
    # level of nesting.
    except (ValueError, RecursionError):
        raise bad_request("the request body is not JSON") from None
    if not isinstance(request, dict):
        raise bad_request("the request body must be a JSON object")
    return request
