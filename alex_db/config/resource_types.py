"""One entry per resource type the program creates: everything the tools know about it (pure).

Each entry holds the placeholder outputs the offline plan's mocks answer
(``tools/plan/runner.py``), the inputs whose change replaces it (``plan --diff``, the final
snapshot's suffix), what ``pulumi destroy`` does to it per profile (``docs/lifecycle.md``), what
``preflight`` does about its name (``tools/preflight/names.py`` and ``clients.py``) and whether
the provider tags it (every component passes the stack's tags to exactly those). Adding a type
is adding its entry here: ``tests/test_resource_types.py``
(``test_every_type_the_program_creates_has_a_complete_entry``) and ``alex-db plan`` name a
type with no entry, or an entry with a fact missing, in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

WHERE = "RESOURCE_TYPES in alex_db/config/resource_types.py"


@dataclass(frozen=True)
class Placeholder:
    """What the offline plan's mocks answer for a created resource: its id and the outputs AWS
    (or the random provider) computes, as ``str.format`` templates. A template may use
    ``{physical}`` (the ``name`` or ``identifier`` the program gave, else the resource's name),
    ``{id}`` (the id below), ``{inputs[<wire name>]}``, ``{partition}``, ``{region}`` (the
    resource's own ``region`` input, else the stack's), ``{account}``, ``{service}`` (the token's
    module), ``{mark}`` (the runner's visible placeholder word), ``{password}`` and
    ``{random_hex}``. Values that are not strings are answered as they are."""

    id: str
    outputs: Mapping[str, Any] = field(default_factory=dict)

    def answer(self, context: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The id and outputs for one resource; KeyError names an input the template needs."""
        resource_id = self.id.format(**context)
        filled = {**context, "id": resource_id}
        return resource_id, {
            key: value.format(**filled) if isinstance(value, str) else value
            for key, value in self.outputs.items()
        }


def _arn(service: str, resource: str, *, regional: bool = True) -> str:
    """An ARN template in the stack's partition and account."""
    region = "{region}" if regional else ""
    return f"arn:{{partition}}:{service}:{region}:{{account}}:{resource}"


# What the runner answers for a type with no entry, so the rest of the run (and every test that
# does not ask about the type) still works while the one test and `plan` name what is missing.
UNLISTED = Placeholder(id="{physical}", outputs={"arn": _arn("{service}", "{mark}/{physical}")})


@dataclass(frozen=True)
class Replacement:
    """Inputs (Pulumi wire names) whose change makes the provider replace the resource
    (ForceNew in the bridged Terraform schema), with the provider source file they were read
    from. Every resource's per-resource ``region`` (pulumi-aws 7) also replaces it when changed
    (the provider's forceNewIfRegionChanges), which the program never changes."""

    inputs: frozenset[str]
    source: str


def _replaced_by(source: str, *inputs: str) -> Replacement:
    return Replacement(frozenset(inputs), source)


@dataclass(frozen=True)
class OnDestroy:
    """One resource type's fate in ``pulumi destroy``: does the delete complete, what outlives
    it, what could block it. Pulumi deletes dependents first (an instance before its cluster, an
    attachment before its role), so ordering is never the blocker; AWS's own refusals are. The
    answers follow ``Profile.keeps_data_on_destroy``: dev removes everything, production keeps
    the final snapshot, the key that encrypts it and the backup vaults."""

    dev: str
    production: str
    """With ``allowDeletion`` (without it the protected resources refuse the whole destroy)."""
    source: str
    """Where the behaviour comes from."""


def _both(answer: str, source: str) -> OnDestroy:
    """A type that fares the same in both profiles."""
    return OnDestroy(dev=answer, production=answer, source=source)


_BEFORE_ITS_PARENT = "Deleted before the resource it belongs to (Pulumi deletes dependents first)."


@dataclass(frozen=True)
class NameCheck:
    """``preflight`` reads the name back and tells free, this stack's own (the owner tag) and
    taken apart (``tools/preflight/names.py``)."""

    service: str
    """The boto3 service preflight reads it with (``clients.SERVICES`` includes it)."""
    label: str
    """What preflight's step calls it (``cluster alex-aurora-cluster: free``)."""
    permission: str
    """The read permissions the step needs, named when AWS refuses them."""
    not_found: frozenset[str] = frozenset()
    """Error codes that mean the name is free (empty: the read answers an empty list)."""


# The name_check of a type AWS identifies by an id it assigns, so there is no name to clash.
UNNAMED = "no name of its own: AWS or the provider assigns its id"


@dataclass(frozen=True)
class ResourceType:
    """Everything the tools know about one type token. None marks a fact not written yet:
    ``missing_facts`` names it, the runner answers ``UNLISTED`` until the placeholder is there."""

    placeholder: Placeholder | None = None
    replacement: Replacement | None = None
    on_destroy: OnDestroy | None = None
    name_check: NameCheck | str | None = None
    """A NameCheck, or why preflight does not check the name (``UNNAMED`` for none)."""
    tagged: bool | None = None
    """Whether the provider's ``Args`` take ``tags``: then the resource carries the stack's tags
    (the project tags and the owner tag preflight reads), otherwise none."""


RESOURCE_TYPES: dict[str, ResourceType] = {
    "aws:rds/cluster:Cluster": ResourceType(
        placeholder=Placeholder(
            id="{inputs[clusterIdentifier]}",
            outputs={
                "arn": _arn("rds", "cluster:{id}"),
                "endpoint": "{id}.cluster-{mark}.{region}.rds.amazonaws.com",
                "readerEndpoint": "{id}.cluster-ro-{mark}.{region}.rds.amazonaws.com",
                "port": 5432,
                "clusterResourceId": "cluster-{mark}",
            },
        ),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/rds/cluster.go (resourceCluster "
            "schema, ForceNew: true)",
            *("availabilityZones", "clusterIdentifier", "clusterIdentifierPrefix"),
            *("clusterScalabilityType", "databaseName", "dbSubnetGroupName", "dbSystemId"),
            *("engine", "engineMode", "kmsKeyId", "masterUsername", "restoreToPointInTime"),
            *("s3Import", "snapshotIdentifier", "sourceRegion", "storageEncrypted"),
        ),
        on_destroy=OnDestroy(
            dev="Deleted, no final snapshot; its automated backups go with it.",
            production="Refused (deletion protection, Pulumi protect) until `allowDeletion`; "
            "then deleted, leaving the final snapshot `<cluster>-final-<8 hex>` (a new name per "
            "cluster, so a later destroy never clashes). Automated backups go with it.",
            source="terraform-provider-aws internal/service/rds/cluster.go "
            "(delete_automated_backups defaults to true; skip_final_snapshot and "
            "final_snapshot_identifier are read at delete)",
        ),
        name_check=NameCheck(
            "rds", "cluster", "rds:DescribeDBClusters", frozenset({"DBClusterNotFoundFault"})
        ),
        tagged=True,
    ),
    "aws:rds/clusterInstance:ClusterInstance": ResourceType(
        placeholder=Placeholder(
            id="{physical}",
            outputs={
                "arn": _arn("rds", "db:{id}"),
                "endpoint": "{id}.{mark}.{region}.rds.amazonaws.com",
            },
        ),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/rds/cluster_instance.go "
            "(resourceClusterInstance schema, ForceNew: true)",
            *("availabilityZone", "clusterIdentifier", "customIamInstanceProfile"),
            *("dbSubnetGroupName", "engine", "identifier", "identifierPrefix"),
        ),
        on_destroy=OnDestroy(
            dev="Deleted before the cluster.",
            production="Refused (Pulumi protect) until `allowDeletion`; then deleted before the "
            "cluster.",
            source="each instance's clusterIdentifier is the cluster's id, so Pulumi deletes it "
            "first",
        ),
        name_check=NameCheck(
            "rds",
            "instance",
            "rds:DescribeDBInstances",
            frozenset({"DBInstanceNotFound", "DBInstanceNotFoundFault"}),
        ),
        tagged=True,
    ),
    "aws:rds/subnetGroup:SubnetGroup": ResourceType(
        placeholder=Placeholder(id="{physical}", outputs={"arn": _arn("rds", "subgrp:{id}")}),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/rds/subnet_group.go (name and "
            "name_prefix ForceNew; description and subnet_ids update in place)",
            *("name", "namePrefix"),
        ),
        on_destroy=_both(
            "Deleted after the cluster.",
            "the cluster's dbSubnetGroupName is the group's output",
        ),
        name_check=NameCheck(
            "rds",
            "DB subnet group",
            "rds:DescribeDBSubnetGroups, rds:ListTagsForResource",
            frozenset({"DBSubnetGroupNotFoundFault"}),
        ),
        tagged=True,
    ),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": ResourceType(
        placeholder=Placeholder(id="{physical}", outputs={"arn": _arn("rds", "cluster-pg:{id}")}),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/rds/cluster_parameter_group.go "
            "(ResourceClusterParameterGroup schema, ForceNew: true)",
            *("description", "family", "name", "namePrefix"),
        ),
        on_destroy=_both(
            "Deleted after the cluster; the provider retries while RDS still holds it "
            "(InvalidDBParameterGroupState, 3 minutes).",
            "terraform-provider-aws internal/service/rds/cluster_parameter_group.go "
            "(resourceClusterParameterGroupDelete)",
        ),
        name_check=NameCheck(
            "rds",
            "parameter group",
            "rds:DescribeDBClusterParameterGroups, rds:ListTagsForResource",
            frozenset({"DBParameterGroupNotFound"}),
        ),
        tagged=True,
    ),
    "aws:ec2/securityGroup:SecurityGroup": ResourceType(
        placeholder=Placeholder(
            id="sg-{mark}", outputs={"arn": _arn("ec2", "security-group/{id}")}
        ),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/ec2/vpc_security_group.go "
            "(resourceSecurityGroup schema, ForceNew: true)",
            *("description", "name", "namePrefix", "vpcId"),
        ),
        on_destroy=_both(
            "Deleted after the cluster. The provider first deletes lingering network interfaces "
            "that use it and retries DependencyViolation for its 15-minute delete timeout. It "
            "cannot clear a rule in another security group that references this one (your "
            "Lambdas' egress to it, say): remove that rule first.",
            "terraform-provider-aws internal/service/ec2/vpc_security_group.go "
            "(resourceSecurityGroupDelete: deleteLingeringENIs, RetryWhenAWSErrCodeEquals)",
        ),
        # A filter by name and VPC answers an empty list for a free name.
        name_check=NameCheck("ec2", "security group", "ec2:DescribeSecurityGroups"),
        tagged=True,
    ),
    "aws:secretsmanager/secret:Secret": ResourceType(
        placeholder=Placeholder(
            id=_arn("secretsmanager", "secret:{physical}-{mark}"), outputs={"arn": "{id}"}
        ),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/secretsmanager/secret.go (name "
            "and name_prefix ForceNew)",
            *("name", "namePrefix"),
        ),
        on_destroy=OnDestroy(
            dev="Deleted at once (recovery window 0).",
            production="Refused (Pulumi protect) until `allowDeletion`; then scheduled for "
            "deletion, restorable for 30 days (`aws secretsmanager restore-secret`). Its name "
            "ends in a random suffix that a re-created stack renews, so the reserved name never "
            "clashes.",
            source="Secrets Manager DeleteSecret (RecoveryWindowInDays; 0 deletes without "
            "recovery)",
        ),
        name_check="cannot clash: the name ends in a random suffix",
        tagged=True,
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": ResourceType(
        placeholder=Placeholder(id="{inputs[secretId]}|{mark}", outputs={"versionId": "{mark}"}),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/secretsmanager/secret_version.go "
            "(resourceSecretVersion schema, ForceNew: true)",
            *("secretBinary", "secretId", "secretString", "secretStringWoVersion"),
        ),
        on_destroy=_both(_BEFORE_ITS_PARENT, "its secretId is the secret's id"),
        name_check=UNNAMED,
        tagged=False,
    ),
    "aws:iam/role:Role": ResourceType(
        placeholder=Placeholder(
            id="{physical}",
            outputs={"arn": _arn("iam", "role/{id}", regional=False), "uniqueId": "{mark}"},
        ),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/iam/role.go (name, name_prefix "
            "and path ForceNew)",
            *("name", "namePrefix", "path"),
        ),
        on_destroy=_both(
            "Deleted after its policies. It also detaches policies attached by hand, which would "
            "otherwise stop the delete (DeleteConflict).",
            "terraform-provider-aws internal/service/iam/role.go (deleteRole with "
            "force_detach_policies, set by alex_db/infra/roles.py)",
        ),
        name_check=NameCheck("iam", "IAM role", "iam:GetRole", frozenset({"NoSuchEntity"})),
        tagged=True,
    ),
    "aws:iam/rolePolicy:RolePolicy": ResourceType(
        placeholder=Placeholder(id="{inputs[role]}:{physical}"),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/iam/role_policy.go "
            "(resourceRolePolicy schema, ForceNew: true)",
            *("name", "namePrefix", "role"),
        ),
        on_destroy=_both(_BEFORE_ITS_PARENT, "its role is the role's id"),
        name_check="cannot clash: an inline policy of the stack's own role",
        tagged=False,
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ResourceType(
        placeholder=Placeholder(id="{inputs[role]}-{mark}"),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/iam/role_policy_attachment.go "
            "(both arguments ForceNew: there is no update)",
            *("policyArn", "role"),
        ),
        on_destroy=_both(_BEFORE_ITS_PARENT, "its role is the role's name"),
        name_check=UNNAMED,
        tagged=False,
    ),
    "aws:cloudwatch/logGroup:LogGroup": ResourceType(
        placeholder=Placeholder(id="{physical}", outputs={"arn": _arn("logs", "log-group:{id}")}),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/logs/group.go (resourceGroup "
            "schema, ForceNew: true)",
            *("logGroupClass", "name", "namePrefix"),
        ),
        on_destroy=OnDestroy(
            dev="Deleted after the cluster, with its logs (kept 7 days anyway).",
            production="Deleted after the cluster, with its logs (kept 30 days anyway): export "
            "what must outlive the stack first. A kept group would make a re-created stack fail "
            "to create it (ResourceAlreadyExistsException).",
            source="the cluster depends on its log groups (alex_db/infra/log_groups.py)",
        ),
        name_check=NameCheck(
            "logs",
            "log group",
            "logs:DescribeLogGroups, logs:ListTagsLogGroup",
            frozenset({"ResourceNotFoundException"}),
        ),
        tagged=True,
    ),
    "random:index/randomPassword:RandomPassword": ResourceType(
        placeholder=Placeholder(id="none", outputs={"result": "{password}"}),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-random internal/provider/resource_password.go (every "
            "argument RequiresReplace)",
            *("keepers", "length", "lower", "minLower", "minNumeric", "minSpecial", "minUpper"),
            *("numeric", "overrideSpecial", "special", "upper"),
        ),
        on_destroy=_both("State only: nothing in AWS.", "terraform-provider-random"),
        name_check=UNNAMED,
        tagged=False,
    ),
    "random:index/randomId:RandomId": ResourceType(
        placeholder=Placeholder(
            id="{mark}",
            outputs={
                "hex": "{random_hex}",
                **dict.fromkeys(("b64Url", "b64Std", "dec"), "{mark}"),
            },
        ),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-random internal/provider/resource_id.go (every "
            "argument RequiresReplace)",
            *("byteLength", "keepers", "prefix"),
        ),
        on_destroy=OnDestroy(
            dev="State only: a re-created stack gets new suffixes.",
            production="State only: a re-created stack gets new suffixes (secret, final "
            "snapshot).",
            source="terraform-provider-random",
        ),
        name_check=UNNAMED,
        tagged=False,
    ),
    "aws:kms/key:Key": ResourceType(
        placeholder=Placeholder(
            id="{mark}-key-id", outputs={"arn": _arn("kms", "key/{id}"), "keyId": "{id}"}
        ),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/kms/key.go (resourceKey schema, "
            "ForceNew: true)",
            *("customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"),
        ),
        on_destroy=OnDestroy(
            dev="Scheduled for deletion: gone after its 30-day waiting period (KMS never deletes "
            "a key at once); the destroy itself completes.",
            production="Kept (Pulumi retain_on_delete): the final snapshot and the backups are "
            "encrypted with it. Schedule its deletion yourself once they are gone.",
            source="AWS KMS ScheduleKeyDeletion (7-30 days; alex_db/infra/encryption.py uses 30)",
        ),
        name_check=UNNAMED,
        tagged=True,
    ),
    "aws:kms/alias:Alias": ResourceType(
        placeholder=Placeholder(id="{physical}", outputs={"arn": _arn("kms", "{id}")}),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/kms/alias.go (ResourceAlias "
            "schema, ForceNew: true)",
            *("name", "namePrefix"),
        ),
        on_destroy=OnDestroy(
            dev="Deleted.",
            production="Deleted; a kept key stays reachable by its ARN, and a re-created stack "
            "takes the alias again.",
            source="kms alias delete",
        ),
        name_check="not checked: preflight reads no KMS aliases",
        tagged=False,
    ),
    "aws:backup/vault:Vault": ResourceType(
        placeholder=Placeholder(
            id="{physical}",
            outputs={"arn": _arn("backup", "backup-vault:{id}"), "recoveryPoints": 0},
        ),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/backup/vault.go (ResourceVault "
            "schema, ForceNew: true)",
            *("kmsKeyArn", "name"),
        ),
        on_destroy=OnDestroy(
            dev="Force-destroyed, the copy vault too: every recovery point is deleted first, "
            "since AWS refuses to delete a vault that holds any.",
            production="Kept with its recovery points, the copy vault too (Pulumi "
            "retain_on_delete). Each recovery point still expires 35 days after it was made; the "
            "vault stays until you delete it. A re-created stack of the same name cannot create "
            "it again until you delete or `pulumi import` it.",
            source="terraform-provider-aws internal/service/backup/vault.go (force_destroy: "
            "resourceVaultDelete deletes the recovery points, then DeleteBackupVault)",
        ),
        name_check="not checked: preflight reads no AWS Backup vaults",
        tagged=True,
    ),
    "aws:backup/plan:Plan": ResourceType(
        placeholder=Placeholder(
            id="{mark}-plan-id",
            outputs={"arn": _arn("backup", "backup-plan:{id}"), "version": "{mark}"},
        ),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/backup/plan.go (resourcePlan "
            "schema, ForceNew: true)",
            "name",
        ),
        on_destroy=OnDestroy(
            dev="Deleted after its selection (AWS deletes a plan only without selections).",
            production="As in dev; recovery points already made stay in the kept vault.",
            source="its selection's planId is the plan's id",
        ),
        name_check="not checked: preflight reads no AWS Backup plans",
        tagged=True,
    ),
    "aws:backup/selection:Selection": ResourceType(
        placeholder=Placeholder(id="{mark}-selection-id"),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/backup/selection.go "
            "(resourceSelection schema, ForceNew: true; no Update function)",
            *("conditions", "iamRoleArn", "name", "notResources", "planId", "resources"),
            "selectionTags",
        ),
        on_destroy=_both(_BEFORE_ITS_PARENT, "its planId is the plan's id"),
        name_check="cannot clash: a selection inside the stack's own plan",
        tagged=False,
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ResourceType(
        placeholder=Placeholder(
            id="{physical}", outputs={"arn": _arn("cloudwatch", "alarm:{id}")}
        ),
        replacement=_replaced_by(
            "hashicorp/terraform-provider-aws internal/service/cloudwatch/metric_alarm.go "
            "(resourceMetricAlarm schema, ForceNew: true on alarm_name, which pulumi-aws calls "
            "name)",
            "name",
        ),
        on_destroy=_both("Deleted.", "nothing depends on an alarm"),
        name_check="not checked: preflight reads no CloudWatch alarms",
        tagged=True,
    ),
}


def missing_facts(type_token: str) -> list[str]:
    """The facts ``type_token``'s entry lacks (every one when it has no entry)."""
    entry = RESOURCE_TYPES.get(type_token, ResourceType())
    return [fact.name for fact in fields(ResourceType) if getattr(entry, fact.name) is None]


def entry_problem(type_token: str) -> str | None:
    """One line saying what to add where for ``type_token``, or None when its entry is whole."""
    missing = missing_facts(type_token)
    if not missing:
        return None
    if type_token not in RESOURCE_TYPES:
        return (
            f"resource type {type_token} has no entry: add ResourceType({', '.join(missing)}) "
            f"for it to {WHERE} (docs/developing.md, Adding a resource type)"
        )
    return (
        f"resource type {type_token} lacks {', '.join(missing)} in its entry in {WHERE} "
        f"(docs/developing.md, Adding a resource type)"
    )


def forces_replacement(type_token: str) -> frozenset[str]:
    """The inputs (wire names) of ``type_token`` whose change replaces the resource; empty for
    a type with no replacement entry (components, for instance)."""
    entry = RESOURCE_TYPES.get(type_token)
    return entry.replacement.inputs if entry and entry.replacement else frozenset()


def name_check_services() -> tuple[str, ...]:
    """The services preflight reads names with, in entry order, each once."""
    checks = [entry.name_check for entry in RESOURCE_TYPES.values()]
    return tuple(dict.fromkeys(c.service for c in checks if isinstance(c, NameCheck)))


def not_found_codes() -> frozenset[str]:
    """Every error code that means a checked name is free."""
    checks = [entry.name_check for entry in RESOURCE_TYPES.values()]
    return frozenset().union(*(c.not_found for c in checks if isinstance(c, NameCheck)))
