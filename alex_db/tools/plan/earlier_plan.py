"""The earlier plan ``plan --diff OLD.json`` compares with, read and checked before any diff.

Anything that is not the output of ``alex-db plan --json`` (another JSON file, a truncated
one, another encoding) is refused with one line naming ``--diff``; so is a plan of another
stack, which would otherwise show as "deletes everything, creates everything".
"""

from __future__ import annotations

import json
from pathlib import Path

from alex_db.tools.plan.text import RULE_TARGETS
from alex_db.tools.shared.files import JSON_LIMIT, read_at_most

NEEDS = "it needs the output of `alex-db plan --json`"


class EarlierPlanError(ValueError):
    """The ``--diff`` file cannot be compared; one line for the user."""


def _shape_problem(document: object) -> str | None:
    if not isinstance(document, dict) or not isinstance(document.get("stack"), str):
        return "no stack name"
    if not isinstance(document.get("resources"), list):
        return "no list of resources"
    if not isinstance(document.get("outputs", {}), dict):
        return "outputs is not a mapping"
    for number, resource in enumerate(document["resources"], start=1):
        if not isinstance(resource, dict):
            return f"resource {number} is not a mapping"
        urn = resource.get("urn")
        # urn:pulumi:<stack>::<project>::<type chain>::<name>, as Change.urn_type reads it.
        if not isinstance(urn, str) or not urn.startswith("urn:pulumi:") or urn.count("::") < 3:
            return f"resource {number} has no Pulumi URN"
        if not isinstance(resource.get("type"), str) or not isinstance(
            resource.get("inputs"), dict
        ):
            return f"resource {number} ({urn}) lacks a type or a mapping of inputs"
        if not _egress_rules(resource["inputs"].get("egress", [])):
            return f"resource {number} ({urn}) has egress that is not a list of rules"
    estimate = document.get("cost", {})
    if not isinstance(estimate, dict) or not _number(estimate.get("monthly_at_min", 0)):
        return "cost is not a mapping with a number as monthly_at_min"
    return None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _egress_rules(rules: object) -> bool:
    """Egress rules as ``plan.text.egress_rule`` reads them: mappings whose targets are lists."""
    return rules is None or (
        isinstance(rules, list)
        and all(
            isinstance(rule, dict)
            and all(isinstance(rule.get(name) or [], list) for name in RULE_TARGETS)
            for rule in rules
        )
    )


def check_plan(document: object, name: str) -> dict:
    """``document`` when it has what ``diff_plans`` reads (as every ``plan --json`` so far
    writes it); else an ``EarlierPlanError`` naming the first thing missing."""
    problem = _shape_problem(document)
    if problem is not None:
        raise EarlierPlanError(f"--diff {name}: not a plan ({problem}); {NEEDS}")
    return document


def load_earlier_plan(path: Path, stack: str) -> dict:
    """The plan in ``path``, which must be one of ``stack``."""
    try:
        document = json.loads(read_at_most(path, JSON_LIMIT).decode("utf-8"))
    except OSError as error:
        raise EarlierPlanError(
            f"--diff {path}: cannot read it ({error.strerror or error})"
        ) from None
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the limit
        raise EarlierPlanError(f"--diff {path}: not a JSON plan; {NEEDS}") from None
    plan = check_plan(document, str(path))
    if plan["stack"] != stack:
        raise EarlierPlanError(
            f"--diff {path}: a plan of stack {plan['stack']!r}, not {stack!r}; compare plans "
            f"of one stack (--stack {plan['stack']} for that one)"
        )
    return plan
