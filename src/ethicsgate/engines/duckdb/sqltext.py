"""DuckDB SQL text shared by the reader, the rows and the contracts: 0/1 values, JSON as text."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ethicsgate.engines.duckdb.sqltypes import NUMERIC
from ethicsgate.evidence.sql import sql_literal

__all__ = ["binary_sql", "json_text", "paths_sql"]


def paths_sql(files: Iterable[str | Path]) -> str:
    """Return a DuckDB list literal of file paths, ``['a.parquet', 'b.parquet']``, for readers."""
    return "[" + ", ".join(sql_literal(str(f)) for f in files) + "]"


def binary_sql(kind: str, value: str) -> str | None:
    """Return SQL mapping ``value`` to 0/1, NULL for anything else (the reader's spellings).

    ``kind`` is the DuckDB type of the role's expression; ``value`` is that expression, or the
    field holding its value after a grouping. None: the type cannot hold 0/1 at all.
    """
    base = kind.split("(")[0]
    if base == "JSON":  # JSON Lines with mixed types in one field: each value as its text
        return binary_sql("VARCHAR", json_text(value))
    if base == "BOOLEAN":
        return f"CAST(({value}) AS BIGINT)"
    if base in NUMERIC:
        return f"CASE WHEN ({value}) = 1 THEN 1 WHEN ({value}) = 0 THEN 0 END"
    if base == "VARCHAR":
        return (
            f"CASE lower(trim(({value}))) WHEN '1' THEN 1 WHEN '0' THEN 0 WHEN 'true' THEN 1 "
            "WHEN 'false' THEN 0 WHEN '1.0' THEN 1 WHEN '0.0' THEN 0 END"
        )
    return None


def json_text(value: str) -> str:
    """Return SQL giving a JSON value as text: a string without its quotes, else its JSON."""
    return f"json_extract_string(({value}), '$')"
