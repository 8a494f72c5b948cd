"""Parsing single stack-config values, each failure one line naming key, value and what is
allowed (pure). Pulumi hands every value to the program as a string: booleans as
``true``/``false``, YAML lists and maps as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable

NAMESPACE = "alex-db"


class SettingsError(ValueError):
    """A configuration value that is not allowed; the message is one line for the user."""


def key(name: str) -> str:
    """The full config key as users type it: ``alex-db:minCapacity``."""
    return f"{NAMESPACE}:{name}"


def short_names(full_keys: Iterable[str]) -> frozenset[str]:
    """The short names of the keys in our namespace (``alex-db:minCapacity`` -> ``minCapacity``);
    keys of other namespaces (``aws:region``) are left out."""
    prefix = key("")
    return frozenset(full[len(prefix) :] for full in full_keys if full.startswith(prefix))


def reject(name: str, value: str, allowed: str) -> SettingsError:
    """The error for ``name`` set to ``value``."""
    return SettingsError(f"{key(name)} = {value!r} is not allowed: {allowed}")


def parse_bool(name: str, raw: str) -> bool:
    """``true`` or ``false`` (any case)."""
    lowered = raw.strip().lower()
    if lowered not in ("true", "false"):
        raise reject(name, raw, "true or false")
    return lowered == "true"


def parse_int(name: str, raw: str, low: int, high: int, unit: str = "") -> int:
    """A whole number from ``low`` to ``high``."""
    allowed = f"a whole number{unit} from {low} to {high}"
    try:
        value = int(raw.strip())
    except ValueError:
        raise reject(name, raw, allowed) from None
    if not low <= value <= high:
        raise reject(name, raw, allowed)
    return value


def _json(text: str) -> object | None:
    """``text`` parsed as JSON, or None when it is not JSON. json.loads raises JSONDecodeError
    for malformed text but a plain ValueError for an integer of more than 4300 digits (Python
    docs, "Integer string conversion length limitation", stdtypes.html#int-max-str-digits);
    either is a value that is not allowed, never a traceback."""
    try:
        return json.loads(text)
    except ValueError:  # JSONDecodeError is a ValueError too
        return None


def parse_list(name: str, raw: str, what: str, *, comma_separated: bool = True) -> list[str]:
    """A YAML list (JSON on the way in) of strings, or, when ``comma_separated``, a
    comma-separated string. Keys ``Pulumi.yaml`` declares as ``array`` pass False: the CLI
    refuses a string for them (pulumi/pulumi ``sdk/go/common/workspace/project.go``,
    ``ValidateConfigValue``), and the program must not accept what a deployment would refuse."""
    text = raw.strip()
    if not text.startswith("["):
        if not comma_separated:
            raise reject(name, raw, f"a YAML list of {what} (not a comma-separated string)")
        return [item.strip() for item in text.split(",") if item.strip()]
    items = _json(text)
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise reject(name, raw, f"a list of {what}")
    return [item.strip() for item in items]


def parse_map(name: str, raw: str, what: str) -> dict[str, str]:
    """A YAML map (JSON on the way in) of strings to strings."""
    mapping = _json(raw)
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise reject(name, raw, f"a map of {what}")
    return mapping
