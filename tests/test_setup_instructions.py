"""The ``setup_instructions`` stack output, as a user of the Alex platform follows it."""

from __future__ import annotations

import pytest

from alex_db.config.instructions import DeployedDatabase, render
from alex_db.tools.shared import envfile

CLUSTER_ARN = "arn:aws:rds:eu-west-2:123456789012:cluster:alex-aurora-cluster"
SECRET_ARN = (
    "arn:aws:secretsmanager:eu-west-2:123456789012:secret:alex-aurora-credentials-0a1b2c3d-AbCdEf"
)


@pytest.fixture(scope="module")
def text() -> str:
    return render(
        DeployedDatabase(
            cluster_identifier="alex-aurora-cluster",
            cluster_arn=CLUSTER_ARN,
            secret_arn=SECRET_ARN,
            database_name="alex",
            data_api_status="Enabled",
            min_acu=0.5,
            max_acu=1,
            cost_floor="about $43.80/month",
            stack="dev",
        )
    )


def test_the_env_lines_carry_the_stacks_region_for_boto3_alexs_scripts_and_its_client(text):
    """Alex's scripts read AWS_REGION, its database client DEFAULT_AWS_REGION, boto3
    AWS_DEFAULT_REGION; the lines shown are the lines `alex-db env` writes."""
    env_block = text.split("Add these lines to .env")[1].split("\n\n")[0]
    assert envfile.parse(env_block.split("\n", 1)[1]) == {
        "AURORA_CLUSTER_ARN": CLUSTER_ARN,
        "AURORA_SECRET_ARN": SECRET_ARN,
        "AURORA_DATABASE": "alex",
        "AWS_REGION": "eu-west-2",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "DEFAULT_AWS_REGION": "eu-west-2",
    }


def test_the_schema_steps_name_alexs_real_scripts(text):
    """Terraform's part 5 output named a `migrate.py` that Alex's backend/database does not
    have; the scripts are run_migrations.py and reset_db.py."""
    lines = text.splitlines()
    assert "cd backend/database && uv run run_migrations.py" in lines
    assert "uv run reset_db.py --with-test-data" in lines
    assert "migrate.py" not in text.replace("run_migrations.py", "")


def test_the_bridge_for_parts_6_and_7_is_one_command(text):
    assert (
        "alex-db env --stack dev --terraform-state terraform/5_database/terraform.tfstate "
        "--tfvars terraform/6_agents/terraform.tfvars"
    ) in text.splitlines()
