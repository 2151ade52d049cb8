"""Data contracts in a SQL database: the built-in checks (``contracts: report``) as SQL.

Each built-in expectation is the reader's own conversion (:mod:`.types`) written as a
true/false condition, counted for every check in one scan of the table or query, as the
DuckDB engine does (:mod:`ethicsgate.engines.duckdb.builtin_contracts`, the reference the
parity tests hold this to: the same successes, counts and examples). Only failing checks pay
for their examples; ids are checked by one GROUP BY. The first failing row is not located (a
table has no row numbers): the message names the column and the table instead.

``data_quality`` rules of the policy run as SQL too (:func:`run_contract`): the same counts as
the DuckDB engine's SQL validator; examples are the first failing values the database returns
(a table has no file order), and ``regex`` is PostgreSQL's regular expression.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc as sa_exc

from ethicsgate.engines.sql.dialect import conflict_sql, translate_regex
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
from ethicsgate.evidence.builtin import MAX_EXAMPLES as _MAX_EXAMPLES
from ethicsgate.evidence.builtin import REQUIRES as _REQUIRES
from ethicsgate.evidence.builtin import Tally as _Tally
from ethicsgate.evidence.builtin import builtin_result, shown_examples
from ethicsgate.evidence.contracts import (
    BuiltinCheck,
    ContractResult,
    ExpectationResult,
    builtin_rule_id,
)
from ethicsgate.evidence.roles import ACTORS, RoleKind
from ethicsgate.evidence.sql import POSTGRESQL_LEXIS, column_guess, sql_literal

if TYPE_CHECKING:
    from ethicsgate.engines.sql.dataset import SQLDataset
    from ethicsgate.policy.models import DataQualityRule, Expectation

__all__ = ["run_builtin_contract", "run_contract"]


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
    names_of = [name for name, _ in available]
    names = ", ".join(names_of)
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
                f"{evidence.describe()}: {reason}"
                f"{column_guess(evidence.spec.columns.get(role, ''), names_of, POSTGRESQL_LEXIS)}"
                f"; fix evidence.{evidence.name}.columns.{role} "
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
            builtin_result(
                check,
                tallies[index],
                exprs,
                note=_type_note(check, types.get(check.column, "")),
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


#: in_set and unique examples are read from at most this many failing rows, as on DuckDB.
_EXAMPLE_ROWS = 100_000
_MAX_DUPLICATES = 10_000
_FLOATS = ("real", "double precision")


@dataclass
class _RuleTally:
    rows: int = 0
    missing: int = 0
    unexpected: int = 0
    examples: list[Any] = field(default_factory=list)


def _missing_value(expr: str, kind: str) -> str:
    """Return a condition true on missing values: NULL, or NaN (pandas reads it as missing)."""
    if kind in _FLOATS or kind == "numeric":
        return f"(({expr}) IS NULL OR ({expr}) = CAST('NaN' AS {kind}))"
    return f"(({expr}) IS NULL)"


def _text_of(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _in_set(value: str, kind: str, values: list[Any]) -> str:
    """Return a condition true when a value is one of ``values``, compared as pandas' isin."""
    numbers = [int(v) if isinstance(v, bool) else v for v in values if isinstance(v, (int, float))]
    if kind in NUMERIC:
        return f"{value} IN ({', '.join(map(repr, numbers))})" if numbers else "false"
    if kind in BOOLEAN:
        flags = sorted({"true" if n == 1 else "false" for n in numbers if n in (0, 1)})
        return f"{value} IN ({', '.join(flags)})" if flags else "false"
    allowed = ", ".join(sql_literal(_text_of(v)) for v in values)
    text = text_sql(value, kind) if kind in JSON else f"CAST({value} AS text)"
    return f"{text} IN ({allowed})"


def _unexpected(exp: Expectation, expr: str, kind: str) -> str:
    """Return a condition true on the rows that fail a row-wise expectation."""
    value = f"({expr})"
    missing = _missing_value(expr, kind)
    if exp.expect == "not_null":
        return missing
    if exp.expect == "in_set":
        test = _in_set(value, kind, list(exp.values or []))
        return f"NOT {missing} AND NOT coalesce({test}, false)"
    if exp.expect == "between":
        parts = []
        if exp.min is not None:
            parts.append(f"{value} < {exp.min!r}")
        if exp.max is not None:
            parts.append(f"{value} > {exp.max!r}")
        return f"NOT {missing} AND ({' OR '.join(parts) or 'false'})"
    if exp.expect == "regex":
        pattern = sql_literal(translate_regex(exp.pattern or ""))
        text = text_sql(value, kind) if kind in JSON else f"CAST({value} AS text)"
        return f"NOT {missing} AND NOT coalesce({text} ~ {pattern}, false)"
    if exp.expect == "timestamp":
        text = text_sql(value, kind) if kind in JSON else f"CAST({value} AS text)"
        if kind in TIMES:
            return "false"
        return f"nullif(btrim({text}), '') IS NOT NULL AND pg_temp.eg_timestamptz({text}) IS NULL"
    raise AssertionError(exp.expect)  # pragma: no cover


def run_contract(
    evidence: SQLDataset, rule: DataQualityRule, *, guards: Sequence[str] = ()
) -> ContractResult:
    """Validate a table or query against a data_quality rule's expectations, in the database.

    One scan counts every row-wise expectation; ``unique`` is one GROUP BY; failing
    expectations then read their first distinct failing values (at most 100,000 rows) as
    examples. ``regex`` is PostgreSQL's regular expression (POSIX ARE), which agrees
    with Python's ``re.search`` on common patterns but not on all (lookahead, for one).

    Raises:
        EvidenceError: a role's column or expression does not exist or does not evaluate,
            ``between`` reads a column that is not numeric, or the table cannot be read.
    """
    available = evidence.columns()
    exprs: dict[str, str] = {}
    types: dict[str, str] = {}
    for exp in rule.expectations:
        if exp.column is not None and exp.column not in exprs:
            exprs[exp.column], types[exp.column] = evidence.checked_expression(
                exp.column, available
            )
    for exp in rule.expectations:
        column = exp.column or ""
        if exp.expect == "between" and types[column] not in NUMERIC:
            mapped = column in evidence.spec.columns
            raise EvidenceError(
                f"evidence {evidence.name!r}: expect between needs numbers, but {column!r} "
                f"({exprs[column]}) has type {types[column]} ({evidence.describe()}, engine "
                f"{evidence.engine.shown})",
                location=evidence.locate(("columns", column) if mapped else evidence.where_key()),
                hint=f"map {column} to a numeric expression under columns, e.g. {column}: "
                f'"CAST({column} AS double precision)", or use expect regex or in_set for text',
            )
    kept = evidence.checked_filter()
    source = f"{evidence.source_sql()} AS _s"
    conditions: dict[int, tuple[str, str]] = {}
    for index, exp in enumerate(rule.expectations):
        if exp.column is None or exp.expect == "unique":
            continue
        expr, kind = exprs[exp.column], types[exp.column]
        conditions[index] = (_missing_value(expr, kind), _unexpected(exp, expr, kind))
    aggregates = "".join(
        f", count(*) FILTER (WHERE {m}), count(*) FILTER (WHERE {u})"
        for m, u in conditions.values()
    )
    counts = evidence.fetch(f"SELECT count(*){aggregates} FROM {source} WHERE {kept}")[0]
    rows = int(counts[0])
    tallies: list[_RuleTally] = []
    for index, exp in enumerate(rule.expectations):
        if exp.expect == "unique":
            tallies.append(_unique_values(evidence, exprs[exp.column or ""], kept, rule))
        elif exp.expect == "row_count_between":
            low = -math.inf if exp.min is None else exp.min
            high = math.inf if exp.max is None else exp.max
            outside = not low <= rows <= high
            tallies.append(
                _RuleTally(rows=rows, unexpected=int(outside), examples=[rows] if outside else [])
            )
        else:
            at = 1 + 2 * list(conditions).index(index)
            tally = _RuleTally(
                rows=rows,
                missing=0 if exp.expect == "not_null" else int(counts[at]),
                unexpected=int(counts[at + 1]),
            )
            if tally.unexpected and rule.max_examples:
                sql = (
                    f"SELECT ({exprs[exp.column or '']}) FROM {source} WHERE ({kept}) AND "
                    f"({conditions[index][1]}) LIMIT {_EXAMPLE_ROWS}"
                )
                for (value,) in evidence.fetch(sql):
                    if len(tally.examples) >= rule.max_examples:
                        break
                    if value not in tally.examples:
                        tally.examples.append(value)
            tallies.append(tally)
    results = [
        _rule_result(rule, exp, tally, exprs, evidence.describe())
        for exp, tally in zip(rule.expectations, tallies, strict=True)
    ]
    version = evidence.engine.server_version
    return ContractResult(
        rule_id=rule.id,
        dataset=rule.dataset,
        success=all(r.success for r in results),
        rows=rows,
        chunks=1,
        engine=f"{evidence.engine.dialect_name} {version} (SQL, one scan)",
        guards=list(guards),
        expectations=results,
    )


def _unique_values(evidence: SQLDataset, expr: str, kept: str, rule: DataQualityRule) -> _RuleTally:
    source = f"(SELECT ({expr}) AS v FROM {evidence.source_sql()} AS _s WHERE {kept}) AS _v"
    groups = f"(SELECT v, count(*) AS n FROM {source} GROUP BY v HAVING count(*) > 1 OR v IS NULL)"
    missing, dup_rows = evidence.fetch(
        f"SELECT coalesce(sum(n) FILTER (WHERE v IS NULL), 0), "
        f"coalesce(sum(n) FILTER (WHERE v IS NOT NULL AND n > 1), 0) FROM {groups} AS _g"
    )[0]
    total = evidence.fetch(f"SELECT count(*) FROM {source}")[0][0]
    tally = _RuleTally(rows=int(total), missing=int(missing), unexpected=int(dup_rows))
    if dup_rows:
        dups = evidence.fetch(
            f"SELECT v FROM {groups} AS _g WHERE v IS NOT NULL AND n > 1 "
            f"ORDER BY n DESC, v LIMIT {min(_MAX_DUPLICATES, rule.max_examples)}"
        )
        tally.examples = [v for (v,) in dups]
    return tally


def _rule_result(
    rule: DataQualityRule,
    exp: Expectation,
    tally: _RuleTally,
    exprs: dict[str, str],
    source: str,
) -> ExpectationResult:
    """Return one expectation's result, in the words the DuckDB engine uses."""
    column = exp.column
    if exp.expect == "row_count_between":
        denominator, what, percent = 1, "row count", None
        success = tally.unexpected == 0
    else:
        denominator = tally.rows if exp.expect == "not_null" else tally.rows - tally.missing
        percent = 100.0 * tally.unexpected / denominator if denominator else None
        met = 1.0 - tally.unexpected / denominator if denominator else 1.0
        success = met >= exp.mostly - 1e-12
        what = f"{column!r}"
    safe = column is None or column in rule.safe_columns
    examples = shown_examples(tally.examples, safe=safe)
    low = "-inf" if exp.min is None else f"{exp.min:g}"
    high = "inf" if exp.max is None else f"{exp.max:g}"
    if exp.expect == "row_count_between":
        within = "is within" if success else "is not within"
        message = f"row count {tally.rows:,} {within} [{low}, {high}]"
    elif not tally.unexpected:
        message = f"{exp.gx_expectation} on {what}: met by all {denominator:,} value(s)"
    else:
        shown = f" (e.g. {', '.join(examples[:3])})" if examples else ""
        message = (
            f"{exp.gx_expectation} on {what}: {tally.unexpected:,} of {denominator:,} "
            f"value(s) unexpected ({percent:.2f} %){shown}; in {source}"
            + (f"; mostly {exp.mostly} {'met' if success else 'not met'}" if exp.mostly < 1 else "")
        )
    parameters: dict[str, Any] = {}
    if exp.values is not None:
        parameters["values"] = list(exp.values)
    if exp.min is not None:
        parameters["min"] = exp.min
    if exp.max is not None:
        parameters["max"] = exp.max
    if exp.pattern is not None:
        parameters["pattern"] = exp.pattern
    if exp.mostly != 1.0:
        parameters["mostly"] = exp.mostly
    return ExpectationResult(
        expect=exp.expect,
        expectation=exp.gx_expectation,
        column=column,
        expression=exprs.get(column) if column else None,
        parameters=parameters,
        success=success,
        rows=tally.rows,
        missing=tally.missing,
        unexpected=tally.unexpected,
        unexpected_percent=None if percent is None or math.isnan(percent) else percent,
        examples=examples,
        masked=not safe,
        location=None,
        message=message,
    )
