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
import itertools
from collections.abc import Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any

from ethicsgate.canonical import GROUPS_CSV, GROUPS_PARQUET
from ethicsgate.report.formats.base import Format, ReportInput
from ethicsgate.report.views.groups import GROUP_COLUMNS, iter_group_table

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult

__all__ = [
    "EMPTY_PARQUET",
    "GROUPS_CSV_FORMAT",
    "GROUPS_PARQUET_FORMAT",
    "arrow_group_table",
    "render_groups_csv",
    "render_groups_parquet",
]


#: rows turned into Arrow at a time: the tuples of a chunk, not of the table, are in memory
_CHUNK_ROWS = 65_536


def _arrow_table(rows: Iterable[tuple[Any, ...]]) -> Any:
    """Return the rows as a ``pyarrow.Table`` with the types of :data:`GROUP_COLUMNS`.

    Converted a chunk of rows at a time: at 100,000 groups the table has about 650,000
    rows, and a tuple per row held at once took about 300 MB.
    """
    import pyarrow as pa

    schema = pa.schema([(name, pa.type_for_alias(t)) for name, t in GROUP_COLUMNS.items()])
    batches = []
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, _CHUNK_ROWS)):
        columns = list(zip(*chunk, strict=True))
        arrays = [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)]
        batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def arrow_group_table(result: AuditResult) -> Any:
    """Return the group table of ``result`` as a ``pyarrow.Table``, None when it has no row.

    Without groups nothing is imported: the header-only files are written without Arrow.
    """
    rows = iter_group_table(result)
    first = next(rows, None)
    if first is None:
        return None
    return _arrow_table(itertools.chain([first], rows))


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
    return _csv(_arrow_table(rows) if rows else None)


def render_groups_parquet(rows: list[tuple[Any, ...]]) -> bytes:
    """Return the group table as Parquet (zstd-compressed, one row group per 1M rows)."""
    return _parquet(_arrow_table(rows) if rows else None)


def _csv(table: Any) -> bytes:
    if table is None:
        return (",".join(f'"{name}"' for name in GROUP_COLUMNS) + "\n").encode("utf-8")
    import pyarrow.csv as pa_csv

    sink = io.BytesIO()
    pa_csv.write_csv(table, sink)
    return sink.getvalue()


def _parquet(table: Any) -> bytes:
    if table is None:
        return resources.files(__package__).joinpath(EMPTY_PARQUET).read_bytes()
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", row_group_size=1_000_000)
    return sink.getvalue()


def _render_csv(source: ReportInput) -> bytes:
    return _csv(source.group_arrow)


def _render_parquet(source: ReportInput) -> bytes:
    return _parquet(source.group_arrow)


#: Every group of every rule as Parquet.
GROUPS_PARQUET_FORMAT: Format[ReportInput] = Format("parquet", GROUPS_PARQUET, _render_parquet)
#: Every group of every rule as CSV.
GROUPS_CSV_FORMAT: Format[ReportInput] = Format("csv", GROUPS_CSV, _render_csv)
