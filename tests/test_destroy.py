"""Issue 18 B: ``pulumi destroy`` completes for everything the program creates, and each profile
keeps what it promises: dev removes everything, production keeps the final snapshot, its key and
the backup vaults with their recovery points."""

from __future__ import annotations

import pytest

from alex_db.config.profile import DEV, PRODUCTION, profile_for
from alex_db.config.resource_types import RESOURCE_TYPES, forces_replacement
from alex_db.tools.plan.diff import diff_plans
from tests.conftest import ROLE, run
from tests.test_lifecycle import plan_of

VAULT = "aws:backup/vault:Vault"
KEY = "aws:kms/key:Key"
BACKUPS = {"backupPlan": "true", "backupCopyRegion": "us-west-2"}


@pytest.fixture(scope="module")
def dev_backed_up():
    """Stack dev, the dev profile, with the daily backup plan and its copy region."""
    return run("dev", **BACKUPS)


@pytest.fixture(scope="module")
def dev_switched_to_production():
    """The same stack after ``production: true``: the day a disposable stack is promoted."""
    return run("dev", production="true", **BACKUPS)


def test_dev_force_destroys_both_vaults_so_the_destroy_completes(dev_backed_up):
    vaults = dev_backed_up.of_type(VAULT)
    assert len(vaults) == 2, "the vault and the copy vault"
    for vault in vaults:
        assert vault.inputs["forceDestroy"] is True, vault.urn
        assert not vault.retain_on_delete, vault.urn


def test_production_keeps_both_vaults_and_their_recovery_points(dev_switched_to_production):
    vaults = dev_switched_to_production.of_type(VAULT)
    assert len(vaults) == 2
    for vault in vaults:
        assert vault.retain_on_delete, f"{vault.urn} must outlive the destroy"
        assert vault.inputs["forceDestroy"] is False, "a kept vault never loses its points"


def test_one_switch_decides_the_snapshot_the_key_and_the_vaults():
    """The final snapshot, the key that encrypts it and the vaults outlive a destroy together:
    a kept backup is useless without its key, a kept key is waste without what it encrypts."""
    assert PRODUCTION.keeps_data_on_destroy and not PRODUCTION.skip_final_snapshot
    assert not DEV.keeps_data_on_destroy and DEV.skip_final_snapshot
    # allowDeletion lifts the guards that stop a delete, never what the delete leaves behind.
    assert profile_for(production=True, allow_deletion=True).keeps_data_on_destroy


def test_promoting_a_stack_to_production_updates_its_vaults_in_place(
    dev_backed_up, dev_switched_to_production
):
    """forceDestroy is not ForceNew (backup/vault.go) and retain_on_delete is a Pulumi option:
    switching the profile of a running stack replaces nothing, vaults or otherwise."""
    assert "forceDestroy" not in forces_replacement(VAULT)
    changes = diff_plans(plan_of(dev_backed_up), plan_of(dev_switched_to_production))
    vault_changes = [change for change in changes if change.urn_type == VAULT]
    assert len(vault_changes) == 2
    for change in vault_changes:
        assert change.verdict == "updates in place", change.urn
        assert change.properties == ("forceDestroy",), change.urn
    assert not [c for c in changes if c.replaces or c.kind == "removed"], [
        c.urn for c in changes if c.replaces or c.kind == "removed"
    ]


def test_every_role_deletes_even_with_a_policy_attached_by_hand(dev_switched_to_production):
    """IAM refuses to delete a role with policies attached (DeleteConflict); Pulumi removes only
    the attachments it made. force_detach_policies changes in place (not ForceNew)."""
    roles = dev_switched_to_production.of_type(ROLE)
    assert {r.inputs["name"] for r in roles} == {
        "alex-lambda-aurora-role",
        "alex-aurora-monitoring-role",
        "alex-aurora-backup-role",
    }
    for role in roles:
        assert role.inputs["forceDetachPolicies"] is True, role.urn
    assert "forceDetachPolicies" not in forces_replacement(ROLE)


def test_every_destroy_answer_says_both_profiles_and_its_source():
    """That each created type has an answer is test_resource_types' one check of every entry."""
    for type_token, entry in RESOURCE_TYPES.items():
        answer = entry.on_destroy
        assert answer is None or (answer.dev and answer.production and answer.source), type_token


def test_production_keeps_the_key_of_what_it_keeps(everything):
    assert everything.one(KEY).retain_on_delete, "the kept snapshot and backups need their key"
    for vault in everything.of_type(VAULT):
        assert vault.retain_on_delete and vault.inputs["forceDestroy"] is False, vault.urn


def test_a_stack_from_before_this_version_takes_the_destroy_settings_in_place(everything):
    """What this version adds to running resources (forceDestroy on the vaults,
    forceDetachPolicies on the roles) arrives as updates in place on the next `pulumi up`,
    which must run before a destroy: both are read from the state at delete."""
    import copy

    new = plan_of(everything, "prod")
    old = copy.deepcopy(new)
    for resource in old["resources"]:
        if resource["type"] == VAULT:
            del resource["inputs"]["forceDestroy"]
        if resource["type"] == ROLE:
            del resource["inputs"]["forceDetachPolicies"]
    changes = diff_plans(old, new)
    assert {c.urn_type for c in changes} == {VAULT, ROLE}
    assert len(changes) == 5, "two vaults, three roles"
    for change in changes:
        assert change.verdict == "updates in place", change.urn
