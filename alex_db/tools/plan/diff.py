"""Compare two plan documents, flagging the changes that make AWS replace a resource.

Replacement is the change nobody should learn about from ``pulumi up``: for the cluster and the
secret it means the data (or the credentials) are gone.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from alex_db.config.lifecycle import MAJOR_UPGRADE, MINOR_UPGRADE, REFUSED_DOWNGRADE
from alex_db.config.naming import exported_log_group_name
from alex_db.config.resource_types import forces_replacement
from alex_db.config.versions import parse_engine_version
from alex_db.tools.plan.runner import ROOT_STACK_TYPE
from alex_db.tools.plan.text import egress_rule

# Replacing these loses what they hold.
HOLDS_DATA = frozenset({"aws:rds/cluster:Cluster", "aws:secretsmanager/secret:Secret"})
CLUSTER = "aws:rds/cluster:Cluster"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
OUTPUTS = "stack outputs"
IGNORED = "create-only: pulumi up leaves it as it is; docs/lifecycle.md says how to change it"
# RDS creates an exported log's group itself when none exists, so a stack that exported logs
# before the program made the groups has one Pulumi does not know, and creating it fails
# (ResourceAlreadyExistsException) until it is deleted or imported (docs/lifecycle.md).
MADE_BY_RDS = (
    "RDS made this group already (the cluster exported to it): pulumi up fails on it until you "
    "delete or `pulumi import` it (docs/lifecycle.md)"
)


def engine_change(was: object, now: object) -> str | None:
    """``minor upgrade``, ``major upgrade`` or ``refused downgrade`` (AWS never goes back; the
    program keeps what runs) for a cluster engineVersion change; None when not versions."""
    old, new = parse_engine_version(str(was)), parse_engine_version(str(now))
    if old is None or new is None or old == new:
        return None
    if new < old:
        return REFUSED_DOWNGRADE
    return MINOR_UPGRADE if new.major == old.major else MAJOR_UPGRADE


@dataclass(frozen=True)
class Change:
    """One difference between the old plan and the new one."""

    urn: str
    kind: str
    """``added``, ``removed`` or ``changed``."""
    properties: tuple[str, ...] = ()
    replaces: bool = False
    data_loss: bool = False
    engine: str | None = None
    """For the cluster's engine version: minor upgrade, major upgrade or refused downgrade."""
    note: str | None = None
    """What the reader must do first, when the change cannot go through as it stands."""
    ignored: tuple[str, ...] = ()
    """Changed inputs ``pulumi up`` leaves as they are (the new plan's ``ignore_changes``)."""

    @property
    def verdict(self) -> str:
        """How a reader should take it."""
        if self.note:
            return f"{self._plain_verdict} — {self.note}"
        return self._plain_verdict

    @property
    def _plain_verdict(self) -> str:
        if self.urn == OUTPUTS:
            return "outputs change"
        if self.kind == "removed" and self.urn_type in HOLDS_DATA:
            return "DELETES — data loss"
        if self.replaces:
            return "REPLACES — data loss" if self.data_loss else "REPLACES"
        if self.kind == "changed" and set(self.properties) <= set(self.ignored):
            return "no change by pulumi up (create-only inputs)"
        return {"added": "creates", "removed": "deletes", "changed": "updates in place"}[self.kind]

    @property
    def urn_type(self) -> str:
        """The resource type from the URN (``stack outputs`` for the outputs)."""
        if self.urn == OUTPUTS:
            return OUTPUTS
        return self.urn.split("::")[2].split("$")[-1]


def _changed_keys(old: dict, new: dict) -> tuple[str, ...]:
    return tuple(sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key)))


def engine_urn(urn: str) -> str:
    """``urn`` as the engine writes it. Plans made before the offline runner followed the
    engine carry the mock monitor's form for top-level resources
    (``::pulumi:pulumi:Stack$alexdb:index:Network::``), which names the same resource."""
    return urn.replace(f"::{ROOT_STACK_TYPE}$", "::", 1)


def _groups_rds_made(plan: dict) -> set[str]:
    """The log groups RDS has created for the plan's clusters: one per exported log type."""
    made = set()
    for cluster in (r["inputs"] for r in plan["resources"] if r["type"] == CLUSTER):
        identifier = cluster.get("clusterIdentifier")
        exports = cluster.get("enabledCloudwatchLogsExports")
        if isinstance(identifier, str) and isinstance(exports, list):
            made |= {exported_log_group_name(identifier, str(log_type)) for log_type in exports}
    return made


def diff_plans(old: dict, new: dict) -> list[Change]:
    """What changes from ``old`` to ``new``, resource by resource, in URN order."""
    before = {engine_urn(r["urn"]): r for r in old["resources"]}
    after = {engine_urn(r["urn"]): r for r in new["resources"]}
    made_by_rds = _groups_rds_made(old)
    changes = []
    for urn in sorted(before.keys() | after.keys()):
        if urn not in before:
            added = after[urn]
            name = added["inputs"].get("name")
            taken = added["type"] == LOG_GROUP and isinstance(name, str) and name in made_by_rds
            changes.append(Change(urn, "added", note=MADE_BY_RDS if taken else None))
        elif urn not in after:
            changes.append(Change(urn, "removed"))
        else:
            old_inputs, new_inputs = before[urn]["inputs"], after[urn]["inputs"]
            changed = _changed_keys(old_inputs, new_inputs)
            if changed:
                type_token = after[urn]["type"]
                # For a resource that exists, the engine sets every ignored input back to its
                # old value before the provider's Check and Diff (pulumi/pulumi
                # pkg/resource/deploy/step_generator.go, processIgnoreChanges), so a change to
                # one neither updates nor replaces anything.
                create_only = after[urn].get("ignore_changes", ())
                ignored = tuple(key for key in changed if key in create_only)
                replaces = bool(forces_replacement(type_token) & (set(changed) - set(ignored)))
                engine = None
                if type_token == CLUSTER and "engineVersion" in changed:
                    engine = engine_change(
                        old_inputs.get("engineVersion"), new_inputs.get("engineVersion")
                    )
                changes.append(
                    Change(
                        urn,
                        "changed",
                        changed,
                        replaces,
                        replaces and type_token in HOLDS_DATA,
                        engine,
                        ignored=ignored,
                    )
                )
    outputs_changed = _changed_keys(old.get("outputs", {}), new.get("outputs", {}))
    if outputs_changed:
        changes.append(Change(OUTPUTS, "changed", outputs_changed))
    return changes


def monthly_estimate(plan: dict) -> str:
    """A plan's monthly compute estimate at minimum capacity (``$43.80``), or why there is none."""
    cost = plan.get("cost") or {}
    if "monthly_at_min" not in cost:
        return "no estimate"
    return f"${cost['monthly_at_min']:,.2f}"


def _estimate_line(old: dict, new: dict) -> list[str]:
    """``monthly estimate: $43.80 -> $0.00`` when the estimate changes; nothing when it does not
    or when the earlier plan predates estimates."""
    if "cost" not in old or "cost" not in new:
        return []
    was, now = monthly_estimate(old), monthly_estimate(new)
    if was == now:
        return []
    return [f"monthly estimate: {was} -> {now} (compute at minimum capacity, per month)"]


def _value_lines(key: str, was: object, now: object, mark: str) -> list[str]:
    """One changed property: ``key: old -> new``; text of several lines as a unified diff (an
    output like ``setup_instructions`` would otherwise be one long escaped string); egress
    rules as a person reads them."""
    texts = [value for value in (was, now) if isinstance(value, str)]
    if any("\n" in text for text in texts):
        before = was.splitlines() if isinstance(was, str) else []
        after = now.splitlines() if isinstance(now, str) else []
        block = difflib.unified_diff(before, after, "before", "after", lineterm="", n=1)
        return [f"    {key}:{mark}"] + [f"      {line}".rstrip() for line in block]
    if key == "egress" and all(isinstance(value, list | type(None)) for value in (was, now)):
        was, now = ("; ".join(map(egress_rule, rules or [])) or "none" for rules in (was, now))
        return [f"    {key}: {was} -> {now}{mark}"]
    return [f"    {key}: {was!r} -> {now!r}{mark}"]


def render_changes(changes: list[Change], old: dict, new: dict) -> str:
    """The changes for a reader: the monthly estimate when it changes, then one resource a line
    plus its changed properties."""
    if not changes:
        return "No changes.\n"
    inputs_before = {engine_urn(r["urn"]): r["inputs"] for r in old["resources"]}
    inputs_after = {engine_urn(r["urn"]): r["inputs"] for r in new["resources"]}
    inputs_before[OUTPUTS], inputs_after[OUTPUTS] = old.get("outputs", {}), new.get("outputs", {})
    lines = _estimate_line(old, new)
    for change in changes:
        lines.append(f"{change.verdict}: {change.urn}")
        forcing = forces_replacement(change.urn_type)
        for key in change.properties:
            mark = "  (forces replacement)" if key in forcing else ""
            if key == "engineVersion" and change.engine:
                mark += f"  ({change.engine})"
            if key in change.ignored:
                mark = f"  ({IGNORED})"
            was = inputs_before[change.urn].get(key)
            now = inputs_after[change.urn].get(key)
            lines.extend(_value_lines(key, was, now, mark))
    return "\n".join(lines) + "\n"
