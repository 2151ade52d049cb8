"""Change detection: a significant drop of a group's ratio between windows or recorded runs.

A fairness rule's ``drift`` policy tracks one ratio per group: the group's rate over the
reference group's (``impact_ratio`` is the selection rate's). Between two points (consecutive
windows of a windowed audit, or the last recorded run and this one) the change is tested with a
one-sided Wald z-test of the log ratio (delta method for binomial rates, the two points
independent)::

    log r = log(x_g / n_g) - log(x_ref / n_ref)
    var(log r) = (1/x_g - 1/n_g) + (1/x_ref - 1/n_ref)      (0 for the reference itself)
    z = (log r_before - log r_after) / sqrt(var_before + var_after),  p = 1 - Phi(z)

with 0.5 added to a count of 0 or n (and 1 to n: Haldane-Anscombe) so that every log is
defined. The p-values of all of one rule's comparisons (groups x consecutive pairs) are
Holm-adjusted together; a drop is a finding when ``before - after > max_drop`` and the
adjusted p-value is below ``significant_at``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ethicsgate.policy.models import DriftPolicy, FairnessRule, Severity
from ethicsgate.rules.results import (
    DriftFinding,
    GroupKey,
    GroupResult,
    ReferenceValue,
    RuleResult,
    RuleStatus,
)
from ethicsgate.vocabulary import group_label

__all__ = [
    "NOTHING_COMPARED",
    "DriftOutcome",
    "RatePoint",
    "apply_drift",
    "detect_drift",
    "holm",
    "judge_drift",
    "nothing_compared",
    "rate_point",
    "tracked_metric",
]

#: The start of the message of a rule judged by drift alone that had nothing to compare.
NOTHING_COMPARED = "drift: nothing to compare with"

_Key = tuple[tuple[str, str | None], ...]


def tracked_metric(policy: DriftPolicy) -> str:
    """Return the rate whose ratio the drift policy tracks."""
    return "selection_rate" if policy.metric == "impact_ratio" else policy.metric


@dataclass(frozen=True)
class RatePoint:
    """One point in time: each group's successes and trials, and the reference's."""

    label: str
    groups: dict[_Key, tuple[GroupKey, int, int, bool]]  # group, successes, trials, excluded
    reference: tuple[int, int] | None  # the reference's successes and trials
    reference_key: _Key | None  # None: the reference is everyone (overall)


def _key(group: GroupKey) -> _Key:
    return tuple(sorted(group.items()))


def rate_point(
    label: str,
    groups: Sequence[GroupResult],
    reference: ReferenceValue | None,
    *,
    metric: str,
) -> RatePoint:
    """Return a rule result's (or window's) counts of ``metric`` (a rate over each group).

    The rate's denominator is the group's size, so ``successes = round(rate * count)``
    recovers the exact count.
    """
    found: dict[_Key, tuple[GroupKey, int, int, bool]] = {}
    for g in groups:
        rate = g.metrics.get(metric)
        if rate is None:
            continue
        found[_key(g.group)] = (g.group, round(float(rate) * g.count), g.count, g.excluded)
    ref: tuple[int, int] | None = None
    ref_key: _Key | None = None
    if reference is not None and reference.group is not None:
        ref_key = _key(reference.group)
        if ref_key in found and not found[ref_key][3]:
            ref = found[ref_key][1:3]
    elif reference is not None and reference.value is not None:
        x = sum(v[1] for v in found.values())
        n = sum(v[2] for v in found.values())
        ref = (x, n) if n else None
    return RatePoint(label=label, groups=found, reference=ref, reference_key=ref_key)


def _log_rate(x: int, n: int) -> tuple[float, float]:
    """Return log(x/n) and its delta-method variance, Haldane-corrected at 0 and n."""
    xf, nf = float(x), float(n)
    if x == 0 or x == n:
        xf, nf = xf + 0.5, nf + 1.0
    return math.log(xf / nf), 1.0 / xf - 1.0 / nf


def holm(p_values: Sequence[float]) -> list[float]:
    """Return Holm's step-down adjusted p-values (same order as given)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class _Comparison:
    group: GroupKey
    before: str
    after: str
    value_before: float
    value_after: float
    z: float
    p: float


def _compare(before: RatePoint, after: RatePoint) -> list[_Comparison]:
    out: list[_Comparison] = []
    if before.reference is None or after.reference is None:
        return out
    for key, (group, x1, n1, small1) in before.groups.items():
        if key not in after.groups or small1 or after.groups[key][3]:
            continue
        _, x2, n2, _ = after.groups[key]
        if n1 == 0 or n2 == 0 or before.reference[1] == 0 or after.reference[1] == 0:
            continue
        terms = []
        for point, reference, x, n in (
            (before, before.reference, x1, n1),
            (after, after.reference, x2, n2),
        ):
            own, own_var = _log_rate(x, n)
            if point.reference_key == key:  # the reference itself: ratio 1, no variance
                terms.append((0.0, 0.0, 1.0))
                continue
            ref, ref_var = _log_rate(*reference)
            raw_ref = reference[0] / reference[1]
            ratio = (x / n) / raw_ref if raw_ref else math.nan
            terms.append((own - ref, own_var + ref_var, ratio))
        variance = terms[0][1] + terms[1][1]
        if variance <= 0 or not all(math.isfinite(t[2]) for t in terms):
            continue
        z = (terms[0][0] - terms[1][0]) / math.sqrt(variance)
        p = 0.5 * math.erfc(z / math.sqrt(2.0))
        out.append(_Comparison(group, before.label, after.label, terms[0][2], terms[1][2], z, p))
    return out


def nothing_compared(rule: FairnessRule, result: RuleResult, *, why: str) -> RuleResult:
    """Return a rule judged by drift alone that compared nothing as skipped, never passed.

    A rule with assertions is judged by them, whatever drift finds; one with only a ``drift``
    policy that found no earlier point (a single window, no recorded run) checked nothing.
    """
    if rule.drift is None or rule.assertions or result.status != RuleStatus.PASS:
        return result
    return result.model_copy(
        update={
            "status": RuleStatus.SKIPPED,
            "message": f"{NOTHING_COMPARED}: {why}",
            "skipped_reason": "nothing_compared",
        }
    )


@dataclass(frozen=True)
class DriftOutcome:
    """What a drift policy found over some pairs of points, and how many comparisons it made."""

    findings: list[DriftFinding]
    compared: int  # (group, pair) comparisons: the size of the Holm family


def detect_drift(
    rule: FairnessRule, pairs: Sequence[tuple[RatePoint, RatePoint]]
) -> list[DriftFinding]:
    """Return the drops beyond ``max_drop`` that are significant after Holm's correction."""
    return judge_drift(rule, pairs).findings


def judge_drift(rule: FairnessRule, pairs: Sequence[tuple[RatePoint, RatePoint]]) -> DriftOutcome:
    """Return the significant drops beyond ``max_drop`` and the number of comparisons made.

    All comparisons of all ``pairs`` (earlier, later) form one family, computed once.
    """
    policy = rule.drift
    if policy is None:
        return DriftOutcome([], 0)
    comparisons = [c for before, after in pairs for c in _compare(before, after)]
    if not comparisons:
        return DriftOutcome([], 0)
    adjusted = holm([c.p for c in comparisons])
    severity: Literal["block", "warn", "info"] = (policy.severity or rule.severity).value
    name = policy.metric.replace("_", " ")
    findings = []
    for c, p_adj in zip(comparisons, adjusted, strict=True):
        drop = c.value_before - c.value_after
        if drop > policy.max_drop and p_adj < policy.significant_at:
            p_text = "< 0.0001" if p_adj < 1e-4 else f"= {p_adj:.4g}"
            findings.append(
                DriftFinding(
                    metric=policy.metric,
                    group=c.group,
                    before=c.before,
                    after=c.after,
                    value_before=c.value_before,
                    value_after=c.value_after,
                    drop=drop,
                    z=c.z,
                    p_value=c.p,
                    p_adjusted=p_adj,
                    severity=severity,
                    message=f"{name} of {group_label(c.group)} dropped from "
                    f"{c.value_before:.3f} ({c.before}) to {c.value_after:.3f} ({c.after}), by "
                    f"{drop:.3f} > {policy.max_drop:g} (one-sided z-test of the log ratio, "
                    f"z = {c.z:.2f}, Holm-adjusted p {p_text} over {len(comparisons)} "
                    "comparison(s))",
                )
            )
    return DriftOutcome(findings, len(comparisons))


def apply_drift(rule: FairnessRule, result: RuleResult, findings: list[DriftFinding]) -> RuleResult:
    """Return ``result`` with drift ``findings`` added and its status made worse by them."""
    if not findings:
        return result
    drift = [*result.drift, *findings]
    status, message = result.status, result.message
    worst = {f.severity for f in findings}
    note = f"drift: {findings[0].message}" + (
        f" (and {len(findings) - 1} more drop(s))" if len(findings) > 1 else ""
    )
    if Severity.BLOCK.value in worst and status in (RuleStatus.PASS, RuleStatus.WARN):
        status = RuleStatus.FAIL
    elif Severity.WARN.value in worst and status == RuleStatus.PASS:
        status = RuleStatus.WARN
    message = note if result.status == RuleStatus.PASS else f"{message}; {note}"
    return result.model_copy(update={"drift": drift, "status": status, "message": message})
