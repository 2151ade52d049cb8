"""Parquet files of text rows, written by DuckDB (no pyarrow, numpy or pandas on the way).

The audit's ``findings.parquet`` is spooled as JSON Lines while the rules run and converted
here in one streaming ``COPY``: an audit of logs keeps its fast start (pyarrow and the pandas
it pulls in cost ~0.35 s to import) and memory stays bounded by DuckDB's, whatever the count.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from ethicsgate.evidence.sql import quote_ident, sql_literal

__all__ = ["jsonl_to_parquet"]


def jsonl_to_parquet(source: Path, columns: Sequence[str], target: Path) -> None:
    """Write the JSON Lines file ``source`` (text ``columns``) to ``target`` as Parquet, in order.

    zstd-compressed; the rows keep their order in the file (one reader, insertion order kept).
    """
    types = "{" + ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in columns) + "}"
    select = ", ".join(quote_ident(c) for c in columns)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        con.execute(
            f"COPY (SELECT {select} FROM read_json({sql_literal(str(source))}, "
            f"format = 'newline_delimited', columns = {types})) "
            f"TO {sql_literal(str(target))} (FORMAT parquet, COMPRESSION zstd)"
        )
    finally:
        con.close()
