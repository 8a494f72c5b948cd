"""The cluster, its serverless instance, and the Data API grant."""

from __future__ import annotations

import json

import pytest

from alex_db.config.policy_documents import DATA_API_ACTIONS
from alex_db.config.settings import DEFAULTS, Capacity
from alex_db.infra.database import scaling_configuration
from tests.conftest import CLUSTER, INSTANCE, PASSWORD_SENTINEL, ROLE_POLICY, SECRET, run

EXPECTED_CLUSTER = {
    "clusterIdentifier": "alex-aurora-cluster",
    "engine": "aurora-postgresql",
    "engineMode": "provisioned",
    "engineVersion": DEFAULTS["engineVersion"],
    "databaseName": "alex",
    "masterUsername": "alexadmin",
    "enableHttpEndpoint": True,
    "storageEncrypted": True,
    "backupRetentionPeriod": 7,
    "preferredBackupWindow": "03:00-04:00",
    "preferredMaintenanceWindow": "sun:04:00-sun:05:00",
    "skipFinalSnapshot": True,
    "applyImmediately": True,
    "copyTagsToSnapshot": True,
}


@pytest.mark.parametrize(("name", "value"), sorted(EXPECTED_CLUSTER.items()))
def test_cluster_property(dev, name, value):
    cluster = dev.one(CLUSTER)
    assert cluster.inputs.get(name) == value, f"{cluster.urn}: {name}"


def test_cluster_master_password_is_the_generated_one(dev):
    assert dev.one(CLUSTER).inputs["masterPassword"] == PASSWORD_SENTINEL


def test_cluster_scales_within_the_configured_range(dev):
    assert dev.one(CLUSTER).inputs["serverlessv2ScalingConfiguration"] == {
        "minCapacity": 0.5,
        "maxCapacity": 1.0,
    }


def test_auto_pause_sends_its_delay_only_with_min_zero():
    paused = run(minCapacity="0", maxCapacity="4", secondsUntilAutoPause="900")
    assert paused.one(CLUSTER).inputs["serverlessv2ScalingConfiguration"] == {
        "minCapacity": 0.0,
        "maxCapacity": 4.0,
        "secondsUntilAutoPause": 900,
    }
    always_on = run(minCapacity="1", secondsUntilAutoPause="900")
    assert (
        "secondsUntilAutoPause"
        not in always_on.one(CLUSTER).inputs["serverlessv2ScalingConfiguration"]
    )


def test_scaling_configuration_is_pure_and_follows_the_capacity():
    assert scaling_configuration(Capacity(0, 2, 300)) == {
        "min_capacity": 0,
        "max_capacity": 2,
        "seconds_until_auto_pause": 300,
    }


def test_engine_version_comes_from_config():
    assert run(engineVersion="16.4").one(CLUSTER).inputs["engineVersion"] == "16.4"


def test_one_private_serverless_writer_of_the_same_engine(dev):
    instance = dev.one(INSTANCE)
    cluster = dev.one(CLUSTER)
    assert instance.inputs["identifier"] == "alex-aurora-instance-1"
    assert instance.inputs["clusterIdentifier"] == cluster.resource_id
    assert instance.inputs["instanceClass"] == "db.serverless"
    assert instance.inputs["engine"] == cluster.inputs["engine"]
    assert instance.inputs["engineVersion"] == cluster.inputs["engineVersion"]
    assert instance.inputs["publiclyAccessible"] is False
    assert instance.inputs["performanceInsightsEnabled"] is False


def test_data_api_grant_is_scoped_to_this_cluster_and_this_secret(dev):
    policy = json.loads(dev.one(ROLE_POLICY).inputs["policy"])
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    data_api = by_sid["DataApiOnThisCluster"]
    assert data_api["Action"] == list(DATA_API_ACTIONS)
    assert data_api["Resource"] == [dev.one(CLUSTER).outputs["arn"]]
    secret = by_sid["ReadThisDatabaseSecret"]
    assert secret["Action"] == ["secretsmanager:GetSecretValue"]
    assert secret["Resource"] == [dev.one(SECRET).outputs["arn"]]
