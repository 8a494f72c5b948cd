"""The cluster parameter group the cluster is attached to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import rds


@dataclass
class ParameterGroupArgs:
    """The group's name, family and parameters."""

    name: str
    """Physical name; carries the family so a major upgrade gets a new group."""
    family: str
    """``aurora-postgresql<major>``, from the engine version."""
    parameters: list[dict]
    """``{"name", "value", "apply_method"}`` items from ``config.parameters``."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the group. Default none."""


def create_parameter_group(
    name: str, args: ParameterGroupArgs, parent: pulumi.Resource
) -> rds.ClusterParameterGroup:
    """The group, a child of ``parent``. Parameters change in place; the name, the family and
    the description force a new group (terraform-provider-aws
    ``internal/service/rds/cluster_parameter_group.go``), which the cluster's
    ``db_cluster_parameter_group_name`` then follows in place (``internal/service/rds/cluster.go``:
    not ForceNew)."""
    return rds.ClusterParameterGroup(
        name,
        name=args.name,
        family=args.family,
        description=f"Alex Aurora PostgreSQL ({args.family}): TLS only, logging",
        parameters=args.parameters,
        tags=dict(args.tags),
        # A new family means a new name, so Pulumi's create-before-delete replacement builds
        # the new group while the cluster still uses the old one.
        opts=pulumi.ResourceOptions(parent=parent),
    )
