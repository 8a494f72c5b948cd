"""Regions and partitions: is this a region name, which partition is it in, and that partition's
ARN name and DNS suffix. One table for the settings' ARN rules, ``check``'s ARN parsing,
``preflight``'s region and the offline plan's answers, so they agree at every edge.

The table (``data/partitions.json``) is botocore's ``partitions.json`` cut to what is used here;
``config`` stays free of the AWS SDK, and a test keeps the copy equal to the installed botocore's.
Every partition AWS lists is one: the European Sovereign Cloud (``aws-eusc``, regions
``eusc-de-*``, DNS ``amazonaws.eu``) and the isolated ones are recognised like the commercial,
China and GovCloud ones, so a region name is never refused by one tool and taken by another.
Whether the Data API is offered in a region is a separate fact (``regions.py``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PARTITION_FILE = Path(__file__).parent / "data" / "partitions.json"
# A region name's shape before any partition is asked: lower-case ASCII words and a number
# (``us-east-1``, ``eusc-de-east-1``). botocore's regexes use ``\w`` and ``$``, which alone would
# take ``us-east_x-1`` and ``us-east-1\n``; ASCII, since in a str pattern ``\d`` is any Unicode
# digit (Python docs, ``re``: "Matches any Unicode decimal digit ... unless the ASCII flag").
REGION_NAME = r"[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}"
_REGION_SHAPE = re.compile(REGION_NAME, re.ASCII)


@dataclass(frozen=True)
class Partition:
    """One AWS partition."""

    name: str
    """What ARNs carry: ``arn:<name>:...`` (``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-eusc``)."""
    region_regex: re.Pattern
    dns_suffix: str
    """Service endpoints' domain: ``secretsmanager.<region>.<dns_suffix>``."""


@cache
def partitions() -> tuple[Partition, ...]:
    """Every partition in the table, in its order (the commercial ``aws`` first)."""
    table = json.loads(PARTITION_FILE.read_text())["partitions"]
    return tuple(
        Partition(p["id"], re.compile(p["regionRegex"], re.ASCII), p["dnsSuffix"]) for p in table
    )


def partition_of(region: str) -> Partition | None:
    """The partition ``region`` belongs to, or None when it is not a region name."""
    if not _REGION_SHAPE.fullmatch(region):
        return None
    return next((p for p in partitions() if p.region_regex.match(region)), None)


def is_region_name(text: str) -> bool:
    """True for a region name of any AWS partition."""
    return partition_of(text) is not None


def arn_partition(region: str) -> str:
    """The partition name ARNs in ``region`` carry; ``aws`` for what is not a region name."""
    found = partition_of(region)
    return found.name if found else "aws"


def dns_suffix(region: str) -> str:
    """The service domain in ``region``; ``amazonaws.com`` for what is not a region name."""
    found = partition_of(region)
    return found.dns_suffix if found else "amazonaws.com"


def arn_partition_pattern() -> str:
    """A regex alternation of every partition name, longest first (``aws-us-gov``, then ``aws``)."""
    names = sorted((p.name for p in partitions()), key=len, reverse=True)
    return "|".join(re.escape(name) for name in names)
