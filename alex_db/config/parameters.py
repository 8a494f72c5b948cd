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
# "pending-reboot" is accepted for static and dynamic parameters alike; "immediate" only for
# dynamic ones, so the one parameter whose kind matters least to us takes the safe method.
FORCE_SSL = {"name": "rds.force_ssl", "value": "1", "apply_method": "pending-reboot"}
# rds.force_ssl as each family ships it. The provider reads back only the parameters AWS reports
# with Source "user" (and "system" ones named in the config), and a value equal to the family's
# default keeps its engine-default source, so sending the default is a diff on every run
# (hashicorp/terraform-provider-aws#23335, whose aurora-postgresql14 dump shows rds.force_ssl = 0;
# cluster_parameter_group.go, resourceClusterParameterGroupRead). The parameter is therefore sent
# only where the default differs:
# - 13 to 16 ship 0: "By default, the rds.force_ssl parameter is set to 0 (off)" (Aurora user
#   guide, "Updating applications to connect to Aurora PostgreSQL DB clusters using new SSL/TLS
#   certificates"), the same as #23335's 14.
# - 17 ships 1: "rds.force_ssl = 0, the default before version 17" (mondoohq/cnspec#3707,
#   September 2026; a third party: AWS's own statement for 17 was not in the sources read).
# A family not listed (a later major) gets the parameter: a needless diff is noise, an unforced
# TLS would be a hole. `aws rds describe-engine-default-cluster-parameters
# --db-parameter-group-family aurora-postgresql17` shows what AWS ships.
FORCE_SSL_DEFAULTS = {
    "aurora-postgresql13": "0",
    "aurora-postgresql14": "0",
    "aurora-postgresql15": "0",
    "aurora-postgresql16": "0",
    "aurora-postgresql17": "1",
}


def parameter_family(version: EngineVersion) -> str:
    """``aurora-postgresql15`` for 15.x: the family follows the engine major."""
    return f"{FAMILY_PREFIX}{version.major}"


def forces_ssl_by_default(family: str) -> bool:
    """True when ``family`` ships with rds.force_ssl on, so the group need not send it."""
    return FORCE_SSL_DEFAULTS.get(family) == FORCE_SSL["value"]


def cluster_parameters(
    *, family: str, connection_logging: bool, slow_query_ms: int | None
) -> list[dict]:
    """TLS-only connections always (sent unless ``family`` already ships them); connection and
    slow-query logging when asked for."""
    parameters = [] if forces_ssl_by_default(family) else [dict(FORCE_SSL)]
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
