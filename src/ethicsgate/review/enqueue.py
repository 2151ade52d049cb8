"""Turn an audit's findings into review items, and enqueue them idempotently.

Which findings: the record-level findings (``RuleResult.findings``) of every rule that asks for
review (``review:`` in the policy; unset means block rules do) whose outcome is in
``review.on``; for fairness rules, which have no records, one item per failing group
(record id ``group:race=Asian``), a borderline fairness result for a person to look at, with
the numbers behind it (:func:`ethicsgate.review.fairness.fairness_fields`).

All of them, not the report's first ``max_findings``: the audit session collects every
finding of every record-level rule into ``findings.parquet`` (``audit/findings.py``) and the
queue is fed from that file, batch by batch (:func:`item_batches`), so a rule with 250,000
violating records queues 250,000 items and the report is the same bytes with or without
``--enqueue``. Without the file (a result built by hand), the listed findings are queued.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ethicsgate.policy.models import ReviewOptions, Severity
from ethicsgate.review.fairness import fairness_fields, group_record_id
from ethicsgate.review.models import NewReviewItem
from ethicsgate.review.store import EnqueueResult, ReviewStore, format_time

if TYPE_CHECKING:
    from ethicsgate.audit.findings import FindingsFile
    from ethicsgate.audit.result import AuditResult
    from ethicsgate.policy.models import PolicyPack, RuleBase
    from ethicsgate.rules.results import RuleResult

__all__ = [
    "ENQUEUE_BATCH",
    "enqueue",
    "group_record_id",
    "item_batches",
    "items_from_audit",
    "review_options",
]

#: Review items per enqueue transaction when the queue is fed from findings.parquet.
ENQUEUE_BATCH = 10_000


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
    result: AuditResult,
    pack: PolicyPack,
    *,
    now: datetime,
    findings: FindingsFile | Path | bytes | None = None,
) -> list[NewReviewItem]:
    """Return a review item for every finding of the rules that ask for review.

    ``findings``: ``findings.parquet`` (the file, its path or its bytes); record-level items
    come from it (every
    finding), else from the findings the result lists.
    """
    return [
        item for batch in item_batches(result, pack, now=now, findings=findings) for item in batch
    ]


def item_batches(
    result: AuditResult,
    pack: PolicyPack,
    *,
    now: datetime,
    findings: FindingsFile | Path | bytes | None = None,
    batch: int | None = None,
) -> Iterator[list[NewReviewItem]]:
    """Yield the review items of :func:`items_from_audit` at most ``batch`` at a time.

    ``batch`` defaults to :data:`ENQUEUE_BATCH`.
    """
    batch = batch or ENQUEUE_BATCH
    rules_by_id = {rule.id: rule for rule in pack.rules}
    policy = result.audit.policy
    reviewed: dict[str, tuple[RuleResult, str]] = {}
    for rule_result in result.rules:
        rule = rules_by_id.get(rule_result.id)
        options = review_options(rule) if rule is not None else None
        if options is None or rule_result.status.value not in options.on:
            continue
        reviewed[rule_result.id] = (rule_result, format_time(now + options.sla))

    def item(rule_id: str, record_id: str, reason: str, fields: dict[str, Any]) -> NewReviewItem:
        rule_result, due_at = reviewed[rule_id]
        return NewReviewItem(
            policy_id=policy.id,
            policy_version=policy.version,
            rule_id=rule_id,
            record_id=record_id,
            audit_id=result.audit.id,
            severity=rule_result.severity,
            fields=fields,
            reason=reason,
            due_at=due_at,
        )

    pending: list[NewReviewItem] = []
    for rule_id, (rule_result, _) in reviewed.items():
        # groups that fail an assertion (fairness)
        pending += [item(rule_id, *found) for found in _fairness_items(rule_result)]
        if findings is None:  # the listed records (record-level kinds)
            pending += [
                item(rule_id, f.record_id, f.reason, dict(f.fields)) for f in rule_result.findings
            ]
        while len(pending) >= batch:
            yield pending[:batch]
            pending = pending[batch:]
    if findings is not None and reviewed:
        from ethicsgate.audit.findings import finding_batches

        for rows in finding_batches(findings, rules=list(reviewed)):
            pending += [item(r["rule_id"], r["record_id"], r["reason"], r["fields"]) for r in rows]
            while len(pending) >= batch:
                yield pending[:batch]
                pending = pending[batch:]
    if pending:
        yield pending


def enqueue(store: ReviewStore, items: Sequence[NewReviewItem], *, actor: str) -> EnqueueResult:
    """Add the items the store does not hold yet (key: policy id + rule id + record id)."""
    return store.enqueue(items, actor=actor)
