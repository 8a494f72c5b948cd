"""What ``check`` and ``preflight`` print: steps, each one line for people, and the same facts as
one JSON document for machines (``--json``). The exit code is the first failing step's."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from alex_db.tools.shared.exits import Exit

PASS, FAIL, UNKNOWN, SKIPPED = "ok", "fail", "unknown", "skipped"
MARKS = {PASS: "✓", FAIL: "✗", UNKNOWN: "?", SKIPPED: "-"}


def printable(text: object) -> str:
    """``text`` with every control character escaped (``\\n``, ``\\x1b``): a value from AWS
    cannot start a line of its own or move the cursor."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


@dataclass
class Step:
    """The outcome of one step."""

    name: str
    status: str
    detail: str
    exit: Exit = Exit.OK

    @property
    def ok(self) -> bool:
        """Whether the step passed."""
        return self.status == PASS

    def line(self) -> str:
        """The step as the user reads it."""
        return f"{MARKS[self.status]} {printable(self.name)}: {printable(self.detail)}"

    def as_dict(self) -> dict:
        """The step in the ``--json`` report."""
        return {
            "name": self.name,
            "status": self.status,
            "ok": self.ok,
            "detail": self.detail,
            "exit_code": int(self.exit),
        }


def passed(name: str, detail: str) -> Step:
    """A step that found nothing wrong."""
    return Step(name, PASS, detail)


def failed(name: str, detail: str, exit_code: Exit) -> Step:
    """A step that found a problem; ``detail`` says what to do about it."""
    return Step(name, FAIL, detail, exit_code)


def unknown(name: str, detail: str) -> Step:
    """A step that could not tell (AWS refused the read, or the endpoint lacks the call)."""
    return Step(name, UNKNOWN, detail)


def skipped(name: str, because: str) -> Step:
    """A step that did not run because an earlier one failed."""
    return Step(name, SKIPPED, f"skipped ({because})")


@dataclass
class Report:
    """All steps, in order, and the command's own facts (the target, the stack, the account)."""

    facts: dict[str, object]
    steps: list[Step] = field(default_factory=list)

    @property
    def exit(self) -> Exit:
        """The first failing step's code, or OK."""
        return next((s.exit for s in self.steps if s.status == FAIL), Exit.OK)

    def as_json(self) -> str:
        """The machine-readable report: ``ok``, ``exit_code``, the facts, then the steps."""
        return json.dumps(
            {
                "ok": self.exit == Exit.OK,
                "exit_code": int(self.exit),
                **self.facts,
                "steps": [step.as_dict() for step in self.steps],
            },
            indent=2,
        )

    def print(self, as_json: bool) -> int:
        """The JSON document, or one line per step; returns the exit code."""
        if as_json:
            print(self.as_json())
        else:
            for step in self.steps:
                print(step.line(), flush=True)
        return int(self.exit)
