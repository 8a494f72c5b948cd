"""The ``local`` subcommand's flags, kept apart from the server so that building the CLI parser
loads neither psycopg nor the endpoint."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from alex_db.tools.shared.local_identity import DEFAULT_PORT

DEFAULT_DATA_DIR = ".alex-db/local"


def port_number(text: str) -> int:
    """``--port``: 0-65535 (0 picks a free port)."""
    if not re.fullmatch(r"[0-9]{1,5}", text) or int(text) > 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port; give a whole number 0-65535 (0 picks a free one)"
        )
    return int(text)


def idle_seconds(text: str) -> float:
    """``--pause-after``: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``local`` subcommand's flags."""
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"Data API port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(DEFAULT_DATA_DIR),
        help=f"where PostgreSQL keeps its data across restarts (default {DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--file", default=".env", help="the .env to update (default .env; - to print it instead)"
    )
    parser.add_argument(
        "--pause-after",
        type=idle_seconds,
        metavar="SECONDS",
        help="emulate auto-pause: after SECONDS idle, calls get DatabaseResumingException for "
        "a few seconds",
    )
