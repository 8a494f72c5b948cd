"""The policy pack, without the CLI but through the engine's own analyzer code path
(tests/policy_engine.py): resource policies see the program's mocked inputs, stack policies its
mocked outputs (secrets decrypted), both as protobuf-marshalled, proxied values. Each bypass an
attacker could try is a row in a table, next to the compliant case it must not refuse."""

from __future__ import annotations

import copy
import ipaddress
import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alex_db.config.network import load_network
from alex_db.config.parameters import FORCE_SSL_DEFAULTS
from alex_db.config.resource_types import forces_replacement
from alex_db.config.values import SettingsError
from alex_db.tools.plan.runner import ProgramRun, run_program
from alex_db.tools.shared.stack_files import load_stack_config
from policy.alex_rules import (
    FORCE_SSL_BY_DEFAULT,
    no_ingress_from_public_addresses,
    password_only_in_secrets_manager,
)
from policy.alex_rules import SECURITY_GROUP as SG_TYPE
from tests.conftest import (
    ATTACHMENT,
    CLUSTER,
    INSTANCE,
    PASSWORD,
    PASSWORD_SENTINEL,
    ROLE,
    ROLE_POLICY,
    SECRET,
    SECRET_VERSION,
    SECURITY_GROUP,
    TEST_PLACEHOLDERS,
    run,
)
from tests.policy_engine import (
    EngineResource,
    Violation,
    analyze,
    analyze_stack,
    inputs_of,
    outputs_of,
    stack_resource,
)

LAMBDA = "aws:lambda/function:Function"


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    return run("prod", production="true", readers="2", customerManagedKey="true")


def resource_violations(program_run: ProgramRun) -> list[Violation]:
    return [v for r in program_run.resources for v in analyze(inputs_of(r))]


def stack_violations(program_run: ProgramRun, stack: str, view=outputs_of, extra=()):
    resources = [stack_resource(program_run, stack), *map(view, program_run.resources), *extra]
    return analyze_stack(resources)


def messages(violations: list[Violation]) -> list[str]:
    return [violation.message for violation in violations]


def engine(type_token: str, name: str, **properties) -> EngineResource:
    return EngineResource(
        type_token, f"urn:pulumi:dev::alex-db::{type_token}::{name}", name, properties
    )


# --- the program itself passes, under both views the engine gives -----------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_program_passes_every_resource_policy(dev, prod, stack):
    assert resource_violations(dev if stack == "dev" else prod) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("view", [outputs_of, inputs_of], ids=["outputs", "inputs"])
def test_the_program_passes_the_stack_policy_on_outputs_and_inputs(dev, prod, stack, view):
    """The engine hands stack policies the outputs: the password's generator (RandomPassword's
    ``result``) holds it there, and that is one of its homes, not a leak."""
    program_run = dev if stack == "dev" else prod
    assert program_run.one(PASSWORD).outputs["result"] == PASSWORD_SENTINEL
    assert stack_violations(program_run, stack, view) == []


# --- item 1: the password rule under the engine's view ---------------------------------------


def test_password_in_a_stack_output_is_refused(dev):
    resources = [stack_resource(dev, "dev", db_password=PASSWORD_SENTINEL)]
    resources += map(outputs_of, dev.resources)
    assert messages(analyze_stack(resources)) == [
        "the master password appears in plaintext in a stack output (db_password); "
        "keep it in Secrets Manager only"
    ]


def test_password_nested_in_another_resources_outputs_is_refused(dev):
    leak = engine(LAMBDA, "api", environment={"variables": {"DB_PASSWORD": PASSWORD_SENTINEL}})
    (found,) = messages(stack_violations(dev, "dev", extra=[leak]))
    assert f"{leak.urn} (environment)" in found


def test_password_as_a_secret_elsewhere_is_still_a_leak(dev):
    """Secrets arrive decrypted: a second home for the password is refused even when secret."""
    leak = EngineResource(
        LAMBDA,
        "urn:pulumi:dev::alex-db::x::api",
        "api",
        {"environment": {"variables": {"P": PASSWORD_SENTINEL}}},
        frozenset({"environment"}),
    )
    assert len(stack_violations(dev, "dev", extra=[leak])) == 1


def test_password_not_stored_in_secrets_manager_is_refused(dev):
    resources = [stack_resource(dev, "dev")]
    resources += [outputs_of(r) for r in dev.resources if r.type != SECRET_VERSION]
    assert messages(analyze_stack(resources)) == [
        "the cluster's master password is not stored in Secrets Manager"
    ]


def test_a_generator_that_is_not_a_random_password_is_no_home(dev):
    resources = [stack_resource(dev, "dev"), *map(outputs_of, dev.resources)]
    impostor = engine("random:index/randomString:RandomString", "x", result=PASSWORD_SENTINEL)
    (found,) = messages(analyze_stack([*resources, impostor]))
    assert impostor.urn in found


def test_values_unknown_during_preview_are_skipped_not_fatal():
    """In a preview the engine sends unknowns as sentinel strings that its proxy refuses to hand
    out; the rule reads around them instead of giving up."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    cluster = unknown_checking_proxy({"masterPassword": "pw-123456789"})
    version = unknown_checking_proxy({"secretString": UNKNOWN_STRING_VALUE})
    other = unknown_checking_proxy({"tags": {"a": UNKNOWN_STRING_VALUE}, "list": ["pw-123456789"]})
    found = password_only_in_secrets_manager(
        [(CLUSTER, "c", cluster), (SECRET_VERSION, "v", version), (LAMBDA, "l", other)]
    )
    assert found == [
        "the master password appears in plaintext in l (list); keep it in Secrets Manager only"
    ]


# --- item 2: public means public address space ------------------------------------------------

PUBLIC_CIDRS = [
    "0.0.0.0/0",
    "::/0",
    "0.0.0.0/1",
    "128.0.0.0/1",
    "0::/0",
    "::0/0",
    "::/1",
    "8000::/1",
    "10.0.0.0/7",
    "172.15.0.0/16",
    "8.8.8.8/32",
    "2001:db8::/32",
    "::ffff:10.0.0.0/104",
    # ipaddress's is_private calls these private (IPv4-mapped, Teredo, link-local, loopback,
    # "this network", benchmarking), yet none lies inside private, shared or unique-local space:
    # ::ffff:0.0.0.0/96 is every IPv4 address. The explicit table, not is_private, decides.
    "::ffff:0.0.0.0/96",
    "2001::/32",
    "fe80::/10",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "0.0.0.0/8",
    "198.18.0.0/15",
    # 6to4 and NAT64 embed public IPv4; multicast is not a source anyone should trust.
    "2002::/16",
    "64:ff9b::/96",
    "224.0.0.0/4",
    "ff00::/8",
]
PRIVATE_CIDRS = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "172.31.0.0/16",
    "192.168.1.0/24",
    "100.64.0.0/10",
    "fd00::/8",
    "fc00::/7",
]


@pytest.mark.parametrize("cidr", PUBLIC_CIDRS)
def test_ingress_reaching_public_space_is_refused_inline_default_and_standalone(dev, cidr):
    field = "ipv6CidrBlocks" if ":" in cidr else "cidrBlocks"
    rule = {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, field: [cidr]}
    expected = [f"ingress on ports 5432-5432 is open to {cidr}, which reaches public address space"]
    group = inputs_of(dev.one(SECURITY_GROUP), ingress=[rule])
    assert messages(analyze(group)) == expected
    default = engine("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d", ingress=[rule])
    assert messages(analyze(default)) == expected
    standalone = engine(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "r",
        fromPort=5432,
        toPort=5432,
        **{"cidrIpv6" if ":" in cidr else "cidrIpv4": cidr},
    )
    assert messages(analyze(standalone)) == expected
    legacy = engine("aws:ec2/securityGroupRule:SecurityGroupRule", "l", type="ingress", **rule)
    assert messages(analyze(legacy)) == expected


@pytest.mark.parametrize("cidr", PRIVATE_CIDRS)
def test_ingress_from_private_space_is_allowed(dev, cidr):
    field = "ipv6CidrBlocks" if ":" in cidr else "cidrBlocks"
    rule = {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, field: [cidr]}
    assert analyze(inputs_of(dev.one(SECURITY_GROUP), ingress=[rule])) == []


@pytest.mark.parametrize("cidr", PUBLIC_CIDRS)
def test_the_program_refuses_the_same_cidrs_without_the_switch(cidr):
    with pytest.raises(SettingsError, match="reaches public address space"):
        load_network({"allowedCidrs": json.dumps([cidr])})


def test_open_egress_is_not_ingress(dev):
    assert dev.one(SECURITY_GROUP).inputs["egress"][0]["cidrBlocks"] == ["0.0.0.0/0"]
    egress = engine(
        "aws:ec2/securityGroupRule:SecurityGroupRule", "e", type="egress", cidrBlocks=["0.0.0.0/0"]
    )
    assert analyze(inputs_of(dev.one(SECURITY_GROUP))) == analyze(egress) == []


networks = st.one_of(
    st.builds(
        lambda a, p: ipaddress.ip_network((a, p), strict=False),
        st.integers(0, 2**32 - 1),
        st.integers(0, 32),
    ),
    st.builds(
        lambda a, p: ipaddress.ip_network((a, p), strict=False),
        st.integers(0, 2**128 - 1),
        st.integers(0, 128),
    ),
    st.sampled_from([ipaddress.ip_network(c) for c in PUBLIC_CIDRS + PRIVATE_CIDRS]),
    # Near the private ranges' edges, where an off-by-one would hide.
    st.builds(
        lambda base, p: ipaddress.ip_network((base, p), strict=False),
        st.sampled_from([0x0A000000, 0xAC100000, 0xC0A80000, 0x64400000]),
        st.integers(6, 32),
    ),
)


@given(cidrs=st.lists(networks.map(str), unique=True, max_size=6))
def test_program_and_pack_agree_on_what_is_public(cidrs):
    try:
        load_network({"allowedCidrs": json.dumps(cidrs)})
        program_allows = True
    except SettingsError as error:
        assert "reaches public address space" in str(error), error
        program_allows = False
    ipv4 = [c for c in cidrs if ":" not in c]
    ipv6 = [c for c in cidrs if ":" in c]
    rule = {"fromPort": 5432, "toPort": 5432, "cidrBlocks": ipv4, "ipv6CidrBlocks": ipv6}
    pack_allows = no_ingress_from_public_addresses(SG_TYPE, {"ingress": [rule]}) == []
    assert program_allows == pack_allows


# --- item 3: the other doors to the data ------------------------------------------------------


def _policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _widen(dev, sid: str, resource):
    document = json.loads(dev.one(ROLE_POLICY).inputs["policy"])
    for statement in document["Statement"]:
        if statement["Sid"] == sid:
            statement["Resource"] = resource
    return inputs_of(dev.one(ROLE_POLICY), policy=json.dumps(document))


@pytest.mark.parametrize(
    ("sid", "resource", "granted"),
    [
        ("DataApiOnThisCluster", "*", "rds-data:ExecuteStatement"),
        ("ReadThisDatabaseSecret", "*", "secretsmanager:GetSecretValue"),
        ("ReadThisDatabaseSecret", ["arn:aws:secretsmanager:*:*:secret:*"], "GetSecretValue"),
        (
            "DataApiOnThisCluster",
            ["arn:aws:rds:us-east-1:123456789012:cluster:alex-aurora-cluste?"],
            "rds-data",
        ),
        (
            "ReadThisDatabaseSecret",
            [
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:alex-aurora-credentials-0a1b2c3?-??????"
            ],
            "GetSecretValue",
        ),
    ],
)
def test_data_api_or_secret_access_on_a_wildcard_is_refused(dev, sid, resource, granted):
    (found,) = messages(analyze(_widen(dev, sid, resource)))
    assert sid in found and granted in found


def test_wildcard_actions_count_as_data_access(dev):
    document = json.loads(dev.one(ROLE_POLICY).inputs["policy"])
    document["Statement"].append(
        {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}
    )
    (found,) = messages(analyze(inputs_of(dev.one(ROLE_POLICY), policy=json.dumps(document))))
    assert found.startswith("statement Everything grants rds-data:ExecuteStatement")


def test_log_writes_on_a_wildcard_are_not_data_access(dev):
    statements = json.loads(dev.one(ROLE_POLICY).inputs["policy"])["Statement"]
    assert any("*" in r for s in statements for r in s["Resource"])  # the logs statement
    assert analyze(inputs_of(dev.one(ROLE_POLICY))) == []


BROAD = [
    "AdministratorAccess",
    "PowerUserAccess",
    "AmazonRDSDataFullAccess",
    "SecretsManagerReadWrite",
    "AmazonRDSFullAccess",
    "AWSLambda_FullAccess",
]


def _managed(name: str) -> str:
    return f"arn:aws:iam::aws:policy/{name}"


@pytest.mark.parametrize("name", BROAD)
def test_broad_managed_policies_are_refused_however_attached(dev, name):
    expected = [
        f"managed policy {_managed(name)} grants the Data API or secrets on every "
        "resource: grant the cluster and secret ARNs in an inline policy instead"
    ]
    attachment = inputs_of(dev.one(ATTACHMENT), policyArn=_managed(name))
    assert messages(analyze(attachment)) == expected
    shared = engine(
        "aws:iam/policyAttachment:PolicyAttachment", "p", policyArn=_managed(name), roles=["r"]
    )
    assert messages(analyze(shared)) == expected
    role = inputs_of(dev.one(ROLE), managedPolicyArns=[_managed(name)])
    assert messages(analyze(role)) == expected
    for holder in ("role", "user", "group"):
        exclusive = engine(
            f"aws:iam/{holder}PolicyAttachmentsExclusive:"
            f"{holder.title()}PolicyAttachmentsExclusive",
            "x",
            **{f"{holder}Name": "r", "policyArns": [_managed(name)]},
        )
        assert messages(analyze(exclusive)) == expected


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws-cn:iam::aws:policy/AdministratorAccess",
        "arn:aws-us-gov:iam::aws:policy/SecretsManagerReadWrite",
        "arn:aws:iam::aws:policy/administratoraccess",
        "arn:aws:iam::aws:policy/AmazonEMRFullAccessPolicy_v2",
        "arn:aws:iam::aws:policy/service-role/AmazonRDSDataFullAccess",
    ],
)
def test_broad_managed_policies_are_refused_in_any_partition_and_spelling(dev, arn):
    """IAM names are unique regardless of case, and AWS names some full-access policies with a
    suffix after ``FullAccess``: neither spelling slips past."""
    attachment = inputs_of(dev.one(ATTACHMENT), policyArn=arn)
    assert messages(analyze(attachment)) == [
        f"managed policy {arn} grants the Data API or secrets on every resource: grant "
        "the cluster and secret ARNs in an inline policy instead"
    ]


def test_narrow_managed_policies_and_own_policies_are_allowed(dev):
    assert analyze(inputs_of(dev.one(ATTACHMENT))) == []  # AWSLambdaBasicExecutionRole
    own = "arn:aws:iam::123456789012:policy/AlexFullAccess"  # a customer policy: its document is checked
    assert analyze(inputs_of(dev.one(ATTACHMENT), policyArn=own)) == []


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": ["arn:aws:iam::123456789012:root", "*"]},
        {"AWS": "arn:aws:iam::*:root"},
    ],
)
def test_secret_policies_and_trust_policies_open_to_anyone_are_refused(dev, principal):
    statement = {
        "Sid": "Open",
        "Effect": "Allow",
        "Principal": principal,
        "Action": "*",
        "Resource": "*",
    }
    secret_policy = engine(
        "aws:secretsmanager/secretPolicy:SecretPolicy",
        "sp",
        secretArn="arn:x",
        policy=_policy(statement),
    )
    assert messages(analyze(secret_policy)) == [
        "policy statement Open allows any principal: name the accounts, roles or services instead"
    ]
    inline = inputs_of(dev.one(SECRET), policy=_policy(statement))
    assert len(analyze(inline)) == 1
    trust = dict(statement, Action="sts:AssumeRole")
    role = inputs_of(dev.one(ROLE), assumeRolePolicy=_policy(trust))
    assert messages(analyze(role)) == [
        "assumeRolePolicy statement Open allows any principal: name the accounts, roles or services instead"
    ]


FEDERATED = [
    "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
    "cognito-identity.amazonaws.com",
    "arn:aws:iam::123456789012:saml-provider/corp",
]


@pytest.mark.parametrize("provider", FEDERATED)
def test_a_federated_trust_without_a_condition_is_refused(dev, provider):
    """With no Condition on the token (its aud or sub), every identity the provider issues, e.g.
    any GitHub repository's workflow, may assume the role and reach the data."""
    trust = {
        "Sid": "Federated",
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": ["sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"],
    }
    role = inputs_of(dev.one(ROLE), assumeRolePolicy=_policy(trust))
    assert messages(analyze(role)) == [
        "assumeRolePolicy statement Federated trusts a federated identity provider with no "
        "Condition: every identity it issues could assume the role; add a Condition on the "
        "token's audience or subject"
    ]
    scoped = dict(trust, Condition={"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:alex/app:ref:refs/heads/main"}})
    assert analyze(inputs_of(dev.one(ROLE), assumeRolePolicy=_policy(scoped))) == []


UNREADABLE_DOCUMENTS = [
    "{not json",
    "\ufeff" + _policy({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}),
    # Python's json keeps the last of a repeated key; nothing says IAM does the same.
    '{"Statement": [{"Effect": "Allow", "Principal": "*", "Principal": {"Service": "x"}, '
    '"Action": "*", "Resource": "*", "Resource": "arn:aws:rds:us-east-1:1:cluster:c"}]}',
]


@pytest.mark.parametrize("document", UNREADABLE_DOCUMENTS, ids=["not-json", "bom", "repeated-key"])
def test_policy_documents_the_pack_cannot_read_unambiguously_are_refused(dev, document):
    """The pack fails closed, as it does for a CIDR it cannot place: a document it cannot parse,
    or one whose repeated key could be read two ways, is refused rather than waved through."""
    identity = inputs_of(dev.one(ROLE_POLICY), policy=document)
    (found,) = messages(analyze(identity))
    assert found.startswith("policy is not one JSON document without repeated keys")
    secret_policy = engine(
        "aws:secretsmanager/secretPolicy:SecretPolicy", "sp", secretArn="arn:x", policy=document
    )
    (found,) = messages(analyze(secret_policy))
    assert found.startswith("policy is not one JSON document without repeated keys")
    trust = inputs_of(dev.one(ROLE), assumeRolePolicy=document)
    (found,) = messages(analyze(trust))
    assert found.startswith("assumeRolePolicy is not one JSON document without repeated keys")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@given(document=st.one_of(st.text(max_size=40), json_values.map(json.dumps), json_values))
def test_any_policy_document_gets_a_verdict_never_a_crash(document):
    for resource in (
        engine("aws:iam/rolePolicy:RolePolicy", "p", policy=document),
        engine("aws:secretsmanager/secretPolicy:SecretPolicy", "sp", policy=document),
        engine("aws:iam/role:Role", "r", assumeRolePolicy=document, managedPolicyArns=document),
    ):
        assert all("\n" not in message for message in messages(analyze(resource)))


def test_named_principals_are_allowed(dev):
    assert analyze(inputs_of(dev.one(ROLE))) == []  # trusts lambda.amazonaws.com
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"},
        "Action": "secretsmanager:GetSecretValue",
        "Resource": "*",
    }
    assert (
        analyze(
            engine("aws:secretsmanager/secretPolicy:SecretPolicy", "sp", policy=_policy(statement))
        )
        == []
    )
    deny = dict(statement, Effect="Deny", Principal="*")
    assert (
        analyze(engine("aws:secretsmanager/secretPolicy:SecretPolicy", "sp", policy=_policy(deny)))
        == []
    )


@pytest.mark.parametrize(
    "type_token",
    ["aws:rds/cluster:Cluster", "aws:rds/instance:Instance", "aws:rds/globalCluster:GlobalCluster"],
)
@pytest.mark.parametrize("setting", [{"storageEncrypted": False}, {}])
def test_unencrypted_rds_storage_is_refused(type_token, setting):
    assert messages(analyze(engine(type_token, "db", engine="aurora-postgresql", **setting))) == [
        "storageEncrypted must be true: the data would be stored unencrypted"
    ]
    assert analyze(engine(type_token, "db", storageEncrypted=True)) == []


def test_public_instance_is_refused(dev):
    assert messages(analyze(inputs_of(dev.one(INSTANCE), publiclyAccessible=True))) == [
        "publiclyAccessible must not be true: the database would get a public address"
    ]


SNAPSHOT_TYPES = [
    "aws:rds/clusterSnapshot:ClusterSnapshot",
    "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy",
    "aws:rds/snapshot:Snapshot",
    "aws:rds/snapshotCopy:SnapshotCopy",
]


@pytest.mark.parametrize("type_token", SNAPSHOT_TYPES)
@pytest.mark.parametrize("shared", [["all"], ["123456789012", "ALL"]])
def test_a_snapshot_shared_with_everyone_is_refused(type_token, shared):
    """``sharedAccounts: ["all"]`` makes a snapshot public: anyone can restore the data."""
    snapshot = engine(type_token, "s", dbClusterIdentifier="c", sharedAccounts=shared)
    assert messages(analyze(snapshot)) == [
        "sharedAccounts must not contain all: anyone could restore the snapshot and read the data"
    ]


@pytest.mark.parametrize("type_token", SNAPSHOT_TYPES)
def test_a_snapshot_shared_with_named_accounts_is_allowed(type_token):
    assert analyze(engine(type_token, "s", sharedAccounts=["123456789012"])) == []


def test_prod_cluster_without_protection_is_refused(prod):
    cluster = inputs_of(prod.one(CLUSTER), deletionProtection=False, skipFinalSnapshot=True)
    assert messages(analyze(cluster)) == [
        "deletionProtection must be true in a production stack",
        "skipFinalSnapshot must be false with a finalSnapshotIdentifier in a production stack",
    ]


def test_dev_cluster_may_skip_protection(dev):
    assert dev.one(CLUSTER).inputs["deletionProtection"] is False
    assert analyze(inputs_of(dev.one(CLUSTER))) == []


# --- issue 12: what production now guarantees -------------------------------------------------

KEY_AND_IAM_AUTH = "production-cluster-cmk-and-iam-auth"
FORCE_SSL = "production-cluster-forces-ssl"
PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
NO_CUSTOMER_KEY = (
    "kmsKeyId must name a customer-managed KMS key in a production stack "
    "(alex-db:customerManagedKey or alex-db:kmsKeyArn)"
)


def of_policy(violations: list[Violation], policy: str) -> list[str]:
    return [violation.message for violation in violations if violation.policy == policy]


def outputs_changed(program_run: ProgramRun, stack: str, type_token: str, change):
    """The stack as the engine sends it to stack policies, with ``change`` applied to the
    outputs of every resource of ``type_token``."""
    resources = [stack_resource(program_run, stack)]
    for resource in program_run.resources:
        view = outputs_of(resource)
        if resource.type == type_token:
            properties = copy.deepcopy(dict(view.properties))
            change(properties)
            view = replace(view, properties=properties)
        resources.append(view)
    return resources


def test_prod_cluster_without_customer_key_or_iam_auth_is_refused(prod):
    cluster = inputs_of(prod.one(CLUSTER), iamDatabaseAuthenticationEnabled=False)
    weakened = replace(
        cluster, properties={k: v for k, v in cluster.properties.items() if k != "kmsKeyId"}
    )
    assert of_policy(analyze(weakened), KEY_AND_IAM_AUTH) == [
        "iamDatabaseAuthenticationEnabled must be true in a production stack",
        NO_CUSTOMER_KEY,
    ]


AWS_MANAGED = "kmsKeyId names an AWS managed key (alias/aws/...), not a customer-managed one"


@pytest.mark.parametrize(
    "key_id",
    [
        "arn:aws:kms:us-east-1:123456789012:alias/aws/rds",
        "alias/aws/rds",
        "arn:aws-cn:kms:cn-north-1:123456789012:alias/aws/secretsmanager",
    ],
)
def test_prod_cluster_on_an_aws_managed_key_by_alias_is_refused(prod, key_id):
    """AWS reserves the alias/aws/ prefix for its managed keys: naming one is not a CMK."""
    cluster = inputs_of(prod.one(CLUSTER), kmsKeyId=key_id)
    assert of_policy(analyze(cluster), KEY_AND_IAM_AUTH) == [AWS_MANAGED]


def test_prod_cluster_on_an_alias_of_your_own_key_passes(prod):
    cluster = inputs_of(
        prod.one(CLUSTER), kmsKeyId="arn:aws:kms:us-east-1:123456789012:alias/alex-aurora-prod"
    )
    assert of_policy(analyze(cluster), KEY_AND_IAM_AUTH) == []


def test_a_key_unknown_in_preview_does_not_hide_missing_iam_auth(prod):
    """A new prod stack's key is created in the same update, so its ARN is unknown in preview:
    the engine then reports the policy as not runnable (advisory), and a check placed after the
    unknown read would be lost with it. IAM authentication is known, so it is still refused."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    cluster = inputs_of(
        prod.one(CLUSTER), kmsKeyId=UNKNOWN_STRING_VALUE, iamDatabaseAuthenticationEnabled=False
    )
    found = of_policy(analyze(cluster), KEY_AND_IAM_AUTH)
    assert found[0] == "iamDatabaseAuthenticationEnabled must be true in a production stack"
    assert "during preview" in found[1] and len(found) == 2


def test_existing_prod_stack_without_the_key_is_refused_until_it_migrates():
    existing = run("prod", production="true")
    assert of_policy(analyze(inputs_of(existing.one(CLUSTER))), KEY_AND_IAM_AUTH) == [
        NO_CUSTOMER_KEY
    ]


def test_dev_cluster_needs_neither_key_nor_iam_auth(dev):
    assert analyze(inputs_of(dev.one(CLUSTER))) == []


def test_prod_parameter_group_without_force_ssl_is_refused(prod):
    def allow_plaintext(props):
        for parameter in props["parameters"]:
            if parameter["name"] == "rds.force_ssl":
                parameter["value"] = "0"

    found = analyze_stack(outputs_changed(prod, "prod", PARAMETER_GROUP, allow_plaintext))
    assert of_policy(found, FORCE_SSL) == [
        f"parameter group '{prod.one(PARAMETER_GROUP).inputs['name']}' of {prod.one(CLUSTER).urn} must set "
        "rds.force_ssl to 1"
    ]


@pytest.mark.parametrize("value", ["1 ", "true", "on", "0", ""])
def test_prod_force_ssl_is_exactly_1(prod, value):
    """RDS takes rds.force_ssl as 0 or 1; anything else is not the guarantee."""

    def other_value(props):
        for parameter in props["parameters"]:
            if parameter["name"] == "rds.force_ssl":
                parameter["value"] = value

    found = analyze_stack(outputs_changed(prod, "prod", PARAMETER_GROUP, other_value))
    assert len(of_policy(found, FORCE_SSL)) == 1


def test_prod_group_cannot_be_vouched_for_by_a_namesake_in_another_region(prod):
    """Group names are unique per region only, and pulumi-aws 7 places a resource in any region
    (``region``): a forcing group of the same name elsewhere must not cover for the cluster's."""

    def allow_plaintext(props):
        for parameter in props["parameters"]:
            if parameter["name"] == "rds.force_ssl":
                parameter["value"] = "0"

    resources = outputs_changed(prod, "prod", PARAMETER_GROUP, allow_plaintext)
    own = outputs_of(prod.one(PARAMETER_GROUP))
    namesake = EngineResource(
        own.type,
        own.urn.replace("alex-aurora-parameters", "decoy"),
        "decoy",
        {**own.properties, "region": "eu-west-1"},
    )
    found = analyze_stack([*resources, namesake])
    assert of_policy(found, FORCE_SSL) == [
        f"parameter group '{prod.one(PARAMETER_GROUP).inputs['name']}' of {prod.one(CLUSTER).urn} must set "
        "rds.force_ssl to 1"
    ]


@pytest.fixture(scope="module")
def prod_17() -> ProgramRun:
    """Production on Aurora PostgreSQL 17, whose family ships rds.force_ssl = 1."""
    return run("prod", production="true", customerManagedKey="true", engineVersion="17.4")


def test_prod_on_a_family_that_ships_tls_forced_passes_without_sending_it(prod_17):
    """Issue 18 C3: sending a family's default back is a diff on every run (the provider never
    reads it back, terraform-provider-aws#23335), so 17's group leaves it out and still passes."""
    group = prod_17.one(PARAMETER_GROUP)
    assert group.inputs["family"] == "aurora-postgresql17"
    assert "rds.force_ssl" not in {p["name"] for p in group.inputs["parameters"]}
    assert of_policy(stack_violations(prod_17, "prod"), FORCE_SSL) == []
    # Dropping it from a running 17 group changes the group in place (parameters: not ForceNew).
    assert "parameters" not in forces_replacement(PARAMETER_GROUP)


def test_prod_17_group_that_turns_tls_off_is_refused(prod_17):
    def allow_plaintext(props):
        props["parameters"] = [
            *props["parameters"],
            {"name": "rds.force_ssl", "value": "0", "applyMethod": "pending-reboot"},
        ]

    found = analyze_stack(outputs_changed(prod_17, "prod", PARAMETER_GROUP, allow_plaintext))
    assert of_policy(found, FORCE_SSL) == [
        f"parameter group 'alex-aurora-postgresql17-prod' of {prod_17.one(CLUSTER).urn} must set "
        "rds.force_ssl to 1"
    ]


def test_prod_group_of_a_family_shipping_tls_off_must_send_it(prod):
    def dropped(props):
        props["parameters"] = [p for p in props["parameters"] if p["name"] != "rds.force_ssl"]

    found = analyze_stack(outputs_changed(prod, "prod", PARAMETER_GROUP, dropped))
    assert of_policy(found, FORCE_SSL) == [
        f"parameter group '{prod.one(PARAMETER_GROUP).inputs['name']}' of {prod.one(CLUSTER).urn} must set "
        "rds.force_ssl to 1"
    ]


def test_program_and_pack_agree_on_which_families_ship_tls_forced():
    assert {f for f, value in FORCE_SSL_DEFAULTS.items() if value == "1"} == FORCE_SSL_BY_DEFAULT


def test_prod_cluster_on_a_group_outside_the_stack_is_refused(prod):
    def default_group(props):
        props["dbClusterParameterGroupName"] = "default.aurora-postgresql15"

    (found,) = of_policy(
        analyze_stack(outputs_changed(prod, "prod", CLUSTER, default_group)), FORCE_SSL
    )
    assert "uses parameter group 'default.aurora-postgresql15', which this stack does not" in found


def test_dev_cluster_on_the_default_group_is_not_refused(dev):
    def default_group(props):
        props["dbClusterParameterGroupName"] = "default.aurora-postgresql15"

    assert analyze_stack(outputs_changed(dev, "dev", CLUSTER, default_group)) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_repositorys_own_stack_files_pass_every_policy(stack):
    program_run = run_program(stack, load_stack_config(stack).values, TEST_PLACEHOLDERS)
    assert resource_violations(program_run) == []
    assert stack_violations(program_run, stack) == []
