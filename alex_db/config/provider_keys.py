"""The ``aws:*`` keys a stack may set, checked like the program's own ``alex-db:*`` keys (pure).

The Pulumi CLI passes every key of the ``aws`` namespace to the provider unchecked, so
``aws:regoin: eu-west-1`` deploys to whatever region the environment names, and a region that
does not exist fails only halfway through ``pulumi up``. The program therefore refuses an
``aws:*`` key the provider does not read, naming the closest one, and a region that matches no
AWS partition; a region of a known partition that botocore's endpoint data does not list yet (a
region newer than the installed botocore, or a typo such as ``us-east-7``) is a warning, since
only AWS can tell which.

``data/aws_provider.json`` holds both facts with their sources: the provider's configuration
keys (pulumi-aws ``sdk/python/pulumi_aws/config/vars.py``, generated from the provider schema's
``config.variables``) and each partition's regions (botocore ``data/partitions.json``).
``tests/test_aws_keys.py`` keeps them equal to the installed pulumi_aws and botocore.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from alex_db.config.keys import closest_key
from alex_db.config.partitions import partition_of
from alex_db.config.values import SettingsError

PROVIDER_FILE = Path(__file__).parent / "data" / "aws_provider.json"
AWS_NAMESPACE = "aws"
# How much of a value that is not a region a message quotes.
QUOTED_CHARACTERS = 64


@cache
def _table() -> dict:
    return json.loads(PROVIDER_FILE.read_text())


def aws_config_keys() -> frozenset[str]:
    """The short names the aws provider reads (``region``, ``profile``, ...)."""
    return frozenset(_table()["config_keys"])


def listed_regions(partition: str) -> frozenset[str]:
    """The regions botocore's endpoint data lists for ``partition``."""
    return frozenset(_table()["regions"].get(partition, []))


def check_aws_keys(full_keys: Iterable[str]) -> None:
    """Refuse a configured ``aws:*`` key the provider does not read (``aws:regoin``, and
    ``AWS:region``, which is in no provider's namespace), naming the closest one it does.
    Messages name the key, never its value."""
    known = aws_config_keys()
    for full in sorted(full_keys):
        namespace, _, name = full.partition(":")
        # Pulumi gives a provider the keys whose namespace is its package name as written:
        # `AWS:region` reaches no provider, like a misspelt key.
        if namespace.casefold() != AWS_NAMESPACE or (namespace == AWS_NAMESPACE and name in known):
            continue
        suggestion = closest_key(name, known)
        hint = (
            f"did you mean {AWS_NAMESPACE}:{suggestion}?"
            if suggestion
            else f"the provider reads {', '.join(sorted(known, key=str.lower))}"
        )
        raise SettingsError(
            f"config key {full!r} is not one the aws provider reads: {hint} (an unknown key "
            f"would silently leave the provider's default in place)"
        )


def region_warnings(region: str | None) -> tuple[str, ...]:
    """Refuse an ``aws:region`` that matches no AWS partition; warn about one its partition's
    endpoint data does not list yet. Unset (None or empty) is the plan's own business."""
    if not region:
        return ()
    partition = partition_of(region)
    if partition is None:
        shown = repr(region[:QUOTED_CHARACTERS]) + ("…" if len(region) > QUOTED_CHARACTERS else "")
        raise SettingsError(
            f"aws:region {shown} is not a region of any AWS partition: a region name is like "
            f"us-east-1 or eu-west-2 (`aws ec2 describe-regions` lists yours)"
        )
    if region in listed_regions(partition.name):
        return ()
    return (
        f"aws:region {region!r} is not among the {partition.name} regions this botocore "
        f"lists; check the spelling (a region newer than botocore is fine)",
    )
