"""The Lambda role: who may assume it and exactly what it may do."""

from __future__ import annotations

import json

from tests.conftest import ATTACHMENT, ROLE, ROLE_POLICY, TEST_PLACEHOLDERS


def test_only_lambda_may_assume_the_role(dev):
    role = dev.one(ROLE)
    assert role.inputs["name"] == "alex-lambda-aurora-role"
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Effect"] == "Allow"


def test_inline_policy_is_on_this_role_and_holds_exactly_three_statements(dev):
    policy = dev.one(ROLE_POLICY)
    assert policy.inputs["name"] == "alex-lambda-aurora-policy"
    assert policy.inputs["role"] == dev.one(ROLE).resource_id
    sids = [s["Sid"] for s in json.loads(policy.inputs["policy"])["Statement"]]
    assert sids == ["DataApiOnThisCluster", "ReadThisDatabaseSecret", "WriteLogsInThisRegion"]


def test_logs_are_writable_in_this_region_and_account_only(dev):
    statements = json.loads(dev.one(ROLE_POLICY).inputs["policy"])["Statement"]
    logs = next(s for s in statements if s["Sid"] == "WriteLogsInThisRegion")
    assert logs["Action"] == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == [f"arn:aws:logs:us-east-1:{TEST_PLACEHOLDERS.account_id}:*"]


def test_no_statement_allows_everything(dev):
    for statement in json.loads(dev.one(ROLE_POLICY).inputs["policy"])["Statement"]:
        assert "*" not in statement["Resource"], statement
        assert not any(action.endswith(":*") for action in statement["Action"]), statement


def test_basic_execution_policy_is_attached_to_this_role(dev):
    attachment = dev.one(ATTACHMENT)
    assert attachment.inputs["role"] == dev.one(ROLE).outputs["name"]
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )
