"""Windowed rules in the HTML report: the trend chart's geometry agrees with its table."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.unit.rules.windows_data import POLICY, write_audit, year_of_decisions

from ethicsgate.audit import run_audit
from ethicsgate.report import report_files
from ethicsgate.report.views.windows import trend_chart
from ethicsgate.rules.results import Interval


def test_chart_and_table_show_every_window(tmp_path: Path) -> None:
    policy = POLICY.replace(
        "    assertions:", "    uncertainty: {bootstrap_samples: 50}\n    assertions:"
    )
    result = run_audit(write_audit(tmp_path, year_of_decisions(per_day=40, seed=2), policy=policy))
    rule = result.rules[0]
    page = report_files(result)["report.html"].decode("utf-8")
    # the chart and its table are well-formed XML: read them with ElementTree
    chart = page[page.index("chart trend") :]
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", chart, re.S)[0])  # type: ignore[index]
    assert svg.get("role") == "img" and "2026-09" in (svg.get("aria-label") or "")

    def by_class(tag: str, name: str) -> list[ET.Element]:
        return [e for e in svg.iter(tag) if e.get("class") == name]

    lines = by_class("polyline", "trend-line")
    assert len(lines) == 2  # A and B
    points = [p.split(",") for p in (lines[1].get("points") or "").split()]
    assert len(points) == 12
    threshold = by_class("line", "threshold")[0]
    # the failing window's marker sits under the threshold (larger y), the others above it
    ys = [float(y) for _, y in points]
    september = [w.label for w in rule.windows].index("2026-09")
    others = max(y for i, y in enumerate(ys) if i != september)
    assert ys[september] > float(threshold.get("y1") or 0) > others
    assert len(by_class("rect", "fail-marker")) == 1
    assert by_class("polygon", "band")  # B's ratio intervals
    after = chart[chart.index("</figure>") :]
    table = ET.fromstring(re.search(r"<table.*?</table>", after, re.S)[0])  # type: ignore[index]
    rows = list(table.iter("tr"))[1:]
    assert ["".join(r.find("th").itertext()) for r in rows] == [w.label for w in rule.windows]  # type: ignore[union-attr]
    b = next(g for g in rule.windows[september].groups if g.group == {"group": "B"})
    cell = "".join(rows[september].findall("td")[-1].itertext())
    assert cell.startswith(f"{b.ratios['selection_rate']:.3f} [")
    assert re.search(r"\[\d\.\d{3}, \d\.\d{3}\]", cell)


def test_trend_chart_scales_values_and_threshold() -> None:
    chart = trend_chart(
        title="t",
        x_labels=["a", "b", "c"],
        series={
            "g": [(0.5, Interval(low=0.4, high=0.6), False), (None, None, False), (1.0, None, True)]
        },
        threshold=0.8,
        threshold_text="threshold 0.8",
    )
    assert chart is not None
    line = chart.lines[0]
    assert len(line.markers) == 2 and line.markers[1][2] is True
    top, bottom = chart.top, chart.top + chart.plot_h
    y_half, y_one = line.markers[0][1], line.markers[1][1]
    # linear: 0 at the bottom, values above in proportion
    assert abs((bottom - y_half) / (bottom - y_one) - 0.5) < 1e-3
    assert top <= y_one < chart.threshold_y < y_half < bottom
    assert "b undefined" in chart.description
    assert (
        trend_chart(title="t", x_labels=["a"], series={}, threshold=None, threshold_text="") is None
    )


def test_a_window_marks_a_group_of_an_unknown_value_as_unknown_not_too_small(
    tmp_path: Path,
) -> None:
    # found by review: every group left out read "(too small)", an unknown one of 40 people too
    frame = year_of_decisions(per_day=40, seed=2)
    frame.loc[frame.index % 7 == 0, "group"] = "U"
    policy = POLICY.replace(
        "    metrics: [selection_rate]", "    metrics: [selection_rate]\n    unknown_values: [U]"
    )
    result = run_audit(write_audit(tmp_path, frame, policy=policy))
    rule = result.rules[0]
    assert all(g.excluded for w in rule.windows for g in w.groups if g.group["group"] == "U")
    markdown = report_files(result)["report.md"].decode("utf-8")
    assert "(unknown)" in markdown and "(too small)" not in markdown
