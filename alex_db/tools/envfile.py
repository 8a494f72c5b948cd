"""Reading and updating ``.env`` files without disturbing anything the user wrote.

Only assignments of the keys being set change; every other line, comment, blank line and the
order stay byte for byte. Writes are atomic (temporary file, then rename), so a crash leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=(?P<value>.*)$")
# A new .env may end up holding credentials one day: readable by its owner only.
NEW_FILE_MODE = 0o600


def _unquote(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value.split(" #", 1)[0].strip()


def parse(text: str) -> dict[str, str]:
    """The values a ``.env`` file assigns; a key assigned twice takes its last value."""
    values = {}
    for line in text.splitlines():
        match = _ASSIGNMENT.match(line)
        if match:
            values[match.group("key")] = _unquote(match.group("value"))
    return values


def merge(text: str, updates: Mapping[str, str]) -> str:
    """``text`` with every assignment of an updated key rewritten in place (duplicates too, so
    no stale value survives further down) and the keys it lacked appended, in order."""
    seen = set()
    lines = []
    for line in text.splitlines(keepends=True):
        match = _ASSIGNMENT.match(line)
        key = match.group("key") if match else None
        if key in updates:
            seen.add(key)
            ending = line[len(line.rstrip("\r\n")) :] or "\n"
            line = f"{key}={updates[key]}{ending}"
        lines.append(line)
    missing = [key for key in updates if key not in seen]
    if missing and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines.extend(f"{key}={updates[key]}\n" for key in missing)
    return "".join(lines)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename, keeping an existing file's permissions."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else NEW_FILE_MODE
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove(text: str, keys: Collection[str]) -> str:
    """``text`` without the assignments of ``keys``; every other line stays byte for byte."""
    kept = []
    for line in text.splitlines(keepends=True):
        match = _ASSIGNMENT.match(line)
        if not (match and match.group("key") in keys):
            kept.append(line)
    return "".join(kept)
