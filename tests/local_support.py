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

from alex_db.tools.local.admission import Signer
from alex_db.tools.local.endpoint import DataApiEndpoint
from alex_db.tools.local.service import DataApi
from alex_db.tools.local.signatures import AccessKey
from alex_db.tools.shared.local_identity import CLUSTER_ARN, REGION, SECRET_ARN

# The checkout: ``python -m alex_db`` runs from it.
ROOT = Path(__file__).resolve().parent.parent
TARGET = {"resourceArn": CLUSTER_ARN, "secretArn": SECRET_ARN}
IN_ALEX = {**TARGET, "database": "alex"}
# The key the in-process endpoints accept, as `local` accepts the one it keeps in its data dir.
TEST_KEY = AccessKey("ALEXDBLOCALTESTS0001", "tests-secret-not-for-aws-0123456789abcd", None, "tests")


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
    postgres, signer: Signer | None = None, endpoint_options: dict | None = None, **options
) -> Iterator[tuple[DataApi, str]]:
    """A DataApi over ``postgres`` (``options`` are its own) on 127.0.0.1 (a free port) until the
    block ends, accepting calls signed as ``signer`` says (by default with TEST_KEY);
    ``endpoint_options`` are the endpoint's (its deadlines, its connection cap)."""
    api = DataApi(postgres.conninfo, CLUSTER_ARN, SECRET_ARN, **options)
    endpoint = DataApiEndpoint(
        api,
        0,
        signer or signer_for(TEST_KEY),
        engine_version=lambda: str(postgres.major_version),
        **(endpoint_options or {}),
    )
    thread = threading.Thread(target=endpoint.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield api, endpoint.url
    finally:
        endpoint.shutdown()
        endpoint.server_close()
        api.close()


def signer_for(*keys: AccessKey) -> Signer:
    """What the endpoint checks signatures against: these keys, in local's region."""
    return Signer({key.key_id: key for key in keys}.get, REGION)


def rds_data_client(url: str, key: AccessKey = TEST_KEY, region: str = REGION):
    """boto3's real rds-data client, pointed at ``url`` and signing with ``key``; no retries, so
    errors show at once."""
    return boto3.client(
        "rds-data",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key.key_id,
        aws_secret_access_key=key.secret,
        aws_session_token=key.session_token,
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


def sdk_headers(
    url: str,
    path: str,
    body: bytes,
    key: AccessKey = TEST_KEY,
    content_type: str | None = "application/json",
) -> dict[str, str]:
    """The headers boto3 sends with ``body`` to ``url`` + ``path``: Host, its JSON Content-Type
    (or ``content_type``, signed as such), X-Amz-Date and a SigV4 Authorization (botocore's own
    signer, with ``key``)."""
    headers = {"Host": urlsplit(url).netloc}  # signed as sent, in the case it is sent
    if content_type is not None:
        headers["Content-Type"] = content_type
    request = AWSRequest(method="POST", url=url + path, data=body, headers=headers)
    credentials = Credentials(key.key_id, key.secret, key.session_token)
    SigV4Auth(credentials, "rds-data", REGION).add_auth(request)
    return dict(request.headers.items())


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


def without_aws_credentials(environ: dict[str, str], home: Path) -> dict[str, str]:
    """``environ`` as on a machine with no AWS account: no keys, profiles or credential files."""
    kept = {
        name: value
        for name, value in environ.items()
        if name not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
    }
    return kept | {
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
    }


def start_local(
    project: Path, data_dir: Path, environ: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """``local --port 0`` in ``project`` (by default on a machine with no AWS credentials);
    returns the process and its first stderr line."""
    environ = environ if environ is not None else without_aws_credentials(dict(os.environ), project)
    process = subprocess.Popen(
        [sys.executable, "-m", "alex_db", "local", "--port", "0", "--data-dir", str(data_dir)],
        cwd=project,
        env={**environ, "PYTHONPATH": str(ROOT)},
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
