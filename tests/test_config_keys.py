"""Which keys a stack may set (issue 9, items 4-6): misspelt keys, secure values, and values AWS
would refuse at deploy time, in the pure rules, in the whole program (as the CLI's language host
hands it the configuration) and in ``plan``."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alex_db.config.keys import closest_key
from alex_db.config.settings import CONFIG_KEYS, DEFAULTS, SettingsError, load_settings
from alex_db.tools.cli import main
from alex_db.tools.plan.runner import recording_monitor, run_program
from alex_db.tools.shared.stack_files import is_secure, load_stack_config
from tests.conftest import DEV_CONFIG, ROOT, TEST_PLACEHOLDERS

SECRET_VALUE = "s3cr3t-Value-9f1e"


def load(secret_keys=(), **raw):
    return load_settings(raw, stack="dev", region="us-east-1", secret_keys=frozenset(secret_keys))


def refusal(**kwargs) -> str:
    with pytest.raises(SettingsError) as error:
        load(**kwargs)
    message = str(error.value)
    assert "\n" not in message
    return message


def stops_before_any_resource(config: dict, secret_keys=()) -> str:
    monitor = recording_monitor(config, TEST_PLACEHOLDERS)
    with pytest.raises(pulumi.RunError) as error:
        run_program("dev", config, TEST_PLACEHOLDERS, monitor=monitor, secret_keys=secret_keys)
    assert monitor.recorded == []
    return str(error.value)


# --- item 4: a misspelt key is an error, naming the key meant ---------------------------------


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("prodution", "production"),
        ("minCapcity", "minCapacity"),
        ("MinCapacity", "minCapacity"),
        ("allowedCidr", "allowedCidrs"),
        ("allowPublicIngres", "allowPublicIngress"),
        ("log_exports", "logExports"),
    ],
)
def test_a_misspelt_key_is_refused_with_the_key_meant(name, meant):
    assert refusal(**{name: "true"}) == (
        f"config key 'alex-db:{name}' is not one this program reads: did you mean "
        f"alex-db:{meant}? (an unknown key would silently leave the default in place)"
    )


def test_a_key_like_nothing_known_lists_the_known_keys():
    message = refusal(zzz="1")
    assert message.startswith(
        "config key 'alex-db:zzz' is not one this program reads: the keys are "
    )
    assert all(f" {name}" in message for name in CONFIG_KEYS)


def test_a_hostile_key_name_stays_on_one_line():
    assert "'alex-db:a\\nb'" in refusal(**{"a\nb": "x"})


def test_every_known_key_is_accepted_and_suggests_itself():
    assert load(**DEFAULTS) == load()
    assert all(closest_key(name, CONFIG_KEYS) == name for name in CONFIG_KEYS)


def test_the_program_refuses_a_misspelt_key_before_any_resource():
    message = stops_before_any_resource({**DEV_CONFIG, "alex-db:prodution": "true"})
    assert "did you mean alex-db:production?" in message


def test_the_program_sees_keys_the_language_host_passes_only_in_its_environment(monkeypatch):
    """Under the CLI the configuration arrives as PULUMI_CONFIG; nothing asks for the misspelt
    key by name, yet the program finds it."""
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({**DEV_CONFIG, "alex-db:minCapcity": "0"}))
    message = stops_before_any_resource({})
    assert "'alex-db:minCapcity'" in message and "did you mean alex-db:minCapacity?" in message


@pytest.mark.parametrize(
    ("full", "meant"),
    [
        ("alexdb:production", "production"),
        ("alex_db:production", "production"),
        ("Alex-DB:production", "production"),
        ("ALEX.DB:minCapcity", "minCapacity"),
        ("alex-db :production", "production"),
        ("alx-db:production", "production"),
        (":production", "production"),
    ],
)
def test_a_key_in_a_namespace_that_looks_like_ours_is_refused(full, meant):
    """The CLI accepts any namespace (``pulumi config set alexdb:production true``) and hands it
    to the program, which would never read it: the same silent default as a misspelt key."""
    message = stops_before_any_resource({**DEV_CONFIG, full: "true"})
    namespace = full.split(":", 1)[0]
    assert message == (
        f"config key {full!r} is in namespace {namespace!r}, which this program does not read: "
        f"did you mean alex-db:{meant}? (an unknown key would silently leave the default in place)"
    )


def test_an_empty_key_name_is_refused_listing_the_keys():
    message = stops_before_any_resource({**DEV_CONFIG, "alex-db:": "true"})
    assert message.startswith("config key 'alex-db:' is not one this program reads: the keys are")


def test_a_look_alike_namespace_in_the_language_hosts_environment_is_refused(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({**DEV_CONFIG, "alexdb:production": "true"}))
    assert "'alexdb:production' is in namespace 'alexdb'" in stops_before_any_resource({})


def test_plan_refuses_a_look_alike_namespace_with_exit_2(capsys):
    assert main(["plan", "--config", "alex_db:production=true"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("config key 'alex_db:production' is in namespace 'alex_db'")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spelling=st.tuples(
        st.sampled_from(["alex", "ALEX", "Alex", "aLeX"]),
        st.sampled_from(["", "-", "_", ".", " ", "--"]),
        st.sampled_from(["db", "DB", "Db"]),
    ).map("".join),
    name=st.sampled_from(list(CONFIG_KEYS)),
)
def test_any_spelling_of_our_namespace_but_ours_stops_the_program(spelling, name):
    config = {**DEV_CONFIG, f"{spelling}:{name}": "x"}
    if spelling == "alex-db":
        return
    assert f"is in namespace {spelling!r}" in stops_before_any_resource(config)


def test_a_per_key_environment_variable_still_sets_a_key_the_stack_leaves_unset(monkeypatch):
    """``pulumi.Config.get`` falls back to ``PULUMI_CONFIG_<KEY>`` (``pulumi/runtime/config.py``,
    ``get_config_env_key``); reading every key of the namespace must not silently drop that."""
    monkeypatch.setenv("PULUMI_CONFIG_ALEX_DB_PRODUCTION", "true")
    cluster = run_program("dev", DEV_CONFIG, TEST_PLACEHOLDERS).one("aws:rds/cluster:Cluster")
    assert cluster.inputs["deletionProtection"] is True
    monkeypatch.setenv("PULUMI_CONFIG_ALEX_DB_READERS", "many")
    assert stops_before_any_resource(dict(DEV_CONFIG)).startswith("alex-db:readers = 'many'")


def test_keys_of_other_namespaces_are_not_this_programs_business():
    config = {**DEV_CONFIG, "aws:profile": "x", "pulumi:tags": "{}"}
    assert run_program("dev", config, TEST_PLACEHOLDERS).resources


def test_plan_refuses_a_misspelt_key_with_exit_2(capsys):
    assert main(["plan", "--config", "prodution=true"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("config key 'alex-db:prodution' is not one this program reads")
    assert captured.err.count("\n") == 1


key_names = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    unknown=key_names.filter(lambda name: name not in CONFIG_KEYS),
    value=st.text(max_size=20),
    known=st.dictionaries(st.sampled_from(list(DEFAULTS)), st.sampled_from(["1", "true", "x"])),
)
def test_any_config_with_an_unknown_key_stops_the_program_before_a_resource(unknown, value, known):
    config = {
        **DEV_CONFIG,
        **{f"alex-db:{k}": v for k, v in known.items()},
        f"alex-db:{unknown}": value,
    }
    message = stops_before_any_resource(config)
    assert "\n" not in message
    # Unknown keys are refused first, whatever the other values are.
    assert message.startswith(f"config key {repr('alex-db:' + unknown)} is not one")


# --- item 5: secure values ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tags", "minCapacity", "allowedCidrs", "production"])
def test_a_secure_value_for_a_key_that_is_not_secret_is_refused_without_its_value(name):
    message = refusal(secret_keys=[name], **{name: SECRET_VALUE})
    assert message == (
        f"alex-db:{name} is set as a secret (secure: value), but it is not a secret setting: "
        f"its value would be stored in plaintext in the resources' state; set it without --secret"
    )


def test_a_secure_unknown_key_is_named_without_its_value():
    message = refusal(secret_keys=["passwrd"], passwrd=SECRET_VALUE)
    assert "'alex-db:passwrd'" in message and SECRET_VALUE not in message


def test_the_program_refuses_a_secret_it_would_write_in_plaintext():
    config = {**DEV_CONFIG, "alex-db:tags": json.dumps({"Owner": SECRET_VALUE})}
    message = stops_before_any_resource(config, secret_keys=["alex-db:tags"])
    assert "alex-db:tags is set as a secret" in message and SECRET_VALUE not in message


@pytest.mark.parametrize("region", ["us-east-1", SECRET_VALUE])
def test_a_secret_region_is_refused_since_every_arn_would_show_it(region):
    """The region is part of every ARN and endpoint the provider returns, in plaintext; the
    program put an unknown one into the setup instructions too."""
    config = {**DEV_CONFIG, "aws:region": region}
    message = stops_before_any_resource(config, secret_keys=["aws:region"])
    assert message == (
        "aws:region is set as a secret (secure: value), but it is not a secret setting: the "
        "region is part of every ARN and endpoint the stack stores and exports in plaintext; "
        "set it without --secret"
    )


def test_the_program_reads_secret_keys_from_the_language_hosts_environment(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["alex-db:readers"]))
    message = stops_before_any_resource({**DEV_CONFIG, "alex-db:readers": "1"})
    assert message.startswith("alex-db:readers is set as a secret")


def test_plan_refuses_a_secure_stack_value_without_decrypting_it(tmp_path):
    """``plan`` passes secure values on masked and marked secret; the program refuses them."""
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = {"config": {"aws:region": "us-east-1", "alex-db:tags": {"secure": "v1:AAAAcipher"}}}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    config = load_stack_config("dev", project_dir=tmp_path)
    message = stops_before_any_resource(config.values, secret_keys=config.secret_keys)
    assert message.startswith("alex-db:tags is set as a secret") and "cipher" not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("alex-db:tags", {"Owner": {"secure": "v1:AAAAcipher"}}),
        ("alex-db:allowedCidrs", ["10.0.0.0/16", {"secure": "v1:AAAAcipher"}]),
        ("aws:region", {"secure": "v1:AAAAcipher"}),
    ],
)
def test_plan_treats_a_nested_secure_value_as_the_cli_does(tmp_path, name, value):
    """``pulumi config set --path --secret 'alex-db:tags.Owner' x`` nests the ciphertext; the CLI
    counts the whole key as secret (pulumi/pulumi ``sdk/go/common/resource/config/object.go``,
    ``Secure``: "a composite value that contains a secure string"), so ``plan`` must too."""
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = {"config": {"aws:region": "us-east-1", name: value}}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    config = load_stack_config("dev", project_dir=tmp_path)
    assert name in config.secret_keys and "cipher" not in config.values[name]
    message = stops_before_any_resource(config.values, secret_keys=config.secret_keys)
    assert message.startswith(f"{name} is set as a secret") and "cipher" not in message


plain_yaml = st.recursive(
    st.text(max_size=6) | st.integers() | st.booleans(),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=6).filter(lambda k: k != "secure"), inner, max_size=3),
    max_leaves=6,
)


@given(value=plain_yaml, data=st.data())
def test_a_ciphertext_anywhere_in_a_stack_value_makes_the_key_secret(value, data):
    assert not is_secure(value)
    wrapped = data.draw(
        st.sampled_from(
            [lambda v: v, lambda v: [value, v], lambda v: {"k": v, "other": value}]
        )
    )({"secure": "v1:AAAAcipher"})
    assert is_secure(wrapped)


@given(
    raw=st.dictionaries(
        st.one_of(st.sampled_from(list(CONFIG_KEYS)), key_names),
        st.text(max_size=30).map(lambda text: SECRET_VALUE + text),
        max_size=4,
    ),
    data=st.data(),
)
def test_no_message_ever_shows_a_secret_value(raw, data):
    secret = data.draw(st.sets(st.sampled_from(sorted(raw)))) if raw else set()
    try:
        load(secret_keys=secret, **raw)
    except SettingsError as error:
        if secret:
            assert SECRET_VALUE not in str(error)
        assert "\n" not in str(error)


# --- item 6: values AWS would refuse at deploy time ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"allowedCidrs": '["10.0.0.0/16", "10.0.0.0/16"]'},
            'alex-db:allowedCidrs = \'["10.0.0.0/16", "10.0.0.0/16"]\' is not allowed: '
            "'10.0.0.0/16' repeats '10.0.0.0/16': list each CIDR once",
        ),
        (
            {"allowedCidrs": '["fd00::/8", "fd00:0::/8"]'},
            'alex-db:allowedCidrs = \'["fd00::/8", "fd00:0::/8"]\' is not allowed: '
            "'fd00:0::/8' repeats 'fd00::/8': list each CIDR once",
        ),
        (
            {"allowedCidrs": '["10.0.0.1"]'},
            "alex-db:allowedCidrs = '[\"10.0.0.1\"]' is not allowed: a list of CIDRs like "
            "10.0.0.0/16; '10.0.0.1' is not one",
        ),
        (
            {"allowedCidrs": '["10.0.0.0/255.0.0.0"]'},
            "alex-db:allowedCidrs = '[\"10.0.0.0/255.0.0.0\"]' is not allowed: a list of CIDRs "
            "like 10.0.0.0/16; '10.0.0.0/255.0.0.0' is not one",
        ),
        (
            {"allowedCidrs": '["fd00::%eth0/8"]'},
            "alex-db:allowedCidrs = '[\"fd00::%eth0/8\"]' is not allowed: a list of CIDRs like "
            "10.0.0.0/16; 'fd00::%eth0/8' is not one",
        ),
        (
            {"tags": '{"project": "other"}'},
            "alex-db:tags = '{\"project\": \"other\"}' is not allowed: 'project' and 'Project' "
            "differ only in case: IAM treats tag names case-insensitively, so keep one",
        ),
        (
            {"tags": '{"Team": "a", "TEAM": "b"}'},
            'alex-db:tags = \'{"Team": "a", "TEAM": "b"}\' is not allowed: \'TEAM\' and '
            "'Team' differ only in case: IAM treats tag names case-insensitively, so keep one",
        ),
        (
            {"maxCapacity": "200", "engineVersion": "15.4"},
            "alex-db:maxCapacity = '200' is not allowed with alex-db:engineVersion = '15.4': it "
            "allows at most 128 ACUs; 256 needs 13.13+, 14.10+, 15.5+, 16.1+, 17+",
        ),
        (
            {"logExports": '["postgresql", "iam-db-auth-error"]'},
            'alex-db:logExports = \'["postgresql", "iam-db-auth-error"]\' is not allowed: '
            "iam-db-auth-error needs IAM database authentication, which this profile leaves off",
        ),
        (
            {"allowedSecurityGroupIds": "sg-0123456789abcdef0,sg-0fedcba9876543210"},
            "alex-db:allowedSecurityGroupIds = 'sg-0123456789abcdef0,sg-0fedcba9876543210' is "
            "not allowed: a YAML list of ids like sg-0123456789abcdef0 (not a comma-separated "
            "string)",
        ),
    ],
)
def test_values_aws_or_the_cli_would_refuse_are_refused_now(raw, expected):
    assert refusal(**raw) == expected


@pytest.mark.parametrize(
    "tags",
    [
        {"Owner": "a;b"},
        {"Own<er": "x"},
        {"Owner": "line\nbreak"},
        {"Owner": "tab\there"},
        {"Owner": "emoji 🙂"},
        {"Owner": 'quote"d'},
        {"Owner\x00": "x"},
    ],
)
def test_tag_characters_outside_what_iam_accepts_are_refused(tags):
    assert "both only letters, digits, spaces and _.:/=+-@" in refusal(tags=json.dumps(tags))


def test_tags_iam_accepts_pass_including_unicode_letters():
    tags = {"Owner": "Zoë Ünal", "cost-center": "4711", "path": "a/b:c=d+e@f_g.h", "Empty": ""}
    assert load(tags=json.dumps(tags)).tags == {
        "Project": "alex", "Part": "5", **tags, "alex-db:stack": "dev"
    }
    assert load(tags='{"Project": "override"}').tags["Project"] == "override"


@pytest.mark.parametrize(
    ("version", "ceiling"),
    [
        ("15.4", 128),
        ("15.5", 256),
        ("13.12", 128),
        ("13.13", 256),
        ("14.9", 128),
        ("14.10", 256),
        ("16.1", 256),
        ("17.4", 256),
    ],
)
def test_the_acu_ceiling_follows_the_engine_version(version, ceiling):
    assert load(maxCapacity=str(ceiling), engineVersion=version).capacity.max_acu == ceiling
    with pytest.raises(SettingsError, match=rf"(at most|to) {ceiling} "):
        load(maxCapacity=str(ceiling + 0.5), engineVersion=version)


def test_log_exports_without_iam_auth_are_fine():
    assert load(logExports='["postgresql", "instance"]').log_exports == ("postgresql", "instance")


def test_every_declared_array_key_refuses_a_comma_separated_string_like_the_cli():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    arrays = [name for name, spec in declared.items() if spec.get("type") == "array"]
    assert arrays
    for name in arrays:
        with pytest.raises(SettingsError, match="not a comma-separated string"):
            load(**{name: "a,b"})
    assert load(subnetIds="subnet-0aaaaaaaa,subnet-0bbbbbbbb", vpcId="vpc-0123456789abcdef0")


@given(tags=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4))
def test_any_tags_map_is_accepted_or_refused_in_one_line(tags):
    try:
        loaded = load(tags=json.dumps(tags))
    except SettingsError as error:
        assert str(error).startswith("alex-db:tags = ") and "\n" not in str(error)
    else:
        assert {k.lower() for k in loaded.tags} == {
            k.lower() for k in {"Project": 1, "Part": 1, **tags, "alex-db:stack": 1}
        }


@given(cidrs=st.lists(st.text(max_size=20), max_size=4), public=st.booleans())
def test_any_allowed_cidrs_are_accepted_or_refused_in_one_line(cidrs, public):
    raw = {"allowedCidrs": json.dumps(cidrs), "allowPublicIngress": str(public).lower()}
    try:
        loaded = load(**raw)
    except SettingsError as error:
        assert str(error).startswith("alex-db:allowedCidrs = ") and "\n" not in str(error)
    else:
        assert loaded.network.allowed_cidrs == tuple(c.strip() for c in cidrs)
