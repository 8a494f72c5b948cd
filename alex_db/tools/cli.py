"""Command line of the alex_db tools: ``plan`` (offline), ``preflight`` (before the first deploy),
the post-deploy ``check``/``env``, and ``local`` (a Data API on this machine).

This module only parses and dispatches; each command lives in its own package and loads its
dependencies (Pulumi, botocore, psycopg) when it runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from alex_db.tools.deployed import command as deployed
from alex_db.tools.local.flags import add_arguments as add_local_arguments
from alex_db.tools.plan import command as plan
from alex_db.tools.preflight import command as preflight
from alex_db.tools.shared.exits import Exit


def _run_local(args: argparse.Namespace) -> int:
    """``local``, loading psycopg and the server only when it runs."""
    from alex_db.tools.local.command import run

    return run(args)


# name -> (help, add its flags, run it)
COMMANDS = {
    "plan": (
        "show what a stack would deploy and cost, offline (no AWS account, no Pulumi CLI)",
        plan.add_arguments,
        plan.run,
    ),
    "preflight": (
        "before `pulumi up`: read-only checks of the account against the stack's config",
        preflight.add_arguments,
        preflight.run,
    ),
    "check": (
        "prove the deployed cluster answers SELECT version() through the Data API",
        deployed.add_check_arguments,
        deployed.run_check,
    ),
    "env": (
        "write the stack's ARNs, database and region into .env (and Terraform files)",
        deployed.add_env_arguments,
        deployed.run_env,
    ),
    "local": (
        "run PostgreSQL behind an RDS Data API endpoint on 127.0.0.1 and point .env at it",
        add_local_arguments,
        _run_local,
    ),
}


class _OneLineParser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (and exit 2) rather than usage plus error."""

    def error(self, message: str) -> NoReturn:
        self.exit(Exit.USAGE, f"✗ {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``alex-db`` parser (also ``python -m alex_db``)."""
    parser = _OneLineParser(prog="alex-db", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (summary, add_arguments, _) in COMMANDS.items():
        add_arguments(commands.add_parser(name, help=summary))
    return parser


def dash_dash_value(argv: list[str]) -> str | None:
    """The first flag given as ``--flag=--``. argparse strips the first ``--`` from an option's
    values (CPython 3.11 ``Lib/argparse.py``, ``_get_values``: "strip out first '--'"), so
    ``--database=--`` silently meant the default database."""
    for argument in argv:
        flag, equals, value = argument.partition("=")
        if flag.startswith("--") and equals and value == "--":
            return flag
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code. Ctrl-C ends any command with one line and 130."""
    parser = build_parser()
    try:
        flag = dash_dash_value(sys.argv[1:] if argv is None else argv)
        if flag is not None:
            parser.error(f"{flag}: '--' cannot be a value")
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a usage error, already printed (2)
        return int(done.code or 0)
    try:
        return int(COMMANDS[args.command][2](args))
    except KeyboardInterrupt:
        print("✗ interrupted", file=sys.stderr)
        return Exit.INTERRUPTED
