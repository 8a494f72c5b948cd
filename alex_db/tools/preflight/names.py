"""Preflight check 5: is each name the program will create free, this stack's own, or taken by
something else that would make ``pulumi up`` fail with "already exists"?

Ownership is read back from the tag the program puts on everything it creates
(``alex-db:stack = <stack>``, ``config.settings.OWNER_TAG``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from alex_db.config.naming import PhysicalNames
from alex_db.config.parameters import parameter_family
from alex_db.config.resource_types import RESOURCE_TYPES, UNNAMED, not_found_codes
from alex_db.config.settings import BASE_TAGS, OWNER_TAG, Settings
from alex_db.tools.preflight.clients import READ_ERRORS, cannot_tell, every_item
from alex_db.tools.shared.aws_errors import error_code, needed, only
from alex_db.tools.shared.exits import Exit
from alex_db.tools.shared.report import Step, failed, passed, unknown

# The error codes that mean a checked name is free, and what preflight does about each created
# type's name (checked, or why not), are in each type's entry (config/resource_types.py).
NOT_FOUND_CODES = not_found_codes()
NAME_CHECKS = {
    type_token: entry.name_check
    for type_token, entry in RESOURCE_TYPES.items()
    if entry.name_check is not None and entry.name_check != UNNAMED
}
# The types check_names reads back; each step takes its label, permission and client from the
# type's NameCheck.
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
ROLE = "aws:iam/role:Role"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FREE = "free"
EXISTS = "exists"
# Tags -> None when the name is free. Each finder makes only Describe/Get/List calls.
Finder = Callable[[], Mapping[str, str] | None]


def _tag_map(tags: list[dict] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {needed(tag, key): tag.get(value, "") for tag in tags or []}


def ownership(kind: str, name: str, stack: str, find: Finder, permission: str) -> Step:
    """One name: free, owned by this stack, or in the way (with what to do)."""
    label = f"{kind} {name}"
    try:
        tags = find()
    except READ_ERRORS as error:
        if error_code(error) in NOT_FOUND_CODES:
            tags = None
        else:
            return cannot_tell(label, error, permission)
    if tags is None:
        return passed(label, FREE)
    owner = tags.get(OWNER_TAG)
    if owner == stack:
        return passed(
            label, f"{EXISTS}, owned by this stack ({OWNER_TAG}={stack}); pulumi up keeps it"
        )
    if owner is None and all(tags.get(k) == v for k, v in BASE_TAGS.items()):
        return unknown(
            label,
            f"{EXISTS} with this program's Project/Part tags but no {OWNER_TAG} tag (deployed "
            f"before ownership tags): if stack {stack} made it, pulumi up adds the tag; if "
            f"not, it is in the way",
        )
    whose = f"stack {owner!r}" if owner else "something this stack did not create"
    return failed(
        label,
        f"taken by {whose}; pulumi up would fail to create it. Use another stack name (names "
        f"carry it), or remove or import the existing one",
        Exit.NAME_TAKEN,
    )


def check_names(
    client: Callable[[str], object], settings: Settings, vpc_id: str | None
) -> tuple[list[Step], bool]:
    """Every name the stack creates (``client`` gives a boto3 client by service name); also
    whether its cluster exists already."""
    names = PhysicalNames.for_stack(settings.stack)
    rds, ec2, iam, logs = (
        client(NAME_CHECKS[type_token].service)
        for type_token in (CLUSTER, SECURITY_GROUP, ROLE, LOG_GROUP)
    )
    stack = settings.stack

    def cluster() -> dict | None:
        found = only(rds.describe_db_clusters(DBClusterIdentifier=names.cluster), "DBClusters")
        return _tag_map(found.get("TagList"))

    def instance(identifier: str) -> Finder:
        def find() -> dict | None:
            found = only(rds.describe_db_instances(DBInstanceIdentifier=identifier), "DBInstances")
            return _tag_map(found.get("TagList"))

        return find

    def subnet_group() -> dict | None:
        (found,) = rds.describe_db_subnet_groups(DBSubnetGroupName=names.subnet_group)[
            "DBSubnetGroups"
        ]
        arn = needed(found, "DBSubnetGroupArn")
        return _tag_map(rds.list_tags_for_resource(ResourceName=arn).get("TagList"))

    def security_group() -> dict | None:
        answer = ec2.describe_security_groups(
            Filters=[
                {"Name": "group-name", "Values": [names.security_group]},
                {"Name": "vpc-id", "Values": [vpc_id]},
            ]
        )
        groups = needed(answer, "SecurityGroups")
        return _tag_map(groups[0].get("Tags")) if groups else None

    def parameter_group() -> dict | None:
        answer = rds.describe_db_cluster_parameter_groups(
            DBClusterParameterGroupName=parameter_group_name
        )
        found = only(answer, "DBClusterParameterGroups")
        arn = needed(found, "DBClusterParameterGroupArn")
        return _tag_map(rds.list_tags_for_resource(ResourceName=arn).get("TagList"))

    def role(name: str) -> Finder:
        return lambda: _tag_map(needed(iam.get_role(RoleName=name), "Role").get("Tags"))

    def log_group(name: str) -> Finder:
        def find() -> dict | None:
            groups = needed(logs.describe_log_groups(logGroupNamePrefix=name), "logGroups")
            if not any(group.get("logGroupName") == name for group in groups):
                return None
            return logs.list_tags_log_group(logGroupName=name).get("tags") or {}

        return find

    def owned(type_token: str, name: str, find: Finder) -> Step:
        check = NAME_CHECKS[type_token]
        return ownership(check.label, name, stack, find, check.permission)

    cluster_check = owned(CLUSTER, names.cluster, cluster)
    checks = [cluster_check]
    checks += [
        owned(INSTANCE, identifier, instance(identifier))
        for identifier in (names.instance(n) for n in range(1, settings.readers + 2))
    ]
    checks.append(owned(SUBNET_GROUP, names.subnet_group, subnet_group))
    if vpc_id is not None:
        checks.append(owned(SECURITY_GROUP, names.security_group, security_group))
    # The family of the configured version: a running cluster's group is this stack's own.
    parameter_group_name = names.parameter_group(parameter_family(settings.engine_version))
    checks.append(owned(PARAMETER_GROUP, parameter_group_name, parameter_group))
    roles = [names.role]
    roles += [names.monitoring_role] if settings.monitoring_interval else []
    roles += [names.backup_role] if settings.backup_plan else []
    checks += [owned(ROLE, name, role(name)) for name in roles]
    checks += [
        owned(LOG_GROUP, names.log_group(log_type), log_group(names.log_group(log_type)))
        for log_type in settings.log_exports
    ]
    if settings.production:
        checks.append(_final_snapshot(rds, names.cluster))
    return checks, cluster_check.detail.startswith(EXISTS)


def _final_snapshot(rds, cluster: str) -> Step:
    """The final snapshot's name is new per cluster (``<cluster>-final-<8 hex>``), so it cannot
    clash; earlier final snapshots are listed so nobody deletes them by surprise."""
    label = "final snapshot name"
    pattern = f"{cluster}-final-<8 hex, new per cluster>"
    try:
        snapshots = every_item(
            rds,
            "describe_db_cluster_snapshots",
            "DBClusterSnapshots",
            DBClusterIdentifier=cluster,
            SnapshotType="manual",
        )
    except READ_ERRORS as error:
        return cannot_tell(label, error, "rds:DescribeDBClusterSnapshots")
    identifiers = (s.get("DBClusterSnapshotIdentifier") or "" for s in snapshots)
    earlier = sorted(name for name in identifiers if name.startswith(f"{cluster}-final"))
    kept = f"; earlier final snapshots kept: {', '.join(earlier)}" if earlier else ""
    return passed(label, f"{pattern} cannot clash with an earlier one{kept}")
