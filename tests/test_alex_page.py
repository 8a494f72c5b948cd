"""docs/alex.md, the page for Alex users: what it tells them to run is what alex-db accepts, and
the order it gives is the one that works."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from alex_db.config.instructions import DeployedDatabase, render
from alex_db.tools.cli import build_parser

PAGE = (Path(__file__).resolve().parent.parent / "docs" / "alex.md").read_text()
README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def shell_lines(text: str) -> list[str]:
    """The commands in the page's code blocks, continuation lines joined, comments dropped."""
    commands, inside, pending = [], False, ""
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
            continue
        if not inside:
            continue
        line = pending + line.split("  #")[0].strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        commands.extend(part.strip() for part in line.split("&&") if part.strip())
    return commands


ALEX_DB_COMMANDS = [c for c in shell_lines(PAGE) if c.startswith("alex-db ")]


def test_the_page_runs_the_bridge_and_the_readme_points_at_it_on_its_first_screen():
    assert any("--terraform-state" in c and "--tfvars" in c for c in ALEX_DB_COMMANDS)
    first_screen = "\n".join(README.splitlines()[:15])
    assert "(docs/alex.md)" in first_screen


@pytest.mark.parametrize("command", ALEX_DB_COMMANDS)
def test_every_alex_db_command_on_the_page_is_one_alex_db_accepts(command):
    args = shlex.split(command)[1:]
    build_parser().parse_args(args)  # a usage error would exit 2


def test_the_schema_steps_are_the_ones_setup_instructions_gives():
    text = render(
        DeployedDatabase(
            cluster_identifier="c",
            cluster_arn="arn:aws:rds:us-east-1:123456789012:cluster:c",
            secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf",
            database_name="alex",
            data_api_status="Enabled",
            min_acu=0.5,
            max_acu=1,
            cost_floor="",
            stack="dev",
        )
    )
    page = shell_lines(PAGE)
    for step in ("uv run run_migrations.py", "uv run reset_db.py --with-test-data"):
        assert step in page and step in text


def test_teardown_destroys_part_7_before_the_stack_and_removes_the_bridge_last():
    teardown = shell_lines(PAGE.split("## 7. Tearing down", 1)[1].split("\n## ", 1)[0])
    order = [c for c in teardown if "destroy" in c or c.startswith("rm ")]
    assert order == [
        "terraform -chdir=terraform/7_frontend destroy",
        "terraform -chdir=terraform/6_agents destroy",
        "pulumi destroy --cwd ALEX_DB",
        "rm terraform/5_database/terraform.tfstate",
    ]


def code_blocks(text: str) -> list[str]:
    """Each code block of ``text``, with its fences (what a reader pastes at once)."""
    return [f"```\n{body.split(chr(10), 1)[1]}```" for body in text.split("```")[1::2]]


# The folders of an Alex checkout the page names (ed-donner/alex), and the alex-db checkout.
ALEX_FOLDERS = {
    "terraform",
    "terraform/5_database",
    "terraform/6_agents",
    "terraform/7_frontend",
    "backend",
    "backend/database",
    "scripts",
}


@pytest.mark.parametrize("block", code_blocks(PAGE))
def test_each_block_pasted_into_one_shell_at_the_alex_root_reaches_every_folder_it_names(block):
    """The page says its commands run from the root of the Alex checkout unless a `cd` says
    otherwise; a `cd` lasts for the rest of the block, so every later relative path (a `cd`, an
    `rm`, a `-chdir`) must be read from where the earlier ones left the reader."""
    where = ""  # relative to the Alex root; None: the alex-db checkout
    for command in shell_lines(block):
        words = shlex.split(command)
        if words[0] == "cd":
            if words[1] == "ALEX_DB":
                where = None
                continue
            assert where is not None, f"{command!r} after `cd ALEX_DB` names no alex-db folder"
            where = f"{where}/{words[1]}".strip("/")
            assert where in ALEX_FOLDERS, f"{command!r} lands in {where!r}, not an Alex folder"
        if words[:2] == ["alex-db", "env"] and "--stack" in words:
            # `--stack` runs `pulumi stack output` where it is: a short stack name needs the
            # Pulumi project's folder, which an Alex folder is not.
            assert where is None, f"{command!r} runs Pulumi in an Alex folder, not ALEX_DB"
        paths = [w.split("=", 1)[1] for w in words if w.startswith("-chdir=")]
        paths += [w.rsplit("/", 1)[0] for w in words[1:] if words[0] == "rm"]
        for path in paths:
            assert where is not None, f"{command!r}: {path} read inside the alex-db checkout"
            folder = f"{where}/{path}".strip("/")
            assert folder in ALEX_FOLDERS, f"{command!r}: {folder!r} is not an Alex folder"


def test_alex_db_is_on_the_path_before_the_page_first_runs_it():
    """`make plan` puts the command in ALEX_DB/venv/bin, which no shell searches by itself; the
    commands run from the Alex checkout, so a bare `alex-db` needs that folder on the PATH."""
    where, on_path = "", False
    for command in shell_lines(PAGE):
        words = shlex.split(command)
        if words[:2] == ["cd", "ALEX_DB"]:
            where = None
        elif words[0] == "cd":
            where = ""
        if words[0] == "export" and words[1].startswith("PATH="):
            on_path = where is None and "$PWD/venv/bin" in words[1].split(":")
        if words[0] == "alex-db":
            assert on_path, f"{command!r} runs before ALEX_DB/venv/bin is on the PATH"
            return
    raise AssertionError("the page runs no alex-db command")
