"""alex-db: Aurora Serverless v2 PostgreSQL with the Data API for Alex's Lambdas.

The composition root: read and validate the stack configuration, build the components, export
the outputs. Every rule and resource lives in the ``alex_db`` package.
"""

import json

import pulumi

from alex_db import pulumi_internals
from alex_db.config import cost
from alex_db.config.instructions import DeployedDatabase, render
from alex_db.config.keys import REGION_KEY, check_namespaces, not_a_secret
from alex_db.config.kms_key import CUSTOMER_MANAGED, cluster_key_change, given_key_problem
from alex_db.config.lifecycle import (
    EngineDecision,
    decide_engine_version,
    engine_lifecycle_support,
    release_of,
)
from alex_db.config.naming import PhysicalNames
from alex_db.config.parameters import cluster_parameters, parameter_family
from alex_db.config.provider_keys import check_aws_keys
from alex_db.config.settings import CONFIG_KEYS, Settings, load_settings
from alex_db.config.values import NAMESPACE, SettingsError, reject, short_names
from alex_db.infra.alarms import DatabaseAlarms, DatabaseAlarmsArgs
from alex_db.infra.backup import BackupPlan, BackupPlanArgs
from alex_db.infra.credentials import Credentials, CredentialsArgs
from alex_db.infra.database import AuroraDatabase, DatabaseArgs
from alex_db.infra.encryption import EncryptionKey, EncryptionKeyArgs
from alex_db.infra.kms_lookup import describe_key
from alex_db.infra.lambda_access import LambdaAccess, LambdaAccessArgs
from alex_db.infra.monitoring import MonitoringRole, MonitoringRoleArgs
from alex_db.infra.network import Network, NetworkArgs
from alex_db.infra.parameter_group import ParameterGroupArgs
from alex_db.infra.running_cluster import running_engine_version, running_kms_key_id


def configured_keys() -> tuple[dict[str, str], frozenset[str]]:
    """Every ``alex-db:*`` key the stack sets (short name -> value), and which full keys are
    secret (``alex-db:*`` and ``aws:region`` alike).

    The full list comes from Pulumi internals (``alex_db.pulumi_internals``); a key in a
    namespace spelt like ours is refused here, since nothing would ever read it. Values are what
    ``pulumi.Config.get`` answers, so a ``PULUMI_CONFIG_<KEY>`` variable still sets a key the
    stack leaves unset. Should a Pulumi release remove those internals, the program warns that
    unknown keys and secret values go unchecked and reads the keys it knows: a deploy never
    fails on them.
    """
    try:
        everything, secret_full_keys = pulumi_internals.full_configuration()
    except pulumi_internals.ConfigInternalsError as missing:
        pulumi.log.warn(
            f"unknown-key checking is off: this Pulumi SDK does not expose the whole stack "
            f"configuration ({missing}), so a misspelt alex-db:* key or a secure: value of a "
            f"plain key goes unnoticed; the keys alex-db knows are read as usual"
        )
        everything, secret_full_keys = {}, frozenset()
    check_namespaces(everything, CONFIG_KEYS)
    check_aws_keys(everything)
    names = short_names(everything)
    ours = pulumi.Config(NAMESPACE)
    answers = {name: ours.get(name) for name in {*names, *CONFIG_KEYS}}
    values = {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in answers.items()
        if value is not None
    }
    return values, secret_full_keys


def read_settings() -> Settings:
    """The stack's settings; an unknown key or a bad value ends the run with its one-line message,
    no traceback, before any resource is registered."""
    try:
        values, secret_full_keys = configured_keys()
        if REGION_KEY in secret_full_keys:
            raise not_a_secret(
                REGION_KEY,
                "the region is part of every ARN and endpoint the stack stores and exports in "
                "plaintext",
            )
        return load_settings(
            values,
            stack=pulumi.get_stack(),
            region=pulumi.Config("aws").get("region"),
            secret_keys=short_names(secret_full_keys),
        )
    except SettingsError as error:
        raise pulumi.RunError(str(error)) from None


def check_given_key(settings: Settings) -> None:
    """A ``kmsKeyArn`` must be a key KMS reports as customer-managed, enabled and symmetric; any
    other ends the run with one line, before any resource is registered."""
    if settings.kms_key_arn is None:
        return
    facts = describe_key(settings.kms_key_arn)
    problem = (
        "KMS could not describe it: the key must exist in the stack's region and its key policy "
        "must let this account call kms:DescribeKey"
        if facts is None
        else given_key_problem(facts)
    )
    if problem is not None:
        raise pulumi.RunError(str(reject("kmsKeyArn", settings.kms_key_arn, problem)))


def check_cluster_key(settings: Settings, cluster_identifier: str) -> None:
    """A running cluster keeps the key it was created with: a setting that would change it ends
    the run with one line, before any resource is registered, instead of a replacement."""
    running_key = running_kms_key_id(cluster_identifier)
    if running_key is None or running_key == settings.kms_key_arn:
        return
    facts = describe_key(running_key)
    if facts is None:
        pulumi.log.warn(
            f"KMS could not describe {running_key}, the key of the running cluster "
            f"{cluster_identifier} (no kms:DescribeKey?), so the program cannot check that these "
            f"settings keep it; a change of key replaces the cluster"
        )
        return
    change = cluster_key_change(
        cluster_identifier,
        running_key,
        facts.manager == CUSTOMER_MANAGED,
        settings.kms_key_arn,
        settings.customer_managed_key,
    )
    if change is not None:
        raise pulumi.RunError(str(change))


def engine_decision(settings: Settings, cluster_identifier: str) -> EngineDecision:
    """The engine version to send, given what AWS runs now; a major upgrade that was not
    allowed ends the run with one line, before any resource is registered."""
    try:
        return decide_engine_version(
            settings.engine_version,
            running_engine_version(cluster_identifier),
            settings.allow_major_version_upgrade,
        )
    except SettingsError as error:
        raise pulumi.RunError(str(error)) from None


settings = read_settings()
check_given_key(settings)
names = PhysicalNames.for_stack(settings.stack)
check_cluster_key(settings, names.cluster)
engine = engine_decision(settings, names.cluster)
for warning in (*settings.warnings, *filter(None, [engine.note])):
    pulumi.log.warn(warning)
profile = settings.profile

kms_key_arn = settings.kms_key_arn
if settings.creates_kms_key:
    kms_key_arn = EncryptionKey(
        "alex-encryption",
        EncryptionKeyArgs(
            alias_name=names.key_alias,
            # Follows the cluster's guards (allowDeletion lifts it); the key itself outlives a
            # destroy whenever a final snapshot does, since that snapshot needs it.
            protect=profile.protect,
            retain_on_delete=profile.keeps_data_on_destroy,
            tags=settings.tags,
        ),
    ).key_arn
monitoring_role = None
if settings.monitoring_interval:
    monitoring_role = MonitoringRole(
        "alex-monitoring", MonitoringRoleArgs(role_name=names.monitoring_role, tags=settings.tags)
    )

# The family follows the major actually sent, so a major upgrade moves to a new group with it.
family = parameter_family(release_of(engine.send) or settings.engine_version)

credentials = Credentials(
    "alex-credentials",
    CredentialsArgs(
        secret_name_prefix=names.secret_prefix,
        recovery_window_in_days=profile.secret_recovery_window_days,
        protect=profile.protect,
        kms_key_arn=kms_key_arn,
        tags=settings.tags,
    ),
)
network = Network(
    "alex-network",
    NetworkArgs(
        subnet_group_name=names.subnet_group,
        security_group_name=names.security_group,
        vpc_id=settings.network.vpc_id,
        subnet_ids=settings.network.subnet_ids,
        allowed_cidrs=settings.network.allowed_cidrs,
        allowed_security_group_ids=settings.network.allowed_security_group_ids,
        allow_egress=profile.database_egress,
        tags=settings.tags,
    ),
)
database = AuroraDatabase(
    "alex-aurora",
    DatabaseArgs(
        cluster_identifier=names.cluster,
        instance_identifiers=[names.instance(n) for n in range(1, settings.readers + 2)],
        engine_version=engine.send,
        capacity=settings.capacity,
        subnet_group_name=network.subnet_group_name,
        security_group_ids=[network.security_group_id],
        master_username=credentials.username,
        master_password=credentials.password,
        secret_id=credentials.secret_id,
        secret_arn=credentials.secret_arn,
        profile=profile,
        parameter_group=ParameterGroupArgs(
            name=names.parameter_group(family),
            family=family,
            parameters=cluster_parameters(
                family=family,
                connection_logging=profile.connection_logging,
                slow_query_ms=settings.slow_query_ms,
            ),
            tags=settings.tags,
        ),
        kms_key_arn=kms_key_arn,
        monitoring_interval=settings.monitoring_interval,
        monitoring_role_arn=monitoring_role.role_arn if monitoring_role else None,
        monitoring_ready=[monitoring_role.policy_attachment] if monitoring_role else [],
        log_exports=list(settings.log_exports),
        tags=settings.tags,
        log_retention_days=settings.log_retention_days,
        engine_lifecycle_support=engine_lifecycle_support(settings.extended_support),
        allow_major_version_upgrade=settings.allow_major_version_upgrade,
    ),
)
if settings.backup_plan:
    BackupPlan(
        "alex-backup",
        BackupPlanArgs(
            vault_name=names.backup_vault,
            plan_name=names.backup_plan,
            role_name=names.backup_role,
            cluster_arn=database.cluster_arn,
            kms_key_arn=kms_key_arn,
            copy_region=settings.backup_copy_region,
            keep_on_destroy=profile.keeps_data_on_destroy,
            tags=settings.tags,
        ),
    )
if settings.alarm_topic_arn is not None:
    DatabaseAlarms(
        "alex-alarms",
        DatabaseAlarmsArgs(
            cluster_identifier=database.cluster_identifier,
            instance_identifiers=database.instance_identifiers,
            max_acu=settings.capacity.max_acu,
            min_acu=settings.capacity.min_acu,
            topic_arn=settings.alarm_topic_arn,
            tags=settings.tags,
        ),
    )
lambda_access = LambdaAccess(
    "alex-lambda",
    LambdaAccessArgs(
        role_name=names.role,
        policy_name=names.policy,
        data_api_statements=database.grant_data_api_access(),
        tags=settings.tags,
    ),
)

pulumi.export("aurora_cluster_arn", database.cluster_arn)
pulumi.export("aurora_cluster_endpoint", database.endpoint)
pulumi.export("aurora_secret_arn", database.secret_arn)
pulumi.export("database_name", database.database_name)
pulumi.export("lambda_role_arn", lambda_access.role_arn)
pulumi.export("data_api_enabled", database.data_api_status)
pulumi.export(
    "setup_instructions",
    pulumi.Output.all(
        database.cluster_identifier,
        database.cluster_arn,
        database.secret_arn,
        database.database_name,
        database.data_api_status,
    ).apply(
        lambda resolved: render(
            DeployedDatabase(
                *resolved,
                min_acu=settings.capacity.min_acu,
                max_acu=settings.capacity.max_acu,
                cost_floor=cost.describe_floor(
                    settings.region,
                    settings.capacity.min_acu,
                    settings.capacity.seconds_until_auto_pause,
                    instances=settings.readers + 1,
                ),
                stack=settings.stack,
            )
        )
    ),
)
