"""Typed, validated settings from the stack's configuration (pure: no Pulumi calls).

The program reads the raw strings once (``__main__.py``) and hands them here; the rules live here
and in ``config.network`` (parsing single values in ``config.values``), so a bad value stops
the program with one line naming the key, the value and what is allowed, before any resource is
registered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from alex_db.config.lifecycle import LOG_RETENTION_DAYS
from alex_db.config.network import NetworkSettings, load_network
from alex_db.config.profile import Profile, profile_for
from alex_db.config.values import (
    SettingsError,
    key,
    parse_bool,
    parse_int,
    parse_list,
    parse_map,
    reject,
)
from alex_db.config.versions import (
    AUTO_PAUSE_MINIMUMS,
    DATA_API_MINIMUMS,
    EngineVersion,
    describe_minimums,
    parse_engine_version,
    supports_auto_pause,
    supports_data_api,
)

# Serverless v2 capacity limits (Aurora user guide, "Aurora Serverless v2 capacity").
ACU_STEP = 0.5
ACU_CEILING = 256.0
MAX_ACU_FLOOR = 1.0
AUTO_PAUSE_SECONDS_RANGE = (300, 86400)
# On everything taggable, so the seed's cost reports keep working.
BASE_TAGS: dict[str, str] = {"Project": "alex", "Part": "5"}
# On everything the program creates, set last so no user tag can change it: preflight reads it
# back to tell this stack's resources from foreign ones with the same name.
OWNER_TAG = "alex-db:stack"

MAX_READERS = 15
# Aurora PostgreSQL cluster log types (RDS API, CreateDBCluster EnableCloudwatchLogsExports).
LOG_TYPES = ("postgresql", "instance", "iam-db-auth-error")
MAX_USER_TAGS = 47  # AWS allows 50 tags a resource; Project, Part and the owner tag take three
# Stack names become part of RDS identifiers: lowercase letters, digits, single hyphens.
_STACK_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MAX_STACK_NAME = 30

# The program's defaults; Pulumi.yaml declares the same ones (a test compares them).
DEFAULTS: dict[str, str] = {
    "minCapacity": "0.5",
    "maxCapacity": "1",
    "engineVersion": "15.12",
    "secondsUntilAutoPause": "300",
    "production": "false",
    "allowDeletion": "false",
    "readers": "0",
    "allowPublicIngress": "false",
    "allowedSecurityGroupIds": "[]",
    "allowMajorVersionUpgrade": "false",
    "extendedSupport": "false",
}
# Keys whose default is not a constant (the VPC's CIDR, the profile's log exports, ...).
OPTIONAL_KEYS = ("vpcId", "subnetIds", "allowedCidrs", "logExports", "tags", "logRetentionDays")
CONFIG_KEYS = (*DEFAULTS, *OPTIONAL_KEYS)


@dataclass(frozen=True)
class Capacity:
    """The Serverless v2 scaling range of the cluster, in ACUs."""

    min_acu: float
    """Lowest capacity; 0 lets the cluster pause when idle. Default 0.5 (never pauses)."""
    max_acu: float
    """Highest capacity. Default 1."""
    seconds_until_auto_pause: int | None
    """Idle seconds before pausing; set only when ``min_acu`` is 0 (AWS rejects it otherwise)."""

    @property
    def auto_pause(self) -> bool:
        """True when the cluster may pause (minimum capacity 0)."""
        return self.min_acu == 0


@dataclass(frozen=True)
class Settings:
    """Everything the program needs from the stack configuration, validated."""

    stack: str
    """The Pulumi stack name; physical names carry it outside ``dev``."""
    region: str | None
    """``aws:region``, used for the cost estimate; None when the stack does not set it."""
    engine_version: EngineVersion
    """Aurora PostgreSQL version. Default 15.12."""
    capacity: Capacity
    """Serverless v2 scaling range. Default 0.5–1 ACU."""
    tags: dict[str, str]
    """Tags for every taggable resource: ``tags`` over ``Project=alex``, ``Part=5``, and
    ``alex-db:stack=<stack>`` (ownership, for preflight)."""
    production: bool = False
    """The production profile instead of dev's. Default false."""
    allow_deletion: bool = False
    """Lift deletion protection and Pulumi protect (the first step of removing production)."""
    readers: int = 0
    """Reader instances besides the writer, for failover. Default 0."""
    network: NetworkSettings = field(default_factory=NetworkSettings)
    """Default VPC and VPC-CIDR-only access unless configured."""
    log_exports: tuple[str, ...] = ()
    """CloudWatch log exports. Default ``postgresql`` in production, none in dev."""
    log_retention_days: int = 7
    """Days CloudWatch keeps exported logs. Default 30 in production, 7 otherwise."""
    allow_major_version_upgrade: bool = False
    """Let a higher ``engineVersion`` major upgrade the running cluster. Default false."""
    extended_support: bool = False
    """Opt in to paid RDS Extended Support after standard support ends. Default false."""
    warnings: tuple[str, ...] = ()
    """Things worth saying that are not errors (e.g. a prod stack without production)."""

    @property
    def profile(self) -> Profile:
        """What production (or dev) means for each resource."""
        return profile_for(self.production, self.allow_deletion)


def _acu(name: str, raw: str, lowest: float) -> float:
    allowed = f"a number of ACUs from {lowest:g} to {ACU_CEILING:g} in steps of {ACU_STEP:g}"
    try:
        value = float(raw)
    except ValueError:
        raise reject(name, raw, allowed) from None
    if not math.isfinite(value) or not lowest <= value <= ACU_CEILING:
        raise reject(name, raw, allowed)
    if not (value / ACU_STEP).is_integer():
        raise reject(name, raw, allowed)
    return value


def _engine_version(raw: str) -> EngineVersion:
    version = parse_engine_version(raw)
    if version is None:
        raise reject("engineVersion", raw, "an Aurora PostgreSQL version MAJOR.MINOR such as 15.12")
    if not supports_data_api(version):
        raise reject(
            "engineVersion",
            raw,
            f"the Data API on Serverless v2 needs {describe_minimums(DATA_API_MINIMUMS)}",
        )
    return version


def _capacity(values: Mapping[str, str], version: EngineVersion) -> Capacity:
    max_acu = _acu("maxCapacity", values["maxCapacity"], MAX_ACU_FLOOR)
    min_acu = _acu("minCapacity", values["minCapacity"], 0.0)
    if min_acu > max_acu:
        raise SettingsError(
            f"{key('minCapacity')} = {values['minCapacity']!r} is not allowed: it must not exceed "
            f"{key('maxCapacity')} = {values['maxCapacity']!r}"
        )
    pause_seconds = parse_int(
        "secondsUntilAutoPause",
        values["secondsUntilAutoPause"],
        *AUTO_PAUSE_SECONDS_RANGE,
        " of seconds",
    )
    if min_acu == 0 and not supports_auto_pause(version):
        raise SettingsError(
            f"{key('minCapacity')} = {values['minCapacity']!r} is not allowed with "
            f"{key('engineVersion')} = {str(version)!r}: pausing at 0 ACU needs "
            f"{describe_minimums(AUTO_PAUSE_MINIMUMS)}"
        )
    return Capacity(min_acu, max_acu, pause_seconds if min_acu == 0 else None)


def _stack_name(stack: str) -> str:
    if not _STACK_NAME.match(stack) or len(stack) > MAX_STACK_NAME:
        raise SettingsError(
            f"stack name {stack!r} cannot be part of AWS resource names: use at most "
            f"{MAX_STACK_NAME} lowercase letters, digits and single hyphens, starting with a letter"
        )
    return stack


def _log_exports(raw: str | None, production: bool) -> tuple[str, ...]:
    if raw is None:
        return profile_for(production).default_log_exports
    exports = parse_list("logExports", raw, f"log types from {', '.join(LOG_TYPES)}")
    unknown = [item for item in exports if item not in LOG_TYPES]
    if unknown or len(set(exports)) != len(exports):
        raise reject("logExports", raw, f"distinct log types from {', '.join(LOG_TYPES)}")
    return tuple(exports)


def _tags(raw: str | None, stack: str) -> dict[str, str]:
    if raw is None:
        return {**BASE_TAGS, OWNER_TAG: stack}
    user_tags = parse_map("tags", raw, "tag names to values")
    allowed = (
        f"at most {MAX_USER_TAGS} tags, names of 1-128 characters not starting with aws:, "
        f"values of at most 256 characters"
    )
    if len(user_tags) > MAX_USER_TAGS:
        raise reject("tags", raw, allowed)
    for name, value in user_tags.items():
        if not 1 <= len(name) <= 128 or name.lower().startswith("aws:") or len(value) > 256:
            raise reject("tags", raw, allowed)
    return {**BASE_TAGS, **user_tags, OWNER_TAG: stack}


def _log_retention(raw: str | None, production: bool) -> int:
    if raw is None:
        return profile_for(production).default_log_retention_days
    periods = ", ".join(map(str, LOG_RETENTION_DAYS))
    allowed = f"one of CloudWatch's retention periods in days: {periods}"
    try:
        days = int(raw.strip())
    except ValueError:
        raise reject("logRetentionDays", raw, allowed) from None
    if days not in LOG_RETENTION_DAYS:
        raise reject("logRetentionDays", raw, allowed)
    return days


def _warnings(stack: str, production: bool) -> tuple[str, ...]:
    if stack.startswith("prod") and not production:
        return (
            f"stack {stack!r} looks like production but {key('production')} is not true: "
            f"no deletion protection, no final snapshot, secret deleted at once",
        )
    return ()


def load_settings(
    raw: Mapping[str, str | None], *, stack: str, region: str | None = None
) -> Settings:
    """Validate the stack's ``alex-db:*`` values (unset keys as None) into Settings.

    Raises SettingsError with a one-line message on the first value that is not allowed.
    """
    values = {name: (raw.get(name) or default).strip() for name, default in DEFAULTS.items()}
    version = _engine_version(values["engineVersion"])
    production = parse_bool("production", values["production"])
    return Settings(
        stack=_stack_name(stack),
        region=region,
        engine_version=version,
        capacity=_capacity(values, version),
        tags=_tags(raw.get("tags"), stack),
        production=production,
        allow_deletion=parse_bool("allowDeletion", values["allowDeletion"]),
        readers=parse_int("readers", values["readers"], 0, MAX_READERS),
        network=load_network({**raw, **values}),
        log_exports=_log_exports(raw.get("logExports"), production),
        log_retention_days=_log_retention(raw.get("logRetentionDays"), production),
        allow_major_version_upgrade=parse_bool(
            "allowMajorVersionUpgrade", values["allowMajorVersionUpgrade"]
        ),
        extended_support=parse_bool("extendedSupport", values["extendedSupport"]),
        warnings=_warnings(stack, production),
    )
