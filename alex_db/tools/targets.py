"""Which deployed database the post-deploy tools talk to, and where that is written down.

Sources, first match wins for each value: command-line flags; the environment (and a ``.env``
file in the current directory); ``--outputs FILE`` (the JSON of ``pulumi stack output --json``,
``-`` for standard input); ``--stack NAME`` (runs that command when the Pulumi CLI is installed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from alex_db.tools import envfile

CLUSTER_ARN_VARIABLE = "AURORA_CLUSTER_ARN"
SECRET_ARN_VARIABLE = "AURORA_SECRET_ARN"
DATABASE_VARIABLE = "AURORA_DATABASE"
DEFAULT_DATABASE = "alex"
REQUIRED_VARIABLES = (CLUSTER_ARN_VARIABLE, SECRET_ARN_VARIABLE)
# Stack output -> the variable that carries the same value.
OUTPUT_VARIABLES = {
    "aurora_cluster_arn": CLUSTER_ARN_VARIABLE,
    "aurora_secret_arn": SECRET_ARN_VARIABLE,
    "database_name": DATABASE_VARIABLE,
}


# Where values come from: read when called, so an unneeded source is never read.
Source = Callable[[], Mapping[str, str]]


class TargetError(ValueError):
    """The database to talk to cannot be determined; the message says how to name it."""


@dataclass(frozen=True)
class Target:
    """One deployed database, as the Data API addresses it."""

    cluster_arn: str
    secret_arn: str
    database: str
    region: str


def region_of(arn: str) -> str:
    """The region field of an ARN (``arn:aws:rds:us-east-1:...`` -> ``us-east-1``)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[3]:
        raise TargetError(f"{arn!r} is not a regional ARN (arn:aws:rds:REGION:ACCOUNT:cluster:ID)")
    return parts[3]


def read_outputs_file(location: str) -> dict[str, str]:
    """Stack outputs from a ``pulumi stack output --json`` file, or standard input for ``-``."""
    try:
        text = sys.stdin.read() if location == "-" else Path(location).read_text()
        outputs = json.loads(text)
    except (OSError, json.JSONDecodeError) as error:
        raise TargetError(f"--outputs {location}: cannot read stack outputs ({error})") from None
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
    return json.loads(result.stdout)


def outputs_as_variables(outputs: Mapping[str, str]) -> dict[str, str]:
    """The stack outputs the tools use, keyed by their environment variable names."""
    return {
        variable: str(outputs[name])
        for name, variable in OUTPUT_VARIABLES.items()
        if name in outputs
    }


def environment_values(environ: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """``.env`` in ``cwd`` overlaid by the real environment (which wins, as dotenv tools do)."""
    env_file = cwd / ".env"
    try:
        values = envfile.read(env_file) if env_file.is_file() else {}
    except envfile.EnvFileError as error:
        raise TargetError(f".env: {error}") from None
    values.update({key: environ[key] for key in OUTPUT_VARIABLES.values() if key in environ})
    return values


def stack_output_sources(outputs_file: str | None, stack: str | None) -> list[Source]:
    """``--outputs``, then ``--stack``, whichever were given, as sources read on demand."""
    sources: list[Source] = []
    if outputs_file:
        sources.append(lambda: outputs_as_variables(read_outputs_file(outputs_file)))
    if stack:
        sources.append(lambda: outputs_as_variables(read_stack_outputs(stack)))
    return sources


def first_match(flags: Mapping[str, str | None], sources: list[Source]) -> dict[str, str]:
    """``flags``, then each source in turn, earlier ones winning; unset (None or empty) values do
    not count. A source is read only while an ARN is still missing, so a later one (the Pulumi
    CLI, say) is never needed, nor able to fail, once an earlier one has answered."""
    merged = {key: value for key, value in flags.items() if value}
    for source in sources:
        if all(variable in merged for variable in REQUIRED_VARIABLES):
            break
        for key, value in source().items():
            if value:
                merged.setdefault(key, value)
    return merged


def resolve(
    flags: Mapping[str, str | None],
    sources: list[Source],
    region: str | None,
    environ: Mapping[str, str],
) -> Target:
    """The target from ``flags`` (variable names as keys) and the ``sources`` in order."""
    values = first_match(flags, sources)
    missing = [v for v in REQUIRED_VARIABLES if v not in values]
    if missing:
        raise TargetError(
            f"no {' or '.join(missing)}: pass --cluster-arn/--secret-arn, set them in the "
            f"environment or .env (python -m alex_db env), or use --outputs FILE or --stack NAME"
        )
    cluster_arn = values[CLUSTER_ARN_VARIABLE]
    chosen_region = (
        region
        or environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
        or region_of(cluster_arn)
    )
    return Target(
        cluster_arn=cluster_arn,
        secret_arn=values[SECRET_ARN_VARIABLE],
        database=values.get(DATABASE_VARIABLE, DEFAULT_DATABASE),
        region=chosen_region,
    )
