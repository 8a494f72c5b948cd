"""Default VPC lookup, subnet group over its subnets, and 5432 from the VPC only."""

from __future__ import annotations

from tests.conftest import CLUSTER, SECURITY_GROUP, SUBNET_GROUP, TEST_PLACEHOLDERS


def test_subnet_group_spans_every_subnet_of_the_default_vpc(dev):
    group = dev.one(SUBNET_GROUP)
    assert group.inputs["name"] == "alex-aurora-subnet-group"
    assert group.inputs["subnetIds"] == list(TEST_PLACEHOLDERS.subnet_ids)


def test_security_group_admits_postgres_from_the_vpc_cidr_only(dev):
    group = dev.one(SECURITY_GROUP)
    assert group.inputs["name"] == "alex-aurora-sg"
    assert group.inputs["vpcId"] == TEST_PLACEHOLDERS.vpc_id
    ingress = group.inputs["ingress"]
    assert len(ingress) == 1, f"{group.urn}: one ingress rule expected, got {ingress}"
    (rule,) = ingress
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 5432, 5432)
    assert rule["cidrBlocks"] == [TEST_PLACEHOLDERS.vpc_cidr]
    assert "0.0.0.0/0" not in rule["cidrBlocks"], f"{group.urn}: open to the internet"
    assert not rule.get("ipv6CidrBlocks")


def test_all_egress_is_open(dev):
    (rule,) = dev.one(SECURITY_GROUP).inputs["egress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("-1", 0, 0)
    assert rule["cidrBlocks"] == ["0.0.0.0/0"]


def test_cluster_uses_this_subnet_group_and_security_group(dev):
    cluster = dev.one(CLUSTER)
    assert cluster.inputs["dbSubnetGroupName"] == dev.one(SUBNET_GROUP).outputs["name"]
    assert cluster.inputs["vpcSecurityGroupIds"] == [dev.one(SECURITY_GROUP).resource_id]
