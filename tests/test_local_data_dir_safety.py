"""``alex-db local`` as root never follows a path someone else controls (issue 22, item 3), and a
stale ``postmaster.pid`` names only a process that is PostgreSQL on that data directory (item 5).

The attackers are the server's own operating-system user (``postgres``), which owns the cluster
directory and can plant symlinks in it, and another local user, who made the data directory in
advance under ``/tmp``. Both are real users here: ``postgres`` plants with ``runuser``, and the
other user is ``nobody``."""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alex_db.tools.local.postgres import LocalPostgres, LocalPostgresError
from alex_db.tools.local.signatures import AccessKey
from alex_db.tools.shared.exits import Exit
from tests.local_support import (
    ROOT,
    rds_data_client,
    reachable_folder,
    run,
    server_bin_dir,
    without_aws_credentials,
)

AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="root's privileges are what is at stake")
ROOTS_SECRET = "root's own file\n"


@pytest.fixture(scope="module")
def made():
    """A data directory ``local`` made and stopped; its folder and the server binaries."""
    bin_dir = server_bin_dir()
    with reachable_folder("alexdb-safety-") as top:
        postgres = LocalPostgres(top / "data", bin_dir, durable=False)
        postgres.start()
        postgres.stop()
        yield top, bin_dir


def roots_file(top: Path, name: str) -> Path:
    """A file only root may read or write, in a folder of its own beside the data directory
    (removed with ``top``)."""
    folder = top / f"roots-{name}"
    folder.mkdir(mode=0o700)
    target = folder / name
    target.write_text(ROOTS_SECRET)
    target.chmod(0o600)
    return target


def plant_as_server_user(link: Path, target: Path) -> None:
    """``ln -s target link`` as PostgreSQL's user, which owns the directory ``link`` is in."""
    subprocess.run(["runuser", "-u", "postgres", "--", "ln", "-sfn", str(target), str(link)],
                   check=True, capture_output=True, timeout=60)


def untouched(target: Path) -> tuple[str, int, int, int]:
    info = target.stat()
    return target.read_text(), info.st_uid, info.st_gid, info.st_mode & 0o7777


@AS_ROOT
def test_symlinks_the_server_user_plants_in_its_cluster_are_never_followed_by_root(made):
    top, bin_dir = made
    cluster = top / "data" / "pgdata"
    hba, ident, config = (roots_file(top, name) for name in ("hba", "ident", "config"))
    plant_as_server_user(cluster / "pg_hba.conf.partial", hba)
    plant_as_server_user(cluster / "pg_ident.conf.partial", ident)
    plant_as_server_user(cluster / "pg_hba.conf", config)
    before = [untouched(path) for path in (hba, ident, config)]
    postgres = LocalPostgres(top / "data", bin_dir, durable=False)
    try:
        postgres.start()
        rules = (cluster / "pg_hba.conf").read_text()
    finally:
        postgres.stop()
        assert [untouched(path) for path in (hba, ident, config)] == before
    assert before[0] == (ROOTS_SECRET, 0, 0, 0o600)
    # It still starts, with its own rules in a file of its own.
    assert "peer map=alexdb" in rules
    assert not (cluster / "pg_hba.conf").is_symlink()


def refusal(data_dir: Path) -> tuple[int, str]:
    """``alex-db local`` on ``data_dir`` as a user runs it; its exit code and stderr. One that
    serves instead of refusing is stopped with Ctrl-C after a while, and fails the test."""
    process = subprocess.Popen(
        [sys.executable, "-m", "alex_db", "local", "--port", "0", "--data-dir", str(data_dir),
         "--file", "-"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        pytest.fail(f"local served instead of refusing: {err}")
    assert out == ""
    return process.returncode, err.strip()


@AS_ROOT
def test_a_data_directory_another_user_made_is_refused_and_nothing_of_roots_is_touched():
    """What another local user leaves under /tmp for root: a data directory of theirs, with the
    lock file and the socket directory pointing at root's things."""
    nobody = pwd.getpwnam("nobody")
    with reachable_folder("alexdb-foreign-") as other:
        data = other / "data"
        data.mkdir(mode=0o755)
        os.chown(data, nobody.pw_uid, nobody.pw_gid)
        lock, run_target = roots_file(other, "lock"), roots_file(other, "run").parent
        for link, target in ((data / "alex-db-local.lock", lock), (data / "run", run_target)):
            subprocess.run(["runuser", "-u", "nobody", "--", "ln", "-s", str(target), str(link)],
                           check=True, capture_output=True, timeout=60)
        before = [untouched(lock), run_target.stat().st_uid, run_target.stat().st_mode]
        code, err = refusal(data)
        assert [untouched(lock), run_target.stat().st_uid, run_target.stat().st_mode] == before
    assert (code, err) == (
        Exit.USAGE,
        f"✗ --data-dir {data}: it belongs to user 'nobody' (uid {nobody.pw_uid}), not to "
        f"root, so alex-db local did not make it; as root it uses only a data directory it "
        f"made (remove it, or choose another --data-dir)",
    )


@AS_ROOT
def test_a_data_directory_that_is_another_users_link_to_roots_folder_is_refused():
    """A folder of root's, reached through a link another user made where the data directory
    goes: root would make its lock file, socket directory and cluster there."""
    with reachable_folder("alexdb-linked-") as top:
        roots_folder = top / "roots-folder"
        roots_folder.mkdir(mode=0o755)
        theirs = top / "theirs"
        theirs.mkdir()
        os.chown(theirs, pwd.getpwnam("nobody").pw_uid, -1)
        subprocess.run(["runuser", "-u", "nobody", "--", "ln", "-s", str(roots_folder),
                        str(theirs / "data")], check=True, capture_output=True, timeout=60)
        code, err = refusal(theirs / "data")
        assert list(roots_folder.iterdir()) == []
    assert code == Exit.USAGE
    assert err.startswith(f"✗ --data-dir {theirs / 'data'}: it is a symbolic link that belongs "
                          f"to user 'nobody' (uid {pwd.getpwnam('nobody').pw_uid}), not to root")


@AS_ROOT
def test_a_data_directory_others_may_write_in_is_refused():
    with reachable_folder("alexdb-open-") as top:
        data = top / "data"
        data.mkdir()
        data.chmod(0o777)
        code, err = refusal(data)
    assert code == Exit.USAGE
    assert err == (
        f"✗ --data-dir {data}: other users may write in it (mode 777), so alex-db local did not "
        f"make it; as root it uses only a data directory it made (remove it, or choose another "
        f"--data-dir)"
    )


@AS_ROOT
def test_a_lock_file_root_did_not_make_is_refused_not_truncated(made):
    top, _ = made
    lock = top / "data" / "alex-db-local.lock"
    lock.unlink()
    target = roots_file(top, "planted-lock")
    lock.symlink_to(target)
    try:
        code, err = refusal(top / "data")
    finally:
        lock.unlink()
    assert untouched(target) == (ROOTS_SECRET, 0, 0, 0o600)
    assert code == Exit.USAGE
    assert err == (f"✗ --data-dir {top / 'data'}: {lock} is a symbolic link, not the lock file "
                   f"alex-db local makes; remove it and start again")


# What can sit where the lock file goes, and the one line each gets (usage: exit 2).
LOCK_FILE_KINDS = {
    "a FIFO": (lambda lock: os.mkfifo(lock), "is not a regular file, not the lock file"),
    "a dangling link": (lambda lock: lock.symlink_to(lock.parent / "nowhere"),
                        "is a symbolic link, not the lock file"),
    "a directory": (lambda lock: lock.mkdir(), "cannot use it (Is a directory"),
}


@pytest.mark.parametrize("kind", LOCK_FILE_KINDS)
def test_whatever_sits_where_the_lock_file_goes_is_one_line_not_a_hang(made, kind):
    top, bin_dir = made
    plant, says = LOCK_FILE_KINDS[kind]
    lock = top / "data" / "alex-db-local.lock"
    lock.unlink(missing_ok=True)
    plant(lock)
    postgres = LocalPostgres(top / "data", bin_dir, durable=False)
    try:
        with pytest.raises(LocalPostgresError) as refused:
            postgres.start()
    finally:
        postgres.stop()
        lock.rmdir() if lock.is_dir() and not lock.is_symlink() else lock.unlink()
    assert refused.value.usage and says in str(refused.value) and "\n" not in str(refused.value)


def test_a_socket_directory_that_is_a_link_is_refused_and_its_target_untouched(made):
    top, bin_dir = made
    sockets = top / "data" / "run"
    target = top / "roots-folder"
    target.mkdir(mode=0o755)
    before = target.stat()
    subprocess.run(["rm", "-rf", str(sockets)], check=True)
    sockets.symlink_to(target)
    postgres = LocalPostgres(top / "data", bin_dir, durable=False)
    try:
        with pytest.raises(LocalPostgresError) as refused:
            postgres.start()
    finally:
        postgres.stop()
        sockets.unlink()
    after = target.stat()
    assert (after.st_uid, after.st_gid, after.st_mode) == (
        before.st_uid, before.st_gid, before.st_mode)
    assert str(refused.value) == (
        f"--data-dir {top / 'data'}: {sockets} is a symbolic link, which alex-db local did not "
        f"make; remove it and start again"
    )


# -- item 5: a stale postmaster.pid whose PID another process now has ------------------------------


def as_server_user() -> dict:
    """Popen arguments that run a process as PostgreSQL's user (ourselves when not root)."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam("postgres")
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


# Whose process now has the old server's PID: ours, or the server's user's, whose PID
# PostgreSQL's own check (kill(pid, 0) succeeds) would take for a live server.
@pytest.mark.parametrize("owner", [{}, as_server_user()], ids=["ours", "the server user's"])
def test_a_stale_postmaster_pid_naming_an_unrelated_process_does_not_stop_the_start(made, owner):
    top, bin_dir = made
    postgres = LocalPostgres(top / "data", bin_dir, durable=False)
    postgres.start()
    lines = postgres.data.postmaster_pid.read_text().split("\n")
    postgres.stop()
    # What a machine restart leaves: the file of a server that is gone, and its PID reused.
    unrelated = subprocess.Popen(["sleep", "300"], **owner)
    try:
        stale = "\n".join([str(unrelated.pid), *lines[1:]])
        postgres.data.postmaster_pid.write_text(stale)
        again = LocalPostgres(top / "data", bin_dir, durable=False)
        try:
            again.start()
            assert again.running()
            assert postgres.data.postmaster_pid.read_text().split("\n")[0] != str(unrelated.pid)
        finally:
            again.stop()
        assert unrelated.poll() is None  # nobody signalled it
    finally:
        unrelated.send_signal(signal.SIGTERM)
        unrelated.wait(60)


@AS_ROOT
def test_a_postmaster_pid_the_server_user_links_to_roots_file_is_not_read(made):
    """Root reads postmaster.pid in the cluster the server's user owns: a link there to a file
    of root's that holds "1" made root name init and tell the user to `kill -INT 1`."""
    top, bin_dir = made
    target = roots_file(top, "pid")
    target.write_text("1\n")
    plant_as_server_user(top / "data" / "pgdata" / "postmaster.pid", target)
    postgres = LocalPostgres(top / "data", bin_dir, durable=False)
    try:
        postgres.start()
        assert postgres.running()
    finally:
        postgres.stop()
    assert target.read_text() == "1\n"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(
    st.binary(max_size=64),
    st.integers(min_value=-2**40, max_value=2**40).map(lambda pid: f"{pid}\n".encode()),
))
@example(content=b"1\n")  # init: alive, and signalable by root
@example(content=f"{os.getpid()}\n".encode())  # this very process: alive, and ours
@example(content="\u0663\n".encode())  # a digit int() reads: pid 3
def test_whatever_postmaster_pid_holds_it_never_names_a_process_that_is_not_the_server(
    tmp_path, content
):
    """Whatever the server's user (or a crash) leaves in postmaster.pid of a data directory no
    server runs on, the start goes on, and the file is gone for PostgreSQL to write anew: the
    check that runs before PostgreSQL starts (``start()`` calls it after taking the lock)."""
    postgres = LocalPostgres(tmp_path / "data")
    postgres.data.cluster.mkdir(parents=True, exist_ok=True)
    postgres.data.postmaster_pid.write_bytes(content)
    postgres._refuse_a_left_behind_server()
    assert not postgres.data.postmaster_pid.exists()


# What another user leaves in a data directory of theirs for a developer to use: a key of theirs.
ATTACKERS_KEY = AccessKey("ALEXDBLOCALATTACKER1", "the-attackers-own-secret-0123456789abcd", None,
                          "nobody")


def python_for(user: str) -> list[str]:
    """This interpreter as ``user`` can run it, with this checkout's packages: ours when its
    folders let them in, else the system's copy of the same version (a virtualenv may point into
    root's home, 0700); ``-S`` keeps the system's own packages out."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for interpreter in (os.path.realpath(sys.executable), f"/usr/bin/{version}",
                        f"/usr/local/bin/{version}"):
        if subprocess.run(["runuser", "-u", user, "--", "test", "-x", interpreter],
                          capture_output=True, timeout=60).returncode == 0:
            return [interpreter, "-S"]
    pytest.skip(f"no {version} that user {user} may run")


@contextmanager
def local_as_developer(data: Path, project: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """``alex-db local`` on ``data`` run by a developer who is not root (the ``postgres``
    account, a user like any other) in ``project``; the process and its first stderr line.
    Stopped with Ctrl-C at the end if it is still serving."""
    developer = pwd.getpwnam("postgres")
    project.mkdir()
    os.chown(project, developer.pw_uid, developer.pw_gid)
    packages = os.pathsep.join((str(ROOT), sysconfig.get_paths()["purelib"]))
    environ = {**os.environ, "PYTHONPATH": packages, "HOME": developer.pw_dir}
    process = subprocess.Popen(
        ["runuser", "-u", "postgres", "--", *python_for("postgres"), "-m", "alex_db", "local",
         "--port", "0", "--data-dir", str(data), "--file", "-"],
        cwd=project, env=without_aws_credentials(environ, project),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        yield process, process.stderr.readline()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C, past runuser
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@AS_ROOT  # to make the two users; neither of them is root
def test_a_developer_is_not_handed_a_data_directory_another_user_made_with_a_key_in_it():
    """Not root this time: a developer runs ``local`` on a data directory that another user
    (``nobody``) made in advance in a shared folder, with an ``access-key`` of theirs in it.
    ``local`` read that key and answered calls signed with it: the other user was the master
    user, and on PostgreSQL 15 the developer's own operating-system user (``COPY ... TO
    PROGRAM``, ``roles``)."""
    developer, nobody = pwd.getpwnam("postgres"), pwd.getpwnam("nobody")
    with reachable_folder("alexdb-shared-") as shared:
        shared.chmod(0o1777)  # as /tmp is
        data = shared / "data"
        key = json.dumps({"key_id": ATTACKERS_KEY.key_id, "secret": ATTACKERS_KEY.secret})
        subprocess.run(["runuser", "-u", "nobody", "--", "sh", "-c",
                        f"umask 022 && mkdir -m 0777 {data} && printf '%s' '{key}' > {data}/access-key"],
                       check=True, capture_output=True, timeout=60)
        with local_as_developer(data, shared / "project") as (process, first):
            if "Data API on" in first:
                url = first.split("Data API on ", 1)[1].split(" ", 1)[0]
                try:
                    answer = run(rds_data_client(url, ATTACKERS_KEY), "SELECT current_user")
                except ClientError as error:
                    answer = error.response["Error"]
                pytest.fail(f"local served on {nobody.pw_name}'s data directory; a call signed "
                            f"with their key got {answer}")
            process.wait(timeout=60)
    assert process.returncode == Exit.USAGE
    assert first.strip() == (
        f"✗ --data-dir {data}: it belongs to user 'nobody' (uid {nobody.pw_uid}), not to user "
        f"'postgres' (uid {developer.pw_uid}), so alex-db local did not make it; it uses only a "
        f"data directory it made (remove it, or choose another --data-dir)"
    )


@AS_ROOT
def test_a_developer_keeps_using_a_data_directory_of_their_own_that_their_group_may_write():
    """The happy case beside it: with user private groups (Debian's and Ubuntu's umask 002) a
    folder the developer made is group-writable by a group that is theirs alone."""
    developer = pwd.getpwnam("postgres")
    with reachable_folder("alexdb-own-") as top:
        data = top / "data"
        data.mkdir()
        os.chown(data, developer.pw_uid, developer.pw_gid)
        data.chmod(0o775)
        with local_as_developer(data, top / "project") as (_, first):
            assert "Data API on" in first, first


@AS_ROOT
def test_root_does_not_write_through_a_dot_env_link_another_user_planted():
    """Root runs ``local`` with its ``.env`` in a folder others may write in (``/tmp``, a shared
    checkout); another user has put a link there to a file of root's. Root followed it: the
    file got local's lines and secret key, and mode 0600."""
    with reachable_folder("alexdb-dotenv-") as top:
        shared = top / "shared"
        shared.mkdir()
        shared.chmod(0o1777)
        target = top / "roots-config"
        target.write_text(ROOTS_SECRET)
        target.chmod(0o644)
        subprocess.run(["runuser", "-u", "nobody", "--", "ln", "-s", str(target),
                        str(shared / ".env")], check=True, capture_output=True, timeout=60)
        before = untouched(target)
        returncode, err = local_with_env_file(top, shared / ".env")
        assert untouched(target) == before
        assert not (top / "data").exists()  # refused before anything started
    assert returncode == Exit.USAGE
    assert err.strip() == (
        f"✗ --file {shared / '.env'}: it is a symbolic link that belongs to user 'nobody' "
        f"(uid {pwd.getpwnam('nobody').pw_uid}); as root, alex-db follows only root's links"
    )


def local_with_env_file(top: Path, env_file: Path) -> tuple[int, str]:
    """``local --file env_file`` with its data in ``top``, run until it stops by itself (a
    refusal) or, should it start, is stopped; its exit code and stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "alex_db", "local", "--port", "0", "--data-dir",
         str(top / "data"), "--file", str(env_file)],
        env=without_aws_credentials({**os.environ, "PYTHONPATH": str(ROOT)}, top),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    return process.returncode, err


@AS_ROOT
def test_root_does_not_hand_its_key_to_a_dot_env_another_user_left_in_a_shared_folder():
    """Root's ``.env`` keeps an existing file's owner; when that file is another user's, left in
    a folder they do not own (``/tmp``), the key ``local`` writes into it was theirs to read."""
    nobody = pwd.getpwnam("nobody")
    with reachable_folder("alexdb-theirs-") as top:
        shared = top / "shared"
        shared.mkdir()
        shared.chmod(0o1777)
        subprocess.run(["runuser", "-u", "nobody", "--", "sh", "-c",
                        f"umask 022 && printf 'MINE=1\\n' > {shared / '.env'}"],
                       check=True, capture_output=True, timeout=60)
        returncode, err = local_with_env_file(top, shared / ".env")
        left = (shared / ".env").read_text()
    assert "AWS_SECRET_ACCESS_KEY" not in left and left == "MINE=1\n"
    assert returncode == Exit.USAGE
    assert err.strip().startswith(
        f"✗ --file {shared / '.env'}: it belongs to user 'nobody' (uid {nobody.pw_uid})"
    )
