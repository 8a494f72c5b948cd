"""Network choices from stack config: default or existing VPC, who may reach 5432 (pure)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from alex_db.config.values import SettingsError, key, parse_bool, parse_list, reject

MIN_SUBNETS = 2
# Address space that never reaches the internet: RFC 1918 private, RFC 6598 shared (carrier-grade
# NAT) and RFC 4193 unique-local IPv6. A CIDR not wholly inside one of them reaches public
# addresses (0.0.0.0/1 + 128.0.0.0/1 is the internet as surely as 0.0.0.0/0). The policy pack
# holds the same table (policy/alex_rules.py) in its own virtualenv; tests/test_policy_pack.py
# proves the two agree on any list of CIDRs.
NON_PUBLIC_RANGES = tuple(
    ipaddress.ip_network(cidr)
    for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
# ADDRESS/PREFIX as Go's net.ParseCIDR reads it, which the provider validates with
# (terraform-provider-aws internal/verify/validate.go, ValidateIPv4CIDRBlock/ValidateIPv6CIDRBlock):
# a decimal prefix length, no netmask form (10.0.0.0/255.0.0.0) and no IPv6 zone (%eth0), all
# of which Python's ipaddress would accept.
_CIDR_SHAPE = re.compile(r"^[0-9A-Fa-f:.]+/[0-9]{1,3}$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")


@dataclass(frozen=True)
class NetworkSettings:
    """Where the cluster lives and who may connect to it on 5432."""

    vpc_id: str | None = None
    """An existing VPC; None (default) uses the region's default VPC."""
    subnet_ids: tuple[str, ...] | None = None
    """Subnets of ``vpc_id`` for the DB subnet group; None uses all of the default VPC's."""
    allowed_cidrs: tuple[str, ...] | None = None
    """CIDRs allowed on 5432; None (default) allows the VPC's own CIDR only."""
    allowed_security_group_ids: tuple[str, ...] = ()
    """Security groups allowed on 5432 (e.g. a Lambda's). Default none."""


def _ids(
    name: str, raw: str, pattern: re.Pattern, example: str, *, comma_separated: bool = True
) -> tuple[str, ...]:
    items = parse_list(name, raw, f"ids like {example}", comma_separated=comma_separated)
    for item in items:
        if not pattern.match(item):
            raise reject(name, raw, f"a list of ids like {example}; {item!r} is not one")
    if len(set(items)) != len(items):
        raise reject(name, raw, "a list without repeated ids")
    return tuple(items)


def reaches_public_addresses(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """True unless ``network`` lies wholly inside private, shared or unique-local space."""
    return not any(
        network.version == private.version and network.subnet_of(private)
        for private in NON_PUBLIC_RANGES
    )


def _cidr(raw: str, item: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        # EC2 wants ADDRESS/PREFIX with no host bits set; a bare address is refused at deploy.
        if not _CIDR_SHAPE.match(item):
            raise ValueError(item)
        return ipaddress.ip_network(item, strict=True)
    except ValueError:
        raise reject(
            "allowedCidrs", raw, f"a list of CIDRs like 10.0.0.0/16; {item!r} is not one"
        ) from None


def _cidrs(raw: str, allow_public: bool) -> tuple[str, ...]:
    items = parse_list("allowedCidrs", raw, "CIDRs like 10.0.0.0/16")
    seen: dict = {}
    for item in items:
        network = _cidr(raw, item)
        if network in seen:
            # The same rule twice is refused by EC2 (InvalidPermission.Duplicate).
            raise reject(
                "allowedCidrs", raw, f"{item!r} repeats {seen[network]!r}: list each CIDR once"
            )
        seen[network] = item
        if reaches_public_addresses(network) and not allow_public:
            raise reject(
                "allowedCidrs",
                raw,
                f"{item} reaches public address space (it is not wholly inside "
                f"{', '.join(map(str, NON_PUBLIC_RANGES))}); set {key('allowPublicIngress')} "
                f"to true if PostgreSQL should really be open to it",
            )
    return tuple(items)


def load_network(values: Mapping[str, str | None]) -> NetworkSettings:
    """Validate the network keys (unset ones as None)."""
    vpc_raw, subnets_raw = values.get("vpcId"), values.get("subnetIds")
    if bool(vpc_raw) != bool(subnets_raw):
        raise SettingsError(
            f"{key('vpcId')} and {key('subnetIds')} go together: set both (an existing VPC "
            f"and at least {MIN_SUBNETS} of its subnets) or neither (the default VPC)"
        )
    vpc_id = subnet_ids = None
    if vpc_raw and subnets_raw:
        vpc_id = vpc_raw.strip()
        if not _VPC_ID.match(vpc_id):
            raise reject("vpcId", vpc_raw, "a VPC id like vpc-0123456789abcdef0")
        subnet_ids = _ids("subnetIds", subnets_raw, _SUBNET_ID, "subnet-0123456789abcdef0")
        if len(subnet_ids) < MIN_SUBNETS:
            raise reject(
                "subnetIds",
                subnets_raw,
                f"at least {MIN_SUBNETS} subnets in different availability zones",
            )
    allow_public = parse_bool("allowPublicIngress", values.get("allowPublicIngress") or "false")
    cidrs_raw = values.get("allowedCidrs")
    groups_raw = values.get("allowedSecurityGroupIds") or "[]"
    return NetworkSettings(
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
        allowed_cidrs=_cidrs(cidrs_raw, allow_public) if cidrs_raw is not None else None,
        # Declared as an array in Pulumi.yaml, so only a YAML list gets past the CLI.
        allowed_security_group_ids=_ids(
            "allowedSecurityGroupIds",
            groups_raw,
            _SECURITY_GROUP_ID,
            "sg-0123456789abcdef0",
            comma_separated=False,
        ),
    )
