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


def render(db: DeployedDatabase) -> str:
    """The multi-line instructions text."""
    return f"""Aurora Serverless v2 PostgreSQL is deployed.

Cluster:   {db.cluster_identifier}
Database:  {db.database_name}
Data API:  {db.data_api_status}
Capacity:  {db.min_acu:g}-{db.max_acu:g} ACU; {db.cost_floor}

Add these lines to .env (or run: alex-db env --stack {db.stack}):
AURORA_CLUSTER_ARN={db.cluster_arn}
AURORA_SECRET_ARN={db.secret_arn}
AURORA_DATABASE={db.database_name}

Test the Data API (or run: alex-db check, which reads .env):
aws rds-data execute-statement \\
  --resource-arn "{db.cluster_arn}" \\
  --secret-arn "{db.secret_arn}" \\
  --database {db.database_name} \\
  --sql "SELECT version()"
"""
