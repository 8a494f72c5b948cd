"""The layer contract in pyproject.toml holds today and fails when an import points the wrong way.

The contract is run by import-linter on a copy of the package, so a broken arrow is proven to
turn ``make lint`` (and CI) red, not just assumed to.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_copy(tmp_path: Path, wrong_import: tuple[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run lint-imports on a copy of ``alex_db``, optionally with one line appended to a module."""
    shutil.copytree(ROOT / "alex_db", tmp_path / "alex_db", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if wrong_import:
        module, line = wrong_import
        with (tmp_path / module).open("a") as source:
            source.write(f"\n{line}\n")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""}, check=False,
    )


def test_the_package_keeps_every_contract(tmp_path):
    result = lint_copy(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("alex_db/config/cost.py", "import pulumi", "config is pure"),
        ("alex_db/config/settings.py", "import boto3", "config is pure"),
        ("alex_db/config/values.py", "from alex_db.infra import naming", "tools above infra above config"),
        ("alex_db/infra/naming.py", "from alex_db.tools import plan", "tools above infra above config"),
        ("alex_db/infra/network.py", "import boto3", "infra builds resources"),
    ],
)
def test_an_import_against_the_direction_breaks_lint(tmp_path, module, line, broken):
    result = lint_copy(tmp_path, (module, line))
    assert result.returncode != 0
    assert f"{broken}" in result.stdout.split("Broken contracts")[1]
