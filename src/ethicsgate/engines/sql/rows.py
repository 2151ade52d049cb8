"""Row-level evidence in a database: the roles record rules read, typed, in a temporary table.

The same typing as the DuckDB engine (:mod:`ethicsgate.engines.duckdb.rows`): ids keep an
integer type or become text (empty text is missing), timestamps are ``timestamptz`` (naive
ones UTC), actors lower-cased, flags from true/false, 1/0, yes/no. A value that cannot be
converted is an error naming the engine, the table, the column, the value and how many rows
hold such values. The table lives in the session (``CREATE TEMP TABLE``); nothing but the
verdicts' counts and the listed findings leaves the database.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ethicsgate.engines.sql.dialect import PostgresDialect, translate_regex
from ethicsgate.engines.sql.types import INTEGER, JSON, TEXT, convert_sql, flag_sql, text_sql
from ethicsgate.errors import EvidenceError
from ethicsgate.evidence.engine import VerdictCounts
from ethicsgate.evidence.roles import ACTORS, Role, RoleKind, role_type_hint, unknown_actor_hint
from ethicsgate.evidence.sql import quote_ident, sql_literal

if TYPE_CHECKING:
    from ethicsgate.engines.sql.dataset import SQLDataset

__all__ = ["SQLRows", "read_rows"]

_TABLES = itertools.count()
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


def _escape(sql: str) -> str:
    return sql.replace(":", r"\:")


@dataclass
class SQLRows:
    """A temporary table with one typed column per role, filter already applied."""

    evidence: SQLDataset
    table: str
    roles: list[Role]
    rows_read: int
    rows: int
    types: dict[Role, str] = field(default_factory=dict)
    typed: dict[Role, str] = field(default_factory=dict)
    exprs: dict[Role, str] = field(default_factory=dict)
    kept: str = "true"
    dialect: PostgresDialect = field(default_factory=PostgresDialect)
    #: Verdict queries already evaluated into a temporary table, by their SQL: the counts,
    #: the listed findings and findings.parquet's batches read one evaluation.
    _verdicts: dict[str, str] = field(default_factory=dict, repr=False)

    def _evaluated(self, sql: str) -> str:
        """Return a temporary table holding the rows of verdict query ``sql`` (made once)."""
        if sql not in self._verdicts:
            name = f"{self.table}_v{len(self._verdicts)}"
            try:
                self.con.execute(sa.text(_escape(f"CREATE TEMP TABLE {name} AS {sql}")))
            except sa_exc.DBAPIError as exc:
                raise self.evidence.error(exc, what="evaluate a record rule") from None
            self._verdicts[sql] = name
        return self._verdicts[sql]

    @property
    def con(self) -> sa.Connection:
        """Return the engine's connection."""
        return self.evidence.con

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
        """Return the role's typed SQL over the source rows."""
        return self.typed[role]

    def require_present(
        self, role: Role, *, where: str = "true", raw_where: str = "true", purpose: str
    ) -> None:
        """Raise EvidenceError if ``role`` is missing in a row where ``where`` holds."""
        missing = int(
            self.fetch(
                f"SELECT count(*) FROM {self.table} WHERE ({where}) AND {role.column} IS NULL"
            )[0][0]
        )
        if missing:
            ev = self.evidence
            raise EvidenceError(
                f"evidence {ev.name!r}: {role.name!r} is missing ({missing:,} row(s)) in column "
                f"{self.exprs[role]} of {ev.describe()} (engine {ev.engine.shown})",
                location=_role_location(ev, role.name),
                hint=f"{purpose}; fix the data, map {role.name} under columns, or exclude such "
                "rows with a filter",
            )

    def check_patterns(self, patterns: Sequence[str]) -> tuple[str, str]:
        """Return the first pattern PostgreSQL's regular expressions reject and why."""
        for pattern in patterns:
            try:
                self.con.execute(sa.text("SELECT '' ~* :p"), {"p": translate_regex(pattern)}).all()
            except sa_exc.DBAPIError as exc:
                return pattern, str(exc.orig).strip().splitlines()[0]
        return "", ""

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a small aggregate query over the rows table and return its rows."""
        try:
            return [tuple(r) for r in self.con.execute(sa.text(_escape(sql))).all()]
        except sa_exc.DBAPIError as exc:
            raise self.evidence.error(exc, what="evaluate a record rule") from None

    def verdicts(
        self, sql: str, fields: Sequence[str], *, limit: int, id_role: Role
    ) -> VerdictCounts:
        """Count a verdict query's records and violations, list the first ``limit`` by id.

        Two queries inside the database: the totals with the counts by reason (grouping
        sets), and the first ``limit`` violating records by id (``ORDER BY _id LIMIT``).

        Raises:
            EvidenceError: two different rows share a record id.
        """
        bad = "_applies AND _reason IS NOT NULL"
        # the totals and the violations by reason in one evaluation (grouping sets)
        grouped = self.fetch(
            f"WITH v AS (SELECT * FROM {self._evaluated(sql)}) SELECT GROUPING(_reason), _reason, "
            f"count(*) FILTER (WHERE _applies), count(*) FILTER (WHERE {bad}), "
            f"count(*) FILTER (WHERE _conflict), min(_id) FILTER (WHERE _conflict) "
            "FROM v GROUP BY GROUPING SETS ((), (_reason))"
        )
        records, violations, conflicts, conflict_id = next(r[2:] for r in grouped if r[0] == 1)
        by_reason = [(r[1], r[3]) for r in grouped if r[0] == 0 and r[3]]
        if conflicts:
            ev = self.evidence
            raise EvidenceError(
                f"evidence {ev.name!r}: {id_role.name} {conflict_id!r} names two different "
                f"records ({int(conflicts):,} such id(s)) in column {self.exprs[id_role]} of "
                f"{ev.describe()} (engine {ev.engine.shown})",
                location=_role_location(ev, id_role.name),
                hint="ids must identify records: rows that repeat a record exactly are counted "
                "once, but rows that share an id and differ are ambiguous; fix the data or map "
                f"{id_role.name} to a unique id",
            )
        columns = ", ".join(["_id", "_reason", *(quote_ident(f) for f in fields)])
        listed_rows = self.fetch(
            f"SELECT {columns} FROM {self._evaluated(sql)} AS v WHERE {bad} ORDER BY _id "
            f"LIMIT {int(limit)}"
        )
        names = ["_id", "_reason", *fields]
        return VerdictCounts(
            records=int(records or 0),
            violations=int(violations or 0),
            by_reason={str(k): int(v) for k, v in sorted(by_reason)},
            listed=[dict(zip(names, row, strict=True)) for row in listed_rows],
            conflicts=0,
            conflict_id=None,
        )

    def violation_batches(
        self, sql: str, fields: Sequence[str], *, batch_rows: int
    ) -> Iterator[list[Mapping[str, Any]]]:
        """Yield every violating record by id, ``batch_rows`` at a time.

        A named (server-side) cursor in a transaction of its own: the database keeps the
        result, the driver holds one batch, whatever the number of violations.
        """
        columns = ", ".join(["_id", "_reason", *(quote_ident(f) for f in fields)])
        query = (
            f"SELECT {columns} FROM {self._evaluated(sql)} AS v "
            "WHERE _applies AND _reason IS NOT NULL ORDER BY _id"
        )
        names = ["_id", "_reason", *fields]
        raw: Any = self.con.connection.dbapi_connection
        try:
            with raw.transaction(), raw.cursor(name=f"eg_findings_{next(_TABLES)}") as cursor:
                cursor.execute(query)
                while part := cursor.fetchmany(batch_rows):
                    yield [dict(zip(names, row, strict=True)) for row in part]
        except raw.Error as exc:  # the driver's own error, outside SQLAlchemy
            wrapped = sa_exc.DBAPIError(query, None, exc)
            raise self.evidence.error(wrapped, what="list the findings") from None

    def drop(self) -> None:
        """Drop the temporary view, the table under it and the evaluated verdicts."""
        for name in self._verdicts.values():
            self.con.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
        self._verdicts.clear()
        self.con.execute(sa.text(f"DROP VIEW IF EXISTS {self.table}"))
        self.con.execute(sa.text(f"DROP TABLE IF EXISTS {self.table}_all"))


def _role_location(evidence: SQLDataset, name: str) -> Any:
    return evidence.locate(("columns", name) if name in evidence.spec.columns else ("columns",))


def _type_hint(role: Role, expr: str) -> str:
    return role_type_hint(
        role,
        expr,
        seconds="to_timestamp({})",
        parsed="to_timestamp({}, 'DD.MM.YYYY HH24:MI')",
    )


def read_rows(evidence: SQLDataset, roles: Sequence[Role]) -> SQLRows:
    """Read the roles into a temporary table of typed columns, filter applied.

    Raises:
        EvidenceError: a role's column is missing or of the wrong type, or a value cannot be
            read (the value, its count, the column and the fix are named).
    """
    unique: list[Role] = list(dict.fromkeys(roles))
    available = evidence.columns()
    exprs: dict[Role, str] = {}
    types: dict[Role, str] = {}
    for role in unique:
        exprs[role], types[role] = evidence.checked_expression(role.name, available)
    typed: dict[Role, str] = {}
    for role in unique:
        converted = convert_sql(role.kind, exprs[role], types[role])
        if converted is None:
            raise EvidenceError(
                f"evidence {evidence.name!r}: {role.name!r} must be {_KIND_WORDS[role.kind]}, "
                f"but {exprs[role]} has type {types[role]} ({evidence.describe()}, engine "
                f"{evidence.engine.shown})",
                location=_role_location(evidence, role.name),
                hint=_type_hint(role, exprs[role]),
            )
        typed[role] = converted
    kept = evidence.checked_filter()
    checks = _value_checks(unique, exprs, types, typed)
    table = f"_eg_rows_{next(_TABLES)}"
    columns = [f"{typed[r]} AS {r.column}" for r in unique] or ["1 AS _one"]
    names = [r.column for r in unique] or ["_one"]
    # one pass over the source: every row (filtered ones flagged), and per value check the
    # rows that fail it with their value as written; the counts come from this table
    columns.append(f"{kept} AS _eg_kept")
    for i, (_, bad, _, _) in enumerate(checks):
        columns.append(
            f"CASE WHEN ({bad}) THEN CAST(({exprs[checks[i][0]]}) AS text) END AS _eg_v{i}"
        )
        columns.append(f"coalesce(({bad}), false) AS _eg_b{i}")
    source = f"{table}_all"
    try:
        evidence.con.execute(
            sa.text(
                _escape(
                    f"CREATE TEMP TABLE {source} AS SELECT {', '.join(columns)} "
                    f"FROM {evidence.source_sql()} AS _s"
                )
            )
        )
        evidence.con.execute(
            sa.text(
                f"CREATE TEMP VIEW {table} AS SELECT {', '.join(names)} FROM {source} "
                "WHERE _eg_kept"
            )
        )
    except sa_exc.DBAPIError as exc:
        raise evidence.error(exc, what="read the evidence's rows") from None
    tallies = "".join(
        f", count(*) FILTER (WHERE _eg_kept AND _eg_b{i}), "
        f"min(_eg_v{i}) FILTER (WHERE _eg_kept AND _eg_b{i})"
        for i in range(len(checks))
    )
    counted = evidence.fetch(
        f"SELECT count(*), count(*) FILTER (WHERE _eg_kept){tallies} FROM {source}"
    )[0]
    result = SQLRows(
        evidence=evidence,
        table=table,
        roles=unique,
        rows_read=int(counted[0]),
        rows=int(counted[1]),
        types=types,
        typed=typed,
        exprs=exprs,
        kept=kept,
    )
    for i, (role, _, what, hint) in enumerate(checks):
        n, value = counted[2 + 2 * i], counted[3 + 2 * i]
        if n:
            raise EvidenceError(
                f"evidence {evidence.name!r}: {role.name!r} {what}: found "
                f"{'NULL (missing)' if value is None else repr(value)} ({int(n):,} row(s)) in "
                f"column {exprs[role]} of {evidence.describe()} (engine {evidence.engine.shown})",
                location=_role_location(evidence, role.name),
                hint=hint if isinstance(hint, str) else hint(value),
            )
    return result


def _value_checks(
    roles: list[Role], exprs: dict[Role, str], types: dict[Role, str], typed: dict[Role, str]
) -> list[tuple[Role, str, str, str | Callable[[object], str]]]:
    """Return per role what the reader refuses: (role, condition over the source, what, hint).

    Values the conversion turned into NULL (a timestamp, number or flag that does not parse),
    actors outside the vocabulary, missing required text. An actor's hint is made from the
    value found.
    """
    checks: list[tuple[Role, str, str, str | Callable[[object], str]]] = []
    actors = ", ".join(sql_literal(a) for a in ACTORS)
    for role in roles:
        expr, base, value = exprs[role], types[role], typed[role]
        if base in TEXT or base in JSON:
            text = f"nullif(btrim({text_sql(expr, base)}), '')"
        else:
            text = f"CAST(({expr}) AS text)"
        if role.kind in ("timestamp", "number", "flag", "flag_or_false"):
            hint = _type_hint(role, expr)
            if role.kind == "timestamp":
                hint = (
                    "use ISO 8601, e.g. 2025-03-01T10:00:00+01:00 (without an offset, UTC is "
                    "assumed); " + hint
                )
            bad = f"{text} IS NOT NULL AND ({value}) IS NULL"
            if role.kind in ("flag", "flag_or_false"):
                lenient = flag_sql(expr, base, "NULL") or "NULL"
                bad = f"{text} IS NOT NULL AND ({lenient}) IS NULL"
            checks.append((role, bad, f"is not {_KIND_WORDS[role.kind]}", hint))
        elif role.kind == "actor":
            checks.append(
                (
                    role,
                    f"({value}) IS NULL OR ({value}) NOT IN ({actors})",
                    f"is not one of {', '.join(ACTORS)}",
                    partial(unknown_actor_hint, role, expr),
                )
            )
        elif role.kind == "required_text":
            checks.append(
                (
                    role,
                    f"({value}) IS NULL",
                    "is missing",
                    f"every row needs a {role.name}; fix the data or exclude such rows with a "
                    "filter in the audit spec",
                )
            )
    return checks
