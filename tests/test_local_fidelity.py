"""``alex-db local`` answering as AWS's Data API does on Serverless v2 (issue 17, items 5-10 and
11): error messages, compact JSON, the response limit inside a transaction, refused result types,
empty batches, strict ``typeHint`` formats, and what third-party clients' live suites found.
``test_local_connections`` has item 12.

Each rule's source is cited where it is implemented (``service.py``, ``results.py``,
``parameters.py``); these tests drive it through boto3's real ``rds-data`` client, or call the pure
function directly when the property needs thousands of inputs.
"""

from __future__ import annotations

import datetime
import decimal
import json

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alex_db.tools.local.errors import DataApiError
from alex_db.tools.local.named_parameters import rewrite
from alex_db.tools.local.parameters import HINT_FORMATS, bind
from alex_db.tools.local.results import compact_json
from tests.local_support import (
    IN_ALEX,
    TARGET,
    begin,
    error_of,
    run,
    table,
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOO_LARGE = ("BadRequestException", "Database returned more than the allowed response size limit")


def hinted(name: str, hint: str, text: str) -> dict:
    return {"name": name, "value": {"stringValue": text}, "typeHint": hint}


# -- 5. SQL errors: message; Hint; Position; SQLState -- and never the row-quoting Detail ----------


def test_an_error_with_a_position_carries_it_before_the_sqlstate(rds):
    assert error_of(lambda: run(rds, "SELECT * FROM nope")) == (
        "DatabaseErrorException",
        'ERROR: relation "nope" does not exist; Position: 15; SQLState: 42P01',
    )


def test_a_hint_comes_between_the_message_and_the_position(rds):
    """drizzle-team/drizzle-orm#2583 quotes this error from Serverless v2 in this order."""
    _, message = error_of(lambda: run(rds, "SELECT gen_random_uuid() = 'x'::text"))
    assert message == (
        "ERROR: operator does not exist: uuid = text; Hint: No operator matches the given name "
        "and argument types. You might need to add explicit type casts.; Position: 26; "
        "SQLState: 42883"
    )


def test_a_syntax_error_parses_as_the_db_api_drivers_expect(rds):
    """aurora-data-api raises ``ER_SYNTAX_ERR`` for this only when the message ends in
    ``Position: N; SQLState: 42601``."""
    _, message = error_of(lambda: run(rds, "selec * from table"))
    assert message == 'ERROR: syntax error at or near "selec"; Position: 1; SQLState: 42601'


def test_constraint_errors_leave_out_the_detail_that_quotes_row_values(rds):
    name = table("secret")
    run(rds, f"CREATE TABLE {name} (email text UNIQUE)")
    insert = f"INSERT INTO {name} VALUES (:e)"
    run(rds, insert, {"name": "e", "value": {"stringValue": "someone@example.com"}})
    code, message = error_of(
        lambda: run(rds, insert, {"name": "e", "value": {"stringValue": "someone@example.com"}})
    )
    assert (code, message) == (
        "DatabaseErrorException",
        f'ERROR: duplicate key value violates unique constraint "{name}_email_key"; '
        "SQLState: 23505",
    )


def test_the_position_counts_in_the_statement_with_bare_placeholders(rds):
    """``:a_long_parameter_name`` reaches PostgreSQL as ``$1`` (the Data API's JDBC driver sends
    the type beside the statement), so ``nope`` is the 12th character, as in
    ``SELECT $1, nope``: not where the local cast would put it."""
    _, message = error_of(
        lambda: run(rds, "SELECT :a_long_parameter_name, nope",
                    {"name": "a_long_parameter_name", "value": {"longValue": 1}})
    )
    assert message == 'ERROR: column "nope" does not exist; Position: 12; SQLState: 42703'


@given(st.text(alphabet=st.sampled_from("ab :'\"$-\n"), max_size=30))
def test_every_position_outside_a_cast_maps_to_the_same_character_without_casts(sql):
    with_casts, bare = rewrite(sql, lambda name: "::int8"), rewrite(sql)
    inside = {start + k for start, length in with_casts.casts for k in range(length)}
    for index, char in enumerate(with_casts.sql):
        if index not in inside:
            assert bare.sql[with_casts.position_without_casts(index + 1) - 1] == char


# -- 6. json and jsonb come back compact ------------------------------------------------------------


def test_json_values_come_back_compact_as_on_serverless_v2(rds):
    """aurora-data-api's live suite: a jsonb column reads back ``'{"x":0,"y":"0","z":[0,0,1]}'``."""
    result = run(
        rds,
        "SELECT '{\"x\": 0, \"y\": \"0\", \"z\": [0, 0, 1]}'::jsonb,"
        " '{ \"spaced key\" : \"a b\",\n \"n\": 1.50 }'::json,"
        " ARRAY['{\"a\": [1, 2]}'::jsonb]",
    )
    assert result["records"] == [[
        {"stringValue": '{"x":0,"y":"0","z":[0,0,1]}'},
        {"stringValue": '{"spaced key":"a b","n":1.50}'},
        {"arrayValue": {"stringValues": ['{"a":[1,2]}']}},
    ]]


def test_json_format_carries_the_same_compact_text(rds):
    result = run(rds, "SELECT '{\"a\": [1, 2]}'::jsonb AS doc", formatRecordsAs="JSON")
    assert json.loads(result["formattedRecords"]) == [{"doc": '{"a":[1,2]}'}]


JSON_DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(JSON_DOCUMENTS, st.sampled_from([None, 1, 4, "\t"]), st.booleans())
def test_compacting_removes_only_the_whitespace_between_tokens(document, indent, ascii_only):
    spaced = json.dumps(document, indent=indent, ensure_ascii=ascii_only)
    compact = json.dumps(document, separators=(",", ":"), ensure_ascii=ascii_only)
    assert compact_json(spaced) == compact


# -- 7. a response past the limit inside a transaction ends the transaction --------------------------


def test_an_oversized_response_inside_a_transaction_ends_it(rds):
    name = table("ended")
    run(rds, f"CREATE TABLE {name} (n int)")
    transaction = begin(rds)
    run(rds, f"INSERT INTO {name} VALUES (1)", transactionId=transaction)
    assert error_of(lambda: run(rds, "SELECT repeat('x', 1100000)", transactionId=transaction)) \
        == TOO_LARGE
    calls = [
        lambda: run(rds, "SELECT 1", transactionId=transaction),
        lambda: rds.commit_transaction(**TARGET, transactionId=transaction),
    ]
    for call in calls:
        assert error_of(call) == (
            "TransactionNotFoundException", f"Transaction {transaction} is not found"
        )
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 0}]]


def test_an_oversized_json_response_inside_a_transaction_ends_it_too(rds):
    transaction = begin(rds)
    assert error_of(
        lambda: run(rds, "SELECT repeat('x', 10000000) AS x", formatRecordsAs="JSON",
                    transactionId=transaction)
    ) == TOO_LARGE
    code, _ = error_of(lambda: rds.rollback_transaction(**TARGET, transactionId=transaction))
    assert code == "TransactionNotFoundException"


def test_other_errors_inside_a_transaction_leave_it_open(rds):
    transaction = begin(rds)
    code, _ = error_of(lambda: run(rds, "SELECT * FROM nope", transactionId=transaction))
    assert code == "DatabaseErrorException"
    assert rds.rollback_transaction(**TARGET, transactionId=transaction)["transactionStatus"]


# -- 8. result types the Data API refuses ----------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ("'08:00:2b:01:02:03'::macaddr", "macaddr"),
        ("int8range(1000000, 2000000)", "int8range"),
        ("daterange('2024-01-01', '2024-12-31')", "daterange"),
        ("tsrange('2024-01-01 00:00', '2024-12-31 23:59')", "tsrange"),
        ("ARRAY[int8range(1, 2)]", "_int8range"),
        ("'pg_class'::regclass", "regclass"),
        ("'int4'::regtype", "regtype"),
        ("relkind", '"CHAR"'),
    ],
)
def test_types_outside_aws_supported_list_are_unsupported_results(rds, expression, named):
    sql = f"SELECT {expression} FROM pg_class WHERE relname = 'pg_class'"
    assert error_of(lambda: run(rds, sql)) == (
        "UnsupportedResultException",
        f"The result contains the unsupported data type {named}.",
    )
    as_text = sql.replace(expression, f"({expression})::text")
    assert run(rds, as_text)["records"][0][0]["stringValue"]


def test_types_aws_returns_still_come_back(rds):
    """Its supported list, and the ranges data-api-client's live suite reads back."""
    result = run(rds, "SELECT '10.0.0.0/8'::cidr, '192.168.1.1'::inet, 'x'::char(3), "
                      "'a'::varchar, int4range(1, 10), numrange(0.0, 1.0), int4range(1, NULL)")
    assert result["records"] == [[
        {"stringValue": "10.0.0.0/8"}, {"stringValue": "192.168.1.1"}, {"stringValue": "x  "},
        {"stringValue": "a"}, {"stringValue": "[1,10)"}, {"stringValue": "[0.0,1.0)"},
        {"stringValue": "[1,)"},
    ]]


# -- 9. a batch without parameter sets runs nothing ----------------------------------------------


@pytest.mark.parametrize("sets", [[], None])
def test_a_batch_without_parameter_sets_runs_nothing(rds, sets):
    name = table("nobatch")
    run(rds, f"CREATE TABLE {name} (n int)")
    options = {} if sets is None else {"parameterSets": sets}
    result = rds.batch_execute_statement(sql=f"INSERT INTO {name} VALUES (1)", **IN_ALEX, **options)
    assert result["updateResults"] == []
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 0}]]


def test_a_batch_with_one_empty_set_runs_once(rds):
    """The model's own advice for a statement without parameters: one empty parameter set."""
    name = table("onebatch")
    run(rds, f"CREATE TABLE {name} (n int)")
    result = rds.batch_execute_statement(
        sql=f"INSERT INTO {name} VALUES (1)", parameterSets=[[]], **IN_ALEX
    )
    assert result["updateResults"] == [{"generatedFields": []}]
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 1}]]


# -- 10. typeHint values in AWS's documented formats only ------------------------------------------


@pytest.mark.parametrize(
    ("hint", "text"),
    [
        ("TIMESTAMP", "2026-07-22T02:17:21.804Z"),
        ("TIMESTAMP", "now"),
        ("TIMESTAMP", "2026-07-22 02:17:21.8041234567"),
        ("TIMESTAMP", "2026-07-22"),
        ("DATE", "tomorrow"),
        ("DATE", "Jan 2 2025"),
        ("DATE", "2025-1-2"),
        ("TIME", "02:17"),
        ("TIME", "allballs"),
        ("UUID", "{6f1f3a8e-1b2c-4d5e-8f90-0123456789ab}"),
        ("UUID", "6f1f3a8e1b2c4d5e8f900123456789ab"),
        ("DECIMAL", "NaN"),
        ("DECIMAL", " 1.5"),
    ],
)
def test_lenient_postgresql_forms_are_refused_as_aws_refuses_them(rds, hint, text):
    code, message = error_of(lambda: run(rds, "SELECT :v", hinted("v", hint, text)))
    assert code == "DatabaseErrorException"
    assert message.startswith("ERROR: invalid input syntax for type ")
    assert f': "{text}"; SQLState: ' in message


def test_documented_forms_are_accepted(rds):
    values = [
        ("DATE", "2025-01-02", "date"),
        ("TIME", "02:17:21.804", "time without time zone"),
        ("TIMESTAMP", "2026-07-22 02:17:21", "timestamp without time zone"),
        ("UUID", "6F1F3A8E-1B2C-4D5E-8F90-0123456789AB", "uuid"),
        ("DECIMAL", "-1.5e3", "numeric"),
        ("JSON", '{"a": 1}', "json"),
    ]
    parameters = [hinted(f"v{i}", hint, text) for i, (hint, text, _) in enumerate(values)]
    types = ", ".join(f"pg_typeof(:v{i})::text" for i in range(len(values)))
    result = run(rds, f"SELECT {types}", *parameters)
    assert result["records"] == [[{"stringValue": sql_type} for _, _, sql_type in values]]


@given(hint=st.sampled_from(sorted(HINT_FORMATS)), text=st.text(max_size=40))
@example(hint="TIMESTAMP", text="2026-07-22T02:17:21.804Z")
@example(hint="DATE", text="٢٠٢٥-٠١-٠٢")  # Arabic-Indic digits: \d would take them
def test_any_hinted_text_binds_only_in_its_format_and_is_otherwise_one_error(hint, text):
    parameter = hinted("v", hint, text)
    try:
        bind("SELECT :v", [parameter])
    except DataApiError as error:
        assert not HINT_FORMATS[hint][0].fullmatch(text)
        assert error.code == "DatabaseErrorException"
        assert error.message.startswith("ERROR: invalid input syntax for type ")
        assert "\n" not in error.message
    else:
        assert HINT_FORMATS[hint][0].fullmatch(text)


def _fraction(microsecond: int) -> str:
    """Up to three digits, written as PostgreSQL writes them back (no trailing zeros)."""
    digits = f"{microsecond // 1000:03d}".rstrip("0")
    return f".{digits}" if digits else ""


DATES = st.dates(min_value=datetime.date(1, 1, 1)).map(lambda d: f"{d.year:04d}-{d:%m-%d}")
TIMES = st.times().map(lambda t: f"{t:%H:%M:%S}{_fraction(t.microsecond)}")
VALID = st.one_of(
    st.tuples(st.just("DATE"), DATES),
    st.tuples(st.just("TIME"), TIMES),
    st.tuples(st.just("TIMESTAMP"), st.tuples(DATES, TIMES).map(" ".join)),
    st.tuples(st.just("UUID"), st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())),
    st.tuples(
        st.just("DECIMAL"),
        st.decimals(min_value=-(10**30), max_value=10**30, allow_nan=False, places=6).map(str),
    ),
)


@FAST
@given(VALID)
def test_valid_hinted_values_round_trip_through_postgresql(rds, hint_and_text):
    hint, text = hint_and_text
    (field,) = run(rds, "SELECT :v", hinted("v", hint, text))["records"][0]
    back = field["stringValue"]
    if hint == "DECIMAL":
        assert decimal.Decimal(back) == decimal.Decimal(text)
    else:
        assert back == text.lower() if hint == "UUID" else back == text


@FAST
@given(hint=st.sampled_from(sorted(HINT_FORMATS) + ["JSON"]), text=st.text(max_size=30))
def test_any_hinted_text_through_the_endpoint_is_an_answer_or_one_error_never_a_500(
    rds, hint, text
):
    try:
        run(rds, "SELECT :v::text", hinted("v", hint, text))
    except ClientError as error:
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error.response["Error"]["Code"] == "DatabaseErrorException"


# -- 11. found by third-party clients' live suites and Serverless v2 reports ------------------------


def test_committing_a_transaction_with_a_failed_statement_answers_committed_and_keeps_nothing(rds):
    """Found by aurora-data-api's live suite, which commits after catching a SQL error and whose
    client raises unless the status is "Transaction Committed"; PostgreSQL rolls it back."""
    name = table("aborted")
    run(rds, f"CREATE TABLE {name} (n int)")
    transaction = begin(rds)
    run(rds, f"INSERT INTO {name} VALUES (1)", transactionId=transaction)
    code, _ = error_of(lambda: run(rds, "SELECT * FROM nope", transactionId=transaction))
    assert code == "DatabaseErrorException"
    status = rds.commit_transaction(**TARGET, transactionId=transaction)["transactionStatus"]
    assert status == "Transaction Committed"
    assert run(rds, f"SELECT count(*) FROM {name}")["records"] == [[{"longValue": 0}]]


def test_a_plain_string_parameter_is_text_as_on_serverless_v2(rds):
    """drizzle-team/drizzle-orm#2583 and #5820 (a plain ``stringValue`` compared with a uuid and
    an enum column on Serverless v2): the parameter is ``text``."""
    _, message = error_of(
        lambda: run(rds, "SELECT gen_random_uuid() = :v", {"name": "v", "value": {"stringValue": "x"}})
    )
    assert message == (
        "ERROR: operator does not exist: uuid = text; Hint: No operator matches the given name "
        "and argument types. You might need to add explicit type casts.; Position: 26; "
        "SQLState: 42883"
    )
