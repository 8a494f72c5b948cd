"""IAM policy documents as plain dicts (pure: tested directly, serialised in one place)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

POLICY_VERSION = "2012-10-17"

# The Data API calls a Lambda makes: statements and transactions, nothing administrative.
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html
DATA_API_ACTIONS: tuple[str, ...] = (
    "rds-data:ExecuteStatement",
    "rds-data:BatchExecuteStatement",
    "rds-data:BeginTransaction",
    "rds-data:CommitTransaction",
    "rds-data:RollbackTransaction",
)
SECRET_READ_ACTIONS: tuple[str, ...] = ("secretsmanager:GetSecretValue",)
LOG_WRITE_ACTIONS: tuple[str, ...] = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
)
LAMBDA_SERVICE = "lambda.amazonaws.com"


def statement(sid: str, actions: Iterable[str], resources: Sequence[str]) -> dict:
    """One Allow statement."""
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": list(resources)}


def document(statements: Iterable[dict]) -> dict:
    """A policy document holding ``statements``."""
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def to_json(policy: dict) -> str:
    """The JSON IAM receives; sorted keys keep plans and diffs stable."""
    return json.dumps(policy, sort_keys=True)


def lambda_trust_policy() -> dict:
    """Lets the Lambda service assume the role, and nobody else."""
    return document(
        [
            {
                "Sid": "LambdaAssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": LAMBDA_SERVICE},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def data_api_statements(cluster_arn: str, secret_arn: str) -> list[dict]:
    """The Data API on one cluster plus reading the one secret it authenticates with."""
    return [
        statement("DataApiOnThisCluster", DATA_API_ACTIONS, [cluster_arn]),
        statement("ReadThisDatabaseSecret", SECRET_READ_ACTIONS, [secret_arn]),
    ]


def log_write_statement(partition: str, region: str, account_id: str) -> dict:
    """CloudWatch Logs writes in this account and region only."""
    return statement(
        "WriteLogsInThisRegion",
        LOG_WRITE_ACTIONS,
        [f"arn:{partition}:logs:{region}:{account_id}:*"],
    )


def basic_execution_policy_arn(partition: str) -> str:
    """The AWS managed policy every Lambda role carries."""
    return f"arn:{partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
