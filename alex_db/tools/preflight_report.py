"""The preflight report: exit codes, one check's outcome, and the whole run (text or JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum

from botocore.exceptions import BotoCoreError, ClientError

from alex_db.tools.aws_errors import one_line

# Calls that AWS may refuse or the emulator may not implement: each becomes "cannot tell".
READ_ERRORS = (ClientError, BotoCoreError, NotImplementedError)


class Exit(IntEnum):
    """Exit codes, one per kind of failure (README, "Before the first deploy")."""

    OK = 0
    OTHER = 1
    USAGE = 2
    CREDENTIALS = 3
    REGION = 4
    ENGINE = 5
    NETWORK = 6
    NAME_TAKEN = 7
    QUOTA = 8


PASS, FAIL, UNKNOWN = "ok", "fail", "unknown"
MARKS = {PASS: "✓", FAIL: "✗", UNKNOWN: "?"}


@dataclass
class Check:
    """The outcome of one check."""

    name: str
    status: str
    detail: str
    exit: Exit = Exit.OK

    def line(self) -> str:
        """The check as the user reads it."""
        return f"{MARKS[self.status]} {self.name}: {self.detail}"


def passed(name: str, detail: str) -> Check:
    """A check that found nothing in the way."""
    return Check(name, PASS, detail)


def failed(name: str, detail: str, exit_code: Exit) -> Check:
    """A check that found what would make ``pulumi up`` fail; ``detail`` says the fix."""
    return Check(name, FAIL, detail, exit_code)


def cannot_tell(name: str, error: Exception, permission: str) -> Check:
    """A read that AWS refused or the endpoint does not implement."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "error")
        reason = f"AWS answered {code}"
    elif isinstance(error, NotImplementedError):
        reason = "the endpoint does not implement the call"
    else:
        reason = f"AWS unreachable ({one_line(error)})"
    return Check(name, UNKNOWN, f"cannot tell: {reason}; the check needs {permission}")


def every_item(client, operation: str, result_key: str, **params) -> list[dict]:
    """Every item a Describe call returns, across pages: AWS may page any call botocore has a
    paginator for (NextToken, Marker), and a check that reads only the first page counts wrong."""
    pages = client.get_paginator(operation).paginate(**params)
    return [item for page in pages for item in page[result_key]]


@dataclass
class Report:
    """All checks, in order; the exit code is the first failure's."""

    stack: str
    region: str | None
    """None when the configuration was refused before a region was settled."""
    account: str | None = None
    checks: list[Check] = field(default_factory=list)

    @property
    def exit(self) -> Exit:
        """The first failing check's code, or OK."""
        return next((c.exit for c in self.checks if c.status == FAIL), Exit.OK)

    def as_json(self) -> str:
        """The machine-readable report."""
        return json.dumps(
            {
                "ok": self.exit == Exit.OK,
                "exit_code": int(self.exit),
                "stack": self.stack,
                "region": self.region,
                "account": self.account,
                "checks": [
                    {
                        "name": c.name,
                        "status": c.status,
                        "detail": c.detail,
                        "exit_code": int(c.exit),
                    }
                    for c in self.checks
                ],
            },
            indent=2,
        )
