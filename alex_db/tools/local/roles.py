"""Aurora's roles on the local server: a superuser nobody reaches through the Data API, and a
master user with ``rds_superuser``, as AWS sets up an Aurora PostgreSQL cluster.

AWS ("Understanding the rds_superuser role", Aurora User Guide) gives the master user exactly
``LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE NOREPLICATION VALID UNTIL 'infinity'`` and the
``rds_superuser`` role, which lets it add extensions, create roles and grant privileges, create
databases, grant ``rds_superuser`` to others, and see every session in ``pg_stat_activity`` and
stop it with ``pg_cancel_backend``/``pg_terminate_backend``. The superuser is AWS's own
(``rdsadmin``); "you can't connect with the PostgreSQL superuser account". Here:

- ``SUPERUSER`` (``rdsadmin``) is the bootstrap superuser (``initdb --username``), used by
  ``alex-db local`` itself, and reachable only over the Unix socket by peer authentication as the
  operating-system user running ``alex-db local`` (``access_rules``). It has no password.
- ``RDS_SUPERUSER`` is a NOLOGIN role in ``pg_monitor`` (every session's ``pg_stat_activity``) and
  ``pg_signal_backend`` (cancel or end any non-superuser session), PostgreSQL's predefined roles
  for those two powers ("Predefined Roles" in the PostgreSQL docs).
- ``MASTER_USER`` has AWS's attributes, ``rds_superuser`` with ADMIN OPTION, owns databases
  ``alex`` and ``postgres`` (``DEFAULT_DATABASE``), and logs in with the data directory's password
  (SCRAM). Trusted extensions (``uuid-ossp``, ``pgcrypto``; PostgreSQL
  13+ marks them ``trusted``) need only CREATE on the database, which its owner has.

So the master user cannot run programs (``COPY ... TO/FROM PROGRAM`` needs superuser or
``pg_execute_server_program``), read or write server files (``pg_read_file``, ``lo_import``,
``COPY`` to a path: superuser or ``pg_read_server_files``/``pg_write_server_files``), change the
server's configuration (``ALTER SYSTEM``: superuser) or create superusers (PostgreSQL docs,
"COPY", "System Administration Functions", "ALTER SYSTEM", "CREATE ROLE").

One limit the local server cannot close: on PostgreSQL 15 and older, ``CREATEROLE`` may grant any
role that is not a superuser, ``pg_execute_server_program`` included (PostgreSQL 15 docs, "Role
Attributes": "regard roles that have the CREATEROLE privilege as almost-superuser-roles");
PostgreSQL 16 requires ADMIN OPTION on the role granted (16 release notes, "Restrict the
privileges of CREATEROLE"). Aurora's patched engine refuses it; a stock 15 cannot without a
server extension: it checks only CREATEROLE before such a grant (``AddRoleMems``,
``src/backend/commands/user.c``), and no event trigger sees it ("this event does not occur for
DDL commands targeting shared objects - databases, roles, and tablespaces", PostgreSQL 15 docs,
"Overview of Event Trigger Behavior"). ``converge`` revokes it at every start;
``LocalPostgres.createrole_is_contained`` says which kind of server runs.

Data directories made by an older ``alex-db local`` have the master user as the bootstrap
superuser (OID 10). Making it NOSUPERUSER is not enough: PostgreSQL 16+ refuses it ("The bootstrap
user must have the SUPERUSER attribute", ``src/backend/commands/user.c``), and on 15 it would
still own every system object, ``lo_export`` among them, which is as good as superuser; nor can
``REASSIGN OWNED`` move what the bootstrap user owns ("cannot reassign ownership of objects owned
by role ... because they are required by the database system", checked on 15.18). So
``retire_bootstrap_master`` renames the bootstrap user to ``rdsadmin`` and creates a new master
user with the same password in one transaction, and ``converge`` (every start) hands the new
master user what the old one created (``owned_objects``). Each step is idempotent, so a migration
cut short completes at the next start.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.types.numeric import Oid

from alex_db.config.naming import MASTER_USERNAME

SUPERUSER = "rdsadmin"
RDS_SUPERUSER = "rds_superuser"
MASTER_USER = MASTER_USERNAME
DATABASE = "alex"
# On RDS and Aurora the master user owns database postgres (and so its public schema): ORMs' suites
# create schemas there. template0 and rdsadmin stay rdsadmin's. Listings from real instances:
# "postgres | postgres ... rdsadmin | rdsadmin ... template0 | rdsadmin" with master user
# "postgres" (prayagupa/rdb, db/pg/README.md); AWS's "Controlling user access to the PostgreSQL
# database" (Aurora User Guide) has the master user run REVOKE CREATE ON SCHEMA public there.
DEFAULT_DATABASE = "postgres"
# Where the superuser's own sessions run: a database the master user can neither plant objects in
# nor put settings on. Now that the master owns ``postgres`` (above), a session there would meet
# what the master puts on it with ALTER DATABASE ... SET (a statement_timeout of 1 ms, or
# default_transaction_read_only, keeps every later start from finishing) and whatever it creates
# in its schemas. template1 belongs to the bootstrap superuser: only its owner may ALTER DATABASE
# it, and since PostgreSQL 15 its public schema belongs to pg_database_owner with no CREATE for
# PUBLIC (PostgreSQL 15 release notes, "Remove PUBLIC creation permission on the public schema"),
# while PUBLIC has no CREATE on the database itself (docs, "Privileges": CONNECT and TEMPORARY
# only), so the master can make no schema there either. Nothing is created in it, so what CREATE
# DATABASE copies stays as initdb made it.
UPKEEP_DATABASE = "template1"
# pg_ident.conf's map from the operating-system user running `local` to SUPERUSER.
IDENT_MAP = "alexdb"
BOOTSTRAP_SUPERUSER_OID = 10  # src/include/catalog/pg_authid.dat
FIRST_NORMAL_OBJECT_ID = 16384  # src/include/access/transam.h: below it, initdb's own objects
MASTER_ATTRIBUTES = (
    "LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE NOREPLICATION NOBYPASSRLS VALID UNTIL 'infinity'"
)
RDS_SUPERUSER_GRANTS = ("pg_monitor", "pg_signal_backend")
# Predefined roles that reach the server's files and programs: nobody but the superuser has them.
SERVER_ACCESS_ROLES = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")
MIGRATION_ROLE = "alexdb_migration"
# Libpq's ``options`` for every superuser session. PostgreSQL's advice after CVE-2018-1058
# ("A Guide to CVE-2018-1058: Protect Your Search Path", wiki.postgresql.org, 2018; libpq docs,
# "Connection Control Functions": "If untrusted users have access to a database that has not
# adopted a secure schema usage pattern, begin each session by removing publicly-writable schemas
# from search_path", by the ``options`` key word) is a search_path of pg_catalog, then pg_temp
# (searched last, and never for functions or operators: docs, "search_path"). With ``public`` in
# it, an operator public.=(oid, integer) that the master user creates beats pg_catalog's
# =(oid, oid) as the better match and runs as the superuser. Given at connection, the setting is
# the client's, which outranks one the master user puts on its database with ALTER DATABASE ...
# SET (``src/include/utils/guc.h``, ``GucSource``: PGC_S_CLIENT, "from client connection
# request", comes after PGC_S_DATABASE and PGC_S_DATABASE_USER, in increasing priority).
PINNED_SEARCH_PATH = "-c search_path=pg_catalog,pg_temp"
# PostgreSQL 17 adds login event triggers, which fire as whoever logs in, and a setting that
# switches every event trigger off for a session, "in a connection string" (PostgreSQL 17 docs,
# "Overview of Event Trigger Behavior" and "event_triggers"); older servers refuse the unknown
# setting at connection, so it is given from 17 on only.
EVENT_TRIGGERS_SETTING_FROM = 17


def superuser_session_options(major_version: int) -> str:
    """Libpq's ``options`` for a superuser session on a server of ``major_version``: the pinned
    ``search_path``, and from 17 on no event trigger (a login trigger an older superuser master
    left would otherwise run at every connection of ``local``)."""
    if major_version >= EVENT_TRIGGERS_SETTING_FROM:
        return f"{PINNED_SEARCH_PATH} -c event_triggers=off"
    return PINNED_SEARCH_PATH


# The comment ``retire_bootstrap_master`` puts on the superuser, in the same transaction as the
# rename: only a superuser may comment on a superuser (PostgreSQL 15 docs, "COMMENT"), and
# comments on roles live in the shared catalog pg_shdescription, seen from any database.
HANDOVER_PENDING = "alex-db local: hand-over of an older master user's objects pending"

# What an older master user may own, and how to give it away: (catalog, owner column, which rows,
# the ALTER keyword). Objects that belong to another (indexes, TOAST tables, a table's row and
# array types, serial and identity sequences, extension members) follow their owner and are left
# out; ALTER ... OWNER TO moves them along (PostgreSQL docs, "ALTER TABLE": "OWNER ... changes
# the owner of the table, sequence, view, materialized view, or foreign table ... indexes and
# sequences owned by it"; "ALTER TYPE": the array type follows). A function an event trigger
# runs stays the superuser's: the trigger runs it as whoever runs DDL, the superuser included
# (PostgreSQL docs, "CREATE EVENT TRIGGER": only superusers create them), and its owner could
# rewrite it.
OWNED_KINDS = (
    ("pg_class", "relowner", "relkind IN ('r', 'p')", "TABLE"),
    ("pg_class", "relowner", "relkind = 'v'", "VIEW"),
    ("pg_class", "relowner", "relkind = 'm'", "MATERIALIZED VIEW"),
    ("pg_class", "relowner", "relkind = 'S'", "SEQUENCE"),
    ("pg_class", "relowner", "relkind = 'f'", "FOREIGN TABLE"),
    (
        "pg_proc",
        "proowner",
        "oid OPERATOR(pg_catalog.<>) ALL (SELECT evtfoid FROM pg_catalog.pg_event_trigger)",
        "ROUTINE",
    ),
    ("pg_type", "typowner", "typtype = 'd'", "DOMAIN"),
    ("pg_type", "typowner", "typtype IN ('e', 'r', 'c')", "TYPE"),
    ("pg_namespace", "nspowner", "true", "SCHEMA"),
    ("pg_largeobject_metadata", "lomowner", "true", "LARGE OBJECT"),
    ("pg_collation", "collowner", "true", "COLLATION"),
    ("pg_conversion", "conowner", "true", "CONVERSION"),
    ("pg_operator", "oprowner", "true", "OPERATOR"),
    ("pg_opclass", "opcowner", "true", "OPERATOR CLASS"),
    ("pg_opfamily", "opfowner", "true", "OPERATOR FAMILY"),
    ("pg_ts_config", "cfgowner", "true", "TEXT SEARCH CONFIGURATION"),
    ("pg_ts_dict", "dictowner", "true", "TEXT SEARCH DICTIONARY"),
    ("pg_foreign_server", "srvowner", "true", "SERVER"),
    ("pg_statistic_ext", "stxowner", "true", "STATISTICS"),
)

# The class pg_identify_object takes for a catalog's rows, where it is another catalog: a large
# object's is pg_largeobject (PostgreSQL docs, "pg_largeobject_metadata").
OBJECT_CLASS = {"pg_largeobject_metadata": "pg_largeobject"}


class RolesError(Exception):
    """The cluster's roles cannot be made Aurora's; the message says why and what to do."""


def access_rules(os_user: str) -> tuple[str, str]:
    """``pg_hba.conf`` and ``pg_ident.conf``: the superuser over the Unix socket by peer
    authentication as ``os_user`` only, everyone else (the master user) by SCRAM password. The
    first matching line decides (PostgreSQL docs, "The pg_hba.conf File"); there are no ``host``
    lines, and the server listens on no TCP address anyway."""
    if '"' in os_user or not os_user.isprintable():
        raise RolesError(f"the operating-system user name {os_user!r} cannot go in pg_ident.conf")
    hba = (
        "# Written by alex-db local at every start; edits here are overwritten.\n"
        f"local all {SUPERUSER} peer map={IDENT_MAP}\n"
        "local all all scram-sha-256\n"
    )
    ident = (
        "# Written by alex-db local at every start; edits here are overwritten.\n"
        f'{IDENT_MAP} "{os_user}" {SUPERUSER}\n'
    )
    return hba, ident


def is_bootstrap_superuser(connection: psycopg.Connection) -> bool:
    """Whether the connection's user is the cluster's bootstrap superuser."""
    row = connection.execute(
        "SELECT oid OPERATOR(pg_catalog.=) %s AND rolsuper FROM pg_catalog.pg_roles"
        " WHERE rolname OPERATOR(pg_catalog.=) current_user",
        (Oid(BOOTSTRAP_SUPERUSER_OID),),
    ).fetchone()
    return bool(row and row[0])


def retire_bootstrap_master(connection: psycopg.Connection, password_hash: str) -> None:
    """On a connection as an older data directory's master user (the bootstrap superuser): rename
    it ``rdsadmin`` and create a new master user with ``password_hash``, in one transaction.
    A session cannot rename its own user; ``SET SESSION AUTHORIZATION`` to a transient superuser
    makes the session another's for the rename (PostgreSQL docs, "SET SESSION AUTHORIZATION").
    The same transaction marks the hand-over pending (``HANDOVER_PENDING``)."""
    taken = connection.execute(
        "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) %s", (SUPERUSER,)
    ).fetchone()
    if taken:
        raise RolesError(
            f"a role named {SUPERUSER} exists and is not the bootstrap superuser; rename it "
            f"(ALTER ROLE {SUPERUSER} RENAME TO ...) and start again"
        )
    with connection.transaction():
        for statement in (
            "CREATE ROLE {transient} SUPERUSER NOLOGIN",
            "SET SESSION AUTHORIZATION {transient}",
            "ALTER ROLE {master} RENAME TO {superuser}",
            "ALTER ROLE {superuser} PASSWORD NULL",
            "CREATE ROLE {master} LOGIN PASSWORD {password}",
            "RESET SESSION AUTHORIZATION",
            "DROP ROLE {transient}",
            "COMMENT ON ROLE {superuser} IS {pending}",
        ):
            connection.execute(
                sql.SQL(statement).format(
                    transient=sql.Identifier(MIGRATION_ROLE),
                    master=sql.Identifier(MASTER_USER),
                    superuser=sql.Identifier(SUPERUSER),
                    password=sql.Literal(password_hash),
                    pending=sql.Literal(HANDOVER_PENDING),
                )
            )


def converge(connection: psycopg.Connection, password_hash: str) -> None:
    """On the superuser's autocommit connection: make the roles and databases what the module
    docstring says, whatever an earlier start (or an older ``local``) left."""

    def run(statement: str, *arguments: object) -> None:
        connection.execute(sql.SQL(statement).format(*arguments))

    def exists(query: str, value: str) -> bool:
        return connection.execute(query, (value,)).fetchone() is not None

    role_exists = "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) %s"
    if not exists(role_exists, RDS_SUPERUSER):
        run("CREATE ROLE {} NOLOGIN", sql.Identifier(RDS_SUPERUSER))
    for granted in RDS_SUPERUSER_GRANTS:
        _break_cycle(connection, granted, RDS_SUPERUSER)
        run("GRANT {} TO {}", sql.Identifier(granted), sql.Identifier(RDS_SUPERUSER))
    if not exists(role_exists, MASTER_USER):
        run("CREATE ROLE {}", sql.Identifier(MASTER_USER))
    # The password and connection limit too: the master may change both with SQL (CREATEROLE),
    # after which the Data API, which logs in with the data directory's password, could never
    # connect again; on AWS, ModifyDBCluster's MasterUserPassword is the way back.
    run(
        f"ALTER ROLE {{}} {MASTER_ATTRIBUTES} CONNECTION LIMIT -1 PASSWORD {{}}",
        sql.Identifier(MASTER_USER),
        sql.Literal(password_hash),
    )
    _break_cycle(connection, RDS_SUPERUSER, MASTER_USER)
    run(
        "GRANT {} TO {} WITH ADMIN OPTION",
        sql.Identifier(RDS_SUPERUSER),
        sql.Identifier(MASTER_USER),
    )
    # What an older master user (a superuser) could have handed out: superusers besides
    # rdsadmin, and the predefined roles that reach the server's files and programs.
    for (role,) in connection.execute(
        "SELECT rolname FROM pg_catalog.pg_roles WHERE rolsuper"
        " AND oid OPERATOR(pg_catalog.<>) %s",
        (Oid(BOOTSTRAP_SUPERUSER_OID),),
    ).fetchall():
        run("ALTER ROLE {} NOSUPERUSER", sql.Identifier(role))
    for granted, member in connection.execute(
        "SELECT r.rolname, m.rolname FROM pg_catalog.pg_auth_members a"
        " JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.roleid"
        " JOIN pg_catalog.pg_roles m ON m.oid OPERATOR(pg_catalog.=) a.member"
        " WHERE r.rolname OPERATOR(pg_catalog.=) ANY(%s)",
        (list(SERVER_ACCESS_ROLES),),
    ).fetchall():
        run("REVOKE {} FROM {}", sql.Identifier(granted), sql.Identifier(member))
    if not exists(
        "SELECT 1 FROM pg_catalog.pg_database WHERE datname OPERATOR(pg_catalog.=) %s", DATABASE
    ):
        run("CREATE DATABASE {} OWNER {}", sql.Identifier(DATABASE), sql.Identifier(MASTER_USER))
    # The master owns postgres and may drop or rename it, as on RDS; nothing here needs it back.
    if exists(
        "SELECT 1 FROM pg_catalog.pg_database WHERE datname OPERATOR(pg_catalog.=) %s",
        DEFAULT_DATABASE,
    ):
        run(
            "ALTER DATABASE {} OWNER TO {}",
            sql.Identifier(DEFAULT_DATABASE),
            sql.Identifier(MASTER_USER),
        )
    for (database,) in connection.execute(
        "SELECT datname FROM pg_catalog.pg_database WHERE datdba OPERATOR(pg_catalog.=) %s"
        " AND oid OPERATOR(pg_catalog.>=) %s",
        (Oid(BOOTSTRAP_SUPERUSER_OID), Oid(FIRST_NORMAL_OBJECT_ID)),
    ).fetchall():
        run("ALTER DATABASE {} OWNER TO {}", sql.Identifier(database), sql.Identifier(MASTER_USER))


def _break_cycle(connection: psycopg.Connection, granted: str, member: str) -> None:
    """Make ``GRANT granted TO member`` possible again. PostgreSQL refuses it ("role ... is a
    member of role ...", ``check_role_membership_authorization``/``AddRoleMems`` in
    src/backend/commands/user.c) when ``granted`` already belongs to ``member``, directly or
    through other roles; on PostgreSQL 15 a CREATEROLE master can build that loop (revoke
    ``rds_superuser`` from itself, grant itself to ``rds_superuser``), which would fail every
    later start. Only the grants that close the loop are revoked: ``member`` given to a role
    that ``granted`` belongs to (itself included)."""
    for (holder,) in connection.execute(
        "SELECT pg_catalog.pg_get_userbyid(a.member) FROM pg_catalog.pg_auth_members a"
        " JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.roleid"
        " WHERE r.rolname OPERATOR(pg_catalog.=) %s"
        " AND pg_catalog.pg_has_role(%s::pg_catalog.name, a.member, 'MEMBER')",
        (member, granted),
    ).fetchall():
        connection.execute(
            sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(member), sql.Identifier(holder))
        )


def databases_to_hand_over(connection: psycopg.Connection) -> list[str]:
    """The databases the superuser must enter to finish a pending hand-over (every one a session
    can open; ``template0`` cannot be connected to), or none: outside a hand-over it stays out
    of the databases the master user owns (module docstring)."""
    pending = connection.execute(
        "SELECT pg_catalog.shobj_description(oid, 'pg_authid') OPERATOR(pg_catalog.=) %s"
        " FROM pg_catalog.pg_roles WHERE oid OPERATOR(pg_catalog.=) %s",
        (HANDOVER_PENDING, Oid(BOOTSTRAP_SUPERUSER_OID)),
    ).fetchone()
    if not (pending and pending[0]):
        return []
    rows = connection.execute(
        "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn ORDER BY 1"
    )
    return [name for (name,) in rows.fetchall()]


def handover_done(connection: psycopg.Connection) -> None:
    """Clear the mark ``retire_bootstrap_master`` set, once every database is handed over."""
    connection.execute(sql.SQL("COMMENT ON ROLE {} IS NULL").format(sql.Identifier(SUPERUSER)))


def owned_objects(connection: psycopg.Connection) -> list[tuple[str, str]]:
    """``(ALTER keyword, identity)`` of each object in the connection's database that the
    bootstrap superuser owns but did not create at ``initdb`` and that stands on its own
    (``OWNED_KINDS``); the identity is ``pg_identify_object``'s, schema-qualified and quoted for
    use in SQL (PostgreSQL docs, "Object Information and Addressing Functions")."""
    selects = [
        f"SELECT '{keyword}',"
        f" 'pg_catalog.{OBJECT_CLASS.get(catalog, catalog)}'::pg_catalog.regclass, oid"
        f" FROM pg_catalog.{catalog}"
        f" WHERE {owner} OPERATOR(pg_catalog.=) {BOOTSTRAP_SUPERUSER_OID}::pg_catalog.oid"
        f" AND oid OPERATOR(pg_catalog.>=) {FIRST_NORMAL_OBJECT_ID}::pg_catalog.oid AND {rows}"
        for catalog, owner, rows, keyword in OWNED_KINDS
    ]
    query = (
        "SELECT o.keyword, i.identity FROM ("
        + " UNION ALL ".join(selects)
        + ") AS o(keyword, classid, objid),"
        " pg_catalog.pg_identify_object(o.classid, o.objid, 0) AS i"
        # A member of an extension, or an object made for another (its 'i'nternal or 'a'uto
        # dependency: pg_depend in the PostgreSQL docs), follows what it belongs to.
        " WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
        " WHERE d.classid OPERATOR(pg_catalog.=) o.classid"
        " AND d.objid OPERATOR(pg_catalog.=) o.objid AND d.deptype IN ('e', 'i', 'a'))"
        " ORDER BY o.objid"
    )
    return [(keyword, identity) for keyword, identity in connection.execute(query).fetchall()]


def give_to_master(connection: psycopg.Connection) -> list[str]:
    """``ALTER ... OWNER TO`` the master user for each of ``owned_objects``, each on its own;
    returns the ones PostgreSQL refused (they stay the superuser's), as "keyword identity"."""
    refused = []
    for keyword, identity in owned_objects(connection):
        statement = sql.SQL("ALTER {} {} OWNER TO {}").format(
            sql.SQL(keyword), sql.SQL(identity), sql.Identifier(MASTER_USER)
        )
        try:
            connection.execute(statement)
        except psycopg.Error:
            refused.append(f"{keyword.lower()} {identity}")
    return refused
