"""Policy language: transparency, consent and oversight rules, with located errors."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from ethicsgate.audit.spec import load_audit_spec
from ethicsgate.errors import AuditSpecError, PolicyError
from ethicsgate.policy import load_policy
from ethicsgate.policy.fields import format_duration, parse_duration
from ethicsgate.policy.models import (
    PLANNED_KINDS,
    BotDisclosureRule,
    ConsentRule,
    ConsentValidRule,
    HumanHandoffRule,
    ReviewSamplingRule,
    TransparencyRule,
)
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


@pytest.fixture
def policy(tmp_path: Path) -> Write:
    """Write a policy with the given rules (YAML under ``rules:``) and return its path."""

    def _write(rules: str) -> Path:
        path = tmp_path / "policy.yaml"
        path.write_text(HEADER + textwrap.indent(textwrap.dedent(rules).strip("\n"), "  ") + "\n")
        return path

    return _write


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10m", timedelta(minutes=10)),
        ("48h", timedelta(hours=48)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(minutes=90)),
        ("90s", timedelta(seconds=90)),
        ("0s", timedelta(0)),
        ("0", timedelta(0)),
        (0, timedelta(0)),
        (" 10M ", timedelta(minutes=10)),
    ],
)
def test_durations_parse(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("10", "has no unit"),
        (10, "has no unit"),
        ("-5m", "cannot be negative"),
        ("10x", "is not a duration"),
        ("1m1h", "is not a duration"),  # units from the largest to the smallest
        ("", "is not a duration"),
        (True, "is not a duration"),
        (1.5, "is not a duration"),
    ],
)
def test_bad_durations_are_rejected(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_durations_format_back() -> None:
    assert [format_duration(parse_duration(t)) for t in ("10m", "48h", "1h30m", "0")] == [
        "10m", "2d", "1h30m", "0s"
    ]  # fmt: skip


def test_the_three_kinds_load_with_defaults(policy: Write) -> None:
    loaded = load_policy(
        policy(
            """
            - {id: a, kind: transparency, check: bot_disclosure, dataset: chat}
            - {id: b, kind: transparency, check: human_handoff, dataset: chat}
            - id: c
              kind: consent
              check: consent_valid
              dataset: sends
              ledger: ledger
              purposes: {newsletter: consent, orders: contract}
              grace: 48h
            - {id: d, kind: oversight, check: review_sampling, dataset: dec, share: 0.05, seed: 1}
            """
        )
    )
    a, b, c, d = loaded.pack.rules
    assert isinstance(a, BotDisclosureRule) and isinstance(a, TransparencyRule)
    assert a.max_violation_rate == 0.0 and a.max_findings == 1000 and a.if_no_records == "error"
    assert isinstance(b, HumanHandoffRule) and b.window == timedelta(minutes=10)
    assert isinstance(c, ConsentValidRule) and isinstance(c, ConsentRule)
    assert c.grace == timedelta(hours=48) and c.consent_purposes == ["newsletter"]
    assert c.datasets == ("sends", "ledger")
    assert isinstance(d, ReviewSamplingRule) and d.datasets == ("dec",)


def test_bad_duration_is_located(policy: Write) -> None:
    path = policy(
        """
        - id: hand
          kind: transparency
          check: human_handoff
          dataset: chat
          within: 10
        """
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    text = info.value.diagnostics()
    assert text.startswith(f"{path}:11:13: ")
    assert "rules.0.within: duration 10 has no unit" in text


def test_unknown_check_suggests_the_closest(policy: Write) -> None:
    path = policy("- {id: a, kind: transparency, check: bot_disclosre, dataset: chat}")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    text = info.value.diagnostics()
    assert text.startswith(f"{path}:7:")
    assert (
        "unknown check 'bot_disclosre' for kind transparency (did you mean 'bot_disclosure'?)"
        in text
    )


def test_missing_check_lists_the_checks(policy: Write) -> None:
    with pytest.raises(PolicyError, match=r"needs a 'check' \(one of: consent_valid, withdrawal"):
        load_policy(
            policy("- {id: a, kind: consent, dataset: s, ledger: l, purposes: {x: consent}}")
        )


def test_an_option_of_another_check_is_an_unknown_field_at_its_key(policy: Write) -> None:
    path = policy(
        """
        - id: a
          kind: transparency
          check: bot_disclosure
          dataset: chat
          within: 10m
        """
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    text = info.value.diagnostics()
    assert text.startswith(f"{path}:11:5: ")
    assert "rules.0.within: unknown field 'within'" in text


@pytest.mark.parametrize(
    "rule, message",
    [
        ("{id: a, kind: transparency, check: human_handoff, dataset: c, within: 5m, "
         "within_turns: 2}", "either within"),
        ("{id: a, kind: transparency, check: human_handoff, dataset: c, within: 0s}",
         "longer than 0s"),
        ("{id: a, kind: transparency, check: bot_disclosure, dataset: c, "
         "disclosure_patterns: ['(unclosed']}", "not a valid regular expression"),
        ("{id: a, kind: transparency, check: bot_disclosure, dataset: c, "
         "disclosure_patterns: ['bot(?!x)']}", "lookaround or a backreference"),
        ("{id: a, kind: transparency, check: bot_disclosure, dataset: c, "
         "disclosure_types: [], disclosure_patterns: []}", "no conversation could ever disclose"),
        ("{id: a, kind: consent, check: consent_valid, dataset: s, ledger: s, "
         "purposes: {x: consent}}", "ledger must name another evidence set"),
        ("{id: a, kind: consent, check: consent_valid, dataset: s, ledger: l, "
         "purposes: {x: permission}}", "purposes.x"),
        ("{id: a, kind: consent, check: consent_valid, dataset: s, ledger: l, purposes: {}}",
         "purposes"),
        ("{id: a, kind: oversight, check: review_sampling, dataset: d, share: 0, seed: 1}",
         "share"),
        ("{id: a, kind: oversight, check: human_review_required, dataset: d, "
         "adverse: {outcomes: [denied], score_min: 0.6, score_max: 0.4}}", "is above score_max"),
        ("{id: a, kind: transparency, check: decision_explained, dataset: d, "
         "max_violation_rate: 1.5}", "max_violation_rate"),
    ],
)  # fmt: skip
def test_invalid_options_are_policy_errors(policy: Write, rule: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(policy(f"- {rule}"))


def test_planned_kinds_list_the_supported_ones(policy: Write) -> None:
    if not PLANNED_KINDS:
        pytest.skip("no planned kind left")
    with pytest.raises(PolicyError, match=r"supported: fairness, transparency, consent, oversight"):
        load_policy(policy(f"- {{id: a, kind: {PLANNED_KINDS[0]}, dataset: d}}"))


def test_the_audit_spec_must_bind_the_ledger_too(policy: Write, tmp_path: Path) -> None:
    policy(
        "- {id: c, kind: consent, check: consent_valid, dataset: sends, ledger: consent_ledger, "
        "purposes: {newsletter: consent}}"
    )
    spec = tmp_path / "audit.yaml"
    spec.write_text(
        "schema_version: 1\nid: a\npolicy: policy.yaml\nevidence:\n  sends: {path: s.csv}\n"
    )
    with pytest.raises(AuditSpecError) as info:
        load_audit_spec(spec)
    text = info.value.diagnostics()
    assert "rule 'c'" in text and "reads dataset 'consent_ledger'" in text
    assert text.startswith(f"{spec}:5:3: ")


def test_policy_schema_lists_every_check() -> None:
    schema = str(json_schema("policy"))
    for check in ("bot_disclosure", "human_handoff", "decision_explained", "ai_content_labeled",
                  "consent_valid", "withdrawal_honored", "human_review_required",
                  "review_sampling"):  # fmt: skip
        assert check in schema
    assert "'pattern': '^(0|(\\\\d+w)?" in schema  # durations are documented as text
