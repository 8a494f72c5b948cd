"""What ``pulumi destroy`` does to each resource type the program creates, per profile (pure).

The question for every type: does the delete complete, what outlives it, what could block it.
Pulumi deletes dependents first (an instance before its cluster, an attachment before its role,
a selection before its plan), so ordering is never the blocker; AWS's own refusals are. The
program's answers follow ``Profile.keeps_data_on_destroy``: dev removes everything, production
keeps the final snapshot, the key that encrypts it and the backup vaults with their recovery
points. A test keeps this table covering every type the program can create.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OnDestroy:
    """One resource type's fate in a destroy."""

    dev: str
    production: str
    """With ``allowDeletion`` (without it the protected resources refuse the whole destroy)."""
    source: str
    """Where the behaviour comes from."""


def _both(answer: str, source: str) -> OnDestroy:
    """A type that fares the same in both profiles."""
    return OnDestroy(dev=answer, production=answer, source=source)


_BEFORE_ITS_PARENT = "Deleted before the resource it belongs to (Pulumi deletes dependents first)."

ON_DESTROY: dict[str, OnDestroy] = {
    "aws:rds/cluster:Cluster": OnDestroy(
        dev="Deleted, no final snapshot; its automated backups go with it.",
        production="Refused (deletion protection, Pulumi protect) until `allowDeletion`; then "
        "deleted, leaving the final snapshot `<cluster>-final-<8 hex>` (a new name per cluster, "
        "so a later destroy never clashes). Automated backups go with it.",
        source="terraform-provider-aws internal/service/rds/cluster.go (delete_automated_backups "
        "defaults to true; skip_final_snapshot and final_snapshot_identifier are read at delete)",
    ),
    "aws:rds/clusterInstance:ClusterInstance": OnDestroy(
        dev="Deleted before the cluster.",
        production="Refused (Pulumi protect) until `allowDeletion`; then deleted before the "
        "cluster.",
        source="each instance's clusterIdentifier is the cluster's id, so Pulumi deletes it first",
    ),
    "aws:rds/subnetGroup:SubnetGroup": _both(
        "Deleted after the cluster.",
        "the cluster's dbSubnetGroupName is the group's output",
    ),
    "aws:ec2/securityGroup:SecurityGroup": _both(
        "Deleted after the cluster. The provider first deletes lingering network interfaces "
        "that use it and retries DependencyViolation for its 15-minute delete timeout. It cannot "
        "clear a rule in another security group that references this one (your Lambdas' "
        "egress to it, say): remove that rule first.",
        "terraform-provider-aws internal/service/ec2/vpc_security_group.go "
        "(resourceSecurityGroupDelete: deleteLingeringENIs, RetryWhenAWSErrCodeEquals)",
    ),
    "aws:secretsmanager/secret:Secret": OnDestroy(
        dev="Deleted at once (recovery window 0).",
        production="Refused (Pulumi protect) until `allowDeletion`; then scheduled for deletion, "
        "restorable for 30 days (`aws secretsmanager restore-secret`). Its name ends in a random "
        "suffix that a re-created stack renews, so the reserved name never clashes.",
        source="Secrets Manager DeleteSecret (RecoveryWindowInDays; 0 deletes without recovery)",
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": _both(
        _BEFORE_ITS_PARENT,
        "its secretId is the secret's id",
    ),
    "aws:iam/role:Role": _both(
        "Deleted after its policies. It also detaches policies attached by hand, which would "
        "otherwise stop the delete (DeleteConflict).",
        "terraform-provider-aws internal/service/iam/role.go (deleteRole with "
        "force_detach_policies, set by alex_db/infra/roles.py)",
    ),
    "aws:iam/rolePolicy:RolePolicy": _both(
        _BEFORE_ITS_PARENT,
        "its role is the role's id",
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _both(
        _BEFORE_ITS_PARENT,
        "its role is the role's name",
    ),
    "aws:cloudwatch/logGroup:LogGroup": OnDestroy(
        dev="Deleted after the cluster, with its logs (kept 7 days anyway).",
        production="Deleted after the cluster, with its logs (kept 30 days anyway): export what "
        "must outlive the stack first. A kept group would make a re-created stack fail to create "
        "it (ResourceAlreadyExistsException).",
        source="the cluster depends on its log groups (alex_db/infra/log_groups.py)",
    ),
    "random:index/randomPassword:RandomPassword": _both(
        "State only: nothing in AWS.",
        "terraform-provider-random",
    ),
    "random:index/randomId:RandomId": OnDestroy(
        dev="State only: a re-created stack gets new suffixes.",
        production="State only: a re-created stack gets new suffixes (secret, final snapshot).",
        source="terraform-provider-random",
    ),
    "aws:kms/key:Key": OnDestroy(
        dev="Scheduled for deletion: gone after its 30-day waiting period (KMS never deletes a "
        "key at once); the destroy itself completes.",
        production="Kept (Pulumi retain_on_delete): the final snapshot and the backups are "
        "encrypted with it. Schedule its deletion yourself once they are gone.",
        source="AWS KMS ScheduleKeyDeletion (7-30 days; alex_db/infra/encryption.py uses 30)",
    ),
    "aws:kms/alias:Alias": OnDestroy(
        dev="Deleted.",
        production="Deleted; a kept key stays reachable by its ARN, and a re-created stack "
        "takes the alias again.",
        source="kms alias delete",
    ),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": _both(
        "Deleted after the cluster; the provider retries while RDS still holds it "
        "(InvalidDBParameterGroupState, 3 minutes).",
        "terraform-provider-aws internal/service/rds/cluster_parameter_group.go "
        "(resourceClusterParameterGroupDelete)",
    ),
    "aws:backup/vault:Vault": OnDestroy(
        dev="Force-destroyed, the copy vault too: every recovery point is deleted first, since "
        "AWS refuses to delete a vault that holds any.",
        production="Kept with its recovery points, the copy vault too (Pulumi retain_on_delete). "
        "Each recovery point still expires 35 days after it was made; the vault stays until you "
        "delete it. A re-created stack of the same name cannot create it again until you delete "
        "or `pulumi import` it.",
        source="terraform-provider-aws internal/service/backup/vault.go (force_destroy: "
        "resourceVaultDelete deletes the recovery points, then DeleteBackupVault)",
    ),
    "aws:backup/plan:Plan": OnDestroy(
        dev="Deleted after its selection (AWS deletes a plan only without selections).",
        production="As in dev; recovery points already made stay in the kept vault.",
        source="its selection's planId is the plan's id",
    ),
    "aws:backup/selection:Selection": _both(
        _BEFORE_ITS_PARENT,
        "its planId is the plan's id",
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _both(
        "Deleted.",
        "nothing depends on an alarm",
    ),
}
