"""Export review items or the decision log as JSON, JSON lines or CSV.

The whole decision log or filtered items, never filtered log entries: a part of the hash
chain could not be verified on its own.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ethicsgate.review.store import ReviewStore

__all__ = [
    "EXPORT_FORMATS",
    "ExportFormat",
    "ReviewExport",
    "export_items",
    "export_log",
    "serialise_rows",
    "write_export",
]

ExportFormat = Literal["json", "jsonl", "csv"]
#: The export formats, as ``--format`` offers them.
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("json", "jsonl", "csv")


@dataclass(frozen=True)
class ReviewExport:
    """An export's text and how many rows (items or log entries) it holds."""

    text: str
    rows: int


def serialise_rows(rows: list[dict[str, Any]], fmt: ExportFormat) -> str:
    """Return rows as a JSON array, one JSON object per line, or CSV (nested values as JSON).

    In CSV, text a spreadsheet would run as a formula (a note ``=HYPERLINK(...)``, a record id
    ``+1 555``) starts with ``'`` (:func:`~ethicsgate.escapes.csv_cell`).
    """
    if fmt == "json":
        return json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    from ethicsgate.escapes import csv_cell

    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: json.dumps(v) if isinstance(v, (dict, list)) else csv_cell(v)
                    for k, v in row.items()
                }
            )
    return buffer.getvalue()


def export_items(
    store: ReviewStore,
    fmt: ExportFormat,
    *,
    status: str | None = None,
    rule_id: str | None = None,
    assignee: str | None = None,
    audit_id: str | None = None,
    overdue: bool = False,
    limit: int | None = None,
) -> ReviewExport:
    """Export the review items that pass the filters, most urgent first."""
    items = store.list_items(
        status=status,
        rule_id=rule_id,
        assignee=assignee,
        audit_id=audit_id,
        overdue=overdue,
        limit=limit,
    )
    rows = [item.model_dump(mode="json") for item in items]
    return ReviewExport(text=serialise_rows(rows, fmt), rows=len(rows))


def export_log(store: ReviewStore, fmt: ExportFormat) -> ReviewExport:
    """Export the whole decision log, oldest entry first."""
    rows = [entry.model_dump(mode="json") for entry in store.log_entries()]
    return ReviewExport(text=serialise_rows(rows, fmt), rows=len(rows))


def write_export(path: Path, export: ReviewExport) -> Path:
    """Write an export to ``path`` atomically (UTF-8); return the path."""
    from ethicsgate.files import write_files_atomically

    (written,) = write_files_atomically(path.parent, {path.name: export.text.encode("utf-8")})
    return written
