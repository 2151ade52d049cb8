"""Policy language: the checks of issue #20 load with their defaults; bad options are located."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ethicsgate.errors import PolicyError
from ethicsgate.policy import load_policy
from ethicsgate.policy.models import CHECKS
from ethicsgate.rules.explain import explain_rule
from ethicsgate.schemas import json_schema

HEADER = """\
schema_version: 1
id: p
version: "1"
title: T
owner: O
rules:
"""

Write = Callable[[str], Path]
NEW_CHECKS = {
    "notice_before_decision": "transparency",
    "opt_out_honored": "consent",
    "request_answered": "oversight",
    "log_retention": "oversight",
    "disclosed_on_request": "transparency",
    "pricing_disclosed": "transparency",
}


@pytest.fixture
def policy(tmp_path: Path) -> Write:
    """Write a policy with the given rules (YAML under ``rules:``) and return its path."""

    def _write(rules: str) -> Path:
        path = tmp_path / "policy.yaml"
        path.write_text(HEADER + textwrap.indent(textwrap.dedent(rules).strip("\n"), "  ") + "\n")
        return path

    return _write


def test_the_new_checks_are_in_the_language_and_the_schema() -> None:
    schema = str(json_schema("policy"))
    for check, kind in NEW_CHECKS.items():
        assert check in CHECKS[kind]
        assert check in schema


def test_notice_before_decision_loads_and_explains(policy: Write) -> None:
    pack = load_policy(
        policy(
            """
            - id: told-first
              kind: transparency
              check: notice_before_decision
              dataset: decisions
              decision_types: [denied]
              notice_types: [adm_notice]
              within: 30d
            """
        )
    )
    text = explain_rule(pack.pack.rules[0], pack.pack)
    assert "denied" in text and "adm_notice" in text and "30d" in text


def test_opt_out_honored_loads_and_explains(policy: Write) -> None:
    pack = load_policy(
        policy(
            """
            - id: opt-outs
              kind: consent
              check: opt_out_honored
              dataset: scoring
              ledger: consent_ledger
              opt_out_purposes: [admt]
              grace: 24h
            """
        )
    ).pack
    rule = pack.rules[0]
    assert rule.datasets == ("scoring", "consent_ledger")
    text = explain_rule(rule, pack)
    assert "opted out" in text and "admt" in text and "1d" in text


def test_request_answered_loads_and_explains(policy: Write) -> None:
    pack = load_policy(
        policy("- {id: r, kind: oversight, check: request_answered, dataset: req, within: 45d}")
    ).pack
    text = explain_rule(pack.rules[0], pack)
    assert "45d" in text and "explanation_request" in text


def test_log_retention_loads_and_explains(policy: Write) -> None:
    pack = load_policy(
        policy(
            "- {id: r, kind: oversight, check: log_retention, dataset: log, min_coverage: 26w, "
            "max_gap_days: 2}"
        )
    ).pack
    text = explain_rule(pack.rules[0], pack)
    assert "182 days" in text and "2 day(s)" in text


def test_disclosed_on_request_loads_and_explains(policy: Write) -> None:
    pack = load_policy(
        policy("- {id: r, kind: transparency, check: disclosed_on_request, dataset: chat}")
    ).pack
    rule = pack.rules[0]
    assert len(rule.question_patterns) >= 8 and rule.disclosure_types == [
        "bot_disclosure", "ai_disclosure"
    ]  # fmt: skip
    assert "person or a machine" in explain_rule(rule, pack)


def test_pricing_disclosed_loads_and_explains(policy: Write) -> None:
    pack = load_policy(
        policy("- {id: r, kind: transparency, check: pricing_disclosed, dataset: offers}")
    ).pack
    rule = pack.rules[0]
    assert rule.disclosure_text == "THIS PRICE WAS SET BY AN ALGORITHM USING YOUR PERSONAL DATA"
    assert "USING YOUR PERSONAL DATA" in explain_rule(rule, pack)


@pytest.mark.parametrize(
    "rule, where, message",
    [
        ("""
         - id: a
           kind: transparency
           check: pricing_disclosed
           dataset: o
           disclosure_text: "  "
         """, "11:", "disclosure_text is blank"),
        ("""
         - id: a
           kind: transparency
           check: pricing_disclosed
           dataset: o
           all_personalised: true
         """, "11:5", "unknown field 'all_personalised'"),
        ("- {id: a, kind: transparency, check: disclosed_on_request, dataset: c, "
         "question_patterns: []}", "7:", "no question could ever be recognised"),
        ("- {id: a, kind: transparency, check: disclosed_on_request, dataset: c, "
         "disclosure_types: [], disclosure_patterns: []}", "7:", "no reply could ever disclose"),
        ("""
         - id: a
           kind: transparency
           check: disclosed_on_request
           dataset: c
           question_patterns: ['are you (?=a) bot']
         """, "11:", "lookaround"),
        ("- {id: a, kind: oversight, check: log_retention, dataset: d, min_coverage: 36h}", "7:",
         "min_coverage must be a whole number of days"),
        ("- {id: a, kind: oversight, check: log_retention, dataset: d, min_coverage: 7d, "
         "max_gap_days: 7}", "7:", "max_gap_days 7 must be shorter"),
        ("- {id: a, kind: oversight, check: log_retention, dataset: d, min_coverage: 7d, "
         "max_gap_days: -1}", "7:", "max_gap_days"),
        ("- {id: a, kind: oversight, check: log_retention, dataset: d, min_coverage: 7d, "
         "finding_fields: [x]}", "7:", "takes no finding_fields"),
        ("- {id: a, kind: oversight, check: log_retention, dataset: d}", "7:", "min_coverage"),
        ("- {id: a, kind: oversight, check: request_answered, dataset: d}", "7:", "within"),
        ("- {id: a, kind: oversight, check: request_answered, dataset: d, within: 0s}", "7:",
         "within must be longer than 0s"),
        ("""
         - id: a
           kind: oversight
           check: request_answered
           dataset: d
           within: 45 days
         """, "11:13", "is not a duration"),
        ("""
         - id: a
           kind: oversight
           check: request_answered
           dataset: d
           within: 45d
           automated_reviewers: [bot]
         """, "12:5", "unknown field 'automated_reviewers'"),
        ("""
         - id: a
           kind: consent
           check: opt_out_honored
           dataset: d
           ledger: l
           opt_out_purposes: []
         """, "12:23", "opt_out_purposes"),
        ("""
         - id: a
           kind: consent
           check: opt_out_honored
           dataset: d
           ledger: l
           opt_out_purposes: [admt]
           purposes: {admt: consent}
         """, "13:5", "unknown field 'purposes'"),
        ("""
         - id: a
           kind: consent
           check: opt_out_honored
           dataset: d
           ledger: d
           opt_out_purposes: [admt]
         """, "7:", "ledger must name another evidence set"),
        ("""
         - id: a
           kind: transparency
           check: notice_before_decision
           dataset: d
           decision_types: [denied]
           notice_types: [notice]
           within: 30
         """, "13:13", "duration 30 has no unit"),
        ("""
         - id: a
           kind: transparency
           check: notice_before_decision
           dataset: d
           decision_types: []
           notice_types: [notice]
         """, "11:21", "decision_types"),
        ("""
         - id: a
           kind: transparency
           check: notice_before_decision
           dataset: d
           decision_types: [denied, notice]
           notice_types: [notice]
         """, "7:", "'notice' is both a decision type and a notice type"),
        ("""
         - id: a
           kind: transparency
           check: notice_before_decision
           dataset: d
           decision_types: [denied]
         """, "7:", "notice_types"),
    ],
)  # fmt: skip
def test_bad_options_are_located(policy: Write, rule: str, where: str, message: str) -> None:
    path = policy(rule)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    text = info.value.diagnostics()
    assert text.startswith(f"{path}:{where}"), text
    assert message in text
