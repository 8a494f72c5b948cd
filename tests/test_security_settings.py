"""Issue 12's configuration keys: customerManagedKey, kmsKeyArn, monitoringInterval,
slowQueryMs. Each bad value is one line naming key, value and what is allowed, before any
resource; any text ends in a value or in that one line."""

from __future__ import annotations

from dataclasses import replace

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alex_db.config import partitions
from alex_db.config.kms_key import KeyFacts, given_key_problem
from alex_db.config.parameters import (
    FORCE_SSL_DEFAULTS,
    cluster_parameters,
    forces_ssl_by_default,
    parameter_family,
)
from alex_db.config.settings import (
    DEFAULTS,
    MONITORING_INTERVALS,
    SettingsError,
    load_settings,
)
from alex_db.config.versions import DATA_API_MINIMUMS, EngineVersion
from alex_db.tools.plan.runner import (
    PlaceholderMocks,
    RecordingMonitor,
    recording_monitor,
    run_program,
)
from alex_db.tools.shared.stack_files import load_stack_config
from tests.conftest import CLUSTER, DEV_CONFIG, TEST_PLACEHOLDERS

# The cluster runs what the stack is configured with: the default version.
DEFAULT_VERSION = DEFAULTS["engineVersion"]

OWN_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ALLOWED = (
    "a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/<key id> (a key, not an alias: "
    "IAM grants name keys)"
)
NEW_KEYS = (
    "customerManagedKey",
    "kmsKeyArn",
    "monitoringInterval",
    "slowQueryMs",
    "backupPlan",
    "backupCopyRegion",
    "alarmTopicArn",
)
TOPIC = "arn:aws:sns:us-east-1:123456789012:alex-alerts"


def settings(stack: str = "dev", **raw: str):
    return load_settings(raw, stack=stack, region="us-east-1")


def test_defaults_by_profile():
    dev, prod = settings(), settings("prod", production="true")
    assert (dev.customer_managed_key, dev.kms_key_arn, dev.creates_kms_key) == (False, None, False)
    assert (dev.monitoring_interval, dev.slow_query_ms) == (0, None)
    assert (prod.customer_managed_key, prod.monitoring_interval, prod.slow_query_ms) == (
        False,
        60,
        1000,
    )


def test_customer_managed_key_creates_one_unless_you_bring_yours():
    assert settings(customerManagedKey="true").creates_kms_key
    own = settings(kmsKeyArn=OWN_KEY)
    assert (own.customer_managed_key, own.creates_kms_key, own.kms_key_arn) == (
        True,
        False,
        OWN_KEY,
    )
    assert settings(kmsKeyArn=f"  {OWN_KEY} ").kms_key_arn == OWN_KEY
    assert settings(kmsKeyArn=" ", monitoringInterval="", slowQueryMs="").kms_key_arn is None
    multi_region = "arn:aws:kms:us-east-1:123456789012:key/mrk-" + "0" * 32
    assert settings(kmsKeyArn=multi_region).kms_key_arn == multi_region


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"kmsKeyArn": "alias/my-key"},
            f"alex-db:kmsKeyArn = 'alias/my-key' is not allowed: {KEY_ALLOWED}",
        ),
        (
            {"kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/my-key"},
            "alex-db:kmsKeyArn = 'arn:aws:kms:us-east-1:123456789012:alias/my-key' is not "
            f"allowed: {KEY_ALLOWED}",
        ),
        (
            {"kmsKeyArn": OWN_KEY.replace("us-east-1", "eu-west-1")},
            f"alex-db:kmsKeyArn = '{OWN_KEY.replace('us-east-1', 'eu-west-1')}' is not allowed: "
            "a key in the stack's region us-east-1",
        ),
        (
            {"customerManagedKey": "yes"},
            "alex-db:customerManagedKey = 'yes' is not allowed: true or false",
        ),
        (
            {"monitoringInterval": "45"},
            "alex-db:monitoringInterval = '45' is not allowed: one of 0, 1, 5, 10, 15, 30, 60 "
            "(seconds between enhanced monitoring samples; 0 turns it off)",
        ),
        (
            {"monitoringInterval": "1m"},
            "alex-db:monitoringInterval = '1m' is not allowed: one of 0, 1, 5, 10, 15, 30, 60 "
            "(seconds between enhanced monitoring samples; 0 turns it off)",
        ),
        (
            {"slowQueryMs": "-1"},
            "alex-db:slowQueryMs = '-1' is not allowed: a whole number of milliseconds from 0 "
            "to 2147483647",
        ),
        (
            {"backupPlan": "daily"},
            "alex-db:backupPlan = 'daily' is not allowed: true or false",
        ),
        (
            {"backupCopyRegion": "us-west-2"},
            "alex-db:backupCopyRegion = 'us-west-2' is not allowed: only with alex-db:backupPlan "
            "set to true",
        ),
        (
            {"backupPlan": "true", "backupCopyRegion": "us-east-1"},
            "alex-db:backupCopyRegion = 'us-east-1' is not allowed: a region name like eu-west-1, "
            "not the stack's own",
        ),
        (
            {"backupPlan": "true", "backupCopyRegion": "Oregon"},
            "alex-db:backupCopyRegion = 'Oregon' is not allowed: a region name like eu-west-1, "
            "not the stack's own",
        ),
        (
            {"alarmTopicArn": "alex-alerts"},
            "alex-db:alarmTopicArn = 'alex-alerts' is not allowed: a standard SNS topic ARN like "
            "arn:aws:sns:us-east-1:123456789012:alerts",
        ),
        (
            {"alarmTopicArn": TOPIC + ".fifo"},
            f"alex-db:alarmTopicArn = '{TOPIC}.fifo' is not allowed: a standard SNS topic ARN "
            "like arn:aws:sns:us-east-1:123456789012:alerts",
        ),
        (
            {"alarmTopicArn": TOPIC.replace("us-east-1", "eu-west-1")},
            f"alex-db:alarmTopicArn = '{TOPIC.replace('us-east-1', 'eu-west-1')}' is not "
            "allowed: a topic in the stack's region us-east-1",
        ),
        (
            {"slowQueryMs": "1s"},
            "alex-db:slowQueryMs = '1s' is not allowed: a whole number of milliseconds from 0 "
            "to 2147483647",
        ),
    ],
)
def test_each_bad_value_is_one_line_naming_key_value_and_allowed(raw, expected):
    with pytest.raises(SettingsError) as error:
        settings(**raw)
    assert str(error.value) == expected


CHINA_KEY = "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    ("name", "value", "region"),
    [
        ("kmsKeyArn", CHINA_KEY.replace("arn:aws-cn:", "arn:aws:"), "cn-north-1"),
        ("kmsKeyArn", OWN_KEY.replace("arn:aws:", "arn:aws-cn:"), "us-east-1"),
        ("kmsKeyArn", OWN_KEY.replace("arn:aws:", "arn:aws-us-gov:"), None),
        ("alarmTopicArn", TOPIC.replace("us-east-1", "cn-north-1"), "cn-north-1"),
        ("alarmTopicArn", TOPIC.replace("arn:aws:", "arn:aws-cn:"), None),
    ],
)
def test_an_arn_whose_partition_is_not_its_regions_is_refused(name, value, region):
    """A China region's ARNs start arn:aws-cn and GovCloud's arn:aws-us-gov; any other pairing
    names nothing AWS can find, so it fails later, mid-deployment, unless refused here."""
    with pytest.raises(SettingsError) as error:
        load_settings({name: value}, stack="dev", region=region)
    message = str(error.value)
    assert message.startswith(f"alex-db:{name} = {value!r} is not allowed: ") and (
        "partition" in message
    )


@pytest.mark.parametrize(
    ("region", "copy_region"),
    [("us-east-1", "cn-north-1"), ("cn-north-1", "us-east-1"), ("us-east-1", "us-gov-west-1")],
)
def test_backups_are_not_copied_across_partitions(region, copy_region):
    """AWS Backup copies between regions of one partition; no vault in another exists for it."""
    with pytest.raises(SettingsError) as error:
        load_settings(
            {"backupPlan": "true", "backupCopyRegion": copy_region}, stack="dev", region=region
        )
    assert str(error.value).startswith(f"alex-db:backupCopyRegion = {copy_region!r} is not ")
    assert "partition" in str(error.value)
    china = load_settings(
        {"backupPlan": "true", "backupCopyRegion": "cn-northwest-1"}, stack="dev", region="cn-north-1"
    )
    assert china.backup_copy_region == "cn-northwest-1"


def test_arns_in_the_china_and_govcloud_partitions_are_taken():
    china = load_settings({"kmsKeyArn": CHINA_KEY}, stack="dev", region="cn-north-1")
    assert china.kms_key_arn == CHINA_KEY
    gov_topic = "arn:aws-us-gov:sns:us-gov-west-1:123456789012:alerts"
    gov = load_settings({"alarmTopicArn": gov_topic}, stack="dev", region="us-gov-west-1")
    assert gov.alarm_topic_arn == gov_topic


def test_backup_and_alarm_keys_when_valid():
    loaded = settings(backupPlan="true", backupCopyRegion=" us-west-2 ", alarmTopicArn=TOPIC)
    assert (loaded.backup_plan, loaded.backup_copy_region, loaded.alarm_topic_arn) == (
        True,
        "us-west-2",
        TOPIC,
    )
    assert (settings().backup_plan, settings().alarm_topic_arn) == (False, None)


def test_a_bad_key_arn_stops_the_program_before_any_resource():
    config = {**DEV_CONFIG, "alex-db:kmsKeyArn": "alias/aws/rds"}
    monitor = recording_monitor(config, TEST_PLACEHOLDERS)
    with pytest.raises(pulumi.RunError, match="alex-db:kmsKeyArn = 'alias/aws/rds'"):
        run_program("dev", config, TEST_PLACEHOLDERS, monitor=monitor)
    assert monitor.recorded == []


@pytest.mark.parametrize(
    ("facts", "problem"),
    [
        (KeyFacts("CUSTOMER", "Enabled", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), None),
        (
            KeyFacts("AWS", "Enabled", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
            "KMS reports an AWS managed key (like aws/rds): name a customer-managed key",
        ),
        (
            KeyFacts("CUSTOMER", "PendingDeletion", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
            "KMS reports the key as PendingDeletion: it must be Enabled",
        ),
        (
            KeyFacts("CUSTOMER", "Disabled", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
            "KMS reports the key as Disabled: it must be Enabled",
        ),
        (
            KeyFacts("CUSTOMER", "Enabled", "RSA_2048", "ENCRYPT_DECRYPT"),
            "KMS reports a RSA_2048 key for ENCRYPT_DECRYPT: RDS and Secrets Manager need a "
            "symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)",
        ),
        (
            KeyFacts("CUSTOMER", "Enabled", "HMAC_256", "GENERATE_VERIFY_MAC"),
            "KMS reports a HMAC_256 key for GENERATE_VERIFY_MAC: RDS and Secrets Manager need a "
            "symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)",
        ),
    ],
)
def test_a_given_key_must_be_an_enabled_symmetric_customer_key(facts, problem):
    assert given_key_problem(facts) == problem


@pytest.mark.parametrize(
    ("manager", "state", "expected"),
    [
        ("AWS", "Enabled", "KMS reports an AWS managed key (like aws/rds)"),
        ("CUSTOMER", "PendingDeletion", "KMS reports the key as PendingDeletion"),
    ],
)
def test_a_key_kms_refuses_stops_the_program_before_any_resource(manager, state, expected):
    """The ARN of the AWS managed aws/rds key is what the console shows for an existing
    cluster's key: given as kmsKeyArn it would silence the warning and pass the policy pack
    while nothing is customer-managed, and Secrets Manager cannot encrypt with it."""
    config = {**DEV_CONFIG, "alex-db:production": "true", "alex-db:kmsKeyArn": OWN_KEY}
    placeholders = replace(TEST_PLACEHOLDERS, kms_key_manager=manager, kms_key_state=state)
    monitor = recording_monitor(config, placeholders)
    with pytest.raises(pulumi.RunError) as error:
        run_program("prod", config, placeholders, monitor=monitor)
    message = str(error.value)
    assert message.startswith(f"alex-db:kmsKeyArn = {OWN_KEY!r} is not allowed: {expected}")
    assert "\n" not in message
    assert monitor.recorded == []


class KeyNotFound(PlaceholderMocks):
    """An account where DescribeKey fails (no such key, or no permission to describe it): the
    engine answers the invoke with a failure, which the SDK raises from ``get_key``."""

    def call(self, args):
        if args.token == "aws:kms/getKey:getKey":
            return {}, [("keyId", "NotFoundException: Key 'arn:...' does not exist\nmore")]
        return super().call(args)


def test_a_key_kms_cannot_describe_is_one_line_before_any_resource():
    config = {**DEV_CONFIG, "alex-db:kmsKeyArn": OWN_KEY}
    monitor = RecordingMonitor(KeyNotFound(TEST_PLACEHOLDERS, "us-east-1"))
    with pytest.raises(pulumi.RunError) as error:
        run_program("dev", config, TEST_PLACEHOLDERS, monitor=monitor)
    assert str(error.value) == (
        f"alex-db:kmsKeyArn = {OWN_KEY!r} is not allowed: KMS could not describe it: the key "
        "must exist in the stack's region and its key policy must let this account call "
        "kms:DescribeKey"
    )
    assert monitor.recorded == []


def against_running_cluster(stack: str, key_on_cluster: str | None, **config: str):
    """The program while the stack's cluster already exists, encrypted with ``key_on_cluster``
    (None: the account's AWS managed aws/rds key, as every cluster made before this version)."""
    merged = {**DEV_CONFIG, **{f"alex-db:{k}": v for k, v in config.items()}}
    placeholders = replace(
        TEST_PLACEHOLDERS, running_engine_version=DEFAULT_VERSION, running_kms_key_id=key_on_cluster
    )
    monitor = recording_monitor(merged, placeholders)
    return monitor, lambda: run_program(stack, merged, placeholders, monitor=monitor)


@pytest.mark.parametrize(
    ("key_on_cluster", "config", "expected"),
    [
        (
            None,
            {"customerManagedKey": "true"},
            "alex-db:customerManagedKey = 'true' is not allowed: the running cluster "
            "alex-aurora-cluster-prod is encrypted with an AWS managed key, and a cluster's key "
            "is fixed when it is created, so this would replace it (see "
            "docs/production.md, Encryption keys)",
        ),
        (
            None,
            {"kmsKeyArn": OWN_KEY},
            f"alex-db:kmsKeyArn = {OWN_KEY!r} is not allowed: the running cluster "
            "alex-aurora-cluster-prod is encrypted with an AWS managed key, and a cluster's key "
            "is fixed when it is created, so this would replace it (see "
            "docs/production.md, Encryption keys)",
        ),
        (
            OWN_KEY.replace("1234abcd", "99999999"),
            {"kmsKeyArn": OWN_KEY},
            f"alex-db:kmsKeyArn = {OWN_KEY!r} is not allowed: the running cluster "
            f"alex-aurora-cluster-prod is encrypted with {OWN_KEY.replace('1234abcd', '99999999')},"
            " and a cluster's key is fixed when it is created, so this would replace it (see "
            "docs/production.md, Encryption keys)",
        ),
        (
            OWN_KEY,
            {},
            "alex-db:customerManagedKey = 'false' is not allowed: the running cluster "
            f"alex-aurora-cluster-prod is encrypted with customer-managed key {OWN_KEY}, which "
            "cannot change; keep alex-db:customerManagedKey or alex-db:kmsKeyArn",
        ),
    ],
)
def test_a_running_clusters_key_never_changes_as_a_side_effect(key_on_cluster, config, expected):
    """Even with allowDeletion, which lifts the Pulumi protect that would otherwise refuse it."""
    monitor, deploy = against_running_cluster(
        "prod", key_on_cluster, production="true", allowDeletion="true", **config
    )
    with pytest.raises(pulumi.RunError) as error:
        deploy()
    assert str(error.value) == expected
    assert monitor.recorded == []


def test_the_repositorys_prod_example_is_refused_on_a_cluster_from_before_the_key():
    """Pulumi.prod.yaml opts in to the key; a prod stack deployed before it existed must get a
    clear refusal, not a replacement plan."""
    config = load_stack_config("prod").values
    placeholders = replace(TEST_PLACEHOLDERS, running_engine_version="15.12")
    monitor = recording_monitor(config, placeholders)
    with pytest.raises(pulumi.RunError, match="encrypted with an AWS managed key"):
        run_program("prod", config, placeholders, monitor=monitor)
    assert monitor.recorded == []


@pytest.mark.parametrize(
    ("key_on_cluster", "config"),
    [(None, {}), (OWN_KEY, {"kmsKeyArn": OWN_KEY})],
)
def test_a_running_cluster_keeping_its_key_deploys(key_on_cluster, config):
    _, deploy = against_running_cluster("prod", key_on_cluster, production="true", **config)
    assert deploy().one(CLUSTER).inputs.get("kmsKeyId") == config.get("kmsKeyArn")


def test_a_running_clusters_key_kms_will_not_describe_is_a_warning_not_a_failure():
    """A least-privilege deployer without kms:DescribeKey on the aws/rds key can still deploy an
    existing stack that changes nothing about keys; the program says what it could not check."""
    placeholders = replace(TEST_PLACEHOLDERS, running_engine_version=DEFAULT_VERSION)
    monitor = RecordingMonitor(KeyNotFound(placeholders, "us-east-1"))
    program_run = run_program("dev", DEV_CONFIG, placeholders, monitor=monitor)
    (warning,) = program_run.warnings
    assert warning.startswith("KMS could not describe arn:aws:kms:us-east-1:123456789012:key/")
    assert "the running cluster alex-aurora-cluster" in warning


@pytest.mark.parametrize("name", NEW_KEYS)
@given(text=st.text(max_size=80))
def test_any_text_for_a_new_key_is_a_value_or_one_line_naming_it(name, text):
    try:
        loaded = settings("prod", **{"production": "true", "backupPlan": "true", name: text})
    except SettingsError as error:
        message = str(error)
        assert message.startswith(f"alex-db:{name} = ") and "\n" not in message
        return
    assert loaded.monitoring_interval in MONITORING_INTERVALS
    assert loaded.kms_key_arn is None or loaded.kms_key_arn.startswith("arn:aws")
    assert loaded.slow_query_ms is None or loaded.slow_query_ms >= 0


REGIONS = ["us-east-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-iso-east-1", None]
PARTITIONS = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-eusc", "AWS"]


@given(
    name=st.sampled_from(["kmsKeyArn", "alarmTopicArn", "backupCopyRegion"]),
    region=st.sampled_from(REGIONS),
    arn_partition=st.sampled_from(PARTITIONS),
    arn_region=st.sampled_from([r for r in REGIONS if r] + ["eusc-de-east-1", " us-east-1"]),
)
def test_any_partition_and_region_pairing_is_a_value_or_one_line(
    name, region, arn_partition, arn_region
):
    """The ARN and region keys across partitions: whatever the pairing, a coherent value (the
    ARN's partition is its region's, which is the stack's) or one line naming the key."""
    service, resource = ("kms", "key/mrk-" + "a" * 32) if name == "kmsKeyArn" else ("sns", "t")
    values = {
        "kmsKeyArn": f"arn:{arn_partition}:{service}:{arn_region}:123456789012:{resource}",
        "alarmTopicArn": f"arn:{arn_partition}:{service}:{arn_region}:123456789012:{resource}",
        "backupCopyRegion": arn_region,
    }
    try:
        loaded = load_settings(
            {"backupPlan": "true", name: values[name]}, stack="dev", region=region
        )
    except SettingsError as error:
        assert str(error).startswith(f"alex-db:{name} = ") and "\n" not in str(error)
        return
    if name == "backupCopyRegion":
        assert region is None or partitions.arn_partition(loaded.backup_copy_region) == partitions.arn_partition(region)
        return
    arn = loaded.kms_key_arn or loaded.alarm_topic_arn
    _, partition, _, arn_region_seen, *_ = arn.split(":")
    assert partition == partitions.arn_partition(arn_region_seen)
    assert region is None or arn_region_seen == region


@given(interval=st.integers(-100, 100))
def test_exactly_the_intervals_rds_accepts_are_accepted(interval):
    try:
        loaded = settings(monitoringInterval=str(interval))
    except SettingsError:
        assert interval not in MONITORING_INTERVALS
    else:
        assert loaded.monitoring_interval == interval in MONITORING_INTERVALS


@given(major=st.integers(13, 40), minor=st.integers(0, 99))
def test_the_family_is_the_engine_major(major, minor):
    assert parameter_family(EngineVersion(major, minor)) == f"aurora-postgresql{major}"


@pytest.mark.parametrize(
    ("family", "sent"),
    [
        ("aurora-postgresql13", ["rds.force_ssl"]),
        ("aurora-postgresql14", ["rds.force_ssl"]),
        ("aurora-postgresql15", ["rds.force_ssl"]),
        ("aurora-postgresql16", ["rds.force_ssl"]),
        # Ships rds.force_ssl = 1: sending it would be a diff on every run (#23335).
        ("aurora-postgresql17", []),
        # A family without a known default gets it: a diff is noise, plaintext is a hole.
        ("aurora-postgresql18", ["rds.force_ssl"]),
    ],
)
def test_tls_is_forced_in_every_family_and_sent_only_where_the_default_differs(family, sent):
    """Issue 18 C3, per family the program allows (13-17) and one it does not know yet."""
    parameters = cluster_parameters(family=family, connection_logging=False, slow_query_ms=None)
    assert [p["name"] for p in parameters] == sent
    assert all(p["value"] == "1" for p in parameters)
    assert forces_ssl_by_default(family) == (not sent)


def test_every_family_the_program_allows_has_a_known_force_ssl_default():
    assert {f"aurora-postgresql{major}" for major in DATA_API_MINIMUMS} == FORCE_SSL_DEFAULTS.keys()


def test_logging_parameters_only_when_asked():
    parameters = cluster_parameters(
        family="aurora-postgresql15", connection_logging=True, slow_query_ms=5
    )
    assert [p["name"] for p in parameters] == [
        "rds.force_ssl",
        "log_min_duration_statement",
        "log_connections",
        "log_disconnections",
    ]
