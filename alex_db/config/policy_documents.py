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
# Enhanced monitoring: RDS assumes this role to publish OS metrics to CloudWatch Logs.
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Monitoring.OS.Enabling.html
MONITORING_SERVICE = "monitoring.rds.amazonaws.com"
KMS_DECRYPT_ACTIONS: tuple[str, ...] = ("kms:Decrypt",)
BACKUP_SERVICE = "backup.amazonaws.com"


def statement(sid: str, actions: Iterable[str], resources: Sequence[str]) -> dict:
    """One Allow statement."""
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": list(resources)}


def document(statements: Iterable[dict]) -> dict:
    """A policy document holding ``statements``."""
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def to_json(policy: dict) -> str:
    """The JSON IAM receives; sorted keys keep plans and diffs stable."""
    return json.dumps(policy, sort_keys=True)


def _service_trust_policy(sid: str, service: str) -> dict:
    return document(
        [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def lambda_trust_policy() -> dict:
    """Lets the Lambda service assume the role, and nobody else."""
    return _service_trust_policy("LambdaAssumeRole", LAMBDA_SERVICE)


def monitoring_trust_policy() -> dict:
    """Lets RDS enhanced monitoring assume the role, and nobody else."""
    return _service_trust_policy("RdsMonitoringAssumeRole", MONITORING_SERVICE)


def backup_trust_policy() -> dict:
    """Lets AWS Backup assume the role, and nobody else."""
    return _service_trust_policy("BackupAssumeRole", BACKUP_SERVICE)


def secret_key_decrypt_statement(key_arn: str, region: str, dns_suffix: str) -> dict:
    """Decrypting with the secret's customer-managed key, only when Secrets Manager asks on the
    caller's behalf in this region: GetSecretValue on a secret under a customer-managed key needs
    kms:Decrypt on that key ("Secret encryption and decryption in AWS Secrets Manager"), and the
    Data API reads the secret as its caller ("Authorizing access to the Amazon RDS Data API").
    kms:ViaService names the service by its endpoint, ``secretsmanager.<region>.<dns suffix>``
    (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html), and the suffix
    is the partition's: ``amazonaws.com.cn`` in China, so it comes from ``aws.get_partition``
    (its ``dns_suffix``) rather than being written here."""
    return {
        **statement("DecryptThisSecretViaSecretsManager", KMS_DECRYPT_ACTIONS, [key_arn]),
        "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.{dns_suffix}"}},
    }


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


def enhanced_monitoring_policy_arn(partition: str) -> str:
    """The AWS managed policy for the enhanced monitoring role."""
    return f"arn:{partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


def backup_service_policy_arn(partition: str) -> str:
    """The AWS managed policy that lets AWS Backup snapshot the resources it is given."""
    return f"arn:{partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
