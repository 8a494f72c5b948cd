"""The master password and the Secrets Manager secret that holds it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_random as random
from pulumi_aws import secretsmanager

from alex_db.config.naming import MASTER_USERNAME

PASSWORD_LENGTH = 32
# RDS refuses "/", "@", '"' and space in master passwords; leaving out quotes, backslash and
# backtick as well keeps the password intact in shells, JSON and connection strings.
PASSWORD_SPECIALS = "!#$%&*()-_=+[]{}<>:?"
SECRET_SUFFIX_BYTES = 4


@dataclass
class CredentialsArgs:
    """How to name and keep the database credentials."""

    secret_name_prefix: str
    """Secret name before the random hex suffix, e.g. ``alex-aurora-credentials``."""
    recovery_window_in_days: int = 0
    """Days a deleted secret can be restored; 0 (default) deletes at once so dev stacks can be
    recreated under the same name."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the secret. Default none."""
    protect: bool = False
    """Pulumi refuses to delete the secret while True. Default False."""
    kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed key for the secret. Default None: Secrets Manager's AWS-managed key.
    Changes in place (``kms_key_id`` is not ForceNew in terraform-provider-aws
    ``internal/service/secretsmanager/secret.go``: UpdateSecret)."""


class Credentials(pulumi.ComponentResource):
    """A generated master password and the (still empty) secret that will hold the credentials.

    The secret's value is written by the database component, because the RDS secret format
    includes the cluster's endpoint, which exists only once the cluster does.
    """

    username: str
    """The master user name."""
    password: pulumi.Output[str]
    """The generated master password, always a Pulumi secret."""
    secret_id: pulumi.Output[str]
    """The secret's id, for writing its value."""
    secret_arn: pulumi.Output[str]
    """The secret's ARN, for the Data API and IAM."""
    secret_name: pulumi.Output[str]
    """The secret's name, ``<prefix>-<8 hex>``."""

    def __init__(
        self, name: str, args: CredentialsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("alexdb:index:Credentials", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        password = random.RandomPassword(
            f"{name}-password",
            length=PASSWORD_LENGTH,
            special=True,
            override_special=PASSWORD_SPECIALS,
            opts=child,
        )
        # Secret regardless of how the provider marks it, so no code path can print it.
        self.password = pulumi.Output.secret(password.result)
        self.username = MASTER_USERNAME
        suffix = random.RandomId(f"{name}-suffix", byte_length=SECRET_SUFFIX_BYTES, opts=child)
        secret = secretsmanager.Secret(
            f"{name}-secret",
            name=suffix.hex.apply(lambda hex_suffix: f"{args.secret_name_prefix}-{hex_suffix}"),
            description="Master credentials of the Alex Aurora PostgreSQL cluster (RDS format)",
            recovery_window_in_days=args.recovery_window_in_days,
            kms_key_id=args.kms_key_arn,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.secret_id = secret.id
        self.secret_arn = secret.arn
        self.secret_name = secret.name
        self.register_outputs(
            {
                "secret_arn": self.secret_arn,
                "secret_name": self.secret_name,
                "username": self.username,
            }
        )
