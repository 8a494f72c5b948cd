"""``alex-db check``: prove a deployed database answers through the Data API.

It follows the seed's Data API sequence: the cluster exists with its HTTP endpoint on, the
secret holds ``username`` and ``password``, and ``SELECT version()`` returns a row. Each step is
one line; every failure says what is wrong and what to do, with its own exit code, and the steps
it prevented say "skipped". The secret's content is never printed, not even in part, and what
AWS returns is printed with control characters escaped, so no value can forge a line.

The cluster is proved by its whole ARN: what AWS describes must carry the given partition,
region, account and identifier, or the step fails with ``ARN_MISMATCH``.

``--wait`` bounds the whole run. botocore's defaults (60 s connect and read timeouts, several
retries: ``botocore/config.py``, ``botocore/retries/standard.py``) let one unanswered call take
minutes, so every call gets its own ``Config``: no botocore retries (``total_max_attempts: 1``,
which wins over ``AWS_MAX_ATTEMPTS``: ``botocore/args.py``, ``_compute_retry_max_attempts``) and
connect plus read timeouts that fit in what is left of ``--wait``, never less than
``SMALLEST_CALL_SECONDS``. Those timeouts bound each wait on the socket, not a call, so each
call is also cut off once they have passed in all (``shared/aws_calls.py``): an endpoint that
trickles its answer gets no longer than one that never answers. A run therefore ends within
``--wait`` plus ``WAIT_MARGIN_SECONDS``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    InvalidRegionError,
    NoCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from alex_db.tools.deployed import arns
from alex_db.tools.deployed.locate import Target
from alex_db.tools.shared.aws_calls import bounded
from alex_db.tools.shared.aws_errors import (
    AWS_CALL_ERRORS,
    error_code,
    judge_answers,
    not_aws_answer,
    one_line,
)
from alex_db.tools.shared.exits import Exit
from alex_db.tools.shared.report import Report, Step, failed, passed, skipped

VERSION_SQL = "SELECT version()"
RESUMING = "DatabaseResumingException"
FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 10.0
# Each call may wait this long for an answer even when --wait is (nearly) used up. A call ends
# by the later of --wait's end and its start plus this, so the three steps' calls (cluster,
# secret, query; the query retries only while --wait lasts) end within --wait plus three such
# calls, plus the second it takes to load botocore's service models.
SMALLEST_CALL_SECONDS = 2.0
LONGEST_CONNECT_SECONDS = 5.0
WAIT_MARGIN_SECONDS = 3 * SMALLEST_CALL_SECONDS + 1
# The longest --wait: an hour is far more than a resume takes, and a socket timeout must fit
# the platform's time_t (settimeout(1e10) raises OverflowError, so every call would fail).
LONGEST_WAIT_SECONDS = 3600.0


ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "ForbiddenException", "UnauthorizedOperation"}
)
NOT_FOUND_CODES = frozenset(
    {"DBClusterNotFoundFault", "ResourceNotFoundException", "NotFoundException"}
)
CREDENTIAL_CODES = frozenset(
    {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"}
)


def report_for(target: Target) -> Report:
    """An empty report whose facts are the target's: what ``--json`` shows besides the steps."""
    return Report(
        {
            "cluster_arn": target.cluster_arn,
            "secret_arn": target.secret_arn,
            "database": target.database,
            "region": target.region,
            "sources": target.sources,
            "region_source": target.region_source,
            "version": None,
        }
    )


class AwsConfigError(ValueError):
    """The local AWS configuration cannot make a client; one line naming what to fix."""


class Budget:
    """What is left of ``--wait``, and the botocore ``Config`` that keeps the next call in it."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self.clock = clock
        self.deadline = clock() + seconds

    def remaining(self) -> float:
        """Seconds until ``--wait`` runs out (negative once it has)."""
        return self.deadline - self.clock()

    def config(self) -> Config:
        """Timeouts for one call: what is left, at least SMALLEST_CALL_SECONDS; no retries."""
        seconds = max(SMALLEST_CALL_SECONDS, self.remaining())
        connect = min(LONGEST_CONNECT_SECONDS, seconds / 2)
        return Config(
            connect_timeout=connect,
            read_timeout=seconds - connect,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )

    def client(self, session, service: str, **arguments):
        """A client for one call: its ``Config`` from ``config()``, its answers judged
        (``judge_answers``), and the call cut off once the Config's connect plus read time
        has passed, however the endpoint trickles (``shared/aws_calls.py``)."""
        config = self.config()
        made = session.client(service, config=config, **arguments)
        return bounded(judge_answers(made), config.connect_timeout + config.read_timeout)


def aws_session(session_factory: Callable[[], object], region: str):
    """A session that can make clients for ``region``, or an ``AwsConfigError`` for an unknown
    profile or an endpoint that is not a URL (botocore finds both only when asked)."""
    try:
        session = session_factory()
        session.client("rds", region_name=region)
    except ProfileNotFound as error:
        raise AwsConfigError(
            f"AWS profile {error.kwargs.get('profile')!r} (AWS_PROFILE) is not in the AWS "
            f"config or credentials file; pick one from `aws configure list-profiles`"
        ) from None
    except InvalidRegionError:
        raise AwsConfigError(f"region {region!r} is not a valid AWS region name") from None
    except ValueError as error:  # botocore: "Invalid endpoint: ..."
        raise AwsConfigError(
            f"{one_line(error)}: check AWS_ENDPOINT_URL (or the profile's endpoint_url); "
            f"it must be a URL such as https://rds.us-east-1.amazonaws.com"
        ) from None
    except BotoCoreError as error:
        raise AwsConfigError(f"the AWS configuration is unusable: {one_line(error)}") from None
    return session


def _aws_failure(name: str, error: Exception, what: str, service: str) -> Step:
    """A step failed by an AWS or connection error, classified by kind; ``service`` names who
    answered (or did not) in the line."""
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return failed(
            name,
            f"no answer from AWS in time ({one_line(error)}); check the network and "
            f"AWS_ENDPOINT_URL, or allow longer with --wait SECONDS",
            Exit.UNREACHABLE,
        )
    if isinstance(error, NoCredentialsError):
        return failed(
            name,
            "no AWS credentials found; run `aws configure`, set AWS_PROFILE, or export "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            Exit.CREDENTIALS,
        )
    strange = not_aws_answer(service, error)
    if strange is not None:
        return failed(
            name,
            f"{strange}; check AWS_ENDPOINT_URL and any proxy (HTTPS_PROXY)",
            Exit.UNREACHABLE,
        )
    if isinstance(error, BotoCoreError):
        return failed(
            name,
            f"cannot reach AWS ({one_line(error)}); check credentials and network",
            Exit.UNREACHABLE,
        )
    code = error_code(error)
    message = error.response.get("Error", {}).get("Message", "")
    if code in ACCESS_DENIED_CODES:
        return failed(
            name,
            f"access denied ({code}); the caller needs {what}, e.g. the role from "
            f"`pulumi stack output lambda_role_arn` or an admin profile",
            Exit.ACCESS_DENIED,
        )
    if code in CREDENTIAL_CODES:
        return failed(
            name, f"AWS rejected the credentials ({code}); refresh them", Exit.CREDENTIALS
        )
    if code in NOT_FOUND_CODES:
        return failed(
            name,
            f"not found ({code}); check the ARN, and that your credentials are for its "
            f"account, or take both ARNs from the stack with `alex-db env --stack NAME`",
            Exit.NOT_FOUND,
        )
    return failed(name, f"{code or 'error'}: {one_line(message)}", Exit.FAILED)


def _scaling(cluster: dict) -> str:
    scaling = cluster.get("ServerlessV2ScalingConfiguration")
    if not scaling:
        return "no Serverless v2 scaling"
    low, high = (_acu(scaling.get(key)) for key in ("MinCapacity", "MaxCapacity"))
    return f"Serverless v2 {low}-{high} ACU"


def _acu(value: object) -> str:
    """0.5 as ``0.5`` and 1.0 as ``1``; whatever else an endpoint sends, as it is."""
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _mismatch(given: str, described: str) -> str:
    """Which ARN fields differ, by name: what the user has to look at."""
    labels = ("partition", "service", "region", "account", "type", "identifier")
    ours = given.lower().split(":", 6)[1:]
    theirs = ([*described.lower().split(":", 6)[1:], *[""] * 6])[:6]
    different = [
        label for label, one, other in zip(labels, ours, theirs, strict=True) if one != other
    ]
    return ", ".join(different) or "format"


def check_cluster(client: Callable[[str], object], target: Target) -> Step:
    """Step 1: the cluster with exactly the given ARN exists, and its Data API is enabled."""
    identifier = arns.cluster_arn(target.cluster_arn).name
    name = f"cluster {identifier}"
    try:
        clusters = client("rds").describe_db_clusters(DBClusterIdentifier=identifier)
    except AWS_CALL_ERRORS as error:
        return _aws_failure(name, error, "rds:DescribeDBClusters", "RDS")
    # AWS answers one cluster or DBClusterNotFoundFault; an AWS_ENDPOINT_URL may answer anything.
    clusters = clusters.get("DBClusters") or []
    if len(clusters) != 1:
        many = f"{len(clusters)} clusters" if clusters else "no cluster"
        return failed(
            name,
            f"AWS describes {many} of that name; check the ARN and AWS_ENDPOINT_URL",
            Exit.FAILED if clusters else Exit.NOT_FOUND,
        )
    (cluster,) = clusters
    # RDS keeps identifiers in lower case (CreateDBCluster: "stored as a lowercase string").
    described = str(cluster.get("DBClusterArn"))
    if described.lower() != target.cluster_arn.lower():
        return failed(
            name,
            f"AWS describes {described}, not the given {target.cluster_arn} (the "
            f"{_mismatch(target.cluster_arn, described)} differs); use credentials for the "
            f"ARN's account and the ARN the stack outputs",
            Exit.ARN_MISMATCH,
        )
    facts = (
        f"{cluster.get('Status')}, {cluster.get('Engine')} {cluster.get('EngineVersion')}, "
        f"{_scaling(cluster)}"
    )
    if not cluster.get("HttpEndpointEnabled"):
        return failed(
            name,
            f"{facts}, Data API disabled; enable it with `pulumi up` (the program turns it on) or "
            f"`aws rds enable-http-endpoint --resource-arn {target.cluster_arn}`",
            Exit.DATA_API_DISABLED,
        )
    return passed(name, f"{facts}, Data API enabled")


def check_secret(client: Callable[[str], object], target: Target) -> Step:
    """Step 2: the secret with the given ARN is readable JSON whose ``username`` and
    ``password`` are non-empty strings (their values are never shown, the username aside)."""
    name = f"secret {target.secret_arn.rsplit(':', 1)[-1]}"
    try:
        response = client("secretsmanager").get_secret_value(SecretId=target.secret_arn)
    except AWS_CALL_ERRORS as error:
        return _aws_failure(
            name, error, "secretsmanager:GetSecretValue on this secret", "Secrets Manager"
        )
    described = str(response.get("ARN"))
    if not arns.same_secret(target.secret_arn, described):
        return failed(
            name,
            f"AWS returned {described}, not the given {target.secret_arn}",
            Exit.ARN_MISMATCH,
        )
    fix = "`pulumi up` writes it again in the RDS format"
    try:
        document = json.loads(response.get("SecretString") or "")
    # ValueError covers bad JSON and numbers too long to convert; json recurses once per level.
    except (ValueError, RecursionError):
        return failed(name, f"value is not JSON; {fix}", Exit.SECRET_UNUSABLE)
    if not isinstance(document, dict):
        return failed(name, f"value is not a JSON object; {fix}", Exit.SECRET_UNUSABLE)
    missing = [key for key in ("username", "password") if not document.get(key)]
    if missing:
        return failed(
            name,
            f"JSON has no {' or '.join(missing)}, which the Data API needs; {fix}",
            Exit.SECRET_UNUSABLE,
        )
    not_text = [key for key in ("username", "password") if not isinstance(document[key], str)]
    if not_text:
        return failed(
            name,
            f"{' and '.join(not_text)} must be a JSON string, which the Data API needs; {fix}",
            Exit.SECRET_UNUSABLE,
        )
    username = document["username"]
    if document["password"] in username:
        username = "not shown: it contains the password"
    return passed(name, f"readable, has username ({username}) and password")


def check_query(
    client: Callable[[str], object],
    target: Target,
    budget: Budget,
    sleep: Callable[[float], None],
    progress: Callable[[str], None],
) -> tuple[Step, str | None]:
    """Step 3: ``SELECT version()`` through the Data API, waiting out an auto-pause resume."""
    name = "Data API"
    delay = FIRST_RETRY_SECONDS
    while True:
        try:
            response = client("rds-data").execute_statement(
                resourceArn=target.cluster_arn,
                secretArn=target.secret_arn,
                database=target.database,
                sql=VERSION_SQL,
            )
            break
        except ClientError as error:
            if error_code(error) != RESUMING:
                return _query_failure(name, error), None
            remaining = budget.remaining()
            if remaining <= 0:
                return (
                    failed(
                        name,
                        f"the cluster is still resuming from auto-pause after "
                        f"{budget.seconds:g} s; run again, or wait longer with --wait SECONDS",
                        Exit.STILL_RESUMING,
                    ),
                    None,
                )
            pause = min(delay, remaining)
            progress(f"… the cluster is resuming from auto-pause; retrying in {pause:g} s")
            sleep(pause)
            delay = min(delay * 2, LONGEST_RETRY_SECONDS)
        except (BotoCoreError, ResponseParserError, UnicodeDecodeError) as error:
            return _aws_failure(name, error, "rds-data:ExecuteStatement", "the Data API"), None
    records = response.get("records") or []
    if not records or not records[0] or not isinstance(records[0][0], dict):
        return failed(name, f"{VERSION_SQL} returned no row", Exit.FAILED), None
    version = str(next(iter(records[0][0].values()), ""))
    return passed(name, f"{VERSION_SQL} -> {version}"), version


def _query_failure(name: str, error: ClientError) -> Step:
    message = error.response.get("Error", {}).get("Message", "")
    flattened = message.replace(" ", "").lower()
    if error_code(error) == "BadRequestException" and (
        "httpendpoint" in flattened or "dataapi" in flattened
    ):
        return failed(
            name,
            "the Data API is not enabled on this cluster; `pulumi up` turns it on",
            Exit.DATA_API_DISABLED,
        )
    return _aws_failure(name, error, "rds-data:ExecuteStatement on this cluster", "the Data API")


def run_checks(
    session,
    target: Target,
    wait_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Callable[[str], None],
) -> Report:
    """Run the three steps within ``wait_seconds`` (plus WAIT_MARGIN_SECONDS); the query runs
    only when the cluster and the secret are usable, and says it was skipped otherwise."""
    budget = Budget(wait_seconds, clock)

    def client(service: str):
        return budget.client(session, service, region_name=target.region)

    report = report_for(target)
    cluster = check_cluster(client, target)
    secret = check_secret(client, target)
    report.steps += [cluster, secret]
    if cluster.ok and secret.ok:
        query, report.facts["version"] = check_query(client, target, budget, sleep, progress)
        report.steps.append(query)
    else:
        failed = " and ".join(s.name.split()[0] for s in (cluster, secret) if not s.ok)
        report.steps.append(
            skipped("Data API", f"needs a usable cluster and secret; {failed} failed")
        )
    return report


def _answers(endpoint_url: str, budget: Budget) -> bool:
    """Whether something accepts a TCP connection at the endpoint (else botocore's error would
    say "cannot reach AWS ... check credentials", which is not the problem here)."""
    address = urlsplit(endpoint_url)
    port = address.port or (443 if address.scheme == "https" else 80)
    # The budget's rule for every call: at least SMALLEST_CALL_SECONDS, at most a connect's.
    timeout = min(max(budget.remaining(), SMALLEST_CALL_SECONDS), LONGEST_CONNECT_SECONDS)
    try:
        socket.create_connection((address.hostname, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def run_local_checks(
    session,
    target: Target,
    endpoint_url: str,
    keys: dict[str, str],
    wait_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Callable[[str], None],
) -> Report:
    """Against ``alex-db local``: only the Data API step, signed with ``keys`` (those ``local``
    wrote to ``.env``) or, without them, the session's own credentials, which ``local`` accepts
    too. ``local`` answers only DescribeDBClusters of the RDS control plane and has no Secrets
    Manager, so the cluster steps (which read instances, parameters and versions) and the secret
    step cannot run."""
    progress(
        f"… {target.cluster_arn} is served by alex-db local at {endpoint_url}: the cluster and "
        f"secret steps are skipped (local answers DescribeDBClusters only, and has no Secrets "
        f"Manager)"
    )
    budget = Budget(wait_seconds, clock)
    report = report_for(target)
    if not _answers(endpoint_url, budget):
        report.steps.append(
            failed(
                "Data API",
                f"nothing answers at {endpoint_url}; start it with `alex-db local` (its first "
                f"line gives the address)",
                Exit.UNREACHABLE,
            )
        )
        return report

    def client(service: str):
        return budget.client(
            session, service, region_name=target.region, endpoint_url=endpoint_url, **keys
        )

    query, report.facts["version"] = check_query(client, target, budget, sleep, progress)
    report.steps.append(query)
    return report
