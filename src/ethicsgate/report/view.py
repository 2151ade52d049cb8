"""Shape an audit result for people: plain words, formatted numbers and chart geometry.

Templates only lay out what this module computes, so HTML and Markdown say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ethicsgate.audit.result import AuditResult
from ethicsgate.metrics import METRICS
from ethicsgate.rules.results import AssertionResult, GroupKey, RuleResult, RuleStatus

__all__ = ["ReportView", "report_view"]

STATUS_WORDS = {
    "pass": ("PASS", "Passed", "✔"),
    "fail": ("FAIL", "Failed", "✘"),
    "warn": ("WARN", "Failed (warning only)", "⚠"),
    "error": ("ERROR", "Could not be evaluated", "?"),
    "skipped": ("SKIPPED", "Skipped", "–"),
    "waived": ("WAIVED", "Failed, but waived", "~"),
}
_AGGREGATE_WORDS = {
    "ratio": "ratio to the reference group",
    "difference": "difference from the reference group",
    "value": "value",
}
_OP_WORDS = {">=": "at least", ">": "more than", "<=": "at most", "<": "less than"}


def group_label(group: GroupKey | None) -> str:
    """Return a group as people read it: ``race = Caucasian, sex = Male``."""
    if group is None:
        return "all people (overall)"
    return ", ".join(f"{k} = {'(missing)' if v is None else v}" for k, v in group.items())


def fmt_metric(metric: str, value: float | None) -> str:
    """Format a metric value: rates as percentages, counts as integers."""
    if value is None:
        return "undefined"
    if metric == "count":
        return f"{value:,.0f}"
    return f"{value * 100:.2f} %"


def fmt_number(value: float | None) -> str:
    """Format a ratio, difference or threshold with up to four significant digits."""
    return "undefined" if value is None else f"{value:.4g}"


@dataclass
class Bar:
    """One bar of a chart: a group's observed value and how it compares."""

    label: str
    value: float | None
    text: str
    width: float  # percent of the plot width
    failing: bool
    excluded: bool
    note: str


@dataclass
class Chart:
    """A horizontal bar chart of one asserted quantity across groups, with its threshold."""

    title: str
    bars: list[Bar]
    threshold: float
    threshold_pos: float  # percent of the plot width
    threshold_text: str
    axis_max_text: str


@dataclass
class AssertionView:
    """An assertion in words."""

    status: str
    status_word: str
    icon: str
    what: str
    requirement: str
    observed: str
    group: str
    reference: str
    message: str


@dataclass
class RuleView:
    """A rule with its assertions, charts and group table."""

    id: str
    title: str
    status: str
    status_word: str
    icon: str
    severity: str
    message: str
    dataset: str
    features: str
    references: list[dict[str, Any]]
    min_group_size: int | None
    rows: str
    assertions: list[AssertionView]
    charts: list[Chart]
    metric_columns: list[tuple[str, str]]
    group_rows: list[dict[str, Any]]
    excluded_groups: list[str]
    findings: FindingsView | None = None
    depth: Any = None  # FairnessDepthView (report/fairness_view.py) for fairness rules


@dataclass
class FindingRow:
    """One violating record (escaped by the HTML and Markdown templates)."""

    record_id: str
    reason: str
    message: str
    values: list[str]


@dataclass
class FindingsView:
    """A record-level rule's counts, parameters, reasons, findings and review strata."""

    check: str
    check_title: str
    facts: list[tuple[str, str]]
    parameters: list[tuple[str, str]]
    reasons: list[tuple[str, str, str]]  # code, words, count
    columns: list[str]
    rows: list[FindingRow]
    shown: int
    total: int
    truncated: bool
    strata_columns: list[str]
    strata: list[dict[str, Any]]


@dataclass
class ReportView:
    """Everything the templates show."""

    result: AuditResult
    status: str
    status_word: str
    icon: str
    headline: str
    rules: list[RuleView]
    evidence: list[dict[str, Any]] = field(default_factory=list)


def _observed_for(
    rule: RuleResult, assertion: AssertionResult
) -> list[tuple[GroupKey, float | None, bool]]:
    out = []
    for group in rule.groups:
        if assertion.aggregate == "ratio":
            value = group.ratios.get(assertion.metric)
        elif assertion.aggregate == "difference":
            value = group.differences.get(assertion.metric)
        else:
            value = group.metrics.get(assertion.metric)
        out.append((group.group, value, group.excluded))
    return out


def _chart(rule: RuleResult, assertion: AssertionResult) -> Chart:
    if assertion.metric == "impact_ratio":
        from ethicsgate.report.fairness_view import impact_ratio_chart

        return impact_ratio_chart(rule, assertion)  # type: ignore[no-any-return]
    title = METRICS[assertion.metric].title
    rows = _observed_for(rule, assertion)
    values = [v for _, v, ex in rows if v is not None and not ex]
    axis_max = max([*values, assertion.threshold, 1e-12])
    if assertion.aggregate == "ratio":
        axis_max = max(axis_max, 1.0)
    axis_max *= 1.05
    as_rate = assertion.aggregate == "value" and assertion.metric != "count"
    bars = []
    failing = {tuple(sorted(g.items())) for g in assertion.failing_groups}
    for group, value, excluded in rows:
        if excluded:
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
        title=f"{title} — {_AGGREGATE_WORDS[assertion.aggregate]}",
        bars=bars,
        threshold=assertion.threshold,
        threshold_pos=round(100 * assertion.threshold / axis_max, 2),
        threshold_text=f"required: {_OP_WORDS[assertion.op]} {threshold_text}",
        axis_max_text=fmt_number(axis_max),
    )


def _assertion_view(assertion: AssertionResult) -> AssertionView:
    code, word, icon = STATUS_WORDS[assertion.status]
    from ethicsgate.report.fairness_view import metric_title

    metric = metric_title(assertion.metric)
    as_rate = assertion.aggregate == "value" and assertion.metric not in ("count", "impact_ratio")
    show = (lambda v: fmt_metric(assertion.metric, v)) if as_rate else fmt_number
    reference = ""
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
    return AssertionView(
        status=assertion.status,
        status_word=word,
        icon=icon,
        what=metric
        if assertion.metric == "impact_ratio"
        else f"{metric}, {_AGGREGATE_WORDS[assertion.aggregate]}",
        requirement=f"{_OP_WORDS[assertion.op]} {show(assertion.threshold)} for every "
        + ("compared category" if assertion.metric == "impact_ratio" else "group"),
        observed=show(assertion.observed),
        group=group_label(assertion.group) if assertion.group else "—",
        reference=reference,
        message=assertion.message,
    )


def _rule_view(rule: RuleResult, refs: dict[str, dict[str, Any]]) -> RuleView:
    code, word, icon = STATUS_WORDS[rule.status.value]
    metrics = list(rule.groups[0].metrics) if rule.groups else []
    group_rows = [
        {
            "label": group_label(g.group),
            "count": f"{g.count:,}",
            "excluded": g.excluded,
            "values": [fmt_metric(m, g.metrics.get(m)) for m in metrics],
        }
        for g in rule.groups
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
        min_group_size=rule.min_group_size if (rule.min_group_size or 0) > 1 else None,
        rows="not read"
        if rule.status is RuleStatus.ERROR and not rule.rows
        else f"{rule.rows:,} rows",
        assertions=[_assertion_view(a) for a in rule.assertions],
        charts=[_chart(rule, a) for a in rule.assertions],
        metric_columns=[(m, METRICS[m].title) for m in metrics],
        group_rows=group_rows,
        excluded_groups=[f"{group_label(g.group)} ({g.count})" for g in rule.groups if g.excluded],
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
            "path": e.path,
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
        rules=[_with_depth(_with_findings(_rule_view(r, references), r), r) for r in result.rules],
        evidence=evidence,
    )


# -- record-level rules (transparency, consent, oversight) -----------------------------------

CHECK_TITLES = {
    "bot_disclosure": "Bots disclose that they are automated",
    "human_handoff": "Requests for a person are answered by a person",
    "decision_explained": "Automated decisions are explained",
    "ai_content_labeled": "AI-generated content is labelled",
    "consent_valid": "Processing is covered by valid consent",
    "withdrawal_honored": "Withdrawn consent is honoured",
    "human_review_required": "Adverse automated decisions get human review",
    "review_sampling": "A sample of decisions gets human quality review",
}
REASON_WORDS = {
    "not_disclosed": "never disclosed",
    "disclosed_late": "disclosed too late",
    "missing_timestamp": "missing timestamp",
    "not_answered": "no person joined",
    "answered_late": "a person joined too late",
    "missing_explanation": "no explanation",
    "placeholder_explanation": "placeholder explanation",
    "explanation_too_short": "explanation too short",
    "unlabeled": "no AI-generated label",
    "no_legal_basis": "no legal basis declared",
    "missing_subject": "no data subject",
    "no_consent": "no consent",
    "consent_withdrawn": "after consent was withdrawn",
    "consent_expired": "after consent expired",
    "no_human_review": "no human review",
    "automated_reviewer": "reviewer is not a person",
    "not_reviewed": "not reviewed",
}


def _or_missing(value: str | None) -> str:
    return "(missing)" if value is None else value


def _with_findings(view: RuleView, rule: RuleResult) -> RuleView:
    view.findings = _findings_view(rule)
    return view


def _findings_view(rule: RuleResult) -> FindingsView | None:
    if rule.check is None or rule.records_checked is None:
        return None
    rate = "—" if rule.violation_rate is None else f"{rule.violation_rate * 100:.2f} %"
    allowed = "—" if rule.max_violation_rate is None else f"{rule.max_violation_rate * 100:.2f} %"
    facts = [
        ("Records checked", f"{rule.records_checked:,}"),
        ("Violations", f"{rule.violations or 0:,}"),
        ("Violation rate", rate),
        ("Largest rate that passes", allowed),
    ]
    parameters = [
        (name, ", ".join(value) if isinstance(value, list) else str(value))
        for name, value in rule.parameters.items()
        if value is not None and value != []
    ]
    columns = list(rule.findings[0].fields) if rule.findings else []
    rows = [
        FindingRow(
            record_id=f.record_id,
            reason=REASON_WORDS.get(f.reason, f.reason),
            message=f.message,
            values=["—" if f.fields.get(c) is None else str(f.fields[c]) for c in columns],
        )
        for f in rule.findings
    ]
    strata_columns = list(rule.strata[0].group) if rule.strata else []
    strata = [
        {
            "values": [_or_missing(s.group.get(c)) for c in strata_columns],
            "decisions": f"{s.decisions:,}",
            "sampled": f"{s.sampled:,}",
            "reviewed": f"{s.reviewed:,}",
        }
        for s in rule.strata
    ]
    return FindingsView(
        check=rule.check,
        check_title=CHECK_TITLES.get(rule.check, rule.check),
        facts=facts,
        parameters=parameters,
        reasons=[
            (code, REASON_WORDS.get(code, code), f"{n:,}")
            for code, n in rule.violations_by_reason.items()
        ],
        columns=columns,
        rows=rows,
        shown=len(rows),
        total=rule.findings_total or 0,
        truncated=rule.findings_truncated,
        strata_columns=strata_columns,
        strata=strata,
    )


def _with_depth(view: RuleView, rule: RuleResult) -> RuleView:
    """Attach a fairness rule's LL144 tables, intervals, tests and score metrics."""
    from ethicsgate.report.fairness_view import with_depth

    return with_depth(view, rule)  # type: ignore[no-any-return]
