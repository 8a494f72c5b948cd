"""Every input surface of ``alex-db local`` under arbitrary input: flags, SQL text, parameters and
raw HTTP bodies end in a result or a documented error, never a traceback or a lost byte."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alex_db.tools.local.endpoint import operation_paths
from alex_db.tools.local.errors import STATUS, DataApiError
from alex_db.tools.local.flags import idle_seconds, port_number
from alex_db.tools.local.named_parameters import rewrite
from alex_db.tools.local.parameters import bind
from tests.local_support import IN_ALEX, TARGET, rds_data_client, sdk_headers, serving

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.just(10**400) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
FIELD_KEYS = st.sampled_from(
    ["stringValue", "longValue", "doubleValue", "booleanValue", "blobValue", "isNull",
     "arrayValue", "other"]
)


@pytest.fixture(scope="module")
def served(local_postgres):
    with serving(local_postgres) as (_, url):
        yield url


@given(st.text())
def test_sql_without_a_placeholder_passes_through_byte_for_byte(sql):
    rewritten = rewrite(sql.replace(":", ""))
    assert (rewritten.sql, rewritten.names) == (sql.replace(":", ""), ())


@given(st.text(alphabet=st.sampled_from("ab_1:'\"$-*/\n\\ eE"), max_size=40))
def test_any_sql_rewrites_to_names_of_word_characters(sql):
    rewritten = rewrite(sql)
    assert all(re.fullmatch("[A-Za-z0-9_]+", name) for name in rewritten.names)
    assert len(set(rewritten.names)) == len(rewritten.names)


@given(
    st.lists(
        st.fixed_dictionaries(
            {"name": st.one_of(st.just("v"), st.text(max_size=5), st.integers())},
            optional={
                "value": st.dictionaries(FIELD_KEYS, JSON_VALUES, max_size=2),
                "typeHint": st.one_of(st.sampled_from(["DATE", "UUID", "JSON", "bogus"]), JSON_VALUES),
            },
        )
        | JSON_VALUES,
        max_size=3,
    )
)
def test_any_parameter_list_binds_or_is_one_model_error(parameters):
    try:
        bound = bind("SELECT :v", parameters)
    except DataApiError as error:
        assert error.code in STATUS
        assert error.message and "\n" not in error.message
    else:
        assert bound.sql.startswith("SELECT $1")


@given(st.text())
def test_port_flag_accepts_ports_and_refuses_everything_else_in_one_line(text):
    try:
        port = port_number(text)
    except argparse.ArgumentTypeError as error:
        assert "\n" not in str(error) and "0-65535" in str(error)
    else:
        assert 0 <= port <= 65535


@given(st.text() | st.floats().map(str))
def test_pause_after_flag_accepts_positive_seconds_only(text):
    try:
        seconds = idle_seconds(text)
    except argparse.ArgumentTypeError as error:
        assert "positive number of seconds" in str(error)
    else:
        assert 0 < seconds < float("inf")


CALLS = st.fixed_dictionaries(
    {key: st.just(value) for key, value in TARGET.items()},
    optional={
        "sql": st.sampled_from(["SELECT 1", "SELECT :v", "SELECT :v::int"]) | JSON_VALUES,
        "parameters": st.lists(st.fixed_dictionaries({"name": st.just("v")}, optional={
            "value": st.dictionaries(FIELD_KEYS, JSON_VALUES, max_size=2), "typeHint": JSON_VALUES,
        })) | JSON_VALUES,
        "parameterSets": st.lists(JSON_VALUES, max_size=2) | JSON_VALUES,
        "transactionId": JSON_VALUES,
        "database": st.sampled_from(["alex", "nope"]) | JSON_VALUES,
        "formatRecordsAs": st.sampled_from(["JSON", "NONE"]) | JSON_VALUES,
        "includeResultMetadata": JSON_VALUES,
        "resultSetOptions": JSON_VALUES,
    },
)
BODIES = (
    st.binary(max_size=200)
    | JSON_VALUES.map(lambda v: json.dumps(v).encode())
    | CALLS.map(lambda v: json.dumps(v).encode())
)


@FAST
@example(path="/Execute", body=b'{"sql": ' + b"9" * 5000 + b"}")
@example(path="/Execute", body=b"[" * 100_000)
@given(path=st.sampled_from(sorted(operation_paths()) + ["/Nope"]), body=BODIES)
def test_any_request_body_gets_a_model_error_or_an_answer_never_a_crash(served, path, body):
    address = urlparse(served)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.request("POST", path, body=body, headers=sdk_headers(served, path, body))
    response = connection.getresponse()
    payload = json.loads(response.read())
    connection.close()
    assert response.status != 500
    if response.status != 200:
        assert response.getheader("x-amzn-ErrorType") in STATUS
        assert payload["message"]


@FAST
@given(st.text(max_size=200))
def test_any_string_value_round_trips_or_fails_as_one_database_error(served, text):
    rds = rds_data_client(served)
    parameter = {"name": "s", "value": {"stringValue": text}}
    try:
        result = rds.execute_statement(sql="SELECT :s", parameters=[parameter], **IN_ALEX)
    except ClientError as error:
        assert "\x00" in text  # PostgreSQL text cannot hold NUL; nothing else may fail
        assert error.response["Error"]["Code"] == "DatabaseErrorException"
    else:
        assert result["records"] == [[{"stringValue": text}]]


@given(
    st.lists(
        st.sampled_from(["AWS_ENDPOINT_URL_RDS_DATA=http://x", "export AWS_ENDPOINT_URL_RDS_DATA=1",
                         "# AWS_ENDPOINT_URL_RDS_DATA=kept", "OTHER=1", "", "  spaced = v  "])
        | st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=30),
        max_size=8,
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", "\ufeff"]),
)
def test_removing_the_endpoint_keeps_every_other_line_byte_for_byte(lines, ending, bom):
    from alex_db.tools.shared import envfile

    text = bom + "".join(line + ending for line in lines)
    kept = envfile.remove(text, ["AWS_ENDPOINT_URL_RDS_DATA"])
    others = {k: v for k, v in envfile.parse(text).items() if k != "AWS_ENDPOINT_URL_RDS_DATA"}
    assert envfile.parse(kept) == others
    if not any(quote in "".join(lines) for quote in "'\"\\"):
        # Without quotes every line is one binding of its own, so lines go or stay whole.
        expected = [line + ending for line in lines if "AWS_ENDPOINT_URL_RDS_DATA" not in envfile.parse(line)]
        assert kept == bom + "".join(expected)


@pytest.fixture(scope="module")
def open_folder():
    import subprocess
    import tempfile
    from pathlib import Path

    # Three levels deep: a generated path climbs at most three ".." (max_size below), so every
    # directory the test makes stays inside `top` and goes with it (it once littered /tmp).
    top = Path(tempfile.mkdtemp(prefix="alexdb-names-"))
    folder = top / "a" / "b" / "c"
    folder.mkdir(parents=True)
    for level in (top, top / "a", top / "a" / "b", folder):
        os.chmod(level, 0o755)
    yield folder
    subprocess.run(["rm", "-rf", str(top)], check=True)


# What argv can hold: any bytes but "/" (a separator) and NUL, decoded as Python decodes argv.
NAME_BYTES = st.binary(min_size=1, max_size=120).map(
    lambda raw: os.fsdecode(raw.replace(b"/", b"_").replace(b"\x00", b"_"))
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        NAME_BYTES
        | st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
                  min_size=1, max_size=120)
        | st.sampled_from(["..", ".", "file", "file/below"]),
        min_size=1,
        max_size=3,
    )
)
@example(["..", "..", ".."])
def test_any_data_dir_is_prepared_or_refused_in_one_line(open_folder, parts):
    from alex_db.tools.local.postgres import LocalPostgres, LocalPostgresError

    (open_folder / "file").write_text("")
    try:
        LocalPostgres(open_folder.joinpath(*parts)).prepare_data_dir()
    except LocalPostgresError as error:
        assert error.usage and "\n" not in str(error)
        assert str(error).startswith("--data-dir ")
    else:
        assert open_folder.joinpath(*parts).is_dir()
    top, reached = open_folder.parents[2], open_folder.joinpath(*parts).resolve()
    assert reached == top or top in reached.parents


@given(st.text(max_size=40) | st.sampled_from(
    ["http://127.0.0.1:99999", "http://[::1", "http://x:abc", "ftp://x", "http://[::1]:8432",
     "https://h:0", "http://127.0.0.1:8432/p?q"]
))
def test_any_local_endpoint_variable_is_a_connectable_url_or_one_config_error(tmp_path_factory, text):
    from urllib.parse import urlsplit

    from alex_db.tools.deployed.check import AwsConfigError
    from alex_db.tools.deployed.command import local_endpoint

    try:
        url, _ = local_endpoint(
            {"AWS_ENDPOINT_URL_RDS_DATA": text}, tmp_path_factory.getbasetemp()
        )
    except AwsConfigError as error:
        assert "\n" not in str(error) and str(error).startswith("AWS_ENDPOINT_URL_RDS_DATA ")
    else:
        address = urlsplit(url)  # what check then connects to: no ValueError here
        assert address.hostname and address.scheme in ("http", "https")
        assert address.port is None or 0 <= address.port <= 65535
