"""The deployed program survives a Pulumi release without the config internals it reads.

``alex_db.pulumi_internals.full_configuration`` reads names of ``pulumi.runtime.config`` that are
not public API. Here they are removed, as a future release might, while ``pulumi.Config`` (the
public API) keeps answering: the program must warn that unknown-key checking is off, read its
known keys as usual, and register the same resources. With the internals in place, the same
misspelt key is refused, so the warning is what the absence changed.
"""

from __future__ import annotations

import pulumi
import pulumi.config
import pytest
from pulumi.runtime import config as runtime_config

from alex_db import pulumi_internals
from tests.conftest import CLUSTER, DEV_CONFIG, run

MISSPELT = {"alex-db:minCapcity": "0"}


@pytest.fixture
def config_internals_removed(monkeypatch):
    """``pulumi.runtime.config`` without CONFIG and the env readers; ``pulumi.Config`` still
    answers from what the runner sets (standing in for the language host)."""
    stored: dict[str, str] = {}
    monkeypatch.setattr(
        pulumi.runtime, "set_all_config", lambda config, secret_keys=None: stored.update(config)
    )
    monkeypatch.setattr(pulumi.config, "get_config", stored.get)
    for name in pulumi_internals.CONFIG_INTERNALS:
        monkeypatch.delattr(runtime_config, name)


def test_with_the_internals_a_misspelt_key_is_refused():
    with pytest.raises(pulumi.RunError, match="minCapcity"):
        run("dev", **MISSPELT)


def test_without_the_internals_the_program_warns_and_deploys_the_same(
    config_internals_removed, dev
):
    with pytest.raises(pulumi_internals.ConfigInternalsError, match="CONFIG"):
        pulumi_internals.full_configuration()
    without = run("dev", **MISSPELT)
    assert any(w.startswith("unknown-key checking is off") for w in without.warnings)
    assert sorted(r.urn for r in without.resources) == sorted(r.urn for r in dev.resources)
    # Known keys are still read through pulumi.Config: a non-default value takes effect.
    wider = run("dev", maxCapacity="4")
    assert wider.one(CLUSTER).inputs["serverlessv2ScalingConfiguration"]["maxCapacity"] == 4


def test_a_changed_shape_is_the_same_warning_not_a_traceback(monkeypatch):
    monkeypatch.setattr(runtime_config, "get_config_env", lambda: ["not", "a", "mapping"])
    pulumi.runtime.set_all_config(dict(DEV_CONFIG))
    with pytest.raises(pulumi_internals.ConfigInternalsError, match="changed"):
        pulumi_internals.full_configuration()
