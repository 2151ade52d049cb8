"""The report view of a fairness rule: charts, assertions, LL144 tables, uncertainty, scores.

The LL144 tables follow the layout of the DCWP rule's examples and of published bias-audit
summaries (6 RCNY § 5-301): one table per category type, columns *# of Applicants*,
*# Selected* (or *# Scoring Above Median*), *Selection Rate* (or *Scoring Rate*) and *Impact
Ratio*, followed by the note on people in an unknown category.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ethicsgate.evidence.model import EXACT_SCORE_VALUES
from ethicsgate.metrics import METRICS, harmed_when
from ethicsgate.report.views.base import (
    AGGREGATE_WORDS,
    EVERY_GROUP_IS,
    GROUP_LIMIT,
    AssertionView,
    Bar,
    Chart,
    FairnessDepthView,
    LL144TableView,
    LL144View,
    ScoresView,
    UncertaintyView,
    fmt_interval,
    fmt_metric,
    fmt_number,
    fmt_rate,
    fmt_ratio,
    fmt_test,
    ll144_only,
    metric_title,
    not_compared_mark,
    unknown_group,
)
from ethicsgate.rules.results import (
    Absent,
    AssertionResult,
    GroupKey,
    GroupResult,
    ImpactRatioResult,
    ImpactRatioRow,
    ImpactRatioTable,
    RuleResult,
    as_columns,
)
from ethicsgate.vocabulary import (
    EVERYONE,
    MISSING,
    OP_WORDS,
    STATUS_WORDS,
    group_label,
    unknown_words,
)

__all__ = [
    "assertion_view",
    "chart",
    "fairness_depth",
    "impact_ratio_chart",
    "limited",
    "shown_groups",
]


def _label(group: GroupKey | None) -> str:
    return group_label(group, everyone=EVERYONE)


def _key(group: GroupKey) -> tuple[tuple[str, str | None], ...]:
    return tuple(sorted(group.items()))


def _value(group: GroupResult, assertion: AssertionResult) -> float | None:
    if assertion.aggregate == "ratio":
        return group.ratios.get(assertion.metric)
    if assertion.aggregate == "difference":
        return group.differences.get(assertion.metric)
    value = group.metrics.get(assertion.metric)
    return None if value is None else float(value)


def _margin(value: float | None, assertion: AssertionResult) -> float:
    """Return how far ``value`` is on the passing side of the threshold (negative: past it)."""
    if value is None:
        return -math.inf  # undefined never passes
    if assertion.op in (">=", ">"):
        return value - assertion.threshold
    if assertion.op in ("<=", "<"):
        return assertion.threshold - value
    return -abs(value - assertion.threshold)


def _hidden_note(
    total: int, shown: int, failing: int, small: int, nouns: str, *, asserted: bool
) -> str:
    """Return the line under a shortened table: how many are not shown, and where they are.

    ``asserted``: an assertion judged these rows, so the ones not failing pass.
    """
    hidden = total - shown
    passing = hidden - failing - small
    if asserted and not failing and not small:
        return f"{hidden:,} more {nouns} pass; {EVERY_GROUP_IS}."
    parts = [f"{failing:,} fail"] if failing else []
    parts += [f"{small:,} not compared (too small or of an unknown value)"] if small else []
    parts += [f"{passing:,} pass"] if passing and asserted else []
    counts = f" ({', '.join(parts)})" if parts else ""
    return f"{hidden:,} more {nouns} are not shown{counts}; {EVERY_GROUP_IS}."


def shown_groups(rule: RuleResult) -> tuple[list[GroupResult], str | None]:
    """Return the groups HTML and Markdown show, and the line that counts the rest (or None).

    Up to :data:`GROUP_LIMIT` groups, all of them in report order when there are no more;
    otherwise the failing groups first, then the others closest to failing (by the smallest
    margin to any assertion's threshold), groups too small to compare last.
    """
    groups = rule.groups
    if len(groups) <= GROUP_LIMIT:
        return list(groups), None
    failing = {_key(g) for a in rule.assertions for g in a.failing_groups}
    asserted = [a for a in rule.assertions if a.metric != "impact_ratio"]

    def rank(group: GroupResult) -> tuple[bool, bool, float]:
        margin = min((_margin(_value(group, a), a) for a in asserted), default=0.0)
        return (_key(group.group) not in failing, group.excluded, margin)

    # each group made once to rank it, not held (10^5 groups held were half a GB)
    ranks = [rank(g) for g in groups]
    order = sorted(range(len(groups)), key=ranks.__getitem__)  # stable: ties keep report order
    shown = [groups[i] for i in order[:GROUP_LIMIT]]
    rest = [ranks[i] for i in order[GROUP_LIMIT:]]
    note = _hidden_note(
        len(groups),
        len(shown),
        sum(not passing for passing, _, _ in rest),
        sum(small for _, small, _ in rest),
        "groups",
        asserted=bool(rule.assertions),
    )
    head = (
        f"{len(groups):,} groups: shown are the {len(shown)} that fail or come closest to failing"
        if asserted or failing
        else f"{len(groups):,} groups: shown are the first {len(shown)}"
    )
    return shown, f"{head}. {note[0].upper()}{note[1:]}"


def _shown_rows(
    table: ImpactRatioTable, failing: set[tuple[tuple[str, str | None], ...]] | None
) -> tuple[list[ImpactRatioRow], str | None]:
    """Return an LL144 table's rows to show and the line that counts the rest (or None).

    Up to :data:`GROUP_LIMIT` rows, all in table order when there are no more; otherwise the
    failing categories, then the lowest impact ratios, excluded categories last.
    """
    rows = table.rows
    if len(rows) <= GROUP_LIMIT:
        return list(rows), None

    def rank(row: ImpactRatioRow) -> tuple[bool, bool, float]:
        ratio = -math.inf if row.impact_ratio is None else row.impact_ratio
        return (_key(row.category) not in (failing or ()), row.excluded, ratio)

    # each row made once to rank it, not held (an LL144 table's rows are made when read)
    ranks = [rank(r) for r in rows]
    order = sorted(range(len(rows)), key=ranks.__getitem__)  # stable: ties keep table order
    shown = [rows[i] for i in order[:GROUP_LIMIT]]
    rest = [ranks[i] for i in order[GROUP_LIMIT:]]
    note = _hidden_note(
        len(rows),
        len(shown),
        sum(not passing for passing, _, _ in rest),
        sum(excluded for _, excluded, _ in rest),
        "categories",
        asserted=failing is not None,
    )
    head = f"{len(rows):,} categories: shown are the {len(shown)} with the lowest impact ratios"
    return shown, f"{head}. {note[0].upper()}{note[1:]}"


def _impact_failing(rule: RuleResult) -> set[tuple[tuple[str, str | None], ...]] | None:
    """Return the categories an impact_ratio assertion fails (None: no assertion judged them)."""
    asserted = [a for a in rule.assertions if a.metric == "impact_ratio"]
    if not asserted:
        return None
    return {_key(g) for a in asserted for g in a.failing_groups}


def limited(items: Sequence[str], nouns: str) -> str:
    """Join up to :data:`GROUP_LIMIT` items with "; ", then count the rest as ``nouns``."""
    if len(items) <= GROUP_LIMIT:
        return "; ".join(items)
    return "; ".join(items[:GROUP_LIMIT]) + f"; and {len(items) - GROUP_LIMIT:,} more {nouns}"


def _observed_for(
    rule: RuleResult, assertion: AssertionResult, groups: Sequence[GroupResult]
) -> list[tuple[GroupKey, float | None, bool]]:
    out = []
    for group in groups:
        if assertion.aggregate == "ratio":
            value = group.ratios.get(assertion.metric)
        elif assertion.aggregate == "difference":
            value = group.differences.get(assertion.metric)
        else:
            value = group.metrics.get(assertion.metric)
        out.append((group.group, value, group.excluded))
    return out


def chart(
    rule: RuleResult, assertion: AssertionResult, groups: Sequence[GroupResult] | None = None
) -> Chart:
    """Return the bar chart of an assertion: its quantity per group against the threshold.

    ``groups`` are the groups to draw [default: every group of the rule].
    """
    if assertion.metric == "impact_ratio":
        return impact_ratio_chart(rule, assertion)
    title = METRICS[assertion.metric].title
    rows = _observed_for(rule, assertion, rule.groups if groups is None else groups)
    values = [v for _, v, ex in rows if v is not None and not ex]
    axis_max = max([*values, assertion.threshold, 1e-12])
    if assertion.aggregate == "ratio":
        axis_max = max(axis_max, 1.0)
    axis_max *= 1.05
    as_rate = assertion.aggregate == "value" and assertion.metric != "count"
    bars = []
    failing = {tuple(sorted(g.items())) for g in assertion.failing_groups}
    for group, value, excluded in rows:
        if excluded and unknown_group(rule, group):
            text = "not compared (an unknown value)"
        elif excluded:
            text = f"not compared (fewer than {rule.min_group_size} people)"
        elif value is None:
            text = "undefined (0/0)"
        else:
            text = fmt_metric(assertion.metric, value) if as_rate else fmt_number(value)
        is_failing = tuple(sorted(group.items())) in failing
        bars.append(
            Bar(
                label=group_label(group),
                value=value,
                text=text,
                width=0.0 if value is None or excluded else round(100 * value / axis_max, 2),
                failing=is_failing,
                excluded=excluded,
                note="fails" if is_failing else ("" if excluded or value is None else "ok"),
            )
        )
    threshold_text = (
        fmt_metric(assertion.metric, assertion.threshold)
        if as_rate
        else fmt_number(assertion.threshold)
    )
    return Chart(
        title=f"{title} — {AGGREGATE_WORDS[assertion.aggregate]}",
        bars=bars,
        threshold=assertion.threshold,
        threshold_pos=round(100 * assertion.threshold / axis_max, 2),
        threshold_text=f"required: {OP_WORDS[assertion.op]} {threshold_text}",
        axis_max_text=fmt_number(axis_max),
    )


def assertion_view(assertion: AssertionResult, rule: RuleResult | None = None) -> AssertionView:
    """Return an assertion in words: what was required, what was observed, for whom.

    For a metric where higher harms a group (error rates; with ``favorable_prediction: 0``
    the selection rate too), a ratio or difference against the highest group
    (``reference: max``) is smallest for the group with the *lowest* rate, but the
    disadvantaged group is the highest one: the view names it as the worst group, compares it
    with the lowest, and says so in a plain sentence (``plain``; the metric id comes second, in
    ``message``). With ``favorable_prediction`` set, the same holds the other way round for a
    metric where lower harms and ``reference: min``.
    """
    code, word, icon = STATUS_WORDS[assertion.status]
    metric = metric_title(assertion.metric)
    as_rate = assertion.aggregate == "value" and assertion.metric not in ("count", "impact_ratio")
    show = (lambda v: fmt_metric(assertion.metric, v)) if as_rate else fmt_number
    reference = ""
    group = group_label(assertion.group) if assertion.group else "—"
    if assertion.aggregate != "value":
        reference = (
            f"{group_label(assertion.reference_group)}: "
            f"{fmt_metric(assertion.metric, assertion.reference_value)}"
        )
    elif assertion.metric == "impact_ratio" and assertion.reference_group is not None:
        reference = (
            f"most selected: {group_label(assertion.reference_group)} "
            f"({fmt_metric('selection_rate', assertion.reference_value)})"
        )
    plain = _plain_assertion(assertion, rule)
    if rule is not None and _disadvantaged_is_reference(assertion, rule):
        # the harmed group is the reference: name it as the worst group, compared with the
        # other end (the group whose ratio is the extreme the check reads)
        high = _harmed(assertion, rule) == "higher"
        extreme, other = ("highest", "lowest") if high else ("lowest", "highest")
        group = (
            f"{group_label(assertion.reference_group)} ({extreme}: "
            f"{fmt_metric(assertion.metric, assertion.reference_value)})"
        )
        found = _group_value(rule, assertion.group, assertion.metric)
        reference = (
            f"{other}: {group_label(assertion.group)}: {fmt_metric(assertion.metric, found)}"
        )
    return AssertionView(
        status=assertion.status,
        status_word=word,
        icon=icon,
        what=metric
        if assertion.metric == "impact_ratio"
        else f"{metric}, {AGGREGATE_WORDS[assertion.aggregate]}",
        requirement=f"{OP_WORDS[assertion.op]} {show(assertion.threshold)} for every "
        + ("compared category" if assertion.metric == "impact_ratio" else "group"),
        observed=show(assertion.observed),
        group=group,
        reference=reference,
        message=assertion.message,
        plain=plain,
    )


def _group_value(rule: RuleResult | None, key: GroupKey | None, metric: str) -> float | None:
    """Return a group's value of ``metric`` from the rule's groups (None: not there)."""
    if rule is None or key is None:
        return None
    for group in rule.groups:
        if group.group == key:
            value = group.metrics.get(metric)
            return float(value) if value is not None else None
    return None


def _harmed(assertion: AssertionResult, rule: RuleResult) -> str | None:
    """Return which of the assertion's metric values harms a group: higher, lower or None."""
    return harmed_when(assertion.metric, rule.favorable_prediction)


def _disadvantaged_is_reference(assertion: AssertionResult, rule: RuleResult | None) -> bool:
    """Return whether the reference is the harmed extreme and beyond the assertion's group.

    Higher harms and the reference, the highest group (``reference: max``), is higher; or,
    with the rule's ``favorable_prediction`` set, lower harms and the reference, the lowest
    group (``reference: min``), is lower. A named group or everyone (overall) is no extreme.
    """
    if rule is None or assertion.aggregate == "value" or assertion.metric not in METRICS:
        return False
    harmed = _harmed(assertion, rule)
    found = _group_value(rule, assertion.group, assertion.metric)
    ref = assertion.reference_value
    if found is None or ref is None:
        return False
    if harmed == "higher" and rule.reference == "max":
        return ref > found
    # unset, a metric where higher is better was never named at its low reference: kept so
    if harmed == "lower" and rule.reference == "min" and rule.favorable_prediction is not None:
        return ref < found
    return False


def _plain_assertion(assertion: AssertionResult, rule: RuleResult | None) -> str:
    """Return the assertion's outcome as a sentence in words (metric titles, not ids)."""
    if rule is None or assertion.metric not in METRICS or assertion.aggregate == "value":
        return ""
    title = METRICS[assertion.metric].title.lower()
    columns = as_columns(rule.groups)
    metric = columns.metrics.get(assertion.metric)
    if metric is None:  # no group has the metric (an older or edited report)
        return ""
    compared = [
        i
        for i, (small, found) in enumerate(zip(columns.excluded, metric, strict=True))
        if not small and found is not None and not isinstance(found, Absent)
    ]
    if len(compared) < 2:
        return ""

    def value(i: int) -> float:
        return float(metric[i])  # type: ignore[arg-type]

    highest, lowest = max(compared, key=value), min(compared, key=value)
    # name the highest group where higher harms; with favorable_prediction set the harmed end
    # is known whatever the check found. Unset, a check against an upper bound (or a
    # difference) finds the group past it at either end: name the one it found, unless the
    # harmed group is the reference (an error rate against the highest)
    harmed = _harmed(assertion, rule)
    higher_worse = harmed == "higher"
    known = rule.favorable_prediction is not None and harmed is not None
    if known and assertion.status == "fail" and assertion.failing_groups:
        harmed_end = columns.groups[highest if higher_worse else lowest]
        if harmed_end not in (*assertion.failing_groups, assertion.reference_group):
            known = False  # it failed at the other end (a two-sided check): name that group
    if (
        not known
        and assertion.group is not None
        and not _disadvantaged_is_reference(assertion, rule)
    ):
        if assertion.group == columns.groups[highest]:
            higher_worse = True
        elif assertion.group == columns.groups[lowest]:
            higher_worse = False
    worst, best = (highest, lowest) if higher_worse else (lowest, highest)
    others = [i for i in compared if columns.groups[i] != columns.groups[worst]]
    largest = max(others, key=lambda i: columns.sizes[i])
    extreme = "highest" if higher_worse else "lowest"
    why = ""
    if known:  # say why this end harms: the prediction's meaning, not the metric's name
        meaning = "adverse" if rule.favorable_prediction == 0 else "favourable"
        why = f" (the harmed end: prediction 1 is {meaning})"
    sentence = (
        f"{group_label(columns.groups[worst])} has the {extreme} {title}{why}: "
        f"{fmt_metric(assertion.metric, value(worst))}"
    )
    lowest_word = "the lowest" if higher_worse else "the highest"
    comparisons = (
        [(best, f"{lowest_word}, also the largest other group")]
        if columns.groups[best] == columns.groups[largest]
        else [(best, lowest_word), (largest, "the largest other group")]
    )
    parts = [
        f"{value(worst) / value(other):.2f}× {what} "
        f"({group_label(columns.groups[other])}: {fmt_metric(assertion.metric, value(other))})"
        for other, what in comparisons
        if value(other) > 0
    ]
    if parts:
        sentence += ", " + " and ".join(parts)
    verdict = {
        "pass": "the requirement is met",
        "fail": "the requirement is not met",
    }.get(assertion.status, "the requirement could not be checked")
    return f"{sentence}; {verdict}."


def impact_ratio_chart(rule: RuleResult, assertion: AssertionResult) -> Chart:
    """Return the bar chart of an impact_ratio assertion: every category of every table."""
    tables = rule.impact_ratio.tables if rule.impact_ratio is not None else []
    values = [r.impact_ratio for t in tables for r in t.rows if r.impact_ratio is not None]
    axis_max = max([*values, assertion.threshold, 1.0]) * 1.05
    failing = {tuple(sorted(g.items())) for g in assertion.failing_groups}
    quiet = {tuple(sorted(g.items())) for g in assertion.not_significant_groups}
    bars = []
    for table in tables:
        for row in _shown_rows(table, _impact_failing(rule))[0]:
            key = tuple(sorted(row.category.items()))
            value = None if row.excluded else row.impact_ratio
            if row.excluded:
                text = "excluded (small category)"
            elif value is None:
                text = "undefined"
            else:
                text = fmt_ratio(value)
            if key in quiet:
                text += " (not significant)"
            bars.append(
                Bar(
                    # values only: the chart's label column is narrow
                    label=" · ".join(MISSING if v is None else v for v in row.category.values()),
                    value=value,
                    text=text,
                    width=0.0 if value is None else round(100 * value / axis_max, 2),
                    failing=key in failing,
                    excluded=row.excluded,
                    note="fails" if key in failing else ("" if value is None else "ok"),
                )
            )
    return Chart(
        title="Impact ratio — category rate / most selected category's rate",
        bars=bars,
        threshold=assertion.threshold,
        threshold_pos=round(100 * assertion.threshold / axis_max, 2),
        threshold_text=f"required: {OP_WORDS[assertion.op]} {assertion.threshold:g}",
        axis_max_text=f"{axis_max:.4g}",
    )


def _table_view(
    result: ImpactRatioResult,
    table: ImpactRatioTable,
    level: str,
    failing: set[tuple[tuple[str, str | None], ...]] | None,
) -> LL144TableView:
    scoring = result.kind == "scoring"
    names = [f.replace("_", " ") for f in table.features]
    if len(names) == 1:
        title = f"{names[0]} categories"
    else:
        title = f"Intersectional categories ({' × '.join(names)})"
    columns = [
        "# of Applicants",
        "# Scoring Above Median" if scoring else "# Selected",
        "Scoring Rate" if scoring else "Selection Rate",
        "Impact Ratio",
    ]
    uncertain = any(r.rate_interval or r.test for r in table.rows)
    if uncertain:
        columns += [f"{level} CI (rate)", f"{level} CI (ratio)", "Test vs most selected"]
    shown, hidden = _shown_rows(table, failing)
    rows = []
    for row in shown:
        entry: dict[str, Any] = {
            "category": [str(row.category[f]) for f in table.features],
            "cells": [
                f"{row.applicants:,}",
                f"{row.selected:,}",
                fmt_rate(row.rate),
                ("excluded" if row.excluded else fmt_ratio(row.impact_ratio)),
            ],
            "excluded": row.excluded,
            "most_selected": row.most_selected,
        }
        if uncertain:
            entry["cells"] += [
                fmt_interval(row.rate_interval, fmt_rate),
                fmt_interval(row.impact_ratio_interval, fmt_ratio),
                fmt_test(row.test),
            ]
        rows.append(entry)
    notes = [] if hidden is None else [hidden]
    if table.unknown:
        notes.append(
            f"The tool also assessed {table.unknown:,} people in an unknown "
            f"{' or '.join(names)} category; they are not included in the "
            "calculations above."
        )
    # the excluded rows are listed only when few (at 10^5 categories all may be excluded):
    # one reading of the rows counts them all and keeps the first few
    excluded: list[ImpactRatioRow] = []
    excluded_count = 0
    for row in table.rows:
        if row.excluded:
            excluded_count += 1
            if excluded_count <= GROUP_LIMIT:
                excluded.append(row)
    if excluded_count > GROUP_LIMIT:
        notes.append(
            f"{excluded_count:,} categories are excluded from the impact ratios (6 RCNY § "
            f"5-301(d)); {EVERY_GROUP_IS}."
        )
    elif excluded:
        if result.intersection_exclusion == "components" and len(table.features) > 1:
            why = "they combine a category excluded from its own table"
        else:
            why = f"each is under {result.exclude_below_share:.0%} of the known applicants"
        notes.append(
            "Excluded from the impact ratios because "
            + why
            + " (6 RCNY § 5-301(d)): "
            + "; ".join(
                f"{_label(r.category)} ({r.applicants:,} applicants, {r.share:.2%}, "
                f"rate {fmt_rate(r.rate)})"
                for r in excluded
            )
            + "."
        )
    if table.most_selected is not None:
        notes.append(
            f"Most selected category: {_label(table.most_selected)} "
            f"({fmt_rate(table.most_selected_rate)})."
        )
    return LL144TableView(
        title=title[0].upper() + title[1:],
        category_columns=[f.replace("_", " ").capitalize() for f in table.features],
        columns=columns,
        rows=rows,
        notes=notes,
    )


def _ll144_view(rule: RuleResult, result: ImpactRatioResult) -> LL144View:
    level = f"{rule.uncertainty.confidence_level:.0%}" if rule.uncertainty else "95%"
    if result.kind == "scoring":
        median = f"{result.median_score:.6g}" if result.median_score is not None else "—"
        intro = (
            "Scoring rate = share of a category's applicants with a score above the median "
            f"score of the full sample ({median}, taken over every audited row including "
            "unknown categories); impact ratio = scoring rate / scoring rate of the most "
            "selected category."
        )
    else:
        intro = (
            "Selection rate = share of a category's applicants the tool selected (prediction "
            "1); impact ratio = selection rate / selection rate of the most selected category."
        )
    if result.unknown_values:
        intro += (
            " Missing values and "
            + ", ".join(f"“{v}”" for v in result.unknown_values)
            + " count as unknown."
        )
    share = result.exclude_below_share
    if share is None:
        intro += " No category is excluded for its size."
    else:
        intro += (
            f" Categories under {share * 100:g}% of a table's known applicants are excluded "
            "from the impact ratios (6 RCNY § 5-301(d))"
            + (
                "; an intersectional category is excluded when it combines an excluded one."
                if result.intersection_exclusion == "components" and len(result.tables) > 1
                else "."
            )
        )
    return LL144View(
        heading="NYC Local Law 144 bias audit (6 RCNY § 5-301)",
        intro=intro,
        tables=[
            _table_view(result, table, level, _impact_failing(rule)) for table in result.tables
        ],
    )


def _uncertainty_view(rule: RuleResult, groups: Sequence[GroupResult]) -> UncertaintyView | None:
    info = rule.uncertainty
    tested = any(
        not isinstance(test, Absent)
        for column in as_columns(rule.groups).tests.values()
        for test in column
    )
    if info is None and not tested:
        return None
    rows = []
    for group in groups:
        for metric, value in group.metrics.items():
            if metric == "count":
                continue
            test = group.tests.get(metric)
            rows.append(
                {
                    "group": _label(group.group)
                    + (
                        f" ({not_compared_mark(rule, group.group, True)})" if group.excluded else ""
                    ),
                    "metric": METRICS[metric].title,
                    "value": fmt_rate(value),
                    "interval": fmt_interval(group.intervals.get(metric), fmt_rate),
                    "ratio": fmt_ratio(group.ratios.get(metric)),
                    "ratio_interval": fmt_interval(group.ratio_intervals.get(metric), fmt_ratio),
                    "difference_interval": fmt_interval(
                        group.difference_intervals.get(metric), fmt_ratio
                    ),
                    "test": fmt_test(test),
                }
            )
    if info is not None:
        method = (
            f"{info.bootstrap_samples:,} bootstrap resamples (seed {info.seed}): "
            f"{info.method}. Tests: {info.test.replace('_', ' ')}, two-sided, against the "
            "reference group (against everyone else when the reference is overall)."
        )
        level = f"{info.confidence_level:.0%}"
    else:
        method = "Tests: auto (Fisher's exact test when an expected count is under 5, else z)."
        level = "95%"
    return UncertaintyView(method=method, level=level, rows=rows)


def _scores_view(rule: RuleResult, groups: Sequence[GroupResult]) -> ScoresView | None:
    summary = rule.score
    scored = [g for g in groups if g.score is not None]
    if summary is None or not scored:
        return None
    if summary.exact:
        how = (
            f"every one of the score's {summary.distinct_estimate or 0:,} distinct values "
            "(counted from the median histogram where the engine can, else estimated) was "
            "kept, so ROC AUC and calibration are exact"
        )
    else:
        many = (
            f"more than {EXACT_SCORE_VALUES:,}"  # counted only as far as the decision needed
            if summary.distinct_estimate is None
            else f"about {summary.distinct_estimate:,}"
        )
        how = (
            f"the score has {many} distinct values, so they were "
            f"grouped into {summary.bins} equal-width bins; ROC AUC counts people in the same bin "
            "as tied and is within the stated error of the exact value"
        )
    intro = f"Scores from {summary.min:.6g} to {summary.max:.6g}; {how}."
    auc_rows = []
    calibration_rows = []
    columns: list[str] = []
    for group in scored:
        score = group.score
        assert score is not None
        auc_rows.append(
            {
                "group": _label(group.group),
                "positives": f"{score.positives:,}",
                "negatives": f"{score.negatives:,}",
                "auc": "—" if score.roc_auc is None else f"{score.roc_auc:.4f}",
                "interval": fmt_interval(score.roc_auc_interval, lambda v: f"{v:.4f}"),
                "error": f"± {score.roc_auc_max_error:.4f}" if score.roc_auc_max_error else "exact",
                "ece": "—" if score.calibration_error is None else f"{score.calibration_error:.4f}",
            }
        )
        if score.calibration:
            columns = [f"{b.low:.3g}–{b.high:.3g}" for b in score.calibration]
            calibration_rows.append(
                {
                    "group": _label(group.group),
                    "cells": [
                        "—"
                        if b.mean_score is None
                        else f"{b.mean_score:.3f} / {fmt_rate(b.observed_rate)} (n={b.count:,})"
                        for b in score.calibration
                    ],
                }
            )
    return ScoresView(
        intro=intro,
        auc_rows=auc_rows,
        calibration_columns=columns,
        calibration_rows=calibration_rows,
    )


def _significance_lines(rule: RuleResult) -> list[str]:
    lines = []
    for a in rule.assertions:
        if a.significant_at is None:
            continue
        quiet = limited([_label(g) for g in a.not_significant_groups], "groups") or "none"
        lines.append(
            f"{metric_title(a.metric)}: groups past the threshold fail only when p < "
            f"{a.significant_at:g}; past it but not significant: {quiet}."
        )
    return lines


def fairness_depth(
    rule: RuleResult, groups: Sequence[GroupResult] | None = None
) -> FairnessDepthView | None:
    """Return a result's LL144 tables, intervals, tests and score metrics (None: it has none).

    Chosen by what the result carries, not by its kind: any kind whose results hold groups,
    assertions or LL144 tables gets these sections (so does a kind added by a plug-in).
    ``groups`` are the groups to show per group [default: every group of the rule].
    """
    shown = rule.groups if groups is None else groups
    columns = as_columns(rule.groups)
    compared = not ll144_only(rule)  # an LL144-only rule's tables exclude by share
    small = [
        f"{_label(key)} ("
        + ("an unknown value; " if unknown_group(rule, key) else "")
        + f"{size:,} {'person' if size == 1 else 'people'})"
        for key, size, too_small in zip(
            columns.groups, columns.sizes, columns.excluded, strict=True
        )
        if too_small and compared
    ]
    small_why = f"fewer than {rule.min_group_size} people"
    if rule.unknown_values:
        small_why += f", or of an unknown value ({unknown_words(rule.unknown_values)})"
    if len(small) > GROUP_LIMIT:
        small = [*small[:GROUP_LIMIT], f"and {len(small) - GROUP_LIMIT:,} more"]
    depth = FairnessDepthView(
        ll144=_ll144_view(rule, rule.impact_ratio) if rule.impact_ratio is not None else None,
        uncertainty=_uncertainty_view(rule, shown),
        scores=_scores_view(rule, shown),
        small_groups=small,
        small_why=small_why,
        significance=_significance_lines(rule),
    )
    if depth.ll144 or depth.uncertainty or depth.scores or depth.small_groups or depth.significance:
        return depth
    return None
