"""``alex-db check`` and ``alex-db env``: the commands that read a deployed stack's outputs.

``check`` proves the database answers (``check.run_checks``, or ``run_local_checks`` when the
target is ``alex-db local``); ``env`` writes the three variables Alex's code reads into ``.env``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from alex_db.tools.shared import variables
from alex_db.tools.shared.exits import Exit

DEFAULT_WAIT_SECONDS = 60.0


def wait_seconds(text: str) -> float:
    """A ``--wait`` value: seconds from 0 to LONGEST_WAIT_SECONDS (``nan`` would never end)."""
    from alex_db.tools.deployed.check import LONGEST_WAIT_SECONDS

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= LONGEST_WAIT_SECONDS:  # also False for nan
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds from 0 to {LONGEST_WAIT_SECONDS:g}"
        )
    return value


def _add_source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster-arn", help="the cluster ARN (output aurora_cluster_arn)")
    parser.add_argument("--secret-arn", help="the secret ARN (output aurora_secret_arn)")
    parser.add_argument(
        "--outputs", metavar="FILE", help="JSON of `pulumi stack output --json` (- for stdin)"
    )
    parser.add_argument("--stack", help="read the outputs with the Pulumi CLI from this stack")
    parser.add_argument("--database", help="database name (default: the stack's, or alex)")


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    """``check``'s flags."""
    _add_source_arguments(parser)
    parser.add_argument(
        "--region", help="AWS region; must be the cluster ARN's, which is used in any case"
    )
    parser.add_argument(
        "--wait",
        type=wait_seconds,
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help="the most the whole run may take, retrying while an auto-paused cluster resumes "
        "(default 60; a last call may take a few seconds more)",
    )
    parser.add_argument("--json", action="store_true", help="print a machine-readable report")


def add_env_arguments(parser: argparse.ArgumentParser) -> None:
    """``env``'s flags."""
    _add_source_arguments(parser)
    parser.add_argument(
        "--file", default=".env", help="the file to update (default .env; - for stdout)"
    )
    parser.add_argument(
        "--terraform-state",
        metavar="PATH",
        help="also write the stack's outputs as a Terraform state file there, for "
        "terraform_remote_state (Alex: terraform/5_database/terraform.tfstate)",
    )
    parser.add_argument(
        "--tfvars",
        metavar="PATH",
        help="also set aurora_cluster_arn and aurora_secret_arn in this .tfvars file "
        "(Alex: terraform/6_agents/terraform.tfvars)",
    )


def _flags(args: argparse.Namespace) -> dict[str, str | None]:
    return {
        variables.CLUSTER_ARN_VARIABLE: args.cluster_arn,
        variables.SECRET_ARN_VARIABLE: args.secret_arn,
        variables.DATABASE_VARIABLE: args.database,
    }


def run_check(args: argparse.Namespace) -> int:
    """Resolve the target, run the checks, print one line a step (or JSON)."""
    import boto3

    from alex_db.tools.deployed import locate
    from alex_db.tools.deployed.check import (
        AwsConfigError,
        aws_session,
        run_checks,
        run_local_checks,
    )
    from alex_db.tools.shared import envfile
    from alex_db.tools.shared import local_identity as local

    try:
        target = locate.resolve(
            _flags(args),
            # An explicit source, when given, is the only one: the environment and .env are
            # never a silent fallback for an --outputs file that lacks the ARNs.
            locate.stack_output_sources(args.outputs, args.stack)
            or locate.environment_sources(os.environ, Path.cwd()),
            args.region,
        )
    except locate.TargetError as error:
        print(f"✗ {error}", file=sys.stderr)
        return Exit.USAGE
    print(locate.describe_sources(target), file=sys.stderr, flush=True)
    try:
        session = aws_session(boto3.Session, target.region)
    except AwsConfigError as error:
        print(f"✗ {error}", file=sys.stderr)
        return Exit.AWS_CONFIG
    steps = run_checks
    if target.cluster_arn == local.CLUSTER_ARN:
        try:
            endpoint_url, keys = local_endpoint(os.environ, Path.cwd())
        except (envfile.EnvFileError, OSError) as error:
            print(f"✗ .env: {getattr(error, 'strerror', None) or error}", file=sys.stderr)
            return Exit.USAGE
        except AwsConfigError as error:
            print(f"✗ {error}", file=sys.stderr)
            return Exit.AWS_CONFIG
        steps = partial(run_local_checks, endpoint_url=endpoint_url, keys=keys)
    report = steps(
        session,
        target,
        wait_seconds=args.wait,
        sleep=time.sleep,
        clock=time.monotonic,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    return report.print(args.json)


def local_endpoint(environ, cwd: Path) -> tuple[str, dict[str, str]]:
    """Where ``alex-db local`` listens (the endpoint variable it wrote, else its default port),
    and the keys to sign with: those ``local`` wrote to ``.env`` when the environment names no
    key itself, else none (boto3's own chain then finds the developer's credentials, which
    ``local`` accepts too). Raises ``EnvFileError``/``OSError`` for an unreadable ``.env``,
    ``AwsConfigError`` for a value botocore would refuse (``botocore.utils.is_valid_endpoint_url``,
    which raises "Invalid endpoint" when the client is made)."""
    from alex_db.tools.deployed.check import AwsConfigError
    from alex_db.tools.shared import envfile
    from alex_db.tools.shared.local_identity import DEFAULT_PORT

    env_file = cwd / ".env"
    written = envfile.read(env_file) if env_file.is_file() else {}
    name = variables.ENDPOINT_VARIABLE
    url = environ.get(name) or written.get(name) or f"http://127.0.0.1:{DEFAULT_PORT}"
    if not usable_endpoint(url):
        raise AwsConfigError(
            f"{name} {url!r} is not a URL; alex-db local writes http://127.0.0.1:PORT there"
        )
    keys = {}
    if not environ.get(variables.ACCESS_KEY_VARIABLE) and variables.SECRET_KEY_VARIABLE in written:
        keys = {
            "aws_access_key_id": written.get(variables.ACCESS_KEY_VARIABLE, ""),
            "aws_secret_access_key": written[variables.SECRET_KEY_VARIABLE],
        }
    return url, keys


def usable_endpoint(url: str) -> bool:
    """An http(s) URL with a host and, if any, a port 0-65535 that botocore accepts too (its
    own test lets ``http://x:99999`` through and raises on ``http://[::1``)."""
    from urllib.parse import urlsplit

    from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

    try:
        address = urlsplit(url)
        port_ok = address.port is None or address.port >= 0  # .port raises when out of range
    except ValueError:  # a bad IPv6 literal, or a port that is not a number 0-65535
        return False
    return (
        port_ok
        and address.scheme in ("http", "https")
        and bool(address.hostname)
        and (is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url))
    )


def run_env(args: argparse.Namespace) -> int:
    """Write the stack's ARNs, database name and region into a .env file (or stdout), and, when
    asked, its outputs into a Terraform state file and the two ARNs into a .tfvars file. Every
    file is checked before any is written, so a refused one leaves all of them as they were."""
    from alex_db.tools.deployed import locate
    from alex_db.tools.shared import envfile

    sources = locate.stack_output_sources(args.outputs, args.stack)
    try:
        target = locate.resolve(_flags(args), sources)
        outputs = locate.stack_outputs(target, sources) if args.terraform_state is not None else {}
    except locate.TargetError as error:
        print(f"✗ {error}", file=sys.stderr)
        return Exit.USAGE
    plans = _env_plans(args, target, outputs)
    texts = {}
    try:
        _refuse_unusable_paths(args)
        for name, (_, plan) in plans.items():
            try:
                texts[name] = plan()
            except envfile.EnvFileError as error:
                raise envfile.EnvFileError(f"{name}: {error}") from None
            except OSError as error:
                reason = f"cannot read it ({error.strerror or error})"
                raise envfile.EnvFileError(f"{name}: {reason}") from None
    except envfile.EnvFileError as error:
        print(f"✗ {error}", file=sys.stderr)
        return Exit.USAGE
    print(texts.pop("-", ""), end="")
    for name, text in texts.items():
        if text is None:
            print(f"{name}: already up to date", file=sys.stderr)
            continue
        try:
            envfile.write_atomically(envfile.target_of(Path(name)), text)
        except OSError as error:
            print(f"✗ {name}: cannot write it ({error.strerror or error})", file=sys.stderr)
            return Exit.USAGE
        print(f"{name}: wrote {plans[name][0]}", file=sys.stderr)
    return Exit.OK


def _env_plans(args, target, outputs) -> dict[str, tuple[str, Callable[[], str | None]]]:
    """Each file ``env`` was asked to write (``-`` for standard output), as the path given ->
    (what it will hold, a call that returns its new text, or None when it is up to date)."""
    from alex_db.tools.shared import envfile, terraform_state, tfvars

    updates = {
        variables.CLUSTER_ARN_VARIABLE: target.cluster_arn,
        variables.SECRET_ARN_VARIABLE: target.secret_arn,
        variables.DATABASE_VARIABLE: target.database,
    } | dict.fromkeys(variables.REGION_VARIABLES, target.region)
    arns = {"aurora_cluster_arn": target.cluster_arn, "aurora_secret_arn": target.secret_arn}
    holds = ", ".join(updates)
    if args.file == "-":
        plans = {"-": (holds, partial(envfile.merge, "", updates))}
    else:
        # Real ARNs mean AWS again: drop what `alex-db local` wrote for itself (its endpoints;
        # its own key, never a real one).
        drop = variables.written_by_local(_values_in(Path(args.file)))
        plans = {args.file: (holds, partial(envfile.planned, Path(args.file), updates, drop))}
    if args.terraform_state is not None:
        state = Path(args.terraform_state)
        plans[args.terraform_state] = (
            "the stack's outputs",
            partial(terraform_state.planned, state, outputs),
        )
    if args.tfvars is not None:
        plans[args.tfvars] = (", ".join(arns), partial(tfvars.planned, Path(args.tfvars), arns))
    return plans


def _values_in(path: Path) -> dict[str, str]:
    """What the ``.env`` at ``path`` says now (nothing when it is not a readable file yet: the
    plan then refuses it with its own words)."""
    from alex_db.tools.shared import envfile

    try:
        target = envfile.target_of(path)
        return envfile.read(target) if target.is_file() else {}
    except envfile.EnvFileError:
        return {}


def _refuse_unusable_paths(args: argparse.Namespace) -> None:
    """Two flags naming one file (through a symlink, too) would each overwrite the other, and
    only ``--file`` can be standard output (``-``)."""
    from alex_db.tools.shared import envfile

    for flag, given in (("--terraform-state", args.terraform_state), ("--tfvars", args.tfvars)):
        if given == "-":
            raise envfile.EnvFileError(f"{flag} -: only --file can be standard output; give a path")
    seen: dict[str, str] = {}
    for given in (args.file, args.terraform_state, args.tfvars):
        if given is None or given == "-":
            continue
        real = os.path.realpath(given)
        if real in seen:
            raise envfile.EnvFileError(
                f"{given}: the same file as {seen[real]}; give each of --file, "
                f"--terraform-state and --tfvars its own file"
            )
        seen[real] = given
