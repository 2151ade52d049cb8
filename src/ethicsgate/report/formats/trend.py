"""``history trend --html``: a recorded metric per group across runs, as a chart and a table."""

from __future__ import annotations

from ethicsgate.history.models import TrendResult
from ethicsgate.report.formats.base import html_environment
from ethicsgate.report.views.base import fmt_ratio
from ethicsgate.report.views.windows import trend_chart
from ethicsgate.rules.results import Interval
from ethicsgate.vocabulary import group_label

__all__ = ["render_trend_html"]


def render_trend_html(trend: TrendResult, *, threshold: float | None = None) -> str:
    """Return a self-contained HTML page: the trend's chart (no script) and its table.

    The chart draws each group's ratio to the reference (its value where no ratio was
    recorded) by run, with the recorded interval as a band and ``threshold`` as a line.
    """
    use_ratio = any(p.ratio is not None for p in trend.points)
    runs = sorted({(p.finished_at, p.run_id) for p in trend.points})
    labels = [f"run {run_id}" for _, run_id in runs]
    index = {run_id: i for i, (_, run_id) in enumerate(runs)}
    series: dict[str, list[tuple[float | None, Interval | None, bool]]] = {}
    for p in trend.points:
        line = series.setdefault(group_label(p.group), [(None, None, False)] * len(runs))
        value = p.ratio if use_ratio else p.value
        low, high = (p.ratio_low, p.ratio_high) if use_ratio else (p.low, p.high)
        band = Interval(low=low, high=high) if low is not None and high is not None else None
        line[index[p.run_id]] = (value, band, p.status in ("fail", "warn"))
    quantity = f"{trend.metric} ratio" if use_ratio else trend.metric
    chart = trend_chart(
        title=f"{trend.rule_id}: {quantity} by recorded run",
        x_labels=labels,
        series=series,
        threshold=threshold,
        threshold_text=f"threshold {threshold:g} (dashed line)"
        if threshold is not None
        else "no threshold recorded",
    )
    header = ["Run", "Finished", "Rule status", "Group", "Value", "Ratio", "Ratio interval", "n"]
    rows = [
        [
            f"run {p.run_id}",
            p.finished_at,
            p.status,
            group_label(p.group),
            fmt_ratio(p.value),
            fmt_ratio(p.ratio),
            "—"
            if p.ratio_low is None or p.ratio_high is None
            else f"[{fmt_ratio(p.ratio_low)}, {fmt_ratio(p.ratio_high)}]",
            f"{p.n:,}",
        ]
        for p in trend.points
    ]
    template = html_environment().get_template("trend.html.j2")
    return str(
        template.render(
            title=f"{trend.rule_id}: {trend.metric} across recorded runs",
            subtitle=f"{len(runs)} run(s), {len(series)} group(s); a red square marks a run "
            "in which the rule failed or warned.",
            c=chart,
            caption=f"{trend.metric} per group and run, oldest first",
            header=header,
            rows=rows,
        )
    )
