"""The customer-managed key's rules (pure): whether a key given as ``kmsKeyArn`` can do the job,
and whether the settings keep the key a running cluster was created with.

Its ARN's shape says nothing about the key itself: the ARN of the AWS managed ``aws/rds`` key,
which the console shows as an existing cluster's key, passes every pattern. Given as
``kmsKeyArn`` it would leave such a cluster unreplaced, silence the program's warning and pass
the policy pack, while nothing is customer-managed and Secrets Manager cannot use that key at all
(an AWS managed key serves only its own service: AWS KMS developer guide, "AWS managed keys").
So the program asks KMS (``infra.kms_lookup``) and applies these rules before any resource.
"""

from __future__ import annotations

from dataclasses import dataclass

from alex_db.config.values import SettingsError, key

CUSTOMER_MANAGED = "CUSTOMER"
ENABLED = "Enabled"
# RDS encrypts storage and Performance Insights, and Secrets Manager secrets, only with
# symmetric encryption keys (Amazon RDS user guide, "AWS KMS key management"; Secrets Manager
# user guide, "Secret encryption and decryption").
SYMMETRIC_SPEC = "SYMMETRIC_DEFAULT"
ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"


@dataclass(frozen=True)
class KeyFacts:
    """What KMS DescribeKey reports about a key."""

    manager: str
    """``CUSTOMER`` or ``AWS`` (KeyManager)."""
    state: str
    """``Enabled``, ``Disabled``, ``PendingDeletion``, ... (KeyState)."""
    spec: str
    """``SYMMETRIC_DEFAULT``, ``RSA_2048``, ... (KeySpec)."""
    usage: str
    """``ENCRYPT_DECRYPT``, ``SIGN_VERIFY``, ... (KeyUsage)."""


def given_key_problem(facts: KeyFacts) -> str | None:
    """Why the key cannot be the stack's customer-managed key, or None when it can."""
    if facts.manager != CUSTOMER_MANAGED:
        return "KMS reports an AWS managed key (like aws/rds): name a customer-managed key"
    if facts.state != ENABLED:
        return f"KMS reports the key as {facts.state}: it must be {ENABLED}"
    if (facts.spec, facts.usage) != (SYMMETRIC_SPEC, ENCRYPT_DECRYPT):
        return (
            f"KMS reports a {facts.spec} key for {facts.usage}: RDS and Secrets Manager need a "
            f"symmetric encryption key ({SYMMETRIC_SPEC}, {ENCRYPT_DECRYPT})"
        )
    return None


def cluster_key_change(
    cluster: str,
    running_key: str,
    running_is_customer_managed: bool,
    wanted_key: str | None,
    wants_customer_key: bool,
) -> SettingsError | None:
    """Why the settings would change the key of ``cluster``, which already runs encrypted with
    ``running_key``; None when they keep it. A cluster's key is fixed when it is created:
    ``kms_key_id`` is ForceNew (terraform-provider-aws ``internal/service/rds/cluster.go``), so a
    change is a replacement, which ``allowDeletion`` would no longer stop. ``wanted_key`` is a
    ``kmsKeyArn``; with ``wants_customer_key`` and no ``wanted_key`` the program creates the key,
    which it cannot compare before it exists (only its absence on an AWS managed cluster)."""
    if wanted_key is not None:
        name, value = "kmsKeyArn", wanted_key
    else:
        name, value = "customerManagedKey", str(wants_customer_key).lower()
    replaced = (
        "and a cluster's key is fixed when it is created, so this would replace it (see "
        "docs/production.md, Encryption keys)"
    )
    if not running_is_customer_managed:
        if not wants_customer_key:
            return None
        return SettingsError(
            f"{key(name)} = {value!r} is not allowed: the running cluster {cluster} is "
            f"encrypted with an AWS managed key, {replaced}"
        )
    if not wants_customer_key:
        return SettingsError(
            f"{key(name)} = {value!r} is not allowed: the running cluster {cluster} is "
            f"encrypted with customer-managed key {running_key}, which cannot change; keep "
            f"{key('customerManagedKey')} or {key('kmsKeyArn')}"
        )
    if wanted_key is not None and wanted_key != running_key:
        return SettingsError(
            f"{key(name)} = {value!r} is not allowed: the running cluster {cluster} is "
            f"encrypted with {running_key}, {replaced}"
        )
    return None
