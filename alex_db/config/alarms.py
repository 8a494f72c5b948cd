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

# CloudWatch dimensions of the AWS/RDS namespace (Aurora user guide, "Amazon CloudWatch metrics
# for Amazon Aurora"): a cluster-wide value, or one instance's.
CLUSTER_DIMENSION = "DBClusterIdentifier"
INSTANCE_DIMENSION = "DBInstanceIdentifier"
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
    """One alarm on an ``AWS/RDS`` metric, for the cluster or for each instance."""

    suffix: str
    """Appended to the cluster's (or the instance's) name to name the alarm."""
    metric: str
    statistic: str
    comparison: str
    threshold: float
    description: str
    dimension: str = CLUSTER_DIMENSION
    """``DBClusterIdentifier``: one alarm on the cluster; ``DBInstanceIdentifier``: one alarm
    per instance."""


def max_connections(max_acu: float) -> int:
    """Aurora PostgreSQL's default ``max_connections`` at the maximum capacity."""
    return min(int(max_acu * MEMORY_PER_ACU) // CONNECTION_MEMORY_DIVISOR, MAX_CONNECTIONS_CEILING)


def alarm_rules(max_acu: float, min_acu: float) -> list[AlarmRule]:
    """Capacity pinned at the maximum, little memory left, connections near the limit. A fixed
    capacity (``min_acu`` = ``max_acu``) always runs at its maximum, so it gets no capacity
    alarm: that alarm would never leave the ALARM state."""
    free_memory = FREE_MEMORY_FRACTION * max_acu * MEMORY_PER_ACU
    connections = round(CONNECTIONS_FRACTION * max_connections(max_acu))
    # Per instance: each Serverless v2 instance scales on its own up to maxCapacity, and the
    # cluster-level ServerlessDatabaseCapacity is the average over the cluster's Serverless v2
    # instances (Aurora user guide, "Performance and scaling for Aurora Serverless v2",
    # "Important Amazon CloudWatch metrics for Aurora Serverless v2"), so with readers it reaches
    # maxCapacity only when every instance does. Not the writer alone: the writer is whichever
    # instance won the last failover, and a reader pinned at the maximum by its own reads needs
    # the same raise of maxCapacity.
    capacity = [
        AlarmRule(
            "capacity-at-max",
            "ServerlessDatabaseCapacity",
            "Maximum",
            "GreaterThanOrEqualToThreshold",
            max_acu,
            f"An instance at the Serverless v2 maximum of {max_acu:g} ACU for 15 minutes: "
            f"raise maxCapacity or find the load",
            INSTANCE_DIMENSION,
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
