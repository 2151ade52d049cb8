r"""PostgreSQL's spelling of the SQL constructs that differ between engines (evidence.engine).

Written and tested against a real PostgreSQL server (15 and 16), never transpiled: sqlglot
passes DuckDB's ``ASOF JOIN`` and ``GROUP BY ALL`` through to PostgreSQL unchanged
(``../shared/ENGINES-NOTES.md``). What PostgreSQL lacks is written out:

* the as-of join (no ``ASOF JOIN``, no ``IGNORE NULLS``) is a running ``max`` of the right
  rows' times over one sorted stream of both sides, then an equi-join on that time
  (``LEFT JOIN LATERAL (... ORDER BY ts DESC LIMIT 1)`` gives the same rows, but reads a CTE
  once per left row);
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
        """Return ``left ASOF LEFT JOIN right``: for each left row the nearest right row.

        ``on`` is ``l.ts >= r.ts`` (the latest right row at or before the left row) or
        ``l.ts <= r.ts`` (the earliest at or after). PostgreSQL has neither ``ASOF JOIN`` nor
        ``IGNORE NULLS``, and ``LEFT JOIN LATERAL (... ORDER BY ts DESC LIMIT 1)`` reads the
        right side once per left row (a CTE has no index: n x m). So the matching right time
        is found in one sorted pass: left and right rows are put in one stream ordered by time
        per key, and a running ``max`` (``min`` looking forward) of the right rows' times is
        exactly the nearest right time, because the time it carries is the ordering itself.
        The right row is then joined on its key and that time (one row per key and time, as an
        as-of join returns one). Left rows keep their columns, plus ``_eg_rn`` and ``_eg_at``.
        """
        left_rel, _, left_alias = left.partition(" AS ")
        left_alias = left_alias.strip() or left_rel.strip()
        right_rel, _, right_alias = right.partition(" AS ")
        right_alias = right_alias.strip() or right_rel.strip()
        match = _ON.match(on)
        if match is None:  # pragma: no cover - the rules write one comparison
            raise ValueError(f"not an as-of condition: {on!r}")
        lhs, op, rhs = match.groups()
        if lhs.startswith(f"{right_alias}."):  # written right op left: turn it around
            lhs, rhs = rhs, lhs
            op = {">=": "<=", "<=": ">=", ">": "<", "<": ">"}[op]
        backward = op in (">=", ">")  # the latest right time at or before the left time
        strict = op in (">", "<")
        # at equal times a right row counts for >= and <=, not for > and <
        right_first = backward != strict
        left_order, right_order = (1, 0) if right_first else (0, 1)
        keys = [f"_eg_k{i}" for i in range(len(equal))]
        left_keys = "".join(f", {a} AS {k}" for (a, _), k in zip(equal, keys, strict=True))
        right_keys = "".join(f", {b} AS {k}" for (_, b), k in zip(equal, keys, strict=True))
        known = " AND ".join([f"{lhs} IS NOT NULL", *(f"({a}) IS NOT NULL" for a, _ in equal)])
        frame = (
            "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
            if backward
            else "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING"
        )
        partition = f"PARTITION BY {', '.join(keys)} " if keys else ""
        numbered = (
            f"SELECT {left_alias}.*, row_number() OVER () AS _eg_rn FROM {left_rel.strip()} "
            f"AS {left_alias}"
        )
        stream = (
            f"SELECT {left_alias}._eg_rn{left_keys}, {lhs} AS _eg_t, "
            f"CAST(NULL AS timestamptz) AS _eg_r, {left_order} AS _eg_o, ({known}) AS _eg_ok "
            f"FROM _eg_l AS {left_alias} "
            f"UNION ALL SELECT NULL{right_keys}, {rhs}, {rhs}, {right_order}, false "
            f"FROM {right_rel.strip()} AS {right_alias} WHERE {rhs} IS NOT NULL"
        )
        nearest = (
            f"{'max' if backward else 'min'}(_eg_r) OVER ({partition}ORDER BY _eg_t, _eg_o {frame})"
        )
        matched = (
            f"(WITH _eg_l AS MATERIALIZED ({numbered}), "
            f"_eg_w AS (SELECT _eg_rn, _eg_ok, {nearest} AS _eg_v FROM ({stream}) AS _eg_u) "
            "SELECT _eg_l.*, CASE WHEN _eg_w._eg_ok THEN _eg_w._eg_v END AS _eg_at "
            "FROM _eg_l JOIN _eg_w ON _eg_w._eg_rn = _eg_l._eg_rn)"
        )
        right_key_list = ", ".join([*(b for _, b in equal), rhs])
        unique_right = (
            f"(SELECT DISTINCT ON ({right_key_list}) {right_alias}.* FROM {right_rel.strip()} "
            f"AS {right_alias} WHERE {rhs} IS NOT NULL ORDER BY {right_key_list})"
        )
        conditions = " AND ".join(
            [f"{left_alias}._eg_at = {rhs}", *(f"{a} = {b}" for a, b in equal)]
        )
        return (
            f"{matched} AS {left_alias} LEFT JOIN {unique_right} AS {right_alias} ON {conditions}"
        )


def conflict_sql(columns: Sequence[str]) -> str:
    """Return an aggregate condition: the rows of a group differ in one of ``columns``.

    Equal values (NULL equal to NULL) in every column mean the rows repeat one record.
    """
    parts = [f"(count(DISTINCT {c}) > 1 OR count({c}) NOT IN (0, count(*)))" for c in columns]
    return " OR ".join(parts) or "false"


DIALECT = PostgresDialect()
