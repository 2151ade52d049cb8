"""Windowed fairness audits: one grouped scan keyed by window, each window judged on its own."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from tests.unit.rules.windows_data import write_audit, year_of_decisions

from ethicsgate.audit.run import run_audit
from ethicsgate.audit.spec import load_audit_spec, parse_window_option, with_window
from ethicsgate.cli import cli
from ethicsgate.engines.duckdb.dataset import DuckDBDataset
from ethicsgate.errors import AuditSpecError, EvidenceError
from ethicsgate.rules.windows import window_label

NO_FAIRNESS = """\
schema_version: 1
id: credit-contract
version: "1"
title: Credit data
owner: risk-team
rules:
  - id: approved-known
    kind: data_quality
    dataset: decisions
    expectations:
      - {expect: not_null, column: approved}
"""


@pytest.fixture(scope="module")
def year() -> pd.DataFrame:
    return year_of_decisions()


def _oracle(frame: pd.DataFrame, key: pd.Series) -> dict[str, dict[str, float]]:
    """Selection-rate ratio of B to A per window key, by a plain pandas groupby of the rows."""
    rates = frame.groupby([key, frame["group"]])["approved"].mean().unstack()
    return {str(k): {"B": float(r["B"] / r["A"])} for k, r in rates.iterrows()}


def test_monthly_windows_find_the_seeded_month_and_match_pandas(
    tmp_path: Path, year: pd.DataFrame
) -> None:
    result = run_audit(write_audit(tmp_path, year))
    rule = result.rules[0]
    assert rule.status == "fail"
    assert [w.label for w in rule.windows] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert [w.label for w in rule.windows if w.status == "fail"] == ["2026-09"]
    assert rule.assertions[0].window == "2026-09"
    assert "2026-09" in rule.message
    month = year["decided_at"].dt.strftime("%Y-%m")
    expected = _oracle(year, month)
    for window in rule.windows:
        b = next(g for g in window.groups if g.group == {"group": "B"})
        assert b.ratios["selection_rate"] == pytest.approx(expected[window.label]["B"], rel=1e-12)
        assert window.rows == int((month == window.label).sum())
    # the whole period is the rule's groups: every row, once
    assert sum(g.count for g in rule.groups) == len(year) == sum(w.rows for w in rule.windows)


def test_windows_are_oldest_first_when_the_first_group_misses_a_month(
    tmp_path: Path, year: pd.DataFrame
) -> None:
    # the scan lists each group's windows in turn, so a month group A lacks is first seen
    # under B, after A's later months: the windows (and the pairs drift compares) must still
    # be in time order
    lacking = year[~((year["group"] == "A") & (year["decided_at"].dt.month == 2))]
    rule = run_audit(write_audit(tmp_path, lacking.reset_index(drop=True))).rules[0]
    assert [w.label for w in rule.windows] == [f"2026-{m:02d}" for m in range(1, 13)]
    february = rule.windows[1]
    assert february.status == "error" and [g.group for g in february.groups] == [{"group": "B"}]
    assert rule.assertions[0].window == "2026-09"


def test_a_window_equals_an_audit_filtered_to_it(tmp_path: Path, year: pd.DataFrame) -> None:
    windowed = run_audit(write_audit(tmp_path / "w", year)).rules[0]
    for label, start, end in (
        ("2026-02", "2026-02-01", "2026-03-01"),
        ("2026-09", "2026-09-01", "2026-10-01"),
    ):
        spec = write_audit(tmp_path / label, year, window=None)
        text = spec.read_text() + (
            f"    filter: \"decided_at >= TIMESTAMP '{start}' AND decided_at < TIMESTAMP '{end}'\"\n"
        )
        spec.write_text(text)
        alone = run_audit(spec).rules[0]
        window = next(w for w in windowed.windows if w.label == label)
        assert window.status == alone.status
        assert window.groups == alone.groups
        assert window.assertions[0].observed == alone.assertions[0].observed


def test_windows_come_from_one_grouped_scan(
    tmp_path: Path, year: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    real = DuckDBDataset.grouped_counts

    def counted(self: DuckDBDataset, **kwargs: object) -> object:
        calls.append(kwargs.get("window"))
        return real(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DuckDBDataset, "grouped_counts", counted)
    run_audit(write_audit(tmp_path, year, window="{column: decided_at, every: week}"))
    assert len(calls) == 1 and calls[0] is not None


@pytest.mark.parametrize("every", ["day", "week", "quarter"])
def test_calendar_windows_match_pandas_periods(tmp_path: Path, every: str) -> None:
    frame = year_of_decisions(per_day=40, seed=3)
    rule = run_audit(
        write_audit(tmp_path, frame, window=f"{{column: decided_at, every: {every}}}")
    ).rules[0]
    freq = {"day": "D", "week": "W-SUN", "quarter": "Q"}[every]
    starts = frame["decided_at"].dt.to_period(freq).dt.start_time.dt.date
    labels = starts.map(lambda d: window_label(d, every))  # type: ignore[arg-type]
    expected = labels.value_counts().sort_index()
    assert [(w.label, w.rows) for w in rule.windows] == list(expected.items())
    if every == "week":
        assert rule.windows[0].label == "2026-W01" and rule.windows[0].start == "2025-12-29"
    if every == "quarter":
        assert [w.end for w in rule.windows][:2] == ["2026-03-31", "2026-06-30"]


def test_rolling_windows_sum_the_days(tmp_path: Path) -> None:
    frame = year_of_decisions(per_day=40, seed=5)
    rule = run_audit(
        write_audit(tmp_path, frame, window="{column: decided_at, last: 90d, every: quarter}")
    ).rules[0]
    day = frame["decided_at"].dt.date
    for window in rule.windows:
        inside = (day >= pd.Timestamp(window.start).date()) & (
            day <= pd.Timestamp(window.end).date()
        )
        assert window.rows == int(inside.sum())
        assert window.label == f"90d to {window.end}"
    assert [w.end for w in rule.windows] == ["2026-03-31", "2026-06-30", "2026-09-30", "2026-12-31"]
    last = run_audit(
        write_audit(tmp_path / "last", frame, window="{column: decided_at, last: 30d}")
    ).rules[0]
    assert [(w.start, w.end) for w in last.windows] == [("2026-12-02", "2026-12-31")]
    assert last.window is not None and last.window.rows_outside == len(frame) - 30 * 40


def test_rows_without_a_time_are_counted_outside_every_window(tmp_path: Path) -> None:
    frame = year_of_decisions(per_day=20, seed=1)
    frame["decided_at"] = frame["decided_at"].astype("string")
    frame.loc[:9, "decided_at"] = None  # text times cast in SQL; missing ones are in no window
    rule = run_audit(write_audit(tmp_path, frame)).rules[0]
    assert rule.window is not None and rule.window.rows_without_time == 10
    assert sum(w.rows for w in rule.windows) == len(frame) - 10


@pytest.mark.parametrize(
    "window",
    ["{column: decided_at, every: day}", "{column: decided_at, every: week}", "{column: decided_at, every: month}", "{column: decided_at, last: 30d}"],
)  # fmt: skip
def test_infinite_times_are_in_no_window(tmp_path: Path, window: str) -> None:
    frame = year_of_decisions(per_day=4, seed=2)
    frame["decided_at"] = frame["decided_at"].astype("string")
    frame.loc[:4, "decided_at"] = "infinity"  # DuckDB reads it as a time, with no day
    frame.loc[5:9, "decided_at"] = "-infinity"
    rule = run_audit(write_audit(tmp_path, frame, window=window)).rules[0]
    assert rule.window is not None and rule.window.rows_without_time == 10
    assert all(w.label[0].isdigit() for w in rule.windows)


def test_a_missing_window_column_is_located(tmp_path: Path) -> None:
    spec = write_audit(
        tmp_path, year_of_decisions(per_day=5), window="{column: decided_on, every: month}"
    )
    with pytest.raises(EvidenceError, match="window column") as info:
        run_audit(spec)
    assert info.value.location is not None and info.value.location.line == 8
    spec = write_audit(
        tmp_path, year_of_decisions(per_day=5), window="{column: approved, every: month}"
    )
    with pytest.raises(EvidenceError, match="not a date or a timestamp"):
        run_audit(spec)


def test_a_window_column_named_like_a_keyword_or_with_a_space_is_read_by_name(
    tmp_path: Path,
) -> None:
    # found by QA: the hint listed "order" as available and the scan failed to parse it
    frame = year_of_decisions(per_day=5).rename(columns={"decided_at": "order"})
    spec = write_audit(tmp_path / "keyword", frame, window="{column: order, every: quarter}")
    assert [w.label for w in run_audit(spec).rules[0].windows] == [
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
        "2026-Q4",
    ]
    frame = frame.rename(columns={"order": "Decided At"})
    spec = write_audit(tmp_path / "space", frame, window='{column: "Decided At", every: quarter}')
    assert len(run_audit(spec).rules[0].windows) == 4


def test_a_window_over_a_policy_without_fairness_rules_is_refused(tmp_path: Path) -> None:
    # found by QA: --window was ignored and the plain report written, with no word of it
    spec = write_audit(tmp_path, year_of_decisions(per_day=2), window=None)
    (tmp_path / "policy.yaml").write_text(NO_FAIRNESS)
    loaded = load_audit_spec(spec)
    with pytest.raises(AuditSpecError, match="has no fairness rule") as info:
        with_window(loaded, parse_window_option("month"))
    assert "drop the window" in (info.value.hint or "")


def test_window_option(tmp_path: Path) -> None:
    assert parse_window_option("month:decided_at").every == "month"
    assert parse_window_option("90d").last_days == 90
    with pytest.raises(AuditSpecError, match="not a window"):
        parse_window_option("fortnight")
    spec = write_audit(tmp_path, year_of_decisions(per_day=5), window=None)
    loaded = with_window(load_audit_spec(spec), parse_window_option("quarter:decided_at"))
    window = loaded.spec.evidence["decisions"].window
    assert window is not None and window.every == "quarter" and window.column == "decided_at"


def test_cli_window(tmp_path: Path, year: pd.DataFrame) -> None:
    spec = write_audit(tmp_path, year, window=None)
    runner = CliRunner()
    result = runner.invoke(
        cli, ["audit", str(spec), "--window", "month:decided_at", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 1, result.output
    assert "fails in 1 of 12 window(s) (2026-09)" in result.output
    html = (tmp_path / "r" / "report.html").read_text()
    assert "By time window" in html and "2026-09" in html
    md = (tmp_path / "r" / "report.md").read_text()
    assert "| 2026-09 | 2026-09-01 to 2026-09-30 | fail |" in md
    bad = runner.invoke(cli, ["audit", str(spec), "--window", "sometimes"])
    assert bad.exit_code == 2 and "not a window" in bad.output and "Traceback" not in bad.output
    # found by QA: a misspelt unit said only "not a window"
    typo = runner.invoke(cli, ["audit", str(spec), "--window", "montth:decided_at"])
    assert typo.exit_code == 2 and "Traceback" not in typo.output
    assert "--window 'montth:decided_at': not a window (did you mean 'month'?)" in typo.output


@pytest.mark.parametrize(
    ("given", "spec_window", "where"),
    [
        # a column the option names, or no column and no timestamp role: the option's fault
        ("month:nosuchcol", None, "--window 'month:nosuchcol'"),
        ("month", None, "--window 'month'"),
        ("week:nosuchcol", "{column: decided_at, every: month}", "--window 'week:nosuchcol'"),
        # the option names no column: the spec's column is read, and blamed
        ("week", "{column: nosuchcol, every: month}", "audit.yaml:8:22"),
    ],
)
def test_a_bad_window_column_names_the_option_or_the_spec_it_came_from(
    tmp_path: Path, given: str, spec_window: str | None, where: str
) -> None:
    # found by QA: `--window month:nosuchcol` was blamed on the spec's evidence entry
    # (audit.yaml:6:5) with the fix "set window.column", a key the spec did not have
    spec = write_audit(tmp_path, year_of_decisions(per_day=2), window=spec_window)
    result = CliRunner().invoke(
        cli, ["audit", str(spec), "--window", given, "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not (tmp_path / "r").exists()
    first = result.output.splitlines()[0]
    assert first.startswith(f"error: {where}" if where.startswith("--") else "error: "), first
    assert where in first and "the window column" in first
    hint = result.output.splitlines()[1]
    if where.startswith("--window"):
        assert "e.g. --window month:decided_at" in hint and "window.column" not in hint
    else:
        assert "set window.column" in hint
    assert "decided_at" in hint  # the columns there are


def test_a_text_window_column_with_a_value_that_is_no_time_names_it(tmp_path: Path) -> None:
    # found by QA: `--window month:group` (text) failed the scan's cast and was reported as
    # "cannot read ... as csv: Conversion Error ... LINE 1: ...(CAST(timezone('UTC', ..." with
    # the hint "check the file's format", the query's SQL in the message
    frame = year_of_decisions(per_day=2)
    frame["decided_at"] = frame["decided_at"].dt.strftime("%Y-%m-%d")
    frame.loc[17, "decided_at"] = "yesterday"
    spec = write_audit(tmp_path, frame)
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    first, hint = result.output.splitlines()[:2]
    assert first.startswith(f"error: {spec}:"), first
    assert "the window column \"decided_at\" is text that is not a date or time: 'yesterday' " in (
        first
    )
    assert "(and 0 more such value(s))" in first and "LINE 1" not in result.output
    assert "set window.column" in hint and "ISO 8601" in hint
    assert "Traceback" not in result.output and not (tmp_path / "r").exists()
    option = CliRunner().invoke(
        cli, ["audit", str(spec), "--window", "week:group", "--out", str(tmp_path / "r")]
    )
    assert option.exit_code == 2 and option.output.startswith("error: --window 'week:group': ")


def test_time_zones_and_dates_fall_in_their_utc_window(tmp_path: Path) -> None:
    times = ["2026-03-31T23:30:00-02:00", "2026-03-31T23:30:00+00:00", "2026-01-01 00:00:00"]
    rows = pd.DataFrame(
        {
            "decided_at": [t for t in times for _ in range(40)],
            "group": ["A", "B"] * 60,
            "approved": [1, 0, 0, 1] * 30,
        }
    )
    rule = run_audit(write_audit(tmp_path / "tz", rows)).rules[0]
    assert [(w.label, w.rows) for w in rule.windows] == [
        ("2026-01", 40),
        ("2026-03", 40),
        ("2026-04", 40),
    ]
    dated = rows.assign(
        decided_at=pd.to_datetime(rows["decided_at"], utc=True, format="mixed").dt.date
    )
    rule = run_audit(
        write_audit(tmp_path / "date", dated, window="{column: decided_at, every: quarter}")
    ).rules[0]
    assert [(w.label, w.rows) for w in rule.windows] == [("2026-Q1", 80), ("2026-Q2", 40)]


def _berlin_month_end() -> pd.DataFrame:
    # 2026-03-31 22:30 UTC is 2026-04-01 00:30 in Berlin: March in UTC, April in Berlin
    times = ["2026-03-31T22:30:00+00:00", "2026-03-31T21:30:00+00:00", "2026-04-01T10:00:00+00:00"]
    return pd.DataFrame(
        {
            "decided_at": pd.to_datetime([t for t in times for _ in range(40)], utc=True),
            "group": ["A", "B"] * 60,
            "approved": [1, 0, 0, 1] * 30,
        }
    )


def test_a_window_time_zone_cuts_the_months_of_its_calendar(tmp_path: Path) -> None:
    rows = _berlin_month_end()
    utc = run_audit(write_audit(tmp_path / "utc", rows)).rules[0]
    assert [(w.label, w.rows) for w in utc.windows] == [("2026-03", 80), ("2026-04", 40)]
    assert utc.window is not None and utc.window.time_zone is None
    assert "time_zone" not in utc.window.model_dump(mode="json")  # UTC reports as they were
    spec = write_audit(
        tmp_path / "berlin",
        rows,
        window="{column: decided_at, every: month, time_zone: Europe/Berlin}",
    )
    berlin = run_audit(spec).rules[0]
    assert [(w.label, w.rows) for w in berlin.windows] == [("2026-03", 40), ("2026-04", 80)]
    assert berlin.window is not None and berlin.window.time_zone == "Europe/Berlin"
    # naive times are the zone's wall clock already: not converted
    naive = rows.assign(decided_at=rows["decided_at"].dt.tz_localize(None))
    spec = write_audit(
        tmp_path / "naive",
        naive,
        window="{column: decided_at, every: month, time_zone: Europe/Berlin}",
    )
    assert [(w.label, w.rows) for w in run_audit(spec).rules[0].windows] == [
        ("2026-03", 80),
        ("2026-04", 40),
    ]


def test_cli_window_time_zone_is_reported_and_signed(tmp_path: Path) -> None:
    import json

    from ethicsgate.attest.keys import generate_keypair

    spec = write_audit(tmp_path, _berlin_month_end(), window=None)
    pair = generate_keypair(tmp_path / "keys")
    runner = CliRunner()
    out = tmp_path / "r"
    args = ["--window", "month:decided_at@Europe/Berlin", "--key", str(pair.private_path)]
    result = runner.invoke(cli, ["audit", str(spec), *args, "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    verify = ["verify", str(out), "--key", str(pair.public_path)]
    assert runner.invoke(cli, verify).exit_code == 0
    report = json.loads((out / "report.json").read_text())
    window = report["rules"][0]["window"]
    assert window["time_zone"] == "Europe/Berlin" and window["every"] == "month"
    assert [w["label"] for w in report["rules"][0]["windows"]] == ["2026-03", "2026-04"]
    assert "in time zone Europe/Berlin" in (out / "report.html").read_text()
    assert "in time zone Europe/Berlin" in (out / "report.md").read_text()
    # the signature binds the zone: another zone in report.json no longer verifies
    text = (out / "report.json").read_text()
    (out / "report.json").write_text(text.replace('"Europe/Berlin"', '"Europe/Paris"'))
    tampered = runner.invoke(cli, verify)
    assert tampered.exit_code != 0, tampered.output
    plain = runner.invoke(
        cli, ["audit", str(spec), "--window", "month:decided_at", "--out", str(tmp_path / "p")]
    )
    assert plain.exit_code in (0, 1), plain.output
    assert '"time_zone"' not in (tmp_path / "p" / "report.json").read_text()


@pytest.mark.parametrize(
    ("given", "meant"),
    [("month:decided_at@Europe/Berln", "Europe/Berlin"), ("month@berlin", "Europe/Berlin")],
)
def test_a_bad_window_time_zone_is_refused_with_the_closest(
    tmp_path: Path, given: str, meant: str
) -> None:
    spec = write_audit(tmp_path, _berlin_month_end(), window=None)
    result = CliRunner().invoke(
        cli, ["audit", str(spec), "--window", given, "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: --window {given!r}: "), result.output
    assert f"did you mean {meant!r}?" in result.output and "Traceback" not in result.output
    assert "e.g. --window month:decided_at@Europe/Berlin" in result.output
    assert not (tmp_path / "r").exists()


def test_a_bad_window_time_zone_in_the_spec_is_located(tmp_path: Path) -> None:
    spec = write_audit(
        tmp_path,
        _berlin_month_end(),
        window="{column: decided_at, every: month, time_zone: Europe/Berln}",
    )
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {spec}:8:"), result.output
    assert "did you mean 'Europe/Berlin'?" in result.output and "Traceback" not in result.output


def test_window_option_time_zone(tmp_path: Path) -> None:
    parsed = parse_window_option("month:decided_at@Europe/Berlin")
    assert (parsed.every, parsed.column, parsed.time_zone) == (
        "month",
        "decided_at",
        "Europe/Berlin",
    )
    assert parse_window_option("90d@America/New_York").time_zone == "America/New_York"
    assert parse_window_option("week").time_zone is None
    # the spec's zone is kept when the option names none, as its column is
    spec = write_audit(
        tmp_path, _berlin_month_end(), window="{column: decided_at, every: month, time_zone: UTC}"
    )
    loaded = with_window(load_audit_spec(spec), parse_window_option("week"))
    window = loaded.spec.evidence["decisions"].window
    assert window is not None and window.time_zone == "UTC" and window.every == "week"


def test_python_api_window_time_zone(tmp_path: Path) -> None:
    import ethicsgate

    spec = write_audit(tmp_path, _berlin_month_end(), window=None)
    for window in (
        "month:decided_at@Europe/Berlin",
        {"every": "month", "column": "decided_at", "time_zone": "Europe/Berlin"},
    ):
        report = ethicsgate.audit(spec, window=window)
        rule = report.result.rules[0]
        assert [(w.label, w.rows) for w in rule.windows] == [("2026-03", 40), ("2026-04", 80)]
    with pytest.raises(AuditSpecError, match="did you mean 'Europe/Berlin'"):
        ethicsgate.audit(spec, window={"every": "month", "time_zone": "Europe/Berln"})


def test_an_at_sign_in_a_column_is_the_columns_unless_a_zone_follows_it() -> None:
    """``month:user@example`` named a column before time zones came; it still does, while a
    zone (or a misspelt one) after ``@`` is read as the window's zone."""
    from ethicsgate.audit.spec import parse_window_option
    from ethicsgate.errors import AuditSpecError

    assert parse_window_option("month:user@example").column == "user@example"
    assert parse_window_option("month:user@example").time_zone is None
    zoned = parse_window_option("month:decided_at@Europe/Berlin")
    assert (zoned.column, zoned.time_zone) == ("decided_at", "Europe/Berlin")
    with pytest.raises(AuditSpecError, match="did you mean 'Europe/Berlin'"):
        parse_window_option("month:decided_at@Europe/Berln")
    with pytest.raises(AuditSpecError, match="not an IANA time zone"):
        parse_window_option("month@example")  # no column: only a zone can follow
