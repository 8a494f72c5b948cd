"""``python -m alex_db check`` against moto: healthy, missing, Data API off, bad secret,
resuming, access denied, every ARN source, and a real subprocess against a moto server."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer

from alex_db.tools.check import Exit, run_checks
from alex_db.tools.cli import main
from alex_db.tools.targets import Target
from tests.aws_fakes import PASSWORD, REGION, VERSION, create_stack, queue_version_row
from tests.conftest import ROOT


@pytest.fixture
def aws(monkeypatch, tmp_path):
    """Fake credentials, no real endpoint, an empty working directory, moto in-process."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_PROFILE",
        "AURORA_CLUSTER_ARN",
        "AURORA_SECRET_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with mock_aws():
        yield


def check(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    captured = capsys.readouterr()
    assert PASSWORD not in captured.out + captured.err, "the password was printed"
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def arn_flags(stack) -> list[str]:
    return ["--cluster-arn", stack.cluster_arn, "--secret-arn", stack.secret_arn]


def test_healthy_stack_passes_all_three_steps(aws, capsys):
    stack = create_stack()
    queue_version_row()
    code, out, _ = check(capsys, *arn_flags(stack))
    assert code == Exit.OK
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0] == (
        "✓ cluster alex-aurora-cluster: available, aurora-postgresql 15.12, "
        "Serverless v2 0.5-1 ACU, Data API enabled"
    )
    assert lines[1] == (
        "✓ secret alex-aurora-credentials-0a1b2c3d-"
        + stack.secret_arn.rsplit("-", 1)[-1]
        + ": readable, has username (alexadmin) and password"
    )
    assert lines[2] == f"✓ Data API: SELECT version() -> {VERSION}"


def test_json_report_is_machine_readable(aws, capsys):
    stack = create_stack()
    queue_version_row()
    code, out, _ = check(capsys, *arn_flags(stack), "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True and report["exit_code"] == 0
    assert report["version"] == VERSION
    assert [step["ok"] for step in report["steps"]] == [True, True, True]
    assert report["cluster_arn"] == stack.cluster_arn and report["region"] == REGION


def test_missing_cluster_is_not_found(aws, capsys):
    stack = create_stack()
    missing = stack.cluster_arn.replace("alex-aurora-cluster", "gone-cluster")
    code, out, _ = check(capsys, "--cluster-arn", missing, "--secret-arn", stack.secret_arn)
    assert code == Exit.NOT_FOUND == 3
    first = out.splitlines()[0]
    assert first.startswith("✗ cluster gone-cluster: not found (DBClusterNotFoundFault)")
    assert "python -m alex_db env" in first
    assert "Data API:" not in out, "no query without a cluster"


def test_data_api_off_says_how_to_enable_it(aws, capsys):
    stack = create_stack(data_api=False)
    code, out, _ = check(capsys, *arn_flags(stack))
    assert code == Exit.DATA_API_DISABLED == 4
    assert "Data API disabled" in out
    assert f"aws rds enable-http-endpoint --resource-arn {stack.cluster_arn}" in out
    assert "✓ secret" in out


def test_secret_without_password_is_unusable_and_nothing_of_it_is_printed(aws, capsys):
    stack = create_stack(secret={"username": "alexadmin", "note": PASSWORD})
    code, out, _ = check(capsys, *arn_flags(stack))
    assert code == Exit.SECRET_UNUSABLE == 5
    assert "JSON has no password, which the Data API needs" in out


def test_secret_that_is_not_json_is_unusable(aws, capsys):
    stack = create_stack(secret=PASSWORD)
    code, out, _ = check(capsys, *arn_flags(stack))
    assert code == Exit.SECRET_UNUSABLE
    assert "value is not JSON" in out


def fail_first(
    session, event: str, code: str, times: int = 1, message: str = "stubbed"
) -> list[int]:
    """Make the first ``times`` calls of ``event`` fail with ``code``; returns the call log."""
    calls: list[int] = []

    def handler(**_):
        calls.append(1)
        if len(calls) <= times:
            raise ClientError({"Error": {"Code": code, "Message": message}}, event)

    session.events.register(f"before-call.{event}", handler)
    return calls


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def target(stack) -> Target:
    return Target(stack.cluster_arn, stack.secret_arn, "alex", REGION)


def test_resuming_cluster_is_retried_with_backoff_until_it_answers(aws):
    stack = create_stack()
    queue_version_row()
    session = boto3.Session(region_name=REGION)
    calls = fail_first(session, "rds-data.ExecuteStatement", "DatabaseResumingException", times=3)
    fake, said = FakeTime(), []
    report = run_checks(session, target(stack), 60, fake.sleep, fake.clock, said.append)
    assert report.exit == Exit.OK
    assert report.version == VERSION
    assert len(calls) == 4
    assert fake.sleeps == [1, 2, 4]
    assert said[0] == "… the cluster is resuming from auto-pause; retrying in 1 s"


def test_resuming_past_the_wait_gives_up_with_its_own_code(aws):
    stack = create_stack()
    session = boto3.Session(region_name=REGION)
    fail_first(session, "rds-data.ExecuteStatement", "DatabaseResumingException", times=100)
    fake = FakeTime()
    report = run_checks(session, target(stack), 15, fake.sleep, fake.clock, lambda _: None)
    assert report.exit == Exit.STILL_RESUMING == 7
    assert sum(fake.sleeps) == 15
    assert "still resuming from auto-pause after 15 s" in report.steps[-1].line()


def test_access_denied_has_its_own_code(aws):
    stack = create_stack()
    session = boto3.Session(region_name=REGION)
    fail_first(session, "secretsmanager.GetSecretValue", "AccessDeniedException")
    report = run_checks(session, target(stack), 5, time.sleep, time.monotonic, print)
    assert report.exit == Exit.ACCESS_DENIED == 6
    assert "secretsmanager:GetSecretValue" in report.steps[1].detail


def test_arns_come_from_dotenv_when_no_flag_is_given(aws, capsys, tmp_path):
    stack = create_stack()
    queue_version_row()
    (tmp_path / ".env").write_text(
        f"# mine\nAURORA_CLUSTER_ARN={stack.cluster_arn}\nAURORA_SECRET_ARN='{stack.secret_arn}'\n"
    )
    code, out, _ = check(capsys)
    assert code == 0, out


def test_flags_beat_the_environment_which_beats_dotenv(aws, capsys, monkeypatch, tmp_path):
    stack = create_stack()
    wrong = stack.cluster_arn.replace("alex-aurora-cluster", "from-dotenv")
    (tmp_path / ".env").write_text(f"AURORA_CLUSTER_ARN={wrong}\n")
    monkeypatch.setenv("AURORA_CLUSTER_ARN", stack.cluster_arn.replace("alex-", "from-env-"))
    monkeypatch.setenv("AURORA_SECRET_ARN", stack.secret_arn)
    _, out, _ = check(capsys)
    assert "✗ cluster from-env-aurora-cluster" in out
    _, out, _ = check(capsys, "--cluster-arn", stack.cluster_arn.replace("alex-", "flag-"))
    assert "✗ cluster flag-aurora-cluster" in out


def test_arns_from_an_outputs_file_and_from_stdin(aws, capsys, monkeypatch, tmp_path):
    stack = create_stack()
    queue_version_row()
    outputs = json.dumps(
        {"aurora_cluster_arn": stack.cluster_arn, "aurora_secret_arn": stack.secret_arn}
    )
    (tmp_path / "outputs.json").write_text(outputs)
    assert check(capsys, "--outputs", "outputs.json")[0] == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(outputs))
    assert check(capsys, "--outputs", "-")[0] == 0


def test_stack_source_without_the_cli_is_a_clear_usage_error(aws, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    code, out, err = check(capsys, "--stack", "dev")
    assert code == Exit.USAGE == 2
    assert out == ""
    assert err.startswith("✗ --stack dev: the Pulumi CLI is not installed here")


def test_no_source_at_all_names_every_way_to_give_one(aws, capsys):
    code, _, err = check(capsys)
    assert code == 2
    assert "no AURORA_CLUSTER_ARN or AURORA_SECRET_ARN" in err
    assert "--outputs FILE or --stack NAME" in err


def test_region_flag_wins_over_the_arns_region(aws, capsys):
    stack = create_stack()
    code, out, _ = check(capsys, *arn_flags(stack), "--region", "eu-west-1", "--json")
    report = json.loads(out)
    assert report["region"] == "eu-west-1"
    assert code == Exit.NOT_FOUND  # nothing deployed there


def test_unreachable_endpoint_is_one_line_not_a_traceback(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    arn = f"arn:aws:rds:{REGION}:123456789012:cluster:c"
    secret = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:s-AbCdEf"
    code, out, _ = check(capsys, "--cluster-arn", arn, "--secret-arn", secret)
    assert code == Exit.OTHER == 1
    assert out.splitlines()[0].startswith("✗ cluster c: cannot reach AWS")


def test_real_command_in_a_subprocess_against_a_moto_server(tmp_path, monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AURORA_"))},
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "PYTHONPATH": str(ROOT),
        }
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        stack = create_stack(endpoint_url=url)
        queue_version_row(url)
        outputs = tmp_path / "outputs.json"
        outputs.write_text(
            json.dumps(
                {"aurora_cluster_arn": stack.cluster_arn, "aurora_secret_arn": stack.secret_arn}
            )
        )
        result = subprocess.run(
            [sys.executable, "-m", "alex_db", "check", "--outputs", str(outputs)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"✓ Data API: SELECT version() -> {VERSION}" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_data_api_refusing_the_statement_is_reported_as_disabled(aws):
    stack = create_stack()
    session = boto3.Session(region_name=REGION)
    fail_first(
        session,
        "rds-data.ExecuteStatement",
        "BadRequestException",
        message="HTTP endpoint is not\nenabled for cluster",
    )
    report = run_checks(session, target(stack), 5, time.sleep, time.monotonic, print)
    assert report.exit == Exit.DATA_API_DISABLED
    assert report.steps[-1].line() == (
        "✗ Data API: the Data API is not enabled on this cluster; `pulumi up` turns it on"
    )


def test_any_other_aws_error_is_one_line_with_its_code(aws):
    stack = create_stack()
    session = boto3.Session(region_name=REGION)
    fail_first(session, "rds.DescribeDBClusters", "Throttling")
    report = run_checks(session, target(stack), 5, time.sleep, time.monotonic, print)
    assert report.exit == Exit.OTHER
    assert report.steps[0].line() == "✗ cluster alex-aurora-cluster: Throttling: stubbed"


def test_a_later_source_is_not_consulted_once_the_arns_are_known(aws, capsys, monkeypatch):
    stack = create_stack()
    queue_version_row()
    monkeypatch.setenv("PATH", "/nonexistent")  # --stack would fail: no Pulumi CLI
    code, out, _ = check(capsys, *arn_flags(stack), "--stack", "dev")
    assert code == 0, out
