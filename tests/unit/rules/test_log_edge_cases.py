"""Each documented edge case of the log checks, one small log per case (docs/rules-logs.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from logs_reference import make_rule, run_rule, verdicts_of, write_jsonl

from ethicsgate.errors import EvidenceError
from ethicsgate.rules.results import RuleResult, RuleStatus

Runner = Callable[..., RuleResult]


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    """Write each dataset (rows -> JSON Lines, str -> file as is) and evaluate one rule."""

    def _run(
        rule: dict[str, Any],
        columns: dict[str, dict[str, str]] | None = None,
        **datasets: list[dict[str, Any]] | tuple[str, str],
    ) -> RuleResult:
        files = {}
        for name, data in datasets.items():
            if isinstance(data, tuple):  # (file name, text)
                files[name] = tmp_path / data[0]
                files[name].write_text(data[1], encoding="utf-8")
            else:
                files[name] = write_jsonl(tmp_path / f"{name}.jsonl", data)
        return run_rule(make_rule(**rule), files, columns=columns)

    return _run


def ev(conv: str, ts: str | None, actor: str, text: str = "", type: str = "message") -> dict:
    return {"conversation_id": conv, "ts": ts, "actor": actor, "type": type, "text": text}


DISCLOSURE = {"kind": "transparency", "check": "bot_disclosure", "dataset": "chat"}
HANDOFF = {"kind": "transparency", "check": "human_handoff", "dataset": "chat"}


# -- bot_disclosure ------------------------------------------------------------------------------


def test_disclosure_at_the_same_instant_as_the_first_bot_message_counts(run: Runner) -> None:
    chat = [
        ev("c1", "2025-03-01T10:00:00Z", "system", "Automated chat", type="bot_disclosure"),
        ev("c1", "2025-03-01T10:00:00Z", "bot", "Hello!"),
        ev("c2", "2025-03-01T10:00:00Z", "bot", "Hello!"),
        ev("c2", "2025-03-01T10:00:01Z", "system", "Automated chat", type="bot_disclosure"),
        ev("c3", "2025-03-01T10:00:00Z", "bot", "Hi, I'm the bakery's virtual assistant."),
    ]
    result = run(DISCLOSURE, chat=chat)
    assert result.records_checked == 3
    assert verdicts_of(result) == {"c2": "disclosed_late"}
    assert result.findings[0].fields == {
        "first_bot_at": "2025-03-01T10:00:00Z",
        "disclosed_at": "2025-03-01T10:00:01Z",
    }


def test_before_first_message_means_before_the_customer_writes(run: Runner) -> None:
    """Utah § 13-77-103(3): disclosed before a written exchange, not in the bot's first reply."""
    chat = [
        # the customer writes first; the bot's first reply discloses: late before anyone writes
        ev("c1", "2025-03-01T10:00:00Z", "customer", "I need advice on my tax return."),
        ev("c1", "2025-03-01T10:00:05Z", "bot", "Hi, I'm the firm's virtual assistant."),
        # a banner before the customer's first message
        ev("c2", "2025-03-01T10:00:00Z", "system", "Automated chat", type="bot_disclosure"),
        ev("c2", "2025-03-01T10:00:01Z", "customer", "I need advice on my tax return."),
        ev("c2", "2025-03-01T10:00:05Z", "bot", "Hello!"),
        # a customer message without a time: whether it came first is not known
        ev("c3", None, "customer", "Hello?"),
        ev("c3", "2025-03-01T10:00:05Z", "bot", "Hi, I'm the firm's virtual assistant."),
    ]
    assert verdicts_of(run(DISCLOSURE, chat=chat)) == {}
    result = run({**DISCLOSURE, "before": "first_message"}, chat=chat)
    assert result.records_checked == 3
    assert verdicts_of(result) == {"c1": "disclosed_late", "c3": "missing_timestamp"}
    late = next(f for f in result.findings if f.record_id == "c1")
    assert late.fields == {
        "first_message_at": "2025-03-01T10:00:00Z",
        "disclosed_at": "2025-03-01T10:00:05Z",
    }


def test_time_zones_compare_as_instants_and_naive_means_utc(run: Runner) -> None:
    chat = [
        ev("c1", "2025-03-01T10:00:00+01:00", "bot", "Hello!"),  # 09:00Z
        ev("c1", "2025-03-01T09:00:00", "system", "x", type="bot_disclosure"),  # naive: 09:00Z
        ev("c2", "2025-03-01T10:00:00+01:00", "bot", "Hello!"),  # 09:00Z
        ev("c2", "2025-03-01 04:30:00-05:00", "system", "x", type="bot_disclosure"),  # 09:30Z
    ]
    result = run(DISCLOSURE, chat=chat)
    assert verdicts_of(result) == {"c2": "disclosed_late"}
    assert result.findings[0].fields["disclosed_at"] == "2025-03-01T09:30:00Z"


def test_missing_timestamp_on_a_bot_message_is_a_finding(run: Runner) -> None:
    chat = [
        ev("c1", "2025-03-01T10:00:00Z", "system", "x", type="bot_disclosure"),
        ev("c1", None, "bot", "Hello!"),
        ev("c2", "", "bot", "Hello!"),  # empty text is a missing timestamp too
    ]
    result = run(DISCLOSURE, chat=chat)
    assert verdicts_of(result) == {"c1": "missing_timestamp", "c2": "missing_timestamp"}
    # found by QA: c1's finding gave the disclosure's 10:00 as disclosed_at and no bot time,
    # read as "disclosed at 10:00" while the untimed bot message may have come first
    for finding in result.findings:
        assert finding.fields["first_bot_at"] is None, finding.fields
        assert finding.fields["disclosed_at"] is None, finding.fields


def test_disclosure_without_timestamp_does_not_count(run: Runner) -> None:
    chat = [ev("c1", None, "system", "x", type="bot_disclosure"),
            ev("c1", "2025-03-01T10:00:00Z", "bot", "Hello!")]  # fmt: skip
    assert verdicts_of(run(DISCLOSURE, chat=chat)) == {"c1": "not_disclosed"}


def test_customer_text_never_discloses_and_actor_is_normalised(run: Runner) -> None:
    chat = [
        ev("c1", "2025-03-01T10:00:00Z", "customer", "Are you a virtual assistant?"),
        ev("c1", "2025-03-01T10:00:01Z", " Bot ", "Hello!"),
        ev("c2", "2025-03-01T10:00:01Z", "BOT", "Ich bin ein Chatbot."),
    ]
    result = run(DISCLOSURE, chat=chat)
    assert result.records_checked == 2
    assert verdicts_of(result) == {"c1": "not_disclosed"}


def test_unknown_actor_is_an_error_naming_file_row_and_column(run: Runner, tmp_path: Path) -> None:
    chat = [
        ev("c1", "2025-03-01T10:00:00Z", "bot", "Hi"),
        ev("c1", "2025-03-01T10:01:00Z", "agent"),
    ]
    with pytest.raises(EvidenceError) as info:
        run(DISCLOSURE, chat=chat)
    text = info.value.diagnostics()
    assert f"{tmp_path / 'chat.jsonl'}:2:" in text
    assert "'actor' is not one of bot, human, customer, system" in text
    assert "found 'agent' in row 2 (line 2), column \"actor\"" in text
    assert "CASE actor WHEN 'agent' THEN 'human'" in text  # the fix
    mapped = {"chat": {"actor": "CASE actor WHEN 'agent' THEN 'human' ELSE actor END"}}
    assert verdicts_of(run(DISCLOSURE, columns=mapped, chat=chat)) == {"c1": "not_disclosed"}


def test_no_bot_conversation_is_an_error_not_a_pass_unless_skipped(run: Runner) -> None:
    chat = [ev("c1", "2025-03-01T10:00:00Z", "customer", "Hello"),
            ev("c1", "2025-03-01T10:01:00Z", "human", "Hi")]  # fmt: skip
    result = run(DISCLOSURE, chat=chat)
    assert (result.status, result.records_checked, result.violation_rate) == (
        RuleStatus.ERROR, 0, None
    )  # fmt: skip
    assert "no conversations with a bot message" in result.message
    skipped = run({**DISCLOSURE, "if_no_records": "skip"}, chat=chat)
    assert skipped.status == RuleStatus.SKIPPED


@pytest.mark.parametrize(
    "name, text",
    [("chat.jsonl", ""), ("chat.csv", "conversation_id,ts,actor,type,text\n")],
    ids=["empty-jsonl", "header-only-csv"],
)
def test_empty_log_has_no_records(run: Runner, name: str, text: str) -> None:
    result = run(DISCLOSURE, chat=(name, text))
    assert result.status == RuleStatus.ERROR
    assert result.rows == 0
    assert result.records_checked == 0


# -- human_handoff -----------------------------------------------------------------------------


def _handoff(minutes: float, **limit: Any) -> list[dict[str, Any]]:
    return [
        ev("c1", "2025-03-01T10:00:00Z", "customer", "Can I talk to a person?"),
        ev("c1", f"2025-03-01T10:{int(minutes):02d}:{round(minutes % 1 * 60):02d}Z", "human", "Hi"),
    ]


def test_human_within_the_limit_inclusive(run: Runner) -> None:
    assert verdicts_of(run({**HANDOFF, "within": "10m"}, chat=_handoff(10))) == {}
    late = run({**HANDOFF, "within": "10m"}, chat=_handoff(10 + 1 / 60))
    assert verdicts_of(late) == {"c1": "answered_late"}
    assert "after 10m1s (limit 10m)" in late.findings[0].message


def test_default_limit_is_ten_minutes(run: Runner) -> None:
    assert verdicts_of(run(HANDOFF, chat=_handoff(11))) == {"c1": "answered_late"}


def test_handoff_missing_timestamps(run: Runner) -> None:
    chat = [
        ev("c1", None, "customer", "Can I talk to a person?"),
        ev("c1", "2025-03-01T10:01:00Z", "human", "Hi"),
        ev("c2", "2025-03-01T10:00:00Z", "customer", "Can I talk to a person?"),
        ev("c2", None, "human", "Hi"),  # a human whose time is unknown cannot answer in time
    ]
    assert verdicts_of(run(HANDOFF, chat=chat)) == {
        "c1": "missing_timestamp",
        "c2": "not_answered",
    }


def test_every_request_counts_and_the_first_failure_is_reported(run: Runner) -> None:
    chat = [
        ev("c1", "2025-03-01T10:00:00Z", "human", "Hello from the shop"),  # before: no answer
        ev("c1", "2025-03-01T10:01:00Z", "customer", "I'd like to speak to a human."),
        ev("c1", "2025-03-01T10:09:00Z", "customer", "Hello?? real person please"),
        ev("c1", "2025-03-01T10:15:00Z", "human", "Sorry for the wait"),
    ]
    result = run({**HANDOFF, "within": "10m"}, chat=chat)
    assert verdicts_of(result) == {"c1": "answered_late"}
    assert result.findings[0].fields == {
        "requested_at": "2025-03-01T10:01:00Z",
        "human_joined_at": "2025-03-01T10:15:00Z",
    }


@pytest.mark.parametrize(
    "text",
    [
        "Je voudrais parler à quelqu'un",
        "¿Puedo hablar con una persona?",
        "Posso parlare con un operatore?",
        "Kan ik met een medewerker spreken?",
        "Kann ich mit einem Mitarbeiter sprechen?",
    ],
)
def test_requests_in_several_languages(run: Runner, text: str) -> None:
    chat = [ev("c1", "2025-03-01T10:00:00Z", "customer", text)]
    assert verdicts_of(run(HANDOFF, chat=chat)) == {"c1": "not_answered"}


def test_only_customers_ask_by_text_but_request_types_count_for_anyone(run: Runner) -> None:
    chat = [
        ev("c1", "2025-03-01T10:00:00Z", "bot", "You can talk to a person any time."),
        ev("c2", "2025-03-01T10:00:00Z", "system", "button", type="handoff_request"),
    ]
    result = run(HANDOFF, chat=chat)
    assert result.records_checked == 1
    assert verdicts_of(result) == {"c2": "not_answered"}


def test_within_turns_counts_events_strictly_between(run: Runner) -> None:
    ask = ev("c1", "2025-03-01T10:00:00Z", "customer", "Can I talk to a person?")
    bot1 = ev("c1", "2025-03-01T10:00:05Z", "bot", "One moment")
    bot2 = ev("c1", "2025-03-01T10:00:06Z", "bot", "Still looking")
    human = ev("c1", "2025-03-01T10:00:07Z", "human", "Hi")
    rule = {**HANDOFF, "within_turns": 2}
    assert verdicts_of(run(rule, chat=[ask, bot1, human])) == {}
    assert verdicts_of(run(rule, chat=[ask, bot1, bot2, human])) == {"c1": "answered_late"}
    # a duplicated event is one event, not an extra turn
    assert verdicts_of(run(rule, chat=[ask, bot1, dict(bot1), human])) == {}


def test_human_join_types_mark_a_person_joining(run: Runner) -> None:
    chat = [
        ev("c1", "2025-03-01T10:00:00Z", "customer", "Can I talk to a person?"),
        ev("c1", "2025-03-01T10:02:00Z", "system", "Anna joined", type="agent_joined"),
    ]
    assert verdicts_of(run(HANDOFF, chat=chat)) == {"c1": "not_answered"}
    joined = run({**HANDOFF, "human_join_types": ["agent_joined"]}, chat=chat)
    assert verdicts_of(joined) == {}


# -- decision_explained and ai_content_labeled --------------------------------------------------


def test_explanations_blank_placeholder_and_short(run: Runner) -> None:
    rows = [
        {"decision_id": "d1", "type": "denied", "reason": " \t"},
        {"decision_id": "d2", "type": "denied", "reason": " N/A "},
        {"decision_id": "d3", "type": "denied", "reason": "no"},
        {"decision_id": "d4", "type": "denied", "reason": "Fewer than 3 purchases"},
        {"decision_id": None, "type": "approved", "reason": None},  # out of scope: no id needed
    ]
    rule = {
        "kind": "transparency",
        "check": "decision_explained",
        "dataset": "d",
        "event_types": ["denied"],
        "min_length": 5,
    }
    result = run(rule, columns={"d": {"explanation": "reason"}}, d=rows)
    assert result.records_checked == 4
    assert verdicts_of(result) == {
        "d1": "missing_explanation",
        "d2": "placeholder_explanation",
        "d3": "explanation_too_short",
    }


def test_ai_label_missing_is_unlabelled_but_missing_generated_flag_is_an_error(
    run: Runner,
) -> None:
    rule = {"kind": "transparency", "check": "ai_content_labeled", "dataset": "e"}
    rows = [
        {"event_id": "e1", "ai_generated": "yes", "ai_label": None},
        {"event_id": "e2", "ai_generated": "no", "ai_label": None},
        {"event_id": "e3", "ai_generated": "true", "ai_label": "true"},
    ]
    assert verdicts_of(run(rule, e=rows)) == {"e1": "unlabeled"}
    with pytest.raises(EvidenceError, match=r"'ai_generated' is missing .* row 2"):
        run(rule, e=[rows[0], {"event_id": "e4", "ai_generated": None, "ai_label": "1"}])
    with pytest.raises(
        EvidenceError, match=r"'ai_label' is not true/false: found 'maybe' in row 1"
    ):
        run(rule, e=[{"event_id": "e5", "ai_generated": "1", "ai_label": "maybe"}])


# -- consent -------------------------------------------------------------------------------------

CONSENT = {
    "kind": "consent",
    "check": "consent_valid",
    "dataset": "events",
    "ledger": "ledger",
    "purposes": {"newsletter": "consent", "orders": "contract"},
}


def grant(subject: str, granted: str | None, withdrawn: str | None = None,
          expires: str | None = None, purpose: str = "newsletter") -> dict:  # fmt: skip
    return {
        "subject_id": subject,
        "purpose": purpose,
        "granted_at": granted,
        "withdrawn_at": withdrawn,
        "expires_at": expires,
    }


def event(event_id: str, subject: str | None, ts: str | None, purpose: str | None = "newsletter"):
    return {"event_id": event_id, "subject_id": subject, "purpose": purpose, "ts": ts}


def test_exact_grant_withdrawal_and_expiry_instants(run: Runner) -> None:
    ledger = [
        grant("a", "2025-03-01T10:00:00Z", withdrawn="2025-03-02T10:00:00Z"),
        grant("b", "2025-03-01T10:00:00Z", expires="2025-03-02T10:00:00Z"),
    ]
    events = [
        event("at-grant", "a", "2025-03-01T10:00:00Z"),
        event("before-grant", "a", "2025-03-01T09:59:59Z"),
        event("at-withdrawal", "a", "2025-03-02T10:00:00Z"),
        event("before-withdrawal", "a", "2025-03-02T09:59:59Z"),
        event("at-expiry", "b", "2025-03-02T10:00:00Z"),
        event("before-expiry", "b", "2025-03-02T09:59:59Z"),
    ]
    result = run(CONSENT, events=events, ledger=ledger)
    assert verdicts_of(result) == {
        "before-grant": "no_consent",
        "at-withdrawal": "consent_withdrawn",
        "at-expiry": "consent_expired",
    }


def test_grace_after_withdrawal(run: Runner) -> None:
    ledger = [grant("a", "2025-03-01T10:00:00Z", withdrawn="2025-03-02T10:00:00Z")]
    events = [
        event("in-grace", "a", "2025-03-04T09:59:59Z"),
        event("grace-over", "a", "2025-03-04T10:00:00Z"),
    ]
    result = run({**CONSENT, "grace": "48h"}, events=events, ledger=ledger)
    assert verdicts_of(result) == {"grace-over": "consent_withdrawn"}
    assert "(grace 2d)" in result.findings[0].message


def test_the_latest_grant_at_or_before_the_event_decides(run: Runner) -> None:
    ledger = [
        grant("a", "2025-03-01T00:00:00Z"),  # never withdrawn ...
        grant("a", "2025-03-05T00:00:00Z", withdrawn="2025-03-06T00:00:00Z"),  # ... superseded
        grant("b", "2025-03-01T00:00:00Z", withdrawn="2025-03-02T00:00:00Z"),
        grant("b", "2025-03-03T00:00:00Z"),  # subscribed again
    ]
    events = [
        event("a-between", "a", "2025-03-04T00:00:00Z"),
        event("a-after", "a", "2025-03-07T00:00:00Z"),
        event("b-gap", "b", "2025-03-02T12:00:00Z"),
        event("b-again", "b", "2025-03-04T00:00:00Z"),
    ]
    assert verdicts_of(run(CONSENT, events=events, ledger=ledger)) == {
        "a-after": "consent_withdrawn",
        "b-gap": "consent_withdrawn",
    }


def test_tied_grants_merge_with_the_earliest_withdrawal(run: Runner) -> None:
    ledger = [
        grant("a", "2025-03-01T00:00:00Z"),
        grant("a", "2025-03-01T00:00:00Z", withdrawn="2025-03-02T00:00:00Z"),
    ]
    result = run(CONSENT, events=[event("e1", "a", "2025-03-03T00:00:00Z")], ledger=ledger)
    assert verdicts_of(result) == {"e1": "consent_withdrawn"}


def test_missing_values_and_legal_bases(run: Runner) -> None:
    ledger = [grant("a", "2025-03-01T00:00:00Z"), grant("c", None)]
    events = [
        event("no-ts", "a", None),
        event("no-subject", None, "2025-03-02T00:00:00Z"),
        event("no-purpose", "a", "2025-03-02T00:00:00Z", purpose=None),
        event("survey", "a", "2025-03-02T00:00:00Z", purpose="survey"),
        event("contract", "zz", None, purpose="orders"),  # not a consent purpose: not checked
        event("grant-unknown", "c", "2025-03-02T00:00:00Z"),  # a grant without time is no grant
    ]
    result = run(CONSENT, events=events, ledger=ledger)
    assert result.records_checked == 5
    assert verdicts_of(result) == {
        "no-ts": "missing_timestamp",
        "no-subject": "missing_subject",
        "no-purpose": "no_legal_basis",
        "survey": "no_legal_basis",
        "grant-unknown": "no_consent",
    }
    ignored = run({**CONSENT, "undeclared_purposes": "ignore"}, events=events, ledger=ledger)
    assert ignored.records_checked == 3
    honored = run({**CONSENT, "check": "withdrawal_honored"}, events=events, ledger=ledger)
    assert set(verdicts_of(honored).values()) == {
        "missing_timestamp", "missing_subject", "no_legal_basis"
    }  # fmt: skip


def test_time_zones_in_ledger_and_events(run: Runner) -> None:
    ledger = [grant("a", "2025-03-01T10:00:00+01:00", withdrawn="2025-03-01T12:00:00-05:00")]
    events = [
        event("at-grant-naive", "a", "2025-03-01 09:00:00"),  # naive = UTC = the grant
        event("before-withdrawal", "a", "2025-03-01T16:59:59Z"),
        event("at-withdrawal", "a", "2025-03-01T18:00:00+01:00"),  # = 17:00Z
    ]
    result = run(CONSENT, events=events, ledger=ledger)
    assert verdicts_of(result) == {"at-withdrawal": "consent_withdrawn"}
    assert result.findings[0].fields["withdrawn_at"] == "2025-03-01T17:00:00Z"


def test_integer_and_text_subject_ids_compare_as_text(run: Runner) -> None:
    ledger = ("ledger.csv", "subject_id,purpose,granted_at,withdrawn_at,expires_at\n"
              "42,newsletter,2025-03-01T00:00:00Z,,\n")  # fmt: skip
    events = [event("e1", "42", "2025-03-02T00:00:00Z"), event("e2", "x1", "2025-03-02T00:00:00Z")]
    result = run(CONSENT, events=events, ledger=ledger)
    assert verdicts_of(result) == {"e2": "no_consent"}


def test_duplicate_events_count_once_and_conflicting_ids_are_an_error(
    run: Runner, tmp_path: Path
) -> None:
    ledger = [grant("a", "2025-03-01T00:00:00Z")]
    same = event("e1", "a", "2025-02-01T00:00:00Z")
    result = run(CONSENT, events=[same, dict(same)], ledger=ledger)
    assert (result.records_checked, result.violations) == (1, 1)
    clash = event("e1", "a", "2025-03-02T00:00:00Z")
    with pytest.raises(EvidenceError) as info:
        run(CONSENT, events=[same, event("e2", "a", None), clash], ledger=ledger)
    text = info.value.diagnostics()
    assert f"{tmp_path / 'events.jsonl'}:1:" in text
    assert "event_id 'e1' names two different records (row 1 (line 1)" in text
    assert "and row 3 (line 3)" in text


# -- oversight -----------------------------------------------------------------------------------


def test_score_band_is_inclusive_and_a_missing_score_counts_as_inside(run: Runner) -> None:
    rule = {
        "kind": "oversight",
        "check": "human_review_required",
        "dataset": "d",
        "adverse": {"outcomes": ["denied"], "score_min": 0.4, "score_max": 0.6},
    }
    rows = [
        {"decision_id": f"d{i}", "outcome": o, "score": s, "reviewer": r}
        for i, (o, s, r) in enumerate(
            [
                ("denied", 0.4, None),
                ("denied", 0.6, ""),
                ("denied", 0.61, None),
                ("denied", None, "system"),
                ("denied", 0.5, " Anna "),
                ("approved", 0.5, None),
            ]
        )
    ]
    result = run(rule, d=rows)
    assert result.records_checked == 4
    assert verdicts_of(result) == {
        "d0": "no_human_review",
        "d1": "no_human_review",
        "d3": "automated_reviewer",
    }


def test_routing_counts_only_when_accepted(run: Runner) -> None:
    rows = [{"decision_id": "d1", "adverse": True, "reviewer": None, "routed_to_review": "yes"}]
    base = {"kind": "oversight", "check": "human_review_required", "dataset": "d"}
    assert verdicts_of(run(base, d=rows)) == {"d1": "no_human_review"}
    accepted = {**base, "review_evidence": ["reviewer", "routed_to_review"]}
    assert verdicts_of(run(accepted, d=rows)) == {}


def test_missing_outcome_is_an_error(run: Runner) -> None:
    rule = {
        "kind": "oversight",
        "check": "human_review_required",
        "dataset": "d",
        "adverse": {"outcomes": ["denied"]},
    }
    rows = [{"decision_id": "d1", "outcome": "denied", "reviewer": "Anna"},
            {"decision_id": "d2", "outcome": None, "reviewer": "Anna"}]  # fmt: skip
    with pytest.raises(EvidenceError, match=r"'outcome' is missing \(1 row\(s\)\): .* row 2"):
        run(rule, d=rows)


def test_review_sample_is_stable_under_row_order_and_depends_on_the_seed(run: Runner) -> None:
    rows = [{"decision_id": f"d{i:03d}", "segment": "ab"[i % 2], "qa_reviewer": None}
            for i in range(200)]  # fmt: skip
    rule = {"kind": "oversight", "check": "review_sampling", "dataset": "d", "share": 0.05,
            "seed": 1, "strata": ["segment"]}  # fmt: skip
    first = set(verdicts_of(run(rule, d=rows)))
    assert len(first) == 10  # ceil(0.05 * 100) per segment, none reviewed yet
    assert set(verdicts_of(run(rule, d=list(reversed(rows))))) == first
    assert set(verdicts_of(run({**rule, "seed": 2}, d=rows))) != first


# -- thresholds, statuses, truncation -------------------------------------------------------


def _explained(n_bad: int, n: int = 20) -> list[dict[str, Any]]:
    return [{"decision_id": f"d{i:02d}", "explanation": "" if i < n_bad else "Because of X"}
            for i in range(n)]  # fmt: skip


EXPLAINED = {"kind": "transparency", "check": "decision_explained", "dataset": "d"}


@pytest.mark.parametrize(
    "bad, max_rate, severity, status",
    [
        (0, 0.0, "block", RuleStatus.PASS),
        (1, 0.0, "block", RuleStatus.FAIL),
        (1, 0.05, "block", RuleStatus.PASS),  # 1/20 = 0.05 is not above 0.05
        (2, 0.05, "block", RuleStatus.FAIL),
        (2, 0.05, "warn", RuleStatus.WARN),
        (2, 0.05, "info", RuleStatus.WARN),
    ],
)
def test_violation_rate_against_the_threshold(
    run: Runner, bad: int, max_rate: float, severity: str, status: RuleStatus
) -> None:
    rule = {**EXPLAINED, "max_violation_rate": max_rate, "severity": severity}
    result = run(rule, d=_explained(bad))
    assert result.status == status
    assert result.violation_rate == bad / 20


def test_findings_are_listed_up_to_max_findings_and_all_are_counted(run: Runner) -> None:
    result = run({**EXPLAINED, "max_findings": 3}, d=_explained(7))
    assert [f.record_id for f in result.findings] == ["d00", "d01", "d02"]
    assert (result.findings_total, result.findings_truncated, result.violations) == (7, True, 7)
    assert result.violations_by_reason == {"missing_explanation": 7}
    full = run(EXPLAINED, d=_explained(7))
    assert (len(full.findings), full.findings_truncated) == (7, False)
