"""A stack's configuration read from the project files, merged the way the Pulumi CLI merges it:
``Pulumi.yaml`` project defaults, then ``Pulumi.<stack>.yaml``, then overrides.

Encrypted (``secure:``) values are never decrypted here: they are passed on as ``[secret]``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from alex_db.config.values import NAMESPACE
from alex_db.tools.shared.files import TEXT_LIMIT, read_at_most

# The checkout the `alex-db` command belongs to (an editable install): its Pulumi.yaml, stack
# files and program, from whichever directory the command runs.
PROJECT_DIR = Path(__file__).resolve().parents[3]
PROGRAM = PROJECT_DIR / "__main__.py"
# Pulumi.yaml's `name:`, which is also the namespace of the program's config keys.
PROJECT = NAMESPACE

SECRET_MASK = "[secret]"
# How many values (keys, scalars, lists, maps) a project or stack file may hold once its YAML
# aliases are expanded: a stack file holds dozens. A 652-byte file of nested aliases ("billion
# laughs") expands to 10^10, which every walk of the loaded document (the secret check, the
# origins) then visits; PyYAML shares one object per alias, so nothing stops it before.
MOST_VALUES = 100_000


class StackConfigError(ValueError):
    """The stack or an override cannot be read; the message is one line for the user."""


@dataclass(frozen=True)
class StackConfig:
    """Full keys (``alex-db:minCapacity``, ``aws:region``) to the string values a program sees."""

    values: dict[str, str]
    secret_keys: frozenset[str]
    origins: dict[str, str] = field(default_factory=dict)
    """Full key -> where its value came from: ``default (Pulumi.yaml)``, ``stack file
    (Pulumi.<stack>.yaml)`` or ``--config``."""


def full_key(name: str) -> str:
    """``minCapacity`` -> ``alex-db:minCapacity``; namespaced keys stay as they are."""
    return name if ":" in name else f"{PROJECT}:{name}"


def as_config_string(value: object) -> str:
    """How the CLI hands a YAML value to a program: strings as is, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def is_secure(value: object) -> bool:
    """Whether a stack-file value is, or contains, a ``secure:`` ciphertext. The CLI counts a list
    or map holding one anywhere as secret as a whole (pulumi/pulumi
    ``sdk/go/common/resource/config/object.go``, ``Secure``), as ``set --path --secret`` makes."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("secure"), str):
            return True
        return any(is_secure(item) for item in value.values())
    if isinstance(value, list):
        return any(is_secure(item) for item in value)
    return False


def existing_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The stacks with a ``Pulumi.<stack>.yaml`` beside ``Pulumi.yaml``."""
    return sorted(
        path.name[len("Pulumi.") : -len(".yaml")] for path in project_dir.glob("Pulumi.*.yaml")
    )


class _TooManyValuesError(Exception):
    """A document whose aliases expand past MOST_VALUES, or into themselves."""


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes ``root`` holds with every alias expanded, counted on PyYAML's composed
    node graph (``yaml.compose``: an alias is the anchored node itself, shared, not a copy), so
    the count costs one visit per distinct node. A node inside itself (``&a [*a]``) never ends;
    either raises _TooManyValuesError."""
    sizes: dict[int, int] = {}
    counting: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in counting:
            raise _TooManyValuesError("an alias inside its own anchor, which never ends")
        counting.add(id(node))
        children = node.value if isinstance(node, yaml.CollectionNode) else []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in children for part in pair]
        total = 1 + sum(size(child) for child in children)
        if total > MOST_VALUES:
            raise _TooManyValuesError(
                f"more than {MOST_VALUES:,} values once its aliases are expanded"
            )
        counting.discard(id(node))
        sizes[id(node)] = total
        return total

    return size(root)


class _StackFileLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the scalars a config value can hold: a timestamp-looking scalar
    stays the text written, as the Pulumi CLI reads it (pulumi/pulumi
    ``sdk/go/common/encoding/marshal.go`` reads stack files with gopkg.in/yaml.v2, whose
    ``decode.go`` keeps a timestamp as its string "for backward compatibility"), and
    ``!!binary`` is refused (bytes are no config value)."""

    def construct_yaml_timestamp(self, node):
        return self.construct_scalar(node)

    def construct_yaml_binary(self, node):
        raise yaml.constructor.ConstructorError(
            None, None, "a !!binary value, which no config value holds", node.start_mark
        )


_StackFileLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _StackFileLoader.construct_yaml_timestamp
)
_StackFileLoader.add_constructor("tag:yaml.org,2002:binary", _StackFileLoader.construct_yaml_binary)


def _load_yaml(text: str):
    """``yaml.safe_load(text)`` (with _StackFileLoader's scalars), with the document's expanded
    size checked between composing and constructing (the two halves of ``safe_load``:
    ``get_single_node`` then ``construct_document``, PyYAML ``composer.py`` and
    ``constructor.py``), so an alias bomb is refused before anything walks it."""
    loader = _StackFileLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _expanded_size(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _yaml_mapping(path: Path) -> dict:
    """The ``config:`` mapping of a project or stack file; anything else is one line."""
    try:
        document = _load_yaml(read_at_most(path, TEXT_LIMIT).decode("utf-8")) or {}
    except UnicodeDecodeError as error:
        raise StackConfigError(
            f"{path.name} is not UTF-8 text (byte {error.start} cannot be decoded)"
        ) from None
    except yaml.YAMLError as error:
        raise StackConfigError(f"{path.name} is not valid YAML: {error}".splitlines()[0]) from None
    except _TooManyValuesError as error:
        raise StackConfigError(
            f"{path.name} holds {error}; a stack file holds keys and values (write the "
            f"values out instead of repeating aliases)"
        ) from None
    except RecursionError:  # PyYAML's parser recurses once per level of nesting
        raise StackConfigError(
            f"{path.name} is nested too deeply to read; a stack file holds keys and values"
        ) from None
    except OSError as error:
        raise StackConfigError(f"{path.name}: cannot read it ({error.strerror})") from None
    if not isinstance(document, dict):
        raise StackConfigError(
            f"{path.name} is not a YAML mapping (it holds a {type(document).__name__}); "
            f"it needs a `config:` mapping of keys to values"
        )
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackConfigError(
            f"{path.name}: `config:` is not a mapping of keys to values "
            f"(it holds a {type(config).__name__})"
        )
    not_names = [key for key in config if not isinstance(key, str)]
    if not_names:
        raise StackConfigError(f"{path.name}: config key {not_names[0]!r} is not a name")
    return config


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
    if stack_file.exists() and not stack_file.is_file():
        raise StackConfigError(f"{stack_file.name} is not a regular file; a stack file is YAML")
    if not stack_file.is_file():
        known = ", ".join(existing_stacks(project_dir)) or "none"
        raise StackConfigError(
            f"stack {stack!r} has no {stack_file.name}; existing stacks: {known} "
            f"(create one with: pulumi stack init {stack})"
        )
    values = project_defaults(project_dir)
    origins = dict.fromkeys(values, "default (Pulumi.yaml)")
    secret_keys = set()
    for name, value in _yaml_mapping(stack_file).items():
        key = full_key(name)
        origins[key] = f"stack file ({stack_file.name})"
        if is_secure(value):
            values[key] = SECRET_MASK
            secret_keys.add(key)
        else:
            values[key] = as_config_string(value)
    for text in overrides:
        key, value = parse_override(text)
        values[key] = value
        origins[key] = "--config"
        secret_keys.discard(key)
    return StackConfig(values=values, secret_keys=frozenset(secret_keys), origins=origins)


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    """``--stack`` and ``--config``: which stack's merged configuration a command reads."""
    parser.add_argument(
        "--stack", default="dev", help="stack name (Pulumi.<stack>.yaml); default dev"
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. minCapacity=0 or aws:region=us-east-1 (repeatable)",
    )
