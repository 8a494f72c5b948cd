"""``:name`` placeholders, the Data API's parameter syntax, rewritten as PostgreSQL's ``$n``.

A colon starts a placeholder only in SQL text: never inside a string literal (``'...'``,
``E'...'`` with backslash escapes, ``$tag$...$tag$``), a quoted identifier (``"..."``) or a
comment (``--``, nested ``/* */``), and never as part of a ``::`` cast. The same name used twice
is the same ``$n``. Everything else is copied byte for byte.

A name is every ASCII letter, digit and underscore after the colon, as many as follow, so ``:10``
is the parameter named ``10``, never ``:1`` followed by ``0``. AWS accepts names that start with a
digit: drizzle-orm's ``aws-data-api/pg`` driver writes its placeholders ``:1``, ``:2``, … with
parameters named ``"1"``, ``"2"`` (``AwsPgDialect.escapeParam`` in
``drizzle-orm/src/aws-data-api/pg/driver.ts`` and ``name: `${index + 1}``` in ``session.ts``,
since drizzle-team/drizzle-orm commit cb431d8), and its suite ``integration-tests/tests/pg/
awsdatapi.test.ts`` runs on a live Aurora Serverless v2 cluster (``sst.aws.Postgres`` in
``integration-tests/sst.config.ts``, ``sst shell vitest`` in its ``test:data-api`` script);
sst/kysely-data-api's compiler starts at ``:0`` (``getCurrentParameterPlaceholder`` in
``src/data-api-query-compiler.ts``). Names that start with a letter or ``_`` are the documented
form. Nothing shows AWS mixing the two (``:1a``); reading the whole run as one name is the only
reading under which both forms are one rule.

What PostgreSQL receives is the SQL with each ``:name`` written ``$n`` and a cast after it; the
positions of those casts are kept so that a PostgreSQL error position can be told in the SQL with
bare ``$n`` placeholders, which is what Aurora's Data API sends (its JDBC driver sends the types
with the statement, not as casts in its text).

The rewrite is linear in the length of the SQL: a regular expression jumps to the next character
that can start something other than plain text, every literal and comment is skipped with one
search for its end, and a name's number is a dictionary lookup. (A list search per placeholder
made 13,000 names in 64 KiB of SQL cost seconds of CPU: issue 22.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z0-9_]+")
# PostgreSQL's scanner (src/backend/parser/scan.l, dolqdelim): a tag starts with
# [A-Za-z\200-\377_] and goes on with digits too; the \200-\377 bytes are every byte of a UTF-8
# character outside ASCII, so any such character counts as a letter.
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
# Where something other than plain SQL text may start: casts (skipped whole), a placeholder, a
# literal, a quoted identifier or a comment. A colon followed by neither is plain text.
_MAY_START = re.compile(r"""(?:::)+|:[A-Za-z0-9_]|['"$]|--|/\*""")
# The end of a block comment's level, or the start of a nested one.
_COMMENT_MARK = re.compile(r"/\*|\*/")
# The rest of a string literal after its opening quote, up to and with its closing quote: a
# doubled quote stands for one; in E'...' a backslash escapes the next character.
_PLAIN_BODY = re.compile(r"[^']*(?:''[^']*)*'?")
_ESCAPED_BODY = re.compile(r"[^'\\]*(?:(?:''|\\.)[^'\\]*)*\\?'?", re.DOTALL)
_IDENTIFIER_BODY = re.compile(r'[^"]*(?:""[^"]*)*"?')


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
    numbers: dict[str, int] = {}
    out: list[str] = []
    casts: list[tuple[int, int]] = []
    size = 0  # characters in out
    copied = 0  # sql[:copied] is in out
    position = 0
    while found := _MAY_START.search(sql, position):
        start = found.start()
        if found.group().startswith("::"):
            position = found.end()
            continue
        if sql[start] != ":":
            position = _after_literal_or_comment(sql, start)
            continue
        name = _NAME.match(sql, start + 1)
        placeholder = f"${numbers.setdefault(name.group(), len(numbers) + 1)}"
        cast = cast_for(name.group())
        text = sql[copied:start]
        if cast:
            casts.append((size + len(text) + len(placeholder), len(cast)))
        out += (text, placeholder, cast)
        size += len(text) + len(placeholder) + len(cast)
        copied = position = name.end()
    out.append(sql[copied:])
    return Rewritten("".join(out), tuple(numbers), tuple(casts))


def _after_literal_or_comment(sql: str, start: int) -> int:
    """The index just after the literal, quoted identifier or comment starting at ``start``
    (``start + 1`` when none starts there). An unterminated one runs to the end, as PostgreSQL
    reads it."""
    char = sql[start]
    if char == "'":
        escapes = start > 0 and sql[start - 1] in "eE" and not (
            start > 1 and _is_word(sql[start - 2])
        )
        return (_ESCAPED_BODY if escapes else _PLAIN_BODY).match(sql, start + 1).end()
    if char == '"':
        return _IDENTIFIER_BODY.match(sql, start + 1).end()
    if sql.startswith("--", start):
        end = sql.find("\n", start)
        return len(sql) if end < 0 else end + 1
    if sql.startswith("/*", start):
        return _end_of_block_comment(sql, start)
    if char == "$" and not (start > 0 and _is_word(sql[start - 1])):
        tag = _DOLLAR_TAG.match(sql, start)
        if tag:
            end = sql.find(tag.group(), tag.end())
            return len(sql) if end < 0 else end + len(tag.group())
    return start + 1


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _end_of_block_comment(sql: str, start: int) -> int:
    """Block comments nest in PostgreSQL: the end of the ``*/`` that closes the first level."""
    depth = 0
    for mark in _COMMENT_MARK.finditer(sql, start):
        depth += 1 if mark.group() == "/*" else -1
        if depth == 0:
            return mark.end()
    return len(sql)
