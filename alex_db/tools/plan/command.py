"""``alex-db plan``: run the program under mocks and print what the stack would deploy and cost,
or how it differs from an earlier ``plan --json`` (``--diff``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from alex_db.tools.shared.exits import Exit
from alex_db.tools.shared.stack_files import add_stack_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``plan``'s flags."""
    add_stack_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the plan as one JSON document")
    parser.add_argument(
        "--diff", type=Path, metavar="OLD.json", help="compare with an earlier plan --json"
    )


def run(args: argparse.Namespace) -> int:
    """Print the plan (or its diff against an earlier one); bad config or files exit 2. A
    created resource type without a complete entry in ``config/resource_types.py`` is one
    warning line, or exit 1 when the program could not run without its outputs."""
    # Imported here so `--help` and the other commands never pay for Pulumi and the providers.
    import pulumi

    from alex_db.tools.plan.diff import diff_plans, render_changes
    from alex_db.tools.plan.document import build_plan, to_json
    from alex_db.tools.plan.earlier_plan import EarlierPlanError, load_earlier_plan
    from alex_db.tools.plan.runner import MissingEntryError, run_program
    from alex_db.tools.plan.text import next_step, render_text
    from alex_db.tools.shared.stack_files import StackConfigError, load_stack_config

    started = time.perf_counter()
    try:
        config = load_stack_config(args.stack, args.config)
        earlier = load_earlier_plan(args.diff, args.stack) if args.diff else None
    except (StackConfigError, EarlierPlanError) as error:
        print(error, file=sys.stderr)
        return Exit.USAGE
    try:
        program_run = run_program(args.stack, config.values, secret_keys=config.secret_keys)
    except pulumi.RunError as error:
        print(error, file=sys.stderr)
        return Exit.USAGE
    except MissingEntryError as error:
        print(f"alex-db plan: {error}", file=sys.stderr)
        return Exit.FAILED
    if problems := program_run.entry_problems():
        # A resource type the tools know nothing about: its values below are the runner's
        # stand-ins. Said, not refused, so every other test of the plan still runs while
        # tests/test_resource_types.py names the gap.
        print(f"alex-db plan: warning: {'; '.join(problems)}", file=sys.stderr)
    plan = build_plan(args.stack, config, program_run)
    print(
        f"alex-db plan: ran the program for stack {args.stack} under mocks in "
        f"{time.perf_counter() - started:.1f} s (no AWS account, no Pulumi CLI)",
        file=sys.stderr,
    )
    if earlier is None:
        print(to_json(plan) if args.json else render_text(plan), end="\n" if args.json else "")
        return Exit.OK
    changes = diff_plans(earlier, plan)
    if args.json:
        report = [asdict(change) | {"verdict": change.verdict} for change in changes]
        print(json.dumps(report, indent=2))
    else:
        print(render_changes(changes, earlier, plan), end="")
        if changes:
            print(next_step(args.stack, "applies these changes"))
    return Exit.OK
