"""``--pause-after``: auto-pause emulation, and ``check`` waiting it out (a hand-moved clock)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from alex_db.tools.deployed.check import run_local_checks
from alex_db.tools.deployed.locate import Target
from alex_db.tools.local.service import RESUME_SECONDS
from alex_db.tools.shared.exits import Exit
from alex_db.tools.shared.local_identity import CLUSTER_ARN, SECRET_ARN
from tests.local_support import IN_ALEX, TARGET, TEST_KEY, FakeClock, rds_data_client, serving

PAUSE_AFTER = 300.0


def code_of(call) -> str | None:
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


@pytest.fixture
def paused_setup(local_postgres):
    clock = FakeClock()
    with serving(local_postgres, clock=clock, pause_after=PAUSE_AFTER) as (_, url):
        yield clock, rds_data_client(url), url


def test_after_the_idle_time_calls_get_resuming_for_a_few_seconds_then_succeed(paused_setup):
    clock, rds, _ = paused_setup
    select = lambda: rds.execute_statement(sql="SELECT 1", **IN_ALEX)  # noqa: E731
    assert code_of(select) is None
    clock.advance(PAUSE_AFTER - 1)
    assert code_of(select) is None  # busy again: the idle time starts over
    clock.advance(PAUSE_AFTER)
    assert code_of(select) == "DatabaseResumingException"
    clock.advance(RESUME_SECONDS - 1)
    assert code_of(select) == "DatabaseResumingException"
    clock.advance(1)
    assert code_of(select) is None


def test_an_open_transaction_keeps_the_database_awake(local_postgres):
    clock = FakeClock()
    # Shorter than the 3-minute transaction timeout, or the transaction would end first.
    with serving(local_postgres, clock=clock, pause_after=60) as (_, url):
        rds = rds_data_client(url)
        transaction = rds.begin_transaction(**IN_ALEX)["transactionId"]
        clock.advance(61)
        select = lambda: rds.execute_statement(sql="SELECT 1", **IN_ALEX)  # noqa: E731
        assert code_of(select) is None
        rds.rollback_transaction(**TARGET, transactionId=transaction)
        clock.advance(61)
        assert code_of(select) == "DatabaseResumingException"


def test_without_pause_after_the_database_never_pauses(local_postgres):
    clock = FakeClock()
    with serving(local_postgres, clock=clock) as (_, url):
        rds = rds_data_client(url)
        clock.advance(10**6)
        assert rds.execute_statement(sql="SELECT 1", **IN_ALEX)["records"]


def test_check_waits_out_the_resume_against_thelocal_endpoint(paused_setup):
    import boto3

    clock, _, url = paused_setup
    clock.advance(PAUSE_AFTER + 1)
    lines = []
    report = run_local_checks(
        boto3.Session(),
        Target(CLUSTER_ARN, SECRET_ARN, "alex", "us-east-1"),
        url,
        {"aws_access_key_id": TEST_KEY.key_id, "aws_secret_access_key": TEST_KEY.secret},
        wait_seconds=60,
        sleep=clock.advance,
        clock=clock,
        progress=lines.append,
    )
    assert report.exit == Exit.OK
    assert [step.name for step in report.steps] == ["Data API"]
    assert report.facts["version"].startswith("PostgreSQL ")
    assert any("resuming from auto-pause" in line for line in lines)
    assert "the cluster and secret steps are skipped" in lines[0]
