"""The password, the secret's name and recovery window, and the RDS-format secret value."""

from __future__ import annotations

import json

from alex_db.tools.plan.runner import run_program
from tests.conftest import (
    CLUSTER,
    PASSWORD,
    PASSWORD_SENTINEL,
    RANDOM_ID,
    SECRET,
    SECRET_VERSION,
    TEST_PLACEHOLDERS,
)

CREDENTIALS_ONLY = """
import pulumi
from alex_db.infra.credentials import Credentials, CredentialsArgs

credentials = Credentials("c", CredentialsArgs(secret_name_prefix="p", recovery_window_in_days=7))
pulumi.export("password", credentials.password)
"""


def test_password_is_32_characters_with_only_specials_rds_accepts(dev):
    password = dev.one(PASSWORD)
    assert password.inputs["length"] == 32
    assert password.inputs["special"] is True
    specials = password.inputs["overrideSpecial"]
    assert specials, "override_special must be set, or the provider's default set includes '@'"
    for forbidden in '/@" ':
        assert forbidden not in specials, f"{password.urn}: RDS rejects {forbidden!r}"


def test_secret_name_is_the_seeds_prefix_plus_the_random_hex(dev):
    assert dev.one(RANDOM_ID).inputs["byteLength"] == 4
    secret = dev.one(SECRET)
    assert secret.inputs["name"] == "alex-aurora-credentials-0a1b2c3d"
    assert secret.inputs["recoveryWindowInDays"] == 0


def test_secret_version_writes_the_rds_format_into_this_secret(dev):
    version = dev.one(SECRET_VERSION)
    assert version.inputs["secretId"] == dev.one(SECRET).outputs["arn"]
    document = json.loads(version.inputs["secretString"])
    cluster = dev.one(CLUSTER)
    assert document == {
        "engine": "postgres",
        "host": cluster.outputs["endpoint"],
        "port": 5432,
        "username": "alexadmin",
        "password": PASSWORD_SENTINEL,
        "dbname": "alex",
        "dbClusterIdentifier": "alex-aurora-cluster",
    }


def test_password_reaches_aws_only_as_a_secret_input(dev):
    assert "secretString" in dev.one(SECRET_VERSION).secret_inputs
    assert "masterPassword" in dev.one(CLUSTER).secret_inputs
    for resource in dev.resources:
        for name, value in resource.inputs.items():
            if PASSWORD_SENTINEL in json.dumps(value, default=str):
                assert name in resource.secret_inputs, f"{resource.urn}.{name} holds the password"


def test_component_marks_the_password_secret_itself(tmp_path):
    """Even where the provider does not mark RandomPassword.result secret (as under mocks)."""
    program = tmp_path / "__main__.py"
    program.write_text(CREDENTIALS_ONLY)
    run = run_program("dev", {"aws:region": "us-east-1"}, TEST_PLACEHOLDERS, program=program)
    assert run.outputs["password"].value == PASSWORD_SENTINEL
    assert run.outputs["password"].secret is True
    assert run.one(SECRET).inputs["recoveryWindowInDays"] == 7
    assert run.one(SECRET).inputs["name"] == "p-0a1b2c3d"
