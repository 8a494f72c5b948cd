"""The customer-managed KMS key for the cluster's storage, its secret and Performance Insights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import kms

# AWS allows 7-30 days; the longest gives the most time to notice a mistaken deletion.
DELETION_WINDOW_DAYS = 30


@dataclass
class EncryptionKeyArgs:
    """How to name and keep the key."""

    alias_name: str
    """The alias, ``alias/alex-aurora-<stack>``."""
    protect: bool = True
    """Pulumi refuses to delete the key while True. Default True."""
    retain_on_delete: bool = True
    """Leave the key in AWS when the stack is destroyed. Default True: the final snapshot and
    the backups stay encrypted with it, and without the key they cannot be restored."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the key. Default none."""


class EncryptionKey(pulumi.ComponentResource):
    """A symmetric KMS key with yearly automatic rotation and a 30-day deletion window, and its
    alias. The key policy is AWS's default (the account may grant use through IAM), which is
    what RDS and Secrets Manager need: they use the key on behalf of the IAM principal calling
    them ("AWS KMS key management", Amazon RDS User Guide)."""

    key_arn: pulumi.Output[str]
    """The key's ARN, for ``kms_key_id`` properties and IAM statements."""
    alias_name: pulumi.Output[str]
    """The alias name."""

    def __init__(
        self, name: str, args: EncryptionKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("alexdb:index:EncryptionKey", name, None, opts)
        key = kms.Key(
            f"{name}-key",
            description="Alex Aurora: cluster storage, credentials secret, Performance Insights",
            enable_key_rotation=True,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.retain_on_delete
            ),
        )
        alias = kms.Alias(
            f"{name}-alias",
            name=args.alias_name,
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.key_arn = key.arn
        self.alias_name = alias.name
        self.register_outputs({"key_arn": self.key_arn, "alias_name": self.alias_name})
