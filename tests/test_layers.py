"""The layer contracts in pyproject.toml hold today and fail when an import points the wrong way;
Pulumi's non-public names appear in one module only.

import-linter runs on a copy of the package with one wrong import per contract added at once (one
subprocess, not one per contract), so every contract is proven to turn ``make lint`` (and CI)
red, not just assumed to.
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pulumi.runtime

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# (module, the line added, the contract it breaks, the import chain import-linter reports)
WRONG_IMPORTS = [
    ("alex_db/config/cost.py", "import pulumi", "config is pure", "alex_db.config.cost -> pulumi"),
    (
        "alex_db/config/values.py",
        "from alex_db.infra import network",
        "tools above infra above config",
        "alex_db.config.values -> alex_db.infra.network",
    ),
    (
        "alex_db/infra/network.py",
        "import boto3",
        "infra builds resources",
        "alex_db.infra.network -> boto3",
    ),
    (
        "alex_db/tools/deployed/check.py",
        "from alex_db.tools.preflight import checks",
        "commands share only tools.shared",
        "alex_db.tools.deployed.check -> alex_db.tools.preflight.checks",
    ),
    (
        "alex_db/tools/shared/report.py",
        "from alex_db.tools.plan import document",
        "commands share only tools.shared",
        "alex_db.tools.shared.report -> alex_db.tools.plan.document",
    ),
    (
        "alex_db/tools/local/service.py",
        "from alex_db import pulumi_internals",
        "only the plan runner uses Pulumi internals",
        "alex_db.tools.local.service -> alex_db.pulumi_internals",
    ),
]


def lint_copy(tmp_path: Path, wrong_imports=()) -> subprocess.CompletedProcess:
    """Run lint-imports on a copy of ``alex_db`` with each ``(module, line)`` appended."""
    shutil.copytree(ROOT / "alex_db", tmp_path / "alex_db", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for module, line, *_ in wrong_imports:
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


def test_an_import_against_each_contract_breaks_lint(tmp_path):
    result = lint_copy(tmp_path, WRONG_IMPORTS)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts")[1]
    contracts = {contract for _, _, contract, _ in WRONG_IMPORTS}
    assert f"Contracts: {5 - len(contracts)} kept, {len(contracts)} broken." in result.stdout
    for _, _, contract, chain in WRONG_IMPORTS:
        assert contract in broken
        assert chain in broken, f"{chain} not reported:\n{broken}"


# What Pulumi's unit-testing guide has programs and tests call on pulumi.runtime; every other
# pulumi.runtime name, and any underscore name, is an internal (alex_db/pulumi_internals.py).
PUBLIC_RUNTIME = {"Mocks", "MockCallArgs", "MockResourceArgs", "set_mocks", "set_all_config"}
INTERNALS_MODULE = ROOT / "alex_db" / "pulumi_internals.py"
# Besides it: the policy SDK's analyzer servicer, driven without the CLI (the tests' one module
# for it), and the test that removes the config internals to prove the program survives that.
ALLOWED = {
    INTERNALS_MODULE,
    ROOT / "tests" / "policy_engine.py",
    ROOT / "tests" / "test_pulumi_internals.py",
}


def internal_uses(path: Path) -> list[str]:
    """``pulumi.runtime`` names other than PUBLIC_RUNTIME, and ``pulumi`` underscore names,
    that ``path`` imports or reads as attributes."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi"):
            names = [alias.name for alias in node.names]
            if node.module.startswith("pulumi.runtime"):
                found += [f"{node.module}.{n}" for n in names if n not in PUBLIC_RUNTIME]
            found += [f"{node.module}.{n}" for n in names if n.startswith("_")]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            inner = node.value
            if (
                isinstance(inner.value, ast.Name)
                and inner.value.id == "pulumi"
                and inner.attr == "runtime"
                and node.attr not in PUBLIC_RUNTIME | {"__all__"}
            ):
                found.append(f"pulumi.runtime.{node.attr}")
    return found


def test_pulumi_internals_are_used_in_one_module_only():
    sources = [ROOT / "__main__.py", *ROOT.glob("alex_db/**/*.py"), *ROOT.glob("tests/*.py"),
               *ROOT.glob("benchmarks/*.py"), *ROOT.glob("policy/*.py")]
    outside = {
        str(path.relative_to(ROOT)): uses
        for path in sources
        if path not in ALLOWED and (uses := internal_uses(path))
    }
    assert outside == {}
    # The scan itself finds what the internals module uses.
    assert "pulumi.runtime.sync_await._sync_await" in internal_uses(INTERNALS_MODULE)


def test_the_public_runtime_names_allowed_outside_are_public():
    assert set(pulumi.runtime.__all__) >= PUBLIC_RUNTIME
