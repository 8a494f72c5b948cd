"""What KMS reports about the key given as ``kmsKeyArn``, read with a provider invoke before any
resource is registered (the rules are in ``config.kms_key``)."""

from __future__ import annotations

from pulumi_aws import kms

from alex_db.config.kms_key import KeyFacts


def describe_key(key_arn: str) -> KeyFacts | None:
    """DescribeKey on ``key_arn`` (``aws.kms.get_key``), or None when KMS cannot describe it (no
    such key, another region, no ``kms:DescribeKey`` for this account or deployer)."""
    try:
        key = kms.get_key(key_id=key_arn)
    except Exception:  # a failed invoke raises a plain Exception carrying the provider's text
        return None
    return KeyFacts(key.key_manager, key.key_state, key.key_spec, key.key_usage)
