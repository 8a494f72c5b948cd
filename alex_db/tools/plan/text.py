"""The human view of a plan document: where it runs and what reaches it, resource tree, key
settings, tags, IAM, outputs, cost, and the effective configuration with each value's origin."""

from __future__ import annotations

import json


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def _tree(resources: list[dict]) -> list[str]:
    children: dict[str | None, list[dict]] = {}
    for resource in resources:
        children.setdefault(resource["parent"], []).append(resource)
    urns = {resource["urn"] for resource in resources}
    roots = [r for r in resources if r["parent"] not in urns]
    lines: list[str] = []

    def walk(resource: dict, depth: int) -> None:
        name = resource["physical_name"]
        shown = f"  ->  {name}" if name else ""
        shown += "  [protected]" if resource["protect"] else ""
        lines.append(f"{'  ' * depth}{resource['type']}  {resource['name']}{shown}")
        for child in children.get(resource["urn"], []):
            walk(child, depth + 1)

    for root in sorted(roots, key=lambda r: (not r["component"], r["urn"])):
        walk(root, 1)
    return lines


def _row(label: str, value: str) -> str:
    return f"  {label + ':':<22}{value}"


def public_access(settings: dict, ingress: list[dict]) -> str:
    """Never "off" while anything makes the database reachable from the internet."""
    internet = ", ".join(entry["source"] for entry in ingress if entry["public"])
    reasons = ["instances publicly accessible"] if settings["publicly_accessible"] else []
    reasons += [f"port 5432 open to the internet ({internet})"] if internet else []
    return f"ON: {' and '.join(reasons)}" if reasons else "off"


def _network(n: dict) -> list[str]:
    rows = [
        _row("region", n["region"]),
        _row("VPC", n["vpc_id"] or "(none)"),
        _row("subnets", ", ".join(n["subnet_ids"]) or "(none)"),
    ]
    label = "port 5432 from"
    for entry in n["postgres_ingress"]:
        note = f"  ({entry['description']})" if entry["description"] else ""
        warning = "  <-- PUBLIC: the whole internet" if entry["public"] else ""
        rows.append(_row(label, f"{entry['source']}{note}{warning}"))
        label = ""
    if not n["postgres_ingress"]:
        rows.append(_row(label, "nothing (no ingress rule reaches it)"))
    return rows


def _settings(s: dict, plan: dict) -> list[str]:
    pause = (
        f"after {s['auto_pause_seconds']} s idle"
        if s["auto_pause_seconds"] is not None
        else "off (minCapacity above 0 never pauses)"
    )
    recovery = s["secret_recovery_days"]
    rows = [
        ("engine", f"{s['engine']} {s['engine_version']} ({s['engine_mode']}, Serverless v2)"),
        ("capacity", f"{s['min_acu']:g}-{s['max_acu']:g} ACU"),
        ("auto-pause", pause),
        ("Data API", _on(s["data_api"])),
        ("storage encryption", _on(s["storage_encrypted"])),
        ("public access", public_access(s, plan["network"]["postgres_ingress"])),
        (
            "instances",
            f"{s['instances']} x {', '.join(s['instance_classes'])} "
            f"(1 writer, {s['readers']} reader(s))",
        ),
        ("production profile", _on(plan["config"].get("alex-db:production") == "true")),
        ("deletion protection", _on(s["deletion_protection"])),
        ("final snapshot", _on(s["final_snapshot"])),
        ("Pulumi protect", ", ".join(s["protected"]) or "none"),
        (
            "changes applied",
            "immediately" if s["apply_immediately"] else "in the maintenance window",
        ),
        ("backups", f"{s['backup_retention_days']} days, window {s['backup_window']} UTC"),
        ("maintenance", f"{s['maintenance_window']} UTC"),
        ("Performance Insights", _on(s["performance_insights"])),
        ("log exports", ", ".join(s["log_exports"]) or "none"),
        ("secret recovery", "immediate deletion" if not recovery else f"{recovery} days"),
    ]
    return [_row(label, value) for label, value in rows]


def _tags(tags: dict) -> list[str]:
    return [f"  {key}={value}" for key, value in tags.items()] or ["  (none)"]


def _configuration(plan: dict) -> list[str]:
    origins = plan["config_origins"]
    width = max(len(key) for key in origins)
    return [
        f"  {key:<{width}}  {plan['config'].get(key, '-')!s:<12}  {origin}"
        for key, origin in sorted(origins.items())
    ]


# A rule's protocol as AWS reads it (EC2 API Reference, IpPermission, IpProtocol: "Use -1 to
# specify all protocols ... specifying -1 or a protocol number other than tcp, udp, icmp, or
# icmpv6 allows traffic on all ports, regardless of any port range you specify").
PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
ALL_PROTOCOLS = frozenset({"-1", "all"})
# Where a security group rule may send traffic (the provider's SecurityGroupEgress inputs).
RULE_TARGETS = ("cidrBlocks", "ipv6CidrBlocks", "prefixListIds", "securityGroups")


def _port(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def egress_rule(rule: dict) -> str:
    """One egress rule as a person reads it: ``all traffic to 0.0.0.0/0``, ``TCP port 443 to
    10.0.0.0/8``, never the API's ``-1 0-0``."""
    protocol = str(rule.get("protocol", "")).lower()
    protocol = PROTOCOL_NUMBERS.get(protocol, protocol)
    if protocol in ALL_PROTOCOLS:
        traffic = "all traffic"
    elif protocol in ("tcp", "udp"):
        low, high = _port(rule.get("fromPort")), _port(rule.get("toPort"))
        ports = f"port {low}" if low == high else f"ports {low}-{high}"
        traffic = f"{protocol.upper()} {ports}"
    elif protocol in ("icmp", "icmpv6"):
        traffic = protocol.upper()
    else:
        traffic = f"protocol {protocol}, all ports"
    targets = [str(target) for name in RULE_TARGETS for target in rule.get(name) or []]
    return f"{traffic} to {', '.join(targets) or 'nowhere'}"


def _security(s: dict) -> list[str]:
    egress = [egress_rule(rule) for rule in s["egress"]]
    monitoring = (
        f"every {s['monitoring_interval']} s, role {s['monitoring_role']}"
        if s["monitoring_interval"]
        else "off"
    )
    key = s["kms_key"] or "AWS-managed (aws/rds, aws/secretsmanager)"
    rows = [
        ("encryption key", key + (f" ({', '.join(s['kms_aliases'])})" if s["kms_aliases"] else "")),
        ("IAM DB auth", _on(s["iam_database_authentication"])),
        ("parameter group", f"{s['parameter_group']} ({s['parameter_family']})"),
        ("parameters", ", ".join(f"{name}={value}" for name, value in s["parameters"].items())),
        ("enhanced monitoring", monitoring),
        ("database egress", "; ".join(egress) if egress else "none"),
    ]
    return [_row(label, value) for label, value in rows]


EXTENDED_SUPPORT_MEANING = {
    "open-source-rds-extended-support-disabled": "off: when standard support ends, AWS "
    "upgrades the major version instead of charging for Extended Support",
    "open-source-rds-extended-support": "on (opted in): after standard support ends the cluster "
    "stays on its major version and AWS charges Extended Support per vCPU/ACU-hour",
}


def _lifecycle(s: dict) -> list[str]:
    logs = s["log_retention"]
    rows = [
        (
            "auto minor upgrade",
            f"{_on(s['auto_minor_version_upgrade'])} (the program follows "
            f"what runs and never sends a lower version)",
        ),
        (
            "major upgrades",
            "allowed"
            if s["allow_major_version_upgrade"]
            else "refused unless alex-db:allowMajorVersionUpgrade is true",
        ),
        (
            "extended support",
            EXTENDED_SUPPORT_MEANING.get(
                s["engine_lifecycle_support"], str(s["engine_lifecycle_support"])
            ),
        ),
        (
            "log retention",
            ", ".join(f"{name}: {days} days" for name, days in logs.items()) or "no log exports",
        ),
        ("final snapshot name", s["final_snapshot_name"] or "none (no final snapshot)"),
    ]
    return [_row(label, value) for label, value in rows]


def _statements(statements: list[dict]) -> list[str]:
    lines = []
    for statement in statements:
        actions = statement["Action"]
        actions = actions if isinstance(actions, list) else [actions]
        lines.append(f"  [{statement['policy']}] {statement['Sid']}: {statement['Effect']}")
        lines.append(f"      actions:   {', '.join(actions)}")
        lines.append(f"      resources: {', '.join(statement['Resource'])}")
        if "Condition" in statement:
            lines.append(f"      condition: {json.dumps(statement['Condition'], sort_keys=True)}")
    return lines


def _cost(c: dict) -> list[str]:
    if "reason" in c:
        return [f"  {c['reason']}: no estimate rather than a guess"]
    rate = f"${c['usd_per_acu_hour']}/ACU-hour"
    idle_note = "" if c["auto_pause_configured"] else " (needs minCapacity 0)"
    return [
        f"  {c['region']}, {rate}, {c['hours_per_month']} h/month, {c['instances']} instance(s) "
        f"billing their own ACUs; compute only "
        f"(storage, I/O, backups extra). Source: {c['source']}",
        f"  at minimum capacity all month:  ${c['monthly_at_min']:,.2f}",
        f"  at maximum capacity all month:  ${c['monthly_at_max']:,.2f}",
        f"  idle, without auto-pause:       ${c['idle_monthly_without_auto_pause']:,.2f}",
        f"  idle, with auto-pause:          ${c['idle_monthly_with_auto_pause']:,.2f}{idle_note}",
    ]


def next_step(stack: str, applies: str) -> str:
    """The commands that come after a plan: preflight reads the account, then ``pulumi up``."""
    return (
        f"Next: alex-db preflight --stack {stack} (seconds, read-only: what would make the "
        f"deploy fail), then pulumi up --stack {stack} {applies}"
    )


def render_text(plan: dict) -> str:
    """The plan for a reader."""
    outputs = []
    for name, value in plan["outputs"].items():
        text = str(value).rstrip("\n")
        outputs.append(f"  {name}: {text}" if "\n" not in text else f"  {name}:")
        if "\n" in text:
            outputs.extend(f"    | {line}".rstrip() for line in text.splitlines())
    sections = [
        [f"Plan for stack {plan['stack']} of {plan['project']}", plan["note"]]
        + [f"WARNING: {warning}" for warning in plan["warnings"]],
        ["Where it runs and what reaches it:"] + _network(plan["network"]),
        [f"Resources ({sum(not r['component'] for r in plan['resources'])}, by component):"]
        + _tree(plan["resources"]),
        ["Key settings:"] + _settings(plan["settings"], plan),
        ["Security settings:"] + _security(plan["security"]),
        ["Lifecycle (day 2):"] + _lifecycle(plan["settings"]),
        ["Tags:"] + _tags(plan["settings"]["tags"]),
        ["IAM statements:"] + _statements(plan["iam_statements"]),
        ["Outputs:"] + outputs,
        ["Estimated compute cost per month:"] + _cost(plan["cost"]),
        ["Effective configuration (value, and where it came from):"] + _configuration(plan),
        [next_step(plan["stack"], "to deploy it")],
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"
