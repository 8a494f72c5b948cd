"""Reading a file a user names: never more than a file of its kind holds.

A path can name something that never ends (``--outputs /dev/zero``, a FIFO fed forever) or a file
given by mistake that is gigabytes long; reading it whole fills memory before any parser sees a
byte. Each read here stops one byte past the limit of its kind, and a file that has that byte is
refused as an ``OSError`` with ``errno.EFBIG`` ("File too large"), which every caller already
turns into its one line ("cannot read it (...)").
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import BinaryIO

MIB = 1024 * 1024
# Stack outputs and plan documents: a plan of every optional resource is about 30 KiB.
JSON_LIMIT = 16 * MIB
# .env files and Pulumi stack files: a few dozen lines.
TEXT_LIMIT = 1 * MIB


def read_at_most(source: Path | BinaryIO, limit: int) -> bytes:
    """The bytes of ``source`` (a path, or an open binary stream such as standard input), or an
    ``OSError(EFBIG)`` once it holds more than ``limit``."""
    if isinstance(source, Path):
        with source.open("rb") as file:
            data = file.read(limit + 1)
    else:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit // MIB} MiB, more than such a file holds")
    return data
