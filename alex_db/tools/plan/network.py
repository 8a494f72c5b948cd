"""Where a plan's database lives and what can reach its port: the reviewer's network view.

Every source allowed on 5432 is listed, from the security group's inline rules and from any
standalone rule resource, so "public access: off" can never be shown while the port is open
to the internet. Rule shapes are the provider's: inline ``ingress`` blocks of
``aws:ec2/securityGroup:SecurityGroup`` (``cidrBlocks``, ``ipv6CidrBlocks``,
``securityGroups``, ``prefixListIds``, ``self``); ``aws:ec2/securityGroupRule:SecurityGroupRule``
(``type: ingress``, ``sourceSecurityGroupId``); ``aws:vpc/securityGroupIngressRule:
SecurityGroupIngressRule`` (``cidrIpv4``, ``cidrIpv6``, ``referencedSecurityGroupId``,
``prefixListId``, ``ipProtocol``) — pulumi-aws's schema, as bridged from terraform-provider-aws.
"""

from __future__ import annotations

from alex_db.tools.plan.runner import ProgramRun

POSTGRES_PORT = 5432
INTERNET = frozenset({"0.0.0.0/0", "::/0"})
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
# Rule fields naming where traffic may come from, in the order a reader expects them.
SOURCE_FIELDS = (
    "cidrBlocks",
    "ipv6CidrBlocks",
    "cidrIpv4",
    "cidrIpv6",
    "securityGroups",
    "sourceSecurityGroupId",
    "referencedSecurityGroupId",
    "prefixListIds",
    "prefixListId",
)


def _reaches_postgres(rule: dict) -> bool:
    protocol = str(rule.get("protocol", rule.get("ipProtocol", "tcp"))).lower()
    if protocol in ("-1", "all"):
        return True
    low, high = rule.get("fromPort", 0), rule.get("toPort", 65535)
    return protocol in ("tcp", "6") and low <= POSTGRES_PORT <= high


def _sources(rule: dict) -> list[str]:
    found: list[str] = []
    for name in SOURCE_FIELDS:
        value = rule.get(name)
        found += value if isinstance(value, list) else [value] if value else []
    if rule.get("self"):
        found.append("this security group")
    return [str(source) for source in found]


def _rules(run: ProgramRun) -> list[dict]:
    rules = [
        rule for group in run.of_type(SECURITY_GROUP) for rule in group.inputs.get("ingress") or []
    ]
    rules += [r.inputs for r in run.of_type(GROUP_RULE) if r.inputs.get("type") == "ingress"]
    rules += [r.inputs for r in run.of_type(INGRESS_RULE)]
    return rules


def postgres_ingress(run: ProgramRun) -> list[dict]:
    """Every source allowed on 5432, with its rule's description and whether it is the
    internet; sorted so two plans compare cleanly."""
    entries = {
        (source, rule.get("description") or "")
        for rule in _rules(run)
        if _reaches_postgres(rule)
        for source in _sources(rule)
    }
    return [
        {"source": source, "description": description, "public": source in INTERNET}
        for source, description in sorted(entries)
    ]


def network(run: ProgramRun, region: str) -> dict:
    """Region, VPC, subnets and the 5432 sources of one run."""
    groups = run.of_type(SECURITY_GROUP)
    subnet_groups = run.of_type(SUBNET_GROUP)
    return {
        "region": region,
        "vpc_id": groups[0].inputs.get("vpcId") if groups else None,
        "subnet_ids": list(subnet_groups[0].inputs.get("subnetIds", [])) if subnet_groups else [],
        "postgres_ingress": postgres_ingress(run),
    }
