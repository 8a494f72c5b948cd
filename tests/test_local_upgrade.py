"""A data directory made by an older ``alex-db local``, whose master user was the cluster's
bootstrap SUPERUSER: the first start moves it to Aurora's ``rds_superuser`` and keeps every table,
row and grant; the second start finds nothing left to do."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from botocore.exceptions import ClientError
from psycopg import sql

from alex_db.tools.local.postgres import (
    MASTER_USER,
    SOCKET_PORT,
    SUPERUSER,
    LocalPostgres,
)
from tests.local_support import (
    IN_ALEX,
    rds_data_client,
    reachable_folder,
    run,
    server_bin_dir,
    serving,
)

# What Alex's migrations and a developer's session made while the master user was a superuser.
OLDER_SESSION = (
    'CREATE EXTENSION "uuid-ossp"',
    "CREATE SCHEMA app",
    "CREATE TYPE app.mood AS ENUM ('calm', 'keen')",
    "CREATE DOMAIN app.positive AS int CHECK (VALUE > 0)",
    "CREATE TYPE app.pair AS (a int, b int)",
    "CREATE TABLE users (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(), name text NOT NULL,"
    " mood app.mood)",
    "CREATE TABLE holdings (id serial PRIMARY KEY, n int GENERATED ALWAYS AS IDENTITY,"
    " user_id uuid REFERENCES users(id), quantity app.positive)",
    "CREATE INDEX ON holdings (user_id)",
    "CREATE VIEW named AS SELECT name FROM users",
    "CREATE MATERIALIZED VIEW counted AS SELECT count(*) FROM holdings",
    "CREATE SEQUENCE tickets",
    "CREATE FUNCTION app.plus_one(x int) RETURNS int LANGUAGE sql AS 'SELECT x + 1'",
    "CREATE PROCEDURE app.tidy() LANGUAGE sql AS 'SELECT 1'",
    "CREATE ROLE reader LOGIN PASSWORD 'reader-password'",
    "GRANT SELECT ON users TO reader",
    "CREATE ROLE old_admin SUPERUSER",
    f"GRANT pg_execute_server_program TO {MASTER_USER}",
    "INSERT INTO users (name, mood) VALUES ('Ada', 'keen')",
    "INSERT INTO holdings (user_id, quantity) SELECT id, 3 FROM users",
    "SELECT lo_from_bytea(0, 'kept')",
    # An event trigger runs its function as whoever runs the DDL, the superuser included.
    "CREATE FUNCTION app.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN NULL; END$$",
    "CREATE EVENT TRIGGER on_ddl ON ddl_command_end EXECUTE FUNCTION app.on_ddl()",
)


def as_server_user() -> dict:
    """subprocess arguments that run a command as PostgreSQL's user (itself when not root)."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam("postgres")
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def older_data_dir(root: Path, bin_dir: Path) -> None:
    """What the older ``local`` made: ``initdb --username alexadmin`` with its password and SCRAM
    for everyone, a 0755 folder, a 0644 log; then the older session's objects, made as that
    superuser master."""
    root.mkdir(mode=0o755)
    password = "older-password-0123456789"
    (root / "password").write_text(password + "\n")
    os.chmod(root / "password", 0o600)
    sockets, pwfile = root / "run", root / "run" / "initdb-password"
    sockets.mkdir(mode=0o700)
    (root / "pgdata").mkdir(mode=0o700)
    pwfile.write_text(password + "\n")
    owner = as_server_user()
    if owner:
        for path in (sockets, root / "pgdata", pwfile):
            os.chown(path, owner["user"], owner["group"])
    subprocess.run(
        [str(bin_dir / "initdb"), "--pgdata", str(root / "pgdata"), "--username", MASTER_USER,
         f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale",
         "--no-sync"],
        check=True, capture_output=True, **owner,
    )
    pwfile.unlink()
    log = open(root / "postgres.log", "ab")  # noqa: SIM115
    os.chmod(root / "postgres.log", 0o644)
    server = subprocess.Popen(
        [str(bin_dir / "postgres"), "-D", str(root / "pgdata"), "-c", "listen_addresses=",
         "-c", f"unix_socket_directories={sockets}", "-c", f"port={SOCKET_PORT}", "-c",
         "fsync=off"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **owner,
    )
    log.close()
    try:
        connect = {"host": str(sockets), "port": SOCKET_PORT, "user": MASTER_USER,
                   "password": password, "autocommit": True}
        for _ in range(600):
            try:
                psycopg.connect(**connect, dbname="postgres").close()
                break
            except psycopg.OperationalError:
                time.sleep(0.05)
        with psycopg.connect(**connect, dbname="postgres") as connection:
            connection.execute('CREATE DATABASE "alex"')
        with psycopg.connect(**connect, dbname="alex") as connection:
            for statement in OLDER_SESSION:
                connection.execute(statement)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)


@pytest.fixture(scope="module")
def older():
    bin_dir = server_bin_dir()
    with reachable_folder("alexdb-older-") as top:
        older_data_dir(top / "data", bin_dir)
        yield top / "data", bin_dir


@pytest.fixture(scope="module")
def first_start(older):
    root, bin_dir = older
    postgres = LocalPostgres(root, bin_dir, durable=False)
    created = postgres.start()
    yield postgres, created
    postgres.stop()


def roles_of(postgres: LocalPostgres) -> dict[str, tuple[int, bool]]:
    with psycopg.connect(**postgres.superuser_conninfo("alex")) as connection:
        rows = connection.execute("SELECT rolname, oid, rolsuper FROM pg_roles WHERE rolname !~ "
                                  "'^pg_'").fetchall()
    return {name: (oid, superuser) for name, oid, superuser in rows}


def test_the_first_start_moves_the_master_user_off_superuser(first_start):
    postgres, created = first_start
    assert (created, postgres.migrated, postgres.kept_by_superuser) == (False, True, [])
    found = roles_of(postgres)
    assert found[SUPERUSER] == (10, True)  # the bootstrap superuser, renamed
    assert found[MASTER_USER][0] != 10 and found[MASTER_USER][1] is False
    assert [name for name, (_, superuser) in found.items() if superuser] == [SUPERUSER]


def test_what_the_older_master_made_is_the_new_masters_and_still_works(first_start):
    postgres, _ = first_start
    with serving(postgres) as (_, url):
        rds = rds_data_client(url)
        def value(sql: str):
            return run(rds, sql)["records"][0][0]

        assert value("SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class"
                     " WHERE relname IN ('users', 'holdings', 'holdings_id_seq', 'holdings_n_seq',"
                     " 'named', 'counted', 'tickets', 'users_pkey')") == {"stringValue": MASTER_USER}
        assert value("SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
                     f" WHERE n.nspname = 'app' AND pg_get_userbyid(t.typowner) <> '{MASTER_USER}'"
                     ) == {"longValue": 0}
        assert value("SELECT app.plus_one(41)") == {"longValue": 42}
        rds.execute_statement(sql="INSERT INTO holdings (user_id, quantity) SELECT id, 4 FROM users",
                              **IN_ALEX)
        run(rds, "ALTER TABLE users ADD COLUMN joined date")
        run(rds, "REFRESH MATERIALIZED VIEW counted")
        assert value("SELECT count FROM counted") == {"longValue": 2}
        assert value("SELECT uuid_generate_v4() IS NOT NULL") == {"booleanValue": True}
        assert value("SELECT convert_from(lo_get(oid), 'UTF8') FROM pg_largeobject_metadata"
                     ) == {"stringValue": "kept"}
        assert value("SELECT has_table_privilege('reader', 'users', 'SELECT')") == {
            "booleanValue": True}
        run(rds, "CREATE TABLE made_after (id int)")


def test_the_function_an_event_trigger_runs_stays_the_superusers(first_start):
    """Handed to the master user, it could be rewritten to run as the superuser the next time
    the superuser's DDL fires the trigger."""
    postgres, _ = first_start
    with serving(postgres) as (_, url):
        rds = rds_data_client(url)
        assert run(rds, "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'on_ddl'"
                   )["records"] == [[{"stringValue": SUPERUSER}]]
        with pytest.raises(ClientError) as raised:
            run(rds, "CREATE OR REPLACE FUNCTION app.on_ddl() RETURNS event_trigger"
                " LANGUAGE plpgsql AS $$BEGIN NULL; END$$")
    assert "must be owner of function on_ddl" in raised.value.response["Error"]["Message"]


def test_the_grants_an_older_superuser_handed_out_are_gone(first_start):
    postgres, _ = first_start
    with serving(postgres) as (_, url), pytest.raises(ClientError) as raised:
        rds_data_client(url).execute_statement(
            sql="COPY (SELECT 1) TO PROGRAM 'true'", **IN_ALEX
        )
    assert "pg_execute_server_program" in raised.value.response["Error"]["Message"]


def test_the_older_folder_and_log_are_made_private(first_start):
    postgres, _ = first_start
    assert postgres.data.root.stat().st_mode & 0o777 == (0o710 if os.geteuid() == 0 else 0o700)
    assert postgres.data.log_file.stat().st_mode & 0o777 == 0o600


def test_the_second_start_finds_nothing_to_migrate(first_start, older):
    first, _ = first_start
    before = roles_of(first)
    with psycopg.connect(**first.conninfo("alex")) as connection:
        rows = connection.execute("SELECT count(*) FROM holdings").fetchone()
    first.stop()
    root, bin_dir = older
    second = LocalPostgres(root, bin_dir, durable=False)
    try:
        assert second.start() is False
        assert (second.migrated, second.kept_by_superuser) == (False, [])
        assert roles_of(second) == before
        with psycopg.connect(**second.conninfo("alex")) as connection:
            assert connection.execute("SELECT count(*) FROM holdings").fetchone() == rows
    finally:
        second.stop()


def test_the_start_line_says_the_master_user_moved_then_just_reused(first_start, older):
    """What `alex-db local` prints of the directory (its whole start line is proven in a
    subprocess in test_local_command): the move on the migrating start, then plain "reused"."""
    from alex_db.tools.local.command import data_directory_state

    migrating, created = first_start
    assert not created
    assert data_directory_state(migrating, created) == (
        f"reused; {MASTER_USER} moved from SUPERUSER to rds_superuser, as on Aurora"
    )
    migrating.stop()
    root, bin_dir = older
    again = LocalPostgres(root, bin_dir, durable=False)
    try:
        assert data_directory_state(again, again.start()) == "reused"
    finally:
        again.stop()


def test_a_hand_over_cut_short_completes_at_the_next_start(first_start, older):
    """The rename and the pending mark are one transaction; the hand-over after it runs at every
    start until it completes, and only then does the superuser stay out of the master's
    databases."""
    from alex_db.tools.local.roles import HANDOVER_PENDING

    first_start[0].stop()
    root, bin_dir = older
    postgres = LocalPostgres(root, bin_dir, durable=False)
    try:
        postgres.start()
        with psycopg.connect(**postgres.superuser_conninfo("alex"), autocommit=True) as alex:
            alex.execute("CREATE TABLE public.left_over (id int)")  # as if the older master made it
        with psycopg.connect(**postgres.superuser_conninfo("postgres"), autocommit=True) as pg:
            pg.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(
                sql.Identifier(SUPERUSER), sql.Literal(HANDOVER_PENDING)))
        postgres.stop()
        postgres.start()
        with psycopg.connect(**postgres.superuser_conninfo("alex")) as alex:
            assert alex.execute(
                "SELECT pg_get_userbyid(relowner), shobj_description(10, 'pg_authid')"
                " FROM pg_class WHERE relname = 'left_over'"
            ).fetchall() == [(MASTER_USER, None)]
    finally:
        postgres.stop()
