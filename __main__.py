"""alex-db: Aurora Serverless v2 PostgreSQL with the Data API for Alex's Lambdas.

The composition root: read and validate the stack configuration, build the components, export
the outputs. Every rule and resource lives in the ``alex_db`` package.
"""

import json

import pulumi
from pulumi.runtime import config as runtime_config

from alex_db.config import cost
from alex_db.config.keys import REGION_KEY, check_namespaces, not_a_secret
from alex_db.config.settings import CONFIG_KEYS, Settings, load_settings
from alex_db.config.values import NAMESPACE, SettingsError
from alex_db.infra.credentials import Credentials, CredentialsArgs
from alex_db.infra.database import AuroraDatabase, DatabaseArgs
from alex_db.infra.instructions import DeployedDatabase, render
from alex_db.infra.lambda_access import LambdaAccess, LambdaAccessArgs
from alex_db.infra.naming import PhysicalNames
from alex_db.infra.network import Network, NetworkArgs


def is_secret(full_key: str) -> bool:
    """Whether the stack sets ``full_key`` as a ``secure:`` value (mocks or the language host)."""
    secret_keys = runtime_config.get_config_secret_keys_env()
    return runtime_config.is_config_secret(full_key) or full_key in secret_keys


def configured_keys() -> tuple[dict[str, str], frozenset[str]]:
    """Every ``alex-db:*`` key the stack sets (short name -> value), and which are secret.

    ``pulumi.Config.get`` answers only for keys the program asks about, so a misspelt key would go
    unseen. Under the CLI the language host passes the whole configuration as ``PULUMI_CONFIG``
    and the secret keys as ``PULUMI_CONFIG_SECRET_KEYS``, and ``pulumi-language-python-exec``
    loads both with ``set_all_config`` (pulumi/pulumi ``sdk/python/cmd/
    pulumi-language-python-exec``); mocks and Automation API inline programs call
    ``set_all_config`` themselves. ``CONFIG`` holds the result either way and ``get_config_env``
    covers a host that only set the variable (``pulumi/runtime/config.py``). A key in a namespace
    spelt like ours is refused here, since nothing would ever read it. Values are what
    ``pulumi.Config.get`` answers (``get_config``), so a ``PULUMI_CONFIG_<KEY>`` variable still
    sets a key the stack leaves unset.
    """
    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    check_namespaces(everything, CONFIG_KEYS)
    prefix = f"{NAMESPACE}:"
    names = {full[len(prefix) :] for full in everything if full.startswith(prefix)}
    answers = {name: runtime_config.get_config(prefix + name) for name in {*names, *CONFIG_KEYS}}
    values = {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in answers.items()
        if value is not None
    }
    return values, frozenset(name for name in values if is_secret(prefix + name))


def read_settings() -> Settings:
    """The stack's settings; an unknown key or a bad value ends the run with its one-line message,
    no traceback, before any resource is registered."""
    try:
        values, secret_keys = configured_keys()
        if is_secret(REGION_KEY):
            raise not_a_secret(
                REGION_KEY,
                "the region is part of every ARN and endpoint the stack stores and exports in "
                "plaintext",
            )
        return load_settings(
            values,
            stack=pulumi.get_stack(),
            region=pulumi.Config("aws").get("region"),
            secret_keys=secret_keys,
        )
    except SettingsError as error:
        raise pulumi.RunError(str(error)) from None


settings = read_settings()
for warning in settings.warnings:
    pulumi.log.warn(warning)
names = PhysicalNames.for_stack(settings.stack)
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
        engine_version=str(settings.engine_version),
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
