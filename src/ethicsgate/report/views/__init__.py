"""Shape an audit result for people: plain words, formatted numbers and chart geometry.

Templates only lay out what this package computes, so HTML and Markdown say the same thing:
:func:`report_view` is built once per report and every format reads it. ``views/base.py``
holds the view types and number formats, ``views/fairness.py`` and ``views/records.py``
build the parts of each rule family.
"""

from __future__ import annotations

from typing import Any

from ethicsgate.audit.result import AuditResult, TableIdentityInfo
from ethicsgate.metrics import METRICS
from ethicsgate.report.views.base import (
    GROUP_LIMIT,
    ReportView,
    RuleView,
    fmt_metric,
    ll144_only,
    not_compared_mark,
)
from ethicsgate.report.views.fairness import assertion_view, chart, fairness_depth, shown_groups
from ethicsgate.report.views.records import findings_view
from ethicsgate.report.views.windows import windows_view
from ethicsgate.rules.results import RuleResult, RuleStatus, as_columns
from ethicsgate.vocabulary import STATUS_WORDS, group_label

__all__ = ["ReportView", "RuleView", "report_view", "rule_view"]


def rule_view(rule: RuleResult, refs: dict[str, dict[str, Any]]) -> RuleView:
    """Return a rule's view: its header, assertions, charts, group table, findings and depth."""
    code, word, icon = STATUS_WORDS[rule.status.value]
    # the count metric is the People column already
    metrics = [m for m in rule.groups[0].metrics if m != "count"] if rule.groups else []
    shown, groups_note = shown_groups(rule)
    columns = as_columns(rule.groups)
    # an LL144-only rule compares no group: min_group_size leaves none out (its tables say
    # what they exclude)
    compared = not ll144_only(rule)
    excluded = [
        f"{group_label(key)} ({size})"
        for key, size, small in zip(columns.groups, columns.sizes, columns.excluded, strict=True)
        if small and compared
    ]
    if len(excluded) > GROUP_LIMIT:
        excluded = [*excluded[:GROUP_LIMIT], f"and {len(excluded) - GROUP_LIMIT:,} more"]
    group_rows = [
        {
            "label": group_label(g.group),
            "count": f"{g.count:,}",
            "excluded": not_compared_mark(rule, g.group, g.excluded and compared),
            "values": [fmt_metric(m, g.metrics.get(m)) for m in metrics],
        }
        for g in shown
    ]
    return RuleView(
        id=rule.id,
        title=rule.title or rule.id,
        status=rule.status.value,
        status_word=word,
        icon=icon,
        severity=rule.severity,
        message=rule.message,
        dataset=rule.dataset,
        features=", ".join(rule.sensitive_features),
        references=[refs.get(r, {"id": r, "title": r, "url": None}) for r in rule.references],
        # "groups under 1 people" says nothing; a rule that was not evaluated read no rows
        min_group_size=rule.min_group_size if (rule.min_group_size or 0) > 1 and compared else None,
        rows="not read"
        if rule.status is RuleStatus.ERROR and not rule.rows
        else f"{rule.rows:,} rows",
        assertions=[assertion_view(a, rule) for a in rule.assertions],
        charts=[chart(rule, a, shown) for a in rule.assertions],
        metric_columns=[(m, METRICS[m].title) for m in metrics],
        group_rows=group_rows,
        excluded_groups=excluded,
        findings=findings_view(rule),
        depth=fairness_depth(rule, shown),
        cross_check=_cross_check_text(rule),
        groups_note=groups_note,
        windows=windows_view(rule),
    )


def _cross_check_text(rule: RuleResult) -> str | None:
    """Return the cross-check with fairlearn in one sentence (None: none was asked for)."""
    check = rule.cross_check
    if check is None:
        return None
    verdict = "agrees" if check.agrees else "DISAGREES"
    return (
        f"Cross-checked with fairlearn {check.fairlearn_version} (MetricFrame on the grouped "
        f"rows): {check.groups_checked:,} of {check.groups_total:,} group(s), "
        f"{check.values_compared:,} value(s), largest difference {check.max_abs_difference:.3g} "
        f"(tolerance {check.tolerance:g}): {verdict}."
    )


def report_view(result: AuditResult) -> ReportView:
    """Return the template view of an audit result."""
    references = {r.id: r.model_dump() for r in result.audit.policy.references}
    code, word, icon = STATUS_WORDS[result.status]
    s = result.summary
    headline = {
        "pass": "Every blocking rule passed.",
        "fail": f"{s.blocking_failed} blocking rule(s) did not pass.",
        "error": "A blocking rule could not be evaluated, so the audit cannot pass.",
    }[result.status]
    evidence = [
        {
            "name": e.name,
            "path": e.path if e.table is None else _table_source(e.table),
            "format": e.format,
            "sha256": e.sha256,
            "files": len(e.files),
            "rows_read": "—" if e.rows_read is None else f"{e.rows_read:,}",
            "rows": "—" if e.rows is None else f"{e.rows:,}",
            "filter": e.filter,
        }
        for e in result.audit.evidence
    ]
    return ReportView(
        result=result,
        status=result.status,
        status_word=word,
        icon=icon,
        headline=headline,
        rules=[rule_view(r, references) for r in result.rules],
        evidence=evidence,
    )


def _table_source(table: TableIdentityInfo) -> str:
    """Return how the report names evidence read in a database: table or query, and engine."""
    what = f"table {table.table}" if table.table else f"query (sha256 {table.query_sha256})"
    version = f", version {table.version}" if table.version else ""
    return (
        f"{what} on {table.engine}{version}; {table.rows:,} rows, {table.digest_kind} "
        f"{table.content_digest}"
    )
