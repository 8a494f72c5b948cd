"""Pure IAM builders and the instructions text."""

from __future__ import annotations

import json

from alex_db.config import policy_documents
from alex_db.config.instructions import DeployedDatabase, render

CLUSTER_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:c"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf"


def test_data_api_statements_name_only_the_given_arns():
    data_api, secret = policy_documents.data_api_statements(CLUSTER_ARN, SECRET_ARN)
    assert data_api["Resource"] == [CLUSTER_ARN]
    assert len(data_api["Action"]) == 5
    assert all(action.startswith("rds-data:") for action in data_api["Action"])
    assert secret == {
        "Sid": "ReadThisDatabaseSecret",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": [SECRET_ARN],
    }


def test_documents_serialise_stably():
    doc = policy_documents.document(policy_documents.data_api_statements(CLUSTER_ARN, SECRET_ARN))
    assert policy_documents.to_json(doc) == policy_documents.to_json(json.loads(policy_documents.to_json(doc)))
    assert json.loads(policy_documents.to_json(doc))["Version"] == "2012-10-17"


def test_partition_flows_into_every_arn():
    assert policy_documents.basic_execution_policy_arn("aws-cn").startswith("arn:aws-cn:iam::aws:")
    logs = policy_documents.log_write_statement("aws-us-gov", "us-gov-west-1", "123456789012")
    assert logs["Resource"] == ["arn:aws-us-gov:logs:us-gov-west-1:123456789012:*"]


def test_instructions_hold_the_env_lines_and_the_test_command():
    text = render(
        DeployedDatabase(
            cluster_identifier="c",
            cluster_arn=CLUSTER_ARN,
            secret_arn=SECRET_ARN,
            database_name="alex",
            data_api_status="Enabled",
            min_acu=0,
            max_acu=2,
            cost_floor="about $0.00/month",
            stack="prod-eu",
        )
    )
    lines = text.splitlines()
    assert f"AURORA_CLUSTER_ARN={CLUSTER_ARN}" in lines
    assert f"AURORA_SECRET_ARN={SECRET_ARN}" in lines
    assert "AURORA_DATABASE=alex" in lines, "the same three variables `alex-db env` writes"
    assert "  --database alex \\" in lines
    # The commands it offers work as printed: env needs the stack to read the outputs from.
    assert "Add these lines to .env (or run: alex-db env --stack prod-eu):" in lines
    assert "Capacity:  0-2 ACU; about $0.00/month" in lines
