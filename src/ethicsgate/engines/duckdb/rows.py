"""Row-level evidence: read the roles a rule needs into a typed DuckDB table, once per dataset.

Fairness rules only need grouped counts (``DuckDBDataset.grouped_counts``). Transparency, consent
and oversight rules judge records one by one, so each evidence set they read is scanned once
into a temporary table holding only the roles those rules read, typed and checked:

* ``key`` ids (conversation, event, decision): kept in their own type (integers stay integers,
  everything else is text; empty text is missing). A rule names the rows that must have an id
  (``require_present``); a missing id there is an error naming the file and row.
* ``ref``: an id that may be missing (a processing event's subject), typed like ``key``.
* ``timestamp``: ``TIMESTAMPTZ``. Text with an offset (``2025-03-01T10:00:00+01:00``, ``...Z``)
  keeps it; naive text and naive Parquet/JSON timestamps are taken as **UTC**. Empty text and
  NULL are a *missing* timestamp, which each check handles in a documented way (it never helps
  a record pass). Text that is not a timestamp is an error naming file, row and column.
* ``actor``: lower-cased and trimmed; must be one of bot, human, customer, system.
* ``flag`` / ``flag_or_false``: true/false, 1/0, yes/no (text case-insensitive); anything
  else is an error. A missing ``flag_or_false`` is false; a missing ``flag`` stays missing and
  is an error only where a rule needs it (``require_present``).
* ``number``: ``DOUBLE``; missing is allowed, text that is not a number is an error.
* ``text`` / ``required_text``: text; ``required_text`` must not be missing.

Errors are ``EvidenceError`` (exit 2) naming the file, the row (1-based, counting data rows;
for CSV and JSON Lines also the line) and the column or expression, with the fix.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ethicsgate.engines.duckdb.connection import diagnostic_rows
from ethicsgate.engines.duckdb.dialect import DIALECT, DuckDBDialect
from ethicsgate.engines.duckdb.sqltext import json_text
from ethicsgate.engines.duckdb.sqltypes import INTEGER, NAIVE_TIME, NUMERIC
from ethicsgate.errors import EvidenceError, Location, first_line
from ethicsgate.evidence.engine import VerdictCounts
from ethicsgate.evidence.roles import (
    ACTORS,
    Role,
    RoleKind,
    role_mapping,
    role_type_hint,
    unknown_actor_hint,
    written_time_format,
)
from ethicsgate.evidence.sql import quote_ident, sql_literal

if TYPE_CHECKING:
    from ethicsgate.engines.duckdb.dataset import DuckDBDataset

__all__ = [
    "DuckDBRows",
    "check_patterns",
    "convert_sql",
    "raise_duplicate_id",
    "read_rows",
    "require_present",
]

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
class DuckDBRows:
    """A temporary DuckDB table with one typed column per role, filter already applied."""

    evidence: DuckDBDataset
    con: duckdb.DuckDBPyConnection
    table: str
    roles: list[Role]
    rows_read: int
    rows: int
    types: dict[Role, str] = field(default_factory=dict)
    #: Each role's typed SQL over the raw files and the filter, to locate rows in them.
    typed: dict[Role, str] = field(default_factory=dict)
    exprs: dict[Role, str] = field(default_factory=dict)
    kept: str = "true"

    def col(self, name: str, kind: RoleKind) -> str:
        """Return the quoted column of a role read as ``kind``.

        Raises:
            KeyError: the table was not built with this role (a bug in the caller).
        """
        role = Role(name, kind)
        if role not in self.types:
            raise KeyError(f"{self.evidence.name}: role {name!r} ({kind}) was not read")
        return role.column

    def is_integer(self, role: Role) -> bool:
        """Return whether an id role kept an integer type (else it is text)."""
        return self.types[role] in INTEGER

    dialect: DuckDBDialect = DIALECT

    def raw(self, role: Role) -> str:
        """Return the role's typed SQL over the source rows (to name a row in the files)."""
        return self.typed[role]

    def require_present(
        self, role: Role, *, where: str = "true", raw_where: str = "true", purpose: str
    ) -> None:
        """Raise EvidenceError at the first row where ``where`` holds and ``role`` is missing."""
        require_present(self, role, where=where, raw_where=raw_where, purpose=purpose)

    def check_patterns(self, patterns: Sequence[str]) -> tuple[str, str]:
        """Return the first pattern DuckDB's RE2 rejects and why, or ``("", "")``."""
        return check_patterns(self.con, patterns)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a small aggregate query over the rows table and return its rows."""
        return self.con.sql(sql).fetchall()

    def verdicts(
        self, sql: str, fields: Sequence[str], *, limit: int, id_role: Role
    ) -> VerdictCounts:
        """Count a verdict query's records and violations, list the first ``limit`` by id.

        One pass: the counts, the violations by reason and the first ``limit`` violating records
        by id (DuckDB's top-N ``arg_min``), so a check over millions of records never
        materialises its violations in Python.

        Raises:
            EvidenceError: two different rows share a record id (both are named).
        """
        field_items = ", ".join(f"{sql_literal(f)}: {quote_ident(f)}" for f in fields)
        struct = (
            "{'_id': _id, '_reason': _reason" + (f", {field_items}" if field_items else "") + "}"
        )
        bad = "_applies AND _reason IS NOT NULL"
        query = (
            f"WITH v AS ({sql}) SELECT count(*) FILTER (WHERE _applies), "
            f"count(*) FILTER (WHERE {bad}), histogram(_reason) FILTER (WHERE {bad}), "
            f"arg_min({struct}, _id, {limit}) FILTER (WHERE {bad}), "
            "count(*) FILTER (WHERE _conflict), min(_id) FILTER (WHERE _conflict) FROM v"
        )
        records, violations, by_reason, listed, conflicts, conflict_id = self.fetch(query)[0]
        if conflicts:
            raise_duplicate_id(self, id_role, conflict_id)
        return VerdictCounts(
            records=int(records or 0),
            violations=int(violations or 0),
            by_reason={str(k): int(v) for k, v in sorted((by_reason or {}).items())},
            listed=list(listed or []),
            conflicts=int(conflicts or 0),
            conflict_id=conflict_id,
        )

    def violation_batches(
        self, sql: str, fields: Sequence[str], *, batch_rows: int
    ) -> Iterator[list[Mapping[str, Any]]]:
        """Yield every violating record of a verdict query by id, ``batch_rows`` at a time.

        DuckDB streams the sorted result as Arrow record batches: memory is bounded by the
        batch, not by the number of violations.
        """
        columns = ", ".join(["_id", "_reason", *(quote_ident(f) for f in fields)])
        query = (
            f"WITH v AS ({sql}) SELECT {columns} FROM v "
            "WHERE _applies AND _reason IS NOT NULL ORDER BY _id"
        )
        reader = self.con.sql(query).to_arrow_reader(batch_rows)
        names = ["_id", "_reason", *fields]
        for batch in reader:
            if batch.num_rows:  # column by column into Python, then one dict per row
                lists = [column.to_pylist() for column in batch.columns]
                yield [dict(zip(names, values, strict=True)) for values in zip(*lists, strict=True)]

    def drop(self) -> None:
        """Drop the temporary table."""
        self.con.execute(f"DROP TABLE IF EXISTS {self.table}")


def _base_type(kind: object) -> str:
    return str(kind).split("(")[0].strip()


def _types_of(
    con: duckdb.DuckDBPyConnection, evidence: DuckDBDataset, roles: list[Role]
) -> tuple[dict[Role, str], dict[Role, str]]:
    """Return each role's expression and source type, binding the files once if all is well.

    Binding reads a CSV file's header and sniffs its types, so one query for all roles is much
    cheaper than one per role; only when it fails are the roles checked one by one, to name the
    culprit.
    """
    exprs = {role: evidence.role_expression(role.name) for role in roles}
    if roles:
        select = ", ".join(f"({exprs[r]})" for r in roles)
        try:
            rel = con.sql(f"SELECT {select} FROM {evidence.source_sql()} LIMIT 0")
            return exprs, {r: _base_type(t) for r, t in zip(roles, rel.types, strict=True)}
        except duckdb.Error:
            pass
        if _is_empty(evidence):  # an empty file has no columns to check
            return dict.fromkeys(roles, "NULL"), dict.fromkeys(roles, '"NULL"')
    available = evidence.columns()
    types: dict[Role, str] = {}
    for role in roles:
        exprs[role], kind = evidence.checked_expression(role.name, available)
        types[role] = _base_type(kind)
    return exprs, types


def _flag_sql(expr: str, base: str, null_value: str, *, strict: bool = True) -> str | None:
    """Return SQL giving true/false, or ``null_value`` when missing.

    ``strict``: a value that is no flag raises a DuckDB error (located afterwards); otherwise it
    gives NULL, which the diagnosis uses to find it.
    """
    other = "error('ethicsgate: not a flag')" if strict else "NULL"
    if base == "BOOLEAN":
        return f"coalesce(({expr}), {null_value})"
    if base in NUMERIC:
        return (
            f"CASE WHEN ({expr}) IS NULL THEN {null_value} WHEN ({expr}) = 1 THEN true "
            f"WHEN ({expr}) = 0 THEN false ELSE {other} END"
        )
    if base == "VARCHAR":
        true = ", ".join(sql_literal(v) for v in _TRUE)
        false = ", ".join(sql_literal(v) for v in _FALSE)
        norm = f"lower(trim(CAST(({expr}) AS VARCHAR)))"
        return (
            f"CASE WHEN ({expr}) IS NULL OR {norm} = '' THEN {null_value} "
            f"WHEN {norm} IN ({true}) THEN true WHEN {norm} IN ({false}) THEN false "
            f"ELSE {other} END"
        )
    if base == '"NULL"':
        return f"CAST({null_value} AS BOOLEAN)"
    return None


def _is_empty(evidence: DuckDBDataset) -> bool:
    """Return whether every file is empty (nothing but whitespace): no rows and no columns.

    A CSV file with a header but no rows is not empty in this sense: its columns are checked.
    """
    for file in evidence.files:
        try:
            size = file.stat().st_size
            if size > 4096 or (size and file.read_bytes().strip()):
                return False
        except OSError:
            return False
    return True


def convert_sql(kind: RoleKind, expr: str, base: str, *, strict: bool = True) -> str | None:
    """Return SQL reading ``expr`` (DuckDB type ``base``) as a role of ``kind`` is typed.

    ``strict``: a value that cannot be converted fails the query (the reader then locates it);
    otherwise it gives NULL, as the built-in data contracts need. None: the type cannot hold
    such a role at all.
    """
    if base == "JSON":  # JSON Lines with mixed types in one field: read each value as text
        expr, base = json_text(expr), "VARCHAR"
    cast = "CAST" if strict else "try_cast"
    if kind in ("key", "ref"):
        # integers stay integers (fast joins); everything else compares as text
        return f"({expr})" if base in INTEGER else f"nullif(CAST(({expr}) AS VARCHAR), '')"
    if kind in ("text", "required_text"):
        return f"CAST(({expr}) AS VARCHAR)"
    if kind == "actor":
        return f"lower(trim(CAST(({expr}) AS VARCHAR)))"
    if kind == "timestamp":
        if base == "TIMESTAMP WITH TIME ZONE":
            return f"({expr})"
        if base in NAIVE_TIME:
            return f"CAST(({expr}) AS TIMESTAMPTZ)"  # the session time zone is UTC
        if base == "VARCHAR":
            return f"{cast}(nullif(trim(CAST(({expr}) AS VARCHAR)), '') AS TIMESTAMPTZ)"
        if base == '"NULL"':
            return "CAST(NULL AS TIMESTAMPTZ)"
        return None
    if kind in ("flag", "flag_or_false"):
        missing = "false" if kind == "flag_or_false" else "NULL"
        return _flag_sql(expr, base, missing, strict=strict)
    if kind == "number":
        if base in NUMERIC:
            return f"CAST(({expr}) AS DOUBLE)"
        if base == "VARCHAR":
            return f"{cast}(nullif(trim(CAST(({expr}) AS VARCHAR)), '') AS DOUBLE)"
        if base == '"NULL"':
            return "CAST(NULL AS DOUBLE)"
    return None


def _typed_sql(evidence: DuckDBDataset, role: Role, expr: str, base: str) -> str:
    """Return the typed SQL of a role whose source expression has DuckDB type ``base``."""
    typed = convert_sql(role.kind, expr, base)
    if typed is None:  # never for JSON, which is read as text
        raise EvidenceError(
            f"evidence {evidence.name!r}: {role.name!r} must be {_KIND_WORDS[role.kind]}, but "
            f"{expr} has type {base}",
            location=_role_location(evidence, role.name),
            hint=_type_hint(role, expr),
        )
    return typed


def _type_hint(role: Role, expr: str | None = None) -> str:
    return role_type_hint(
        role,
        expr if expr is not None else quote_ident(role.name),
        seconds="to_timestamp({})",
        parsed="strptime({}, '%d.%m.%Y %H:%M')",
    )


def _time_hint(role: Role, expr: str, value: object) -> str:
    """Return the fix for a timestamp that does not read: a mapping in the value's own format.

    ``12/03/2025 10:00`` gets ``strptime(col, '%d/%m/%Y %H:%M')`` (and the month-first format
    too, as that value reads either way); other values the generic examples.
    """
    iso = "use ISO 8601, e.g. 2025-03-01T10:00:00+01:00 (without an offset, UTC is assumed); "
    written = written_time_format(value)
    if written is None:
        return iso + _type_hint(role, expr)
    day_first, month_first = written
    mapping = role_mapping(role, expr, f"strptime({{}}, '{day_first}')")
    text = f"{iso}or read it as written: map it under columns, e.g. {mapping}"
    if month_first is not None:
        text += f" (day first; if {value} is month first, write '{month_first}' there)"
    return text


_DECIMAL_COMMA = re.compile(r"\s*[-+]?[0-9]*,[0-9]+\s*")


def _number_hint(role: Role, expr: str, value: object) -> str:
    """Return the fix for a number that does not read; ``0,50`` (a decimal comma) gets its own."""
    if value is not None and _DECIMAL_COMMA.fullmatch(str(value)):
        mapping = role_mapping(role, expr, "CAST(replace({}, ',', '.') AS DOUBLE)")
        return (
            f"{value} has a decimal comma: for a CSV file written so, add "
            'options: {decimal_separator: ","} to the evidence entry (its numbers all read '
            f"then), or map this one under columns, e.g. {mapping}"
        )
    return _type_hint(role, expr)


def _role_location(evidence: DuckDBDataset, name: str) -> Location:
    return evidence.locate(("columns", name) if name in evidence.spec.columns else ("path",))


def read_rows(evidence: DuckDBDataset, roles: Sequence[Role]) -> DuckDBRows:
    """Scan an evidence set once into a temporary table of typed roles, filter applied.

    Raises:
        EvidenceError: a role's column is missing or of the wrong type, or a value cannot be
            read (the first such row is named: file, row, column, and the fix).
    """
    con = evidence.con
    table = f"_eg_rows_{next(_TABLES)}"
    con.execute("SET TimeZone = 'UTC'")  # naive timestamps are UTC, and results come back so
    unique: list[Role] = list(dict.fromkeys(roles))
    exprs, types = _types_of(con, evidence, unique)
    typed = {role: _typed_sql(evidence, role, exprs[role], types[role]) for role in unique}
    kept = evidence.checked_filter()
    name = quote_ident(table)
    select = ", ".join(f"{typed[r]} AS {r.column}" for r in unique) or "1 AS _one"
    where = "" if kept == "true" else f" WHERE {kept}"
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select} "
            f"FROM {evidence.source_sql()}{where}"
        )
    except duckdb.Error as exc:
        _diagnose_conversion(con, evidence, unique, exprs, types, kept)
        raise evidence.read_error(exc) from exc
    rows = int(con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0])
    if kept == "true":
        rows_read = rows
    else:
        try:
            rows_read = int(
                con.sql(f"SELECT count(*) FROM {evidence.source_sql()}").fetchall()[0][0]
            )
        except duckdb.Error as exc:  # pragma: no cover - the same files were just read
            raise evidence.read_error(exc) from exc
    result = DuckDBRows(
        evidence=evidence,
        con=con,
        table=name,
        roles=unique,
        rows_read=rows_read,
        rows=rows,
        types=types,
        typed=typed,
        exprs=exprs,
        kept=kept,
    )
    _check_values(con, result)
    return result


def _diagnose_conversion(
    con: duckdb.DuckDBPyConnection,
    evidence: DuckDBDataset,
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
            missing = f"({expr}) IS NULL OR trim(CAST(({expr}) AS VARCHAR)) = ''"
            bad = f"({kept}) AND NOT ({missing}) AND ({lenient}) IS NULL"
            _raise_first(
                con,
                evidence,
                role,
                expr,
                bad,
                what="is not true/false",
                hint=_type_hint(role, expr),
            )
            continue
        if types[role] not in ("VARCHAR", "JSON") or role.kind not in ("timestamp", "number"):
            continue
        target = "TIMESTAMPTZ" if role.kind == "timestamp" else "DOUBLE"
        # CAST first: one file of a glob can sniff to another type than all of them together;
        # a JSON field (strings on some lines, numbers or objects on others) is read as its text
        source = json_text(expr) if types[role] == "JSON" else expr
        text = f"nullif(trim(CAST(({source}) AS VARCHAR)), '')"
        bad = f"({kept}) AND {text} IS NOT NULL AND try_cast({text} AS {target}) IS NULL"
        _raise_first(
            con,
            evidence,
            role,
            expr,
            bad,
            what=f"is not {_KIND_WORDS[role.kind]}",
            hint=_type_hint(role, expr),
            hint_of=partial(_time_hint if role.kind == "timestamp" else _number_hint, role, expr),
        )


def _check_values(con: duckdb.DuckDBPyConnection, table: DuckDBRows) -> None:
    """Raise for unknown actors and missing required text, naming the first such row."""
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
    found = con.sql(f"SELECT {counts} FROM {table.table}").fetchall()[0]
    evidence = table.evidence
    for (role, _), n in zip(checks, found, strict=True):
        if not n:
            continue
        typed, expr = table.typed[role], table.exprs[role]
        hint_of: Callable[[object], str] | None = None
        if role.kind == "actor":
            bad = f"({table.kept}) AND ({typed} IS NULL OR {typed} NOT IN ({actors}))"
            what = f"is not one of {', '.join(ACTORS)} ({n:,} row(s))"
            hint = ""
            hint_of = partial(unknown_actor_hint, role, expr)
        else:
            bad = f"({table.kept}) AND ({typed}) IS NULL"
            what = f"is missing ({n:,} row(s))"
            hint = (
                f"every row needs a {role.name}; fix the data or exclude such rows with the "
                "evidence entry's filter"
            )
        _raise_first(con, evidence, role, expr, bad, what=what, hint=hint, hint_of=hint_of)
        raise EvidenceError(  # pragma: no cover - the table has such a row, so must the files
            f"evidence {evidence.name!r}: {role.name!r} {what}",
            location=_role_location(evidence, role.name),
        )


def require_present(
    table: DuckDBRows,
    role: Role,
    *,
    where: str = "true",
    raw_where: str = "true",
    purpose: str,
) -> None:
    """Raise if ``role`` is missing in a row where ``where`` holds.

    ``where`` is a condition over the table's columns and ``raw_where`` the same condition
    over ``table.raw`` (the typed SQL over the files), so the row can be named.

    Raises:
        EvidenceError: naming the first such row (file, row, column) and ``purpose``.
    """
    con = table.con
    col = role.column
    n = con.sql(f"SELECT count(*) FROM {table.table} WHERE ({where}) AND {col} IS NULL")
    missing = int(n.fetchall()[0][0])
    if not missing:
        return
    evidence = table.evidence
    bad = f"({table.kept}) AND ({raw_where}) AND ({table.typed[role]}) IS NULL"
    what = f"is missing ({missing:,} row(s))"
    hint = (
        f"{purpose}; fix the data, map {role.name} under columns, or exclude such rows with a "
        "filter"
    )
    _raise_first(con, evidence, role, table.exprs[role], bad, what=what, hint=hint)
    raise EvidenceError(  # pragma: no cover - the table has such a row, so must the files
        f"evidence {evidence.name!r}: {role.name!r} {what}",
        location=_role_location(evidence, role.name),
        hint=hint,
    )


def raise_duplicate_id(table: DuckDBRows, role: Role, value: object) -> None:
    """Raise for an id that two different rows share, naming both rows.

    Raises:
        EvidenceError: always.
    """
    evidence = table.evidence
    literal = sql_literal(value) if isinstance(value, (str, int, float)) else "NULL"
    where = f"({table.kept}) AND ({table.typed[role]}) = {literal}"
    places: list[str] = []
    first: Location | None = None
    for file in evidence.files:
        for number in _find_rows(evidence, file, where, limit=2 - len(places)):
            if first is None:
                first = _row_location(evidence, file, number)
            places.append(f"row {number}{_line_note(evidence, number)} of {file}")
        if len(places) >= 2:
            break
    raise EvidenceError(
        f"evidence {evidence.name!r}: {role.name} {value!r} names two different records "
        f"({' and '.join(places) or 'rows not found'}); column {table.exprs[role]}",
        location=first or _role_location(evidence, role.name),
        hint="ids must identify records: rows that repeat a record exactly are counted once, "
        "but rows that share an id and differ are ambiguous; fix the data or map "
        f"{role.name} to a unique id",
    )


def _search(
    evidence: DuckDBDataset, file: Path, value: str, where: str, *, limit: int
) -> list[tuple[int, Any]]:
    """Return up to ``limit`` (row number, value) pairs of ``file`` where ``where`` holds.

    A query that fails here finds nothing rather than hiding the error being reported (see
    :func:`~ethicsgate.evidence.engine.diagnostic_rows`).
    """
    if limit <= 0:
        return []
    result = diagnostic_rows(
        f"SELECT _row, _value FROM (SELECT row_number() OVER () AS _row, {value} AS _value, "
        f"{where} AS _hit FROM {evidence.source_sql([file])}) WHERE _hit ORDER BY _row "
        f"LIMIT {int(limit)}",
        tables=evidence.memory_tables(),
    )
    return [(int(r[0]), r[1]) for r in result or []]


def _find_rows(evidence: DuckDBDataset, file: Path, where: str, *, limit: int) -> list[int]:
    return [row for row, _ in _search(evidence, file, "NULL", where, limit=limit)]


def _raise_first(
    con: duckdb.DuckDBPyConnection,
    evidence: DuckDBDataset,
    role: Role,
    expr: str,
    bad: str,
    *,
    what: str,
    hint: str,
    hint_of: Callable[[object], str] | None = None,
) -> None:
    """Raise an ``EvidenceError`` at the first row (in file order) where ``bad`` holds.

    ``hint_of``, when given, makes the hint from the value found (in place of ``hint``).
    """
    for file in evidence.files:
        found = _search(evidence, file, f"CAST(({expr}) AS VARCHAR)", bad, limit=1)
        if not found:
            continue
        number, value = found[0]
        raise EvidenceError(
            f"evidence {evidence.name!r}: {role.name!r} {what}: found "
            f"{'NULL (missing)' if value is None else repr(value)} in row {number}"
            f"{_line_note(evidence, number)}, column {expr}",
            location=_row_location(evidence, file, number),
            hint=hint_of(value) if hint_of is not None else hint,
        )


def _line_note(evidence: DuckDBDataset, row: int) -> str:
    line = _line_of(evidence, row)
    return f" (line {line})" if line is not None else ""


def _line_of(evidence: DuckDBDataset, row: int) -> int | None:
    if evidence.format == "csv":
        header = evidence.spec.options.get("header", True)
        return row + 1 if header not in (False, "false", 0) else row
    if evidence.format == "jsonl":
        return row
    return None


def _row_location(evidence: DuckDBDataset, file: Path, row: int) -> Location:
    return evidence.row_location(file, _line_of(evidence, row))


def check_patterns(con: duckdb.DuckDBPyConnection, patterns: Sequence[str]) -> tuple[str, str]:
    """Return the first pattern DuckDB's RE2 rejects and why, or ``("", "")``."""
    for pattern in patterns:
        try:
            con.sql(f"SELECT regexp_matches('', {sql_literal(pattern)}, 'i')").fetchall()
        except duckdb.Error as exc:
            return pattern, first_line(exc)
    return "", ""
