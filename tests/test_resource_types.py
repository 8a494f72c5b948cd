"""Every resource type the program creates is written down everywhere it must be
(docs/developing.md, "Adding a resource type"): a placeholder in the offline runner's mocks, an
entry in the forces-replacement table, a tagging decision taken from the provider itself, and a
decision on what preflight does about its name.

The session's run with every optional part on (``everything``) stands for "what the program can
create"; a type
added to a component but missing from a list fails here, naming the list.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from alex_db.config.replacements import known_types, source
from alex_db.config.settings import BASE_TAGS, OWNER_TAG
from alex_db.tools.plan.document import physical_name
from alex_db.tools.preflight.names import NAME_CHECKS


@pytest.fixture(scope="module")
def by_type(dev, everything):
    """The custom resources of dev and of the stack with every optional part on, by type."""
    found: dict[str, list] = {}
    for resource in [*dev.resources, *everything.resources]:
        if resource.custom:
            found.setdefault(resource.type, []).append(resource)
    return found


def args_class(type_token: str) -> type:
    """The provider SDK's public ``<Name>Args`` class for a type token: ``aws:iam/role:Role`` ->
    ``pulumi_aws.iam.RoleArgs``; ``index`` is the package's top level."""
    package, path, name = type_token.split(":")
    module = path.split("/")[0]
    sdk = importlib.import_module(f"pulumi_{package}" + ("" if module == "index" else f".{module}"))
    return getattr(sdk, f"{name}Args")


def test_the_replacement_table_lists_exactly_the_types_the_program_creates(by_type):
    created = set(by_type)
    assert created - known_types() == set(), "add these to alex_db/config/data/replacements.json"
    assert known_types() - created == set(), "no configuration creates these table entries"
    for type_token in created:
        assert source(type_token).startswith("hashicorp/terraform-provider-"), type_token


def test_the_runner_has_placeholder_outputs_for_every_type(by_type):
    """The run above would have raised NotImplementedError for a type without placeholders;
    what the placeholders give must also look like AWS's (an id, and an ARN where AWS has one)."""
    for resources in by_type.values():
        for resource in resources:
            assert resource.resource_id, resource.urn
            arn = resource.outputs.get("arn")
            assert arn is None or arn.startswith("arn:aws:"), (resource.urn, arn)


def test_what_the_provider_can_tag_carries_the_tags_and_nothing_else_tries(by_type):
    """The tagging decision is the provider's: a type whose Args take ``tags`` gets the project
    tags and the owner tag (preflight reads ownership from it); one that takes none gets none."""
    for type_token, resources in by_type.items():
        taggable = "tags" in inspect.signature(args_class(type_token).__init__).parameters
        for resource in resources:
            tags = resource.inputs.get("tags")
            if taggable:
                stack = resource.urn.split("::")[0].split(":")[-1]
                assert tags == {**BASE_TAGS, OWNER_TAG: stack}, resource.urn
            else:
                assert tags is None, resource.urn


def test_preflight_decides_on_every_name_the_program_gives(by_type):
    """A created type with a name of its own is either checked by preflight or says why not
    (``tools/preflight/names.py``, NAME_CHECKS); a name nobody checks fails pulumi up with
    "already exists" halfway through a deploy."""
    named = {t for t, resources in by_type.items() if any(map(physical_name, resources))}
    assert named - NAME_CHECKS.keys() == set(), "add these to NAME_CHECKS in preflight/names.py"
    assert NAME_CHECKS.keys() - named == set(), "no configuration names these"
