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


def read_at_most(source: Path | BinaryIO | None, limit: int) -> bytes:
    """The bytes of ``source`` (a path, or an open binary stream such as standard input; None
    for a standard input that is closed), or an ``OSError`` that says why not: ``EFBIG`` once it
    holds more than ``limit``.

    A FIFO is read as ``cat`` reads one: opening it waits for a writer, and Ctrl-C ends the
    wait (exit 130)."""
    if source is None:
        raise OSError(errno.EBADF, "standard input is closed")
    if isinstance(source, Path):
        with source.open("rb") as file:
            data = file.read(limit + 1)
    else:
        data = source.read(limit + 1)
    if data is None:  # a non-blocking stream with nothing in it yet (io.RawIOBase.read)
        raise OSError(errno.EAGAIN, "nothing to read yet (a non-blocking standard input)")
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit // MIB} MiB, more than such a file holds")
    return data
