"""Windows of whole Parquet row groups, read from the footer instead of from every row.

A windowed scan needs each row's calendar window, so it reads the time column, which the
same audit without windows never reads. In logs written in time order that column is the
largest of all (nearly unique 8-byte values: 800 MB raw, 90 MB zstd per 1e8 rows, against
60 MB for every other column together), and decoding it costs more than the window key
computed from it (docs/benchmarks.md). But a row group whose minimum and maximum time fall in
the same window has that window for every row: the footer says so, and its rows can be
counted without reading the column at all. Only the few row groups that straddle a window
boundary (one per boundary in time-ordered data), hold NULLs or lack statistics are read row
by row.

DuckDB prunes the row groups of a scan filtered on ``file_row_number`` ranges, so each window
becomes one branch reading just its row groups, and the straddling row groups one more
branch that computes the key per row as before: the same counts, bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

__all__ = [
    "MAX_BRANCHES",
    "RowGroupWindows",
    "WindowKeyValue",
    "plan_row_group_windows",
    "ranges_sql",
]

#: A window's key as the footer query returns it: an integer (months, quarters) or a day.
WindowKeyValue = int | date

#: Most windows read as branches of their own (one scan each in the query plan); more and the
#: rows are keyed one by one as before.
MAX_BRANCHES = 128
#: Least rows per branch, on average: a branch costs about 15 ms (a scan and a hash aggregate
#: of its own) and saves about 13 ns per row of time column left unread (both at 1e8 rows),
#: so a year of day windows at 1e8 rows (150,000 whole-day rows a branch) keys every row, and
#: months of 1e7 rows (830,000) or weeks of 1e8 (1.9 million) read the footer.
MIN_ROWS_PER_BRANCH = 250_000
#: Least share of the rows that whole-window row groups must hold for the plan to pay: below
#: it (unsorted data, tiny row groups) the per-row key is cheaper than the extra branches.
MIN_WHOLE_SHARE = 0.5
#: Most row ranges in the filters (interleaved data would make the filters long).
MAX_RANGES = 1024


@dataclass(frozen=True)
class RowGroupWindows:
    """Row ranges ``[start, stop)`` of one Parquet file, by window key or read row by row."""

    whole: dict[WindowKeyValue, list[tuple[int, int]]]
    mixed: list[tuple[int, int]]


def _append(ranges: list[tuple[int, int]], start: int, stop: int) -> None:
    if ranges and ranges[-1][1] == start:
        ranges[-1] = (ranges[-1][0], stop)
    else:
        ranges.append((start, stop))


def plan_row_group_windows(
    row_groups: Sequence[tuple[int, WindowKeyValue | None, WindowKeyValue | None]],
) -> RowGroupWindows | None:
    """Split a file's row groups into whole windows and mixed ones, or None if not worth it.

    ``row_groups`` are (rows, window key of the least time, of the greatest), in file order;
    a key is None where the statistics cannot be trusted (absent, inexact, NULLs present). The
    key must not decrease with time (calendar windows), so equal keys at both ends mean the
    whole row group lies in that window.
    """
    whole: dict[WindowKeyValue, list[tuple[int, int]]] = {}
    mixed: list[tuple[int, int]] = []
    start = 0
    whole_rows = 0
    for rows, low, high in row_groups:
        stop = start + rows
        if low is not None and low == high:
            _append(whole.setdefault(low, []), start, stop)
            whole_rows += rows
        elif rows:
            _append(mixed, start, stop)
        start = stop
    ranges = len(mixed) + sum(len(r) for r in whole.values())
    if (
        not whole
        or len(whole) > MAX_BRANCHES
        or ranges > MAX_RANGES
        or whole_rows < MIN_WHOLE_SHARE * start
        or whole_rows < MIN_ROWS_PER_BRANCH * len(whole)
    ):
        return None
    return RowGroupWindows(whole=whole, mixed=mixed)


def ranges_sql(ranges: Sequence[tuple[int, int]]) -> str:
    """Return a filter on ``file_row_number`` that keeps just ``ranges`` (DuckDB prunes on it)."""
    return " OR ".join(
        f"(file_row_number >= {start} AND file_row_number < {stop})" for start, stop in ranges
    )
