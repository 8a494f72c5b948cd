"""The production profile, readers, an existing VPC, access rules, log exports and tags."""

from __future__ import annotations

import json

import pulumi
import pytest

from alex_db.config.profile import DEV, PRODUCTION
from alex_db.config.settings import SettingsError, load_settings
from alex_db.tools.plan.runner import recording_monitor, run_program
from tests.conftest import (
    ATTACHMENT,
    CLUSTER,
    DEV_CONFIG,
    INSTANCE,
    PASSWORD_SENTINEL,
    SECRET,
    SECURITY_GROUP,
    SUBNET_GROUP,
    TEST_PLACEHOLDERS,
    run,
)

VPC = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]
LAMBDA_SG = "sg-0fedcba9876543210"


@pytest.fixture(scope="module")
def prod():
    return run("prod", production="true", readers="2", tags='{"Environment": "production"}')


def test_production_cluster_is_protected_snapshotted_and_patient(prod):
    cluster = prod.one(CLUSTER)
    assert cluster.inputs["deletionProtection"] is True
    assert cluster.inputs["skipFinalSnapshot"] is False
    assert cluster.inputs["finalSnapshotIdentifier"] == "alex-aurora-cluster-prod-final-0a1b2c3d"
    assert cluster.inputs["applyImmediately"] is False
    assert cluster.inputs["backupRetentionPeriod"] == 14
    assert cluster.inputs["enabledCloudwatchLogsExports"] == ["postgresql"]
    assert cluster.protect, f"{cluster.urn} must carry Pulumi protect"


def test_production_secret_waits_30_days_and_is_protected(prod):
    secret = prod.one(SECRET)
    assert secret.inputs["recoveryWindowInDays"] == 30
    assert secret.protect


def test_production_has_a_writer_and_two_readers_with_insights(prod):
    instances = sorted(prod.of_type(INSTANCE), key=lambda r: r.name)
    assert [i.inputs["identifier"] for i in instances] == [
        "alex-aurora-instance-1-prod",
        "alex-aurora-instance-2-prod",
        "alex-aurora-instance-3-prod",
    ]
    assert [i.inputs["promotionTier"] for i in instances] == [0, 1, 1]
    for instance in instances:
        assert instance.protect, instance.urn
        assert instance.inputs["performanceInsightsEnabled"] is True
        assert instance.inputs["performanceInsightsRetentionPeriod"] == 7
        assert instance.inputs["applyImmediately"] is False
        assert instance.inputs["instanceClass"] == "db.serverless"
        assert instance.inputs["publiclyAccessible"] is False


def test_instances_wait_for_the_monitoring_policy_not_only_the_role(prod):
    """Issue 18 C1: the role's ARN alone lets Pulumi create an instance while the
    AmazonRDSEnhancedMonitoringRole attachment is still being made, and RDS refuses a monitoring
    role that cannot publish yet. ``dependencies`` holds every URN the instance waits for."""
    (attachment,) = [a for a in prod.of_type(ATTACHMENT) if "MonitoringRole" in a.urn]
    assert attachment.inputs["policyArn"].endswith(":policy/service-role/AmazonRDSEnhancedMonitoringRole")
    instances = prod.of_type(INSTANCE)
    assert len(instances) == 3
    for instance in instances:
        assert instance.inputs["monitoringInterval"] == 60
        assert attachment.urn in instance.dependencies, instance.urn


def test_dev_instances_without_monitoring_wait_for_no_role(dev):
    assert not [a for a in dev.of_type(ATTACHMENT) if "MonitoringRole" in a.urn]
    for instance in dev.of_type(INSTANCE):
        assert not [urn for urn in instance.dependencies if "MonitoringRole" in urn], instance.urn


def test_dev_is_the_seeds_convenience_profile(dev):
    cluster = dev.one(CLUSTER)
    assert cluster.inputs["deletionProtection"] is False
    assert cluster.inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in cluster.inputs
    assert cluster.inputs["enabledCloudwatchLogsExports"] == []
    assert not any(r.protect for r in dev.resources), "nothing is protected in dev"
    assert dev.warnings == []


def test_user_tags_merge_over_the_base_tags(prod):
    for resource in (prod.one(CLUSTER), prod.one(SECRET), prod.one(SECURITY_GROUP)):
        assert resource.inputs["tags"] == {
            "Project": "alex",
            "Part": "5",
            "Environment": "production",
            "alex-db:stack": "prod",
        }


def test_cost_in_instructions_counts_every_instance(prod):
    assert "3 instances x 0.5 ACU" in prod.outputs["setup_instructions"].value


def test_prod_stack_without_production_is_warned_not_failed():
    careless = run("prod-eu")
    assert careless.warnings == [
        "stack 'prod-eu' looks like production but alex-db:production is not true: "
        "no deletion protection, no final snapshot, secret deleted at once"
    ]
    assert careless.one(CLUSTER).inputs["deletionProtection"] is False


def test_production_passwords_stay_secret(prod):
    for output in prod.outputs.values():
        assert PASSWORD_SENTINEL not in str(output.value)


def test_existing_vpc_and_subnets_replace_the_default_vpc():
    custom = run(vpcId=VPC, subnetIds=json.dumps(SUBNETS))
    assert custom.one(SUBNET_GROUP).inputs["subnetIds"] == SUBNETS
    group = custom.one(SECURITY_GROUP)
    assert group.inputs["vpcId"] == VPC
    (rule,) = group.inputs["ingress"]
    assert rule["cidrBlocks"] == ["172.31.0.0/16"], "the looked-up VPC's CIDR by default"


def test_allowed_cidrs_and_security_groups_replace_the_vpc_cidr():
    custom = run(
        allowedCidrs='["10.1.0.0/16", "fd12:3456::/48"]',
        allowedSecurityGroupIds=json.dumps([LAMBDA_SG]),
    )
    rules = {rule["description"]: rule for rule in custom.one(SECURITY_GROUP).inputs["ingress"]}
    assert rules["PostgreSQL from allowed IPv4 ranges"]["cidrBlocks"] == ["10.1.0.0/16"]
    assert rules["PostgreSQL from allowed IPv6 ranges"]["ipv6CidrBlocks"] == ["fd12:3456::/48"]
    assert rules["PostgreSQL from allowed security groups"]["securityGroups"] == [LAMBDA_SG]
    for rule in rules.values():
        assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 5432, 5432)


def test_empty_allowed_cidrs_and_no_groups_means_no_ingress_at_all():
    assert run(allowedCidrs="[]").one(SECURITY_GROUP).inputs.get("ingress", []) == []


def test_public_ingress_needs_the_explicit_switch():
    opened = run(allowedCidrs='["0.0.0.0/0"]', allowPublicIngress="true")
    (rule,) = opened.one(SECURITY_GROUP).inputs["ingress"]
    assert rule["cidrBlocks"] == ["0.0.0.0/0"]


def test_profiles_differ_in_every_protection():
    # IAM database authentication is off in both until the production profile turns it on.
    fields = [f for f in DEV.__dataclass_fields__ if f != "iam_database_authentication"]
    assert all(getattr(DEV, f) != getattr(PRODUCTION, f) for f in fields)


def settings(**raw):
    return load_settings(raw, stack="dev")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"production": "yes"}, "alex-db:production = 'yes' is not allowed: true or false"),
        ({"readers": "16"}, "alex-db:readers = '16' is not allowed: a whole number from 0 to 15"),
        ({"readers": "-1"}, "alex-db:readers = '-1' is not allowed: a whole number from 0 to 15"),
        ({"readers": "two"}, "alex-db:readers = 'two' is not allowed: a whole number from 0 to 15"),
        (
            {"vpcId": VPC},
            "alex-db:vpcId and alex-db:subnetIds go together: set both (an existing VPC and at "
            "least 2 of its subnets) or neither (the default VPC)",
        ),
        (
            {"subnetIds": json.dumps(SUBNETS)},
            "alex-db:vpcId and alex-db:subnetIds go together: set both (an existing VPC and at "
            "least 2 of its subnets) or neither (the default VPC)",
        ),
        (
            {"vpcId": "vpc-xyz", "subnetIds": json.dumps(SUBNETS)},
            "alex-db:vpcId = 'vpc-xyz' is not allowed: a VPC id like vpc-0123456789abcdef0",
        ),
        (
            {"vpcId": VPC, "subnetIds": json.dumps(SUBNETS[:1])},
            f"alex-db:subnetIds = '{json.dumps(SUBNETS[:1])}' is not allowed: at least 2 subnets "
            "in different availability zones",
        ),
        (
            {"vpcId": VPC, "subnetIds": json.dumps([SUBNETS[0], SUBNETS[0]])},
            f"alex-db:subnetIds = '{json.dumps([SUBNETS[0], SUBNETS[0]])}' is not allowed: a list "
            "without repeated ids",
        ),
        (
            {"vpcId": VPC, "subnetIds": '["subnet-1", "subnet-2"]'},
            'alex-db:subnetIds = \'["subnet-1", "subnet-2"]\' is not allowed: a list of ids like '
            "subnet-0123456789abcdef0; 'subnet-1' is not one",
        ),
        (
            {"allowedCidrs": '["0.0.0.0/0"]'},
            "alex-db:allowedCidrs = '[\"0.0.0.0/0\"]' is not allowed: 0.0.0.0/0 reaches public "
            "address space (it is not wholly inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, "
            "100.64.0.0/10, fc00::/7); set alex-db:allowPublicIngress to true if PostgreSQL "
            "should really be open to it",
        ),
        (
            {"allowedCidrs": "::/0"},
            "alex-db:allowedCidrs = '::/0' is not allowed: ::/0 reaches public address space (it "
            "is not wholly inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, "
            "fc00::/7); set alex-db:allowPublicIngress to true if PostgreSQL should really be "
            "open to it",
        ),
        (
            {"allowedCidrs": '["10.0.0.1/16"]'},
            "alex-db:allowedCidrs = '[\"10.0.0.1/16\"]' is not allowed: a list of CIDRs like "
            "10.0.0.0/16; '10.0.0.1/16' is not one",
        ),
        (
            {"allowedSecurityGroupIds": '["lambda-sg"]'},
            "alex-db:allowedSecurityGroupIds = '[\"lambda-sg\"]' is not allowed: a list of ids "
            "like sg-0123456789abcdef0; 'lambda-sg' is not one",
        ),
        (
            {"logExports": '["slowquery"]'},
            "alex-db:logExports = '[\"slowquery\"]' is not allowed: distinct log types from "
            "postgresql, instance, iam-db-auth-error",
        ),
        (
            {"tags": '{"aws:owner": "me"}'},
            'alex-db:tags = \'{"aws:owner": "me"}\' is not allowed: at most 47 tags, names of '
            "1-128 characters not starting with aws:, values of at most 256 characters, both "
            "only letters, digits, spaces and _.:/=+-@",
        ),
        (
            {"tags": '["not", "a", "map"]'},
            'alex-db:tags = \'["not", "a", "map"]\' is not allowed: a map of tag names to values',
        ),
        (
            {"allowPublicIngress": "maybe"},
            "alex-db:allowPublicIngress = 'maybe' is not allowed: true or false",
        ),
    ],
)
def test_each_new_key_rejects_bad_values_in_one_line(raw, expected):
    with pytest.raises(SettingsError) as error:
        settings(**raw)
    assert str(error.value) == expected


def test_comma_separated_lists_are_accepted_like_yaml_lists():
    loaded = settings(vpcId=VPC, subnetIds=",".join(SUBNETS), logExports="postgresql,instance")
    assert loaded.network.subnet_ids == tuple(SUBNETS)
    assert loaded.log_exports == ("postgresql", "instance")


def test_log_exports_default_by_profile_and_can_be_emptied():
    assert settings(production="true").log_exports == ("postgresql",)
    assert settings(production="true", logExports="[]").log_exports == ()
    assert settings().log_exports == ()


@pytest.mark.parametrize("stack", ["Prod", "my_stack", "dev.eu", "-dev", "x" * 31])
def test_stack_names_that_cannot_be_aws_names_are_refused(stack):
    with pytest.raises(SettingsError, match=f"stack name {stack!r} cannot be part of AWS"):
        load_settings({}, stack=stack)


def test_bad_new_key_stops_the_program_before_any_resource():
    config = {**DEV_CONFIG, "alex-db:readers": "99"}
    monitor = recording_monitor(config, TEST_PLACEHOLDERS)
    with pytest.raises(pulumi.RunError, match="alex-db:readers = '99'"):
        run_program("dev", config, TEST_PLACEHOLDERS, monitor=monitor)
    assert monitor.recorded == []


def test_allow_deletion_lifts_only_the_delete_guards():
    leaving = run("prod", production="true", allowDeletion="true")
    cluster = leaving.one(CLUSTER)
    assert cluster.inputs["deletionProtection"] is False
    assert not cluster.protect
    assert not leaving.one(SECRET).protect
    assert cluster.inputs["skipFinalSnapshot"] is False, "the final snapshot stays"
    assert cluster.inputs["finalSnapshotIdentifier"] == "alex-aurora-cluster-prod-final-0a1b2c3d"
    assert leaving.one(SECRET).inputs["recoveryWindowInDays"] == 30
    assert cluster.inputs["backupRetentionPeriod"] == 14
