"""Typed, validated settings from the stack's configuration (pure: no Pulumi calls).

The program reads the raw strings once (``__main__.py``) and hands them here; every rule lives in
this module, so a bad value stops the program with one line naming the key, the value and what
is allowed, before any resource is registered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from alex_db.engine_versions import (
    AUTO_PAUSE_MINIMUMS,
    DATA_API_MINIMUMS,
    EngineVersion,
    describe_minimums,
    parse_engine_version,
    supports_auto_pause,
    supports_data_api,
)

NAMESPACE = "alex-db"

# Serverless v2 capacity limits (Aurora user guide, "Aurora Serverless v2 capacity").
ACU_STEP = 0.5
ACU_CEILING = 256.0
MAX_ACU_FLOOR = 1.0
AUTO_PAUSE_SECONDS_RANGE = (300, 86400)
# On everything taggable, so the seed's cost reports keep working.
BASE_TAGS: dict[str, str] = {"Project": "alex", "Part": "5"}

# The program's defaults; Pulumi.yaml declares the same ones (a test compares them).
DEFAULTS: dict[str, str] = {
    "minCapacity": "0.5",
    "maxCapacity": "1",
    "engineVersion": "15.12",
    "secondsUntilAutoPause": "300",
}


class SettingsError(ValueError):
    """A configuration value that is not allowed; the message is one line for the user."""


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
    """Tags for every taggable resource. Default ``Project=alex``, ``Part=5``."""


def key(name: str) -> str:
    """The full config key as users type it: ``alex-db:minCapacity``."""
    return f"{NAMESPACE}:{name}"


def _reject(name: str, value: str, allowed: str) -> SettingsError:
    return SettingsError(f"{key(name)} = {value!r} is not allowed: {allowed}")


def _acu(name: str, raw: str, lowest: float) -> float:
    allowed = f"a number of ACUs from {lowest:g} to {ACU_CEILING:g} in steps of {ACU_STEP:g}"
    try:
        value = float(raw)
    except ValueError:
        raise _reject(name, raw, allowed) from None
    if not math.isfinite(value) or not lowest <= value <= ACU_CEILING:
        raise _reject(name, raw, allowed)
    if not (value / ACU_STEP).is_integer():
        raise _reject(name, raw, allowed)
    return value


def _engine_version(raw: str) -> EngineVersion:
    version = parse_engine_version(raw)
    if version is None:
        raise _reject(
            "engineVersion", raw, "an Aurora PostgreSQL version MAJOR.MINOR such as 15.12"
        )
    if not supports_data_api(version):
        raise _reject(
            "engineVersion",
            raw,
            f"the Data API on Serverless v2 needs {describe_minimums(DATA_API_MINIMUMS)}",
        )
    return version


def _auto_pause_seconds(raw: str) -> int:
    low, high = AUTO_PAUSE_SECONDS_RANGE
    allowed = f"a whole number of seconds from {low} to {high}"
    try:
        value = int(raw)
    except ValueError:
        raise _reject("secondsUntilAutoPause", raw, allowed) from None
    if not low <= value <= high:
        raise _reject("secondsUntilAutoPause", raw, allowed)
    return value


def _capacity(values: Mapping[str, str], version: EngineVersion) -> Capacity:
    max_acu = _acu("maxCapacity", values["maxCapacity"], MAX_ACU_FLOOR)
    min_acu = _acu("minCapacity", values["minCapacity"], 0.0)
    if min_acu > max_acu:
        raise SettingsError(
            f"{key('minCapacity')} = {values['minCapacity']!r} is not allowed: it must not exceed "
            f"{key('maxCapacity')} = {values['maxCapacity']!r}"
        )
    pause_seconds = _auto_pause_seconds(values["secondsUntilAutoPause"])
    if min_acu == 0 and not supports_auto_pause(version):
        raise SettingsError(
            f"{key('minCapacity')} = {values['minCapacity']!r} is not allowed with "
            f"{key('engineVersion')} = {str(version)!r}: pausing at 0 ACU needs "
            f"{describe_minimums(AUTO_PAUSE_MINIMUMS)}"
        )
    return Capacity(min_acu, max_acu, pause_seconds if min_acu == 0 else None)


def load_settings(
    raw: Mapping[str, str | None], *, stack: str, region: str | None = None
) -> Settings:
    """Validate the stack's ``alex-db:*`` values (unset keys as None) into Settings.

    Raises SettingsError with a one-line message on the first value that is not allowed.
    """
    values = {name: (raw.get(name) or default).strip() for name, default in DEFAULTS.items()}
    version = _engine_version(values["engineVersion"])
    return Settings(
        stack=stack,
        region=region,
        engine_version=version,
        capacity=_capacity(values, version),
        tags=dict(BASE_TAGS),
    )
