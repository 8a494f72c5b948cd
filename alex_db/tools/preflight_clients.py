"""How preflight talks to AWS: region names of every partition, and one client per service,
bounded in time, made before any check so that a bad AWS setting is one failed check."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

import botocore.loaders
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound, ReadTimeoutError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from alex_db.tools.aws_errors import one_line
from alex_db.tools.preflight_report import Check, Exit, failed

# AWS region names (us-east-1, cn-north-1, eusc-de-east-1): checked before any client exists.
# The shape, then one of the partitions botocore knows (botocore/data/partitions.json,
# "regionRegex"; the regexes alone would take "us-east-1\n" and "us-east_x-1").
REGION_SHAPE = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}", re.ASCII)
# The services preflight reads; every client is made up front, so a bad AWS setting (profile,
# endpoint URL, retry count) is one failed check rather than a traceback halfway.
SERVICES = ("sts", "rds", "ec2", "iam", "logs")
# botocore's defaults (60 s to connect, 60 s to read, 5 attempts in legacy retry mode:
# botocore/config.py and botocore/data/_retry.json) let one endpoint that accepts and never
# answers hold a single call for ten minutes. Preflight is meant to take seconds: each call
# here takes at most 2 x (5 + 10) s, an unreachable STS stops the run after the first, and
# any other service is given up after its first unanswered call (_give_up_after_a_timeout).
CLIENT_CONFIG = Config(
    connect_timeout=5, read_timeout=10, retries={"total_max_attempts": 2, "mode": "standard"}
)


@cache
def _partition_patterns() -> tuple[re.Pattern, ...]:
    partitions = botocore.loaders.create_loader().load_data("partitions")["partitions"]
    return tuple(re.compile(p["regionRegex"], re.ASCII) for p in partitions)


def is_region_name(text: str) -> bool:
    """True for a region name of any AWS partition (aws, aws-cn, aws-us-gov, aws-eusc...)."""
    return bool(REGION_SHAPE.fullmatch(text)) and any(
        pattern.match(text) for pattern in _partition_patterns()
    )


def _give_up_after_a_timeout(client) -> None:
    """Once the service's endpoint has not answered within CLIENT_CONFIG's bounds, its later
    calls fail at once with the same error (each check then says "cannot tell") instead of
    waiting again: the wall time stays one bounded call per service, not one per check.
    botocore emits ``after-call-error`` when a request fails after its retries and lets a
    ``before-call`` handler stop a call (botocore/client.py, ``_make_api_call``)."""
    unreachable: list[Exception] = []

    def remember(exception: Exception, **_) -> None:
        if isinstance(exception, (EndpointUnreachable, ReadTimeoutError)):
            unreachable[:] = [exception]

    def refuse(**_) -> None:
        if unreachable:
            raise unreachable[0]

    client.meta.events.register("after-call-error", remember)
    client.meta.events.register("before-call", refuse)


def open_clients(new_session: Callable[[], object], region: str) -> tuple[dict, Check | None]:
    """A client per service (bounded by CLIENT_CONFIG), or the check that says why there are
    none: botocore raises ProfileNotFound for an unknown AWS_PROFILE when the session is made,
    and ValueError for an endpoint URL or setting it cannot parse when a client is."""
    try:
        session = new_session()
        clients = {
            service: session.client(service, region_name=region, config=CLIENT_CONFIG)
            for service in SERVICES
        }
        for client in clients.values():
            _give_up_after_a_timeout(client)
    except ProfileNotFound as error:
        profile = error.kwargs.get("profile")
        fix = (
            f"the AWS profile {profile!r} is not in the AWS config files; fix the stack's "
            f"aws:profile or AWS_PROFILE, or run `aws configure --profile {profile}`"
        )
        return {}, failed("credentials", fix, Exit.CREDENTIALS)
    except (BotoCoreError, ValueError) as error:
        fix = (
            f"cannot set up the AWS clients ({one_line(error)}); check AWS_ENDPOINT_URL* and the "
            f"other AWS_* settings"
        )
        return {}, failed("credentials", fix, Exit.OTHER)
    return clients, None
