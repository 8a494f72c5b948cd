"""Installed like a tool: the ``alex-db`` console script, and what each make target installs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import ROOT

CLUSTER_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:alex-aurora-cluster"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:alex-creds-AbCdEf"


def test_pyproject_declares_the_alex_db_console_script():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"alex-db": "alex_db.tools.cli:main"}
    assert project["dynamic"] == ["dependencies"]


def test_the_installed_command_works_from_any_directory(tmp_path):
    command = Path(sys.executable).parent / "alex-db"
    assert command.is_file(), "the venv lacks `pip install -e .` (make test does it)"
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps({"aurora_cluster_arn": CLUSTER_ARN, "aurora_secret_arn": SECRET_ARN})
    )
    result = subprocess.run(
        [str(command), "env", "--outputs", str(outputs), "--file", "-"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"AURORA_CLUSTER_ARN={CLUSTER_ARN}\n" in result.stdout
    help_text = subprocess.run(
        [str(command), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    ).stdout
    assert help_text.startswith("usage: alex-db ")


def dry_run(tmp_path: Path, target: str) -> str:
    """What ``make TARGET`` would run in a fresh clone (no venv yet)."""
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "policy").mkdir(exist_ok=True)
    shutil.copy(ROOT / "policy" / "requirements.txt", tmp_path / "policy" / "requirements.txt")
    # Under `make test` the outer make's flags would reach this one; it must start clean.
    environ = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_make_plan_installs_the_runtime_only_and_shows_pips_progress(tmp_path):
    commands = dry_run(tmp_path, "plan")
    assert "pip install --disable-pip-version-check -r requirements.txt -e ." in commands
    assert "requirements-dev.txt" not in commands
    assert "--quiet" not in commands and " -q " not in commands
    assert commands.rstrip().endswith("venv/bin/alex-db plan --stack dev")


def test_make_test_adds_the_dev_tools(tmp_path):
    commands = dry_run(tmp_path, "test")
    assert "-r requirements.txt -e ." in commands
    assert "-r requirements-dev.txt" in commands


README = (ROOT / "README.md").read_text()
# The front door and the reference pages: every Markdown file the project ships.
PAGES = {path: path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]}
DOCS = "\n".join(PAGES.values())
# Backticked names that look like files or folders: a slash, or a file extension.
PATH_LIKE = re.compile(
    r"`([A-Za-z_.<][\w.<>/-]*(?:/[\w.<>-]*|\.(?:md|py|ya?ml|txt|json|toml|cfg)))`"
)


# Made inside the checkout later: by the Pulumi CLI when it first runs the policy pack, and by
# `alex-db local` (its default data directory).
CREATED_LATER = {"policy/venv", ".alex-db/", ".alex-db/local"}
# AWS names that look like paths (KMS aliases, AWS-managed keys such as aws/rds), not files;
# paths under an upper-case placeholder (ADDRESS/PREFIX, DATA_DIR/password).
AWS_NAME_PREFIXES = ("alias/", "aws/")
PLACEHOLDER = re.compile(r"[A-Z_]+(/.*)?")
# Files of other projects the docs cite as sources (terraform-provider-aws, botocore, pulumi).
CITED_ELSEWHERE = ("internal/service/", "botocore/", "sdk/", "pulumi/")
# Media types (Content-Type values) look like paths too.
MEDIA_TYPES = ("application/", "text/", "multipart/")
MAX_README_LINES = 250


def test_the_docs_name_no_file_outside_this_repository():
    for name in PATH_LIKE.findall(DOCS):
        if (
            name in CREATED_LATER
            or name.startswith(AWS_NAME_PREFIXES + CITED_ELSEWHERE + MEDIA_TYPES)
            or PLACEHOLDER.fullmatch(name)
        ):
            continue
        pattern = re.sub(r"<[^>]+>", "*", name.rstrip("/"))
        assert list(ROOT.glob(pattern)), f"the docs name {name}, which is not in this repository"


def test_the_examples_use_the_alex_db_command():
    commands, inside = [], False
    for line in DOCS.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            commands.append(line)
    assert any(line.startswith("alex-db ") for line in commands)
    assert not [line for line in commands if "python -m alex_db" in line]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, backticks and punctuation gone, spaces to -."""
    return re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower()).replace(" ", "-")


def _table_after(marker: str) -> list[list[str]]:
    """The body rows of the first Markdown table after ``marker`` in any page, cells stripped."""
    lines = DOCS.split(marker, 1)[1].splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("|---")) + 1
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _codes(rows: list[list[str]]) -> set[int]:
    return {int(row[0]) for row in rows}


def _anchors(text: str) -> set[str]:
    """GitHub's anchors for a page's headings (outside code blocks)."""
    anchors, inside = set(), False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif not inside and line.startswith("#"):
            anchors.add(_slug(line.lstrip("#")))
    return anchors


def test_every_relative_link_reaches_a_file_and_a_heading():
    for page, text in PAGES.items():
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(ROOT)} links to {target}"
            assert linked.exists(), f"{where}, which does not exist"
            if anchor:
                assert anchor in _anchors(linked.read_text()), f"{where}: no such heading"


def test_the_readme_is_a_front_door_and_every_page_says_whom_it_is_for():
    assert len(README.splitlines()) <= MAX_README_LINES
    for page, text in PAGES.items():
        if page.name != "README.md":
            assert text.startswith("For "), f"{page.name} does not start by saying whom it is for"
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)", README))
    assert linked == {path.name for path in PAGES if path.parent.name == "docs"}


def test_the_configuration_table_lists_exactly_the_keys_the_program_reads():
    from alex_db.config.settings import CONFIG_KEYS

    documented = {
        key
        for row in _table_after("| key | default | meaning |")
        for key in re.findall(r"`([\w:]+)`", row[0])
    }
    assert documented == {"aws:region", *CONFIG_KEYS}


def test_the_exit_code_table_is_the_commands_one_table():
    from alex_db.tools.shared.exits import Exit

    rows = _table_after("| exit code | name | meaning | commands |")
    assert {(int(row[0]), row[1].strip("`")) for row in rows} == {
        (int(code), code.name) for code in Exit
    }


def test_the_outputs_and_policy_tables_match_the_program_and_the_pack():
    from policy.alex_rules import POLICIES

    exported = re.findall(r'pulumi\.export\(\s*"(\w+)"', (ROOT / "__main__.py").read_text())
    outputs = {row[0].strip("`") for row in _table_after("| output | value |")}
    assert outputs == set(exported)
    policies = {row[0].strip("`") for row in _table_after("| policy | refuses |")}
    assert policies == {policy.name for policy in POLICIES}
