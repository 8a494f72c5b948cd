"""The Data API's master user on ``alex-db local`` is Aurora's: ``rds_superuser``, not SUPERUSER
(issue 17, item 3); the superuser is ``local``'s own, over the Unix socket only.

Checked through boto3 as a user calls the Data API, and on the server's own rules."""

from __future__ import annotations

import os
import re
import subprocess

import psycopg
import pytest
from botocore.exceptions import ClientError

from alex_db.tools.local.postgres import MASTER_USER, SUPERUSER
from tests.local_support import IN_ALEX, error_of, run, writable_folder


@pytest.fixture(scope="module")
def probe(rds):
    run(rds, "CREATE TABLE roles_probe (marker text)")
    yield
    run(rds, "DROP TABLE roles_probe")



def test_the_attack_signed_by_an_sdk_is_admitted_and_refused_by_postgresql(rds):
    """Past the front door (a signed boto3 call), the master user still may not run programs."""
    with writable_folder() as drop_box:
        target = drop_box / "pwned"
        with pytest.raises(ClientError) as raised:
            run(rds, f"COPY (SELECT 1) TO PROGRAM 'touch {target}'")
        assert not target.exists()
    assert raised.value.response["Error"]["Code"] == "DatabaseErrorException"
    assert "pg_execute_server_program" in raised.value.response["Error"]["Message"]


# -- the master user: rds_superuser, not SUPERUSER --------------------------------------------------


def database_error(rds, sql: str) -> str:
    """The message of the DatabaseErrorException ``sql`` gets in database ``alex``."""
    code, message = error_of(lambda: run(rds, sql))
    assert code == "DatabaseErrorException", message
    return message


# PostgreSQL's words (15; 16 says "permission denied to ..." where 15 says "must be superuser").
@pytest.mark.parametrize("sql, says", [
    ("COPY (SELECT 1) TO PROGRAM 'true'", "pg_execute_server_program"),
    ("COPY roles_probe FROM PROGRAM 'echo x'", "pg_execute_server_program"),
    ("COPY (SELECT 1) TO '/tmp/alexdb-copy-out'", "pg_write_server_files"),
    ("SELECT pg_read_file('/etc/passwd')", "permission denied for function pg_read_file"),
    ("SELECT pg_read_binary_file('/etc/passwd')", "permission denied"),
    ("SELECT lo_import('/etc/passwd')", "permission denied for function lo_import"),
    ("SELECT pg_ls_dir('.')", "permission denied"),
    ("ALTER SYSTEM SET work_mem = '1MB'", "permission denied"),
    ("SELECT pg_reload_conf()", "permission denied"),
    ("CREATE ROLE sneaky SUPERUSER", "must be superuser|permission denied"),
    (f"ALTER ROLE {MASTER_USER} SUPERUSER", "must be superuser|permission denied"),
    (f"SET ROLE {SUPERUSER}", "permission denied"),
    (f"SET SESSION AUTHORIZATION {SUPERUSER}", "permission denied"),
    (f"ALTER ROLE {SUPERUSER} PASSWORD 'guess'", "must be superuser|permission denied"),
    ("CREATE EXTENSION file_fdw", "permission denied"),
])
def test_the_master_user_cannot_do_what_only_a_superuser_can(rds, probe, sql, says):
    assert re.search(says, database_error(rds, sql))


def test_the_master_user_is_aurora_shaped(rds):
    row = rds.execute_statement(sql=(
        "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,"
        " pg_has_role(current_user, 'rds_superuser', 'MEMBER'),"
        " pg_has_role(current_user, 'rds_superuser', 'MEMBER WITH ADMIN OPTION'),"
        " pg_get_userbyid(d.datdba)"
        " FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = 'alex'"
    ), **IN_ALEX)["records"][0]
    assert [next(iter(field.values())) for field in row] == [
        MASTER_USER, False, True, True, False, False, True, True, MASTER_USER
    ]


def test_trusted_extensions_roles_and_databases_still_work(rds):
    for sql in ('CREATE EXTENSION IF NOT EXISTS "uuid-ossp"', "CREATE EXTENSION IF NOT EXISTS "
                "pgcrypto", "CREATE ROLE security_app LOGIN PASSWORD 'app-password'",
                "GRANT rds_superuser TO security_app", "CREATE DATABASE security_scratch"):
        run(rds, sql)
    try:
        result = rds.execute_statement(
            sql="SELECT uuid_generate_v4() IS NOT NULL, length(gen_random_bytes(8)),"
            " (SELECT count(*) FROM pg_stat_activity WHERE usename IS NOT NULL) > 0", **IN_ALEX
        )
        assert result["records"] == [[{"booleanValue": True}, {"longValue": 8},
                                      {"booleanValue": True}]]
        rds.execute_statement(sql="CREATE TABLE t (id int)", **{**IN_ALEX,
                                                                "database": "security_scratch"})
    finally:
        # FORCE ends the endpoint's pooled sessions on it: pg_signal_backend, from rds_superuser.
        for sql in ("DROP DATABASE IF EXISTS security_scratch WITH (FORCE)",
                    "DROP ROLE IF EXISTS security_app",
                    "DROP EXTENSION IF EXISTS pgcrypto"):
            run(rds, sql)


def test_createrole_reaches_server_programs_only_where_the_docs_say(local_postgres, rds):
    """The limit the docs state (``roles``): PostgreSQL 15 and older let CREATEROLE grant
    pg_execute_server_program; 16 and later refuse. Whichever runs here, the flag says so."""
    grant = f"GRANT pg_execute_server_program TO {MASTER_USER}"
    if local_postgres.createrole_is_contained:
        assert "permission denied" in database_error(rds, grant)
        return
    run(rds, grant)
    run(rds, f"REVOKE pg_execute_server_program FROM {MASTER_USER}")


# -- the superuser and the files ----------------------------------------------------------------------


def test_the_superuser_logs_in_by_peer_over_the_socket_and_nobody_by_tcp(local_postgres):
    with psycopg.connect(**local_postgres.superuser_conninfo("postgres")) as connection:
        rules = connection.execute(
            "SELECT type, database, user_name, auth_method, options FROM pg_hba_file_rules"
        ).fetchall()
        listen = connection.execute("SHOW listen_addresses").fetchone()[0]
    assert rules == [
        ("local", ["all"], [SUPERUSER], "peer", ["map=alexdb"]),
        ("local", ["all"], ["all"], "scram-sha-256", None),
    ]
    assert listen == ""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a second operating-system user")
def test_another_operating_system_user_cannot_log_in_as_the_superuser(local_postgres):
    """The server's own user ('postgres' here) can reach the socket, yet peer authentication maps
    only the user running local (root here) to the superuser."""
    attempt = subprocess.run(
        ["runuser", "-u", "postgres", "--", str(local_postgres.bin_dir / "psql"), "-h",
         str(local_postgres.data.sockets), "-U", SUPERUSER, "-d", "postgres", "-c", "SELECT 1"],
        capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"]},
    )
    assert attempt.returncode != 0
    assert f'Peer authentication failed for user "{SUPERUSER}"' in attempt.stderr


def test_the_data_directory_the_log_and_the_socket_are_private(local_postgres):
    data = local_postgres.data
    expected = 0o700 if os.geteuid() != 0 else 0o710
    assert data.root.stat().st_mode & 0o777 == expected
    for private_file in (data.password_file, data.log_file, data.hba_file, data.ident_file):
        assert private_file.stat().st_mode & 0o777 == 0o600, private_file
    for private_folder in (data.sockets, data.cluster):
        assert private_folder.stat().st_mode & 0o777 == 0o700, private_folder
