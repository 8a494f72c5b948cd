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
    default_log_retention_days: int
    """Days CloudWatch keeps exported logs unless ``logRetentionDays`` says otherwise."""


DEV = Profile(
    deletion_protection=False,
    skip_final_snapshot=True,
    apply_immediately=True,
    secret_recovery_window_days=0,
    backup_retention_days=7,
    protect=False,
    performance_insights=False,
    default_log_exports=(),
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
