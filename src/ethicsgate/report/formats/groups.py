"""``groups.parquet`` and ``groups.csv``: every group of every rule as one tidy table.

``report.json`` keeps every group, but a report with 100,000 groups is easier to query as a
table: one row per rule, group and metric, the same numbers as ``report.json`` (CSV floats in
their shortest round-trip form, so a value reads back to the same float). The HTML and
Markdown reports show the failing and worst groups of a large rule and point here for the rest.

Both files are always written, with the header alone when no rule has groups, so a report's
signed file set never depends on its content and no stale table from an earlier run can sit
unsigned beside a new report. The columns are listed in ``report/views/groups.py`` and in
``docs/concepts.md``.
"""

from __future__ import annotations

import io
from importlib import resources
from typing import Any

from ethicsgate.canonical import GROUPS_CSV, GROUPS_PARQUET
from ethicsgate.report.formats.base import BinarySink, Format, ReportInput
from ethicsgate.report.views.groups import GROUP_COLUMNS, arrow_table

__all__ = [
    "EMPTY_PARQUET",
    "GROUPS_CSV_FORMAT",
    "GROUPS_PARQUET_FORMAT",
    "render_groups_csv",
    "render_groups_parquet",
]


#: The header-only Parquet file (no rule has groups), as pyarrow writes it; shipped so that an
#: audit without fairness rules need not import pyarrow (and numpy) to write it. A test checks
#: that it still reads back as the empty table of GROUP_COLUMNS.
EMPTY_PARQUET = "empty-groups.parquet"


def render_groups_csv(rows: list[tuple[Any, ...]]) -> bytes:
    """Return the group table as CSV (RFC 4180): UTF-8, a header, text quoted, null empty.

    Written by Arrow's CSV writer, ten times faster than the ``csv`` module here: floats in
    their shortest round-trip form, booleans as ``true``/``false``. The header alone is written
    without Arrow, byte for byte as Arrow writes it.
    """
    return _csv(arrow_table(rows) if rows else None)


def render_groups_parquet(rows: list[tuple[Any, ...]]) -> bytes:
    """Return the group table as Parquet (zstd-compressed, one row group per 1M rows)."""
    return _parquet(arrow_table(rows) if rows else None)


def _csv(table: Any) -> bytes:
    sink = io.BytesIO()
    _write_csv(table, sink)
    return sink.getvalue()


def _write_csv(table: Any, out: BinarySink) -> None:
    if table is None:
        out.write((",".join(f'"{name}"' for name in GROUP_COLUMNS) + "\n").encode("utf-8"))
        return
    import pyarrow.csv as pa_csv

    pa_csv.write_csv(table, out)


def _parquet(table: Any) -> bytes:
    sink = io.BytesIO()
    _write_parquet(table, sink)
    return sink.getvalue()


def _write_parquet(table: Any, out: BinarySink) -> None:
    if table is None:
        out.write(resources.files(__package__).joinpath(EMPTY_PARQUET).read_bytes())
        return
    import pyarrow.parquet as pq

    pq.write_table(table, out, compression="zstd", row_group_size=1_000_000)


def _render_csv(source: ReportInput) -> bytes:
    return _csv(source.group_arrow)


def _render_parquet(source: ReportInput) -> bytes:
    return _parquet(source.group_arrow)


def _stream_csv(source: ReportInput, out: BinarySink) -> None:
    _write_csv(source.group_arrow, out)


def _stream_parquet(source: ReportInput, out: BinarySink) -> None:
    _write_parquet(source.group_arrow, out)


#: Every group of every rule as Parquet.
GROUPS_PARQUET_FORMAT: Format[ReportInput] = Format(
    "parquet", GROUPS_PARQUET, _render_parquet, _stream_parquet
)
#: Every group of every rule as CSV.
GROUPS_CSV_FORMAT: Format[ReportInput] = Format("csv", GROUPS_CSV, _render_csv, _stream_csv)
