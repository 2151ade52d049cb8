"""Spark SQL text: the portable SQL the rules write, as Spark's parser reads it.

The rules and the audit specs write ANSI SQL: double-quoted identifiers (the session sets
``spark.sql.ansi.doubleQuotedIdentifiers``), ``'...'`` literals with quotes doubled and no
backslash escapes, and ``CAST(x AS VARCHAR)``. Spark's parser reads a backslash in a literal as
an escape and wants a length after ``VARCHAR``, so :func:`spark_sql` doubles the backslashes
inside literals and writes ``STRING`` for a bare ``VARCHAR``; nothing else is rewritten.
"""

from __future__ import annotations

import re

__all__ = [
    "INTEGER",
    "NUMERIC",
    "TIMES",
    "base_type",
    "binary_sql",
    "double_literal",
    "first_line",
    "spark_sql",
]

#: Spark's simple type names (``DataType.simpleString``) as the evidence layer groups them.
INTEGER = ("tinyint", "smallint", "int", "bigint")
NUMERIC = (*INTEGER, "float", "double", "decimal")
#: ``timestamp`` is an instant (read in the session time zone, UTC); the others are naive.
TIMES = ("timestamp", "timestamp_ntz", "date")

#: the type of a CAST, closed right after it: ``AS text`` as a column alias is left alone
_VARCHAR = re.compile(r"\bAS\s+(?:VARCHAR|TEXT)\b(?=\s*\))", re.IGNORECASE)


def spark_sql(sql: str) -> str:
    """Return ANSI SQL text as Spark's parser reads it the same way (see the module doc)."""
    out: list[str] = []
    code_start = 0
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char == '"':  # a quoted identifier: copied as it is
            end = i + 1
            while end < n:
                if sql[end] == '"':
                    if end + 1 < n and sql[end + 1] == '"':
                        end += 2
                        continue
                    break
                end += 1
            out.append(_VARCHAR.sub("AS STRING", sql[code_start:i]))
            out.append(sql[i : end + 1])
            i = code_start = end + 1
            continue
        if char == "'":
            end = i + 1
            while end < n:
                if sql[end] == "'":
                    if end + 1 < n and sql[end + 1] == "'":
                        end += 2
                        continue
                    break
                end += 1
            out.append(_VARCHAR.sub("AS STRING", sql[code_start:i]))
            out.append(sql[i : end + 1].replace("\\", "\\\\"))
            i = code_start = end + 1
            continue
        i += 1
    out.append(_VARCHAR.sub("AS STRING", sql[code_start:]))
    return "".join(out)


def base_type(simple: str) -> str:
    """Return a Spark type's base name: ``decimal(10,2)`` -> ``decimal``."""
    return simple.split("(")[0].split("<")[0].strip().lower()


def double_literal(value: float) -> str:
    """Return a DOUBLE literal that round-trips (``repr``), NaN and infinities included."""
    return f"CAST('{value!r}' AS DOUBLE)"


def binary_sql(kind: str, value: str) -> str | None:
    """Return SQL mapping ``value`` to 0/1, NULL for anything else (the reader's spellings).

    ``kind`` is the Spark type of the role's expression. None: the type cannot hold 0/1.
    """
    base = base_type(kind)
    if base == "boolean":
        return f"CAST(({value}) AS BIGINT)"
    if base in NUMERIC:
        return f"CASE WHEN ({value}) = 1 THEN 1 WHEN ({value}) = 0 THEN 0 END"
    if base == "string":
        return (
            f"CASE lower(trim(({value}))) WHEN '1' THEN 1 WHEN '0' THEN 0 WHEN 'true' THEN 1 "
            "WHEN 'false' THEN 0 WHEN '1.0' THEN 1 WHEN '0.0' THEN 0 END"
        )
    if base == "void":
        return "CAST(NULL AS BIGINT)"
    return None


def first_line(exc: BaseException, *, lines: int = 1) -> str:
    """Return the first ``lines`` non-blank lines of an error's text, joined by spaces.

    Spark's messages end with the SQL text and the plan; only the message itself is kept, and
    the JVM stack trace of a Py4J error is cut off.
    """
    text = str(exc).strip()
    kept: list[str] = []
    for part in text.splitlines():
        part = part.strip()
        if not part:
            continue
        if part.startswith(("== SQL", "at ", "\tat ", "JVM stacktrace")):
            break
        kept.append(part)
        if len(kept) >= lines:
            break
    return " ".join(kept)
