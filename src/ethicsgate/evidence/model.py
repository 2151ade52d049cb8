"""What engines hand over: evidence files with digests, grouped counts, score profiles.

Engine-neutral: every evidence engine (DuckDB, Spark, a SQL database) returns these types, and
the rules read nothing else of an engine's.
"""

from __future__ import annotations

import glob as _glob
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from ethicsgate.errors import EvidenceError, Location
from ethicsgate.evidence.spec import EvidenceFormat, EvidenceSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BINARY_DTYPE",
    "EXACT_SCORE_VALUES",
    "EvidenceFile",
    "GroupedCounts",
    "Locator",
    "ProgressCallback",
    "ScoreBucket",
    "ScoreColumn",
    "ScoreProfile",
    "TableIdentity",
    "WindowKey",
    "detect_format",
    "is_delta_table",
    "kept_rows",
    "resolve_files",
    "sha256_file",
    "text_as_categories",
]

#: With at most this many distinct scores the scores themselves are the group keys of the
#: grouped pass and ROC AUC and calibration are exact (more: equal-width bins). Engines read
#: it to know when a lower bound of the distinct count already decides
#: (:attr:`ScoreProfile.distinct_at_least`).
EXACT_SCORE_VALUES = 2048
#: The grouped-count column holding each row's time window (see :class:`WindowKey`).
WINDOW_KEY = "_window"
#: Called with a label (a dataset, or a phase) and a fraction done in [0, 1].
ProgressCallback = Callable[[str, float], None]
#: Maps a key path inside an audit spec's evidence entry to a position in the audit file.
Locator = Callable[[Sequence[str | int]], Location]
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
    kind: str = "sha256"
    """How ``sha256`` was computed: ``sha256`` of the file's bytes, or ``arrow-ipc-sha256`` of
    in-memory evidence (``path`` is then where the frame is saved; see evidence/arrow.py)."""


@dataclass(frozen=True)
class TableIdentity:
    """What pins evidence that is no file: the engine, the table or query, and its contents.

    ``content_digest`` is computed inside the engine and does not depend on row order
    (``digest_kind`` says how: ``sum-pghash-64`` on PostgreSQL, per-row hashes summed modulo
    2^64; ``sum-xxhash64-2x64`` on Spark, two such lanes; ``sum-md5-128``, in reports of
    earlier versions, the sum modulo 2^128 of the md5 of every row's text);
    ``query_sha256`` is the sha256 of the exact query text. ``version`` is a table version
    where the engine keeps one (``delta:N``, ``iceberg:SNAPSHOT``); None for a plain table.
    """

    engine: str
    """The engine, URL password redacted (``postgresql://user:***@host/db``)."""
    table: str | None
    query_sha256: str | None
    rows: int
    content_digest: str
    digest_kind: str
    version: str | None = None

    @property
    def sha256(self) -> str:
        """Return the sha256 binding all of it: what the report signs as the evidence."""
        text = "\n".join(
            [
                f"engine {self.engine}",
                f"table {self.table or ''}",
                f"query-sha256 {self.query_sha256 or ''}",
                f"version {self.version or ''}",
                f"rows {self.rows}",
                f"{self.digest_kind} {self.content_digest}",
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class GroupedCounts:
    """Rows grouped by role values with their count ``n``; ``rows_read`` before the filter.

    Every engine returns the text columns (group values, window keys) as pandas categoricals
    (:func:`text_as_categories`): the grouped rows repeat each value once per cell, up to 10^7
    times with 10^5 groups and exact scores. ``n`` is int64, or int32 where the engine counted
    fewer than 2^31 rows in one scan (DuckDB's one-level scan: 42 MB less at 10^7 cells);
    numpy and pandas sum int32 into int64.
    """

    frame: pd.DataFrame
    rows_read: int
    rows: int


#: The dtype of the binary roles (label, prediction) in every engine's grouped counts: 0/1 in
#: one byte (int64 held 150 MB more for 10^7 grouped cells, and as much again converting).
BINARY_DTYPE: Final = "int8"


def kept_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the grouped rows whose ``_kept`` is true, without that column.

    Without a filter every row is kept and the frame is not copied (10^7 grouped cells:
    about 0.4 GB).
    """
    kept = frame["_kept"].to_numpy(dtype=bool)
    frame = frame.drop(columns="_kept")
    return frame if kept.all() else frame[kept].reset_index(drop=True)


def text_as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with each text column (str, or object holding text) as a categorical."""
    import pandas as pd

    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            continue
        if pd.api.types.is_string_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
            column.dtype
        ):
            frame[name] = column.astype("category")
    return frame


@dataclass(frozen=True)
class ScoreColumn:
    """A column of a grouped scan derived from the ``score`` role (``s``, as DOUBLE).

    ``gt``/``ge``: 0/1 for ``s > value`` / ``s >= value``; ``value``: ``s`` itself; ``within``:
    ``s`` where ``value <= s <= high``, else NULL (the rows around the median, keyed by their
    exact score); ``bin``: ``clamp(floor((s - value) * scale), 0, bins - 1)``; ``sum``: the
    compensated sum of ``s`` per group (an aggregate, not a key).
    """

    kind: Literal["gt", "ge", "value", "within", "bin", "sum"]
    value: float = 0.0
    scale: float = 0.0
    bins: int = 1
    high: float = 0.0


@dataclass(frozen=True)
class WindowKey:
    """One more key of a grouped scan: the calendar window each row's time falls in.

    ``column`` is a column name or SQL expression over the source (``None``: the
    ``timestamp`` role); it must be a DATE or TIMESTAMP, or text that casts to one (TIMESTAMP
    WITH TIME ZONE values are taken in UTC, or in ``time_zone``). The engine adds the key column
    :data:`WINDOW_KEY` (last of the keys): the first day of the row's window as ISO text
    (``2026-03-01``; weeks start on Monday, quarters in January, April, July, October),
    NULL where the time is NULL. It is one more expression in the same GROUP BY, never a pass
    of its own.

    ``last_days`` (days only): the windows are one rolling window, the last ``last_days``
    days up to the latest day of the rows kept. Rows older than its first day are only added
    up, so an engine may key each of them by the day before that first day instead of its
    own, where that spares reading their times (the counts judged are the same).
    """

    column: str | None
    every: Literal["day", "week", "month", "quarter"]
    last_days: int | None = None
    #: The IANA zone whose calendar cuts the windows (None: UTC). Times with a zone are
    #: converted to it; times without one (and text without an offset) are read as its
    #: wall-clock time; dates are dates.
    time_zone: str | None = None


@dataclass(frozen=True)
class ScoreBucket:
    """One bucket of a fine, order-preserving histogram of the audited scores.

    Buckets hold disjoint score ranges in ascending order: ``below`` audited rows score less
    than ``low``, the bucket's ``rows`` score between ``low`` and ``high`` (its least and
    greatest score), and every other row scores more than ``high``.
    """

    below: int
    rows: int
    low: float
    high: float


@dataclass(frozen=True)
class ScoreProfile:
    """The audited rows' ``score``: how many, its range, and about how many distinct values.

    ``distinct_estimate``: the distinct scores, estimated (HyperLogLog) or counted; with
    ``distinct_at_least`` only a lower bound, given when it exceeds
    :data:`EXACT_SCORE_VALUES` (which is all the audit needs to know then).
    ``median_buckets``: the (one or two) buckets of a fine histogram that hold the middle
    ranks, when the profile computed them (``None``: not computed, ask
    ``score_median_buckets``; empty: the histogram could not bracket them, and the median
    needs the narrowing search).
    """

    rows: int
    min: float
    max: float
    distinct_estimate: int
    median_buckets: tuple[ScoreBucket, ...] | None = None
    distinct_at_least: bool = False


def detect_format(files: Sequence[Path]) -> EvidenceFormat | None:
    """Return the one format all ``files`` have by extension (compression aside), or None."""
    found: set[EvidenceFormat] = set()
    for file in files:
        suffixes = [s.lower() for s in file.suffixes]
        while suffixes and suffixes[-1] in _COMPRESSED:
            suffixes.pop()
        if not suffixes or suffixes[-1] not in _FORMATS:
            return None
        found.add(_FORMATS[suffixes[-1]])
    return found.pop() if len(found) == 1 else None


def is_delta_table(folder: Path, fmt: str | None) -> bool:
    """Return whether evidence at ``folder`` is a Delta table (:mod:`ethicsgate.evidence.delta`).

    It is when the spec says ``format: delta``, or when the folder holds ``_delta_log/``.
    """
    return fmt == "delta" or (folder / "_delta_log").is_dir()


def resolve_files(
    name: str, spec: EvidenceSpec, *, base_dir: Path, locate: Locator
) -> tuple[list[Path], EvidenceFormat]:
    """Resolve an evidence spec's path or glob (relative to ``base_dir``) to files and format.

    Raises:
        EvidenceError: no file matches, or the format cannot be told from the extensions, or
            the evidence is a table or query (no files: a database or Spark engine reads it).
    """
    if spec.path is None:
        key = "table" if spec.table is not None else "query"
        raise EvidenceError(
            f"evidence {name!r} is a {key} ({spec.source}), which an engine reading files "
            "cannot open",
            location=locate((key,)),
            hint="run the audit on the engine holding it, e.g. --engine "
            "postgresql://USER@HOST/DB (or engine: in the audit spec), or give a path",
        )
    pattern = Path(spec.path).expanduser()
    if not pattern.is_absolute():
        pattern = base_dir / pattern
    # the base is the audit spec's folder, or in Python the call's base_dir (no spec there)
    relative = (
        f"relative paths start from {base_dir} (the audit spec's folder, or base_dir= of "
        "ethicsgate.audit)"
    )
    if _glob.has_magic(str(pattern)):
        files = sorted(Path(p) for p in _glob.glob(str(pattern), recursive=True))
        files = [f for f in files if f.is_file()]
        if not files:
            raise EvidenceError(
                f"evidence {name!r}: no file matches {spec.path!r} (looked for {pattern})",
                location=locate(("path",)),
                hint=relative,
            )
    else:
        if is_delta_table(pattern, spec.format):
            # the engines read local Delta folders before this (evidence/delta.py): what is
            # left is a table in an object store
            raise EvidenceError(
                f"evidence {name!r}: {spec.path} is a Delta table, and this engine reads Delta "
                "tables from a local folder only",
                location=locate(("path",)),
                hint="copy the table to a local folder, or run the audit with --engine spark "
                "on a session with delta-spark",
            )
        if not pattern.is_file():
            what = "is a directory, not a file" if pattern.is_dir() else "not found"
            raise EvidenceError(
                f"evidence {name!r}: file {what}: {pattern}",
                location=locate(("path",)),
                hint=f"{relative}; globs such as data/*.parquet are allowed",
            )
        files = [pattern]
    files = [Path(os.path.normpath(f)) for f in files]
    fmt = spec.format or detect_format(files)
    if fmt is None:
        raise EvidenceError(
            f"evidence {name!r}: cannot tell the format of {spec.path!r} from its extension",
            location=locate(("path",)),
            hint="set format: csv, parquet, jsonl or json",
        )
    return files, fmt
