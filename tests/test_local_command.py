"""``python -m alex_db local`` as a user runs it: a real process, a real .env, the example script,
``check`` and ``env`` against it, Ctrl-C, a restart on the warm data directory."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from alex_db.tools.cli import main
from alex_db.tools.local.postgres import LocalPostgres, LocalPostgresError, find_bin_dir
from alex_db.tools.shared import envfile
from alex_db.tools.shared.exits import Exit
from alex_db.tools.shared.local_identity import CLUSTER_ARN, SECRET_ARN
from tests.conftest import ROOT
from tests.local_support import rds_data_client
from tests.local_support import start_local as start
from tests.local_support import stop_local as stop

USER_LINES = "# Alex backend\nOPENAI_API_KEY=sk-keep-me\nAWS_ENDPOINT_URL_RDS_DATA=http://stale\n"
AWS_OUTPUTS = {
    "aurora_cluster_arn": "arn:aws:rds:us-east-1:123456789012:cluster:alex-aurora-cluster",
    "aurora_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:alex-aurora-AbCdEf",
    "database_name": "alex",
}


@pytest.fixture(scope="module")
def local():
    try:
        find_bin_dir()
    except LocalPostgresError as error:
        pytest.skip(f"no PostgreSQL server on this machine ({error}); .ci/run installs one")
    root = Path(tempfile.mkdtemp(prefix="alexdb-cli-"))
    os.chmod(root, 0o755)
    project = root / "project"
    project.mkdir()
    (project / ".env").write_text(USER_LINES)
    process, line = start(project, root / "data")
    assert "Data API on http://127.0.0.1:" in line, line + process.stderr.read()
    url = line.split("Data API on ", 1)[1].split(" ", 1)[0]
    yield SimpleNamespace(process=process, line=line, url=url, project=project, root=root)
    if process.poll() is None:
        stop(process)
    subprocess.Popen(["rm", "-rf", str(root)])


def test_env_gets_the_local_variables_and_keeps_every_other_line(local):
    assert (local.project / ".env").read_text() == (
        "# Alex backend\nOPENAI_API_KEY=sk-keep-me\n"
        f"AWS_ENDPOINT_URL_RDS_DATA={local.url}\n"
        f"AURORA_CLUSTER_ARN={CLUSTER_ARN}\nAURORA_SECRET_ARN={SECRET_ARN}\nAURORA_DATABASE=alex\n"
    )


def test_it_listens_on_127_0_0_1_only_and_never_prints_the_password(local):
    password = (local.root / "data" / "password").read_text().strip()
    assert (local.root / "data" / "password").stat().st_mode & 0o777 == 0o600
    assert password not in local.line
    port = int(local.url.rsplit(":", 1)[1])
    assert listening_addresses(port) == ["0100007F"]  # 127.0.0.1, and no other address


def listening_addresses(port: int) -> list[str]:
    """The hex addresses (as /proc/net/tcp{,6} write them) with a listening socket on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local_address, state = line.split()[1], line.split()[3]
            address, hex_port = local_address.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


def test_the_lambda_style_example_runs_unchanged(local):
    variables = envfile.parse((local.project / ".env").read_text())
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "lambda_style.py")],
        env={
            "PATH": os.environ["PATH"],
            "AWS_DEFAULT_REGION": "us-east-1",  # Lambda sets it (and AWS_REGION)
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            **{key: value for key, value in variables.items() if key != "OPENAI_API_KEY"},
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(json.loads(result.stdout)["body"])
    assert body == [
        {"name": "Ada", "prefs": '{"theme":"dark"}', "symbol": "VTI", "quantity": "12.5000",
         "active": True, "bought": "2024-03-01"}
    ]


def test_a_second_start_on_the_same_data_dir_is_refused(local):
    before = (local.project / ".env").read_text()
    second, line = start(local.project, local.root / "data")
    second.communicate(timeout=60)
    assert second.returncode == Exit.IN_USE
    assert f"another alex-db local (pid {local.process.pid}) is already running" in line
    assert (local.project / ".env").read_text() == before


def test_check_runs_only_the_data_api_step_against_it(local, monkeypatch, capsys):
    monkeypatch.chdir(local.project)
    for variable in ("AURORA_CLUSTER_ARN", "AURORA_SECRET_ARN", "AWS_ENDPOINT_URL_RDS_DATA"):
        monkeypatch.delenv(variable, raising=False)
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)  # no AWS credentials needed locally
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(local.root / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(local.root / "no-config"))
    code = main(["check"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert out.startswith("✓ Data API: SELECT version() -> PostgreSQL ")
    assert "the cluster and secret steps are skipped" in err


def test_env_for_a_stack_afterwards_switches_back_to_aws(local, monkeypatch, capsys):
    monkeypatch.chdir(local.project)
    (local.project / "outputs.json").write_text(json.dumps(AWS_OUTPUTS))
    assert main(["env", "--outputs", "outputs.json"]) == 0
    assert (local.project / ".env").read_text() == (
        "# Alex backend\nOPENAI_API_KEY=sk-keep-me\n"
        f"AURORA_CLUSTER_ARN={AWS_OUTPUTS['aurora_cluster_arn']}\n"
        f"AURORA_SECRET_ARN={AWS_OUTPUTS['aurora_secret_arn']}\nAURORA_DATABASE=alex\n"
        "AWS_REGION=us-east-1\nAWS_DEFAULT_REGION=us-east-1\nDEFAULT_AWS_REGION=us-east-1\n"
    )


def test_ctrl_c_stops_the_endpoint_and_postgresql(local):
    code, err = stop(local.process)
    assert code == 0
    assert err.strip().endswith("alex-db local: stopping")
    assert not (local.root / "data" / "pgdata" / "postmaster.pid").exists()
    port = int(local.url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


def test_a_restart_keeps_the_data_and_a_dying_server_ends_local(local):
    process, line = start(local.project, local.root / "data")
    try:
        assert "(reused)" in line, line
        url = line.split("Data API on ", 1)[1].split(" ", 1)[0]
        result = rds_data_client(url).execute_statement(
            resourceArn=CLUSTER_ARN, secretArn=SECRET_ARN, database="alex",
            sql="SELECT count(*) FROM holdings",
        )
        assert result["records"] == [[{"longValue": 1}]]
        postmaster = local.root / "data" / "pgdata" / "postmaster.pid"
        os.kill(int(postmaster.read_text().split()[0]), signal.SIGKILL)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            stop(process)
    assert process.returncode == Exit.POSTGRES
    assert err.strip().startswith("✗ PostgreSQL stopped unexpectedly: ")
    assert "\n" not in err.strip()


def test_a_closed_terminal_and_a_second_ctrl_c_still_stop_everything_cleanly(local):
    """SIGHUP (the terminal closed) stops it as Ctrl-C does, and a second signal while it stops
    neither interrupts the stop nor prints a traceback."""
    process, line = start(local.project, local.root / "data")
    assert "Data API on" in line, line
    process.send_signal(signal.SIGHUP)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert err.strip().endswith("alex-db local: stopping") and "Traceback" not in err
    assert not (local.root / "data" / "pgdata" / "postmaster.pid").exists()


def test_a_server_left_behind_by_a_killed_local_is_named_not_joined(local):
    process, line = start(local.project, local.root / "data")
    assert "Data API on" in line, line
    postmaster = local.root / "data" / "pgdata" / "postmaster.pid"
    orphan = int(postmaster.read_text().split()[0])
    process.kill()  # no chance to stop PostgreSQL, which runs in its own session
    process.communicate(timeout=60)
    try:
        second, line = start(local.project, local.root / "data")
        second.communicate(timeout=60)
        assert second.returncode == Exit.IN_USE
        assert f"a PostgreSQL server (pid {orphan}) still runs on it" in line
        assert f"kill -INT {orphan}" in line
    finally:
        os.kill(orphan, signal.SIGINT)
        for _ in range(600):
            if not postmaster.exists():
                break
            time.sleep(0.05)
    assert not postmaster.exists()


# -- refusals before anything starts -------------------------------------------------------------


def test_an_interrupted_first_start_leaves_no_half_made_cluster(local):
    """initdb killed half-way (Ctrl-C) must not leave a cluster that looks made: the next start
    would run PostgreSQL on it and wait for a server that never comes."""
    fake_bin = local.root / "interrupted-bin"
    fake_bin.mkdir()
    initdb = fake_bin / "initdb"
    # What a killed initdb leaves: PG_VERSION is among the first files it writes.
    initdb.write_text('#!/bin/sh\nmkdir -p "$2" && echo 15 > "$2/PG_VERSION" && kill -9 $$\n')
    initdb.chmod(0o755)
    (fake_bin / "postgres").symlink_to(find_bin_dir() / "postgres")
    data = local.root / "interrupted-data"
    with pytest.raises(LocalPostgresError, match="initdb failed"):
        LocalPostgres(data, fake_bin, durable=False).start()
    assert not (data / "pgdata").exists()
    assert sorted(path.name for path in data.iterdir()) == [
        "alex-db-local.lock", "password", "run"
    ]



def local_refusal(capsys, data_dir: Path, *flags: str) -> tuple[int, str]:
    code = main(["local", "--port", "0", "--data-dir", str(data_dir), "--file", "-", *flags])
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing written, not even the variables
    return code, captured.err.strip()


def test_a_data_dir_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert local_refusal(capsys, tmp_path / "file") == (
        2, f"✗ --data-dir {tmp_path / 'file'}: exists and is not a directory"
    )


@pytest.mark.skipif(not Path("/proc/1").is_dir(), reason="needs Linux's /proc")
def test_a_data_dir_nobody_can_write_in_is_refused_in_one_line(capsys):
    """/proc/1 is a folder in which not even root can create a file: the same refusal a user
    gets for a read-only folder or mount."""
    code, err = local_refusal(capsys, Path("/proc/1"))
    assert code == 2
    assert err.startswith("✗ --data-dir /proc/1: cannot use it (") and "\n" not in err


def test_a_server_binary_that_cannot_run_is_one_line_and_exit_1(local, monkeypatch, capsys):
    broken = local.root / "broken-bin"
    broken.mkdir()
    for name, mode in (("postgres", 0o755), ("initdb", 0o644)):  # initdb not executable
        (broken / name).write_text("#!/bin/sh\nexit 0\n")
        (broken / name).chmod(mode)
    monkeypatch.setenv("PATH", f"{broken}:{os.environ['PATH']}")
    code = main(["local", "--port", "0", "--data-dir", str(local.root / "broken-data"),
                 "--file", "-"])
    err = capsys.readouterr().err.strip()
    assert code == Exit.POSTGRES
    assert err.startswith("✗ cannot start PostgreSQL: Permission denied") and "\n" not in err


def test_a_data_dir_too_long_for_a_unix_socket_is_refused(tmp_path, capsys):
    code, err = local_refusal(capsys, tmp_path / ("d" * 120))
    assert code == 2
    assert "too long for the server's Unix socket" in err and "\n" not in err


def test_a_half_made_cluster_is_refused_not_overwritten(capsys):
    tmp_path = Path(tempfile.mkdtemp(prefix="alexdb-half-"))
    os.chmod(tmp_path, 0o755)  # the postgres user must reach it when we are root
    (tmp_path / "data" / "pgdata").mkdir(parents=True)
    (tmp_path / "data" / "pgdata" / "keep.me").write_text("user file")
    code, err = local_refusal(capsys, tmp_path / "data")
    assert code == 2
    assert "is not empty but holds no PostgreSQL cluster" in err
    assert (tmp_path / "data" / "pgdata" / "keep.me").read_text() == "user file"
    subprocess.run(["rm", "-rf", str(tmp_path)], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to the postgres user")
def test_as_root_a_data_dir_the_postgres_user_cannot_enter_is_refused(tmp_path, capsys):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    code, err = local_refusal(capsys, private / "data")
    assert code == 2
    assert "PostgreSQL runs as user 'postgres'" in err and "cannot enter" in err


def test_a_busy_port_is_refused(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["local", "--port", str(port), "--data-dir", str(tmp_path / "d")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(f"✗ --port {port}: cannot listen on 127.0.0.1")
    assert not (tmp_path / "d").exists()


def test_the_readme_shows_the_example_that_runs():
    readme = (ROOT / "docs" / "local.md").read_text()
    script = (ROOT / "examples" / "lambda_style.py").read_text()
    assert f"```python\n{script}```\n" in readme


def test_an_unreadable_env_file_is_refused_before_anything_starts(tmp_path, capsys):
    (tmp_path / ".env").write_bytes(b"KEY=\xff\xfe\n")
    code = main(["local", "--port", "0", "--data-dir", str(tmp_path / "d"),
                 "--file", str(tmp_path / ".env")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == (
        f"✗ --file {tmp_path / '.env'}: not UTF-8 text (byte 4 cannot be decoded); save it as "
        "UTF-8 first"
    ), "the same refusal as `env` gives for the same file"
    assert "\n" not in err
    assert not (tmp_path / "d").exists()
    assert (tmp_path / ".env").read_bytes() == b"KEY=\xff\xfe\n"


# -- check against a local endpoint that is missing or misconfigured -----------------------------


@pytest.fixture
def local_target(tmp_path, monkeypatch):
    """A project folder whose environment names the local cluster, as `local` writes it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AURORA_CLUSTER_ARN", CLUSTER_ARN)
    monkeypatch.setenv("AURORA_SECRET_ARN", SECRET_ARN)
    monkeypatch.delenv("AWS_ENDPOINT_URL_RDS_DATA", raising=False)
    return tmp_path


def test_check_names_an_unreadable_env_file_instead_of_a_traceback(local_target, capsys):
    (local_target / ".env").write_bytes(b"X=\xff\n")
    code = main(["check", "--wait", "1"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert err.startswith("✗ .env: not UTF-8 text")


def test_check_refuses_an_endpoint_variable_that_is_not_a_url(local_target, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS_DATA", "not a url")
    code = main(["check", "--wait", "1"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == Exit.AWS_CONFIG
    assert err == (
        "✗ AWS_ENDPOINT_URL_RDS_DATA 'not a url' is not a URL; alex-db local writes "
        "http://127.0.0.1:PORT there"
    )


def test_check_says_when_nothing_listens_at_thelocal_endpoint(local_target, monkeypatch, capsys):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS_DATA", f"http://127.0.0.1:{port}")
    code = main(["check", "--wait", "1"])
    out = capsys.readouterr().out
    assert code == Exit.UNREACHABLE
    assert out.strip() == (
        f"✗ Data API: nothing answers at http://127.0.0.1:{port}; start it with `alex-db local` "
        f"(its first line gives the address)"
    )
