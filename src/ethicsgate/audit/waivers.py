"""Apply a policy's waivers to an audit result: the one place a failure becomes ``waived``.

``run_audit`` calls this last, so report.json, HTML, Markdown, JUnit, SARIF and the public
statement all see the same statuses. A waiver stops waiving the day after ``expires`` (by the
audit's clock); an expired waiver is still recorded on the rule so reports can say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ethicsgate.policy.models import Waiver
from ethicsgate.policy.waivers import waiver_covers, waiver_expired
from ethicsgate.rules.results import (
    AssertionResult,
    GroupKey,
    RuleResult,
    RuleStatus,
    WaiverInfo,
)

__all__ = ["apply_waivers", "waive_rule"]

_WAIVABLE = (RuleStatus.FAIL, RuleStatus.ERROR, RuleStatus.WARN)
Unit = tuple[str | None, GroupKey | None]


def _assertion_units(assertion: AssertionResult) -> list[Unit]:
    groups: list[GroupKey | None] = [*assertion.failing_groups] or [assertion.group]
    return [(assertion.metric, group) for group in groups]


def _info(waiver: Waiver, *, expired: bool) -> WaiverInfo:
    return WaiverInfo(
        rule=waiver.rule,
        metric=waiver.metric,
        group=dict(waiver.group) if waiver.group is not None else None,
        reason=waiver.reason,
        approver=waiver.approver,
        expires=waiver.expires.isoformat(),
        expired=expired,
    )


def waive_rule(rule: RuleResult, waivers: Sequence[Waiver], *, today: date) -> RuleResult:
    """Return ``rule`` with the failures its unexpired waivers cover marked ``waived``.

    The rule becomes ``waived`` only when every failing assertion (every failing group of it)
    or, for a rule without failing assertions, the rule as a whole is covered.
    """
    mine = [w for w in waivers if w.rule == rule.id]
    if not mine or rule.status not in _WAIVABLE:
        return rule
    active = [w for w in mine if not waiver_expired(w, today)]
    expired = [w for w in mine if waiver_expired(w, today)]

    def covering(unit: Unit, pool: list[Waiver]) -> list[Waiver]:
        metric, group = unit
        return [w for w in pool if waiver_covers(w, rule_id=rule.id, metric=metric, group=group)]

    failing = [a for a in rule.assertions if a.status in ("fail", "error")]
    units = [u for a in failing for u in _assertion_units(a)] if failing else [(None, None)]
    used: list[Waiver] = []
    stale: list[Waiver] = []
    for unit in units:
        used += [w for w in covering(unit, active) if w not in used]
        stale += [w for w in covering(unit, expired) if w not in stale]
    if not used and not stale:
        return rule

    assertions = []
    for a in rule.assertions:
        waived = a in failing and all(covering(u, active) for u in _assertion_units(a))
        assertions.append(a.model_copy(update={"status": "waived"}) if waived else a)
    all_covered = all(covering(u, active) for u in units)
    message = rule.message
    if used:
        names = "; ".join(
            f"waived by {w.approver} until {w.expires.isoformat()}: {w.reason}" for w in used
        )
        message += f" ({'' if all_covered else 'partly '}{names})"
    for w in stale:
        message += f" (waiver by {w.approver} expired on {w.expires.isoformat()})"
    return rule.model_copy(
        update={
            "status": RuleStatus.WAIVED if all_covered else rule.status,
            "assertions": assertions,
            "message": message,
            "waivers": [_info(w, expired=False) for w in used]
            + [_info(w, expired=True) for w in stale],
        }
    )


def apply_waivers(
    rules: Sequence[RuleResult], waivers: Sequence[Waiver], *, today: date
) -> list[RuleResult]:
    """Return every rule result with the policy's waivers applied (see ``waive_rule``)."""
    return [waive_rule(rule, waivers, today=today) for rule in rules]
