"""The ``setup_instructions`` stack output: what to do after ``pulumi up`` (pure text).

It carries ARNs and names only: the password stays in Secrets Manager.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeployedDatabase:
    """What the instructions describe, resolved from the stack's outputs."""

    cluster_identifier: str
    cluster_arn: str
    secret_arn: str
    database_name: str
    data_api_status: str
    min_acu: float
    max_acu: float
    cost_floor: str
    stack: str


def region_of(cluster_arn: str) -> str:
    """The region field of an ARN (``arn:PARTITION:rds:REGION:ACCOUNT:cluster:NAME``): the
    stack's region, where the Data API answers."""
    return cluster_arn.split(":")[3]


def render(db: DeployedDatabase) -> str:
    """The multi-line instructions text: the ``.env`` lines ``alex-db env`` writes (the region
    under the three names boto3, Alex's scripts and Alex's database client read), the bridge to
    Alex's Terraform parts 6 and 7, Alex's schema steps (``backend/database``:
    ``run_migrations.py``, ``reset_db.py``; the Terraform part 5 text named a ``migrate.py`` that
    does not exist) and a Data API test."""
    region = region_of(db.cluster_arn)
    # Run from the Alex checkout, where no Pulumi project is: a short stack name only means
    # something to Pulumi inside its project's folder (--cwd), so the outputs come through a pipe.
    bridge = (
        f"pulumi stack output --json --stack {db.stack} --cwd ALEX_DB | alex-db env --outputs - "
        f"--terraform-state terraform/5_database/terraform.tfstate "
        f"--tfvars terraform/6_agents/terraform.tfvars"
    )
    return f"""Aurora Serverless v2 PostgreSQL is deployed.

Cluster:   {db.cluster_identifier}
Database:  {db.database_name}
Region:    {region}
Data API:  {db.data_api_status}
Capacity:  {db.min_acu:g}-{db.max_acu:g} ACU; {db.cost_floor}

Add these lines to .env (or run: alex-db env --stack {db.stack}):
AURORA_CLUSTER_ARN={db.cluster_arn}
AURORA_SECRET_ARN={db.secret_arn}
AURORA_DATABASE={db.database_name}
AWS_REGION={region}
AWS_DEFAULT_REGION={region}
DEFAULT_AWS_REGION={region}

Alex's parts 6 and 7 read part 5 from Terraform files; from the root of your Alex checkout
(ALEX_DB: this project's folder; it writes Alex's .env too):
{bridge}

Create the schema and load the seed data (Alex's backend/database, after .env is written):
cd backend/database && uv run run_migrations.py
uv run reset_db.py --with-test-data

Test the Data API (or run: alex-db check, which reads .env):
aws rds-data execute-statement --region {region} \\
  --resource-arn "{db.cluster_arn}" \\
  --secret-arn "{db.secret_arn}" \\
  --database {db.database_name} \\
  --sql "SELECT version()"
"""
