"""The policy pack driven the way the Pulumi engine drives it, without the CLI.

Under ``pulumi up --policy-pack policy`` the engine marshals each resource's properties into a
protobuf ``Struct``, secrets kept as signature objects (pulumi/pulumi
``pkg/resource/plugin/analyzer_plugin.go``: ``MarshalOptions{KeepUnknowns: true, KeepSecrets:
true}``): its **inputs** for ``Analyze`` (resource policies) and its final **outputs** for
``AnalyzeStack`` (stack policies; ``pkg/resource/deploy/step_generator.go``,
``AnalyzeResources``). The pack's gRPC servicer (``pulumi_policy/policy.py``,
``_PolicyAnalyzerServicer``) turns them into Python with ``deserialize_properties`` (secrets
decrypted) and wraps every map and list in the unknown-checking proxies of
``pulumi_policy/proxy.py``. These helpers build the same requests and hand them to that same
servicer, skipping only the socket, so the rules meet exactly the values and types they meet
under the CLI: float numbers, proxies instead of dicts and lists, decrypted secrets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.policy import _PolicyAnalyzerServicer

from alex_db.tools.plan.runner import ProgramRun, RecordedResource
from policy.alex_rules import POLICIES

PACK = _PolicyAnalyzerServicer("alex-db-guardrails", "0.0.1", POLICIES, EnforcementLevel.MANDATORY)
STACK_TYPE = "pulumi:pulumi:Stack"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
# Outputs the providers mark secret themselves (additionalSecretOutputs in their schemas), which
# the mock monitor does not: the engine would send them wrapped.
PROVIDER_SECRET_OUTPUTS = {RANDOM_PASSWORD: {"result"}}


@dataclass(frozen=True)
class Violation:
    """One diagnostic the pack returned."""

    policy: str
    message: str
    """The rule's own message (the engine prefixes the policy's description)."""
    urn: str


@dataclass(frozen=True)
class EngineResource:
    """One resource as the engine describes it to a policy pack."""

    type: str
    urn: str
    name: str
    properties: Mapping[str, Any]
    secret: frozenset[str] = frozenset()
    """Top-level properties the engine sends as secrets."""


def secret(value: Any) -> dict:
    """A value in the engine's secret envelope."""
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


def _struct(resource: EngineResource) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(
        {
            key: secret(value) if key in resource.secret else value
            for key, value in resource.properties.items()
        }
    )
    return struct


def _message(resource: EngineResource) -> analyzer_pb2.AnalyzerResource:
    return analyzer_pb2.AnalyzerResource(
        type=resource.type, urn=resource.urn, name=resource.name, properties=_struct(resource)
    )


def _violations(response: analyzer_pb2.AnalyzeResponse) -> list[Violation]:
    return [
        Violation(d.policyName, d.message.split("\n", 1)[-1], d.urn) for d in response.diagnostics
    ]


def analyze(resource: EngineResource) -> list[Violation]:
    """Every resource policy's verdict on one resource (its inputs)."""
    request = analyzer_pb2.AnalyzeRequest(
        type=resource.type, urn=resource.urn, name=resource.name, properties=_struct(resource)
    )
    return _violations(PACK.Analyze(request, None))


def analyze_stack(resources: Iterable[EngineResource]) -> list[Violation]:
    """Every stack policy's verdict on the whole stack."""
    request = analyzer_pb2.AnalyzeStackRequest(resources=[_message(r) for r in resources])
    return _violations(PACK.AnalyzeStack(request, None))


def inputs_of(resource: RecordedResource, **changes: Any) -> EngineResource:
    """A recorded resource's inputs (what ``Analyze`` gets), optionally changed."""
    return EngineResource(
        resource.type,
        resource.urn,
        resource.name,
        {**resource.inputs, **changes},
        resource.secret_inputs,
    )


def outputs_of(resource: RecordedResource) -> EngineResource:
    """A recorded resource's outputs (what ``AnalyzeStack`` gets): the mocked provider's answer,
    secret where the program or the provider makes them secret."""
    return EngineResource(
        resource.type,
        resource.urn,
        resource.name,
        resource.outputs,
        resource.secret_inputs | PROVIDER_SECRET_OUTPUTS.get(resource.type, set()),
    )


def stack_resource(program_run: ProgramRun, stack: str, **extra_outputs: Any) -> EngineResource:
    """The stack itself, whose outputs are the program's exports."""
    outputs = {name: output.value for name, output in program_run.outputs.items()}
    return EngineResource(
        STACK_TYPE,
        f"urn:pulumi:{stack}::alex-db::{STACK_TYPE}::alex-db-{stack}",
        f"alex-db-{stack}",
        {**outputs, **extra_outputs},
        frozenset(name for name, output in program_run.outputs.items() if output.secret),
    )
