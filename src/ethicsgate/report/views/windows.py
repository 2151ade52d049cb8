"""The report view of a windowed fairness rule: per-window tables and trend charts.

One :class:`WindowSeries` per asserted quantity (and the drift metric): its value per group
and window, with the interval where the rule computes one, the threshold, and the geometry of
an inline SVG line chart (no script; the table is its text alternative). The same geometry
draws ``history trend`` (recorded runs instead of windows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ethicsgate.report.views.base import AGGREGATE_WORDS, fmt_ratio, metric_title, unknown_group
from ethicsgate.rules.results import (
    AssertionResult,
    GroupResult,
    Interval,
    RuleResult,
    WindowResult,
)
from ethicsgate.vocabulary import group_label

__all__ = [
    "TrendChart",
    "WindowSeries",
    "WindowsView",
    "trend_chart",
    "windows_view",
]

#: Groups drawn in one chart (the table lists up to GROUP_LIMIT); the rest are named below it.
CHART_GROUPS = 8
#: Line styles, one per group: colour and dash pattern (never colour alone).
_STYLES = [
    ("#0550ae", ""),
    ("#a40e26", "6 3"),
    ("#116329", "2 3"),
    ("#7d4e00", "8 3 2 3"),
    ("#6639ba", "1 2"),
    ("#1b1f24", "10 4"),
    ("#bc4c00", "4 2 1 2"),
    ("#0a3069", "12 3 3 3"),
]
#: Chart geometry in SVG units.
_LEFT, _TOP, _PLOT_W, _PLOT_H, _BOTTOM = 56, 16, 620, 220, 56


@dataclass
class TrendLine:
    """One group's line: points, confidence band, and how it is drawn."""

    label: str
    color: str
    dash: str
    points: str  # SVG polyline points over the defined values
    band: str  # SVG polygon points of the interval (empty: no interval)
    markers: list[tuple[float, float, bool]]  # x, y, failing


@dataclass
class TrendChart:
    """An inline SVG line chart of one quantity per group over windows (or runs)."""

    title: str
    description: str
    width: int
    height: int
    lines: list[TrendLine]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    threshold_y: float | None
    threshold_text: str
    left: int = _LEFT
    top: int = _TOP
    plot_w: int = _PLOT_W
    plot_h: int = _PLOT_H
    omitted: str | None = None


@dataclass
class WindowSeries:
    """One quantity per group and window: the table rows and the chart."""

    title: str
    groups: list[str]
    rows: list[tuple[str, str, str, list[str]]]  # window, dates, result word, cell per group
    chart: TrendChart | None


@dataclass
class WindowsView:
    """A windowed rule's split, its series and its drift findings in words."""

    summary: str
    series: list[WindowSeries]
    drift: list[str] = field(default_factory=list)


def _quantity(
    group: GroupResult, metric: str, aggregate: str
) -> tuple[float | None, Interval | None]:
    if aggregate == "ratio":
        return group.ratios.get(metric), group.ratio_intervals.get(metric)
    if aggregate == "difference":
        return group.differences.get(metric), group.difference_intervals.get(metric)
    value = group.metrics.get(metric)
    return (None if value is None else float(value)), group.intervals.get(metric)


def _values(
    window: WindowResult, metric: str, aggregate: str
) -> dict[str, tuple[float | None, Interval | None, bool]]:
    """Return label -> (value, interval, excluded) of every group in one window."""
    out: dict[str, tuple[float | None, Interval | None, bool]] = {}
    if metric == "impact_ratio":
        if window.impact_ratio is not None:
            for table in window.impact_ratio.tables:
                for row in table.rows:
                    label = group_label(row.category)
                    out[label] = (row.impact_ratio, row.impact_ratio_interval, row.excluded)
        return out
    for group in window.groups:
        value, interval = _quantity(group, metric, aggregate)
        out[group_label(group.group)] = (value, interval, group.excluded)
    return out


def _unknown_labels(rule: RuleResult) -> set[str]:
    """Return the labels of a windowed rule's groups left out for an unknown value."""
    return {
        group_label(g.group) for w in rule.windows for g in w.groups if unknown_group(rule, g.group)
    }


def _failing(window: WindowResult, metric: str, aggregate: str) -> set[str]:
    found: set[str] = set()
    for a in window.assertions:
        if a.metric == metric and a.aggregate == aggregate and a.status == "fail":
            found.update(group_label(g) for g in a.failing_groups)
    return found


def _ticks(low: float, high: float) -> list[float]:
    span = high - low
    step = 10 ** math.floor(math.log10(span / 4)) if span > 0 else 0.1
    for factor in (1, 2, 2.5, 5, 10):
        if span / (step * factor) <= 6:
            step *= factor
            break
    first = math.ceil(low / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


def trend_chart(
    *,
    title: str,
    x_labels: Sequence[str],
    series: dict[str, list[tuple[float | None, Interval | None, bool]]],
    threshold: float | None,
    threshold_text: str,
    fmt: str = "{:.3f}",
) -> TrendChart | None:
    """Return the geometry of a line chart: one line per group over ``x_labels``.

    ``series`` maps a group's label to its (value, interval, failing) per x position; the
    first :data:`CHART_GROUPS` groups are drawn. None: fewer than two positions.
    """
    if len(x_labels) < 2 or not series:
        return None
    names = list(series)[:CHART_GROUPS]
    numbers = [
        x
        for name in names
        for value, interval, _ in series[name]
        for x in (value, *((interval.low, interval.high) if interval else ()))
        if x is not None and math.isfinite(x)
    ]
    if threshold is not None:
        numbers.append(threshold)
    if not numbers:
        return None
    low, high = min(0.0, min(numbers)), max(numbers)
    if high <= low:
        high = low + 1.0
    high += (high - low) * 0.05
    n = len(x_labels)

    def x_at(i: int) -> float:
        return round(_LEFT + (i + 0.5) * _PLOT_W / n, 2)

    def y_at(v: float) -> float:
        return round(float(_TOP + (high - v) / (high - low) * _PLOT_H), 2)

    lines: list[TrendLine] = []
    for k, name in enumerate(names):
        color, dash = _STYLES[k % len(_STYLES)]
        points = [
            (x_at(i), y_at(v), failing)
            for i, (v, _, failing) in enumerate(series[name])
            if v is not None and math.isfinite(v)
        ]
        upper = [
            (x_at(i), y_at(iv.high)) for i, (_, iv, _) in enumerate(series[name]) if iv is not None
        ]
        lower = [
            (x_at(i), y_at(iv.low)) for i, (_, iv, _) in enumerate(series[name]) if iv is not None
        ]
        band = " ".join(f"{x},{y}" for x, y in [*upper, *reversed(lower)]) if upper else ""
        lines.append(
            TrendLine(
                label=name,
                color=color,
                dash=dash,
                points=" ".join(f"{x},{y}" for x, y, _ in points),
                band=band,
                markers=points,
            )
        )
    step = max(1, math.ceil(n / 12))
    x_ticks = [(x_at(i), x_labels[i]) for i in range(0, n, step)]
    y_ticks = [(y_at(t), fmt.format(t)) for t in _ticks(low, high)]
    described = "; ".join(
        f"{name}: "
        + ", ".join(
            f"{x_labels[i]} {'undefined' if v is None else fmt.format(v)}"
            for i, (v, _, _) in enumerate(series[name])
        )
        for name in names
    )
    omitted = None
    if len(series) > len(names):
        omitted = f"{len(series) - len(names)} more group(s) are in the table, not drawn."
    return TrendChart(
        title=title,
        description=f"{title}. {threshold_text}. {described}",
        width=_LEFT + _PLOT_W + 16,
        height=_TOP + _PLOT_H + _BOTTOM,
        lines=lines,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        threshold_y=y_at(threshold) if threshold is not None else None,
        threshold_text=threshold_text,
        omitted=omitted,
    )


def _series(
    rule: RuleResult, metric: str, aggregate: str, assertion: AssertionResult | None
) -> WindowSeries:
    per_window = [_values(w, metric, aggregate) for w in rule.windows]
    failing = [_failing(w, metric, aggregate) for w in rule.windows]
    labels: list[str] = []
    for values in per_window:
        labels += [label for label in values if label not in labels]
    what = (
        metric_title(metric)
        if metric == "impact_ratio"
        else f"{metric_title(metric)}, {AGGREGATE_WORDS[aggregate]}"
    )
    unknown = _unknown_labels(rule)
    rows = []
    for window, values in zip(rule.windows, per_window, strict=True):
        cells = []
        for label in labels:
            value, interval, excluded = values.get(label, (None, None, False))
            text = (
                "—"
                if label not in values
                else fmt_ratio(value)
                if value is not None
                else "undefined"
            )
            if interval is not None:
                text += f" [{fmt_ratio(interval.low)}, {fmt_ratio(interval.high)}]"
            if excluded:
                text += " (unknown)" if label in unknown else " (too small)"
            cells.append(text)
        dates = window.start if window.start == window.end else f"{window.start} to {window.end}"
        rows.append((window.label, dates, window.status.value, cells))
    threshold = assertion.threshold if assertion is not None else None
    threshold_text = (
        f"threshold {threshold:g} (dashed line)" if threshold is not None else "no threshold"
    )
    series = {
        label: [
            (*values.get(label, (None, None, False))[:2], label in failing[i])
            for i, values in enumerate(per_window)
        ]
        for label in labels
    }
    chart = trend_chart(
        title=f"{what} by window",
        x_labels=[w.label for w in rule.windows],
        series=series,
        threshold=threshold,
        threshold_text=threshold_text,
    )
    return WindowSeries(title=what, groups=labels, rows=rows, chart=chart)


def windows_view(rule: RuleResult) -> WindowsView | None:
    """Return a windowed rule's per-window tables, charts and drift (None: not windowed)."""
    if rule.window is None or not rule.windows:
        return None
    info = rule.window
    if info.every and info.last_days:
        how = f"rolling {info.last_days}-day windows, one ending with each {info.every}"
    elif info.last_days:
        how = f"the last {info.last_days} days"
    else:
        how = f"each {info.every}"
    failing = [w.label for w in rule.windows if w.status.value in ("fail", "warn")]
    summary = (
        f"Judged per window: {how} by {info.column}"
        + (f" in time zone {info.time_zone}" if info.time_zone else "")
        + f"; {len(rule.windows)} window(s)"
        + (f", failing in {', '.join(failing)}" if failing else ", none failing")
        + "."
    )
    if info.rows_without_time:
        summary += f" {info.rows_without_time:,} row(s) without a time are in no window."
    if info.rows_outside:
        summary += f" {info.rows_outside:,} older row(s) are in no window."
    series: list[WindowSeries] = []
    seen: set[tuple[str, str]] = set()
    for a in rule.assertions:
        key = (a.metric, a.aggregate)
        if key not in seen:
            seen.add(key)
            series.append(_series(rule, a.metric, a.aggregate, a))
    tables = any(w.impact_ratio is not None for w in rule.windows)
    for finding in rule.drift:
        # the drift's impact ratio without LL144 tables is the selection rate's ratio
        key = (finding.metric, "ratio")
        if finding.metric == "impact_ratio" and not tables:
            key = ("selection_rate", "ratio")
        if key not in seen:
            seen.add(key)
            series.append(_series(rule, key[0], key[1], None))
    drift = [f.message for f in rule.drift]
    return WindowsView(summary=summary, series=series, drift=drift)
