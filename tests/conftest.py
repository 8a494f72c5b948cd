"""Shared fixtures: whole-program runs under Pulumi mocks (no CLI, no AWS)."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest

from alex_db.tools.plan.runner import Placeholders, ProgramRun, run_program

# moto fills every new EC2 backend (one per account and region, again after each `mock_aws` reset)
# with ~75,000 objects for its bundled AMIs and their snapshots: 0.14 s of CPU each time, most of
# test_preflight's cost. No code here reads an image; moto's documented switch skips them
# (moto/settings.py `ec2_load_default_amis`, read by moto/ec2/models/amis.py `_load_amis` at
# backend creation, so setting it before any backend exists covers every test and moto server).
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"

# The cyclic garbage collector cost about 6 s of the suite's 30 s of CPU: moto backends, botocore
# clients (one method object per operation) and Pulumi's SDK make hundreds of thousands of
# long-lived objects, and CPython's default thresholds (700, 10, 10) re-traverse them in a full
# collection every few hundred thousand allocations. Collecting less often changes when cyclic
# garbage is freed, never whether: tests that need it freed (test_plan's event-loop check) call
# gc.collect() themselves. https://docs.python.org/3/library/gc.html#gc.set_threshold
gc.set_threshold(50_000, 20, 20)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What every test module imported is alive for the whole session: move it out of the
    collector's generations so no later collection walks it again (gc.freeze, Python docs:
    "ignore them for any future collections"). Collect first so no garbage is frozen with it;
    gc.get_objects() no longer lists these, and nothing a test creates is among them."""
    gc.collect()
    gc.freeze()


# What tests/local_support.py's server_bin_dir skips with when the machine has no PostgreSQL.
NO_POSTGRES = "no PostgreSQL server on this machine"
INSTALL_POSTGRES = "`sudo apt-get install postgresql` (Debian, Ubuntu) or `brew install postgresql@15`"


def pytest_terminal_summary(terminalreporter) -> None:
    """Say loudly, as the run's last lines, that the ``alex-db local`` tests did not run for want
    of a PostgreSQL server: a skip reason alone hides in ``-rs`` output and the run looks green."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if NO_POSTGRES in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.section("alex-db local was NOT tested", sep="!", red=True, bold=True)
        terminalreporter.line(
            f"WARNING: {len(skipped)} tests of `alex-db local` were skipped: {NO_POSTGRES}. "
            f"Install one with {INSTALL_POSTGRES} and run make test again.",
            red=True,
            bold=True,
        )


@pytest.fixture(autouse=True, scope="session")
def one_botocore_loader():
    """Every botocore session in this test process reads service models through one loader.

    Each command makes its own boto3 Session, as it should once per process, and botocore gives
    every session a loader of its own (``botocore/session.py``, ``_register_data_loader`` calls
    ``create_loader``), which parses each service model again: the EC2 model alone is megabytes
    of JSON, and a test process runs preflight and check hundreds of times. The files and what
    they say are the same; only the parsing is shared. Subprocesses load their own, as a user's
    command does. boto3 appends its own data folder to a session's loader
    (``boto3/session.py``, ``_setup_loader``), so the shared list repeats that one folder; the
    loader's answers are cached by name and do not change."""
    loader = botocore.loaders.create_loader()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", lambda search_path=None: loader)
        yield loader


# Distinct, searchable values: if one of them shows up where it must not, a test says so.
PASSWORD_SENTINEL = "Sentinel-Pw-7f3a!c0ffee#only-in-secrets"
TEST_PLACEHOLDERS = Placeholders(
    account_id="123456789012",
    vpc_id="vpc-0default",
    vpc_cidr="172.31.0.0/16",
    subnet_ids=("subnet-0aaa", "subnet-0bbb", "subnet-0ccc"),
    random_hex="0a1b2c3d",
    password=PASSWORD_SENTINEL,
)
ROOT = Path(__file__).resolve().parent.parent
DEV_CONFIG = {"aws:region": "us-east-1", "alex-db:minCapacity": "0.5", "alex-db:maxCapacity": "1"}

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_ID = "random:index/randomId:RandomId"


def run(stack: str = "dev", **config: str) -> ProgramRun:
    """The whole program for ``stack`` with DEV_CONFIG plus ``config`` (keys without prefix
    are ``alex-db:`` keys)."""
    merged = dict(DEV_CONFIG)
    merged.update({(k if ":" in k else f"alex-db:{k}"): v for k, v in config.items()})
    return run_program(stack, merged, TEST_PLACEHOLDERS)


@pytest.fixture(scope="session")
def dev() -> ProgramRun:
    """One run of the program for stack ``dev`` with the repository's dev config."""
    return run("dev")


@pytest.fixture(scope="session")
def production() -> ProgramRun:
    """One run of the program for stack ``prod`` with ``production=true`` and nothing else: a
    new production stack that has not opted in to the customer-managed key."""
    return run("prod", production="true")


ALARM_TOPIC = "arn:aws:sns:us-east-1:123456789012:alex-alerts"


@pytest.fixture(scope="session")
def everything() -> ProgramRun:
    """Every optional resource at once: production with its own key, two readers, 1-8 ACU,
    daily backups copied to a second region, and the alarms."""
    return run(
        "prod",
        production="true",
        customerManagedKey="true",
        readers="2",
        maxCapacity="8",
        backupPlan="true",
        backupCopyRegion="us-west-2",
        alarmTopicArn=ALARM_TOPIC,
    )


# -- alex-db local: one real PostgreSQL for the whole session -----------------------------------


@pytest.fixture(scope="session")
def local_postgres():
    """A started LocalPostgres in a fresh data directory every user can enter (the server runs as
    'postgres' when the tests run as root). Skips only when no server binary exists at all."""
    from alex_db.tools.local.postgres import LocalPostgres
    from tests.local_support import reachable_folder, server_bin_dir

    bin_dir = server_bin_dir()
    with reachable_folder("alexdb-") as root:
        postgres = LocalPostgres(root / "data", bin_dir, durable=False)
        postgres.start()
        yield postgres
        postgres.stop()


@pytest.fixture(scope="module")
def served(local_postgres):
    """A Data API endpoint over the session's PostgreSQL for one module; its URL."""
    from tests.local_support import serving

    with serving(local_postgres) as (_, url):
        yield url


@pytest.fixture(scope="module")
def rds(served):
    """boto3's rds-data client on the module's endpoint."""
    from tests.local_support import rds_data_client

    return rds_data_client(served)
