"""How preflight talks to AWS: one client per service (bounded
in time, made before any check so that a bad AWS setting is one failed check), and what a read
that AWS refused becomes ("cannot tell")."""

from __future__ import annotations

from collections.abc import Callable

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound, ReadTimeoutError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from alex_db.config.resource_types import name_check_services
from alex_db.tools.shared.aws_calls import bounded
from alex_db.tools.shared.aws_errors import (
    AWS_CALL_ERRORS,
    NotAwsAnswerError,
    judge_answers,
    needed,
    not_aws_answer,
    one_line,
)
from alex_db.tools.shared.exits import Exit
from alex_db.tools.shared.report import Step, failed, unknown

# What one listing may take: the longest here are one cluster's manual snapshots (RDS pages them
# by 100, and the default quota is 100 manual cluster snapshots a region) and a VPC's subnets
# (200 by default).
MOST_PAGES = 100
# Calls that AWS may refuse, the emulator may not implement, or something that is not AWS may
# answer (shared/aws_errors.py): each becomes "cannot tell".
READ_ERRORS = (*AWS_CALL_ERRORS, NotImplementedError)

# The services preflight reads: STS for the identity, RDS and EC2 for the engine, quota and
# network checks, and those the name checks read with (each type's entry in
# config/resource_types.py). Every client is made up front, so a bad AWS setting (profile,
# endpoint URL, retry count) is one failed check rather than a traceback halfway.
SERVICES = tuple(dict.fromkeys(("sts", "rds", "ec2", *name_check_services())))
# botocore's defaults (60 s to connect, 60 s to read, 5 attempts in legacy retry mode:
# botocore/config.py and botocore/data/_retry.json) let one endpoint that accepts and never
# answers hold a single call for ten minutes. Preflight is meant to take seconds: each call
# here takes at most 2 x (5 + 10) s, an unreachable STS stops the run after the first, and
# any other service is given up after its first unanswered call (_give_up_after_a_timeout).
CLIENT_CONFIG = Config(
    connect_timeout=5, read_timeout=10, retries={"total_max_attempts": 2, "mode": "standard"}
)
# Those timeouts bound each wait on the socket, not a call (shared/aws_calls.py), so each call is
# also cut off after both attempts' timeouts and the standard mode's longest backoff between
# them: rand(0, 1) x 1 s for a throttled first attempt, raised by an x-amz-retry-after header to
# at most 5 s more (botocore/retries/standard.py, ExponentialBackoff.delay_amount).
CALL_SECONDS = 2 * (5 + 10) + 1 + 5


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


def open_clients(new_session: Callable[[], object], region: str) -> tuple[dict, Step | None]:
    """A client per service (bounded by CLIENT_CONFIG), or the check that says why there are
    none: botocore raises ProfileNotFound for an unknown AWS_PROFILE when the session is made,
    and ValueError for an endpoint URL or setting it cannot parse when a client is."""
    try:
        session = new_session()
        clients = {
            service: bounded(
                judge_answers(session.client(service, region_name=region, config=CLIENT_CONFIG)),
                CALL_SECONDS,
                profile=session.profile_name,
            )
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
        return {}, failed("credentials", fix, Exit.AWS_CONFIG)
    return clients, None


def cannot_tell(name: str, error: Exception, permission: str) -> Step:
    """A read that AWS refused or the endpoint does not implement."""
    # The permission names the service: "rds:DescribeDBClusters" -> rds.
    strange = not_aws_answer(permission.split(":")[0], error)
    if strange is not None:
        reason = strange
    elif isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "error")
        reason = f"AWS answered {code}"
    elif isinstance(error, NotImplementedError):
        reason = "the endpoint does not implement the call"
    else:
        reason = f"AWS unreachable ({one_line(error)})"
    return unknown(name, f"cannot tell: {reason}; the check needs {permission}")


def every_item(client, operation: str, result_key: str, **params) -> list[dict]:
    """Every item a Describe call returns, across pages: AWS may page any call botocore has a
    paginator for (NextToken, Marker), and a check that reads only the first page counts wrong.
    An endpoint that hands out a new page token for ever is cut off after MOST_PAGES."""
    items = []
    pages = client.get_paginator(operation).paginate(**params)
    for number, page in enumerate(pages, start=1):
        if number > MOST_PAGES:
            raise NotAwsAnswerError(f"more than {MOST_PAGES} pages of {result_key}")
        items += needed(page, result_key)
    return items
