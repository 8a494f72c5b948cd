"""Issue 25 item 6: ``aws:*`` keys are checked like the program's own. A typo (``aws:regoin``)
is refused naming the closest key the aws provider reads; a region that matches no AWS partition
is refused; one botocore's endpoint data does not list yet is a warning."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.loaders
import pulumi_aws
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from alex_db.config import provider_keys
from alex_db.config.settings import load_settings
from alex_db.config.values import SettingsError
from alex_db.tools.cli import main
from alex_db.tools.shared.exits import Exit

# The keys the installed provider SDK reads: each is a `__config__.get*('name')` in its vars.py.
VARS_PY = Path(pulumi_aws.__file__).parent / "config" / "vars.py"
READ_BY_THE_PROVIDER = re.compile(r"__config__\.get(?:_bool|_int|_float|_object)?\('(\w+)'\)")


def test_the_key_list_is_the_installed_aws_providers():
    assert provider_keys.aws_config_keys() == set(READ_BY_THE_PROVIDER.findall(VARS_PY.read_text()))


def test_the_region_list_is_the_installed_botocores():
    for partition in botocore.loaders.create_loader().load_data("partitions")["partitions"]:
        regions = {region for region in partition["regions"] if not region.endswith("-global")}
        assert provider_keys.listed_regions(partition["id"]) == regions, partition["id"]


def plan(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["plan", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_misspelt_aws_key_stops_the_plan_naming_the_key_it_meant(capsys):
    code, out, err = plan(capsys, "--config", "aws:regoin=eu-west-1")
    assert (code, out) == (Exit.USAGE, "")
    assert err == (
        "config key 'aws:regoin' is not one the aws provider reads: did you mean aws:region? "
        "(an unknown key would silently leave the provider's default in place)\n"
    )


@pytest.mark.parametrize("namespace", ["AWS", "Aws", "aWs"])
def test_the_aws_namespace_in_another_case_stops_the_plan_naming_the_key_it_meant(capsys, namespace):
    """Pulumi hands the provider the keys whose namespace is exactly its package name (a key is
    namespace:name, compared as written), so `AWS:region` would leave the region to the
    environment, as `aws:regoin` would."""
    code, out, err = plan(capsys, "--config", f"{namespace}:region=eu-west-1")
    assert (code, out) == (Exit.USAGE, "")
    assert err == (
        f"config key '{namespace}:region' is not one the aws provider reads: did you mean "
        "aws:region? (an unknown key would silently leave the provider's default in place)\n"
    )


def test_other_namespaces_that_start_like_aws_are_left_alone(capsys):
    code, _, err = plan(capsys, "--config", "aws:region=us-east-1", "--config", "awsx:foo=1")
    assert code == 0, err


def test_a_misspelt_aws_key_stops_preflight_before_any_aws_call(capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing may be called
    assert main(["preflight", "--config", "aws:prfile=admin", "--region", "us-east-1"]) == Exit.USAGE
    err = capsys.readouterr().err
    assert err.startswith("✗ config key 'aws:prfile' is not one the aws provider reads: did you mean aws:profile?")


def test_the_keys_the_provider_reads_pass(capsys):
    code, _, err = plan(capsys, "--config", "aws:profile=admin", "--config", "aws:skipMetadataApiCheck=true")
    assert code == Exit.OK, err


def test_a_region_of_no_partition_is_refused_and_an_unlisted_one_is_a_warning(capsys):
    code, out, err = plan(capsys, "--config", "aws:region=xx-east-1")
    assert (code, out) == (Exit.USAGE, "")
    assert err.startswith("aws:region 'xx-east-1' is not a region of any AWS partition: ")
    code, out, _ = plan(capsys, "--config", "aws:region=us-east-7")
    assert code == Exit.OK
    assert (
        "WARNING: aws:region 'us-east-7' is not among the aws regions this botocore lists; "
        "check the spelling (a region newer than botocore is fine)\n"
    ) in out


@pytest.mark.parametrize("region", ["us-east-1", "eusc-de-east-1", "cn-north-1", "us-gov-west-1"])
def test_listed_regions_of_every_partition_have_no_warning(region):
    assert provider_keys.region_warnings(region) == ()


KEY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@given(name=KEY_TEXT | st.sampled_from(sorted(provider_keys.aws_config_keys())), region=KEY_TEXT)
@example(name="regoin", region="us-east-1")
@example(name="region", region="us-east-1\n")
@example(name="region", region="x" * 10_000)
def test_any_aws_key_and_region_pass_or_are_one_line_naming_them(name, region):
    try:
        provider_keys.check_aws_keys([f"aws:{name}", "alex-db:readers"])
        warnings = load_settings({}, stack="dev", region=region).warnings
    except SettingsError as refused:
        message = str(refused)
        assert "\n" not in message and len(message) < 1500
        assert repr(f"aws:{name}") in message or message.startswith("aws:region ")
        return
    assert name in provider_keys.aws_config_keys()
    assert all("\n" not in warning for warning in warnings)
