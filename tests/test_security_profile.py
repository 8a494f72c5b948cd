"""Issue 12: what production adds to pass AWS's security controls, asserted row by row for both
profiles under mocks (key, IAM authentication, enhanced monitoring, parameter group, egress,
Performance Insights), and the Data API grant that comes with a customer-managed key."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from alex_db.config.naming import PhysicalNames
from alex_db.config.parameters import parameter_family
from alex_db.config.profile import PRODUCTION
from alex_db.config.settings import DEFAULTS, Capacity
from alex_db.config.versions import parse_engine_version
from alex_db.infra.database import AuroraDatabase, DatabaseArgs
from alex_db.infra.parameter_group import ParameterGroupArgs
from alex_db.tools.plan.runner import run_program
from tests.conftest import (
    ALARM_TOPIC,
    ATTACHMENT,
    CLUSTER,
    INSTANCE,
    PASSWORD_SENTINEL,
    ROLE,
    ROLE_POLICY,
    SECRET,
    SECRET_VERSION,
    SECURITY_GROUP,
    TEST_PLACEHOLDERS,
    run,
)

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
OWN_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# The parameter group family of the default engine version.
FAMILY = parameter_family(parse_engine_version(DEFAULTS["engineVersion"]))
SEED_SIDS = ["DataApiOnThisCluster", "ReadThisDatabaseSecret", "WriteLogsInThisRegion"]


@pytest.fixture(scope="module")
def prod():
    """A new production stack, opted in to the customer-managed key as Pulumi.prod.yaml is."""
    return run("prod", production="true", readers="1", customerManagedKey="true")


@pytest.fixture(scope="module")
def prod_own_key():
    return run("prod", production="true", kmsKeyArn=OWN_KEY)


@pytest.fixture(scope="module")
def prod_existing(production):
    """A production stack as deployed before this version: no key setting."""
    return production


def statements(program_run) -> list[dict]:
    return json.loads(program_run.one(ROLE_POLICY).inputs["policy"])["Statement"]


def role_named(program_run, name: str):
    (role,) = [r for r in program_run.of_type(ROLE) if r.inputs["name"] == name]
    return role


# --- customer-managed key --------------------------------------------------------------------


def test_production_key_rotates_waits_30_days_and_is_protected_and_kept(prod):
    key = prod.one(KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.protect, f"{key.urn} must carry Pulumi protect"
    assert key.retain_on_delete, "the final snapshot needs the key after a destroy"
    alias = prod.one(ALIAS)
    assert alias.inputs["name"] == "alias/alex-aurora-prod"
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]


def test_one_key_encrypts_storage_secret_and_performance_insights(prod):
    key_arn = prod.one(KEY).outputs["arn"]
    assert prod.one(CLUSTER).inputs["kmsKeyId"] == key_arn
    assert prod.one(SECRET).inputs["kmsKeyId"] == key_arn
    instances = prod.of_type(INSTANCE)
    assert len(instances) == 2
    for instance in instances:
        assert instance.inputs["performanceInsightsKmsKeyId"] == key_arn, instance.urn
        assert instance.inputs["performanceInsightsRetentionPeriod"] == 7


def test_lambda_may_decrypt_with_the_key_only_through_secrets_manager_in_the_region(prod):
    key_arn = prod.one(KEY).outputs["arn"]
    by_sid = {s["Sid"]: s for s in statements(prod)}
    assert by_sid["DecryptThisSecretViaSecretsManager"] == {
        "Sid": "DecryptThisSecretViaSecretsManager",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [key_arn],
        "Condition": {
            "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
        },
    }


def test_the_decrypt_condition_names_secrets_manager_by_the_partitions_own_domain():
    """In the China partition service endpoints end in amazonaws.com.cn, so a condition written
    with amazonaws.com would never match and the Lambda could not read its secret."""
    china = run_program(
        "prod",
        {
            "aws:region": "cn-north-1",
            "alex-db:production": "true",
            "alex-db:customerManagedKey": "true",
        },
        replace(TEST_PLACEHOLDERS, partition="aws-cn", dns_suffix="amazonaws.com.cn"),
    )
    (decrypt,) = [s for s in statements(china) if s["Action"] == ["kms:Decrypt"]]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.cn-north-1.amazonaws.com.cn"}
    }


def test_data_api_path_needs_the_seeds_grants_plus_the_decrypt_and_nothing_else(prod, dev):
    assert [s["Sid"] for s in statements(dev)] == SEED_SIDS
    assert [s["Sid"] for s in statements(prod)] == [
        *SEED_SIDS[:2],
        "DecryptThisSecretViaSecretsManager",
        SEED_SIDS[2],
    ]
    seed = {s["Sid"]: s["Action"] for s in statements(dev)}
    assert {s["Sid"]: s["Action"] for s in statements(prod) if s["Sid"] in seed} == seed


def test_your_own_key_is_used_everywhere_and_no_key_is_created(prod_own_key):
    assert prod_own_key.of_type(KEY) == [] and prod_own_key.of_type(ALIAS) == []
    assert prod_own_key.one(CLUSTER).inputs["kmsKeyId"] == OWN_KEY
    assert prod_own_key.one(SECRET).inputs["kmsKeyId"] == OWN_KEY
    assert prod_own_key.one(INSTANCE).inputs["performanceInsightsKmsKeyId"] == OWN_KEY
    decrypt = [s for s in statements(prod_own_key) if s["Action"] == ["kms:Decrypt"]]
    assert [s["Resource"] for s in decrypt] == [[OWN_KEY]]


def test_existing_production_stack_keeps_aws_managed_keys_and_is_told(prod_existing):
    assert prod_existing.of_type(KEY) == []
    assert "kmsKeyId" not in prod_existing.one(CLUSTER).inputs
    assert "kmsKeyId" not in prod_existing.one(SECRET).inputs
    assert "performanceInsightsKmsKeyId" not in prod_existing.one(INSTANCE).inputs
    assert [s["Sid"] for s in statements(prod_existing)] == SEED_SIDS
    assert prod_existing.warnings == [
        "production stack 'prod' encrypts with AWS-managed keys: set alex-db:customerManagedKey "
        "to true for a new stack (an existing cluster would be replaced; see "
        "docs/production.md, Encryption keys)"
    ]


@pytest.mark.parametrize(
    "config",
    [
        {"production": "true"},
        {"production": "true", "readers": "2"},
        {"production": "true", "kmsKeyArn": OWN_KEY, "readers": "1"},
        {"customerManagedKey": "true"},
    ],
)
def test_performance_insights_key_only_ever_travels_with_the_clusters_key(config):
    """AWS cannot change the Performance Insights key once it is on, so an instance gets one
    only as part of the cluster key that replaces cluster and instances together."""
    program_run = run("prod", **config)
    cluster_key = program_run.one(CLUSTER).inputs.get("kmsKeyId")
    for instance in program_run.of_type(INSTANCE):
        sent = instance.inputs.get("performanceInsightsKmsKeyId")
        if instance.inputs["performanceInsightsEnabled"]:
            assert sent == cluster_key, instance.urn
        else:
            assert sent is None, instance.urn


def test_dev_keeps_the_aws_managed_keys(dev):
    assert dev.of_type(KEY) == []
    assert "kmsKeyId" not in dev.one(CLUSTER).inputs
    assert "kmsKeyId" not in dev.one(SECRET).inputs
    assert "performanceInsightsKmsKeyId" not in dev.one(INSTANCE).inputs


def test_dev_may_opt_in_and_then_leaves_no_key_behind():
    opted = run(customerManagedKey="true")
    key = opted.one(KEY)
    assert opted.one(ALIAS).inputs["name"] == "alias/alex-aurora-dev"
    assert not key.protect and not key.retain_on_delete, "dev keeps no snapshot needing it"
    assert opted.one(CLUSTER).inputs["kmsKeyId"] == key.outputs["arn"]


# --- IAM database authentication ---------------------------------------------------------------


def test_iam_database_authentication_is_on_in_production_only(prod, dev):
    assert prod.one(CLUSTER).inputs["iamDatabaseAuthenticationEnabled"] is True
    assert dev.one(CLUSTER).inputs["iamDatabaseAuthenticationEnabled"] is False


# --- enhanced monitoring -----------------------------------------------------------------------


def test_production_monitors_every_60_seconds_with_its_own_role(prod):
    role = role_named(prod, "alex-aurora-monitoring-role-prod")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {
            "Sid": "RdsMonitoringAssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    (attachment,) = [a for a in prod.of_type(ATTACHMENT) if a.inputs["role"] == role.inputs["name"]]
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
    for instance in prod.of_type(INSTANCE):
        assert instance.inputs["monitoringInterval"] == 60, instance.urn
        assert instance.inputs["monitoringRoleArn"] == role.outputs["arn"], instance.urn


def test_dev_has_no_enhanced_monitoring_and_no_role(dev):
    assert [r.inputs["name"] for r in dev.of_type(ROLE)] == ["alex-lambda-aurora-role"]
    instance = dev.one(INSTANCE)
    assert instance.inputs["monitoringInterval"] == 0
    assert "monitoringRoleArn" not in instance.inputs


def test_monitoring_interval_overrides_the_profile_both_ways():
    watched = run(monitoringInterval="15")
    assert watched.one(INSTANCE).inputs["monitoringInterval"] == 15
    assert role_named(watched, "alex-aurora-monitoring-role")
    quiet = run("prod", production="true", customerManagedKey="true", monitoringInterval="0")
    assert quiet.one(INSTANCE).inputs["monitoringInterval"] == 0
    assert [r.inputs["name"] for r in quiet.of_type(ROLE)] == ["alex-lambda-aurora-role-prod"]


# --- cluster parameter group -------------------------------------------------------------------


def test_production_group_forces_tls_and_logs_connections_and_slow_queries(prod):
    group = prod.one(PARAMETER_GROUP)
    assert group.inputs["name"] == PhysicalNames.for_stack("prod").parameter_group(FAMILY)
    assert group.inputs["family"] == FAMILY
    assert {p["name"]: p["value"] for p in group.inputs["parameters"]} == {
        "rds.force_ssl": "1",
        "log_min_duration_statement": "1000",
        "log_connections": "1",
        "log_disconnections": "1",
    }
    assert prod.one(CLUSTER).inputs["dbClusterParameterGroupName"] == group.inputs["name"]


def test_dev_group_forces_tls_only(dev):
    group = dev.one(PARAMETER_GROUP)
    assert group.inputs["name"] == PhysicalNames.for_stack("dev").parameter_group(FAMILY)
    assert group.inputs["parameters"] == [
        {"name": "rds.force_ssl", "value": "1", "applyMethod": "pending-reboot"}
    ]
    assert dev.one(CLUSTER).inputs["dbClusterParameterGroupName"] == group.inputs["name"]


def test_family_and_name_follow_the_engine_major():
    group = run(engineVersion="16.4").one(PARAMETER_GROUP)
    assert (group.inputs["family"], group.inputs["name"]) == (
        "aurora-postgresql16",
        "alex-aurora-postgresql16",
    )


def test_slow_query_threshold_is_configurable_in_either_profile():
    prod = run("prod", production="true", customerManagedKey="true", slowQueryMs="250")
    dev = run(slowQueryMs="0")
    for program_run, expected in ((prod, "250"), (dev, "0")):
        values = {p["name"]: p["value"] for p in program_run.one(PARAMETER_GROUP).inputs["parameters"]}
        assert values["log_min_duration_statement"] == expected


# --- egress ------------------------------------------------------------------------------------


def test_production_security_group_has_no_egress_at_all(prod):
    assert prod.one(SECURITY_GROUP).inputs["egress"] == []


def test_dev_keeps_the_seeds_all_egress(dev):
    assert dev.one(SECURITY_GROUP).inputs["egress"] == [
        {
            "description": "All outbound",
            "protocol": "-1",
            "fromPort": 0,
            "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"],
        }
    ]


# --- optional, off by default: AWS Backup plan and CloudWatch alarms ---------------------------

VAULT = "aws:backup/vault:Vault"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def test_neither_backup_plan_nor_alarms_unless_asked(prod, dev):
    for program_run in (prod, dev):
        for type_token in (VAULT, PLAN, SELECTION, ALARM):
            assert program_run.of_type(type_token) == [], type_token


@pytest.fixture(scope="module")
def backed_up(everything):
    """Production with its own key, two readers, 1-8 ACU, backups copied to us-west-2, alarms."""
    return everything


def test_backup_plan_snapshots_the_cluster_daily_into_a_vault_under_the_key(backed_up):
    key_arn = backed_up.one(KEY).outputs["arn"]
    vaults = {v.inputs.get("region", "us-east-1"): v for v in backed_up.of_type(VAULT)}
    assert set(vaults) == {"us-east-1", "us-west-2"}
    assert vaults["us-east-1"].inputs["kmsKeyArn"] == key_arn
    assert "kmsKeyArn" not in vaults["us-west-2"].inputs, "a key never leaves its region"
    (rule,) = backed_up.one(PLAN).inputs["rules"]
    assert rule["schedule"] == "cron(0 5 * * ? *)"
    assert rule["targetVaultName"] == "alex-aurora-backup-prod"
    assert rule["lifecycle"] == {"deleteAfter": 35}
    assert rule["copyActions"] == [
        {"destinationVaultArn": vaults["us-west-2"].outputs["arn"], "lifecycle": {"deleteAfter": 35}}
    ]
    assert "backup:us-west-2:" in vaults["us-west-2"].outputs["arn"]
    selection = backed_up.one(SELECTION)
    assert selection.inputs["resources"] == [backed_up.one(CLUSTER).outputs["arn"]]
    role = role_named(backed_up, "alex-aurora-backup-role-prod")
    assert selection.inputs["iamRoleArn"] == role.outputs["arn"]
    principal = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]
    assert principal == {"Service": "backup.amazonaws.com"}


def test_backup_plan_without_copy_region_has_no_copy():
    plain = run(backupPlan="true")
    assert len(plain.of_type(VAULT)) == 1
    (rule,) = plain.one(PLAN).inputs["rules"]
    assert rule.get("copyActions", []) == []


def test_alarms_watch_capacity_memory_and_connections_for_15_minutes(backed_up):
    alarms = {a.inputs["metricName"]: a.inputs for a in backed_up.of_type(ALARM)}
    assert set(alarms) == {"ServerlessDatabaseCapacity", "FreeableMemory", "DatabaseConnections"}
    for alarm in alarms.values():
        assert alarm["namespace"] == "AWS/RDS"
        assert (alarm["period"], alarm["evaluationPeriods"]) == (300, 3)
        assert alarm["alarmActions"] == [ALARM_TOPIC] and alarm["okActions"] == [ALARM_TOPIC]
        assert alarm["treatMissingData"] == "notBreaching"
    for metric in ("FreeableMemory", "DatabaseConnections"):
        assert alarms[metric]["dimensions"] == {"DBClusterIdentifier": "alex-aurora-cluster-prod"}
    capacity = alarms["ServerlessDatabaseCapacity"]
    assert (capacity["comparisonOperator"], capacity["threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        8,
    )
    memory = alarms["FreeableMemory"]
    assert memory["comparisonOperator"] == "LessThanThreshold"
    assert memory["threshold"] == pytest.approx(0.1 * 8 * 2 * 1024**3)
    # LEAST(16 GiB / 9531392, 5000) = 1802 connections; 80% of that.
    assert alarms["DatabaseConnections"]["threshold"] == 1442


def test_capacity_is_watched_on_every_instance_not_on_the_cluster_average(backed_up):
    """Issue 18 C4: on the cluster dimension ServerlessDatabaseCapacity is the average over the
    instances: with two readers, one instance pinned at 8 ACU beside two at 1 ACU averages
    3.3 ACU, so the alarm fired only when all three were pinned. One alarm per instance, the
    writer's and each reader's (the writer is whichever instance won the last failover)."""
    instances = sorted(i.inputs["identifier"] for i in backed_up.of_type(INSTANCE))
    assert len(instances) == 3, "a writer and two readers"
    capacity = [
        a.inputs
        for a in backed_up.of_type(ALARM)
        if a.inputs["metricName"] == "ServerlessDatabaseCapacity"
    ]
    assert sorted(a["dimensions"]["DBInstanceIdentifier"] for a in capacity) == instances
    for alarm in capacity:
        assert set(alarm["dimensions"]) == {"DBInstanceIdentifier"}
        assert alarm["statistic"] == "Maximum" and alarm["threshold"] == 8
        assert alarm["name"] == f"{alarm['dimensions']['DBInstanceIdentifier']}-capacity-at-max"


@pytest.mark.parametrize(("min_acu", "max_acu"), [("1", "1"), ("8", "8"), ("256", "256")])
def test_a_fixed_capacity_gets_no_capacity_alarm_that_would_never_clear(min_acu, max_acu):
    """With minCapacity = maxCapacity the cluster always runs at its maximum, so an alarm on
    "capacity at the maximum" would sit in ALARM from the first evaluation onwards."""
    pinned = run(
        "prod",
        production="true",
        customerManagedKey="true",
        minCapacity=min_acu,
        maxCapacity=max_acu,
        alarmTopicArn=ALARM_TOPIC,
    )
    metrics = sorted(a.inputs["metricName"] for a in pinned.of_type(ALARM))
    assert metrics == ["DatabaseConnections", "FreeableMemory"]


def test_the_smallest_and_largest_ranges_keep_all_three_alarms_with_sane_thresholds():
    for low, high, connections in (("0.5", "1", 180), ("0.5", "256", 4000)):
        alarms = {
            a.inputs["metricName"]: a.inputs["threshold"]
            for a in run(minCapacity=low, maxCapacity=high, alarmTopicArn=ALARM_TOPIC).of_type(ALARM)
        }
        assert alarms["ServerlessDatabaseCapacity"] == float(high)
        assert alarms["FreeableMemory"] == pytest.approx(0.1 * float(high) * 2 * 1024**3)
        assert alarms["DatabaseConnections"] == connections


def test_password_stays_secret_and_out_of_every_new_resource(backed_up):
    cluster = backed_up.one(CLUSTER)
    assert "masterPassword" in cluster.secret_inputs
    homes = {(CLUSTER, "masterPassword"), (SECRET_VERSION, "secretString")}
    for resource in backed_up.resources:
        for name, value in resource.inputs.items():
            if (resource.type, name) not in homes:
                assert PASSWORD_SENTINEL not in json.dumps(value, default=str), resource.urn
    for output in backed_up.outputs.values():
        assert PASSWORD_SENTINEL not in str(output.value)


def test_monitoring_without_a_role_is_refused_before_any_resource():
    args = DatabaseArgs(
        cluster_identifier="c",
        instance_identifiers=["i"],
        engine_version="15.12",
        capacity=Capacity(0.5, 1.0, None),
        subnet_group_name="s",
        security_group_ids=["sg"],
        master_username="u",
        master_password="p",
        secret_id="id",
        secret_arn="arn",
        profile=PRODUCTION,
        parameter_group=ParameterGroupArgs(name="g", family="aurora-postgresql15", parameters=[]),
        monitoring_interval=60,
    )
    with pytest.raises(ValueError, match="monitoring_interval needs monitoring_role_arn"):
        AuroraDatabase("alex-aurora", args)
