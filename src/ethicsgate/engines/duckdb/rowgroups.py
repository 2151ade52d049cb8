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
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

__all__ = [
    "MAX_BRANCHES",
    "RowGroupWindows",
    "WindowKeyValue",
    "local_dates_monotone",
    "plan_row_group_windows",
    "ranges_sql",
]


@lru_cache(maxsize=64)
def local_dates_monotone(zone: str, first: datetime, last: datetime) -> bool:
    """Return whether the date in ``zone`` never goes back as instants go from first to last.

    Then a row group whose least and greatest instant fall in one local window holds only that
    window. Not so where clocks went back across a midnight: St. John's fell back at 00:01
    until 2011 (00:00-00:01 on November 7, 2010, then 23:01 on November 6), and 8 more
    zones of the tz database did at some time. Each day of the span is checked for a fall in
    the UTC offset, and each fall found for a local date that goes back (a year: 2 ms); a
    span of more than two centuries is not checked (False: keyed row by row).
    """
    import zoneinfo

    tz = zoneinfo.ZoneInfo(zone)
    day = timedelta(days=1)
    at = max(first.astimezone(UTC), datetime(1, 1, 2, tzinfo=UTC)) - day
    end = min(last.astimezone(UTC), datetime(9999, 12, 30, tzinfo=UTC)) + day
    if (end - at).days > 80_000:  # two centuries (a sentinel such as 9999-12-31): not checked
        return False
    offset = at.astimezone(tz).utcoffset()
    while at < end:
        following = at + day
        next_offset = following.astimezone(tz).utcoffset()
        if offset is not None and next_offset is not None and next_offset < offset:
            before, after = at, following  # the offset falls between them: find where
            while after - before > timedelta(seconds=1):
                middle = before + (after - before) / 2
                if middle.astimezone(tz).utcoffset() == offset:
                    before = middle
                else:
                    after = middle
            if after.astimezone(tz).date() < before.astimezone(tz).date():
                return False
        at, offset = following, next_offset
    return True


#: A window's key as the footer query returns it: an integer (months, quarters) or a day.
WindowKeyValue = int | date

#: Most windows read as branches of their own (one scan each in the query plan); more and the
#: rows are keyed one by one as before.
MAX_BRANCHES = 128
#: Least rows per branch, on average: a branch costs about 15 ms (a scan and a hash aggregate
#: of its own) and saves about 13 ns per row of time column left unread (both at 1e8 rows),
#: so it pays from about 1.15 million rows: months of 1e7 rows (830,000 a branch) measured
#: 1.97 CPU s from the footer against 1.76 keyed row by row, months of 1e8 (8.3 million)
#: 3.50 against 4.35 (docs/benchmarks.md).
MIN_ROWS_PER_BRANCH = 1_000_000
#: Least share of the rows that whole-window row groups must hold for the plan to pay: below
#: it (unsorted data, tiny row groups) the per-row key is cheaper than the extra branches.
MIN_WHOLE_SHARE = 0.5
#: Most row ranges in one branch's filter. DuckDB prunes the row groups outside the ranges
#: but tests every range on every row inside them: about 1.7 ns per row and range (a filter
#: of k ranges over k row groups of a 1e8-row file: 0.30, 0.35, 0.55, 1.18, 3.56 and 25.6 CPU
#: s for k = 10, 16, 32, 64, 128 and 365, against 0.52 for the whole file unfiltered).
MAX_RANGES = 64
#: The cost model of the plan, in nanoseconds (measured at 1e8 rows, see above).
RANGE_NS_PER_ROW = 1.7
SAVED_NS_PER_ROW = 13.0
BRANCH_NS = 15_000_000.0


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
    whole row group lies in that window. None where the branches would cost more than the
    per-row key (the cost model above).
    """
    whole: dict[WindowKeyValue, list[tuple[int, int]]] = {}
    mixed: list[tuple[int, int]] = []
    start = 0
    for rows, low, high in row_groups:
        stop = start + rows
        if low is not None and low == high:
            _append(whole.setdefault(low, []), start, stop)
        elif rows:
            _append(mixed, start, stop)
        start = stop
    filters = [*whole.values(), mixed]
    whole_rows = start - _rows(mixed)
    # what the filters cost (every range tested on every row they keep) against what the
    # unread time column saves, less the branches' fixed cost
    filtered = RANGE_NS_PER_ROW * sum(_rows(ranges) * len(ranges) for ranges in filters)
    saved = SAVED_NS_PER_ROW * whole_rows - BRANCH_NS * len(whole)
    if (
        not whole
        or len(whole) > MAX_BRANCHES
        or max(len(ranges) for ranges in filters) > MAX_RANGES
        or whole_rows < MIN_WHOLE_SHARE * start
        or whole_rows < MIN_ROWS_PER_BRANCH * len(whole)
        or filtered > saved
    ):
        return None
    return RowGroupWindows(whole=whole, mixed=mixed)


def _rows(ranges: Sequence[tuple[int, int]]) -> int:
    return sum(stop - start for start, stop in ranges)


def ranges_sql(ranges: Sequence[tuple[int, int]]) -> str:
    """Return a filter on ``file_row_number`` that keeps just ``ranges`` (DuckDB prunes on it)."""
    return " OR ".join(
        f"(file_row_number >= {start} AND file_row_number < {stop})" for start, stop in ranges
    )
