"""Day-2 rules: what to do when AWS has moved the cluster on, and how long exported logs live.

Pure: the running version comes in as a string (the program reads it with an invoke), so the
decision and its messages are tested here directly, for every pair of versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from alex_db.config.values import SettingsError, key
from alex_db.config.versions import EngineVersion, parse_engine_version

# CloudWatch Logs PutRetentionPolicy accepts only these day counts (0 would mean "never expire",
# which is exactly what this setting exists to avoid, so it is not offered). Source: the
# CloudWatch Logs API reference, PutRetentionPolicy "retentionInDays", and pulumi-aws
# `cloudwatch/log_group.py` (`retention_in_days` "Possible values are: 1, 3, 5, ...").
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
# RDS engine_lifecycle_support values (RDS API CreateDBCluster "EngineLifecycleSupport";
# hashicorp/terraform-provider-aws internal/service/rds/cluster.go validates the same two).
EXTENDED_SUPPORT = "open-source-rds-extended-support"
NO_EXTENDED_SUPPORT = "open-source-rds-extended-support-disabled"
# Cluster inputs the provider sends only at creation, so a change to them on a running cluster
# is a diff that no `pulumi up` can apply, shown again on every run. engine_lifecycle_support:
# Optional+Computed, not ForceNew, set from DescribeDBClusters by resourceClusterRead, sent by
# resourceClusterCreate, but absent from the ModifyDBClusterInput resourceClusterUpdate builds
# (hashicorp/terraform-provider-aws internal/service/rds/cluster.go). A cluster created before
# the program set it keeps AWS's default, the paid open-source-rds-extended-support (RDS API,
# CreateDBCluster EngineLifecycleSupport "Default"). The program ignores changes to these inputs
# (a Pulumi option, so nothing is replaced); users change them with the AWS CLI.
CREATE_ONLY_CLUSTER_INPUTS = ("engineLifecycleSupport",)

# AWS may report a patch release (``15.12.3``) of a configured ``15.12``; the provider then keeps
# ``15.12`` in state (hashicorp/terraform-provider-aws internal/service/rds,
# compareActualEngineVersion: a configured "1.3" is not replaced by a reported "1.3.27"), so it
# counts as 15.12 here. Any other suffix (``16.6-limitless``) is a different version.
_PATCH_RELEASE = re.compile(r"^(\d+\.\d+)\.\d+$")

UNCHANGED = "unchanged"
CREATE = "create"
MINOR_UPGRADE = "minor upgrade"
MAJOR_UPGRADE = "major upgrade"
REFUSED_DOWNGRADE = "refused downgrade"


def engine_lifecycle_support(extended_support: bool) -> str:
    """The value sent to AWS: paid Extended Support only when the stack opts in."""
    return EXTENDED_SUPPORT if extended_support else NO_EXTENDED_SUPPORT


@dataclass(frozen=True)
class EngineDecision:
    """Which version the program sends, and why."""

    send: str
    """The ``engine_version`` given to the cluster."""
    change: str
    """One of ``create``, ``unchanged``, ``minor upgrade``, ``major upgrade``,
    ``refused downgrade``."""
    running: str | None = None
    """What AWS reports the cluster runs; None before the first deploy."""
    note: str | None = None
    """A warning for the user, when the configured version is not what is sent."""


def release_of(version: str) -> EngineVersion | None:
    """The ``MAJOR.MINOR`` of a version AWS reports (a patch release counts as its minor), or
    None for any other form."""
    patch_release = _PATCH_RELEASE.match(version.strip())
    return parse_engine_version(patch_release.group(1) if patch_release else version)


def decide_engine_version(
    configured: EngineVersion, running: str | None, allow_major: bool
) -> EngineDecision:
    """The version to send when the stack asks for ``configured`` and AWS runs ``running``.

    AWS upgrades minor versions on its own (auto minor version upgrade) and refuses to go back
    ("Cannot upgrade aurora-postgresql from 15.13 to 15.12", pulumi/pulumi-aws#5756), so a
    configured version below what runs is never sent: the running one is. A higher minor is an
    upgrade; a higher major needs ``allowMajorVersionUpgrade``. Raises SettingsError (one line)
    for a major upgrade that was not allowed.
    """
    wanted = str(configured)
    if running is None:
        return EngineDecision(wanted, CREATE)
    current = release_of(running)
    if current is None:
        # A form this program does not write (e.g. ``16.6-limitless``): send what runs, so
        # nothing is attempted that the reader cannot predict.
        return EngineDecision(
            running,
            REFUSED_DOWNGRADE,
            running,
            f"the cluster runs engine version {running!r}, which is not MAJOR.MINOR; keeping it "
            f"instead of {key('engineVersion')} = {wanted!r}",
        )
    if configured == current:
        return EngineDecision(wanted, UNCHANGED, running)
    if configured < current:
        return EngineDecision(
            running,
            REFUSED_DOWNGRADE,
            running,
            f"{key('engineVersion')} = {wanted!r} is below what the cluster runs ({running}, "
            f"e.g. after an AWS auto minor upgrade); AWS cannot downgrade, so {running} is kept. "
            f"Set {key('engineVersion')} to {running} to silence this",
        )
    if configured.major == current.major:
        return EngineDecision(wanted, MINOR_UPGRADE, running)
    if not allow_major:
        raise SettingsError(
            f"{key('engineVersion')} = {wanted!r} is a major upgrade from the running {running}: "
            f"set {key('allowMajorVersionUpgrade')} to true to allow it (test it on a copy first)"
        )
    return EngineDecision(wanted, MAJOR_UPGRADE, running)
