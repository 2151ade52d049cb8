"""The report view of a record-level rule (transparency, consent, oversight): its findings."""

from __future__ import annotations

from ethicsgate.report.views.base import FindingRow, FindingsView
from ethicsgate.rules.results import RuleResult
from ethicsgate.vocabulary import MISSING

__all__ = ["CHECK_TITLES", "REASON_WORDS", "findings_view"]

CHECK_TITLES = {
    "bot_disclosure": "Bots disclose that they are automated",
    "human_handoff": "Requests for a person are answered by a person",
    "decision_explained": "Automated decisions are explained",
    "ai_content_labeled": "AI-generated content is labelled",
    "consent_valid": "Processing is covered by valid consent",
    "withdrawal_honored": "Withdrawn consent is honoured",
    "human_review_required": "Adverse automated decisions get human review",
    "review_sampling": "A sample of decisions gets human quality review",
    "proxy_features": "No model input stands in for a protected attribute",
    "notice_before_decision": "People are told before a covered decision",
    "opt_out_honored": "Opt-outs of automated decisions are honoured",
    "request_answered": "Requests about automated decisions are answered in time",
    "log_retention": "Automation logs are kept long enough, without gaps",
    "disclosed_on_request": "Asked whether it is a machine, the bot says so",
    "pricing_disclosed": "Personalised prices carry the algorithmic-pricing disclosure",
    "periodic_reminder": "Long conversations get a reminder at least every so often",
    "crisis_referral": "People who express thoughts of self-harm are referred to crisis help",
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
    "proxy_association": "stands in for a protected attribute",
    "named_proxy": "zip or postal code as an input",
    "no_notice": "no notice before the decision",
    "notice_too_old": "notice too long before the decision",
    "opted_out": "after the person opted out",
    "overdue": "not answered, past the deadline",
    "not_retained": "logs do not go back far enough",
    "gap_too_long": "days without any log row",
    "not_disclosed_on_request": "asked, but the next bot turn did not disclose",
    "no_reply": "asked, but nobody replied",
    "reminder_overdue": "the bot went on past the reminder's time",
    "not_referred": "no referral to a crisis service",
    "referred_late": "the reply came before the referral",
}


def _or_missing(value: str | None) -> str:
    return MISSING if value is None else value


def findings_view(rule: RuleResult) -> FindingsView | None:
    """Return a record-level rule's counts, findings and strata, or None for other rules."""
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
