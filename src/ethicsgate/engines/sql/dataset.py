"""Read a table or query of a SQL database: every scan an aggregate computed by the database.

The same contract as the DuckDB engine (:mod:`ethicsgate.engines.duckdb.dataset`), the
reference these are tested against: grouped counts with binary roles normalised to 0/1, the
score profile and its median histogram, the narrowing search for exact order statistics, and
typed rows for the record rules. Errors name the engine (password redacted), the table or
query, the column and the fix.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ethicsgate.engines import redact_message
from ethicsgate.engines.sql.digest import (
    DIGEST_KIND,
    digest_query,
    digest_sum,
    digest_value,
)
from ethicsgate.engines.sql.types import NUMERIC, base_type, binary_sql, text_sql
from ethicsgate.errors import EvidenceError, close_match, did_you_mean
from ethicsgate.evidence.median import HistogramSummary
from ethicsgate.evidence.model import (
    BINARY_DTYPE,
    WINDOW_KEY,
    EvidenceFile,
    GroupedCounts,
    Locator,
    ProgressCallback,
    ScoreBucket,
    ScoreColumn,
    ScoreProfile,
    TableIdentity,
    WindowKey,
    kept_rows,
    text_as_categories,
)
from ethicsgate.evidence.sql import (
    OFFSET_TEXT,
    POSTGRESQL_LEXIS,
    column_guess,
    expression_problem,
    keyword_column_hint,
    names_a_column,
    not_one_expression,
    quote_ident,
    sql_literal,
    text_not_a_time,
    window_column_hint,
    window_key_path,
)

if TYPE_CHECKING:
    from pathlib import Path

    from ethicsgate.engines.sql import SQLEngine
    from ethicsgate.engines.sql.rows import SQLRows
    from ethicsgate.evidence.contracts import BuiltinCheck, ContractResult
    from ethicsgate.evidence.roles import Role
    from ethicsgate.evidence.spec import DatasetFormat, EvidenceSpec
    from ethicsgate.policy.models import DataQualityRule

__all__ = ["SQLDataset", "database_error"]

_HISTOGRAM_BINS = 4096
_EXACT_ROWS = 1_000_000
#: A name PostgreSQL reads unquoted as written (lower case: unquoted names are folded).
#: The keywords PostgreSQL evaluates as values without parentheses (SQL's value functions): a
#: column of one of these names, unquoted, reads the value, not the column.
_VALUE_KEYWORDS = frozenset(
    {
        "user", "current_user", "session_user", "current_role", "current_catalog",
        "current_schema", "current_date", "current_time", "current_timestamp", "localtime",
        "localtimestamp",
    }
)  # fmt: skip
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _double(value: float) -> str:
    if math.isnan(value) or math.isinf(value):  # pragma: no cover - audited scores are finite
        return f"CAST('{value!r}' AS double precision)"
    return f"CAST({value!r} AS double precision)"


def database_error(
    engine: SQLEngine,
    exc: sa_exc.DBAPIError,
    *,
    what: str,
    evidence: str | None = None,
    source: str | None = None,
    location: Any = None,
) -> EvidenceError:
    """Return the located error for a database error: missing table, column, permission.

    The message names the engine (password redacted), the evidence set and its table or
    query, the database's reason (first line) and the fix.
    """
    orig = exc.orig
    state = str(getattr(orig, "sqlstate", "") or "")
    reason = str(orig).strip().splitlines()[0] if orig is not None else str(exc).splitlines()[0]
    reason = redact_message(reason, engine.url.render_as_string(hide_password=False))
    named = f"evidence {evidence!r} ({source}) on " if evidence else ""
    hints = {
        "42P01": "check the table's schema and name (and the search_path), or create it",
        "3F000": "check the schema's name",
        "42703": "map the role under columns to a column or expression of the table",
        "42501": "grant the engine's user SELECT on the table (GRANT SELECT ON ... TO USER), "
        "or use a user that has it",
        "42601": "fix the SQL: columns, filter and query are PostgreSQL SQL on this engine",
        "42883": "the expression uses a function or operator PostgreSQL does not have; write "
        "it in PostgreSQL's SQL",
        "57014": "the query was cancelled (statement_timeout): narrow the evidence or raise "
        "the timeout",
    }
    hint = hints.get(state, "check the table, columns and filter against the database")
    if state == "0A000" and "cross-database" in reason:  # table: db.schema.name
        hint = (
            f"PostgreSQL reads the tables of the database the engine connects to "
            f"({engine.url.database}) only: name the table schema.name and put its database "
            "in the engine's URL (postgresql://USER@HOST/DB)"
        )
    elif state == "0A000" and "data-modifying" in reason:  # WITH d AS (DELETE ...) SELECT ...
        hint = (
            "an audit only reads: the query runs as a subquery, where PostgreSQL refuses "
            "INSERT, UPDATE, DELETE and MERGE; write a query that only reads"
        )
    return EvidenceError(
        f"{named}engine {engine.shown}: cannot {what}: {reason}",
        location=location or "--engine",
        hint=hint,
    )


@dataclass
class SQLDataset:
    """One ``table:`` or ``query:`` evidence set of a SQL database."""

    name: str
    spec: EvidenceSpec
    locate: Locator
    engine: SQLEngine = field(repr=False)
    _types: dict[int, str] = field(default_factory=dict, repr=False)
    _identity: TableIdentity | None = field(default=None, repr=False)
    _columns: list[tuple[str, str]] | None = field(default=None, repr=False)

    @property
    def format(self) -> DatasetFormat:
        """Return ``table`` or ``query`` (no file format)."""
        return "table" if self.spec.table is not None else "query"

    @property
    def files(self) -> list[Path]:
        """Return no files: the evidence is in the database."""
        return []

    @property
    def con(self) -> sa.Connection:
        """Return the engine's connection."""
        return self.engine.con

    # -- SQL -----------------------------------------------------------------------------

    def source_sql(self) -> str:
        """Return the evidence as a parenthesised relation (alias it where used)."""
        if self.spec.table is not None:
            return f"(SELECT * FROM {self.spec.table})"
        query = (self.spec.query or "").strip().rstrip(";")
        # on lines of their own: a query ending in a -- comment must not hide the ")"
        return f"(\n{query}\n)"

    def describe(self) -> str:
        """Return how messages name the evidence: ``table NAME`` or ``its query``."""
        return f"table {self.spec.table}" if self.spec.table is not None else "its query"

    def where_key(self) -> tuple[str, ...]:
        """Return the audit spec key of the evidence's source, for locations."""
        return ("table",) if self.spec.table is not None else ("query",)

    def role_expression(self, role: str) -> str:
        """Return the SQL expression of a role: its mapping, or the column of the same name.

        Raises:
            EvidenceError: the mapping is not one SQL expression (located at its key).
        """
        mapped = self.spec.columns.get(role)
        if not mapped:
            return quote_ident(self._column_named(role) or role)
        named = self._column_named(mapped)
        if named is not None and not (
            named == mapped
            and _PLAIN_NAME.fullmatch(mapped)
            and mapped not in self.engine.reserved_words()
        ):
            # a name PostgreSQL would fold, or a keyword (group is a syntax error, user the
            # session's user): quoted; a plain name stays as written, readable
            return quote_ident(named)
        self.check_expression(mapped, ("columns", role), f"the expression for {role!r}")
        self._refuse_value_keywords(mapped, ("columns", role), f"the expression for {role!r}")
        return mapped

    def _refuse_value_keywords(self, text: str, key: tuple[str, ...], what: str) -> None:
        """Raise when ``text`` names, unquoted, a column PostgreSQL reads as a value keyword.

        ``user``, ``current_user``, ``current_date``, ... are values on PostgreSQL, not the
        columns of those names (DuckDB reads the column): ``filter: "user <> 'test'"`` would
        compare the session's user and keep the wrong rows, in silence.

        Raises:
            EvidenceError: the column and the text with it quoted, at ``key``.
        """
        names = [name for name, _ in self.columns()]
        named = {name.lower() for name in names} & _VALUE_KEYWORDS
        if not named:
            return
        rewritten = keyword_column_hint(text, names, frozenset(named), POSTGRESQL_LEXIS)
        if rewritten is None:
            return
        raise EvidenceError(
            f"evidence {self.name!r}: {what} names the column {sorted(named)[0]!r} unquoted, "
            f"which PostgreSQL reads as its own value (the session's user, today's date), not "
            f"the column ({self.describe()}, engine {self.engine.shown})",
            location=self.locate(key),
            hint=rewritten,
        )

    def _column_named(self, text: str) -> str | None:
        """Return the column ``text`` names: exactly, else the one column so named in any case.

        A role or mapping that names a column (``race: Race``) is read by that name, as DuckDB
        and Spark read it: their names ignore case, while PostgreSQL folds an unquoted name to
        lower case (``Race`` is ``race``, which a table created with "Race" does not have).
        """
        names = [name for name, _ in self.columns()]
        if text in names:
            return text
        folded = [name for name in names if name.lower() == text.lower()]
        return folded[0] if len(folded) == 1 else None

    def check_expression(self, text: str, key: tuple[str, ...], what: str) -> None:
        """Raise unless ``text`` is one PostgreSQL expression, before any query holds it.

        Raises:
            EvidenceError: it is not (two statements, an unmatched parenthesis or quote), at
                ``key``: nothing has run on the database.
        """
        problem = expression_problem(text, POSTGRESQL_LEXIS)
        if problem is not None:
            raise not_one_expression(
                self.name, what, text, problem, location=self.locate(key), engine=self.engine.shown
            )

    def fetch(self, sql: str, *, what: str = "read the evidence", key: Any = None) -> list[Any]:
        """Run one query and return its rows.

        Raises:
            EvidenceError: the database refuses it (located, with the fix).
        """
        try:
            return list(self.con.execute(sa.text(sql.replace(":", r"\:"))).all())
        except sa_exc.DBAPIError as exc:
            raise self.error(exc, what=what, key=key) from None

    def error(self, exc: sa_exc.DBAPIError, *, what: str, key: Any = None) -> EvidenceError:
        """Return the located error for a database error reading this evidence."""
        return database_error(
            self.engine,
            exc,
            what=what,
            evidence=self.name,
            source=self.describe(),
            location=self.locate(key or self.where_key()),
        )

    def probe_types(self, exprs: Sequence[str]) -> list[str]:
        """Return the PostgreSQL type of each expression over the evidence (no rows read).

        Raises:
            sqlalchemy DBAPIError: an expression does not evaluate.
        """
        select = ", ".join(f"({e}) AS _c{i}" for i, e in enumerate(exprs)) or "1"
        sql = f"SELECT {select} FROM {self.source_sql()} AS _s LIMIT 0"
        result = self.con.execute(sa.text(sql.replace(":", r"\:")))
        oids: list[Any] = [d[1] for d in result.cursor.description or []]
        result.close()
        return [self._type_name(int(oid)) for oid in oids]

    def _type_name(self, oid: int) -> str:
        if oid not in self._types:
            name = self.con.execute(
                sa.text("SELECT format_type(CAST(:oid AS oid), NULL)"), {"oid": oid}
            ).scalar()
            self._types[oid] = base_type(str(name))
        return self._types[oid]

    def columns(self) -> list[tuple[str, str]]:
        """Return the evidence's column names and types.

        Raises:
            EvidenceError: the table does not exist, cannot be read, or the query fails.
        """
        if self._columns is not None:
            return self._columns
        sql = f"SELECT * FROM {self.source_sql()} AS _s LIMIT 0"
        try:
            result = self.con.execute(sa.text(sql.replace(":", r"\:")))
        except sa_exc.DBAPIError as exc:
            raise self.error(exc, what=f"read {self.describe()}") from None
        described = [(str(d[0]), int(d[1])) for d in result.cursor.description or []]  # type: ignore[call-overload]
        result.close()
        self._columns = [(name, self._type_name(oid)) for name, oid in described]
        return self._columns

    def checked_expression(self, role: str, available: list[tuple[str, str]]) -> tuple[str, str]:
        """Return a role's SQL expression and its type.

        Raises:
            EvidenceError: the column does not exist, or the mapped expression does not
                evaluate (located in the audit spec, with the table's columns).
        """
        expr = self.role_expression(role)
        try:
            return expr, self.probe_types([expr])[0]
        except sa_exc.DBAPIError as exc:
            names = ", ".join(name for name, _ in available)
            reason = str(exc.orig).strip().splitlines()[0]
            if role in self.spec.columns:
                guess = column_guess(
                    self.spec.columns[role], (name for name, _ in available), POSTGRESQL_LEXIS
                )
                raise EvidenceError(
                    f"evidence {self.name!r}: the expression for {role!r} ({expr}) does not "
                    f"evaluate on {self.describe()} (engine {self.engine.shown}): {reason}{guess}",
                    location=self.locate(("columns", role)),
                    hint=f"columns of {self.describe()}: {names}",
                ) from None
            meant = close_match(role, [name for name, _ in available])
            raise EvidenceError(
                f"evidence {self.name!r} has no column {role!r} ({self.describe()}, engine "
                f"{self.engine.shown}){did_you_mean(role, [meant] if meant else [])}",
                location=self.locate(("columns",)),
                hint=f"map it under evidence.{self.name}.columns, e.g. {role}: "
                f"{meant or '<column or SQL>'}; available columns: {names}",
            ) from None

    def checked_filter(self) -> str:
        """Return the evidence filter as a true/false SQL condition (``true`` without one).

        Raises:
            EvidenceError: the filter does not evaluate, or is not a condition.
        """
        if not self.spec.filter:
            return "true"
        self.check_expression(self.spec.filter, ("filter",), "the filter")
        self._refuse_value_keywords(self.spec.filter, ("filter",), "the filter")
        condition = f"coalesce(({self.spec.filter}), false)"
        try:
            kind = self.probe_types([condition])[0]
        except sa_exc.DBAPIError as exc:
            keyword = keyword_column_hint(
                self.spec.filter,
                (n for n, _ in self.columns()),
                self.engine.reserved_words(),
                POSTGRESQL_LEXIS,
            )
            raise EvidenceError(
                f"evidence {self.name!r}: the filter does not evaluate on {self.describe()} "
                f"(engine {self.engine.shown}): {str(exc.orig).strip().splitlines()[0]}",
                location=self.locate(("filter",)),
                hint=keyword or 'write a SQL condition over the evidence columns, e.g. "age >= 18"',
            ) from None
        if kind != "boolean":
            raise EvidenceError(
                f"evidence {self.name!r}: filter must be a true/false condition, found type {kind} "
                f"({self.describe()}, engine {self.engine.shown})",
                location=self.locate(("filter",)),
            )
        return condition

    # -- identity ------------------------------------------------------------------------

    def start_hashing(self, pool: ThreadPoolExecutor) -> None:
        """Do nothing now: the identity is one query on the connection, after the scans."""

    def digests(self) -> list[EvidenceFile]:
        """Return no files: :meth:`identity` pins the evidence instead."""
        return []

    def identity(self) -> TableIdentity:
        """Return the table's identity: row count and content digest, computed in the database.

        The digest (:mod:`ethicsgate.engines.sql.digest`) does not depend on the order the
        rows are stored or read in, and counts a repeated row twice; for a query, the sha256
        of its exact text is bound too. The first grouped pass computes it on the way; an
        audit that made none pays one pass here.
        """
        if self._identity is None:
            sql = digest_query(self.source_sql(), self.columns())
            rows, total = self.fetch(sql, what="compute the evidence's digest")[0]
            self._pin(int(rows), int(total or 0))
        assert self._identity is not None
        return self._identity

    def _pin(self, rows: int, total: int) -> None:
        query = self.spec.query
        self._identity = TableIdentity(
            engine=self.engine.shown,
            table=self.spec.table,
            query_sha256=None if query is None else hashlib.sha256(query.encode()).hexdigest(),
            rows=rows,
            content_digest=digest_value(total),
            digest_kind=DIGEST_KIND,
        )

    # -- grouped counts ------------------------------------------------------------------

    def grouped_counts(
        self,
        *,
        roles: Sequence[str],
        binary_roles: Sequence[str] = (),
        progress: ProgressCallback | None = None,
        score_columns: Mapping[str, ScoreColumn] | None = None,
        window: WindowKey | None = None,
    ) -> GroupedCounts:
        """Count rows per combination of role values in one GROUP BY inside the database.

        ``window`` adds the key ``_window``: the first day of each row's calendar window
        (``date_trunc`` in UTC, weeks from Monday) as ISO text, in the same GROUP BY.

        Binary roles come back as 0/1 integers, the other roles as text (``None`` for NULL),
        ordered as the DuckDB engine orders them (NULLs first, text by its bytes).

        Raises:
            EvidenceError: a column or expression does not exist or does not evaluate, or a
                binary role holds a value other than 0/1 (a value and its count are named).
        """
        import pandas as pd

        available = self.columns()
        outer: list[str] = []
        order: list[str] = []
        normalized: dict[str, str] = {}
        for role in roles:
            expr, kind = self.checked_expression(role, available)
            if role in binary_roles:
                mapped = binary_sql(kind, expr)
                if mapped is None:
                    raise EvidenceError(
                        f"evidence {self.name!r}: {role!r} must be 0/1 or true/false, but "
                        f"{expr} has type {kind} ({self.describe()}, engine {self.engine.shown})",
                        location=self.locate(
                            ("columns", role) if role in self.spec.columns else self.where_key()
                        ),
                        hint=f'map {role} to a 0/1 column or a condition, e.g. {role}: "score '
                        '>= 0.5"',
                    )
                normalized[role] = mapped
                outer.append(f"{mapped} AS {quote_ident(role)}")
                order.append(f"{quote_ident(role)} NULLS FIRST")
            else:
                outer.append(f"{text_sql(expr, kind)} AS {quote_ident(role)}")
                # the expression, not the alias: with COLLATE, a name is read as the input
                # column of that name (a bigint column named like its role fails)
                order.append(f'({text_sql(expr, kind)}) COLLATE "C" NULLS FIRST')
        kept = self.checked_filter()
        outer.append(f"{kept} AS _kept")
        order.append("_kept NULLS FIRST")
        sums: list[str] = []
        if score_columns:
            score = self._score_sql(available)
            for name, column in score_columns.items():
                if column.kind == "sum":
                    sums.append(f"sum({score}) AS {quote_ident(name)}")
                    continue
                outer.append(f"{_score_column_sql(score, column)} AS {quote_ident(name)}")
                order.append(f"{quote_ident(name)} NULLS FIRST")
        if window is not None:
            outer.append(f"{self._window_sql(window, available)} AS {quote_ident(WINDOW_KEY)}")
            order.append(f"{quote_ident(WINDOW_KEY)} NULLS FIRST")
        keys = ", ".join(str(i + 1) for i in range(len(outer)))
        # the evidence identity rides along: its sums over every row (the filter is a key)
        column_names = [name for name, _ in available]
        digest = self._identity is None and len(set(column_names)) == len(column_names)
        if digest:
            sums.append(f"{digest_sum(available)} AS _eg_digest")
        sql = (
            f"SELECT {', '.join(outer)}, count(*) AS n{''.join(', ' + s for s in sums)} "
            f"FROM {self.source_sql()} AS _s GROUP BY {keys} ORDER BY {', '.join(order)}, n"
        )
        if progress is not None:
            progress(self.name, 0.0)
        try:
            result = self.con.execute(sa.text(sql.replace(":", r"\:")))
            names = list(result.keys())
            records: list[Any] = list(result.all())
        except sa_exc.DBAPIError as exc:
            bad_time = window is not None and self._text_not_a_time(window, exc, available)
            raise bad_time or self.error(exc, what=f"count the rows of {self.describe()}") from None
        if progress is not None:
            progress(self.name, 1.0)
        if digest:
            at, count = names.index("_eg_digest"), names.index("n")
            self._pin(sum(int(r[count]) for r in records), sum(int(r[at] or 0) for r in records))
            records = [r[:at] + r[at + 1 :] for r in records]
            names = names[:at] + names[at + 1 :]
        frame = pd.DataFrame.from_records([tuple(r) for r in records], columns=names)
        frame["n"] = frame["n"].astype("int64")
        rows_read = int(frame["n"].sum())
        frame = kept_rows(frame)
        for role in binary_roles:
            if frame[role].isna().any():
                self._raise_bad_binary(role, normalized[role], kept)
            frame[role] = frame[role].astype(BINARY_DTYPE)
        for role in roles:
            if role not in binary_roles:
                frame[role] = frame[role].astype(object)
        for name, column in (score_columns or {}).items():
            if column.kind in ("gt", "ge"):  # DuckDB's INTEGER
                frame[name] = frame[name].astype("int32")
            elif column.kind == "bin":
                frame[name] = frame[name].astype("int64")
            else:
                frame[name] = frame[name].astype("float64")
        # the score columns after the roles, sums last: the column order DuckDB returns
        ordered = [*roles, *(k for k, c in (score_columns or {}).items() if c.kind != "sum")]
        if window is not None:  # the window key last of the keys, as DuckDB returns it
            frame[WINDOW_KEY] = frame[WINDOW_KEY].astype(object)
            ordered.append(WINDOW_KEY)
        ordered += ["n", *(k for k, c in (score_columns or {}).items() if c.kind == "sum")]
        frame = frame[[c for c in ordered if c in frame.columns]]
        frame = text_as_categories(frame)
        return GroupedCounts(frame=frame, rows_read=rows_read, rows=int(frame["n"].sum()))

    def _window_sql(self, window: WindowKey, available: list[tuple[str, str]]) -> str:
        """Return each row's window, its first day as ISO text (NULL where the time is NULL).

        Raises:
            EvidenceError: the column does not evaluate, or is not a date, a timestamp or text.
        """
        expr = window.column or self.role_expression("timestamp")
        where = window_key_path(window.column, self.spec.columns)
        if names_a_column(expr, available):
            expr = quote_ident(expr)
        elif window.column:
            self.check_expression(expr, where, "the window's column")
        names = ", ".join(name for name, _ in available)
        try:
            kind = self.probe_types([expr])[0]
        except sa_exc.DBAPIError as exc:
            location = self.locate(where)
            raise EvidenceError(
                f"evidence {self.name!r}: the window column {expr} does not evaluate on "
                f"{self.describe()} (engine {self.engine.shown}): "
                f"{str(exc.orig).strip().splitlines()[0]}",
                location=location,
                hint=window_column_hint(location, names),
            ) from None
        # the window's zone (IANA, checked by the spec): instants are converted to its wall
        # clock, naive times are that wall clock already, dates are dates
        zone = sql_literal(window.time_zone or "UTC")
        if kind == "timestamp with time zone":
            time = f"(({expr}) AT TIME ZONE {zone})"
        elif kind in ("timestamp without time zone", "date"):
            time = f"CAST(({expr}) AS timestamp)"  # naive times are taken as UTC
        elif kind in ("text", "character varying", "character") and window.time_zone:
            # the session reads text without an offset as UTC: kept as that wall clock,
            # text with one converted to the zone
            offset = f"CASE WHEN ({expr}) ~ {sql_literal(OFFSET_TEXT)} THEN {zone} ELSE 'UTC' END"
            time = f"(CAST(({expr}) AS timestamptz) AT TIME ZONE {offset})"
        elif kind in ("text", "character varying", "character"):
            # text with an offset is converted to UTC; text without one is taken as UTC
            time = f"(CAST(({expr}) AS timestamptz) AT TIME ZONE 'UTC')"
        else:
            raise EvidenceError(
                f"evidence {self.name!r}: the window column {expr} has type {kind}, not a date "
                f"or a timestamp ({self.describe()}, engine {self.engine.shown})",
                location=self.locate(where),
                hint='map it to a time, e.g. column: "make_date(year, month, day)" or '
                '"to_timestamp(epoch_seconds)"',
            )
        return f"to_char(date_trunc('{window.every}', {time}), 'YYYY-MM-DD')"

    def _text_not_a_time(
        self, window: WindowKey, exc: sa_exc.DBAPIError, available: list[tuple[str, str]]
    ) -> EvidenceError | None:
        """Return the located error for a text window column with a value that is no time.

        PostgreSQL names the value (invalid input syntax for type timestamp with time zone:
        "not a date"); None when the scan failed for another reason.
        """
        if str(getattr(exc.orig, "sqlstate", "") or "") not in ("22007", "22008"):
            return None
        expr = window.column or self.role_expression("timestamp")
        if names_a_column(expr, available):
            expr = quote_ident(expr)
        try:
            kind = self.probe_types([expr])[0]
        except sa_exc.DBAPIError:
            return None
        if kind not in ("text", "character varying", "character"):
            return None
        reason = str(exc.orig).strip().splitlines()[0]
        return text_not_a_time(
            f"evidence {self.name!r}",
            expr,
            f" ({self.describe()}, engine {self.engine.shown}): {reason}",
            location=self.locate(window_key_path(window.column, self.spec.columns)),
            available=available,
        )

    def _raise_bad_binary(self, role: str, normalized: str, kept: str) -> None:
        expr = self.role_expression(role)
        rows = self.fetch(
            f"SELECT CAST(({expr}) AS text) AS v, count(*) FROM {self.source_sql()} AS _s "
            f"WHERE ({kept}) AND ({normalized}) IS NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5"
        )
        shown = ", ".join(
            f"{'NULL (missing)' if v is None else repr(v)} ({int(n):,} rows)" for v, n in rows
        )
        raise EvidenceError(
            f"evidence {self.name!r}: {role!r} must be 0 or 1, found {shown} in column {expr} "
            f"of {self.describe()} (engine {self.engine.shown})",
            location=self.locate(("columns", role) if role in self.spec.columns else ("columns",)),
            hint=f"map {role} to the condition that means 1 under evidence.{self.name}.columns, "
            f"e.g. {role}: \"{expr} = 'yes'\", or exclude such rows with a filter",
        )

    # -- scores --------------------------------------------------------------------------

    def _score_sql(self, available: list[tuple[str, str]]) -> str:
        expr, kind = self.checked_expression("score", available)
        if kind not in NUMERIC:
            raise EvidenceError(
                f"evidence {self.name!r}: 'score' must be numeric, but {expr} has type {kind} "
                f"({self.describe()}, engine {self.engine.shown})",
                location=self.locate(
                    ("columns", "score") if "score" in self.spec.columns else self.where_key()
                ),
                hint="map score to a numeric column or expression, e.g. score: "
                + json.dumps(f"CAST({expr} AS double precision)"),
            )
        return f"CAST(({expr}) AS double precision)"

    def score_profile(
        self,
        *,
        distinct: bool = True,
        median: bool = False,
        progress: ProgressCallback | None = None,
    ) -> ScoreProfile:
        """Return the count, range and distinct values (exact) of the audited scores.

        One pass. With ``median`` it groups the scores by a 12-bit histogram and returns the
        buckets holding the middle ranks and, with ``distinct``, the distinct count those
        buckets tell, as the DuckDB engine does: exact when every bucket holds one value,
        else at least (buckets of one value) + 2 x (the others), which decides alone above
        :data:`EXACT_SCORE_VALUES`; only in between does ``count(DISTINCT)`` take a pass of
        its own.

        Raises:
            EvidenceError: ``score`` is missing, not numeric, or holds a NULL, NaN or infinite
                value in an audited row.
        """
        score = self._score_sql(self.columns())
        kept = self.checked_filter()
        bad = (
            f"({score} IS NULL OR {score} IN (CAST('NaN' AS double precision), "
            "CAST('Infinity' AS double precision), CAST('-Infinity' AS double precision)))"
        )
        one_pass: tuple[ScoreBucket, ...] | None = None
        at_least = False
        if median:
            # the profile and a 12-bit histogram (no range needed) in one pass
            found = self._profile_buckets(score, kept, bad)
            bad_rows, rows, low, high = found.bad, found.rows, found.low, found.high
            one_pass = found.buckets
            estimate = 0
            if distinct and not bad_rows and rows:
                estimate, at_least = found.distinct
                if found.distinct_undecided:
                    # the buckets cannot tell: count them
                    sql = (
                        f"SELECT count(DISTINCT {score}) FROM {self.source_sql()} AS _s "
                        f"WHERE {kept}"
                    )
                    estimate = int(self.fetch(sql, what="count the distinct scores")[0][0])
                    at_least = False
        else:
            sql = (
                f"SELECT count(*) FILTER (WHERE {bad}), count(*), min({score}) FILTER (WHERE "
                f"NOT {bad}), max({score}) FILTER (WHERE NOT {bad}), "
                f"{f'count(DISTINCT {score})' if distinct else '0'} "
                f"FROM {self.source_sql()} AS _s WHERE {kept}"
            )
            bad_rows, rows, low, high, estimate = self.fetch(sql, what="profile the scores")[0]
        if bad_rows:
            first = self.fetch(
                f"SELECT CAST(({self.role_expression('score')}) AS text) FROM "
                f"{self.source_sql()} AS _s WHERE ({kept}) AND {bad} LIMIT 1"
            )
            value = first[0][0] if first else None
            raise EvidenceError(
                f"evidence {self.name!r}: 'score' must be a finite number in every audited row, "
                f"found {'NULL (missing)' if value is None else repr(value)} ({int(bad_rows):,} "
                f"such rows) in column {self.role_expression('score')} of {self.describe()} "
                f"(engine {self.engine.shown})",
                location=self.locate(
                    ("columns", "score") if "score" in self.spec.columns else self.where_key()
                ),
                hint="fix the data, or exclude such rows with a filter in the audit spec",
            )
        if not rows:
            return ScoreProfile(rows=0, min=0.0, max=0.0, distinct_estimate=0)
        return ScoreProfile(
            rows=int(rows),
            min=float(low),
            max=float(high),
            distinct_estimate=int(estimate),
            median_buckets=one_pass,
            distinct_at_least=at_least,
        )

    def _profile_buckets(self, score: str, kept: str, bad: str) -> HistogramSummary:
        """Return what a 12-bit histogram tells: bad rows, rows, range, middle buckets, distinct.

        The scores are rounded to 12 significant bits (Veltkamp's split, as the DuckDB engine
        does: a non-decreasing function of the score in IEEE double arithmetic, which
        PostgreSQL's float8 is); the buckets around the middle ranks come back only when
        their ranges are disjoint and ascending.
        """
        c = _double(float(2 ** (53 - 12) + 1))
        down, up = _double(2.0**-100), _double(2.0**100)

        def split(x: str) -> str:
            return f"(({c} * {x}) - (({c} * {x}) - {x}))"

        key = (
            f"CASE WHEN {bad} THEN NULL WHEN abs({score}) < {_double(2.0**960)} THEN "
            f"{split(score)} ELSE {split(f'({score} * {down})')} * {up} END"
        )
        sql = (
            f"WITH b AS MATERIALIZED (SELECT {key} AS k, count(*) AS n, min({score}) AS lo, "
            f"max({score}) AS hi FROM {self.source_sql()} AS _s WHERE {kept} GROUP BY 1), "
            "c AS MATERIALIZED (SELECT k, n, lo, hi, sum(n) OVER (ORDER BY k ROWS BETWEEN "
            "UNBOUNDED PRECEDING AND CURRENT ROW) - n AS below, lead(lo) OVER (ORDER BY k) AS "
            "next_lo FROM b WHERE k IS NOT NULL), "
            "t AS (SELECT coalesce(sum(n), 0) AS rows, min(lo) AS lo, max(hi) AS hi, "
            "coalesce(bool_and(next_lo IS NULL OR hi < next_lo), true) AS ordered, "
            "count(*) FILTER (WHERE lo = hi) AS single, count(*) FILTER (WHERE lo < hi) AS mixed "
            "FROM c), "
            "z AS (SELECT coalesce(sum(n), 0) AS bad FROM b WHERE k IS NULL) "
            "SELECT z.bad, t.rows, t.lo, t.hi, t.ordered, t.single, t.mixed, "
            "c.below, c.n, c.lo, c.hi "
            "FROM t CROSS JOIN z LEFT JOIN c ON t.ordered AND c.below + c.n > div(t.rows - 1, 2) "
            "AND c.below <= div(t.rows, 2) ORDER BY c.below"
        )
        return HistogramSummary.from_rows(self.fetch(sql, what="profile the scores"))

    def score_median_buckets(
        self,
        *,
        low: float | None = None,
        high: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> tuple[ScoreBucket, ...]:
        """Return the buckets of a 4,096-bin histogram that hold the middle ranks (one pass)."""
        score = self._score_sql(self.columns())
        kept = self.checked_filter()
        if low is None or high is None:
            found = self.fetch(
                f"SELECT min({score}), max({score}) FROM {self.source_sql()} AS _s WHERE {kept}"
            )[0]
            if found[0] is None:
                return ()
            low, high = float(found[0]), float(found[1])
        if high > low and math.isfinite(_HISTOGRAM_BINS / (high - low)):
            scale = _HISTOGRAM_BINS / (high - low)
            key = (
                f"CAST(least(floor(({score} - {_double(low)}) * {_double(scale)}), "
                f"{_HISTOGRAM_BINS - 1}) AS bigint)"
            )
        else:
            key = "0"
        sql = (
            f"WITH b AS (SELECT {key} AS k, count(*) AS n, min({score}) AS lo, max({score}) "
            f"AS hi FROM {self.source_sql()} AS _s WHERE {kept} GROUP BY 1), "
            "c AS (SELECT k, n, lo, hi, sum(n) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED "
            "PRECEDING AND CURRENT ROW) - n AS below FROM b), "
            "t AS (SELECT coalesce(sum(n), 0) AS rows FROM c) "
            "SELECT c.below, c.n, c.lo, c.hi FROM c CROSS JOIN t "
            "WHERE c.below + c.n > div(t.rows - 1, 2) AND c.below <= div(t.rows, 2) "
            "ORDER BY c.below"
        )
        return tuple(
            ScoreBucket(below=int(b), rows=int(n), low=float(lo), high=float(hi))
            for b, n, lo, hi in self.fetch(sql, what="histogram the scores")
        )

    def score_order_statistics(
        self,
        ranks: Sequence[int],
        *,
        low: float,
        high: float,
        rows: int,
        progress: ProgressCallback | None = None,
    ) -> dict[int, float]:
        """Return the scores at 0-based ``ranks`` among the ``rows`` audited scores in [low, high].

        Equal-width histograms narrow down the bin holding the ranks until it holds at most
        1,000,000 rows or one value; those rows' distinct scores are then counted exactly.
        """
        score = self._score_sql(self.columns())
        kept = self.checked_filter()
        where = f"{kept} AND {score} >= {_double(low)} AND {score} <= {_double(high)}"
        return self._order_statistics(score, where, sorted(ranks), low=low, high=high, rows=rows)

    def _order_statistics(
        self,
        score: str,
        where: str,
        ranks: list[int],
        *,
        low: float,
        high: float,
        rows: int,
        depth: int = 0,
    ) -> dict[int, float]:
        if low == high:
            return dict.fromkeys(ranks, low)
        scale = _HISTOGRAM_BINS / (high - low)
        if depth:
            where = f"{where} AND {score} >= {_double(low)} AND {score} <= {_double(high)}"
        if rows <= _EXACT_ROWS or not math.isfinite(scale) or depth > 64:
            sql = (
                f"SELECT s, cum - n AS first, cum FROM (SELECT s, n, sum(n) OVER (ORDER BY s) "
                f"AS cum FROM (SELECT {score} AS s, count(*) AS n FROM {self.source_sql()} AS "
                f"_s WHERE {where} GROUP BY 1) AS _g) AS _c WHERE cum > {min(ranks)} AND "
                f"cum - n <= {max(ranks)} ORDER BY s"
            )
            found: dict[int, float] = {}
            for value, first, cum in self.fetch(sql, what="find the median score"):
                for rank in ranks:
                    if first <= rank < cum:
                        found[rank] = float(value)
            return found
        column = f"CAST(floor(({score} - {_double(low)}) * {_double(scale)}) AS bigint)"
        sql = (
            f"SELECT {column} AS b, count(*) AS n, min({score}), max({score}) "
            f"FROM {self.source_sql()} AS _s WHERE {where} GROUP BY 1 ORDER BY 1"
        )
        bins: list[list[Any]] = []
        for bin_index, count, bin_low, bin_high in self.fetch(sql, what="find the median score"):
            index = min(int(bin_index), _HISTOGRAM_BINS - 1)
            if bins and index == bins[-1][0]:
                bins[-1][1] += int(count)
                bins[-1][3] = max(bins[-1][3], bin_high)
            else:
                bins.append([index, int(count), bin_low, bin_high])
        found = {}
        before = 0
        for _, count, bin_low, bin_high in bins:
            inside = [r for r in ranks if before <= r < before + count]
            if inside:
                deeper = self._order_statistics(
                    score,
                    where,
                    [r - before for r in inside],
                    low=float(bin_low),
                    high=float(bin_high),
                    rows=int(count),
                    depth=depth + 1,
                )
                found.update({r: deeper[r - before] for r in inside})
            before += int(count)
        return found

    # -- record rules and contracts --------------------------------------------------------

    def read_rows(self, roles: Sequence[Role]) -> SQLRows:
        """Read the roles record-level rules need into a typed temporary table.

        Raises:
            EvidenceError: a role's column is missing or of the wrong type, or a value cannot
                be read (the value, its count and the column are named, with the fix).
        """
        from ethicsgate.engines.sql.rows import read_rows

        return read_rows(self, roles)

    def run_contract(self, rule: DataQualityRule, *, guards: list[str]) -> ContractResult:
        """Run a data_quality rule's expectations as SQL in the database."""
        from ethicsgate.engines.sql.contracts import run_contract

        return run_contract(self, rule, guards=guards)

    def run_builtin_contract(self, checks: Sequence[BuiltinCheck]) -> ContractResult:
        """Run the built-in checks the rules need of this dataset (``contracts: report``)."""
        from ethicsgate.engines.sql.contracts import run_builtin_contract

        return run_builtin_contract(self, checks)


def _score_column_sql(score: str, column: ScoreColumn) -> str:
    """Return the SQL of a score-derived key column over ``score`` (double precision)."""
    if column.kind == "gt":
        return f"CAST(({score} > {_double(column.value)}) AS integer)"
    if column.kind == "ge":
        return f"CAST(({score} >= {_double(column.value)}) AS integer)"
    if column.kind == "value":
        return score
    if column.kind == "within":
        low, high = _double(column.value), _double(column.high)
        return f"CASE WHEN {score} >= {low} AND {score} <= {high} THEN {score} END"
    raw = f"floor(({score} - {_double(column.value)}) * {_double(column.scale)})"
    return f"CAST(least(greatest({raw}, 0), {column.bins - 1}) AS bigint)"
