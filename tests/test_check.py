"""``python -m alex_db check`` against moto: healthy, missing, Data API off, bad secret,
resuming, access denied, every ARN source, and a real subprocess against a moto server."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.server import ThreadedMotoServer

from alex_db.tools.cli import main
from alex_db.tools.deployed import check as check_module
from alex_db.tools.deployed.check import (
    LONGEST_WAIT_SECONDS,
    SMALLEST_CALL_SECONDS,
    WAIT_MARGIN_SECONDS,
    Budget,
    run_checks,
)
from alex_db.tools.deployed.locate import Target
from alex_db.tools.shared.exits import Exit
from tests.aws_fakes import (
    ACCOUNT,
    DEV_VERSION,
    PASSWORD,
    REGION,
    VERSION,
    create_stack,
    queue_version_row,
)
from tests.conftest import ROOT

# ARNs of nothing deployed anywhere, well formed.
UNDEPLOYED = [
    "--cluster-arn",
    f"arn:aws:rds:{REGION}:123456789012:cluster:c",
    "--secret-arn",
    f"arn:aws:secretsmanager:{REGION}:123456789012:secret:s-AbCdEf",
]
# Pieces of almost-ARNs, so generated text reaches past the first check of its shape.
ARN_PIECES = [
    "arn",
    ":",
    "aws",
    "aws-cn",
    "rds",
    "secretsmanager",
    REGION,
    "eu-west-1",
    ACCOUNT,
    "1",
    "cluster",
    "db",
    "secret",
    "alex-aurora-cluster",
    "-",
    "--",
    "\n",
    "\x1b",
    "é",
    "١",
    "aws-us-gov",
    "us-gov-west-1",
    "cn-north-1",
    "rds!cluster-x",
    "",
]


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
        f"✓ cluster alex-aurora-cluster: available, aurora-postgresql {DEV_VERSION}, "
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
    assert code == Exit.NOT_FOUND == 7
    first, _, third = out.splitlines()
    assert first.startswith("✗ cluster gone-cluster: not found (DBClusterNotFoundFault)")
    assert "alex-db env --stack NAME" in first
    assert third == "- Data API: skipped (needs a usable cluster and secret; cluster failed)"


def test_data_api_off_says_how_to_enable_it(aws, capsys):
    stack = create_stack(data_api=False)
    code, out, _ = check(capsys, *arn_flags(stack))
    assert code == Exit.DATA_API_DISABLED == 9
    assert "Data API disabled" in out
    assert f"aws rds enable-http-endpoint --resource-arn {stack.cluster_arn}" in out
    assert "✓ secret" in out


def test_secret_without_password_is_unusable_and_nothing_of_it_is_printed(aws, capsys):
    stack = create_stack(secret={"username": "alexadmin", "note": PASSWORD})
    code, out, _ = check(capsys, *arn_flags(stack))
    assert code == Exit.SECRET_UNUSABLE == 10
    assert "JSON has no password, which the Data API needs" in out


@pytest.mark.parametrize(
    "secret",
    [PASSWORD, '{"username": "alexadmin", "password": ' + "9" * 5000 + "}", "[" * 100_000],
    ids=["plain-text", "number-too-long-to-convert", "nested-past-the-limit"],
)
def test_secret_that_is_not_json_is_unusable(aws, capsys, secret):
    stack = create_stack(secret=secret)
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
    assert report.facts["version"] == VERSION
    assert len(calls) == 4
    assert fake.sleeps == [1, 2, 4]
    assert said[0] == "… the cluster is resuming from auto-pause; retrying in 1 s"


def test_resuming_past_the_wait_gives_up_with_its_own_code(aws):
    stack = create_stack()
    session = boto3.Session(region_name=REGION)
    fail_first(session, "rds-data.ExecuteStatement", "DatabaseResumingException", times=100)
    fake = FakeTime()
    report = run_checks(session, target(stack), 15, fake.sleep, fake.clock, lambda _: None)
    assert report.exit == Exit.STILL_RESUMING == 11
    assert sum(fake.sleeps) == 15
    assert "still resuming from auto-pause after 15 s" in report.steps[-1].line()


def test_access_denied_has_its_own_code(aws):
    stack = create_stack()
    session = boto3.Session(region_name=REGION)
    fail_first(session, "secretsmanager.GetSecretValue", "AccessDeniedException")
    report = run_checks(session, target(stack), 5, time.sleep, time.monotonic, print)
    assert report.exit == Exit.ACCESS_DENIED == 5
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
    (tmp_path / ".env").write_text(
        f"AURORA_CLUSTER_ARN={wrong}\nAURORA_SECRET_ARN={stack.secret_arn}\n"
    )
    monkeypatch.setenv("AURORA_CLUSTER_ARN", stack.cluster_arn.replace("alex-", "from-env-"))
    monkeypatch.setenv("AURORA_SECRET_ARN", stack.secret_arn)
    _, out, _ = check(capsys)
    assert "✗ cluster from-env-aurora-cluster" in out
    flag = stack.cluster_arn.replace("alex-", "flag-")
    _, out, _ = check(capsys, "--cluster-arn", flag, "--secret-arn", stack.secret_arn)
    assert "✗ cluster flag-aurora-cluster" in out


def test_one_arn_flag_is_never_paired_with_the_other_arn_from_dotenv(aws, capsys, tmp_path):
    """A new cluster ARN with the secret of whatever .env held once ran as one target."""
    stack = create_stack()
    (tmp_path / ".env").write_text(
        f"AURORA_CLUSTER_ARN={stack.cluster_arn}\nAURORA_SECRET_ARN={stack.secret_arn}\n"
    )
    code, out, err = check(capsys, "--cluster-arn", stack.cluster_arn)
    assert (code, out) == (Exit.USAGE, "")
    assert err.startswith("✗ --cluster-arn without --secret-arn: the two ARNs are one")
    assert err.count("\n") == 1


def test_arns_from_an_outputs_file_and_from_stdin(aws, capsys, monkeypatch, tmp_path):
    stack = create_stack()
    queue_version_row()
    outputs = json.dumps(
        {"aurora_cluster_arn": stack.cluster_arn, "aurora_secret_arn": stack.secret_arn}
    )
    (tmp_path / "outputs.json").write_text(outputs)
    assert check(capsys, "--outputs", "outputs.json")[0] == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(outputs.encode())))  # as a real stdin
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


def test_the_region_is_the_cluster_arns_whatever_the_environment_says(aws, capsys, monkeypatch):
    """Item 1 and 3: AWS_REGION elsewhere once sent the lookup to another region."""
    stack = create_stack()
    queue_version_row()
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    code, out, err = check(capsys, *arn_flags(stack), "--json")
    report = json.loads(out)
    assert code == 0, out
    assert (report["region"], report["region_source"]) == (REGION, "the cluster ARN")
    assert f"region {REGION} from the cluster ARN" in err


def test_a_region_flag_other_than_the_arns_is_refused(aws, capsys):
    stack = create_stack()
    code, out, err = check(capsys, *arn_flags(stack), "--region", "eu-west-1")
    assert (code, out) == (Exit.USAGE, "")
    assert err == (
        f"✗ --region 'eu-west-1' differs from the cluster ARN's region {REGION}; "
        "the cluster answers only there (leave --region out)\n"
    )


def test_a_cluster_of_the_same_name_in_another_account_is_not_vouched_for(aws, capsys):
    """Item 1: the lookup is by name; the whole described ARN must be the given one."""
    stack = create_stack()
    other_account = stack.cluster_arn.replace(ACCOUNT, "210987654321")
    code, out, _ = check(capsys, "--cluster-arn", other_account, "--secret-arn", stack.secret_arn)
    assert code == Exit.ARN_MISMATCH == 8
    first, _, third = out.splitlines()
    assert first == (
        f"✗ cluster alex-aurora-cluster: AWS describes {stack.cluster_arn}, not the given "
        f"{other_account} (the account differs); use credentials for the ARN's account and "
        "the ARN the stack outputs"
    )
    assert third.startswith(
        "- Data API: skipped (needs a usable cluster and secret; cluster failed)"
    )


def test_a_secret_in_another_account_is_not_vouched_for(aws, capsys):
    stack = create_stack()
    queue_version_row()
    other = stack.secret_arn.replace(ACCOUNT, "210987654321")
    code, out, _ = check(capsys, "--cluster-arn", stack.cluster_arn, "--secret-arn", other)
    assert code in (Exit.ARN_MISMATCH, Exit.NOT_FOUND), out
    assert out.splitlines()[1].startswith("✗ secret")


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        ("arn:aws:rds:us-east-1:123456789012:cluster:", "is not an Aurora cluster ARN"),
        ("arn:aws:rds:us-east-1:123456789012:db:alex-aurora-instance-1", "is a DB instance ARN"),
        ("SECRET", "is a secret ARN, not a cluster ARN: were the two ARNs swapped?"),
    ],
)
def test_arn_shapes_are_checked_before_any_aws_call(aws, capsys, cluster, message):
    stack = create_stack()
    cluster = stack.secret_arn if cluster == "SECRET" else cluster
    code, out, err = check(capsys, "--cluster-arn", cluster, "--secret-arn", stack.secret_arn)
    assert (code, out) == (Exit.USAGE, "")
    assert err == f"✗ --cluster-arn {cluster!r} {message}\n" or message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("wait", ["nan", "inf", "-1", "soon", "1e308", "3600.5"])
def test_wait_must_be_a_finite_number_of_seconds(aws, capsys, wait):
    """1e308 (or anything past what a socket timeout can hold) once made every call fail with
    "cannot reach AWS"."""
    code, out, err = check(capsys, "--cluster-arn", "x", "--secret-arn", "y", f"--wait={wait}")
    assert (code, out) == (2, "")
    assert err == (
        f"✗ alex-db check: argument --wait: {wait!r} is not a number of seconds "
        "from 0 to 3600 (see alex-db check --help)\n"
    )


def test_the_longest_wait_gives_every_call_a_timeout_a_socket_accepts():
    budget = Budget(LONGEST_WAIT_SECONDS, FakeTime().clock)
    socket.socket().settimeout(budget.config().read_timeout)


def test_a_database_name_longer_than_the_data_api_takes_is_a_usage_error(aws, capsys):
    """It once reached the Data API step and failed there as "cannot reach AWS"."""
    stack = create_stack()
    code, out, err = check(capsys, *arn_flags(stack), "--database", "d" * 65)
    assert (code, out) == (Exit.USAGE, "")
    assert err == (f"✗ --database {'d' * 65!r} is longer than the Data API takes (64 characters)\n")


def test_every_call_gets_timeouts_that_fit_the_wait_and_no_botocore_retries():
    fake = FakeTime()
    budget = Budget(30, fake.clock)
    config = budget.config()
    assert (config.connect_timeout, config.read_timeout) == (5, 25)
    assert config.retries == {"total_max_attempts": 1, "mode": "standard"}
    fake.now = 29
    config = budget.config()
    assert config.connect_timeout + config.read_timeout == SMALLEST_CALL_SECONDS
    fake.now = 100
    assert budget.config().read_timeout == SMALLEST_CALL_SECONDS / 2


def test_an_endpoint_that_never_answers_ends_within_the_wait_plus_the_margin(
    capsys, monkeypatch, tmp_path
):
    """Item 2: botocore's 60 s read timeouts and retries once made --wait 1 take 361 s."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes connections; nobody ever reads or answers
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "10")  # the run's own Config wins over this
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # The rule, with a smaller per-call floor so the proof takes half a second, not two.
    smallest = 0.25
    monkeypatch.setattr(check_module, "SMALLEST_CALL_SECONDS", smallest)
    started = time.monotonic()
    try:
        code, out, _ = check(capsys, *UNDEPLOYED, "--wait", "0")
    finally:
        silent.close()
    assert WAIT_MARGIN_SECONDS == 3 * SMALLEST_CALL_SECONDS + 1
    assert time.monotonic() - started <= 0 + 2 * smallest + 1
    assert code == Exit.UNREACHABLE
    assert out.splitlines()[0].startswith("✗ cluster c: no answer from AWS in time")


def test_dotenv_never_beats_an_outputs_file(aws, capsys, tmp_path):
    """Item 3: a .env in the current directory once won over --outputs."""
    stack = create_stack()
    queue_version_row()
    stale = stack.cluster_arn.replace("alex-aurora-cluster", "stale-cluster")
    (tmp_path / ".env").write_text(f"AURORA_CLUSTER_ARN={stale}\nAURORA_SECRET_ARN=stale\n")
    outputs = {"aurora_cluster_arn": stack.cluster_arn, "aurora_secret_arn": stack.secret_arn}
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    code, out, err = check(capsys, "--outputs", "outputs.json", "--json")
    assert code == 0, out
    assert json.loads(out)["sources"] == {
        "AURORA_CLUSTER_ARN": "--outputs outputs.json",
        "AURORA_SECRET_ARN": "--outputs outputs.json",
        "AURORA_DATABASE": "default",
    }
    assert err.splitlines()[0] == (
        "using AURORA_CLUSTER_ARN from --outputs outputs.json, AURORA_SECRET_ARN from "
        f"--outputs outputs.json, AURORA_DATABASE from default; region {REGION} from the "
        "cluster ARN"
    )


def test_an_outputs_file_without_the_arns_never_falls_back_to_dotenv(aws, capsys, tmp_path):
    """An --outputs file of another project (or with only the cluster ARN) once let .env
    supply what it lacked."""
    stack = create_stack()
    (tmp_path / ".env").write_text(
        f"AURORA_CLUSTER_ARN={stack.cluster_arn}\nAURORA_SECRET_ARN={stack.secret_arn}\n"
    )
    (tmp_path / "other.json").write_text(json.dumps({"bucket": "b"}))
    code, out, err = check(capsys, "--outputs", "other.json")
    assert (code, out) == (Exit.USAGE, "")
    assert err.startswith("✗ no AURORA_CLUSTER_ARN or AURORA_SECRET_ARN in --outputs other.json:")
    (tmp_path / "half.json").write_text(json.dumps({"aurora_cluster_arn": stack.cluster_arn}))
    code, out, err = check(capsys, "--outputs", "half.json")
    assert (code, out) == (Exit.USAGE, "")
    assert err.startswith("✗ --outputs half.json has AURORA_CLUSTER_ARN but no AURORA_SECRET_ARN")


def test_an_outputs_file_that_is_missing_fails_even_when_dotenv_has_the_arns(aws, capsys, tmp_path):
    stack = create_stack()
    (tmp_path / ".env").write_text(
        f"AURORA_CLUSTER_ARN={stack.cluster_arn}\nAURORA_SECRET_ARN={stack.secret_arn}\n"
    )
    code, out, err = check(capsys, "--outputs", "/nonexistent/outputs.json")
    assert (code, out) == (Exit.USAGE, "")
    assert err == (
        "✗ --outputs /nonexistent/outputs.json: cannot read stack outputs "
        "(No such file or directory)\n"
    )


def test_an_unknown_aws_profile_is_one_line_with_its_own_code(aws, capsys, monkeypatch, tmp_path):
    stack = create_stack()
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    code, out, err = check(capsys, *arn_flags(stack))
    assert (code, out) == (Exit.AWS_CONFIG, "")
    assert err.splitlines()[-1] == (
        "✗ AWS profile 'no-such-profile' (AWS_PROFILE) is not in the AWS config or credentials "
        "file; pick one from `aws configure list-profiles`"
    )


def test_an_endpoint_that_is_not_a_url_is_one_line_with_its_own_code(aws, capsys, monkeypatch):
    stack = create_stack()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "not a url")
    code, out, err = check(capsys, *arn_flags(stack))
    assert (code, out) == (Exit.AWS_CONFIG, "")
    assert err.splitlines()[-1].startswith("✗ Invalid endpoint: not a url: check AWS_ENDPOINT_URL")


def test_ctrl_c_is_one_line_and_exit_130(aws, capsys, monkeypatch):
    stack = create_stack()

    def interrupt(*_, **__):
        raise KeyboardInterrupt

    monkeypatch.setattr("alex_db.tools.deployed.check.run_checks", interrupt)
    code, out, err = check(capsys, *arn_flags(stack))
    assert (code, out) == (130, "")
    assert err.splitlines()[-1] == "✗ interrupted"


def test_a_dotenv_that_is_not_utf8_is_one_line(aws, capsys, tmp_path):
    (tmp_path / ".env").write_bytes(b"AURORA_CLUSTER_ARN=caf\xe9\n")
    code, out, err = check(capsys)
    assert (code, out) == (Exit.USAGE, "")
    assert err == "✗ .env: not UTF-8 text (byte 22 cannot be decoded); save it as UTF-8 first\n"


def test_secret_fields_must_be_strings(aws, capsys):
    stack = create_stack(secret={"username": ["alexadmin"], "password": 12345678})
    code, out, _ = check(capsys, *arn_flags(stack))
    assert code == Exit.SECRET_UNUSABLE
    assert "username and password must be a JSON string" in out.splitlines()[1]
    assert out.splitlines()[2].startswith("- Data API: skipped")


def test_a_username_holding_the_password_is_not_printed(aws, capsys):
    """check() asserts the password never reaches stdout or stderr."""
    stack = create_stack(secret={"username": f"admin:{PASSWORD}", "password": PASSWORD})
    queue_version_row()
    code, out, _ = check(capsys, *arn_flags(stack))
    assert code == 0
    assert out.splitlines()[1].endswith(
        "readable, has username (not shown: it contains the password) and password"
    )


def test_a_crafted_username_cannot_forge_a_line(aws, capsys):
    forged = "x\n✓ Data API: SELECT version() -> forged\x1b[2K"
    stack = create_stack(secret={"username": forged, "password": PASSWORD})
    queue_version_row()
    code, out, _ = check(capsys, *arn_flags(stack))
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[1].endswith(
        "readable, has username (x\\n✓ Data API: SELECT version() -> forged\\x1b[2K) and password"
    )
    assert "\x1b" not in out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cluster=st.one_of(
        st.text(max_size=80),
        st.lists(st.sampled_from(ARN_PIECES), max_size=9).map("".join),
    )
)
def test_any_text_as_a_cluster_arn_ends_in_a_documented_exit(aws, capsys, cluster):
    code = main(["check", f"--cluster-arn={cluster}", "--secret-arn", UNDEPLOYED[3], "--wait", "0"])
    captured = capsys.readouterr()
    assert code in set(Exit)
    assert "Traceback" not in captured.err
    if code == Exit.USAGE:
        assert captured.out == "" and captured.err.count("\n") == 1


def test_unreachable_endpoint_is_one_line_not_a_traceback(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    code, out, _ = check(capsys, *UNDEPLOYED)
    assert code == Exit.UNREACHABLE == 6
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


@pytest.mark.parametrize(
    ("answer", "code", "detail"),
    [
        ({"DBClusters": []}, Exit.NOT_FOUND, "AWS describes no cluster of that name"),
        ({}, Exit.NOT_FOUND, "AWS describes no cluster of that name"),
        ({"DBClusters": [{}, {}]}, Exit.FAILED, "AWS describes 2 clusters of that name"),
    ],
)
def test_an_endpoint_answering_no_cluster_or_several_is_a_failed_step(aws, answer, code, detail):
    """AWS answers one cluster or DBClusterNotFoundFault; another endpoint (AWS_ENDPOINT_URL)
    may answer anything, and an empty list was a ValueError traceback."""
    stack = create_stack()
    session = boto3.Session(region_name=REGION)

    def answer_with(**_):
        return type("Http", (), {"status_code": 200, "headers": {}})(), answer

    session.events.register("before-call.rds.DescribeDBClusters", answer_with)
    report = run_checks(session, target(stack), 5, time.sleep, time.monotonic, print)
    assert report.exit == code
    assert report.steps[0].line() == (
        f"✗ cluster alex-aurora-cluster: {detail}; check the ARN and AWS_ENDPOINT_URL"
    )


def test_a_cluster_described_with_half_a_scaling_configuration_is_still_one_line(aws):
    stack = create_stack()
    session = boto3.Session(region_name=REGION)
    half = {
        "DBClusterArn": stack.cluster_arn,
        "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5},
    }

    def answer_with(**_):
        return type("Http", (), {"status_code": 200, "headers": {}})(), {"DBClusters": [half]}

    session.events.register("before-call.rds.DescribeDBClusters", answer_with)
    report = run_checks(session, target(stack), 5, time.sleep, time.monotonic, print)
    assert report.steps[0].line() == (
        "✗ cluster alex-aurora-cluster: None, None None, Serverless v2 0.5-None ACU, Data API "
        f"disabled; enable it with `pulumi up` (the program turns it on) or `aws rds "
        f"enable-http-endpoint --resource-arn {stack.cluster_arn}`"
    )


def test_any_other_aws_error_is_one_line_with_its_code(aws):
    stack = create_stack()
    session = boto3.Session(region_name=REGION)
    fail_first(session, "rds.DescribeDBClusters", "Throttling")
    report = run_checks(session, target(stack), 5, time.sleep, time.monotonic, print)
    assert report.exit == Exit.FAILED
    assert report.steps[0].line() == "✗ cluster alex-aurora-cluster: Throttling: stubbed"


def test_a_later_source_is_not_consulted_once_the_arns_are_known(aws, capsys, monkeypatch):
    stack = create_stack()
    queue_version_row()
    monkeypatch.setenv("PATH", "/nonexistent")  # --stack would fail: no Pulumi CLI
    code, out, _ = check(capsys, *arn_flags(stack), "--stack", "dev")
    assert code == 0, out
