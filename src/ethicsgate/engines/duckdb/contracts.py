"""Run a data_quality rule's expectations: as DuckDB queries, or with Great Expectations.

By default (``validator="duckdb"``) every expectation is a SQL condition counted in one scan of
the evidence (evidence filter applied): a value is missing when it is NULL (or a floating-point
NaN, as pandas reads it); ``not_null`` counts the missing values, the others the non-missing
values that fail (``in_set``: text columns compare as text, numeric and boolean columns as
numbers, others as text; ``between``: inclusive bounds; ``regex``: Python's ``re.search``, run
by DuckDB as a function of this connection; ``timestamp``: the cast the record rules use).
``unique`` groups the values, ``row_count_between`` compares the count. Failing expectations
then fetch their first distinct failing values (file order) as examples. Nothing beyond DuckDB
is imported: a small audit with contracts does not pay Great Expectations' ~2 s import.

With ``validator="great_expectations"`` (the reference the tests hold the SQL to):

* Row-wise expectations (not_null, in_set, between, regex, timestamp) stream only the roles
  they read from DuckDB (evidence filter applied) in chunks of ``chunk_rows`` rows; each chunk
  is a pandas DataFrame validated by Great Expectations, and the counts are summed over chunks.
  ``timestamp`` is parsed by DuckDB (the same cast the rules use) into a true/false column that
  Great Expectations checks with ``expect_column_values_to_be_in_set``.
* Cross-row expectations cannot be judged chunk by chunk. ``unique``: DuckDB finds the
  duplicated values (``GROUP BY ... HAVING count(*) > 1``) and counts their rows; Great
  Expectations validates a frame of those duplicates (at most ``_MAX_DUPLICATES`` values), which
  gives the examples. ``row_count_between``: DuckDB counts the audited rows and Great
  Expectations validates the count (``expect_table_row_count_to_be_between`` on a frame of
  that many rows is replaced by ``expect_column_values_to_be_between`` on the count).
* The first failing row is located in the files with DuckDB (a rare, diagnostic pass).
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import duckdb

from ethicsgate.engines.duckdb.connection import diagnostic_rows
from ethicsgate.engines.duckdb.sqltypes import NUMERIC
from ethicsgate.errors import EvidenceError, Location
from ethicsgate.evidence.builtin import Tally, shown_examples
from ethicsgate.evidence.contracts import ContractResult, ExpectationResult
from ethicsgate.evidence.sql import quote_ident, sql_literal
from ethicsgate.policy.models import DataQualityRule, Expectation

if TYPE_CHECKING:
    import pandas as pd

    from ethicsgate.engines.duckdb.dataset import DuckDBDataset

__all__ = ["CHUNK_ROWS", "SQL_ENGINE", "Validator", "run_contract"]

#: Who validates a contract's expectations: DuckDB in one scan (the default), or Great
#: Expectations on pandas chunks (the reference implementation).
Validator = Literal["duckdb", "great_expectations"]
#: The ``engine`` a contract validated by DuckDB records.
SQL_ENGINE = f"duckdb {duckdb.__version__} (SQL, one scan)"

#: Rows per chunk handed to Great Expectations: ~10^6 rows of a few columns is tens of MB.
CHUNK_ROWS = 1_000_000
_MAX_DUPLICATES = 10_000


@dataclass
class _Tally(Tally):
    """Counts of one expectation summed over chunks."""

    missing: int = 0
    #: unique: the duplicated values found (the most frequent, at most _MAX_DUPLICATES)
    duplicates: list[Any] = field(default_factory=list)


def run_contract(
    evidence: DuckDBDataset,
    rule: DataQualityRule,
    *,
    guards: Sequence[str] = (),
    chunk_rows: int = CHUNK_ROWS,
    validator: Validator = "duckdb",
) -> ContractResult:
    """Validate a dataset against a data_quality rule's expectations.

    ``validator``: ``duckdb`` (the default) counts every expectation as SQL in one scan;
    ``great_expectations`` validates pandas chunks of ``chunk_rows`` rows with Great
    Expectations, the reference the tests hold the SQL to.

    Raises:
        EvidenceError: a role's column or expression does not exist or does not evaluate, or
            the files cannot be read (located in the audit spec).
    """
    # values are checked as written: yes/no is not 0/1 even where the CSV sniffer says BOOLEAN
    evidence.read_words_as_written(
        [evidence.spec.columns.get(e.column, e.column) for e in rule.expectations if e.column]
    )
    available = evidence.columns()
    exprs: dict[str, str] = {}
    types: dict[str, str] = {}
    for exp in rule.expectations:
        if exp.column is not None and exp.column not in exprs:
            expr, kind = evidence.checked_expression(exp.column, available)
            exprs[exp.column], types[exp.column] = expr, kind.split("(")[0]
    for exp in rule.expectations:
        if exp.expect == "between" and types[exp.column or ""] not in NUMERIC:
            _raise_not_numeric(evidence, exp.column or "", exprs, types)
    kept = evidence.checked_filter()
    if validator == "great_expectations":
        final, rows, chunks, engine = _gx_tallies(evidence, rule, exprs, types, kept, chunk_rows)
    else:
        final, rows = _sql_tallies(evidence, rule, exprs, types, kept)
        chunks, engine = 1, SQL_ENGINE
    failing: dict[int, str] = {}
    for index, (exp, tally) in enumerate(zip(rule.expectations, final, strict=True)):
        if tally.unexpected and exp.column is not None:
            bad = _bad_sql(exp, exprs[exp.column], types.get(exp.column), tally)
            if bad is not None:
                failing[index] = bad
    locations = _locate_all(evidence, failing, kept)
    results = [
        _result(rule, exp, tally, exprs, locations.get(index))
        for index, (exp, tally) in enumerate(zip(rule.expectations, final, strict=True))
    ]
    return ContractResult(
        rule_id=rule.id,
        dataset=rule.dataset,
        success=all(r.success for r in results),
        rows=rows,
        chunks=chunks,
        engine=engine,
        guards=list(guards),
        expectations=results,
    )


def _gx_tallies(
    evidence: DuckDBDataset,
    rule: DataQualityRule,
    exprs: dict[str, str],
    types: dict[str, str],
    kept: str,
    chunk_rows: int,
) -> tuple[list[_Tally], int, int, str]:
    """Return each expectation's tally, the rows, chunks and engine, validated by GX."""
    con = evidence.con
    _quiet_gx()
    import great_expectations as gx

    validator = _Validator(gx)
    rowwise = [e for e in rule.expectations if e.expect not in ("unique", "row_count_between")]
    tallies = [_Tally() for _ in rowwise]
    select = [f"({exprs[c]}) AS {quote_ident(c)}" for c in _columns(rowwise)]
    select += [
        f"{_timestamp_ok(exprs[c])} AS {quote_ident(_ok_column(c))}"
        for c in _columns([e for e in rowwise if e.expect == "timestamp"])
    ]
    rows = 0
    chunks = 0
    if select:
        sql = f"SELECT {', '.join(select)} FROM {evidence.source_sql()} WHERE {kept}"
        try:
            for frame in _chunks(con, sql, chunk_rows, tables=evidence.memory_tables()):
                chunks += 1
                rows += len(frame)
                for exp, tally in zip(rowwise, tallies, strict=True):
                    validator.add(exp, frame, tally, types, limit=rule.max_examples)
        except duckdb.Error as exc:
            raise evidence.read_error(exc) from exc
    else:
        rows = _count(con, evidence, kept)

    by_exp = dict(zip(map(id, rowwise), tallies, strict=True))
    final: list[_Tally] = []
    for exp in rule.expectations:
        if exp.expect == "unique":
            final.append(_unique(con, evidence, exprs[exp.column or ""], kept, validator, rule))
        elif exp.expect == "row_count_between":
            final.append(validator.row_count(exp, rows))
        else:
            final.append(by_exp[id(exp)])
    engine = f"great_expectations {gx.__version__} (pandas, chunks of {chunk_rows:,} rows)"
    return final, rows, chunks, engine


def _raise_not_numeric(
    evidence: DuckDBDataset, role: str, exprs: dict[str, str], types: dict[str, str]
) -> None:
    mapped = role in evidence.spec.columns
    raise EvidenceError(
        f"evidence {evidence.name!r}: expect between needs numbers, but {role!r} "
        f"({exprs[role]}) has type {types[role]}",
        location=evidence.locate(("columns", role) if mapped else ("path",)),
        hint=f'map {role} to a numeric expression under columns, e.g. {role}: "CAST({role} '
        'AS DOUBLE)", or use expect regex or in_set for text',
    )


# -- Great Expectations -------------------------------------------------------------------


def _quiet_gx() -> None:
    # GX prints tqdm bars to stderr during validation and may phone home; neither belongs in
    # an audit. Both are read from the environment when GX is imported and when it validates.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TQDM_DISABLE", "1")


class _Validator:
    """One ephemeral GX context with a pandas data asset, reused for every chunk."""

    def __init__(self, gx: Any) -> None:
        import great_expectations.expectations as gxe

        self.gx: Any = gx
        self.gxe: Any = gxe  # GX's stubs do not export the expectation classes
        context = gx.get_context(mode="ephemeral")
        try:  # progress bars off in the context too (GX >= 1.0 reads them from there)
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context.variables.progress_bars = ProgressBarsConfig(globally=False)
        except (ImportError, AttributeError):  # pragma: no cover - other GX layouts
            pass
        source = context.data_sources.add_pandas("ethicsgate")
        self.batches = source.add_dataframe_asset("evidence").add_batch_definition_whole_dataframe(
            "all"
        )

    def _validate(self, expectation: Any, frame: pd.DataFrame, limit: int) -> dict[str, Any]:
        batch = self.batches.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            expectation,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": max(limit, 1)},
        )
        if result.exception_info and result.exception_info.get("raised_exception"):
            raise RuntimeError(  # a bug in how we call GX, not a data problem
                f"Great Expectations could not run {type(expectation).__name__}: "
                f"{result.exception_info.get('exception_message')}"
            )
        return dict(result.result)

    def add(
        self,
        exp: Expectation,
        frame: pd.DataFrame,
        tally: _Tally,
        types: dict[str, str],
        *,
        limit: int,
    ) -> None:
        """Validate one chunk and add its counts to ``tally``."""
        column = exp.column or ""
        gxe = self.gxe
        if exp.expect == "not_null":
            expectation = gxe.ExpectColumnValuesToNotBeNull(column=column)
        elif exp.expect == "in_set":
            values = list(exp.values or [])
            if types.get(column) == "VARCHAR":  # text columns compare as text: 1 means '1'
                values = [_text(v) for v in values]
            expectation = gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values)
        elif exp.expect == "between":
            expectation = gxe.ExpectColumnValuesToBeBetween(
                column=column, min_value=exp.min, max_value=exp.max
            )
        elif exp.expect == "regex":
            frame = frame.assign(**{column: frame[column].astype("string")})
            expectation = gxe.ExpectColumnValuesToMatchRegex(column=column, regex=exp.pattern)
        else:  # timestamp: DuckDB parsed it; GX checks the parse flag
            ok = _ok_column(column)
            expectation = gxe.ExpectColumnValuesToBeInSet(column=ok, value_set=[True])
            result = self._validate(expectation, frame[[ok]], limit)
            bad = frame.loc[~frame[ok].astype(bool), column]
            tally.rows += len(frame)
            tally.missing += int(frame[column].isna().sum())
            tally.unexpected += int(result.get("unexpected_count") or 0)
            _keep(tally, list(bad.head(limit)), limit)
            return
        result = self._validate(expectation, frame[[column]], limit)
        tally.rows += int(result.get("element_count") or len(frame))
        tally.missing += int(result.get("missing_count") or 0)
        tally.unexpected += int(result.get("unexpected_count") or 0)
        _keep(tally, list(result.get("partial_unexpected_list") or []), limit)

    def flag(self, ok: str, frame: pd.DataFrame, tally: _Tally, *, limit: int) -> None:
        """Validate a true/false column DuckDB computed (a parse, a conversion) for one chunk."""
        expectation = self.gxe.ExpectColumnValuesToBeInSet(column=ok, value_set=[True])
        result = self._validate(expectation, frame[[ok]], limit)
        tally.rows += len(frame)
        tally.unexpected += int(result.get("unexpected_count") or 0)

    def exists(self, column: str, frame: pd.DataFrame) -> int:
        """Validate that ``frame`` has ``column``; return 1 when it has not, else 0."""
        expectation = self.gxe.ExpectColumnToExist(column=column)
        batch = self.batches.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(expectation)
        if result.exception_info and result.exception_info.get("raised_exception"):
            raise RuntimeError(  # a bug in how we call GX, not a data problem
                "Great Expectations could not run ExpectColumnToExist: "
                f"{result.exception_info.get('exception_message')}"
            )
        return 0 if result.success else 1

    def unique(self, frame: pd.DataFrame, limit: int) -> list[Any]:
        """Validate the duplicated values DuckDB found; return GX's examples of them."""
        expectation = self.gxe.ExpectColumnValuesToBeUnique(column="value")
        result = self._validate(expectation, frame, limit)
        return list(result.get("partial_unexpected_list") or [])

    def row_count(self, exp: Expectation, rows: int) -> _Tally:
        """Validate the audited row count DuckDB counted."""
        import pandas as pd

        expectation = self.gxe.ExpectColumnValuesToBeBetween(
            column="row_count", min_value=exp.min, max_value=exp.max
        )
        result = self._validate(expectation, pd.DataFrame({"row_count": [rows]}), 1)
        unexpected = int(result.get("unexpected_count") or 0)
        return _Tally(rows=rows, unexpected=unexpected, examples=[rows] if unexpected else [])


def _keep(tally: _Tally, values: list[Any], limit: int) -> None:
    for value in values:
        if len(tally.examples) >= limit:
            return
        if value not in tally.examples:
            tally.examples.append(value)


# -- DuckDB -------------------------------------------------------------------------------


def _columns(expectations: Sequence[Expectation]) -> list[str]:
    return list(dict.fromkeys(e.column for e in expectations if e.column is not None))


def _ok_column(column: str) -> str:
    return f"__timestamp_ok__{column}"


def _timestamp_ok(expr: str) -> str:
    # The cast the record rules use (engines/duckdb/rows.py): ISO 8601, naive = UTC; missing is ok
    # here (not_null checks presence).
    text = f"nullif(trim(CAST(({expr}) AS VARCHAR)), '')"
    return f"({text} IS NULL OR try_cast({text} AS TIMESTAMPTZ) IS NOT NULL)"


def _chunks(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    rows: int,
    *,
    tables: Mapping[str, Any] | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield the query's rows as DataFrames of ``rows`` rows.

    ``tables``: in-memory evidence the query reads, by view name; a cursor is a connection of
    its own and does not see the views registered on ``con``.

    Raises:
        duckdb.Error: the query fails, also part-way (a later file of a glob that does not
            convert): the Arrow stream reports that as an Arrow error or an ``OSError``
            (depending on when DuckDB meets the file), which is turned back into DuckDB's, so
            callers catch one kind.
    """
    import pyarrow as pa

    cursor = con.cursor()  # a cursor of its own: the caller's connection stays usable
    try:
        cursor.execute("SET TimeZone = 'UTC'")
        for view, table in (tables or {}).items():
            cursor.register(view, table)
        reader = cursor.sql(sql).to_arrow_reader(rows)
        try:
            for batch in reader:
                yield batch.to_pandas()
        except (pa.ArrowException, OSError) as exc:  # DuckDB's errors arrive as OSError
            raise duckdb.Error(str(exc)) from exc
    finally:
        cursor.close()


def _count(con: duckdb.DuckDBPyConnection, evidence: DuckDBDataset, kept: str) -> int:

    try:
        sql = f"SELECT count(*) FROM {evidence.source_sql()} WHERE {kept}"
        return int(con.sql(sql).fetchall()[0][0])
    except duckdb.Error as exc:
        raise evidence.read_error(exc) from exc


def _unique(
    con: duckdb.DuckDBPyConnection,
    evidence: DuckDBDataset,
    expr: str,
    kept: str,
    validator: _Validator | None,
    rule: DataQualityRule,
) -> _Tally:
    source = f"(SELECT ({expr}) AS v FROM {evidence.source_sql()} WHERE {kept})"
    try:
        # one aggregation over the rows; only the duplicated values (few) are kept
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _eg_contract_dups AS SELECT v, count(*) AS n "
            f"FROM {source} GROUP BY v HAVING count(*) > 1 OR v IS NULL"
        )
        missing, dup_rows, dup_values = con.sql(
            "SELECT coalesce(sum(n) FILTER (WHERE v IS NULL), 0), "
            "coalesce(sum(n) FILTER (WHERE v IS NOT NULL AND n > 1), 0), "
            "count(*) FILTER (WHERE v IS NOT NULL AND n > 1) FROM _eg_contract_dups"
        ).fetchall()[0]
        total = con.sql(f"SELECT count(*) FROM {source}").fetchall()[0][0]
        dups = [
            v
            for (v,) in con.sql(
                "SELECT v FROM _eg_contract_dups WHERE v IS NOT NULL AND n > 1 "
                f"ORDER BY n DESC, v LIMIT {_MAX_DUPLICATES}"
            ).fetchall()
        ]
        con.execute("DROP TABLE _eg_contract_dups")
    except duckdb.Error as exc:
        raise evidence.read_error(exc) from exc
    tally = _Tally(rows=int(total), missing=int(missing), unexpected=int(dup_rows))
    if dup_values:
        tally.duplicates = dups
        if validator is None:  # the most frequent duplicated values first
            _keep(tally, dups, rule.max_examples)
        else:
            import pandas as pd

            frame = pd.DataFrame({"value": [v for v in dups for _ in range(2)]})
            _keep(tally, validator.unique(frame, rule.max_examples), rule.max_examples)
    return tally


# -- DuckDB as the validator --------------------------------------------------------------

_FLOATS = ("DOUBLE", "FLOAT", "REAL")
_FUNCTIONS = itertools.count()
#: Failing rows read at most to find a failing expectation's examples.
_EXAMPLE_ROWS = 100_000


def _sql_tallies(
    evidence: DuckDBDataset,
    rule: DataQualityRule,
    exprs: dict[str, str],
    types: dict[str, str],
    kept: str,
) -> tuple[list[_Tally], int]:
    """Return each expectation's tally and the audited rows, counted by DuckDB in one scan."""
    con = evidence.con
    con.execute("SET TimeZone = 'UTC'")  # examples read as the evidence scans read them
    functions: list[str] = []
    try:
        conditions: dict[int, tuple[str, str]] = {}
        for index, exp in enumerate(rule.expectations):
            if exp.column is None or exp.expect == "unique":
                continue
            expr, kind = exprs[exp.column], types[exp.column]
            missing = _missing_sql(expr, kind)
            conditions[index] = (missing, _unexpected_sql(con, exp, expr, kind, functions))
        aggregates = ["count(*)"] + [
            f"count(*) FILTER (WHERE {missing}), count(*) FILTER (WHERE {unexpected})"
            for missing, unexpected in conditions.values()
        ]
        sql = f"SELECT {', '.join(aggregates)} FROM {evidence.source_sql()} WHERE {kept}"
        try:
            counts = con.sql(sql).fetchall()[0]
        except duckdb.Error as exc:
            raise evidence.read_error(exc) from exc
        rows = int(counts[0])
        final: list[_Tally] = []
        for index, exp in enumerate(rule.expectations):
            if exp.expect == "unique":
                final.append(_unique(con, evidence, exprs[exp.column or ""], kept, None, rule))
            elif exp.expect == "row_count_between":
                low = -math.inf if exp.min is None else exp.min
                high = math.inf if exp.max is None else exp.max
                outside = not low <= rows <= high
                final.append(
                    _Tally(rows=rows, unexpected=int(outside), examples=[rows] if outside else [])
                )
            else:
                at = 1 + 2 * list(conditions).index(index)
                # not_null counts the missing values as unexpected, not as missing (as GX does)
                n_missing = 0 if exp.expect == "not_null" else int(counts[at])
                tally = _Tally(rows=rows, missing=n_missing, unexpected=int(counts[at + 1]))
                if tally.unexpected and rule.max_examples:
                    where = f"({kept}) AND ({conditions[index][1]})"
                    tally.examples = _first_values(
                        con, evidence, exprs[exp.column or ""], where, rule.max_examples
                    )
                final.append(tally)
        return final, rows
    finally:
        for name in functions:
            con.remove_function(name)


def _missing_sql(expr: str, kind: str) -> str:
    """Return a SQL condition true on missing values: NULL, or NaN (pandas reads it as missing)."""
    if kind in _FLOATS:
        return f"(({expr}) IS NULL OR isnan(({expr})))"
    return f"(({expr}) IS NULL)"


def _unexpected_sql(
    con: duckdb.DuckDBPyConnection,
    exp: Expectation,
    expr: str,
    kind: str,
    functions: list[str],
) -> str:
    """Return a SQL condition true on the rows that fail a row-wise expectation.

    The condition that locates the first failing row, except for ``regex``: Python's
    ``re.search`` (the policy language's definition; DuckDB's RE2 differs on some patterns),
    registered as a function of this connection and listed in ``functions`` for removal.
    """
    if exp.expect != "regex":
        bad = _bad_sql(exp, expr, kind, _Tally())
        assert bad is not None, exp.expect
        return bad
    name = f"_eg_regex_{next(_FUNCTIONS)}"
    search = re.compile(exp.pattern or "").search

    def matches(text: str) -> bool:
        return search(text) is not None

    con.create_function(name, matches, ["VARCHAR"], "BOOLEAN", side_effects=False)
    functions.append(name)
    missing = _missing_sql(expr, kind)
    return f"NOT {missing} AND NOT coalesce({name}(CAST(({expr}) AS VARCHAR)), false)"


def _in_set_sql(value: str, kind: str, values: list[Any]) -> str:
    """Return a SQL condition true when a non-missing value is one of ``values``.

    As pandas' ``isin`` compares (what Great Expectations runs): a text column with the values
    as text (``1`` means ``'1'``, ``true`` means ``'true'``), a numeric or boolean column with
    the numeric values (``true`` is 1), any other column as text.
    """
    numbers = [int(v) if isinstance(v, bool) else v for v in values if isinstance(v, (int, float))]
    if kind in NUMERIC:
        return f"{value} IN ({', '.join(map(repr, numbers))})" if numbers else "false"
    if kind == "BOOLEAN":
        flags = sorted({"true" if n == 1 else "false" for n in numbers if n in (0, 1)})
        return f"{value} IN ({', '.join(flags)})" if flags else "false"
    allowed = ", ".join(sql_literal(_text(v)) for v in values)
    return f"CAST({value} AS VARCHAR) IN ({allowed})"


def _first_values(
    con: duckdb.DuckDBPyConnection, evidence: DuckDBDataset, expr: str, where: str, limit: int
) -> list[Any]:
    """Return the first ``limit`` distinct values of ``expr`` where ``where`` holds (file order).

    Reads at most ``_EXAMPLE_ROWS`` failing rows, in batches, stopping once it has enough.
    """
    sql = f"SELECT ({expr}) FROM {evidence.source_sql()} WHERE {where} LIMIT {_EXAMPLE_ROWS}"
    found: _Tally = _Tally()
    try:
        con.execute(sql)
        while len(found.examples) < limit:
            batch = con.fetchmany(1_000)
            if not batch:
                break
            _keep(found, [row[0] for row in batch], limit)
    except duckdb.Error as exc:  # pragma: no cover - the same rows were just counted
        raise evidence.read_error(exc) from exc
    return found.examples


def _bad_sql(exp: Expectation, expr: str, kind: str | None, tally: _Tally) -> str | None:
    """Return a SQL condition true on the rows that fail ``exp`` (to locate the first)."""
    value = f"({expr})"
    if exp.expect == "unique":
        # the duplicated values DuckDB found (all of them, unless more than _MAX_DUPLICATES)
        literals = [_literal(v) for v in tally.duplicates]
        return f"{value} IN ({', '.join(literals)})" if literals else None
    missing = _missing_sql(expr, kind or "")
    if exp.expect == "not_null":
        return missing
    if exp.expect == "in_set":
        test = _in_set_sql(value, kind or "", list(exp.values or []))
        return f"NOT {missing} AND NOT coalesce({test}, false)"
    if exp.expect == "between":
        parts = []
        if exp.min is not None:
            parts.append(f"{value} < {exp.min!r}")
        if exp.max is not None:
            parts.append(f"{value} > {exp.max!r}")
        return f"NOT {missing} AND ({' OR '.join(parts)})"
    if exp.expect == "regex":  # RE2 on the diagnostic connection: close to Python's re
        pattern = sql_literal(exp.pattern or "")
        return f"NOT {missing} AND NOT regexp_matches(CAST({value} AS VARCHAR), {pattern})"
    if exp.expect == "timestamp":
        return f"NOT {_timestamp_ok(expr)}"
    return None


def _literal(value: Any) -> str:
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, (str, int, float, bool)):
        return sql_literal(value)
    return sql_literal(str(value))


def _locate_all(evidence: DuckDBDataset, failing: dict[int, str], kept: str) -> dict[int, str]:
    """Return the first failing row (in file order) of each failing expectation.

    One diagnostic scan per file for all of them; a single thread keeps ``row_number()`` in
    the file's order, as the evidence reader's own diagnostics do.
    """
    found: dict[int, str] = {}
    if not failing:
        return found
    header = evidence.spec.options.get("header", True) not in (False, "false", 0)
    for file in evidence.files:
        todo = [i for i in failing if i not in found]
        if not todo:
            break
        flags = ", ".join(f"(({kept}) AND ({failing[i]})) AS _b{i}" for i in todo)
        firsts = ", ".join(f"min(_row) FILTER (WHERE _b{i})" for i in todo)
        result = diagnostic_rows(
            f"SELECT {firsts} FROM (SELECT row_number() OVER () AS _row, {flags} "
            f"FROM {evidence.source_sql([file])})",
            tables=evidence.memory_tables(),
        )
        if result is None:  # e.g. a pattern RE2 rejects but Python accepts: no location
            continue
        for index, number in zip(todo, result[0], strict=True):
            if number is None:
                continue
            line: int | None = None
            if evidence.format == "csv":
                line = int(number) + 1 if header else int(number)
            elif evidence.format == "jsonl":
                line = int(number)
            found[index] = f"{Location(str(file), line)} (row {int(number)})"
    return found


def _result(
    rule: DataQualityRule,
    exp: Expectation,
    tally: _Tally,
    exprs: dict[str, str],
    location: str | None,
) -> ExpectationResult:
    column = exp.column
    if exp.expect == "row_count_between":
        denominator, what = 1, "row count"
        success = tally.unexpected == 0
        percent = None
    else:
        denominator = tally.rows if exp.expect == "not_null" else tally.rows - tally.missing
        percent = 100.0 * tally.unexpected / denominator if denominator else None
        met = 1.0 - tally.unexpected / denominator if denominator else 1.0
        success = met >= exp.mostly - 1e-12
        what = f"{column!r}"
    safe = column is None or column in rule.safe_columns
    examples = shown_examples(tally.examples, safe=safe)
    parameters = _parameters(exp)
    if exp.expect == "row_count_between":
        message = (
            f"row count {tally.rows:,} is within {_range(exp)}"
            if success
            else f"row count {tally.rows:,} is not within {_range(exp)}"
        )
    elif not tally.unexpected:
        message = f"{exp.gx_expectation} on {what}: met by all {denominator:,} value(s)"
    else:
        shown = f" (e.g. {', '.join(examples[:3])})" if examples else ""
        where = f"; first at {location}" if location else ""
        message = (
            f"{exp.gx_expectation} on {what}: {tally.unexpected:,} of {denominator:,} "
            f"value(s) unexpected ({percent:.2f} %){shown}{where}"
            + (f"; mostly {exp.mostly} {'met' if success else 'not met'}" if exp.mostly < 1 else "")
        )
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
        location=location,
        message=message,
    )


def _parameters(exp: Expectation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if exp.values is not None:
        out["values"] = list(exp.values)
    if exp.min is not None:
        out["min"] = exp.min
    if exp.max is not None:
        out["max"] = exp.max
    if exp.pattern is not None:
        out["pattern"] = exp.pattern
    if exp.mostly != 1.0:
        out["mostly"] = exp.mostly
    return out


def _range(exp: Expectation) -> str:
    low = "-inf" if exp.min is None else f"{exp.min:g}"
    high = "inf" if exp.max is None else f"{exp.max:g}"
    return f"[{low}, {high}]"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
