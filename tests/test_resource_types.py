"""Every resource type the program creates has one entry in ``alex_db/config/resource_types.py``
(docs/developing.md, "Adding a resource type"), and each fact in it agrees with the program and
the provider: placeholder outputs that look like AWS's, the forces-replacement inputs with their
source, the tagging decision taken from the provider itself, and what preflight does about the
name.

The session's run with every optional part on (``everything``) stands for "what the program can
create". A missing or incomplete entry fails one test here,
``test_every_type_the_program_creates_has_a_complete_entry``, with one line saying what to add
where; the others judge the entries that exist.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import re

import pytest

from alex_db.config.resource_types import (
    RESOURCE_TYPES,
    UNNAMED,
    NameCheck,
    entry_problem,
    missing_facts,
)
from alex_db.config.settings import BASE_TAGS, OWNER_TAG
from alex_db.tools import cli
from alex_db.tools.plan import runner
from alex_db.tools.plan.document import physical_name
from alex_db.tools.preflight.clients import SERVICES
from alex_db.tools.preflight.names import NAME_CHECKS, NOT_FOUND_CODES
from alex_db.tools.shared.exits import Exit
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def by_type(dev, everything):
    """The custom resources of dev and of the stack with every optional part on, by type."""
    found: dict[str, list] = {}
    for resource in [*dev.resources, *everything.resources]:
        if resource.custom:
            found.setdefault(resource.type, []).append(resource)
    return found


@pytest.fixture(scope="module")
def listed(by_type):
    """The created types that have an entry (the one test below names those that do not)."""
    return {t: resources for t, resources in by_type.items() if t in RESOURCE_TYPES}


def args_class(type_token: str) -> type:
    """The provider SDK's public ``<Name>Args`` class for a type token: ``aws:iam/role:Role`` ->
    ``pulumi_aws.iam.RoleArgs``; ``index`` is the package's top level."""
    package, path, name = type_token.split(":")
    module = path.split("/")[0]
    sdk = importlib.import_module(f"pulumi_{package}" + ("" if module == "index" else f".{module}"))
    return getattr(sdk, f"{name}Args")


def test_every_type_the_program_creates_has_a_complete_entry(dev, everything):
    problems = [*dev.entry_problems(), *everything.entry_problems()]
    assert not problems, "\n".join(dict.fromkeys(problems))
    assert [*dev.entry_problems(), *everything.entry_problems()] == []


def test_every_entry_is_for_a_type_some_configuration_creates(by_type):
    assert RESOURCE_TYPES.keys() - by_type.keys() == set(), "no configuration creates these"


def test_a_missing_entry_and_a_missing_fact_are_one_line_each_naming_the_place():
    unlisted = entry_problem("aws:sqs/queue:Queue")
    assert unlisted == (
        "resource type aws:sqs/queue:Queue has no entry: add ResourceType(placeholder, "
        "replacement, on_destroy, name_check, tagged) for it to RESOURCE_TYPES in "
        "alex_db/config/resource_types.py (docs/developing.md, Adding a resource type)"
    )
    assert missing_facts("aws:rds/cluster:Cluster") == []
    assert entry_problem("aws:rds/cluster:Cluster") is None


# The program plus a type with no entry, whose outputs nothing reads (tests/test_offline.py has
# one that stops for want of an output).
NEW_TYPE = """
__import__("pulumi_aws").sqs.Queue("alex-unlisted", name="alex-unlisted", tags=settings.tags)
"""


def test_plan_warns_of_a_type_without_an_entry_in_one_line(tmp_path, monkeypatch, capsys):
    """What a contributor sees who adds a type and forgets its entry: one line, no traceback,
    and the plan of the rest, the new type's values being the runner's stand-ins (so the other
    plan tests keep running while the one test above names the gap)."""
    program = tmp_path / "__main__.py"
    program.write_text((ROOT / "__main__.py").read_text() + NEW_TYPE)
    monkeypatch.setattr(runner, "run_program", functools.partial(runner.run_program, program=program))
    assert cli.main(["plan", "--stack", "dev"]) == Exit.OK
    out, err = capsys.readouterr()
    assert "aws:sqs/queue:Queue" in out
    problem = entry_problem("aws:sqs/queue:Queue")
    assert err.splitlines()[0] == f"alex-db plan: warning: {problem}"
    assert "Traceback" not in err


def test_the_placeholders_look_like_aws_answers(listed):
    """The run would have used the stand-in for a type without placeholders; what an entry's
    placeholders give must also look like AWS's (an id, and an ARN where AWS has one)."""
    for resources in listed.values():
        for resource in resources:
            assert resource.resource_id, resource.urn
            arn = resource.outputs.get("arn")
            assert arn is None or arn.startswith("arn:aws:"), (resource.urn, arn)
            assert "{" not in resource.resource_id + str(arn), (resource.urn, "unfilled template")


def test_every_replacement_entry_names_the_provider_source_it_was_read_from():
    for type_token, entry in RESOURCE_TYPES.items():
        if entry.replacement is not None:
            assert entry.replacement.source.startswith("hashicorp/terraform-provider-"), type_token
            assert entry.replacement.inputs, type_token


def test_the_tagging_decision_is_the_providers_and_the_program_follows_it(listed):
    """A type whose Args take ``tags`` is ``tagged`` and gets the project tags and the owner tag
    (preflight reads ownership from it); one that takes none is not and gets none."""
    for type_token, resources in listed.items():
        taggable = "tags" in inspect.signature(args_class(type_token).__init__).parameters
        tagged = RESOURCE_TYPES[type_token].tagged
        assert tagged in (taggable, None), f"{type_token}: the provider says tagged={taggable}"
        for resource in resources:
            tags = resource.inputs.get("tags")
            if taggable:
                stack = resource.urn.split("::")[0].split(":")[-1]
                assert tags == {**BASE_TAGS, OWNER_TAG: stack}, resource.urn
            else:
                assert tags is None, resource.urn


def test_preflight_decides_on_every_name_the_program_gives(listed):
    """A created type with a name of its own is either checked by preflight or says why not; a
    name nobody checks fails pulumi up with "already exists" halfway through a deploy. A type
    without a name says so (UNNAMED)."""
    for type_token, resources in listed.items():
        named = any(map(physical_name, resources))
        check = RESOURCE_TYPES[type_token].name_check
        if check is None:
            continue
        assert (check != UNNAMED) == named, f"{type_token}: named={named}, entry says {check!r}"
        assert (type_token in NAME_CHECKS) == named, type_token


def test_preflight_reads_with_every_service_and_code_the_name_checks_need():
    checks = [e.name_check for e in RESOURCE_TYPES.values() if isinstance(e.name_check, NameCheck)]
    assert {check.service for check in checks} <= set(SERVICES)
    assert set().union(*(check.not_found for check in checks)) == NOT_FOUND_CODES


def test_the_readmes_component_table_lists_every_component(dev, everything):
    """Step 5 of the checklist: the README's table names each component the program can build."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| component (`alexdb:index:…`) |", 1)[1].splitlines()[2:]
    rows = [line for line in itertools.takewhile(lambda line: line.startswith("|"), table)]
    documented = {re.match(r"\| `(\w+)`", row).group(1) for row in rows}
    built = {r.type.split(":")[-1] for r in [*dev.resources, *everything.resources] if not r.custom}
    assert documented == built, "the README's component table (What it deploys) and the program"
