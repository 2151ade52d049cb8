"""Spark SQL's spelling of the constructs that differ between engines (see evidence.engine)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ethicsgate.evidence.sql import sql_literal

__all__ = ["SparkDialect", "conflict_sql"]

_ALIAS = re.compile(r"^\s*(?P<relation>.+?)(?:\s+AS\s+(?P<alias>\w+))?\s*$", re.IGNORECASE | re.S)
_INEQUALITY = re.compile(r"^\s*(?P<left>\S+)\s*(?P<op>>=|<=)\s*(?P<right>\S+)\s*$")


class SparkDialect:
    """The :class:`~ethicsgate.evidence.engine.Dialect` of Spark SQL.

    ``native_asof``: write the as-of join as Spark's ``LEFT ASOF JOIN ... MATCH_CONDITION``
    (Spark 4.3+, with ``spark.sql.join.asofJoin.enabled``); otherwise as the portable form, a
    lateral subquery taking the nearest row (any Spark 4).
    """

    name = "spark"

    def __init__(self, *, native_asof: bool = True) -> None:
        """Choose the as-of join's form."""
        self.native_asof = native_asof

    def regexp_match(self, text: str, pattern: str) -> str:
        """Return a case-insensitive (Unicode) Java regular expression match; false if missing."""
        return f"coalesce(regexp_like({text}, {sql_literal('(?iu)' + pattern)}), false)"

    def microseconds(self, micros: int) -> str:
        """Return a day-time interval of ``micros`` microseconds."""
        return f"INTERVAL '{int(micros)}' MICROSECOND"

    def epoch_us(self, timestamp: str) -> str:
        """Return a timestamp as integer microseconds since the Unix epoch."""
        return f"unix_micros({timestamp})"

    def struct(self, fields: Mapping[str, str]) -> str:
        """Return ``named_struct('name', value, ...)``."""
        return (
            "named_struct(" + ", ".join(f"{sql_literal(k)}, {v}" for k, v in fields.items()) + ")"
        )

    def trim(self, text: str, characters: str) -> str:
        """Return ``trim(BOTH characters FROM text)``."""
        return f"trim(BOTH {sql_literal(characters)} FROM {text})"

    def struct_field(self, struct: str, name: str) -> str:
        """Return ``struct.name``."""
        return f"{struct}.{name}"

    def first_by(self, value: str, order: str, where: str) -> str:
        """Return ``min_by(value, order)`` over the rows where ``where`` holds."""
        return f"min_by({value}, {order}) FILTER (WHERE {where})"

    def ceil_div_exact(self, n: str, numerator: int, denominator: int) -> str:
        """Return ``ceil(n * numerator / denominator)`` in 38-digit decimal arithmetic."""
        return (
            f"CAST((CAST({n} AS DECIMAL(38, 0)) * {int(numerator)} + {denominator - 1}) "
            f"div {int(denominator)} AS BIGINT)"
        )

    def stable_hash_text(self, text: str) -> str:
        """Return the md5 hex digest of ``text``."""
        return f"md5({text})"

    def unique_records(
        self, table: str, key: str, values: Sequence[tuple[str, str]], *, where: str = "true"
    ) -> str:
        """Return one row per id with ``_conflict``: one hash aggregation over the ids.

        Unlike DuckDB (where aggregating only the repeated ids is cheaper), Spark pays for each
        shuffle: one ``GROUP BY`` of every row (partial aggregation on each executor) costs
        about half of finding the repeated ids and joining them back twice (measured on
        10^6 events). A lone row's ``min`` is its value and it never conflicts.
        """
        scope = f"({where}) AND {key} IS NOT NULL"
        grouped = "".join(f", min({col}) AS {alias}" for col, alias in values)
        conflict = conflict_sql([col for col, _ in values])
        return f"""
        SELECT {key} AS _id{grouped}, (count(*) > 1 AND ({conflict})) AS _conflict
        FROM {table} WHERE {scope} GROUP BY {key}"""

    def asof_left_join(
        self, left: str, right: str, *, equal: Sequence[tuple[str, str]], on: str
    ) -> str:
        """Return the as-of left join: native, or a lateral subquery taking the nearest row.

        The portable form orders the right rows that match by the right side of ``on``
        (descending for ``>=``, ascending for ``<=``) and keeps the first.
        """
        conditions = " AND ".join(f"{a} = {b}" for a, b in equal) or "true"
        if self.native_asof:
            return f"{left} LEFT ASOF JOIN {right} MATCH_CONDITION ({on}) ON {conditions}"
        found = _ALIAS.match(right)
        inequality = _INEQUALITY.match(on)
        if found is None or inequality is None:  # pragma: no cover - the rules' own forms
            raise ValueError(f"cannot write the as-of join of {right!r} on {on!r}")
        relation, alias = found["relation"], found["alias"] or found["relation"]
        inner = f"_asof_{alias}"
        left_col, op, right_col = inequality["left"], inequality["op"], inequality["right"]
        if not right_col.startswith(f"{alias}."):  # written the other way round
            left_col, right_col = right_col, left_col
            op = ">=" if op == "<=" else "<="
        column = right_col.split(".", 1)[1]
        inner_conditions = " AND ".join(
            [
                *(f"{a} = {b.replace(alias + '.', inner + '.', 1)}" for a, b in equal),
                f"{left_col} {op} {inner}.{column}",
            ]
        )
        order = "DESC" if op == ">=" else "ASC"
        return (
            f"{left} LEFT JOIN LATERAL (SELECT * FROM {relation} AS {inner} "
            f"WHERE {inner_conditions} ORDER BY {inner}.{column} {order} LIMIT 1) AS {alias} "
            "ON true"
        )


def conflict_sql(columns: Sequence[str]) -> str:
    """Return an aggregate condition: the rows of a group differ in one of ``columns``."""
    parts = [
        f"(min({c}) IS DISTINCT FROM max({c}) OR count({c}) NOT IN (0, count(*)))" for c in columns
    ]
    return " OR ".join(parts) or "false"
