"""The whole program under mocks: outputs, parenting, names per stack, tags, secrets, errors."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from alex_db.tools.plan.document import physical_name
from alex_db.tools.plan.runner import recording_monitor, run_program
from tests.conftest import (
    CLUSTER,
    DEV_CONFIG,
    PASSWORD_SENTINEL,
    ROLE,
    ROOT,
    SECRET,
    SECURITY_GROUP,
    TEST_PLACEHOLDERS,
    run,
)

OUTPUT_NAMES = {
    "aurora_cluster_arn",
    "aurora_cluster_endpoint",
    "aurora_secret_arn",
    "database_name",
    "lambda_role_arn",
    "data_api_enabled",
    "setup_instructions",
}
COMPONENTS = {
    "alexdb:index:Credentials": "alex-credentials",
    "alexdb:index:Network": "alex-network",
    "alexdb:index:AuroraDatabase": "alex-aurora",
    "alexdb:index:LambdaAccess": "alex-lambda",
}


def test_exports_exactly_the_seven_outputs(dev):
    assert set(dev.outputs) == OUTPUT_NAMES


def test_output_values_come_from_the_resources(dev):
    values = {name: output.value for name, output in dev.outputs.items()}
    cluster = dev.one(CLUSTER)
    assert values["aurora_cluster_arn"] == cluster.outputs["arn"]
    assert values["aurora_cluster_endpoint"] == cluster.outputs["endpoint"]
    assert values["aurora_secret_arn"] == dev.one(SECRET).outputs["arn"]
    assert values["database_name"] == "alex"
    assert values["lambda_role_arn"] == dev.one(ROLE).outputs["arn"]
    assert values["data_api_enabled"] == "Enabled"


def test_setup_instructions_give_env_lines_test_command_and_cost(dev):
    text = dev.outputs["setup_instructions"].value
    cluster_arn = dev.outputs["aurora_cluster_arn"].value
    secret_arn = dev.outputs["aurora_secret_arn"].value
    assert f"AURORA_CLUSTER_ARN={cluster_arn}\n" in text
    assert f"AURORA_SECRET_ARN={secret_arn}\n" in text
    assert "aws rds-data execute-statement" in text
    assert f'--resource-arn "{cluster_arn}"' in text
    assert '--sql "SELECT version()"' in text
    assert "Cluster:   alex-aurora-cluster" in text
    assert "Data API:  Enabled" in text
    assert "0.5-1 ACU; about $43.80/month" in text


def test_cost_in_instructions_follows_min_capacity():
    text = run(minCapacity="2", maxCapacity="8").outputs["setup_instructions"].value
    assert "2-8 ACU; about $175.20/month" in text  # 2 x 0.12 x 730


def test_password_appears_in_no_output(dev):
    for name, output in dev.outputs.items():
        assert PASSWORD_SENTINEL not in str(output.value), name


def test_every_component_has_its_type_token_and_is_a_child_of_the_stack(dev):
    components = {r.type: r for r in dev.resources if not r.custom}
    assert {t: r.name for t, r in components.items()} == COMPONENTS
    for component in components.values():
        assert component.parent_urn.endswith("pulumi:pulumi:Stack::alex-db-dev"), component.urn


def test_every_resource_is_parented_to_the_component_named_in_its_name(dev):
    components = {r.urn: r for r in dev.resources if not r.custom}
    for resource in dev.resources:
        if not resource.custom:
            continue
        parent = components.get(resource.parent_urn)
        assert parent is not None, f"{resource.urn} has no component parent"
        assert resource.name.startswith(f"{parent.name}-"), resource.urn


def test_components_register_their_real_outputs(dev):
    outputs = {r.type: r.outputs for r in dev.resources if not r.custom}
    assert outputs["alexdb:index:AuroraDatabase"]["cluster_arn"] == dev.one(CLUSTER).outputs["arn"]
    assert outputs["alexdb:index:AuroraDatabase"]["data_api_status"] == "Enabled"
    assert (
        outputs["alexdb:index:Network"]["security_group_id"] == dev.one(SECURITY_GROUP).resource_id
    )
    assert outputs["alexdb:index:Network"]["vpc_cidr"] == TEST_PLACEHOLDERS.vpc_cidr
    assert outputs["alexdb:index:Credentials"]["secret_arn"] == dev.one(SECRET).outputs["arn"]
    assert outputs["alexdb:index:LambdaAccess"]["role_arn"] == dev.one(ROLE).outputs["arn"]
    for component_outputs in outputs.values():
        assert PASSWORD_SENTINEL not in json.dumps(component_outputs, default=str)


SEED_NAMES = {
    "aws:secretsmanager/secret:Secret": "alex-aurora-credentials-0a1b2c3d",
    "aws:rds/subnetGroup:SubnetGroup": "alex-aurora-subnet-group",
    "aws:ec2/securityGroup:SecurityGroup": "alex-aurora-sg",
    "aws:rds/cluster:Cluster": "alex-aurora-cluster",
    "aws:rds/clusterInstance:ClusterInstance": "alex-aurora-instance-1",
    "aws:iam/role:Role": "alex-lambda-aurora-role",
    "aws:iam/rolePolicy:RolePolicy": "alex-lambda-aurora-policy",
}


def physical_names(program_run) -> dict[str, str]:
    """Type token -> the AWS name the program gives it."""
    return {r.type: physical_name(r) for r in program_run.resources if r.type in SEED_NAMES}


def test_dev_uses_the_seeds_physical_names(dev):
    assert physical_names(dev) == SEED_NAMES


def test_another_stack_appends_its_name_to_every_physical_name():
    staging = run("staging")
    expected = {
        token: name.replace("-0a1b2c3d", "-staging-0a1b2c3d")
        if token == SECRET
        else f"{name}-staging"
        for token, name in SEED_NAMES.items()
    }
    assert physical_names(staging) == expected
    assert set(staging.outputs) == OUTPUT_NAMES
    assert "alex-aurora-cluster-staging" in staging.outputs["setup_instructions"].value


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"alex-db:minCapacity": "2", "alex-db:maxCapacity": "1"}, "alex-db:minCapacity = '2'"),
        ({"alex-db:engineVersion": "15.4", "alex-db:minCapacity": "0"}, "pausing at 0 ACU"),
    ],
)
def test_bad_config_stops_with_run_error_before_any_resource(config, message):
    merged = {**DEV_CONFIG, **config}
    monitor = recording_monitor(merged, TEST_PLACEHOLDERS)
    with pytest.raises(pulumi.RunError, match=message):
        run_program("dev", merged, TEST_PLACEHOLDERS, monitor=monitor)
    assert monitor.recorded == []


def test_dev_stack_file_sets_region_and_the_seeds_capacity():
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    assert stack.items() >= {
        "aws:region": "us-east-1",
        "alex-db:minCapacity": "0.5",
        "alex-db:maxCapacity": "1",
    }.items()
