"""The IAM role Alex's Lambdas run as: Data API on this cluster, this secret, and logs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
from pulumi_aws import iam

from alex_db.config.policy_documents import (
    basic_execution_policy_arn,
    document,
    lambda_trust_policy,
    log_write_statement,
    to_json,
)
from alex_db.infra.roles import create_role


@dataclass
class LambdaAccessArgs:
    """The role's names and the database grant it carries."""

    role_name: str
    """Name of the IAM role."""
    policy_name: str
    """Name of its inline policy."""
    data_api_statements: pulumi.Input[list[dict]]
    """Statements from ``AuroraDatabase.grant_data_api_access()``."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the role. Default none."""


class LambdaAccess(pulumi.ComponentResource):
    """A role Lambda can assume, with one least-privilege inline policy and the AWS basic
    execution policy attached."""

    role_arn: pulumi.Output[str]
    """The role's ARN, for the Lambda functions' ``role``."""
    role_name: pulumi.Output[str]
    """The role's name."""

    def __init__(
        self, name: str, args: LambdaAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("alexdb:index:LambdaAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        lookup = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=lookup).partition
        region = aws.get_region_output(opts=lookup).region
        account_id = aws.get_caller_identity_output(opts=lookup).account_id
        role = create_role(
            f"{name}-role",
            role_name=args.role_name,
            description="Alex Lambdas: Data API on the Alex Aurora cluster",
            trust_policy=lambda_trust_policy(),
            tags=args.tags,
            parent=self,
        )
        iam.RolePolicy(
            f"{name}-policy",
            name=args.policy_name,
            role=role.id,
            policy=pulumi.Output.all(args.data_api_statements, partition, region, account_id).apply(
                lambda parts: to_json(
                    document([*parts[0], log_write_statement(parts[1], parts[2], parts[3])])
                )
            ),
            opts=child,
        )
        iam.RolePolicyAttachment(
            f"{name}-basic-execution",
            role=role.name,
            policy_arn=partition.apply(basic_execution_policy_arn),
            opts=child,
        )
        self.role_arn = role.arn
        self.role_name = role.name
        self.register_outputs({"role_arn": self.role_arn, "role_name": self.role_name})
