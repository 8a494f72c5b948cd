"""Every config key together (issue 12): each key was validated and tested on its own; these
properties run the whole program under the offline runner with a configuration drawn, key by
key, from small tables of valid and hostile values, over several stacks and regions, and check
what must hold for any combination: a one-line refusal naming a key before any registration, or
a stack that keeps the password and secrets out of plaintext, grants the Lambda role only what it
needs, never exposes the instances and always encrypts storage; and, for a production stack,
that the policy pack (driven as the engine drives it) agrees."""

from __future__ import annotations

import json

import pulumi
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from alex_db.config.policy_documents import (
    DATA_API_ACTIONS,
    KMS_DECRYPT_ACTIONS,
    LOG_WRITE_ACTIONS,
    SECRET_READ_ACTIONS,
)
from alex_db.config.settings import CONFIG_KEYS
from alex_db.config.values import NAMESPACE
from alex_db.tools.plan.runner import ProgramRun, recording_monitor, run_program
from tests.conftest import (
    CLUSTER,
    INSTANCE,
    PASSWORD,
    PASSWORD_SENTINEL,
    ROLE_POLICY,
    SECRET,
    TEST_PLACEHOLDERS,
)
from tests.policy_engine import analyze, analyze_stack, inputs_of, outputs_of, stack_resource

KMS_KEY = "aws:kms/key:Key"
STACKS = ("dev", "test", "prod", "prod-eu")
REGIONS = ("us-east-1", "eu-west-1")
SECRET_VALUE = "s3cr3t-Combo-Value-4b7d"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
ARABIC_ACCOUNT = "١٢٣٤٥٦٧٨٩٠١٢"  # twelve Arabic-Indic digits: \d matches them, AWS does not


def _arns(service: str, resource: str) -> list[str]:
    return [f"arn:aws:{service}:{region}:123456789012:{resource}" for region in REGIONS]


# What the CLI hands the program for each key (every value a string, lists and maps as JSON).
# Valid values include ones that are valid alone but clash with another key (minCapacity 0 on
# 13.11, backupCopyRegion without backupPlan, an ARN of the other region).
BOOLEANS = ["true", "false", "TRUE"]
VALID: dict[str, list[str]] = {
    "minCapacity": ["0", "0.5", "2", "128"],
    "maxCapacity": ["1", "4", "128.5", "256"],
    "engineVersion": ["15.12", "16.4", "13.11", "17.4"],
    "secondsUntilAutoPause": ["300", "3600", "86400"],
    "production": BOOLEANS,
    "allowDeletion": BOOLEANS,
    "readers": ["0", "1", "15"],
    "allowPublicIngress": BOOLEANS,
    "allowedSecurityGroupIds": ["[]", '["sg-0123456789abcdef0"]'],
    "customerManagedKey": BOOLEANS,
    "backupPlan": BOOLEANS,
    "allowMajorVersionUpgrade": BOOLEANS,
    "extendedSupport": BOOLEANS,
    "vpcId": ["vpc-0123456789abcdef0"],
    "subnetIds": [
        '["subnet-0123456789abcdef0", "subnet-0fedcba987654321f"]',
        "subnet-0123456789abcdef0,subnet-0fedcba987654321f",
    ],
    "allowedCidrs": ['["10.0.0.0/16"]', '["172.31.0.0/16", "fd00::/8"]', '["8.8.8.8/32"]'],
    "logExports": ["[]", '["postgresql"]', '["postgresql", "instance", "iam-db-auth-error"]'],
    "tags": ["{}", '{"team": "data"}', '{"Équipe": "données 数据"}'],
    "kmsKeyArn": _arns("kms", f"key/{KEY_ID}"),
    "monitoringInterval": ["0", "1", "60"],
    "slowQueryMs": ["0", "250", "2147483647"],
    "backupCopyRegion": ["us-west-2", "eu-central-1"],
    "alarmTopicArn": _arns("sns", "alerts"),
    "logRetentionDays": ["7", "30", "3653"],
}
# Hostile for every key: blanks, wrong types, unicode look-alikes, huge and odd numbers.
HOSTILE_ANY = [
    "",
    "   ",
    "\u00a0",
    "null",
    "[]",
    "{}",
    '"true"',
    "１",
    "٣",
    "1e309",
    "nan",
    "-1",
    "9" * 400,
    "9" * 5000,
    # More digits than int() converts (sys.int_info.str_digits_check_threshold: 4300 by default).
    "[" + "9" * 5000 + "]",
    "true\n",
    "a\u2028b",
    "🦄",
    "x" * 3000,
]
HOSTILE: dict[str, list[str]] = {
    "minCapacity": ["0.25", "256.5", "inf", "-0.5"],
    "maxCapacity": ["0.5", "1e3", "0x10"],
    "engineVersion": ["15.4", "15", "15.12.1", "١٥.١٢", "v15.12"],
    "readers": ["16", "1.0", "1_0"],
    "allowedSecurityGroupIds": ["sg-0123456789abcdef0", '["sg-1"]', '[["sg-0123456789abcdef0"]]'],
    "subnetIds": ['["subnet-0123456789abcdef0"]', '["subnet-0123456789abcdef0", 1]'],
    "vpcId": ["vpc-XYZ", "VPC-0123456789ABCDEF0"],
    "allowedCidrs": [
        '["0.0.0.0/0"]',
        '["10.0.0.0/255.0.0.0"]',
        '["10.0.0.1/8"]',
        '["10.0.0.0/8", "10.0.0.0/08"]',
        "[1]",
    ],
    "logExports": ['["audit"]', '["postgresql", "postgresql"]', "postgresql,"],
    "tags": ['{"aws:x": "y"}', '{"project": "x"}', '{"a": 1}', '{"a\\u0000": "b"}'],
    "kmsKeyArn": [
        "alias/aws/rds",
        f"arn:aws-cn:kms:us-east-1:123456789012:key/{KEY_ID}",
        f"arn:aws:kms:us-east-1:{ARABIC_ACCOUNT}:key/{KEY_ID}",
    ],
    "alarmTopicArn": [
        "arn:aws:sns:us-east-1:123456789012:alerts.fifo",
        f"arn:aws:sns:us-east-1:{ARABIC_ACCOUNT}:alerts",
    ],
    "backupCopyRegion": ["us-east-1", "eu-west-١", "cn-north-1"],
    "monitoringInterval": ["2", "60.0"],
    "logRetentionDays": ["8", "0"],
}


def test_every_key_has_a_row_of_valid_values():
    """A key added later without a row here would never be drawn."""
    assert set(VALID) == set(CONFIG_KEYS)
    assert set(HOSTILE) <= set(CONFIG_KEYS)


def valid_values() -> st.SearchStrategy[dict[str, str]]:
    """Each key unset or one of its valid values, independently (unset as often as not, so a
    draw sets about half the keys)."""
    per_key = {name: st.one_of(st.none(), st.sampled_from(VALID[name])) for name in CONFIG_KEYS}
    return st.fixed_dictionaries(per_key).map(_set_only).map(_vpc_with_subnets)


def _set_only(drawn: dict[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in drawn.items() if value is not None}


def _vpc_with_subnets(values: dict[str, str]) -> dict[str, str]:
    """vpcId and subnetIds go together: keep a drawn VPC's subnets, drop subnets without a VPC
    (half the valid draws would otherwise stop at that one rule, which test_network covers)."""
    if "vpcId" not in values:
        return {name: value for name, value in values.items() if name != "subnetIds"}
    return {"subnetIds": VALID["subnetIds"][0], **values}


def hostile_values() -> st.SearchStrategy[dict[str, str]]:
    """Up to three keys hostile over an otherwise valid draw: a hostile value meets every kind
    of neighbour instead of being hidden behind another key's refusal."""
    hostile = st.lists(st.sampled_from(CONFIG_KEYS), unique=True, max_size=3).flatmap(
        lambda names: st.fixed_dictionaries(
            {name: st.sampled_from(HOSTILE_ANY + HOSTILE.get(name, [])) for name in names}
        )
    )
    return st.tuples(valid_values(), hostile).map(lambda pair: {**pair[0], **pair[1]})


def full_config(region: str, values: dict[str, str]) -> dict[str, str]:
    return {"aws:region": region, **{f"{NAMESPACE}:{k}": v for k, v in values.items()}}


def strings_in(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


def contains(value, needle: str) -> bool:
    return any(needle in text for text in strings_in(value))


def run_or_refusal(stack: str, config: dict[str, str], secret_keys=()) -> ProgramRun | str:
    """The run, or the refusal's message once it is known to be one line naming a key, raised
    before any registration."""
    monitor = recording_monitor(config, TEST_PLACEHOLDERS)
    try:
        return run_program(
            stack, config, TEST_PLACEHOLDERS, monitor=monitor, secret_keys=secret_keys
        )
    except pulumi.RunError as error:
        message = str(error)
    assert monitor.recorded == [], message
    assert len(message.splitlines()) == 1, message
    assert f"{NAMESPACE}:" in message or "aws:region" in message, message
    return message


def outcome_of(stack: str, config: dict[str, str], secret_keys=()) -> ProgramRun | str:
    """``run_or_refusal`` inside a property, counted (``--hypothesis-show-statistics`` shows
    how many draws got past validation)."""
    outcome = run_or_refusal(stack, config, secret_keys)
    event("refused" if isinstance(outcome, str) else "registered")
    return outcome


# --- item 2: what any stack that registers must hold ---------------------------------------------


def check_no_plaintext_secrets(program_run: ProgramRun, secrets: list[str]) -> None:
    """The password's homes are secret inputs (cluster, secret version) and the generator's own
    ``result``; nothing else, input or output, may hold it or a value given as secret."""
    for needle in [PASSWORD_SENTINEL, *secrets]:
        for name, output in program_run.outputs.items():
            assert not contains(output.value, needle), name
        for resource in program_run.resources:
            for field, value in resource.inputs.items():
                if field not in resource.secret_inputs:
                    assert not contains(value, needle), f"{resource.urn} input {field}"
            for field, value in resource.outputs.items():
                home = field in resource.secret_inputs or (
                    resource.type == PASSWORD and field == "result"
                )
                assert home or not contains(value, needle), f"{resource.urn} output {field}"


def customer_key(program_run: ProgramRun, values: dict[str, str]) -> str | None:
    """The customer-managed key the configuration asks for: the given ``kmsKeyArn``, else the
    created key when ``customerManagedKey`` is true, else None (AWS-managed keys)."""
    if (values.get("kmsKeyArn") or "").strip():
        return values["kmsKeyArn"].strip()
    if (values.get("customerManagedKey") or "").strip().lower() == "true":
        return program_run.one(KMS_KEY).outputs["arn"]
    assert program_run.of_type(KMS_KEY) == []
    return None


def check_lambda_policy(program_run: ProgramRun, region: str, key_arn: str | None) -> None:
    """Data API on this cluster, GetSecretValue on this secret, logs here, and kms:Decrypt
    through Secrets Manager on ``key_arn`` only when there is a customer-managed key."""
    (policy,) = [p for p in program_run.of_type(ROLE_POLICY) if "alex-lambda" in p.urn]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    cluster_arn = program_run.one(CLUSTER).outputs["arn"]
    secret = program_run.one(SECRET)
    expected = {
        "DataApiOnThisCluster": (list(DATA_API_ACTIONS), [cluster_arn]),
        "ReadThisDatabaseSecret": (list(SECRET_READ_ACTIONS), [secret.outputs["arn"]]),
        "WriteLogsInThisRegion": (
            list(LOG_WRITE_ACTIONS),
            [f"arn:aws:logs:{region}:{TEST_PLACEHOLDERS.account_id}:*"],
        ),
    }
    if key_arn is not None:
        expected["DecryptThisSecretViaSecretsManager"] = (list(KMS_DECRYPT_ACTIONS), [key_arn])
        condition = statements["DecryptThisSecretViaSecretsManager"]["Condition"]
        assert condition == {
            "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
        }
    assert statements.keys() == expected.keys()
    for sid, (actions, resources) in expected.items():
        assert statements[sid]["Effect"] == "Allow"
        assert (statements[sid]["Action"], statements[sid]["Resource"]) == (actions, resources)


def check_registered_stack(
    program_run: ProgramRun, region: str, values: dict[str, str], secrets: list[str]
) -> None:
    """Item 2 for a run of ``values`` (short keys) in ``region``."""
    check_no_plaintext_secrets(program_run, secrets)
    key_arn = customer_key(program_run, values)
    check_lambda_policy(program_run, region, key_arn)
    cluster = program_run.one(CLUSTER)
    assert cluster.inputs["storageEncrypted"] is True
    # The customer-managed key, when there is one, encrypts both the cluster and the secret.
    assert cluster.inputs.get("kmsKeyId") == key_arn
    assert program_run.one(SECRET).inputs.get("kmsKeyId") == key_arn
    for instance in program_run.of_type(INSTANCE):
        assert instance.inputs["publiclyAccessible"] is False, instance.urn
    # AWS names, ARNs and regions are ASCII: a look-alike digit would only fail at deploy time.
    for resource in program_run.resources:
        for text in strings_in(resource.inputs):
            if text.startswith("arn:"):
                assert text.isascii(), f"{resource.urn}: {text!r}"
        assert str(resource.inputs.get("region", "")).isascii(), resource.urn


# CPU: a refused run costs ~3 ms, a registering one 0.03-0.2 s (more with readers and the pack), and
# the module stays under ~3 s. These counts still cover the space because it is small tables,
# not open text: each key has 3-4 valid and ~20 hostile rows drawn independently, so 60 hostile
# draws (up to three hostile keys each over about half the keys set) meet every key's hostile
# rows many times over the test runs, hypothesis's database replays any failure it once found,
# and the combinations that decide what is registered (profile, key, backup, alarms, readers,
# network, stack, region) are a few booleans and choices each, which 20 valid and 10 production
# draws vary on every run.
@settings(max_examples=60, deadline=None)
@given(
    stack=st.sampled_from(STACKS),
    region=st.sampled_from(REGIONS),
    values=hostile_values(),
    # Usually none (so most draws reach the values), else one or two keys set as secure:.
    secret_names=st.one_of(
        st.just([]), st.lists(st.sampled_from(["aws:region", *CONFIG_KEYS]), max_size=2)
    ),
)
def test_any_combination_registers_safely_or_stops_with_one_line(
    stack, region, values, secret_names
):
    """Items 1 and 2: hostile values, and values given as secrets (here SECRET_VALUE), end in a
    one-line refusal that names a key and shows no secret, or in a stack that holds item 2."""
    config = full_config(region, values)
    secret_keys = []
    for name in secret_names:
        full = name if ":" in name else f"{NAMESPACE}:{name}"
        config[full] = SECRET_VALUE
        secret_keys.append(full)
    outcome = outcome_of(stack, config, secret_keys)
    if isinstance(outcome, str):
        assert SECRET_VALUE not in outcome
        return
    assert not secret_keys, "a secret value was accepted into plaintext settings"
    check_registered_stack(outcome, region, values, [SECRET_VALUE])


@settings(max_examples=20, deadline=None)
@given(
    stack=st.sampled_from(STACKS),
    region=st.sampled_from(REGIONS),
    values=valid_values(),
)
def test_any_combination_of_valid_values_registers_safely_or_names_the_clash(stack, region, values):
    """Items 1 and 2 over the success paths: valid values that clash across keys are refused in
    one line; every other combination registers a stack that holds item 2."""
    outcome = outcome_of(stack, full_config(region, values))
    if not isinstance(outcome, str):
        check_registered_stack(outcome, region, values, [])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("kmsKeyArn", f"arn:aws:kms:us-east-1:{ARABIC_ACCOUNT}:key/{KEY_ID}"),
        ("alarmTopicArn", f"arn:aws:sns:us-east-1:{ARABIC_ACCOUNT}:alerts"),
        ("backupCopyRegion", "eu-west-١"),
    ],
)
def test_look_alike_digits_in_an_arn_or_region_are_refused(name, value):
    """Found while writing the hostile rows (the properties' ASCII-ARN check fails on it when
    drawn): the rules' \\d matched any Unicode digit, so an ARN or region with Arabic-Indic
    digits was accepted and sent to AWS as is."""
    outcome = run_or_refusal("dev", full_config("us-east-1", {"backupPlan": "true", name: value}))
    assert isinstance(outcome, str), f"{name} = {value!r} was accepted"
    assert outcome.startswith(f"{NAMESPACE}:{name} = ")


@pytest.mark.parametrize(
    "name", ["tags", "allowedCidrs", "allowedSecurityGroupIds", "logExports", "subnetIds"]
)
@pytest.mark.parametrize("value", ["9" * 5000, "[" + "9" * 5000 + "]", '{"a": ' + "9" * 5000 + "}"])
def test_json_with_a_number_too_long_to_convert_is_refused(name, value):
    """Found by the properties above: json.loads raises a plain ValueError, not a
    JSONDecodeError, for an integer of more than 4300 digits, and it escaped as a traceback."""
    values = {"vpcId": VALID["vpcId"][0], "subnetIds": VALID["subnetIds"][0], name: value}
    outcome = run_or_refusal("dev", full_config("us-east-1", values))
    assert isinstance(outcome, str), f"{name} = {value[:20]!r}... was accepted"
    assert outcome.startswith(f"{NAMESPACE}:{name} = ")


# --- item 3: the policy pack on production stacks ----------------------------------------------

# Keys a production draw may set besides the four the item fixes (allowedCidrs is the test's).
FIXED_IN_PRODUCTION = {
    "production",
    "customerManagedKey",
    "allowPublicIngress",
    "allowDeletion",
    "allowedCidrs",
}
PRODUCTION_FREE = [name for name in CONFIG_KEYS if name not in FIXED_IN_PRODUCTION]


def production_case() -> st.SearchStrategy[tuple[str, dict[str, str]]]:
    """A region and a production configuration whose ARNs are in that region (an ARN of another
    region is a refusal the first two properties already cover)."""

    def in_region(region: str) -> st.SearchStrategy[tuple[str, dict[str, str]]]:
        choices = {
            name: [v for v in VALID[name] if not v.startswith("arn:") or f":{region}:" in v]
            for name in PRODUCTION_FREE
        }
        free = st.fixed_dictionaries(
            {name: st.one_of(st.none(), st.sampled_from(c)) for name, c in choices.items()}
        )
        fixed = {"production": "true", "customerManagedKey": "true"}
        drawn = free.map(_set_only).map(_vpc_with_subnets)
        return st.tuples(st.just(region), drawn.map(lambda values: {**values, **fixed}))

    return st.sampled_from(REGIONS).flatmap(in_region)


def pack_violations(program_run: ProgramRun, stack: str) -> list:
    """What the engine would report: resource policies on inputs, stack policies on outputs."""
    resource = [v for r in program_run.resources for v in analyze(inputs_of(r))]
    stack_wide = analyze_stack(
        [stack_resource(program_run, stack), *map(outputs_of, program_run.resources)]
    )
    return resource + stack_wide


@settings(max_examples=10, deadline=None)
@given(
    stack=st.sampled_from(["prod", "prod-eu"]),
    case=production_case(),
    public_cidr=st.sampled_from([None, "0.0.0.0/0", "8.8.8.8/32", "2001:db8::/32"]),
)
def test_production_stacks_pass_the_pack_except_for_public_ingress(stack, case, public_cidr):
    """Item 3: production=true, customerManagedKey=true, no allowDeletion: no violation at all;
    with allowPublicIngress and a public CIDR, exactly the ingress one."""
    region, values = case
    if public_cidr is not None:
        values = {**values, "allowPublicIngress": "true", "allowedCidrs": json.dumps([public_cidr])}
    outcome = outcome_of(stack, full_config(region, values))
    if isinstance(outcome, str):
        return
    check_registered_stack(outcome, region, values, [])
    found = pack_violations(outcome, stack)
    if public_cidr is None:
        assert found == []
    else:
        (violation,) = found
        assert violation.policy == "no-ingress-from-anywhere"
        assert public_cidr in violation.message
