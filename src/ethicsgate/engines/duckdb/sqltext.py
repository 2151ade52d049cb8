"""DuckDB SQL text shared by the reader, the rows and the contracts: 0/1 values, JSON as text.

And the check that a mapping or filter of an audit spec is one SQL expression
(:func:`expression_problem`), before it is spliced into any query.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import duckdb

from ethicsgate.engines.duckdb.sqltypes import NUMERIC
from ethicsgate.evidence.sql import UNCLOSED, Token, sql_literal, tokens_problem

__all__ = ["binary_sql", "expression_problem", "json_text", "paths_sql"]


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


@lru_cache(maxsize=256)
def expression_problem(text: str) -> str | None:
    """Return why ``text`` is not one SQL expression that stays inside its parentheses, or None.

    DuckDB's own tokenizer reads the text (a probe with two statements runs the first:
    ``label); CREATE TABLE t AS SELECT (1`` created the table), so a parenthesis or semicolon
    inside a string, a quoted name or a comment does not count; the engines share the judging
    (:func:`ethicsgate.evidence.sql.tokens_problem`). A ``)`` after a newline tells a string,
    name or comment left open: the tokenizer swallows it.
    """
    data = text.encode("utf-8")  # the tokenizer's positions are byte offsets
    *tokens, last = duckdb.tokenize(text + "\n)")
    if last != (len(data) + 1, duckdb.token_type.operator):
        return UNCLOSED
    ends = [start for start, _ in tokens[1:]] + [len(data)] if tokens else []
    read: list[Token] = []
    for (start, kind), end in zip(tokens, ends, strict=True):
        token = data[start : min(end, len(data))].decode("utf-8", errors="replace")
        if kind == duckdb.token_type.comment:
            read.append(("comment", token))
        elif kind == duckdb.token_type.operator:
            read.append(("operator", token))
        else:
            read.append(("other", token))
    return tokens_problem(read)
