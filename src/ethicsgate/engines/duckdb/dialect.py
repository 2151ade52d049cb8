"""DuckDB's spelling of the SQL constructs that differ between engines (see evidence.engine)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ethicsgate.evidence.sql import sql_literal

__all__ = ["DIALECT", "DuckDBDialect"]


class DuckDBDialect:
    """The :class:`~ethicsgate.evidence.engine.Dialect` of DuckDB."""

    name = "duckdb"

    def regexp_match(self, text: str, pattern: str) -> str:
        """Return a case-insensitive RE2 match of ``text``; false for a missing text."""
        return f"coalesce(regexp_matches({text}, {sql_literal(pattern)}, 'i'), false)"

    def microseconds(self, micros: int) -> str:
        """Return an interval of ``micros`` microseconds."""
        return f"to_microseconds({int(micros)})"

    def epoch_us(self, timestamp: str) -> str:
        """Return a timestamp as integer microseconds since the Unix epoch."""
        return f"epoch_us({timestamp})"

    def struct(self, fields: Mapping[str, str]) -> str:
        """Return a struct literal of named fields."""
        return "{" + ", ".join(f"{sql_literal(k)}: {v}" for k, v in fields.items()) + "}"

    def trim(self, text: str, characters: str) -> str:
        """Return ``trim(text, characters)``."""
        return f"trim({text}, {sql_literal(characters)})"

    def struct_field(self, struct: str, name: str) -> str:
        """Return ``struct.name``."""
        return f"{struct}.{name}"

    def first_by(self, value: str, order: str, where: str) -> str:
        """Return ``value`` of the row with the least ``order`` where ``where`` holds."""
        return f"arg_min({value}, {order}) FILTER (WHERE {where})"

    def ceil_div_exact(self, n: str, numerator: int, denominator: int) -> str:
        """Return ``ceil(n * numerator / denominator)`` in 128-bit integer arithmetic."""
        return f"CAST(({n} * {numerator}::HUGEINT + {denominator - 1}) // {denominator} AS BIGINT)"

    def stable_hash_text(self, text: str) -> str:
        """Return the md5 hex digest of ``text``."""
        return f"md5({text})"

    def unique_records(
        self, table: str, key: str, values: Sequence[tuple[str, str]], *, where: str = "true"
    ) -> str:
        """Return one row per id with ``_conflict``; only repeated ids are aggregated.

        Grouping every row with the conflict test would cost several times more (time and
        memory) than the check; the table is read directly (not through a CTE, which DuckDB
        would copy), the few repeated ids once.
        """
        scope = f"({where}) AND {key} IS NOT NULL"
        plain = ", ".join(f"{col} AS {alias}" for col, alias in values)
        grouped = ", ".join(f"min({col}) AS {alias}" for col, alias in values)
        conflict = conflict_sql([col for col, _ in values])
        return f"""
        SELECT * FROM (
          WITH repeated AS MATERIALIZED (
            SELECT {key} AS _key FROM {table} WHERE {scope} GROUP BY {key} HAVING count(*) > 1)
          SELECT {key} AS _id{", " + plain if plain else ""}, false AS _conflict
          FROM {table} ANTI JOIN repeated ON {key} = repeated._key WHERE {scope}
          UNION ALL
          SELECT {key} AS _id{", " + grouped if grouped else ""}, ({conflict}) AS _conflict
          FROM {table} SEMI JOIN repeated ON {key} = repeated._key WHERE {scope}
          GROUP BY {key})"""

    def asof_left_join(
        self, left: str, right: str, *, equal: Sequence[tuple[str, str]], on: str
    ) -> str:
        """Return DuckDB's native ``ASOF LEFT JOIN``."""
        conditions = " AND ".join([*(f"{a} = {b}" for a, b in equal), on])
        return f"{left} ASOF LEFT JOIN {right} ON {conditions}"


def conflict_sql(columns: Sequence[str]) -> str:
    """Return an aggregate condition: the rows of a group differ in one of ``columns``.

    Equal values (NULL equal to NULL) in every column mean the rows repeat one record.
    """
    parts = [
        f"(min({c}) IS DISTINCT FROM max({c}) OR count({c}) NOT IN (0, count(*)))" for c in columns
    ]
    return " OR ".join(parts) or "false"


DIALECT = DuckDBDialect()
