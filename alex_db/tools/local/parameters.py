"""Binding the Data API's ``SqlParameter`` list to PostgreSQL parameters.

Each ``Field`` member arrives with a fixed SQL type, which we write as a cast after the
placeholder so that PostgreSQL sees what Aurora's Data API sends: ``stringValue`` is a
``text`` (so a plain string into a ``uuid``, ``date`` or ``jsonb`` column fails there as it does on
AWS, and ``typeHint`` is the documented way to say otherwise; Serverless v2 says ``text`` where v1
said ``character varying``: "column "due_date" is of type timestamp without time zone but
expression is of type text", drizzle-team/drizzle-orm#2232, and "operator does not exist: uuid =
text", #2583, for a plain ``stringValue``, #5820), ``longValue`` a ``bigint``,
``doubleValue`` a ``double precision``, ``booleanValue`` a ``boolean``, ``blobValue`` a ``bytea``;
``isNull`` is an untyped NULL. ``typeHint`` applies to ``stringValue`` only (AWS's
``SqlParameter`` reference: "DATE ... sent as an object of DATE type", and so on).
Array parameters are refused: the model says "Array parameters are not supported."
(``ExecuteStatementRequest.parameters`` in ``botocore/data/rds-data/2018-08-01/service-2.json``).

A hinted value must be written the way the model documents for its hint (``SqlParameter.typeHint``:
DATE "The accepted format is YYYY-MM-DD", TIME "HH:MM:SS[.FFF]", TIMESTAMP "YYYY-MM-DD
HH:MM:SS[.FFF]", where AWS in fact reads up to nine fraction digits: ``_TIMESTAMP``), not the way
PostgreSQL's far more lenient input functions read it: they accept
``2026-07-22T02:17:21.804Z`` (and drop the zone), ``now``, ``tomorrow`` or ``Jan 2 2025``, which
AWS refuses, so code would pass here and break when deployed. UUID and DECIMAL have no documented
format; the Data API is Java (its metadata is pgjdbc's), so we accept what both Java's parsers
(``UUID.fromString``, ``BigDecimal``) and PostgreSQL accept in their plain forms: the canonical
8-4-4-4-12 hex UUID, and a decimal number with an optional exponent (no ``NaN``, ``Infinity``,
spaces or ``_`` separators). JSON is left to PostgreSQL, whose ``json`` input is strict RFC 8259.
AWS's error for a value outside these formats is not documented; the refusal is the one
PostgreSQL gives an invalid value of the type (``DatabaseErrorException``, as for any value
PostgreSQL itself refuses), so a value outside the format fails the way a value PostgreSQL cannot
read already does.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from alex_db.tools.local.errors import DataApiError, bad_request
from alex_db.tools.local.named_parameters import Rewritten, rewrite

TYPE_HINT_CASTS = {
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "DECIMAL": "numeric",
    "JSON": "json",
    "UUID": "uuid",
}
FIELD_CASTS = {
    "stringValue": "text",
    "longValue": "int8",
    "doubleValue": "float8",
    "booleanValue": "bool",
    "blobValue": "bytea",
}
_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_CLOCK = "[0-9]{2}:[0-9]{2}:[0-9]{2}"
# TIME: [.FFF], at most three fraction digits, as documented (sqlalchemy-aurora-data-api sends
# exactly three: "Three digit fractional second component ... This is what the data api requires").
_TIME = rf"{_CLOCK}(\.[0-9]{{1,3}})?"
# TIMESTAMP: up to nine. The model documents [.FFF], but drizzle-orm's suite, run on a live
# Serverless v2 cluster, sends "2022-01-01 00:00:00.123456" with this hint and reads it back whole
# ("all date and time columns" in integration-tests/tests/pg/awsdatapi.test.ts; the driver turns
# the ISO string's "T" into a space in toValueParam, drizzle-orm/src/aws-data-api/common/index.ts).
# So AWS reads more than three digits; the Data API is Java, and JDBC's Timestamp.valueOf takes
# "yyyy-[m]m-[d]d hh:mm:ss[.f...]" with at most nine ("Timestamp format must be yyyy-mm-dd
# hh:mm:ss[.fffffffff]": java.sql.Timestamp.valueOf in OpenJDK's
# src/java.sql/share/classes/java/sql/Timestamp.java). PostgreSQL, like pgjdbc, rounds to
# microseconds. The date part stays as documented (YYYY-MM-DD), and a zone, "T" or a word is
# refused as before.
_TIMESTAMP = rf"{_DATE} {_CLOCK}(\.[0-9]{{1,9}})?"
_HEX = "[0-9a-fA-F]"
# hint -> (format, PostgreSQL's SQLSTATE for invalid input). DATE and TIME as the model's
# SqlParameter.typeHint documents them, TIMESTAMP as AWS reads it (above); UUID and DECIMAL as both
# Java and PostgreSQL read.
HINT_FORMATS = {
    "DATE": (re.compile(_DATE), "22007"),
    "TIME": (re.compile(_TIME), "22007"),
    "TIMESTAMP": (re.compile(_TIMESTAMP), "22007"),
    "UUID": (re.compile(f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"), "22P02"),
    "DECIMAL": (re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"), "22P02"),
}
_CONTROL = {code: f"\\x{code:02x}" for code in range(32)} | {10: "\\n", 13: "\\r", 9: "\\t"}
LONG_RANGE = range(-(2**63), 2**63)
MAX_DOUBLE = sys.float_info.max
MEMBERS = ", ".join([*FIELD_CASTS, "isNull", "arrayValue"])


@dataclass(frozen=True)
class Bound:
    """SQL with ``$n`` placeholders and the values, in order."""

    rewritten: Rewritten
    values: tuple[object, ...]

    @property
    def sql(self) -> str:
        """What PostgreSQL runs: ``$n`` placeholders, each with its cast."""
        return self.rewritten.sql

    def position_in_statement(self, position: int) -> int:
        """PostgreSQL's error position in ``sql`` as it is in the statement Aurora's Data API
        would send: the same text with bare ``$n`` placeholders."""
        return self.rewritten.position_without_casts(position)


@dataclass(frozen=True)
class _Parameter:
    value: object
    cast: str


def bind(sql: str, parameters: Sequence[Mapping] | None) -> Bound:
    """``sql`` and ``parameters`` as PostgreSQL runs them, or a ``DataApiError`` naming the bad
    parameter."""
    if parameters is not None and not isinstance(parameters, list | tuple):
        raise bad_request("parameters must be a list of SqlParameter objects")
    by_name = {}
    for parameter in parameters or ():
        name, decoded = _decode(parameter)
        by_name[name] = decoded
    rewritten = rewrite(sql, lambda name: by_name[name].cast if name in by_name else "")
    missing = [name for name in rewritten.names if name not in by_name]
    if missing:
        raise DataApiError(
            "DatabaseErrorException",
            f"ERROR: No value specified for parameter :{missing[0]}; SQLState: 22023",
        )
    return Bound(rewritten, tuple(by_name[name].value for name in rewritten.names))


def _decode(parameter: Mapping) -> tuple[str, _Parameter]:
    if not isinstance(parameter, Mapping):
        raise bad_request("each parameter must be an object with name and value")
    name = parameter.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("each parameter needs a name (the :name in the SQL, without the colon)")
    label = _describe(name)
    value = parameter.get("value")
    if not isinstance(value, Mapping) or len(value) != 1:
        raise bad_request(f"parameter {label}: value must set exactly one of {MEMBERS}")
    ((member, raw),) = value.items()
    hint = parameter.get("typeHint")
    if hint is not None and (not isinstance(hint, str) or hint not in TYPE_HINT_CASTS):
        raise bad_request(
            f"parameter {label}: typeHint {hint!r} is not one of {', '.join(TYPE_HINT_CASTS)}"
        )
    if member == "isNull":
        if raw is not True:
            raise bad_request(f"parameter {label}: isNull must be true when given")
        return name, _Parameter(None, "")
    if member == "arrayValue":
        raise bad_request(f"parameter {label}: Array parameters are not supported.")
    if member not in FIELD_CASTS:
        raise bad_request(f"parameter {label}: unknown member {member!r}; use one of {MEMBERS}")
    decoded = _decode_member(label, member, raw)
    if hint and member == "stringValue":
        _check_hinted(hint, decoded)
        return name, _Parameter(decoded, f"::{TYPE_HINT_CASTS[hint]}")
    return name, _Parameter(decoded, f"::{FIELD_CASTS[member]}")


def _check_hinted(hint: str, text: str) -> None:
    """Refuse a hinted value that is not in its hint's format, as PostgreSQL refuses an invalid
    value of the type (one line: control characters are escaped)."""
    known = HINT_FORMATS.get(hint)
    if known is None or known[0].fullmatch(text):
        return
    _, sqlstate = known
    raise DataApiError(
        "DatabaseErrorException",
        f"ERROR: invalid input syntax for type {TYPE_HINT_CASTS[hint]}: "
        f'"{text.translate(_CONTROL)}"; SQLState: {sqlstate}',
    )


def _decode_member(label: str, member: str, raw: object) -> object:
    if member == "stringValue" and isinstance(raw, str):
        return raw
    if member == "booleanValue" and isinstance(raw, bool):
        return raw
    if member == "longValue" and type(raw) is int and raw in LONG_RANGE:
        return raw
    if member == "doubleValue" and type(raw) in (int, float) and abs(raw) <= MAX_DOUBLE:
        return float(raw)
    if member == "blobValue" and isinstance(raw, str):
        try:
            return base64.b64decode(raw, validate=True)
        except binascii.Error:
            pass
    raise bad_request(f"parameter {label}: {member} {_describe(raw)} is not a valid {member}")


def _describe(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."
