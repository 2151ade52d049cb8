"""Windows in a time zone's calendar: instants converted, wall-clock times kept, dates dates.

Decisions around a local midnight at a month end and across both 2026 DST changes of
Europe/Berlin and America/New_York; the Parquet footer path and the row-by-row path agree with
each other and with pandas' own conversion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.unit.engines.duckdb.windowfiles import (
    every_20_minutes,
    open_decisions,
    plan_from_footer_always,
)

from ethicsgate.engines.duckdb import dataset as duckdb_dataset
from ethicsgate.evidence.model import WINDOW_KEY, WindowKey
from ethicsgate.evidence.spec import WindowSpec
from ethicsgate.rules.windows import split_windows

ZONES = ["Europe/Berlin", "America/New_York"]

#: UTC stretches holding both 2026 DST changes of both zones and local month ends (Berlin's
#: 2026-04-01 00:00 is 2026-03-31 22:00 UTC, New York's 2026-11-01 00:00 is 04:00 UTC).
_STRETCHES = [
    ("2026-03-07", "2026-03-09 12:00"),
    ("2026-03-28", "2026-04-01 08:00"),
    ("2026-06-30 18:00", "2026-07-01 06:00"),
    ("2026-10-24", "2026-11-03"),
    ("2026-12-31 18:00", "2027-01-01 08:00"),
]


def _write(path: Path, kind: str) -> None:
    """Write the stretches in time order, 30-row row groups (10 hours: most cross a midnight)."""
    times = every_20_minutes(_STRETCHES)
    if kind == "timestamptz":
        column = pa.array(times, type=pa.timestamp("us", "UTC"))
    elif kind == "timestamp":  # naive: the zone's wall clock already
        column = pa.array(times.tz_localize(None), type=pa.timestamp("us"))
    elif kind == "date":
        column = pa.array(times.tz_localize(None).date, type=pa.date32())
    elif kind == "text-offset":
        column = pa.array(times.strftime("%Y-%m-%dT%H:%M:%SZ").tolist())
    else:  # text without an offset: the zone's wall clock
        column = pa.array(times.tz_localize(None).strftime("%Y-%m-%d %H:%M:%S").tolist())
    rng = np.random.default_rng(7)
    n = len(times)
    table = pa.table(
        {
            "t": column,
            "group": rng.choice(["A", "B"], size=n),
            "approved": rng.integers(0, 2, size=n),
        }
    )
    pq.write_table(table, path, row_group_size=30)


def _local_days(kind: str, zone: str) -> pd.Series:
    """Return the oracle: each row's day in the zone's calendar, as pandas reads it."""
    times = every_20_minutes(_STRETCHES)
    if kind in ("timestamptz", "text-offset"):
        return pd.Series(times.tz_convert(zone).tz_localize(None).normalize())
    return pd.Series(times.tz_localize(None).normalize())  # wall clock, or a date: as it is


def _start(days: pd.Series, every: str) -> pd.Series:
    if every == "day":
        return days
    if every == "week":
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    if every == "month":
        return days.dt.to_period("M").dt.start_time
    return days.dt.to_period("Q").dt.start_time


def _counts(path: Path, window: WindowKey) -> pd.DataFrame:
    ev = open_decisions(path)
    try:
        return ev.grouped_counts(
            roles=["group", "prediction"], binary_roles=["prediction"], window=window
        ).frame
    finally:
        ev.engine.close()


def _per_window(frame: pd.DataFrame) -> dict[str, int]:
    found = frame.groupby(WINDOW_KEY, observed=True)["n"].sum()
    return {str(k): int(v) for k, v in found.items()}


def _oracle(kind: str, zone: str, every: str) -> dict[str, int]:
    starts = _start(_local_days(kind, zone), every)
    found = starts.dt.strftime("%Y-%m-%d").value_counts()
    return {str(k): int(v) for k, v in sorted(found.items())}


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("every", ["day", "week", "month", "quarter"])
@pytest.mark.parametrize("kind", ["timestamptz", "timestamp", "date"])
def test_footer_and_row_by_row_windows_are_the_zone_calendar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, zone: str, every: str
) -> None:
    path = tmp_path / "d.parquet"
    _write(path, kind)
    plans = plan_from_footer_always(monkeypatch)
    window = WindowKey(column="t", every=every, time_zone=zone)  # type: ignore[arg-type]
    footer = _counts(path, window)
    plan = plans[-1]
    assert plan is not None and plan.whole and plan.mixed
    monkeypatch.setattr(duckdb_dataset, "plan_row_group_windows", lambda row_groups: None)
    per_row = _counts(path, window)
    pd.testing.assert_frame_equal(footer, per_row)
    assert _per_window(footer) == _oracle(kind, zone, every)


def test_a_row_group_over_a_local_midnight_only_is_keyed_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one row group 2026-03-31 20:00-23:59 UTC: one UTC day, two Berlin days and months
    times = pd.date_range("2026-03-31 20:00", periods=24, freq="10min", tz="UTC")
    path = tmp_path / "d.parquet"
    table = pa.table(
        {
            "t": pa.array(times, type=pa.timestamp("us", "UTC")),
            "group": ["A"] * 24,
            "approved": [1] * 24,
        }
    )
    pq.write_table(table, path, row_group_size=24)
    plans = plan_from_footer_always(monkeypatch)
    utc = _counts(path, WindowKey(column="t", every="month"))
    assert plans[-1] is not None and list(plans[-1].whole) == [pd.Timestamp("2026-03-01").date()]
    assert _per_window(utc) == {"2026-03-01": 24}
    berlin = _counts(path, WindowKey(column="t", every="month", time_zone="Europe/Berlin"))
    assert plans[-1] is None or not plans[-1].whole  # straddles: no whole window
    # 20:00-21:59 UTC is March in Berlin (22:00-23:59 CEST), 22:00 on is April 1
    assert _per_window(berlin) == {"2026-03-01": 12, "2026-04-01": 12}


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("kind", ["text-offset", "text-naive"])
def test_text_with_an_offset_is_converted_and_text_without_is_the_wall_clock(
    tmp_path: Path, kind: str, zone: str
) -> None:
    path = tmp_path / "d.parquet"
    _write(path, kind)
    for every in ("day", "month"):
        window = WindowKey(column="t", every=every, time_zone=zone)  # type: ignore[arg-type]
        assert _per_window(_counts(path, window)) == _oracle(kind, zone, every)


def test_dst_days_have_23_and_25_hours_in_the_zone(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    _write(path, "timestamptz")
    berlin = _per_window(_counts(path, WindowKey(column="t", every="day", time_zone=ZONES[0])))
    assert berlin["2026-03-29"] == 69 and berlin["2026-10-25"] == 75  # 23 h and 25 h, 3 an hour
    york = _per_window(_counts(path, WindowKey(column="t", every="day", time_zone=ZONES[1])))
    assert york["2026-03-08"] == 69 and york["2026-11-01"] == 75
    utc = _per_window(_counts(path, WindowKey(column="t", every="day")))
    assert utc["2026-03-29"] == 72 and utc["2026-10-25"] == 72


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("days", [2, 10])
def test_rolling_windows_count_the_zone_calendar_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str, days: int
) -> None:
    path = tmp_path / "d.parquet"
    _write(path, "timestamptz")
    plans = plan_from_footer_always(monkeypatch)
    window = WindowKey(column="t", every="day", last_days=days, time_zone=zone)
    spec = WindowSpec(column="t", last=f"{days}d", time_zone=zone)
    footer = split_windows(_counts(path, window), spec, sums=[])
    assert plans[-1] is not None and plans[-1].whole
    monkeypatch.setattr(duckdb_dataset, "plan_row_group_windows", lambda row_groups: None)
    per_row = split_windows(_counts(path, window), spec, sums=[])
    assert footer.windows == per_row.windows
    pd.testing.assert_frame_equal(footer.whole, per_row.whole)
    assert footer.outside == per_row.outside
    local = _local_days("timestamptz", zone).dt.date
    latest = max(local)
    first = latest - pd.Timedelta(days=days - 1)
    assert footer.windows[0].end == latest and footer.windows[0].start == first
    assert int(footer.whole["n"].sum()) == int((local >= first).sum())
    assert footer.outside == int((local < first).sum())


def test_a_zone_whose_clock_went_back_across_midnight_is_keyed_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # St. John's fell back at 00:01 until 2011: 2010-11-07 00:01 NDT (02:31 UTC) became
    # 2010-11-06 23:01 NST, so one row group 02:30-03:30 UTC starts and ends on November 7
    # (00:00 local) and holds November 6 in between: its footer must not make it whole
    parts = [
        pd.date_range(f"2010-11-{start}", periods=13, freq="5min", tz="UTC")
        for start in ("05 15:00", "07 02:30", "09 15:00")
    ]
    times = parts[0].append(parts[1:])
    path = tmp_path / "d.parquet"
    n = len(times)
    table = pa.table(
        {
            "t": pa.array(times, type=pa.timestamp("us", "UTC")),
            "group": ["A"] * n,
            "approved": [1] * n,
        }
    )
    pq.write_table(table, path, row_group_size=13)
    plans = plan_from_footer_always(monkeypatch)
    window = WindowKey(column="t", every="day", time_zone="America/St_Johns")
    local = pd.Series(times.tz_convert("America/St_Johns").strftime("%Y-%m-%d"))
    expected = {str(k): int(v) for k, v in sorted(local.value_counts().items())}
    assert len(expected) == 4 and 0 < expected["2010-11-06"] < 13
    assert _per_window(_counts(path, window)) == expected
    assert not plans or plans[-1] is None  # the footer is not used in such a zone
    # nor a year later, when its clocks went back at 02:00: the footer serves again
    later = pa.table({**table.to_pydict(), "t": pa.array(times + pd.Timedelta(days=366 * 2))})
    pq.write_table(later, path, row_group_size=13)
    _counts(path, window)
    assert plans and plans[-1] is not None


def test_local_dates_monotone() -> None:
    from datetime import UTC, datetime

    from ethicsgate.engines.duckdb.rowgroups import local_dates_monotone

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    assert local_dates_monotone("Europe/Berlin", at("2000-01-01"), at("2030-01-01"))
    assert local_dates_monotone("America/New_York", at("2026-01-01"), at("2026-12-31"))
    assert not local_dates_monotone("America/St_Johns", at("2010-01-01"), at("2010-12-31"))
    assert local_dates_monotone("America/St_Johns", at("2012-01-01"), at("2026-12-31"))
    assert not local_dates_monotone("UTC", at("1900-01-01"), at("9999-01-01"))  # not checked


def test_text_ending_in_a_zone_name_or_spaces_is_an_instant(tmp_path: Path) -> None:
    """'... UTC', '...+00 ' and '... America/New_York' are instants (DuckDB and PostgreSQL read
    them so): converted to the window's zone, not taken as its wall clock. All five are
    2026-04-01 01:30 in Berlin; the naive one is Berlin's wall clock already."""
    path = tmp_path / "d.parquet"
    texts = [
        "2026-03-31 23:30:00 UTC",
        "2026-03-31T23:30:00Z",
        "2026-03-31 23:30:00+00 ",
        "2026-03-31 19:30:00 America/New_York",
        "2026-03-31 23:30:00 Etc/GMT",
        "2026-04-01 01:30:00",
    ]
    pq.write_table(
        pa.table({"t": texts, "group": ["A"] * len(texts), "approved": [1] * len(texts)}), path
    )
    window = WindowKey(column="t", every="month", time_zone="Europe/Berlin")
    assert _per_window(_counts(path, window)) == {"2026-04-01": len(texts)}
    utc = _per_window(_counts(path, WindowKey(column="t", every="month")))
    assert utc == {"2026-03-01": len(texts) - 1, "2026-04-01": 1}
