"""Day 2: the stack survives what AWS does after the first deploy (issue 11).

Minor-version drift is simulated with the offline runner's ``running_engine_version`` ("AWS
reports version X"): the program reads it through the ``getClusters``/``getCluster`` invokes.
"""

from __future__ import annotations

import copy
import dataclasses
import shlex

import pulumi
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from alex_db.config.lifecycle import (
    CREATE_ONLY_CLUSTER_INPUTS,
    LOG_RETENTION_DAYS,
    MAJOR_UPGRADE,
    MINOR_UPGRADE,
    REFUSED_DOWNGRADE,
    decide_engine_version,
)
from alex_db.config.resource_types import forces_replacement
from alex_db.config.settings import DEFAULTS, SettingsError, load_settings
from alex_db.config.versions import EngineVersion
from alex_db.tools.plan.runner import run_program
from tests.conftest import CLUSTER, DEV_CONFIG, INSTANCE, RANDOM_ID, ROOT, TEST_PLACEHOLDERS

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LIFECYCLE_DOC = ROOT / "docs" / "lifecycle.md"

PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
# The version the stacks in these scenarios are configured with, whatever the default is: each
# scenario is about how the program answers a given configured and running pair.
CONFIGURED = "15.12"


def run_against(running: str | None, stack: str = "dev", **config: str):
    """The whole program while AWS reports the stack's cluster running ``running`` (None: no
    cluster yet), configured at CONFIGURED unless ``config`` says otherwise when one runs."""
    if running is not None:
        config = {"engineVersion": CONFIGURED, **config}
    merged = {**DEV_CONFIG, **{f"alex-db:{k}": v for k, v in config.items()}}
    placeholders = dataclasses.replace(TEST_PLACEHOLDERS, running_engine_version=running)
    return run_program(stack, merged, placeholders)


# 1. Minor-version drift -------------------------------------------------------------------


def test_first_deploy_sends_the_configured_version(dev):
    assert dev.one(CLUSTER).inputs["engineVersion"] == DEFAULTS["engineVersion"]
    assert dev.warnings == []


def test_unchanged_config_after_an_aws_minor_upgrade_never_downgrades():
    after_upgrade = run_against("15.13")
    cluster = after_upgrade.one(CLUSTER)
    assert cluster.inputs["engineVersion"] == "15.13", "15.12 would make AWS refuse the update"
    assert after_upgrade.warnings == [
        "alex-db:engineVersion = '15.12' is below what the cluster runs (15.13, e.g. after an "
        "AWS auto minor upgrade); AWS cannot downgrade, so 15.13 is kept. Set "
        "alex-db:engineVersion to 15.13 to silence this"
    ]
    for instance in after_upgrade.of_type(INSTANCE):
        assert instance.inputs["engineVersion"] == "15.13"
        assert instance.inputs["autoMinorVersionUpgrade"] is True


def test_raising_the_version_still_upgrades():
    upgraded = run_against("15.12", engineVersion="15.13")
    assert upgraded.one(CLUSTER).inputs["engineVersion"] == "15.13"
    assert upgraded.warnings == []


def test_lowering_below_what_runs_is_not_attempted_and_says_what_runs():
    lowered = run_against("15.13", engineVersion="15.7")
    assert lowered.one(CLUSTER).inputs["engineVersion"] == "15.13"
    assert len(lowered.warnings) == 1
    assert "below what the cluster runs (15.13" in lowered.warnings[0]


def test_major_change_without_permission_is_one_line_before_any_resource():
    with pytest.raises(pulumi.RunError) as error:
        run_against("15.13", engineVersion="16.4")
    assert str(error.value) == (
        "alex-db:engineVersion = '16.4' is a major upgrade from the running 15.13: set "
        "alex-db:allowMajorVersionUpgrade to true to allow it (test it on a copy first)"
    )


def test_major_change_with_permission_upgrades_and_tells_aws_it_may():
    upgraded = run_against("15.13", engineVersion="16.4", allowMajorVersionUpgrade="true")
    cluster = upgraded.one(CLUSTER)
    assert cluster.inputs["engineVersion"] == "16.4"
    assert cluster.inputs["allowMajorVersionUpgrade"] is True


def test_major_upgrade_moves_the_cluster_to_the_new_familys_parameter_group():
    """AWS refuses a major upgrade while the cluster keeps a group of the old family, so the
    group follows the major that is sent (a new group; the old one goes after the switch)."""
    upgraded = run_against("15.13", engineVersion="16.4", allowMajorVersionUpgrade="true")
    group = upgraded.one(PARAMETER_GROUP)
    assert group.inputs["family"] == "aurora-postgresql16"
    assert upgraded.one(CLUSTER).inputs["dbClusterParameterGroupName"] == group.inputs["name"]
    assert group.inputs["name"] == "alex-aurora-postgresql16"


def test_a_cluster_aws_moved_to_a_newer_major_keeps_a_group_of_that_major():
    kept = run_against("16.4", engineVersion="15.12")
    assert kept.one(CLUSTER).inputs["engineVersion"] == "16.4"
    assert kept.one(PARAMETER_GROUP).inputs["family"] == "aurora-postgresql16"


def test_a_patch_release_of_the_configured_version_is_no_change():
    """The provider keeps a configured ``15.12`` in state while AWS reports ``15.12.<patch>``
    (terraform-provider-aws, compareActualEngineVersion), so sending the patch release would be
    a needless ModifyDBCluster and a warning on every run."""
    same = run_against("15.12.3")
    assert same.one(CLUSTER).inputs["engineVersion"] == "15.12"
    assert same.warnings == []


def test_a_patch_release_still_upgrades_and_is_never_downgraded():
    upgraded = run_against("15.12.3", engineVersion="16.4", allowMajorVersionUpgrade="true")
    assert upgraded.one(CLUSTER).inputs["engineVersion"] == "16.4"
    kept = run_against("15.12.3", engineVersion="15.7")
    assert kept.one(CLUSTER).inputs["engineVersion"] == "15.12.3"
    assert "below what the cluster runs (15.12.3" in kept.warnings[0]
    moved = run_against("16.1.2", engineVersion="15.12")
    assert moved.one(CLUSTER).inputs["engineVersion"] == "16.1.2"
    assert moved.one(PARAMETER_GROUP).inputs["family"] == "aurora-postgresql16"


def test_a_version_of_another_kind_is_kept_and_named():
    """``16.6-limitless`` is a Limitless Database version, not one this program creates: it is
    kept (nothing AWS would refuse is attempted) and the warning says what runs."""
    kept = run_against("16.6-limitless", engineVersion="16.6")
    assert kept.one(CLUSTER).inputs["engineVersion"] == "16.6-limitless"
    assert "'16.6-limitless'" in kept.warnings[0]


def test_every_pulumi_operation_refreshes_the_state_first():
    """What AWS upgraded on its own reaches the state before Pulumi diffs against it."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["options"] == {"refresh": "always"}


def test_allow_major_is_not_sent_unless_asked(dev):
    assert "allowMajorVersionUpgrade" not in dev.one(CLUSTER).inputs


versions = st.builds(EngineVersion, st.integers(13, 18), st.integers(0, 30))


@given(configured=versions, running=versions, allow=st.booleans())
def test_never_sends_a_version_below_what_runs(configured, running, allow):
    try:
        decision = decide_engine_version(configured, str(running), allow)
    except SettingsError as error:
        assert configured.major > running.major and not allow
        assert "\n" not in str(error)
        return
    sent = EngineVersion(*map(int, decision.send.split(".")))
    assert sent >= running
    assert sent == max(configured, running)
    expected = {True: MINOR_UPGRADE, False: MAJOR_UPGRADE}[configured.major == running.major]
    if configured < running:
        assert decision.change == REFUSED_DOWNGRADE and decision.note
    elif configured > running:
        assert decision.change == expected


@given(running=st.text(max_size=20).filter(lambda t: t.strip()))
def test_any_running_version_string_ends_in_a_decision_or_one_line(running):
    try:
        decision = decide_engine_version(EngineVersion(15, 12), running, False)
    except SettingsError as error:
        assert "\n" not in str(error)
        return
    assert decision.send in (running, "15.12")


# 2. Final snapshot names --------------------------------------------------------------------


def test_final_snapshot_name_is_unique_per_cluster_incarnation(production):
    cluster = production.one(CLUSTER)
    suffix = [r for r in production.of_type(RANDOM_ID) if "final-snapshot" in r.name]
    assert len(suffix) == 1
    assert cluster.inputs["finalSnapshotIdentifier"] == (
        f"alex-aurora-cluster-prod-final-{TEST_PLACEHOLDERS.random_hex}"
    )
    # Renewed exactly when the cluster is replaced: every forces-replacement input the program
    # sets on the cluster is a keeper, with the same value.
    keepers = suffix[0].inputs["keepers"]
    set_forcing = forces_replacement(CLUSTER) & cluster.inputs.keys()
    assert set_forcing <= keepers.keys()
    for name in set_forcing:
        assert str(cluster.inputs[name]).lower() == str(keepers[name]).lower(), name


def test_a_stack_from_before_the_suffix_switches_in_place(production):
    """A stack deployed with the fixed ``<cluster>-final`` (and without the lifecycle settings)
    gets the suffix on its next ``pulumi up`` as an update: nothing is replaced."""
    from alex_db.tools.plan.diff import diff_plans

    new = plan_of(production, "prod")
    old = copy.deepcopy(new)
    old["resources"] = [r for r in old["resources"] if r["type"] not in (RANDOM_ID, LOG_GROUP)]
    cluster = next(r for r in old["resources"] if r["type"] == CLUSTER)
    cluster["inputs"]["finalSnapshotIdentifier"] = "alex-aurora-cluster-prod-final"
    del cluster["inputs"]["engineLifecycleSupport"]
    changes = {change.urn_type: change for change in diff_plans(old, new)}
    assert changes[CLUSTER].verdict == "updates in place"
    assert set(changes[CLUSTER].properties) == {
        "finalSnapshotIdentifier",
        "engineLifecycleSupport",
    }
    assert changes[RANDOM_ID].verdict == "creates"
    assert not [c for c in changes.values() if c.replaces or c.kind == "removed"]


def test_dev_takes_no_final_snapshot_and_needs_no_suffix(dev):
    assert "finalSnapshotIdentifier" not in dev.one(CLUSTER).inputs
    assert not [r for r in dev.of_type(RANDOM_ID) if "final-snapshot" in r.name]


# 3. Exported logs expire --------------------------------------------------------------------


def test_production_log_group_exists_before_the_cluster_with_retention_and_tags(production):
    group = production.one(LOG_GROUP)
    cluster = production.one(CLUSTER)
    assert group.inputs["name"] == "/aws/rds/cluster/alex-aurora-cluster-prod/postgresql"
    assert group.inputs["retentionInDays"] == 30
    assert group.inputs["tags"] == cluster.inputs["tags"]
    assert group.urn in cluster.dependencies, "RDS would create it first, never expiring"


def test_every_exported_log_type_gets_its_group_with_the_configured_retention():
    dev = run_against(None, logExports="postgresql,instance", logRetentionDays="14")
    groups = {g.inputs["name"]: g.inputs["retentionInDays"] for g in dev.of_type(LOG_GROUP)}
    assert groups == {
        "/aws/rds/cluster/alex-aurora-cluster/postgresql": 14,
        "/aws/rds/cluster/alex-aurora-cluster/instance": 14,
    }


def test_the_readme_import_command_adopts_the_group_the_program_registers(production):
    """A user who follows the README's ``pulumi import`` must end with the URN the program
    registers, or ``pulumi up`` would create a second group (and fail on the name). The
    offline runner gives URNs as the engine does (no root stack type in a top-level one)."""
    command = LIFECYCLE_DOC.read_text().split("pulumi import ", 1)[1].split("\n  pulumi up", 1)[0]
    # The whole command, stack included: run in another selected stack it would not adopt.
    words = shlex.split(command.replace("\\\n", " "))
    type_token, name, resource_id = words[:3]
    parent_name, parent_urn = words[words.index("--parent") + 1].split("=", 1)
    group = production.one(LOG_GROUP)
    assert (type_token, name, resource_id) == (group.type, group.name, group.inputs["name"])
    assert parent_urn == group.parent_urn
    assert parent_name and "--protect=false" in words
    stack = words[words.index("--stack") + 1]
    assert parent_urn.startswith(f"urn:pulumi:{stack}::") and f"-{stack}/" in resource_id


LOG_GROUP_NOTE = (
    "creates — RDS made this group already (the cluster exported to it): pulumi up fails on it "
    "until you delete or `pulumi import` it (docs/lifecycle.md)"
)


def test_diff_flags_a_log_group_rds_already_made_for_an_existing_stack(production):
    """A stack deployed before the program made the groups exported logs to one RDS created;
    creating it now fails, which the diff says before ``pulumi up`` does."""
    from alex_db.tools.plan.diff import diff_plans

    new = plan_of(production, "prod")
    old = {**new, "resources": [r for r in new["resources"] if r["type"] != LOG_GROUP]}
    (added,) = [change for change in diff_plans(old, new) if change.kind == "added"]
    assert added.urn_type == LOG_GROUP
    assert added.verdict == LOG_GROUP_NOTE


def test_a_log_group_for_a_newly_exported_type_is_a_plain_create():
    from alex_db.tools.plan.diff import diff_plans

    old = plan_of(run_against(None, logExports=""))
    new = plan_of(run_against(None, logExports="postgresql"))
    (added,) = [change for change in diff_plans(old, new) if change.kind == "added"]
    assert added.urn_type == LOG_GROUP
    assert added.verdict == "creates"


def test_dev_default_retention_is_seven_days():
    assert load_settings({"logExports": "postgresql"}, stack="dev").log_retention_days == 7
    assert load_settings({"production": "true"}, stack="prod").log_retention_days == 30


@given(raw=st.text(max_size=12))
def test_log_retention_is_a_cloudwatch_period_or_a_one_line_error(raw):
    try:
        days = load_settings({"logRetentionDays": raw}, stack="dev").log_retention_days
    except SettingsError as error:
        message = str(error)
        assert message.startswith("alex-db:logRetentionDays = ") and "\n" not in message
        return
    assert days in LOG_RETENTION_DAYS


def test_never_expire_is_not_offered():
    with pytest.raises(SettingsError, match="logRetentionDays = '0' is not allowed"):
        load_settings({"logRetentionDays": "0"}, stack="dev")


# 4. Extended Support ------------------------------------------------------------------------


def test_extended_support_is_off_unless_opted_in(dev):
    assert dev.one(CLUSTER).inputs["engineLifecycleSupport"] == (
        "open-source-rds-extended-support-disabled"
    )
    opted_in = run_against(None, extendedSupport="true")
    assert opted_in.one(CLUSTER).inputs["engineLifecycleSupport"] == (
        "open-source-rds-extended-support"
    )


def test_lifecycle_support_on_a_running_cluster_is_never_a_diff_that_cannot_apply():
    """Issue 18 C2: terraform-provider-aws sends engine_lifecycle_support only in CreateDBCluster
    (resourceClusterUpdate leaves it out of ModifyDBClusterInput) and reads AWS's value back, so a
    cluster created before the setting (AWS's default: the paid option) would show the same
    "update" on every run. A new cluster still gets the value; a running one keeps its own."""
    placeholders = dataclasses.replace(
        TEST_PLACEHOLDERS, running_engine_version=DEFAULTS["engineVersion"]
    )
    running = run_program("dev", dict(DEV_CONFIG), placeholders)
    cluster = running.one(CLUSTER)
    assert cluster.inputs["engineLifecycleSupport"] == "open-source-rds-extended-support-disabled"
    assert "engineLifecycleSupport" in cluster.ignored_changes
    assert set(CREATE_ONLY_CLUSTER_INPUTS) == {"engineLifecycleSupport"}
    assert not set(CREATE_ONLY_CLUSTER_INPUTS) & forces_replacement(CLUSTER), "in place, at most"


def test_new_settings_are_not_forcing_replacement():
    """Existing stacks get the new properties as in-place updates, never a new cluster."""
    new_properties = {
        "engineLifecycleSupport",
        "allowMajorVersionUpgrade",
        "finalSnapshotIdentifier",
        "engineVersion",
    }
    assert not new_properties & forces_replacement(CLUSTER)
    assert "autoMinorVersionUpgrade" not in forces_replacement(INSTANCE)


@pytest.mark.parametrize("key", ["extendedSupport", "allowMajorVersionUpgrade"])
def test_lifecycle_switches_are_booleans(key):
    with pytest.raises(SettingsError) as error:
        load_settings({key: "yes"}, stack="dev")
    assert str(error.value) == f"alex-db:{key} = 'yes' is not allowed: true or false"


# The offline runner -------------------------------------------------------------------------


def test_offline_runner_answers_a_stand_in_for_a_type_without_placeholders_and_names_it():
    """The run goes on (so one test, not the whole suite, says what is missing) and the type is
    remembered for ``plan`` and ``ProgramRun.entry_problems``."""
    from alex_db.tools.plan.runner import PlaceholderMocks

    mocks = PlaceholderMocks(TEST_PLACEHOLDERS, "us-east-1")
    unplanned = pulumi.runtime.MockResourceArgs(
        typ="aws:sns/topic:Topic",
        name="unplanned",
        inputs={},
        provider="",
        resource_id="",
        custom=True,
    )
    resource_id, outputs = mocks.new_resource(unplanned)
    assert resource_id == "unplanned"
    assert outputs == {"arn": "arn:aws:sns:us-east-1:123456789012:PLACEHOLDER/unplanned"}
    assert mocks.unlisted_types == ["aws:sns/topic:Topic"]


# 5. plan --diff knows what AWS replaces -----------------------------------------------------


def plan_of(run, stack: str = "dev") -> dict:
    from alex_db.tools.plan.document import build_plan
    from alex_db.tools.shared.stack_files import StackConfig

    return build_plan(stack, StackConfig(values=dict(DEV_CONFIG), secret_keys=frozenset()), run)


def test_secret_version_and_role_policy_changes_are_replacements():
    assert {"secretId", "secretString"} <= forces_replacement(
        "aws:secretsmanager/secretVersion:SecretVersion"
    )
    assert {"role", "name"} <= forces_replacement("aws:iam/rolePolicy:RolePolicy")
    assert {"role", "policyArn"} <= forces_replacement(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    )


@pytest.mark.parametrize(
    ("old", "new", "label"),
    [
        ({"running": "15.12"}, {"running": "15.12", "engineVersion": "15.13"}, "minor upgrade"),
        (
            {"running": "15.13"},
            {"running": "15.13", "engineVersion": "16.4", "allowMajorVersionUpgrade": "true"},
            "major upgrade",
        ),
        ({"running": "15.13"}, {"running": None, "engineVersion": CONFIGURED}, "refused downgrade"),
    ],
)
def test_diff_labels_engine_changes(old, new, label):
    from alex_db.tools.plan.diff import diff_plans, render_changes

    before = plan_of(run_against(old.pop("running"), **old))
    after = plan_of(run_against(new.pop("running"), **new))
    changes = diff_plans(before, after)
    (cluster_change,) = [c for c in changes if c.urn_type == CLUSTER]
    assert cluster_change.engine == label
    assert not cluster_change.replaces, "an engine version change is in place"
    assert "engineVersion: " in render_changes(changes, before, after)
    assert f"({label})" in render_changes(changes, before, after)


def test_diff_covers_the_stack_outputs(dev):
    from alex_db.tools.plan.diff import OUTPUTS, diff_plans, render_changes

    before = plan_of(dev)
    after = plan_of(run_against(None, minCapacity="0", maxCapacity="2"))
    changes = diff_plans(before, after)
    (outputs,) = [c for c in changes if c.urn == OUTPUTS]
    assert outputs.properties == ("setup_instructions",)
    assert "outputs change: stack outputs" in render_changes(changes, before, after)


def test_plan_shows_the_lifecycle_settings(production):
    from alex_db.tools.plan.text import render_text

    text = render_text(plan_of(production, "prod"))
    assert "auto minor upgrade:   on" in text
    assert "extended support:     off" in text
    assert "/aws/rds/cluster/alex-aurora-cluster-prod/postgresql: 30 days" in text
    assert "final snapshot name:  alex-aurora-cluster-prod-final-<8 hex, new per cluster>" in text


@pytest.mark.parametrize("also", [{}, {"maxCapacity": "2"}], ids=["alone", "with an update"])
def test_diff_shows_a_create_only_change_as_one_pulumi_up_leaves(dev, also):
    """Switching ``extendedSupport`` on a running stack changes engineLifecycleSupport, which the
    program ignores on update: the diff once said "updates in place" for it."""
    from alex_db.tools.plan.diff import IGNORED, diff_plans, render_changes

    before, after = plan_of(dev), plan_of(run_against(None, extendedSupport="true", **also))
    changes = diff_plans(before, after)
    (cluster,) = [c for c in changes if c.urn_type == CLUSTER]
    assert "engineLifecycleSupport" in cluster.properties
    assert cluster.ignored == ("engineLifecycleSupport",) and not cluster.replaces
    expected = "updates in place" if also else "no change by pulumi up (create-only inputs)"
    assert cluster.verdict == expected
    assert f"engineLifecycleSupport: 'open-source-rds-extended-support-disabled' -> " \
        f"'open-source-rds-extended-support'  ({IGNORED})" in render_changes(changes, before, after)
