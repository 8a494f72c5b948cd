"""The Aurora PostgreSQL Serverless v2 cluster, its instance, and Data API access to it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random
from pulumi_aws import rds, secretsmanager

from alex_db.config.lifecycle import CREATE_ONLY_CLUSTER_INPUTS, NO_EXTENDED_SUPPORT
from alex_db.config.policy_documents import data_api_statements, secret_key_decrypt_statement
from alex_db.config.profile import PERFORMANCE_INSIGHTS_FREE_DAYS, Profile
from alex_db.config.settings import Capacity
from alex_db.infra.log_groups import create_log_groups
from alex_db.infra.parameter_group import ParameterGroupArgs, create_parameter_group

ENGINE = "aurora-postgresql"
# The RDS secret format names the engine family, not the Aurora flavour.
SECRET_ENGINE = "postgres"
DATABASE_NAME = "alex"
SERVERLESS_INSTANCE_CLASS = "db.serverless"
BACKUP_WINDOW = "03:00-04:00"
MAINTENANCE_WINDOW = "sun:04:00-sun:05:00"
ENGINE_MODE = "provisioned"
STORAGE_ENCRYPTED = True
SNAPSHOT_SUFFIX_BYTES = 4


def rds_secret_document(
    *, username: str, password: str, host: str, port: int, cluster_identifier: str
) -> str:
    """The secret's JSON in the RDS format, which the Data API, rotation and tools all read."""
    return json.dumps(
        {
            "engine": SECRET_ENGINE,
            "host": host,
            "port": port,
            "username": username,
            "password": password,
            "dbname": DATABASE_NAME,
            "dbClusterIdentifier": cluster_identifier,
        }
    )


def scaling_configuration(capacity: Capacity) -> dict:
    """Serverless v2 scaling; the pause delay only goes with a 0 ACU minimum (AWS rejects it
    otherwise)."""
    scaling = {"min_capacity": capacity.min_acu, "max_capacity": capacity.max_acu}
    if capacity.seconds_until_auto_pause is not None:
        scaling["seconds_until_auto_pause"] = capacity.seconds_until_auto_pause
    return scaling


@dataclass
class DatabaseArgs:
    """What the cluster is made of and where it goes."""

    cluster_identifier: str
    """The cluster's name in RDS."""
    instance_identifiers: list[str]
    """Instance names in RDS: the writer first, then the readers."""
    engine_version: str
    """Aurora PostgreSQL ``MAJOR.MINOR``; validated by the settings module."""
    capacity: Capacity
    """Serverless v2 scaling range."""
    subnet_group_name: pulumi.Input[str]
    """DB subnet group to place the cluster in."""
    security_group_ids: pulumi.Input[list[str]]
    """Security groups attached to the cluster."""
    master_username: str
    """Master user name, also written to the secret."""
    master_password: pulumi.Input[str]
    """Master password (a Pulumi secret), also written to the secret."""
    secret_id: pulumi.Input[str]
    """The credentials secret this component writes the connection document into."""
    secret_arn: pulumi.Input[str]
    """That secret's ARN, for Data API grants."""
    profile: Profile
    """Dev or production: protection, snapshots, backups, insights, IAM authentication."""
    parameter_group: ParameterGroupArgs
    """The cluster parameter group to create and attach."""
    kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed key for storage and Performance Insights, also the secret's key (so the
    Data API grant includes decrypting with it). Default None: the AWS-managed keys. Changing
    it on an existing cluster replaces the cluster (``kms_key_id`` is ForceNew in
    terraform-provider-aws ``internal/service/rds/cluster.go``)."""
    monitoring_interval: int = 0
    """Enhanced monitoring interval in seconds; 0 (default) is off."""
    monitoring_role_arn: pulumi.Input[str] | None = None
    """The enhanced monitoring role; needed when ``monitoring_interval`` is not 0."""
    monitoring_ready: Sequence[pulumi.Resource] = ()
    """What the instances wait for before they use ``monitoring_role_arn`` (the role's policy
    attachment, ``MonitoringRole.policy_attachment``). Default none."""
    log_exports: list[str] = field(default_factory=list)
    """CloudWatch log exports. Default none."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the cluster and instance (copied to snapshots). Default none."""
    log_retention_days: int = 7
    """Days CloudWatch keeps each exported log. Default 7."""
    engine_lifecycle_support: str = NO_EXTENDED_SUPPORT
    """RDS Extended Support after standard support ends. Default disabled (no surprise charge).
    Applies when the cluster is created; a running cluster keeps its own (``aws rds
    modify-db-cluster --engine-lifecycle-support``)."""
    allow_major_version_upgrade: bool = False
    """Let ``engine_version`` move to a higher major. Default False."""


class AuroraDatabase(pulumi.ComponentResource):
    """An encrypted Aurora PostgreSQL cluster in provisioned mode with Serverless v2 scaling, the
    Data API on, a ``db.serverless`` writer (plus readers, if asked), and its credentials secret
    filled in."""

    cluster_arn: pulumi.Output[str]
    """The cluster ARN (the Data API's ``resourceArn``)."""
    cluster_identifier: pulumi.Output[str]
    """The cluster's name in RDS."""
    endpoint: pulumi.Output[str]
    """The writer endpoint."""
    database_name: pulumi.Output[str]
    """The database created with the cluster."""
    data_api_status: pulumi.Output[str]
    """``Enabled`` or ``Disabled``, as the cluster reports its HTTP endpoint."""
    secret_arn: pulumi.Output[str]
    """The credentials secret's ARN (the Data API's ``secretArn``)."""
    instance_identifiers: list[pulumi.Output[str]]
    """The instances' names in RDS, writer first."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if args.monitoring_interval and args.monitoring_role_arn is None:
            raise ValueError("monitoring_interval needs monitoring_role_arn (RDS publishes as it)")
        super().__init__("alexdb:index:AuroraDatabase", name, None, opts)
        self._kms_key_arn = args.kms_key_arn
        parameter_group = create_parameter_group(f"{name}-parameters", args.parameter_group, self)
        log_groups = create_log_groups(
            name,
            cluster_identifier=args.cluster_identifier,
            log_types=args.log_exports,
            retention_days=args.log_retention_days,
            tags=args.tags,
            parent=self,
        )
        cluster = self._create_cluster(name, args, parameter_group, log_groups)
        instances = self._create_instances(name, args, cluster)
        self._write_secret(name, args, cluster)
        self.cluster_arn = cluster.arn
        self.cluster_identifier = cluster.cluster_identifier
        self.endpoint = cluster.endpoint
        self.database_name = cluster.database_name
        self.data_api_status = cluster.enable_http_endpoint.apply(
            lambda enabled: "Enabled" if enabled else "Disabled"
        )
        self.secret_arn = pulumi.Output.from_input(args.secret_arn)
        self.instance_identifiers = [instance.identifier for instance in instances]
        self.register_outputs(
            {
                "instance_identifiers": self.instance_identifiers,
                "cluster_arn": self.cluster_arn,
                "cluster_identifier": self.cluster_identifier,
                "endpoint": self.endpoint,
                "database_name": self.database_name,
                "data_api_status": self.data_api_status,
                "secret_arn": self.secret_arn,
            }
        )

    def _final_snapshot_name(self, name: str, args: DatabaseArgs) -> pulumi.Output[str] | None:
        """``<cluster>-final-<8 hex>``: a fixed ``<cluster>-final`` makes the second destroy after
        a re-create fail (``DBClusterSnapshotAlreadyExists``). The suffix is stable across
        ``pulumi up``s and new whenever the cluster is: the keepers are the cluster's
        forces-replacement inputs (``config/resource_types.py``), and a destroy removes it.
        Changing the name is no replacement: ``final_snapshot_identifier`` is not ForceNew and is
        only read at delete (hashicorp/terraform-provider-aws internal/service/rds/cluster.go)."""
        if args.profile.skip_final_snapshot:
            return None
        suffix = random.RandomId(
            f"{name}-final-snapshot-suffix",
            byte_length=SNAPSHOT_SUFFIX_BYTES,
            keepers={
                "clusterIdentifier": args.cluster_identifier,
                "databaseName": DATABASE_NAME,
                "masterUsername": args.master_username,
                "engine": ENGINE,
                "engineMode": ENGINE_MODE,
                "storageEncrypted": str(STORAGE_ENCRYPTED).lower(),
                "dbSubnetGroupName": args.subnet_group_name,
                "kmsKeyId": args.kms_key_arn or "",
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        return suffix.hex.apply(lambda hex_suffix: f"{args.cluster_identifier}-final-{hex_suffix}")

    def _create_cluster(
        self,
        name: str,
        args: DatabaseArgs,
        parameter_group: rds.ClusterParameterGroup,
        log_groups: list[pulumi.Resource],
    ) -> rds.Cluster:
        profile = args.profile
        return rds.Cluster(
            f"{name}-cluster",
            cluster_identifier=args.cluster_identifier,
            engine=ENGINE,
            engine_mode=ENGINE_MODE,
            engine_version=args.engine_version,
            # Sent only when asked: AWS needs it for a major upgrade, and leaving it out keeps
            # existing stacks free of a diff (not ForceNew either: cluster.go).
            allow_major_version_upgrade=True if args.allow_major_version_upgrade else None,
            # Explicit, so standard support ending never starts a paid Extended Support charge
            # unless the stack opted in. Sent at creation only: see CREATE_ONLY_CLUSTER_INPUTS.
            engine_lifecycle_support=args.engine_lifecycle_support,
            database_name=DATABASE_NAME,
            master_username=args.master_username,
            master_password=args.master_password,
            serverlessv2_scaling_configuration=scaling_configuration(args.capacity),
            enable_http_endpoint=True,
            db_subnet_group_name=args.subnet_group_name,
            vpc_security_group_ids=args.security_group_ids,
            storage_encrypted=STORAGE_ENCRYPTED,
            kms_key_id=args.kms_key_arn,
            # In place (not ForceNew in terraform-provider-aws internal/service/rds/cluster.go).
            iam_database_authentication_enabled=profile.iam_database_authentication,
            db_cluster_parameter_group_name=parameter_group.name,
            backup_retention_period=profile.backup_retention_days,
            preferred_backup_window=BACKUP_WINDOW,
            preferred_maintenance_window=MAINTENANCE_WINDOW,
            copy_tags_to_snapshot=True,
            enabled_cloudwatch_logs_exports=list(args.log_exports),
            # Dev (like the seed): destroy leaves nothing behind and changes apply now.
            # Production: AWS refuses deletion, a final snapshot is kept, changes wait.
            deletion_protection=profile.deletion_protection,
            skip_final_snapshot=profile.skip_final_snapshot,
            final_snapshot_identifier=self._final_snapshot_name(name, args),
            apply_immediately=profile.apply_immediately,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=profile.protect,
                depends_on=log_groups,
                # A create uses these inputs all the same (ignore_changes applies to updates).
                ignore_changes=list(CREATE_ONLY_CLUSTER_INPUTS),
            ),
        )

    def _create_instances(
        self, name: str, args: DatabaseArgs, cluster: rds.Cluster
    ) -> list[rds.ClusterInstance]:
        """The writer (instance 1) and the readers, all ``db.serverless`` and private."""
        profile = args.profile
        return [
            rds.ClusterInstance(
                f"{name}-instance-{number}",
                identifier=identifier,
                cluster_identifier=cluster.id,
                instance_class=SERVERLESS_INSTANCE_CLASS,
                engine=cluster.engine,
                engine_version=cluster.engine_version,
                publicly_accessible=False,
                # Explicit (it is the provider's default too): AWS moves minor versions on its
                # own, and the program follows what runs (infra/running_cluster.py).
                auto_minor_version_upgrade=True,
                # The writer is tier 0; readers come next in line for failover.
                promotion_tier=0 if number == 1 else 1,
                performance_insights_enabled=profile.performance_insights,
                performance_insights_retention_period=PERFORMANCE_INSIGHTS_FREE_DAYS
                if profile.performance_insights
                else None,
                # In place in terraform-provider-aws (cluster_instance.go: not ForceNew); it
                # follows the cluster's key so one switch moves all three together.
                performance_insights_kms_key_id=args.kms_key_arn
                if profile.performance_insights
                else None,
                # Both change in place (cluster_instance.go: not ForceNew).
                monitoring_interval=args.monitoring_interval,
                monitoring_role_arn=args.monitoring_role_arn if args.monitoring_interval else None,
                apply_immediately=profile.apply_immediately,
                tags=dict(args.tags),
                # A new dependency changes no input: nothing is replaced on existing stacks.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    protect=profile.protect,
                    depends_on=list(args.monitoring_ready) if args.monitoring_interval else None,
                ),
            )
            for number, identifier in enumerate(args.instance_identifiers, start=1)
        ]

    def _write_secret(self, name: str, args: DatabaseArgs, cluster: rds.Cluster) -> None:
        """The credentials secret's value in the RDS format, once the endpoint exists."""
        secretsmanager.SecretVersion(
            f"{name}-credentials",
            secret_id=args.secret_id,
            secret_string=pulumi.Output.all(
                password=args.master_password,
                host=cluster.endpoint,
                port=cluster.port,
                cluster_identifier=cluster.cluster_identifier,
            ).apply(
                lambda connection: rds_secret_document(username=args.master_username, **connection)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def grant_data_api_access(self) -> pulumi.Output[list[dict]]:
        """IAM statements that let a grantee use the Data API on this cluster: the five Data API
        actions on this cluster's ARN and reading this cluster's secret, nothing wider; plus,
        when the secret is under a customer-managed key, decrypting with that key through
        Secrets Manager in this region only.

        Returned as statements rather than attached, so a role keeps one inline policy with
        everything it may do (as CDK's ``grantDataApiAccess`` does)."""
        statements = pulumi.Output.all(self.cluster_arn, self.secret_arn).apply(
            lambda arns: data_api_statements(*arns)
        )
        if self._kms_key_arn is None:
            return statements
        lookup = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=lookup).region
        dns_suffix = aws.get_partition_output(opts=lookup).dns_suffix
        return pulumi.Output.all(statements, self._kms_key_arn, region, dns_suffix).apply(
            lambda parts: [*parts[0], secret_key_decrypt_statement(*parts[1:])]
        )
