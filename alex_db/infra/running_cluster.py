"""What AWS reports about this stack's cluster right now, read with provider invokes.

The program needs the running engine version before it registers the cluster: AWS upgrades
minor versions on its own, and sending the older configured version makes ``pulumi up`` fail
("Cannot upgrade aurora-postgresql from 15.13 to 15.12", pulumi/pulumi-aws#5756). The provider's
own diff cannot be relied on to avoid that: ``engine_version`` is Optional+Computed and every
change to it is sent in ModifyDBCluster (hashicorp/terraform-provider-aws
internal/service/rds/cluster.go, resourceClusterUpdate: ``if d.HasChange(names.AttrEngineVersion)
{ input.EngineVersion = ... }``). ``ignore_changes`` would also block the upgrades users ask for.
So the program reads what runs and never sends less (``config.lifecycle.decide_engine_version``).
"""

from __future__ import annotations

from pulumi_aws import rds

# DescribeDBClusters filter by identifier (RDS API reference, DescribeDBClusters "Filters"):
# unlike getCluster, getClusters answers an empty list, not an error, before the first deploy.
IDENTIFIER_FILTER = "db-cluster-id"


def _running(cluster_identifier: str) -> rds.GetClusterResult | None:
    found = rds.get_clusters(filters=[{"name": IDENTIFIER_FILTER, "values": [cluster_identifier]}])
    if cluster_identifier not in (found.cluster_identifiers or []):
        return None
    return rds.get_cluster(cluster_identifier=cluster_identifier)


def running_engine_version(cluster_identifier: str) -> str | None:
    """The engine version AWS reports for ``cluster_identifier``, or None when it does not
    exist yet."""
    cluster = _running(cluster_identifier)
    return None if cluster is None else cluster.engine_version


def running_kms_key_id(cluster_identifier: str) -> str | None:
    """The ARN of the KMS key AWS reports for ``cluster_identifier`` (the AWS managed aws/rds
    key's when none was chosen), or None when the cluster does not exist yet."""
    cluster = _running(cluster_identifier)
    return None if cluster is None else cluster.kms_key_id
