"""Built-in data contracts: check what every rule reads before it runs (``contracts: report``).

The evidence reader converts each role as a rule needs it (0/1 labels, finite scores, parsed
timestamps, known actors, ids that identify records) and stops the audit at the first value it
cannot convert. With ``contracts: report`` in the audit spec, ethicsgate first derives from the
policy's rules, per evidence set, an expectation suite of exactly those conversions, validates
it with Great Expectations through the data-contract machinery of :mod:`.contracts`, and reports
each failed expectation in the report while only the rules that depend on it become ``error``.

Each built-in expectation is the reader's own conversion written as a DuckDB condition (so a
dataset that meets the suite is one the reader accepts, and the rules give the same results as
with ``contracts: stop``). DuckDB evaluates the condition per row in the same streaming scan as
user contracts (chunks of 1,000,000 rows), Great Expectations validates the resulting
true/false column (``expect_column_values_to_be_in_set``), and only failing expectations pay
for examples and the first failing row. A role that does not exist fails
``expect_column_to_exist`` (validated by Great Expectations on the evaluable roles) instead of
stopping the audit; ids are checked like the record rules do (rows repeating a record are one
record, rows that share an id and differ fail ``expect_column_values_to_be_unique``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from ethicsgate.engines.duckdb.contracts import (
    CHUNK_ROWS,
    SQL_ENGINE,
    Validator,
    _chunks,
    _count,
    _keep,
    _literal,
    _locate_all,
    _quiet_gx,
    _Tally,
    _Validator,
)
from ethicsgate.engines.duckdb.dialect import conflict_sql
from ethicsgate.engines.duckdb.rows import convert_sql
from ethicsgate.engines.duckdb.sqltext import binary_sql
from ethicsgate.engines.duckdb.sqltypes import NUMERIC, TIMES
from ethicsgate.errors import first_line
from ethicsgate.evidence.builtin import MAX_EXAMPLES as _MAX_EXAMPLES
from ethicsgate.evidence.builtin import REQUIRES as _REQUIRES
from ethicsgate.evidence.builtin import builtin_result
from ethicsgate.evidence.contracts import (
    BuiltinCheck,
    ContractResult,
    builtin_rule_id,
)
from ethicsgate.evidence.roles import ACTORS, RoleKind
from ethicsgate.evidence.sql import column_guess, quote_ident, sql_literal

if TYPE_CHECKING:
    from ethicsgate.engines.duckdb.dataset import DuckDBDataset

__all__ = ["run_builtin_contract"]

#: What each built-in expectation requires of a value, in the words of the report.
#: Roles whose failing values are codes, not personal data: shown as they are.
_NULL_TYPE = '"NULL"'


# -- SQL: the reader's conversions, lenient (NULL where the reader would stop) -------------------


def _text(expr: str) -> str:
    return f"nullif(trim(CAST(({expr}) AS VARCHAR)), '')"


def _typed(kind: RoleKind, expr: str, base: str) -> str:
    """Return SQL reading a role as the record rules type it; NULL where they would stop."""
    return convert_sql(kind, expr, base, strict=False) or "NULL"


def _ok_sql(check: BuiltinCheck, expr: str, base: str, scope: str) -> str:
    """Return a true/false SQL condition: the row meets the check (as the reader reads it)."""
    raw, source_type = expr, base  # _typed converts JSON itself: give it the source's type
    if base == "JSON":
        expr, base = f"json_extract_string(({expr}), '$')", "VARCHAR"
    kind = check.expect
    if kind == "binary":  # the reader's own 0/1 mapping; a NULL is no 0/1 either
        mapped = binary_sql(base, expr)
        return "false" if mapped is None else f"(({mapped}) IS NOT NULL)"
    if kind == "finite":  # dataset.py: score_profile
        if base in NUMERIC:
            return f"coalesce(isfinite(CAST(({expr}) AS DOUBLE)), false)"
        return "false"
    if kind in ("number", "timestamp", "flag"):  # rows.py: _typed_sql, missing allowed
        if base == _NULL_TYPE:
            return "true"
        if kind == "number" and base in NUMERIC or kind == "timestamp" and base in TIMES:
            return "true"
        if kind == "flag" and base in ("BOOLEAN", *NUMERIC, "VARCHAR"):
            missing = f"(({expr}) IS NULL OR trim(CAST(({expr}) AS VARCHAR)) = '')"
            return f"({missing} OR ({_typed('flag', raw, source_type)}) IS NOT NULL)"
        if base != "VARCHAR":
            return "false"
        return f"({_text(expr)} IS NULL OR ({_typed(check.read_as, raw, source_type)}) IS NOT NULL)"
    if kind == "actor":
        actors = ", ".join(sql_literal(a) for a in ACTORS)
        return f"coalesce({_typed('actor', raw, source_type)} IN ({actors}), false)"
    if kind == "present":
        if check.read_as in ("flag", "flag_or_false"):
            value = f"(NOT (({expr}) IS NULL OR trim(CAST(({expr}) AS VARCHAR)) = ''))"
        else:
            value = f"(({_typed(check.read_as, raw, source_type)}) IS NOT NULL)"
        return value if scope == "true" else f"(NOT coalesce({scope}, false) OR {value})"
    raise AssertionError(f"not a row-wise check: {kind}")  # pragma: no cover


def _type_note(check: BuiltinCheck, base: str) -> str:
    """Return why every value fails when the column's type cannot hold what the check needs."""
    if base in ("JSON", _NULL_TYPE):
        return ""
    unusable = (
        (check.expect == "binary" and base not in ("BOOLEAN", "VARCHAR", *NUMERIC))
        or (check.expect == "finite" and base not in NUMERIC)
        or (check.expect == "number" and base not in ("VARCHAR", *NUMERIC))
        or (check.expect == "timestamp" and base not in ("VARCHAR", *TIMES))
        or (check.expect == "flag" and base not in ("BOOLEAN", "VARCHAR", *NUMERIC))
    )
    return f"; the column has type {base}, which cannot hold {_REQUIRES[check.expect]}" * unusable


# -- running ---------------------------------------------------------------------------------


def run_builtin_contract(
    evidence: DuckDBDataset,
    checks: Sequence[BuiltinCheck],
    *,
    chunk_rows: int = CHUNK_ROWS,
    validator: Validator = "duckdb",
) -> ContractResult:
    """Validate a dataset against its built-in expectations.

    ``validator``: ``duckdb`` (the default) counts each condition in one SQL scan;
    ``great_expectations`` validates pandas chunks of the true/false columns with Great
    Expectations, the reference the tests hold the SQL to.

    Raises:
        EvidenceError: the files cannot be read, or the evidence filter does not evaluate.
    """
    con, dataset = evidence.con, evidence.name
    available = evidence.columns()
    exprs: dict[str, str] = {}
    types: dict[str, str] = {}
    problems: dict[str, str] = {}
    for role in dict.fromkeys(r for c in checks for r in c.roles):
        expr = evidence.role_expression(role)
        try:
            kind = con.sql(f"SELECT ({expr}) FROM {evidence.source_sql()} LIMIT 0").types[0]
        except duckdb.Error as exc:
            problems[role] = _missing_message(evidence, role, expr, available, exc)
            continue
        exprs[role], types[role] = expr, str(kind).split("(")[0].strip()
    kept = evidence.checked_filter()
    gx_validator: _Validator | None = None
    engine = SQL_ENGINE
    if validator == "great_expectations":
        import pandas as pd

        _quiet_gx()
        import great_expectations as gx

        gx_validator = _Validator(gx)
        engine = f"great_expectations {gx.__version__} (pandas, chunks of {chunk_rows:,} rows)"

    tallies: dict[int, _Tally] = {}
    # exists: the role is among the ones that evaluate (Great Expectations: in a frame of them)
    for index, check in enumerate(checks):
        if check.expect == "exists":
            if gx_validator is None:
                unexpected = int(check.column not in exprs)
            else:
                frame = pd.DataFrame({role: pd.Series([], dtype="object") for role in exprs})
                unexpected = gx_validator.exists(check.column, frame)
            tallies[index] = _Tally(unexpected=unexpected)
    runnable = {
        i: c
        for i, c in enumerate(checks)
        if c.expect != "exists" and all(r in exprs for r in c.roles)
    }
    scopes = {i: _scope_sql(c, exprs, types) for i, c in runnable.items()}
    rowwise = {i: c for i, c in runnable.items() if c.expect != "unique_id"}
    oks = {i: _ok_sql(c, exprs[c.column], types[c.column], scopes[i]) for i, c in rowwise.items()}
    rows = chunks = 0
    if oks and gx_validator is None:
        counts = ", ".join(f"count(*) FILTER (WHERE NOT ({ok}))" for ok in oks.values())
        try:
            found = con.sql(
                f"SELECT count(*), {counts} FROM {evidence.source_sql()} WHERE {kept}"
            ).fetchall()[0]
        except duckdb.Error as exc:
            raise evidence.read_error(exc) from exc
        rows, chunks = int(found[0]), 1
        for i, unexpected in zip(oks, found[1:], strict=True):
            tallies[i] = _Tally(rows=rows, unexpected=int(unexpected))
    elif oks and gx_validator is not None:
        tallies.update({i: _Tally() for i in oks})
        select = ", ".join(f"{ok} AS {quote_ident(f'_ok{i}')}" for i, ok in oks.items())
        sql = f"SELECT {select} FROM {evidence.source_sql()} WHERE {kept}"
        try:
            for part in _chunks(con, sql, chunk_rows, tables=evidence.memory_tables()):
                chunks += 1
                rows += len(part)
                for i in oks:
                    gx_validator.flag(f"_ok{i}", part, tallies[i], limit=_MAX_EXAMPLES)
        except duckdb.Error as exc:
            raise evidence.read_error(exc) from exc
    else:
        rows = _count(con, evidence, kept)
    failing: dict[int, str] = {}
    for i, check in runnable.items():
        if check.expect == "unique_id":
            tally, bad = _unique_ids(
                con, evidence, check, exprs, types, kept, scopes[i], gx_validator
            )
            tallies[i] = tally
            if bad is not None:
                failing[i] = bad
        elif tallies[i].unexpected:
            tallies[i].examples = _examples(con, evidence, exprs[check.column], oks[i], kept)
            failing[i] = f"NOT ({oks[i]})"
    locations = _locate_all(evidence, failing, kept)
    results = []
    for index, check in enumerate(checks):
        if check.expect != "exists" and index not in runnable:
            continue  # a role it reads does not exist: that expectation failed and guards it
        results.append(
            builtin_result(
                check,
                tallies[index],
                exprs,
                note=_type_note(check, types.get(check.column, "")),
                location=locations.get(index),
                problem=problems.get(check.column),
                where=str(evidence.locate(_spec_key(evidence, check.column))),
            )
        )
    return ContractResult(
        rule_id=builtin_rule_id(dataset),
        dataset=dataset,
        success=all(r.success for r in results),
        rows=rows,
        chunks=chunks,
        engine=engine,
        guards=list(dict.fromkeys(g for c in checks for g in c.guards)),
        expectations=results,
        builtin=True,
    )


def _spec_key(evidence: DuckDBDataset, role: str) -> tuple[str, ...]:
    return ("columns", role) if role in evidence.spec.columns else ("columns",)


def _missing_message(
    evidence: DuckDBDataset,
    role: str,
    expr: str,
    available: list[tuple[str, str]],
    exc: Exception,
) -> str:
    names = ", ".join(name for name, _ in available)
    files = str(evidence.files[0]) if len(evidence.files) == 1 else f"{len(evidence.files)} files"
    if role in evidence.spec.columns:
        guess = column_guess(evidence.spec.columns[role], (name for name, _ in available))
        return (
            f"the expression for {role!r} ({expr}) does not evaluate on {files}: "
            f"{first_line(exc)}{guess}; fix evidence.{evidence.name}.columns.{role} "
            f"(columns: {names})"
        )
    return (
        f"{files} has no column {role!r}; map it under evidence.{evidence.name}.columns, e.g. "
        f"{role}: <column or SQL> (columns: {names})"
    )


def _scope_sql(check: BuiltinCheck, exprs: dict[str, str], types: dict[str, str]) -> str:
    parts = []
    for scope in check.scope:
        typed = _typed(scope.kind, exprs[scope.role], types[scope.role])
        if scope.kind == "flag":
            parts.append(f"({typed}) IS TRUE")
        else:
            values = ", ".join(sql_literal(v) for v in scope.values) or "NULL"
            parts.append(f"({typed}) IN ({values})")
    return " AND ".join(parts) or "true"


def _examples(
    con: duckdb.DuckDBPyConnection, evidence: DuckDBDataset, expr: str, ok: str, kept: str
) -> list[Any]:
    """Return the most frequent failing values (a diagnostic query, only for failures)."""
    sql = (
        f"SELECT v FROM (SELECT ({expr}) AS v FROM {evidence.source_sql()} "
        f"WHERE ({kept}) AND NOT ({ok})) GROUP BY v "
        f"ORDER BY count(*) DESC, CAST(v AS VARCHAR) NULLS FIRST LIMIT {_MAX_EXAMPLES}"
    )
    return [row[0] for row in con.sql(sql).fetchall()]


def _unique_ids(
    con: duckdb.DuckDBPyConnection,
    evidence: DuckDBDataset,
    check: BuiltinCheck,
    exprs: dict[str, str],
    types: dict[str, str],
    kept: str,
    scope: str,
    validator: _Validator | None,
) -> tuple[_Tally, str | None]:
    """Count the rows whose id another, different row shares (DuckDB; GX validates if given)."""
    key = _typed(check.read_as, exprs[check.column], types[check.column])
    values = [_typed(r.kind, exprs[r.name], types[r.name]) for r in check.record]
    cols = [f"_r{i}" for i in range(len(values))]
    pairs = zip(values, cols, strict=True)
    inner = ", ".join([f"{key} AS _id", *(f"{v} AS {c}" for v, c in pairs)])
    source = (
        f"(SELECT {inner} FROM {evidence.source_sql()} WHERE ({kept}) AND coalesce({scope}, false))"
    )
    try:
        counted = con.sql(f"SELECT count(*) FROM {source} WHERE _id IS NOT NULL").fetchall()
        total = int(counted[0][0])
        dups = con.sql(
            f"SELECT _id, count(*) AS n FROM {source} WHERE _id IS NOT NULL GROUP BY _id "
            f"HAVING count(*) > 1 AND ({conflict_sql(cols)}) ORDER BY n DESC, _id"
        ).fetchall()
    except duckdb.Error as exc:
        raise evidence.read_error(exc) from exc
    tally = _Tally(rows=total, unexpected=sum(int(n) for _, n in dups))
    if not dups:
        return tally, None
    ids = [value for value, _ in dups]
    if validator is None:  # the most shared ids first
        _keep(tally, ids, _MAX_EXAMPLES)
    else:
        import pandas as pd

        frame = pd.DataFrame({"value": [v for v in ids[:10_000] for _ in range(2)]})
        _keep(tally, validator.unique(frame, _MAX_EXAMPLES), _MAX_EXAMPLES)
    literals = ", ".join(_literal(v) for v in ids[:10_000])
    return tally, f"coalesce({scope}, false) AND ({key}) IN ({literals})"
