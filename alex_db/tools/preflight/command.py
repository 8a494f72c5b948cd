"""``alex-db preflight``: the stack's merged configuration validated as the program would, then
read-only checks of the account (``checks.run_preflight``)."""

from __future__ import annotations

import argparse
import os
import sys

from alex_db.tools.shared.exits import Exit
from alex_db.tools.shared.stack_files import add_stack_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``preflight``'s flags."""
    add_stack_arguments(parser)
    parser.add_argument(
        "--region",
        help="AWS region (default: the stack's aws:region, then AWS_REGION, AWS_DEFAULT_REGION)",
    )
    parser.add_argument("--json", action="store_true", help="print a machine-readable report")


def stack_region(flag: str | None, stack_values: dict[str, str], environ) -> str:
    """The region preflight reads: ``--region``, the stack's ``aws:region``, then the variables
    the AWS SDKs read; a ``StackConfigError`` when there is none or it is not a region name."""
    from alex_db.config.keys import REGION_KEY
    from alex_db.config.partitions import is_region_name
    from alex_db.tools.shared.stack_files import StackConfigError

    region = (
        flag
        or stack_values.get(REGION_KEY)
        or environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
    )
    if not region:
        raise StackConfigError(
            "no region: pass --region, set aws:region in the stack, or AWS_REGION"
        )
    if not is_region_name(region):
        raise StackConfigError(
            f"region {region!r} is not an AWS region name like us-east-1: pass --region, "
            f"set aws:region in the stack, or AWS_REGION"
        )
    return region


def run(args: argparse.Namespace) -> int:
    """Validate the stack's merged config, then run the read-only checks against the account."""
    import boto3

    from alex_db.config.provider_keys import check_aws_keys
    from alex_db.config.settings import load_settings
    from alex_db.config.values import SettingsError, key, short_names
    from alex_db.tools.preflight.checks import run_preflight
    from alex_db.tools.shared.report import Report, failed
    from alex_db.tools.shared.stack_files import StackConfigError, load_stack_config

    try:
        config = load_stack_config(args.stack, args.config)
        region = stack_region(args.region, config.values, os.environ)
        raw = {name: config.values[key(name)] for name in short_names(config.values)}
        secret = short_names(config.secret_keys)
        check_aws_keys(config.values)
        settings = load_settings(raw, stack=args.stack, region=region, secret_keys=secret)
    except (StackConfigError, SettingsError) as error:
        print(f"✗ {error}", file=sys.stderr)
        if args.json:  # the same fact for a machine, in the report's shape
            refused = Report({"stack": args.stack, "region": None, "account": None})
            refused.steps.append(failed("configuration", str(error), Exit.USAGE))
            print(refused.as_json())
        return Exit.USAGE
    # The provider authenticates with the stack's aws:profile when it is set, ahead of
    # AWS_PROFILE (pulumi_aws/config/vars.py, "profile"; terraform-provider-aws: an explicit
    # profile overrides the environment), so preflight reads that same account.
    profile = config.values.get("aws:profile") or None
    report = run_preflight(
        lambda: boto3.Session(profile_name=profile),
        settings,
        region,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    return report.print(args.json)
