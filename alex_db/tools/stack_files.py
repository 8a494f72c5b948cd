"""A stack's configuration read from the project files, merged the way the Pulumi CLI merges it:
``Pulumi.yaml`` project defaults, then ``Pulumi.<stack>.yaml``, then overrides.

Encrypted (``secure:``) values are never decrypted here: they are passed on as ``[secret]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from alex_db.tools.offline import PROJECT, PROJECT_DIR

SECRET_MASK = "[secret]"


class StackConfigError(ValueError):
    """The stack or an override cannot be read; the message is one line for the user."""


@dataclass(frozen=True)
class StackConfig:
    """Full keys (``alex-db:minCapacity``, ``aws:region``) to the string values a program sees."""

    values: dict[str, str]
    secret_keys: frozenset[str]


def full_key(name: str) -> str:
    """``minCapacity`` -> ``alex-db:minCapacity``; namespaced keys stay as they are."""
    return name if ":" in name else f"{PROJECT}:{name}"


def as_config_string(value: object) -> str:
    """How the CLI hands a YAML value to a program: strings as is, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def existing_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The stacks with a ``Pulumi.<stack>.yaml`` beside ``Pulumi.yaml``."""
    return sorted(
        path.name[len("Pulumi.") : -len(".yaml")] for path in project_dir.glob("Pulumi.*.yaml")
    )


def _yaml_mapping(path: Path) -> dict:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise StackConfigError(f"{path.name} is not valid YAML: {error}".splitlines()[0]) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(document, dict) or not isinstance(config or {}, dict):
        raise StackConfigError(
            f"{path.name}: expected a mapping whose `config:` maps key names to values (as "
            f"`pulumi config set` writes it)"
        )
    if not all(isinstance(name, str) for name in config or {}):
        raise StackConfigError(f"{path.name}: every key under `config:` must be a name")
    return config or {}


def project_defaults(project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """The ``default:`` of every key declared in ``Pulumi.yaml``."""
    declared = _yaml_mapping(project_dir / "Pulumi.yaml")
    return {
        full_key(name): as_config_string(spec["default"])
        for name, spec in declared.items()
        if isinstance(spec, dict) and "default" in spec
    }


def parse_override(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` from the command line."""
    name, separator, value = text.partition("=")
    if not separator or not name.strip():
        raise StackConfigError(f"--config {text!r} is not KEY=VALUE (e.g. minCapacity=0)")
    return full_key(name.strip()), value


def load_stack_config(
    stack: str, overrides: Iterable[str] = (), project_dir: Path = PROJECT_DIR
) -> StackConfig:
    """The merged configuration of ``stack``; a missing stack file lists the stacks there are."""
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = ", ".join(existing_stacks(project_dir)) or "none"
        raise StackConfigError(
            f"stack {stack!r} has no {stack_file.name}; existing stacks: {known} "
            f"(create one with: pulumi stack init {stack})"
        )
    values = project_defaults(project_dir)
    secret_keys = set()
    for name, value in _yaml_mapping(stack_file).items():
        key = full_key(name)
        if isinstance(value, dict) and "secure" in value:
            values[key] = SECRET_MASK
            secret_keys.add(key)
        else:
            values[key] = as_config_string(value)
    for text in overrides:
        key, value = parse_override(text)
        values[key] = value
        secret_keys.discard(key)
    return StackConfig(values=values, secret_keys=frozenset(secret_keys))
