"""The CloudWatch log groups RDS exports the cluster's logs into, created before the cluster.

RDS creates ``/aws/rds/cluster/<cluster>/<log type>`` itself on the first export, with no
expiry, and leaves an existing group's retention alone (Aurora user guide, "Publishing Aurora
PostgreSQL logs to Amazon CloudWatch Logs": "If a log group already exists, Aurora uses it").
Creating each group first, with a retention and the stack's tags, is the only way to bound what
the logs cost; the cluster depends on them so they exist before its first export.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
from pulumi_aws import cloudwatch

from alex_db.config.naming import exported_log_group_name


def create_log_groups(
    name: str,
    *,
    cluster_identifier: str,
    log_types: Sequence[str],
    retention_days: int,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> list[cloudwatch.LogGroup]:
    """One log group per exported log type, named as RDS names it."""
    return [
        cloudwatch.LogGroup(
            f"{name}-logs-{log_type}",
            name=exported_log_group_name(cluster_identifier, log_type),
            retention_in_days=retention_days,
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for log_type in log_types
    ]
