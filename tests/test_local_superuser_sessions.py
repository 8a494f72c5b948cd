"""What the master user plants never runs as ``local``'s superuser, and never keeps ``local`` from
starting (issue 22, item 2).

The attacker is a Data API caller: boto3's real client, as ``alexadmin``, in the databases it owns.
It plants what a superuser session could resolve or fire (the CVE-2018-1058 pattern: an operator
``public.=(oid, integer)`` that beats ``pg_catalog.=(oid, oid)``, a better-matching
``pg_identify_object``, a ``search_path`` set on the database), then ``local`` restarts on the same
data directory, as it does every morning."""

from __future__ import annotations

import psycopg
import pytest
from botocore.exceptions import ClientError

from alex_db.tools.local.postgres import MASTER_USER, SUPERUSER, LocalPostgres
from tests.local_support import (
    IN_ALEX,
    rds_data_client,
    reachable_folder,
    run,
    server_bin_dir,
    serving,
)

# The superuser's start-up compares oid columns with int2 (psycopg's parameters), int4 and int8.
INTEGER_TYPES = ("smallint", "integer", "bigint")
# What the planted code does when it runs: records who ran it, and makes the master a superuser
# when that was the superuser.
ESCALATE = f"""
    INSERT INTO public.ran_as VALUES (current_user);
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        ALTER ROLE {MASTER_USER} SUPERUSER;
    END IF;
"""


def escalating_operator(kind: str) -> list[str]:
    """A ``public.=(oid, kind)`` whose function escalates, as the issue's attacker wrote it."""
    name = f"public.escalate_{kind}"
    return [
        f"CREATE FUNCTION {name}(a oid, b {kind}) RETURNS boolean LANGUAGE plpgsql AS $$BEGIN"
        f" {ESCALATE} RETURN a::bigint = b::bigint; END$$",
        f"CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = {kind}, FUNCTION = {name})",
    ]


def raising_operator(kind: str) -> list[str]:
    """A ``public.=(oid, kind)`` that fails whoever uses it: the issue's "never starts again"."""
    name = f"public.refuse_{kind}"
    return [
        f"CREATE FUNCTION {name}(a oid, b {kind}) RETURNS boolean LANGUAGE plpgsql AS $$BEGIN"
        f" RAISE EXCEPTION 'planted operator ran as %', current_user; END$$",
        f"CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = {kind}, FUNCTION = {name})",
    ]


PLANTED_IN_ALEX = [
    "CREATE TABLE public.ran_as (who name)",
    "GRANT INSERT ON public.ran_as TO PUBLIC",
    *(statement for kind in INTEGER_TYPES for statement in escalating_operator(kind)),
    # pg_catalog.pg_identify_object(oid, oid, integer) loses to an exact match for a regclass.
    "CREATE FUNCTION public.pg_identify_object(c regclass, o oid, s integer)"
    " RETURNS TABLE (type text, schema text, name text, identity text) LANGUAGE plpgsql AS $$BEGIN"
    f" {ESCALATE} RETURN QUERY SELECT * FROM pg_catalog.pg_identify_object(c, o, s); END$$",
    # Beats a search_path set after connecting; not one given at connection (the client's wins).
    "ALTER DATABASE alex SET search_path = public, pg_catalog",
]
# The master owns ``postgres`` too, as on RDS (issue 24): what it plants there, settings that would
# stop any session of the superuser in it from finishing included, must not reach the superuser.
PLANTED_IN_POSTGRES = [
    *(statement for kind in INTEGER_TYPES for statement in raising_operator(kind)),
    "ALTER DATABASE postgres SET search_path = public, pg_catalog",
    "ALTER DATABASE postgres SET statement_timeout = 1",
    "ALTER DATABASE postgres SET default_transaction_read_only = on",
]
PLANTED_IN_ITS_OWN_DATABASE = [
    *(statement for kind in INTEGER_TYPES for statement in raising_operator(kind)),
    "ALTER DATABASE planted SET search_path = public, pg_catalog",
]
# What PostgreSQL itself refuses the master user, so none of it can be planted: an event trigger
# ("must be superuser to create an event trigger", PostgreSQL 15 docs, "CREATE EVENT TRIGGER"),
# a cast between types it does not own ("CREATE CAST": "you must own the source or the target
# data type"), a trigger on a catalog, and objects in template1, where the superuser's own
# sessions run (its ``public`` schema is ``pg_database_owner``'s, so rdsadmin's, since
# PostgreSQL 15).
REFUSED = [
    "CREATE FUNCTION public.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS"
    f" $$BEGIN {ESCALATE} END$$",
    "CREATE EVENT TRIGGER planted ON ddl_command_start EXECUTE FUNCTION public.on_ddl()",
    "CREATE FUNCTION public.to_oid(integer) RETURNS oid LANGUAGE sql AS 'SELECT 0::oid'",
    "CREATE CAST (integer AS oid) WITH FUNCTION public.to_oid(integer) AS IMPLICIT",
    "CREATE FUNCTION public.on_row() RETURNS trigger LANGUAGE plpgsql AS"
    f" $$BEGIN {ESCALATE} RETURN NEW; END$$",
    "CREATE TRIGGER planted BEFORE INSERT ON pg_catalog.pg_class"
    " FOR EACH ROW EXECUTE FUNCTION public.on_row()",
]


@pytest.fixture(scope="module")
def data_dir():
    bin_dir = server_bin_dir()
    with reachable_folder("alexdb-planted-") as top:
        yield top / "data", bin_dir


def restart(data_dir) -> LocalPostgres:
    """``local``'s start on the data directory (what ``alex-db local`` runs first)."""
    root, bin_dir = data_dir
    postgres = LocalPostgres(root, bin_dir, durable=False)
    postgres.start()
    return postgres


@pytest.fixture(scope="module")
def refused(data_dir):
    """Plant everything through the Data API, then restart; what PostgreSQL refused, by SQL."""
    postgres = restart(data_dir)
    refusals = {}
    try:
        with serving(postgres) as (_, url):
            rds = rds_data_client(url)
            for sql in PLANTED_IN_ALEX:
                run(rds, sql)
            for sql in REFUSED:
                try:
                    run(rds, sql)
                except ClientError as error:
                    refusals[sql] = error.response["Error"]["Message"]
            with pytest.raises(ClientError) as in_template1:
                rds.execute_statement(sql="CREATE TABLE public.planted (x int)",
                                      **{**IN_ALEX, "database": "template1"})
            refusals["template1"] = in_template1.value.response["Error"]["Message"]
            for sql in PLANTED_IN_POSTGRES:
                rds.execute_statement(sql=sql, **{**IN_ALEX, "database": "postgres"})
    finally:
        postgres.stop()
    return refusals


@pytest.fixture(scope="module")
def restarted(data_dir, refused):
    """The restart after the planting; stopped at the end of the module."""
    postgres = restart(data_dir)
    yield postgres
    postgres.stop()


def superuser_answer(postgres: LocalPostgres, database: str, sql: str):
    with psycopg.connect(**postgres.superuser_conninfo(database)) as connection:
        return connection.execute(sql).fetchall()


def test_postgresql_refuses_the_master_the_other_hooks(refused):
    assert set(refused) == {*REFUSED[1::2], "template1"}, refused
    assert "must be superuser" in refused[REFUSED[1]] or "permission denied" in refused[REFUSED[1]]
    assert "must be owner of type" in refused[REFUSED[3]]
    assert "permission denied" in refused[REFUSED[5]]
    assert "permission denied for schema public" in refused["template1"]


def test_after_a_restart_the_master_is_still_not_a_superuser_and_nothing_ran(restarted):
    assert superuser_answer(
        restarted, "template1", f"SELECT rolsuper FROM pg_roles WHERE rolname = '{MASTER_USER}'"
    ) == [(False,)]
    assert superuser_answer(restarted, "alex", "SELECT who FROM public.ran_as") == []


def test_the_superusers_sessions_resolve_through_pg_catalog_only(restarted):
    """The pin is given at connection, so it beats the database's own setting from the first
    query (the client's source outranks the database's: ``roles.PINNED_SEARCH_PATH``)."""
    assert superuser_answer(restarted, "alex", "SHOW search_path") == [("pg_catalog,pg_temp",)]
    assert superuser_answer(restarted, "alex", "SELECT current_user") == [(SUPERUSER,)]


def test_the_superusers_sessions_run_no_event_trigger_where_the_server_can_say_so(restarted):
    """PostgreSQL 17+ has login event triggers and the event_triggers setting, which the
    superuser's sessions turn off; older servers have neither and would refuse the setting (the
    connection itself proves it was not sent)."""
    setting = superuser_answer(
        restarted, "template1", "SELECT setting FROM pg_settings WHERE name = 'event_triggers'"
    )
    assert setting == ([("off",)] if restarted.major_version >= 17 else [])


def test_a_planted_operator_that_raises_does_not_keep_local_from_starting(data_dir, restarted):
    with serving(restarted) as (_, url):
        rds = rds_data_client(url)
        run(rds, "CREATE DATABASE planted")
        for sql in PLANTED_IN_ITS_OWN_DATABASE:
            rds.execute_statement(sql=sql, **{**IN_ALEX, "database": "planted"})
    restarted.stop()
    again = restart(data_dir)
    try:
        with serving(again) as (_, url):
            answer = run(rds_data_client(url), "SELECT 1")
        assert answer["records"] == [[{"longValue": 1}]]
    finally:
        again.stop()


# What the master may do to the roles and databases it holds, as on Aurora (it owns ``postgres``
# and may drop it; CREATEROLE on 15 lets it change any role that is not a superuser),
# each of which made the next start fail with "cannot set up the roles" (exit 20) for good.
UNDONE_BY_THE_MASTER = {
    # (renamed is the same to start-up: no database of that name)
    "its postgres database dropped": [("alex", "DROP DATABASE postgres")],
    # A cycle the superuser's GRANT rds_superuser TO alexadmin then refuses ("role ... is a member
    # of role ..."): rds_superuser made a member of the master.
    "rds_superuser made a member of the master": [
        ("alex", f"REVOKE rds_superuser FROM {MASTER_USER}"),
        ("alex", f"GRANT {MASTER_USER} TO rds_superuser"),
    ],
    # The Data API logs in with the data directory's password (AWS's with the secret's, and
    # ModifyDBCluster --master-user-password puts it back); a start puts it back here.
    "its password changed": [("alex", f"ALTER ROLE {MASTER_USER} PASSWORD 'chosen-by-the-caller'")],
    "its connection limit 0": [("alex", f"ALTER ROLE {MASTER_USER} CONNECTION LIMIT 0")],
    # The same for GRANT pg_monitor TO rds_superuser.
    "pg_monitor made a member of rds_superuser": [
        ("alex", "REVOKE pg_monitor FROM rds_superuser"),
        ("alex", "GRANT rds_superuser TO pg_monitor"),
    ],
}


@pytest.mark.parametrize("undone", list(UNDONE_BY_THE_MASTER))
def test_what_the_master_does_to_its_roles_and_databases_does_not_stop_local_at_its_next_start(
    data_dir, restarted, undone
):
    restarted.stop()
    postgres = restart(data_dir)
    try:
        with serving(postgres) as (_, url):
            rds = rds_data_client(url)
            for database, sql in UNDONE_BY_THE_MASTER[undone]:
                rds.execute_statement(sql=sql, **{**IN_ALEX, "database": database})
    finally:
        postgres.stop()
    again = restart(data_dir)
    try:
        with serving(again) as (_, url):
            answer = run(rds_data_client(url), "SELECT 1")
        assert answer["records"] == [[{"longValue": 1}]]
        assert superuser_answer(
            again, "template1",
            f"SELECT pg_has_role('{MASTER_USER}', 'rds_superuser', 'MEMBER'),"
            " pg_has_role('rds_superuser', 'pg_monitor', 'MEMBER'),"
            f" pg_has_role('rds_superuser', '{MASTER_USER}', 'MEMBER')",
        ) == [(True, True, False)]
    finally:
        again.stop()
