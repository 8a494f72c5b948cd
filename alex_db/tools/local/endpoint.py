"""The Data API's HTTP surface on 127.0.0.1: REST-JSON as botocore's ``rds-data`` model defines it.

Each operation is ``POST`` to the model's ``requestUri`` (``/Execute``, ``/BatchExecute``,
``/BeginTransaction``, ``/CommitTransaction``, ``/RollbackTransaction``) with a JSON body; a
success is HTTP 200 with the output shape as JSON; an error is the shape's status with the
``x-amzn-ErrorType`` header, which botocore's REST-JSON parser reads for the error code
(``botocore/parsers.py``, ``RestJSONParser._inject_error_code``), and ``{"message": ...}``.

Requests are limited to 4 MiB, as the model documents ("the maximum size of the HTTP request
submitted through the Data API is 4 MiB"); the response limits are the service's (``service``).

Before a body is parsed, ``admission`` refuses what did not come from an AWS SDK on this machine
holding a key ``local`` accepts: another ``Host``, any ``Origin``, a SigV4 ``Authorization`` that
does not verify, a body that is not JSON (other users, browsers and DNS rebinding; see that
module). What the headers alone refuse (no key ``local`` knows, among others) is refused before
the body is read, and the connection closes, reading and dropping the body as it goes (below): a
body is held in memory only for a caller holding a key. A request refused for its signature's
value is refused after its body is read (within the same limits), so that the answer is not lost
to a reset: closing a socket with unread data sends RST, which can discard an answer the client
has not read yet (RFC 9112 section 9.6 on closing with unread data).

The standard library's threading HTTP server is enough: one local developer, keep-alive
connections, no TLS. It binds 127.0.0.1 and nothing else, and holds a burst of connections in its
listen backlog (``LISTEN_BACKLOG``) rather than http.server's 5, which drops the SYNs of a burst
so that clients wait for retransmits (1 s, then 2 s...). Each connection has its own thread, so a
stalled client blocks nobody else. What a connection may hold is bounded:

- Time. A request (request line, headers and body) must arrive within one wall-clock deadline,
  ``request_seconds`` from its first byte, however the client spaces its bytes: a timeout per read
  lets a client that sends a byte every few seconds hold a thread for ever. A keep-alive
  connection may wait ``idle_seconds`` for its next request; boto3 reopens a closed keep-alive
  connection by itself. A request cut short is dropped without an answer.
- Number. Every connection is a socket, so the open-file limit (``RLIMIT_NOFILE``) bounds them
  together with PostgreSQL's connections and the process's own files; at that limit ``accept``
  fails, and a server that keeps trying spins. ``connection_cap`` keeps connections below it, and
  one past the cap is answered at once as AWS answers an rds-data call it throttles: HTTP 400
  ``ThrottlingException`` "Rate exceeded" (the SDK for Java's report of it in
  awsdocs/amazon-rds-user-guide#110, "Rate exceeded (Service: AWSRDSData; Status Code: 400; Error
  Code: ThrottlingException)"; the model declares no throttling shape). botocore retries it by
  itself: ``botocore/data/_retry.json``'s ``throttling_exception`` rule (that code with HTTP 400)
  and ``botocore/retries/standard.py``'s ``_THROTTLED_ERROR_CODES``.

Bodies are framed as RFC 9112 section 6.3 frames a request, strictly, so that nothing here reads a
body differently from a proxy in front of it (request smuggling, RFC 9112 section 11.2): exactly
one ``Content-Length`` of digits only (RFC 9110 section 8.6: ``Content-Length = 1*DIGIT``; Python's
``int()`` also takes ``+248`` and ``24_8``), and no ``Transfer-Encoding`` of any
value (every AWS SDK sends ``Content-Length``; section 6.3 item 3 gives a request whose length
cannot be determined a 400 and a closed connection). A request framed otherwise, or over 4 MiB, is
a 400 ``BadRequestException`` and its connection is closed without reading the rest. Closing a
socket with unread data resets it, which can discard an answer the client has not read yet (RFC
9112 section 9.6), so a closing connection first sends its answer and a FIN, then reads and drops
what the client is still sending for a bounded time (``LINGER_SECONDS``, ``LINGER_BYTES``; nginx's
``lingering_close`` does the same, "read and ignore additional data coming from the client").
A client that hangs up early loses its answer and, while its statement runs, has it cancelled
(``DataApi.handle``'s ``caller_gone``, which polls the socket for its end); nothing is printed.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import re
import resource
import select
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import botocore.loaders
import botocore.model

from alex_db.tools.local import admission, control_plane
from alex_db.tools.local.errors import DataApiError, RefusedRequestError, bad_request
from alex_db.tools.local.postgres import DATABASE, MASTER_USER
from alex_db.tools.local.service import OPERATIONS, DataApi
from alex_db.tools.local.signatures import SignedRequest

HOST = "127.0.0.1"
MAX_REQUEST_BYTES = 4 * 1024 * 1024
IDLE_CONNECTION_SECONDS = 60.0
# Headers and body together, from the request's first byte. An SDK on this machine sends a whole
# request in milliseconds; Apache's mod_reqtimeout default gives headers 20-40 s and the body 20 s
# more (httpd docs, RequestReadTimeout "Default: header=20-40,MinRate=500 body=20,MinRate=500").
REQUEST_SECONDS = 40.0
# listen(2)'s backlog: a few hundred connections arriving at once wait in the kernel's accept queue
# instead of being dropped. The kernel caps it at net.core.somaxconn (Linux: 4096 since 5.4, 128
# before; listen(2): "silently truncated"), so asking for more than it allows is harmless.
LISTEN_BACKLOG = 1024
# What the open-file limit must leave besides client connections: one socket per PostgreSQL
# connection (``service`` opens at most max_connections less the reserved ones; PostgreSQL's
# default max_connections is 100, "Connections and Authentication" in its documentation, and
# ``local`` keeps it), and the process's own files (standard streams, the listening socket, the
# server's log and pipes, modules and service models read later, a refused connection's socket).
DATABASE_CONNECTIONS = 100
OWN_FILES = 32
# Each connection is a thread (with a stack of its own): where the open-file limit is huge
# (containers often allow 2**20 files) this bound, not the limit, keeps a flood of connections
# from exhausting memory or the kernel's thread limits.
MOST_CONNECTIONS = 4096
# A closing connection reads and drops what its client still sends for at most this long and this
# much: enough for an SDK to finish sending a body over the limit and read its 400, not a way to
# keep a thread busy (nginx: ``lingering_time``, 30 s by default, over the network).
LINGER_SECONDS = 2.0
LINGER_BYTES = 4 * MAX_REQUEST_BYTES
# After ``accept`` fails for want of files or memory, wait before the next try instead of
# spinning on a listening socket that stays readable (Go's net/http ``Server.Serve`` retries such
# temporary accept errors after 5 ms, doubling up to 1 s, and logs each).
ACCEPT_RETRY_SECONDS = 0.1
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
# RFC 9110 section 8.6: ``Content-Length = 1*DIGIT``, DIGIT being ASCII 0-9 (RFC 5234 B.1).
DIGITS = re.compile(r"[0-9]+")
# How much of a malformed header value a message quotes.
QUOTED_CHARACTERS = 40


def operation_paths() -> dict[str, str]:
    """``requestUri`` -> operation name, read from botocore's own model of the service, through
    its loader alone: a session reads the user's AWS config first, and a profile it lacks
    (``AWS_PROFILE``) or a config file that does not parse would stop ``local`` from starting."""
    loader = botocore.loaders.create_loader()
    model = botocore.model.ServiceModel(
        loader.load_service_model("rds-data", "service-2"), "rds-data"
    )
    return {model.operation_model(name).http["requestUri"]: name for name in OPERATIONS}


def _where(failure: BaseException) -> str:
    """A bug's type and the line that raised it, never its message: a message can quote what it
    was handed (psycopg's connection errors quote the connection string, password included)."""
    frames = traceback.extract_tb(failure.__traceback__)
    place = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(failure).__name__}{place}"


def json_error_body(failure: DataApiError) -> bytes:
    """``failure`` as the REST-JSON protocol's error body (the code travels in a header)."""
    return json.dumps({"message": failure.message}).encode()


def connection_cap() -> int:
    """How many client connections fit under this process's open-file limit (the soft
    ``RLIMIT_NOFILE``, the one ``accept`` fails at) beside PostgreSQL's and its own files; at
    least one, at most ``MOST_CONNECTIONS``."""
    limit, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if limit == resource.RLIM_INFINITY:
        return MOST_CONNECTIONS
    return max(1, min(MOST_CONNECTIONS, limit - DATABASE_CONNECTIONS - OWN_FILES))


class DataApiEndpoint(ThreadingHTTPServer):
    """Serves one ``DataApi`` on 127.0.0.1:``port`` (0 picks a free port). A request must arrive
    within ``request_seconds``; a keep-alive connection may wait ``idle_seconds`` for its next
    one; at most ``max_connections`` are open at once (default ``connection_cap()``)."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG  # socketserver passes it to listen()

    def __init__(
        self,
        api: DataApi,
        port: int,
        signer: admission.Signer,
        engine_version: Callable[[], str] = lambda: "",
        idle_seconds: float = IDLE_CONNECTION_SECONDS,
        request_seconds: float = REQUEST_SECONDS,
        max_connections: int | None = None,
    ) -> None:
        """``engine_version`` tells the control plane which PostgreSQL runs (asked per call: it
        is known once the server has started)."""
        self.api = api
        self.signer = signer
        self.engine_version = engine_version
        self.paths = operation_paths()
        self.idle_seconds = idle_seconds
        self.request_seconds = request_seconds
        self.max_connections = connection_cap() if max_connections is None else max_connections
        self._count_lock = threading.Lock()
        # Every open connection, oldest first, and whether it has made a call signed with a key
        # local accepts (``trust``).
        self._open: dict[socket.socket, bool] = {}
        self._said_full = False
        self._said_cannot_accept = False
        super().__init__((HOST, port), _Handler)

    @property
    def url(self) -> str:
        """The endpoint for ``AWS_ENDPOINT_URL_RDS_DATA``."""
        return f"http://{HOST}:{self.server_address[1]}"

    def service_actions(self) -> None:
        """Between requests: roll back transactions past AWS's time limits."""
        self.api.expire_transactions()

    def get_request(self) -> tuple[socket.socket, object]:
        """``accept``; when it fails for want of files or memory, one line (once until it works
        again) and a pause, so that the serving loop does not spin on the listening socket."""
        try:
            accepted = super().get_request()
        except OSError as failure:
            if failure.errno in OUT_OF_RESOURCES:
                if not self._said_cannot_accept:
                    self._said_cannot_accept = True
                    print(f"alex-db local: cannot accept a connection ({failure.strerror}); "
                          f"new clients wait until connections or files are closed",
                          file=sys.stderr)
                time.sleep(ACCEPT_RETRY_SECONDS)
            raise
        self._said_cannot_accept = False
        return accepted

    def process_request(self, request: socket.socket, client_address: object) -> None:
        """A thread for the connection. With ``max_connections`` open, the oldest connection
        that has made no signed call yet is closed to make room (loopback is shared: anyone on
        the machine can open connections and leave them idle, and would otherwise hold every
        place); only when every one has made a signed call is the new one answered
        ``ThrottlingException``."""
        with self._count_lock:
            evicted = None
            if len(self._open) >= self.max_connections:
                evicted = next((held for held, trusted in self._open.items() if not trusted), None)
                if evicted is not None:
                    del self._open[evicted]
            full = len(self._open) >= self.max_connections
            if not full:
                self._open[request] = False
            report = full and not self._said_full
            self._said_full = full
        if evicted is not None:
            _close_under(evicted)
        if full:
            if report:
                print(f"alex-db local: {self.max_connections} connections open, each with a "
                      f"signed call, the most this process's open-file limit leaves room for; new "
                      f"ones are answered ThrottlingException until some close", file=sys.stderr)
            _refuse_connection(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connection_closed(request)
            raise

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connection_closed(request)

    def trust(self, connection: socket.socket) -> None:
        """``connection`` made a call signed with a key local accepts: it keeps its place."""
        with self._count_lock:
            if connection in self._open:
                self._open[connection] = True

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._count_lock:
            self._open.pop(connection, None)

    def shutdown_request(self, request: socket.socket) -> None:
        """Close so that the client can read its last answer: a FIN after it, then what the
        client still sends is read and dropped (a bounded time and amount) before the close,
        which would otherwise reset the connection (module docstring)."""
        with contextlib.suppress(OSError):  # the client is gone already
            request.shutdown(socket.SHUT_WR)
        _drain(request, time.monotonic() + LINGER_SECONDS)
        self.close_request(request)

    def handle_error(self, request, client_address) -> None:
        """A connection's thread failed outside a request: a socket error means the client is
        gone and there is nothing to say; anything else is one line, not socketserver's
        traceback."""
        failure = sys.exc_info()[1]
        if not isinstance(failure, OSError):
            print(f"alex-db local: connection error: {failure!r}", file=sys.stderr)


def _drain(connection: socket.socket, deadline: float) -> None:
    """Read and drop what the client sends until it closes, ``deadline`` (a monotonic time)
    passes or ``LINGER_BYTES`` have come."""
    drained = 0
    while drained < LINGER_BYTES:
        left = deadline - time.monotonic()
        try:
            connection.settimeout(max(left, 0.0))
            chunk = connection.recv(65536)
        except OSError:  # nothing more within the time (TimeoutError, BlockingIOError), or reset
            return
        if not chunk:
            return
        drained += len(chunk)


def _close_under(connection: socket.socket) -> None:
    """End a connection its own thread is serving: both directions shut, so its pending read
    returns at once and the thread closes it."""
    with contextlib.suppress(OSError):  # gone already
        connection.shutdown(socket.SHUT_RDWR)


def _refuse_connection(connection: socket.socket) -> None:
    """Answer a connection past the cap with ``ThrottlingException`` and close it, all without
    waiting: this runs on the thread that accepts every connection. A fresh socket's send buffer
    takes the short answer whole; what the client already sent is dropped, not left to reset the
    connection."""
    body = json.dumps({"message": "Rate exceeded: alex-db local holds as many connections as its "
                                  "open-file limit allows; retry when some have closed"}).encode()
    answer = (
        f"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nx-amzn-RequestId: {uuid.uuid4()}\r\n"
        f"x-amzn-ErrorType: ThrottlingException\r\nConnection: close\r\n\r\n"
    ).encode() + body
    try:
        connection.setblocking(False)
        connection.send(answer)
        connection.shutdown(socket.SHUT_WR)
    except OSError:  # the client is gone already
        pass
    _drain(connection, time.monotonic())
    connection.close()


class _HungUpError(Exception):
    """The client stopped sending (its request's deadline passed) or went away mid-request."""


class _DeadlineReader(io.RawIOBase):
    """The connection's socket, read under a wall-clock ``deadline`` (a monotonic time) instead of
    a timeout per read, so that a client trickling bytes cannot stretch a request for ever."""

    def __init__(self, connection: socket.socket) -> None:
        super().__init__()
        self._connection = connection
        self.deadline = time.monotonic()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        """Bytes that arrived in time are read even when this thread looks late (a busy process
        may), but past the deadline nothing is waited for."""
        self._connection.settimeout(max(self.deadline - time.monotonic(), 0.0))
        try:
            return self._connection.recv_into(buffer)
        except BlockingIOError:  # past the deadline, and nothing has come
            raise TimeoutError("the request's deadline passed") from None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A request line without a version is answered in HTTP/1.1 too (AWS speaks no HTTP/0.9, whose
    # answers have no status line and no headers).
    default_request_version = "HTTP/1.1"
    # Headers and body go out as two writes; without TCP_NODELAY the second waits for the
    # client's delayed ACK (about 40 ms a call on Linux).
    disable_nagle_algorithm = True
    server: DataApiEndpoint

    def setup(self) -> None:
        """Requests are read through ``_DeadlineReader``; the reader ``StreamRequestHandler``
        made is closed (it holds a reference that would keep the socket open)."""
        super().setup()
        self.rfile.close()
        self._reader = _DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        """Wait up to ``idle_seconds`` for a request to begin, then give it ``request_seconds``
        to arrive whole."""
        self._reader.deadline = time.monotonic() + self.server.idle_seconds
        try:
            begun = self.rfile.peek(1)
        except OSError:  # idle too long (TimeoutError), or reset
            begun = b""
        if not begun:
            self.close_connection = True
            return
        self._reader.deadline = time.monotonic() + self.server.request_seconds
        super().handle_one_request()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a request line or header block it cannot read, a method
        with no handler) as the Data API's ``BadRequestException``, not its HTML page; the
        connection is closed, as after any request that is not framed as expected."""
        self._send_refusal(bad_request(message or HTTPStatus(code).phrase))

    def handle_expect_100(self) -> bool:
        """``Expect: 100-continue``: a request framed wrongly or too large gets its 400 at once,
        instead of an invitation to send the body (RFC 9110 section 10.1.1: a server "MAY
        instead respond with a final status code")."""
        try:
            self._body_length()
        except DataApiError as failure:
            self._send_refusal(failure)
            return False
        return super().handle_expect_100()

    def _send_refusal(self, failure: DataApiError) -> None:
        """``failure`` as the last answer on this connection; an answer to HEAD has no body
        (RFC 9110 section 9.3.2), or the client would read it as the next answer."""
        self.close_connection = True
        body = b"" if self.command == "HEAD" else json_error_body(failure)
        self._send(failure.status, body, failure.code)

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        if self.path.split("?", 1)[0] == control_plane.PATH:
            self._respond(self._control_plane, control_plane.error_body, control_plane.CONTENT_TYPE)
        else:
            self._respond(self._answer)

    def do_GET(self) -> None:  # noqa: N802
        self._respond(self._no_operation)

    def _respond(
        self,
        answer: Callable[[], bytes],
        error_body: Callable[[DataApiError], bytes] = json_error_body,
        content_type: str = "application/json",
    ) -> None:
        """Send ``answer()``, or the failure it raised as ``error_body`` renders it (the REST-JSON
        protocol's ``{"message"}`` by default)."""
        try:
            status, body, error = 200, answer(), None
        except _HungUpError:
            self.close_connection = True
            return
        except DataApiError as failure:
            status, body, error = failure.status, error_body(failure), failure.code
        except Exception as failure:  # a bug here must not take the endpoint down
            print(f"alex-db local: internal error: {_where(failure)}", file=sys.stderr)
            failure = DataApiError(
                "InternalServerErrorException", "internal error in alex-db local"
            )
            status, body, error = 500, error_body(failure), failure.code
        self._send(status, body, error, content_type)

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

    def _control_plane(self) -> bytes:
        raw = self._admitted_body(admission.CONTROL_PLANE)
        cluster = control_plane.LocalCluster(
            DATABASE, MASTER_USER, self.server.engine_version(), HOST, self.server.server_address[1]
        )
        return control_plane.answer(raw, cluster)

    def _no_operation(self) -> bytes:
        self._admitted_body()
        raise RefusedRequestError(
            404, "UnknownOperationException", "POST a Data API operation"
        )

    def _admitted_body(self, route: admission.Route = admission.DATA_API) -> bytes:
        """The body of an admitted request. What the headers alone refuse is refused before the
        body is read, and the connection closes: its body is then read and dropped by the close
        (``shutdown_request``), never held, so that nobody without a key makes this process
        hold 4 MiB per connection. A request refused for its signature's value is refused once
        its body is read whole, so that its answer is not lost to a reset."""
        port, signer = self.server.server_address[1], self.server.signer
        length = self._body_length()
        try:
            identity = admission.admit_headers(self.headers, port, signer, route)
        except DataApiError:
            self.close_connection = True
            raise
        raw = self._raw_body(length)
        request = SignedRequest(self.command, self.path, self.headers, raw)
        admission.admit_body(request, identity, signer, route)
        self.server.trust(self.connection)
        return raw

    def _raw_body(self, length: int) -> bytes:
        """The body ``Content-Length`` frames (``length``), read before the request's deadline;
        afterwards the answer has ``request_seconds`` to be taken (a write that long is a client
        not reading)."""
        try:
            raw = self.rfile.read(length) if length > 0 else b""
        except OSError:  # TimeoutError included
            raise _HungUpError from None
        if len(raw) < length:
            raise _HungUpError
        self.connection.settimeout(self.server.request_seconds)
        return raw

    def _body_length(self) -> int:
        """The body's length as the module docstring frames it; any other framing is a
        ``BadRequestException`` that closes the connection (RFC 9112 section 6.3 items 3-5)."""
        if self.headers.get_all("Transfer-Encoding") is not None:
            self.close_connection = True
            raise bad_request("refused: Transfer-Encoding; send the body with one Content-Length "
                              "header, as the AWS SDKs do")
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            return 0
        if len(lengths) > 1:
            self.close_connection = True
            raise bad_request(f"refused: {len(lengths)} Content-Length headers; send one")
        value = lengths[0].strip(" \t")  # optional whitespace around a field value (RFC 9110 5.5)
        if not DIGITS.fullmatch(value):
            self.close_connection = True
            raise bad_request(f"Content-Length {value[:QUOTED_CHARACTERS]!r} is not a number of "
                              f"bytes; it takes the digits 0-9 only")
        # Leading zeros are allowed; more digits than the limit has cannot be within it (and
        # int() refuses strings of over 4,300 digits).
        significant = value.lstrip("0") or "0"
        if len(significant) > len(str(MAX_REQUEST_BYTES)) or int(significant) > MAX_REQUEST_BYTES:
            self.close_connection = True
            raise bad_request(f"the request is {value[:QUOTED_CHARACTERS]} bytes; the Data API "
                              f"accepts up to 4 MiB")
        return int(significant)

    def _send(
        self, status: int, body: bytes, error: str | None, content_type: str = "application/json"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error:
            self.send_header("x-amzn-ErrorType", error)
        if self.close_connection:  # so that the client does not send its next request here
            self.send_header("Connection", "close")
        try:
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client hung up before its answer
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: a request log would drown the one line that says where we listen."""


def _parsed(raw: bytes) -> dict:
    """The request body as the operation's input object (an empty body is an empty one, as
    botocore sends for an operation without members)."""
    try:
        request = json.loads(raw or b"{}")
    # ValueError: not UTF-8, not JSON, or a number too long to convert; json recurses once per
    # level of nesting.
    except (ValueError, RecursionError):
        raise bad_request("the request body is not JSON") from None
    if not isinstance(request, dict):
        raise bad_request("the request body must be a JSON object")
    return request
