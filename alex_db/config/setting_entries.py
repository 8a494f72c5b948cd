"""One entry per configuration key the program reads: its default, its YAML type, the line
``Pulumi.yaml`` declares it with and what its validation refuses (pure).

``settings.py`` takes its defaults and its list of keys from here and holds the rules;
``tests/test_settings.py`` keeps ``Pulumi.yaml``, the docs' tables (``docs/configuration.md``,
the README) and every default they quote equal to these entries, and proves each entry's
``refused`` value is refused naming the key, so a key cannot be added without its validation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from alex_db.config.parameters import DEFAULT_SLOW_QUERY_MS
from alex_db.config.profile import DEV, PRODUCTION, Profile
from alex_db.config.versions import (
    AUTO_PAUSE_MINIMUMS,
    DATA_API_MINIMUMS,
    MAX_256_ACU_MINIMUMS,
    describe_minimums,
)

FALSE = "false"


@dataclass(frozen=True)
class Setting:
    """One ``alex-db:`` key."""

    key: str
    type: str
    """The YAML type the stack file gives: Pulumi's project-config types ``string``,
    ``integer``, ``boolean``, ``array``, or ``map`` (which project config cannot declare)."""
    default: str | None
    """The constant default as the program reads it (a string, as the CLI hands every value);
    None when it depends on something else (then ``Pulumi.yaml`` must not declare the key: a
    declared key without a default is required by the CLI)."""
    docs_default: str
    """The default as the docs' tables print it."""
    refused: str
    """A value its validation refuses (with a message naming the key)."""
    description: str | None = None
    """The description ``Pulumi.yaml`` declares a key with a constant default by."""


def _constant(key: str, type_: str, default: str, refused: str, description: str) -> Setting:
    return Setting(key, type_, default, f"`{default}`", refused, description)


def _varies(key: str, type_: str, docs_default: str, refused: str) -> Setting:
    return Setting(key, type_, None, docs_default, refused)


def _by_profile(value: Callable[[Profile], object]) -> str:
    """A default the production profile sets apart from dev's, as the docs print it."""
    return f"`{value(PRODUCTION)}` in production, `{value(DEV)}` otherwise"


SETTINGS: tuple[Setting, ...] = (
    _constant(
        "minCapacity",
        "string",
        "0.5",
        "0.3",
        "Serverless v2 minimum ACU, 0-256 in steps of 0.5 (0 pauses when idle; needs Aurora "
        f"PostgreSQL {describe_minimums(AUTO_PAUSE_MINIMUMS)})",
    ),
    _constant(
        "maxCapacity",
        "string",
        "1",
        "0.5",
        "Serverless v2 maximum ACU, 1-256 in steps of 0.5 (above 128 needs Aurora PostgreSQL "
        f"{describe_minimums(MAX_256_ACU_MINIMUMS)})",
    ),
    _constant(
        "engineVersion",
        "string",
        "15.12",
        "15.4.1",
        "Aurora PostgreSQL version MAJOR.MINOR (Data API needs "
        f"{describe_minimums(DATA_API_MINIMUMS)})",
    ),
    _constant(
        "secondsUntilAutoPause",
        "integer",
        "300",
        "5m",
        "Idle seconds before pausing, 300-86400; used only when minCapacity is 0",
    ),
    _constant(
        "production",
        "boolean",
        FALSE,
        "yes",
        "Production profile (deletion protection, final snapshot, 14-day backups, secret "
        "recovery window, Pulumi protect, Performance Insights)",
    ),
    _constant(
        "allowDeletion",
        "boolean",
        FALSE,
        "yes",
        "Lift deletion protection and Pulumi protect so a production stack can be destroyed "
        "(final snapshot and secret recovery stay)",
    ),
    _constant(
        "readers",
        "integer",
        "0",
        "16",
        "Extra db.serverless reader instances for Multi-AZ failover, 0-15",
    ),
    _constant(
        "allowPublicIngress",
        "boolean",
        FALSE,
        "yes",
        "Must be true for allowedCidrs to contain a CIDR that reaches public address space (not "
        "wholly inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7)",
    ),
    _constant(
        "allowedSecurityGroupIds",
        "array",
        "[]",
        "sg-0123456789abcdef0",
        "Security groups allowed on 5432 (e.g. a Lambda's)",
    ),
    _constant(
        "customerManagedKey",
        "boolean",
        FALSE,
        "yes",
        "Encrypt storage, the secret and Performance Insights with a customer-managed KMS key "
        "(changing it on an existing cluster replaces the cluster; see README)",
    ),
    _constant(
        "backupPlan",
        "boolean",
        FALSE,
        "yes",
        "A daily AWS Backup plan for the cluster (35 days), optionally copied to backupCopyRegion",
    ),
    _constant(
        "allowMajorVersionUpgrade",
        "boolean",
        FALSE,
        "yes",
        "Let a higher engineVersion major upgrade the running cluster (AWS never downgrades)",
    ),
    _constant(
        "extendedSupport",
        "boolean",
        FALSE,
        "yes",
        "Opt in to paid RDS Extended Support after standard support ends (default disabled)",
    ),
    _varies("vpcId", "string", "default VPC", "default"),
    _varies("subnetIds", "array", "default VPC", "[1, 2]"),
    _varies("allowedCidrs", "array", "the VPC's CIDR", "10.0.0.0/33"),
    _varies(
        "logExports",
        "array",
        _by_profile(lambda p: json.dumps(list(p.default_log_exports))),
        "slowquery",
    ),
    _varies("tags", "map", "`{}`", '{"aws:x": "y"}'),
    _varies("kmsKeyArn", "string", "(none)", "alias/mine"),
    _varies("monitoringInterval", "integer", _by_profile(lambda p: p.monitoring_interval), "2"),
    _varies(
        "slowQueryMs", "integer", f"`{DEFAULT_SLOW_QUERY_MS}` in production, unset otherwise", "-1"
    ),
    _varies("backupCopyRegion", "string", "(none)", "mars-1"),
    _varies("alarmTopicArn", "string", "(none)", "arn:aws:sns:us-east-1:1:t.fifo"),
    _varies(
        "logRetentionDays", "integer", _by_profile(lambda p: p.default_log_retention_days), "2"
    ),
)
