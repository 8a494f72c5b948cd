"""Which input changes make the provider replace a resource, as data (``data/replacements.json``,
each type with the provider source file it was read from).

One table serves ``plan --diff`` (to flag replacements) and the database component (the final
snapshot suffix is renewed exactly when the cluster would be replaced).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

REPLACEMENT_FILE = Path(__file__).parent / "data" / "replacements.json"


@cache
def _table() -> dict:
    return json.loads(REPLACEMENT_FILE.read_text())["types"]


def forces_replacement(type_token: str) -> frozenset[str]:
    """The inputs (wire names) of ``type_token`` whose change replaces the resource; empty for
    a type the table does not know (components, for instance)."""
    entry = _table().get(type_token)
    return frozenset(entry["forces_replacement"]) if entry else frozenset()


def known_types() -> frozenset[str]:
    """Every type token the table covers."""
    return frozenset(_table())


def source(type_token: str) -> str:
    """Where the table's entry for ``type_token`` comes from."""
    return _table()[type_token]["source"]
