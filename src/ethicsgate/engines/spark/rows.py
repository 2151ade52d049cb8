"""Row-level evidence on Spark: the roles a rule reads, typed, in a cached table of the session.

The conversions are the DuckDB reader's (``engines/duckdb/rows.py``, the reference): ids keep
an integer type or become text (empty text is missing); timestamps are instants, naive ones
read as UTC (the session time zone); actors lower-cased and trimmed; flags true/false, 1/0,
yes/no; numbers DOUBLE. The table is ``CACHE TABLE``'d in the cluster (memory, spilling to
disk), never collected: the rules' verdict queries run on it, and only counts, the first
findings by id and, for ``findings.parquet``, the violating records in batches come back.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from ethicsgate.engines.spark.dialect import SparkDialect
from ethicsgate.engines.spark.failures import SPARK_ERRORS
from ethicsgate.engines.spark.sqltext import INTEGER, NUMERIC, TIMES, base_type, first_line
from ethicsgate.errors import EvidenceError
from ethicsgate.evidence.engine import VerdictCounts
from ethicsgate.evidence.roles import ACTORS, Role, RoleKind, role_type_hint, unknown_actor_hint
from ethicsgate.evidence.sql import quote_ident, sql_literal

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from ethicsgate.engines.spark.dataset import SparkDataset

__all__ = ["SparkRows", "convert_sql", "read_rows"]

_TABLES = itertools.count()
_TRUE = ("1", "1.0", "true", "t", "yes", "y")
_FALSE = ("0", "0.0", "false", "f", "no", "n")
_KIND_WORDS = {
    "key": "an id",
    "ref": "an id",
    "text": "text",
    "required_text": "text",
    "actor": "an actor (bot, human, customer or system)",
    "timestamp": "a timestamp",
    "flag": "true/false",
    "flag_or_false": "true/false",
    "number": "a number",
}


@dataclass
class SparkRows:
    """A cached Spark table with one typed column per role, filter already applied."""

    evidence: SparkDataset
    table: str
    roles: list[Role]
    rows_read: int
    rows: int
    dialect: SparkDialect
    types: dict[Role, str] = field(default_factory=dict)
    typed: dict[Role, str] = field(default_factory=dict)
    exprs: dict[Role, str] = field(default_factory=dict)
    kept: str = "true"

    def col(self, name: str, kind: RoleKind) -> str:
        """Return the quoted column of a role read as ``kind`` (KeyError: not read)."""
        role = Role(name, kind)
        if role not in self.types:
            raise KeyError(f"{self.evidence.name}: role {name!r} ({kind}) was not read")
        return role.column

    def is_integer(self, role: Role) -> bool:
        """Return whether an id role kept an integer type (else it is text)."""
        return self.types[role] in INTEGER

    def raw(self, role: Role) -> str:
        """Return the role's typed SQL over the source rows (to name a row in the files)."""
        return self.typed[role]

    def require_present(
        self, role: Role, *, where: str = "true", raw_where: str = "true", purpose: str
    ) -> None:
        """Raise EvidenceError at the first row where ``where`` holds and ``role`` is missing."""
        found = self.fetch(
            f"SELECT count(*) FROM {self.table} WHERE ({where}) AND {role.column} IS NULL"
        )
        missing = int(found[0][0])
        if not missing:
            return
        self.evidence.raise_at_first_row(
            role.name,
            f"({self.kept}) AND ({raw_where}) AND ({self.typed[role]}) IS NULL",
            problem=f"{role.name!r} is missing ({missing:,} row(s))",
            hint=f"{purpose}; fix the data, map {role.name} under columns, or exclude such "
            "rows with a filter",
        )

    def check_patterns(self, patterns: Sequence[str]) -> tuple[str, str]:
        """Return the first pattern Java's regular expressions reject and why, or ``("", "")``.

        All patterns are compiled by one query; only when it fails are they tried one by one,
        to name the culprit.
        """
        if not patterns:
            return "", ""
        tests = ", ".join(f"regexp_like('', {sql_literal('(?i)' + p)})" for p in patterns)
        try:
            self.evidence.sql(f"SELECT {tests}").collect()
            return "", ""
        except SPARK_ERRORS:
            pass
        for pattern in patterns:
            try:
                self.evidence.sql(
                    f"SELECT regexp_like('', {sql_literal('(?i)' + pattern)})"
                ).collect()
            except SPARK_ERRORS as exc:
                return pattern, first_line(exc)
        return "", ""  # pragma: no cover - the query that failed fails for one of them

    def _query(self, sql: str) -> DataFrame:
        try:
            return self.evidence.sql(sql)
        except SPARK_ERRORS as exc:
            raise self.evidence.read_error(exc) from exc

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a small aggregate query over the rows table and return its rows."""
        try:
            return [_plain(tuple(r)) for r in self._query(sql).collect()]
        except SPARK_ERRORS as exc:
            raise self.evidence.read_error(exc) from exc

    def verdicts(
        self, sql: str, fields: Sequence[str], *, limit: int, id_role: Role
    ) -> VerdictCounts:
        """Count a verdict query's records and violations, list the first ``limit`` by id.

        One Spark job: the counts, the violations by reason (a map) and the first ``limit``
        violating records by id (``min_by`` with a count), so only those come back.

        Raises:
            EvidenceError: two different rows share a record id (both are named).
        """
        struct = self.dialect.struct(
            {"_id": "_id", "_reason": "_reason", **{f: quote_ident(f) for f in fields}}
        )
        bad = "_applies AND _reason IS NOT NULL"
        # grouped by reason first: each group lists its first ``limit`` violations, so the
        # lists merged below hold at most ``limit`` per reason
        query = (
            f"WITH v AS ({sql}), g AS (SELECT ({bad}) AS _bad, "
            f"CASE WHEN {bad} THEN _reason END AS _r, "
            "count(*) FILTER (WHERE _applies) AS _records, count(*) AS _n, "
            f"min_by({struct}, _id, {int(limit)}) FILTER (WHERE {bad}) AS _listed, "
            "count(*) FILTER (WHERE _conflict) AS _conflicts, "
            "min(_id) FILTER (WHERE _conflict) AS _conflict_id "
            "FROM v GROUP BY 1, 2) "
            "SELECT sum(_records), sum(_n) FILTER (WHERE _bad), "
            "map_from_entries(collect_list(struct(_r, _n)) FILTER (WHERE _bad)), "
            "flatten(collect_list(_listed) FILTER (WHERE _bad)), "
            "sum(_conflicts), min(_conflict_id) FROM g"
        )
        frame = _ntz(self._query(query))
        records, violations, by_reason, listed, conflicts, conflict_id = self.fetch_frame(frame)[0]
        if conflicts:
            self._raise_duplicate_id(id_role, conflict_id)
        names = ["_id", "_reason", *fields]
        records_listed = [dict(zip(names, _plain(tuple(row)), strict=True)) for row in listed or []]
        records_listed.sort(key=lambda record: record["_id"])
        first: list[Mapping[str, Any]] = list(records_listed[: max(int(limit), 0)])
        return VerdictCounts(
            records=int(records or 0),
            violations=int(violations or 0),
            by_reason={str(k): int(v) for k, v in sorted((by_reason or {}).items())},
            listed=first,
            conflicts=int(conflicts or 0),
            conflict_id=conflict_id,
        )

    def fetch_frame(self, frame: DataFrame) -> list[tuple[Any, ...]]:
        """Collect a small DataFrame's rows."""
        try:
            return [tuple(r) for r in frame.collect()]
        except SPARK_ERRORS as exc:
            raise self.evidence.read_error(exc) from exc

    def violation_batches(
        self, sql: str, fields: Sequence[str], *, batch_rows: int
    ) -> Iterator[list[Mapping[str, Any]]]:
        """Yield every violating record of a verdict query by id, ``batch_rows`` at a time.

        Spark streams the sorted result partition by partition (``toLocalIterator``): the
        driver holds one partition and one batch, not every violation.
        """
        columns = ", ".join(["_id", "_reason", *(quote_ident(f) for f in fields)])
        query = (
            f"WITH v AS ({sql}) SELECT {columns} FROM v "
            "WHERE _applies AND _reason IS NOT NULL ORDER BY _id"
        )
        frame = _ntz(self._query(query))
        names = ["_id", "_reason", *fields]
        batch: list[Mapping[str, Any]] = []
        try:
            for row in frame.toLocalIterator():
                batch.append(dict(zip(names, _plain(tuple(row)), strict=True)))
                if len(batch) >= batch_rows:
                    yield batch
                    batch = []
        except SPARK_ERRORS as exc:
            raise self.evidence.read_error(exc) from exc
        if batch:
            yield batch

    def _raise_duplicate_id(self, role: Role, value: object) -> None:
        literal = sql_literal(value) if isinstance(value, (str, int, float)) else "NULL"
        self.evidence.raise_at_first_row(
            role.name,
            f"({self.kept}) AND ({self.typed[role]}) = {literal}",
            problem=f"{role.name} {value!r} names two different records",
            hint="ids must identify records: rows that repeat a record exactly are counted "
            "once, but rows that share an id and differ are ambiguous; fix the data or map "
            f"{role.name} to a unique id",
        )

    def drop(self) -> None:
        """Uncache and drop the table."""
        self.evidence.sql(f"UNCACHE TABLE IF EXISTS {self.table}")


def _ntz(frame: DataFrame) -> DataFrame:
    """Return ``frame`` with its instants as UTC wall times (``TIMESTAMP_NTZ``), nested too.

    PySpark turns an instant into a naive datetime in the *Python process's* time zone; the
    UTC wall time read back as naive and marked UTC (:func:`_plain`) is the same instant
    whatever that zone. Timestamps inside structs and arrays (the listed findings) are cast by
    the same ``CAST`` to a struct type with ``TIMESTAMP_NTZ`` fields.
    """
    from pyspark.sql.types import ArrayType, StructType, TimestampType

    def cast(name: str, data_type: Any) -> str | None:
        if isinstance(data_type, TimestampType):
            return "TIMESTAMP_NTZ"
        if isinstance(data_type, StructType):
            inner = [
                (f.name, cast(f.name, f.dataType) or f.dataType.simpleString())
                for f in data_type.fields
            ]
            if all(
                t == f.dataType.simpleString()
                for (_, t), f in zip(inner, data_type.fields, strict=True)
            ):
                return None
            return "STRUCT<" + ", ".join(f"{_backtick(n)}: {t}" for n, t in inner) + ">"
        if isinstance(data_type, ArrayType):
            element = cast(name, data_type.elementType)
            return None if element is None else f"ARRAY<{element}>"
        return None

    select = []
    changed = False
    for index, struct_field in enumerate(frame.schema.fields):
        target = cast(struct_field.name, struct_field.dataType)
        column = _backtick(struct_field.name)
        if target is None:
            select.append(f"{column} AS _c{index}")
        else:
            changed = True
            select.append(f"CAST({column} AS {target}) AS _c{index}")
    if not changed:
        return frame
    return frame.selectExpr(*select)


def _backtick(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _plain(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return collected values with naive datetimes (UTC wall times) marked UTC."""
    return tuple(
        v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v for v in values
    )


# -- conversions -------------------------------------------------------------------------------


def _flag_sql(expr: str, base: str, null_value: str, *, strict: bool = True) -> str | None:
    other = "raise_error('ethicsgate: not a flag')" if strict else "CAST(NULL AS BOOLEAN)"
    if base == "boolean":
        return f"coalesce(({expr}), {null_value})"
    if base in NUMERIC:
        return (
            f"CASE WHEN ({expr}) IS NULL THEN {null_value} WHEN ({expr}) = 1 THEN true "
            f"WHEN ({expr}) = 0 THEN false ELSE {other} END"
        )
    if base == "string":
        true = ", ".join(sql_literal(v) for v in _TRUE)
        false = ", ".join(sql_literal(v) for v in _FALSE)
        norm = f"lower(trim(CAST(({expr}) AS STRING)))"
        return (
            f"CASE WHEN ({expr}) IS NULL OR {norm} = '' THEN {null_value} "
            f"WHEN {norm} IN ({true}) THEN true WHEN {norm} IN ({false}) THEN false "
            f"ELSE {other} END"
        )
    if base == "void":
        return f"CAST({null_value} AS BOOLEAN)"
    return None


def convert_sql(kind: RoleKind, expr: str, base: str, *, strict: bool = True) -> str | None:
    """Return Spark SQL reading ``expr`` (Spark type ``base``) as a role of ``kind`` is typed.

    ``strict``: a value that cannot be converted fails the query; otherwise it gives NULL.
    None: the type cannot hold such a role at all.
    """
    cast = "CAST" if strict else "try_cast"
    if kind in ("key", "ref"):
        return f"({expr})" if base in INTEGER else f"nullif(CAST(({expr}) AS STRING), '')"
    if kind in ("text", "required_text"):
        return f"CAST(({expr}) AS STRING)"
    if kind == "actor":
        return f"lower(trim(CAST(({expr}) AS STRING)))"
    if kind == "timestamp":
        if base == "timestamp":
            return f"({expr})"
        if base in TIMES:
            return f"CAST(({expr}) AS TIMESTAMP)"  # the session time zone is UTC
        if base == "string":
            return f"{cast}(nullif(trim(CAST(({expr}) AS STRING)), '') AS TIMESTAMP)"
        if base == "void":
            return "CAST(NULL AS TIMESTAMP)"
        return None
    if kind in ("flag", "flag_or_false"):
        missing = "false" if kind == "flag_or_false" else "NULL"
        return _flag_sql(expr, base, missing, strict=strict)
    if kind == "number":
        if base in NUMERIC:
            return f"CAST(({expr}) AS DOUBLE)"
        if base == "string":
            return f"{cast}(nullif(trim(CAST(({expr}) AS STRING)), '') AS DOUBLE)"
        if base == "void":
            return "CAST(NULL AS DOUBLE)"
    return None


def _type_hint(role: Role, expr: str) -> str:
    return role_type_hint(
        role,
        expr,
        seconds="timestamp_seconds({})",
        parsed="to_timestamp({}, 'dd.MM.yyyy HH:mm')",
    )


def read_rows(evidence: SparkDataset, roles: Sequence[Role]) -> SparkRows:
    """Read an evidence set once into a cached table of typed roles, filter applied.

    Raises:
        EvidenceError: a role's column is missing or of the wrong type, or a value cannot be
            read (the first such value is named, with its file and the fix).
    """
    unique: list[Role] = list(dict.fromkeys(roles))
    available = evidence.columns()
    exprs: dict[Role, str] = {}
    types: dict[Role, str] = {}
    typed: dict[Role, str] = {}
    for role in unique:
        exprs[role], kind = evidence.checked_expression(role.name, available)
        types[role] = base_type(kind)
        converted = convert_sql(role.kind, exprs[role], types[role])
        if converted is None:
            raise EvidenceError(
                f"evidence {evidence.name!r} (engine spark): {role.name!r} must be "
                f"{_KIND_WORDS[role.kind]}, but {exprs[role]} has type {kind}",
                location=evidence.locate(
                    ("columns", role.name) if role.name in evidence.spec.columns else ("path",)
                ),
                hint=_type_hint(role, exprs[role]),
            )
        typed[role] = converted
    kept = evidence.checked_filter()
    name = quote_ident(f"_eg_rows_{next(_TABLES)}")
    select = ", ".join(f"{typed[r]} AS {r.column}" for r in unique) or "1 AS _one"
    where = "" if kept == "true" else f" WHERE {kept}"
    source = evidence.source_sql()
    try:
        evidence.sql(f"CACHE TABLE {name} AS SELECT {select} FROM {source}{where}")
        evidence.engine.views.append(name.strip('"'))
        counted = evidence.sql(
            f"SELECT (SELECT count(*) FROM {name}), "
            f"{'NULL' if kept == 'true' else f'(SELECT count(*) FROM {source})'}"
        ).collect()[0]
    except SPARK_ERRORS as exc:
        _diagnose_conversion(evidence, unique, exprs, types, kept)
        raise evidence.read_error(exc) from exc
    rows = int(counted[0])
    rows_read = rows if counted[1] is None else int(counted[1])
    result = SparkRows(
        evidence=evidence,
        table=name,
        roles=unique,
        rows_read=rows_read,
        rows=rows,
        dialect=evidence.engine.dialect,
        types=types,
        typed=typed,
        exprs=exprs,
        kept=kept,
    )
    _check_values(result)
    return result


def _diagnose_conversion(
    evidence: SparkDataset,
    roles: list[Role],
    exprs: dict[Role, str],
    types: dict[Role, str],
    kept: str,
) -> None:
    """Find the first value that could not be converted, and raise an error naming it."""
    for role in roles:
        expr = exprs[role]
        if role.kind in ("flag", "flag_or_false"):
            lenient = _flag_sql(expr, types[role], "NULL", strict=False)
            missing = f"({expr}) IS NULL OR trim(CAST(({expr}) AS STRING)) = ''"
            bad = f"({kept}) AND NOT ({missing}) AND ({lenient}) IS NULL"
            what = "is not true/false"
        elif types[role] == "string" and role.kind in ("timestamp", "number"):
            target = "TIMESTAMP" if role.kind == "timestamp" else "DOUBLE"
            text = f"nullif(trim(CAST(({expr}) AS STRING)), '')"
            bad = f"({kept}) AND {text} IS NOT NULL AND try_cast({text} AS {target}) IS NULL"
            what = f"is not {_KIND_WORDS[role.kind]}"
        else:
            continue
        try:
            hit = evidence.sql(f"SELECT 1 FROM {evidence.source_sql()} WHERE {bad} LIMIT 1")
            if not hit.collect():
                continue
        except SPARK_ERRORS:
            continue
        hint = _type_hint(role, expr)
        if role.kind == "timestamp":
            hint = (
                "use ISO 8601, e.g. 2025-03-01T10:00:00+01:00 (without an offset, UTC is "
                "assumed); " + hint
            )
        evidence.raise_at_first_row(role.name, bad, problem=f"{role.name!r} {what}", hint=hint)


def _check_values(table: SparkRows) -> None:
    """Raise for unknown actors and missing required text, naming the first such value."""
    checks: list[tuple[Role, str]] = []
    actors = ", ".join(sql_literal(a) for a in ACTORS)
    for role in table.roles:
        col = role.column
        if role.kind == "required_text":
            checks.append((role, f"{col} IS NULL"))
        elif role.kind == "actor":
            checks.append((role, f"{col} IS NULL OR {col} NOT IN ({actors})"))
    if not checks:
        return
    counts = ", ".join(f"count(*) FILTER (WHERE {cond})" for _, cond in checks)
    found = table.fetch(f"SELECT {counts} FROM {table.table}")[0]
    for (role, _), n in zip(checks, found, strict=True):
        if not n:
            continue
        typed = table.typed[role]
        hint_of: Callable[[object], str] | None = None
        if role.kind == "actor":
            bad = f"({table.kept}) AND ({typed} IS NULL OR {typed} NOT IN ({actors}))"
            what = f"is not one of {', '.join(ACTORS)} ({n:,} row(s))"
            hint = ""
            hint_of = partial(unknown_actor_hint, role, table.evidence.role_expression(role.name))
        else:
            bad = f"({table.kept}) AND ({typed}) IS NULL"
            what = f"is missing ({n:,} row(s))"
            hint = (
                f"every row needs a {role.name}; fix the data or exclude such rows with a "
                "filter in the audit spec"
            )
        table.evidence.raise_at_first_row(
            role.name, bad, problem=f"{role.name!r} {what}", hint=hint, hint_of=hint_of
        )
