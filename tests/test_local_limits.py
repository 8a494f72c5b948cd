"""No request takes ``alex-db local`` down (issue 22, items 4 and 5): every failure path gives its
connection back, a statement that outlives the Data API's limit or whose caller hangs up is
cancelled in PostgreSQL, a batch's work is bounded before any SQL runs, and the odd inputs a
hostile or buggy caller sends (lone surrogates, ``"transactionId": null``, ``COPY``, ``COMMIT``
as SQL, a batch that ends its own session) are answered as AWS answers them, never with a 500.

Driven as a caller would: boto3's real ``rds-data`` client, or raw HTTP where boto3 refuses to
send what an attacker can. A module of its own: its endpoints have few connections, so that a
leaked one shows at once.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import uuid
from urllib.parse import urlparse

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alex_db.tools.local.errors import STATUS
from tests.local_support import (
    IN_ALEX,
    TARGET,
    begin,
    error_of,
    header_lines,
    rds_data_client,
    run,
    sdk_headers,
    serving,
    table,
)

CONNECTIONS = 3
STATEMENT_SECONDS = 0.5


@pytest.fixture(scope="module")
def endpoint(local_postgres):
    """An endpoint with ``CONNECTIONS`` connections, a short wait for one and a short statement
    limit: a leaked connection or a statement left running shows within a second."""
    with serving(
        local_postgres,
        connection_limit=CONNECTIONS,
        connection_wait_seconds=0.2,
        statement_timeout_seconds=STATEMENT_SECONDS,
    ) as (api, url):
        yield url


@pytest.fixture(scope="module")
def rds(endpoint):
    return rds_data_client(endpoint)


def post(url: str, path: str, body: bytes) -> tuple[int, str | None, dict]:
    """A signed raw request: (status, x-amzn-ErrorType, JSON body)."""
    address = urlparse(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers=sdk_headers(url, path, body))
        response = connection.getresponse()
        return response.status, response.getheader("x-amzn-ErrorType"), json.loads(response.read())
    finally:
        connection.close()


def call(url: str, path: str, request: dict) -> tuple[int, str | None, dict]:
    return post(url, path, json.dumps(request).encode())


def busy_sessions(rds) -> list[list[dict]]:
    """The master user's other sessions that are running something or hold a transaction."""
    return run(
        rds,
        "SELECT pid, state, query FROM pg_stat_activity WHERE usename = current_user "
        "AND pid <> pg_backend_pid() AND state <> 'idle'",
    )["records"]


def no_busy_session_left(rds) -> bool:
    """Whether no session of ours is busy, allowing a moment for one that was just closed (a
    connection closed mid-transaction leaves pg_stat_activity a few milliseconds later)."""
    for _ in range(100):  # bounded: 2 s
        if not busy_sessions(rds):
            return True
        time.sleep(0.02)
    return False


def assert_pool_whole(url: str) -> None:
    """No session of ours is left running or in a transaction, and every one of the endpoint's
    ``CONNECTIONS`` connections can be had at once (a leaked one makes a call wait 0.2 s for a
    connection and fail with PostgreSQL's 53300)."""
    assert no_busy_session_left(rds_data_client(url))
    start = threading.Barrier(CONNECTIONS)
    failures: list[object] = []

    def hold_one() -> None:
        start.wait(timeout=30)
        try:
            run(rds_data_client(url), "SELECT pg_sleep(0.3)")
        except Exception as failure:  # noqa: BLE001 - the test reports whatever it was
            failures.append(failure)

    threads = [threading.Thread(target=hold_one) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []


# -- every failure path gives its connection back -----------------------------------------------

LONE_SURROGATES = st.sampled_from(["\ud800", "a\udfffb", "\udc00\ud800"])
ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.just(10**400), st.floats(), LONE_SURROGATES,
    st.text(max_size=8), st.just("x" * 70_000), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
PARAMETER = st.fixed_dictionaries(
    {"name": st.sampled_from(["v"]) | ODD_VALUES},
    optional={
        "value": st.dictionaries(
            st.sampled_from(["stringValue", "longValue", "blobValue", "isNull", "arrayValue"]),
            ODD_VALUES, max_size=2,
        ),
        "typeHint": st.sampled_from(["UUID", "DATE"]) | ODD_VALUES,
    },
)
HOSTILE_CALLS = st.fixed_dictionaries(
    {key: st.just(value) for key, value in TARGET.items()},
    optional={
        "sql": st.sampled_from(
            ["SELECT :v", "SELECT 1", "SELECT pg_sleep(5)", "COPY (SELECT 1) TO STDOUT",
             "SELECT pg_terminate_backend(pg_backend_pid())", "COMMIT", "BEGIN", "SELECT 1/0"]
        ) | ODD_VALUES,
        "database": st.just("alex") | ODD_VALUES,
        "parameters": st.lists(PARAMETER, max_size=2) | ODD_VALUES,
        "parameterSets": st.lists(st.lists(PARAMETER, max_size=1), max_size=3) | ODD_VALUES,
        "transactionId": ODD_VALUES,
        # True lets pg_sleep(5) run on past the answer: its own test waits for that.
        "continueAfterTimeout": ODD_VALUES.filter(lambda value: value is not True),
        "formatRecordsAs": st.just("JSON") | ODD_VALUES,
        "includeResultMetadata": ODD_VALUES,
        "resultSetOptions": ODD_VALUES,
    },
)
PATHS = st.sampled_from(["/Execute", "/BatchExecute", "/BeginTransaction", "/CommitTransaction",
                         "/RollbackTransaction"])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@example(path="/Execute", request={**TARGET, "database": "\ud800", "sql": "SELECT 1"})
@example(path="/BeginTransaction", request={**TARGET, "database": "\ud800"})
@example(path="/BatchExecute", request={**IN_ALEX, "sql": "SELECT pg_terminate_backend("
         "pg_backend_pid())", "parameterSets": [[]]})
@example(path="/Execute", request={**IN_ALEX, "sql": "COPY (SELECT 1) TO STDOUT"})
@example(path="/Execute", request={**IN_ALEX, "sql": "SELECT 1", "\udc00key": 1})
@given(path=PATHS, request=HOSTILE_CALLS)
def test_any_call_is_an_answer_or_a_4xx_aws_error_and_leaves_the_pool_whole(endpoint, path, request):
    status, error, payload = call(endpoint, path, request)
    if status == 200 and path == "/BeginTransaction":  # not ours to keep open
        call(endpoint, "/RollbackTransaction", {**TARGET, "transactionId": payload["transactionId"]})
    assert status == 200 or (400 <= status < 500 and error in STATUS and payload["message"])
    # One call at a time on CONNECTIONS connections: running out of them means one leaked.
    assert "SQLState: 53300" not in payload.get("message", "")
    assert no_busy_session_left(rds_data_client(endpoint))


def test_after_hostile_calls_every_connection_is_free(endpoint):
    """Calls that used to leak a connection each, then the whole pool at once (in this module's
    order this also checks what the property above left behind)."""
    for _ in range(2 * CONNECTIONS):  # the calls that used to leak a slot each
        assert call(endpoint, "/Execute", {**TARGET, "database": "\ud800", "sql": "SELECT 1"})[0] == 400
    assert_pool_whole(endpoint)


# -- lone surrogates: not a string any AWS model can carry ---------------------------------------


@pytest.mark.parametrize(
    ("field", "request_"),
    [
        ("database", {**TARGET, "database": "\ud800", "sql": "SELECT 1"}),
        ("sql", {**IN_ALEX, "sql": "SELECT '\udfff'"}),
        ("parameters[0].value.stringValue",
         {**IN_ALEX, "sql": "SELECT :v", "parameters": [{"name": "v", "value": {"stringValue": "a\ud800"}}]}),
    ],
)
def test_a_lone_surrogate_is_a_bad_request_naming_the_field(rds, field, request_):
    code, message = error_of(lambda: rds.execute_statement(**request_))
    assert code == "BadRequestException"
    assert message.startswith(f"{field} ") and "surrogate" in message


def test_a_surrogate_pair_escaped_in_json_is_one_character_and_passes(endpoint):
    body = json.dumps({**IN_ALEX, "sql": "SELECT '\U0001f600' AS s"}).encode()
    assert b"\\ud83d\\ude00" in body
    status, _, payload = post(endpoint, "/Execute", body)
    assert (status, payload["records"]) == (200, [[{"stringValue": "\U0001f600"}]])


# -- statement timeout, as AWS ------------------------------------------------------------------


def test_a_statement_past_the_limit_is_a_statement_timeout_and_is_cancelled(rds):
    marker = f"timeout_{uuid.uuid4().hex[:8]}"
    code, message = error_of(lambda: run(rds, f"SELECT pg_sleep(30) AS {marker}"))
    assert code == "StatementTimeoutException"
    assert not [row for row in busy_sessions(rds) if marker in row[2]["stringValue"]]
    assert run(rds, "SELECT 1")["records"] == [[{"longValue": 1}]]


def test_a_timed_out_statement_in_a_transaction_is_cancelled_and_the_transaction_can_end(rds):
    name = table("timed")
    run(rds, f"CREATE TABLE {name} (n int)")
    transaction = begin(rds)
    run(rds, f"INSERT INTO {name} VALUES (1)", transactionId=transaction)
    code, _ = error_of(lambda: run(rds, "SELECT pg_sleep(30)", transactionId=transaction))
    assert code == "StatementTimeoutException"
    assert rds.rollback_transaction(**TARGET, transactionId=transaction)["transactionStatus"] == (
        "Rollback Complete"
    )
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 0}]]


def test_continue_after_timeout_answers_the_timeout_and_lets_the_statement_finish(rds, endpoint):
    name = table("continued")
    run(rds, f"CREATE TABLE {name} (n int)")
    code, _ = error_of(lambda: run(
        rds, f"INSERT INTO {name} SELECT 7 FROM pg_sleep({STATEMENT_SECONDS * 3})",
        continueAfterTimeout=True,
    ))
    assert code == "StatementTimeoutException"
    for _ in range(200):  # bounded: the statement sleeps 1.5 s
        if run(rds, f"SELECT n FROM {name}")["records"]:
            break
        time.sleep(0.05)
    assert run(rds, f"SELECT n FROM {name}")["records"] == [[{"longValue": 7}]]
    for _ in range(200):  # and its connection comes back once it is done
        if not busy_sessions(rds):
            break
        time.sleep(0.05)
    assert_pool_whole(endpoint)


def test_the_default_limit_is_aws_45_seconds():
    import inspect

    from alex_db.tools.local.service import STATEMENT_TIMEOUT_SECONDS, DataApi

    assert STATEMENT_TIMEOUT_SECONDS == 45.0
    default = inspect.signature(DataApi).parameters["statement_timeout_seconds"].default
    assert default == STATEMENT_TIMEOUT_SECONDS


# -- a client that hangs up cancels its statement -----------------------------------------------


def test_a_caller_that_hangs_up_has_its_statement_cancelled(local_postgres):
    with serving(local_postgres, connection_limit=CONNECTIONS) as (_, url):
        rds = rds_data_client(url)
        marker = f"hangup_{uuid.uuid4().hex[:8]}"
        body = json.dumps({**IN_ALEX, "sql": f"SELECT pg_sleep(60) AS {marker}"}).encode()
        request = (
            f"POST /Execute HTTP/1.1\r\n{header_lines(sdk_headers(url, '/Execute', body))}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        address = urlparse(url)
        for _ in range(CONNECTIONS + 1):  # more than the endpoint has connections
            with socket.create_connection((address.hostname, address.port), timeout=10) as caller:
                caller.sendall(request)
                for _ in range(200):  # until PostgreSQL runs it (bounded)
                    if [r for r in busy_sessions(rds) if marker in r[2]["stringValue"]]:
                        break
                    time.sleep(0.02)
            for _ in range(250):  # hung up: gone from PostgreSQL shortly after (bounded)
                if not [r for r in busy_sessions(rds) if marker in r[2]["stringValue"]]:
                    break
                time.sleep(0.02)
            assert not [r for r in busy_sessions(rds) if marker in r[2]["stringValue"]]
        assert run(rds, "SELECT 1")["records"] == [[{"longValue": 1}]]


# -- a batch's work is bounded before any SQL runs ----------------------------------------------


def test_a_batch_too_large_to_prepare_is_refused_before_anything_runs(rds, endpoint):
    name = table("huge_batch")
    run(rds, f"CREATE TABLE {name} (n int)")
    sql = f"INSERT INTO {name} SELECT 1 /* {'x' * 60_000} */"
    sets = [[]] * 400  # 400 preparations of 60,000 characters: minutes, before the limit
    status, error, payload = call(endpoint, "/BatchExecute", {**IN_ALEX, "sql": sql, "parameterSets": sets})
    assert (status, error) == (400, "ValidationException")
    assert "parameterSets" in payload["message"]
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 0}]]


def test_a_4_mib_batch_of_empty_sets_is_refused_before_anything_runs(rds, endpoint):
    name = table("empty_sets")
    run(rds, f"CREATE TABLE {name} (n int)")
    sql = f"INSERT INTO {name} VALUES (1)"
    request = {**IN_ALEX, "sql": sql, "parameterSets": [[]] * 1_300_000}
    body = json.dumps(request, separators=(",", ":")).encode()
    assert len(body) < 4 * 1024 * 1024
    status, error, payload = post(endpoint, "/BatchExecute", body)
    assert (status, error) == (400, "ValidationException")
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 0}]]


def test_a_batch_within_the_bound_is_still_ended_by_the_statement_timeout(rds, endpoint):
    name = table("slow_batch")
    run(rds, f"CREATE TABLE {name} (n int)")
    sets = [[{"name": "n", "value": {"longValue": n}}] for n in range(20)]
    code, _ = error_of(lambda: rds.batch_execute_statement(
        **IN_ALEX, sql=f"INSERT INTO {name} SELECT :n FROM pg_sleep(0.1)", parameterSets=sets
    ))
    assert code == "StatementTimeoutException"
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 0}]]
    assert_pool_whole(endpoint)


# -- the smaller ones (item 5) ------------------------------------------------------------------


def test_a_batch_with_a_null_transaction_id_is_atomic_as_without_the_key(rds, endpoint):
    name = table("null_tx")
    run(rds, f"CREATE TABLE {name} (n int PRIMARY KEY)")
    sets = [[{"name": "n", "value": {"longValue": n}}] for n in (1, 2, 2)]
    request = {**IN_ALEX, "sql": f"INSERT INTO {name} VALUES (:n)", "parameterSets": sets,
               "transactionId": None}
    status, error, _ = call(endpoint, "/BatchExecute", request)
    assert (status, error) == (400, "DatabaseErrorException")
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 0}]]


def test_a_batch_that_ends_its_own_session_is_a_database_error(rds, endpoint):
    code, message = error_of(lambda: rds.batch_execute_statement(
        **IN_ALEX, sql="SELECT pg_terminate_backend(pg_backend_pid())", parameterSets=[[]]
    ))
    assert code == "DatabaseErrorException" and "SQLState: 57P01" in message
    assert_pool_whole(endpoint)


@pytest.mark.parametrize("in_transaction", [False, True])
def test_copy_from_stdin_is_refused_as_the_jdbc_driver_refuses_it(rds, in_transaction):
    name = table("copy_in")
    run(rds, f"CREATE TABLE {name} (n int)")
    transaction = {"transactionId": begin(rds)} if in_transaction else {}
    code, message = error_of(lambda: run(rds, f"COPY {name} FROM STDIN", **transaction))
    assert code == "DatabaseErrorException"
    assert message == (
        "ERROR: COPY from stdin failed: COPY commands are only supported using the CopyManager "
        "API.; SQLState: 57014"
    )
    if in_transaction:  # aborted, as PostgreSQL aborts it, and it still ends
        code, message = error_of(lambda: run(rds, "SELECT 1", **transaction))
        assert "SQLState: 25P02" in message
        assert rds.rollback_transaction(**TARGET, **transaction)["transactionStatus"] == (
            "Rollback Complete"
        )
    assert run(rds, "SELECT 1")["records"] == [[{"longValue": 1}]]


@pytest.mark.parametrize("in_transaction", [False, True])
def test_copy_to_stdout_is_refused_and_leaves_the_transaction_usable(rds, in_transaction):
    transaction = {"transactionId": begin(rds)} if in_transaction else {}
    code, message = error_of(
        lambda: run(rds, "COPY (SELECT generate_series(1, 1000)) TO STDOUT", **transaction)
    )
    assert error_of(lambda: run(rds, "COPY (SELECT 1 WHERE false) TO STDOUT", **transaction)) == (
        code, message
    )
    assert (code, message) == (
        "DatabaseErrorException",
        "ERROR: COPY commands are only supported using the CopyManager API.; SQLState: 0A000",
    )
    assert run(rds, "SELECT 1", **transaction)["records"] == [[{"longValue": 1}]]
    if in_transaction:
        rds.commit_transaction(**TARGET, **transaction)


@pytest.mark.parametrize("ending", ["COMMIT", "ROLLBACK", "END"])
def test_sql_that_ends_the_transaction_does_not_leave_later_calls_autocommitting(rds, ending):
    name = table("ended")
    run(rds, f"CREATE TABLE {name} (n int)")
    transaction = begin(rds)
    run(rds, f"INSERT INTO {name} VALUES (1)", transactionId=transaction)
    run(rds, ending, transactionId=transaction)
    run(rds, f"INSERT INTO {name} VALUES (2)", transactionId=transaction)
    assert rds.rollback_transaction(**TARGET, transactionId=transaction)["transactionStatus"] == (
        "Rollback Complete"
    )
    kept = [] if ending == "ROLLBACK" else [[{"longValue": 1}]]
    assert run(rds, f"SELECT n FROM {name} ORDER BY n")["records"] == kept


# -- a large result is read in pieces -----------------------------------------------------------

# Serves an endpoint in this process, asks it for a 1 GB result through boto3, and prints how far
# the process's peak resident memory grew (ru_maxrss, KiB on Linux): the server's side of the
# call runs in the same process. The connection arguments (password included) come on stdin.
MEMORY_PROBE = """
import json, resource, sys, threading
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from alex_db.tools.local.admission import Signer
from alex_db.tools.local.endpoint import DataApiEndpoint
from alex_db.tools.local.service import DataApi
from alex_db.tools.local.signatures import AccessKey
from alex_db.tools.shared.local_identity import CLUSTER_ARN, REGION, SECRET_ARN

info = json.load(sys.stdin)
api = DataApi(lambda database: {**info, "dbname": database}, CLUSTER_ARN, SECRET_ARN)
key = AccessKey("ALEXDBLOCALMEMORY001", "memory-test-secret", None, "the test")
endpoint = DataApiEndpoint(api, 0, Signer({key.key_id: key}.get, REGION))
threading.Thread(target=endpoint.serve_forever, args=(0.05,), daemon=True).start()
rds = boto3.client("rds-data", endpoint_url=endpoint.url, region_name="us-east-1",
                   aws_access_key_id=key.key_id, aws_secret_access_key=key.secret,
                   config=Config(retries={"max_attempts": 1}, read_timeout=120))
call = {"resourceArn": CLUSTER_ARN, "secretArn": SECRET_ARN, "database": "alex"}
rds.execute_statement(**call, sql="SELECT 1")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    rds.execute_statement(**call, sql=sys.argv[1])
    error = {}
except ClientError as failure:
    error = failure.response["Error"]
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"code": error.get("Code"), "message": error.get("Message"), "grown_kib": grown}))
"""


@pytest.mark.parametrize("formatted", [False, True])
def test_a_1_gb_result_is_refused_without_holding_it(local_postgres, formatted):
    import subprocess
    import sys

    from alex_db.tools.local.service import RESPONSE_TOO_LARGE
    from tests.local_support import ROOT

    one_gb = "SELECT repeat('x', 1000) AS filler FROM generate_series(1, 1000000)"
    probe = MEMORY_PROBE.replace('sql=sys.argv[1])', 'sql=sys.argv[1], formatRecordsAs="JSON")') \
        if formatted else MEMORY_PROBE
    answer = subprocess.run(
        [sys.executable, "-c", probe, one_gb],
        input=json.dumps(local_postgres.conninfo("alex")),
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=True,
    )
    outcome = json.loads(answer.stdout)
    assert (outcome["code"], outcome["message"]) == ("BadRequestException", RESPONSE_TOO_LARGE)
    assert outcome["grown_kib"] < 64 * 1024  # the result is 1 GB; the limit is 1 MiB (10 MB JSON)


def test_a_query_without_rows_still_describes_its_columns(rds):
    name = table("empty")
    run(rds, f"CREATE TABLE {name} (id int NOT NULL, label text)")
    result = run(rds, f"/* none */ SELECT id, label FROM {name}", includeResultMetadata=True)
    assert result["records"] == []
    assert [(c["name"], c["typeName"], c["nullable"]) for c in result["columnMetadata"]] == [
        ("id", "int4", 0), ("label", "text", 1)
    ]
    code, _ = error_of(lambda: run(rds, "SELECT 1 AS a, 2 AS a WHERE false", formatRecordsAs="JSON"))
    assert code == "BadRequestException"  # duplicate labels, known without a row


def test_select_into_is_a_command_and_streamed_rows_count_no_updates(rds):
    name = table("into")
    selected = run(rds, f"SELECT n INTO {name} FROM generate_series(1, 3) AS n")
    assert (selected["numberOfRecordsUpdated"], "records" in selected) == (0, False)
    rows = run(rds, f"SELECT n FROM {name} ORDER BY n")
    assert (rows["numberOfRecordsUpdated"], rows["records"]) == (
        0, [[{"longValue": 1}], [{"longValue": 2}], [{"longValue": 3}]]
    )
