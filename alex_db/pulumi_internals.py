"""Every use of a Pulumi SDK name that is not public API, in one module.

Public API is what Pulumi documents and keeps across minor releases: ``pulumi.Config``, resources,
``pulumi.export``, and for unit tests ``pulumi.runtime.set_mocks``/``Mocks``/``set_all_config``
(Pulumi's unit-testing guide). The names below are the SDK's implementation
(``pulumi/runtime/*.py`` in pulumi 3.272), which ``requirements.txt`` admits up to ``pulumi<4``,
so any minor release may move them. Two rules follow:

- The deployed program (``__main__.py``) uses them only to read *more* than ``pulumi.Config``
  can (every key the stack sets, and which are secret); when they are gone it warns that those
  checks are off and goes on with what ``pulumi.Config`` reads. ``pulumi up`` never fails on them.
- The offline runner (``tools/plan/runner.py``) needs them to drive the mock monitor; it may
  fail loudly, in a test, when Pulumi changes, because it never runs under ``pulumi up``.

Public API checked first, and why it does not suffice: ``pulumi.Config`` answers only for a key
the program names (``get``/``require``, ``pulumi/config.py``) and cannot list keys or tell a
secret one; the Automation API's ``Stack.get_all_config`` runs ``pulumi config --show-secrets
--json`` (``pulumi/automation/_local_workspace.py``, ``get_all_config``), which needs the CLI and
a workspace, and would decrypt every secret into the program.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

# The names of pulumi/runtime/config.py read below: CONFIG (the ContextVar ``set_all_config``
# fills: under mocks, and for CLI runs in pulumi-language-python-exec), get_config_env (the
# PULUMI_CONFIG JSON the language host sets), get_config_secret_keys_env (the
# PULUMI_CONFIG_SECRET_KEYS JSON) and is_config_secret (the secret keys ``set_all_config`` got).
CONFIG_INTERNALS = ("CONFIG", "get_config_env", "get_config_secret_keys_env", "is_config_secret")


class ConfigInternalsError(Exception):
    """This Pulumi no longer has the internals behind a full configuration read."""


def _runtime_config() -> Any:
    """``pulumi.runtime.config``, if it still has every name this module reads."""
    try:
        from pulumi.runtime import config as runtime_config
    except ImportError as error:
        raise ConfigInternalsError(f"pulumi.runtime.config: {error}") from None
    missing = [name for name in CONFIG_INTERNALS if not hasattr(runtime_config, name)]
    if missing:
        raise ConfigInternalsError(f"pulumi.runtime.config has no {', '.join(missing)}")
    return runtime_config


def full_configuration() -> tuple[Mapping[str, Any], frozenset[str]]:
    """Every configuration key the stack sets (full key -> value) and the secret ones.

    ``pulumi.Config.get`` answers only for keys a program asks about, so a misspelt key would go
    unseen. Under the CLI the language host passes the whole configuration as ``PULUMI_CONFIG``
    and the secret keys as ``PULUMI_CONFIG_SECRET_KEYS``; ``pulumi-language-python-exec`` loads
    both with ``set_all_config`` (pulumi/pulumi ``sdk/python/cmd/pulumi-language-python-exec``),
    and mocks and Automation API inline programs call ``set_all_config`` themselves. ``CONFIG``
    holds the result either way; ``get_config_env`` covers a host that only set the variable
    (``pulumi/runtime/config.py``, ``get_config``). Raises ``ConfigInternalsError`` when any
    of those names is gone or no longer behaves as read here.
    """
    runtime_config = _runtime_config()
    try:
        everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
        secret = {
            name
            for name in everything
            if runtime_config.is_config_secret(name)
            or name in runtime_config.get_config_secret_keys_env()
        }
    except (AttributeError, TypeError, ValueError) as error:  # a changed shape or signature
        raise ConfigInternalsError(f"pulumi.runtime.config changed: {error}") from None
    return everything, frozenset(secret)


# --- the offline runner's (tools/plan/runner.py); never used by the deployed program ---------


def mock_monitor_class() -> type:
    """``pulumi.runtime.mocks.MockMonitor``: the engine stand-in ``set_mocks`` builds by
    default. The runner subclasses it to record each registration (``RegisterResource``,
    ``RegisterResourceOutputs``, ``make_urn`` in ``pulumi/runtime/mocks.py``)."""
    from pulumi.runtime.mocks import MockMonitor

    return MockMonitor


def is_secret_wrapper(value: Any) -> bool:
    """Whether a deserialized property is a secret: the wire's ``{sig: secret-sig, "value":
    ...}`` (``_special_sig_key``/``_special_secret_sig`` in ``pulumi/runtime/rpc.py``)."""
    from pulumi.runtime.rpc import _special_secret_sig, _special_sig_key

    return isinstance(value, dict) and value.get(_special_sig_key) == _special_secret_sig


def deserialize_properties(struct: Any) -> dict:
    """A registration's properties as Python values, secrets still wrapped
    (``pulumi.runtime.rpc.deserialize_properties``)."""
    from pulumi.runtime import rpc

    return rpc.deserialize_properties(struct)


def reset_root_stack() -> None:
    """Forget the previous run's root stack resource (``pulumi.runtime.settings.ROOT``), so each
    run starts with no exports: the mock setup keeps one per process."""
    from pulumi.runtime import settings

    settings.ROOT.set(None)


def wait_for(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to completion on the current loop (``pulumi/runtime/sync_await.py``,
    ``_sync_await``, which the SDK's own mocks use for the same purpose)."""
    from pulumi.runtime.sync_await import _sync_await

    return _sync_await(awaitable)


def run_program_function(program: Callable[[], object]) -> None:
    """Run a Pulumi program function as the language host does, waiting for every resource
    and output (``pulumi.runtime.stack.run_pulumi_func``)."""
    from pulumi.runtime.stack import run_pulumi_func

    wait_for(run_pulumi_func(program))


def stack_exports() -> dict[str, Any]:
    """What the program passed to ``pulumi.export``: the root ``Stack`` resource's ``outputs``
    attribute (``pulumi/runtime/stack.py``, ``Stack.output``)."""
    import pulumi

    return dict(pulumi.runtime.get_root_resource().outputs)
