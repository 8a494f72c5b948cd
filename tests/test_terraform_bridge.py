"""``alex-db env --terraform-state PATH --tfvars PATH``: the stack's outputs where Alex's Terraform
parts 6 and 7 read them, driven through the command as a user runs it.

The files are checked against the rules Terraform's own reader applies (hashicorp/terraform
``internal/states/statefile/version4.go`` and ``read.go``; HCL's ``hclsyntax/spec.md``), and,
where a ``terraform`` binary is on the PATH, read back by Terraform itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alex_db.tools.cli import main
from alex_db.tools.shared import tfvars

CLUSTER_ARN = "arn:aws:rds:eu-west-2:123456789012:cluster:alex-aurora-cluster"
SECRET_ARN = (
    "arn:aws:secretsmanager:eu-west-2:123456789012:secret:alex-aurora-credentials-0a1b2c3d-AbCdEf"
)
OUTPUTS = {
    "aurora_cluster_arn": CLUSTER_ARN,
    "aurora_cluster_endpoint": "alex-aurora-cluster.cluster-abc.eu-west-2.rds.amazonaws.com",
    "aurora_secret_arn": SECRET_ARN,
    "database_name": "alex",
    "lambda_role_arn": "arn:aws:iam::123456789012:role/alex-lambda-aurora-role",
    "data_api_enabled": "Enabled",
    "setup_instructions": "Aurora Serverless v2 PostgreSQL is deployed.\n...",
}
STATE = "terraform/5_database/terraform.tfstate"
TFVARS = "terraform/6_agents/terraform.tfvars"
# What the user's own Terraform part 5 left behind (shape of a real terraform.tfstate).
TERRAFORM_PART_5 = {
    "version": 4,
    "terraform_version": "1.9.8",
    "serial": 23,
    "lineage": "5b1c1d9e-8f51-2a3e-0c4d-6b7a8e9f0a1b",
    "outputs": {
        "aurora_cluster_arn": {"value": "arn:aws:rds:us-east-1:1:cluster:old", "type": "string"}
    },
    "resources": [
        {
            "mode": "managed",
            "type": "aws_rds_cluster",
            "name": "aurora",
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [{"schema_version": 0, "attributes": {"id": "alex-aurora-cluster"}}],
        },
        {
            "mode": "managed",
            "type": "aws_secretsmanager_secret",
            "name": "db_credentials",
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [],
        },
    ],
    "check_results": None,
}
PART_6_TFVARS = """\
# Part 6: the agents
aws_region   = "eu-west-2"
openai_api_key="sk-keep"   # spacing as the user left it

aurora_cluster_arn = "arn:aws:rds:us-east-1:1:cluster:old"  # from part 5
aurora_secret_arn  = <<-EOT
    arn:aws:secretsmanager:us-east-1:1:secret:old
  EOT
bedrock_model_id = "us.amazon.nova-pro-v1:0"
prompt = <<EOF
aurora_cluster_arn = "inside a heredoc, not an assignment"
EOF
/* aurora_secret_arn = "inside a comment" */
tags = {
  aurora_cluster_arn = "inside an object, not the variable"
  note               = "a } in a string and a ${var.x} interpolation"
}
"""


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """An Alex checkout: its Terraform parts, and the stack outputs saved as JSON."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "terraform" / "5_database").mkdir(parents=True)
    (tmp_path / "terraform" / "6_agents").mkdir()
    (tmp_path / "outputs.json").write_text(json.dumps(OUTPUTS))
    return tmp_path


def env(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["env", "--outputs", "outputs.json", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def refused_untouched(folder: Path, capsys, args, message) -> str:
    before = snapshot(folder)
    code, out, err = env(capsys, *args)
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and err.startswith("✗ ") and message in err, err
    assert snapshot(folder) == before, "a refused run changed or left a file"
    return err


# --- the format rules, as Terraform's reader applies them -----------------------------------

# hashicorp/terraform internal/states/statefile/version4.go, type stateV4: the fields a
# version-4 snapshot has; outputStateV4: value, type (cty JSON), sensitive.
STATE_FIELDS = {"version", "terraform_version", "serial", "lineage", "outputs", "resources"}
PRIMITIVE_TYPES = {"string": str, "number": (int, float), "bool": bool}


def conforms(value, cty_type) -> bool:
    """Whether ``value`` decodes as ``cty_type`` the way go-cty's ``ctyjson.Unmarshal`` does
    (zclconf/go-cty cty/json/type.go and unmarshal.go: a primitive is a name, a structural type
    a two-element list)."""
    if isinstance(cty_type, str):
        if cty_type == "bool":
            return isinstance(value, bool)
        return isinstance(value, PRIMITIVE_TYPES[cty_type]) and not isinstance(value, bool)
    kind, inner = cty_type
    if kind == "tuple":
        return (
            isinstance(value, list)
            and len(value) == len(inner)
            and all(conforms(v, t) for v, t in zip(value, inner, strict=True))
        )
    if kind == "object":
        return (
            isinstance(value, dict)
            and value.keys() == inner.keys()
            and all(conforms(value[k], inner[k]) for k in inner)
        )
    raise AssertionError(f"not a cty type alex-db writes: {cty_type!r}")


def version_tuple(text: str) -> tuple[int, ...]:
    assert re.fullmatch(r"\d+\.\d+\.\d+", text), text
    return tuple(int(part) for part in text.split("."))


def assert_terraform_reads(path: Path) -> dict:
    """The file is a state snapshot every Terraform that Alex's parts accept (>= 1.5) reads."""

    def no_constants(name):
        raise AssertionError(f"{name} is not JSON (Go's encoding/json refuses it)")

    document = json.loads(path.read_text(encoding="utf-8"), parse_constant=no_constants)
    assert set(document) == STATE_FIELDS
    assert document["version"] == 4 and type(document["version"]) is int
    # Terraform before 0.15 refused a snapshot from a newer version (read.go, removed in
    # dc2e7520e5); Alex's parts require >= 1.5, so 1.5.0 is never newer than the reader.
    assert version_tuple(document["terraform_version"]) <= (1, 5, 0)
    assert type(document["serial"]) is int and 0 <= document["serial"] < 2**64
    assert isinstance(document["lineage"], str) and document["lineage"]
    assert document["resources"] == []
    for name, output in document["outputs"].items():
        assert set(output) == {"value", "type"}, name
        assert conforms(output["value"], output["type"]), name
    return document


# --- --terraform-state -------------------------------------------------------------------------


def test_a_new_state_holds_every_output_for_part_7_and_terraform_reads_it(checkout, capsys):
    code, _, err = env(capsys, "--terraform-state", STATE)
    assert code == 0, err
    document = assert_terraform_reads(checkout / STATE)
    assert document["serial"] == 1
    assert uuid.UUID(document["lineage"]).version == 4  # random, as statemgr/lineage.go makes one
    assert {name: o["value"] for name, o in document["outputs"].items()} == OUTPUTS
    assert all(o["type"] == "string" for o in document["outputs"].values())
    assert f"{STATE}: wrote" in err
    assert (checkout / ".env").is_file(), ".env is written as before"


def test_a_secret_output_never_reaches_the_state_file(checkout, capsys):
    """`pulumi stack output --json` prints a secret as "[secret]" (pulumi/pulumi
    pkg/backend/display/json.go, massagePropertyValue): it is left out, not written as a value."""
    (checkout / "outputs.json").write_text(
        json.dumps(OUTPUTS | {"master_password": "[secret]", "nested": {"k": ["[secret]"]}})
    )
    assert env(capsys, "--terraform-state", STATE)[0] == 0
    outputs = assert_terraform_reads(checkout / STATE)["outputs"]
    assert set(outputs) == set(OUTPUTS)


def test_outputs_of_other_json_types_get_their_cty_types(checkout, capsys):
    (checkout / "outputs.json").write_text(
        json.dumps(OUTPUTS | {"n": 2, "on": True, "ids": ["a", 1], "o": {"k": [False]}, "z": None})
    )
    assert env(capsys, "--terraform-state", STATE)[0] == 0
    outputs = assert_terraform_reads(checkout / STATE)["outputs"]
    assert outputs["ids"] == {"value": ["a", 1], "type": ["tuple", ["string", "number"]]}
    assert outputs["o"]["type"] == ["object", {"k": ["tuple", ["bool"]]}]
    assert outputs["on"]["type"] == "bool" and outputs["n"]["type"] == "number"
    assert "z" not in outputs, "null has no type of its own"


def test_an_output_nested_deeper_than_any_stack_exports_is_left_out_not_a_traceback(
    checkout, capsys
):
    """json.loads reads about 990 levels; walking 900 of them for a type once overflowed
    Python's stack."""
    deep = "[" * 900 + "]" * 900
    (checkout / "outputs.json").write_text(json.dumps(OUTPUTS)[:-1] + f', "deep": {deep}}}')
    code, _, err = env(capsys, "--terraform-state", STATE)
    assert code == 0, err
    outputs = assert_terraform_reads(checkout / STATE)["outputs"]
    assert set(outputs) == set(OUTPUTS)


def test_flags_win_in_the_state_as_in_env(checkout, capsys):
    assert env(capsys, "--terraform-state", STATE, "--database", "alex_test")[0] == 0
    outputs = assert_terraform_reads(checkout / STATE)["outputs"]
    assert outputs["database_name"]["value"] == "alex_test"


def test_a_file_alex_db_wrote_is_rewritten_in_place_same_lineage_next_serial(checkout, capsys):
    env(capsys, "--terraform-state", STATE)
    first = assert_terraform_reads(checkout / STATE)
    code, _, err = env(capsys, "--terraform-state", STATE)
    assert code == 0 and f"{STATE}: already up to date" in err, err
    assert assert_terraform_reads(checkout / STATE) == first, "no change, no new serial"
    assert env(capsys, "--terraform-state", STATE, "--database", "alex_two")[0] == 0
    second = assert_terraform_reads(checkout / STATE)
    assert second["lineage"] == first["lineage"]
    assert second["serial"] == first["serial"] + 1
    assert second["outputs"]["database_name"]["value"] == "alex_two"


def test_a_destroyed_terraform_part_5_is_taken_over_keeping_its_lineage(checkout, capsys):
    """After `terraform destroy` the file tracks nothing: nothing is lost by writing it, and
    Terraform's rule for a rewrite (same lineage, a greater serial) holds."""
    (checkout / STATE).write_text(json.dumps(TERRAFORM_PART_5 | {"resources": [], "outputs": {}}))
    assert env(capsys, "--terraform-state", STATE)[0] == 0
    document = assert_terraform_reads(checkout / STATE)
    assert (document["lineage"], document["serial"]) == (TERRAFORM_PART_5["lineage"], 24)


def test_an_empty_file_is_no_state_yet(checkout, capsys):
    """read.go: an empty file is ErrNoState, not a broken one."""
    (checkout / STATE).write_bytes(b"")
    assert env(capsys, "--terraform-state", STATE)[0] == 0
    assert assert_terraform_reads(checkout / STATE)["serial"] == 1


def test_a_state_that_tracks_resources_is_never_overwritten(checkout, capsys):
    (checkout / STATE).write_text(json.dumps(TERRAFORM_PART_5, indent=2))
    err = refused_untouched(
        checkout,
        capsys,
        ["--terraform-state", STATE, "--tfvars", TFVARS],
        f"✗ {STATE}: it tracks 2 resources of a Terraform deployment "
        "(aws_rds_cluster.aurora, aws_secretsmanager_secret.db_credentials)",
    )
    assert "terraform destroy" in err and "move" in err
    assert not (checkout / ".env").exists(), "nothing is written when one file is refused"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "not a Terraform state file (not JSON"),
        (b"[4]", 'not a Terraform state file (no "version")'),
        (json.dumps({"version": 3, "serial": 1, "modules": []}).encode(), "format version 3"),
        (json.dumps({"version": 4, "serial": "x", "lineage": "l"}).encode(), "serial"),
        (json.dumps({"version": 4, "serial": 1, "resources": {}}).encode(), "resources"),
        (b"\xff\xfe", "not UTF-8"),
    ],
    ids=["garbage", "no-version", "version-3", "bad-serial", "bad-resources", "not-utf8"],
)
def test_anything_that_is_not_a_version_4_state_is_refused_untouched(
    checkout, capsys, content, message
):
    (checkout / STATE).write_bytes(content)
    refused_untouched(checkout, capsys, ["--terraform-state", STATE], message)


def test_a_symlink_to_a_tracked_state_is_refused_and_a_loop_stays_a_loop(checkout, capsys):
    (checkout / "real.tfstate").write_text(json.dumps(TERRAFORM_PART_5))
    (checkout / STATE).symlink_to(checkout / "real.tfstate")
    refused_untouched(checkout, capsys, ["--terraform-state", STATE], "it tracks 2 resources")
    (checkout / STATE).unlink()
    (checkout / STATE).symlink_to("loop.tfstate")
    (checkout / "terraform/5_database/loop.tfstate").symlink_to("terraform.tfstate")
    refused_untouched(checkout, capsys, ["--terraform-state", STATE], "symlink loop")


def test_a_symlink_to_an_empty_state_is_written_through(checkout, capsys):
    (checkout / "real.tfstate").write_bytes(b"")
    (checkout / STATE).symlink_to(checkout / "real.tfstate")
    assert env(capsys, "--terraform-state", STATE)[0] == 0
    assert (checkout / STATE).is_symlink()
    assert_terraform_reads(checkout / "real.tfstate")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: (p / STATE).mkdir(), "it is a directory"),
        (lambda p: os.mkfifo(p / STATE), "it is not a regular file"),
        (lambda p: ((p / STATE).write_text(""), (p / STATE).chmod(0o444)), "it is read-only"),
        (lambda p: (p / STATE).parent.chmod(0o555), "read-only"),
    ],
    ids=["directory", "fifo", "read-only-file", "read-only-folder"],
)
def test_paths_that_cannot_be_updated_in_place_are_refused_untouched(
    checkout, capsys, make, message
):
    make(checkout)
    try:
        refused_untouched(checkout, capsys, ["--terraform-state", STATE], message)
    finally:
        (checkout / STATE).parent.chmod(0o755)


resource = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["managed", "data"]),
        "type": st.text(min_size=1, max_size=12),
        "name": st.text(min_size=1, max_size=12),
    },
    optional={"instances": st.lists(st.dictionaries(st.text(max_size=5), st.integers()))},
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    resources=st.lists(resource, min_size=1, max_size=4),
    extra=st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=3),
    version=st.sampled_from([4, 3, 5, "4"]),
)
def test_any_state_with_resources_is_refused_unchanged(resources, extra, version):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "terraform.tfstate"
        content = json.dumps(extra | {"version": version, "resources": resources}).encode()
        path.write_bytes(content)
        code, err = env_writing("--terraform-state", path)
        assert code == 2 and err.count("\n") == 1 and err.startswith("✗ "), err
        assert path.read_bytes() == content
        assert os.listdir(folder) == ["terraform.tfstate"]


@settings(max_examples=100, deadline=None)
@given(content=st.binary(max_size=150) | st.text(max_size=150).map(str.encode))
@example(content=b'{"version": 4, "serial": 18446744073709551615, "lineage": "l"}')
@example(content=b'{"version": 4.0, "serial": 1, "lineage": "l", "resources": null}')
def test_any_bytes_in_a_state_file_are_refused_untouched_or_replaced_by_a_state(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "terraform.tfstate"
        path.write_bytes(content)
        code, err = env_writing("--terraform-state", path)
        assert code in (0, 2) and err.count("\n") == 1, err
        assert os.listdir(folder) == ["terraform.tfstate"]
        if code == 2:
            assert path.read_bytes() == content
        else:
            assert assert_terraform_reads(path)["outputs"]["aurora_cluster_arn"] == {
                "value": CLUSTER_ARN,
                "type": "string",
            }


def env_writing(flag: str, path: Path) -> tuple[int, str]:
    """``env`` with the ARNs as flags, ``.env`` to standard output and ``flag`` naming ``path``."""
    return run_quietly(
        ["env", "--cluster-arn", CLUSTER_ARN, "--secret-arn", SECRET_ARN, "--file", "-",
         flag, str(path)]
    )


def run_quietly(argv: list[str]) -> tuple[int, str]:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, stderr.getvalue()


# --- --tfvars -----------------------------------------------------------------------------------


def test_a_new_tfvars_file_sets_the_two_variables(checkout, capsys):
    code, _, err = env(capsys, "--tfvars", TFVARS)
    assert code == 0, err
    assert (checkout / TFVARS).read_text() == (
        f'aurora_cluster_arn = "{CLUSTER_ARN}"\naurora_secret_arn = "{SECRET_ARN}"\n'
    )
    assert f"{TFVARS}: wrote aurora_cluster_arn, aurora_secret_arn" in err


def test_part_6s_tfvars_keeps_every_other_byte(checkout, capsys):
    (checkout / TFVARS).write_text(PART_6_TFVARS)
    assert env(capsys, "--tfvars", TFVARS)[0] == 0
    expected = PART_6_TFVARS.replace(
        'aurora_cluster_arn = "arn:aws:rds:us-east-1:1:cluster:old"  # from part 5',
        f'aurora_cluster_arn = "{CLUSTER_ARN}"  # from part 5',
    ).replace(
        "aurora_secret_arn  = <<-EOT\n    arn:aws:secretsmanager:us-east-1:1:secret:old\n  EOT\n",
        f'aurora_secret_arn  = "{SECRET_ARN}"\n',
    )
    assert (checkout / TFVARS).read_text() == expected
    code, _, err = env(capsys, "--tfvars", TFVARS)
    assert code == 0 and f"{TFVARS}: already up to date" in err


def test_crlf_and_a_missing_final_newline_are_kept(checkout, capsys):
    (checkout / TFVARS).write_bytes(b'# mine\r\naurora_cluster_arn = "x"\r\nregion = "a"')
    assert env(capsys, "--tfvars", TFVARS)[0] == 0
    assert (checkout / TFVARS).read_bytes() == (
        f'# mine\r\naurora_cluster_arn = "{CLUSTER_ARN}"\r\nregion = "a"\r\n'
        f'aurora_secret_arn = "{SECRET_ARN}"\r\n'
    ).encode()


def test_values_are_hcl_strings_with_every_special_sequence_escaped():
    """hashicorp/hcl hclsyntax/spec.md: in a quoted template `\\"` and `\\\\` are escapes, and
    `${` / `%{` open an interpolation or directive unless doubled (`$${`, `%%{`)."""
    assert tfvars.hcl_string('a"b\\c${d}%{e}') == '"a\\"b\\\\c$${d}%%{e}"'
    assert tfvars.hcl_string("$$") == '"$$"', "a $ not followed by { stays as it is"
    assert tfvars.hcl_string("a\nb\x00\U000e0001") == '"a\\u000ab\\u0000\\U000e0001"'


def test_two_flags_naming_one_file_are_refused(checkout, capsys):
    (checkout / "link.tfvars").symlink_to(".env")
    refused_untouched(
        checkout, capsys, ["--tfvars", "link.tfvars"], "link.tfvars: the same file as .env"
    )


def test_only_the_env_file_can_be_standard_output(checkout, capsys):
    refused_untouched(
        checkout, capsys, ["--file", "-", "--tfvars", "-"], "--tfvars -: only --file can be"
    )


def test_a_value_that_cannot_be_written_to_stdout_is_one_line(checkout, capsys):
    refused_untouched(
        checkout,
        capsys,
        ["--file", "-", "--terraform-state", STATE, "--database", "a\x1bb"],
        "✗ -: AURORA_DATABASE: the value",
    )


def test_an_output_with_a_lone_surrogate_is_written_as_an_escape(checkout, capsys):
    """JSON may escape half a surrogate pair; json.loads keeps it, and UTF-8 cannot encode it."""
    (checkout / "outputs.json").write_text(json.dumps(OUTPUTS)[:-1] + ', "odd": "\\udcff"}')
    assert env(capsys, "--terraform-state", STATE)[0] == 0
    assert "\\udcff" in (checkout / STATE).read_text()
    assert_terraform_reads(checkout / STATE)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('aurora_cluster_arn = "a"\naurora_cluster_arn = "b"\n', "set twice (lines 1 and 2)"),
        ('x = "unclosed\n', "an unclosed string"),
        ("x = <<EOT\nno end\n", "an unclosed heredoc"),
        ("/* x = 1\n", "an unclosed comment"),
        ("x = [1,\n", "an unclosed bracket"),
        ("x = 1]\n", "a closing bracket"),
    ],
    ids=["duplicate", "string", "heredoc", "comment", "bracket", "extra-bracket"],
)
def test_a_tfvars_file_hcl_would_not_read_is_refused_untouched(checkout, capsys, content, message):
    (checkout / TFVARS).write_text(content)
    refused_untouched(checkout, capsys, ["--tfvars", TFVARS], message)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: (p / TFVARS).mkdir(), "it is a directory"),
        (lambda p: os.mkfifo(p / TFVARS), "it is not a regular file"),
        (lambda p: ((p / TFVARS).write_text("x = 1\n"), (p / TFVARS).chmod(0o444)), "read-only"),
        (lambda p: (p / TFVARS).parent.chmod(0o555), "read-only"),
        (lambda p: (p / TFVARS).symlink_to("terraform.tfvars"), "symlink loop"),
    ],
    ids=["directory", "fifo", "read-only-file", "read-only-folder", "symlink-loop"],
)
def test_tfvars_paths_that_cannot_be_updated_in_place_are_refused_untouched(
    checkout, capsys, make, message
):
    make(checkout)
    try:
        refused_untouched(checkout, capsys, ["--tfvars", TFVARS], message)
    finally:
        (checkout / TFVARS).parent.chmod(0o755)


def test_a_tfvars_symlink_is_written_through_to_its_target(checkout, capsys):
    (checkout / "shared.tfvars").write_text('# shared\nregion = "eu-west-2"\n')
    (checkout / TFVARS).symlink_to(checkout / "shared.tfvars")
    assert env(capsys, "--tfvars", TFVARS)[0] == 0
    assert (checkout / TFVARS).is_symlink()
    assert (checkout / "shared.tfvars").read_text().startswith('# shared\nregion = "eu-west-2"\n')
    assert tfvars.assignments((checkout / "shared.tfvars").read_text())["aurora_secret_arn"] == (
        f'"{SECRET_ARN}"'
    )


def test_templates_nested_beyond_pythons_stack_are_one_line(checkout, capsys):
    (checkout / TFVARS).write_text("x = " + '"${' * 3000 + "1" + '}"' * 3000 + "\n")
    refused_untouched(checkout, capsys, ["--tfvars", TFVARS], "nested deeper than")


def test_a_json_variables_file_is_refused(checkout, capsys):
    """Terraform reads a variables file whose name ends in .json as HCL's JSON syntax
    (hashicorp/terraform internal/configs/parser.go, LoadHCLFile)."""
    (checkout / "vars.tfvars.json").write_text("{}")
    refused_untouched(checkout, capsys, ["--tfvars", "vars.tfvars.json"], "JSON")


# Top-level pieces of a tfvars file: (text, name it assigns or None). Hostile ones mention the
# two names where they are not assignments: in strings, heredocs, comments and objects.
OTHER_PIECES = [
    '# aurora_cluster_arn = "commented out"\n',
    '// aurora_secret_arn = "x"\n',
    "\n",
    "\r\n",
    '   region   =   "eu-west-2"   \n',
    'note = "aurora_secret_arn = \\"x\\" ${var.y} }"\n',
    'doc = <<EOT\naurora_cluster_arn = "x"\n  EOT\n',
    "doc2 = <<-EOT\n  ${a} }\n  EOT\n",
    'obj = {\n  aurora_cluster_arn = "x" /* } */\n  list = [1, [2], {a = 3}]\n}\n',
    'tagged = { "k" = "v" }\n',
    "/* a\n aurora_secret_arn = 1\n*/\n",
    "n = 1 # trailing\n",
    'p = "%%{ literal }$${ also }"\n',
    "x-y = true\n",
]
OURS = {"aurora_cluster_arn": CLUSTER_ARN, "aurora_secret_arn": SECRET_ARN}
OLD_VALUES = [
    '"arn:old"',
    '"a\\"b"',
    "<<EOT\nold\nEOT",
    "<<-X\n  old\n  X",
    '"${var.x}"',
    "var.y",
    '["x"]',
]


@st.composite
def tfvars_files(draw):
    """(content, expected): a file of random pieces, each of ours at most once (HCL refuses a
    name set twice), and the same file with only our values replaced and the missing appended."""
    pieces = draw(st.lists(st.sampled_from(OTHER_PIECES), max_size=8))
    expected = list(pieces)
    present = draw(st.lists(st.sampled_from(sorted(OURS)), unique=True, max_size=2))
    for name in present:
        at = draw(st.integers(0, len(pieces)))
        space = draw(st.sampled_from([" = ", "=", "  =  ", "\t= "]))
        old = draw(st.sampled_from(OLD_VALUES))
        # A heredoc's closing marker stands alone on its line: no comment can follow it.
        comments = [] if old.startswith("<<") else ["  # keep me\n", " // and me\n"]
        tail = draw(st.sampled_from(["\n", "\r\n", *comments]))
        pieces.insert(at, f"{name}{space}{old}{tail}")
        expected.insert(at, f"{name}{space}{tfvars.hcl_string(OURS[name])}{tail}")
    content = "".join(pieces)
    newline = "\r\n" if "\r\n" in content else "\n"
    appended = "".join(
        f"{name} = {tfvars.hcl_string(value)}{newline}"
        for name, value in OURS.items()
        if name not in present
    )
    return content, "".join(expected) + appended


@settings(max_examples=100, deadline=None)
@given(file=tfvars_files())
@example(
    file=(
        "x = 1",
        f'x = 1\naurora_cluster_arn = "{CLUSTER_ARN}"\naurora_secret_arn = "{SECRET_ARN}"\n',
    )
)
def test_any_tfvars_content_survives_byte_for_byte_except_the_two_values(file):
    content, expected = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "terraform.tfvars"
        path.write_bytes(content.encode())
        code, err = env_writing("--tfvars", path)
        assert code == 0, err
        assert path.read_bytes().decode() == expected


@settings(max_examples=80, deadline=None)
@given(content=st.binary(max_size=120) | st.text(max_size=120).map(str.encode))
def test_any_bytes_in_a_tfvars_file_either_merge_or_are_refused_untouched(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "terraform.tfvars"
        path.write_bytes(content)
        code, err = env_writing("--tfvars", path)
        assert code in (0, 2) and err.count("\n") == 1, err
        assert sorted(os.listdir(folder)) == ["terraform.tfvars"]
        if code == 2:
            assert path.read_bytes() == content
        else:
            found = tfvars.assignments(path.read_text())
            assert {name: found.get(name) for name in OURS} == {
                name: tfvars.hcl_string(value) for name, value in OURS.items()
            }


# --- Terraform itself, where it is installed -------------------------------------------------

PART_7_MAIN_TF = """\
data "terraform_remote_state" "database" {
  backend = "local"
  config = {
    path = "../5_database/terraform.tfstate"
  }
}
"""
PART_6_MAIN_TF = """\
variable "aurora_cluster_arn" { type = string }
variable "aurora_secret_arn" { type = string }
"""


def terraform_console(folder: Path, expression: str) -> str:
    """`terraform console -plan` (Terraform 1.7+) in ``folder``: what a user's Terraform reads."""
    result = subprocess.run(
        ["terraform", "console", "-plan"],
        input=expression,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(folder),
            "TF_CLI_CONFIG_FILE": os.devnull,
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
        },
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on the PATH")
def test_terraform_reads_both_files_as_parts_6_and_7_do(checkout, capsys):
    (checkout / "terraform" / "7_frontend").mkdir()
    (checkout / "terraform" / "7_frontend" / "main.tf").write_text(PART_7_MAIN_TF)
    (checkout / "terraform" / "6_agents" / "main.tf").write_text(PART_6_MAIN_TF)
    (checkout / TFVARS).write_text(PART_6_TFVARS.split("tags = {")[0])
    assert env(capsys, "--terraform-state", STATE, "--tfvars", TFVARS)[0] == 0
    read = terraform_console(
        checkout / "terraform" / "7_frontend",
        "jsonencode(data.terraform_remote_state.database.outputs)\n",
    )
    assert json.loads(json.loads(read)) == OUTPUTS
    part_6 = checkout / "terraform" / "6_agents"
    (part_6 / "main.tf").write_text(
        PART_6_MAIN_TF
        + "".join(
            f'variable "{n}" {{}}\n'
            for n in ("aws_region", "openai_api_key", "bedrock_model_id", "prompt")
        )
    )
    read = terraform_console(
        part_6, "jsonencode([var.aurora_cluster_arn, var.aurora_secret_arn])\n"
    )
    assert json.loads(json.loads(read)) == [CLUSTER_ARN, SECRET_ARN]


# --- what Go's JSON reader sees that a Python dict does not ------------------------------------


@pytest.mark.parametrize(
    "key", ["Resources", "RESOURCES", "re\u017fources"], ids=["title", "upper", "long-s"]
)
def test_a_state_terraform_reads_as_tracking_resources_is_never_overwritten_whatever_the_case(
    checkout, capsys, key
):
    """Terraform reads the snapshot with Go's encoding/json, which matches a key to the field
    ``resources`` ignoring case ("Resources", and "reſources" through Unicode folding): for
    Terraform such a file tracks resources (`terraform state list` lists them) and must stay."""
    document = dict(TERRAFORM_PART_5)
    tracked = document.pop("resources")
    document["resources"] = []
    document[key] = tracked  # the last of two matching keys is the one Go keeps
    (checkout / STATE).write_text(json.dumps(document))
    refused_untouched(checkout, capsys, ["--terraform-state", STATE], "it tracks 2 resources")


@pytest.mark.parametrize("key", ["Version", "Serial", "LINEAGE"])
def test_a_state_with_a_field_spelled_in_another_case_is_refused_untouched(checkout, capsys, key):
    """Go keeps the last of "serial" and "Serial"; a Python dict keeps both apart, so the serial
    or lineage alex-db would carry on could differ from what Terraform read: not guessed."""
    document = {"version": 4, "serial": 1, "lineage": "l", "outputs": {}, "resources": []}
    document[key] = document[key.lower()]
    (checkout / STATE).write_text(json.dumps(document))
    refused_untouched(checkout, capsys, ["--terraform-state", STATE], f'"{key}"')


def test_a_tfvars_file_starting_with_a_byte_order_mark_is_updated_not_duplicated(checkout, capsys):
    """Windows editors save a BOM; HCL skips it (hclsyntax scanTokens strips a leading UTF-8 BOM),
    so the first line is an assignment Terraform reads. Appending a second one would make
    Terraform refuse the file ("Each argument may be set only once")."""
    (checkout / TFVARS).write_bytes(
        '\ufeffaurora_cluster_arn = "arn:old"\naws_region = "eu-west-2"\n'.encode()
    )
    assert env(capsys, "--tfvars", TFVARS)[0] == 0
    assert (checkout / TFVARS).read_bytes().decode() == (
        f'\ufeffaurora_cluster_arn = "{CLUSTER_ARN}"\naws_region = "eu-west-2"\n'
        f'aurora_secret_arn = "{SECRET_ARN}"\n'
    )
