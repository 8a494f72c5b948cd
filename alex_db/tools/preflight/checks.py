"""``alex-db preflight``: what would make ``pulumi up`` fail in this account, asked in
seconds before it runs for ten minutes.

Read-only by construction: only Describe/Get/List calls (a test proves no other call is made).
One line per check: ✓ fine, ✗ will fail (with the fix), ? cannot tell (a call AWS or the
emulator does not answer, or a table without the region). The exit code is the first failing
check's; unknowns do not fail the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from botocore.exceptions import ClientError, HTTPClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from alex_db.config import cost
from alex_db.config.lifecycle import REFUSED_DOWNGRADE, decide_engine_version, release_of
from alex_db.config.naming import PhysicalNames
from alex_db.config.network import NetworkSettings
from alex_db.config.regions import data_api_available, data_api_source
from alex_db.config.settings import Settings
from alex_db.config.values import SettingsError, key
from alex_db.tools.preflight.clients import READ_ERRORS, cannot_tell, every_item, open_clients
from alex_db.tools.preflight.names import check_names
from alex_db.tools.shared.aws_errors import (
    AWS_CALL_ERRORS,
    error_code,
    needed,
    not_aws_answer,
    one_line,
    only,
    quoted,
)
from alex_db.tools.shared.exits import Exit
from alex_db.tools.shared.report import Report, Step, failed, passed, unknown

ENGINE = "aurora-postgresql"
# Serverless v2 instances run in provisioned engine mode (CreateDBCluster EngineMode).
SERVERLESS_V2_MODE = "provisioned"
# The RDS account quotas a new stack draws on (DescribeAccountAttributes AccountQuotaName).
CLUSTER_QUOTA = "DBClusters"
INSTANCE_QUOTA = "DBInstances"


# The codes for credentials AWS does not take: the AWS API references' "Common Errors" pages
# (IncompleteSignature, InvalidClientTokenId, AccessDeniedException, ExpiredTokenException,
# MissingAuthenticationToken, NotAuthorized) and the forms STS's query API answers with
# (AccessDenied, ExpiredToken, SignatureDoesNotMatch). Anything else (ThrottlingException,
# RequestExpired for a skewed clock, ServiceUnavailable) is said as it is.
REJECTED_CREDENTIALS = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "ExpiredToken",
        "ExpiredTokenException",
        "IncompleteSignature",
        "InvalidClientTokenId",
        "MissingAuthenticationToken",
        "NotAuthorized",
        "SignatureDoesNotMatch",
    }
)


def check_identity(sts) -> tuple[Step, str | None]:
    """1. Credentials work, and for which account."""
    name = "credentials"
    try:
        identity = sts.get_caller_identity()
        account, arn = needed(identity, "Account"), needed(identity, "Arn")
    except NoCredentialsError:
        fix = "no AWS credentials found; set AWS_PROFILE or run `aws configure`, then try again"
        return failed(name, fix, Exit.CREDENTIALS), None
    except (EndpointUnreachable, HTTPClientError, NotImplementedError) as error:
        detail = f"cannot reach AWS ({one_line(error)}); check the network and the region"
        return failed(name, detail, Exit.UNREACHABLE), None
    except AWS_CALL_ERRORS as error:
        strange = not_aws_answer("STS", error)
        if strange is not None:
            detail = f"{strange}; check the network, AWS_ENDPOINT_URL and any proxy"
            return failed(name, detail, Exit.UNREACHABLE), None
        if not isinstance(error, ClientError):
            # Every other botocore error here is about loading credentials: an expired SSO
            # login, a failing credential_process, half a key pair, a missing source_profile.
            fix = (
                f"AWS credentials could not be loaded ({one_line(error)}); set AWS_PROFILE or "
                f"run `aws configure` (or `aws sso login`), then try again"
            )
            return failed(name, fix, Exit.CREDENTIALS), None
        code = error_code(error)
        if code not in REJECTED_CREDENTIALS:  # throttled, clock skew, an outage: say which
            return failed(name, f"STS answered {quoted(code)}; try again", Exit.FAILED), None
        return (
            failed(
                name,
                f"AWS did not accept the credentials ({code}); set AWS_PROFILE or run "
                f"`aws configure`, then try again",
                Exit.CREDENTIALS,
            ),
            None,
        )
    return passed(name, f"account {account} as {arn}"), account


def check_region(region: str) -> Step:
    """2. The region offers the Data API for Aurora PostgreSQL (AWS's table, as data)."""
    name = f"Data API in {region}"
    available = data_api_available(region)
    if available is None:
        return unknown(name, f"cannot tell: not in the data file; check {data_api_source()}")
    if not available:
        return failed(
            name,
            f"AWS does not offer the RDS Data API for Aurora PostgreSQL here; pick another "
            f"region (aws:region). Source: {data_api_source()}",
            Exit.REGION,
        )
    return passed(name, "offered for Aurora PostgreSQL Serverless v2")


def _offered_versions(rds, major: int) -> list[str]:
    versions = []
    for page in rds.get_paginator("describe_db_engine_versions").paginate(Engine=ENGINE):
        versions += [needed(v, "EngineVersion") for v in needed(page, "DBEngineVersions")]
    return sorted(
        {v for v in versions if v.split(".")[0] == str(major)},
        key=lambda v: [int(p) if p.isdigit() else 0 for p in v.split(".")],
    )


def running_version(rds, cluster: str) -> str | None:
    """The version the stack's cluster runs, as the program reads it before ``pulumi up``
    (``infra/running_cluster.py``); None when it does not exist or cannot be read (the names
    check says which)."""
    try:
        found = only(rds.describe_db_clusters(DBClusterIdentifier=cluster), "DBClusters")
    except READ_ERRORS:
        return None
    return found.get("EngineVersion")


def check_engine(rds, settings: Settings, running: str | None = None) -> Step:
    """3. The version ``pulumi up`` sends (the configured one, or what the cluster runs when AWS
    has moved it higher: ``config.lifecycle``) exists here, runs Serverless v2, pauses if
    asked, scales that far; a major upgrade the program would refuse fails here already."""
    configured = settings.engine_version
    try:
        decision = decide_engine_version(configured, running, settings.allow_major_version_upgrade)
    except SettingsError as error:
        return failed(f"engine {ENGINE} {configured}", str(error), Exit.ENGINE)
    version = decision.send
    name = f"engine {ENGINE} {version}"
    kept = ""
    if decision.change == REFUSED_DOWNGRADE:
        kept = (
            f" (the cluster runs {running}, not {key('engineVersion')} = {configured}: "
            f"pulumi up keeps {running})"
        )
    try:
        answer = rds.describe_db_engine_versions(Engine=ENGINE, EngineVersion=version)
        found = needed(answer, "DBEngineVersions")
    except READ_ERRORS as error:
        return cannot_tell(name, error, "rds:DescribeDBEngineVersions")
    if not found:
        major = (release_of(version) or configured).major
        try:
            offered = ", ".join(_offered_versions(rds, major)) or "none"
        except READ_ERRORS:
            offered = "(could not list them)"
        return failed(
            name,
            f"not offered in this region; {major}.x offered: {offered}. Set "
            f"{key('engineVersion')} to one of them",
            Exit.ENGINE,
        )
    described = found[0]
    problems = []
    if described.get("Status", "available") != "available":
        problems.append(f"its status is {described['Status']}")
    if SERVERLESS_V2_MODE not in described.get("SupportedEngineModes", [SERVERLESS_V2_MODE]):
        problems.append("it has no provisioned mode, which Serverless v2 needs")
    limits = described.get("ServerlessV2FeaturesSupport") or {}
    lowest, highest = limits.get("MinCapacity"), limits.get("MaxCapacity")
    if not all(math.isfinite(limit) for limit in (lowest, highest) if limit is not None):
        return unknown(name, "cannot tell: the Serverless v2 limits AWS reported are not numbers")
    if lowest is None or highest is None:
        if problems:
            return failed(name, "; ".join(problems), Exit.ENGINE)
        return unknown(
            name,
            "offered, but AWS reports no Serverless v2 limits for it: cannot tell auto-pause "
            "or the largest maxCapacity",
        )
    capacity = settings.capacity
    if capacity.auto_pause and lowest > 0:
        problems.append(
            f"it cannot auto-pause (lowest {lowest:g} ACU), which {key('minCapacity')} = 0 needs"
        )
    if capacity.max_acu > highest:
        problems.append(
            f"{key('maxCapacity')} = {capacity.max_acu:g} is above its limit of {highest:g} ACU"
        )
    if problems:
        return failed(name, "; ".join(problems), Exit.ENGINE)
    pause = ", auto-pause" if lowest == 0 else ""
    return passed(name, f"offered; Serverless v2 {lowest:g}-{highest:g} ACU{pause}{kept}")


def _default_vpc(ec2) -> str | None:
    default = [{"Name": "is-default", "Values": ["true"]}]
    vpcs = every_item(ec2, "describe_vpcs", "Vpcs", Filters=default)
    return needed(vpcs[0], "VpcId") if vpcs else None


def _subnets(ec2, vpc_id: str, subnet_ids: tuple[str, ...] | None) -> list[dict]:
    if subnet_ids is None:
        filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    else:
        filters = [{"Name": "subnet-id", "Values": list(subnet_ids)}]
    return every_item(ec2, "describe_subnets", "Subnets", Filters=filters)


def check_network(ec2, network: NetworkSettings) -> tuple[list[Step], str | None]:
    """4. The VPC exists, its subnets span two AZs, the allowed security groups are in it.

    Returns the checks and the VPC id (None when there is no VPC to place the cluster in)."""
    try:
        vpc_id = network.vpc_id or _default_vpc(ec2)
        if vpc_id is None:
            return [
                failed(
                    "VPC",
                    "this region has no default VPC; create one (`aws ec2 create-default-vpc`) "
                    f"or set {key('vpcId')} and {key('subnetIds')}",
                    Exit.NETWORK,
                )
            ], None
        if network.vpc_id is not None:
            wanted = [{"Name": "vpc-id", "Values": [vpc_id]}]
            vpcs = every_item(ec2, "describe_vpcs", "Vpcs", Filters=wanted)
            if not vpcs:
                return [
                    failed(
                        f"VPC {vpc_id}",
                        f"not found in this region; check {key('vpcId')} and aws:region",
                        Exit.NETWORK,
                    )
                ], None
        checks = [passed(f"VPC {vpc_id}", "default VPC" if network.vpc_id is None else "found")]
        checks.append(_subnet_check(ec2, vpc_id, network.subnet_ids))
        if network.allowed_security_group_ids:
            checks.append(_security_group_check(ec2, vpc_id, network.allowed_security_group_ids))
        return checks, vpc_id
    except READ_ERRORS as error:
        return [cannot_tell("network", error, "ec2:DescribeVpcs, DescribeSubnets")], None


def _subnet_check(ec2, vpc_id: str, subnet_ids: tuple[str, ...] | None) -> Step:
    subnets = _subnets(ec2, vpc_id, subnet_ids)
    name = "subnets"
    missing = sorted(set(subnet_ids or ()) - {needed(s, "SubnetId") for s in subnets})
    if missing:
        return failed(
            name, f"not found: {', '.join(missing)}; check {key('subnetIds')}", Exit.NETWORK
        )
    elsewhere = sorted(s["SubnetId"] for s in subnets if needed(s, "VpcId") != vpc_id)
    if elsewhere:
        return failed(name, f"not in {vpc_id}: {', '.join(elsewhere)}", Exit.NETWORK)
    zones = sorted({needed(s, "AvailabilityZone") for s in subnets})
    if len(zones) < 2:
        where = zones[0] if zones else "no availability zone"
        return failed(
            name,
            f"{len(subnets)} subnet(s), all in {where}; a DB subnet group needs subnets in at "
            f"least two availability zones (add one in another AZ to {key('subnetIds')})",
            Exit.NETWORK,
        )
    return passed(name, f"{len(subnets)} in {len(zones)} availability zones ({', '.join(zones)})")


def _security_group_check(ec2, vpc_id: str, group_ids: tuple[str, ...]) -> Step:
    name = "allowed security groups"
    found = every_item(
        ec2,
        "describe_security_groups",
        "SecurityGroups",
        Filters=[
            {"Name": "group-id", "Values": list(group_ids)},
            {"Name": "vpc-id", "Values": [vpc_id]},
        ],
    )
    missing = sorted(set(group_ids) - {needed(g, "GroupId") for g in found})
    if missing:
        return failed(
            name,
            f"not found in {vpc_id}: {', '.join(missing)}; fix {key('allowedSecurityGroupIds')}",
            Exit.NETWORK,
        )
    return passed(name, f"{', '.join(group_ids)} in {vpc_id}")


def _quota(quotas: list[dict], name: str) -> tuple[float, float] | None:
    for quota in quotas:
        if quota.get("AccountQuotaName") == name:
            return needed(quota, "Used"), needed(quota, "Max")
    return None


def check_quota(rds, instances: int, cluster_exists: bool) -> Step:
    """6. Room for one more cluster (and its instances) in this region's RDS quotas."""
    name = "RDS quota"
    if cluster_exists:
        return passed(name, "the stack's cluster exists already; no new cluster is needed")
    try:
        quotas = needed(rds.describe_account_attributes(), "AccountQuotas")
        clusters, db_instances = _quota(quotas, CLUSTER_QUOTA), _quota(quotas, INSTANCE_QUOTA)
    except READ_ERRORS as error:
        return cannot_tell(name, error, "rds:DescribeAccountAttributes")
    if clusters is None:
        return unknown(name, f"cannot tell: AWS reported no {CLUSTER_QUOTA} quota")
    fix = "ask for more in Service Quotas (Amazon RDS) or remove unused ones"
    if clusters[0] + 1 > clusters[1]:
        return failed(
            name, f"{clusters[0]:g} of {clusters[1]:g} DB clusters used; {fix}", Exit.QUOTA
        )
    if db_instances is not None and db_instances[0] + instances > db_instances[1]:
        return failed(
            name,
            f"{db_instances[0]:g} of {db_instances[1]:g} DB instances used and the stack adds "
            f"{instances}; {fix}",
            Exit.QUOTA,
        )
    detail = f"{clusters[0]:g} of {clusters[1]:g} DB clusters used"
    if db_instances is not None:
        detail += f", {db_instances[0]:g} of {db_instances[1]:g} DB instances"
    return passed(name, detail)


def check_cost(settings: Settings, region: str) -> Step:
    """7. What this configuration's compute costs a month (storage and I/O extra)."""
    name = "monthly compute"
    capacity = settings.capacity
    instances = settings.readers + 1
    estimate = cost.estimate(region, capacity.min_acu, capacity.max_acu, instances)
    if estimate is None:
        return unknown(name, f"cannot tell: no ACU price for {region} in {cost.PRICE_FILE.name}")
    paused = "; $0.00 while paused" if capacity.auto_pause else ""
    return passed(
        name,
        f"${estimate.at_min:,.2f}-${estimate.at_max:,.2f} for {instances} instance(s) at "
        f"{capacity.min_acu:g}-{capacity.max_acu:g} ACU{paused}; storage and I/O extra "
        f"(source: {estimate.source})",
    )


def run_preflight(
    new_session: Callable[[], object],
    settings: Settings,
    region: str,
    progress: Callable[[str], None] = lambda line: None,
) -> Report:
    """Every check, in the issue's order; nothing else runs when the credentials fail."""
    report = Report({"stack": settings.stack, "region": region, "account": None})
    clients, setup_failure = open_clients(new_session, region)
    if setup_failure is not None:
        report.steps.append(setup_failure)
        return report
    client = clients.__getitem__
    identity, report.facts["account"] = check_identity(client("sts"))
    report.steps.append(identity)
    if not identity.ok:
        return report
    progress("… reading the engine, network and names")
    report.steps.append(check_region(region))
    running = running_version(client("rds"), PhysicalNames.for_stack(settings.stack).cluster)
    report.steps.append(check_engine(client("rds"), settings, running))
    network_checks, vpc_id = check_network(client("ec2"), settings.network)
    report.steps += network_checks
    names, cluster_exists = check_names(client, settings, vpc_id)
    report.steps += names
    report.steps.append(check_quota(client("rds"), settings.readers + 1, cluster_exists))
    report.steps.append(check_cost(settings, region))
    return report
