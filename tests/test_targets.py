"""Where check/env find their target: ARN shapes, source order, and the `--stack` path through
the Pulumi CLI."""

from __future__ import annotations

import json
import shutil
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alex_db.tools.deployed import arns
from alex_db.tools.deployed.locate import (
    Source,
    TargetError,
    read_outputs_file,
    read_stack_outputs,
    resolve,
)

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


CLUSTER = "arn:aws:rds:eu-west-1:123456789012:cluster:alex-aurora-cluster"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:alex-creds-AbCdEf"


def test_a_cluster_arn_has_every_field():
    arn = arns.cluster_arn(CLUSTER)
    assert (arn.partition, arn.region, arn.account, arn.name) == (
        "aws",
        "eu-west-1",
        "123456789012",
        "alex-aurora-cluster",
    )
    assert arns.cluster_arn(CLUSTER.replace(":aws:", ":aws-cn:")).partition == "aws-cn"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("arn:aws:rds:eu-west-1:123456789012:cluster:", "is not an Aurora cluster ARN"),
        ("alex-aurora-cluster", "is not an Aurora cluster ARN"),
        ("arn:aws:rds::123456789012:cluster:c", "is not an Aurora cluster ARN"),
        ("arn:aws:rds:eu-west-1:1:cluster:c", "is not an Aurora cluster ARN"),
        ("arn:aws:rds:eu-west-1:123456789012:cluster:c--d", "is not an Aurora cluster ARN"),
        ("arn:aws:rds:eu-west-1:123456789012:cluster:c\n✓", "is not an Aurora cluster ARN"),
        # Digits of other scripts are digits to `\d`, never to AWS.
        ("arn:aws:rds:eu-west-1:١٢٣٤٥٦٧٨٩٠١٢:cluster:c", "is not an Aurora cluster ARN"),
        ("arn:aws:rds:eu-west-١:123456789012:cluster:c", "is not an Aurora cluster ARN"),
        ("arn:aws:rds:eu-west-1:123456789012:cluster:a:b", "is not an Aurora cluster ARN"),
        (" arn:aws:rds:eu-west-1:123456789012:cluster:c", "is not an Aurora cluster ARN"),
        ("arn:aws:rds:eu-west-1:123456789012:db:alex-aurora-instance-1", "is a DB instance ARN"),
        (SECRET, "were the two ARNs swapped?"),
    ],
)
def test_what_is_not_a_cluster_arn_is_named(text, message):
    with pytest.raises(arns.ArnError, match=message.replace("?", "\\?")):
        arns.cluster_arn(text)


def test_a_secret_arn_and_a_swapped_one():
    assert arns.secret_arn(SECRET).name == "alex-creds-AbCdEf"
    with pytest.raises(arns.ArnError, match="were the two ARNs swapped"):
        arns.secret_arn(CLUSTER)
    with pytest.raises(arns.ArnError, match="is not a Secrets Manager secret ARN"):
        arns.secret_arn("arn:aws:secretsmanager:eu-west-1:123456789012:secret:")


def test_other_partitions_upper_case_identifiers_and_rds_managed_secrets_are_arns():
    gov = "arn:aws-us-gov:rds:us-gov-west-1:123456789012:cluster:Alex-Cluster"
    assert arns.cluster_arn(gov).where() == ("aws-us-gov", "us-gov-west-1", "123456789012")
    assert arns.cluster_arn(gov).name == "Alex-Cluster"
    china = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:alex-AbCdEf"
    assert arns.secret_arn(china).region == "cn-north-1"
    # RDS names the secrets it manages rds!cluster-<id> (botocore's rds-data model, secretArn).
    managed = (
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:"
        "rds!cluster-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-AbCdEf"
    )
    assert arns.secret_arn(managed).name.startswith("rds!cluster-")
    with pytest.raises(arns.ArnError):
        arns.secret_arn(managed.replace("123456789012", "١٢٣٤٥٦٧٨٩٠١٢"))


def test_a_partition_that_does_not_serve_the_region_is_refused():
    """arn:aws-cn:...:us-east-1 once passed the shape check and was looked up in us-east-1."""
    china = {
        "AURORA_CLUSTER_ARN": CLUSTER.replace(":aws:", ":aws-cn:"),
        "AURORA_SECRET_ARN": SECRET.replace(":aws:", ":aws-cn:"),
    }
    with pytest.raises(TargetError) as error:
        resolve(china, [])
    assert str(error.value) == (
        "the ARNs name partition aws-cn but region eu-west-1 is in aws (arn:aws:...); "
        "no such cluster can exist"
    )
    gov = {
        key: value.replace(":aws-cn:", ":aws-us-gov:").replace("eu-west-1", "us-gov-west-1")
        for key, value in china.items()
    }
    assert resolve(gov, []).region == "us-gov-west-1"
    unknown = {key: value.replace("eu-west-1", "zz-new-1") for key, value in china.items()}
    assert resolve(unknown, []).region == "zz-new-1"


def test_a_partial_secret_arn_matches_the_full_one_aws_returns():
    assert arns.same_secret(SECRET, SECRET)
    assert arns.same_secret(SECRET.removesuffix("-AbCdEf"), SECRET)
    assert not arns.same_secret(SECRET.replace("123456789012", "210987654321"), SECRET)
    assert not arns.same_secret("arn:aws:secretsmanager:eu-west-1:123456789012:secret:alex", SECRET)


def source(name: str, **values: str) -> Source:
    return Source(name, lambda: values)


def test_both_arns_and_the_database_come_from_the_first_source_that_names_an_arn():
    target = resolve(
        {"AURORA_CLUSTER_ARN": None, "AURORA_SECRET_ARN": "", "AURORA_DATABASE": None},
        [
            source("--outputs o.json", AURORA_DATABASE="not an ARN: does not count"),
            source("the environment", AURORA_SECRET_ARN=SECRET, AURORA_CLUSTER_ARN=CLUSTER),
            source(".env", AURORA_SECRET_ARN="never read"),
        ],
    )
    assert (target.cluster_arn, target.secret_arn, target.database) == (CLUSTER, SECRET, "alex")
    assert target.sources == {
        "AURORA_CLUSTER_ARN": "the environment",
        "AURORA_SECRET_ARN": "the environment",
        "AURORA_DATABASE": "default",
    }
    assert (target.region, target.region_source) == ("eu-west-1", "the cluster ARN")


def test_a_database_flag_goes_with_arns_from_a_source():
    target = resolve(
        {"AURORA_DATABASE": "flagdb"},
        [source(".env", AURORA_CLUSTER_ARN=CLUSTER, AURORA_SECRET_ARN=SECRET, AURORA_DATABASE="x")],
    )
    assert (target.database, target.sources["AURORA_DATABASE"]) == ("flagdb", "flags")
    assert target.sources["AURORA_SECRET_ARN"] == ".env"


def test_the_two_arns_are_never_taken_from_two_places():
    """A fresh cluster ARN paired with another deployment's secret (from .env, say) once
    passed as one target."""
    stale = source(".env", AURORA_CLUSTER_ARN="never read", AURORA_SECRET_ARN=SECRET)
    with pytest.raises(TargetError) as error:
        resolve({}, [source("--outputs o.json", AURORA_CLUSTER_ARN=CLUSTER), stale])
    assert str(error.value) == (
        "--outputs o.json has AURORA_CLUSTER_ARN but no AURORA_SECRET_ARN; the two ARNs are one "
        "deployment's pair, so both must come from one place (or give both as flags)"
    )
    with pytest.raises(TargetError) as error:
        resolve({"AURORA_CLUSTER_ARN": CLUSTER}, [stale])
    assert str(error.value) == (
        "--cluster-arn without --secret-arn: the two ARNs are one deployment's pair; give both "
        "flags, or neither to take both from one source"
    )
    with pytest.raises(TargetError, match="^--secret-arn without --cluster-arn"):
        resolve({"AURORA_SECRET_ARN": SECRET}, [stale])
    both = {"AURORA_CLUSTER_ARN": CLUSTER, "AURORA_SECRET_ARN": SECRET}
    assert resolve(both, [stale]).sources["AURORA_SECRET_ARN"] == "flags"


def test_a_bad_arn_is_named_by_its_source():
    with pytest.raises(TargetError) as error:
        resolve({}, [source(".env", AURORA_CLUSTER_ARN="x", AURORA_SECRET_ARN=SECRET)])
    assert str(error.value) == (
        "AURORA_CLUSTER_ARN (from .env) 'x' is not an Aurora cluster ARN "
        "(arn:aws:rds:REGION:ACCOUNT:cluster:NAME)"
    )


def test_the_region_is_the_cluster_arns_and_a_different_one_is_refused():
    flags = {"AURORA_CLUSTER_ARN": CLUSTER, "AURORA_SECRET_ARN": SECRET}
    assert resolve(flags, [], "eu-west-1").region_source == "--region and the cluster ARN"
    with pytest.raises(
        TargetError, match="--region 'us-east-1' differs from the cluster ARN's region eu-west-1"
    ):
        resolve(flags, [], "us-east-1")
    with pytest.raises(
        TargetError, match="the secret ARN is in aws us-east-1 but the cluster ARN in aws eu-west-1"
    ):
        resolve({**flags, "AURORA_SECRET_ARN": SECRET.replace("eu-west-1", "us-east-1")}, [])


def test_pulumi_printing_no_json_object_is_one_line(tmp_path, monkeypatch):
    fake_pulumi(tmp_path, "echo 'not json'")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TargetError, match="printed no JSON object"):
        read_stack_outputs("dev")


values = st.one_of(st.none(), st.just(""), st.sampled_from([CLUSTER, SECRET, "x"]), st.text())
variables = st.fixed_dictionaries(
    {},
    optional={"AURORA_CLUSTER_ARN": values, "AURORA_SECRET_ARN": values, "AURORA_DATABASE": values},
)


@settings(max_examples=80)
@given(flags=variables, read=st.lists(variables, max_size=3))
def test_any_sources_give_a_target_whose_arns_share_one_origin_or_a_one_line_error(flags, read):
    sources = [source(f"source {index}", **v) for index, v in enumerate(read)]
    try:
        target = resolve(flags, sources)
    except TargetError as error:
        assert "\n" not in str(error)
        return
    assert target.sources["AURORA_CLUSTER_ARN"] == target.sources["AURORA_SECRET_ARN"]
    origin = target.sources["AURORA_CLUSTER_ARN"]
    if origin != "flags":
        given = next(s for s in read if s.get("AURORA_CLUSTER_ARN") or s.get("AURORA_SECRET_ARN"))
        assert (target.cluster_arn, target.secret_arn) == (
            given["AURORA_CLUSTER_ARN"],
            given["AURORA_SECRET_ARN"],
        )


def test_outputs_nested_past_pythons_recursion_limit_are_one_line(tmp_path):
    """json.loads raises RecursionError, not ValueError, for deep nesting: it was a traceback."""
    (tmp_path / "deep.json").write_text("[" * 100_000)
    with pytest.raises(TargetError) as error:
        read_outputs_file(str(tmp_path / "deep.json"))
    assert str(error.value).startswith(f"--outputs {tmp_path / 'deep.json'}: cannot read stack")
    assert "\n" not in str(error.value)
