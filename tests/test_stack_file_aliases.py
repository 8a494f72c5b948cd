"""Issue 25 item 6: YAML aliases in a project or stack file are counted before anything walks
them. A 652-byte "billion laughs" stack file once made ``plan`` spin for hours (its secret check
walked 10^10 leaves); now it is one line and exit 2, while ordinary anchors still load."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alex_db.tools.shared import stack_files
from alex_db.tools.shared.stack_files import StackConfigError, load_stack_config
from tests.conftest import ROOT


def alias_bomb(levels: int = 10, width: int = 10) -> str:
    """A stack file whose every level repeats the one below ``width`` times: width**levels
    leaves once expanded, a few hundred bytes on disk."""
    lines = ['config:', '  alex-db:tags: &l0 {"a": "lol"}']
    for level in range(1, levels + 1):
        repeated = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"  alex-db:x{level}: &l{level} [{repeated}]")
    return "\n".join(lines) + "\n"


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the checkout's program, package and Pulumi.yaml, run as a user runs it."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "alex_db", tmp_path / "alex_db", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_an_alias_bomb_in_a_stack_file_is_one_line_and_exit_2(project):
    bomb = alias_bomb()
    assert len(bomb.encode()) < 800
    (project / "Pulumi.bomb.yaml").write_text(bomb)
    result = subprocess.run(
        [sys.executable, "-m", "alex_db", "plan", "--stack", "bomb"],
        cwd=project,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        timeout=120,  # the old code spins for hours: a safety net, not a measure
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Pulumi.bomb.yaml holds more than 100,000 values once its aliases are expanded")


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.loop.yaml").write_text("config:\n  alex-db:tags: &a [*a]\n")
    with pytest.raises(StackConfigError, match="^Pulumi.loop.yaml holds an alias inside its own anchor"):
        load_stack_config("loop", project_dir=tmp_path)


def test_ordinary_anchors_and_merge_keys_still_load(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.kind.yaml").write_text(
        "shared: &tags {team: data, owner: alex}\n"
        "config:\n"
        "  aws:region: &region us-east-1\n"
        "  alex-db:backupCopyRegion: *region\n"
        "  alex-db:tags:\n"
        "    <<: *tags\n"
        "    cost: db\n"
    )
    config = load_stack_config("kind", project_dir=tmp_path)
    assert config.values["alex-db:backupCopyRegion"] == "us-east-1"
    assert config.values["alex-db:tags"] == '{"team": "data", "owner": "alex", "cost": "db"}'


@settings(max_examples=40, deadline=None)
@given(
    levels=st.integers(1, 12),
    width=st.integers(1, 12),
    loop=st.booleans(),
)
def test_any_anchored_stack_file_loads_small_or_is_one_line(levels, width, loop):
    text = alias_bomb(levels, width)
    if loop:
        text += f"  alex-db:self: &self [*l{levels}, *self]\n"
    with tempfile.TemporaryDirectory() as folder:
        project_dir = Path(folder)
        (project_dir / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
        (project_dir / "Pulumi.p.yaml").write_text(text)
        try:
            config = load_stack_config("p", project_dir=project_dir)
        except StackConfigError as refused:
            message = str(refused)
            assert "\n" not in message and message.startswith("Pulumi.p.yaml holds ")
            assert loop or width**levels > stack_files.MOST_VALUES // 10
            return
    assert not loop and width**levels <= stack_files.MOST_VALUES
    assert sum(len(value) for value in config.values.values()) < 10 * stack_files.MOST_VALUES


def test_a_date_in_a_stack_file_is_the_text_written_not_a_traceback(tmp_path):
    """PyYAML reads an unquoted 2024-06-01 as a date, which no config value can hold; the Pulumi
    CLI's YAML reader (Go's yaml, decoding into an untyped value) keeps a timestamp-looking scalar
    as the string written, so the program gets the text."""
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.dated.yaml").write_text(
        "config:\n  alex-db:tags: {created: 2024-06-01, at: 2024-06-01 10:00:00}\n"
    )
    config = load_stack_config("dated", project_dir=tmp_path)
    assert config.values["alex-db:tags"] == '{"created": "2024-06-01", "at": "2024-06-01 10:00:00"}'


def test_a_binary_value_in_a_stack_file_is_one_line(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.bin.yaml").write_text("config:\n  aws:region: !!binary dXMtZWFzdC0x\n")
    with pytest.raises(StackConfigError, match="^Pulumi.bin.yaml is not valid YAML: .*binary") as error:
        load_stack_config("bin", project_dir=tmp_path)
    assert "\n" not in str(error.value)
