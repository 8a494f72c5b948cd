"""Command line of the alex_db tools: ``plan`` (offline), ``preflight`` (before the first deploy),
the post-deploy ``check``/``env``, and ``local`` (a Data API on this machine)."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import NoReturn

EXIT_BAD_CONFIG = 2
EXIT_INTERRUPTED = 130


class _OneLineParser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (and exit 2) rather than usage plus error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_CONFIG, f"✗ {self.prog}: {message} (see {self.prog} --help)\n")


def _seconds(text: str) -> float:
    """A ``--wait`` value: seconds from 0 to LONGEST_WAIT_SECONDS (``nan`` would never end)."""
    from alex_db.tools.check import LONGEST_WAIT_SECONDS

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= LONGEST_WAIT_SECONDS:  # also False for nan
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds from 0 to {LONGEST_WAIT_SECONDS:g}"
        )
    return value


def _stack_arguments(parser: argparse.ArgumentParser) -> None:
    """``--stack`` and ``--config``: which stack's merged configuration a command reads."""
    parser.add_argument(
        "--stack", default="dev", help="stack name (Pulumi.<stack>.yaml); default dev"
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. minCapacity=0 or aws:region=us-east-1 (repeatable)",
    )


def _plan_parser(commands: argparse._SubParsersAction) -> None:
    plan = commands.add_parser(
        "plan",
        help="show what a stack would deploy and cost, offline (no AWS account, no Pulumi CLI)",
    )
    _stack_arguments(plan)
    plan.add_argument("--json", action="store_true", help="print the plan as one JSON document")
    plan.add_argument(
        "--diff", type=Path, metavar="OLD.json", help="compare with an earlier plan --json"
    )


def run_plan(args: argparse.Namespace) -> int:
    """Run the program under mocks and print the plan (or its diff against an older one)."""
    # Imported here so `check` and `env` never pay for loading Pulumi and the providers.
    import pulumi

    from alex_db.tools.offline import run_program
    from alex_db.tools.old_plan import OldPlanError, load_old_plan
    from alex_db.tools.plan import build_plan, to_json
    from alex_db.tools.plan_diff import diff_plans, render_changes
    from alex_db.tools.plan_text import render_text
    from alex_db.tools.stack_files import StackConfigError, load_stack_config

    started = time.perf_counter()
    try:
        config = load_stack_config(args.stack, args.config)
        old = load_old_plan(args.diff, args.stack) if args.diff else None
    except (StackConfigError, OldPlanError) as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        run = run_program(args.stack, config.values, secret_keys=config.secret_keys)
    except pulumi.RunError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_CONFIG
    plan = build_plan(args.stack, config, run)
    print(
        f"alex-db plan: ran the program for stack {args.stack} under mocks in "
        f"{time.perf_counter() - started:.1f} s (no AWS account, no Pulumi CLI)",
        file=sys.stderr,
    )
    if old is not None:
        changes = diff_plans(old, plan)
        if args.json:
            report = [asdict(change) | {"verdict": change.verdict} for change in changes]
            print(json.dumps(report, indent=2))
        else:
            print(render_changes(changes, old, plan), end="")
    else:
        print(to_json(plan) if args.json else render_text(plan), end="\n" if args.json else "")
    return 0


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster-arn", help="the cluster ARN (output aurora_cluster_arn)")
    parser.add_argument("--secret-arn", help="the secret ARN (output aurora_secret_arn)")
    parser.add_argument(
        "--outputs", metavar="FILE", help="JSON of `pulumi stack output --json` (- for stdin)"
    )
    parser.add_argument("--stack", help="read the outputs with the Pulumi CLI from this stack")
    parser.add_argument("--database", help="database name (default: the stack's, or alex)")


def _check_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check", help="prove the deployed cluster answers SELECT version() through the Data API"
    )
    _source_arguments(check)
    check.add_argument(
        "--region", help="AWS region; must be the cluster ARN's, which is used in any case"
    )
    check.add_argument(
        "--wait",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="the most the whole run may take, retrying while an auto-paused cluster resumes "
        "(default 60; a last call may take a few seconds more)",
    )
    check.add_argument("--json", action="store_true", help="print a machine-readable report")


def _env_parser(commands: argparse._SubParsersAction) -> None:
    env = commands.add_parser(
        "env", help="write AURORA_CLUSTER_ARN, AURORA_SECRET_ARN, AURORA_DATABASE into .env"
    )
    _source_arguments(env)
    env.add_argument(
        "--file", default=".env", help="the file to update (default .env; - for stdout)"
    )


def _flags(args: argparse.Namespace) -> dict[str, str | None]:
    from alex_db.tools import targets

    return {
        targets.CLUSTER_ARN_VARIABLE: args.cluster_arn,
        targets.SECRET_ARN_VARIABLE: args.secret_arn,
        targets.DATABASE_VARIABLE: args.database,
    }


def run_check(args: argparse.Namespace) -> int:
    """Resolve the target, run the checks, print one line a step (or JSON)."""
    import os

    import boto3

    from alex_db.tools import envfile, targets
    from alex_db.tools.check import (
        AwsConfigError,
        Exit,
        aws_session,
        run_checks,
        run_local_checks,
    )
    from alex_db.tools.local import identity as local

    try:
        target = targets.resolve(
            _flags(args),
            # An explicit source, when given, is the only one: the environment and .env are
            # never a silent fallback for an --outputs file that lacks the ARNs.
            targets.stack_output_sources(args.outputs, args.stack)
            or targets.environment_sources(os.environ, Path.cwd()),
            args.region,
        )
    except targets.TargetError as error:
        print(f"✗ {error}", file=sys.stderr)
        return Exit.USAGE
    print(targets.describe_sources(target), file=sys.stderr, flush=True)
    try:
        session = aws_session(boto3.Session, target.region)
    except AwsConfigError as error:
        print(f"✗ {error}", file=sys.stderr)
        return Exit.AWS_CONFIG
    steps = run_checks
    if target.cluster_arn == local.CLUSTER_ARN:
        try:
            endpoint_url = _local_endpoint(os.environ, Path.cwd())
        except (envfile.EnvFileError, OSError) as error:
            print(f"✗ .env: {getattr(error, 'strerror', None) or error}", file=sys.stderr)
            return Exit.USAGE
        except AwsConfigError as error:
            print(f"✗ {error}", file=sys.stderr)
            return Exit.AWS_CONFIG
        steps = partial(run_local_checks, endpoint_url=endpoint_url)
    report = steps(
        session,
        target,
        wait_seconds=args.wait,
        sleep=time.sleep,
        clock=time.monotonic,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    return _print_report(report, report.steps, args.json)


def _print_report(report, lines, as_json: bool) -> int:
    """``check`` and ``preflight`` alike: the JSON document, or one line per step for people;
    returns the report's exit code."""
    if as_json:
        print(report.as_json())
    else:
        for line in lines:
            print(line.line(), flush=True)
    return int(report.exit)


def _local_endpoint(environ, cwd: Path) -> str:
    """Where ``alex-db local`` listens: the endpoint variable it wrote, else its default port.
    Raises ``EnvFileError``/``OSError`` for an unreadable ``.env``, ``AwsConfigError`` for a
    value botocore would refuse (``botocore.utils.is_valid_endpoint_url``, which raises
    "Invalid endpoint" when the client is made)."""
    from alex_db.tools import envfile
    from alex_db.tools.check import AwsConfigError
    from alex_db.tools.local.flags import DEFAULT_PORT
    from alex_db.tools.local.identity import ENDPOINT_VARIABLE

    env_file = cwd / ".env"
    written = envfile.read(env_file) if env_file.is_file() else {}
    default = f"http://127.0.0.1:{DEFAULT_PORT}"
    url = environ.get(ENDPOINT_VARIABLE) or written.get(ENDPOINT_VARIABLE) or default
    if not _usable_endpoint(url):
        raise AwsConfigError(
            f"{ENDPOINT_VARIABLE} {url!r} is not a URL; alex-db local writes "
            f"http://127.0.0.1:PORT there"
        )
    return url


def _usable_endpoint(url: str) -> bool:
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
    """Write the stack's ARNs and database name into a .env file (or stdout)."""
    from alex_db.tools import envfile, targets
    from alex_db.tools.check import Exit
    from alex_db.tools.local.identity import ENDPOINT_VARIABLE

    try:
        target = targets.resolve(
            _flags(args), targets.stack_output_sources(args.outputs, args.stack)
        )
    except targets.TargetError as error:
        print(f"✗ {error}", file=sys.stderr)
        return Exit.USAGE
    updates = {
        targets.CLUSTER_ARN_VARIABLE: target.cluster_arn,
        targets.SECRET_ARN_VARIABLE: target.secret_arn,
        targets.DATABASE_VARIABLE: target.database,
    }
    try:
        if args.file == "-":
            print(envfile.merge("", updates), end="")
            return Exit.OK
        # Real ARNs mean AWS again: drop the endpoint `alex-db local` wrote.
        changed = envfile.update_file(Path(args.file), updates, drop=[ENDPOINT_VARIABLE])
    except envfile.EnvFileError as error:
        print(f"✗ {args.file}: {error}", file=sys.stderr)
        return Exit.USAGE
    except OSError as error:
        print(f"✗ {args.file}: cannot write it ({error.strerror or error})", file=sys.stderr)
        return Exit.USAGE
    if changed:
        print(f"{args.file}: wrote {', '.join(updates)}", file=sys.stderr)
    else:
        print(f"{args.file}: already up to date", file=sys.stderr)
    return Exit.OK


def _preflight_parser(commands: argparse._SubParsersAction) -> None:
    preflight = commands.add_parser(
        "preflight",
        help="before `pulumi up`: read-only checks of the account against the stack's config",
    )
    _stack_arguments(preflight)
    preflight.add_argument(
        "--region",
        help="AWS region (default: the stack's aws:region, then AWS_REGION, AWS_DEFAULT_REGION)",
    )
    preflight.add_argument("--json", action="store_true", help="print a machine-readable report")


def run_preflight(args: argparse.Namespace) -> int:
    """Validate the stack's merged config, then run the read-only checks against the account."""
    import os

    import boto3

    from alex_db.config.keys import REGION_KEY
    from alex_db.config.settings import load_settings
    from alex_db.config.values import SettingsError, key, short_names
    from alex_db.tools import preflight
    from alex_db.tools.preflight_clients import is_region_name
    from alex_db.tools.preflight_report import Exit, Report, failed
    from alex_db.tools.stack_files import StackConfigError, load_stack_config

    try:
        config = load_stack_config(args.stack, args.config)
        region = (
            args.region
            or config.values.get(REGION_KEY)
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
        )
        if not region or not is_region_name(region):
            raise StackConfigError(
                f"region {region!r} is not an AWS region name like us-east-1: pass --region, "
                f"set aws:region in the stack, or AWS_REGION"
                if region
                else "no region: pass --region, set aws:region in the stack, or AWS_REGION"
            )
        raw = {name: config.values[key(name)] for name in short_names(config.values)}
        secret = short_names(config.secret_keys)
        settings = load_settings(raw, stack=args.stack, region=region, secret_keys=secret)
    except (StackConfigError, SettingsError) as error:
        print(f"✗ {error}", file=sys.stderr)
        if args.json:  # the same fact for a machine, in the report's shape
            refused = Report(args.stack, region=None)
            refused.checks.append(failed("configuration", str(error), Exit.USAGE))
            print(refused.as_json())
        return Exit.USAGE
    # The provider authenticates with the stack's aws:profile when it is set, ahead of
    # AWS_PROFILE (pulumi_aws/config/vars.py, "profile"; terraform-provider-aws: an explicit
    # profile overrides the environment), so preflight reads that same account.
    profile = config.values.get("aws:profile") or None
    report = preflight.run_preflight(
        lambda: boto3.Session(profile_name=profile),
        settings,
        region,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    return _print_report(report, report.checks, args.json)


def _local_parser(commands: argparse._SubParsersAction) -> None:
    from alex_db.tools.local.flags import add_arguments

    local = commands.add_parser(
        "local",
        help="run PostgreSQL behind an RDS Data API endpoint on 127.0.0.1 and point .env at it",
    )
    add_arguments(local)


def run_local(args: argparse.Namespace) -> int:
    """Serve a local Data API until Ctrl-C (``alex_db.tools.local.command``)."""
    from alex_db.tools.local.command import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    """The ``alex-db`` parser (also ``python -m alex_db``)."""
    parser = _OneLineParser(prog="alex-db", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _plan_parser(commands)
    _preflight_parser(commands)
    _check_parser(commands)
    _env_parser(commands)
    _local_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code. Ctrl-C ends any command with one line and 130."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help (0) or a usage error, already printed (2)
        return int(done.code or 0)
    try:
        return {
            "plan": run_plan,
            "preflight": run_preflight,
            "check": run_check,
            "env": run_env,
            "local": run_local,
        }[args.command](args)
    except KeyboardInterrupt:
        print("✗ interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
