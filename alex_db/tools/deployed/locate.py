"""Which deployed database the post-deploy tools talk to, and where that is written down.

Sources, explicit before implicit: command-line flags; ``--outputs FILE`` (the JSON of
``pulumi stack output --json``, ``-`` for standard input) and ``--stack NAME`` (runs that
command when the Pulumi CLI is installed), when given, and then nothing else; otherwise (for
``check``) the environment, then a ``.env`` file in the current directory.

The two ARNs are a pair: the secret is the one that signs in to that cluster. So both come from
one place, both flags or the first source that names either, never one from here and one from
there (a fresh cluster ARN with last month's secret from ``.env`` proves nothing). The database
name comes with them, unless ``--database`` says otherwise. Every value keeps the name of its
source, so a run can say where its target came from.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from alex_db.config.partitions import partition_of
from alex_db.tools.deployed import arns
from alex_db.tools.shared import envfile
from alex_db.tools.shared.files import JSON_LIMIT, read_at_most
from alex_db.tools.shared.variables import (
    CLUSTER_ARN_VARIABLE,
    DATABASE_VARIABLE,
    SECRET_ARN_VARIABLE,
)

DEFAULT_DATABASE = "alex"
REQUIRED_VARIABLES = (CLUSTER_ARN_VARIABLE, SECRET_ARN_VARIABLE)
# Stack output -> the variable that carries the same value.
OUTPUT_VARIABLES = {
    "aurora_cluster_arn": CLUSTER_ARN_VARIABLE,
    "aurora_secret_arn": SECRET_ARN_VARIABLE,
    "database_name": DATABASE_VARIABLE,
}
# Variable -> the flag that sets it.
FLAGS = {
    CLUSTER_ARN_VARIABLE: "--cluster-arn",
    SECRET_ARN_VARIABLE: "--secret-arn",
    DATABASE_VARIABLE: "--database",
}
# The Data API's ``database`` parameter is at most 64 characters (botocore's rds-data model,
# shape DbName); botocore refuses a longer one before sending, which would read as "cannot reach
# AWS" three steps later.
LONGEST_DATABASE = 64
FLAGS_SOURCE = "flags"
DEFAULT_SOURCE = "default"
DOTENV_SOURCE = ".env"


@dataclass(frozen=True)
class Source:
    """One place values can come from, read only when called."""

    name: str
    """How a user knows it: ``--outputs FILE``, ``--stack NAME``, ``the environment``, ``.env``."""
    read: Callable[[], Mapping[str, str]]
    stack_outputs: Callable[[], Mapping[str, object]] = dict
    """Every stack output it holds (``--outputs``, ``--stack``; read once), for ``env``'s
    Terraform state; none for the environment and ``.env``."""


class TargetError(ValueError):
    """The database to talk to cannot be determined; the message says how to name it."""


@dataclass(frozen=True)
class Target:
    """One deployed database, as the Data API addresses it."""

    cluster_arn: str
    secret_arn: str
    database: str
    region: str
    sources: dict[str, str] = field(default_factory=dict)
    """Variable name -> the source its value came from."""
    region_source: str = "the cluster ARN"


def read_outputs_file(location: str) -> dict[str, str]:
    """Stack outputs from a ``pulumi stack output --json`` file, or standard input for ``-``."""
    try:
        # sys.stdin is None when the command runs with its standard input closed.
        source = getattr(sys.stdin, "buffer", None) if location == "-" else Path(location)
        outputs = json.loads(read_at_most(source, JSON_LIMIT).decode("utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        # ValueError: bad JSON, or bytes that are not UTF-8; RecursionError: JSON nested
        # deeper than Python's recursion limit, which json raises instead of a ValueError.
        reason = " ".join(str(getattr(error, "strerror", None) or error).split())
        raise TargetError(f"--outputs {location}: cannot read stack outputs ({reason})") from None
    if not isinstance(outputs, dict):
        raise TargetError(f"--outputs {location}: expected the JSON object of stack outputs")
    return outputs


def read_stack_outputs(stack: str) -> dict[str, str]:
    """Stack outputs straight from the Pulumi CLI."""
    if shutil.which("pulumi") is None:
        raise TargetError(
            f"--stack {stack}: the Pulumi CLI is not installed here; run "
            f"`pulumi stack output --json --stack {stack} > outputs.json` where it is and pass "
            f"--outputs outputs.json, or give --cluster-arn and --secret-arn"
        )
    result = subprocess.run(
        ["pulumi", "stack", "output", "--json", "--stack", stack],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise TargetError(f"--stack {stack}: `pulumi stack output` failed: {reason}")
    try:
        outputs = json.loads(result.stdout)
    except (ValueError, RecursionError):
        outputs = None
    if not isinstance(outputs, dict):
        raise TargetError(f"--stack {stack}: `pulumi stack output --json` printed no JSON object")
    return outputs


def outputs_as_variables(outputs: Mapping[str, str]) -> dict[str, str]:
    """The stack outputs the tools use, keyed by their environment variable names."""
    return {
        variable: str(outputs[name])
        for name, variable in OUTPUT_VARIABLES.items()
        if name in outputs
    }


def stack_output_sources(outputs_file: str | None, stack: str | None) -> list[Source]:
    """``--outputs``, then ``--stack``, whichever were given."""
    sources: list[Source] = []
    if outputs_file:
        from_file = functools.cache(lambda: read_outputs_file(outputs_file))
        sources.append(
            Source(
                f"--outputs {outputs_file}", lambda: outputs_as_variables(from_file()), from_file
            )
        )
    if stack:
        from_cli = functools.cache(lambda: read_stack_outputs(stack))
        sources.append(
            Source(f"--stack {stack}", lambda: outputs_as_variables(from_cli()), from_cli)
        )
    return sources


def stack_outputs(target: Target, sources: list[Source]) -> dict[str, object]:
    """The stack outputs of the source the ARNs came from (none when flags gave them), with the
    target's ARNs and database in their outputs' names, so flags win here as everywhere."""
    origin = target.sources[CLUSTER_ARN_VARIABLE]
    outputs = next((dict(s.stack_outputs()) for s in sources if s.name == origin), {})
    values = {
        CLUSTER_ARN_VARIABLE: target.cluster_arn,
        SECRET_ARN_VARIABLE: target.secret_arn,
        DATABASE_VARIABLE: target.database,
    }
    return outputs | {name: values[variable] for name, variable in OUTPUT_VARIABLES.items()}


def environment_sources(environ: Mapping[str, str], cwd: Path) -> list[Source]:
    """The environment, then ``.env`` in ``cwd``: what a run falls back on."""
    env_file = cwd / ".env"

    def dotenv() -> Mapping[str, str]:
        try:
            return envfile.read(env_file) if env_file.is_file() else {}
        except envfile.EnvFileError as error:
            raise TargetError(f".env: {error}") from None

    return [
        Source("the environment", lambda: {k: environ[k] for k in FLAGS if k in environ}),
        Source(DOTENV_SOURCE, dotenv),
    ]


def first_match(
    flags: Mapping[str, str | None], sources: list[Source]
) -> tuple[dict[str, str], dict[str, str]]:
    """The values and where each came from. Unset (None or empty) values do not count. Both
    ARNs come from the flags or both from the first source that names either (read in turn,
    so a later one, the Pulumi CLI say, is never needed, nor able to fail, once an earlier one
    has answered); the database comes with them unless a flag sets it. One ARN flag without
    the other, or a source naming only one, is a ``TargetError``."""
    merged = {key: value for key, value in flags.items() if value}
    origin = dict.fromkeys(merged, FLAGS_SOURCE)
    flagged = [variable for variable in REQUIRED_VARIABLES if variable in merged]
    if len(flagged) == 1:
        (given,) = flagged
        (other,) = (variable for variable in REQUIRED_VARIABLES if variable != given)
        raise TargetError(
            f"{FLAGS[given]} without {FLAGS[other]}: the two ARNs are one deployment's pair; "
            f"give both flags, or neither to take both from one source"
        )
    if flagged:
        return merged, origin
    for source in sources:
        values = {key: value for key, value in source.read().items() if key in FLAGS and value}
        named = [variable for variable in REQUIRED_VARIABLES if variable in values]
        if not named:
            continue
        if len(named) == 1:
            (other,) = (variable for variable in REQUIRED_VARIABLES if variable not in named)
            raise TargetError(
                f"{source.name} has {named[0]} but no {other}; the two ARNs are one "
                f"deployment's pair, so both must come from one place (or give both as flags)"
            )
        for key, value in values.items():
            if key not in merged:
                merged[key] = value
                origin[key] = source.name
        break
    return merged, origin


def _named(variable: str, origin: dict[str, str]) -> str:
    """How the user gave ``variable``: its flag, or its name and source."""
    source = origin[variable]
    return FLAGS[variable] if source == FLAGS_SOURCE else f"{variable} (from {source})"


def _parsed(variable: str, values: dict[str, str], origin: dict[str, str], parse) -> arns.Arn:
    try:
        return parse(values[variable])
    except arns.ArnError as error:
        raise TargetError(f"{_named(variable, origin)} {values[variable]!r} {error}") from None


def resolve(
    flags: Mapping[str, str | None], sources: list[Source], region: str | None = None
) -> Target:
    """The target from ``flags`` (variable names as keys) and the ``sources`` in order, both
    ARNs checked for shape and for naming one region. The region is the cluster ARN's (the
    Data API answers only there); ``region``, when given, must be the same."""
    values, origin = first_match(flags, sources)
    missing = [v for v in REQUIRED_VARIABLES if v not in values]
    if missing:
        looked = f" in {' or '.join(source.name for source in sources)}" if sources else ""
        # `env` reads neither the environment nor .env (it writes .env): offer only what was read.
        reads_dotenv = any(source.name == DOTENV_SOURCE for source in sources)
        elsewhere = ", or set them in the environment or .env (alex-db env writes it)"
        raise TargetError(
            f"no {' or '.join(missing)}{looked}: pass --cluster-arn/--secret-arn, use --outputs "
            f"FILE or --stack NAME{elsewhere if reads_dotenv else ''}"
        )
    cluster = _parsed(CLUSTER_ARN_VARIABLE, values, origin, arns.cluster_arn)
    secret = _parsed(SECRET_ARN_VARIABLE, values, origin, arns.secret_arn)
    if (secret.partition, secret.region) != (cluster.partition, cluster.region):
        raise TargetError(
            f"the secret ARN is in {secret.partition} {secret.region} but the cluster ARN in "
            f"{cluster.partition} {cluster.region}; the Data API needs both in one region"
        )
    # A region no partition claims is left to AWS to refuse (config/partitions.py).
    known = partition_of(cluster.region)
    partition = known.name if known else None
    if partition not in (None, cluster.partition):
        raise TargetError(
            f"the ARNs name partition {cluster.partition} but region {cluster.region} is in "
            f"{partition} (arn:{partition}:...); no such cluster can exist"
        )
    if region is not None and region != cluster.region:
        raise TargetError(
            f"--region {region!r} differs from the cluster ARN's region {cluster.region}; "
            f"the cluster answers only there (leave --region out)"
        )
    origin.setdefault(DATABASE_VARIABLE, DEFAULT_SOURCE)
    database = values.get(DATABASE_VARIABLE, DEFAULT_DATABASE)
    if len(database) > LONGEST_DATABASE:
        raise TargetError(
            f"{_named(DATABASE_VARIABLE, origin)} {database!r} is longer than the Data API "
            f"takes ({LONGEST_DATABASE} characters)"
        )
    return Target(
        cluster_arn=cluster.text,
        secret_arn=secret.text,
        database=database,
        region=cluster.region,
        sources={variable: origin[variable] for variable in FLAGS},
        region_source="--region and the cluster ARN" if region else "the cluster ARN",
    )


def describe_sources(target: Target) -> str:
    """One line saying where each value and the region came from."""
    where = ", ".join(f"{variable} from {target.sources[variable]}" for variable in FLAGS)
    return f"using {where}; region {target.region} from {target.region_source}"
