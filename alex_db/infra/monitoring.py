"""The IAM role RDS enhanced monitoring assumes to publish OS metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
from pulumi_aws import iam

from alex_db.config.policy_documents import (
    enhanced_monitoring_policy_arn,
    monitoring_trust_policy,
)
from alex_db.infra.roles import create_role


@dataclass
class MonitoringRoleArgs:
    """The role's name and tags."""

    role_name: str
    """Name of the IAM role."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the role. Default none."""


class MonitoringRole(pulumi.ComponentResource):
    """A role only ``monitoring.rds.amazonaws.com`` may assume, carrying AWS's managed
    ``AmazonRDSEnhancedMonitoringRole`` policy and nothing else."""

    role_arn: pulumi.Output[str]
    """The role's ARN, for the instances' ``monitoring_role_arn``."""
    policy_attachment: iam.RolePolicyAttachment
    """The managed policy's attachment: what instances must wait for, not just the role. RDS
    refuses a monitoring role that cannot publish yet ("IAM role ARN value is invalid or does not
    include the required permissions", the error terraform-provider-aws
    internal/service/rds/cluster.go retries on for a few minutes), and the role's ARN alone lets
    Pulumi create an instance while the attachment is still being made."""

    def __init__(
        self, name: str, args: MonitoringRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("alexdb:index:MonitoringRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        role = create_role(
            f"{name}-role",
            role_name=args.role_name,
            description="RDS enhanced monitoring of the Alex Aurora instances",
            trust_policy=monitoring_trust_policy(),
            tags=args.tags,
            parent=self,
        )
        self.policy_attachment = iam.RolePolicyAttachment(
            f"{name}-policy",
            role=role.name,
            policy_arn=partition.partition.apply(enhanced_monitoring_policy_arn),
            opts=child,
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
