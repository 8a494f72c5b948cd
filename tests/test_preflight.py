"""``python -m alex_db preflight`` against moto: a healthy account, no default VPC, single-AZ
subnets, a taken role name, a taken cluster identifier, an unknown engine version, a missing
security group, and more; every run proves it made only read calls.

moto 5.2 implements neither ``rds.describe_db_engine_versions`` nor
``rds.describe_account_attributes`` (NOTES.md): those answers are injected with botocore's
``before-call`` event hook, which short-circuits the call with the given response. Everything
else is moto's emulation.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    EndpointConnectionError,
    ReadTimeoutError,
    UnauthorizedSSOTokenError,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from alex_db.config.naming import PhysicalNames
from alex_db.config.parameters import parameter_family
from alex_db.config.resource_types import NameCheck
from alex_db.config.versions import parse_engine_version
from alex_db.tools.cli import main
from alex_db.tools.preflight.clients import CLIENT_CONFIG
from alex_db.tools.preflight.names import NAME_CHECKS
from alex_db.tools.shared.exits import Exit
from tests.aws_fakes import DEV_VERSION, REGION

READ_ONLY_PREFIXES = ("Describe", "Get", "List")
# The fake account offers the version stack dev deploys, whatever it is.
DEFAULT_ENGINE = {
    "Engine": "aurora-postgresql",
    "EngineVersion": DEV_VERSION,
    "Status": "available",
    "SupportedEngineModes": ["provisioned"],
    "ServerlessV2FeaturesSupport": {"MinCapacity": 0.0, "MaxCapacity": 256.0},
}
QUOTAS = [
    {"AccountQuotaName": "DBClusters", "Used": 3, "Max": 40},
    {"AccountQuotaName": "DBInstances", "Used": 5, "Max": 40},
]
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


class Account:
    """A moto account plus the hooks: what moto cannot answer, and a record of every call."""

    def __init__(self) -> None:
        self.session = boto3.Session(region_name=REGION)
        self.calls: list[str] = []
        self.engine_versions = [DEFAULT_ENGINE]
        self.offered = list(dict.fromkeys(["15.10", "15.12", "15.13", "16.4", DEV_VERSION]))
        self.quotas = QUOTAS
        events = self.session.events
        events.register("before-call", self._record)
        events.register("before-call.rds.DescribeDBEngineVersions", self._engine_versions)
        events.register("before-call.rds.DescribeAccountAttributes", self._quotas)

    def _record(self, model, **_) -> None:
        self.calls.append(model.name)

    @staticmethod
    def _ok(parsed: dict):
        return AWSResponse("https://stubbed", 200, {}, None), parsed

    def _engine_versions(self, params, **_):
        # Injected: moto has no DescribeDBEngineVersions. One version asked for -> that
        # version's entry (or none); no version -> the listing of what the region offers.
        asked = params["body"].get("EngineVersion")
        if asked is not None:
            found = [v for v in self.engine_versions if v["EngineVersion"] == asked]
            return self._ok({"DBEngineVersions": found})
        listing = [{"Engine": "aurora-postgresql", "EngineVersion": v} for v in self.offered]
        return self._ok({"DBEngineVersions": listing})

    def _quotas(self, **_):
        # Injected: moto has no DescribeAccountAttributes.
        return self._ok({"AccountQuotas": self.quotas})

    def client(self, service: str):
        return self.session.client(service, region_name=REGION)


@pytest.fixture
def account(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        fake = Account()
        monkeypatch.setattr(boto3, "Session", lambda *a, **k: fake.session)
        yield fake
        mutating = [c for c in fake.calls if not c.startswith(READ_ONLY_PREFIXES)]
        assert not mutating, f"preflight changed something: {mutating}"


def preflight(capsys, *args: str) -> tuple[int, list[str], str]:
    code = main(["preflight", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out.splitlines(), captured.err


def line(lines: list[str], start: str) -> str:
    (found,) = [entry for entry in lines if entry[2:].startswith(start)]
    return found


def test_healthy_account_passes_every_check_with_reads_only(account, capsys):
    code, lines, _ = preflight(capsys)
    assert code == Exit.OK
    assert line(lines, "credentials").startswith("✓ credentials: account 123456789012")
    assert line(lines, "Data API") == (
        "✓ Data API in us-east-1: offered for Aurora PostgreSQL Serverless v2"
    )
    assert line(lines, "engine") == (
        f"✓ engine aurora-postgresql {DEV_VERSION}: offered; Serverless v2 0-256 ACU, auto-pause"
    )
    assert line(lines, "subnets").startswith("✓ subnets: 6 in 6 availability zones")
    assert line(lines, "cluster") == "✓ cluster alex-aurora-cluster: free"
    assert line(lines, "IAM role") == "✓ IAM role alex-lambda-aurora-role: free"
    assert line(lines, "RDS quota") == (
        "✓ RDS quota: 3 of 40 DB clusters used, 5 of 40 DB instances"
    )
    assert line(lines, "monthly compute").startswith("✓ monthly compute: $43.80-$87.60")
    assert all(entry[0] == "✓" for entry in lines), lines
    assert set(account.calls) >= {"GetCallerIdentity", "DescribeVpcs", "GetRole"}


def test_no_default_vpc(account, capsys):
    ec2 = account.client("ec2")
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
        "Subnets"
    ]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc["VpcId"])
    account.calls.clear()
    code, lines, _ = preflight(capsys)
    assert code == Exit.NETWORK
    assert line(lines, "VPC") == (
        "✗ VPC: this region has no default VPC; create one (`aws ec2 create-default-vpc`) or "
        "set alex-db:vpcId and alex-db:subnetIds"
    )


def test_subnets_in_one_availability_zone(account, capsys):
    ec2 = account.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone="us-east-1a")["Subnet"][
            "SubnetId"
        ]
        for cidr in ("10.0.1.0/24", "10.0.2.0/24")
    ]
    account.calls.clear()
    code, lines, _ = preflight(
        capsys, "--config", f"vpcId={vpc_id}", "--config", f"subnetIds={','.join(subnets)}"
    )
    assert code == Exit.NETWORK
    assert line(lines, "subnets") == (
        "✗ subnets: 2 subnet(s), all in us-east-1a; a DB subnet group needs subnets in at least "
        "two availability zones (add one in another AZ to alex-db:subnetIds)"
    )


def test_taken_role_name_is_told_apart_from_our_own(account, capsys):
    iam = account.client("iam")
    iam.create_role(RoleName="alex-lambda-aurora-role", AssumeRolePolicyDocument=TRUST)
    account.calls.clear()
    code, lines, _ = preflight(capsys)
    assert code == Exit.NAME_TAKEN
    assert line(lines, "IAM role") == (
        "✗ IAM role alex-lambda-aurora-role: taken by something this stack did not create; "
        "pulumi up would fail to create it. Use another stack name (names carry it), or remove "
        "or import the existing one"
    )


def test_a_taken_parameter_group_name_is_named(account, capsys):
    family = parameter_family(parse_engine_version(DEV_VERSION))
    name = PhysicalNames.for_stack("dev").parameter_group(family)
    account.client("rds").create_db_cluster_parameter_group(
        DBClusterParameterGroupName=name,
        DBParameterGroupFamily=family,
        Description="another team's",
        Tags=[{"Key": "alex-db:stack", "Value": "staging"}],
    )
    account.calls.clear()
    code, lines, _ = preflight(capsys)
    assert code == Exit.NAME_TAKEN
    assert line(lines, "parameter group").startswith(
        f"✗ parameter group {name}: taken by stack 'staging'; pulumi up would"
    )


def test_production_checks_the_monitoring_and_backup_role_names_too(account, capsys):
    iam = account.client("iam")
    iam.create_role(RoleName="alex-aurora-monitoring-role", AssumeRolePolicyDocument=TRUST)
    account.calls.clear()
    code, lines, _ = preflight(capsys, "--config", "production=true", "--config", "backupPlan=true")
    assert code == Exit.NAME_TAKEN
    roles = [entry for entry in lines if entry[2:].startswith("IAM role")]
    assert [entry[:2] for entry in roles] == ["✓ ", "✗ ", "✓ "], roles
    assert "alex-aurora-monitoring-role: taken by" in roles[1]
    assert roles[2].startswith("✓ IAM role alex-aurora-backup-role: free")


def test_every_name_check_entry_is_a_step_of_preflight(account, capsys):
    """A type whose entry says preflight checks its name (a NameCheck in
    config/resource_types.py) gets a step, with every optional part that makes one on."""
    _, lines, _ = preflight(capsys, "--config", "production=true", "--config", "backupPlan=true")
    checks = [check for check in NAME_CHECKS.values() if isinstance(check, NameCheck)]
    for check in checks:
        assert any(entry[2:].startswith(f"{check.label} ") for entry in lines), check.label


def test_a_role_this_stack_owns_is_fine(account, capsys):
    account.client("iam").create_role(
        RoleName="alex-lambda-aurora-role",
        AssumeRolePolicyDocument=TRUST,
        Tags=[{"Key": "alex-db:stack", "Value": "dev"}],
    )
    account.calls.clear()
    code, lines, _ = preflight(capsys)
    assert code == Exit.OK
    assert line(lines, "IAM role") == (
        "✓ IAM role alex-lambda-aurora-role: exists, owned by this stack (alex-db:stack=dev); "
        "pulumi up keeps it"
    )


def test_a_role_from_before_ownership_tags_is_unknown_not_taken(account, capsys):
    account.client("iam").create_role(
        RoleName="alex-lambda-aurora-role",
        AssumeRolePolicyDocument=TRUST,
        Tags=[{"Key": "Project", "Value": "alex"}, {"Key": "Part", "Value": "5"}],
    )
    account.calls.clear()
    code, lines, _ = preflight(capsys)
    assert code == Exit.OK
    assert line(lines, "IAM role").startswith(
        "? IAM role alex-lambda-aurora-role: exists with this program's Project/Part tags but no "
        "alex-db:stack tag"
    )


def test_subnet_group_and_security_group_ownership_read_from_their_tags(account, capsys):
    ec2, rds = account.client("ec2"), account.client("rds")
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    rds.create_db_subnet_group(
        DBSubnetGroupName="alex-aurora-subnet-group",
        DBSubnetGroupDescription="ours",
        SubnetIds=[s["SubnetId"] for s in subnets["Subnets"][:2]],
        Tags=[{"Key": "alex-db:stack", "Value": "dev"}],
    )
    ec2.create_security_group(
        GroupName="alex-aurora-sg", Description="someone else's", VpcId=vpc["VpcId"]
    )
    account.calls.clear()
    code, lines, _ = preflight(capsys)
    assert code == Exit.NAME_TAKEN
    assert line(lines, "DB subnet group").startswith(
        "✓ DB subnet group alex-aurora-subnet-group: exists, owned by this stack"
    )
    assert line(lines, "security group").startswith(
        "✗ security group alex-aurora-sg: taken by something this stack did not create"
    )


def test_taken_cluster_identifier(account, capsys):
    account.client("rds").create_db_cluster(
        DBClusterIdentifier="alex-aurora-cluster",
        Engine="aurora-postgresql",
        EngineVersion=DEV_VERSION,
        MasterUsername="someone",
        MasterUserPassword="Someone-else-1234",
        Tags=[{"Key": "alex-db:stack", "Value": "staging"}],
    )
    account.calls.clear()
    code, lines, _ = preflight(capsys)
    assert code == Exit.NAME_TAKEN
    assert line(lines, "cluster").startswith(
        "✗ cluster alex-aurora-cluster: taken by stack 'staging'; pulumi up would fail"
    )
    assert line(lines, "RDS quota").startswith("✓ RDS quota: 3 of 40 DB clusters used")


def test_a_cluster_named_in_other_case_is_the_same_name(account, capsys):
    """RDS identifiers are case-insensitive and stored lowercase (moto does the same), so
    ``Alex-Aurora-Cluster`` takes ``alex-aurora-cluster``."""
    account.client("rds").create_db_cluster(
        DBClusterIdentifier="Alex-Aurora-Cluster",
        Engine="aurora-postgresql",
        EngineVersion=DEV_VERSION,
        MasterUsername="someone",
        MasterUserPassword="Someone-else-1234",
    )
    account.calls.clear()
    code, lines, _ = preflight(capsys)
    assert code == Exit.NAME_TAKEN
    assert line(lines, "cluster").startswith("✗ cluster alex-aurora-cluster: taken by something")


def test_unknown_engine_version_lists_what_the_region_offers(account, capsys):
    account.engine_versions = []
    account.offered = ["15.10", "15.12", "15.13", "16.4"]
    code, lines, _ = preflight(capsys, "--config", "engineVersion=15.12")
    assert code == Exit.ENGINE
    assert line(lines, "engine") == (
        "✗ engine aurora-postgresql 15.12: not offered in this region; 15.x offered: 15.10, "
        "15.12, 15.13. Set alex-db:engineVersion to one of them"
    )


def test_version_without_auto_pause_or_capacity_fails_for_what_it_lacks(account, capsys):
    account.engine_versions = [
        {**DEFAULT_ENGINE, "ServerlessV2FeaturesSupport": {"MinCapacity": 0.5, "MaxCapacity": 128.0}}
    ]
    code, lines, _ = preflight(capsys, "--config", "minCapacity=0", "--config", "maxCapacity=200")
    assert code == Exit.ENGINE
    assert line(lines, "engine") == (
        f"✗ engine aurora-postgresql {DEV_VERSION}: it cannot auto-pause (lowest 0.5 ACU), which "
        "alex-db:minCapacity = 0 needs; alex-db:maxCapacity = 200 is above its limit of 128 ACU"
    )


def our_cluster_running(account, version: str) -> None:
    account.client("rds").create_db_cluster(
        DBClusterIdentifier="alex-aurora-cluster",
        Engine="aurora-postgresql",
        EngineVersion=version,
        MasterUsername="alex_admin",
        MasterUserPassword="Ours-1234-not-shown",
        Tags=[{"Key": "alex-db:stack", "Value": "dev"}],
    )
    account.calls.clear()


def test_an_existing_cluster_is_checked_at_the_version_pulumi_up_sends(account, capsys):
    """AWS moved the cluster to 15.13 and then retired 15.12: ``pulumi up`` sends 15.13 (the
    program never sends less than runs), so 15.12 being gone is no failure."""
    our_cluster_running(account, "15.13")
    account.engine_versions = [{**DEFAULT_ENGINE, "EngineVersion": "15.13"}]
    code, lines, _ = preflight(capsys, "--config", "engineVersion=15.12")
    assert code == Exit.OK, lines
    assert line(lines, "engine") == (
        "✓ engine aurora-postgresql 15.13: offered; Serverless v2 0-256 ACU, auto-pause "
        "(the cluster runs 15.13, not alex-db:engineVersion = 15.12: pulumi up keeps 15.13)"
    )


def test_a_major_upgrade_pulumi_up_would_refuse_fails_the_engine_check(account, capsys):
    our_cluster_running(account, "15.13")
    account.engine_versions = [{**DEFAULT_ENGINE, "EngineVersion": "16.4"}]
    code, lines, _ = preflight(capsys, "--config", "engineVersion=16.4")
    assert code == Exit.ENGINE
    assert line(lines, "engine") == (
        "✗ engine aurora-postgresql 16.4: alex-db:engineVersion = '16.4' is a major upgrade "
        "from the running 15.13: set alex-db:allowMajorVersionUpgrade to true to allow it "
        "(test it on a copy first)"
    )
    code, lines, _ = preflight(
        capsys, "--config", "engineVersion=16.4", "--config", "allowMajorVersionUpgrade=true"
    )
    assert code == Exit.OK, lines


def test_engine_check_says_cannot_tell_when_aws_does_not_answer(account, capsys):
    account.session.events.unregister(
        "before-call.rds.DescribeDBEngineVersions", account._engine_versions
    )
    code, lines, _ = preflight(capsys)
    assert code == Exit.OK, "an unknown is not a failure"
    assert line(lines, "engine") == (
        f"? engine aurora-postgresql {DEV_VERSION}: cannot tell: the endpoint does not implement the "
        "call; the check needs rds:DescribeDBEngineVersions"
    )


def test_missing_security_group(account, capsys):
    code, lines, _ = preflight(capsys, "--config", 'allowedSecurityGroupIds=["sg-0123456789abcdef0"]')
    assert code == Exit.NETWORK
    found = line(lines, "allowed security groups")
    assert found.startswith("✗ allowed security groups: not found in vpc-")
    assert found.endswith(": sg-0123456789abcdef0; fix alex-db:allowedSecurityGroupIds")


def test_a_security_group_of_another_vpc_is_not_in_ours(account, capsys):
    ec2 = account.client("ec2")
    other_vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    elsewhere = ec2.create_security_group(
        GroupName="lambdas", Description="in another VPC", VpcId=other_vpc
    )["GroupId"]
    account.calls.clear()
    code, lines, _ = preflight(capsys, "--config", f'allowedSecurityGroupIds=["{elsewhere}"]')
    assert code == Exit.NETWORK
    assert line(lines, "allowed security groups").endswith(
        f": {elsewhere}; fix alex-db:allowedSecurityGroupIds"
    )


def test_a_role_of_that_name_under_another_path_is_still_taken(account, capsys):
    """IAM role names are unique per account whatever the path (IAM user guide, "IAM
    identifiers"), so CreateRole would fail on it."""
    account.client("iam").create_role(
        RoleName="alex-lambda-aurora-role", Path="/teams/other/", AssumeRolePolicyDocument=TRUST
    )
    account.calls.clear()
    code, lines, _ = preflight(capsys)
    assert code == Exit.NAME_TAKEN
    assert line(lines, "IAM role").startswith("✗ IAM role alex-lambda-aurora-role: taken by")


def test_full_cluster_quota(account, capsys):
    account.quotas = [{"AccountQuotaName": "DBClusters", "Used": 40, "Max": 40}]
    code, lines, _ = preflight(capsys)
    assert code == Exit.QUOTA
    assert line(lines, "RDS quota") == (
        "✗ RDS quota: 40 of 40 DB clusters used; ask for more in Service Quotas (Amazon RDS) "
        "or remove unused ones"
    )


def test_region_without_the_data_api(account, capsys):
    code, lines, _ = preflight(capsys, "--region", "ap-south-2")
    assert code == Exit.REGION
    assert line(lines, "Data API").startswith(
        "✗ Data API in ap-south-2: AWS does not offer the RDS Data API for Aurora PostgreSQL"
    )


def test_rejected_credentials_stop_at_the_first_check(account, capsys):
    def refuse(**_):
        error = {"Error": {"Code": "InvalidClientTokenId", "Message": "The token is invalid"}}
        return AWSResponse("https://stubbed", 403, {}, None), error

    account.session.events.register("before-call.sts.GetCallerIdentity", refuse)
    code, lines, _ = preflight(capsys)
    assert code == Exit.CREDENTIALS
    assert lines == [
        "✗ credentials: AWS did not accept the credentials (InvalidClientTokenId); set "
        "AWS_PROFILE or run `aws configure`, then try again"
    ]


def test_unreachable_aws_is_its_own_exit_code(account, capsys):
    def unreachable(**_):
        raise EndpointConnectionError(endpoint_url="https://sts.us-east-1.amazonaws.com/")

    account.session.events.register("before-call.sts.GetCallerIdentity", unreachable)
    code, lines, _ = preflight(capsys)
    assert code == Exit.UNREACHABLE
    assert lines == [
        "✗ credentials: cannot reach AWS (Could not connect to the endpoint URL: "
        '"https://sts.us-east-1.amazonaws.com/"); check the network and the region'
    ]


def test_an_expired_sso_login_is_a_credentials_failure_not_the_network(account, capsys):
    def expired(**_):
        raise UnauthorizedSSOTokenError()

    account.session.events.register("before-call.sts.GetCallerIdentity", expired)
    code, lines, _ = preflight(capsys)
    assert code == Exit.CREDENTIALS
    (only,) = lines
    assert only.startswith("✗ credentials: AWS credentials could not be loaded (The SSO session")
    assert only.endswith(
        "; set AWS_PROFILE or run `aws configure` (or `aws sso login`), then try again"
    )


def test_engine_without_serverless_limits_is_unknown(account, capsys):
    account.engine_versions = [
        {**DEFAULT_ENGINE, "ServerlessV2FeaturesSupport": {"MaxCapacity": 256.0}}
    ]
    code, lines, _ = preflight(capsys)
    assert code == Exit.OK
    assert line(lines, "engine").startswith(f"? engine aurora-postgresql {DEV_VERSION}: offered, but AWS")


def test_log_group_rds_created_without_expiry_is_in_the_way(account, capsys):
    account.client("logs").create_log_group(
        logGroupName="/aws/rds/cluster/alex-aurora-cluster-prod/postgresql"
    )
    account.calls.clear()
    code, lines, _ = preflight(capsys, "--stack", "prod")
    assert code == Exit.NAME_TAKEN
    assert line(lines, "log group").startswith(
        "✗ log group /aws/rds/cluster/alex-aurora-cluster-prod/postgresql: taken by something"
    )
    assert line(lines, "final snapshot name") == (
        "✓ final snapshot name: alex-aurora-cluster-prod-final-<8 hex, new per cluster> cannot "
        "clash with an earlier one"
    )


def test_earlier_final_snapshots_on_a_later_page_are_listed(account, capsys):
    """DescribeDBClusterSnapshots pages at 100 records (Marker)."""

    def paged(params, **_):
        if params["body"].get("Marker") is None:
            manual = {"DBClusterSnapshotIdentifier": "alex-aurora-cluster-prod-manual-1"}
            return account._ok({"DBClusterSnapshots": [manual], "Marker": "page-2"})
        final = {"DBClusterSnapshotIdentifier": "alex-aurora-cluster-prod-final-0a1b2c3d"}
        return account._ok({"DBClusterSnapshots": [final]})

    account.session.events.register("before-call.rds.DescribeDBClusterSnapshots", paged)
    code, lines, _ = preflight(capsys, "--stack", "prod")
    assert line(lines, "final snapshot name").endswith(
        "earlier final snapshots kept: alex-aurora-cluster-prod-final-0a1b2c3d"
    )


def test_json_report(account, capsys):
    account.quotas = [{"AccountQuotaName": "DBClusters", "Used": 40, "Max": 40}]
    code, lines, _ = preflight(capsys, "--json")
    report = json.loads("\n".join(lines))
    assert code == report["exit_code"] == Exit.QUOTA
    assert report["ok"] is False
    assert (report["stack"], report["region"], report["account"]) == (
        "dev",
        "us-east-1",
        "123456789012",
    )
    quota = [c for c in report["steps"] if c["name"] == "RDS quota"][0]
    assert (quota["status"], quota["exit_code"]) == ("fail", Exit.QUOTA)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--config", "minCapacity=abc"],
            "✗ alex-db:minCapacity = 'abc' is not allowed: a number of ACUs from 0 to 256 in "
            "steps of 0.5",
        ),
        (["--region", "mars"], "✗ region 'mars' is not an AWS region name like us-east-1"),
        (
            ["--region", "us-east-1\n"],
            "✗ region 'us-east-1\\n' is not an AWS region name like us-east-1",
        ),
        (["--stack", "nope"], "✗ stack 'nope' has no Pulumi.nope.yaml"),
    ],
)
def test_bad_input_is_one_line_before_any_aws_call(account, capsys, args, message):
    code, lines, err = preflight(capsys, *args)
    assert code == Exit.USAGE
    assert lines == []
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1
    assert account.calls == []


def test_bad_input_with_json_is_a_json_report_too(account, capsys):
    code, lines, err = preflight(capsys, "--json", "--config", "minCapacity=abc")
    report = json.loads("\n".join(lines))
    assert code == report["exit_code"] == Exit.USAGE
    (check,) = report["steps"]
    assert (check["name"], check["status"], check["exit_code"]) == ("configuration", "fail", 2)
    assert err == f"✗ {check['detail']}\n"
    assert account.calls == []


CONFIG_KEYS = ["minCapacity", "maxCapacity", "engineVersion", "readers", "logRetentionDays",
               "extendedSupport", "allowedSecurityGroupIds", "vpcId", "tags"]  # fmt: skip


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.sampled_from(CONFIG_KEYS) | st.text(max_size=12),
    value=st.text(max_size=16),
    region=st.one_of(st.none(), st.text(max_size=14), st.sampled_from(["eu-west-1", "cn-north-1"])),
)
def test_any_flag_value_ends_in_a_documented_exit_and_no_traceback(
    account, capsys, key, value, region
):
    # "--flag=value": a value such as "--wait" stays a value instead of becoming an option.
    args = [f"--config={key}={value}"] + ([f"--region={region}"] if region is not None else [])
    code, lines, err = preflight(capsys, *args)
    assert code in set(Exit)
    if code == Exit.USAGE:
        assert lines == [] and len(err.strip().splitlines()) == 1
    else:
        assert all(entry[:2] in ("✓ ", "✗ ", "? ") for entry in lines)


def test_an_unknown_aws_profile_is_a_credentials_failure_in_text_and_json(
    monkeypatch, tmp_path, capsys
):
    # Not the `account` fixture: the real boto3.Session is what raises ProfileNotFound.
    empty = tmp_path / "empty"
    empty.write_text("")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_PROFILE", "alex-db-no-such-profile")
    code, lines, _ = preflight(capsys, "--region", REGION)
    assert code == Exit.CREDENTIALS
    assert lines == [
        "✗ credentials: the AWS profile 'alex-db-no-such-profile' is not in the AWS config "
        "files; fix the stack's aws:profile or AWS_PROFILE, or run `aws configure --profile "
        "alex-db-no-such-profile`"
    ]
    code, lines, _ = preflight(capsys, "--region", REGION, "--json")
    report = json.loads("\n".join(lines))
    assert code == report["exit_code"] == Exit.CREDENTIALS
    assert [c["name"] for c in report["steps"]] == ["credentials"]


def test_the_stacks_aws_profile_is_the_account_checked(account, capsys, monkeypatch):
    """``pulumi up`` authenticates with the stack's ``aws:profile`` when it is set (the
    provider's ``profile`` beats AWS_PROFILE), so preflight must check that account."""
    asked = []

    def session(*args, **kwargs):
        asked.append(kwargs.get("profile_name"))
        return account.session

    monkeypatch.setattr(boto3, "Session", session)
    code, _, _ = preflight(capsys, "--config", "aws:profile=team-sandbox")
    assert code == Exit.OK
    assert asked == ["team-sandbox"]
    preflight(capsys)
    assert asked[-1] is None, "no aws:profile: boto3's own resolution (AWS_PROFILE, default)"


def test_every_call_has_a_bounded_wall_time(account, capsys):
    """An endpoint that accepts connections and never answers must not hold preflight for
    botocore's defaults (60 s connect, 60 s read, 5 attempts in legacy mode, per call)."""
    configs = []
    make_client = account.session.client

    def client(*args, **kwargs):
        configs.append(kwargs.get("config"))
        return make_client(*args, **kwargs)

    account.session.client = client
    preflight(capsys)
    assert configs
    for config in configs:
        assert config is not None, "a client with botocore's default timeouts"
        attempts = config.retries["total_max_attempts"]
        worst = attempts * (config.connect_timeout + config.read_timeout)
        assert worst <= 60, f"one call may take {worst} s"


def test_a_service_that_timed_out_is_not_waited_for_again(account, capsys):
    """STS answers but the RDS endpoint never does: after its first call has used up its
    bounded attempts, the other RDS checks say "cannot tell" at once instead of each waiting."""
    sent = []

    def never_answers(request, **_):
        sent.append(request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    account.session.events.register("before-send.rds", never_answers)
    code, lines, _ = preflight(capsys)
    assert code == Exit.OK, "unknowns do not fail the run"
    assert len(sent) == CLIENT_CONFIG.retries["total_max_attempts"], sent
    for check in ("cluster", "instance", "DB subnet group"):
        assert line(lines, check).startswith(f"? {check} "), line(lines, check)
        assert "cannot tell: AWS unreachable (Read timeout on endpoint URL" in line(lines, check)


def test_subnets_on_a_second_page_count(account, capsys):
    """AWS may page DescribeSubnets (NextToken): both zones are on different pages here."""
    ec2 = account.client("ec2")
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    first, second = subnets["Subnets"][:2]
    assert first["AvailabilityZone"] != second["AvailabilityZone"]

    def paged(params, **_):
        if params["body"].get("NextToken") is None:
            return account._ok({"Subnets": [first], "NextToken": "page-2"})
        return account._ok({"Subnets": [second]})

    account.session.events.register("before-call.ec2.DescribeSubnets", paged)
    account.calls.clear()
    code, lines, _ = preflight(capsys)
    assert code == Exit.OK, lines
    assert line(lines, "subnets").startswith("✓ subnets: 2 in 2 availability zones")


def test_a_secret_value_in_the_stack_file_is_refused_as_plan_refuses_it(
    account, capsys, monkeypatch, tmp_path
):
    from functools import partial

    from alex_db.tools.shared import stack_files

    (tmp_path / "Pulumi.yaml").write_text((stack_files.PROJECT_DIR / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.sec.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  alex-db:vpcId:\n    secure: v1:AAAAbm90LXJlYWw=\n"
    )
    monkeypatch.setattr(
        stack_files,
        "load_stack_config",
        partial(stack_files.load_stack_config, project_dir=tmp_path),
    )
    code, lines, err = preflight(capsys, "--stack", "sec")
    assert code == Exit.USAGE
    assert err.startswith("✗ alex-db:vpcId is set as a secret (secure: value), but it is not")
    assert "[secret]" not in err and "AAAA" not in err
    assert account.calls == []


@pytest.mark.parametrize(
    ("region", "exit_code"),
    [
        ("cn-northwest-1", Exit.REGION),
        ("us-gov-west-1", Exit.REGION),
        ("eusc-de-east-1", Exit.OK),
        ("us-isob-east-1", Exit.OK),
    ],
)
def test_regions_of_every_partition_are_region_names(region, exit_code):
    """Preflight asks the region's own endpoints; a region of another partition is checked,
    not refused as a bad flag: AWS's table says China and GovCloud lack the Data API, and a
    region the table does not list is unknown."""
    from alex_db.config.partitions import is_region_name
    from alex_db.tools.preflight.checks import check_region

    assert is_region_name(region)
    assert check_region(region).exit == exit_code


@pytest.mark.parametrize("text", ["mars", "us-east-1\n", "US-EAST-1", "us-east-1 ", "us_east-1"])
def test_what_is_not_a_region_name(text):
    from alex_db.config.partitions import is_region_name

    assert not is_region_name(text)


def test_a_region_the_table_does_not_list_is_unknown_never_guessed():
    from alex_db.tools.preflight.checks import check_region

    unlisted = check_region("eusc-de-east-1")
    assert unlisted.line().startswith(
        "? Data API in eusc-de-east-1: cannot tell: not in the data file; check AWS Aurora User "
        "Guide"
    )
    assert unlisted.exit == Exit.OK


@pytest.mark.parametrize("region", ["eu-west-1", "eu-central-1", "ap-northeast-1", "sa-east-1"])
def test_a_region_the_table_lists_with_versions_offers_the_data_api(region):
    from alex_db.tools.preflight.checks import check_region

    offered = check_region(region)
    assert offered.line() == f"✓ Data API in {region}: offered for Aurora PostgreSQL Serverless v2"
    assert offered.exit == Exit.OK


@pytest.mark.parametrize(
    "region", ["eu-central-2", "ap-east-2", "mx-central-1", "il-central-1", "ca-west-1"]
)
def test_a_region_the_table_marks_not_available_fails(region):
    from alex_db.tools.preflight.checks import check_region

    refused = check_region(region)
    assert refused.line().startswith(
        f"✗ Data API in {region}: AWS does not offer the RDS Data API for Aurora PostgreSQL here"
    )
    assert refused.exit == Exit.REGION


def test_cost_check_prices_a_region_from_its_own_row():
    from alex_db.config.settings import load_settings
    from alex_db.tools.preflight.checks import check_cost

    settings = load_settings({}, stack="dev", region="ap-northeast-2")
    priced = check_cost(settings, "ap-northeast-2")
    assert priced.line().startswith("✓ monthly compute: $73.00-$146.00 for 1 instance(s)")
    assert "AmazonRDS/current/ap-northeast-2" in priced.line()
    assert check_cost(settings, "eu-west-1").line().startswith(
        "? monthly compute: cannot tell: no ACU price for eu-west-1"
    )


def test_the_region_table_covers_every_region_botocore_knows():
    """AWS's table has a row for every commercial, China and GovCloud region; a region missing
    from the data file means a new region whose row nobody has read yet."""
    from botocore.loaders import create_loader

    from alex_db.config.regions import REGION_FILE

    endpoints = create_loader().load_data("endpoints")
    known = {
        region
        for partition in endpoints["partitions"]
        if partition["partition"] in ("aws", "aws-cn", "aws-us-gov")
        for region in partition["regions"]
    }
    table = json.loads(REGION_FILE.read_text())
    unread = known - set(table["available"]) - set(table["not_available"])
    assert not unread, f"read these regions' rows on {table['source']} and add them: {unread}"


def test_the_region_table_names_real_regions_once():
    from alex_db.config.partitions import is_region_name
    from alex_db.config.regions import REGION_FILE

    table = json.loads(REGION_FILE.read_text())
    listed = table["available"] + table["not_available"]
    assert len(listed) == len(set(listed))
    assert all(is_region_name(region) for region in listed)
    assert table["source"].startswith("AWS Aurora User Guide") and table["as_of"]


def test_serverless_limits_that_are_not_finite_numbers_are_cannot_tell(account, capsys):
    """A hostile answer once passed as "Serverless v2 inf-nan ACU"."""
    limits = {"MinCapacity": float("inf"), "MaxCapacity": float("nan")}
    account.engine_versions = [{**DEFAULT_ENGINE, "ServerlessV2FeaturesSupport": limits}]
    code, lines, _ = preflight(capsys)
    assert code == Exit.OK
    assert line(lines, "engine") == (
        f"? engine aurora-postgresql {DEV_VERSION}: cannot tell: the Serverless v2 limits AWS reported "
        "are not numbers"
    )
