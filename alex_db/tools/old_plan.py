"""The earlier plan ``plan --diff OLD.json`` compares with, read and checked before any diff.

Anything that is not the output of ``alex-db plan --json`` (another JSON file, a truncated
one, another encoding) is refused with one line naming ``--diff``; so is a plan of another
stack, which would otherwise show as "deletes everything, creates everything".
"""

from __future__ import annotations

import json
from pathlib import Path

NEEDS = "it needs the output of `alex-db plan --json`"


class OldPlanError(ValueError):
    """The ``--diff`` file cannot be compared; one line for the user."""


def _is_resource(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("urn"), str)
        and entry["urn"].count("::") >= 3
        and isinstance(entry.get("type"), str)
        and isinstance(entry.get("inputs"), dict)
    )


def check_plan(document: object, name: str) -> dict:
    """``document`` if it has the shape of a plan, else an ``OldPlanError``."""
    if not (
        isinstance(document, dict)
        and isinstance(document.get("stack"), str)
        and isinstance(document.get("resources"), list)
        and all(_is_resource(entry) for entry in document["resources"])
        and isinstance(document.get("outputs", {}), dict)
    ):
        raise OldPlanError(f"--diff {name}: not a plan; {NEEDS}")
    return document


def load_old_plan(path: Path, stack: str) -> dict:
    """The plan in ``path``, which must be one of ``stack``."""
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as error:
        raise OldPlanError(f"--diff {path}: cannot read it ({error.strerror or error})") from None
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the limit
        raise OldPlanError(f"--diff {path}: not a JSON plan; {NEEDS}") from None
    plan = check_plan(document, str(path))
    if plan["stack"] != stack:
        raise OldPlanError(
            f"--diff {path}: a plan of stack {plan['stack']!r}, not {stack!r}; compare plans "
            f"of one stack (--stack {plan['stack']} for that one)"
        )
    return plan
