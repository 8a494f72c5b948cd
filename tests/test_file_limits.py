"""Every file a user names is read only up to what a file of its kind holds.

``--outputs /dev/zero`` once read until memory ran out. Each surface is driven through the command
(or the loader the command calls) with a file that never ends, or a sparse file one byte past the
limit, and must end in one line naming the flag or file, before anything is written.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from alex_db.tools.cli import main
from alex_db.tools.shared.exits import Exit
from alex_db.tools.shared.files import JSON_LIMIT, TEXT_LIMIT, read_at_most
from alex_db.tools.shared.stack_files import StackConfigError, load_stack_config
from tests.conftest import ROOT

TOO_LARGE = "larger than"
ARNS = [
    "--cluster-arn",
    "arn:aws:rds:us-east-1:123456789012:cluster:c",
    "--secret-arn",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf",
]


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` zero bytes that takes no disk space."""
    with path.open("wb") as file:
        file.truncate(size)
    return path


def refusal(capsys, *argv: str) -> str:
    """The one line a command prints when it refuses ``argv`` as bad input."""
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == Exit.USAGE, captured
    assert "Traceback" not in captured.err
    (line,) = captured.err.strip().splitlines()[-1:]
    return line


def test_a_file_is_read_up_to_its_limit_and_refused_one_byte_past_it(tmp_path):
    assert read_at_most(sparse(tmp_path / "at", 4096), 4096) == bytes(4096)
    with pytest.raises(OSError, match=TOO_LARGE):
        read_at_most(sparse(tmp_path / "past", 4097), 4096)
    with pytest.raises(OSError, match=TOO_LARGE):
        read_at_most(Path("/dev/zero"), 4096)


@pytest.mark.parametrize("source", ["/dev/zero", "past the limit"])
def test_outputs_that_never_end_are_one_line(capsys, tmp_path, monkeypatch, source):
    monkeypatch.chdir(tmp_path)
    if source != "/dev/zero":
        source = str(sparse(tmp_path / "outputs.json", JSON_LIMIT + 1))
    line = refusal(capsys, "check", "--outputs", source)
    assert line.startswith(f"✗ --outputs {source}: cannot read stack outputs") and TOO_LARGE in line


def test_outputs_on_standard_input_are_read_up_to_the_limit(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b" " * (JSON_LIMIT + 1))))
    line = refusal(capsys, "check", "--outputs", "-")
    assert line.startswith("✗ --outputs -: cannot read stack outputs") and TOO_LARGE in line


def test_an_earlier_plan_that_never_ends_is_one_line(capsys):
    line = refusal(capsys, "plan", "--diff", "/dev/zero")
    assert line.startswith("--diff /dev/zero: cannot read it") and TOO_LARGE in line, line


def test_a_dotenv_that_is_too_large_is_one_line_and_env_leaves_it_untouched(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("AURORA_CLUSTER_ARN", "AURORA_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    dotenv = sparse(tmp_path / ".env", TEXT_LIMIT + 1)
    line = refusal(capsys, "check")
    assert line.startswith("✗ .env:") and TOO_LARGE in line, line
    line = refusal(capsys, "env", *ARNS)
    assert TOO_LARGE in line, line
    assert dotenv.read_bytes() == bytes(TEXT_LIMIT + 1)


def test_a_stack_file_that_is_too_large_is_one_line(tmp_path):
    (tmp_path / "Pulumi.yaml").write_bytes((ROOT / "Pulumi.yaml").read_bytes())
    sparse(tmp_path / "Pulumi.big.yaml", TEXT_LIMIT + 1)
    with pytest.raises(StackConfigError, match=TOO_LARGE) as refused:
        load_stack_config("big", project_dir=tmp_path)
    assert "\n" not in str(refused.value) and "Pulumi.big.yaml" in str(refused.value)


def test_a_closed_or_empty_non_blocking_standard_input_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", None)  # what Python sets when file descriptor 0 is closed
    line = refusal(capsys, "check", "--outputs", "-")
    assert line == "✗ --outputs -: cannot read stack outputs (standard input is closed)"
    reading, writing = os.pipe()
    os.set_blocking(reading, False)
    with open(reading, "rb") as pipe, open(writing, "wb"):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(pipe))
        line = refusal(capsys, "check", "--outputs", "-")
    assert "nothing to read yet" in line, line


def test_a_stack_file_that_is_a_directory_is_named_as_such(tmp_path):
    (tmp_path / "Pulumi.yaml").write_bytes((ROOT / "Pulumi.yaml").read_bytes())
    (tmp_path / "Pulumi.odd.yaml").mkdir()
    with pytest.raises(StackConfigError, match="Pulumi.odd.yaml is not a regular file"):
        load_stack_config("odd", project_dir=tmp_path)
