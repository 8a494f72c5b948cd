"""alex-db: Aurora Serverless v2 PostgreSQL with the Data API for Alex's Lambdas.

The composition root: read and validate the stack configuration, build the components, export
the outputs. Every rule and resource lives in the ``alex_db`` package.
"""

import pulumi

from alex_db.config import cost
from alex_db.config.lifecycle import EngineDecision, decide_engine_version, engine_lifecycle_support
from alex_db.config.settings import CONFIG_KEYS, Settings, load_settings
from alex_db.config.values import NAMESPACE, SettingsError
from alex_db.infra.credentials import Credentials, CredentialsArgs
from alex_db.infra.database import AuroraDatabase, DatabaseArgs
from alex_db.infra.instructions import DeployedDatabase, render
from alex_db.infra.lambda_access import LambdaAccess, LambdaAccessArgs
from alex_db.infra.naming import PhysicalNames
from alex_db.infra.network import Network, NetworkArgs
from alex_db.infra.running_cluster import running_engine_version


def read_settings() -> Settings:
    """The stack's settings; a bad value ends the run with its one-line message, no traceback,
    before any resource is registered."""
    config = pulumi.Config(NAMESPACE)
    raw = {name: config.get(name) for name in CONFIG_KEYS}
    try:
        return load_settings(
            raw, stack=pulumi.get_stack(), region=pulumi.Config("aws").get("region")
        )
    except SettingsError as error:
        raise pulumi.RunError(str(error)) from None


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
names = PhysicalNames.for_stack(settings.stack)
engine = engine_decision(settings, names.cluster)
for warning in (*settings.warnings, *filter(None, [engine.note])):
    pulumi.log.warn(warning)
profile = settings.profile

credentials = Credentials(
    "alex-credentials",
    CredentialsArgs(
        secret_name_prefix=names.secret_prefix,
        recovery_window_in_days=profile.secret_recovery_window_days,
        protect=profile.protect,
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
        log_exports=list(settings.log_exports),
        tags=settings.tags,
        log_retention_days=settings.log_retention_days,
        engine_lifecycle_support=engine_lifecycle_support(settings.extended_support),
        allow_major_version_upgrade=settings.allow_major_version_upgrade,
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
            )
        )
    ),
)
