"""The IAM roles the components create, made one way: named, described, trusted by one service,
tagged, and removable by ``pulumi destroy`` whatever was attached to them since."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_aws import iam

from alex_db.config.policy_documents import to_json


def create_role(
    name: str,
    *,
    role_name: str,
    description: str,
    trust_policy: dict,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> iam.Role:
    """A role ``trust_policy`` lets its service assume, a child of ``parent``.

    IAM refuses to delete a role that still has policies (DeleteConflict). Pulumi removes the
    attachments and inline policies it made before the role, but a policy someone attached by
    hand (a VPC-access policy on the Lambda role, say) would stop the destroy. With
    ``force_detach_policies`` the provider detaches and deletes every policy the role has before
    DeleteRole (terraform-provider-aws internal/service/iam/role.go, deleteRole: ``if forceDetach
    || hasManaged``). The argument is Optional with no ForceNew and no update call (role.go
    schema; resourceRoleUpdate does not look at it), so existing stacks take it in place."""
    return iam.Role(
        name,
        name=role_name,
        description=description,
        assume_role_policy=to_json(trust_policy),
        force_detach_policies=True,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
