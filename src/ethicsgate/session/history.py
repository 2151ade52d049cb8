"""Open the history store: the review queue's database, opened and migrated by the review store.

The history and review packages are siblings that never import each other; a session joins
them: the review store's opener resolves the URL (``--db``, ``ETHICSGATE_DB_URL``, the default
SQLite file), sets SQLite's locking up and migrates to the head revision, which includes the
history tables, and the history store uses its engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult
    from ethicsgate.history.models import MetricRow
    from ethicsgate.history.store import HistoryStore
    from ethicsgate.policy.models import PolicyPack
    from ethicsgate.rules.drift import RatePoint

__all__ = ["history_drift", "open_history"]


def open_history(db_url: str | None = None, *, create: bool = True) -> HistoryStore:
    """Open the history store at ``db_url``, else ``ETHICSGATE_DB_URL``, else the default file.

    ``create``: False for a command that only reads (``history list``...): a missing store is
    an error, nothing is made or migrated.

    Raises:
        ReviewError: the URL is bad or the database cannot be opened; with ``create`` False,
            there is no store there.
    """
    from ethicsgate.history.store import HistoryStore
    from ethicsgate.review.workflow import open_review_store

    store = open_review_store(db_url, create=create)
    # the review store's writer gate: on SQLite, history and review writers queue on one gate
    return HistoryStore(store.engine, url=store.url, writer_gate=store.writer_gate)


def _recorded_point(label: str, rows: list[MetricRow], reference: object) -> RatePoint:
    """Return a recorded run's counts of one rate; the reference is the group of ratio 1."""
    from ethicsgate.rules.drift import RatePoint

    groups = {
        tuple(sorted(r.group.items())): (
            r.group,
            round((r.value or 0.0) * r.n),
            r.n,
            r.excluded,
        )
        for r in rows
        if r.value is not None
    }
    if reference == "overall":
        x = sum(v[1] for v in groups.values())
        n = sum(v[2] for v in groups.values())
        return RatePoint(label, groups, (x, n) if n else None, None)
    ref = next(
        (
            k
            for k, r in zip(groups, [r for r in rows if r.value is not None], strict=True)
            if r.ratio == 1.0 and not r.excluded
        ),
        None,
    )
    counts = (groups[ref][1], groups[ref][2]) if ref is not None else None
    return RatePoint(label, groups, counts, ref)


def history_drift(result: AuditResult, pack: PolicyPack, store: HistoryStore) -> AuditResult:
    """Return ``result`` with drift findings against the audit's last recorded run.

    For every fairness rule with a ``drift`` policy, each group's ratio in this run (all of
    its windows together) is compared with the last recorded run of the same audit
    (:mod:`ethicsgate.rules.drift`; the comparisons of one rule are one Holm family).
    """
    from ethicsgate.audit.run import with_rules
    from ethicsgate.policy.models import FairnessRule
    from ethicsgate.rules.drift import (
        NOTHING_COMPARED,
        apply_drift,
        judge_drift,
        rate_point,
        tracked_metric,
    )
    from ethicsgate.rules.results import RuleStatus

    policies = {r.id: r for r in pack.rules if isinstance(r, FairnessRule) and r.drift is not None}
    if not policies:
        return result
    runs = store.list_runs(audit_id=result.audit.id, limit=1)
    last = store.get_run(runs[0].id) if runs else None
    rules = []
    for rule in result.rules:
        policy = policies.get(rule.id)
        if policy is None or policy.drift is None or rule.kind != "fairness":
            rules.append(rule)
            continue
        unchecked = rule.skipped_reason == "nothing_compared"
        if last is None:
            if unchecked:  # the first recorded run: said as such
                rule = rule.model_copy(
                    update={
                        "message": f"{NOTHING_COMPARED}: no earlier recorded run of audit "
                        f"{result.audit.id!r} (the next run with --record compares with this one)"
                    }
                )
            rules.append(rule)
            continue
        metric = tracked_metric(policy.drift)
        rows = [m for m in last.metrics if m.rule_id == rule.id and m.metric == metric]
        before = _recorded_point(f"run {last.run.id}", rows, rule.reference)
        now = rate_point("this run", rule.groups, rule.reference_values.get(metric), metric=metric)
        drift = judge_drift(policy, [(before, now)])
        if unchecked and drift.compared:  # judged now: by the recorded run
            rule = rule.model_copy(
                update={
                    "status": RuleStatus.PASS,
                    "message": f"drift: no significant drop beyond {policy.drift.max_drop:g} "
                    f"against run {last.run.id} ({drift.compared:,} group comparison(s))",
                    "skipped_reason": None,
                }
            )
        elif unchecked:
            rule = rule.model_copy(
                update={
                    "message": f"{NOTHING_COMPARED}: run {last.run.id} recorded no "
                    f"{metric} of rule {rule.id!r}"
                }
            )
        rules.append(apply_drift(policy, rule, drift.findings))
    return with_rules(result, rules)
