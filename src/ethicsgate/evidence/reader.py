"""Read evidence with DuckDB: out-of-core scans that aggregate rows to a few grouped counts.

Every scan streams the files once. Role columns are SQL expressions over the source; binary
roles (``label``, ``prediction``) are normalised to 0/1, and values that are not 0/1 are
located (file, row, column) before anyone can mistake them for data.
"""

from __future__ import annotations

import glob as _glob
import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from ethicsgate.errors import EvidenceError, Location
from ethicsgate.evidence.spec import EvidenceFormat, EvidenceSpec

__all__ = [
    "EvidenceFile",
    "EvidenceSet",
    "GroupedCounts",
    "ProgressCallback",
    "open_evidence",
    "sha256_file",
]

ProgressCallback = Callable[[str, float], None]
_FORMATS: dict[str, EvidenceFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
_COMPRESSED = (".gz", ".zst")
_NUMERIC = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL",
)  # fmt: skip


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class EvidenceFile:
    """One file of an evidence set with its digest and size."""

    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class GroupedCounts:
    """Rows grouped by role values with their count ``n``; ``rows_read`` before the filter."""

    frame: pd.DataFrame
    rows_read: int
    rows: int


def _sql_literal(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _detect_format(files: Sequence[Path]) -> EvidenceFormat | None:
    found: set[EvidenceFormat] = set()
    for file in files:
        suffixes = [s.lower() for s in file.suffixes]
        while suffixes and suffixes[-1] in _COMPRESSED:
            suffixes.pop()
        if not suffixes or suffixes[-1] not in _FORMATS:
            return None
        found.add(_FORMATS[suffixes[-1]])
    return found.pop() if len(found) == 1 else None


@dataclass
class EvidenceSet:
    """One named evidence set, resolved to files, ready to scan.

    ``locate`` maps a key path inside the audit spec's evidence entry (``("columns", "label")``)
    to a position in the audit file, so SQL errors point at the expression that caused them.
    """

    name: str
    spec: EvidenceSpec
    files: list[Path]
    format: EvidenceFormat
    locate: Callable[[Sequence[str | int]], Location]
    _digests: Future[list[EvidenceFile]] | None = field(default=None, repr=False)

    # -- SQL building -------------------------------------------------------------------

    def source_sql(self, files: Sequence[Path] | None = None) -> str:
        """Return the DuckDB table function that reads the files."""
        paths = "[" + ", ".join(_sql_literal(str(f)) for f in (files or self.files)) + "]"
        options = dict(self.spec.options)
        if self.format == "csv":
            function = "read_csv"
        elif self.format == "parquet":
            function = "read_parquet"
        else:
            function = "read_json"
            options.setdefault("format", "newline_delimited" if self.format == "jsonl" else "auto")
        args = "".join(f", {k} = {_sql_literal(v)}" for k, v in options.items())
        return f"{function}({paths}{args})"

    def role_expression(self, role: str) -> str:
        """Return the SQL expression of a role: its mapping, or the column of the same name."""
        return self.spec.columns.get(role) or _quote_ident(role)

    # -- digests --------------------------------------------------------------------------

    def start_hashing(self, pool: ThreadPoolExecutor) -> None:
        """Hash the files in the background while DuckDB scans them."""
        if self._digests is None:
            self._digests = pool.submit(
                lambda: [EvidenceFile(f, sha256_file(f), f.stat().st_size) for f in self.files]
            )

    def digests(self) -> list[EvidenceFile]:
        """Return the files with their sha256 (computing them now if not started)."""
        if self._digests is None:
            return [EvidenceFile(f, sha256_file(f), f.stat().st_size) for f in self.files]
        return self._digests.result()

    # -- scans ------------------------------------------------------------------------

    def columns(self, con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        """Return the source's column names and types (reads only the header or a sample).

        Raises:
            EvidenceError: the files cannot be read as the declared format.
        """
        try:
            rel = con.sql(f"SELECT * FROM {self.source_sql()} LIMIT 0")
            return list(zip(rel.columns, [str(t) for t in rel.types], strict=True))
        except duckdb.Error as exc:
            raise self._read_error(exc) from exc

    def grouped_counts(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        roles: Sequence[str],
        binary_roles: Sequence[str] = (),
        progress: ProgressCallback | None = None,
    ) -> GroupedCounts:
        """Count rows per combination of role values in one streaming scan.

        Binary roles come back as 0/1 integers, the other roles as text (``None`` for SQL NULL).

        Raises:
            EvidenceError: a column or expression does not exist or does not evaluate, or a
                binary role holds a value other than 0/1 (the first such row is named).
        """
        available = self.columns(con)
        select: list[str] = []
        normalized: dict[str, str] = {}
        for role in roles:
            expr = self._checked_expression(con, role, available)
            if role in binary_roles:
                normalized[role] = self._binary_sql(con, role, expr)
                select.append(f"{normalized[role]} AS {_quote_ident(role)}")
            else:
                select.append(f"CAST(({expr}) AS VARCHAR) AS {_quote_ident(role)}")
        kept = self._checked_filter(con)
        select.append(f"{kept} AS _kept")
        sql = f"SELECT {', '.join(select)}, count(*) AS n FROM {self.source_sql()} GROUP BY ALL"
        frame = self._run(con, sql, progress)
        frame["n"] = frame["n"].astype("int64")
        rows_read = int(frame["n"].sum())
        frame = frame[frame["_kept"].astype(bool)].drop(columns="_kept").reset_index(drop=True)
        for role in binary_roles:
            if frame[role].isna().any():
                self._raise_bad_binary(con, role, normalized[role], kept)
            frame[role] = frame[role].astype("int64")
        return GroupedCounts(frame=frame, rows_read=rows_read, rows=int(frame["n"].sum()))

    # -- helpers --------------------------------------------------------------------------

    def _run(
        self, con: duckdb.DuckDBPyConnection, sql: str, progress: ProgressCallback | None
    ) -> pd.DataFrame:
        stop = threading.Event()
        poller: threading.Thread | None = None
        if progress is not None:
            con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")

            def poll() -> None:
                while not stop.wait(0.1):
                    value = con.query_progress()
                    if value >= 0:
                        progress(self.name, min(value / 100.0, 1.0))

            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
        try:
            frame = con.sql(sql).df()
        except duckdb.Error as exc:
            raise self._read_error(exc) from exc
        finally:
            stop.set()
            if poller is not None:
                poller.join()
        if progress is not None:
            progress(self.name, 1.0)
        return frame

    def _checked_expression(
        self, con: duckdb.DuckDBPyConnection, role: str, available: list[tuple[str, str]]
    ) -> str:
        expr = self.role_expression(role)
        try:
            con.sql(f"SELECT {expr} FROM {self.source_sql()} LIMIT 0")
        except duckdb.Error as exc:
            names = ", ".join(name for name, _ in available)
            if role in self.spec.columns:
                raise EvidenceError(
                    f"evidence {self.name!r}: the expression for {role!r} ({expr}) does not "
                    f"evaluate: {_first_line(exc)}",
                    location=self.locate(("columns", role)),
                    hint=f"columns of {self._describe_files()}: {names}",
                ) from exc
            raise EvidenceError(
                f"evidence {self.name!r} has no column {role!r} ({self._describe_files()})",
                location=self.locate(("columns",)),
                hint=f"map it under evidence.{self.name}.columns, e.g. {role}: <column or SQL>; "
                f"available columns: {names}",
            ) from exc
        return expr

    def _checked_filter(self, con: duckdb.DuckDBPyConnection) -> str:
        if not self.spec.filter:
            return "true"
        condition = f"coalesce(({self.spec.filter}), false)"
        try:
            rel = con.sql(f"SELECT {condition} FROM {self.source_sql()} LIMIT 0")
            if str(rel.types[0]) != "BOOLEAN":
                raise EvidenceError(
                    f"evidence {self.name!r}: filter must be a true/false condition, "
                    f"found type {rel.types[0]}",
                    location=self.locate(("filter",)),
                )
        except duckdb.Error as exc:
            raise EvidenceError(
                f"evidence {self.name!r}: the filter does not evaluate: {_first_line(exc)}",
                location=self.locate(("filter",)),
                hint='write a SQL condition over the evidence columns, e.g. "age >= 18"',
            ) from exc
        return condition

    def _binary_sql(self, con: duckdb.DuckDBPyConnection, role: str, expr: str) -> str:
        kind = str(con.sql(f"SELECT ({expr}) FROM {self.source_sql()} LIMIT 0").types[0])
        base = kind.split("(")[0]
        if base == "BOOLEAN":
            return f"CAST(({expr}) AS BIGINT)"
        if base in _NUMERIC:
            return f"CASE WHEN ({expr}) = 1 THEN 1 WHEN ({expr}) = 0 THEN 0 END"
        if base == "VARCHAR":
            return (
                f"CASE lower(trim(({expr}))) WHEN '1' THEN 1 WHEN '0' THEN 0 WHEN 'true' THEN 1 "
                "WHEN 'false' THEN 0 WHEN '1.0' THEN 1 WHEN '0.0' THEN 0 END"
            )
        raise EvidenceError(
            f"evidence {self.name!r}: {role!r} must be 0/1 or true/false, but "
            f"{self.role_expression(role)} has type {kind}",
            location=self.locate(("columns", role) if role in self.spec.columns else ("path",)),
            hint=f'map {role} to a 0/1 column or a condition, e.g. {role}: "score >= 0.5"',
        )

    def _raise_bad_binary(
        self, con: duckdb.DuckDBPyConnection, role: str, normalized: str, kept: str
    ) -> None:
        expr = self.role_expression(role)
        where = f"({kept}) AND ({normalized}) IS NULL"
        for file in self.files:
            row = self._first_row(con, file, f"CAST(({expr}) AS VARCHAR)", where)
            if row is None:
                continue
            number, value = row
            shown = "NULL (missing)" if value is None else repr(value)
            line = f", line {number + 1}" if self.format == "csv" else ""
            raise EvidenceError(
                f"evidence {self.name!r}: {role!r} must be 0 or 1, found {shown} in row "
                f"{number}{line}, column {expr}",
                location=Location(str(file)),
                hint=f"fix the data, or exclude such rows with a filter in the audit spec, or "
                f"map {role} to an expression that yields 0/1",
            )
        raise EvidenceError(  # pragma: no cover - the scan found one; the row search must too
            f"evidence {self.name!r}: {role!r} has values other than 0/1",
            location=self.locate(("columns", role)),
        )

    def _first_row(
        self, con: duckdb.DuckDBPyConnection, file: Path, value: str, where: str
    ) -> tuple[int, Any] | None:
        # A rare, diagnostic path: one thread so row_number() follows the file's order.
        diag = duckdb.connect()
        diag.execute("SET threads = 1")
        try:
            result = diag.sql(
                f"SELECT _row, _value FROM (SELECT row_number() OVER () AS _row, {value} AS "
                f"_value, {where} AS _bad FROM {self.source_sql([file])}) WHERE _bad "
                "ORDER BY _row LIMIT 1"
            ).fetchall()
        finally:
            diag.close()
        return (int(result[0][0]), result[0][1]) if result else None

    def _describe_files(self) -> str:
        if len(self.files) == 1:
            return str(self.files[0])
        return f"{len(self.files)} files matching {self.spec.path}"

    def _read_error(self, exc: duckdb.Error) -> EvidenceError:
        return EvidenceError(
            f"evidence {self.name!r}: cannot read {self._describe_files()} as {self.format}: "
            f"{_first_line(exc, lines=3)}",
            location=self.locate(("path",)),
            hint="check the file's format and contents, or set format/options in the audit spec",
        )


def _first_line(exc: BaseException, *, lines: int = 1) -> str:
    text = str(exc).strip()
    return " ".join(part.strip() for part in text.splitlines()[:lines] if part.strip())


def open_evidence(
    name: str,
    spec: EvidenceSpec,
    *,
    base_dir: Path,
    locate: Callable[[Sequence[str | int]], Location],
) -> EvidenceSet:
    """Resolve an evidence spec's path or glob (relative to ``base_dir``) to its files.

    Raises:
        EvidenceError: no file matches, or the format cannot be told from the extensions.
    """
    pattern = Path(spec.path).expanduser()
    if not pattern.is_absolute():
        pattern = base_dir / pattern
    if _glob.has_magic(str(pattern)):
        files = sorted(Path(p) for p in _glob.glob(str(pattern), recursive=True))
        files = [f for f in files if f.is_file()]
        if not files:
            raise EvidenceError(
                f"evidence {name!r}: no file matches {spec.path!r} (looked for {pattern})",
                location=locate(("path",)),
                hint="paths are relative to the audit spec's folder",
            )
    else:
        if not pattern.is_file():
            what = "is a directory, not a file" if pattern.is_dir() else "not found"
            raise EvidenceError(
                f"evidence {name!r}: file {what}: {pattern}",
                location=locate(("path",)),
                hint="paths are relative to the audit spec's folder; globs such as "
                "data/*.parquet are allowed",
            )
        files = [pattern]
    files = [Path(os.path.normpath(f)) for f in files]
    fmt = spec.format or _detect_format(files)
    if fmt is None:
        raise EvidenceError(
            f"evidence {name!r}: cannot tell the format of {spec.path!r} from its extension",
            location=locate(("path",)),
            hint="set format: csv, parquet, jsonl or json",
        )
    return EvidenceSet(name=name, spec=spec, files=files, format=fmt, locate=locate)
