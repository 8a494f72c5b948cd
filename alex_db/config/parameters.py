"""The cluster parameter group: its family and the parameters each profile sets (pure).

The group is named after its family, because a family belongs to one engine major: a major
upgrade needs a group of the new family, and a new name lets Pulumi create it beside the old one
instead of replacing a group the running cluster still uses (family and name both force a new
group: terraform-provider-aws ``internal/service/rds/cluster_parameter_group.go``).
"""

from __future__ import annotations

from alex_db.config.versions import EngineVersion

FAMILY_PREFIX = "aurora-postgresql"
DEFAULT_SLOW_QUERY_MS = 1000
# PostgreSQL's log_min_duration_statement is an int in milliseconds: 0 logs every statement,
# 2147483647 is its maximum (PostgreSQL docs, "Error Reporting and Logging").
SLOW_QUERY_MS_RANGE = (0, 2147483647)
# Aurora PostgreSQL ships rds.force_ssl at 0 (AWS, "Securing Aurora PostgreSQL data with
# SSL/TLS"). "pending-reboot" is accepted for static and dynamic parameters alike; "immediate"
# only for dynamic ones, so the one parameter whose kind matters least to us takes the safe method.
FORCE_SSL = {"name": "rds.force_ssl", "value": "1", "apply_method": "pending-reboot"}


def parameter_family(version: EngineVersion) -> str:
    """``aurora-postgresql15`` for 15.x: the family follows the engine major."""
    return f"{FAMILY_PREFIX}{version.major}"


def cluster_parameters(*, connection_logging: bool, slow_query_ms: int | None) -> list[dict]:
    """TLS-only connections always; connection and slow-query logging when asked for."""
    parameters = [dict(FORCE_SSL)]
    if slow_query_ms is not None:
        parameters.append(
            {
                "name": "log_min_duration_statement",
                "value": str(slow_query_ms),
                "apply_method": "immediate",
            }
        )
    if connection_logging:
        for name in ("log_connections", "log_disconnections"):
            parameters.append({"name": name, "value": "1", "apply_method": "immediate"})
    return parameters
