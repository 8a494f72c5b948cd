"""``:name`` placeholders, the Data API's parameter syntax, rewritten as PostgreSQL's ``$n``.

A colon starts a placeholder only in SQL text: never inside a string literal (``'...'``,
``E'...'`` with backslash escapes, ``$tag$...$tag$``), a quoted identifier (``"..."``) or a
comment (``--``, nested ``/* */``), and never as part of a ``::`` cast. The same name used twice
is the same ``$n``. Everything else is copied byte for byte.

What PostgreSQL receives is the SQL with each ``:name`` written ``$n`` and a cast after it; the
positions of those casts are kept so that a PostgreSQL error position can be told in the SQL with
bare ``$n`` placeholders, which is what Aurora's Data API sends (its JDBC driver sends the types
with the statement, not as casts in its text).
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
    casts: tuple[tuple[int, int], ...] = ()
    """(index in ``sql`` where an inserted cast starts, its length), in order."""

    def position_without_casts(self, position: int) -> int:
        """A 1-based character position in ``sql`` as it is in the same SQL without the casts
        (a position inside a cast becomes the end of its placeholder)."""
        shift = 0
        for start, length in self.casts:
            if start >= position - 1:
                break
            shift += min(length, position - 1 - start)
        return position - shift


def rewrite(sql: str, cast_for: Callable[[str], str] = lambda name: "") -> Rewritten:
    """``sql`` with each ``:name`` replaced by ``$n`` followed by ``cast_for(name)``."""
    names: list[str] = []
    out: list[str] = []
    casts: list[tuple[int, int]] = []
    size = 0  # characters in out
    i = 0
    while i < len(sql):
        skipped = _skip_quoted_or_comment(sql, i)
        if sql.startswith("::", i):
            skipped = i + 2
        name = _NAME.match(sql, i + 1) if skipped == i and sql[i] == ":" else None
        if name:
            if name.group() not in names:
                names.append(name.group())
            placeholder = f"${names.index(name.group()) + 1}"
            cast = cast_for(name.group())
            if cast:
                casts.append((size + len(placeholder), len(cast)))
            piece, i = placeholder + cast, name.end()
        else:
            end = max(skipped, i + 1)
            piece, i = sql[i:end], end
        out.append(piece)
        size += len(piece)
    return Rewritten("".join(out), tuple(names), tuple(casts))


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
