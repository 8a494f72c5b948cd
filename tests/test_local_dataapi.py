"""``alex-db local``'s Data API, driven through boto3's real ``rds-data`` client.

One PostgreSQL for the session (``local_postgres``), one endpoint for this module; each test
uses its own table names.
"""

from __future__ import annotations

import json

import pytest

from alex_db.tools.local.service import IDLE_TRANSACTION_SECONDS, LONGEST_TRANSACTION_SECONDS
from tests.local_support import (
    IN_ALEX,
    TARGET,
    FakeClock,
    begin,
    error_of,
    rds_data_client,
    run,
    serving,
    table,
)


@pytest.fixture(scope="module")
def clock():
    return FakeClock()


@pytest.fixture(scope="module")
def rds(local_postgres, clock):
    with serving(local_postgres, clock=clock) as (_, url):
        yield rds_data_client(url)


def p(name: str, typehint: str | None = None, **value) -> dict:
    parameter = {"name": name, "value": value}
    if typehint:
        parameter["typeHint"] = typehint
    return parameter


# -- parameters in: every Field member and every typeHint -------------------------------------


@pytest.mark.parametrize(
    ("value", "sql_type"),
    [
        ({"stringValue": "héllo"}, "text"),
        ({"longValue": 2**62}, "bigint"),
        ({"doubleValue": 2.5}, "double precision"),
        ({"booleanValue": False}, "boolean"),
        ({"blobValue": b"\x00\xffbytes"}, "bytea"),
    ],
)
def test_each_field_member_arrives_with_the_type_aws_sends_and_comes_back(rds, value, sql_type):
    result = run(rds, "SELECT :v AS v, pg_typeof(:v)::text AS t", p("v", **value))
    assert result["records"] == [[value, {"stringValue": sql_type}]]


def test_is_null_binds_an_untyped_null(rds):
    result = run(rds, "SELECT :v::int IS NULL AS missing", p("v", isNull=True))
    assert result["records"] == [[{"booleanValue": True}]]


def test_array_parameters_are_refused_as_the_model_says(rds):
    code, message = error_of(
        lambda: run(rds, "SELECT :v", p("v", arrayValue={"longValues": [1, 2]}))
    )
    assert code == "BadRequestException"
    assert "Array parameters are not supported." in message


def test_every_type_hint_reaches_its_column_and_reads_back_as_aws_formats_it(rds):
    name = table("hints")
    run(
        rds,
        f"CREATE TABLE {name} (d date, t time, ts timestamp, n numeric(12, 4), j jsonb, u uuid)",
    )
    values = {
        "d": ("DATE", "2024-02-29"),
        "t": ("TIME", "13:45:07.25"),
        "ts": ("TIMESTAMP", "2024-02-29 13:45:07.123"),
        "n": ("DECIMAL", "12345678.1234"),
        "j": ("JSON", '{"a":[1,2.5,"x"]}'),
        "u": ("UUID", "6f1f3a8e-1b2c-4d5e-8f90-0123456789ab"),
    }
    result = run(
        rds,
        f"INSERT INTO {name} VALUES (:d, :t, :ts, :n, :j, :u)",
        *[p(column, hint, stringValue=text) for column, (hint, text) in values.items()],
    )
    assert result["numberOfRecordsUpdated"] == 1
    rows = run(rds, f"SELECT d, t, ts, n, j, u FROM {name}")["records"]
    assert rows == [[{"stringValue": text} for _, text in values.values()]]


def test_a_plain_string_into_a_uuid_column_fails_as_on_aws(rds):
    name = table("strict")
    run(rds, f"CREATE TABLE {name} (u uuid)")
    code, message = error_of(
        lambda: run(
            rds,
            f"INSERT INTO {name} VALUES (:u)",
            p("u", stringValue="6f1f3a8e-1b2c-4d5e-8f90-0123456789ab"),
        )
    )
    assert code == "DatabaseErrorException"
    assert message == (
        'ERROR: column "u" is of type uuid but expression is of type text; '
        "Hint: You will need to rewrite or cast the expression.; Position: 37; SQLState: 42804"
    )


def test_placeholders_inside_literals_comments_and_casts_are_left_alone(rds):
    result = run(
        rds,
        "SELECT ':x' AS a, $$:x$$ AS b, :x::int + 1 AS c -- :x\n /* :x */",
        p("x", stringValue="41"),
    )
    assert result["records"] == [[{"stringValue": ":x"}, {"stringValue": ":x"}, {"longValue": 42}]]


def test_a_parameter_missing_from_the_call_is_a_database_error_naming_it(rds):
    code, message = error_of(lambda: run(rds, "SELECT :present, :absent", p("present", longValue=1)))
    assert (code, message) == (
        "DatabaseErrorException",
        "ERROR: No value specified for parameter :absent; SQLState: 22023",
    )


def test_an_unknown_type_hint_is_refused_with_the_allowed_ones(rds):
    code, message = error_of(lambda: run(rds, "SELECT :v", p("v", "MONEY", stringValue="1")))
    assert code == "BadRequestException"
    assert "parameter 'v': typeHint 'MONEY' is not one of DATE, TIME, TIMESTAMP, DECIMAL, JSON, UUID" in message


# -- results out -------------------------------------------------------------------------------


RESULT_SQL = (
    "SELECT 7::int2, 7::int4, 9007199254740993::int8, 1.5::float4, 2.25::float8, 10.50::numeric,"
    " true, '\\x00ff'::bytea, 'text', 'c8a4f7d2-0d4b-4f7e-9a61-5b2f0b7c9e10'::uuid,"
    " '{\"b\": 1}'::json, '{\"b\": 1}'::jsonb, '2024-01-02'::date, '03:04:05'::time,"
    " '2024-01-02 03:04:05.5'::timestamp, '2024-01-02 03:04:05+02'::timestamptz,"
    " ARRAY[1, NULL, 3]::int8[], ARRAY[1.5]::float8[], ARRAY[true, false], ARRAY['a', NULL],"
    " ARRAY[]::int4[], ARRAY[1.10]::numeric[], NULL::text"
)
RESULT_FIELDS = [
    {"longValue": 7},
    {"longValue": 7},
    {"longValue": 9007199254740993},
    {"doubleValue": 1.5},
    {"doubleValue": 2.25},
    {"stringValue": "10.50"},
    {"booleanValue": True},
    {"blobValue": b"\x00\xff"},
    {"stringValue": "text"},
    {"stringValue": "c8a4f7d2-0d4b-4f7e-9a61-5b2f0b7c9e10"},
    {"stringValue": '{"b":1}'},
    {"stringValue": '{"b":1}'},
    {"stringValue": "2024-01-02"},
    {"stringValue": "03:04:05"},
    {"stringValue": "2024-01-02 03:04:05.5"},
    {"stringValue": "2024-01-02 01:04:05"},
    {"arrayValue": {"longValues": [1, None, 3]}},
    {"arrayValue": {"doubleValues": [1.5]}},
    {"arrayValue": {"booleanValues": [True, False]}},
    {"arrayValue": {"stringValues": ["a", None]}},
    {"arrayValue": {"longValues": []}},
    {"arrayValue": {"stringValues": ["1.10"]}},
    {"isNull": True},
]


def test_postgresql_types_map_to_fields_as_aws_documents(rds):
    assert run(rds, RESULT_SQL)["records"] == [RESULT_FIELDS]


def test_json_format_gives_the_same_values_keyed_by_label(rds):
    result = run(
        rds,
        "SELECT 1 AS n, 10.50::numeric AS d, 'x' AS s, NULL::int AS z, ARRAY[1, 2] AS a,"
        " true AS b, '2024-01-02 03:04:05'::timestamp AS t",
        formatRecordsAs="JSON",
    )
    assert "records" not in result
    assert json.loads(result["formattedRecords"]) == [
        {"n": 1, "d": "10.50", "s": "x", "z": None, "a": [1, 2], "b": True,
         "t": "2024-01-02 03:04:05"}
    ]


def test_result_set_options_return_decimals_as_numbers_and_longs_as_strings(rds):
    result = run(
        rds,
        "SELECT 12::numeric, 1.25::numeric, 5::int8",
        resultSetOptions={"decimalReturnType": "DOUBLE_OR_LONG", "longReturnType": "STRING"},
    )
    assert result["records"] == [[{"longValue": 12}, {"doubleValue": 1.25}, {"stringValue": "5"}]]


def test_a_multidimensional_array_is_an_unsupported_result(rds):
    code, _ = error_of(lambda: run(rds, "SELECT ARRAY[[1, 2], [3, 4]]"))
    assert code == "UnsupportedResultException"


def test_column_metadata_describes_table_columns_like_the_jdbc_driver(rds):
    name = table("meta")
    run(
        rds,
        f"CREATE TABLE {name} (id serial PRIMARY KEY, price numeric(10, 2), label varchar(20))",
    )
    result = run(rds, f"SELECT id, price, label, 1 + 1 AS two FROM {name}",
                 includeResultMetadata=True)
    by_name = {column["name"]: column for column in result["columnMetadata"]}
    assert (by_name["id"]["typeName"], by_name["id"]["type"]) == ("serial", 4)
    assert by_name["id"]["isAutoIncrement"] is True
    assert by_name["id"]["nullable"] == 0
    assert by_name["id"]["tableName"] == name
    assert by_name["id"]["schemaName"] == "public"
    assert (by_name["price"]["precision"], by_name["price"]["scale"]) == (10, 2)
    assert by_name["price"]["nullable"] == 1
    assert (by_name["label"]["type"], by_name["label"]["precision"]) == (12, 20)
    assert by_name["label"]["isCaseSensitive"] is True
    assert by_name["two"]["nullable"] == 2
    assert by_name["two"]["tableName"] == ""
    assert [column["label"] for column in result["columnMetadata"]] == ["id", "price", "label", "two"]
    assert by_name["price"]["isCaseSensitive"] is False


def test_metadata_types_follow_pgjdbc_for_enums_uuids_and_arrays(rds):
    mood = table("mood")
    run(rds, f"CREATE TYPE {mood} AS ENUM ('calm', 'busy')")
    result = run(
        rds,
        f"SELECT 'calm'::{mood} AS m, gen_random_uuid() AS u, ARRAY[1.5]::float8[] AS a",
        includeResultMetadata=True,
    )
    m, u, a = result["columnMetadata"]
    assert (m["type"], m["typeName"]) == (12, mood)
    assert (u["type"], u["typeName"], u["isCaseSensitive"]) == (1111, "uuid", True)
    assert (a["type"], a["typeName"], a["arrayBaseColumnType"]) == (2003, "_float8", 8)
    assert result["records"][0][0] == {"stringValue": "calm"}


def test_updates_count_rows_and_returning_gives_records(rds):
    name = table("count")
    run(rds, f"CREATE TABLE {name} (id serial, n int)")
    inserted = run(rds, f"INSERT INTO {name} (n) VALUES (1), (2), (3) RETURNING id")
    assert inserted["numberOfRecordsUpdated"] == 3
    assert inserted["records"] == [[{"longValue": 1}], [{"longValue": 2}], [{"longValue": 3}]]
    assert run(rds, f"UPDATE {name} SET n = n + 1 WHERE n > 1")["numberOfRecordsUpdated"] == 2
    assert run(rds, f"SELECT * FROM {name}")["numberOfRecordsUpdated"] == 0
    assert run(rds, f"DELETE FROM {name}")["numberOfRecordsUpdated"] == 3


# -- batch ---------------------------------------------------------------------------------------


def test_batch_runs_each_parameter_set_and_generated_fields_stay_empty_as_on_aws(rds):
    """"For Aurora PostgreSQL, the generated fields object is empty" (AWS's comparison of Data
    API behaviours for Serverless v2 and provisioned clusters), even with RETURNING."""
    name = table("batch")
    run(rds, f"CREATE TABLE {name} (id serial PRIMARY KEY, n int8 UNIQUE)")
    result = rds.batch_execute_statement(
        sql=f"INSERT INTO {name} (n) VALUES (:n) RETURNING id",
        parameterSets=[[p("n", longValue=n)] for n in (10, 20, 30)],
        **IN_ALEX,
    )
    assert result["updateResults"] == [{"generatedFields": []}] * 3
    assert run(rds, f"SELECT n FROM {name} ORDER BY id")["records"] == [
        [{"longValue": n}] for n in (10, 20, 30)
    ]


def test_a_failing_batch_outside_a_transaction_changes_nothing(rds):
    name = table("atomic")
    run(rds, f"CREATE TABLE {name} (n int8 UNIQUE)")
    code, message = error_of(
        lambda: rds.batch_execute_statement(
            sql=f"INSERT INTO {name} (n) VALUES (:n)",
            parameterSets=[[p("n", longValue=1)], [p("n", longValue=1)]],
            **IN_ALEX,
        )
    )
    assert code == "DatabaseErrorException"
    assert "duplicate key value violates unique constraint" in message
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 0}]]


# -- transactions ------------------------------------------------------------------------------


def test_a_transaction_sees_its_own_writes_and_others_only_after_commit(rds):
    name = table("tx")
    run(rds, f"CREATE TABLE {name} (n int)")
    transaction = begin(rds)
    run(rds, f"INSERT INTO {name} VALUES (1)", transactionId=transaction)
    count = f"SELECT count(*) FROM {name}"
    assert run(rds, count, transactionId=transaction)["records"] == [[{"longValue": 1}]]
    assert run(rds, count)["records"] == [[{"longValue": 0}]]
    status = rds.commit_transaction(**TARGET, transactionId=transaction)["transactionStatus"]
    assert status == "Transaction Committed"
    assert run(rds, count)["records"] == [[{"longValue": 1}]]
    code, _ = error_of(lambda: run(rds, count, transactionId=transaction))  # not reusable
    assert code == "TransactionNotFoundException"


def test_rollback_discards_and_the_id_is_then_unknown(rds):
    name = table("rollback")
    run(rds, f"CREATE TABLE {name} (n int)")
    transaction = begin(rds)
    run(rds, f"INSERT INTO {name} VALUES (1)", transactionId=transaction)
    status = rds.rollback_transaction(**TARGET, transactionId=transaction)["transactionStatus"]
    assert status == "Rollback Complete"
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 0}]]
    code, _ = error_of(lambda: run(rds, "SELECT 1", transactionId=transaction))
    assert code == "TransactionNotFoundException"


@pytest.mark.parametrize("operation", ["execute", "commit", "rollback"])
def test_unknown_transaction_ids_are_transaction_not_found(rds, operation):
    calls = {
        "execute": lambda: run(rds, "SELECT 1", transactionId="no-such-id"),
        "commit": lambda: rds.commit_transaction(**TARGET, transactionId="no-such-id"),
        "rollback": lambda: rds.rollback_transaction(**TARGET, transactionId="no-such-id"),
    }
    assert error_of(calls[operation]) == (
        "TransactionNotFoundException",
        "Transaction no-such-id is not found",
    )


def test_isolation_is_read_committed_unless_the_transaction_sets_another(rds):
    transaction = begin(rds)
    show = "SELECT current_setting('transaction_isolation')"
    assert run(rds, show, transactionId=transaction)["records"] == [[{"stringValue": "read committed"}]]
    rds.rollback_transaction(**TARGET, transactionId=transaction)
    transaction = begin(rds)
    run(rds, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", transactionId=transaction)
    assert run(rds, show, transactionId=transaction)["records"] == [[{"stringValue": "serializable"}]]
    rds.commit_transaction(**TARGET, transactionId=transaction)


def test_an_idle_transaction_is_rolled_back_after_three_minutes(rds, clock):
    name = table("idle")
    run(rds, f"CREATE TABLE {name} (n int)")
    transaction = begin(rds)
    run(rds, f"INSERT INTO {name} VALUES (1)", transactionId=transaction)
    clock.advance(179)
    run(rds, "SELECT 1", transactionId=transaction)  # still alive: each call renews it
    clock.advance(181)
    code, _ = error_of(lambda: run(rds, "SELECT 1", transactionId=transaction))
    assert code == "TransactionNotFoundException"
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 0}]]


def test_no_transaction_outlives_24_hours_even_when_busy(local_postgres):
    clock = FakeClock()
    # Only the total limit under test: an idle limit that never trips.
    with serving(local_postgres, clock=clock, idle_transaction_seconds=10**9) as (_, url):
        rds = rds_data_client(url)
        transaction = begin(rds)
        clock.advance(LONGEST_TRANSACTION_SECONDS - 1)
        run(rds, "SELECT 1", transactionId=transaction)
        clock.advance(2)
        code, _ = error_of(lambda: rds.commit_transaction(**TARGET, transactionId=transaction))
    assert code == "TransactionNotFoundException"


def test_the_limits_are_aws_documented_ones():
    assert (IDLE_TRANSACTION_SECONDS, LONGEST_TRANSACTION_SECONDS) == (180, 24 * 3600)


# -- errors and limits ---------------------------------------------------------------------------


def test_sql_errors_carry_postgresql_message_and_sqlstate(rds):
    assert error_of(lambda: run(rds, "SELECT * FROM no_such_table")) == (
        "DatabaseErrorException",
        'ERROR: relation "no_such_table" does not exist; Position: 15; SQLState: 42P01',
    )


def test_leaving_out_the_database_fails_as_on_aws(rds):
    code, message = error_of(lambda: rds.execute_statement(sql="SELECT 1", **TARGET))
    assert (code, message) == (
        "DatabaseErrorException",
        'ERROR: database "alexadmin" does not exist; SQLState: 3D000',
    )


def test_another_cluster_arn_is_refused(rds):
    other = "arn:aws:rds:us-east-1:123456789012:cluster:alex-aurora-cluster"
    code, message = error_of(
        lambda: rds.execute_statement(
            sql="SELECT 1", resourceArn=other, secretArn=TARGET["secretArn"], database="alex"
        )
    )
    assert code == "HttpEndpointNotEnabledException"
    assert other in message


def test_another_secret_is_refused_and_the_secret_name_is_accepted(rds):
    code, _ = error_of(
        lambda: rds.execute_statement(
            sql="SELECT 1", resourceArn=TARGET["resourceArn"], secretArn="arn:aws:secretsmanager:"
            "us-east-1:000000000000:secret:other-AbCdEf", database="alex"
        )
    )
    assert code == "SecretsErrorException"
    name = TARGET["secretArn"].rsplit(":", 1)[-1]
    result = rds.execute_statement(
        sql="SELECT 1", resourceArn=TARGET["resourceArn"], secretArn=name, database="alex"
    )
    assert result["records"] == [[{"longValue": 1}]]


def test_responses_over_one_mib_are_refused_with_aws_message(rds):
    assert run(rds, "SELECT repeat('x', 1000000)")["records"][0][0]["stringValue"] == "x" * 1000000
    assert error_of(lambda: run(rds, "SELECT repeat('x', 1100000)")) == (
        "BadRequestException",
        "Database returned more than the allowed response size limit",
    )


def test_the_password_never_appears_in_a_response(rds, local_postgres):
    result = run(rds, "SELECT current_user, current_setting('password_encryption')")
    assert result["records"] == [[{"stringValue": "alexadmin"}, {"stringValue": "scram-sha-256"}]]
    _, message = error_of(lambda: rds.execute_statement(sql="SELECT 1", **TARGET, database="nope"))
    assert local_postgres.password not in json.dumps(result, default=str) + message


# -- fidelity to AWS's documented Serverless v2 / provisioned behaviour --------------------------
# Aurora User Guide, "Comparing Amazon RDS Data API behaviors for Aurora Serverless v2 and
# provisioned clusters with Aurora Serverless v1 clusters" and "Processing Amazon RDS Data API
# query results in JSON format".


@pytest.mark.parametrize(
    "sql", ["SELECT 1; SELECT 2", "CREATE TABLE {t} (n int); INSERT INTO {t} VALUES (1)"]
)
def test_multistatements_are_refused_and_nothing_runs(rds, sql):
    name = table("multi")
    assert error_of(lambda: run(rds, sql.format(t=name))) == (
        "ValidationException",
        "Multistatements aren't supported.",
    )
    code, _ = error_of(lambda: run(rds, f"SELECT * FROM {name}"))
    assert code == "DatabaseErrorException"  # the first statement did not run either


def test_one_statement_with_a_trailing_semicolon_or_a_function_body_is_one_statement(rds):
    assert run(rds, "SELECT 1;")["records"] == [[{"longValue": 1}]]
    name = table("atomic_fn")
    run(rds, f"CREATE FUNCTION {name}() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 41 + 1; END")
    assert run(rds, f"SELECT {name}()")["records"] == [[{"longValue": 42}]]


def test_the_schema_parameter_is_refused(rds):
    assert error_of(lambda: run(rds, "SELECT 1", schema="public")) == (
        "ValidationException",
        "The schema parameter isn't supported",
    )


def test_a_second_call_on_a_busy_transaction_fails_at_once(rds, local_postgres):
    import threading

    import psycopg

    transaction = begin(rds)
    # The transaction's call waits on an advisory lock we hold, so it is running for as long as
    # the test needs, with no sleep.
    with psycopg.connect(**local_postgres.conninfo("alex"), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(4242)")
        waiting = threading.Thread(
            target=run, args=(rds, "SELECT pg_advisory_lock(4242)"), kwargs={
                "transactionId": transaction
            }
        )
        waiting.start()
        assert _until_waiting_on_the_lock(holder)
        calls = {
            "execute": lambda: run(rds, "SELECT 1", transactionId=transaction),
            "commit": lambda: rds.commit_transaction(**TARGET, transactionId=transaction),
            "rollback": lambda: rds.rollback_transaction(**TARGET, transactionId=transaction),
        }
        for call in calls.values():
            assert error_of(call) == (
                "DatabaseErrorException", "Transaction is still running a query"
            )
        holder.execute("SELECT pg_advisory_unlock(4242)")
        waiting.join()
    # The refused commit and rollback did not end the transaction.
    assert rds.commit_transaction(**TARGET, transactionId=transaction)["transactionStatus"]


def _until_waiting_on_the_lock(holder) -> bool:
    import time

    for _ in range(1000):
        waiting = holder.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()[0]
        if waiting:
            return True
        time.sleep(0.005)
    return False


def test_json_format_leaves_out_column_metadata(rds):
    result = run(rds, "SELECT 1 AS n", formatRecordsAs="JSON", includeResultMetadata=True)
    assert json.loads(result["formattedRecords"]) == [{"n": 1}]
    assert "columnMetadata" not in result


def test_json_format_refuses_duplicate_column_labels(rds):
    code, message = error_of(lambda: run(rds, "SELECT 1 AS n, 2 AS n", formatRecordsAs="JSON"))
    assert code == "BadRequestException"
    assert "n" in message and "unique" in message


def test_json_format_has_its_own_10_mb_limit(rds):
    two_mib = "SELECT repeat('x', 2 * 1024 * 1024) AS x"
    assert len(json.loads(run(rds, two_mib, formatRecordsAs="JSON")["formattedRecords"])[0]["x"]) \
        == 2 * 1024 * 1024
    assert error_of(lambda: run(rds, "SELECT repeat('x', 10000000) AS x", formatRecordsAs="JSON")) \
        == ("BadRequestException", "Database returned more than the allowed response size limit")


@pytest.mark.parametrize(
    ("sql", "type_name"),
    [
        ("SELECT 1.50::money", "money"),
        ("SELECT point(1, 2)", "point"),
        ("SELECT circle(point(0, 0), 1)", "circle"),
        ("SELECT ARRAY[1.5::money]", "_money"),
    ],
)
def test_monetary_and_geometric_types_are_unsupported_results(rds, sql, type_name):
    assert error_of(lambda: run(rds, sql)) == (
        "UnsupportedResultException",
        f"The result contains the unsupported data type {type_name}.",
    )
    assert run(rds, sql.replace("SELECT ", "SELECT (") + ")::text")["records"][0][0]["stringValue"]


def test_a_transaction_whose_session_was_terminated_is_gone_not_a_server_error(rds):
    transaction = begin(rds)
    code, message = error_of(
        lambda: run(rds, "SELECT pg_terminate_backend(pg_backend_pid())", transactionId=transaction)
    )
    assert (code, message) == (
        "DatabaseErrorException",
        "ERROR: terminating connection due to administrator command; SQLState: 57P01",
    )
    calls = [
        lambda: run(rds, "SELECT 1", transactionId=transaction),
        lambda: rds.commit_transaction(**TARGET, transactionId=transaction),
        lambda: rds.rollback_transaction(**TARGET, transactionId=transaction),
    ]
    for call in calls:
        assert error_of(call) == (
            "TransactionNotFoundException", f"Transaction {transaction} is not found"
        )
    assert run(rds, "SELECT 1")["records"] == [[{"longValue": 1}]]  # the pool recovered too


def test_an_oversized_result_is_refused_once_it_passes_the_limit_not_after_converting_it_all(
    local_postgres, monkeypatch
):
    """A careless SELECT over a big table must not make the local process convert (and hold)
    every row first: conversion stops once the records pass AWS's 1 MiB."""
    from alex_db.tools.local import service
    from alex_db.tools.local.errors import DataApiError
    from alex_db.tools.shared.local_identity import CLUSTER_ARN, SECRET_ARN

    converted = []

    def counting_fields(row, columns, options):
        converted.append(1)
        return service_fields(row, columns, options)

    service_fields = service.fields
    monkeypatch.setattr(service, "fields", counting_fields)
    api = service.DataApi(local_postgres.conninfo, CLUSTER_ARN, SECRET_ARN)
    try:
        with pytest.raises(DataApiError) as refused:
            api.handle("ExecuteStatement", {**IN_ALEX, "sql": "SELECT generate_series(1, 400000)"})
    finally:
        api.close()
    assert (refused.value.code, refused.value.message) == (
        "BadRequestException", "Database returned more than the allowed response size limit"
    )
    # Each record is [{"longValue": n}], at least 18 bytes: 1 MiB is passed within 60,000 rows.
    assert len(converted) < 60000


def test_bit_values_are_booleans_as_jdbc_bit_maps_to_boolean(rds):
    """AWS's type table: JDBC "BOOLEAN, BIT" -> BOOLEAN, and its supported arrays put BIT[] with
    BOOL[]; pgjdbc reports PostgreSQL's bit as java.sql.Types.BIT (TypeInfoCache)."""
    result = run(rds, "SELECT B'1', B'0'::bit(1), ARRAY[B'1', B'0', NULL]::bit(1)[]")
    assert result["records"] == [
        [{"booleanValue": True}, {"booleanValue": False},
         {"arrayValue": {"booleanValues": [True, False, None]}}]
    ]


def test_every_error_status_is_the_one_botocore_s_model_gives_the_shape():
    import botocore.session

    from alex_db.tools.local.errors import STATUS

    model = botocore.session.get_session().get_service_model("rds-data")
    declared = {shape.name: shape.metadata["error"]["httpStatusCode"] for shape in model.error_shapes}
    documented_only = {"ValidationException"}  # AWS's docs quote it; the model lacks it
    assert set(STATUS) - set(declared) == documented_only
    assert {code: STATUS[code] for code in set(STATUS) - documented_only} == {
        code: declared[code] for code in set(STATUS) - documented_only
    }
