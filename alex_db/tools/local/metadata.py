"""``columnMetadata`` (``includeResultMetadata``): the Data API's ``ColumnMetadata`` per column.

Aurora's Data API runs PostgreSQL through the PostgreSQL JDBC driver, and its metadata is that
driver's ``ResultSetMetaData`` (pgjdbc ``org/postgresql/jdbc/TypeInfoCache.java`` and
``PgResultSetMetaData.java``): ``type`` is a ``java.sql.Types`` code chosen by type name (the
``types`` table; an enum is ``VARCHAR``, other unknown types ``OTHER``), ``typeName`` is the
PostgreSQL type name (``serial``/``bigserial`` for an integer column fed by a sequence),
``isCaseSensitive`` is false for numbers, booleans and date/time types only, ``nullable`` is
JDBC's 0 (no nulls), 1 (nullable) or 2 (unknown: not a table column), precision and scale come
from the type modifier. The table and nullability come from the catalog, asked only when metadata
is requested.
"""

from __future__ import annotations

import psycopg

from alex_db.tools.local.results import Column

# java.sql.Types
BIT, SMALLINT, INTEGER, BIGINT, REAL, DOUBLE, NUMERIC = -7, 5, 4, -5, 7, 8, 2
CHAR, VARCHAR, BINARY, DATE, TIME, TIMESTAMP, OTHER, ARRAY = 1, 12, -2, 91, 92, 93, 1111, 2003
JDBC_TYPES = {
    "int2": SMALLINT,
    "int4": INTEGER,
    "oid": BIGINT,
    "int8": BIGINT,
    "money": DOUBLE,
    "numeric": NUMERIC,
    "float4": REAL,
    "float8": DOUBLE,
    "char": CHAR,
    "bpchar": CHAR,
    "varchar": VARCHAR,
    "text": VARCHAR,
    "name": VARCHAR,
    "bytea": BINARY,
    "bool": BIT,
    "bit": BIT,
    "date": DATE,
    "time": TIME,
    "timetz": TIME,
    "timestamp": TIMESTAMP,
    "timestamptz": TIMESTAMP,
}
SIGNED_TYPES = frozenset({"int2", "int4", "int8", "float4", "float8", "numeric", "money"})
# pgjdbc's precision for fixed-size types (TypeInfoCache.getPrecision).
FIXED_PRECISION = {
    "int2": 5,
    "int4": 10,
    "oid": 10,
    "int8": 19,
    "float4": 8,
    "float8": 17,
    "bool": 1,
    "date": 13,
    "time": 15,
    "timetz": 21,
    "timestamp": 29,
    "timestamptz": 35,
}
UNBOUNDED = 2147483647
SEQUENCE_NAMES = {"int4": "serial", "int8": "bigserial"}
# TypeInfoCache.isCaseSensitive: false for these, true for every other type.
CASE_INSENSITIVE = frozenset(
    {
        "oid",
        "int2",
        "int4",
        "int8",
        "float4",
        "float8",
        "numeric",
        "bool",
        "bit",
        "varbit",
        "date",
        "time",
        "timetz",
        "timestamp",
        "timestamptz",
        "interval",
    }
)
ENUM_CATEGORY = "E"

TYPES_SQL = "SELECT oid::int8, typname, typcategory FROM pg_type WHERE oid = ANY($1::oid[])"
COLUMNS_SQL = """
SELECT a.attrelid::int8, a.attnum, n.nspname, c.relname, a.attnotnull,
       a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY($1::oid[])
"""


def column_metadata(
    connection: psycopg.Connection, cursor: psycopg.Cursor, columns: list[Column]
) -> list[dict]:
    """The ``columnMetadata`` of the cursor's current result."""
    result = cursor.pgresult
    count = len(columns)
    tables = [result.ftable(i) for i in range(count)]
    modifiers = [result.fmod(i) for i in range(count)]
    with connection.cursor() as catalog:
        types = {
            oid: (name, category)
            for oid, name, category in catalog.execute(
                TYPES_SQL, [[c.oid for c in columns]]
            ).fetchall()
        }
        table_columns = {
            (relid, attnum): (schema, table, not_null, sequence)
            for relid, attnum, schema, table, not_null, sequence in catalog.execute(
                COLUMNS_SQL, [sorted({t for t in tables if t})]
            ).fetchall()
        }
    return [
        _describe(
            cursor.description[i].name,
            columns[i],
            types.get(columns[i].oid, (columns[i].type_name, "U")),
            table_columns.get((tables[i], result.ftablecol(i))),
            modifiers[i],
        )
        for i in range(count)
    ]


def _describe(name, column: Column, type_facts, table_column, modifier: int) -> dict:
    type_name, category = type_facts
    schema, table, not_null, sequence = table_column or ("", "", None, False)
    base = column.element_name or type_name
    precision, scale = _precision_and_scale(base, modifier)
    return {
        "name": name,
        "label": name,
        "type": ARRAY if column.element_name else _jdbc_type(type_name, category),
        "typeName": SEQUENCE_NAMES.get(type_name, type_name) if sequence else type_name,
        "schemaName": schema,
        "tableName": table,
        "isAutoIncrement": bool(sequence),
        "isSigned": base in SIGNED_TYPES,
        "isCurrency": base == "money",
        "isCaseSensitive": base not in CASE_INSENSITIVE,
        "nullable": 2 if not_null is None else (0 if not_null else 1),
        "precision": precision,
        "scale": scale,
        "arrayBaseColumnType": JDBC_TYPES.get(column.element_name, OTHER)
        if column.element_name
        else 0,
    }


def _jdbc_type(type_name: str, category: str) -> int:
    """pgjdbc's code for a scalar type: its table, VARCHAR for an enum, else OTHER."""
    return JDBC_TYPES.get(type_name, VARCHAR if category == ENUM_CATEGORY else OTHER)


def _precision_and_scale(type_name: str, modifier: int) -> tuple[int, int]:
    if type_name == "numeric":
        if modifier < 4:
            return 0, 0
        return ((modifier - 4) >> 16) & 0xFFFF, (modifier - 4) & 0xFFFF
    if type_name in ("varchar", "bpchar"):
        return (modifier - 4, 0) if modifier >= 4 else (UNBOUNDED, 0)
    if type_name == "text":
        return UNBOUNDED, 0
    if type_name in ("timestamp", "timestamptz", "time", "timetz"):
        return FIXED_PRECISION[type_name], 6 if modifier < 0 else modifier
    if type_name in ("float4", "float8"):
        return FIXED_PRECISION[type_name], FIXED_PRECISION[type_name]
    return FIXED_PRECISION.get(type_name, 0), 0
