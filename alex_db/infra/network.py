"""Where the cluster lives (the default VPC, or an existing one) and who may reach 5432."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2, rds

POSTGRES_PORT = 5432
ANYWHERE_IPV4 = "0.0.0.0/0"


def ingress_rules(
    cidrs: Sequence[pulumi.Input[str]] | None, security_group_ids: Sequence[str]
) -> list[dict]:
    """PostgreSQL rules: one for IPv4 CIDRs, one for IPv6 CIDRs, one for security groups, each
    only when it has sources. Pure apart from CIDRs that may be Outputs (the VPC's)."""
    ipv4 = [c for c in cidrs or [] if not isinstance(c, str) or ":" not in c]
    ipv6 = [c for c in cidrs or [] if isinstance(c, str) and ":" in c]
    port = {"protocol": "tcp", "from_port": POSTGRES_PORT, "to_port": POSTGRES_PORT}
    rules = []
    if ipv4:
        rules.append(
            {"description": "PostgreSQL from allowed IPv4 ranges", **port, "cidr_blocks": ipv4}
        )
    if ipv6:
        rules.append(
            {"description": "PostgreSQL from allowed IPv6 ranges", **port, "ipv6_cidr_blocks": ipv6}
        )
    if security_group_ids:
        rules.append(
            {
                "description": "PostgreSQL from allowed security groups",
                **port,
                "security_groups": list(security_group_ids),
            }
        )
    return rules


def egress_rules(allow_egress: bool) -> list[dict]:
    """The seed's all-outbound rule, or none. The cluster initiates no connections itself, so
    production has none. An explicit empty list, not an absent one, is what removes the rule
    from an existing group (an absent ``egress`` leaves existing rules alone: pulumi/pulumi#2675,
    terraform-provider-aws#644); it changes in place, ``egress`` is not ForceNew."""
    if not allow_egress:
        return []
    return [
        {
            "description": "All outbound",
            "protocol": "-1",
            "from_port": 0,
            "to_port": 0,
            "cidr_blocks": [ANYWHERE_IPV4],
        }
    ]


@dataclass
class NetworkArgs:
    """Names, placement and access rules of the network resources."""

    subnet_group_name: str
    """Name of the DB subnet group."""
    security_group_name: str
    """Name of the security group."""
    vpc_id: str | None = None
    """An existing VPC. Default None: the region's default VPC."""
    subnet_ids: Sequence[str] | None = None
    """Subnets of ``vpc_id`` (at least two AZs). Default None: every default-VPC subnet."""
    allowed_cidrs: Sequence[str] | None = None
    """CIDRs allowed on 5432. Default None: the VPC's own IPv4 CIDR only."""
    allowed_security_group_ids: Sequence[str] = ()
    """Security groups allowed on 5432. Default none."""
    allow_egress: bool = True
    """Keep the seed's all-outbound rule. Default True; production passes False."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on both resources. Default none."""


class Network(pulumi.ComponentResource):
    """A VPC (looked up, never created), a DB subnet group over its subnets, and a security
    group that admits PostgreSQL from the allowed sources only (the VPC by default)."""

    vpc_id: pulumi.Output[str]
    """The VPC's id."""
    vpc_cidr: pulumi.Output[str]
    """The VPC's IPv4 CIDR: the one source allowed on 5432 unless configured."""
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
        if args.vpc_id is None:
            vpc = ec2.get_vpc_output(default=True, opts=lookup)
            subnet_ids = ec2.get_subnets_output(
                filters=[{"name": "vpc-id", "values": [vpc.id]}], opts=lookup
            ).ids
        else:
            # Looked up even when the subnets are given: a wrong VPC id fails the preview.
            vpc = ec2.get_vpc_output(id=args.vpc_id, opts=lookup)
            subnet_ids = list(args.subnet_ids or [])
        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        subnet_group = rds.SubnetGroup(
            f"{name}-subnet-group",
            name=args.subnet_group_name,
            description="Subnets for the Alex Aurora cluster",
            subnet_ids=subnet_ids,
            tags=dict(args.tags),
            opts=child,
        )
        cidrs = [vpc.cidr_block] if args.allowed_cidrs is None else list(args.allowed_cidrs)
        security_group = ec2.SecurityGroup(
            f"{name}-sg",
            name=args.security_group_name,
            description="PostgreSQL access to the Alex Aurora cluster",
            vpc_id=vpc.id,
            ingress=ingress_rules(cidrs, args.allowed_security_group_ids),
            egress=egress_rules(args.allow_egress),
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
