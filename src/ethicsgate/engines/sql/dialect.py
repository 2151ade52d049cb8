r"""PostgreSQL's spelling of the SQL constructs that differ between engines (evidence.engine).

Written and tested against a real PostgreSQL server (15 and 16), never transpiled: sqlglot
passes DuckDB's ``ASOF JOIN`` and ``GROUP BY ALL`` through to PostgreSQL unchanged
(``../shared/ENGINES-NOTES.md``). What PostgreSQL lacks is written out:

* the as-of join is ``LEFT JOIN LATERAL (... ORDER BY ts DESC LIMIT 1)`` (no ``ASOF JOIN``, and
  no ``IGNORE NULLS`` for the window form);
* a struct whose fields are read by name after an aggregate (``first_by`` of a ``struct``)
  becomes one ordered ``array_agg(...)[1]`` per field, all ordered alike so that they come from
  the same row (PostgreSQL's anonymous records have no field names);
* ``min``/``max`` do not exist for booleans: conflicts are ``count(DISTINCT ...)``;
* regular expressions are PostgreSQL's (POSIX ARE): RE2's ``\b`` is written ``\y``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence

from ethicsgate.evidence.sql import sql_literal

__all__ = ["DIALECT", "PostgresDialect", "conflict_sql", "translate_regex"]

_STRUCTS = itertools.count()
_STRUCT = re.compile(r"^__eg_struct_(\d+)__$")
_ON = re.compile(r"^\s*([\w.\"]+)\s*(>=|<=|>|<)\s*([\w.\"]+)\s*$")


def translate_regex(pattern: str) -> str:
    r"""Return an RE2 pattern in PostgreSQL's ARE syntax (``\b`` -> ``\y``, ``\B`` -> ``\Y``)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append({"b": "\\y", "B": "\\Y", "z": "\\Z"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


class PostgresDialect:
    """The :class:`~ethicsgate.evidence.engine.Dialect` of PostgreSQL."""

    name = "postgresql"

    def __init__(self) -> None:
        """Start with no struct composed."""
        self._structs: dict[str, dict[str, str]] = {}
        self._aggregated: dict[str, str] = {}  # a field name -> its column, of the last first_by
        self._last_field = ""

    def regexp_match(self, text: str, pattern: str) -> str:
        """Return a case-insensitive match of ``text``; false for a missing text."""
        return f"coalesce(({text}) ~* {sql_literal(translate_regex(pattern))}, false)"

    def microseconds(self, micros: int) -> str:
        """Return an interval of ``micros`` microseconds."""
        return f"(INTERVAL '1 microsecond' * {int(micros)})"

    def epoch_us(self, timestamp: str) -> str:
        """Return a timestamp as integer microseconds since the Unix epoch (exact: numeric)."""
        return f"CAST(extract(epoch FROM {timestamp}) * 1000000 AS bigint)"

    def struct(self, fields: Mapping[str, str]) -> str:
        """Return a placeholder for a struct, which :meth:`first_by` expands field by field."""
        key = f"__eg_struct_{next(_STRUCTS)}__"
        self._structs[key] = dict(fields)
        return key

    def trim(self, text: str, characters: str) -> str:
        """Return ``btrim(text, characters)``."""
        return f"btrim({text}, {sql_literal(characters)})"

    def struct_field(self, struct: str, name: str) -> str:
        """Return one field of the struct the last :meth:`first_by` aggregated, as ``struct``.

        The last field carries the caller's own alias (``... AS first_failure``); the others
        have columns of their own beside it.
        """
        if name == self._last_field:
            return struct
        return self._aggregated[name]

    def first_by(self, value: str, order: str, where: str) -> str:
        """Return ``value`` of the row with the least ``order`` where ``where`` holds.

        For a struct, one ``array_agg`` per field, each ordered by ``order`` and then by every
        field, so that ties resolve alike and all fields come from one row.
        """
        fields = self._structs.get(value) if _STRUCT.match(value) else None
        if fields is None:
            return f"(array_agg({value} ORDER BY {order}) FILTER (WHERE {where}))[1]"
        ties = ", ".join(f"{expr} NULLS LAST" for expr in fields.values())
        parts = []
        names = list(fields)
        self._aggregated = {}
        for name in names:
            agg = f"(array_agg({fields[name]} ORDER BY {order}, {ties}) FILTER (WHERE {where}))[1]"
            if name == names[-1]:
                parts.append(agg)
            else:
                column = f"_eg_{name}"
                self._aggregated[name] = column
                parts.append(f"{agg} AS {column}")
        self._last_field = names[-1]
        return ", ".join(parts)

    def ceil_div_exact(self, n: str, numerator: int, denominator: int) -> str:
        """Return ``ceil(n * numerator / denominator)`` in exact numeric arithmetic."""
        return (
            f"CAST(div(CAST({n} AS numeric) * {int(numerator)} + {int(denominator) - 1}, "
            f"{int(denominator)}) AS bigint)"
        )

    def stable_hash_text(self, text: str) -> str:
        """Return the md5 hex digest of ``text``."""
        return f"md5({text})"

    def unique_records(
        self, table: str, key: str, values: Sequence[tuple[str, str]], *, where: str = "true"
    ) -> str:
        """Return one row per id with ``_conflict``: rows of an id that differ conflict."""
        scope = f"({where}) AND {key} IS NOT NULL"
        grouped = ", ".join(f"(array_agg({col}))[1] AS {alias}" for col, alias in values)
        conflict = conflict_sql([col for col, _ in values])
        return (
            f"SELECT {key} AS _id{', ' + grouped if grouped else ''}, ({conflict}) AS _conflict "
            f"FROM {table} WHERE {scope} GROUP BY {key}"
        )

    def asof_left_join(
        self, left: str, right: str, *, equal: Sequence[tuple[str, str]], on: str
    ) -> str:
        """Return ``left LEFT JOIN LATERAL (the nearest right row) ON true``.

        ``on`` is ``l.ts >= r.ts`` (the latest right row at or before) or ``l.ts <= r.ts``
        (the earliest at or after); the right side's alias must appear in it.
        """
        relation, _, alias = right.partition(" AS ")
        alias = alias.strip() or relation.strip()
        match = _ON.match(on)
        if match is None:  # pragma: no cover - the rules write one comparison
            raise ValueError(f"not an as-of condition: {on!r}")
        lhs, op, rhs = match.groups()
        if rhs.startswith(f"{alias}."):
            ordered, latest = rhs, op in (">=", ">")
        else:
            ordered, latest = lhs, op in ("<=", "<")
        inner = alias + "_r"
        conditions = " AND ".join([*(f"{a} = {b}" for a, b in equal), on]).replace(
            f"{alias}.", f"{inner}."
        )
        column = ordered.replace(f"{alias}.", f"{inner}.")
        return (
            f"{left} LEFT JOIN LATERAL (SELECT {inner}.* FROM {relation.strip()} AS {inner} "
            f"WHERE {conditions} ORDER BY {column} {'DESC' if latest else 'ASC'} LIMIT 1) "
            f"AS {alias} ON true"
        )


def conflict_sql(columns: Sequence[str]) -> str:
    """Return an aggregate condition: the rows of a group differ in one of ``columns``.

    Equal values (NULL equal to NULL) in every column mean the rows repeat one record.
    """
    parts = [f"(count(DISTINCT {c}) > 1 OR count({c}) NOT IN (0, count(*)))" for c in columns]
    return " OR ".join(parts) or "false"


DIALECT = PostgresDialect()
