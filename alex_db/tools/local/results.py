"""Rows out: PostgreSQL values as the Data API returns them.

AWS's mapping for Aurora PostgreSQL (Aurora User Guide, "Amazon RDS Data API operations reference",
supported types): ``bool`` and one-bit ``bit`` -> ``booleanValue``; ``int2``/``int4``/``int8`` ->
``longValue``; ``float4``/``float8`` -> ``doubleValue``; ``bytea`` -> ``blobValue``; ``numeric``,
``uuid``, ``json``/``jsonb``, dates, times, timestamps and every other type -> ``stringValue`` in
PostgreSQL's own text form (timestamps ``YYYY-MM-DD HH:MM:SS[.ffffff]``, the session being UTC);
one-dimensional arrays -> ``arrayValue``; NULL -> ``isNull``. A multidimensional array is the
model's ``UnsupportedResultException``, and so are monetary and geometric types and arrays of them
or of ``bytea`` ("It also doesn't support certain PostgreSQL data types, including geometric and
monetary types ... ``UnsupportedResultException: The result contains the unsupported data type
data_type``": Aurora User Guide, "Comparing Amazon RDS Data API behaviors for Aurora Serverless v2
and provisioned clusters with Aurora Serverless v1 clusters"; ``bytea[]`` is not in its list of
supported array types). The same refusal meets the types AWS leaves out of its supported list
("Amazon RDS Data API operations reference") that clients have met on Serverless v2: ``macaddr``,
``int8range``, ``daterange`` and ``tsrange`` (data-api-client's live-Aurora suite,
``integration-tests/postgres.int.test.ts``, "Known Data API Limitations", where ``int4range`` and
``numrange`` results pass, so ranges are not refused as a family), ``regclass``
(drizzle-team/drizzle-orm#2982: "The result contains the unsupported data type regclass."),
``regtype`` (typeorm/typeorm#10818) and the catalogs' one-byte ``"char"`` (drizzle-team/drizzle-orm
#3273 and #4672, sst/kysely-data-api#38: "The result contains the unsupported data type "CHAR"."),
which AWS names ``"CHAR"``. The messages quoted there end with a period.

``json`` and ``jsonb`` come back compact on Serverless v2 (``{"x":0}``, where PostgreSQL writes
``{"x": 0}``): aurora-data-api's live suite expects ``'{"x":0,"y":"0","z":[0,0,1]}'`` from a
``jsonb`` column ("data api v1 used JSON serialization with extra whitespace; v2 uses compact
serialization", ``test/base.py``). Only the whitespace between tokens goes; strings, numbers and key
order stay as PostgreSQL wrote them. ``formattedRecords`` carries the same text (its values are the
``Field`` values unboxed, ``plain``).

So psycopg is told to parse only the types that have a typed ``Field`` member and to hand over
everything else as the text PostgreSQL sent, which keeps ``numeric`` scale, JSON's numbers and
timestamp precision exactly as the server wrote them.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import psycopg
from psycopg import postgres
from psycopg.types.string import TextLoader

from alex_db.tools.local.errors import DataApiError

PARSED_TYPES = frozenset({"bool", "int2", "int4", "int8", "oid", "float4", "float8", "bytea"})
ARRAY_MEMBERS = {
    "bool": "booleanValues",
    "int2": "longValues",
    "int4": "longValues",
    "int8": "longValues",
    "oid": "longValues",
    "float4": "doubleValues",
    "float8": "doubleValues",
}
UNSUPPORTED_TYPES = frozenset(
    # monetary and geometric: AWS's comparison of Serverless v2 and v1 Data API behaviours
    {"money", "point", "line", "lseg", "box", "path", "polygon", "circle"}
    # met on Serverless v2 by data-api-client's live suite, drizzle-orm, typeorm, kysely-data-api
    # (the module's docstring has the issue numbers)
    | {"macaddr", "int8range", "daterange", "tsrange", "regclass", "regtype", '"char"'}
)
UNSUPPORTED_ELEMENTS = UNSUPPORTED_TYPES | {"bytea"}
# How AWS's message names a type, where not by PostgreSQL's name.
AWS_TYPE_NAMES = {'"char"': '"CHAR"'}
JSON_TYPES = frozenset({"json", "jsonb"})
# A one-bit value is a boolean: AWS maps JDBC "BOOLEAN, BIT" to BOOLEAN and lists BIT[] with
# BOOL[] (Aurora User Guide, "Amazon RDS Data API operations reference"); pgjdbc calls PostgreSQL's
# bit java.sql.Types.BIT. Longer bit strings stay strings.
BITS = {"1": True, "0": False}
# timestamptz in a UTC session ends in "+00"; the Data API's timestamp format has no offset.
_UTC_OFFSET = re.compile(r"\+00$")
# A JSON string (kept whole) or insignificant whitespace (RFC 8259: space, tab, LF, CR).
_JSON_STRING_OR_SPACE = re.compile(r'("(?:[^"\\]|\\.)*")|[ \t\n\r]+')


def use_text_for_unparsed_types(connection: psycopg.Connection) -> None:
    """Make ``connection`` return every type outside PARSED_TYPES as PostgreSQL's text."""
    for info in postgres.types:
        if info.name not in PARSED_TYPES:
            connection.adapters.register_loader(info.oid, TextLoader)


@dataclass(frozen=True)
class Options:
    """``resultSetOptions``: how ``numeric`` and ``bigint`` values come back."""

    decimal_as_number: bool = False
    long_as_string: bool = False

    @classmethod
    def from_request(cls, raw: object) -> Options:
        """The request's ``resultSetOptions`` (defaults: STRING and LONG, as in the model)."""
        raw = raw if isinstance(raw, dict) else {}
        return cls(
            decimal_as_number=raw.get("decimalReturnType") == "DOUBLE_OR_LONG",
            long_as_string=raw.get("longReturnType") == "STRING",
        )


@dataclass(frozen=True)
class Column:
    """What the conversion needs to know of one result column."""

    oid: int
    type_name: str
    element_name: str | None

    @classmethod
    def of(cls, type_oid: int) -> Column:
        """The column of PostgreSQL type ``type_oid``."""
        info = postgres.types.get(type_oid)
        if info is None:
            return cls(type_oid, "unknown", None)
        if info.array_oid == type_oid:
            return cls(type_oid, f"_{info.name}", info.name)
        return cls(type_oid, info.name, None)


def columns_of(cursor: psycopg.Cursor) -> list[Column]:
    """The conversion facts of each column of the cursor's result, or the
    ``UnsupportedResultException`` AWS gives for a type it cannot return."""
    columns = [Column.of(column.type_code) for column in cursor.description]
    for column in columns:
        unsupported = column.element_name in UNSUPPORTED_ELEMENTS
        if unsupported or column.type_name in UNSUPPORTED_TYPES:
            name = AWS_TYPE_NAMES.get(column.type_name, column.type_name)
            raise DataApiError(
                "UnsupportedResultException",
                f"The result contains the unsupported data type {name}.",
            )
    return columns


def field(value: object, column: Column, options: Options) -> dict:
    """One value as a Data API ``Field``."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, list):
        return {"arrayValue": _array(value, column)}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"stringValue": str(value)} if options.long_as_string else {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, bytes):
        return {"blobValue": base64.b64encode(value).decode()}
    text = _text(str(value), column.type_name)
    if column.type_name == "bit" and text in BITS:
        return {"booleanValue": BITS[text]}
    if column.type_name == "numeric" and options.decimal_as_number:
        return _decimal_as_number(text)
    return {"stringValue": text}


def fields(row: tuple, columns: list[Column], options: Options) -> list[dict]:
    """One row as a ``records`` entry."""
    return [field(value, column, options) for value, column in zip(row, columns, strict=True)]


def plain_row(labels: list[str], row: tuple, columns: list[Column], options: Options) -> dict:
    """One row as a ``formattedRecords`` object, keyed by column label."""
    return {
        label: plain(value, column, options)
        for label, value, column in zip(labels, row, columns, strict=True)
    }


def plain(value: object, column: Column, options: Options) -> object:
    """One value in ``formattedRecords`` (JSON): the ``Field`` mapping without its box (NULL is
    ``null``, an array a list, bytes their base64 text)."""
    ((member, boxed),) = field(value, column, options).items()
    if member == "isNull":
        return None
    if member == "arrayValue":
        return next(iter(boxed.values()))
    return boxed


def _text(text: str, type_name: str) -> str:
    if type_name in JSON_TYPES:  # compact on Serverless v2 (aurora-data-api's live suite)
        return compact_json(text)
    return _UTC_OFFSET.sub("", text) if type_name == "timestamptz" else text


def compact_json(text: str) -> str:
    """``text`` (valid JSON) without the whitespace between its tokens."""
    return _JSON_STRING_OR_SPACE.sub(lambda found: found.group(1) or "", text)


def _decimal_as_number(text: str) -> dict:
    """``DOUBLE_OR_LONG``: a long when the value has no fraction digits, else a double."""
    try:
        return {"longValue": int(text)} if "." not in text else {"doubleValue": float(text)}
    except ValueError:  # NaN, Infinity
        return {"doubleValue": float(text)}


def _array(items: list, column: Column) -> dict:
    if any(isinstance(item, list) for item in items):
        raise DataApiError(
            "UnsupportedResultException",
            "The result contains a multidimensional array, which the Data API does not support",
        )
    element = column.element_name or "text"
    if element == "bit" and all(item is None or item in BITS for item in items):
        return {"booleanValues": [None if item is None else BITS[item] for item in items]}
    member = ARRAY_MEMBERS.get(element, "stringValues")
    if member == "stringValues":
        items = [None if item is None else _text(str(item), element) for item in items]
    return {member: items}
