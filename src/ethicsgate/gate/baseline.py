"""Compare a candidate audit with the released model's report: what each assertion compares.

An assertion holds when its worst group meets the threshold, so the gate compares what the
assertion compares, not every group with itself:

- **the worst value**: the candidate's worst group (``AssertionResult.observed``) against the
  baseline's worst group, which may be another group (a group that merely lost its lead is not
  worse off);
- **the failing groups**: each group (or LL144 category) that fails the assertion in the
  candidate, against its own value in the baseline.

"Worse" is the failing direction of the assertion's ``op``: for ``>=``/``>`` a lower value is
worse, for ``<=``/``<`` a higher one. A change counts as a regression only when it is worse by
more than the budget (the assertion's ``max_regression``, else the gate's default) **and**,
where the reports carry the counts, statistically significant at ``significance_level``
(two-sided): ratios (``aggregate: ratio`` and LL144 impact ratios) by a z-test on the
difference of the two log ratios, differences by a z-test on the difference of the two
differences (both Wald tests with delta-method variances, the two audits being independent
samples), values by the two-proportion z-test of the group's rate in the two audits (Fisher's
exact test when an expected count is under 5). An improvement is never a regression. Where
the counts are not in the reports (a metric other than selection, base rate or accuracy, in a
rule without ``uncertainty:``), or the test is switched off (``significance_level`` 1), the
budget alone decides and the regression says which (``untested``).

What the gate could not compare is said, never passed over: a rule or an assertion the
baseline does not have (a new or renamed one), or whose worst value is undefined in either
audit, is listed in ``not_compared`` with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field

from ethicsgate.audit.reportfile import read_report
from ethicsgate.audit.result import AuditResult
from ethicsgate.base import StrictModel
from ethicsgate.errors import BaselineError
from ethicsgate.metrics import ALL, METRICS
from ethicsgate.policy.models import PolicyPack, RuleBase
from ethicsgate.policy.waivers import waiver_covers, waiver_expired
from ethicsgate.rules.results import AssertionResult, GroupKey, GroupResult, RuleResult

__all__ = [
    "DEFAULT_SIGNIFICANCE_LEVEL",
    "UNTESTED_WORDS",
    "BaselineComparison",
    "NotCompared",
    "Regression",
    "Untested",
    "assertion_name",
    "compare_to_baseline",
    "compare_with_baseline",
    "load_baseline",
]

#: Differences smaller than this are float noise, never a regression.
_EPSILON = 1e-9
#: The default level a regression must be significant at (two-sided p-value below it).
DEFAULT_SIGNIFICANCE_LEVEL = 0.05

#: A group's counts for a metric and its reference's: (x, n, reference x, reference n).
Counts = tuple[int, int, int, int]
_Key = tuple[tuple[str, str | None], ...]

#: Why a change beyond the budget has no significance test.
Untested = Literal["switched_off", "no_counts", "empty_counts"]
#: Each reason in words, as the gate's outputs say it ("no significance test (...)").
UNTESTED_WORDS: dict[str, str] = {
    "switched_off": "switched off: at significance level 1 every change beyond the budget counts",
    "no_counts": "the reports lack the counts",
    "empty_counts": "a group or its reference is empty in one of the audits",
}


class Regression(StrictModel):
    """What an assertion compares, worse than in the baseline beyond the budget."""

    rule: str
    assertion: str = Field(description="Stable name: '<metric>.<aggregate>' (+ '#n' if repeated).")
    severity: str
    metric: str
    aggregate: str
    op: str
    compared: Literal["worst", "group"] = Field(
        default="group",
        description="worst: the assertion's worst value in each audit (the groups may differ); "
        "group: a group failing in the candidate against its own baseline value.",
    )
    group: GroupKey = Field(description="The candidate's group.")
    baseline_group: GroupKey | None = Field(
        default=None, description="The group the baseline value came from."
    )
    baseline: float
    candidate: float
    worse_by: float = Field(description="How much worse, in the assertion's failing direction.")
    budget: float
    test: str | None = Field(
        default=None, description="The significance test, or null when none was made."
    )
    untested: Untested | None = Field(
        default=None,
        description="Why no test was made: switched_off (significance level 1), no_counts "
        "(the reports lack them), empty_counts (a group or its reference is empty); null when "
        "tested.",
    )
    p_value: float | None = Field(default=None, description="Two-sided p-value of the change.")
    significance_level: float | None = Field(
        default=None, description="A regression counts only when p_value is below this."
    )
    significant: bool | None = Field(
        default=None, description="p_value < significance_level; null without a test."
    )
    waived: bool = False
    waiver_reason: str | None = None

    @property
    def blocking(self) -> bool:
        """Return whether this regression blocks the release (a block rule, not waived)."""
        return self.severity == "block" and not self.waived


class NotCompared(StrictModel):
    """A rule or assertion of the policy the gate could not compare with the baseline, and why."""

    rule: str
    assertion: str | None = Field(
        default=None, description="The assertion's stable name; null: the whole rule."
    )
    severity: str
    reason: str = Field(description="Why it was not compared, in words.")

    @property
    def words(self) -> str:
        """Return it in words: ``rule r: not in the baseline``, or the assertion and why."""
        if self.assertion is None:
            return f"rule {self.rule}: {self.reason}"
        return f"assertion {self.assertion} of rule {self.rule}: {self.reason}"


def assertion_name(rule: RuleBase, index: int) -> str:
    """Return the stable name of a rule's assertion: ``metric.aggregate``, ``#n`` if repeated."""
    assertions = rule.rule_assertions
    a = assertions[index]
    base = f"{a.metric}.{a.aggregate}"
    earlier = sum(
        1 for b in assertions[:index] if (b.metric, b.aggregate) == (a.metric, a.aggregate)
    )
    return base if earlier == 0 else f"{base}#{earlier + 1}"


def load_baseline(path: Path, *, policy_id: str) -> AuditResult:
    """Read a baseline report.json and check it audited the same policy.

    Raises:
        BaselineError: the file is missing, not JSON, not a valid report.json, or from
            another policy id.
    """
    baseline = read_report(
        path,
        error=BaselineError,
        what="baseline report",
        missing=f"looked for {path.absolute()}; the baseline is the report.json that "
        "`ethicsgate audit SPEC --out DIR` (or `gate`) wrote for the released model, kept "
        "with the release (e.g. `gh release download --pattern report.json`); pass its path "
        "as --baseline, or leave --baseline out to check the rules alone",
    )
    if baseline.audit.policy.id != policy_id:
        raise BaselineError(
            f"baseline audited policy {baseline.audit.policy.id!r}, not {policy_id!r}",
            location=path,
            hint="compare against the released model's report for the same policy",
        )
    return baseline


@dataclass(frozen=True)
class BaselineComparison:
    """What got worse than in the baseline beyond the budget: counted, or within noise."""

    regressions: list[Regression]
    """Worse beyond the budget and significant (or untestable): these can block."""
    not_significant: list[Regression]
    """Worse beyond the budget, but not significantly: reported, never blocking."""
    not_compared: list[NotCompared] = field(default_factory=list)
    """Rules and assertions with nothing to compare in the baseline (or in the candidate)."""


def _key(group: GroupKey) -> _Key:
    return tuple(sorted(group.items()))


def _names(assertions: list[AssertionResult]) -> list[str]:
    """Return the stable names of a result's assertions (as :func:`assertion_name`)."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for a in assertions:
        n = seen[(a.metric, a.aggregate)] = seen.get((a.metric, a.aggregate), 0) + 1
        out.append(f"{a.metric}.{a.aggregate}" + ("" if n == 1 else f"#{n}"))
    return out


def _value(group: GroupResult, metric: str, aggregate: str) -> float | None:
    table = {"ratio": group.ratios, "difference": group.differences, "value": group.metrics}
    value = table[aggregate].get(metric)
    return None if value is None else float(value)


def _values(result: RuleResult, metric: str, aggregate: str) -> dict[_Key, float | None]:
    """Return what an assertion compares in a rule's result, by group (or LL144 category)."""
    if metric == "impact_ratio":
        return {
            _key(row.category): row.impact_ratio
            for table in (result.impact_ratio.tables if result.impact_ratio else [])
            for row in table.rows
            if not row.excluded
        }
    return {_key(g.group): _value(g, metric, aggregate) for g in result.groups if not g.excluded}


def _whole_counts(
    result: RuleResult, group: GroupKey | None, metric: str
) -> tuple[int, int] | None:
    """Return (x, n) of a metric whose denominator is everyone in the group, from the report."""
    if METRICS[metric].denominator != ALL:
        return None
    if group is None:  # the reference is everyone
        value, n = result.overall.get(metric), result.rows
    else:
        found = next((g for g in result.groups if g.group == group), None)
        if found is None:
            return None
        value, n = found.metrics.get(metric), found.count
    if value is None or n <= 0:
        return None
    return round(float(value) * n), n


def _counts(result: RuleResult, metric: str, aggregate: str, group: GroupKey) -> Counts | None:
    """Return the counts behind a group's compared value, or None when the report lacks them."""
    if metric == "impact_ratio":
        for table in result.impact_ratio.tables if result.impact_ratio else []:
            row = next((r for r in table.rows if r.category == group), None)
            top = next((r for r in table.rows if r.most_selected), None)
            if row is not None and top is not None:
                return row.selected, row.applicants, top.selected, top.applicants
        return None
    if metric not in METRICS or metric == "count":
        return None
    found = next((g for g in result.groups if g.group == group), None)
    if found is None:
        return None
    test = found.tests.get(metric)
    if test is not None:
        return test.successes, test.trials, test.reference_successes, test.reference_trials
    own = _whole_counts(result, group, metric)
    if own is None:
        return None
    if aggregate == "value":
        return own[0], own[1], 0, 0
    reference = result.reference_values.get(metric)
    other = _whole_counts(result, reference.group, metric) if reference is not None else None
    return None if other is None else (*own, *other)


def _p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


def _log_ratio(c: Counts) -> tuple[float, float]:
    """Return log(x/n / (xr/nr)) and its delta-method variance (0.5 added to empty cells)."""
    x, n, xr, nr = (float(v) for v in c)
    if x == 0 or xr == 0:  # Haldane-Anscombe: the log of 0 is undefined
        x, n, xr, nr = x + 0.5, n + 1.0, xr + 0.5, nr + 1.0
    return math.log(x / n) - math.log(xr / nr), 1 / x - 1 / n + 1 / xr - 1 / nr


def _difference(c: Counts) -> tuple[float, float]:
    """Return |x/n - xr/nr| and its variance."""
    x, n, xr, nr = c
    p, pr = x / n, xr / nr
    return abs(p - pr), p * (1 - p) / n + pr * (1 - pr) / nr


def _wald(before: tuple[float, float], after: tuple[float, float]) -> float:
    spread = math.sqrt(before[1] + after[1])
    if spread == 0.0:
        return 1.0 if after[0] == before[0] else 0.0
    return _p((after[0] - before[0]) / spread)


def change_test(
    metric: str, aggregate: str, before: Counts, after: Counts
) -> tuple[str, float] | None:
    """Return (test, two-sided p) of the change of a compared value between two audits.

    Ratios: z = (log r1 - log r0) / sqrt(v1 + v0), v = 1/x - 1/n + 1/xr - 1/nr (delta method).
    Differences: z = (d1 - d0) / sqrt(v1 + v0), v = p (1 - p) / n + pr (1 - pr) / nr. Values:
    the two-proportion z-test of x1/n1 against x0/n0, or Fisher's exact test when an expected
    count is under 5. None when a count is empty.
    """
    from ethicsgate.vocabulary import TEST_WORDS

    if min(before[1], after[1]) <= 0:
        return None
    if metric == "impact_ratio" or aggregate == "ratio":
        if min(before[3], after[3]) <= 0:
            return None
        return "z-test of the change in the log ratio", _wald(_log_ratio(before), _log_ratio(after))
    if aggregate == "difference":
        if min(before[3], after[3]) <= 0:
            return None
        return "z-test of the change in the difference", _wald(
            _difference(before), _difference(after)
        )
    from ethicsgate.rules.uncertainty import compare_proportions

    test = compare_proportions(after[0], after[1], before[0], before[1])
    if test is None:
        return None
    return f"{TEST_WORDS[test.method]} of the group's rate in the two audits", test.p_value


@dataclass
class _Judge:
    """Judges the changes of one assertion of one rule; collects what got worse."""

    pack: PolicyPack
    rule: RuleBase
    name: str
    now_rule: RuleResult
    then_rule: RuleResult
    budget: float
    significance_level: float
    today: date | None
    counted: list[Regression]
    noise: list[Regression]

    def __call__(
        self,
        compared: Literal["worst", "group"],
        group: GroupKey,
        old_group: GroupKey,
        now: float,
        then: float,
        *,
        index: int,
    ) -> bool:
        """Record the change if worse beyond the budget; return whether it counts."""
        assertion = self.rule.rule_assertions[index]
        metric, aggregate = assertion.metric, assertion.aggregate
        sign = 1.0 if assertion.op in (">=", ">") else -1.0  # >0: got worse
        worse_by = sign * (then - now)
        if worse_by <= self.budget + _EPSILON:
            return False
        tested: tuple[str, float] | None = None
        untested: Untested | None = None
        if self.significance_level >= 1.0:
            untested = "switched_off"
        else:
            after = _counts(self.now_rule, metric, aggregate, group)
            prior = _counts(self.then_rule, metric, aggregate, old_group)
            if after is None or prior is None:
                untested = "no_counts"
            else:
                tested = change_test(metric, aggregate, prior, after)
                untested = "empty_counts" if tested is None else None
        significant = None if tested is None else tested[1] < self.significance_level
        waivers = [
            w
            for w in self.pack.waivers
            if (self.today is None or not waiver_expired(w, self.today))
            and waiver_covers(w, rule_id=self.rule.id, metric=metric, group=group)
        ]
        found = Regression(
            rule=self.rule.id,
            assertion=self.name,
            severity=self.rule.severity.value,
            metric=metric,
            aggregate=aggregate,
            op=assertion.op,
            compared=compared,
            group=group,
            baseline_group=old_group,
            baseline=then,
            candidate=now,
            worse_by=worse_by,
            budget=self.budget,
            test=tested[0] if tested else None,
            p_value=tested[1] if tested else None,
            untested=untested,
            significance_level=self.significance_level if tested else None,
            significant=significant,
            waived=bool(waivers),
            waiver_reason=waivers[0].reason if waivers else None,
        )
        (self.noise if significant is False else self.counted).append(found)
        return significant is not False


def compare_with_baseline(
    candidate: AuditResult,
    baseline: AuditResult,
    *,
    pack: PolicyPack,
    default_budget: float = 0.0,
    significance_level: float = DEFAULT_SIGNIFICANCE_LEVEL,
    today: date | None = None,
) -> BaselineComparison:
    """Compare each assertion's worst value and failing groups with the baseline's.

    ``significance_level`` 1 counts every change beyond the budget (no test). A regression
    covered by an unexpired waiver of the rule is kept but marked ``waived``. What cannot be
    compared (a rule or assertion the baseline lacks, a worst value undefined in either audit)
    is listed in ``not_compared``, never passed over.
    """
    results: dict[str, RuleResult] = {r.id: r for r in candidate.rules}
    before: dict[str, RuleResult] = {r.id: r for r in baseline.rules}
    counted: list[Regression] = []
    noise: list[Regression] = []
    not_compared: list[NotCompared] = []

    def skip(rule: RuleBase, reason: str, assertion: str | None = None) -> None:
        not_compared.append(
            NotCompared(
                rule=rule.id, assertion=assertion, severity=rule.severity.value, reason=reason
            )
        )

    for rule in pack.rules:
        if not rule.has_assertions:
            continue  # the gate compares assertions; the audit alone judges any other rule
        if rule.id not in results:
            skip(rule, "not in this audit's results")
            continue
        if rule.id not in before:
            skip(rule, "not in the baseline")
            continue
        now_rule, then_rule = results[rule.id], before[rule.id]
        if not now_rule.assertions:
            skip(rule, f"its assertions were not evaluated, status {now_rule.status.value}")
            continue
        if not then_rule.assertions:
            skip(
                rule,
                "its assertions were not evaluated in the baseline, "
                f"status {then_rule.status.value} there",
            )
            continue
        then_by_name = dict(zip(_names(then_rule.assertions), then_rule.assertions, strict=True))
        for index, assertion in enumerate(rule.rule_assertions):
            name = assertion_name(rule, index)
            if index >= len(now_rule.assertions):
                skip(rule, "not evaluated in this audit", name)
                continue
            now_a, then_a = now_rule.assertions[index], then_by_name.get(name)
            budget = (
                assertion.max_regression if assertion.max_regression is not None else default_budget
            )
            judge = _Judge(
                pack=pack,
                rule=rule,
                name=name,
                now_rule=now_rule,
                then_rule=then_rule,
                budget=budget,
                significance_level=significance_level,
                today=today,
                counted=counted,
                noise=noise,
            )
            # 1. the assertion's worst value in each audit, whichever group it came from
            then_worst = then_a.group if then_a is not None else None
            worst_counted: _Key | None = None
            missing: str | None = None
            if then_a is None:
                missing = "the baseline has no such assertion"
            elif then_a.observed is None or then_worst is None:
                missing = f"the baseline has no worst value for it, status {then_a.status} there"
            elif now_a.observed is None or now_a.group is None:
                missing = f"it has no worst value in this audit, status {now_a.status}"
            elif judge(
                "worst", now_a.group, then_worst, now_a.observed, then_a.observed, index=index
            ):
                worst_counted = _key(now_a.group)
            # 2. every group failing in the candidate, against its own baseline value
            old = _values(then_rule, assertion.metric, assertion.aggregate)
            new = _values(now_rule, assertion.metric, assertion.aggregate)
            groups_compared = False
            for group in now_a.failing_groups:
                key = _key(group)
                same_comparison = (
                    missing is None
                    and now_a.group is not None
                    and then_worst is not None
                    and key == _key(now_a.group) == _key(then_worst)
                )
                if key == worst_counted or same_comparison:
                    continue  # the worst-value comparison already said it
                now_value, then_value = new.get(key), old.get(key)
                if now_value is not None and then_value is not None:
                    judge("group", group, group, now_value, then_value, index=index)
                    groups_compared = True
            if missing is not None:
                if groups_compared:
                    missing += ", though the groups failing it were compared with their own "
                    missing += "baseline values"
                skip(rule, missing, name)
    return BaselineComparison(regressions=counted, not_significant=noise, not_compared=not_compared)


def compare_to_baseline(
    candidate: AuditResult,
    baseline: AuditResult,
    *,
    pack: PolicyPack,
    default_budget: float = 0.0,
    significance_level: float = DEFAULT_SIGNIFICANCE_LEVEL,
    today: date | None = None,
) -> list[Regression]:
    """Return the regressions that count (see :func:`compare_with_baseline`)."""
    return compare_with_baseline(
        candidate,
        baseline,
        pack=pack,
        default_budget=default_budget,
        significance_level=significance_level,
        today=today,
    ).regressions
