"""Command line of the alex_db tools: ``plan`` (offline), and the post-deploy ``check``/``env``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

EXIT_BAD_CONFIG = 2


def _plan_parser(commands: argparse._SubParsersAction) -> None:
    plan = commands.add_parser(
        "plan",
        help="show what a stack would deploy and cost, offline (no AWS account, no Pulumi CLI)",
    )
    plan.add_argument(
        "--stack", default="dev", help="stack name (Pulumi.<stack>.yaml); default dev"
    )
    plan.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. minCapacity=0 or aws:region=us-east-1 (repeatable)",
    )
    plan.add_argument("--json", action="store_true", help="print the plan as one JSON document")
    plan.add_argument(
        "--diff", type=Path, metavar="OLD.json", help="compare with an earlier plan --json"
    )


def run_plan(args: argparse.Namespace) -> int:
    """Run the program under mocks and print the plan (or its diff against an older one)."""
    # Imported here so `check` and `env` never pay for loading Pulumi and the providers.
    import pulumi

    from alex_db.offline import run_program
    from alex_db.plan import build_plan, to_json
    from alex_db.plan_diff import diff_plans, render_changes
    from alex_db.plan_text import render_text
    from alex_db.stack_config import StackConfigError, load_stack_config

    started = time.perf_counter()
    try:
        config = load_stack_config(args.stack, args.config)
        old = json.loads(args.diff.read_text()) if args.diff else None
    except (StackConfigError, OSError, json.JSONDecodeError) as error:
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


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m alex_db`` parser."""
    parser = argparse.ArgumentParser(prog="python -m alex_db", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _plan_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    return {"plan": run_plan}[args.command](args)
