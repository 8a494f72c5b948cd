"""What KMS reports about the key given as ``kmsKeyArn``, read with a provider invoke before any
resource is registered (the rules are in ``config.brought_key``)."""

from __future__ import annotations

from pulumi_aws import kms

from alex_db.config.brought_key import KeyFacts


def describe_key(key_arn: str) -> KeyFacts:
    """DescribeKey on ``key_arn`` (``aws.kms.get_key``). Raises whatever the invoke raises when
    KMS cannot describe it (no such key, another region, a key policy that does not let this
    account call ``kms:DescribeKey``, which RDS needs as well)."""
    key = kms.get_key(key_id=key_arn)
    return KeyFacts(key.key_manager, key.key_state, key.key_spec, key.key_usage)
