"""The checks of issue #20 in the bakery demo: explained, reported, queued for review, published.

Each of the six new rules of the bakery pack must appear in `policy explain`, in the report
(HTML and Markdown, with its check's title), in the review queue (one item per finding) and in
the transparency statement (under its system).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ethicsgate.audit import run_audit
from ethicsgate.audit.result import AuditResult
from ethicsgate.examples.bakery import EXPECTED
from ethicsgate.policy import load_policy
from ethicsgate.policy.models import PolicyPack
from ethicsgate.publish.statement import build_statement
from ethicsgate.report import render_html, render_markdown
from ethicsgate.report.views.records import CHECK_TITLES, REASON_WORDS
from ethicsgate.review import items_from_audit
from ethicsgate.rules.explain import explain_policy

ROOT = Path(__file__).resolve().parents[3]
NEW = {
    "chatbot-admits-it-is-a-bot": "disclosed_on_request",
    "customers-are-told-before-discount-decisions": "notice_before_decision",
    "profiling-objections-are-honoured": "opt_out_honored",
    "data-requests-answered-within-a-month": "request_answered",
    "discount-logs-kept-six-months": "log_retention",
    "personalised-prices-say-so": "pricing_disclosed",
}


@pytest.fixture(scope="module")
def pack() -> PolicyPack:
    return load_policy(ROOT / "policies" / "bakery-customer-automation.yaml").pack


@pytest.fixture(scope="module")
def shipped() -> AuditResult:
    return run_audit(ROOT / "audits" / "bakery.yaml")


def test_every_new_check_is_in_the_pack_and_explained(pack: PolicyPack) -> None:
    checks = {r.id: getattr(r, "check", None) for r in pack.rules}
    assert {rule: checks.get(rule) for rule in NEW} == NEW
    explained = {r["id"]: r for r in explain_policy(pack)["rules"]}
    for rule in NEW:
        paragraph = explained[rule]["checks"]
        assert len(paragraph) > 60 and paragraph.endswith("."), paragraph
        assert explained[rule]["references"], rule  # each cites what it implements


def test_every_new_check_fails_in_the_report_with_its_title_and_reasons(
    shipped: AuditResult,
) -> None:
    html, markdown = render_html(shipped), render_markdown(shipped)
    rules = {r.id: r for r in shipped.rules}
    for rule, check in NEW.items():
        result = rules[rule]
        assert result.status.value == "fail" and result.check == check
        assert result.violations_by_reason == EXPECTED[rule]
        assert CHECK_TITLES[check] in html and CHECK_TITLES[check] in markdown
        for reason in result.violations_by_reason:
            assert REASON_WORDS[reason] in html, reason
        for finding in result.findings:
            assert finding.message and finding.record_id


def test_every_finding_of_the_new_checks_is_queued_for_review(
    pack: PolicyPack, shipped: AuditResult
) -> None:
    items = items_from_audit(shipped, pack, now=datetime(2025, 5, 2, tzinfo=UTC))
    queued: dict[str, set[str]] = {}
    for item in items:
        queued.setdefault(item.rule_id, set()).add(item.record_id)
    rules = {r.id: r for r in shipped.rules}
    for rule in NEW:
        assert queued[rule] == {f.record_id for f in rules[rule].findings}, rule
    gap = next(i for i in items if i.rule_id == "discount-logs-kept-six-months")
    assert gap.record_id == "2025-01-05" and gap.reason == "gap_too_long"
    assert gap.fields == {"gap_from": "2025-01-05", "gap_to": "2025-01-09", "gap_days": "5"}


def test_the_statement_reports_each_new_check_under_its_system(
    pack: PolicyPack, shipped: AuditResult
) -> None:
    statement = build_statement(pack, shipped)
    published = {c.rule: c for s in statement.systems for c in s.checks}
    for rule in NEW:
        check = published[rule]
        assert check.status == "not_met" and check.title == next(
            r.title for r in pack.rules if r.id == rule
        )
        assert check.summary
