"""Where the cluster lives: the default VPC's subnets and a PostgreSQL-only security group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2, rds

POSTGRES_PORT = 5432
ANYWHERE_IPV4 = "0.0.0.0/0"


@dataclass
class NetworkArgs:
    """Names and tags of the network resources."""

    subnet_group_name: str
    """Name of the DB subnet group."""
    security_group_name: str
    """Name of the security group."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on both. Default none."""


class Network(pulumi.ComponentResource):
    """The default VPC (looked up, not created), a DB subnet group over all its subnets, and a
    security group that admits PostgreSQL from inside the VPC only."""

    vpc_id: pulumi.Output[str]
    """The default VPC's id."""
    vpc_cidr: pulumi.Output[str]
    """The default VPC's IPv4 CIDR: the only source allowed on 5432."""
    subnet_group_name: pulumi.Output[str]
    """The DB subnet group the cluster is placed in."""
    security_group_id: pulumi.Output[str]
    """The security group attached to the cluster."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("alexdb:index:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        lookup = pulumi.InvokeOutputOptions(parent=self)
        vpc = ec2.get_vpc_output(default=True, opts=lookup)
        subnets = ec2.get_subnets_output(
            filters=[{"name": "vpc-id", "values": [vpc.id]}], opts=lookup
        )
        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        subnet_group = rds.SubnetGroup(
            f"{name}-subnet-group",
            name=args.subnet_group_name,
            description="Subnets of the default VPC for the Alex Aurora cluster",
            subnet_ids=subnets.ids,
            tags=dict(args.tags),
            opts=child,
        )
        security_group = ec2.SecurityGroup(
            f"{name}-sg",
            name=args.security_group_name,
            description="PostgreSQL from inside the VPC to the Alex Aurora cluster",
            vpc_id=vpc.id,
            ingress=[
                {
                    "description": "PostgreSQL from the VPC",
                    "protocol": "tcp",
                    "from_port": POSTGRES_PORT,
                    "to_port": POSTGRES_PORT,
                    "cidr_blocks": [vpc.cidr_block],
                }
            ],
            # Outbound stays open as in the seed: the cluster initiates no connections itself,
            # and restricting egress would only break extensions that reach AWS APIs.
            egress=[
                {
                    "description": "All outbound",
                    "protocol": "-1",
                    "from_port": 0,
                    "to_port": 0,
                    "cidr_blocks": [ANYWHERE_IPV4],
                }
            ],
            tags=dict(args.tags),
            opts=child,
        )
        self.subnet_group_name = subnet_group.name
        self.security_group_id = security_group.id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "vpc_cidr": self.vpc_cidr,
                "subnet_group_name": self.subnet_group_name,
                "security_group_id": self.security_group_id,
            }
        )
