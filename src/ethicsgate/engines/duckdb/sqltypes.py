"""DuckDB type names as the evidence layer groups them (a type's name before any ``(``)."""

from __future__ import annotations

__all__ = ["FIXED_WIDTH", "INTEGER", "NAIVE_TIME", "NUMERIC", "TIMES", "delta_type_sql"]

INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
           "UINTEGER", "UBIGINT", "UHUGEINT")  # fmt: skip
NUMERIC = (*INTEGER, "FLOAT", "DOUBLE", "DECIMAL")
#: Timestamps without a time zone (read as UTC) and dates.
NAIVE_TIME = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE")
TIMES = ("TIMESTAMP WITH TIME ZONE", *NAIVE_TIME)
#: Types whose DuckDB hash is a fixed mix of the value itself (no string hashing to aim at).
FIXED_WIDTH = ("BOOLEAN", *NUMERIC, *TIMES, "TIME", "INTERVAL", "UUID")

#: Delta schema types as DuckDB types (a Delta table's partition columns, read from folders).
_DELTA = {
    "string": "VARCHAR", "long": "BIGINT", "integer": "INTEGER", "short": "SMALLINT",
    "byte": "TINYINT", "boolean": "BOOLEAN", "float": "FLOAT", "double": "DOUBLE",
    "date": "DATE", "timestamp": "TIMESTAMP WITH TIME ZONE", "timestamp_ntz": "TIMESTAMP",
}  # fmt: skip


def delta_type_sql(kind: str) -> str:
    """Return the DuckDB type of a Delta schema type (``decimal(p,s)`` as ``DECIMAL(p,s)``).

    Raises:
        ValueError: a type no partition folder can spell (structs, arrays, maps, binary).
    """
    if kind.startswith("decimal"):
        return kind.upper()
    if kind not in _DELTA:
        raise ValueError(f"Delta type {kind!r} has no DuckDB counterpart for a partition value")
    return _DELTA[kind]
