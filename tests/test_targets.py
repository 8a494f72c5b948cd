"""Where check/env find the stack outputs: the `--stack` path through the Pulumi CLI."""

from __future__ import annotations

import json
import shutil
import stat

import pytest

from alex_db.tools.targets import TargetError, read_stack_outputs, region_of

OUTPUTS = {"aurora_cluster_arn": "arn:aws:rds:eu-west-1:1:cluster:c", "aurora_secret_arn": "s"}


def fake_pulumi(directory, script: str):
    """A `pulumi` executable on PATH that runs ``script`` (a shell body)."""
    program = directory / "pulumi"
    program.write_text(f"#!/bin/sh\n{script}\n")
    program.chmod(program.stat().st_mode | stat.S_IEXEC)


def test_stack_outputs_come_from_pulumi_stack_output_json(tmp_path, monkeypatch):
    log = tmp_path / "args"
    fake_pulumi(tmp_path, f"echo \"$@\" > {log}\necho '{json.dumps(OUTPUTS)}'")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert read_stack_outputs("staging") == OUTPUTS
    assert log.read_text().split() == ["stack", "output", "--json", "--stack", "staging"]


def test_a_failing_cli_is_reported_in_one_line(tmp_path, monkeypatch):
    fake_pulumi(
        tmp_path, "echo 'warning: x' >&2\necho 'error: no stack named nope found' >&2\nexit 255"
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TargetError) as error:
        read_stack_outputs("nope")
    assert str(error.value) == (
        "--stack nope: `pulumi stack output` failed: error: no stack named nope found"
    )


@pytest.mark.skipif(
    shutil.which("pulumi") is None,
    reason="the Pulumi CLI is not installed on this machine (it cannot be: not on PyPI/npm/Debian)",
)
def test_real_cli_on_a_missing_stack_gives_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path}")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    with pytest.raises(TargetError, match="`pulumi stack output` failed"):
        read_stack_outputs("alex-db-no-such-stack")


def test_region_of_rejects_what_is_not_a_regional_arn():
    assert region_of("arn:aws:rds:eu-west-1:1:cluster:c") == "eu-west-1"
    with pytest.raises(TargetError, match="is not a regional ARN"):
        region_of("alex-aurora-cluster")
