"""What ``production: true`` changes, as data: one profile for dev, one for production."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Profile:
    """Settings that trade convenience against keeping data safe."""

    deletion_protection: bool
    """AWS refuses to delete the cluster while on."""
    skip_final_snapshot: bool
    """False takes a final snapshot when the cluster is deleted."""
    apply_immediately: bool
    """False waits for the maintenance window to apply changes."""
    secret_recovery_window_days: int
    """Days a deleted secret can still be restored (0 deletes at once)."""
    backup_retention_days: int
    """Days of automated backups (point-in-time restore)."""
    protect: bool
    """Pulumi refuses to delete the cluster, its instances and the secret while on."""
    performance_insights: bool
    """Performance Insights on the instances, with the free 7-day retention."""
    default_log_exports: tuple[str, ...]
    """CloudWatch log exports unless ``logExports`` says otherwise."""
    iam_database_authentication: bool
    """IAM database authentication on the cluster (FSBP RDS.12), so Lambdas can use IAM tokens;
    the ``iam-db-auth-error`` log export needs it (there is nothing to log without it)."""
    monitoring_interval: int
    """Enhanced monitoring every this many seconds (0: off) unless ``monitoringInterval`` says
    otherwise (FSBP RDS.6)."""
    connection_logging: bool
    """``log_connections``, ``log_disconnections`` and slow-query logging in the cluster
    parameter group."""
    database_egress: bool
    """The security group keeps the seed's all-egress rule; production has none, since the
    database initiates no connections."""
    default_log_retention_days: int
    """Days CloudWatch keeps exported logs unless ``logRetentionDays`` says otherwise."""

    @property
    def keeps_data_on_destroy(self) -> bool:
        """A ``pulumi destroy`` leaves the data behind: the final snapshot, the KMS key it is
        encrypted with, and the AWS Backup vaults with their recovery points (Pulumi
        ``retain_on_delete``). Otherwise (dev) the destroy removes them all, so the vaults are
        force-destroyed: AWS refuses to delete a vault that still holds recovery points. One
        switch, the final snapshot's, so nothing is kept that cannot be read without the rest."""
        return not self.skip_final_snapshot


DEV = Profile(
    deletion_protection=False,
    skip_final_snapshot=True,
    apply_immediately=True,
    secret_recovery_window_days=0,
    backup_retention_days=7,
    protect=False,
    performance_insights=False,
    default_log_exports=(),
    iam_database_authentication=False,
    monitoring_interval=0,
    connection_logging=False,
    database_egress=True,
    default_log_retention_days=7,
)
PRODUCTION = Profile(
    deletion_protection=True,
    skip_final_snapshot=False,
    apply_immediately=False,
    secret_recovery_window_days=30,
    backup_retention_days=14,
    protect=True,
    performance_insights=True,
    default_log_exports=("postgresql",),
    iam_database_authentication=True,
    monitoring_interval=60,
    connection_logging=True,
    database_egress=False,
    default_log_retention_days=30,
)
PERFORMANCE_INSIGHTS_FREE_DAYS = 7


def profile_for(production: bool, allow_deletion: bool = False) -> Profile:
    """The production profile or the dev one. ``allow_deletion`` lifts only the two guards that
    stop a delete (AWS deletion protection, Pulumi protect): the final snapshot, backups and the
    secret's recovery window stay, so a deliberate teardown still leaves a way back."""
    profile = PRODUCTION if production else DEV
    if allow_deletion:
        profile = replace(profile, deletion_protection=False, protect=False)
    return profile
