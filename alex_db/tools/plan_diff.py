"""Compare two plan documents, flagging the changes that make AWS replace a resource.

Replacement is the change nobody should learn about from ``pulumi up``: for the cluster and the
secret it means the data (or the credentials) are gone.
"""

from __future__ import annotations

from dataclasses import dataclass

# Properties whose change forces a new resource (the pulumi-aws schema's "forces new").
REPLACED_BY: dict[str, frozenset[str]] = {
    "aws:rds/cluster:Cluster": frozenset(
        {
            "clusterIdentifier",
            "databaseName",
            "masterUsername",
            "engine",
            "storageEncrypted",
            "dbSubnetGroupName",
            # A cluster's key cannot change: adopting a customer-managed key (customerManagedKey
            # or kmsKeyArn) on an existing cluster replaces it (terraform-provider-aws
            # internal/service/rds/cluster.go: kms_key_id ForceNew).
            "kmsKeyId",
        }
    ),
    # internal/service/rds/cluster_parameter_group.go: name, family, description ForceNew.
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": frozenset(
        {"name", "family", "description"}
    ),
    "aws:kms/alias:Alias": frozenset({"name"}),
    "aws:secretsmanager/secret:Secret": frozenset({"name"}),
    "aws:rds/clusterInstance:ClusterInstance": frozenset({"identifier", "clusterIdentifier"}),
    "aws:rds/subnetGroup:SubnetGroup": frozenset({"name"}),
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"name", "vpcId", "description"}),
    "aws:iam/role:Role": frozenset({"name"}),
}
# Replacing these loses what they hold.
HOLDS_DATA = frozenset({"aws:rds/cluster:Cluster", "aws:secretsmanager/secret:Secret"})


@dataclass(frozen=True)
class Change:
    """One difference between the old plan and the new one."""

    urn: str
    kind: str
    """``added``, ``removed`` or ``changed``."""
    properties: tuple[str, ...] = ()
    replaces: bool = False
    data_loss: bool = False

    @property
    def verdict(self) -> str:
        """How a reader should take it."""
        if self.kind == "removed" and self.urn_type in HOLDS_DATA:
            return "DELETES — data loss"
        if self.replaces:
            return "REPLACES — data loss" if self.data_loss else "REPLACES"
        return {"added": "creates", "removed": "deletes", "changed": "updates in place"}[self.kind]

    @property
    def urn_type(self) -> str:
        """The resource type from the URN."""
        return self.urn.split("::")[2].split("$")[-1]


def diff_plans(old: dict, new: dict) -> list[Change]:
    """What changes from ``old`` to ``new``, resource by resource, in URN order."""
    before = {r["urn"]: r for r in old["resources"]}
    after = {r["urn"]: r for r in new["resources"]}
    changes = []
    for urn in sorted(before.keys() | after.keys()):
        if urn not in before:
            changes.append(Change(urn, "added"))
        elif urn not in after:
            changes.append(Change(urn, "removed"))
        else:
            old_inputs, new_inputs = before[urn]["inputs"], after[urn]["inputs"]
            changed = tuple(
                sorted(
                    key
                    for key in old_inputs.keys() | new_inputs.keys()
                    if old_inputs.get(key) != new_inputs.get(key)
                )
            )
            if changed:
                type_token = after[urn]["type"]
                replaces = bool(REPLACED_BY.get(type_token, frozenset()) & set(changed))
                changes.append(
                    Change(urn, "changed", changed, replaces, replaces and type_token in HOLDS_DATA)
                )
    return changes


def render_changes(changes: list[Change], old: dict, new: dict) -> str:
    """The changes for a reader, one resource a line plus its changed properties."""
    if not changes:
        return "No changes.\n"
    inputs_before = {r["urn"]: r["inputs"] for r in old["resources"]}
    inputs_after = {r["urn"]: r["inputs"] for r in new["resources"]}
    lines = []
    for change in changes:
        lines.append(f"{change.verdict}: {change.urn}")
        forcing = REPLACED_BY.get(change.urn_type, frozenset())
        for key in change.properties:
            mark = "  (forces replacement)" if key in forcing else ""
            was = inputs_before[change.urn].get(key)
            now = inputs_after[change.urn].get(key)
            lines.append(f"    {key}: {was!r} -> {now!r}{mark}")
    return "\n".join(lines) + "\n"
