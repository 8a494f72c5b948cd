"""``python -m alex_db check``: prove a deployed database answers through the Data API.

It follows the seed's Data API sequence: the cluster exists with its HTTP endpoint on, the
secret holds ``username`` and ``password``, and ``SELECT version()`` returns a row. Each step is
one line; every failure says what is wrong and what to do, with its own exit code. The secret's
content is never printed, not even in part.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from botocore.exceptions import BotoCoreError, ClientError

from alex_db.tools.targets import Target

VERSION_SQL = "SELECT version()"
RESUMING = "DatabaseResumingException"
FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 10.0


class Exit(IntEnum):
    """Exit codes, one per kind of failure."""

    OK = 0
    OTHER = 1
    USAGE = 2
    NOT_FOUND = 3
    DATA_API_DISABLED = 4
    SECRET_UNUSABLE = 5
    ACCESS_DENIED = 6
    STILL_RESUMING = 7


ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "ForbiddenException", "UnauthorizedOperation"}
)
NOT_FOUND_CODES = frozenset(
    {"DBClusterNotFoundFault", "ResourceNotFoundException", "NotFoundException"}
)
CREDENTIAL_CODES = frozenset(
    {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"}
)


@dataclass
class Step:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str
    exit: Exit = Exit.OK

    def line(self) -> str:
        """The step as the user reads it."""
        return f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"


@dataclass
class Report:
    """All steps run, in order; the exit code is the first failure's."""

    target: Target
    steps: list[Step] = field(default_factory=list)
    version: str | None = None

    @property
    def exit(self) -> Exit:
        """The first failing step's code, or OK."""
        return next((step.exit for step in self.steps if not step.ok), Exit.OK)

    def as_json(self) -> str:
        """The machine-readable report."""
        return json.dumps(
            {
                "ok": self.exit == Exit.OK,
                "exit_code": int(self.exit),
                "cluster_arn": self.target.cluster_arn,
                "secret_arn": self.target.secret_arn,
                "database": self.target.database,
                "region": self.target.region,
                "version": self.version,
                "steps": [
                    {"name": s.name, "ok": s.ok, "detail": s.detail, "exit_code": int(s.exit)}
                    for s in self.steps
                ],
            },
            indent=2,
        )


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _one_line(text: object) -> str:
    """AWS and botocore messages can span lines; a step is one."""
    return " ".join(str(text).split())


def _aws_failure(name: str, error: Exception, what: str) -> Step:
    """A step failed by an AWS or connection error, classified by kind."""
    if isinstance(error, BotoCoreError):
        return Step(
            name,
            False,
            f"cannot reach AWS ({_one_line(error)}); check credentials and network",
            Exit.OTHER,
        )
    code = _error_code(error)
    message = error.response.get("Error", {}).get("Message", "")
    if code in ACCESS_DENIED_CODES:
        return Step(
            name,
            False,
            f"access denied ({code}); the caller needs {what}, e.g. the role from "
            f"`pulumi stack output lambda_role_arn` or an admin profile",
            Exit.ACCESS_DENIED,
        )
    if code in CREDENTIAL_CODES:
        return Step(
            name, False, f"AWS rejected the credentials ({code}); refresh them", Exit.ACCESS_DENIED
        )
    if code in NOT_FOUND_CODES:
        return Step(
            name,
            False,
            f"not found ({code}); check the ARN and region, or run "
            f"`python -m alex_db env --stack NAME` to take them from the stack",
            Exit.NOT_FOUND,
        )
    return Step(name, False, f"{code or 'error'}: {_one_line(message)}", Exit.OTHER)


def _scaling(cluster: dict) -> str:
    scaling = cluster.get("ServerlessV2ScalingConfiguration")
    if not scaling:
        return "no Serverless v2 scaling"
    low, high = scaling.get("MinCapacity"), scaling.get("MaxCapacity")
    return f"Serverless v2 {low:g}-{high:g} ACU"


def check_cluster(rds, target: Target) -> Step:
    """Step 1: the cluster exists, and its Data API is enabled."""
    identifier = target.cluster_arn.rsplit(":", 1)[-1]
    name = f"cluster {identifier}"
    try:
        (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"]
    except (ClientError, BotoCoreError) as error:
        return _aws_failure(name, error, "rds:DescribeDBClusters")
    facts = (
        f"{cluster.get('Status')}, {cluster.get('Engine')} {cluster.get('EngineVersion')}, "
        f"{_scaling(cluster)}"
    )
    if not cluster.get("HttpEndpointEnabled"):
        return Step(
            name,
            False,
            f"{facts}, Data API disabled; enable it with `pulumi up` (the program turns it on) or "
            f"`aws rds enable-http-endpoint --resource-arn {target.cluster_arn}`",
            Exit.DATA_API_DISABLED,
        )
    return Step(name, True, f"{facts}, Data API enabled")


def check_secret(secrets, target: Target) -> Step:
    """Step 2: the secret is readable JSON with ``username`` and ``password`` (never shown)."""
    name = f"secret {target.secret_arn.rsplit(':', 1)[-1]}"
    try:
        secret_string = secrets.get_secret_value(SecretId=target.secret_arn).get("SecretString")
    except (ClientError, BotoCoreError) as error:
        return _aws_failure(name, error, "secretsmanager:GetSecretValue on this secret")
    fix = "`pulumi up` writes it again in the RDS format"
    try:
        document = json.loads(secret_string or "")
    except json.JSONDecodeError:
        return Step(name, False, f"value is not JSON; {fix}", Exit.SECRET_UNUSABLE)
    if not isinstance(document, dict):
        return Step(name, False, f"value is not a JSON object; {fix}", Exit.SECRET_UNUSABLE)
    missing = [key for key in ("username", "password") if not document.get(key)]
    if missing:
        return Step(
            name,
            False,
            f"JSON has no {' or '.join(missing)}, which the Data API needs; {fix}",
            Exit.SECRET_UNUSABLE,
        )
    return Step(name, True, f"readable, has username ({document['username']}) and password")


def check_query(
    rds_data,
    target: Target,
    wait_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Callable[[str], None],
) -> tuple[Step, str | None]:
    """Step 3: ``SELECT version()`` through the Data API, waiting out an auto-pause resume."""
    name = "Data API"
    deadline = clock() + wait_seconds
    delay = FIRST_RETRY_SECONDS
    while True:
        try:
            response = rds_data.execute_statement(
                resourceArn=target.cluster_arn,
                secretArn=target.secret_arn,
                database=target.database,
                sql=VERSION_SQL,
            )
            break
        except ClientError as error:
            if _error_code(error) != RESUMING:
                return _query_failure(name, error), None
            remaining = deadline - clock()
            if remaining <= 0:
                return (
                    Step(
                        name,
                        False,
                        f"the cluster is still resuming from auto-pause after {wait_seconds:g} s; "
                        f"run again, or wait longer with --wait SECONDS",
                        Exit.STILL_RESUMING,
                    ),
                    None,
                )
            pause = min(delay, remaining)
            progress(f"… the cluster is resuming from auto-pause; retrying in {pause:g} s")
            sleep(pause)
            delay = min(delay * 2, LONGEST_RETRY_SECONDS)
        except BotoCoreError as error:
            return _aws_failure(name, error, "rds-data:ExecuteStatement"), None
    records = response.get("records") or []
    if not records or not records[0]:
        return Step(name, False, f"{VERSION_SQL} returned no row", Exit.OTHER), None
    version = next(iter(records[0][0].values()))
    return Step(name, True, f"{VERSION_SQL} -> {version}"), str(version)


def _query_failure(name: str, error: ClientError) -> Step:
    message = error.response.get("Error", {}).get("Message", "")
    flattened = message.replace(" ", "").lower()
    if _error_code(error) == "BadRequestException" and (
        "httpendpoint" in flattened or "dataapi" in flattened
    ):
        return Step(
            name,
            False,
            "the Data API is not enabled on this cluster; `pulumi up` turns it on",
            Exit.DATA_API_DISABLED,
        )
    return _aws_failure(name, error, "rds-data:ExecuteStatement on this cluster")


def run_checks(
    session,
    target: Target,
    wait_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Callable[[str], None],
) -> Report:
    """Run the three steps; the query runs only when the cluster and the secret are usable."""
    report = Report(target)
    cluster = check_cluster(session.client("rds", region_name=target.region), target)
    secret = check_secret(session.client("secretsmanager", region_name=target.region), target)
    report.steps += [cluster, secret]
    if cluster.ok and secret.ok:
        rds_data = session.client("rds-data", region_name=target.region)
        query, report.version = check_query(rds_data, target, wait_seconds, sleep, clock, progress)
        report.steps.append(query)
    return report


def run_local_checks(
    session,
    target: Target,
    endpoint_url: str,
    wait_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Callable[[str], None],
) -> Report:
    """Against ``alex-db local``: only the Data API step. There is no RDS control plane or
    Secrets Manager behind a local endpoint, so the cluster and secret steps cannot run."""
    progress(
        f"… {target.cluster_arn} is served by alex-db local at {endpoint_url}: the cluster and "
        f"secret steps are skipped (no RDS control plane or Secrets Manager locally)"
    )
    report = Report(target)
    # The local endpoint checks no signature, but botocore will not send an unsigned call: any
    # credentials do, so a machine without AWS credentials can still check it.
    rds_data = session.client(
        "rds-data",
        region_name=target.region,
        endpoint_url=endpoint_url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    query, report.version = check_query(rds_data, target, wait_seconds, sleep, clock, progress)
    report.steps.append(query)
    return report
