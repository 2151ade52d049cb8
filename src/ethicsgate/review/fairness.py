"""What a reviewer needs to see about a failing fairness group, as a review item's fields.

A fairness rule has no records: each group (or LL144 category) that fails an assertion becomes
one review item. Its fields carry the numbers behind the failure, each under a stable name so
the CLI, the export and the web app can show them, and one plain-language ``summary``:

=================== =================================================================
``group``           the group as people read it: ``race = Asian, sex = Female``
``group_rate``      its value of the metric (for LL144: the selection or scoring rate)
``group_counts``    the counts behind it: ``45 of 366``
``reference_group`` the group it is compared with (LL144: the most selected category)
``reference_rate``  the reference's value, ``reference_counts`` its counts
``ratio``           group / reference (``difference`` for difference assertions)
``observed``        the value the assertion compares (the ratio, difference or value)
``interval_low``,   the confidence interval of ``observed``, at ``confidence_level``
``interval_high``
``p_value``         the test of "same rate as the reference", named in ``test``
``significant_at``  the level the assertion counts a difference as significant at
``requirement``     what the assertion requires: ``>= 0.8``
``summary``         all of it in one or two sentences
=================== =================================================================

Numbers are written with six significant digits (rates as shares, not percentages); a field
the audit did not compute (no ``uncertainty:``, no reference) is left out. The group's own
feature values are kept too (``race: Asian``), as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethicsgate.metrics import METRICS
from ethicsgate.vocabulary import OP_WORDS, TEST_WORDS, group_label, p_value_words

if TYPE_CHECKING:
    from ethicsgate.rules.results import (
        AssertionResult,
        ComparisonTest,
        GroupKey,
        ImpactRatioRow,
        Interval,
        RuleResult,
    )

__all__ = ["FAIRNESS_FIELDS", "fairness_fields", "group_record_id"]

#: The computed fields of a fairness review item, in the order people read them.
FAIRNESS_FIELDS = (
    "summary",
    "group",
    "metric",
    "aggregate",
    "group_rate",
    "group_counts",
    "reference_group",
    "reference_rate",
    "reference_counts",
    "ratio",
    "difference",
    "observed",
    "requirement",
    "interval_low",
    "interval_high",
    "confidence_level",
    "p_value",
    "test",
    "significant_at",
)


def group_record_id(group: GroupKey) -> str:
    """Return the record id of a fairness group: ``group:race=Asian,sex=Male``."""
    parts = [f"{k}={'(missing)' if v is None else v}" for k, v in sorted(group.items())]
    return "group:" + ",".join(parts)


def _num(value: float | None) -> str | None:
    return None if value is None else f"{value:.6g}"


def _rate_words(metric: str, value: float | None) -> str:
    if value is None:
        return "undefined"
    if metric == "count":
        return f"{value:,.0f}"
    if metric in METRICS or metric == "impact_ratio":
        return f"{value * 100:.1f} %"
    return f"{value:.4g}"


def _counts(successes: int, trials: int) -> str:
    return f"{successes:,} of {trials:,}"


class _Facts:
    """The numbers of one failing group, gathered from wherever the result keeps them."""

    def __init__(self, rule: RuleResult, assertion: AssertionResult, group: GroupKey) -> None:
        self.rule = rule
        self.assertion = assertion
        self.group = group
        self.rate: float | None = None
        self.counts: str | None = None
        self.reference: GroupKey | None = None
        self.has_reference = False
        self.reference_rate: float | None = None
        self.reference_counts: str | None = None
        self.ratio: float | None = None
        self.difference: float | None = None
        self.observed: float | None = None
        self.interval: Interval | None = None
        self.test: ComparisonTest | None = None
        self.rate_metric = assertion.metric
        if assertion.metric == "impact_ratio":
            self._from_ll144()
        else:
            self._from_groups()

    def _from_ll144(self) -> None:
        tables = self.rule.impact_ratio.tables if self.rule.impact_ratio is not None else []
        for table in tables:
            row: ImpactRatioRow | None = next(
                (r for r in table.rows if r.category == self.group), None
            )
            if row is None:
                continue
            self.rate_metric = "selection_rate"
            self.rate = row.rate
            self.counts = _counts(row.selected, row.applicants)
            self.has_reference = table.most_selected is not None
            self.reference = table.most_selected
            self.reference_rate = table.most_selected_rate
            reference_row = next((r for r in table.rows if r.most_selected), None)
            if reference_row is not None:
                self.reference_counts = _counts(reference_row.selected, reference_row.applicants)
            self.ratio = self.observed = row.impact_ratio
            self.interval = row.impact_ratio_interval
            self.test = row.test
            return

    def _from_groups(self) -> None:
        metric, aggregate = self.assertion.metric, self.assertion.aggregate
        found = next((g for g in self.rule.groups if g.group == self.group), None)
        if found is None:
            return
        value = found.metrics.get(metric)
        self.rate = None if value is None else float(value)
        self.test = found.tests.get(metric)
        if self.test is not None:
            self.counts = _counts(self.test.successes, self.test.trials)
            self.reference_counts = _counts(
                self.test.reference_successes, self.test.reference_trials
            )
        if aggregate != "value":
            reference = self.rule.reference_values.get(metric)
            if reference is not None:
                self.has_reference = True
                self.reference, self.reference_rate = reference.group, reference.value
            self.ratio = found.ratios.get(metric)
            self.difference = found.differences.get(metric)
        self.observed = {
            "ratio": self.ratio,
            "difference": self.difference,
            "value": self.rate,
        }[aggregate]
        intervals = {
            "ratio": found.ratio_intervals,
            "difference": found.difference_intervals,
            "value": found.intervals,
        }[aggregate]
        self.interval = intervals.get(metric)

    def summary(self) -> str:
        """Return the failure in plain language, numbers first, ids last."""
        a = self.assertion
        metric = self.rate_metric
        tables = self.rule.impact_ratio
        ll144 = a.metric == "impact_ratio" and tables is not None
        if ll144:
            scoring = tables is not None and tables.kind == "scoring"
            verb = "scored above the median score" if scoring else "were selected"
            text = f"Applicants in {group_label(self.group)} {verb} at "
        else:
            title = METRICS[metric].title if metric in METRICS else metric
            text = f"{title} of {group_label(self.group)}: "
        text += _rate_words(metric, self.rate)
        if self.counts is not None:
            text += f" ({self.counts})"
        who = "the most selected category" if ll144 else "the reference group"
        if self.has_reference:
            text += f", against {_rate_words(metric, self.reference_rate)}"
            if self.reference_counts is not None:
                text += f" ({self.reference_counts})"
            text += f" in {who}, {group_label(self.reference, everyone='everyone')}"
        name = {"ratio": "ratio", "difference": "difference", "value": "value"}[a.aggregate]
        observed = "undefined" if self.observed is None else f"{self.observed:.4g}"
        text += f". The {'impact ratio' if ll144 else name} is {observed}"
        if self.interval is not None:
            level = self.rule.uncertainty.confidence_level if self.rule.uncertainty else None
            share = f"{level * 100:g} % " if level is not None else ""
            text += (
                f" ({share}confidence interval {self.interval.low:.4g} to {self.interval.high:.4g})"
            )
        text += f"; the policy requires {OP_WORDS[a.op]} {a.threshold:g}."
        if self.test is not None:
            text += (
                f" A {TEST_WORDS[self.test.method]} of the difference from {who} gives "
                f"{p_value_words(self.test.p_value)}"
            )
            if a.significant_at is not None:
                significant = self.test.p_value < a.significant_at
                text += (
                    f" ({'significant' if significant else 'not significant'} "
                    f"at the {a.significant_at:g} level)"
                )
            text += "."
        elif a.aggregate != "value":
            text += " No significance test was computed (the rule sets no uncertainty)."
        return text


def fairness_fields(
    rule: RuleResult, assertion: AssertionResult, group: GroupKey
) -> dict[str, str | None]:
    """Return the fields of the review item of ``group`` failing ``assertion`` in ``rule``."""
    facts = _Facts(rule, assertion, group)
    computed: dict[str, str | None] = {
        "summary": facts.summary(),
        "group": group_label(group),
        "metric": assertion.metric,
        "aggregate": assertion.aggregate,
        "group_rate": _num(facts.rate),
        "group_counts": facts.counts,
        "reference_group": (
            group_label(facts.reference, everyone="everyone") if facts.has_reference else None
        ),
        "reference_rate": _num(facts.reference_rate),
        "reference_counts": facts.reference_counts,
        "ratio": _num(facts.ratio),
        "difference": _num(facts.difference),
        "observed": _num(facts.observed),
        "requirement": f"{assertion.op} {assertion.threshold:g}",
        "interval_low": _num(facts.interval.low) if facts.interval else None,
        "interval_high": _num(facts.interval.high) if facts.interval else None,
        "confidence_level": (
            _num(rule.uncertainty.confidence_level)
            if facts.interval is not None and rule.uncertainty is not None
            else None
        ),
        "p_value": _num(facts.test.p_value) if facts.test else None,
        "test": TEST_WORDS[facts.test.method] if facts.test else None,
        "significant_at": _num(assertion.significant_at),
    }
    # the observed value is always there (null when undefined); the rest only when computed
    kept = {k: v for k, v in computed.items() if v is not None or k == "observed"}
    fields: dict[str, str | None] = dict(sorted(group.items()))
    return fields | kept
