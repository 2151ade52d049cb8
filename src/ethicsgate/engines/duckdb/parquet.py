"""Parquet files of text rows, written by DuckDB (no pyarrow, numpy or pandas on the way).

The audit's ``findings.parquet`` is spooled as JSON batches while the rules run and converted
here in one streaming ``COPY``: an audit of logs keeps its fast start (pyarrow and the pandas
it pulls in cost ~0.35 s to import) and memory stays bounded by DuckDB's, whatever the count.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import duckdb

from ethicsgate.engines.duckdb.sqltext import paths_sql
from ethicsgate.evidence.sql import quote_ident, sql_literal

__all__ = ["json_batches_to_parquet"]


def json_batches_to_parquet(
    sources: Sequence[Path],
    columns: Sequence[str],
    target: Path,
    *,
    json_columns: Collection[str] = (),
) -> None:
    """Write JSON files, each one array of row objects, to ``target`` as Parquet, in order.

    The rows keep their order: file by file as ``sources`` lists them, row by row within a
    file (one ordered multi-file scan). ``columns`` are text; a column in ``json_columns``
    holds a JSON value in the rows, written as its compact JSON text (object keys in the
    order the file has them).
    """
    types = (
        "{"
        + ", ".join(
            f"{sql_literal(c)}: '{'JSON' if c in json_columns else 'VARCHAR'}'" for c in columns
        )
        + "}"
    )
    select = ", ".join(
        f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}"
        if c in json_columns
        else quote_ident(c)
        for c in columns
    )
    files = paths_sql(sources)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        con.execute(
            f"COPY (SELECT {select} FROM read_json({files}, format = 'array', "
            f"columns = {types})) TO {sql_literal(str(target))} (FORMAT parquet, COMPRESSION zstd)"
        )
    finally:
        con.close()
