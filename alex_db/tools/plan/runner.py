"""Run the real Pulumi program (``__main__.py``) with no CLI and no AWS account.

Pulumi's mock monitor stands in for the engine: every invoke and every computed output is
answered with a clearly marked placeholder, and every registration is recorded with its parent
and which of its inputs are secret. ``python -m alex_db plan`` and the test suite both run the
program through here, so what the plan shows is what the tests prove.
"""

from __future__ import annotations

import asyncio
import logging
import runpy
import sys
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from alex_db import pulumi_internals
from alex_db.config import partitions
from alex_db.config.keys import REGION_KEY
from alex_db.config.resource_types import RESOURCE_TYPES, UNLISTED, entry_problem
from alex_db.tools.shared.stack_files import PROGRAM, PROJECT

MARK = "PLACEHOLDER"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


class MissingEntryError(Exception):
    """The program stopped on a resource type that has no entry in
    ``config/resource_types.py``; the message says what to add where, in one line."""


@dataclass(frozen=True)
class Placeholders:
    """What the mocked AWS account answers. Every value is visibly not real."""

    account_id: str = "000000000000"
    region: str = "region-PLACEHOLDER"
    """Used only when the stack sets no ``aws:region``."""
    partition: str | None = None
    """The partition getPartition answers; None: the region's (``config/partitions.py``)."""
    dns_suffix: str | None = None
    """Its service domain (``amazonaws.com.cn`` in China); None: the region's partition's."""
    vpc_id: str = "vpc-PLACEHOLDER"
    vpc_cidr: str = "172.31.0.0/16"
    subnet_ids: tuple[str, ...] = ("subnet-PLACEHOLDER-a", "subnet-PLACEHOLDER-b")
    random_hex: str = "xxxxxxxx"
    password: str = "PLACEHOLDER-PASSWORD-never-shown"
    """What the mocked RandomPassword returns: a sentinel that must never reach any output."""
    kms_key_manager: str = "CUSTOMER"
    """What KMS reports as the ``kmsKeyArn`` key's KeyManager (``AWS`` for an AWS managed key)."""
    kms_key_state: str = "Enabled"
    """What KMS reports as that key's KeyState."""
    running_kms_key_id: str | None = None
    """The key AWS reports for that running cluster; None: the account's AWS managed aws/rds
    key, as for every cluster created without a customer-managed one."""
    running_engine_version: str | None = None
    """"AWS reports version X": the stack's cluster exists and runs X (e.g. after an AWS auto
    minor upgrade). None (default): the cluster does not exist yet, as before a first deploy."""


@dataclass
class RecordedResource:
    """One registration the program made."""

    urn: str
    type: str
    name: str
    parent_urn: str
    custom: bool
    protect: bool
    """Pulumi refuses to delete it (``protect=True``)."""
    retain_on_delete: bool
    """Pulumi leaves it in the cloud when deleting it from the stack."""
    resource_id: str
    """The id the (mocked) provider assigned; empty for components."""
    inputs: dict[str, Any]
    """Inputs with secrets unwrapped (wire names: camelCase)."""
    secret_inputs: frozenset[str]
    """Top-level input names the program marked secret."""
    outputs: dict[str, Any] = field(default_factory=dict)
    dependencies: tuple[str, ...] = ()
    """URNs it explicitly depends on (``depends_on``)."""
    ignored_changes: tuple[str, ...] = ()
    """Inputs ``pulumi up`` never updates (``ignore_changes``): they take effect on create only."""


@dataclass
class StackOutput:
    """One ``pulumi.export`` after the run."""

    value: Any
    secret: bool


@dataclass
class ProgramRun:
    """Everything a mocked run registered and exported, in registration order."""

    resources: list[RecordedResource]
    outputs: dict[str, StackOutput]
    placeholders: Placeholders
    warnings: list[str] = field(default_factory=list)
    """What the program said with ``pulumi.log.warn``."""

    def of_type(self, type_token: str) -> list[RecordedResource]:
        """All resources of one type token."""
        return [resource for resource in self.resources if resource.type == type_token]

    def one(self, type_token: str) -> RecordedResource:
        """The only resource of a type token; fails loudly if there are none or several."""
        found = self.of_type(type_token)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_token}, found {[r.urn for r in found]}")
        return found[0]

    def entry_problems(self) -> list[str]:
        """One line per created type whose entry in ``config/resource_types.py`` is missing or
        lacks a fact: ``plan`` says each before the plan it shows."""
        created = dict.fromkeys(resource.type for resource in self.resources if resource.custom)
        return [problem for type_token in created if (problem := entry_problem(type_token))]


def unwrap_secrets(value: Any) -> tuple[Any, bool]:
    """``value`` with every secret wrapper replaced by its content, and whether it had one."""
    if pulumi_internals.is_secret_wrapper(value):
        inner, _ = unwrap_secrets(value.get("value"))
        return inner, True
    if isinstance(value, dict):
        pairs = {key: unwrap_secrets(item) for key, item in value.items()}
        return {key: pair[0] for key, pair in pairs.items()}, any(p[1] for p in pairs.values())
    if isinstance(value, list):
        pairs = [unwrap_secrets(item) for item in value]
        return [pair[0] for pair in pairs], any(pair[1] for pair in pairs)
    return value, False


def whole_numbers(value: Any) -> Any:
    """``value`` with integral floats as ints: the wire carries every number as a float."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [whole_numbers(item) for item in value]
    return value


class PlaceholderMocks(pulumi.runtime.Mocks):
    """Answers invokes by token and fills in computed outputs by resource type."""

    def __init__(self, placeholders: Placeholders, region: str) -> None:
        self.placeholders = placeholders
        self.region = region
        self.partition = placeholders.partition or partitions.arn_partition(region)
        self.unlisted_types: list[str] = []
        """Types the run created that have no placeholder in ``config/resource_types.py``."""

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        if args.token == "aws:rds/getClusters:getClusters":
            return self._clusters(args.args)
        if args.token == "aws:rds/getCluster:getCluster":
            return self._cluster(args.args)
        p = self.placeholders
        answers = {
            "aws:ec2/getVpc:getVpc": {
                "id": args.args.get("id") or p.vpc_id,
                "cidrBlock": p.vpc_cidr,
                "default": True,
                "arn": self._arn("ec2", f"vpc/{args.args.get('id') or p.vpc_id}"),
            },
            "aws:ec2/getSubnets:getSubnets": {"id": self.region, "ids": list(p.subnet_ids)},
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "id": p.account_id,
                "accountId": p.account_id,
                "arn": f"arn:{self.partition}:iam::{p.account_id}:user/{MARK}",
                "userId": MARK,
            },
            "aws:index/getRegion:getRegion": {"id": self.region, "region": self.region},
            "aws:kms/getKey:getKey": {
                "id": args.args.get("keyId"),
                "arn": args.args.get("keyId"),
                "keyManager": "AWS"
                if args.args.get("keyId") == self._aws_rds_key()
                else p.kms_key_manager,
                "keyState": p.kms_key_state,
                "keySpec": "SYMMETRIC_DEFAULT",
                "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
                "keyUsage": "ENCRYPT_DECRYPT",
                "enabled": p.kms_key_state == "Enabled",
            },
            "aws:index/getPartition:getPartition": self._partition(),
        }
        if args.token not in answers:
            raise NotImplementedError(f"no placeholder for invoke {args.token}")
        return answers[args.token]

    def _partition(self) -> dict:
        """``getPartition``: the region's partition, as the provider would report it."""
        suffix = self.placeholders.dns_suffix or partitions.dns_suffix(self.region)
        return {"id": self.partition, "partition": self.partition, "dnsSuffix": suffix}

    def _clusters(self, query: dict) -> dict:
        """``getClusters`` by identifier: the stack's cluster only when it "exists"."""
        wanted = [v for f in query.get("filters") or [] for v in f.get("values", [])]
        found = wanted if self.placeholders.running_engine_version is not None else []
        return {
            "id": self.region,
            "clusterIdentifiers": found,
            "clusterArns": [self._arn("rds", f"cluster:{c}") for c in found],
        }

    def _cluster(self, query: dict) -> dict:
        """``getCluster``: what AWS reports for an existing cluster (only the fields the
        program reads, plus its identity)."""
        identifier = query.get("clusterIdentifier")
        if self.placeholders.running_engine_version is None:
            # What AWS answers for a cluster that does not exist: the program must not ask.
            raise NotImplementedError(f"DBClusterNotFoundFault: {identifier} (placeholder)")
        return {
            "id": identifier,
            "clusterIdentifier": identifier,
            "arn": self._arn("rds", f"cluster:{identifier}"),
            "engine": "aurora-postgresql",
            "engineVersion": self.placeholders.running_engine_version,
            "kmsKeyId": self.placeholders.running_kms_key_id or self._aws_rds_key(),
        }

    def _aws_rds_key(self) -> str:
        """The account's AWS managed ``aws/rds`` key, as KMS would name it."""
        return self._arn("kms", f"key/{MARK}-aws-rds")

    def _arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        p = self.placeholders
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{p.account_id}:{resource}"

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        if not args.custom:
            return None, {}
        inputs, _ = unwrap_secrets(args.inputs)
        resource_id, computed = self._computed(args.typ, args.name, inputs)
        return resource_id, {**args.inputs, **computed}

    def _computed(self, type_token: str, name: str, inputs: dict) -> tuple[str, dict]:
        """The id and the outputs AWS (or the random provider) would compute, from the type's
        placeholder in ``config/resource_types.py``. A type without one is answered with
        ``UNLISTED`` and remembered, so the run goes on and says what to add where."""
        p = self.placeholders
        entry = RESOURCE_TYPES.get(type_token)
        placeholder = entry.placeholder if entry and entry.placeholder else UNLISTED
        if placeholder is UNLISTED and type_token not in self.unlisted_types:
            self.unlisted_types.append(type_token)
        context = {
            "physical": inputs.get("name") or inputs.get("identifier") or name,
            "inputs": inputs,
            "partition": self.partition,
            "region": inputs.get("region") or self.region,
            "account": p.account_id,
            "service": type_token.split(":")[1].split("/")[0],
            "mark": MARK,
            "password": p.password,
            "random_hex": p.random_hex,
        }
        return placeholder.answer(context)


class RecordingMonitor(pulumi_internals.mock_monitor_class()):
    """The mock monitor, also keeping each registration's parent and secret inputs."""

    def __init__(self, mocks: PlaceholderMocks) -> None:
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives: a top-level resource's type leaves out the root stack's
        (pulumi/pulumi sdk/go/common/resource/urn.go, NewURN: ``parentType != RootStackType``),
        which the mock monitor keeps, so plans show the URNs ``pulumi import`` and
        ``pulumi state`` take."""
        if parent and parent.split("::")[2] == ROOT_STACK_TYPE:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResourceOutputs(self, request):  # noqa: N802 (gRPC method name)
        """A component's ``register_outputs``: kept as that component's outputs."""
        outputs, _ = unwrap_secrets(pulumi_internals.deserialize_properties(request.outputs))
        for resource in self.recorded:
            if resource.urn == request.urn:
                resource.outputs = outputs
        return super().RegisterResourceOutputs(request)

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        raw_inputs = pulumi_internals.deserialize_properties(request.object)
        unwrapped = {key: unwrap_secrets(value) for key, value in raw_inputs.items()}
        registration = self.resources[response.urn]
        outputs, _ = unwrap_secrets(dict(registration.state or {}))
        self.recorded.append(
            RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent_urn=request.parent,
                custom=bool(request.custom),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                resource_id=response.id,
                inputs={key: whole_numbers(pair[0]) for key, pair in unwrapped.items()},
                secret_inputs=frozenset(key for key, pair in unwrapped.items() if pair[1]),
                outputs=outputs,
                dependencies=tuple(request.dependencies),
                ignored_changes=tuple(request.ignoreChanges),
            )
        )
        return response


class _Collected(logging.Handler):
    """Keeps the messages the program logs at warning level or above."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _program_logger(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"{__name__}.program")
    logger.handlers = [handler]
    logger.propagate = False
    return logger


def _resolve(value: Any) -> StackOutput:
    output = pulumi.Output.from_input(value)
    return StackOutput(
        value=pulumi_internals.wait_for(output.future()),
        secret=bool(pulumi_internals.wait_for(output.is_secret())),
    )


def recording_monitor(config: Mapping[str, str], placeholders: Placeholders) -> RecordingMonitor:
    """A monitor whose mocks answer for the stack's region (or the placeholder region)."""
    region = config.get(REGION_KEY) or placeholders.region
    return RecordingMonitor(PlaceholderMocks(placeholders, region))


class _ThreadLoops:
    """The event loops of one run: the main thread's and one per worker thread, all closed at
    the end.

    The SDK sends each registration and invoke to the mock monitor through the running loop's
    default executor (``run_in_executor(None, ...)`` in ``pulumi/runtime/resource.py`` and
    ``invoke.py``), and the mock monitor gives each worker thread an event loop of its own
    (``_ensure_event_loop`` in ``pulumi/runtime/mocks.py`` and ``sync_await.py``) that nothing
    closes. Left open, those loops are finalised at interpreter exit in whatever order the
    garbage collector picks; when a loop's self-pipe socket goes first, ``BaseEventLoop.__del__``
    prints "Exception ignored ... Invalid file descriptor: -1" after a successful ``plan``. So a
    run brings its own executor, gives each of its threads a loop it remembers, and closes them
    all once the threads have ended.
    """

    def __init__(self) -> None:
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.executor = ThreadPoolExecutor(initializer=self._give_thread_a_loop)

    def _give_thread_a_loop(self) -> None:
        self.loops.append(asyncio.new_event_loop())
        asyncio.set_event_loop(self.loops[-1])

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        for loop in self.loops:
            loop.close()


@contextmanager
def _event_loops() -> Iterator[None]:
    """A fresh main-thread loop and worker threads for one run; every loop closed afterwards."""
    threads = _ThreadLoops()
    main_loop = asyncio.new_event_loop()
    main_loop.set_default_executor(threads.executor)
    asyncio.set_event_loop(main_loop)
    try:
        yield
    finally:
        threads.close()
        main_loop.close()
        asyncio.set_event_loop(None)


def run_program(
    stack: str,
    config: Mapping[str, str],
    placeholders: Placeholders | None = None,
    program: Path = PROGRAM,
    monitor: RecordingMonitor | None = None,
    secret_keys: Iterable[str] = (),
) -> ProgramRun:
    """Run ``program`` for ``stack`` with ``config`` (full keys, string values) under mocks.

    Each call starts from a fresh stack, so runs in one process do not share exports. Whatever
    the program raises (``pulumi.RunError`` for bad configuration) propagates, or
    MissingEntryError when it stopped after creating a type with no entry; pass your own
    ``monitor`` (see ``recording_monitor``) to see what was registered before it did.
    """
    placeholders = placeholders or Placeholders()
    monitor = monitor or recording_monitor(config, placeholders)
    with _event_loops():
        try:
            return _run(stack, config, placeholders, program, monitor, secret_keys)
        except Exception as error:
            unlisted = monitor.mocks.unlisted_types
            if unlisted:
                # The program needed an output the stand-in placeholder lacks: the missing
                # entry is the cause worth naming, not the program's error that followed.
                raise MissingEntryError(entry_problem(unlisted[0])) from error
            raise


def _run(
    stack: str,
    config: Mapping[str, str],
    placeholders: Placeholders,
    program: Path,
    monitor: RecordingMonitor,
    secret_keys: Iterable[str],
) -> ProgramRun:
    mocks = monitor.mocks
    pulumi_internals.reset_root_stack()
    pulumi.runtime.set_all_config(dict(config), secret_keys=list(secret_keys))
    collected = _Collected()
    pulumi.runtime.set_mocks(
        mocks,
        project=PROJECT,
        stack=stack,
        preview=False,
        monitor=monitor,
        logger=_program_logger(collected),
    )
    if str(program.parent) not in sys.path:
        sys.path.insert(0, str(program.parent))
    pulumi_internals.run_program_function(lambda: runpy.run_path(str(program), run_name="__main__"))
    outputs = {name: _resolve(value) for name, value in pulumi_internals.stack_exports().items()}
    return ProgramRun(
        resources=list(monitor.recorded),
        outputs=outputs,
        placeholders=placeholders,
        warnings=collected.messages,
    )
