"""Which Aurora PostgreSQL versions support the features this program turns on.

Kept as data so the settings rules and their error messages read from one table. Sources: the
Aurora user guide pages "Data API region and version availability", "Scaling to zero ACUs
with automatic pause and resume" and "Aurora Serverless v2 capacity" (checked November 2026),
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.how-it-works.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lowest minor version per major; majors above the newest listed have every feature.
DATA_API_MINIMUMS: dict[int, int] = {13: 11, 14: 8, 15: 3, 16: 1, 17: 4}
AUTO_PAUSE_MINIMUMS: dict[int, int] = {13: 15, 14: 12, 15: 7, 16: 3, 17: 0}
# "Aurora Serverless v2 capacity" table: 0.5-256 ACUs on Aurora PostgreSQL 13.13+, 14.10+, 15.5+,
# 16.1+ (17 starts at 17.4, all of it); 0.5-128 ACUs on the versions before. The RDS API says the
# same without the list: "256 for recent Aurora versions, or 128 for older versions"
# (ServerlessV2ScalingConfiguration.MaxCapacity).
MAX_256_ACU_MINIMUMS: dict[int, int] = {13: 13, 14: 10, 15: 5, 16: 1, 17: 0}
ACU_CEILING = 256.0
OLDER_ACU_CEILING = 128.0

_VERSION_PATTERN = re.compile(r"^(\d+)\.(\d+)$")


@dataclass(frozen=True, order=True)
class EngineVersion:
    """An Aurora PostgreSQL ``MAJOR.MINOR`` version, comparable as numbers (15.12 > 15.4)."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def parse_engine_version(text: str) -> EngineVersion | None:
    """The version in ``text``, or None when it is not ``MAJOR.MINOR`` digits."""
    match = _VERSION_PATTERN.match(text.strip())
    if match is None:
        return None
    return EngineVersion(int(match.group(1)), int(match.group(2)))


def _supports(version: EngineVersion, minimums: dict[int, int]) -> bool:
    if version.major > max(minimums):
        return True
    lowest_minor = minimums.get(version.major)
    return lowest_minor is not None and version.minor >= lowest_minor


def supports_data_api(version: EngineVersion) -> bool:
    """True when the Data API works on a provisioned (Serverless v2) cluster of this version."""
    return _supports(version, DATA_API_MINIMUMS)


def supports_auto_pause(version: EngineVersion) -> bool:
    """True when a minimum capacity of 0 ACU (automatic pause) is allowed on this version."""
    return _supports(version, AUTO_PAUSE_MINIMUMS)


def max_acu_ceiling(version: EngineVersion) -> float:
    """The highest ``maxCapacity`` AWS accepts on this version: 256 ACUs, or 128 on older ones."""
    return ACU_CEILING if _supports(version, MAX_256_ACU_MINIMUMS) else OLDER_ACU_CEILING


def describe_minimums(minimums: dict[int, int]) -> str:
    """The table as users read it: ``13.11+, 14.8+, 15.3+, 16.1+, 17.4+``."""
    return ", ".join(
        f"{major}+" if minor == 0 else f"{major}.{minor}+" for major, minor in minimums.items()
    )
