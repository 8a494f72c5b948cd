"""Setting variables in a Terraform ``.tfvars`` file without disturbing anything the user wrote.

Terraform reads a ``.tfvars`` file as an HCL native-syntax body of attributes (hashicorp/terraform
``internal/configs/parser.go``, LoadHCLFile; a name ending in ``.json`` is HCL's JSON syntax,
which is refused here). Updating one rewrites only the expression of each top-level attribute
being set, so the name, its spacing, the ``=`` and any comment after the value stay; every other
byte of the file stays as it was, and missing attributes are appended. To find where a top-level
attribute's expression ends, the file is read with HCL's lexical rules (hashicorp/hcl
``hclsyntax/spec.md``): quoted templates with their escapes and ``${ }``/``%{ }`` sequences,
heredocs ending at their marker alone on a line, ``#``/``//`` line comments and ``/* */``
comments, and brackets, inside which newlines do not end an attribute. A file those rules cannot
read to its end (an unclosed string, heredoc, comment or bracket), or that sets one of the names
twice (HCL's "Attribute redefined", ``hclsyntax/parser.go``), is refused: Terraform refuses it
too, and guessing could change what the user meant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alex_db.tools.shared import envfile

# hclsyntax/spec.md, Identifiers: ID_Start, then ID_Continue or '-'.
_NAME = re.compile(r"[^\W\d][\w-]*")
_SPACES = re.compile(r"[ \t]*")
# spec.md, Template Expressions: `<<` or `<<-`, an identifier, a newline.
_HEREDOC = re.compile(r"<<-?([^\W\d][\w-]*)\r?\n")
_OPENING = "([{"
_CLOSING = {")": "(", "]": "[", "}": "{"}


class TfvarsError(envfile.EnvFileError):
    """The file cannot be updated as promised (one line, prefixed with its name by the caller)."""


@dataclass(frozen=True)
class Attribute:
    """A top-level ``name = expression``: where its expression starts and ends."""

    name: str
    at: int
    """Where its name starts."""
    start: int
    end: int


def hcl_string(value: str) -> str:
    """``value`` as an HCL quoted string that reads back as exactly ``value``: ``\\`` and ``"``
    escaped, ``${`` and ``%{`` doubled so they open no interpolation or directive
    (hclsyntax/spec.md, Template Expressions and Template Literals), and control characters as
    ``\\uNNNN`` (a literal newline is not allowed in a quoted template)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("${", "$${").replace("%{", "%%{")
    return '"' + "".join(c if c.isprintable() else _escaped(c) for c in escaped) + '"'


def _escaped(char: str) -> str:
    """``\\uNNNN`` inside the Basic Multilingual Plane, ``\\UNNNNNNNN`` beyond it (spec.md)."""
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _line(text: str, at: int) -> int:
    """The line number of offset ``at``, counted only for a message (counting at every
    attribute would make a long file quadratic)."""
    return text.count("\n", 0, at) + 1


class _Reader:
    """One pass over the text with HCL's lexical rules, collecting the top-level attributes."""

    def __init__(self, text: str):
        self.text = text
        # A byte order mark (Windows editors save one) is not part of the first item: Terraform
        # reads the assignment after it (checked with Terraform 1.11's `terraform console`), so
        # missing it here would append a second one, which Terraform refuses.
        self.at = 1 if text.startswith("\ufeff") else 0

    def fail(self, what: str, at: int) -> TfvarsError:
        return TfvarsError(
            f"{what} at line {_line(self.text, at)}; HCL (and so Terraform) cannot read the "
            f"file: fix that part first"
        )

    def attributes(self) -> list[Attribute]:
        found = []
        while self.at < len(self.text):
            self.skip_blank()
            if self.at >= len(self.text):
                break
            name = _NAME.match(self.text, self.at)
            if name:
                after = _SPACES.match(self.text, name.end()).end()
                if self.text.startswith("=", after) and not self.text.startswith("==", after):
                    start = _SPACES.match(self.text, after + 1).end()
                    self.at = start
                    end = self.expression_end()
                    found.append(Attribute(name.group(), name.start(), start, end))
                    continue
            self.expression_end()  # a block or something else: skipped whole
        return found

    def skip_blank(self) -> None:
        """Past whitespace, newlines and comments between top-level items."""
        while self.at < len(self.text):
            if self.text[self.at] in " \t\r\n":
                self.at += 1
            elif not self.skip_comment():
                return

    def skip_comment(self) -> bool:
        """Past a comment that starts here (``#``, ``//`` or ``/* */``); False when none does."""
        if self.text.startswith(("#", "//"), self.at):
            self.skip_line_comment()
        elif self.text.startswith("/*", self.at):
            self.skip_block_comment()
        else:
            return False
        return True

    def skip_line_comment(self) -> None:
        end = self.text.find("\n", self.at)
        self.at = len(self.text) if end < 0 else end

    def skip_block_comment(self) -> None:
        end = self.text.find("*/", self.at + 2)
        if end < 0:
            raise self.fail("an unclosed comment (/* without */)", self.at)
        self.at = end + 2

    def expression_end(self) -> int:
        """Read one item to the newline that ends it; returns where its last token ends
        (trailing spaces and comments are not part of it)."""
        depth: list[str] = []
        last = self.at
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "\n" and not depth:
                return last
            if char in " \t\r\n":
                self.at += 1
            elif not self.skip_comment():
                self.token(depth)
                last = self.at
        if depth:
            raise self.fail(f"an unclosed bracket ({depth[-1]!r})", len(self.text))
        return last

    def token(self, depth: list[str]) -> None:
        char = self.text[self.at]
        heredoc = _HEREDOC.match(self.text, self.at)
        if char == '"':
            self.skip_quoted()
        elif heredoc:
            self.skip_heredoc(heredoc)
        elif char in _OPENING:
            depth.append(char)
            self.at += 1
        elif char in _CLOSING:
            if not depth or depth[-1] != _CLOSING[char]:
                raise self.fail(f"a closing bracket ({char!r}) that closes nothing open", self.at)
            depth.pop()
            self.at += 1
        else:
            self.at += 1

    def skip_quoted(self) -> None:
        """Past a quoted template: escapes, and ``${ }``/``%{ }`` holding whole expressions."""
        start = self.at
        self.at += 1
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == '"':
                self.at += 1
                return
            if char == "\n":
                break  # a quoted template cannot hold a literal newline
            if char == "\\":
                self.at += 2
            elif self.text.startswith(("$${", "%%{"), self.at):
                self.at += 3
            elif self.text.startswith(("${", "%{"), self.at):
                self.at += 2
                self.skip_template_sequence()
            else:
                self.at += 1
        raise self.fail("an unclosed string", start)

    def skip_template_sequence(self) -> None:
        """Past an interpolation or directive, up to and including its closing ``}``."""
        start = self.at
        depth = ["{"]
        while True:
            self.skip_blank()
            if self.at >= len(self.text):
                raise self.fail("an unclosed ${ or %{ sequence", start)
            self.token(depth)
            if not depth:
                return

    def skip_heredoc(self, opening: re.Match) -> None:
        """Past a heredoc: it ends at a line holding only its marker (spaces around it allowed,
        hclsyntax/scan_tokens.rl, heredocLiteralEOL)."""
        marker = opening.group(1)
        at = opening.end()
        while at < len(self.text):
            end = self.text.find("\n", at)
            line_end = len(self.text) if end < 0 else end
            line = self.text[at:line_end]
            if line.strip() == marker:
                self.at = at + len(line.rstrip())  # a CR before the newline is not the value's
                return
            at = line_end + 1
        raise self.fail(f"an unclosed heredoc (no line {marker!r} after <<{marker})", self.at)


def _attributes(text: str) -> list[Attribute]:
    """The top-level attributes of ``text``; a file whose ``${ }`` sequences nest deeper
    than Python's stack can follow is refused rather than guessed at."""
    try:
        return _Reader(text).attributes()
    except RecursionError:
        raise TfvarsError(
            "its strings and ${ } sequences are nested deeper than alex-db reads; set the two "
            "variables by hand"
        ) from None


def _top_level(text: str, names: Mapping[str, str]) -> dict[str, Attribute]:
    found: dict[str, Attribute] = {}
    for attribute in _attributes(text):
        if attribute.name not in names:
            continue
        if attribute.name in found:
            first, second = (_line(text, a.at) for a in (found[attribute.name], attribute))
            raise TfvarsError(
                f"{attribute.name} is set twice (lines {first} and {second}); Terraform "
                f"refuses that too (Attribute redefined): delete one"
            )
        found[attribute.name] = attribute
    return found


def assignments(text: str) -> dict[str, str]:
    """Every top-level attribute's expression, as written (the last one for a repeated name)."""
    return {a.name: text[a.start : a.end] for a in _attributes(text)}


def merge(text: str, updates: Mapping[str, str]) -> str:
    """``text`` with the expression of each top-level attribute in ``updates`` replaced by the
    value as an HCL string, and the attributes it lacked appended, in order."""
    found = _top_level(text, updates)
    merged = text
    for attribute in sorted(found.values(), key=lambda a: a.start, reverse=True):
        value = hcl_string(updates[attribute.name])
        merged = merged[: attribute.start] + value + merged[attribute.end :]
    missing = [name for name in updates if name not in found]
    newline = "\r\n" if "\r\n" in text else "\n"
    if missing and merged and not merged.endswith("\n"):
        merged += newline
    merged += "".join(f"{name} = {hcl_string(updates[name])}{newline}" for name in missing)
    # Read back with the same rules: each name set to exactly its value.
    written = assignments(merged)
    if {name: written.get(name) for name in updates} != {
        name: hcl_string(value) for name, value in updates.items()
    }:
        raise TfvarsError(
            "cannot update it without changing other values (its end is not where HCL's rules "
            "say a file ends); fix the file first"
        )
    return merged


def planned(path: Path, updates: Mapping[str, str]) -> str | None:
    """What the ``.tfvars`` file at ``path`` (or its symlink's target) would say afterwards, None
    when it needs no change; raises ``EnvFileError``/``OSError`` for one that must stay as it
    is."""
    if path.name.endswith(".json"):
        raise TfvarsError(
            "Terraform reads a variables file named *.json as JSON, which alex-db does not "
            "edit; give a .tfvars file"
        )
    before = envfile.read_existing(envfile.target_of(path))
    after = merge(before or "", updates)
    return None if after == before else after
