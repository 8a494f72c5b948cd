"""The ``setup_instructions`` stack output, as a user of the Alex platform follows it."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import botocore.session
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
        "pulumi stack output --json --stack dev --cwd ALEX_DB | alex-db env --outputs - "
        "--terraform-state terraform/5_database/terraform.tfstate "
        "--tfvars terraform/6_agents/terraform.tfvars"
    ) in text.splitlines()


# A stand-in for the Pulumi CLI with the one rule the bridge depends on: a stack named without its
# project ("dev", not "org/alex-db/dev") is looked up in the project of the folder Pulumi runs in
# (`--cwd DIR`, else the current one), and without a Pulumi.yaml there Pulumi stops with "If
# you're using the --stack flag, pass the fully qualified name (org/project/stack)"
# (pulumi/pulumi pkg/cmd/pulumi, stack reference parsing).
FAKE_PULUMI = """\
import json, os, sys
args = sys.argv[1:]
folder = args[args.index("--cwd") + 1] if "--cwd" in args else "."
if not os.path.isfile(os.path.join(folder, "Pulumi.yaml")):
    sys.exit("error: If you're using the --stack flag, pass the fully qualified name")
print(json.dumps(OUTPUTS))
"""


def test_the_bridge_command_works_from_the_alex_root_where_the_text_says_to_run_it(text, tmp_path):
    """Alex's parts and `.env` sit in the Alex checkout; the Pulumi project does not."""
    project = Path(__file__).resolve().parent.parent
    alex = tmp_path / "alex"
    for part in ("terraform/5_database", "terraform/6_agents"):
        (alex / part).mkdir(parents=True)
    tools = tmp_path / "bin"
    tools.mkdir()
    outputs = {
        "aurora_cluster_arn": CLUSTER_ARN,
        "aurora_secret_arn": SECRET_ARN,
        "database_name": "alex",
    }
    (tools / "pulumi").write_text(f"#!{sys.executable}\nOUTPUTS = {outputs!r}\n" + FAKE_PULUMI)
    (tools / "pulumi").chmod(0o755)
    (tools / "alex-db").symlink_to(
        shutil.which("alex-db") or Path(sys.executable).parent / "alex-db"
    )
    intro = "Alex's parts 6 and 7 read part 5 from Terraform files"
    bridge = text.split(intro, 1)[1].splitlines()[2].replace("ALEX_DB", str(project))
    result = subprocess.run(
        ["bash", "-c", bridge],
        cwd=alex,
        env={"PATH": f"{tools}:/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    state = json.loads((alex / "terraform/5_database/terraform.tfstate").read_text())
    assert state["outputs"]["aurora_cluster_arn"]["value"] == CLUSTER_ARN
    assert SECRET_ARN in (alex / "terraform/6_agents/terraform.tfvars").read_text()


def test_the_data_api_test_command_goes_to_the_stacks_region_whatever_the_cli_is_set_to(
    text, monkeypatch
):
    """The AWS CLI sends a call to the region it is configured with (its --region, else
    AWS_REGION / AWS_DEFAULT_REGION / the profile), never the ARN's, and it reads no .env: a
    developer whose CLI is set to us-east-1 would ask the wrong region for a eu-west-2 cluster."""
    command = text.split("aws rds-data execute-statement", 1)[1].split("\n\n", 1)[0]
    words = shlex.split(command.replace("\\\n", " "))
    options = dict(zip(words[::2], words[1::2], strict=True))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    session = botocore.session.Session()
    client = session.create_client(
        "rds-data",
        region_name=options.get("--region") or session.get_config_variable("region"),
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    assert client.meta.endpoint_url == "https://rds-data.eu-west-2.amazonaws.com"
