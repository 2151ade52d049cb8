"""Built-in data contracts on Spark: what every rule reads, checked in one Spark SQL pass.

The checks are the DuckDB engine's (``engines/duckdb/builtin_contracts.py``, the reference):
each expectation is the reader's own conversion written as a condition over the source, and
one aggregate query counts the rows failing each; only failing expectations pay for examples
(the most frequent failing values) and for the file of a failing row. Ids are checked as the
record rules read them: rows repeating a record are one record; rows that share an id and
differ fail ``expect_column_values_to_be_unique``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ethicsgate.engines.spark.dialect import conflict_sql
from ethicsgate.engines.spark.failures import SPARK_ERRORS, local_path
from ethicsgate.engines.spark.rows import convert_sql
from ethicsgate.engines.spark.sqltext import NUMERIC, TIMES, base_type, binary_sql, first_line
from ethicsgate.evidence.builtin import MAX_EXAMPLES as _MAX_EXAMPLES
from ethicsgate.evidence.builtin import REQUIRES as _REQUIRES
from ethicsgate.evidence.builtin import Tally as _Tally
from ethicsgate.evidence.builtin import builtin_result
from ethicsgate.evidence.contracts import (
    BuiltinCheck,
    ContractResult,
    builtin_rule_id,
)
from ethicsgate.evidence.roles import ACTORS, RoleKind
from ethicsgate.evidence.sql import SPARK_LEXIS, column_guess, sql_literal

if TYPE_CHECKING:
    from ethicsgate.engines.spark.dataset import SparkDataset

__all__ = ["run_builtin_contract"]

_MAX_DUPLICATES = 10_000


def _typed(kind: RoleKind, expr: str, base: str) -> str:
    return convert_sql(kind, expr, base, strict=False) or "CAST(NULL AS STRING)"


def _text(expr: str) -> str:
    return f"nullif(trim(CAST(({expr}) AS STRING)), '')"


def _ok_sql(check: BuiltinCheck, expr: str, base: str, scope: str) -> str:
    """Return a true/false condition: the row meets the check (as the reader reads it)."""
    kind = check.expect
    if kind == "binary":
        mapped = binary_sql(base, expr)
        return "false" if mapped is None else f"(({mapped}) IS NOT NULL)"
    if kind == "finite":
        if base in NUMERIC:
            value = f"CAST(({expr}) AS DOUBLE)"
            return f"coalesce(NOT isnan({value}) AND abs({value}) <> CAST('inf' AS DOUBLE), false)"
        return "false"
    if kind in ("number", "timestamp", "flag"):
        if base == "void":
            return "true"
        if kind == "number" and base in NUMERIC or kind == "timestamp" and base in TIMES:
            return "true"
        if kind == "flag" and base in ("boolean", *NUMERIC, "string"):
            missing = f"(({expr}) IS NULL OR trim(CAST(({expr}) AS STRING)) = '')"
            return f"({missing} OR ({_typed('flag', expr, base)}) IS NOT NULL)"
        if base != "string":
            return "false"
        return f"({_text(expr)} IS NULL OR ({_typed(check.read_as, expr, base)}) IS NOT NULL)"
    if kind == "actor":
        actors = ", ".join(sql_literal(a) for a in ACTORS)
        return f"coalesce({_typed('actor', expr, base)} IN ({actors}), false)"
    if kind == "present":
        if check.read_as in ("flag", "flag_or_false"):
            value = f"(NOT (({expr}) IS NULL OR trim(CAST(({expr}) AS STRING)) = ''))"
        else:
            value = f"(({_typed(check.read_as, expr, base)}) IS NOT NULL)"
        return value if scope == "true" else f"(NOT coalesce({scope}, false) OR {value})"
    raise AssertionError(f"not a row-wise check: {kind}")  # pragma: no cover


def _type_note(check: BuiltinCheck, base: str) -> str:
    if base in ("void", ""):
        return ""
    unusable = (
        (check.expect == "binary" and base not in ("boolean", "string", *NUMERIC))
        or (check.expect == "finite" and base not in NUMERIC)
        or (check.expect == "number" and base not in ("string", *NUMERIC))
        or (check.expect == "timestamp" and base not in ("string", *TIMES))
        or (check.expect == "flag" and base not in ("boolean", "string", *NUMERIC))
    )
    return f"; the column has type {base}, which cannot hold {_REQUIRES[check.expect]}" * unusable


def run_builtin_contract(evidence: SparkDataset, checks: Sequence[BuiltinCheck]) -> ContractResult:
    """Validate a dataset against its built-in expectations, counted in one Spark SQL pass.

    Raises:
        EvidenceError: the evidence cannot be read, or the evidence filter does not evaluate.
    """
    available = evidence.columns()
    exprs: dict[str, str] = {}
    types: dict[str, str] = {}
    problems: dict[str, str] = {}
    for role in dict.fromkeys(r for c in checks for r in c.roles):
        expr = evidence.role_expression(role)
        try:
            kind = evidence.expression_type(expr)
        except SPARK_ERRORS as exc:
            problems[role] = _missing_message(evidence, role, expr, available, exc)
            continue
        exprs[role], types[role] = expr, base_type(kind)
    kept = evidence.checked_filter()
    tallies: dict[int, _Tally] = {}
    for index, check in enumerate(checks):
        if check.expect == "exists":
            tallies[index] = _Tally(unexpected=int(check.column not in exprs))
    runnable = {
        i: c
        for i, c in enumerate(checks)
        if c.expect != "exists" and all(r in exprs for r in c.roles)
    }
    scopes = {i: _scope_sql(c, exprs, types) for i, c in runnable.items()}
    rowwise = {i: c for i, c in runnable.items() if c.expect != "unique_id"}
    oks = {i: _ok_sql(c, exprs[c.column], types[c.column], scopes[i]) for i, c in rowwise.items()}
    counts = "".join(f", count(*) FILTER (WHERE NOT ({ok}))" for ok in oks.values())
    found = evidence._fetch(f"SELECT count(*){counts} FROM {evidence.source_sql()} WHERE {kept}")
    rows = int(found[0][0])
    for i, unexpected in zip(oks, found[0][1:], strict=True):
        tallies[i] = _Tally(rows=rows, unexpected=int(unexpected))
    failing: dict[int, str] = {}
    for i, check in runnable.items():
        if check.expect == "unique_id":
            tally, bad = _unique_ids(evidence, check, exprs, types, kept, scopes[i])
            tallies[i] = tally
            if bad is not None:
                failing[i] = bad
        elif tallies[i].unexpected:
            tallies[i].examples = _examples(evidence, exprs[check.column], oks[i], kept)
            failing[i] = f"NOT ({oks[i]})"
    locations = {i: _locate(evidence, bad, kept) for i, bad in failing.items()}
    results = []
    for index, check in enumerate(checks):
        if check.expect != "exists" and index not in runnable:
            continue
        results.append(
            builtin_result(
                check,
                tallies[index],
                exprs,
                note=_type_note(check, types.get(check.column, "")),
                located="in",
                location=locations.get(index),
                problem=problems.get(check.column),
                where=str(evidence.locate(_spec_key(evidence, check.column))),
            )
        )
    return ContractResult(
        rule_id=builtin_rule_id(evidence.name),
        dataset=evidence.name,
        success=all(r.success for r in results),
        rows=rows,
        chunks=1,
        engine=f"spark {evidence.spark.version} (SQL, one pass)",
        guards=list(dict.fromkeys(g for c in checks for g in c.guards)),
        expectations=results,
        builtin=True,
    )


def _spec_key(evidence: SparkDataset, role: str) -> tuple[str, ...]:
    return ("columns", role) if role in evidence.spec.columns else ("columns",)


def _missing_message(
    evidence: SparkDataset,
    role: str,
    expr: str,
    available: list[tuple[str, str]],
    exc: BaseException,
) -> str:
    names = ", ".join(name for name, _ in available)
    where = evidence.describe()
    if role in evidence.spec.columns:
        guess = column_guess(
            evidence.spec.columns[role], (name for name, _ in available), SPARK_LEXIS
        )
        return (
            f"the expression for {role!r} ({expr}) does not evaluate on {where}: "
            f"{first_line(exc)}{guess}; fix evidence.{evidence.name}.columns.{role} "
            f"(columns: {names})"
        )
    return (
        f"{where} has no column {role!r}; map it under evidence.{evidence.name}.columns, e.g. "
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


def _examples(evidence: SparkDataset, expr: str, ok: str, kept: str) -> list[Any]:
    """Return the most frequent failing values (a diagnostic query, only for failures)."""
    sql = (
        f"SELECT v FROM (SELECT ({expr}) AS v FROM {evidence.source_sql()} "
        f"WHERE ({kept}) AND NOT ({ok})) GROUP BY v "
        f"ORDER BY count(*) DESC, CAST(v AS STRING) ASC NULLS FIRST LIMIT {_MAX_EXAMPLES}"
    )
    return [row[0] for row in evidence._fetch(sql)]


def _unique_ids(
    evidence: SparkDataset,
    check: BuiltinCheck,
    exprs: dict[str, str],
    types: dict[str, str],
    kept: str,
    scope: str,
) -> tuple[_Tally, str | None]:
    """Count the rows whose id another, different row shares."""
    key = _typed(check.read_as, exprs[check.column], types[check.column])
    values = [_typed(r.kind, exprs[r.name], types[r.name]) for r in check.record]
    cols = [f"_r{i}" for i in range(len(values))]
    inner = ", ".join(
        [f"{key} AS _id", *(f"{v} AS {c}" for v, c in zip(values, cols, strict=True))]
    )
    source = (
        f"(SELECT {inner} FROM {evidence.source_sql()} WHERE ({kept}) AND coalesce({scope}, false))"
    )
    total = int(evidence._fetch(f"SELECT count(*) FROM {source} WHERE _id IS NOT NULL")[0][0])
    dups = evidence._fetch(
        f"SELECT _id, count(*) AS n FROM {source} WHERE _id IS NOT NULL GROUP BY _id "
        f"HAVING count(*) > 1 AND ({conflict_sql(cols)}) ORDER BY n DESC, _id "
        f"LIMIT {_MAX_DUPLICATES}"
    )
    unexpected = sum(int(n) for _, n in dups)
    if len(dups) >= _MAX_DUPLICATES:
        unexpected = int(
            evidence._fetch(
                f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {source} "
                f"WHERE _id IS NOT NULL GROUP BY _id HAVING count(*) > 1 AND "
                f"({conflict_sql(cols)}))"
            )[0][0]
        )
    tally = _Tally(rows=total, unexpected=unexpected)
    if not dups:
        return tally, None
    ids = [value for value, _ in dups]
    tally.examples = list(dict.fromkeys(ids))[:_MAX_EXAMPLES]
    literals = ", ".join(_literal(v) for v in ids)
    return tally, f"coalesce({scope}, false) AND ({key}) IN ({literals})"


def _literal(value: Any) -> str:
    if isinstance(value, (str, int, float, bool)):
        return sql_literal(value)
    return sql_literal(str(value))


def _locate(evidence: SparkDataset, bad: str, kept: str) -> str | None:
    """Return the file of a failing row (Spark numbers no rows), or None."""
    try:
        found = evidence.sql(
            f"SELECT _metadata.file_path FROM {evidence.source_sql()} "
            f"WHERE ({kept}) AND ({bad}) LIMIT 1"
        ).collect()
    except SPARK_ERRORS:
        return None
    if not found or not found[0][0]:
        return None
    return local_path(str(found[0][0]))
