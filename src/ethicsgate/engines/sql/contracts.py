"""Data contracts in a SQL database: the built-in checks (``contracts: report``) as SQL.

Each built-in expectation is the reader's own conversion (:mod:`.types`) written as a
true/false condition, counted for every check in one scan of the table or query, as the
DuckDB engine does (:mod:`ethicsgate.engines.duckdb.builtin_contracts`, the reference the
parity tests hold this to: the same successes, counts and examples). Only failing checks pay
for their examples; ids are checked by one GROUP BY. The first failing row is not located (a
table has no row numbers): the message names the column and the table instead.

``data_quality`` rules of the policy (Great Expectations' expectations) do not run here yet:
they raise an error naming the engine and the way round.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc as sa_exc

from ethicsgate.engines.sql.dialect import conflict_sql
from ethicsgate.engines.sql.types import (
    BOOLEAN,
    JSON,
    NUMERIC,
    TEXT,
    TIMES,
    binary_sql,
    convert_sql,
    flag_sql,
    text_sql,
)
from ethicsgate.errors import EvidenceError
from ethicsgate.evidence.contracts import (
    BuiltinCheck,
    ContractResult,
    ExpectationResult,
    builtin_rule_id,
)
from ethicsgate.evidence.roles import ACTORS, RoleKind
from ethicsgate.evidence.sql import sql_literal

if TYPE_CHECKING:
    from ethicsgate.engines.sql.dataset import SQLDataset
    from ethicsgate.policy.models import DataQualityRule

__all__ = ["run_builtin_contract", "run_contract"]

_REQUIRES: dict[str, str] = {
    "exists": "the column or expression exists",
    "binary": "0/1 or true/false",
    "finite": "a finite number (not missing, NaN or infinite)",
    "number": "a number (or missing)",
    "timestamp": "a timestamp, ISO 8601 (or missing)",
    "flag": "true/false, 1/0 or yes/no (or missing)",
    "actor": f"one of {', '.join(ACTORS)}",
    "present": "present (not missing)",
    "unique_id": "an id naming one record (rows that share it are the same record)",
}
_SAFE_KINDS = ("binary", "flag", "actor")
_MAX_EXAMPLES = 5


@dataclass
class _Tally:
    rows: int = 0
    unexpected: int = 0
    examples: list[Any] = field(default_factory=list)


def _typed(kind: RoleKind, expr: str, base: str) -> str:
    return convert_sql(kind, expr, base) or "NULL"


def _missing(expr: str, base: str) -> str:
    text = text_sql(expr, base) if base in JSON else f"CAST(({expr}) AS text)"
    return f"(({expr}) IS NULL OR btrim({text}) = '')"


def _ok_sql(check: BuiltinCheck, expr: str, base: str, scope: str) -> str:
    """Return a true/false condition: the row meets the check, as the reader reads it."""
    kind = check.expect
    if kind == "binary":
        mapped = binary_sql(base, expr)
        return "false" if mapped is None else f"(({mapped}) IS NOT NULL)"
    if kind == "finite":
        if base in NUMERIC:
            value = f"CAST(({expr}) AS double precision)"
            return (
                f"coalesce({value} NOT IN (CAST('NaN' AS double precision), CAST('Infinity' AS "
                "double precision), CAST('-Infinity' AS double precision)), false)"
            )
        return "false"
    if kind in ("number", "timestamp", "flag"):
        if (kind == "number" and base in NUMERIC) or (kind == "timestamp" and base in TIMES):
            return "true"
        if kind == "flag":
            lenient = flag_sql(expr, base, "NULL")
            return (
                "false"
                if lenient is None
                else f"({_missing(expr, base)} OR ({lenient}) IS NOT NULL)"
            )
        if base not in TEXT and base not in JSON:
            return "false"
        text = f"nullif(btrim({text_sql(expr, base)}), '')"
        return f"({text} IS NULL OR ({_typed(check.read_as, expr, base)}) IS NOT NULL)"
    if kind == "actor":
        actors = ", ".join(sql_literal(a) for a in ACTORS)
        return f"coalesce({_typed('actor', expr, base)} IN ({actors}), false)"
    if kind == "present":
        if check.read_as in ("flag", "flag_or_false"):
            value = f"(NOT {_missing(expr, base)})"
        else:
            value = f"(({_typed(check.read_as, expr, base)}) IS NOT NULL)"
        return value if scope == "true" else f"(NOT coalesce({scope}, false) OR {value})"
    raise AssertionError(f"not a row-wise check: {kind}")  # pragma: no cover


def _type_note(check: BuiltinCheck, base: str) -> str:
    if base in JSON or base == "unknown":
        return ""
    text = (*TEXT, *JSON)
    unusable = (
        (check.expect == "binary" and base not in (*BOOLEAN, *text, *NUMERIC))
        or (check.expect == "finite" and base not in NUMERIC)
        or (check.expect == "number" and base not in (*text, *NUMERIC))
        or (check.expect == "timestamp" and base not in (*text, *TIMES))
        or (check.expect == "flag" and base not in (*BOOLEAN, *text, *NUMERIC))
    )
    return f"; the column has type {base}, which cannot hold {_REQUIRES[check.expect]}" * unusable


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


def run_builtin_contract(evidence: SQLDataset, checks: Sequence[BuiltinCheck]) -> ContractResult:
    """Validate a table or query against its built-in expectations, in the database.

    Raises:
        EvidenceError: the table cannot be read, or the evidence filter does not evaluate.
    """
    available = evidence.columns()
    names = ", ".join(name for name, _ in available)
    exprs: dict[str, str] = {}
    types: dict[str, str] = {}
    problems: dict[str, str] = {}
    for role in dict.fromkeys(r for c in checks for r in c.roles):
        expr = evidence.role_expression(role)
        try:
            types[role] = evidence.probe_types([expr])[0]
            exprs[role] = expr
        except sa_exc.DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0]
            problems[role] = (
                f"the expression for {role!r} ({expr}) does not evaluate on "
                f"{evidence.describe()}: {reason}; fix evidence.{evidence.name}.columns.{role} "
                f"(columns: {names})"
                if role in evidence.spec.columns
                else f"{evidence.describe()} has no column {role!r}; map it under "
                f"evidence.{evidence.name}.columns, e.g. {role}: <column or SQL> (columns: {names})"
            )
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
    oks = {
        i: _ok_sql(c, exprs[c.column], types[c.column], scopes[i])
        for i, c in runnable.items()
        if c.expect != "unique_id"
    }
    source = f"{evidence.source_sql()} AS _s"
    counts = "".join(f", count(*) FILTER (WHERE NOT ({ok}))" for ok in oks.values())
    found = evidence.fetch(f"SELECT count(*){counts} FROM {source} WHERE {kept}")[0]
    rows = int(found[0])
    for i, unexpected in zip(oks, found[1:], strict=True):
        tallies[i] = _Tally(rows=rows, unexpected=int(unexpected))
    for i, check in runnable.items():
        if check.expect == "unique_id":
            tallies[i] = _unique_ids(evidence, check, exprs, types, kept, scopes[i])
        elif tallies[i].unexpected:
            expr = exprs[check.column]
            tallies[i].examples = [
                r[0]
                for r in evidence.fetch(
                    f"SELECT v FROM (SELECT ({expr}) AS v FROM {source} WHERE ({kept}) AND NOT "
                    f"({oks[i]})) AS _e GROUP BY v ORDER BY count(*) DESC, "
                    f'CAST(v AS text) COLLATE "C" NULLS FIRST LIMIT {_MAX_EXAMPLES}'
                )
            ]
    results = []
    for index, check in enumerate(checks):
        if check.expect != "exists" and index not in runnable:
            continue  # a role it reads does not exist: that expectation failed and guards it
        key = ("columns", check.column) if check.column in evidence.spec.columns else ("columns",)
        results.append(
            _result(
                check,
                tallies[index],
                exprs,
                types,
                problem=problems.get(check.column),
                where=str(evidence.locate(key)),
                source=evidence.describe(),
            )
        )
    version = evidence.engine.server_version
    return ContractResult(
        rule_id=builtin_rule_id(evidence.name),
        dataset=evidence.name,
        success=all(r.success for r in results),
        rows=rows,
        chunks=1,
        engine=f"{evidence.engine.dialect_name} {version} (SQL, one scan)",
        guards=list(dict.fromkeys(g for c in checks for g in c.guards)),
        expectations=results,
        builtin=True,
    )


def _unique_ids(
    evidence: SQLDataset,
    check: BuiltinCheck,
    exprs: dict[str, str],
    types: dict[str, str],
    kept: str,
    scope: str,
) -> _Tally:
    """Count the rows whose id another, different row shares."""
    key = _typed(check.read_as, exprs[check.column], types[check.column])
    values = [_typed(r.kind, exprs[r.name], types[r.name]) for r in check.record]
    cols = [f"_r{i}" for i in range(len(values))]
    inner = ", ".join(
        [f"{key} AS _id", *(f"{v} AS {c}" for v, c in zip(values, cols, strict=True))]
    )
    source = (
        f"(SELECT {inner} FROM {evidence.source_sql()} AS _s WHERE ({kept}) AND "
        f"coalesce({scope}, false)) AS _u"
    )
    total = int(evidence.fetch(f"SELECT count(*) FROM {source} WHERE _id IS NOT NULL")[0][0])
    dups = evidence.fetch(
        f"SELECT _id, count(*) AS n FROM {source} WHERE _id IS NOT NULL GROUP BY _id "
        f"HAVING count(*) > 1 AND ({conflict_sql(cols)}) ORDER BY n DESC, _id"
    )
    tally = _Tally(rows=total, unexpected=sum(int(n) for _, n in dups))
    for value, _ in dups:
        if len(tally.examples) >= _MAX_EXAMPLES:
            break
        if value not in tally.examples:
            tally.examples.append(value)
    return tally


def _show(value: Any, *, safe: bool) -> str:
    """Return a failing value for the report: as is when safe, else its type and length."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NULL (missing)"
    if safe:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, str):
        return f"<masked text, {len(value)} chars>"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "<masked number>"
    return f"<masked {type(value).__name__}>"


def _result(
    check: BuiltinCheck,
    tally: _Tally,
    exprs: dict[str, str],
    types: dict[str, str],
    *,
    problem: str | None,
    where: str,
    source: str,
) -> ExpectationResult:
    """Return one expectation's result, in the words the DuckDB engine uses."""
    column = check.column
    requires = _REQUIRES[check.expect]
    rules = ", ".join(check.guards)
    parameters: dict[str, Any] = {"requires": requires}
    if check.scope:
        parameters["scope"] = " and ".join(
            f"{s.role} in [{', '.join(s.values)}]" if s.kind == "text" else f"{s.role} is true"
            for s in check.scope
        )
    if check.expect == "exists":
        success = tally.unexpected == 0
        gx_name = "expect_column_to_exist"
        return ExpectationResult(
            expect="exists",
            expectation=gx_name,
            column=column,
            expression=exprs.get(column),
            parameters=parameters,
            success=success,
            rows=0,
            unexpected=tally.unexpected,
            unexpected_percent=None,
            masked=False,
            location=None if success else where,
            message=f"{gx_name} on {column!r}: exists ({exprs[column]})"
            if success
            else f"{gx_name} on {column!r}: {problem}; needed by {rules}",
            guards=list(check.guards),
        )
    gx_name = (
        "expect_column_values_to_be_unique"
        if check.expect == "unique_id"
        else "expect_column_values_to_be_in_set"
    )
    safe = check.expect in _SAFE_KINDS
    examples = [_show(v, safe=safe) for v in tally.examples]
    percent = 100.0 * tally.unexpected / tally.rows if tally.rows else None
    success = tally.unexpected == 0
    if success:
        message = f"{gx_name} on {column!r}: met by all {tally.rows:,} value(s) ({requires})"
    else:
        shown = f" (e.g. {', '.join(examples[:3])})" if examples else ""
        note = _type_note(check, types.get(column, ""))
        message = (
            f"{gx_name} on {column!r}: {tally.unexpected:,} of {tally.rows:,} row(s) "
            f"unexpected ({percent:.2f} %){shown}: {column!r} must be {requires}{note}"
            f"; column {exprs[column]} of {source}; needed by {rules}"
        )
    return ExpectationResult(
        expect=check.expect,
        expectation=gx_name,
        column=column,
        expression=exprs.get(column),
        parameters=parameters,
        success=success,
        rows=tally.rows,
        unexpected=tally.unexpected,
        unexpected_percent=percent,
        examples=examples,
        masked=not safe,
        location=None,
        message=message,
        guards=list(check.guards),
    )


def run_contract(
    evidence: SQLDataset, rule: DataQualityRule, *, guards: Sequence[str] = ()
) -> ContractResult:
    """Raise: data_quality rules do not run on a database engine yet.

    Raises:
        EvidenceError: always, naming the engine and the way round.
    """
    raise EvidenceError(
        f"rule {rule.id!r}: data_quality expectations do not run on engine "
        f"{evidence.engine.shown} yet (evidence {evidence.name!r}, {evidence.describe()})",
        location=evidence.locate(evidence.where_key()),
        hint="run this audit on DuckDB over an export of the table (Parquet), or check the "
        "expectations with your warehouse's own tests; contracts: report (the built-in "
        "checks) does run here",
    )
