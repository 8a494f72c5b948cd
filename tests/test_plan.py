"""``python -m alex_db plan``: tree, JSON, config merging, secrets, diff, bad-config exits."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import gc
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pulumi
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from alex_db.config.naming import PhysicalNames
from alex_db.config.parameters import parameter_family
from alex_db.config.settings import DEFAULTS
from alex_db.config.versions import parse_engine_version
from alex_db.tools.cli import main
from alex_db.tools.plan.diff import diff_plans, render_changes
from alex_db.tools.plan.earlier_plan import NEEDS, EarlierPlanError, check_plan
from alex_db.tools.plan.network import GROUP_RULE, INGRESS_RULE, INTERNET, postgres_ingress
from alex_db.tools.plan.runner import (
    Placeholders,
    ProgramRun,
    RecordedResource,
    run_program,
)
from alex_db.tools.plan.text import public_access
from alex_db.tools.shared import stack_files
from alex_db.tools.shared.stack_files import StackConfigError, load_stack_config
from tests.conftest import DEV_CONFIG, ROOT, TEST_PLACEHOLDERS

PLACEHOLDER_PASSWORD = Placeholders().password
# What the repository's stack files deploy (a stack file may pin a version the default left).
DEV_VERSION = load_stack_config("dev").values["alex-db:engineVersion"]
PROD_FAMILY = parameter_family(
    parse_engine_version(load_stack_config("prod").values["alex-db:engineVersion"])
)


def plan(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["plan", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def dev_plan_json() -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "alex_db", "plan", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "under mocks" in result.stderr
    assert "Exception ignored" not in result.stderr
    return json.loads(result.stdout)


def test_fresh_process_plan_lists_every_resource_with_parent_and_physical_name(
    dev_plan_json, dev
):
    """The plan lists what the program registers (the session's in-process run of the same
    stack), parents and physical names included."""
    resources = {r["name"]: r for r in dev_plan_json["resources"]}
    components = {r["urn"]: r["name"] for r in dev_plan_json["resources"] if r["component"]}
    assert sorted(components.values()) == sorted(r.name for r in dev.resources if not r.custom)
    assert resources["alex-aurora-cluster"]["physical_name"] == "alex-aurora-cluster"
    assert components[resources["alex-aurora-cluster"]["parent"]] == "alex-aurora"
    assert components[resources["alex-network-sg"]["parent"]] == "alex-network"
    assert resources["alex-credentials-secret"]["physical_name"] == (
        "alex-aurora-credentials-xxxxxxxx"
    )
    planned = sorted(r["urn"] for r in dev_plan_json["resources"] if not r["component"])
    assert planned == sorted(r.urn for r in dev.resources if r.custom)


def test_json_schema_and_stable_order(dev_plan_json):
    assert set(dev_plan_json) == {
        "project",
        "stack",
        "note",
        "config",
        "config_origins",
        "network",
        "resources",
        "warnings",
        "settings",
        "security",
        "iam_statements",
        "outputs",
        "cost",
    }
    urns = [r["urn"] for r in dev_plan_json["resources"]]
    assert urns == sorted(urns)
    for resource in dev_plan_json["resources"]:
        assert set(resource) == {
            "urn",
            "type",
            "name",
            "parent",
            "component",
            "protect",
            "physical_name",
            "inputs",
            "ignore_changes",
        }


def test_two_plans_are_byte_identical(capsys, dev_plan_json):
    code, out, _ = plan(capsys, "--json")
    assert code == 0
    assert json.loads(out) == dev_plan_json


def test_placeholders_are_marked(dev_plan_json):
    outputs = dev_plan_json["outputs"]
    assert ":000000000000:" in outputs["aurora_cluster_arn"]
    assert "PLACEHOLDER" in outputs["aurora_cluster_endpoint"]
    assert "PLACEHOLDER" in dev_plan_json["note"]


def test_key_settings_and_cost_for_dev(dev_plan_json):
    settings = dev_plan_json["settings"]
    assert settings["engine_version"] == DEV_VERSION
    assert (settings["min_acu"], settings["max_acu"]) == (0.5, 1)
    assert settings["data_api"] and settings["storage_encrypted"]
    assert not settings["publicly_accessible"] and not settings["deletion_protection"]
    assert settings["auto_pause_seconds"] is None
    cost = dev_plan_json["cost"]
    assert (cost["monthly_at_min"], cost["monthly_at_max"]) == (43.8, 87.6)
    assert cost["idle_monthly_with_auto_pause"] == 0.0
    assert "aws.amazon.com" in cost["source"]


def test_iam_statements_are_listed_with_their_resources(dev_plan_json):
    sids = {s["Sid"]: s for s in dev_plan_json["iam_statements"]}
    assert sids["DataApiOnThisCluster"]["Resource"] == [
        dev_plan_json["outputs"]["aurora_cluster_arn"]
    ]


@pytest.fixture(scope="module")
def dev_plan_text() -> tuple[int, str, str]:
    """``plan`` of the dev stack in text, run once: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["plan"])
    return code, out.getvalue(), err.getvalue()


def test_secret_inputs_are_masked_and_the_password_never_printed(dev_plan_json, dev_plan_text):
    resources = {r["name"]: r for r in dev_plan_json["resources"]}
    assert resources["alex-aurora-cluster"]["inputs"]["masterPassword"] == "[secret]"
    assert resources["alex-aurora-credentials"]["inputs"]["secretString"] == "[secret]"
    assert PLACEHOLDER_PASSWORD not in json.dumps(dev_plan_json)
    code, out, err = dev_plan_text
    assert code == 0
    assert PLACEHOLDER_PASSWORD not in out + err


def test_human_output_shows_tree_settings_statements_outputs_and_cost(dev_plan_text):
    code, out, err = dev_plan_text
    assert code == 0
    assert "ran the program for stack dev under mocks" in err
    assert "  alexdb:index:AuroraDatabase  alex-aurora\n" in out
    assert "    aws:rds/cluster:Cluster  alex-aurora-cluster  ->  alex-aurora-cluster\n" in out
    assert "  capacity:             0.5-1 ACU\n" in out
    assert "  Data API:             on\n" in out
    assert "  public access:        off\n" in out
    assert "  deletion protection:  off\n" in out
    assert "actions:   secretsmanager:GetSecretValue" in out
    assert "    | AURORA_CLUSTER_ARN=arn:aws:rds:us-east-1:000000000000:cluster:" in out
    assert "  at minimum capacity all month:  $43.80\n" in out
    assert "  at maximum capacity all month:  $87.60\n" in out


def test_text_view_shows_where_it_runs_what_reaches_it_and_each_values_origin(capsys):
    """Item 9: region, VPC, subnets, 5432 sources, instances, production settings, tags, and
    the effective configuration with where each value came from."""
    code, out, _ = plan(capsys, "--config", "readers=1")
    assert code == 0
    for line in [
        "  region:               us-east-1",
        "  VPC:                  vpc-PLACEHOLDER",
        "  subnets:              subnet-PLACEHOLDER-a, subnet-PLACEHOLDER-b",
        "  port 5432 from:       172.31.0.0/16  (PostgreSQL from allowed IPv4 ranges)",
        "  instances:            2 x db.serverless (1 writer, 1 reader(s))",
        "  production profile:   off",
        "  Pulumi protect:       none",
        "  changes applied:      immediately",
        "  Performance Insights: off",
        "  log exports:          none",
        "  secret recovery:      immediate deletion",
        "  Project=alex",
    ]:
        assert f"\n{line}\n" in out, line
    configuration = out.split("Effective configuration (value, and where it came from):\n")[1]
    configuration = configuration.split("\n\n")[0]  # the next command follows the table
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in configuration.splitlines()}
    assert rows["aws:region"] == ["us-east-1", "stack file (Pulumi.dev.yaml)"]
    assert rows["alex-db:readers"] == ["1", "--config"]
    pause = DEFAULTS["secondsUntilAutoPause"]
    assert rows["alex-db:secondsUntilAutoPause"] == [pause, "default (Pulumi.yaml)"]
    assert rows["alex-db:tags"] == ["-", "default (the program's)"]


def test_public_access_is_never_off_while_5432_is_open_to_the_internet(capsys):
    code, out, _ = plan(
        capsys,
        "--config",
        "allowedCidrs=0.0.0.0/0,10.0.0.0/8",
        "--config",
        "allowPublicIngress=true",
    )
    assert code == 0
    assert "\n  public access:        ON: port 5432 open to the internet (0.0.0.0/0)\n" in out
    assert (
        "0.0.0.0/0  (PostgreSQL from allowed IPv4 ranges)  <-- PUBLIC: the whole internet\n" in out
    )
    assert "public access:        off" not in out


def recorded(type_token: str, inputs: dict) -> RecordedResource:
    return RecordedResource(
        urn=f"urn:pulumi:dev::alex-db::{type_token}::r",
        type=type_token,
        name="r",
        parent_urn="",
        custom=True,
        protect=False,
        retain_on_delete=False,
        resource_id="r",
        inputs=inputs,
        secret_inputs=frozenset(),
    )


def test_standalone_ingress_rules_count_and_other_ports_do_not():
    run = ProgramRun(
        resources=[
            recorded(
                INGRESS_RULE,
                {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrIpv6": "::/0"},
            ),
            recorded(
                INGRESS_RULE,
                {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"},
            ),
            recorded(
                GROUP_RULE, {"type": "ingress", "protocol": "-1", "sourceSecurityGroupId": "sg-1"}
            ),
            recorded(GROUP_RULE, {"type": "egress", "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}),
        ],
        outputs={},
        placeholders=Placeholders(),
    )
    assert postgres_ingress(run) == [
        {"source": "::/0", "description": "", "public": True},
        {"source": "sg-1", "description": "", "public": False},
    ]


ingress_entries = st.lists(
    st.builds(
        lambda source: {"source": source, "description": "", "public": source in INTERNET},
        st.sampled_from(["0.0.0.0/0", "::/0", "10.0.0.0/8", "sg-1", "this security group"]),
    ),
    max_size=4,
)


@given(publicly_accessible=st.booleans(), ingress=ingress_entries)
def test_public_access_says_off_only_when_nothing_is_public(publicly_accessible, ingress):
    shown = public_access({"publicly_accessible": publicly_accessible}, ingress)
    exposed = publicly_accessible or any(entry["public"] for entry in ingress)
    assert (shown == "off") == (not exposed)


def test_overrides_win_over_stack_and_project_values(capsys):
    code, out, _ = plan(capsys, "--json", "--config", "minCapacity=0", "--config", "maxCapacity=8")
    assert code == 0
    document = json.loads(out)
    assert document["config"]["alex-db:minCapacity"] == "0"
    assert (document["settings"]["min_acu"], document["settings"]["max_acu"]) == (0, 8)
    assert document["settings"]["auto_pause_seconds"] == 300
    assert document["cost"]["monthly_at_max"] == 700.8
    assert document["cost"]["auto_pause_configured"] is True


def test_a_region_with_its_own_price_is_estimated_from_it(capsys):
    code, out, _ = plan(capsys, "--config", "aws:region=eu-west-2")
    assert code == 0
    estimate = out.split("Estimated compute cost per month:")[1]
    assert "eu-west-2, $0.14/ACU-hour" in estimate
    assert "EUW2-Aurora:ServerlessV2Usage" in estimate
    assert "at minimum capacity all month:  $51.10" in estimate


def test_unknown_region_says_so_instead_of_guessing(capsys):
    code, out, _ = plan(capsys, "--config", "aws:region=eu-west-1")
    assert code == 0
    assert "no price is known for region eu-west-1" in out
    assert "$" not in out.split("Estimated compute cost per month:")[1]


def test_without_a_region_the_plan_says_to_set_it(capsys):
    code, out, _ = plan(capsys, "--config", "aws:region=")
    assert code == 0
    assert (
        "no aws:region is set, so no price applies: set it (pulumi config set aws:region "
        "us-east-1, or --config aws:region=us-east-1 for a plan)"
    ) in out


def test_merge_order_is_project_then_stack_then_override(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text(
        "name: alex-db\nruntime: python\nconfig:\n"
        "  minCapacity:\n    type: string\n    default: '0.5'\n"
        "  maxCapacity:\n    type: string\n    default: '1'\n"
        "  secondsUntilAutoPause:\n    type: integer\n    default: 300\n"
    )
    (tmp_path / "Pulumi.test.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  alex-db:maxCapacity: 4\n"
        "  alex-db:note:\n    secure: v1:abcdef\n  alex-db:tags:\n    team: data\n"
    )
    config = load_stack_config("test", ["minCapacity=2"], project_dir=tmp_path)
    assert config.values["alex-db:minCapacity"] == "2"  # override
    assert config.values["alex-db:maxCapacity"] == "4"  # stack file, a YAML number
    assert config.values["alex-db:secondsUntilAutoPause"] == "300"  # project default
    assert config.values["alex-db:tags"] == '{"team": "data"}'  # objects reach programs as JSON
    assert config.values["alex-db:note"] == "[secret]"
    assert config.secret_keys == {"alex-db:note"}


@functools.cache
def repository_project_defaults() -> tuple[bytes, dict[str, str]]:
    return (ROOT / "Pulumi.yaml").read_bytes(), stack_files.project_defaults(ROOT)


@contextlib.contextmanager
def project_file_parsed_once():
    """For the stack-file properties below: every example copies the repository's Pulumi.yaml
    beside the generated stack file, and PyYAML's pure-Python parser re-read those same bytes for
    each one (most of those tests' time). ``project_defaults`` reads nothing but that file, so
    for the same bytes it answers from one real parse; a different file is still parsed. The
    stack file, the input under test, is always loaded for real."""
    real = stack_files.project_defaults
    copied, parsed = repository_project_defaults()

    def read_once(project_dir: Path = stack_files.PROJECT_DIR) -> dict[str, str]:
        if (project_dir / "Pulumi.yaml").read_bytes() != copied:
            return real(project_dir)
        return dict(parsed)  # load_stack_config adds to what it gets

    stack_files.project_defaults = read_once
    try:
        yield
    finally:
        stack_files.project_defaults = real


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(document=yaml_values | st.fixed_dictionaries({"config": yaml_values}))
def test_any_stack_file_loads_or_is_refused_in_one_line(document):
    """Whatever YAML a stack file holds, plan and preflight get values or one line."""
    with project_file_parsed_once(), tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
        (project / "Pulumi.odd.yaml").write_text(yaml.safe_dump(document))
        try:
            config = load_stack_config("odd", project_dir=project)
        except StackConfigError as error:
            assert str(error).startswith("Pulumi.odd.yaml") and "\n" not in str(error)
            return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in config.values.items())


@pytest.mark.parametrize("text", ["- a\n", "config: [1, 2]\n", "config: x\n", "text\n"])
def test_a_stack_file_that_is_not_a_mapping_exits_2_in_one_line(capsys, tmp_path, text):
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.odd.yaml").write_text(text)
    with pytest.raises(StackConfigError) as error:
        load_stack_config("odd", project_dir=tmp_path)
    assert str(error.value).startswith("Pulumi.odd.yaml") and "\n" not in str(error.value)


def test_missing_stack_lists_the_stacks_there_are(capsys):
    code, out, err = plan(capsys, "--stack", "nosuchstack")
    assert code == 2
    assert out == ""
    assert err == (
        "stack 'nosuchstack' has no Pulumi.nosuchstack.yaml; existing stacks: dev, prod "
        "(create one with: pulumi stack init nosuchstack)\n"
    )


def test_malformed_override_is_rejected():
    with pytest.raises(StackConfigError, match="is not KEY=VALUE"):
        load_stack_config("dev", ["minCapacity"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("minCapacity=0.3", "alex-db:minCapacity = '0.3' is not allowed"),
        ("maxCapacity=300", "alex-db:maxCapacity = '300' is not allowed"),
        ("engineVersion=fifteen", "alex-db:engineVersion = 'fifteen' is not allowed"),
    ],
)
def test_bad_config_exits_2_with_only_the_programs_one_line_message(capsys, override, message):
    code, out, err = plan(capsys, "--config", override)
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_diff_flags_a_cluster_replacement_as_data_loss(capsys, tmp_path, dev_plan_json):
    old = copy.deepcopy(dev_plan_json)
    cluster = next(r for r in old["resources"] if r["type"] == "aws:rds/cluster:Cluster")
    cluster["inputs"]["databaseName"] = "legacy"
    old_file = tmp_path / "old.json"
    old_file.write_text(json.dumps(old))
    code, out, _ = plan(capsys, "--diff", str(old_file))
    assert code == 0
    assert out.startswith("REPLACES — data loss: ")
    assert "alex-aurora-cluster" in out.splitlines()[0]
    assert "databaseName: 'legacy' -> 'alex'  (forces replacement)" in out


def test_diff_of_an_in_place_change_and_of_identical_plans(dev_plan_json):
    assert render_changes(diff_plans(dev_plan_json, dev_plan_json), {}, {}) == "No changes.\n"
    new = copy.deepcopy(dev_plan_json)
    cluster = next(r for r in new["resources"] if r["type"] == "aws:rds/cluster:Cluster")
    cluster["inputs"]["serverlessv2ScalingConfiguration"] = {"minCapacity": 0, "maxCapacity": 4}
    (change,) = diff_plans(dev_plan_json, new)
    assert change.verdict == "updates in place"
    assert change.properties == ("serverlessv2ScalingConfiguration",)


def test_diff_flags_a_secret_rename_and_a_removed_cluster(dev_plan_json):
    new = copy.deepcopy(dev_plan_json)
    secret = next(r for r in new["resources"] if r["type"] == "aws:secretsmanager/secret:Secret")
    secret["inputs"]["name"] = "renamed"
    new["resources"] = [r for r in new["resources"] if r["type"] != "aws:rds/cluster:Cluster"]
    verdicts = {change.urn_type: change.verdict for change in diff_plans(dev_plan_json, new)}
    assert verdicts == {
        "aws:secretsmanager/secret:Secret": "REPLACES — data loss",
        "aws:rds/cluster:Cluster": "DELETES — data loss",
    }


def test_a_plan_with_the_mock_monitors_top_level_urns_diffs_as_the_same_resources(
    dev_plan_json,
):
    """Plans made before the runner followed the engine wrote ``pulumi:pulumi:Stack$`` into
    top-level URNs; they name the same resources, so nothing is created or deleted."""
    old = copy.deepcopy(dev_plan_json)
    top_level = [r for r in old["resources"] if r["urn"].count("$") == 0]
    assert top_level, "the components are top-level"
    for resource in top_level:
        stack, project, type_token, name = resource["urn"].split("::")
        resource["urn"] = f"{stack}::{project}::pulumi:pulumi:Stack${type_token}::{name}"
    assert diff_plans(old, dev_plan_json) == []
    assert render_changes(diff_plans(old, dev_plan_json), old, dev_plan_json) == "No changes.\n"


def test_unreadable_old_plan_exits_2(capsys, tmp_path):
    broken = tmp_path / "old.json"
    broken.write_text("{not json")
    code, out, err = plan(capsys, "--diff", str(broken))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "document",
    [
        "null",
        "[]",
        "{}",
        '{"resources": "x"}',
        '{"resources": [{}]}',
        '{"resources": [{"urn": "a", "type": "t", "inputs": {}}]}',
        '{"resources": [{"urn": "urn:pulumi:dev::alex-db::t::n", "type": "t", "inputs": []}]}',
        '{"resources": [], "outputs": []}',
        "\udcff\udcfe not UTF-8",
    ],
)
def test_an_old_plan_of_the_wrong_shape_is_one_line_not_a_traceback_or_no_diff(
    capsys, tmp_path, document
):
    old = tmp_path / "old.json"
    old.write_bytes(document.encode(errors="surrogateescape"))
    code, out, err = plan(capsys, "--diff", str(old))
    assert (code, out) == (2, "")
    assert err.startswith(f"--diff {old}: ")
    assert err.count("\n") == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
plan_like = st.fixed_dictionaries(
    {
        "stack": st.just("dev"),
        "resources": st.lists(
            st.fixed_dictionaries(
                {
                    "urn": st.text(max_size=30) | st.just("urn:pulumi:dev::alex-db::t::n"),
                    "type": json_values
                    | st.sampled_from(
                        ["aws:rds/cluster:Cluster", "aws:cloudwatch/logGroup:LogGroup"]
                    ),
                    "inputs": json_values,
                }
            ),
            max_size=3,
        )
    },
    optional={"outputs": json_values},
)


@settings(max_examples=200, deadline=None)
@given(
    document=json_values
    | plan_like
    | st.fixed_dictionaries({"stack": st.just("dev"), "resources": json_values})
)
def test_any_old_plan_document_is_diffed_or_refused_in_one_line(dev_plan_json, document):
    try:
        old = check_plan(document, "old.json")
    except EarlierPlanError as error:
        assert "\n" not in str(error)
        return
    render_changes(diff_plans(old, dev_plan_json), old, dev_plan_json)
    render_changes(diff_plans(dev_plan_json, old), dev_plan_json, old)


def _egress_of(plan: dict) -> dict:
    (group,) = [r for r in plan["resources"] if "egress" in r["inputs"]]
    return group["inputs"]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda plan: _egress_of(plan).update(egress=[5]),
        lambda plan: _egress_of(plan).update(egress=[{"protocol": "-1", "cidrBlocks": 5}]),
        lambda plan: plan.update(cost={"monthly_at_min": "x"}),
        lambda plan: plan.update(cost={"monthly_at_min": [1]}),
    ],
    ids=["rule-not-a-mapping", "targets-not-a-list", "estimate-text", "estimate-list"],
)
def test_an_old_plan_with_odd_egress_rules_or_estimate_is_diffed_or_refused_in_one_line(
    dev_plan_json, spoil
):
    """The egress rule and the monthly estimate are read as a person would (issue 25 item 5), from
    a file the user names: what they hold must be checked before they are read."""
    old = copy.deepcopy(dev_plan_json)
    spoil(old)
    _egress_of(old)["description"] = "a change, so the diff is rendered"
    try:
        old = check_plan(old, "old.json")
    except EarlierPlanError as error:
        assert "\n" not in str(error)
        return
    render_changes(diff_plans(old, dev_plan_json), old, dev_plan_json)
    render_changes(diff_plans(dev_plan_json, old), dev_plan_json, old)


@pytest.fixture(scope="module")
def prod_plan_text() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["plan", "--stack", "prod"]) == 0
    return out.getvalue()


def test_prod_plan_shows_key_parameter_group_monitoring_egress_and_the_kms_grant(prod_plan_text):
    key = "arn:aws:kms:us-east-1:000000000000:key/PLACEHOLDER-key-id"
    for line in (
        f"  encryption key:       {key} (alias/alex-aurora-prod)\n",
        "  IAM DB auth:          on\n",
        f"  parameter group:      {PhysicalNames.for_stack('prod').parameter_group(PROD_FAMILY)} "
        f"({PROD_FAMILY})\n",
        "  parameters:           rds.force_ssl=1, log_min_duration_statement=1000, "
        "log_connections=1, log_disconnections=1\n",
        "  enhanced monitoring:  every 60 s, role "
        "arn:aws:iam::000000000000:role/alex-aurora-monitoring-role-prod\n",
        "  database egress:      none\n",
        "DecryptThisSecretViaSecretsManager: Allow\n      actions:   kms:Decrypt\n"
        f"      resources: {key}\n"
        '      condition: {"StringEquals": {"kms:ViaService": '
        '"secretsmanager.us-east-1.amazonaws.com"}}\n',
    ):
        assert line in prod_plan_text


def test_dev_plan_shows_the_seeds_keys_and_egress(dev_plan_json):
    security = dev_plan_json["security"]
    assert security["kms_key"] is None and security["kms_aliases"] == []
    assert security["parameters"] == {"rds.force_ssl": "1"}
    assert (security["monitoring_interval"], security["monitoring_role"]) == (0, None)
    assert [rule["cidrBlocks"] for rule in security["egress"]] == [["0.0.0.0/0"]]
    assert not security["iam_database_authentication"]


def test_diff_flags_adopting_a_customer_managed_key_as_cluster_replacement(capsys, tmp_path):
    code, before, _ = plan(
        capsys, "--stack", "prod", "--config", "alex-db:customerManagedKey=false", "--json"
    )
    assert code == 0
    old_file = tmp_path / "before.json"
    old_file.write_text(before)
    code, out, _ = plan(capsys, "--stack", "prod", "--diff", str(old_file))
    assert code == 0
    cluster_line = next(line for line in out.splitlines() if line.endswith("alex-aurora-cluster"))
    assert cluster_line.startswith("REPLACES — data loss: ")
    assert "    kmsKeyId: None -> 'arn:aws:kms:us-east-1:000000000000:key/PLACEHOLDER-key-id'  (forces replacement)" in out
    secret_line = next(line for line in out.splitlines() if line.endswith("alex-credentials-secret"))
    assert secret_line.startswith("updates in place: "), "the secret changes key in place"


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[]", b"{}", b'{"stack": "dev", "resources": [1]}', b"\xff\xfe{}"],
    ids=["not-json", "list", "empty-object", "bad-resource", "not-utf8"],
)
def test_diff_of_what_is_not_a_plan_names_diff_and_what_it_needs(capsys, tmp_path, content):
    old = tmp_path / "old.json"
    old.write_bytes(content)
    code, out, err = plan(capsys, "--diff", str(old))
    assert (code, out) == (2, "")
    assert err.startswith(f"--diff {old}: not a")
    assert err.endswith("; it needs the output of `alex-db plan --json`\n")
    assert err.count("\n") == 1


def test_documents_nested_past_pythons_recursion_limit_are_one_line(capsys, tmp_path):
    """json and PyYAML raise RecursionError, not their own errors, for deep nesting."""
    (tmp_path / "deep.json").write_text("[" * 100_000)
    code, out, err = plan(capsys, "--diff", str(tmp_path / "deep.json"))
    assert (code, out) == (2, "")
    assert err == f"--diff {tmp_path / 'deep.json'}: not a JSON plan; {NEEDS}\n"
    (tmp_path / "Pulumi.yaml").write_bytes((ROOT / "Pulumi.yaml").read_bytes())
    # PyYAML's composer takes two frames a level: this overflows whatever the limit is.
    levels = sys.getrecursionlimit() // 2 + 10
    (tmp_path / "Pulumi.deep.yaml").write_text("config:\n  a: " + "[" * levels + "]" * levels)
    with pytest.raises(StackConfigError, match="^Pulumi.deep.yaml is nested too deeply"):
        load_stack_config("deep", project_dir=tmp_path)


def test_diffing_plans_of_two_stacks_is_refused(capsys, tmp_path, dev_plan_json):
    old = tmp_path / "prod.json"
    old.write_text(json.dumps({**dev_plan_json, "stack": "prod"}))
    code, out, err = plan(capsys, "--diff", str(old))
    assert (code, out) == (2, "")
    assert err == (
        f"--diff {old}: a plan of stack 'prod', not 'dev'; compare plans of one stack "
        "(--stack prod for that one)\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"- a\n- b\n", "Pulumi.bad.yaml is not a YAML mapping (it holds a list)"),
        (b"config: [1, 2]\n", "Pulumi.bad.yaml: `config:` is not a mapping of keys to values"),
        (b"config:\n  1: x\n", "Pulumi.bad.yaml: config key 1 is not a name"),
        (
            b"config:\n  a: caf\xe9\n",
            "Pulumi.bad.yaml is not UTF-8 text (byte 16 cannot be decoded)",
        ),
    ],
)
def test_a_stack_file_that_is_not_a_mapping_or_not_utf8_is_one_line(tmp_path, content, message):
    (tmp_path / "Pulumi.yaml").write_bytes((ROOT / "Pulumi.yaml").read_bytes())
    (tmp_path / "Pulumi.bad.yaml").write_bytes(content)
    with pytest.raises(StackConfigError) as error:
        load_stack_config("bad", project_dir=tmp_path)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


@given(
    content=st.binary(max_size=120) | json_values.map(lambda v: json.dumps({"config": v}).encode())
)
def test_any_bytes_as_a_stack_file_load_or_are_one_line(content):
    with project_file_parsed_once(), tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "Pulumi.yaml").write_bytes((ROOT / "Pulumi.yaml").read_bytes())
        (project / "Pulumi.any.yaml").write_bytes(content)
        try:
            config = load_stack_config("any", project_dir=project)
        except StackConfigError as error:
            assert "\n" not in str(error)
            return
        assert all(isinstance(value, str) for value in config.values.values())


def open_event_loops() -> list[asyncio.AbstractEventLoop]:
    gc.collect()
    return [
        o for o in gc.get_objects() if isinstance(o, asyncio.BaseEventLoop) and not o.is_closed()
    ]


def test_a_run_leaves_no_event_loop_open_for_the_interpreter_to_finalise():
    """An open loop finalised at exit printed "Exception ignored ... Invalid file descriptor: -1"
    after about one successful plan in five (issue 10, item 10)."""
    run_program("dev", DEV_CONFIG, TEST_PLACEHOLDERS)
    assert open_event_loops() == []
    with pytest.raises(pulumi.RunError):
        run_program("dev", {**DEV_CONFIG, "alex-db:minCapacity": "-1"}, TEST_PLACEHOLDERS)
    assert open_event_loops() == []
