"""Physical (AWS) names of what the program creates.

In stack ``dev`` the names are the seed's, so a team moving from the Terraform module finds the
same resources; every other stack appends ``-<stack>`` so several stacks share one account.
"""

from __future__ import annotations

from dataclasses import dataclass

SEED_STACK = "dev"
# The cluster's master user: the deployed secret's `username`, and `alex-db local`'s Data API user.
MASTER_USERNAME = "alexadmin"


def exported_log_group_name(cluster_identifier: str, log_type: str) -> str:
    """The CloudWatch log group RDS exports ``log_type`` of the cluster into."""
    return f"/aws/rds/cluster/{cluster_identifier}/{log_type}"


def physical_name(base: str, stack: str) -> str:
    """``base`` in the seed's stack, ``base-<stack>`` in any other."""
    return base if stack == SEED_STACK else f"{base}-{stack}"


@dataclass(frozen=True)
class PhysicalNames:
    """The AWS names of one stack's resources."""

    secret_prefix: str
    """Secret name before its random hex suffix (a deleted secret's name stays reserved)."""
    subnet_group: str
    security_group: str
    cluster: str
    role: str
    policy: str
    monitoring_role: str
    backup_vault: str
    backup_plan: str
    backup_role: str
    key_alias: str
    """The KMS alias; always carries the stack (``alias/alex-aurora-<stack>``)."""
    stack: str

    def parameter_group(self, family: str) -> str:
        """The cluster parameter group, named after its family: ``alex-aurora-postgresql15``."""
        return physical_name(f"alex-{family}", self.stack)

    def log_group(self, log_type: str) -> str:
        """The exported log group of ``log_type``: ``/aws/rds/cluster/<cluster>/<type>``."""
        return exported_log_group_name(self.cluster, log_type)

    def instance(self, number: int) -> str:
        """The identifier of instance ``number`` (1 is the writer): ``alex-aurora-instance-1``."""
        return physical_name(f"alex-aurora-instance-{number}", self.stack)

    @classmethod
    def for_stack(cls, stack: str) -> PhysicalNames:
        """The names for ``stack``."""
        return cls(
            secret_prefix=physical_name("alex-aurora-credentials", stack),
            subnet_group=physical_name("alex-aurora-subnet-group", stack),
            security_group=physical_name("alex-aurora-sg", stack),
            cluster=physical_name("alex-aurora-cluster", stack),
            role=physical_name("alex-lambda-aurora-role", stack),
            policy=physical_name("alex-lambda-aurora-policy", stack),
            monitoring_role=physical_name("alex-aurora-monitoring-role", stack),
            backup_vault=physical_name("alex-aurora-backup", stack),
            backup_plan=physical_name("alex-aurora-daily", stack),
            backup_role=physical_name("alex-aurora-backup-role", stack),
            key_alias=f"alias/alex-aurora-{stack}",
            stack=stack,
        )
