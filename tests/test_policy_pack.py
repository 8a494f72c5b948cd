"""The policy pack, without the CLI: each policy's validate function is called with the inputs
the mocked program produces (compliant), and with those inputs deliberately broken."""

from __future__ import annotations

import copy
import json

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from alex_db.tools.offline import ProgramRun, RecordedResource, run_program
from alex_db.tools.stack_files import load_stack_config
from policy.alex_rules import (
    DATA_ACCESS_SCOPED,
    NO_INGRESS_FROM_ANYWHERE,
    NO_PUBLIC_INSTANCE,
    POLICIES,
    PRODUCTION_FORCE_SSL,
    PRODUCTION_KEY_AND_IAM_AUTH,
    PRODUCTION_PROTECTED,
    SECRETS_IN_SECRETS_MANAGER,
    STORAGE_ENCRYPTED,
)
from tests.conftest import (
    CLUSTER,
    INSTANCE,
    PASSWORD_SENTINEL,
    ROLE_POLICY,
    SECRET_VERSION,
    SECURITY_GROUP,
    TEST_PLACEHOLDERS,
    run,
)

PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
OPTIONS = PolicyResourceOptions(
    protect=False,
    ignore_changes=[],
    delete_before_replace=None,
    aliases=[],
    custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
    additional_secret_outputs=[],
)


def resource_args(resource: RecordedResource, props: dict | None = None) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource_type=resource.type,
        props=resource.inputs if props is None else props,
        urn=resource.urn,
        name=resource.name,
        opts=OPTIONS,
        provider=None,
    )


def policy_resource(type_token: str, urn: str, name: str, props: dict) -> PolicyResource:
    return PolicyResource(type_token, props, urn, name, OPTIONS, None, None, [], {})


def stack_args(
    program_run: ProgramRun, outputs: dict | None = None, extra=()
) -> StackValidationArgs:
    """Every resource of the run plus the stack itself, whose properties are its outputs."""
    stack = policy_resource(
        "pulumi:pulumi:Stack",
        "urn:pulumi:dev::alex-db::pulumi:pulumi:Stack::alex-db-dev",
        "alex-db-dev",
        outputs if outputs is not None else {k: o.value for k, o in program_run.outputs.items()},
    )
    resources = [policy_resource(r.type, r.urn, r.name, r.inputs) for r in program_run.resources]
    return StackValidationArgs(resources=[stack, *resources, *extra])


def violations(policy, args) -> list[str]:
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def all_violations(program_run: ProgramRun) -> dict[str, list[str]]:
    result = {}
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            found = [m for r in program_run.resources for m in violations(policy, resource_args(r))]
        else:
            found = violations(policy, stack_args(program_run))
        result[policy.name] = found
    return result


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    return run("prod", production="true", readers="2", customerManagedKey="true")


def test_the_program_passes_every_policy_in_dev(dev):
    assert all_violations(dev) == {policy.name: [] for policy in POLICIES}


def test_the_program_passes_every_policy_in_prod(prod):
    assert all_violations(prod) == {policy.name: [] for policy in POLICIES}


def broken(program_run: ProgramRun, type_token: str, change) -> ResourceValidationArgs:
    resource = program_run.of_type(type_token)[0]
    props = copy.deepcopy(resource.inputs)
    change(props)
    return resource_args(resource, props)


def test_unencrypted_cluster_is_refused(dev):
    args = broken(dev, CLUSTER, lambda p: p.update(storageEncrypted=False))
    assert violations(STORAGE_ENCRYPTED, args) == [
        "storageEncrypted must be true: the cluster's data would be stored unencrypted"
    ]
    args = broken(dev, CLUSTER, lambda p: p.pop("storageEncrypted"))
    assert violations(STORAGE_ENCRYPTED, args)


def test_public_instance_is_refused(dev):
    args = broken(dev, INSTANCE, lambda p: p.update(publiclyAccessible=True))
    assert violations(NO_PUBLIC_INSTANCE, args) == [
        "publiclyAccessible must not be true: the database would get a public address"
    ]


def test_ingress_from_anywhere_is_refused_for_ipv4_and_ipv6(dev):
    def open_up(props):
        props["ingress"][0]["cidrBlocks"] = ["0.0.0.0/0"]
        props["ingress"][0]["ipv6CidrBlocks"] = ["::/0"]

    assert violations(NO_INGRESS_FROM_ANYWHERE, broken(dev, SECURITY_GROUP, open_up)) == [
        "ingress on ports 5432-5432 is open to 0.0.0.0/0",
        "ingress on ports 5432-5432 is open to ::/0",
    ]


def test_open_egress_is_not_ingress(dev):
    assert dev.one(SECURITY_GROUP).inputs["egress"][0]["cidrBlocks"] == ["0.0.0.0/0"]
    assert violations(NO_INGRESS_FROM_ANYWHERE, resource_args(dev.one(SECURITY_GROUP))) == []


def test_standalone_ingress_rule_from_anywhere_is_refused(dev):
    rule = RecordedResource(
        urn="urn:pulumi:dev::alex-db::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::r",
        type="aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        name="r",
        parent_urn="",
        custom=True,
        protect=False,
        retain_on_delete=False,
        resource_id="r",
        inputs={"cidrIpv4": "0.0.0.0/0", "fromPort": 5432, "toPort": 5432},
        secret_inputs=frozenset(),
    )
    assert violations(NO_INGRESS_FROM_ANYWHERE, resource_args(rule))


def _widen(sid: str, resource="*"):
    def change(props):
        document = json.loads(props["policy"])
        for statement in document["Statement"]:
            if statement["Sid"] == sid:
                statement["Resource"] = resource
        props["policy"] = json.dumps(document)

    return change


@pytest.mark.parametrize(
    ("sid", "resource", "granted"),
    [
        ("DataApiOnThisCluster", "*", "rds-data:ExecuteStatement"),
        ("ReadThisDatabaseSecret", "*", "secretsmanager:GetSecretValue"),
        ("ReadThisDatabaseSecret", ["arn:aws:secretsmanager:*:*:secret:*"], "GetSecretValue"),
    ],
)
def test_data_api_or_secret_access_on_a_wildcard_is_refused(dev, sid, resource, granted):
    found = violations(DATA_ACCESS_SCOPED, broken(dev, ROLE_POLICY, _widen(sid, resource)))
    assert len(found) == 1 and sid in found[0] and granted in found[0]


def test_wildcard_actions_count_as_data_access(dev):
    def star_actions(props):
        document = json.loads(props["policy"])
        document["Statement"].append(
            {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}
        )
        props["policy"] = json.dumps(document)

    (found,) = violations(DATA_ACCESS_SCOPED, broken(dev, ROLE_POLICY, star_actions))
    assert found.startswith("statement Everything grants rds-data:ExecuteStatement")


def test_log_writes_on_a_wildcard_are_not_data_access(dev):
    statements = json.loads(dev.one(ROLE_POLICY).inputs["policy"])["Statement"]
    assert any("*" in r for s in statements for r in s["Resource"])  # the logs statement
    assert violations(DATA_ACCESS_SCOPED, resource_args(dev.one(ROLE_POLICY))) == []


def test_prod_cluster_without_protection_is_refused(prod):
    def unprotect(props):
        props["deletionProtection"] = False
        props["skipFinalSnapshot"] = True

    assert violations(PRODUCTION_PROTECTED, broken(prod, CLUSTER, unprotect)) == [
        "deletionProtection must be true in a production stack",
        "skipFinalSnapshot must be false with a finalSnapshotIdentifier in a production stack",
    ]


def test_dev_cluster_may_skip_protection(dev):
    assert dev.one(CLUSTER).inputs["deletionProtection"] is False
    assert violations(PRODUCTION_PROTECTED, resource_args(dev.one(CLUSTER))) == []


def test_password_in_a_stack_output_is_refused(dev):
    outputs = {k: o.value for k, o in dev.outputs.items()} | {"db_password": PASSWORD_SENTINEL}
    (found,) = violations(SECRETS_IN_SECRETS_MANAGER, stack_args(dev, outputs))
    assert found == (
        "the master password appears in plaintext in a stack output (db_password); "
        "keep it in Secrets Manager only"
    )


def test_password_in_another_resource_is_refused(dev):
    leak = policy_resource(
        "aws:lambda/function:Function",
        "urn:pulumi:dev::alex-db::aws:lambda/function:Function::api",
        "api",
        {"environment": {"variables": {"DB_PASSWORD": PASSWORD_SENTINEL}}},
    )
    (found,) = violations(SECRETS_IN_SECRETS_MANAGER, stack_args(dev, extra=[leak]))
    assert "urn:pulumi:dev::alex-db::aws:lambda/function:Function::api (environment)" in found


def test_password_not_stored_in_secrets_manager_is_refused(dev):
    args = stack_args(dev)
    args.resources[:] = [r for r in args.resources if r.resource_type != SECRET_VERSION]
    assert violations(SECRETS_IN_SECRETS_MANAGER, args) == [
        "the cluster's master password is not stored in Secrets Manager"
    ]


# --- issue 12: what production now guarantees -------------------------------------------------


def outputs_stack_args(program_run: ProgramRun) -> StackValidationArgs:
    """Stack policies see outputs: every resource with its (mocked) outputs."""
    return StackValidationArgs(
        resources=[
            policy_resource(r.type, r.urn, r.name, r.outputs) for r in program_run.resources
        ]
    )


def test_prod_cluster_without_customer_key_or_iam_auth_is_refused(prod):
    def weaken(props):
        props.pop("kmsKeyId")
        props["iamDatabaseAuthenticationEnabled"] = False

    assert violations(PRODUCTION_KEY_AND_IAM_AUTH, broken(prod, CLUSTER, weaken)) == [
        "kmsKeyId must name a customer-managed KMS key in a production stack "
        "(alex-db:customerManagedKey or alex-db:kmsKeyArn)",
        "iamDatabaseAuthenticationEnabled must be true in a production stack",
    ]


def test_existing_prod_stack_without_the_key_is_refused_until_it_migrates():
    existing = run("prod", production="true")
    assert violations(PRODUCTION_KEY_AND_IAM_AUTH, resource_args(existing.one(CLUSTER))) == [
        "kmsKeyId must name a customer-managed KMS key in a production stack "
        "(alex-db:customerManagedKey or alex-db:kmsKeyArn)"
    ]


def test_dev_cluster_needs_neither_key_nor_iam_auth(dev):
    assert violations(PRODUCTION_KEY_AND_IAM_AUTH, resource_args(dev.one(CLUSTER))) == []


def test_force_ssl_holds_on_inputs_and_on_outputs(prod):
    assert violations(PRODUCTION_FORCE_SSL, stack_args(prod)) == []
    assert violations(PRODUCTION_FORCE_SSL, outputs_stack_args(prod)) == []


def _with(program_run: ProgramRun, type_token: str, change) -> StackValidationArgs:
    args = outputs_stack_args(program_run)
    for resource in args.resources:
        if resource.resource_type == type_token:
            change(resource.props)
    return args


def test_prod_parameter_group_without_force_ssl_is_refused(prod):
    def allow_plaintext(props):
        for parameter in props["parameters"]:
            if parameter["name"] == "rds.force_ssl":
                parameter["value"] = "0"

    cluster = prod.one(CLUSTER)
    assert violations(PRODUCTION_FORCE_SSL, _with(prod, PARAMETER_GROUP, allow_plaintext)) == [
        f"parameter group 'alex-aurora-postgresql15-prod' of {cluster.urn} must set "
        "rds.force_ssl to 1"
    ]


def test_prod_cluster_on_a_group_outside_the_stack_is_refused(prod):
    def default_group(props):
        props["dbClusterParameterGroupName"] = "default.aurora-postgresql15"

    (found,) = violations(PRODUCTION_FORCE_SSL, _with(prod, CLUSTER, default_group))
    assert "uses parameter group 'default.aurora-postgresql15', which this stack does not" in found


def test_dev_cluster_on_the_default_group_is_not_refused(dev):
    def default_group(props):
        props["dbClusterParameterGroupName"] = "default.aurora-postgresql15"

    assert violations(PRODUCTION_FORCE_SSL, _with(dev, CLUSTER, default_group)) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_repositorys_own_stack_files_pass_every_policy(stack):
    config = load_stack_config(stack)
    program_run = run_program(stack, config.values, TEST_PLACEHOLDERS)
    assert all_violations(program_run) == {policy.name: [] for policy in POLICIES}
