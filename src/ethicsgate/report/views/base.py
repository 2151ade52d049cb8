"""The report's view types and number formats: what the templates lay out, in plain words.

Every ``*View`` is a dataclass the templates read; the builders (``views/fairness.py``,
``views/records.py``, ``views/__init__.py``) fill them in. Nothing here builds a view, so
the builders import this module and never each other's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ethicsgate.audit.result import AuditResult
from ethicsgate.metrics import METRICS
from ethicsgate.rules.results import ComparisonTest, GroupKey, Interval, RuleResult, as_columns
from ethicsgate.vocabulary import TEST_WORDS, p_value_words

__all__ = [
    "AGGREGATE_WORDS",
    "GROUP_LIMIT",
    "AssertionView",
    "Bar",
    "Chart",
    "FairnessDepthView",
    "FindingRow",
    "FindingsView",
    "LL144TableView",
    "LL144View",
    "ReportView",
    "RuleView",
    "ScoresView",
    "UncertaintyView",
    "fmt_interval",
    "fmt_metric",
    "fmt_number",
    "fmt_p",
    "fmt_rate",
    "fmt_ratio",
    "fmt_test",
    "ll144_only",
    "metric_title",
    "not_compared_mark",
    "unknown_group",
]

#: How an assertion's aggregate reads after its metric's title.
AGGREGATE_WORDS = {
    "ratio": "ratio to the reference group",
    "difference": "difference from the reference group",
    "value": "value",
}
#: A rule with more groups (or an LL144 table with more rows) than this shows in HTML and
#: Markdown only this many: the failing ones first, then those closest to failing, with a line
#: that counts the rest. ``report.json``, ``groups.parquet`` and ``groups.csv`` hold them all.
GROUP_LIMIT = 50
#: Where every group is, said under a shortened table or chart.
EVERY_GROUP_IS = "every group is in report.json, groups.parquet and groups.csv"


def ll144_only(rule: RuleResult) -> bool:
    """Return whether a rule compares only in its LL144 tables (its groups have only counts).

    Its groups are compared in nothing, so none is "too small to compare": the tables exclude
    their own categories (``exclude_below_share``).
    """
    return rule.impact_ratio is not None and set(as_columns(rule.groups).metrics) <= {"count"}


def metric_title(metric: str) -> str:
    """Return a metric's title, including the LL144 impact ratio."""
    if metric == "impact_ratio":
        return "Impact ratio (LL144 / EEOC)"
    return METRICS[metric].title


def fmt_metric(metric: str, value: float | None) -> str:
    """Format a metric value: rates as percentages, counts as integers."""
    if value is None:
        return "undefined"
    if metric == "count":
        return f"{value:,.0f}"
    return f"{value * 100:.2f} %"


def fmt_number(value: float | None) -> str:
    """Format a ratio, difference or threshold with up to four significant digits."""
    return "undefined" if value is None else f"{value:.4g}"


def fmt_rate(value: float | None) -> str:
    """Format a selection or scoring rate as published summaries do: ``54.3%``."""
    return "—" if value is None else f"{value * 100:.1f}%"


def fmt_ratio(value: float | None) -> str:
    """Format an impact ratio with three decimals: ``0.823``."""
    return "—" if value is None else f"{value:.3f}"


def fmt_p(value: float | None) -> str:
    """Format a p-value: four significant digits, or ``< 0.0001``."""
    if value is None:
        return "—"
    return p_value_words(value).removeprefix("p ").removeprefix("= ")


def fmt_interval(interval: Interval | None, fmt: Callable[[float], str]) -> str:
    """Format an interval as ``[low, high]`` with the given number format."""
    return "—" if interval is None else f"[{fmt(interval.low)}, {fmt(interval.high)}]"


def fmt_test(test: ComparisonTest | None) -> str:
    """Format a test as ``p = 0.012 (z-test)``."""
    if test is None:
        return "—"
    return f"{p_value_words(test.p_value)} ({TEST_WORDS[test.method]})"


@dataclass
class Bar:
    """One bar of a chart: a group's observed value and how it compares."""

    label: str
    value: float | None
    text: str
    width: float  # percent of the plot width
    failing: bool
    excluded: bool
    note: str


@dataclass
class Chart:
    """A horizontal bar chart of one asserted quantity across groups, with its threshold."""

    title: str
    bars: list[Bar]
    threshold: float
    threshold_pos: float  # percent of the plot width
    threshold_text: str
    axis_max_text: str


@dataclass
class AssertionView:
    """An assertion in words."""

    status: str
    status_word: str
    icon: str
    what: str
    requirement: str
    observed: str
    group: str
    reference: str
    message: str
    plain: str = ""
    """The outcome as a sentence in words (empty where there is nothing to compare)."""


@dataclass
class LL144TableView:
    """One LL144 table, ready to lay out."""

    title: str
    category_columns: list[str]
    columns: list[str]
    rows: list[dict[str, Any]]
    notes: list[str]


@dataclass
class LL144View:
    """A rule's LL144 tables with the sentence that says how they were computed."""

    heading: str
    intro: str
    tables: list[LL144TableView]


@dataclass
class UncertaintyView:
    """Intervals and tests per group and metric."""

    method: str
    level: str
    rows: list[dict[str, str]]


@dataclass
class ScoresView:
    """ROC AUC and calibration per group."""

    intro: str
    auc_rows: list[dict[str, str]]
    calibration_columns: list[str]
    calibration_rows: list[dict[str, Any]]


@dataclass
class FairnessDepthView:
    """Everything a fairness rule shows beyond its group metrics."""

    ll144: LL144View | None = None
    uncertainty: UncertaintyView | None = None
    scores: ScoresView | None = None
    small_groups: list[str] = field(default_factory=list)
    #: Why they are left out: ``fewer than 30 people`` (``, or of an unknown value``).
    small_why: str = ""
    significance: list[str] = field(default_factory=list)


@dataclass
class FindingRow:
    """One violating record (escaped by the HTML and Markdown templates)."""

    record_id: str
    reason: str
    message: str
    values: list[str]


@dataclass
class FindingsView:
    """A record-level rule's counts, parameters, reasons, findings and review strata."""

    check: str
    check_title: str
    facts: list[tuple[str, str]]
    parameters: list[tuple[str, str]]
    reasons: list[tuple[str, str, str]]  # code, words, count
    columns: list[str]
    rows: list[FindingRow]
    shown: int
    total: int
    truncated: bool
    strata_columns: list[str]
    strata: list[dict[str, Any]]


@dataclass
class RuleView:
    """A rule with its assertions, charts and group table."""

    id: str
    title: str
    status: str
    status_word: str
    icon: str
    severity: str
    message: str
    dataset: str
    features: str
    references: list[dict[str, Any]]
    min_group_size: int | None
    rows: str
    assertions: list[AssertionView]
    charts: list[Chart]
    metric_columns: list[tuple[str, str]]
    group_rows: list[dict[str, Any]]
    excluded_groups: list[str]
    findings: FindingsView | None = None  # record-level rules
    depth: FairnessDepthView | None = None  # fairness rules
    cross_check: str | None = None  # the fairlearn cross-check, in words, when one ran
    groups_note: str | None = None  # when only some groups are shown: which, and where the rest are
    # windowed fairness rules: a views.windows.WindowsView (Any: base imports no view module)
    windows: Any = None


@dataclass
class ReportView:
    """Everything the templates show."""

    result: AuditResult
    status: str
    status_word: str
    icon: str
    headline: str
    rules: list[RuleView]
    evidence: list[dict[str, Any]] = field(default_factory=list)


def unknown_group(rule: RuleResult, group: GroupKey) -> bool:
    """Return whether a group is left out of comparisons for an unknown (or missing) value.

    Only where the rule names ``unknown_values``; without them a missing value is compared.
    """
    unknown = rule.unknown_values or []
    return bool(unknown) and any(v is None or str(v) in unknown for v in group.values())


def not_compared_mark(rule: RuleResult, group: GroupKey, excluded: bool) -> str:
    """Return the mark of a group left out of comparisons ('' for a compared group)."""
    if not excluded:
        return ""
    return "unknown: not compared" if unknown_group(rule, group) else "too small: not compared"
