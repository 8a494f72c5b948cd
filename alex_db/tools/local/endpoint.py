"""The Data API's HTTP surface on 127.0.0.1: REST-JSON as botocore's ``rds-data`` model defines it.

Each operation is ``POST`` to the model's ``requestUri`` (``/Execute``, ``/BatchExecute``,
``/BeginTransaction``, ``/CommitTransaction``, ``/RollbackTransaction``) with a JSON body; a
success is HTTP 200 with the output shape as JSON; an error is the shape's status with the
``x-amzn-ErrorType`` header, which botocore's REST-JSON parser reads for the error code
(``botocore/parsers.py``, ``RestJSONParser._inject_error_code``), and ``{"message": ...}``.

Limits from the model's documentation: requests up to 4 MiB ("the maximum size of the HTTP
request submitted through the Data API is 4 MiB"), responses up to 1 MiB ("If the call returns
more than 1 MiB of response data, the call is terminated"), refused with the message AWS gives,
"Database returned more than the allowed response size limit". ``formatRecordsAs: JSON`` has its
own limit, 10 MB on ``formattedRecords``, also a ``BadRequestException`` (the model's
``ExecuteStatementResponse.formattedRecords``; AWS's "Processing Amazon RDS Data API query
results in JSON format": "The JSON response is limited to 10 megabytes").

The standard library's threading HTTP server is enough: one local developer, keep-alive
connections, no TLS. It binds 127.0.0.1 and nothing else.
"""

from __future__ import annotations

import json
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session

from alex_db.tools.local.errors import DataApiError, bad_request
from alex_db.tools.local.service import OPERATIONS, DataApi

HOST = "127.0.0.1"
MAX_REQUEST_BYTES = 4 * 1024 * 1024
MAX_RESPONSE_BYTES = 1024 * 1024
# "10 MB": read as 10**7, the stricter reading, so nothing passes here that AWS could refuse.
MAX_JSON_RESPONSE_BYTES = 10 * 1000 * 1000
RESPONSE_TOO_LARGE = "Database returned more than the allowed response size limit"


def operation_paths() -> dict[str, str]:
    """``requestUri`` -> operation name, read from botocore's own model of the service."""
    model = botocore.session.get_session().get_service_model("rds-data")
    return {model.operation_model(name).http["requestUri"]: name for name in OPERATIONS}


class DataApiEndpoint(ThreadingHTTPServer):
    """Serves one ``DataApi`` on 127.0.0.1:``port`` (0 picks a free port)."""

    daemon_threads = True

    def __init__(self, api: DataApi, port: int) -> None:
        self.api = api
        self.paths = operation_paths()
        super().__init__((HOST, port), _Handler)

    @property
    def url(self) -> str:
        """The endpoint for ``AWS_ENDPOINT_URL_RDS_DATA``."""
        return f"http://{HOST}:{self.server_address[1]}"

    def service_actions(self) -> None:
        """Between requests: roll back transactions past AWS's time limits."""
        self.api.expire_transactions()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; without TCP_NODELAY the second waits for the
    # client's delayed ACK (about 40 ms a call on Linux).
    disable_nagle_algorithm = True
    server: DataApiEndpoint

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        try:
            status, body, error = 200, self._answer(), None
        except DataApiError as failure:
            status, body, error = failure.status, _error_body(failure), failure.code
        except Exception as failure:  # a bug here must not take the endpoint down
            print(f"alex-db local: internal error: {failure!r}", file=sys.stderr)
            status, error = 500, "InternalServerErrorException"
            body = json.dumps({"message": "internal error in alex-db local"}).encode()
        self._send(status, body, error)

    def do_GET(self) -> None:  # noqa: N802
        self._send(404, json.dumps({"message": "POST a Data API operation"}).encode(), None)

    def _answer(self) -> bytes:
        operation = self.server.paths.get(self.path.split("?", 1)[0])
        if operation is None:
            raise bad_request(f"unknown operation path {self.path}")
        request = self._request_body()
        answer = self.server.api.handle(operation, request)
        body = json.dumps(answer).encode()
        limit = MAX_JSON_RESPONSE_BYTES if "formattedRecords" in answer else MAX_RESPONSE_BYTES
        if len(body) > limit:
            raise bad_request(RESPONSE_TOO_LARGE)
        return body

    def _request_body(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise bad_request("Content-Length is not a number") from None
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            raise bad_request(f"the request is {length} bytes; the Data API accepts up to 4 MiB")
        raw = self.rfile.read(length) if length > 0 else b"{}"
        try:
            request = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise bad_request("the request body is not JSON") from None
        if not isinstance(request, dict):
            raise bad_request("the request body must be a JSON object")
        return request

    def _send(self, status: int, body: bytes, error: str | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: a request log would drown the one line that says where we listen."""


def _error_body(failure: DataApiError) -> bytes:
    return json.dumps({"message": failure.message}).encode()
