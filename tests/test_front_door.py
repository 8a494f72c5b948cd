"""Issue 25 item 5: the front door as a new user meets it. ``make plan`` takes flags, ``plan
--diff`` reads as a person would (the monthly estimate on a line of its own, multi-line outputs
as lines, egress rules in words), a plan ends with the next command, and a run of the suite
without PostgreSQL says so loudly."""

from __future__ import annotations

import os
import subprocess

import pytest

from alex_db.tools.cli import main
from alex_db.tools.plan import text
from tests.conftest import ROOT

pytest_plugins = ["pytester"]


def make_plan(*args: str) -> subprocess.CompletedProcess:
    """``make -s plan ARGS=...`` in the checkout, as a user types it (the outer make's flags
    removed, so this one starts clean under ``make test``)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "plan", f"ARGS={' '.join(args)}"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def dev_plan_file(tmp_path_factory) -> str:
    """``plan --json`` of stack dev, saved as a user saves it before a change."""
    path = tmp_path_factory.mktemp("plans") / "before.json"
    with pytest.MonkeyPatch.context() as patch, open(path, "w") as out:
        patch.setattr("sys.stdout", out)
        assert main(["plan", "--json"]) == 0
    return str(path)


def test_make_plan_passes_flags_and_the_diff_reads_as_a_person_would(dev_plan_file):
    result = make_plan(
        "--config", "minCapacity=0", "--config", "production=true", "--diff", dev_plan_file
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # the cost change on a line of its own, first
    assert lines[0] == "monthly estimate: $43.80 -> $0.00 (compute at minimum capacity, per month)"
    # the egress rule in words, as the security group changes
    assert "    egress: all traffic to 0.0.0.0/0 -> none" in lines
    # setup_instructions as a block of lines, its cost line changed, not one escaped string
    start = lines.index("    setup_instructions:")
    block = lines[start + 1 : start + 12]
    assert any(line.startswith("      -Capacity:  0.5-1 ACU; about $43.80/month") for line in block)
    assert any(line.startswith("      +Capacity:  0-1 ACU; about $0.00/month") for line in block)
    assert not any("\\n" in line for line in lines), "an escaped multi-line string"
    # and the next command to run
    assert lines[-1].startswith("Next: alex-db preflight --stack dev ")
    assert "pulumi up --stack dev" in lines[-1]


def test_an_unchanged_estimate_gets_no_line_and_an_unchanged_plan_no_next_step(
    capsys, dev_plan_file
):
    assert main(["plan", "--config", "readers=0", "--diff", dev_plan_file]) == 0
    assert capsys.readouterr().out == "No changes.\n"
    assert main(["plan", "--config", "tags={\"team\": \"data\"}", "--diff", dev_plan_file]) == 0
    out = capsys.readouterr().out
    assert "monthly estimate" not in out and "updates in place" in out


def test_the_plan_ends_with_the_next_command(capsys):
    assert main(["plan", "--stack", "prod"]) == 0
    last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    assert last.startswith("Next: alex-db preflight --stack prod (")
    assert last.endswith("then pulumi up --stack prod to deploy it")


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}, "all traffic to 0.0.0.0/0"),
        ({"protocol": "all", "cidrBlocks": ["10.0.0.0/8"], "ipv6CidrBlocks": ["::/0"]}, "all traffic to 10.0.0.0/8, ::/0"),
        ({"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}, "TCP port 443 to 0.0.0.0/0"),
        ({"protocol": "6", "fromPort": 1024.0, "toPort": 65535.0, "prefixListIds": ["pl-1"]}, "TCP ports 1024-65535 to pl-1"),
        ({"protocol": "17", "fromPort": 53, "toPort": 53, "securityGroups": ["sg-1"]}, "UDP port 53 to sg-1"),
        # AWS ignores the port range of any other protocol number (EC2 IpPermission.IpProtocol)
        ({"protocol": "47", "fromPort": 1, "toPort": 2, "cidrBlocks": ["10.0.0.0/8"]}, "protocol 47, all ports to 10.0.0.0/8"),
        ({"protocol": "-1"}, "all traffic to nowhere"),
    ],
)
def test_egress_rules_read_as_a_person_would(rule, words):
    assert text.egress_rule(rule) == words


SKIPS_LIKE_A_MACHINE_WITHOUT_POSTGRES = """
import pytest
from alex_db.tools.local import postgres
from tests.local_support import server_bin_dir


def no_server(path_lookup=None):
    raise postgres.LocalPostgresError("no PostgreSQL server found")


@pytest.fixture
def bin_dir(monkeypatch):
    monkeypatch.setattr(postgres, "find_bin_dir", no_server)
    return server_bin_dir()


def test_one(bin_dir):
    pass


def test_two(bin_dir):
    pass


def test_unrelated():
    pytest.skip("not today")
"""


def test_a_run_without_postgresql_ends_with_a_loud_warning(pytester):
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    pytester.makepyfile(test_local=SKIPS_LIKE_A_MACHINE_WITHOUT_POSTGRES)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=3)
    tail = result.outlines[-5:]
    assert any("alex-db local was NOT tested" in line for line in tail), tail
    assert any(
        line.startswith("WARNING: 2 tests of `alex-db local` were skipped: no PostgreSQL server")
        and "sudo apt-get install postgresql" in line
        and "brew install postgresql@15" in line
        for line in tail
    ), tail


def test_a_run_with_postgresql_or_other_skips_has_no_such_warning(pytester):
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    pytester.makepyfile(test_other="import pytest\n\ndef test_x():\n    pytest.skip('not today')\n")
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    assert "NOT tested" not in result.stdout.str()


def test_the_readme_names_the_postgresql_prerequisite_of_make_test():
    readme = (ROOT / "README.md").read_text()
    setup = readme[readme.index("## Set-up") : readme.index("## What it deploys")]
    assert "`sudo apt-get install postgresql`" in setup
    assert "`brew install postgresql@15`" in setup
    assert "`make test`" in setup
