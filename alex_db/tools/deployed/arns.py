"""The two ARNs ``check`` and ``env`` are given, checked for shape before any AWS call.

A cluster is proved by its whole ARN (partition, region, account, identifier), so the shape is
checked here and the comparison with what AWS describes is ``check``'s. Formats: "Amazon
Resource Names (ARNs) in Amazon RDS" (``arn:PARTITION:rds:REGION:ACCOUNT:cluster:NAME``; an
instance is ``db:NAME``) and Secrets Manager's ``arn:PARTITION:secretsmanager:REGION:ACCOUNT:
secret:NAME-6RANDOM`` (docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-
permissions.html#iam-resources). Identifier rules: the RDS API reference, CreateDBCluster
``DBClusterIdentifier`` (1-63 letters, digits or hyphens, starting with a letter, no hyphen at
the end or twice in a row); secret names: CreateSecret ``Name`` (1-512 of ``A-Za-z0-9/_+=.@-``),
plus ``!``, which the secrets RDS manages itself carry (``rds!cluster-...``: botocore's
``rds-data`` model, ExecuteStatement ``secretArn``). Digits are ASCII digits: Python's regex
digit class would also take other scripts' digits, which no ARN has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from alex_db.config.partitions import REGION_NAME, arn_partition_pattern

_ARN = re.compile(
    r"arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):"
    r"(?P<kind>[^:]*):(?P<name>.*)",
    re.DOTALL,
)
_PARTITION = re.compile(arn_partition_pattern(), re.ASCII)
_REGION = re.compile(REGION_NAME, re.ASCII)
_ACCOUNT = re.compile(r"[0-9]{12}")
_CLUSTER_NAME = re.compile(r"[A-Za-z](?:-?[A-Za-z0-9]){0,62}")
_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@!-]{1,512}")
CLUSTER_SHAPE = "arn:aws:rds:REGION:ACCOUNT:cluster:NAME"
SECRET_SHAPE = "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf"


class ArnError(ValueError):
    """Not the ARN that was asked for; the message says what it is and what is expected."""


@dataclass(frozen=True)
class Arn:
    """The fields of one ARN."""

    text: str
    partition: str
    service: str
    region: str
    account: str
    kind: str
    """``cluster``, ``db``, ``secret``: the resource type before the name."""
    name: str

    def where(self) -> tuple[str, str, str]:
        """Partition, region and account: which AWS, where, and whose."""
        return self.partition, self.region, self.account


def _fields(text: str) -> Arn | None:
    match = _ARN.fullmatch(text)
    if not match:
        return None
    arn = Arn(text=text, **match.groupdict())
    if not (
        _PARTITION.fullmatch(arn.partition)
        and _REGION.fullmatch(arn.region)
        and _ACCOUNT.fullmatch(arn.account)
    ):
        return None
    return arn


def cluster_arn(text: str) -> Arn:
    """``text`` as an Aurora cluster ARN, or an ``ArnError`` that says what it is instead."""
    arn = _fields(text)
    if arn and arn.service == "rds" and arn.kind == "cluster" and _CLUSTER_NAME.fullmatch(arn.name):
        return arn
    if arn and arn.service == "secretsmanager":
        raise ArnError("is a secret ARN, not a cluster ARN: were the two ARNs swapped?")
    if arn and arn.service == "rds" and arn.kind == "db":
        raise ArnError(
            "is a DB instance ARN; give the cluster's ARN (stack output aurora_cluster_arn)"
        )
    raise ArnError(f"is not an Aurora cluster ARN ({CLUSTER_SHAPE})")


def secret_arn(text: str) -> Arn:
    """``text`` as a Secrets Manager secret ARN, or an ``ArnError``."""
    arn = _fields(text)
    if (
        arn
        and arn.service == "secretsmanager"
        and arn.kind == "secret"
        and _SECRET_NAME.fullmatch(arn.name)
    ):
        return arn
    if arn and arn.service == "rds":
        raise ArnError("is an RDS ARN, not a secret ARN: were the two ARNs swapped?")
    raise ArnError(f"is not a Secrets Manager secret ARN ({SECRET_SHAPE})")


def same_secret(given: str, described: str) -> bool:
    """Whether AWS's ARN of a secret is the one given: equal, or the given one lacks only the
    six random characters Secrets Manager appends (a partial ARN, which AWS accepts)."""
    return described == given or (
        described.startswith(f"{given}-") and len(described) == len(given) + 7
    )
