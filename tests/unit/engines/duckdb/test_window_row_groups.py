"""Windows from the Parquet footer equal windows keyed row by row, boundaries included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from tests.unit.engines.duckdb.windowfiles import (
    every_20_minutes,
    open_decisions,
    plan_from_footer_always,
)

from ethicsgate.engines.duckdb import dataset as duckdb_dataset
from ethicsgate.engines.duckdb import rowgroups
from ethicsgate.engines.duckdb.rowgroups import plan_row_group_windows
from ethicsgate.evidence.model import WINDOW_KEY, WindowKey
from ethicsgate.evidence.spec import WindowSpec
from ethicsgate.rules.windows import Split, split_windows

#: Stretches of time around the boundaries where a window key could go wrong: the EU's DST
#: changes of 2026 (in local time, not in UTC), a year end inside an ISO week, the leap day
#: of 2028 and a quarter end; every 20 minutes, so most row groups (30 rows) fall in one day.
_STRETCHES = [
    ("2026-03-27", "2026-04-02"),
    ("2026-10-23", "2026-10-27"),
    ("2027-12-28", "2028-01-03"),
    ("2028-02-27", "2028-03-02"),
    ("2028-06-29", "2028-07-02"),
]


def _write(path: Path, kind: str) -> None:
    """Write the stretches in time order, 30-row row groups, with NULL times in a few."""
    times = every_20_minutes(_STRETCHES)
    rng = np.random.default_rng(5)
    n = len(times)
    if kind == "timestamptz":  # stored as UTC instants, read as TIMESTAMP WITH TIME ZONE
        column = pa.array(
            times.tz_convert("Europe/Berlin"), type=pa.timestamp("us", "Europe/Berlin")
        )
    elif kind == "timestamp":  # naive, read as UTC
        column = pa.array(times.tz_localize(None), type=pa.timestamp("us"))
    else:
        column = pa.array(times.tz_localize(None).date, type=pa.date32())
    nulls = np.zeros(n, dtype=bool)
    nulls[[40, 41, 700, 1500]] = True  # three row groups with a NULL time
    column = pc.if_else(pa.array(nulls), pa.nulls(n, column.type), column)
    table = pa.table(
        {
            "t": column,
            "group": rng.choice(["A", "B", "C"], size=n),
            "approved": rng.integers(0, 2, size=n),
        }
    )
    pq.write_table(table, path, row_group_size=30)


def _planned_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> tuple[Path, list[rowgroups.RowGroupWindows | None]]:
    """Write the test file; return it and the list every row-group plan is recorded in."""
    path = tmp_path / "d.parquet"
    _write(path, kind)
    return path, plan_from_footer_always(monkeypatch)


def _counts(path: Path, every: str, **spec: str) -> pd.DataFrame:
    ev = open_decisions(path, **spec)
    try:
        counts = ev.grouped_counts(
            roles=["group", "prediction"],
            binary_roles=["prediction"],
            window=WindowKey(column="t", every=every),  # type: ignore[arg-type]
        )
    finally:
        ev.engine.close()
    return counts.frame


@pytest.mark.parametrize("kind", ["timestamp", "timestamptz", "date"])
@pytest.mark.parametrize("every", ["day", "week", "month", "quarter"])
def test_footer_windows_equal_windows_keyed_per_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, every: str
) -> None:
    path, plans = _planned_file(tmp_path, monkeypatch, kind)
    planned = duckdb_dataset.plan_row_group_windows  # the recording one
    footer = _counts(path, every)
    plan = plans[-1]
    assert plan is not None and plan.mixed  # both branches ran: whole windows and mixed
    monkeypatch.setattr(duckdb_dataset, "plan_row_group_windows", lambda row_groups: None)
    per_row = _counts(path, every)
    pd.testing.assert_frame_equal(footer, per_row)
    assert int(footer["n"].sum()) == len(every_20_minutes(_STRETCHES))
    assert int(footer.loc[footer[WINDOW_KEY].isna(), "n"].sum()) == 4
    if every == "day":
        days = footer.groupby(WINDOW_KEY)["n"].sum()
        assert days["2028-02-29"] == 72 and days["2026-03-29"] == 72  # 23 h in Berlin
    if every == "week":
        # weeks come from the footer by week (their Monday), not by day: a row group over a
        # midnight inside one week is whole, so fewer row groups are read row by row
        assert plan.whole and all(key.weekday() == 0 for key in plan.whole)
        monkeypatch.setattr(duckdb_dataset, "plan_row_group_windows", planned)
        _counts(path, "day")
        by_day = plans[-1]
        assert by_day is not None
        mixed = sum(stop - start for start, stop in plan.mixed)
        assert mixed < sum(stop - start for start, stop in by_day.mixed)


def test_the_plan_keeps_whole_windows_and_reads_the_rest_row_by_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # too few rows per window for a branch of its own: every row is keyed
    assert plan_row_group_windows([(10, 1, 1), (10, 2, 2)]) is None
    plan_from_footer_always(monkeypatch)
    monkeypatch.setattr(rowgroups, "MIN_ROWS_PER_BRANCH", 10)
    plan = plan_row_group_windows([(10, 1, 1), (10, 1, 1), (10, 1, 2), (5, None, None), (10, 2, 2)])
    assert plan is not None
    assert plan.whole == {1: [(0, 20)], 2: [(35, 45)]}
    assert plan.mixed == [(20, 35)]
    # mostly mixed row groups (unsorted data): keying every row is cheaper
    assert plan_row_group_windows([(10, 1, 1), (30, 1, 2)]) is None
    # more windows than branches
    many = [(10, k, k) for k in range(rowgroups.MAX_BRANCHES + 1)]
    assert plan_row_group_windows(many) is None


def test_a_filter_is_one_more_key_of_every_branch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "d.parquet"
    _write(path, "timestamptz")
    condition = "\"group\" <> 'C' AND (t IS NULL OR t >= TIMESTAMPTZ '2026-10-01 00:00:00+00')"
    plan_from_footer_always(monkeypatch)
    real = duckdb_dataset.plan_row_group_windows
    plans: list[rowgroups.RowGroupWindows | None] = []
    monkeypatch.setattr(
        duckdb_dataset, "plan_row_group_windows", lambda rgs: plans.append(real(rgs)) or plans[-1]
    )
    footer = _counts(path, "month", filter=condition)
    assert plans and plans[0] is not None
    monkeypatch.setattr(duckdb_dataset, "plan_row_group_windows", lambda row_groups: None)
    per_row = _counts(path, "month", filter=condition)
    pd.testing.assert_frame_equal(footer, per_row)
    assert sorted(footer[WINDOW_KEY].dropna().unique()) == [
        "2026-10-01",
        "2027-12-01",
        "2028-01-01",
        "2028-02-01",
        "2028-03-01",
        "2028-06-01",
        "2028-07-01",
    ]


def _year(
    windows: int, *, rows: int = 100_000_000, size: int = 122_880
) -> list[tuple[int, int, int]]:
    """Row groups of a year of ``rows`` rows in time order, keyed by ``windows`` equal windows."""
    found = []
    for start in range(0, rows, size):
        stop = min(start + size, rows)
        found.append((stop - start, start * windows // rows, (stop - 1) * windows // rows))
    return found


def test_the_plan_is_kept_only_where_its_branches_and_filters_cost_less() -> None:
    # months of 1e8 rows: 12 branches, 11 straddling row groups in one filter: from the footer
    months = plan_row_group_windows(_year(12))
    assert months is not None and len(months.whole) == 12 and len(months.mixed) == 11
    # months of 1e7 rows: 830,000 rows a branch do not pay for its scan (measured slower)
    assert plan_row_group_windows(_year(12, rows=10_000_000)) is None
    # weeks of 1e8 rows: 52 straddling row groups tested against 52 ranges each (1.7 ns a
    # row and range) cost more than the 52 branches save: every row is keyed
    assert plan_row_group_windows(_year(52)) is None
    # quarters of 1e8 rows
    assert plan_row_group_windows(_year(4)) is not None
    # days: more windows than branches
    assert plan_row_group_windows(_year(365)) is None


def _rolling(path: Path, days: int, **spec: str) -> tuple[pd.DataFrame, Split]:
    """Grouped counts of one rolling window of ``days`` days, and their split into it."""
    ev = open_decisions(path, **spec)
    try:
        frame = ev.grouped_counts(
            roles=["group", "prediction"],
            binary_roles=["prediction"],
            window=WindowKey(column="t", every="day", last_days=days),
        ).frame
    finally:
        ev.engine.close()
    return frame, split_windows(frame, WindowSpec(column="t", last=f"{days}d"), sums=[])


@pytest.mark.parametrize("kind", ["timestamp", "timestamptz", "date"])
@pytest.mark.parametrize("days", [2, 3, 40, 2000])
def test_one_rolling_window_lumps_the_older_row_groups_and_judges_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, days: int
) -> None:
    # the latest day is 2028-07-01 (UTC): 3 days start at 2028-06-29 00:00, the first row of
    # the last stretch; 2 days at a midnight inside it; 2000 days before the first row
    path, plans = _planned_file(tmp_path, monkeypatch, kind)
    frame, cut = _rolling(path, days)
    monkeypatch.setattr(duckdb_dataset, "plan_row_group_windows", lambda row_groups: None)
    per_row_frame, per_row = _rolling(path, days)
    assert cut.windows == per_row.windows
    pd.testing.assert_frame_equal(cut.stacked, per_row.stacked)
    pd.testing.assert_frame_equal(cut.whole, per_row.whole)
    assert (cut.without_time, cut.outside) == (per_row.without_time, per_row.outside)
    # the oracle: rows by their UTC day, NULL times apart
    times = every_20_minutes(_STRETCHES)
    nulls = np.zeros(len(times), dtype=bool)
    nulls[[40, 41, 700, 1500]] = True
    day = pd.Series(times.tz_convert("UTC").date)[~nulls]
    first = pd.Timestamp("2028-07-01").date() - pd.Timedelta(days=days - 1)
    assert cut.without_time == 4
    assert cut.outside == int((day < first).sum())
    assert int(cut.whole["n"].sum()) == int((day >= first).sum())
    if days == 2000:  # no row is older: nothing to lump, every row keyed by its day
        pd.testing.assert_frame_equal(frame, per_row_frame)
        return
    # the older row groups are one branch keyed by the day before the window; the rest by day
    plan = plans[-1]
    assert plan is not None and plan.mixed
    before = (first - pd.Timedelta(days=1)).isoformat()
    assert list(plan.whole) == [pd.Timestamp(before).date()]
    assert min(frame[WINDOW_KEY].dropna().unique().tolist()) == before


def test_a_filter_that_drops_the_latest_day_keys_every_row_by_its_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the footer's latest day is 2028-07-01, the filter's 2028-06-30: the window starts a day
    # earlier than the lumped rows assumed, so the scan is run again keyed by day
    path = tmp_path / "d.parquet"
    _write(path, "timestamp")
    plan_from_footer_always(monkeypatch)
    condition = "t IS NULL OR t < TIMESTAMP '2028-07-01 00:00:00'"
    frame, cut = _rolling(path, 3, filter=condition)
    monkeypatch.setattr(duckdb_dataset, "plan_row_group_windows", lambda row_groups: None)
    per_row_frame, per_row = _rolling(path, 3, filter=condition)
    pd.testing.assert_frame_equal(frame, per_row_frame)
    assert [w.label for w in cut.windows] == ["3d to 2028-06-30"]
    assert cut.outside == per_row.outside
