"""``alex-db plan``: what a stack would deploy and cost, from a mocked run.

The plan is one JSON-ready document (sorted, so two plans diff cleanly); the text view is drawn
from that document alone, so both always say the same thing.
"""

from __future__ import annotations

import json
from typing import Any

from alex_db.config import cost
from alex_db.config.keys import REGION_KEY
from alex_db.config.settings import OPTIONAL_KEYS
from alex_db.tools.plan.network import network
from alex_db.tools.plan.runner import MARK, ProgramRun, RecordedResource
from alex_db.tools.shared.stack_files import SECRET_MASK, StackConfig, full_key

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KMS_ALIAS = "aws:kms/alias:Alias"
PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECRET = "aws:secretsmanager/secret:Secret"
# Keys the program reads with no constant default: shown as such when a stack leaves them unset.
PROGRAM_DEFAULT = "default (the program's)"
NAME_INPUTS = ("clusterIdentifier", "identifier", "name")
NOTE = (
    f"Offline plan: the real program ran under mocks with no AWS account and no Pulumi CLI. "
    f"Values containing {MARK}, account 000000000000 and xxxxxxxx stand for what AWS and the "
    f"random provider compute at deploy time."
)


def _masked(value: Any, secret: bool, password: str) -> Any:
    """``[secret]`` for anything secret, and for anything that contains the password."""
    if secret or password in json.dumps(value, default=str):
        return SECRET_MASK
    return value


def physical_name(resource: RecordedResource) -> str | None:
    """The name AWS will know the resource by, when the program sets one."""
    if resource.type == INSTANCE:
        return resource.inputs.get("identifier")
    return next((resource.inputs[key] for key in NAME_INPUTS if resource.inputs.get(key)), None)


def _resource_entry(resource: RecordedResource, password: str) -> dict:
    return {
        "urn": resource.urn,
        "type": resource.type,
        "name": resource.name,
        "parent": resource.parent_urn or None,
        "component": not resource.custom,
        "protect": resource.protect,
        "physical_name": physical_name(resource),
        "inputs": {
            key: _masked(value, key in resource.secret_inputs, password)
            for key, value in sorted(resource.inputs.items())
        },
        # Inputs pulumi up never updates; plan --diff marks their changes as such.
        "ignore_changes": sorted(resource.ignored_changes),
    }


def _key_settings(run: ProgramRun) -> dict:
    cluster = run.one(CLUSTER).inputs
    instances = [resource.inputs for resource in run.of_type(INSTANCE)]
    scaling = cluster.get("serverlessv2ScalingConfiguration", {})
    pause = scaling.get("secondsUntilAutoPause")
    secrets = run.of_type(SECRET)
    return {
        "instance_classes": sorted({str(i.get("instanceClass")) for i in instances}),
        "readers": sum(1 for i in instances if i.get("promotionTier", 0) > 0),
        "protected": sorted(r.name for r in run.resources if r.protect),
        "apply_immediately": bool(cluster.get("applyImmediately")),
        "performance_insights": any(i.get("performanceInsightsEnabled") for i in instances),
        "log_exports": list(cluster.get("enabledCloudwatchLogsExports") or []),
        "secret_recovery_days": secrets[0].inputs.get("recoveryWindowInDays") if secrets else None,
        "tags": dict(sorted((cluster.get("tags") or {}).items())),
        "engine": cluster.get("engine"),
        "engine_version": cluster.get("engineVersion"),
        "engine_mode": cluster.get("engineMode"),
        "min_acu": scaling.get("minCapacity"),
        "max_acu": scaling.get("maxCapacity"),
        "auto_pause_seconds": pause,
        "data_api": bool(cluster.get("enableHttpEndpoint")),
        "storage_encrypted": bool(cluster.get("storageEncrypted")),
        "publicly_accessible": any(i.get("publiclyAccessible") for i in instances),
        "instances": len(instances),
        "deletion_protection": bool(cluster.get("deletionProtection")),
        "final_snapshot": not cluster.get("skipFinalSnapshot"),
        "backup_retention_days": cluster.get("backupRetentionPeriod"),
        "backup_window": cluster.get("preferredBackupWindow"),
        "maintenance_window": cluster.get("preferredMaintenanceWindow"),
        **_lifecycle(run, cluster, instances),
    }


def _lifecycle(run: ProgramRun, cluster: dict, instances: list[dict]) -> dict:
    """What keeps the stack deployable as AWS changes things: version upgrades, support,
    log expiry, and the final snapshot's name (its random part shown as a pattern)."""
    snapshot = cluster.get("finalSnapshotIdentifier")
    if snapshot:
        snapshot = snapshot.replace(run.placeholders.random_hex, "<8 hex, new per cluster>")
    return {
        "auto_minor_version_upgrade": all(i.get("autoMinorVersionUpgrade") for i in instances),
        "engine_lifecycle_support": cluster.get("engineLifecycleSupport"),
        "allow_major_version_upgrade": bool(cluster.get("allowMajorVersionUpgrade")),
        "log_retention": {
            group.inputs["name"]: group.inputs.get("retentionInDays")
            for group in run.of_type(LOG_GROUP)
        },
        "final_snapshot_name": snapshot,
    }


def _security_settings(run: ProgramRun) -> dict:
    """What the production profile hardens, as the resources will be created."""
    cluster = run.one(CLUSTER).inputs
    instances = [resource.inputs for resource in run.of_type(INSTANCE)]
    group_name = cluster.get("dbClusterParameterGroupName")
    groups = [r.inputs for r in run.of_type(PARAMETER_GROUP) if r.inputs.get("name") == group_name]
    group = groups[0] if groups else {}
    return {
        "kms_key": cluster.get("kmsKeyId"),
        "kms_aliases": [alias.inputs.get("name") for alias in run.of_type(KMS_ALIAS)],
        "iam_database_authentication": bool(cluster.get("iamDatabaseAuthenticationEnabled")),
        "parameter_group": group_name,
        "parameter_family": group.get("family"),
        "parameters": {p["name"]: p["value"] for p in group.get("parameters", [])},
        "monitoring_interval": max((i.get("monitoringInterval", 0) for i in instances), default=0),
        "monitoring_role": next(
            (i["monitoringRoleArn"] for i in instances if i.get("monitoringRoleArn")), None
        ),
        "egress": [
            rule for sg in run.of_type(SECURITY_GROUP) for rule in sg.inputs.get("egress", [])
        ],
    }


def _iam_statements(run: ProgramRun) -> list[dict]:
    statements = []
    for policy in run.of_type(ROLE_POLICY):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            statements.append({"policy": policy.inputs.get("name"), **statement})
    return statements


def _cost(region: str | None, settings: dict) -> dict:
    estimate = cost.estimate(
        region, settings["min_acu"], settings["max_acu"], settings["instances"]
    )
    if estimate is None:
        return {
            "region": region,
            "estimate": None,
            "reason": cost.no_estimate_reason(region),
        }
    return {
        "region": region,
        "currency": "USD",
        "usd_per_acu_hour": estimate.usd_per_acu_hour,
        "hours_per_month": estimate.hours_per_month,
        "instances": estimate.instances,
        "source": estimate.source,
        "compute_only": True,
        "monthly_at_min": estimate.at_min,
        "monthly_at_max": estimate.at_max,
        "idle_monthly_without_auto_pause": estimate.idle_without_pause,
        "idle_monthly_with_auto_pause": estimate.idle_with_pause,
        "auto_pause_configured": settings["auto_pause_seconds"] is not None,
    }


def build_plan(stack: str, config: StackConfig, run: ProgramRun) -> dict:
    """The plan document of one mocked run."""
    password = run.placeholders.password
    settings = _key_settings(run)
    return {
        "project": "alex-db",
        "stack": stack,
        "note": NOTE,
        "config": {
            key: SECRET_MASK if key in config.secret_keys else value
            for key, value in sorted(config.values.items())
        },
        "config_origins": {
            **{full_key(name): PROGRAM_DEFAULT for name in OPTIONAL_KEYS},
            **config.origins,
        },
        "network": network(run, config.values.get(REGION_KEY) or run.placeholders.region),
        "resources": sorted(
            (_resource_entry(resource, password) for resource in run.resources),
            key=lambda entry: entry["urn"],
        ),
        "settings": settings,
        "security": _security_settings(run),
        "iam_statements": _iam_statements(run),
        "warnings": list(run.warnings),
        "outputs": {
            name: _masked(output.value, output.secret, password)
            for name, output in sorted(run.outputs.items())
        },
        "cost": _cost(config.values.get(REGION_KEY), settings),
    }


def to_json(plan: dict) -> str:
    """The plan as stable JSON (sorted keys, two-space indent)."""
    return json.dumps(plan, indent=2, sort_keys=True, default=str)
