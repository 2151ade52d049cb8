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
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import IO, Any

from ethicsgate.errors import EthicsgateError, Location
from ethicsgate.rules.results import Finding

__all__ = [
    "EMPTY_FINDINGS",
    "FINDINGS_COLUMNS",
    "FindingsWriter",
    "finding_batches",
]

#: The columns of findings.parquet, all text; ``fields`` is a JSON object of the rule's roles.
FINDINGS_COLUMNS = ("rule_id", "record_id", "reason", "message", "fields")
#: The file with the columns and no rows, as pyarrow writes it (a test checks it reads back).
EMPTY_FINDINGS = "empty-findings.parquet"


class FindingsWriter:
    """Collect an audit's findings into Parquet bytes, batch by batch (a findings sink).

    The rows are spooled to a temporary JSON Lines file as they come and converted to Parquet
    by DuckDB at the end (``engines/duckdb/parquet.py``): memory holds one batch, and an
    audit of logs imports neither pyarrow nor pandas.
    """

    def __init__(self) -> None:
        """Start with no findings (nothing is spooled until the first one)."""
        self._spool: IO[str] | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self.count = 0

    def add(self, rule_id: str, findings: Sequence[Finding]) -> None:
        """Append a batch of one rule's findings, in record-id order."""
        if not findings:
            return
        if self._spool is None:
            self._folder = tempfile.TemporaryDirectory(prefix="ethicsgate-findings-")
            path = Path(self._folder.name) / "findings.jsonl"
            self._spool = path.open("w", encoding="utf-8")
        lines = [
            json.dumps(
                {
                    "rule_id": rule_id,
                    "record_id": f.record_id,
                    "reason": f.reason,
                    "message": f.message,
                    "fields": json.dumps(f.fields, sort_keys=True, ensure_ascii=False),
                },
                ensure_ascii=False,
            )
            for f in findings
        ]
        self._spool.write("\n".join(lines) + "\n")
        self.count += len(findings)

    def finish(self) -> bytes:
        """Return the file's bytes (the shipped empty file when there was no finding)."""
        if self._spool is None or self._folder is None:
            return resources.files(__package__).joinpath(EMPTY_FINDINGS).read_bytes()
        from ethicsgate.engines.duckdb.parquet import jsonl_to_parquet

        try:
            self._spool.close()
            folder = Path(self._folder.name)
            jsonl_to_parquet(folder / "findings.jsonl", FINDINGS_COLUMNS, folder / "f.parquet")
            return (folder / "f.parquet").read_bytes()
        finally:
            self.close()

    def close(self) -> None:
        """Remove the spooled rows (also when the audit failed half way)."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


def finding_batches(
    source: Path | bytes, *, rules: Sequence[str] = ()
) -> Iterator[list[dict[str, Any]]]:
    """Yield the rows of a findings file (``fields`` decoded), one row group at a time.

    ``rules``: only these rules' findings (all when empty).

    Raises:
        EthicsgateError: the file is missing or is not a findings file (named, with the fix).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

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
