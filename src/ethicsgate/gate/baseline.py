"""Compare a candidate audit with the released model's report: regression budgets per group.

"Worse" is the failing direction of each assertion's ``op``: for ``>=``/``>`` a lower observed
value is worse, for ``<=``/``<`` a higher one. A group regresses when it got worse than in the
baseline by more than the assertion's ``max_regression`` (or the gate's default budget).

An ``impact_ratio`` assertion is compared per category of each LL144 table (each sensitive
feature and the intersection), matched by the table's features and the category.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field

from ethicsgate.audit.reportfile import read_report
from ethicsgate.audit.result import AuditResult
from ethicsgate.base import StrictModel
from ethicsgate.errors import BaselineError
from ethicsgate.policy.models import PolicyPack, RuleBase
from ethicsgate.policy.waivers import waiver_covers, waiver_expired
from ethicsgate.rules.results import GroupKey, GroupResult, RuleResult

Observed = dict[tuple[tuple[str, str | None], ...], tuple[GroupKey, float | None]]

__all__ = ["Regression", "assertion_name", "compare_to_baseline", "load_baseline"]

#: Differences smaller than this are float noise, never a regression.
_EPSILON = 1e-9


class Regression(StrictModel):
    """One group whose observed value got worse than the baseline's beyond the budget."""

    rule: str
    assertion: str = Field(description="Stable name: '<metric>.<aggregate>' (+ '#n' if repeated).")
    severity: str
    metric: str
    aggregate: str
    op: str
    group: GroupKey
    baseline: float
    candidate: float
    worse_by: float = Field(description="How much worse, in the assertion's failing direction.")
    budget: float
    waived: bool = False
    waiver_reason: str | None = None

    @property
    def blocking(self) -> bool:
        """Return whether this regression blocks the release (a block rule, not waived)."""
        return self.severity == "block" and not self.waived


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
    baseline = read_report(path, error=BaselineError, what="baseline report")
    if baseline.audit.policy.id != policy_id:
        raise BaselineError(
            f"baseline audited policy {baseline.audit.policy.id!r}, not {policy_id!r}",
            location=path,
            hint="compare against the released model's report for the same policy",
        )
    return baseline


def _key(group: GroupKey) -> tuple[tuple[str, str | None], ...]:
    return tuple(sorted(group.items()))


def _observed(group: GroupResult, metric: str, aggregate: str) -> float | None:
    table = {"ratio": group.ratios, "difference": group.differences, "value": group.metrics}
    return table[aggregate].get(metric)


def _compared(result: RuleResult, metric: str, aggregate: str) -> Observed:
    """Return what an assertion compares in a rule's result, by group (or LL144 category)."""
    if metric == "impact_ratio":
        out: Observed = {}
        for table in result.impact_ratio.tables if result.impact_ratio else []:
            for row in table.rows:
                if not row.excluded:
                    out[_key(row.category)] = (row.category, row.impact_ratio)
        return out
    return {
        _key(g.group): (g.group, _observed(g, metric, aggregate))
        for g in result.groups
        if not g.excluded
    }


def compare_to_baseline(
    candidate: AuditResult,
    baseline: AuditResult,
    *,
    pack: PolicyPack,
    default_budget: float = 0.0,
    today: date | None = None,
) -> list[Regression]:
    """Return every (rule, assertion, group) that regressed beyond its budget.

    Only groups compared in both audits (not excluded, value defined) are compared. A
    regression covered by an unexpired waiver of the rule is kept but marked ``waived``.
    """
    results: dict[str, RuleResult] = {r.id: r for r in candidate.rules}
    before: dict[str, RuleResult] = {r.id: r for r in baseline.rules}
    out: list[Regression] = []
    for rule in pack.rules:
        if not rule.has_assertions or rule.id not in results or rule.id not in before:
            continue
        for index, assertion in enumerate(rule.rule_assertions):
            budget = (
                assertion.max_regression if assertion.max_regression is not None else default_budget
            )
            sign = 1.0 if assertion.op in (">=", ">") else -1.0  # >0: got worse
            old = _compared(before[rule.id], assertion.metric, assertion.aggregate)
            for key, (group, now) in _compared(
                results[rule.id], assertion.metric, assertion.aggregate
            ).items():
                then = old.get(key, (group, None))[1]
                if now is None or then is None:
                    continue
                worse_by = sign * (then - now)
                if worse_by <= budget + _EPSILON:
                    continue
                waivers = [
                    w
                    for w in pack.waivers
                    if (today is None or not waiver_expired(w, today))
                    and waiver_covers(w, rule_id=rule.id, metric=assertion.metric, group=group)
                ]
                out.append(
                    Regression(
                        rule=rule.id,
                        assertion=assertion_name(rule, index),
                        severity=rule.severity.value,
                        metric=assertion.metric,
                        aggregate=assertion.aggregate,
                        op=assertion.op,
                        group=group,
                        baseline=then,
                        candidate=now,
                        worse_by=worse_by,
                        budget=budget,
                        waived=bool(waivers),
                        waiver_reason=waivers[0].reason if waivers else None,
                    )
                )
    return out
