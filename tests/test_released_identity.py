"""Changing a default is a breaking change (docs/developing.md, "Changing a default").

A running stack that relies on a default gets the new one at its next ``pulumi up``. For most
inputs that is an update in place; for an input whose change replaces the resource (each type's
``replacement`` in ``config/resource_types.py``: names, the database name, the master user, the
key, ...) it is a new cluster, and for the engine version a major upgrade AWS refuses without
``allowMajorVersionUpgrade``. ``released_identity.json`` records those inputs as the repository's
stacks (``Pulumi.dev.yaml``, which relies on the defaults, and ``Pulumi.prod.yaml``) deploy
them today; a change fails here unless the stack files pin the old value or the record lists
it as a documented change whose page names both values.

Re-record after a documented change: ``venv/bin/python -m tests.test_released_identity``.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from alex_db.config.resource_types import forces_replacement
from alex_db.tools.plan.runner import ProgramRun, run_program
from alex_db.tools.shared.stack_files import load_stack_config
from tests.conftest import CLUSTER, ROOT

RECORD = ROOT / "tests" / "released_identity.json"
STACKS = ("dev", "prod")
# Not replacing, but a major change is an upgrade AWS refuses unless allowed (docs/lifecycle.md).
VERSION_INPUTS = {CLUSTER: {"engineVersion"}}


def identity(run: ProgramRun) -> dict[str, dict[str, object]]:
    """Per resource (by URN), the inputs that decide what a running stack has: a change to one
    replaces the resource or upgrades its version. Secret inputs are left out."""
    found = {}
    for resource in run.resources:
        deciding = forces_replacement(resource.type) | VERSION_INPUTS.get(resource.type, set())
        inputs = {
            name: resource.inputs[name]
            for name in sorted(deciding & resource.inputs.keys())
            if name not in resource.secret_inputs
        }
        if inputs:
            found[resource.urn] = inputs
    return found


def stack_identity(stack: str) -> dict[str, dict[str, object]]:
    """What the repository's stack file deploys, with Pulumi.yaml's and the program's defaults."""
    config = load_stack_config(stack)
    return identity(run_program(stack, config.values, secret_keys=config.secret_keys))


@pytest.fixture(scope="module")
def record() -> dict:
    return json.loads(RECORD.read_text())


def changes(recorded: dict, current: dict) -> list[tuple[str, str, object, object]]:
    """(urn, input, recorded value, current value) for every input of a recorded resource that
    differs (a resource gone is a delete). A new resource is no change to a running one."""
    found = []
    for urn in recorded:
        old, new = recorded.get(urn, {}), current.get(urn, {})
        for name in sorted(old.keys() | new.keys()):
            if old.get(name) != new.get(name):
                found.append((urn, name, old.get(name), new.get(name)))
    return found


def documented(change: tuple, documented_changes: list[dict]) -> bool:
    """The record lists the change and its page names both values."""
    _, name, old, new = change
    for entry in documented_changes:
        if (entry["input"], entry["from"], entry["to"]) == (name, old, new):
            page = (ROOT / entry["docs"].split("#")[0]).read_text()
            return str(old) in page and str(new) in page
    return False


@pytest.mark.parametrize("stack", STACKS)
def test_no_default_moves_a_running_stack_without_a_pin_or_an_upgrade_path(record, stack):
    found = changes(record["stacks"][stack], stack_identity(stack))
    undocumented = [c for c in found if not documented(c, record["documented_changes"])]
    assert not undocumented, "\n".join(
        f"stack {stack}: {urn.split('::')[-1]} {name} would change from {old!r} to {new!r} on "
        f"pulumi up: pin the old value in Pulumi.{stack}.yaml, or document the upgrade path and "
        f"list it under documented_changes in tests/released_identity.json "
        f"(docs/developing.md, Changing a default)"
        for urn, name, old, new in undocumented
    )


def test_moving_the_engine_version_up_a_major_is_caught(record):
    """The check above fails for a default that moves the running cluster: the dev stack run
    as if the default were a 16.x."""
    config = load_stack_config("dev", ["engineVersion=16.4"])
    moved = changes(record["stacks"]["dev"], identity(run_program("dev", config.values)))
    names = {(urn.split("::")[-1], name, new) for urn, name, _, new in moved}
    assert ("alex-aurora-cluster", "engineVersion", "16.4") in names
    assert not any(documented(change, record["documented_changes"]) for change in moved)
    assert re.search(r"\b16\.4\b", json.dumps(record)) is None


def main() -> None:
    """Write the record from today's stack files (after a documented change)."""
    previous = json.loads(RECORD.read_text())
    previous["stacks"] = {stack: stack_identity(stack) for stack in STACKS}
    RECORD.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.exit(main())
