"""A Lambda-style handler that talks to Alex's database the way Alex's Lambdas do.

It uses only boto3's ``rds-data`` client and the variables ``alex-db env`` (AWS) or
``alex-db local`` (this machine) write: ``AURORA_CLUSTER_ARN``, ``AURORA_SECRET_ARN``,
``AURORA_DATABASE``. Against ``alex-db local`` boto3 also reads ``AWS_ENDPOINT_URL_RDS_DATA``;
the code does not change. Run it with ``python examples/lambda_style.py``.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime

import boto3

CLUSTER_ARN = os.environ["AURORA_CLUSTER_ARN"]
SECRET_ARN = os.environ["AURORA_SECRET_ARN"]
DATABASE = os.environ.get("AURORA_DATABASE", "alex")

rds_data = boto3.client("rds-data")


def execute(sql: str, parameters: list | None = None, transaction_id: str | None = None) -> dict:
    """One statement through the Data API, rows as ``formattedRecords`` JSON."""
    call = {
        "resourceArn": CLUSTER_ARN,
        "secretArn": SECRET_ARN,
        "database": DATABASE,
        "sql": sql,
        "parameters": parameters or [],
        "formatRecordsAs": "JSON",
    }
    if transaction_id:
        call["transactionId"] = transaction_id
    return rds_data.execute_statement(**call)


def handler(event: dict, context: object) -> dict:
    """Create the tables, add a user and a holding in one transaction, read them back."""
    execute(
        "CREATE TABLE IF NOT EXISTS users ("
        " id uuid PRIMARY KEY, name text NOT NULL, joined timestamp NOT NULL, prefs jsonb)"
    )
    execute(
        "CREATE TABLE IF NOT EXISTS holdings ("
        " id serial PRIMARY KEY, user_id uuid REFERENCES users(id), symbol text NOT NULL,"
        " quantity numeric(12, 4) NOT NULL, active boolean NOT NULL, bought date)"
    )
    user_id = str(uuid.uuid4())
    joined = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    transaction = rds_data.begin_transaction(
        resourceArn=CLUSTER_ARN, secretArn=SECRET_ARN, database=DATABASE
    )["transactionId"]
    try:
        execute(
            "INSERT INTO users (id, name, joined, prefs) VALUES (:id, :name, :joined, :prefs)",
            [
                {"name": "id", "value": {"stringValue": user_id}, "typeHint": "UUID"},
                {"name": "name", "value": {"stringValue": event.get("name", "Ada")}},
                {"name": "joined", "value": {"stringValue": joined}, "typeHint": "TIMESTAMP"},
                {"name": "prefs", "value": {"stringValue": '{"theme":"dark"}'}, "typeHint": "JSON"},
            ],
            transaction,
        )
        execute(
            "INSERT INTO holdings (user_id, symbol, quantity, active, bought)"
            " VALUES (:user, :symbol, :quantity, :active, :bought)",
            [
                {"name": "user", "value": {"stringValue": user_id}, "typeHint": "UUID"},
                {"name": "symbol", "value": {"stringValue": "VTI"}},
                {"name": "quantity", "value": {"stringValue": "12.5"}, "typeHint": "DECIMAL"},
                {"name": "active", "value": {"booleanValue": True}},
                {"name": "bought", "value": {"stringValue": "2024-03-01"}, "typeHint": "DATE"},
            ],
            transaction,
        )
        rds_data.commit_transaction(
            resourceArn=CLUSTER_ARN, secretArn=SECRET_ARN, transactionId=transaction
        )
    except Exception:
        rds_data.rollback_transaction(
            resourceArn=CLUSTER_ARN, secretArn=SECRET_ARN, transactionId=transaction
        )
        raise
    rows = execute(
        "SELECT u.name, u.prefs, h.symbol, h.quantity, h.active, h.bought"
        " FROM users u JOIN holdings h ON h.user_id = u.id WHERE u.id = :id",
        [{"name": "id", "value": {"stringValue": user_id}, "typeHint": "UUID"}],
    )
    return {"statusCode": 200, "body": rows["formattedRecords"]}


if __name__ == "__main__":
    print(json.dumps(handler({}, None)))
