"""DuckDB type names as the evidence layer groups them (a type's name before any ``(``)."""

from __future__ import annotations

__all__ = ["FIXED_WIDTH", "INTEGER", "NAIVE_TIME", "NUMERIC", "TIMES"]

INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
           "UINTEGER", "UBIGINT", "UHUGEINT")  # fmt: skip
NUMERIC = (*INTEGER, "FLOAT", "DOUBLE", "DECIMAL")
#: Timestamps without a time zone (read as UTC) and dates.
NAIVE_TIME = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE")
TIMES = ("TIMESTAMP WITH TIME ZONE", *NAIVE_TIME)
#: Types whose DuckDB hash is a fixed mix of the value itself (no string hashing to aim at).
FIXED_WIDTH = ("BOOLEAN", *NUMERIC, *TIMES, "TIME", "INTERVAL", "UUID")
