"""``:name`` placeholders, the Data API's parameter syntax, rewritten as PostgreSQL's ``$n``.

A colon starts a placeholder only in SQL text: never inside a string literal (``'...'``,
``E'...'`` with backslash escapes, ``$tag$...$tag$``), a quoted identifier (``"..."``) or a
comment (``--``, nested ``/* */``), and never as part of a ``::`` cast. The same name used twice
is the same ``$n``. Everything else is copied byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True)
class Rewritten:
    """The SQL with ``$n`` placeholders, and the parameter name for each ``n`` (1-based)."""

    sql: str
    names: tuple[str, ...]


def rewrite(sql: str, cast_for: Callable[[str], str] = lambda name: "") -> Rewritten:
    """``sql`` with each ``:name`` replaced by ``$n`` followed by ``cast_for(name)``."""
    names: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(sql):
        skipped = _skip_quoted_or_comment(sql, i)
        if skipped > i:
            out.append(sql[i:skipped])
            i = skipped
            continue
        char = sql[i]
        if char == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
            continue
        name = _NAME.match(sql, i + 1) if char == ":" else None
        if name:
            if name.group() not in names:
                names.append(name.group())
            out.append(f"${names.index(name.group()) + 1}{cast_for(name.group())}")
            i = name.end()
            continue
        out.append(char)
        i += 1
    return Rewritten("".join(out), tuple(names))


def _skip_quoted_or_comment(sql: str, i: int) -> int:
    """The index just after the literal, quoted identifier or comment starting at ``i`` (``i``
    itself when none starts there). An unterminated one runs to the end, as PostgreSQL reads it."""
    char = sql[i]
    if char == "'":
        escapes = i > 0 and sql[i - 1] in "eE" and not (i > 1 and _is_word(sql[i - 2]))
        return _end_of_quoted(sql, i, "'", backslash=escapes)
    if char == '"':
        return _end_of_quoted(sql, i, '"', backslash=False)
    if sql.startswith("--", i):
        end = sql.find("\n", i)
        return len(sql) if end < 0 else end + 1
    if sql.startswith("/*", i):
        return _end_of_block_comment(sql, i)
    if char == "$":
        tag = _DOLLAR_TAG.match(sql, i)
        if tag and not (i > 0 and _is_word(sql[i - 1])):
            end = sql.find(tag.group(), tag.end())
            return len(sql) if end < 0 else end + len(tag.group())
    return i


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _end_of_quoted(sql: str, start: int, quote: str, backslash: bool) -> int:
    i = start + 1
    while i < len(sql):
        if backslash and sql[i] == "\\":
            i += 2
            continue
        if sql[i] == quote:
            if sql.startswith(quote * 2, i):
                i += 2
                continue
            return i + 1
        i += 1
    return len(sql)


def _end_of_block_comment(sql: str, start: int) -> int:
    depth = 0
    i = start
    while i < len(sql):
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(sql)
