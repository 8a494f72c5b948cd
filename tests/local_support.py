"""Helpers for the ``alex-db local`` tests: an endpoint on a free port, a boto3 client, a clock,
the calls the Data API tests make through it, and the headers an SDK sends (for raw HTTP tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from alex_db.tools.local.endpoint import DataApiEndpoint
from alex_db.tools.local.service import DataApi
from alex_db.tools.shared.local_identity import CLUSTER_ARN, SECRET_ARN

# The checkout: ``python -m alex_db`` runs from it.
ROOT = Path(__file__).resolve().parent.parent
TARGET = {"resourceArn": CLUSTER_ARN, "secretArn": SECRET_ARN}
IN_ALEX = {**TARGET, "database": "alex"}


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextmanager
def serving(
    postgres, endpoint_options: dict | None = None, **options
) -> Iterator[tuple[DataApi, str]]:
    """A DataApi over ``postgres`` (``options`` are its own) on 127.0.0.1 (a free port) until the
    block ends; ``endpoint_options`` are the endpoint's (its deadlines, its connection cap)."""
    api = DataApi(postgres.conninfo, CLUSTER_ARN, SECRET_ARN, **options)
    endpoint = DataApiEndpoint(api, 0, **(endpoint_options or {}))
    thread = threading.Thread(target=endpoint.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield api, endpoint.url
    finally:
        endpoint.shutdown()
        endpoint.server_close()
        api.close()


def rds_data_client(url: str):
    """boto3's real rds-data client, pointed at ``url``; no retries, so errors show at once."""
    return boto3.client(
        "rds-data",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1}),
    )


def table(prefix: str) -> str:
    """A table name of its own for one test (the session's PostgreSQL is shared)."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def run(rds, sql: str, *parameters: dict, **options):
    """ExecuteStatement in database ``alex``."""
    return rds.execute_statement(sql=sql, parameters=list(parameters), **IN_ALEX, **options)


def begin(rds) -> str:
    """BeginTransaction in database ``alex``; its id."""
    return rds.begin_transaction(**IN_ALEX)["transactionId"]


def error_of(call) -> tuple[str, str]:
    """The (code, message) of the ClientError ``call()`` raises."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def sdk_headers(url: str, path: str, body: bytes) -> dict[str, str]:
    """The headers boto3 sends with ``body`` to ``url`` + ``path``: Host, its JSON Content-Type,
    X-Amz-Date and a SigV4 Authorization (botocore's own signer, with throw-away keys)."""
    request = AWSRequest(
        method="POST", url=url + path, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials("local", "local"), "rds-data", "us-east-1").add_auth(request)
    return {"Host": urlsplit(url).netloc, **dict(request.headers.items())}


def header_lines(headers: dict[str, str]) -> str:
    """``headers`` as the lines of a raw HTTP request."""
    return "".join(f"{name}: {value}\r\n" for name, value in headers.items())


@contextmanager
def writable_folder() -> Iterator[Path]:
    """A folder the server's user may write in (it is ``postgres`` when tests run as root), so
    that a shell command that runs there leaves a file to find."""
    folder = Path(tempfile.mkdtemp(prefix="alexdb-dropbox-"))
    os.chmod(folder, 0o777)
    try:
        yield folder
    finally:
        subprocess.run(["rm", "-rf", str(folder)], check=True)


def server_bin_dir() -> Path:
    """The PostgreSQL server's binaries, or the test is skipped (only when there are none)."""
    from alex_db.tools.local.postgres import LocalPostgresError, find_bin_dir

    try:
        return find_bin_dir()
    except LocalPostgresError as error:
        pytest.skip(f"no PostgreSQL server on this machine ({error}); .ci/run installs one")


@contextmanager
def reachable_folder(prefix: str) -> Iterator[Path]:
    """A fresh folder every user may enter (the server runs as ``postgres`` when the tests run as
    root, and must reach a data directory inside); removed afterwards without waiting, as
    removing a cluster's files takes seconds on overlay filesystems."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        subprocess.Popen(["rm", "-rf", str(folder)])


def start_local(project: Path, data_dir: Path) -> tuple[subprocess.Popen, str]:
    """``local --port 0`` in ``project``; returns the process and its first stderr line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "alex_db", "local", "--port", "0", "--data-dir", str(data_dir)],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, process.stderr.readline()


def stop_local(process: subprocess.Popen) -> tuple[int, str]:
    """Ctrl-C; the exit code and the rest of stderr."""
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    return process.returncode, err
