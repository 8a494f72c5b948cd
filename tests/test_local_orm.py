"""``alex-db local`` answering what ORMs' Data API drivers send, as Aurora does (issue 24, and the
linear rewrite of issue 22 item 4): parameters named ``:1``, ``:2``, … (drizzle-orm, kysely-data-api),
TIMESTAMP hints with microseconds and the master user's database ``postgres``.

The rules and their sources are in ``named_parameters.py``, ``parameters.py`` and
``roles.py``; these tests drive them through boto3's real ``rds-data`` client, or call the pure
rewrite directly where a property needs thousands of inputs.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from alex_db.tools.local.named_parameters import rewrite
from alex_db.tools.local.roles import MASTER_USER
from tests.local_support import IN_ALEX, error_of, run, table


def numbered(*values: object) -> list[dict]:
    """Parameters named ``"1"``, ``"2"``, … as drizzle-orm's ``aws-data-api/pg`` driver names
    them, each a ``longValue`` or a ``stringValue``."""
    member = {int: "longValue", str: "stringValue"}
    return [
        {"name": str(number), "value": {member[type(value)]: value}}
        for number, value in enumerate(values, start=1)
    ]


# -- 1. parameter names as ORMs' drivers write them -----------------------------------------------


def test_numbered_parameters_insert_and_return_as_drizzle_sends_them(rds):
    name = table("drizzle")
    run(rds, f"CREATE TABLE {name} (id serial PRIMARY KEY, title text, likes int)")
    inserted = run(
        rds, f"insert into {name} values (default, :1, :2) returning id, title, likes",
        *numbered("hello", 4),
    )
    assert inserted["records"] == [[{"longValue": 1}, {"stringValue": "hello"}, {"longValue": 4}]]


def test_ten_is_the_parameter_named_10_not_1_followed_by_0(rds):
    result = run(rds, "SELECT :1, :10, :2 + :1", *numbered(*[100 * n for n in range(1, 11)]))
    assert result["records"] == [[{"longValue": 100}, {"longValue": 1000}, {"longValue": 300}]]


def test_a_numbered_parameter_used_twice_is_one_value(rds):
    result = run(rds, "SELECT :0 || :0", {"name": "0", "value": {"stringValue": "ab"}})
    assert result["records"] == [[{"stringValue": "abab"}]]


def test_colons_in_casts_strings_identifiers_comments_and_dollar_bodies_stay_sql(rds):
    sql = (
        "SELECT :1::int + 1 AS \":2\", ':3' AS s, E'\\' :4' AS e, $$ :5 $$ AS d, $q$:6$q$ AS q"
        " /* :7 /* :8 */ :9 */ -- :10\n"
    )
    result = run(rds, sql, *numbered("41"))
    assert result["records"] == [[
        {"longValue": 42}, {"stringValue": ":3"}, {"stringValue": "' :4"},
        {"stringValue": " :5 "}, {"stringValue": ":6"},
    ]]


def test_a_dollar_quote_tagged_with_a_non_ascii_letter_is_a_string_as_postgresql_reads_it(rds):
    """PostgreSQL's scanner (src/backend/parser/scan.l) starts a dollar-quote tag with any of
    [A-Za-z\\200-\\377_]: every byte of a non-ASCII UTF-8 character counts as a letter."""
    result = run(rds, "SELECT $é$ :1 $é$ AS d, $tag€$:2$tag€$ AS e")
    assert result["records"] == [[{"stringValue": " :1 "}, {"stringValue": ":2"}]]


def test_a_missing_numbered_parameter_is_named_in_the_error(rds):
    code, message = error_of(lambda: run(rds, "SELECT :1, :12", *numbered(1)))
    assert (code, message) == (
        "DatabaseErrorException",
        "ERROR: No value specified for parameter :12; SQLState: 22023",
    )


def test_the_position_counts_numbered_placeholders_as_bare_dollar_numbers(rds):
    """``SELECT $1, $2, nope``: ``nope`` is the 16th character, whatever casts ``local`` adds."""
    _, message = error_of(lambda: run(rds, "SELECT :1, :10, nope", *numbered(*range(10))))
    assert message == 'ERROR: column "nope" does not exist; Position: 16; SQLState: 42703'


def reference_rewrite(sql: str) -> tuple[str, tuple[str, ...]]:
    """The rewrite written the plain way, one character at a time (PostgreSQL's lexical rules for
    literals, quoted identifiers and comments), with names numbered by a list search: what the
    linear rewrite must equal."""
    names: list[str] = []
    out = []
    i = 0
    while i < len(sql):
        end = _reference_skip(sql, i)
        if end > i:
            out.append(sql[i:end])
            i = end
            continue
        name = re.compile(r"[A-Za-z0-9_]+").match(sql, i + 1) if sql[i] == ":" else None
        if name:
            if name.group() not in names:
                names.append(name.group())
            out.append(f"${names.index(name.group()) + 1}")
            i = name.end()
        else:
            out.append(sql[i])
            i += 1
    return "".join(out), tuple(names)


def _reference_skip(sql: str, i: int) -> int:
    word = lambda k: k >= 0 and (sql[k].isalnum() or sql[k] == "_")  # noqa: E731
    if sql.startswith("::", i):
        return i + 2
    if sql[i] in "'\"":
        quote, backslash = sql[i], sql[i] == "'" and i > 0 and sql[i - 1] in "eE" and not word(i - 2)
        k = i + 1
        while k < len(sql):
            if backslash and sql[k] == "\\" or sql.startswith(quote * 2, k):
                k += 2
            elif sql[k] == quote:
                return k + 1
            else:
                k += 1
        return len(sql)
    if sql.startswith("--", i):
        return len(sql) if "\n" not in sql[i:] else sql.index("\n", i) + 1
    if sql.startswith("/*", i):
        depth, k = 0, i
        while k < len(sql):
            if sql.startswith("/*", k):
                depth, k = depth + 1, k + 2
            elif sql.startswith("*/", k):
                depth, k = depth - 1, k + 2
                if depth == 0:
                    return k
            else:
                k += 1
        return len(sql)
    tag = _reference_tag(sql, i)
    if tag and not word(i - 1):
        k = sql.find(tag, i + len(tag))
        return len(sql) if k < 0 else k + len(tag)
    return i


def _reference_tag(sql: str, i: int) -> str | None:
    """The dollar-quote delimiter at ``i`` (scan.l: ``$``, then a letter, ``_`` or any non-ASCII
    character, then those or ASCII digits, then ``$``), or None."""
    if not sql.startswith("$", i):
        return None
    k = i + 1
    while k < len(sql) and (
        sql[k] == "_" or not sql[k].isascii() or sql[k].isalpha() or (k > i + 1 and sql[k].isdigit())
    ):
        k += 1
    return sql[i : k + 1] if sql.startswith("$", k) else None


SQL_PIECES = st.sampled_from(
    [":", "::", "1", "10", "a", "_", "'", "''", '"', "E'", "\\", "$", "$$", "$t$", "--", "\n",
     "/*", "*/", " ", "x1", "é", "$é$", "$€1$"]
)


@given(st.lists(SQL_PIECES, max_size=40).map("".join))
@example("SELECT :1, :10, :1")
@example("E'\\'' :1")
@example("/* /* */ :1 */ :2")
@example("x$t$ :1 $t$")
def test_the_linear_rewrite_equals_the_plain_one(sql):
    rewritten = rewrite(sql)
    assert (rewritten.sql, rewritten.names) == reference_rewrite(sql)


# -- 2. TIMESTAMP hints with up to nine fraction digits --------------------------------------------


def timestamp(name: str, text: str) -> dict:
    return {"name": name, "value": {"stringValue": text}, "typeHint": "TIMESTAMP"}


def test_a_timestamp_hint_with_microseconds_round_trips_as_drizzle_sends_it(rds):
    """drizzle-orm's live suite ("all date and time columns") writes this into a ``timestamp(6)``
    column and reads back the same six digits."""
    name = table("micro")
    run(rds, f"CREATE TABLE {name} (id serial PRIMARY KEY, at timestamp(6) NOT NULL)")
    run(rds, f"insert into {name} values (default, :1)", timestamp("1", "2022-01-01 00:00:00.123456"))
    assert run(rds, f"SELECT at FROM {name}")["records"] == [
        [{"stringValue": "2022-01-01 00:00:00.123456"}]
    ]


def test_a_timestamp_hint_takes_nine_fraction_digits_as_jdbc_does_and_not_ten(rds):
    """``Timestamp.valueOf`` reads up to nine (nanoseconds); PostgreSQL keeps microseconds."""
    nine = run(rds, "SELECT :t", timestamp("t", "2022-01-01 00:00:00.123456789"))
    assert nine["records"] == [[{"stringValue": "2022-01-01 00:00:00.123457"}]]
    ten = "2022-01-01 00:00:00.1234567891"
    assert error_of(lambda: run(rds, "SELECT :t", timestamp("t", ten))) == (
        "DatabaseErrorException",
        f'ERROR: invalid input syntax for type timestamp: "{ten}"; SQLState: 22007',
    )


@pytest.mark.parametrize(
    "text",
    [
        "2022-01-01T00:00:00.123456",
        "2022-01-01 00:00:00.123456Z",
        "2022-01-01 00:00:00.123456+02",
        "2022-01-01 00:00:00.",
        "now",
        "tomorrow",
    ],
)
def test_zones_words_and_the_t_separator_are_still_refused_with_microseconds(rds, text):
    assert error_of(lambda: run(rds, "SELECT :t", timestamp("t", text))) == (
        "DatabaseErrorException",
        f'ERROR: invalid input syntax for type timestamp: "{text}"; SQLState: 22007',
    )


# -- 3. the master user owns database postgres, as on RDS -------------------------------------------


def in_postgres(rds, sql: str) -> dict:
    """ExecuteStatement in database ``postgres``, where typeorm-aurora-data-api-driver's suite
    and kysely-data-api's harness work."""
    return rds.execute_statement(sql=sql, **{**IN_ALEX, "database": "postgres"})


def test_the_master_user_creates_a_schema_in_postgres_which_it_owns_as_on_rds(rds):
    schema = table("orm_schema")
    try:
        in_postgres(rds, f"CREATE SCHEMA {schema}")
        in_postgres(rds, f"CREATE TABLE {schema}.t (id int)")
        owners = in_postgres(
            rds,
            "SELECT pg_get_userbyid(datdba), (SELECT pg_get_userbyid(nspowner) FROM pg_namespace"
            f" WHERE nspname = '{schema}') FROM pg_database WHERE datname = current_database()",
        )["records"]
        assert owners == [[{"stringValue": MASTER_USER}, {"stringValue": MASTER_USER}]]
    finally:
        in_postgres(rds, f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("COPY (SELECT 1) TO PROGRAM 'true'", "permission denied|must be superuser"),
        ("SELECT pg_read_file('PG_VERSION')", "permission denied"),
        ("ALTER SYSTEM SET work_mem = '1MB'", "permission denied|must be superuser"),
        (f"ALTER ROLE {MASTER_USER} SUPERUSER", "permission denied|must be superuser"),
    ],
)
def test_owning_postgres_gives_no_superuser_power(rds, sql, says):
    code, message = error_of(lambda: in_postgres(rds, sql))
    assert code == "DatabaseErrorException" and re.search(says, message), message
    rolsuper = in_postgres(rds, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    assert rolsuper["records"] == [[{"booleanValue": False}]]
