"""``findings.parquet``: every violating record of every record-level rule, beside the report.

The report lists each rule's first ``max_findings`` records by id; this file holds all of
them, however many, one row per finding (columns: :data:`FINDINGS_COLUMNS`), rule by rule in
the policy's order and by record id within a rule. It is signed with the report, read by
``ethicsgate findings export`` (CSV or JSON Lines) and by the review queue, which enqueues
from it. It is written while the audit runs (:class:`FindingsWriter`, a
:class:`~ethicsgate.rules.records.FindingsSink`), batch by batch as the engine streams them,
so memory holds one batch of Python objects, not the findings.

The file is always written, with no rows when nothing was found, so a report's signed file set
never depends on its content (the empty file is shipped: an audit without findings does not
import pyarrow).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ethicsgate.errors import EthicsgateError, Location
from ethicsgate.rules.results import Finding

__all__ = [
    "EMPTY_FINDINGS",
    "FINDINGS_COLUMNS",
    "FindingRow",
    "FindingsFile",
    "FindingsWriter",
    "empty_findings",
    "finding_batches",
]

#: The columns of findings.parquet, all text; ``fields`` is a JSON object of the rule's roles.
FINDINGS_COLUMNS = ("rule_id", "record_id", "reason", "message", "fields")
#: The file with the columns and no rows, as pyarrow writes it (a test checks it reads back).
EMPTY_FINDINGS = "empty-findings.parquet"
#: One finding as the sink takes it: record id, reason, message and the fields shown.
FindingRow = tuple[str, str, str, Mapping[str, Any]]


class FindingsFile:
    """``findings.parquet`` as an audit wrote it: a file on disk, never all of it in memory.

    The file lives in a temporary folder that :meth:`close` removes (and, failing that, the
    garbage collector); the shipped empty file when the audit found nothing.
    """

    def __init__(
        self,
        path: Path,
        *,
        count: int = 0,
        folder: tempfile.TemporaryDirectory[str] | None = None,
    ) -> None:
        """Hold the file at ``path`` (``count`` findings), owning ``folder`` when given."""
        self.path = path
        self.count = count
        self._folder = folder

    def read_bytes(self) -> bytes:
        """Return the file's bytes (for in-memory callers such as ``AuditReport.files``)."""
        return self.path.read_bytes()

    def close(self) -> None:
        """Remove the temporary file (nothing to do for the shipped empty file)."""
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def __reduce__(self) -> tuple[Any, tuple[bytes, int]]:
        """Pickle the file's bytes (an ``AuditReport`` sent to another process keeps them)."""
        return _findings_from_bytes, (self.read_bytes(), self.count)

    def __enter__(self) -> FindingsFile:
        """Use the file inside a ``with`` block; it is removed on leaving."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Remove the temporary file."""
        self.close()


def _findings_from_bytes(data: bytes, count: int) -> FindingsFile:
    """Return a findings file holding ``data`` in a temporary folder of its own (unpickling)."""
    folder = tempfile.TemporaryDirectory(prefix="ethicsgate-findings-")
    path = Path(folder.name) / "findings.parquet"
    path.write_bytes(data)
    return FindingsFile(path, count=count, folder=folder)


def empty_findings() -> FindingsFile:
    """Return the shipped findings file with the columns and no rows."""
    return FindingsFile(Path(str(resources.files(__package__).joinpath(EMPTY_FINDINGS))))


class FindingsWriter:
    """Collect an audit's findings into ``findings.parquet``, batch by batch (a findings sink).

    Each batch is spooled to a temporary folder as one JSON array (one ``json.dumps`` per
    batch, in C, not one per finding) and the batches are converted to Parquet by DuckDB at
    the end (``engines/duckdb/parquet.py``): memory holds one batch, and an audit of logs
    imports neither pyarrow nor pandas.
    """

    def __init__(self) -> None:
        """Start with no findings (nothing is spooled until the first one)."""
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._batches: list[Path] = []
        self.count = 0

    def add(self, rule_id: str, findings: Sequence[Finding]) -> None:
        """Append a batch of one rule's findings, in record-id order."""
        self.add_rows(
            rule_id,
            [(f.record_id, f.reason, f.message, dict(sorted(f.fields.items()))) for f in findings],
        )

    def add_rows(self, rule_id: str, rows: Sequence[FindingRow]) -> None:
        """Append a batch of one rule's findings as plain rows, in record-id order.

        The fast path of the record-level kinds: no :class:`Finding` is built per violation.
        Each row's fields are written in the order the mapping has them (the record-level
        kinds give them sorted by name).
        """
        if not rows:
            return
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="ethicsgate-findings-")
        path = Path(self._folder.name) / f"batch-{len(self._batches):09d}.json"
        text = json.dumps(
            [
                {
                    "rule_id": rule_id,
                    "record_id": record_id,
                    "reason": reason,
                    "message": message,
                    "fields": fields,
                }
                for record_id, reason, message, fields in rows
            ],
            ensure_ascii=False,
        )
        path.write_text(text, encoding="utf-8")
        self._batches.append(path)
        self.count += len(rows)

    def finish(self) -> FindingsFile:
        """Return the findings file (the shipped empty file when there was no finding).

        The returned file owns the temporary folder: close it (or use it in a ``with``
        block) once the report is written.
        """
        if self._folder is None:
            return empty_findings()
        from ethicsgate.engines.duckdb.parquet import json_batches_to_parquet

        try:
            target = Path(self._folder.name) / "findings.parquet"
            json_batches_to_parquet(
                self._batches, FINDINGS_COLUMNS, target, json_columns={"fields"}
            )
            for batch in self._batches:
                batch.unlink()
        except BaseException:
            self.close()
            raise
        done = FindingsFile(target, count=self.count, folder=self._folder)
        self._folder, self._batches = None, []
        return done

    def close(self) -> None:
        """Remove the spooled rows (also when the audit failed half way)."""
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
        self._batches = []


def finding_batches(
    source: Path | bytes | FindingsFile, *, rules: Sequence[str] = ()
) -> Iterator[list[dict[str, Any]]]:
    """Yield the rows of a findings file (``fields`` decoded), one row group at a time.

    ``rules``: only these rules' findings (all when empty).

    Raises:
        EthicsgateError: the file is missing or is not a findings file (named, with the fix).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(source, FindingsFile):
        source = source.path
    where = str(source) if isinstance(source, Path) else "findings.parquet"
    try:
        handle = pq.ParquetFile(source if isinstance(source, Path) else pa.BufferReader(source))
    except FileNotFoundError as exc:
        raise EthicsgateError(
            "findings file not found",
            location=Location(where),
            hint="give a report folder written by `ethicsgate audit` (it holds findings.parquet)",
        ) from exc
    except (OSError, pa.ArrowException) as exc:
        raise EthicsgateError(
            f"not a readable Parquet file: {exc}",
            location=Location(where),
            hint="re-run the audit to write the report folder again",
        ) from exc
    names = handle.schema_arrow.names
    if tuple(names) != FINDINGS_COLUMNS:
        raise EthicsgateError(
            f"not a findings file: its columns are {', '.join(names)}",
            location=Location(where),
            hint=f"a findings file has the columns {', '.join(FINDINGS_COLUMNS)}",
        )
    wanted = set(rules)
    for index in range(handle.num_row_groups):
        rows = handle.read_row_group(index).to_pylist()
        if wanted:
            rows = [row for row in rows if row["rule_id"] in wanted]
        for row in rows:
            row["fields"] = json.loads(row["fields"])
        if rows:
            yield rows
