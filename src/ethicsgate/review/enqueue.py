"""Turn an audit's findings into review items, and enqueue them idempotently.

Which findings: the record-level findings (``RuleResult.findings``) of every rule that asks for
review (``review:`` in the policy; unset means block rules do) whose outcome is in
``review.on``; for fairness rules, which have no records, one item per failing group
(record id ``group:race=Asian``), a borderline fairness result for a person to look at, with
the numbers behind it (:func:`ethicsgate.review.fairness.fairness_fields`).

All of them, not the report's first ``max_findings``: with ``--enqueue`` the audit runs with
``max_findings`` raised to the policy language's maximum for reviewed rules (see
:func:`widen_findings`), the full list stays in memory for the queue, and the report is cut back
to each rule's own ``max_findings`` (:func:`narrow_findings`), so the report is the same bytes
with or without ``--enqueue``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ethicsgate.policy.models import ReviewOptions, Severity
from ethicsgate.review.fairness import fairness_fields, group_record_id
from ethicsgate.review.models import NewReviewItem
from ethicsgate.review.store import EnqueueResult, ReviewStore, format_time

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult
    from ethicsgate.audit.spec import LoadedAudit
    from ethicsgate.policy.models import PolicyPack, RuleBase
    from ethicsgate.rules.results import RuleResult

__all__ = [
    "MAX_ENQUEUE_FINDINGS",
    "enqueue",
    "group_record_id",
    "items_from_audit",
    "narrow_findings",
    "review_options",
    "widen_findings",
]

#: The most findings one rule can hand the queue per audit (the policy language's max_findings).
MAX_ENQUEUE_FINDINGS = 100_000


def review_options(rule: RuleBase) -> ReviewOptions | None:
    """Return how a rule's findings are reviewed, or None when they are not."""
    if rule.review is None:  # unset: severity decides
        return ReviewOptions() if rule.severity == Severity.BLOCK else None
    if rule.review is False:
        return None
    if rule.review is True:
        return ReviewOptions()
    return rule.review


def _fairness_items(rule: RuleResult) -> list[tuple[str, str, dict[str, str | None]]]:
    out: dict[str, tuple[str, str, dict[str, str | None]]] = {}
    for assertion in rule.assertions:
        if assertion.status != "fail":
            continue
        for group in assertion.failing_groups:
            record_id = group_record_id(group)
            if record_id in out:
                continue
            fields = fairness_fields(rule, assertion, group)
            out[record_id] = (record_id, f"{assertion.metric}_{assertion.aggregate}", fields)
    return list(out.values())


def items_from_audit(
    result: AuditResult, pack: PolicyPack, *, now: datetime
) -> list[NewReviewItem]:
    """Return a review item for every finding of the rules that ask for review."""
    rules_by_id = {rule.id: rule for rule in pack.rules}
    policy = result.audit.policy
    items: list[NewReviewItem] = []
    for rule_result in result.rules:
        rule = rules_by_id.get(rule_result.id)
        options = review_options(rule) if rule is not None else None
        if options is None or rule_result.status.value not in options.on:
            continue
        due_at = format_time(now + options.sla)
        # groups that fail an assertion (fairness), and listed records (record-level kinds)
        found = _fairness_items(rule_result)
        found += [(f.record_id, f.reason, dict(f.fields)) for f in rule_result.findings]
        for record_id, reason, fields in found:
            items.append(
                NewReviewItem(
                    policy_id=policy.id,
                    policy_version=policy.version,
                    rule_id=rule_result.id,
                    record_id=record_id,
                    audit_id=result.audit.id,
                    severity=rule_result.severity,
                    fields=fields,
                    reason=reason,
                    due_at=due_at,
                )
            )
    return items


def enqueue(store: ReviewStore, items: Sequence[NewReviewItem], *, actor: str) -> EnqueueResult:
    """Add the items the store does not hold yet (key: policy id + rule id + record id)."""
    return store.enqueue(items, actor=actor)


def widen_findings(audit: LoadedAudit) -> LoadedAudit:
    """Return the audit with every reviewed record rule listing all its findings (up to 100k)."""
    pack = audit.policy.pack
    rules: list[Any] = []
    for rule in pack.rules:
        if rule.findings_limit is not None and review_options(rule) is not None:
            rule = rule.model_copy(update={"max_findings": MAX_ENQUEUE_FINDINGS})
        rules.append(rule)
    wide = pack.model_copy(update={"rules": rules})
    policy = dataclasses.replace(audit.policy, pack=wide)
    return dataclasses.replace(audit, policy=policy)


def narrow_findings(result: AuditResult, pack: PolicyPack) -> AuditResult:
    """Return the result with each rule's findings cut back to the policy's ``max_findings``."""
    limits = {r.id: r.findings_limit for r in pack.rules if r.findings_limit is not None}
    rules = []
    for rule in result.rules:
        limit = limits.get(rule.id)
        if limit is not None and len(rule.findings) > limit:
            total = rule.findings_total if rule.findings_total is not None else len(rule.findings)
            rule = rule.model_copy(
                update={
                    "findings": rule.findings[:limit],
                    "findings_total": total,
                    "findings_truncated": True,
                }
            )
        rules.append(rule)
    return result.model_copy(update={"rules": rules})
