"""Every command's exit codes: one table, one meaning each (docs/commands.md, "Exit codes").

0 is success, 2 bad input, 130 Ctrl-C, as shells expect; every other code names one kind of
failure and means the same in every command. A command returns only the codes that apply to it
(``plan`` never talks to AWS, so it has no use for 3-16); docs/commands.md says which.
"""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """One code per kind of outcome."""

    OK = 0
    FAILED = 1
    """A check failed in a way that has no code of its own (an AWS error nothing else covers)."""
    USAGE = 2
    """Bad input: a flag, a config value, a stack file, ``.env`` or an outputs file."""
    AWS_CONFIG = 3
    """The local AWS configuration cannot make a client: an unknown profile, a bad endpoint."""
    CREDENTIALS = 4
    """No AWS credentials, or AWS refused them."""
    ACCESS_DENIED = 5
    """The credentials work but may not make a call the command needs."""
    UNREACHABLE = 6
    """AWS did not answer in time, the connection failed, or the answer was not AWS's."""
    NOT_FOUND = 7
    ARN_MISMATCH = 8
    """AWS describes another resource than the ARN given (account, region, name)."""
    DATA_API_DISABLED = 9
    SECRET_UNUSABLE = 10
    """The secret is not JSON with a string ``username`` and ``password``."""
    STILL_RESUMING = 11
    """The cluster was still resuming from auto-pause when ``--wait`` ran out."""
    REGION = 12
    """The Data API is not offered in the region."""
    ENGINE = 13
    """The engine version cannot be created or upgraded to as configured."""
    NETWORK = 14
    """The VPC, subnets or security groups cannot hold the cluster."""
    NAME_TAKEN = 15
    """A physical name the stack would create belongs to something else."""
    QUOTA = 16
    """The account's RDS quota has no room for the cluster or its instances."""
    POSTGRES = 20
    """``local``: PostgreSQL could not be set up or started, or stopped on its own."""
    IN_USE = 21
    """``local``: another ``alex-db local`` already runs on the data directory."""
    INTERRUPTED = 130
    """Ctrl-C (128 + SIGINT, as shells report it)."""
