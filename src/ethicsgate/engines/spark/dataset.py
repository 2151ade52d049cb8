"""Read evidence with Spark SQL: every scan is one aggregate query over a temporary view.

Each evidence set is registered once as a temporary view over its files (CSV with a header and
inferred types, Parquet, JSON Lines), a catalog table (``table:``) or an in-memory frame; the
scans below are Spark SQL over that view and bring back only aggregates: grouped counts, the
score profile, the histogram buckets around the median. The SQL follows the DuckDB reader's
(``engines/duckdb/dataset.py``), the reference these results are checked against.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ethicsgate.engines.spark import digest as _digest
from ethicsgate.engines.spark.failures import SPARK_ERRORS, local_path
from ethicsgate.engines.spark.sqltext import (
    NUMERIC,
    base_type,
    binary_sql,
    double_literal,
    first_line,
    spark_sql,
)
from ethicsgate.errors import EvidenceError, Location, close_match, did_you_mean
from ethicsgate.evidence.csvcheck import (
    empty_file_error,
    header_fields,
    repeated_header_error,
    repeated_header_fields,
    utf8_error,
)
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
    sha256_file,
    text_as_categories,
)
from ethicsgate.evidence.spec import DatasetFormat, EvidenceSpec
from ethicsgate.evidence.sql import (
    OFFSET_TEXT,
    SPARK_LEXIS,
    column_guess,
    expression_problem,
    names_a_column,
    not_one_expression,
    quote_ident,
    sql_literal,
    text_not_a_time,
    window_column_hint,
    window_key_path,
)

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

    from ethicsgate.engines.spark import SparkEngine
    from ethicsgate.engines.spark.rows import SparkRows
    from ethicsgate.evidence.contracts import BuiltinCheck, ContractResult
    from ethicsgate.evidence.delta import DeltaSnapshot
    from ethicsgate.evidence.roles import Role
    from ethicsgate.policy.models import DataQualityRule

__all__ = ["SparkDataset"]

_T = TypeVar("_T")
#: A mapping Spark reads as one column's name unquoted: ASCII letters, digits and _ (Spark's
#: lexer takes no other letter unquoted, so a header such as Größe is quoted too).
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Held while a CSV schema is inferred under spark.sql.timestampType=TIMESTAMP_NTZ.
_TIMESTAMP_TYPE_LOCK = threading.Lock()
_VIEWS = itertools.count()

#: Bins per histogram pass of the median search, and the row count below which the remaining
#: candidates are counted value by value (as the DuckDB reader).
_HISTOGRAM_BINS = 4096
#: Delta schema type names that Spark's DDL spells otherwise (a partition column's cast).
_SPARK_TYPES = {"long": "bigint", "integer": "int", "short": "smallint", "byte": "tinyint"}
#: DuckDB's CSV option names that Spark spells otherwise (an audit spec runs on either engine).
_DUCKDB_OPTIONS = {
    "delim": "sep",
    "delimiter": "sep",
    "nullstr": "nullValue",
    "dateformat": "dateFormat",
    "timestampformat": "timestampFormat",
}
_EXACT_ROWS = 1_000_000
_BUCKET_BITS = 12
#: Relative standard deviation of Spark's HyperLogLog++ distinct estimate (decides exact or
#: binned ROC AUC; DuckDB's estimate is within a few per cent too).
_DISTINCT_RSD = 0.02


#: Python's names of the encodings Spark's CSV reader takes -> Spark's (which refuses
#: ``latin-1``, the spelling DuckDB takes and the non-UTF-8 hint gives).
_SPARK_CHARSETS = {
    "iso8859-1": "iso-8859-1",
    "ascii": "us-ascii",
    "utf-8": "utf-8",
    "utf-16": "utf-16",
    "utf-16-be": "utf-16be",
    "utf-16-le": "utf-16le",
    "utf-32": "utf-32",
}


def _spark_charset(name: str) -> str:
    """Return an encoding's name as Spark's CSV reader spells it (unknown ones unchanged)."""
    import codecs

    try:
        found = codecs.lookup(name).name
    except LookupError:
        return name
    return _SPARK_CHARSETS.get(found, name)


def _score_column_sql(score: str, column: ScoreColumn) -> tuple[str, str]:
    """Return the SQL of a score-derived column as (raw, final); see the DuckDB reader.

    The bin is clamped as a DOUBLE before ``floor`` (Spark's ``floor`` of a DOUBLE is a
    BIGINT, which a NaN or huge score in a row the filter drops must not overflow).
    """
    if column.kind == "gt":
        return f"({score} > {double_literal(column.value)})", "CAST({} AS INT)"
    if column.kind == "ge":
        return f"({score} >= {double_literal(column.value)})", "CAST({} AS INT)"
    if column.kind == "value":
        return score, "{}"
    if column.kind == "within":
        low, high = double_literal(column.value), double_literal(column.high)
        return f"CASE WHEN {score} >= {low} AND {score} <= {high} THEN {score} END", "{}"
    if column.kind == "sum":
        return f"sum({score})", "sum({})"
    unclamped = f"(({score} - {double_literal(column.value)}) * {double_literal(column.scale)})"
    raw = (
        f"CAST(least(greatest(floor(least(greatest({unclamped}, -1.0D), "
        f"{float(column.bins)!r}D)), 0), {column.bins - 1}) AS BIGINT)"
    )
    return raw, "{}"


def _bucket_sql(score: str) -> str:
    """Return the score rounded to 12 significant bits (Veltkamp's split); see DuckDB's."""
    c = double_literal(float(2 ** (53 - _BUCKET_BITS) + 1))
    down, up = double_literal(2.0**-100), double_literal(2.0**100)

    def split(x: str) -> str:
        return f"(({c} * {x}) - (({c} * {x}) - {x}))"

    return (
        f"CASE WHEN isnan({score}) OR abs({score}) = {double_literal(math.inf)} THEN NULL "
        f"WHEN abs({score}) < {double_literal(2.0**960)} THEN {split(score)} "
        f"ELSE {split(f'({score} * {down})')} * {up} END"
    )


@dataclass
class SparkDataset:
    """One named evidence set, registered as a temporary view of the engine's session."""

    name: str
    spec: EvidenceSpec
    files: list[Path]
    format: DatasetFormat
    locate: Locator
    engine: SparkEngine = field(repr=False)
    table_name: str | None = None
    """A catalog table (``table:`` in the audit spec) instead of files."""
    memory: Any = field(default=None, repr=False)
    """In-memory evidence (the Python API): a ``pyarrow.Table``."""
    uri: str | None = None
    """A path Spark reads itself (``s3a://``, ``hdfs://``, ``dbfs:/``), not a local file."""
    query: str | None = None
    """A Spark SQL SELECT (``query:`` in the audit spec) instead of files or a table."""
    delta_path: str | None = None
    """A Delta table by path (``format: delta``, or a folder holding ``_delta_log/``)."""
    delta: DeltaSnapshot | None = field(default=None, repr=False)
    """The version read from its files, when the session has no Delta data source."""
    _view: str | None = field(default=None, repr=False)
    _digests: Future[list[EvidenceFile]] | None = field(default=None, repr=False)
    _columns: list[tuple[str, str]] | None = field(default=None, repr=False)
    _identity: TableIdentity | None = field(default=None, repr=False)
    _version: str | None = field(default=None, repr=False)

    @property
    def spark(self) -> SparkSession:
        """Return the engine's session (connecting on first use)."""
        return self.engine.spark

    # -- the source view --------------------------------------------------------------------

    def source_sql(self) -> str:
        """Return the quoted name of the temporary view over the evidence (created once)."""
        if self._view is None:
            if self.table_name is not None or self.delta_path is not None:
                # the table's version before any scan reads it (None: it keeps none)
                from ethicsgate.engines.spark.versions import table_version

                self._version = table_version(self)
            view = f"_eg_src_{next(_VIEWS)}"
            try:
                self._frame().createOrReplaceTempView(view)
            except SPARK_ERRORS as exc:
                raise self.read_error(exc) from exc
            self.engine.views.append(view)
            self._view = view
        return quote_ident(self._view)

    def _frame(self) -> DataFrame:
        if self.table_name is not None:
            return self.spark.table(self.table_name)
        if self.query is not None:
            return self.spark.sql(self.query)
        if self.memory is not None:
            return self.spark.createDataFrame(self.memory)
        if self.delta_path is not None:
            return self._delta_frame(self.delta_path)
        reader = self.spark.read
        options: dict[str, str] = {}
        fmt = self.format
        if fmt == "csv":
            # multiLine: a quoted field may hold a line break (RFC 4180, as DuckDB reads
            # it); without it Spark splits the row in two at the break
            options.update(header="true", inferSchema="true", multiLine="true")
        elif fmt == "json":
            options["multiLine"] = "true"
        for key, value in self.spec.options.items():
            if isinstance(value, (dict, list)):
                raise EvidenceError(
                    f"evidence {self.name!r} (engine spark): reader option {key!r} is a "
                    "list or mapping, which Spark's reader options cannot hold",
                    location=self.locate(("options", key)),
                    hint="give Spark reader options as text, numbers or true/false, e.g. "
                    "options: {sep: ';', nullValue: 'NA'}; map types with CAST in columns",
                )
            name = _DUCKDB_OPTIONS.get(key.lower(), key)
            options[name] = str(value).lower() if isinstance(value, bool) else str(value)
            if name.lower() in ("encoding", "charset"):
                options[name] = _spark_charset(options[name])
        # absolute: a Spark Connect server resolves a relative path against its own directory
        paths = [self.uri] if self.uri is not None else [str(f.absolute()) for f in self.files]
        source = {"csv": "csv", "parquet": "parquet", "jsonl": "json", "json": "json"}.get(
            str(fmt), str(fmt)
        )
        if source == "csv" and self.uri is None:
            self._check_csv_files(options)
        if source == "csv" and options.get("inferSchema", "").lower() == "true":
            frame = self._csv_times_as_duckdb(options, paths)
        else:
            frame = reader.format(source).options(**options).load(paths)
        if source == "csv" and self.uri is None and options.get("header", "").lower() == "true":
            frame = self._merge_repeated_columns(frame, options.get("sep", ","))
        return frame

    def _csv_times_as_duckdb(self, options: Mapping[str, str], paths: list[str]) -> DataFrame:
        """Return a CSV file read with the time types DuckDB's reader gives its columns.

        Spark's inference makes every column of times a ``timestamp`` (an instant), DuckDB's
        a naive ``TIMESTAMP`` where no value has an offset, which a window in a time zone
        takes as that zone's wall clock: the same rows fell in other days on Spark. So the
        schema is inferred with naive times as ``timestamp_ntz`` (DuckDB's TIMESTAMP; a column
        with offsets stays ``timestamp``, DuckDB's TIMESTAMPTZ). A classic frame keeps the
        relation it inferred; over Spark Connect the schema is given to the read, or the
        server would infer it again, in its own setting, for every query.
        """
        conf = self.spark.conf
        setting = "spark.sql.timestampType"
        # one inference at a time in this process: two audits on one session would restore
        # each other's setting (other users of the session see it only during the inference)
        with _TIMESTAMP_TYPE_LOCK:
            before = conf.get(setting, None)
            try:
                conf.set(setting, "TIMESTAMP_NTZ")
            except SPARK_ERRORS:  # a server that refuses the setting: Spark's own inference
                return self.spark.read.format("csv").options(**options).load(paths)
            try:
                inferred = self.spark.read.format("csv").options(**options).load(paths)
                schema = inferred.schema
            finally:
                if before is None:
                    conf.unset(setting)
                else:
                    conf.set(setting, before)
        if not type(self.spark).__module__.startswith("pyspark.sql.connect"):
            return inferred  # a classic frame keeps the relation it inferred
        # given as DDL text (a Connect reader takes it as is)
        ddl = ", ".join(
            f"`{f.name.replace('`', '``')}` {f.dataType.simpleString()}" for f in schema.fields
        )
        read = dict(options, inferSchema="false")
        return self.spark.read.format("csv").options(**read).schema(ddl).load(paths)

    def _check_csv_files(self, options: Mapping[str, str]) -> None:
        """Raise if a local CSV file is empty, or not UTF-8 and no encoding is given.

        Spark reads an empty file as no columns (every role "missing") and a byte that is not
        UTF-8 as U+FFFD (a group "Caf\ufffd"); the checks and messages are DuckDB's
        (:mod:`ethicsgate.evidence.csvcheck`).

        Raises:
            EvidenceError: the first empty file, or the first line that is not UTF-8.
        """
        error = empty_file_error(self.name, self.files, engine="spark")
        if error is None and not {"encoding", "charset"} & {k.lower() for k in options}:
            error = utf8_error(self.name, self.files, engine="spark")
        if error is not None:
            raise error

    def _merge_repeated_columns(self, frame: DataFrame, delimiter: str) -> DataFrame:
        """Return the frame with a header's repeated column read once, as DuckDB reads it.

        Spark names every field of a repeated name (``Score``, ``score``, case ignored) by
        name and position (``Score2``, ``score3``), so no role can read it by name. Two such
        columns that hold the same values are harmless (ProPublica's COMPAS file repeats
        ``decile_score``): the first gets its name back and the others DuckDB's (``score_1``).

        Raises:
            EvidenceError: the two columns differ in some row (the header line is named).
        """
        file = self.files[0] if self.files else None
        header = header_fields(file, delimiter) if file and len(delimiter) == 1 else None
        pairs = repeated_header_fields(header or [])
        names = list(frame.columns)
        if header is None or not pairs or len(header) != len(names):
            return frame
        if any(names[c - 1] != f"{header[c - 1]}{c - 1}" for pair in pairs for c in pair):
            return frame  # not Spark's renaming: not ours to say
        taken = {n.lower() for n in names}
        renamed = dict(enumerate(names))
        repeats: dict[int, int] = {}
        for earlier, column in pairs:
            a, b = names[earlier - 1], names[column - 1]
            # a SQL condition, not pyspark.sql.functions: once any Spark Connect session has
            # been made in the process, those build Connect columns, which a classic frame
            # cannot take (JVM_ATTRIBUTE_NOT_SUPPORTED)
            left, right = (f"`{n.replace('`', '``')}`" for n in (a, b))
            differ = frame.where(f"NOT ({left} <=> {right})").limit(1).count()
            if differ:
                raise repeated_header_error(
                    self.name,
                    file,  # type: ignore[arg-type]
                    header,
                    (earlier, column),
                    reading=f"Spark reads them as {a!r} and {b!r}, and no role can read "
                    f"{header[column - 1]!r} by name",
                    engine="spark",
                )
            renamed[earlier - 1] = header[earlier - 1]
            repeats[earlier] = repeats.get(earlier, 0) + 1
            later = f"{header[column - 1]}_{repeats[earlier]}"
            if later.lower() not in taken:
                renamed[column - 1] = later
        return frame.toDF(*(renamed[i] for i in range(len(names))))

    def _delta_frame(self, location: str) -> DataFrame:
        """Read a Delta table by path: with delta-spark, else from its files (deltalake).

        A session without a Delta data source reads a local table as the Parquet files of
        the version audited (:mod:`ethicsgate.evidence.delta`), its partition columns from the
        folder names, typed as the table's schema says.

        Raises:
            EvidenceError: neither delta-spark nor deltalake can read it (the versions named),
                or the table uses a feature that its files alone would get wrong.
        """
        reader = self.spark.read.format("delta")
        if self.spec.version is not None:
            reader = reader.option("versionAsOf", str(self.spec.version))
        try:
            return reader.load(location)
        except SPARK_ERRORS as exc:
            text = str(exc)
            if "DATA_SOURCE_NOT_FOUND" not in text and "find the data source" not in text:
                raise  # the data source exists: read_error names the problem
            from importlib import metadata
            from importlib.util import find_spec

            if "://" not in location and find_spec("deltalake") is not None:
                return self._delta_files_frame(Path(location))
            try:
                delta = f"delta-spark {metadata.version('delta-spark')} is installed"
            except metadata.PackageNotFoundError:
                delta = "delta-spark is not installed"
            raise EvidenceError(
                f"evidence {self.name!r} (engine spark): {location} is a Delta table, but this "
                f"Spark session has no Delta data source (Spark {self.spark.version}; {delta})",
                location=self.locate(("path",)),
                hint="start the session with delta-spark's jars and extension (spark.jars."
                "packages io.delta:delta-spark_<spark>_2.13:<version>, spark.sql.extensions "
                "io.delta.sql.DeltaSparkSessionExtension) in a delta-spark release built for "
                'this Spark; for a local table, pip install "ethicsgate[delta]" reads its '
                "files instead (docs/scale-out-spark.md)",
            ) from exc

    def _delta_files_frame(self, root: Path) -> DataFrame:
        """Read one version of a local Delta table from its Parquet files (no delta-spark)."""
        from pyspark.sql.types import StringType, StructField, StructType

        from ethicsgate.evidence.delta import read_delta_snapshot

        snapshot = read_delta_snapshot(
            self.name, root, version=self.spec.version, locate=self.locate, from_folders=False
        )
        self.delta = snapshot
        paths = [str(f.absolute()) for f in snapshot.files]
        frame = self.spark.read.parquet(*paths)
        if not snapshot.partitions:
            return frame
        # the partition values from the log, joined by file name: Spark's own reading of the
        # folder names refuses an empty value and misreads escaped UTF-8 (%C3%A9 as two letters)
        names = [f.name for f in snapshot.files]
        if len(set(names)) != len(names):
            raise EvidenceError(
                f"evidence {self.name!r} (engine spark): two files of the Delta table at {root} "
                "have the same name, so their partition values cannot be told apart",
                location=self.locate(("path",)),
                hint="run the audit on DuckDB (no --engine), or on a session with delta-spark",
            )
        columns = list(snapshot.partitions)
        rows = [(n, *(snapshot.values[n].get(c) for c in columns)) for n in names]
        text = StructType([StructField(c, StringType()) for c in ["_eg_file", *columns]])
        parts = self.spark.createDataFrame(rows, schema=text)
        for column, kind in snapshot.partitions.items():
            parts = parts.withColumn(column, parts[column].cast(_SPARK_TYPES.get(kind, kind)))
        # SQL text and DataFrame methods, not pyspark.sql.functions (Connect columns once a
        # Spark Connect session exists in the process; a classic frame refuses them)
        frame = frame.selectExpr("*", "_metadata.file_name AS _eg_file")
        return frame.join(parts.hint("broadcast"), "_eg_file").drop("_eg_file")

    def role_expression(self, role: str) -> str:
        """Return the SQL expression of a role: its mapping, or the column of the same name.

        Raises:
            EvidenceError: the mapping is not one SQL expression (located at its key).
        """
        mapped = self.spec.columns.get(role)
        if not mapped:
            return quote_ident(role)
        if not _PLAIN_NAME.fullmatch(mapped):
            named = [name for name, _ in self.columns() if name.lower() == mapped.lower()]
            if named:
                # a column named as a spreadsheet names it ("race ethnicity", "Risiko-Score"):
                # as written Spark reads another expression (race AS ethnicity, a
                # subtraction), so the mapping that names it reads it quoted, as on DuckDB
                return quote_ident(mapped if mapped in named else named[0])
        self.check_expression(mapped, ("columns", role), f"the expression for {role!r}")
        return mapped

    def check_expression(self, text: str, key: tuple[str, ...], what: str) -> None:
        """Raise unless ``text`` is one Spark SQL expression, before any query holds it.

        Raises:
            EvidenceError: it is not (two statements, an unmatched parenthesis or quote), at
                ``key``.
        """
        problem = expression_problem(text, SPARK_LEXIS)
        if problem is not None:
            raise not_one_expression(
                self.name, what, text, problem, location=self.locate(key), engine="spark"
            )

    def sql(self, text: str) -> DataFrame:
        """Return the DataFrame of a Spark SQL query written in the rules' portable SQL."""
        return self.spark.sql(spark_sql(text))

    # -- digests ------------------------------------------------------------------------------

    def start_hashing(self, pool: ThreadPoolExecutor) -> None:
        """Hash the local files in the background while Spark scans them."""
        if self._digests is None:
            self._digests = pool.submit(self._hash)

    def digests(self) -> list[EvidenceFile]:
        """Return the files with their sha256 (none for a table or a remote path)."""
        if self._digests is None:
            return self._hash()
        return self._digests.result()

    def _hash(self) -> list[EvidenceFile]:
        if self.memory is not None:
            from ethicsgate.evidence.arrow import ARROW_IPC_SHA256, arrow_ipc_sha256

            digest = arrow_ipc_sha256(self.memory)
            return [
                EvidenceFile(
                    Path(self.spec.path or f"<{self.name}>"),
                    digest.sha256,
                    digest.size,
                    ARROW_IPC_SHA256,
                )
            ]
        if self.pinned_by_engine():
            return []
        return [EvidenceFile(f, sha256_file(f), f.stat().st_size) for f in self.files]

    def pinned_by_engine(self) -> bool:
        """Return whether the engine's digest pins this evidence (no local file to hash)."""
        return self.memory is None and not self.files

    def identity(self) -> TableIdentity | None:
        """Return the identity of evidence without local files: rows and digest, by Spark.

        None for local files and frames (their sha256 pins them). For a table, a query or a
        remote path: the row count and an order-independent digest computed in Spark
        (:mod:`ethicsgate.engines.spark.digest`; the grouped pass computes it on the way,
        else one pass here), the sha256 of a query's text, and the Delta version or Iceberg
        snapshot where the source has one.
        """
        if not self.pinned_by_engine():
            return None
        if self._identity is None:
            columns = self.columns()
            names = [f"_c{i}" for i in range(len(columns))]
            renamed = f"(SELECT * FROM {self.source_sql()} AS _s({', '.join(names)}))"
            sql = _digest.digest_query(
                renamed if columns else self.source_sql(),
                [(n, kind) for n, (_, kind) in zip(names, columns, strict=True)],
            )
            row = self._fetch(sql, None, f"{self.name} (identity digest)")[0]
            self._pin(int(row[0]), {i: int(v or 0) for i, v in enumerate(row[1:])})
        return self._identity

    def _pin(self, rows: int, sums: Mapping[int, int]) -> None:
        query = self.query
        self._identity = TableIdentity(
            engine=f"spark {self.engine.target.shown}",
            table=self.table_name or self.delta_path or self.uri,
            query_sha256=None if query is None else hashlib.sha256(query.encode()).hexdigest(),
            rows=rows,
            content_digest=_digest.digest_value(sums),
            digest_kind=_digest.DIGEST_KIND,
            version=self._version,
        )

    # -- probes (analysis only: no Spark job) -------------------------------------------------

    def columns(self) -> list[tuple[str, str]]:
        """Return the source's column names and Spark types."""
        if self._columns is None:
            try:
                schema = self.sql(f"SELECT * FROM {self.source_sql()}").schema
            except SPARK_ERRORS as exc:
                raise self.read_error(exc) from exc
            self._columns = [(f.name, f.dataType.simpleString()) for f in schema.fields]
        return self._columns

    def expression_type(self, expr: str) -> str:
        """Return the Spark type of a SQL expression over the source (raises Spark's error)."""
        schema = self.sql(f"SELECT ({expr}) AS v FROM {self.source_sql()}").schema
        return str(schema.fields[0].dataType.simpleString())

    def checked_expression(self, role: str, available: list[tuple[str, str]]) -> tuple[str, str]:
        """Return a role's SQL expression and its Spark type.

        Raises:
            EvidenceError: the column does not exist, or the mapped expression does not
                evaluate (located in the audit spec, with the source's columns).
        """
        expr = self.role_expression(role)
        try:
            kind = self.expression_type(expr)
        except SPARK_ERRORS as exc:
            names = ", ".join(name for name, _ in available)
            if role in self.spec.columns:
                guess = column_guess(
                    self.spec.columns[role], (name for name, _ in available), SPARK_LEXIS
                )
                raise EvidenceError(
                    f"evidence {self.name!r} (engine spark): the expression for {role!r} "
                    f"({expr}) does not evaluate: {first_line(exc)}{guess}",
                    location=self.locate(("columns", role)),
                    hint=f"columns of {self.describe()}: {names}",
                ) from exc
            meant = close_match(role, [name for name, _ in available])
            raise EvidenceError(
                f"evidence {self.name!r} (engine spark) has no column {role!r} ({self.describe()})"
                f"{did_you_mean(role, [meant] if meant else [])}",
                location=self.locate(("columns",)),
                hint=f"map it under evidence.{self.name}.columns, e.g. {role}: "
                f"{meant or '<column or SQL>'}; available columns: {names}",
            ) from exc
        return expr, kind

    def checked_filter(self) -> str:
        """Return the evidence filter as a true/false SQL condition (``true`` without one).

        Raises:
            EvidenceError: the filter does not evaluate, or is not a condition.
        """
        if not self.spec.filter:
            return "true"
        self.check_expression(self.spec.filter, ("filter",), "the filter")
        condition = f"coalesce(({self.spec.filter}), false)"
        try:
            kind = self.expression_type(condition)
        except SPARK_ERRORS as exc:
            raise EvidenceError(
                f"evidence {self.name!r} (engine spark): the filter does not evaluate: "
                f"{first_line(exc)}",
                location=self.locate(("filter",)),
                hint='write a SQL condition over the evidence columns, e.g. "age >= 18"',
            ) from exc
        if kind != "boolean":
            raise EvidenceError(
                f"evidence {self.name!r} (engine spark): filter must be a true/false condition, "
                f"found type {kind}",
                location=self.locate(("filter",)),
            )
        return condition

    # -- grouped counts -----------------------------------------------------------------------

    def grouped_counts(
        self,
        *,
        roles: Sequence[str],
        binary_roles: Sequence[str] = (),
        progress: ProgressCallback | None = None,
        score_columns: Mapping[str, ScoreColumn] | None = None,
        window: WindowKey | None = None,
    ) -> GroupedCounts:
        """Count rows per combination of role values in one pass (one Spark job).

        ``window`` adds the key ``_window``: the first day of each row's calendar window
        (``date_trunc`` in the session's UTC, weeks from Monday) as ISO text, in the same pass.

        The inner level groups by the raw key expressions (Spark's hash aggregate, partial
        aggregation on every executor); the outer level, on the few grouped rows, normalises
        the values (0/1, text) and groups again so spellings of one value meet, sorted as the
        DuckDB reader sorts them.

        Raises:
            EvidenceError: a column or expression does not exist or does not evaluate, or a
                binary role holds a value other than 0/1 (the first such value is named).
        """
        available = self.columns()
        keys: list[str] = []
        outer: list[str] = []
        normalized: dict[str, str] = {}
        for role in roles:
            expr, kind = self.checked_expression(role, available)
            column = f"c{len(keys)}"
            keys.append(expr)
            if role in binary_roles:
                normalized[role] = self._binary_sql(role, kind, expr)
                outer.append(f"{self._binary_sql(role, kind, column)} AS {quote_ident(role)}")
            else:
                outer.append(f"CAST({column} AS STRING) AS {quote_ident(role)}")
        kept = self.checked_filter()
        outer.append(f"c{len(keys)} AS _kept")
        keys.append(kept)
        sums: list[str] = []
        if score_columns:
            score = self._score_sql(available)
            for name, column_spec in score_columns.items():
                raw, final = _score_column_sql(score, column_spec)
                if column_spec.kind == "sum":
                    outer.append(f"{final.format(f'_s{len(sums)}')} AS {quote_ident(name)}")
                    sums.append(f"{raw} AS _s{len(sums)}")
                else:
                    outer.append(f"{final.format(f'c{len(keys)}')} AS {quote_ident(name)}")
                    keys.append(raw)
        if window is not None:
            outer.append(f"c{len(keys)} AS {quote_ident(WINDOW_KEY)}")
            keys.append(self._window_sql(window, available))
        # the evidence identity rides along: its sums over every row (the filter is a key)
        names = [name for name, _ in available]
        digest = (
            self._identity is None and self.pinned_by_engine() and len(set(names)) == len(names)
        )
        pieces = _digest.digest_pieces(available) if digest else []
        sums += [f"{piece} AS _eg_d{i}" for i, piece in enumerate(pieces)]
        outer += [f"sum(_eg_d{i}) AS _eg_d{i}" for i in range(len(pieces))]
        select = ", ".join(f"({expr}) AS c{i}" for i, expr in enumerate(keys))
        inner = (
            f"SELECT {select}, count(*) AS _n{''.join(', ' + s for s in sums)} "
            f"FROM {self.source_sql()} GROUP BY ALL"
        )
        sql = f"SELECT {', '.join(outer)}, sum(_n) AS n FROM ({inner}) GROUP BY ALL ORDER BY ALL"
        try:
            frame = self._frame_of(sql, progress)
        except EvidenceError as exc:
            # a text window column with a value that is no time fails the scan's cast (ANSI)
            bad = window is not None and self._text_not_a_time(window, exc, available)
            if bad:
                raise bad from exc.__cause__
            raise
        if digest:
            lanes = [f"_eg_d{i}" for i in range(len(pieces))]
            self._pin(
                sum(int(v) for v in frame["n"]),
                {i: sum(int(v) for v in frame[lane]) for i, lane in enumerate(lanes)},
            )
            frame = frame.drop(columns=lanes)
        frame["n"] = frame["n"].astype("int64")
        rows_read = int(frame["n"].sum())
        frame = kept_rows(frame)
        for role in binary_roles:
            if frame[role].isna().any():
                self.raise_at_first_row(
                    role,
                    f"({kept}) AND ({normalized[role]}) IS NULL",
                    problem=f"{role!r} must be 0 or 1",
                    hint=f"map {role} to the condition that means 1 under "
                    f"evidence.{self.name}.columns, e.g. {role}: \"decision = 'yes'\" (or fix "
                    "the data, or exclude such rows with a filter)",
                )
            frame[role] = frame[role].astype(BINARY_DTYPE)
        frame = text_as_categories(frame)
        return GroupedCounts(frame=frame, rows_read=rows_read, rows=int(frame["n"].sum()))

    def _text_not_a_time(
        self, window: WindowKey, exc: EvidenceError, available: list[tuple[str, str]]
    ) -> EvidenceError | None:
        """Return the located error for a text window column holding a value that is no time.

        Only on the error path (Spark's CAST_INVALID_INPUT); None for any other failure.
        """
        if "CAST_INVALID_INPUT" not in str(exc.__cause__ or exc):
            return None
        expr = window.column or self.role_expression("timestamp")
        if names_a_column(expr, available):
            expr = quote_ident(expr)
        try:
            if self.expression_type(expr) != "string":
                return None
            found = self.sql(
                f"SELECT CAST(({expr}) AS STRING) FROM {self.source_sql()} WHERE ({expr}) IS "
                f"NOT NULL AND try_cast(({expr}) AS TIMESTAMP) IS NULL LIMIT 1"
            ).collect()
        except SPARK_ERRORS:
            return None
        if not found:
            return None
        return text_not_a_time(
            f"evidence {self.name!r} (engine spark)",
            expr,
            f": {found[0][0]!r}",
            location=self.locate(window_key_path(window.column, self.spec.columns)),
            available=available,
        )

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
            kind = self.expression_type(expr)
        except SPARK_ERRORS as exc:
            location = self.locate(where)
            raise EvidenceError(
                f"evidence {self.name!r} (engine spark): the window column {expr} does not "
                f"evaluate: {first_line(exc)}",
                location=location,
                hint=window_column_hint(location, names),
            ) from exc
        if kind not in ("date", "timestamp", "timestamp_ntz", "string"):
            raise EvidenceError(
                f"evidence {self.name!r} (engine spark): the window column {expr} has type "
                f"{kind}, not a date or a timestamp",
                location=self.locate(where),
                hint='map it to a time, e.g. column: "make_date(year, month, day)" or '
                '"timestamp_seconds(epoch_seconds)"',
            )
        # the session time zone is UTC: timestamps, and text without an offset, are UTC
        unit = window.every.upper()
        time = f"CAST(({expr}) AS TIMESTAMP)"
        if window.time_zone is not None and kind in ("timestamp", "string"):
            # instants (and text with an offset) to the zone's wall clock, read in UTC;
            # naive times (timestamp_ntz, text without an offset) are that wall clock already
            zone = sql_literal(window.time_zone)
            if kind == "string":
                offset = sql_literal(OFFSET_TEXT)
                zone = f"CASE WHEN ({expr}) RLIKE {offset} THEN {zone} ELSE 'UTC' END"
            time = f"from_utc_timestamp({time}, {zone})"
        return f"date_format(date_trunc('{unit}', {time}), 'yyyy-MM-dd')"

    def _binary_sql(self, role: str, kind: str, value: str) -> str:
        mapped = binary_sql(kind, value)
        if mapped is None:
            raise EvidenceError(
                f"evidence {self.name!r} (engine spark): {role!r} must be 0/1 or true/false, "
                f"but {self.role_expression(role)} has type {kind}",
                location=self.locate(("columns", role) if role in self.spec.columns else ("path",)),
                hint=f'map {role} to a 0/1 column or a condition, e.g. {role}: "score >= 0.5"',
            )
        return mapped

    # -- scores -------------------------------------------------------------------------------

    def _score_sql(self, available: list[tuple[str, str]]) -> str:
        expr, kind = self.checked_expression("score", available)
        if base_type(kind) not in NUMERIC:
            raise EvidenceError(
                f"evidence {self.name!r} (engine spark): 'score' must be numeric, but {expr} "
                f"has type {kind}",
                location=self.locate(
                    ("columns", "score") if "score" in self.spec.columns else ("path",)
                ),
                hint="map score to a numeric column or expression, e.g. score: "
                + json.dumps(f"CAST({expr} AS DOUBLE)"),
            )
        return f"CAST(({expr}) AS DOUBLE)"

    def score_profile(
        self,
        *,
        distinct: bool = True,
        median: bool = False,
        progress: ProgressCallback | None = None,
    ) -> ScoreProfile:
        """Return the count, range and estimated distinct values of the audited scores.

        One pass. Without ``median``: count, bad rows, min, max and (``distinct``) a
        HyperLogLog estimate of the distinct scores. With ``median`` the pass groups the scores
        by the 12-bit histogram (:meth:`_median_buckets`) and returns the buckets holding the
        middle ranks and, with ``distinct``, the distinct count those buckets tell, as the
        DuckDB engine does: exact when every bucket holds one value, else at least (buckets
        of one value) + 2 x (the others), which decides alone above
        :data:`EXACT_SCORE_VALUES`; only in between does a HyperLogLog pass of its own
        estimate it.

        Raises:
            EvidenceError: ``score`` is missing, not numeric, or holds a NULL, NaN or infinite
                value in an audited row.
        """
        score = self._score_sql(self.columns())
        kept = self.checked_filter()
        bad = f"({score} IS NULL OR isnan({score}) OR abs({score}) = {double_literal(math.inf)})"
        label = f"{self.name} (score profile)"
        buckets: tuple[ScoreBucket, ...] | None = None
        estimate: Any = 0
        at_least = False
        if median:
            found = self._median_buckets(score, kept, progress, label)
            bad_rows, rows, low, high = found.bad, found.rows, found.low, found.high
            buckets = found.buckets
            if distinct and not bad_rows and rows:
                estimate, at_least = found.distinct
                if found.distinct_undecided:
                    sql = (
                        f"SELECT approx_count_distinct({score}, {_DISTINCT_RSD}) "
                        f"FROM {self.source_sql()} WHERE {kept}"
                    )
                    # an estimate, never below what the buckets prove
                    hll = int(self._fetch(sql, progress, label)[0][0])
                    estimate, at_least = max(hll, estimate), False
        else:
            estimate_sql = (
                f"approx_count_distinct({score}, {_DISTINCT_RSD})"
                if distinct
                else "CAST(0 AS BIGINT)"
            )
            sql = (
                f"SELECT count(*) FILTER (WHERE {bad}), count(*), "
                f"min({score}) FILTER (WHERE NOT {bad}), max({score}) FILTER (WHERE NOT {bad}), "
                f"{estimate_sql} FROM {self.source_sql()} WHERE {kept}"
            )
            bad_rows, rows, low, high, estimate = self._fetch(sql, progress, label)[0]
        if bad_rows:
            self.raise_at_first_row(
                "score",
                f"({kept}) AND {bad}",
                problem="'score' must be a finite number in every audited row",
                suffix=f" ({int(bad_rows):,} such rows)",
                hint="fix the data, or exclude such rows with a filter in the audit spec",
            )
        if not rows:
            return ScoreProfile(rows=0, min=0.0, max=0.0, distinct_estimate=0)
        if not math.isfinite(float(high) - float(low)):
            raise EvidenceError(
                f"evidence {self.name!r} (engine spark): the scores range from {float(low):g} to "
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

    def score_median_buckets(
        self,
        *,
        low: float | None = None,
        high: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> tuple[ScoreBucket, ...]:
        """Return the buckets of a fine score histogram that hold the middle ranks (one pass)."""
        score = self._score_sql(self.columns())
        kept = self.checked_filter()
        label = f"{self.name} (score median, pass 1)"
        key = None
        if low is not None and high is not None and high > low:
            scale = _HISTOGRAM_BINS / (high - low)
            if math.isfinite(scale):
                key = (
                    f"least(floor(({score} - {double_literal(low)}) * {double_literal(scale)}), "
                    f"{_HISTOGRAM_BINS - 1})"
                )
        return self._median_buckets(score, kept, progress, label, key=key).buckets

    def _median_buckets(
        self,
        score: str,
        kept: str,
        progress: ProgressCallback | None,
        label: str,
        *,
        key: str | None = None,
    ) -> HistogramSummary:
        """Return what the histogram tells: bad rows, rows, range, middle buckets, distinct.

        One pass over the data groups the audited rows by bucket; the bucket rows (a few
        thousand) are cached in the cluster and cut down to the middle ones by a second,
        small query, so only one or two buckets come back to the driver.
        """
        bucket = key or _bucket_sql(score)
        cached = f"_eg_buckets_{next(_VIEWS)}"
        grouped = (
            f"SELECT {bucket} AS k, count(*) AS n, min({score}) AS lo, max({score}) AS hi "
            f"FROM {self.source_sql()} WHERE {kept} GROUP BY 1"
        )

        def run() -> list[Any]:
            self.sql(f"CACHE TABLE {quote_ident(cached)} AS {grouped}")
            try:
                sql = (
                    f"WITH b AS (SELECT * FROM {quote_ident(cached)}), "
                    "c AS (SELECT k, n, lo, hi, "
                    "sum(n) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
                    "- n AS below, lead(lo) OVER (ORDER BY k) AS next_lo "
                    "FROM b WHERE k IS NOT NULL), "
                    "t AS (SELECT coalesce(sum(n), 0) AS rows, min(lo) AS lo, max(hi) AS hi, "
                    "coalesce(bool_and(next_lo IS NULL OR hi < next_lo), true) AS ordered, "
                    "count_if(lo = hi) AS single, count_if(lo < hi) AS mixed FROM c), "
                    "z AS (SELECT coalesce(sum(n), 0) AS bad FROM b WHERE k IS NULL) "
                    "SELECT z.bad, t.rows, t.lo, t.hi, t.ordered, t.single, t.mixed, "
                    "c.below, c.n, c.lo, c.hi "
                    "FROM t CROSS JOIN z LEFT JOIN c ON t.ordered "
                    "AND c.below + c.n > (t.rows - 1) div 2 AND c.below <= t.rows div 2 "
                    "ORDER BY c.below"
                )
                return list(self.sql(sql).collect())
            finally:
                self.sql(f"UNCACHE TABLE IF EXISTS {quote_ident(cached)}")
                self.spark.catalog.dropTempView(cached)

        return HistogramSummary.from_rows(self._tracked(progress, label, run))

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

        Equal-width histograms narrow the bin holding the ranks down until it holds at most
        1,000,000 rows or one value; those rows' distinct scores are then counted exactly.
        Each step is one pass, and only the histogram (4,096 rows) comes back.
        """
        score = self._score_sql(self.columns())
        kept = self.checked_filter()
        where = f"{kept} AND {score} >= {double_literal(low)} AND {score} <= {double_literal(high)}"
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
        label = f"{self.name} (score median, pass {depth + 1})"
        if low == high:
            return dict.fromkeys(ranks, low)
        scale = _HISTOGRAM_BINS / (high - low)
        if depth:
            low_sql, high_sql = double_literal(low), double_literal(high)
            where = f"{where} AND {score} >= {low_sql} AND {score} <= {high_sql}"
        if rows <= _EXACT_ROWS or not math.isfinite(scale) or depth > 64:
            sql = (
                f"SELECT s, cum - n AS first, cum FROM (SELECT s, n, sum(n) OVER (ORDER BY s "
                "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum FROM "
                f"(SELECT {score} AS s, count(*) AS n FROM {self.source_sql()} WHERE {where} "
                f"GROUP BY 1)) WHERE cum > {min(ranks)} AND cum - n <= {max(ranks)} ORDER BY s"
            )
            found: dict[int, float] = {}
            for value, first, cum in self._fetch(sql, progress, label):
                for rank in ranks:
                    if first <= rank < cum:
                        found[rank] = float(value)
            if len(found) != len(ranks):  # pragma: no cover - the counts cover every rank
                raise AssertionError("rank beyond the counted rows")
            return found
        column = f"floor(({score} - {double_literal(low)}) * {double_literal(scale)})"
        sql = (
            f"SELECT {column} AS b, count(*) AS n, min({score}), max({score}) "
            f"FROM {self.source_sql()} WHERE {where} GROUP BY 1 ORDER BY 1"
        )
        bins: list[list[Any]] = []
        for bin_index, count, bin_low, bin_high in self._fetch(sql, progress, label):
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
                    progress=progress,
                )
                found.update({r: deeper[r - before] for r in inside})
            before += int(count)
        return found

    # -- running queries ----------------------------------------------------------------------

    def _fetch(
        self, sql: str, progress: ProgressCallback | None = None, label: str = ""
    ) -> list[tuple[Any, ...]]:
        return self._tracked(
            progress, label or self.name, lambda: [tuple(r) for r in self.sql(sql).collect()]
        )

    def _frame_of(self, sql: str, progress: ProgressCallback | None) -> pd.DataFrame:
        def run() -> pd.DataFrame:
            with warnings.catch_warnings():  # PySpark 4 warns of pandas 3 at every toArrow
                warnings.simplefilter("ignore", FutureWarning)
                table = self.sql(sql).toArrow()
            frame: pd.DataFrame = table.to_pandas()
            return frame

        return self._tracked(progress, self.name, run)

    def _tracked(self, progress: ProgressCallback | None, label: str, work: Callable[[], _T]) -> _T:
        """Run one Spark job with ``work``; report it started and finished under ``label``."""
        if progress is not None:
            progress(label, 0.0)
        try:
            result = work()
        except SPARK_ERRORS as exc:
            raise self.read_error(exc) from exc
        if progress is not None:
            progress(label, 1.0)
        return result

    # -- errors -------------------------------------------------------------------------------

    def describe(self) -> str:
        """Return what the evidence is, for messages: the table, the file or the files."""
        if self.table_name is not None:
            return f"table {self.table_name}"
        if self.query is not None:
            return "the evidence query"
        if self.memory is not None:
            return f"the {getattr(self.spec, 'kind', 'frame')} handed over"
        if self.uri is not None:
            return self.uri
        if self.delta_path is not None:
            return f"Delta table {self.delta_path}"
        if len(self.files) == 1:
            return str(self.files[0])
        return f"{len(self.files)} files matching {self.spec.path}"

    def read_error(self, exc: BaseException) -> EvidenceError:
        """Return the located error for a Spark error reading the evidence (with the fix)."""
        text = first_line(exc, lines=2)
        if self.table_name is not None:
            hint = (
                f"check that table {self.table_name} exists in the session's catalog and that "
                "this user may read it (SHOW TABLES; GRANT SELECT)"
            )
            key: tuple[str, ...] = ("table",)
        elif self.query is not None:
            hint = "check the query in Spark SQL (spark.sql) and that this user may read its tables"
            key = ("query",)
        else:
            hint = (
                "check the file's format and contents, or set format/options in the audit "
                "spec (Spark reader options, e.g. options: {sep: ';'})"
            )
            if self.engine.target.kind == "connect" and self.uri is None:
                hint += (
                    "; the Spark Connect server reads local paths on its own machine: put the "
                    "file where the server sees it at the same path, or give an s3a://, "
                    "hdfs:// or dbfs:/ path or a table:"
                )
            key = ("path",)
        return EvidenceError(
            f"evidence {self.name!r} (engine spark): cannot read {self.describe()}"
            f"{'' if self.table_name else f' as {self.format}'}: {text}",
            location=self.locate(key),
            hint=hint,
        )

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
        """Raise an EvidenceError naming the file and the value of a row where ``where`` holds.

        Spark numbers no rows, so the error names the file (``_metadata.file_path``) and the
        value; the value is found with one small query. ``hint_of``, when given, makes the
        hint from that value (in place of ``hint``).

        Raises:
            EvidenceError: always.
        """
        expr = self.role_expression(role)
        value: Any = None
        place = self.describe()
        found: list[tuple[Any, ...]]
        try:
            found = [
                tuple(r)
                for r in self.sql(
                    f"SELECT CAST(({expr}) AS STRING), _metadata.file_path FROM "
                    f"{self.source_sql()} WHERE {where} LIMIT 1"
                ).collect()
            ]
        except SPARK_ERRORS:
            try:
                found = [
                    (*r, None)
                    for r in self.sql(
                        f"SELECT CAST(({expr}) AS STRING) FROM {self.source_sql()} "
                        f"WHERE {where} LIMIT 1"
                    ).collect()
                ]
            except SPARK_ERRORS:
                found = []
        location: Location = self.locate(
            ("columns", role) if role in self.spec.columns else ("path",)
        )
        if found:
            value = found[0][0]
            if found[0][1]:
                place = local_path(str(found[0][1]))
                location = Location(place)
        shown = "NULL (missing)" if value is None else repr(value)
        raise EvidenceError(
            f"evidence {self.name!r} (engine spark): {problem}, found {shown} in a row of "
            f"{place}, column {expr}{suffix}",
            location=location,
            hint=hint_of(value) if hint_of is not None else hint,
        )

    # -- record-level rows and data contracts -------------------------------------------------

    def read_rows(self, roles: Sequence[Role]) -> SparkRows:
        """Read the roles record rules need into a cached table of the session (one pass)."""
        from ethicsgate.engines.spark.rows import read_rows

        return read_rows(self, roles)

    def run_contract(self, rule: DataQualityRule, *, guards: list[str]) -> ContractResult:
        """Refuse a data_quality rule: its Great Expectations suite runs on DuckDB only (yet).

        Raises:
            EvidenceError: always, with the fix.
        """
        raise EvidenceError(
            f"rule {rule.id!r}: data_quality rules (Great Expectations suites) do not run on "
            f"the Spark engine yet (evidence {self.name!r}): {_gx_spark_support()}",
            location=self.locate(("path",) if self.table_name is None else ("table",)),
            hint="run this audit with --engine duckdb, or use contracts: report for the "
            "built-in checks, which run in Spark SQL",
        )

    def run_builtin_contract(self, checks: Sequence[BuiltinCheck]) -> ContractResult:
        """Run the built-in checks the rules need of this dataset, as Spark SQL."""
        from ethicsgate.engines.spark.contracts import run_builtin_contract

        return run_builtin_contract(self, checks)


def _gx_spark_support() -> str:
    """Say why GX's Spark datasource is not used: the PySpark its release supports."""
    from importlib import metadata

    try:
        gx = metadata.version("great_expectations")
        pyspark = metadata.version("pyspark")
    except metadata.PackageNotFoundError:  # pragma: no cover - both are dependencies here
        return "Great Expectations' Spark datasource is not wired in"
    wanted = [
        r.split(";")[0].strip()
        for r in metadata.requires("great_expectations") or []
        if r.startswith("pyspark") and "spark" in r.split(";", 1)[-1]
    ]
    supports = f"supports {wanted[0]}" if wanted else "names no PySpark it supports"
    return (
        f"Great Expectations {gx}'s Spark datasource {supports}, and this engine runs "
        f"PySpark {pyspark}"
    )
