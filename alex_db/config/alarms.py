"""The CloudWatch alarms on the cluster, as data (pure): metric, statistic, threshold, window.

Thresholds follow the cluster's maximum capacity, because Serverless v2 memory and connection
limits do: "each ACU is a combination of approximately 2 gibibytes (GiB) of memory" (Aurora
user guide, "How Aurora Serverless v2 works"), and Aurora PostgreSQL's ``max_connections``
defaults to ``LEAST({DBInstanceClassMemory/9531392}, 5000)`` (Aurora user guide, "Maximum
connections to an Aurora PostgreSQL DB instance"), which Serverless v2 computes from the
memory at maximum capacity.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3
MEMORY_PER_ACU = 2 * GIB
CONNECTION_MEMORY_DIVISOR = 9531392
MAX_CONNECTIONS_CEILING = 5000
PERIOD_SECONDS = 300
# "At the maximum ACU for 15 minutes": three five-minute periods in a row.
SUSTAINED_PERIODS = 3
FREE_MEMORY_FRACTION = 0.10
CONNECTIONS_FRACTION = 0.80


@dataclass(frozen=True)
class AlarmRule:
    """One alarm on a cluster-level ``AWS/RDS`` metric."""

    suffix: str
    """Appended to the cluster's name to name the alarm."""
    metric: str
    statistic: str
    comparison: str
    threshold: float
    description: str


def max_connections(max_acu: float) -> int:
    """Aurora PostgreSQL's default ``max_connections`` at the maximum capacity."""
    return min(int(max_acu * MEMORY_PER_ACU) // CONNECTION_MEMORY_DIVISOR, MAX_CONNECTIONS_CEILING)


def alarm_rules(max_acu: float, min_acu: float) -> list[AlarmRule]:
    """Capacity pinned at the maximum, little memory left, connections near the limit. A fixed
    capacity (``min_acu`` = ``max_acu``) always runs at its maximum, so it gets no capacity
    alarm: that alarm would never leave the ALARM state."""
    free_memory = FREE_MEMORY_FRACTION * max_acu * MEMORY_PER_ACU
    connections = round(CONNECTIONS_FRACTION * max_connections(max_acu))
    capacity = [
        AlarmRule(
            "capacity-at-max",
            "ServerlessDatabaseCapacity",
            "Maximum",
            "GreaterThanOrEqualToThreshold",
            max_acu,
            f"Serverless v2 capacity at its maximum of {max_acu:g} ACU for 15 minutes: "
            f"raise maxCapacity or find the load",
        )
    ]
    return [
        *(capacity if min_acu < max_acu else []),
        AlarmRule(
            "low-freeable-memory",
            "FreeableMemory",
            "Minimum",
            "LessThanThreshold",
            free_memory,
            f"Less than {FREE_MEMORY_FRACTION:.0%} of the memory at {max_acu:g} ACU is free "
            f"for 15 minutes",
        ),
        AlarmRule(
            "many-connections",
            "DatabaseConnections",
            "Maximum",
            "GreaterThanOrEqualToThreshold",
            connections,
            f"{connections} or more connections ({CONNECTIONS_FRACTION:.0%} of the default "
            f"max_connections at {max_acu:g} ACU) for 15 minutes",
        ),
    ]
