"""``alex-db local``: start PostgreSQL and the Data API endpoint, write ``.env``, serve
until Ctrl-C, then stop both.

Exit codes (``shared.exits``): 0 stopped cleanly; 20 PostgreSQL could not be set up or started,
or stopped on its own (the message quotes its log); 2 a bad flag or an unusable data directory or
port; 21 another ``alex-db local``, or a PostgreSQL server one left behind, already runs on the
data directory.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from alex_db.tools.local import access_keys
from alex_db.tools.local.admission import Signer
from alex_db.tools.local.endpoint import DataApiEndpoint
from alex_db.tools.local.postgres import (
    DATABASE,
    MASTER_USER,
    SUPERUSER,
    DataDirectoryInUseError,
    LocalPostgres,
    LocalPostgresError,
    shown,
)
from alex_db.tools.local.roles import RDS_SUPERUSER
from alex_db.tools.local.service import DataApi
from alex_db.tools.shared import envfile, variables
from alex_db.tools.shared import local_identity as identity
from alex_db.tools.shared.exits import Exit

# Ctrl-C, kill, a closed terminal. Set explicitly: a shell starting us in the background leaves
# SIGINT ignored, and SIGHUP's default would end us without stopping PostgreSQL (its own session).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# How often the main thread looks whether PostgreSQL is still up (Ctrl-C interrupts the wait).
WATCH_SECONDS = 0.5
# The three variables the deployed stack's `env` writes, plus the endpoint that points boto3 here.
ENV_VARIABLES = (
    variables.CLUSTER_ARN_VARIABLE,
    variables.SECRET_ARN_VARIABLE,
    variables.DATABASE_VARIABLE,
)


@dataclass(frozen=True)
class EnvUpdate:
    """What ``.env`` gets (``updates``), what it loses (``drop``), and whether it then holds a
    secret (``private``: written 0600)."""

    updates: dict[str, str]
    drop: list[str]
    private: bool


def env_update(
    endpoint_url: str, keyring: access_keys.Keyring, existing: dict[str, str]
) -> EnvUpdate:
    """The local ARNs, the database, the endpoints for boto3's rds-data and rds clients (the
    control plane answers on the same port) and the region of the ARNs; and
    ``local``'s own key only when the developer has no credentials of their own, which a process
    loading ``.env`` would otherwise stop using for AWS (``access_keys``). A key of ours left
    from an earlier start is removed once the developer has their own."""
    updates = dict(
        zip(ENV_VARIABLES, (identity.CLUSTER_ARN, identity.SECRET_ARN, DATABASE), strict=True)
    ) | {variables.ENDPOINT_VARIABLE: endpoint_url, variables.RDS_ENDPOINT_VARIABLE: endpoint_url}
    updates |= dict.fromkeys(variables.REGION_VARIABLES, identity.REGION)
    key_variables = [variables.ACCESS_KEY_VARIABLE, variables.SECRET_KEY_VARIABLE]
    if keyring.developer is None:
        updates |= dict(zip(key_variables, (keyring.own.key_id, keyring.own.secret), strict=True))
        return EnvUpdate(updates, [], private=True)
    ours_left = identity.is_local_key(existing.get(variables.ACCESS_KEY_VARIABLE, ""))
    return EnvUpdate(updates, key_variables if ours_left else [], private=False)


def check_env_file(location: str) -> dict[str, str]:
    """Refuse, before anything starts, a ``--file`` that ``env``'s rules could not update; what
    it holds now (nothing for ``-``)."""
    if location == "-":
        return {}
    text = envfile.read_existing(envfile.target_of(Path(location)))
    return envfile.parse(text or "")


def write_env(location: str, change: EnvUpdate) -> str:
    """Merge the change into the file with ``env``'s rules (``envfile.update_file``), or print
    the variables for ``-``; returns what it did (names only: a value may be a secret)."""
    if location == "-":
        print(envfile.merge("", change.updates), end="", flush=True)
        return "printed the variables"
    if envfile.update_file(Path(location), change.updates, change.drop, change.private):
        removed = f", removed {', '.join(change.drop)}" if change.drop else ""
        return f"wrote {', '.join(change.updates)} to {location}{removed}"
    return f"{location} already up to date"


def accepted_keys(keyring: access_keys.Keyring) -> str:
    """The start line's account of who may call: which keys sign, never a secret."""
    if keyring.developer is None:
        return f"signed calls accepted with the keys in .env ({access_keys.OWN_SOURCE})"
    return (
        f"signed calls accepted with {keyring.developer.source} and {access_keys.OWN_SOURCE}"
    )


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C (or SIGTERM, or SIGHUP when the terminal closes); returns the exit
    code."""
    stop = _StopOnFirstSignal()
    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        return _run(args)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run(args: argparse.Namespace) -> int:
    try:
        existing = check_env_file(args.file)
    except (envfile.EnvFileError, OSError) as error:
        return _refuse_file(args.file, error, "read")
    postgres = LocalPostgres(args.data_dir)
    api = DataApi(
        postgres.conninfo, identity.CLUSTER_ARN, identity.SECRET_ARN, pause_after=args.pause_after
    )
    in_env_file = access_keys.key_in_env_file(existing)
    keyring = access_keys.Keyring(
        developer=(lambda: in_env_file) if in_env_file else access_keys.chain_credentials
    )
    try:
        endpoint = DataApiEndpoint(
            api,
            args.port,
            Signer(keyring.find, identity.REGION),
            engine_version=lambda: str(postgres.major_version),
        )
    except OSError as error:
        print(
            f"✗ --port {args.port}: cannot listen on 127.0.0.1 ({_reason(error)}); "
            f"choose another with --port",
            file=sys.stderr,
        )
        return Exit.USAGE
    try:
        return _serve(postgres, endpoint, keyring, existing, args)
    except KeyboardInterrupt:
        print("alex-db local: interrupted while starting; stopped", file=sys.stderr)
        return Exit.OK
    finally:
        endpoint.server_close()
        api.close()
        postgres.stop()


def _serve(
    postgres: LocalPostgres,
    endpoint: DataApiEndpoint,
    keyring: access_keys.Keyring,
    existing: dict[str, str],
    args,
) -> int:
    try:
        created = postgres.start()
    except DataDirectoryInUseError as error:
        print(f"✗ {error}", file=sys.stderr)
        return Exit.IN_USE
    except LocalPostgresError as error:
        print(f"✗ {error}", file=sys.stderr)
        return Exit.USAGE if error.usage else Exit.POSTGRES
    except OSError as error:  # e.g. a server binary that cannot be run, a full disk
        where = f": {shown(error.filename)}" if error.filename else ""
        print(f"✗ cannot start PostgreSQL: {_reason(error)}{where}", file=sys.stderr)
        return Exit.POSTGRES
    try:
        keyring.own = access_keys.own_key(postgres.data.root)
        keep_out_of_version_control(postgres.data.root)
    except (access_keys.AccessKeyError, OSError) as error:
        why = getattr(error, "strerror", None) or error
        print(f"✗ --data-dir {shown(postgres.data.root)}: {why}", file=sys.stderr)
        return Exit.USAGE
    try:
        wrote = write_env(args.file, env_update(endpoint.url, keyring, existing))
    except (envfile.EnvFileError, OSError) as error:
        return _refuse_file(args.file, error, "write")
    pause = f"; auto-pause after {args.pause_after:g} s idle" if args.pause_after else ""
    state = data_directory_state(postgres, created)
    serving = threading.Thread(target=endpoint.serve_forever, args=(0.1,), daemon=True)
    # Everything from here on is inside the try: a Ctrl-C the moment the line below appears
    # still stops the endpoint's thread before its socket is closed.
    try:
        serving.start()
        print(
            f"alex-db local: Data API on {endpoint.url} for {identity.CLUSTER_ARN}, database "
            f"{DATABASE}, PostgreSQL in {postgres.data.root} "
            f"({state}){pause}; {accepted_keys(keyring)}; {wrote}. Ctrl-C stops.",
            file=sys.stderr,
            flush=True,
        )
        while postgres.running():
            time.sleep(WATCH_SECONDS)
    except KeyboardInterrupt:
        print("alex-db local: stopping", file=sys.stderr, flush=True)
        return Exit.OK
    finally:
        if serving.ident is not None:  # started (shutdown() would wait forever otherwise)
            endpoint.shutdown()
    print(
        f"✗ PostgreSQL stopped unexpectedly: {postgres.last_log_line()} "
        f"(log: {shown(postgres.data.log_file)})",
        file=sys.stderr,
    )
    return Exit.POSTGRES


def keep_out_of_version_control(root: Path) -> None:
    """An ignore file that ignores everything beside it, itself included (gitignore(5): "*"
    matches every name in the directory of the .gitignore), so the password, the keys and the
    database never show up in whatever repository the data directory sits in (an Alex checkout,
    whose own .gitignore does not name it). Made once, never through a symlink."""
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        handle = os.open(root / ".gitignore", flags, 0o644)
    except FileExistsError:
        return
    with os.fdopen(handle, "w") as file:
        file.write("# alex-db local's data: its password, keys and database. Never commit it.\n*\n")


def data_directory_state(postgres: LocalPostgres, created: bool) -> str:
    """What the start line says of the data directory: new or reused, and what a first start on
    an older one changed (the master user moved off SUPERUSER, objects left to the superuser)."""
    state = "created" if created else "reused"
    if postgres.migrated:
        state += f"; {MASTER_USER} moved from SUPERUSER to {RDS_SUPERUSER}, as on Aurora"
    if postgres.kept_by_superuser:
        state += f"; {len(postgres.kept_by_superuser)} objects stay {SUPERUSER}'s: " + ", ".join(
            postgres.kept_by_superuser
        )
    return state


def _refuse_file(location: str, error: Exception, doing: str) -> int:
    """One line for a ``--file`` that cannot be read or written (an EnvFileError says why
    itself, as ``env`` shows it); the usage exit code."""
    if isinstance(error, envfile.EnvFileError):
        why = str(error)
    else:
        why = f"cannot {doing} it ({_reason(error)})"
    print(f"✗ --file {shown(location)}: {why}", file=sys.stderr)
    return Exit.USAGE


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or " ".join(str(error).split())


class _StopOnFirstSignal:
    """The first stop signal stops everything (as Ctrl-C's KeyboardInterrupt); later ones are
    ignored, so that a second Ctrl-C cannot cut the stop short and leave PostgreSQL running with
    nobody to stop it. (Changing the signals' disposition from inside a handler can itself fail,
    "Signal 2 ignored due to race condition", hence a flag.)"""

    def __init__(self) -> None:
        self.received = False

    def __call__(self, signum, frame) -> None:
        if not self.received:
            self.received = True
            raise KeyboardInterrupt
