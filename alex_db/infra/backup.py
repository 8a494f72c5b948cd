"""An AWS Backup plan for the cluster: a daily snapshot into a vault, optionally copied to a
second region. Off by default; Aurora's own continuous backups (``backup_retention_period``)
stay either way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
from pulumi_aws import backup, iam

from alex_db.config.policy_documents import (
    backup_service_policy_arn,
    backup_trust_policy,
)
from alex_db.infra.roles import create_role

# Daily at 05:00 UTC: after the cluster's backup window (03:00-04:00) and its Sunday
# maintenance window (04:00-05:00), so AWS Backup never waits on either.
DAILY_SCHEDULE = "cron(0 5 * * ? *)"
START_WINDOW_MINUTES = 60
COMPLETION_WINDOW_MINUTES = 180
RETENTION_DAYS = 35


@dataclass
class BackupPlanArgs:
    """Names, the cluster, and where copies go."""

    vault_name: str
    """Name of the vault (the copy vault in the other region gets the same name)."""
    plan_name: str
    """Name of the backup plan."""
    role_name: str
    """Name of the IAM role AWS Backup assumes."""
    cluster_arn: pulumi.Input[str]
    """The cluster to back up."""
    kms_key_arn: pulumi.Input[str] | None = None
    """The vault's key. Default None: AWS Backup's AWS-managed key."""
    copy_region: str | None = None
    """A second region to copy every recovery point to. Default None: no copy."""
    keep_on_destroy: bool = True
    """Leave both vaults and their recovery points in AWS when the stack is destroyed (or the
    plan is switched off). Default True. False force-destroys them: their recovery points are
    deleted first, since AWS refuses to delete a vault that holds any."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on everything taggable. Default none."""


class BackupPlan(pulumi.ComponentResource):
    """A vault, a plan with one daily rule (kept 35 days, copied to ``copy_region`` if set), a
    selection holding the cluster, and the role AWS Backup uses for it. A destroy either keeps
    the vaults with their recovery points or force-destroys them (``keep_on_destroy``)."""

    plan_id: pulumi.Output[str]
    """The backup plan's id."""
    vault_arn: pulumi.Output[str]
    """The vault's ARN."""

    def __init__(
        self, name: str, args: BackupPlanArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("alexdb:index:BackupPlan", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        # Both switches change no vault in AWS, so switching a stack's profile replaces nothing:
        # force_destroy is neither ForceNew nor sent anywhere but at delete (terraform-provider-aws
        # internal/service/backup/vault.go: the update is "Tags only", resourceVaultDelete lists
        # and deletes the recovery points when it is set), and retain_on_delete is a Pulumi option.
        # Both are read from the state at delete, so a `pulumi up` must record them first.
        keeping = {
            "force_destroy": not args.keep_on_destroy,
            "opts": pulumi.ResourceOptions(parent=self, retain_on_delete=args.keep_on_destroy),
        }
        vault = backup.Vault(
            f"{name}-vault",
            name=args.vault_name,
            kms_key_arn=args.kms_key_arn,
            tags=dict(args.tags),
            **keeping,
        )
        lifecycle = {"delete_after": RETENTION_DAYS}
        copy_actions = []
        if args.copy_region is not None:
            # pulumi-aws 7 places a resource in another region with its own ``region``; the copy
            # vault uses that region's AWS-managed Backup key (a KMS key never leaves its region).
            copy_vault = backup.Vault(
                f"{name}-copy-vault",
                name=args.vault_name,
                region=args.copy_region,
                tags=dict(args.tags),
                **keeping,
            )
            copy_actions = [{"destination_vault_arn": copy_vault.arn, "lifecycle": lifecycle}]
        plan = backup.Plan(
            f"{name}-plan",
            name=args.plan_name,
            rules=[
                {
                    "rule_name": "daily",
                    "target_vault_name": vault.name,
                    "schedule": DAILY_SCHEDULE,
                    "start_window": START_WINDOW_MINUTES,
                    "completion_window": COMPLETION_WINDOW_MINUTES,
                    "lifecycle": lifecycle,
                    "copy_actions": copy_actions,
                }
            ],
            tags=dict(args.tags),
            opts=child,
        )
        role = create_role(
            f"{name}-role",
            role_name=args.role_name,
            description="AWS Backup: snapshots of the Alex Aurora cluster",
            trust_policy=backup_trust_policy(),
            tags=args.tags,
            parent=self,
        )
        attachment = iam.RolePolicyAttachment(
            f"{name}-role-policy",
            role=role.name,
            policy_arn=partition.partition.apply(backup_service_policy_arn),
            opts=child,
        )
        backup.Selection(
            f"{name}-selection",
            name=args.plan_name,
            plan_id=plan.id,
            iam_role_arn=role.arn,
            resources=[args.cluster_arn],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )
        self.plan_id = plan.id
        self.vault_arn = vault.arn
        self.register_outputs({"plan_id": self.plan_id, "vault_arn": self.vault_arn})
