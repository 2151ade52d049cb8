"""Read evidence with DuckDB: out-of-core scans that aggregate rows to a few grouped counts.

Every scan streams the files once. Role columns are SQL expressions over the source; binary
roles (``label``, ``prediction``) are normalised to 0/1, and values that are not 0/1 are
located (file, row, column) before anyone can mistake them for data.
"""

from __future__ import annotations

import csv
import json
import math
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from ethicsgate.engines.duckdb.connection import diagnostic_rows
from ethicsgate.engines.duckdb.rowgroups import (
    RowGroupWindows,
    local_dates_monotone,
    plan_row_group_windows,
    ranges_sql,
)
from ethicsgate.engines.duckdb.sqltext import (
    binary_sql,
    expression_problem,
    json_text,
    paths_sql,
)
from ethicsgate.engines.duckdb.sqltypes import FIXED_WIDTH, NUMERIC, TIMES
from ethicsgate.errors import EvidenceError, Location, close_match, did_you_mean, first_line
from ethicsgate.evidence.csvcheck import (
    empty_file_error,
    header_fields,
    non_utf8_error,
    open_text,
    repeated_header_error,
    repeated_header_fields,
)
from ethicsgate.evidence.median import HistogramSummary, plan_median
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
    WindowKey,
    kept_rows,
    sha256_file,
)
from ethicsgate.evidence.spec import DatasetFormat, EvidenceSpec
from ethicsgate.evidence.sql import (
    OFFSET_TEXT,
    column_guess,
    keyword_column_hint,
    names_a_column,
    not_one_expression,
    quote_ident,
    sql_literal,
    text_not_a_time,
    window_column_hint,
    window_key_path,
)
from ethicsgate.memory import give_back_freed_memory

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from ethicsgate.engines.duckdb import DuckDBEngine
    from ethicsgate.engines.duckdb.rows import DuckDBRows
    from ethicsgate.evidence.contracts import BuiltinCheck, ContractResult
    from ethicsgate.evidence.delta import DeltaSnapshot
    from ethicsgate.evidence.roles import Role
    from ethicsgate.policy.models import DataQualityRule

__all__ = ["DuckDBDataset"]

_T = TypeVar("_T")


def _option_sql(value: Any) -> str:
    """Return a reader option as SQL: a scalar, a list ``[...]`` or a struct ``{'k': v}``."""
    if isinstance(value, dict):
        fields = ", ".join(f"{sql_literal(k)}: {_option_sql(v)}" for k, v in value.items())
        return "{" + fields + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_option_sql(v) for v in value) + "]"
    return sql_literal(value)


def _option_sql_args(options: Mapping[str, Any]) -> str:
    """Return reader options as SQL arguments: ``, k = v`` each."""
    return "".join(f", {k} = {_option_sql(v)}" for k, v in options.items())


#: read_csv options that the sniffed ones replace: the dialect and the column names and types
#: (the sniffer applied them already; ``columns`` then gives each its final name and type).
_SNIFFED_KEYS = frozenset(
    [
        "auto_detect", "delim", "sep", "delimiter", "quote", "escape", "new_line", "skip",
        "comment", "header", "columns", "types", "column_types", "dtypes", "names",
        "column_names", "all_varchar", "auto_type_candidates", "normalize_names", "dateformat",
        "timestampformat", "sample_size",
    ]
)  # fmt: skip


def _csv_reading_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the user's read_csv options that still apply after sniffing (nullstr, ...)."""
    return {k: v for k, v in options.items() if k.lower() not in _SNIFFED_KEYS}


def _sniffed_options(row: tuple[Any, ...]) -> dict[str, Any] | None:
    """Turn a ``sniff_csv`` row into read_csv options with ``auto_detect = false``."""
    delim, quote, escape, new_line, comment, skip, header, columns, date, timestamp = row
    if not columns:
        return None

    def text(value: Any) -> str:
        return "" if value in (None, "(empty)") else str(value)

    options: dict[str, Any] = {
        "auto_detect": False,
        "delim": text(delim),
        "quote": text(quote),
        "escape": text(escape),
        "new_line": text(new_line),
        "skip": int(skip or 0),
        "comment": text(comment),
        "header": bool(header),
        "columns": {c["name"]: c["type"] for c in columns},
    }
    if date:
        options["dateformat"] = str(date)
    if timestamp:
        options["timestampformat"] = str(timestamp)
    return options


#: Spellings that usually mean 1 (the hint of a label or prediction read as written).
_POSITIVE_WORDS = frozenset(
    [
        "yes",
        "y",
        "t",
        "true",
        "1",
        "hired",
        "approved",
        "accepted",
        "granted",
        "selected",
        "positive",
        "pass",
        "offer",
        "offered",
        "admitted",
        "eligible",
        "high",
        "ja",
        "oui",
        "si",
        "sí",
    ]
)

#: Bins per histogram pass of the median search, and the row count below which the remaining
#: candidates are counted value by value.
_HISTOGRAM_BINS = 4096
_EXACT_ROWS = 1_000_000
#: The profile's median histogram rounds each score to this many significant bits: 4,096
#: buckets per power of two, whatever the range (so it needs no min/max beforehand).
_BUCKET_BITS = 12
#: The one-level grouped scan (:meth:`DuckDBDataset._many_cells`): considered for Parquet of at
#: least this many rows, and chosen when this many first rows hold at least
#: :data:`_ONE_LEVEL_DISTINCT` distinct key tuples per row.
_ONE_LEVEL_MIN_ROWS = 4_000_000
_ONE_LEVEL_PROBE_ROWS = 100_000
_ONE_LEVEL_DISTINCT = 0.9
#: A result of more rows than this gives the heap's freed pages back to the system after it
_TRIM_ROWS = 100_000
#: DuckDB's memory cap while the one-level plan runs (it spills beyond it)
ONE_LEVEL_MEMORY = "256MB"
#: A text key of the one-level scan with at most this many values is grouped as an ENUM: every
#: Arrow batch of the result (about 130,000 rows) repeats the dictionary, so past about
#: 65,000 values of 6 characters it holds more than the text (10^7 cells: 227 MB against 231)
_ENUM_MAX_VALUES = 50_000
_FIELD = re.compile(r"_t\.c(\d+)\b")

_RESERVED: frozenset[str] | None = None
#: A mapping DuckDB reads as one column's name unquoted (letters, in any script, digits, _).
_PLAIN_NAME = re.compile(r"[^\W\d]\w*")


def _reserved_words(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Return DuckDB's keywords that cannot name a column unquoted (read once per process)."""
    global _RESERVED
    if _RESERVED is None:
        rows = con.execute(
            "SELECT keyword_name FROM duckdb_keywords() "
            "WHERE keyword_category IN ('reserved', 'type_function')"
        ).fetchall()
        _RESERVED = frozenset(str(word).lower() for (word,) in rows)
    return _RESERVED


def _drop_columns(kind: str, names: list[str]) -> str:
    """Return the code that drops ``names`` from a frame of ``kind`` (``pandas.DataFrame``).

    Empty when there is no one call for it (a ``RecordBatchReader``).
    """
    listed = ", ".join(repr(n) for n in names)
    if kind.startswith("pandas."):
        return f"df.drop(columns=[{listed}])"
    if kind.startswith("polars."):
        return f"df.drop([{listed}])"
    if kind in ("pyarrow.Table", "pyarrow.RecordBatch"):
        return f"table.drop_columns([{listed}])"
    if kind.startswith("duckdb."):
        return f"relation.select('* EXCLUDE ({', '.join(quote_ident(n) for n in names)})')"
    return ""


@dataclass(frozen=True)
class _WindowSql:
    """A window key's SQL: ``key`` over one time value ``{0}`` of type ``kind``, ``final`` text.

    Every window is keyed by the row's day (a DATE), whatever its length: ``footer`` keys the
    statistics' least and greatest value by the window itself (its first day), and ``final``
    of a day or of its window's first day is the same window.
    """

    expr: str  # the window column (an expression over the source)
    kind: str  # its DuckDB type
    key: str  # the day (DATE) of one value ``{0}`` of that type
    footer: str  # the window's first day (DATE) of one value ``{0}``
    final: str  # the window's first day as ISO text from one key ``{0}``
    zone: str | None = None  # the zone instants are converted to (None: none converted)

    @property
    def raw(self) -> str:
        """Return the key of each row, as the scan evaluates it."""
        return self.key.format(self.expr)


def _double_literal(value: float) -> str:
    # repr round-trips; DuckDB parses the text as a DOUBLE exactly (a bare 0.1 would be DECIMAL)
    return f"CAST('{value!r}' AS DOUBLE)"


def _score_column_sql(score: str, column: ScoreColumn) -> tuple[str, str]:
    """Return the SQL of a score-derived column as (raw, final) over ``score`` (a DOUBLE).

    ``raw`` is what the grouped scan evaluates per row, kept cheap: a comparison, or the
    unclamped bin as a DOUBLE (a NaN or infinite score in a row the filter drops must not
    fail a cast). ``final`` turns one raw value, ``{}``, into the column, on the few grouped
    rows. For ``sum`` the raw SQL is the aggregate and ``final`` sums the partial sums.
    """
    if column.kind == "gt":
        return f"({score} > {_double_literal(column.value)})", "CAST({} AS INTEGER)"
    if column.kind == "ge":
        return f"({score} >= {_double_literal(column.value)})", "CAST({} AS INTEGER)"
    if column.kind == "value":
        return score, "{}"
    if column.kind == "within":
        low, high = _double_literal(column.value), _double_literal(column.high)
        return f"CASE WHEN {score} >= {low} AND {score} <= {high} THEN {score} END", "{}"
    if column.kind == "sum":
        # compensated (Kahan-Babuska) sums: a plain parallel sum of doubles differs in its last
        # bits from run to run, and so would the report; fsum costs the same here
        return f"fsum({score})", "fsum({})"
    raw = f"floor(({score} - {_double_literal(column.value)}) * {_double_literal(column.scale)})"
    return raw, f"CAST(least(greatest({{}}, 0), {column.bins - 1}) AS BIGINT)"


def _bucket_sql(score: str) -> str:
    """Return the score rounded to :data:`_BUCKET_BITS` significant bits; NULL if not finite.

    Veltkamp's split: with ``c = 2^(53 - bits) + 1``, ``c*s - (c*s - s)`` is ``s`` rounded to
    ``bits`` bits, a non-decreasing function of ``s`` (three float operations, no min/max
    needed). Scores of 2^960 and more are split scaled down by 2^-100 (exact), where ``c*s``
    would overflow. The profile checks afterwards that the buckets' ranges are disjoint and
    ascending; if not, the median falls back to the narrowing search.
    """
    c = _double_literal(float(2 ** (53 - _BUCKET_BITS) + 1))
    down, up = _double_literal(2.0**-100), _double_literal(2.0**100)

    def split(x: str) -> str:
        return f"(({c} * {x}) - (({c} * {x}) - {x}))"

    return (
        f"CASE WHEN NOT isfinite({score}) THEN NULL "
        f"WHEN abs({score}) < {_double_literal(2.0**960)} THEN {split(score)} "
        f"ELSE {split(f'({score} * {down})')} * {up} END"
    )


#: Score column types whose Parquet footer statistics read as DOUBLE (the histogram's range).
_FOOTER_TYPES = frozenset(["DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT"])


@dataclass
class DuckDBDataset:
    """One named evidence set, resolved to files, ready to scan.

    ``locate`` maps a key path inside the audit spec's evidence entry (``("columns", "label")``)
    to a position in the audit file, so SQL errors point at the expression that caused them.
    """

    name: str
    spec: EvidenceSpec
    files: list[Path]
    format: DatasetFormat
    locate: Locator
    engine: DuckDBEngine = field(repr=False)
    _digests: Future[list[EvidenceFile]] | None = field(default=None, repr=False)
    _csv_checked: bool = field(default=False, repr=False)
    table: Any = field(default=None, repr=False)
    """In-memory evidence (the Python API): a ``pyarrow.Table`` read as a view; else None."""
    _view_registered: bool = field(default=False, repr=False)
    _text_columns: set[str] = field(default_factory=set, repr=False)
    """CSV columns read as written (VARCHAR) although the sniffer saw booleans in them."""
    _sniffed: dict[Path, dict[str, Any] | None] = field(default_factory=dict, repr=False)
    """A CSV file's read_csv options from one ``sniff_csv`` (see :meth:`_sniffed_csv`)."""
    delta: DeltaSnapshot | None = field(default=None, repr=False)
    """A Delta table's version read (``files`` are its active Parquet files); else None."""
    hive_types: dict[str, str] = field(default_factory=dict, repr=False)
    """A partitioned Delta table's partition columns, read from the folder names, and their
    DuckDB types."""

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """Return the engine's connection."""
        return self.engine.con

    # -- SQL building -------------------------------------------------------------------

    def source_sql(self, files: Sequence[Path] | None = None, *, row_numbers: bool = False) -> str:
        """Return the DuckDB table function that reads the files (or the in-memory view).

        ``row_numbers`` adds Parquet's ``file_row_number`` column (scans filtered on it skip
        the row groups outside the ranges).
        """
        if self.table is not None:
            return self._memory_source()
        paths = paths_sql(files or self.files)
        options = dict(self.spec.options)
        if row_numbers:
            options["file_row_number"] = True
        if self.format == "csv":
            function = "read_csv"
            targets = list(files or self.files)
            sniffed = self._sniffed_csv(targets[0]) if len(targets) == 1 else None
            if sniffed is not None:
                options = {**sniffed, **_csv_reading_options(options)}
        elif self.format == "parquet":
            function = "read_parquet"
            if self.hive_types:
                # the partition columns are in the folder names, typed as the table says
                options["hive_partitioning"] = True
                options["hive_types"] = dict(self.hive_types)
        else:
            function = "read_json"
            options.setdefault("format", "newline_delimited" if self.format == "jsonl" else "auto")
        declared = options.get("columns")
        if self._text_columns and isinstance(declared, dict):  # sniffed: explicit columns
            options["columns"] = {
                name: "VARCHAR" if name in self._text_columns else kind
                for name, kind in declared.items()
            }
        elif self._text_columns and not {"types", "column_types", "dtypes"} & set(options):
            options["types"] = dict.fromkeys(sorted(self._text_columns), "VARCHAR")
        source = f"{function}({paths}{_option_sql_args(options)})"
        if self.delta is not None and self.delta.empty_folders:
            # Delta reads a partition folder "column=" as NULL, DuckDB as ''
            nulls = ", ".join(
                f"NULLIF({quote_ident(c)}, '') AS {quote_ident(c)}"
                for c in self.delta.empty_folders
            )
            source = f"(SELECT * REPLACE ({nulls}) FROM {source})"
        return source

    def _sniffed_csv(self, file: Path) -> dict[str, Any] | None:
        """Return a CSV file's dialect and column types, sniffed once, as read_csv options.

        DuckDB sniffs a CSV each time a query names ``read_csv`` with auto-detection: about
        30 ms for a 1,000-row file, and an audit binds the source a dozen times (probes,
        scans, checks). ``sniff_csv`` runs the same sniffer once with the user's options;
        every later read passes its findings with ``auto_detect = false`` and costs ~1 ms. None
        (auto-detect as before, whose error then names the file) when the sniffer fails.
        """
        cache = self._sniffed
        if file not in cache:
            user = _option_sql_args(self.spec.options)
            try:
                rows = self.con.sql(
                    "SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, SkipRows, "
                    "HasHeader, Columns, DateFormat, TimestampFormat "
                    f"FROM sniff_csv({sql_literal(str(file))}{user})"
                ).fetchall()
            except duckdb.Error:
                rows = []
            cache[file] = _sniffed_options(rows[0]) if rows else None
        return cache[file]

    def role_expression(self, role: str) -> str:
        """Return the SQL expression of a role: its mapping, or the column of the same name.

        Raises:
            EvidenceError: the mapping is not one SQL expression (located at its key).
        """
        mapped = self.spec.columns.get(role)
        if not mapped:
            return quote_ident(role)
        if not _PLAIN_NAME.fullmatch(mapped) or mapped.lower() in _reserved_words(self.con):
            named = [name for name, _ in self.columns() if name.lower() == mapped.lower()]
            if named:
                # a column named like a keyword (group, order, at) or as a spreadsheet names
                # it ("race ethnicity", "Risiko-Score"): as written it is a syntax error or
                # another expression, so the mapping that names it reads it quoted
                return quote_ident(mapped if mapped in named else named[0])
        self._check_expression(mapped, ("columns", role), f"the expression for {role!r}")
        return mapped

    def _check_expression(self, text: str, key: tuple[str, ...], what: str) -> None:
        """Raise unless ``text`` is one SQL expression, before any query holds it.

        Raises:
            EvidenceError: it is not (two statements, an unmatched parenthesis), at ``key``.
        """
        problem = expression_problem(text)
        if problem is not None:
            raise not_one_expression(self.name, what, text, problem, location=self.locate(key))

    # -- digests --------------------------------------------------------------------------

    def start_hashing(self, pool: ThreadPoolExecutor) -> None:
        """Hash the files in the background while DuckDB scans them."""
        if self._digests is None:
            self._digests = pool.submit(self._hash)

    def digests(self) -> list[EvidenceFile]:
        """Return the files with their sha256 (computing them now if not started)."""
        if self._digests is None:
            return self._hash()
        return self._digests.result()

    def _hash(self) -> list[EvidenceFile]:
        if self.table is not None:
            return [self._memory_digest()]
        return [EvidenceFile(f, sha256_file(f), f.stat().st_size) for f in self.files]

    # -- scans ------------------------------------------------------------------------

    def columns(self) -> list[tuple[str, str]]:
        """Return the source's column names and types (reads only the header or a sample).

        Raises:
            EvidenceError: the files cannot be read as the declared format.
        """
        try:
            rel = self.con.sql(f"SELECT * FROM {self.source_sql()} LIMIT 0")
            columns = list(zip(rel.columns, [str(t) for t in rel.types], strict=True))
        except duckdb.Error as exc:
            raise self.read_error(exc) from exc
        if self.format == "csv" and not self._csv_checked:
            if len(columns) == 1:
                self._check_not_empty()
                self._check_not_ragged(columns[0][0])
            self._check_unique_header([name for name, _ in columns])
            self._csv_checked = True  # columns() runs for every probe: check the files once
        return columns

    def _check_not_empty(self) -> None:
        """Raise if a CSV file is empty: DuckDB reads it as one column named ``column0``."""
        error = empty_file_error(self.name, self.files)
        if error is not None:
            raise error

    def _check_unique_header(self, names: list[str]) -> None:
        """Raise if a CSV header names a column twice and the two columns differ.

        DuckDB renames the second ``name_1`` and the rules read the first. Two columns of one
        name that hold the same values are harmless (ProPublica's COMPAS file repeats
        ``decile_score`` and ``priors_count`` so), so only a pair that differs in some row is
        an error; the header line is read only when DuckDB's names look renamed (``x`` and
        ``x_1``), which tells a renamed duplicate from a column really called ``x_1``.
        """
        known = {n.lower() for n in names}  # DuckDB's names are case-insensitive
        renamed = [n for n in names if (m := _RENAMED.fullmatch(n)) and m.group(1).lower() in known]
        if not renamed or self.spec.options.get("header") is False:
            return
        given = self.spec.options.get("delim") or self.spec.options.get("sep")
        delimiter = given if isinstance(given, str) and len(given) == 1 else None
        for file in self.files:
            header = header_fields(file, delimiter)
            if header is None or len(header) != len(names):
                continue  # another dialect than DuckDB read: not ours to say
            for earlier, column in repeated_header_fields(header):
                a, b = (quote_ident(names[i - 1]) for i in (earlier, column))
                [(differ,)] = self._fetch(
                    f"SELECT count(*) FROM (SELECT 1 FROM {self.source_sql([file])} "
                    f"WHERE {a} IS DISTINCT FROM {b} LIMIT 1)"
                )
                if differ:
                    raise repeated_header_error(
                        self.name,
                        file,
                        header,
                        (earlier, column),
                        reading=f"DuckDB reads the second as {names[column - 1]!r} and the "
                        "rules the first",
                    )

    def _check_not_ragged(self, name: str) -> None:
        """Raise if a CSV was read as one column because its lines differ in field count.

        DuckDB's sniffer falls back to a single column named after the whole header line when
        no dialect parses every sampled line alike; every role would then be "missing". This
        names the first line whose field count differs from the header's instead.
        """
        delimiter = next((d for d in ",;\t|" if d in name), None)
        if delimiter is None or {"delim", "sep"} & set(self.spec.options):
            return
        ragged = self._ragged_error(delimiter)
        if ragged is not None:
            raise ragged

    def _ragged_error(self, delimiter: str | None) -> EvidenceError | None:
        """Return the error naming the first line whose field count differs from the header's.

        Also for a file DuckDB's sniffer gives up on ("It was not possible to automatically
        detect the CSV parsing dialect", naming no line): a file cut short while it was
        written, its last row half there. ``delimiter`` None: guessed from the header line.
        """
        for file in self.files:
            handle = open_text(file, newline="")
            if handle is None:
                continue
            with handle:
                sep = delimiter or max(",;\t|", key=handle.readline().count)
                handle.seek(0)
                lines = csv.reader(handle, delimiter=sep)
                header = next(lines, None)
                if header is None or len(header) < 2:  # really one column (a quoted name)
                    continue
                for fields in lines:
                    if fields and len(fields) != len(header):
                        return EvidenceError(
                            f"evidence {self.name!r}: line {lines.line_num} has "
                            f"{len(fields)} field{'' if len(fields) == 1 else 's'} where the "
                            f"header has {len(header)}, so the file cannot be read as a table",
                            location=Location(str(file), lines.line_num),
                            hint="fix that line (a missing or extra delimiter, or an unclosed "
                            "quote), or pad short lines with options: {null_padding: true, "
                            f"strict_mode: false}} under evidence.{self.name}",
                        )
        return None

    def grouped_counts(
        self,
        *,
        roles: Sequence[str],
        binary_roles: Sequence[str] = (),
        progress: ProgressCallback | None = None,
        score_columns: Mapping[str, ScoreColumn] | None = None,
        window: WindowKey | None = None,
    ) -> GroupedCounts:
        """Count rows per combination of role values in one streaming scan.

        Binary roles come back as 0/1 integers, the other roles as text (``None`` for SQL NULL).
        ``score_columns`` adds keys (and sums) derived from the ``score`` role, by name; call
        :meth:`score_profile` first, which checks that every audited score is a number.
        ``window`` adds the key ``_window``: the first day of the row's calendar window, as ISO
        text (from the Parquet footer for row groups that lie in one window; with
        ``last_days``, the day before the rolling window for the row groups older than it).

        Raises:
            EvidenceError: a column or expression does not exist or does not evaluate, or a
                binary role holds a value other than 0/1 (the first such row is named).
        """
        available = self.columns()
        # raw key expressions over the source with their types; c0, c1, ... in the struct
        keys: list[tuple[str, str]] = []
        outer: list[str] = []  # the normalised columns, over the struct's fields
        texts: list[tuple[int, str, int]] = []  # text roles: (outer column, role, key)
        normalized: dict[str, str] = {}
        kinds: dict[str, str] = {}  # the binary roles' DuckDB types
        for role in roles:
            expr, kind = self.checked_expression(role, available)
            if role in binary_roles and self._read_as_written(expr, kind, available):
                available = self.columns()
                expr, kind = self.checked_expression(role, available)
            field = f"_t.c{len(keys)}"
            keys.append((expr, kind))
            if role in binary_roles:
                normalized[role] = self._binary_sql(role, kind, expr)
                kinds[role] = kind
                # one byte from the scan on (BINARY_DTYPE): an INTEGER column was 4 bytes a
                # cell in the Arrow result and again in the frame until converted
                binary = self._binary_sql(role, kind, field)
                outer.append(f"CAST({binary} AS TINYINT) AS {quote_ident(role)}")
            else:
                if kind != "JSON":
                    texts.append((len(outer), role, len(keys) - 1))
                text = json_text(field) if kind == "JSON" else f"CAST({field} AS VARCHAR)"
                outer.append(f"{text} AS {quote_ident(role)}")
        kept = self.checked_filter()
        outer.append(f"_t.c{len(keys)} AS _kept")
        keys.append((kept, "BOOLEAN"))
        sums: list[str] = []
        if score_columns:
            score = self._score_sql(available)
            for name, column in score_columns.items():
                raw, final = _score_column_sql(score, column)
                if column.kind == "sum":
                    outer.append(f"{final.format(f'_s{len(sums)}')} AS {quote_ident(name)}")
                    sums.append(f"{raw} AS _s{len(sums)}")
                else:
                    outer.append(f"{final.format(f'_t.c{len(keys)}')} AS {quote_ident(name)}")
                    # comparisons are BOOLEAN, the score and its unclamped bin DOUBLE
                    keys.append((raw, "BOOLEAN" if column.kind in ("gt", "ge") else "DOUBLE"))
        row_groups: tuple[_WindowSql, RowGroupWindows] | None = None
        latest: date | None = None
        window_sql: _WindowSql | None = None
        if window is not None:
            window_sql = self._window_sql(window, available)
            plan = None
            if window.last_days is not None:
                window_sql, plan, latest = self._rolling_cut(
                    window_sql, window.last_days, available
                )
            if latest is None:
                plan = self._row_group_windows(window_sql, available)
            if plan is None:
                final_key = f"_t.c{len(keys)}"
                keys.append((window_sql.raw, "DATE"))
            else:
                final_key, row_groups = "_w", (window_sql, plan)
            outer.append(f"{window_sql.final.format(final_key)} AS {quote_ident(WINDOW_KEY)}")
        # exact score keys multiply the cells by the distinct scores: with millions of them one
        # GROUP BY of the normalised keys beats the keyed hash's two levels (docs/benchmarks.md)
        many_rows = (
            self._many_cells(keys)
            if row_groups is None
            and not sums
            and any(c.kind == "value" for c in (score_columns or {}).values())
            else None
        )
        try:
            if many_rows is not None:
                # millions of cells: held in full, the hash table and the sort took 1.6 GB at
                # 10^7 cells; capped at 256 MB, 0.75 GB (1.7 * 10^6 cells: 0.52 -> 0.32 GB),
                # for about 15 % more time (docs/benchmarks.md). Text keys are grouped, sorted
                # and returned as enums (a code per row, each value once), the counts as
                # INTEGER where they fit
                narrow = many_rows < 2**31
                with self.engine.spilling_beyond(ONE_LEVEL_MEMORY):
                    try:
                        with self._text_enums(keys, [key for _, _, key in texts]) as enums:
                            as_enums = list(outer)
                            for (at, role, key), enum in zip(texts, enums, strict=True):
                                if enum is not None:
                                    as_enum = f"CAST(CAST(_t.c{key} AS VARCHAR) AS {enum})"
                                    as_enums[at] = f"{as_enum} AS {quote_ident(role)}"
                            sql = self._grouped_sql(
                                keys, sums, as_enums, one_level=True, narrow_counts=narrow
                            )
                            frame = self._run(sql, progress)
                    except EvidenceError as exc:
                        # a value missing from its enum: a key whose text compares under a
                        # collation (name COLLATE NOCASE, default_collation) has fewer
                        # distinct values than it has spellings; grouped as text, as before
                        if not _missing_from_enum(exc):
                            raise
                        sql = self._grouped_sql(
                            keys, sums, outer, one_level=True, narrow_counts=narrow
                        )
                        frame = self._run(sql, progress)
            else:
                sql = self._grouped_sql(keys, sums, outer, row_groups=row_groups)
                frame = self._run(sql, progress)
        except EvidenceError as exc:
            # a text window column with a value that is no time fails the scan's cast
            cast = isinstance(exc.__cause__, duckdb.ConversionException)
            if (
                cast
                and window is not None
                and window_sql is not None
                and window_sql.kind == "VARCHAR"
            ):
                bad = self._text_not_a_time(window, window_sql, available)
                if bad is not None:
                    raise bad from exc.__cause__
            raise
        if frame["n"].dtype != "int32":  # int32 from a scan of fewer than 2^31 rows stays
            frame["n"] = frame["n"].astype("int64")
        rows_read = int(frame["n"].sum())
        frame = kept_rows(frame)
        # the windows kept (ISO days; a categorical has no max() of its own)
        kept_days = frame[WINDOW_KEY].dropna().unique().tolist() if latest is not None else []
        if latest is not None and max(kept_days, default=None) != latest.isoformat():
            # the filter dropped the rows of the file's latest day, so the rolling window ends
            # earlier and some of the rows lumped before it lie in it: key every row's day
            assert window is not None
            return self.grouped_counts(
                roles=roles,
                binary_roles=binary_roles,
                progress=progress,
                score_columns=score_columns,
                window=replace(window, last_days=None),
            )
        for role in binary_roles:
            if frame[role].isna().any():
                self._raise_bad_binary(role, normalized[role], kept, kinds[role])
            frame[role] = frame[role].astype(BINARY_DTYPE)
        return GroupedCounts(frame=frame, rows_read=rows_read, rows=int(frame["n"].sum()))

    def _window_sql(self, window: WindowKey, available: list[tuple[str, str]]) -> _WindowSql:
        """Return each row's window as raw and final SQL, like a score column's.

        ``raw`` is what the scan evaluates per row: for every window the row's day,
        ``CAST(t AS DATE)`` (one cast, about a fifth of ``year() * 400 + dayofyear()`` per
        row and a quarter of an epoch-day bucket ``epoch_us(t) // 86400000000``; for months
        the scan of 1e8 rows keyed by day took 1.92 CPU s against 2.05 keyed by
        ``year(t) * 12 + month(t)``, 365 keys instead of 12 costing nothing measurable in the
        hash table); ``final`` turns one raw value, ``{}``, into the window's first day as
        ISO text on the few grouped rows (``date_trunc`` to the Monday, month or quarter).

        Raises:
            EvidenceError: the column does not exist, or is not a date, a timestamp or text.
        """
        expr = window.column or self.role_expression("timestamp")
        where = window_key_path(window.column, self.spec.columns)
        if names_a_column(expr, available):
            expr = quote_ident(expr)
        elif window.column:
            self._check_expression(expr, where, "the window's column")
        self.con.execute("SET TimeZone = 'UTC'")  # naive times (and text without one) are UTC
        try:
            kind = str(self.con.sql(f"SELECT ({expr}) FROM {self.source_sql()} LIMIT 0").types[0])
        except duckdb.Error as exc:
            names = ", ".join(name for name, _ in available)
            location = self.locate(where)
            raise EvidenceError(
                f"evidence {self.name!r}: the window column {expr} does not evaluate: "
                f"{first_line(exc)}",
                location=location,
                hint=window_column_hint(location, names),
            ) from exc
        # the window's zone (IANA, checked by the spec): instants are converted to its wall
        # clock, naive times are taken as that wall clock already (the calendar cuts them as
        # they are), and dates are dates
        zone = sql_literal(window.time_zone or "UTC")
        if kind == "TIMESTAMP WITH TIME ZONE":
            time = f"timezone({zone}, ({{0}}))"
        elif kind in ("DATE", "TIMESTAMP"):
            time = "({0})"  # cast to DATE as they are
        elif kind.split("(")[0] in TIMES:
            time = "CAST(({0}) AS TIMESTAMP)"
        elif kind == "VARCHAR" and window.time_zone is not None:
            # the session reads text without an offset as UTC: kept as that wall clock
            # (converted to UTC), text with one converted to the zone
            offset = sql_literal(OFFSET_TEXT)
            time = (
                f"timezone(CASE WHEN regexp_matches(({{0}}), {offset}) THEN {zone} "
                "ELSE 'UTC' END, CAST(({0}) AS TIMESTAMPTZ))"
            )
        elif kind == "VARCHAR":
            time = "timezone('UTC', CAST(({0}) AS TIMESTAMPTZ))"
        else:
            raise EvidenceError(
                f"evidence {self.name!r}: the window column {expr} has type {kind}, not a date "
                "or a timestamp",
                location=self.locate(where),
                hint='map it to a time, e.g. column: "make_date(year, month, day)" or '
                '"to_timestamp(epoch_seconds)"',
            )
        # every window is keyed by the row's day, the cheapest key per row; the day becomes
        # its window's first day on the grouped rows (and on the footer's least and greatest)
        day = {
            "day": "{k}",
            "week": "CAST(date_trunc('week', {k}) AS DATE)",
            "month": "CAST(date_trunc('month', {k}) AS DATE)",
            "quarter": "CAST(date_trunc('quarter', {k}) AS DATE)",
        }[window.every]
        # an infinite time casts to an infinite DATE: no window, as a NULL time
        day = f"CASE WHEN isfinite({{k}}) THEN {day} END"
        key = "CAST({t} AS DATE)"
        return _WindowSql(
            expr=expr,
            kind=kind,
            key=key.replace("{t}", time),
            footer=day.replace("{k}", key).replace("{t}", time),
            final="CAST(" + day.replace("{k}", "{0}") + " AS VARCHAR)",
            zone=window.time_zone if kind == "TIMESTAMP WITH TIME ZONE" else None,
        )

    def _text_not_a_time(
        self, window: WindowKey, window_sql: _WindowSql, available: list[tuple[str, str]]
    ) -> EvidenceError | None:
        """Return the located error for a text window column holding a value not a time.

        Only on the error path: the scan's cast failed, and the first such value is named
        (rather than DuckDB's message with the scan's SQL in it).
        """
        expr = window_sql.expr
        try:
            rows = self.con.sql(
                f"SELECT CAST(({expr}) AS VARCHAR), count(*) OVER () FROM {self.source_sql()} "
                f"WHERE ({expr}) IS NOT NULL AND TRY_CAST(({expr}) AS TIMESTAMPTZ) IS NULL "
                "LIMIT 1"
            ).fetchall()
        except duckdb.Error:
            return None  # the scan's own error stands
        found = rows[0] if rows else None
        if found is None:
            return None
        return text_not_a_time(
            f"evidence {self.name!r}",
            expr,
            f": {found[0]!r} (and {int(found[1]) - 1:,} more such value(s))",
            location=self.locate(window_key_path(window.column, self.spec.columns)),
            available=available,
        )

    def _footer_column(self, window: _WindowSql, available: list[tuple[str, str]]) -> str | None:
        """Return the Parquet column whose footer statistics can key ``window``, if any.

        Only for one Parquet file read without reader options, windowed by one of its DATE or
        TIMESTAMP [WITH TIME ZONE] columns.
        """
        names = {name for name, _ in available}
        column = next(
            (n for n in names if window.expr in (n, quote_ident(n))),
            None,
        )
        if (
            self.table is not None
            or self.format != "parquet"
            or len(self.files) != 1
            or self.spec.options
            or column is None
            or "file_row_number" in names
            or window.kind not in ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE")
        ):
            return None
        if window.zone is not None and not self._monotone_in_zone(column, window.zone):
            return None
        return column

    def _monotone_in_zone(self, column: str, zone: str) -> bool:
        """Return whether the file's instants have local dates that never go back in ``zone``.

        Over the span of the footer's least and greatest instants (both needed): else a row
        group whose ends fall in one local window may hold another in between.
        """
        # seconds since the epoch: an infinite time is an infinite number, not a Python error
        sql = (
            "SELECT epoch(min(TRY_CAST(stats_min_value AS TIMESTAMP WITH TIME ZONE))), "
            "epoch(max(TRY_CAST(stats_max_value AS TIMESTAMP WITH TIME ZONE))) "
            f"FROM parquet_metadata({sql_literal(str(self.files[0]))}) "
            f"WHERE path_in_schema = {sql_literal(column)}"
        )
        try:
            [(first, last)] = self.con.sql(sql).fetchall()
        except duckdb.Error:
            return False
        if first is None or last is None:
            return False

        def instant(seconds: float) -> datetime:
            # the years zoneinfo converts: 2 to 9998
            seconds = min(max(float(seconds), -62_100_000_000.0), 253_300_000_000.0)
            return datetime.fromtimestamp(seconds, UTC)

        return local_dates_monotone(zone, instant(first), instant(last))

    def _rolling_cut(
        self, window: _WindowSql, last_days: int, available: list[tuple[str, str]]
    ) -> tuple[_WindowSql, RowGroupWindows | None, date | None]:
        """Key one rolling window's older rows by one day, from the footer where that pays.

        The window is the ``last_days`` days up to the latest day, which the footer gives (the
        greatest of the row groups' greatest values, where every row group that holds a time
        has an exact one). Every row older than the window's first day is keyed by the day
        before it: the row groups wholly older are one branch that never reads the time
        column (:func:`~ethicsgate.engines.duckdb.rowgroups.plan_row_group_windows`, each
        older row group's both ends keyed to that one day). The last 90 days of 1e8 rows over
        a year: the scan 1.93 -> 1.40 CPU s, the audit 3.06 -> 2.52 (no windows 2.07).

        Returns the window SQL, the plan and the latest day; ``window`` unchanged and None
        twice where the footer does not tell or the plan does not pay. The caller checks that
        the latest day kept is that day (a filter may drop it).
        """
        column = self._footer_column(window, available)
        if column is None:
            return window, None, None
        physical = "INT32" if window.kind == "DATE" else "INT64"
        greatest = window.footer.format(f"TRY_CAST(stats_max_value AS {window.kind})")
        known = f"stats_max_value IS NOT NULL AND type = '{physical}' AND max_is_exact IS NOT FALSE"
        sql = (
            # a row group of NULLs alone has no greatest value, and needs none
            f"SELECT bool_and(coalesce(stats_null_count = row_group_num_rows OR ({known} AND "
            f"{greatest} IS NOT NULL), false)), max(CASE WHEN {known} THEN {greatest} END) "
            f"FROM parquet_metadata({sql_literal(str(self.files[0]))}) "
            f"WHERE path_in_schema = {sql_literal(column)}"
        )
        try:
            [(trusted, latest)] = self.con.sql(sql).fetchall()
        except duckdb.Error:
            return window, None, None
        if not trusted or not isinstance(latest, date):
            return window, None, None
        first = f"CAST({sql_literal((latest - timedelta(days=last_days - 1)).isoformat())} AS DATE)"
        before = f"CAST({sql_literal((latest - timedelta(days=last_days)).isoformat())} AS DATE)"
        older = f"isfinite({window.key}) AND {window.key} < {first}"
        cut = replace(
            window,
            key=f"CASE WHEN {older} THEN {before} ELSE {window.key} END",
            footer=f"CASE WHEN {older} THEN {before} END",  # NULL: not older, keyed per row
        )
        plan = self._row_group_windows(cut, available)
        if plan is None:
            return window, None, None
        return cut, plan, latest

    def _row_group_windows(
        self, window: _WindowSql, available: list[tuple[str, str]]
    ) -> RowGroupWindows | None:
        """Return the window of each whole-window row group from the Parquet footer, if any.

        Only for the sources :meth:`_footer_column` names: the statistics' least and greatest
        value go through the very key expression the rows would (so time zones, leap days and
        year ends agree by construction). Row groups whose statistics are absent, inexact or
        count NULLs, and every other source, are keyed row by row (None: all of them).
        """
        column = self._footer_column(window, available)
        if column is None:
            return None
        # every branch of the scan opens the file: parse its footer once, not once per branch
        # (12 month branches over 814 row groups: 3.15 -> 2.95 CPU s for the whole audit)
        self.con.execute("SET parquet_metadata_cache = true")
        physical = "INT32" if window.kind == "DATE" else "INT64"

        def bound(value: str) -> str:
            return window.footer.format(f"TRY_CAST({value} AS {window.kind})")

        trusted = (
            f"stats_null_count = 0 AND type = '{physical}' "
            "AND min_is_exact IS NOT FALSE AND max_is_exact IS NOT FALSE"
        )
        sql = (
            f"SELECT row_group_num_rows, CASE WHEN {trusted} THEN {bound('stats_min_value')} END, "
            f"CASE WHEN {trusted} THEN {bound('stats_max_value')} END "
            f"FROM parquet_metadata({sql_literal(str(self.files[0]))}) "
            f"WHERE path_in_schema = {sql_literal(column)} ORDER BY row_group_id"
        )
        try:
            stats = self.con.sql(sql).fetchall()
        except duckdb.Error:
            return None  # the footer reads as data, not as metadata: key every row
        return plan_row_group_windows(stats)

    def read_words_as_written(self, names: Sequence[str]) -> bool:
        """Re-read CSV columns the sniffer made BOOLEAN from words (yes/no, t/f) as text.

        For data contracts: ``in_set: [0, 1]`` must not pass ``yes``/``no`` because DuckDB's CSV
        sniffer read them as true/false. Columns written ``true``/``false`` stay BOOLEAN (pandas,
        which Great Expectations reads, makes booleans of those too). True if any was re-read.
        """
        if self.format != "csv":
            return False
        kinds = dict(self.columns())
        changed = False
        for name in names:
            if kinds.get(name) != "BOOLEAN" or name in self._text_columns:
                continue
            self._text_columns.add(name)
            words = {v.strip().lower() for v in self._distinct_text(quote_ident(name), limit=8)}
            if words <= {"true", "false"}:
                self._text_columns.discard(name)
            else:
                changed = True
        return changed

    def _read_as_written(self, expr: str, kind: str, available: list[tuple[str, str]]) -> bool:
        """Read a CSV column as text when the sniffer made booleans of it; True if it did.

        DuckDB's CSV sniffer reads ``yes``/``no`` and ``t``/``f`` as BOOLEAN. A label or a
        prediction is read as written: only 0/1 and true/false are 0/1 without a mapping,
        so ``yes`` becomes a located error with the mapping to write, never a silent 1.
        """
        if self.format != "csv" or kind != "BOOLEAN":
            return False
        for name, column_kind in available:
            if column_kind == "BOOLEAN" and expr in (name, quote_ident(name)):
                if name in self._text_columns:
                    return False
                self._text_columns.add(name)
                return True
        return False

    def _grouped_sql(
        self,
        keys: Sequence[tuple[str, str]],
        sums: Sequence[str],
        outer: Sequence[str],
        *,
        row_groups: tuple[_WindowSql, RowGroupWindows] | None = None,
        one_level: bool = False,
        narrow_counts: bool = False,
    ) -> str:
        """Return the two-level grouped scan over the source.

        The inner level groups the rows by one 64-bit hash of the raw key expressions and keeps
        one struct of their values per hash (``any_value``): about 1.3-1.5x a bare scan, against
        about 2.1-2.3x for a GROUP BY over the text keys themselves (docs/benchmarks.md). The
        outer level runs on those few rows: it normalises the values (0/1, text) and groups
        again by them, so spellings of one value meet there.

        The hash is keyed with a secret drawn per scan: every key that is not a fixed-width
        value (text, JSON, lists, ...) is hashed as text with a random 16-byte prefix, and the
        key list starts with the secret, so DuckDB's hash (fast, but not
        cryptographic: collisions for it are easy to craft) cannot be aimed at by crafted
        category values; a collision crafted for one key does not carry over to another.
        Distinct key tuples merge only if their keyed hashes collide by chance: about
        G^2 / 2^65 for G tuples (3e-12 for 10,000). Results do not depend on the key.

        ``row_groups`` (the window key per row, and the Parquet row ranges by window) makes the
        inner level a UNION ALL: one branch per window over just its row groups, the window a
        constant ``_w``, and one branch over the other row groups with ``_w`` per row.

        ``one_level`` (no ``sums``, no ``row_groups``): one GROUP BY of the normalised keys,
        with the same columns in the same order. Where the keys make millions of cells (exact
        scores × 10^5 groups) it takes about two thirds of the two levels' time and memory,
        which hold the cells two or three times over; with few cells it is slower (grouping
        on text). Distinct key tuples never merge here. ``narrow_counts``: the counts as
        INTEGER (the source has fewer than 2^31 rows).
        """
        if one_level:
            columns = [
                _FIELD.sub(lambda m: f"({keys[int(m.group(1))][0]})", column) for column in outer
            ]
            count = "INTEGER" if narrow_counts else "BIGINT"
            return (
                f"SELECT {', '.join(columns)}, CAST(count(*) AS {count}) AS n "
                f"FROM {self.source_sql()} GROUP BY ALL ORDER BY ALL NULLS FIRST"
            )
        secret = sql_literal(secrets.token_hex(8))

        def inner(keys: Sequence[tuple[str, str]], source: str, extra: str = "") -> str:
            hashed = ", ".join(
                f"({expr})"
                if kind.split("(")[0] in FIXED_WIDTH
                else f"{secret} || CAST(({expr}) AS VARCHAR)"  # text, JSON, lists, ...: keyed
                for expr, kind in keys
            )
            fields = ", ".join(f"'c{i}': ({expr})" for i, (expr, _) in enumerate(keys))
            return (
                f"SELECT hash({secret}, {hashed}) AS _h, any_value({{{fields}}}) AS _t{extra}, "
                f"count(*) AS _n{''.join(', ' + s for s in sums)} FROM {source} GROUP BY _h"
            )

        if row_groups is None:
            inner_sql = inner(keys, self.source_sql())
        else:
            window, plan = row_groups
            raw = window.raw
            source = self.source_sql(row_numbers=True)
            branches = [
                inner(
                    keys,
                    f"{source} WHERE {ranges_sql(ranges)}",
                    f", CAST({sql_literal(str(key))} AS DATE) AS _w",
                )
                for key, ranges in sorted(plan.whole.items())
            ]
            if plan.mixed:
                branches.append(
                    inner(
                        [*keys, (raw, "DATE")],
                        f"{source} WHERE {ranges_sql(plan.mixed)}",
                        f", any_value({raw}) AS _w",
                    )
                )
            inner_sql = " UNION ALL ".join(branches)
        # sorted, so that everything computed from the rows in order (pandas sums of the score
        # sums, bootstrap draws) is the same from run to run
        return (
            f"SELECT {', '.join(outer)}, CAST(sum(_n) AS BIGINT) AS n FROM ({inner_sql}) "
            "GROUP BY ALL ORDER BY ALL NULLS FIRST"
        )

    def _many_cells(self, keys: Sequence[tuple[str, str]]) -> int | None:
        """Return the source's rows if the grouped scan's keys make millions of cells, else None.

        A cheap probe.

        For Parquet read without options of at least :data:`_ONE_LEVEL_MIN_ROWS` rows (the
        footer's count): whether the first :data:`_ONE_LEVEL_PROBE_ROWS` rows hold at least
        :data:`_ONE_LEVEL_DISTINCT` distinct key tuples per row. A prefix can only
        under-count the cells (rows sorted by group show few), so a "no" keeps the two-level
        plan, which is never far off; a key that does not evaluate also says "no" (the scan
        itself then names the problem).
        """
        if self.table is not None or self.format != "parquet" or self.spec.options:
            return None
        paths = paths_sql(self.files)
        try:
            [(rows,)] = self.con.sql(
                f"SELECT sum(num_rows) FROM parquet_file_metadata({paths})"
            ).fetchall()
            if rows is None or int(rows) < _ONE_LEVEL_MIN_ROWS:
                return None
            values = ", ".join(f"({expr})" for expr, _ in keys)
            [(probed, distinct)] = self.con.sql(
                f"SELECT count(*), count(DISTINCT _h) FROM (SELECT hash({values}) AS _h "
                f"FROM {self.source_sql()} LIMIT {_ONE_LEVEL_PROBE_ROWS})"
            ).fetchall()
        except duckdb.Error:
            return None
        if probed and int(distinct) >= _ONE_LEVEL_DISTINCT * int(probed):
            return int(rows)
        return None

    @contextmanager
    def _text_enums(
        self, keys: Sequence[tuple[str, str]], text_keys: Sequence[int]
    ) -> Iterator[list[str | None]]:
        """Yield an ENUM type per text key of few values (None for the others); dropped after.

        For the one-level grouped scan: grouped, sorted and returned by a code instead of
        its text, a key of 10^4 to 5 * 10^4 values over 10^7 cells costs less time and memory
        (at 2e7 rows x 10^5 groups, the query's process peaked 755 MiB against 846 and its
        Arrow result was 260 MB against 333; docs/benchmarks.md), for one pass over that
        column first. Every Arrow batch of the result carries the whole dictionary, so a key
        of more than :data:`_ENUM_MAX_VALUES` values stays text (10^6 values: 456 MB of
        result against 108, six times slower). The values are sorted as DuckDB sorts text,
        so ``ORDER BY`` on the codes orders the rows as on the text.
        """
        names: list[str | None] = []
        made: list[str] = []
        token = secrets.token_hex(4)
        try:
            for key in text_keys:
                expr = keys[key][0]
                name = f"_eg_enum_{token}_{key}"
                text = f"CAST(({expr}) AS VARCHAR)"
                try:
                    self.con.execute(
                        f"CREATE TYPE {name} AS ENUM (SELECT DISTINCT {text} FROM "
                        f"{self.source_sql()} WHERE {text} IS NOT NULL ORDER BY 1)"
                    )
                    made.append(name)
                    [(values,)] = self.con.sql(f"SELECT len(enum_range(NULL::{name}))").fetchall()
                except duckdb.Error as exc:
                    raise self.read_error(exc) from exc
                names.append(name if int(values) <= _ENUM_MAX_VALUES else None)
            yield names
        finally:
            for name in made:
                self.con.execute(f"DROP TYPE IF EXISTS {name}")

    # -- scores ---------------------------------------------------------------------------

    def score_profile(
        self,
        *,
        distinct: bool = True,
        median: bool = False,
        progress: ProgressCallback | None = None,
    ) -> ScoreProfile:
        """Return the count, range and distinct values of the audited scores, in one scan.

        Without ``median``: count, bad rows, min, max and (``distinct``) a HyperLogLog
        estimate of the distinct scores, ungrouped. With ``median``: the scan groups the scores
        by a fine histogram (:meth:`_histogram`) and returns, from the same scan, the buckets
        holding the middle ranks (:attr:`ScoreProfile.median_buckets`) and, with
        ``distinct``, the distinct count the buckets tell: exact when each bucket holds a
        single value, else at least (buckets of one value) + 2 x (the others), which decides
        alone when above :data:`EXACT_SCORE_VALUES`; only in between does a HyperLogLog pass of
        its own estimate it (a HyperLogLog per bucket would cost about as much as a scan).

        Raises:
            EvidenceError: ``score`` is missing, not numeric, or holds a NULL, NaN or infinite
                value in an audited row (the first such row is named).
        """
        available = self.columns()
        score = self._score_sql(available)
        kept = self.checked_filter()
        bad = f"({score} IS NULL OR isnan({score}) OR isinf({score}))"
        label = f"{self.name} (score profile)"
        buckets: tuple[ScoreBucket, ...] | None = None
        at_least = False
        estimate = 0
        if median:
            footer = self._footer_bins(score, available)
            found = self._histogram(score, kept, progress, label, key=footer)
            if found.bad and footer is not None:
                # NULL, NaN or infinite scores, or (footer statistics that lie) a finite score
                # whose bin overflowed: the bit buckets, which need no range, tell which
                found = self._histogram(score, kept, progress, label)
            bad_rows, rows, low, high, buckets = (
                found.bad,
                found.rows,
                found.low,
                found.high,
                found.buckets,
            )
            if distinct and not bad_rows and rows:
                estimate, at_least = found.distinct
                if found.distinct_undecided:
                    sql = f"SELECT approx_count_distinct({score}) FROM {self.source_sql()} "
                    sql += f"WHERE {kept}"
                    # an estimate, never below what the buckets prove
                    hll = int(self._fetch(sql, progress, label)[0][0])
                    estimate, at_least = max(hll, estimate), False
        else:
            sql = (
                f"SELECT count(*) FILTER (WHERE {bad}), count(*), min({score}), max({score}), "
                f"{f'approx_count_distinct({score})' if distinct else '0'} "
                f"FROM {self.source_sql()} WHERE {kept}"
            )
            bad_rows, rows, low, high, estimate = self._fetch(sql, progress, label)[0]
        if bad_rows:
            self._raise_bad_score(kept, bad, int(bad_rows))
        if not rows:
            return ScoreProfile(rows=0, min=0.0, max=0.0, distinct_estimate=0)
        if not math.isfinite(float(high) - float(low)):
            # every bin, histogram and calibration width is (score - min) scaled: it overflows
            raise EvidenceError(
                f"evidence {self.name!r}: the scores range from {float(low):g} to "
                f"{float(high):g}, a span too wide for a 64-bit float",
                location=self.locate(
                    ("columns", "score") if "score" in self.spec.columns else ("path",)
                ),
                hint='rescale the score in the audit spec, e.g. score: "model_score / 1e300", '
                "or exclude the extreme rows with a filter",
            )
        return ScoreProfile(
            rows=int(rows),
            min=float(low),
            max=float(high),
            distinct_estimate=int(estimate),
            median_buckets=buckets,
            distinct_at_least=at_least,
        )

    def _footer_bins(self, score: str, available: list[tuple[str, str]]) -> str | None:
        """Return equal-width histogram bins over the score's range in the Parquet footer.

        For Parquet read without options whose ``score`` is a column (not an expression) of a
        floating-point or integer type, with least and greatest values in every row group's
        statistics: :data:`_HISTOGRAM_BINS` bins over their range, a superset of the audited
        scores' range (a filter only narrows it). The bin is the DOUBLE
        ``floor((s - low) * scale)``: a non-decreasing function of the score that needs no
        cast (a NaN, infinite or NULL score makes a NaN, infinite or NULL bin, which the
        histogram counts as a bad row) and that DuckDB groups by about 1.3x faster than the
        clamped integer. None (use :func:`_bucket_sql`, which needs no range) otherwise.
        """
        expr = self.role_expression("score")
        column = next(
            ((n, k) for n, k in available if expr in (n, quote_ident(n))),
            None,
        )
        if (
            self.table is not None
            or self.format != "parquet"
            or self.spec.options
            or column is None
            or column[1] not in _FOOTER_TYPES
        ):
            return None
        paths = paths_sql(self.files)
        sql = (
            "SELECT count(*), count(TRY_CAST(stats_min_value AS DOUBLE)), "
            "count(TRY_CAST(stats_max_value AS DOUBLE)), min(TRY_CAST(stats_min_value AS DOUBLE)), "
            f"max(TRY_CAST(stats_max_value AS DOUBLE)) FROM parquet_metadata({paths}) "
            f"WHERE path_in_schema = {sql_literal(column[0])}"
        )
        try:
            groups, lows, highs, low, high = self.con.sql(sql).fetchall()[0]
        except duckdb.Error:
            return None  # the footer reads as data, not as metadata: bucket by bits
        if not groups or lows != groups or highs != groups:
            return None  # a row group without statistics: its scores could lie anywhere
        low, high = float(low), float(high)
        if not math.isfinite(high - low) or high < low:
            return None  # (s - low) could overflow to inf, which reads as a bad score
        scale = _HISTOGRAM_BINS / (high - low) if high > low else 0.0
        if not math.isfinite(scale):
            return None
        # scale 0 (one value in the footer): every finite score lands in bin 0, NaN stays NaN
        return f"floor(({score} - {_double_literal(low)}) * {_double_literal(scale)})"

    def score_median_buckets(
        self,
        *,
        low: float | None = None,
        high: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> tuple[ScoreBucket, ...]:
        """Return the buckets of a fine score histogram that hold the middle ranks (one scan).

        With the scores' range (``low``, ``high``) the histogram has 4,096 equal-width bins,
        a GROUP BY on a small integer that costs DuckDB about a quarter of the 12-bit one.
        Empty when the histogram cannot bracket them; call :meth:`score_profile` first, which
        checks the scores.
        """
        score = self._score_sql(self.columns())
        kept = self.checked_filter()
        label = f"{self.name} (score median, pass 1)"
        key = None
        if low is not None and high is not None and high > low:
            scale = _HISTOGRAM_BINS / (high - low)
            if math.isfinite(scale):
                # audited rows are finite and in [low, high]; the top edge joins the last bin
                key = (
                    f"CAST(least(floor(({score} - {_double_literal(low)}) * "
                    f"{_double_literal(scale)}), {_HISTOGRAM_BINS - 1}) AS BIGINT)"
                )
        return self._histogram(score, kept, progress, label, key=key).buckets

    def _histogram(
        self,
        score: str,
        kept: str,
        progress: ProgressCallback | None,
        label: str,
        *,
        key: str | None = None,
    ) -> HistogramSummary:
        """Return the audited scores' histogram summary and the buckets of the middle ranks.

        One scan groups the audited rows by ``key`` (default :func:`_bucket_sql`): a
        non-decreasing function of the score, NULL, NaN or infinite for the bad rows. The few
        bucket rows are then ordered, summed up and cut down to those holding the middle
        ranks inside DuckDB, with a check that the buckets' ranges are disjoint and ascending
        (else no bucket comes back), and counted by whether they hold a single value.
        """
        sql = (
            f"WITH b AS MATERIALIZED (SELECT {key or _bucket_sql(score)} AS k, count(*) AS n, "
            f"min({score}) AS lo, max({score}) AS hi FROM {self.source_sql()} WHERE {kept} "
            "GROUP BY k), "
            "c AS MATERIALIZED (SELECT k, n, lo, hi, "
            "sum(n) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - n "
            "AS below, lead(lo) OVER (ORDER BY k) AS next_lo FROM b WHERE isfinite(k)), "
            "t AS (SELECT coalesce(sum(n), 0) AS rows, min(lo) AS lo, max(hi) AS hi, "
            "coalesce(bool_and(next_lo IS NULL OR hi < next_lo), true) AS ordered, "
            "count(*) FILTER (WHERE lo = hi) AS single, count(*) FILTER (WHERE lo < hi) AS mixed "
            "FROM c), "
            "z AS (SELECT coalesce(sum(n), 0) AS bad FROM b WHERE k IS NULL OR NOT isfinite(k)) "
            "SELECT z.bad, t.rows, t.lo, t.hi, t.ordered, t.single, t.mixed, c.below, c.n, "
            "c.lo, c.hi FROM t CROSS JOIN z LEFT JOIN c ON t.ordered "
            "AND c.below + c.n > (t.rows - 1) // 2 AND c.below <= t.rows // 2 ORDER BY c.below"
        )
        return HistogramSummary.from_rows(self._fetch(sql, progress, label))

    def score_median(
        self,
        profile: ScoreProfile,
        *,
        progress: ProgressCallback | None = None,
    ) -> float:
        """Return the exact median of the audited scores in bounded memory.

        For an even count it is the mean of the two middle scores. With the profile's median
        buckets (``score_profile(median=True)``) the median is either known already or lies
        in a bracket of them that the narrowing search starts from; without, the search
        starts from the whole range (:meth:`score_order_statistics`).
        """
        if profile.rows == 0:
            raise EvidenceError(
                f"evidence {self.name!r}: no audited rows, so the scores have no median",
                location=self.locate(("path",)),
            )
        plan = plan_median(profile)
        if plan.median is not None:
            return plan.median
        found = self.score_order_statistics(
            [r - plan.below for r in plan.ranks],
            low=plan.low,
            high=plan.high,
            rows=plan.rows,
            progress=progress,
        )
        return sum(found[r - plan.below] for r in plan.ranks) / len(plan.ranks)

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

        Equal-width histograms (4,096 bins, with each bin's min and max) narrow down the bin
        holding the ranks until it holds at most 1,000,000 rows or a single value; those
        rows' distinct scores are then counted exactly. Each step is one scan of the score
        column, so memory stays bounded whatever the row count (DuckDB's own median keeps
        every value: 1.7 GB for 10^8 rows).
        """
        score = self._score_sql(self.columns())
        kept = self.checked_filter()
        where = (
            f"{kept} AND {score} >= {_double_literal(low)} AND {score} <= {_double_literal(high)}"
        )
        return self._order_statistics(
            score, where, sorted(ranks), low=low, high=high, rows=rows, progress=progress
        )

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
        progress: ProgressCallback | None = None,
    ) -> dict[int, float]:
        """Return the scores at 0-based ``ranks`` (ascending) among the rows of ``where``."""
        label = f"{self.name} (score median, pass {depth + 1})"
        if low == high:
            return dict.fromkeys(ranks, low)
        scale = _HISTOGRAM_BINS / (high - low)
        if depth:  # the rows of one bin are those between its min and max (bins are ranges)
            where = (
                f"{where} AND {score} >= {_double_literal(low)} "
                f"AND {score} <= {_double_literal(high)}"
            )
        if rows <= _EXACT_ROWS or not math.isfinite(scale) or depth > 64:
            # cumulative counts of the distinct scores, in SQL; only the rows around the
            # wanted ranks come back
            sql = (
                f"SELECT s, cum - n AS first, cum FROM (SELECT s, n, sum(n) OVER (ORDER BY s) AS "
                f"cum FROM (SELECT {score} AS s, count(*) AS n FROM {self.source_sql()} "
                f"WHERE {where} GROUP BY s)) WHERE cum > {min(ranks)} AND cum - n <= {max(ranks)} "
                "ORDER BY s"
            )
            found: dict[int, float] = {}
            for value, first, cum in self._fetch(sql, progress, label):
                for rank in ranks:
                    if first <= rank < cum:
                        found[rank] = float(value)
            if len(found) != len(ranks):  # pragma: no cover - the counts cover every rank
                raise AssertionError("rank beyond the counted rows")
            return found
        # every row here lies in [low, high], so the bin needs no clamping (the top edge,
        # bin == _HISTOGRAM_BINS, is merged below); filters run before this projection
        column = (
            f"CAST(floor(({score} - {_double_literal(low)}) * {_double_literal(scale)}) AS BIGINT)"
        )
        sql = (
            f"SELECT {column} AS b, count(*) AS n, min({score}), max({score}) "
            f"FROM {self.source_sql()} WHERE {where} GROUP BY b ORDER BY b"
        )
        bins: list[list[Any]] = []
        for bin_index, count, bin_low, bin_high in self._fetch(sql, progress, label):
            if bins and min(int(bin_index), _HISTOGRAM_BINS - 1) == bins[-1][0]:
                bins[-1][1] += int(count)
                bins[-1][3] = max(bins[-1][3], bin_high)
            else:
                bins.append(
                    [min(int(bin_index), _HISTOGRAM_BINS - 1), int(count), bin_low, bin_high]
                )
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
                    progress=progress,
                )
                found.update({r: deeper[r - before] for r in inside})
            before += int(count)
        return found

    def _fetch(
        self,
        sql: str,
        progress: ProgressCallback | None = None,
        label: str = "",
    ) -> list[tuple[Any, ...]]:
        return self._tracked(progress, label or self.name, lambda: self.con.sql(sql).fetchall())

    def _score_sql(self, available: list[tuple[str, str]]) -> str:
        expr, kind = self.checked_expression("score", available)
        if kind.split("(")[0] not in NUMERIC:
            if kind == "VARCHAR":  # text: a value that is no number made it so; name it
                not_a_number = (
                    f"({self.checked_filter()}) AND TRY_CAST(({expr}) AS DOUBLE) IS NULL "
                    f"AND ({expr}) IS NOT NULL"
                )
                [(found,)] = self._fetch(
                    f"SELECT count(*) FROM {self.source_sql()} WHERE {not_a_number}",
                    None,
                    f"{self.name} (score check)",
                )
                if found:
                    self.raise_at_first_row(
                        "score",
                        not_a_number,
                        problem="'score' must be a number in every row",
                        suffix=f" ({found:,} such row{'' if found == 1 else 's'}: the column "
                        "is read as text because of them)",
                        hint="fix those values, or exclude their rows with a filter in the "
                        "audit spec",
                    )
            raise EvidenceError(
                f"evidence {self.name!r}: 'score' must be numeric, but {expr} has type {kind}",
                location=self.locate(
                    ("columns", "score") if "score" in self.spec.columns else ("path",)
                ),
                hint="map score to a number, e.g. score: "
                + json.dumps(f"TRY_CAST({expr} AS DOUBLE)"),
            )
        return f"CAST(({expr}) AS DOUBLE)"

    def _raise_bad_score(self, kept: str, bad: str, count: int) -> None:
        self.raise_at_first_row(
            "score",
            f"({kept}) AND {bad}",
            problem="'score' must be a finite number in every audited row",
            suffix=f" ({count:,} such row{'' if count == 1 else 's'})",
            hint="fix the data, or exclude such rows with the evidence entry's filter",
        )

    # -- helpers --------------------------------------------------------------------------

    def _run(
        self,
        sql: str,
        progress: ProgressCallback | None,
        *,
        label: str | None = None,
    ) -> pd.DataFrame:
        # through Arrow: text stays Arrow text in pandas (``.df()`` made a Python str per
        # value first: at 10^7 grouped rows 4 s and about 1 GB more)
        frame = arrow_to_frame(
            self._tracked(progress, label or self.name, lambda: self.con.sql(sql).to_arrow_table())
        )
        if len(frame) > _TRIM_ROWS:
            give_back_freed_memory()
        return frame

    def _tracked(
        self,
        progress: ProgressCallback | None,
        label: str,
        work: Callable[[], _T],
    ) -> _T:
        """Run one query with ``work``; report DuckDB's progress under ``label`` meanwhile."""
        stop = threading.Event()
        poller: threading.Thread | None = None
        if progress is not None:
            self.con.execute(
                "SET enable_progress_bar = true; SET enable_progress_bar_print = false"
            )

            def poll() -> None:
                while not stop.wait(0.1):
                    value = self.con.query_progress()
                    if value >= 0:
                        progress(label, min(value / 100.0, 1.0))

            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
        try:
            result = work()
        except duckdb.Error as exc:
            raise self.read_error(exc) from exc
        finally:
            stop.set()
            if poller is not None:
                poller.join()
        if progress is not None:
            progress(label, 1.0)
        return result

    def checked_expression(self, role: str, available: list[tuple[str, str]]) -> tuple[str, str]:
        """Return a role's SQL expression and its DuckDB type, from one probe of the source.

        Raises:
            EvidenceError: the column does not exist, or the mapped expression does not
                evaluate (located in the audit spec, with the file's columns).
        """
        expr = self.role_expression(role)
        try:
            kind = str(self.con.sql(f"SELECT ({expr}) FROM {self.source_sql()} LIMIT 0").types[0])
        except duckdb.Error as exc:
            names = ", ".join(name for name, _ in available)
            if role in self.spec.columns:
                guess = column_guess(self.spec.columns[role], (name for name, _ in available))
                raise EvidenceError(
                    f"evidence {self.name!r}: the expression for {role!r} ({expr}) does not "
                    f"evaluate: {first_line(exc)}{guess}",
                    location=self.locate(("columns", role)),
                    hint=f"columns of {self._describe_files()}: {names}",
                ) from exc
            meant = close_match(role, [name for name, _ in available])
            raise EvidenceError(
                f"evidence {self.name!r} has no column {role!r} ({self._describe_files()})"
                f"{did_you_mean(role, [meant] if meant else [])}",
                location=self.locate(("columns",)),
                hint=f"map it under {self._mapping(role, meant or '<column or SQL>')}; "
                f"available columns: {names}",
            ) from exc
        return expr, kind

    def checked_filter(self) -> str:
        """Return the evidence filter as a true/false SQL condition (``true`` without one).

        Raises:
            EvidenceError: the filter does not evaluate, or is not a condition.
        """
        if not self.spec.filter:
            return "true"
        self._check_expression(self.spec.filter, ("filter",), "the filter")
        condition = f"coalesce(({self.spec.filter}), false)"
        try:
            rel = self.con.sql(f"SELECT {condition} FROM {self.source_sql()} LIMIT 0")
            if str(rel.types[0]) != "BOOLEAN":
                raise EvidenceError(
                    f"evidence {self.name!r}: filter must be a true/false condition, "
                    f"found type {rel.types[0]}",
                    location=self.locate(("filter",)),
                )
        except duckdb.Error as exc:
            keyword = keyword_column_hint(
                self.spec.filter, (n for n, _ in self.columns()), _reserved_words(self.con)
            )
            raise EvidenceError(
                f"evidence {self.name!r}: the filter does not evaluate: {first_line(exc)}",
                location=self.locate(("filter",)),
                hint=keyword or 'write a SQL condition over the evidence columns, e.g. "age >= 18"',
            ) from exc
        return condition

    def _binary_sql(self, role: str, kind: str, value: str) -> str:
        """Return :func:`binary_sql` for a role, or raise when its type cannot hold 0/1."""
        mapped = binary_sql(kind, value)
        if mapped is None:
            raise EvidenceError(
                f"evidence {self.name!r}: {role!r} must be 0/1 or true/false, but "
                f"{self.role_expression(role)} has type {kind}",
                location=self.locate(("columns", role) if role in self.spec.columns else ("path",)),
                hint=f'map {role} to a 0/1 column or a condition, e.g. {role}: "score >= 0.5"',
            )
        return mapped

    def _raise_bad_binary(self, role: str, normalized: str, kept: str, kind: str) -> None:
        expr = self.role_expression(role)
        # values as the user writes them in a condition: numbers bare, text quoted
        number = kind.split("(")[0] in NUMERIC

        def hint(value: object) -> str:
            if not (isinstance(value, str) and value.strip()):
                return (
                    "fix the data, or exclude such rows with the evidence entry's filter, or "
                    f"map {role} to an expression that yields 0/1"
                )
            values = self._distinct_text(expr, limit=6)
            positive = next((v for v in values if v.strip().lower() in _POSITIVE_WORDS), None)
            column = (
                expr[1:-1]
                if expr == quote_ident(expr[1:-1]) and expr[1:-1].isidentifier()
                else expr
            )
            example = (
                (positive or value.strip()) if number else sql_literal(positive or value.strip())
            )
            shown = ", ".join(v if number else repr(v) for v in values[:5]) + (
                ", ..." if len(values) > 5 else ""
            )
            mapping = self._mapping(role, f"{column} = {example}", quoted=True)
            return (
                f"values are read as written ({role} holds {shown}): map {role} to the "
                f"condition that means 1 under {mapping}"
                + ("" if positive else f" with the value that means 1 in place of {example}")
                + " (or fix the data, or exclude such rows with a filter)"
            )

        self.raise_at_first_row(
            role,
            f"({kept}) AND ({normalized}) IS NULL",
            problem=f"{role!r} must be 0 or 1",
            hint="",
            hint_of=hint,
        )

    def _distinct_text(self, expr: str, *, limit: int) -> list[str]:
        """Return up to ``limit`` distinct non-null values of ``expr`` as text, sorted."""
        rows = diagnostic_rows(
            f"SELECT DISTINCT CAST(({expr}) AS VARCHAR) AS v FROM {self.source_sql()} "
            f"WHERE ({expr}) IS NOT NULL ORDER BY v LIMIT {int(limit)}",
            tables=self.memory_tables(),
        )
        return [str(row[0]) for row in rows or []]

    def raise_at_first_row(
        self,
        role: str,
        where: str,
        *,
        problem: str,
        hint: str,
        suffix: str = "",
        hint_of: Callable[[object], str] | None = None,
    ) -> None:
        """Raise an EvidenceError naming the file, row (and CSV line) of the first bad value.

        Raises:
            EvidenceError: always; located at the first row where ``where`` holds.
        """
        expr = self.role_expression(role)
        for file in self.files:
            row = self._first_row(file, f"CAST(({expr}) AS VARCHAR)", where)
            if row is None:
                continue
            number, value = row
            shown = "NULL (missing)" if value is None else repr(value)
            line = f", line {number + 1}" if self.format == "csv" else ""
            raise EvidenceError(
                f"evidence {self.name!r}: {problem}, found {shown} in row {number}{line}, "
                f"column {expr}{suffix}",
                location=self.row_location(file),
                hint=hint_of(value) if hint_of is not None else hint,
            )
        raise EvidenceError(  # pragma: no cover - the scan found one; the row search must too
            f"evidence {self.name!r}: {problem}; the scan found such values but no row matched",
            location=self.locate(("columns", role) if role in self.spec.columns else ("path",)),
        )

    def _first_row(self, file: Path, value: str, where: str) -> tuple[int, Any] | None:
        result = diagnostic_rows(
            f"SELECT _row, _value FROM (SELECT row_number() OVER () AS _row, {value} AS "
            f"_value, {where} AS _bad FROM {self.source_sql([file])}) WHERE _bad "
            "ORDER BY _row LIMIT 1",
            tables=self.memory_tables(),
        )
        return (int(result[0][0]), result[0][1]) if result else None

    def _mapping(self, role: str, value: str, *, quoted: bool = False) -> str:
        """Return ``evidence.NAME.columns, e.g. ROLE: VALUE`` as the user writes it.

        An audit spec's YAML (``value`` in double quotes when ``quoted``), or the dict of an
        ``ethicsgate.audit`` call (located ``python:``).
        """
        if str(self.locate(())).startswith("python:"):
            return (
                f'evidence["{self.name}"]["columns"], e.g. {{"{role}": '
                f"{json.dumps(value, ensure_ascii=False)}}}"
            )
        shown = f'"{value}"' if quoted else value
        return f"evidence.{self.name}.columns, e.g. {role}: {shown}"

    def row_location(self, file: Path, line: int | None = None) -> Location:
        """Return where a bad row is: its file (and line), or for a frame its place in the call.

        A frame's stand-in path (``<pandas.DataFrame name>``) is no place a user can open.
        """
        if self.table is not None:
            return self.locate(("data",))
        return Location(str(file), line)

    def _describe_files(self) -> str:
        if self.table is not None:
            return f"the {getattr(self.spec, 'kind', 'frame')} handed over"
        if len(self.files) == 1:
            return str(self.files[0])
        return f"{len(self.files)} files matching {self.spec.path}"

    def _first_bad_json_line(self) -> EvidenceError | None:
        """Return the error naming the first line of the files that is not one JSON value.

        DuckDB's message counts lines from where its parser gave up, which for an unclosed
        string is the line after the broken one; Python's parser, line by line, is exact.
        """
        for file in self.files:
            found = _bad_json_line(file)
            if found is not None:
                number, column, problem = found
                return EvidenceError(
                    f"evidence {self.name!r}: line {number} is not valid JSON: {problem} "
                    f"(column {column})",
                    location=Location(str(file), number, column),
                    hint="JSON Lines hold one complete JSON object per line: fix or remove "
                    "that line",
                )
        return None

    def read_error(self, exc: duckdb.Error) -> EvidenceError:
        """Return the located error for a DuckDB error reading the files (with the fix)."""
        if self.table is not None:
            # only an error about the Arrow data sends every column to a probe of its own
            typed = isinstance(exc, duckdb.NotImplementedException) or "Arrow" in str(exc)
            return self._frame_error(exc, probe=typed)
        if self.format == "jsonl" and "Malformed JSON" in str(exc):
            bad = self._first_bad_json_line()
            if bad is not None:
                return bad
        if self.format == "csv" and any(
            sign in str(exc) for sign in ("Error when sniffing", "Expected Number of Columns")
        ):
            options = self.spec.options
            sep = next((options[k] for k in ("delim", "sep", "delimiter") if k in options), None)
            ragged = self._ragged_error(sep if isinstance(sep, str) and len(sep) == 1 else None)
            if ragged is not None:
                return ragged
        if "not utf-8 encoded" in str(exc) and "encoding" not in self.spec.options:
            bad = non_utf8_error(self.name, self.files)
            if bad is not None:
                return bad
        hint = "check the file's format and contents, or set format/options in the audit spec"
        if len(self.files) > 1 and "union_by_name" in str(exc):
            # DuckDB takes the first file's schema for all of a glob's files
            hint = (
                "the files' columns differ in type or order; read each file by its own "
                f"columns with options: {{union_by_name: true}} under evidence.{self.name}"
            )
        return EvidenceError(
            f"evidence {self.name!r}: cannot read {self._describe_files()} as {self.format}: "
            f"{first_line(exc, lines=3)}",
            location=self.locate(("path",)),
            hint=hint,
        )

    # -- in-memory evidence (the Python API) ------------------------------------------------
    # An Arrow table registered as a view on the engine's connection: every scan above reads
    # it through source_sql() as it reads files. It has no file, so errors name the frame
    # (files holds one label path) and its digest is arrow-ipc-sha256 (evidence/arrow.py).

    def _view_name(self) -> str:
        return f"_ethicsgate_memory_{self.name}"

    def _memory_source(self) -> str:
        """Return the view of the in-memory table, registered on first use.

        Raises:
            EvidenceError: DuckDB cannot read a column's type (named, with the fix).
        """
        if not self._view_registered:
            try:
                self.con.register(self._view_name(), self.table)
            except duckdb.Error as exc:  # DuckDB checks the Arrow types here
                raise self._frame_error(exc) from exc
            self._view_registered = True
        return quote_ident(self._view_name())

    def _unreadable_columns(self) -> list[tuple[str, str]]:
        """Return the frame's columns DuckDB cannot read, with their Arrow types.

        Each column is tried alone, without its rows: DuckDB's message names the type it
        cannot read, not the column.
        """
        bad = []
        probe = f"_ethicsgate_probe_{self.name}"
        for index, arrow_field in enumerate(self.table.schema):
            try:
                self.con.register(probe, self.table.select([index]).slice(0, 0))
                self.con.sql(f"SELECT * FROM {quote_ident(probe)} LIMIT 0").fetchall()
            except duckdb.Error:
                bad.append((arrow_field.name, str(arrow_field.type)))
            finally:
                self.con.unregister(probe)  # a name never registered is no error
        return bad

    def _frame_error(self, exc: duckdb.Error, *, probe: bool = True) -> EvidenceError:
        """Return the error for a frame DuckDB cannot read, located at its ``data``.

        ``probe``: find the columns whose type DuckDB cannot read (a query each), for an error
        about the Arrow data; any other error (a cast in a mapping, memory) is shown as it is.
        """
        kind = getattr(self.spec, "kind", "frame")
        bad = self._unreadable_columns() if probe else []
        if not bad:
            return EvidenceError(
                f"evidence {self.name!r}: DuckDB cannot read the {kind} handed over: "
                f"{first_line(exc, lines=3)}",
                location=self.locate(("data",)),
                hint=f"check the types of the frame's columns and the columns and filter of "
                f'evidence["{self.name}"]',
            )
        listed = ", ".join(f"{name!r} ({arrow_type})" for name, arrow_type in bad)
        which, it = ("column", "it") if len(bad) == 1 else ("columns", "them")
        code = _drop_columns(kind, [name for name, _ in bad])
        return EvidenceError(
            f"evidence {self.name!r}: DuckDB cannot read the type of {which} {listed} of the "
            f"{kind} handed over",
            location=self.locate(("data",)),
            hint=f"drop {it} if no rule reads {it}{f' ({code})' if code else ''}, or cast {it} "
            "to a type DuckDB reads: a number, text, boolean, date or time (a decimal of at "
            "most 38 digits)",
        )

    def memory_tables(self) -> dict[str, Any]:
        """Return the in-memory tables a fresh connection must register, by view name."""
        return {} if self.table is None else {self._view_name(): self.table}

    def _memory_digest(self) -> EvidenceFile:
        from ethicsgate.evidence.arrow import ARROW_IPC_SHA256, arrow_ipc_sha256

        digest = arrow_ipc_sha256(self.table)
        path = Path(self.spec.path or self.name)
        return EvidenceFile(path, digest.sha256, digest.size, ARROW_IPC_SHA256)

    # -- record-level rows and data contracts ---------------------------------------------

    def read_rows(self, roles: Sequence[Role]) -> DuckDBRows:
        """Scan the evidence once into a temporary table of typed roles, filter applied.

        Raises:
            EvidenceError: a role's column is missing or of the wrong type, or a value cannot
                be read (the first such row is named: file, row, column, and the fix).
        """
        from ethicsgate.engines.duckdb.rows import read_rows

        return read_rows(self, roles)

    def run_contract(self, rule: DataQualityRule, *, guards: list[str]) -> ContractResult:
        """Run a data_quality rule's expectations with Great Expectations, in bounded memory."""
        from ethicsgate.engines.duckdb.contracts import run_contract

        return run_contract(self, rule, guards=guards)

    def run_builtin_contract(self, checks: Sequence[BuiltinCheck]) -> ContractResult:
        """Run the built-in checks the rules need of this dataset (``contracts: report``)."""
        from ethicsgate.engines.duckdb.builtin_contracts import run_builtin_contract

        return run_builtin_contract(self, checks)


#: A column name DuckDB gave the second of two header fields of one name: ``name_1``, ...
_RENAMED = re.compile(r"(.+)_(\d+)")


def _missing_from_enum(exc: EvidenceError) -> bool:
    """Return whether the scan failed casting a text value to one of its key enums."""
    cause = exc.__cause__
    text = str(cause)
    return isinstance(cause, duckdb.ConversionException) and (
        "_eg_enum_" in text or " to ENUM(" in text
    )


def _bad_json_line(file: Path) -> tuple[int, int, str] | None:
    """Return (line, column, parser message) of the first line of ``file`` that is no JSON."""
    handle = open_text(file)
    if handle is None:
        return None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                json.loads(line)
            except json.JSONDecodeError as exc:
                return number, exc.colno, exc.msg
    return None


def arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """Return a query's Arrow result as a frame, a column at a time, text as categoricals.

    Text keys become categoricals (codes and each distinct value once, in order of first
    appearance, as Arrow's ``dictionary_encode`` of the whole column gives them), encoded a
    chunk at a time into one array of codes: at 10^7 grouped rows, encoding whole columns
    and converting the table at once held up to 0.15 GB more on top of the table. The
    grouped rows repeat each group's value once per cell, and everything downstream groups
    on integer codes. Other columns convert as ``to_pandas`` converts them. Each column
    leaves the table as it is converted, but a DuckDB result's memory comes back only when
    all of a record batch's columns are gone: the table and the frame are both held at the
    end (reading the result a batch at a time would not).
    """
    import pandas as pd
    import pyarrow as pa  # loaded by to_arrow_table already

    # in the system allocator, which gives freed pages back: Arrow's default pool
    # (mimalloc) kept about 350 MB after a scan of 10^7 grouped rows, release_unused() or not
    pool = pa.system_memory_pool()
    columns: dict[str, Any] = {}
    for name in table.column_names:
        column = table.column(name)
        table = table.drop_columns([name])
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            columns[name] = _categorical(column, pool)
        elif pa.types.is_dictionary(column.type):  # an ENUM
            columns[name] = _categorical_from_codes(column, pool)
        else:
            columns[name] = column.to_pandas(memory_pool=pool, self_destruct=True)
        del column
    return pd.DataFrame(columns, copy=False)


def _categorical_from_codes(column: pa.ChunkedArray, pool: pa.MemoryPool) -> pd.Categorical:
    """Return a dictionary-encoded text column (an ENUM) as :func:`_categorical` returns text.

    The same categorical as for the column as text: the values present, in order of first
    appearance (nulls: code -1), from the codes alone.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    column = column.unify_dictionaries(memory_pool=pool)
    if not column.num_chunks:
        return _categorical(column.cast(pa.string()), pool)
    dictionary = column.chunk(0).dictionary
    codes = np.empty(len(column), dtype=np.int32)
    start = 0
    for chunk in column.chunks:
        indices = chunk.indices.cast(pa.int32(), memory_pool=pool)
        codes[start : start + len(chunk)] = indices.fill_null(-1).to_numpy(zero_copy_only=False)
        start += len(chunk)
    present = pd.unique(codes)  # in order of first appearance
    present = present[present >= 0]
    renumber = np.full(len(dictionary) + 1, -1, dtype=np.int32)  # the last: -1 stays -1
    renumber[present] = np.arange(len(present), dtype=np.int32)
    np.take(renumber, codes, out=codes)
    if not len(present):
        return _categorical(column.cast(pa.string()), pool)
    categories = dictionary.take(pa.array(present)).cast(pa.string()).to_pandas()
    return pd.Categorical.from_codes(codes, categories=categories)


def _categorical(column: pa.ChunkedArray, pool: pa.MemoryPool) -> pd.Categorical:
    """Return a text column as a categorical: one chunk encoded at a time (nulls: code -1)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    known: dict[str, int] = {}
    codes = np.empty(len(column), dtype=np.int32)
    start = 0
    for chunk in column.chunks:
        encoded = pc.dictionary_encode(chunk, memory_pool=pool)
        values = encoded.dictionary.to_pylist()
        # this chunk's codes -> the column's: each distinct value looked up once per chunk
        lookup = np.array([known.setdefault(v, len(known)) for v in values] + [-1], dtype=np.int32)
        indices = encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
        codes[start : start + len(chunk)] = lookup[indices]
        start += len(chunk)
    if not known:  # no value (no row, or all null): as Arrow converts it (object categories)
        empty: pd.Categorical = pc.dictionary_encode(column, memory_pool=pool).to_pandas().array
        return empty
    categories = pa.array(list(known), type=pa.string()).to_pandas()
    return pd.Categorical.from_codes(codes, categories=categories)
