"""The edge cases docs/rules-logs.md defines for the checks of issue #20, one by one.

Each case is a tiny log written out by hand, so that a change in semantics shows as a named
failure here before it shows as a disagreement in the property tests.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from logs_reference import make_rule, run_rule, verdicts_of, write_jsonl

from ethicsgate.errors import EvidenceError
from ethicsgate.report.views.records import findings_view
from ethicsgate.rules.results import RuleResult, RuleStatus
from ethicsgate.rules.transparency import explain_transparency


def _run(rule: Any, **files: list[dict[str, Any]]) -> RuleResult:
    with tempfile.TemporaryDirectory() as tmp:
        paths = {
            name: write_jsonl(Path(tmp) / f"{name}.jsonl", rows) for name, rows in files.items()
        }
        return run_rule(rule, paths)


def T(clock: str, day: int = 1) -> str:  # noqa: N802 - a time, read like one
    return f"2025-03-{day:02d}T{clock}Z"


# -- notice_before_decision -----------------------------------------------------------------


def _notice_rule(**options: Any) -> Any:
    return make_rule(
        kind="transparency", check="notice_before_decision", dataset="log",
        decision_types=["denied"], notice_types=["notice"], **options,
    )  # fmt: skip


def test_a_notice_at_the_decisions_instant_counts_one_second_later_does_not() -> None:
    rows = [
        {"event_id": "n1", "subject_id": "a", "ts": T("10:00:00"), "type": "notice"},
        {"event_id": "d1", "subject_id": "a", "ts": T("10:00:00"), "type": "denied"},
        {"event_id": "n2", "subject_id": "b", "ts": T("10:00:01"), "type": "notice"},
        {"event_id": "d2", "subject_id": "b", "ts": T("10:00:00"), "type": "denied"},
    ]
    assert verdicts_of(_run(_notice_rule(), log=rows)) == {"d2": "no_notice"}


def test_within_is_inclusive_and_a_notice_to_someone_else_does_not_count() -> None:
    rows = [
        {"event_id": "n1", "subject_id": "a", "ts": T("09:00:00"), "type": "notice"},
        {"event_id": "d1", "subject_id": "a", "ts": T("10:00:00"), "type": "denied"},
        {"event_id": "d2", "subject_id": "a", "ts": T("10:00:01"), "type": "denied"},
        {"event_id": "d3", "subject_id": "c", "ts": T("10:00:00"), "type": "denied"},
        {"event_id": "d4", "subject_id": None, "ts": T("10:00:00"), "type": "denied"},
        {"event_id": "d5", "subject_id": "a", "ts": None, "type": "denied"},
    ]
    result = _run(_notice_rule(within="1h"), log=rows)
    assert verdicts_of(result) == {
        "d2": "notice_too_old", "d3": "no_notice", "d4": "missing_subject",
        "d5": "missing_timestamp",
    }  # fmt: skip
    assert result.records_checked == 5


def test_a_decision_without_an_id_is_an_error_a_notice_without_one_is_not() -> None:
    rows = [
        {"event_id": None, "subject_id": "a", "ts": T("09:00:00"), "type": "notice"},
        {"event_id": "d1", "subject_id": "a", "ts": T("10:00:00"), "type": "denied"},
    ]
    assert _run(_notice_rule(), log=rows).status == RuleStatus.PASS
    rows.append({"event_id": None, "subject_id": "a", "ts": T("11:00:00"), "type": "denied"})
    with pytest.raises(EvidenceError, match="event_id"):
        _run(_notice_rule(), log=rows)


def test_the_summary_calls_the_decisions_by_no_one_laws_term() -> None:
    # Colorado's "consequential decisions" are the CCPA's "significant decisions": the check
    # serves both, so it says "covered decisions" (the rule's title can name the law's term)
    rows = [
        {"event_id": "n1", "subject_id": "a", "ts": T("09:00:00"), "type": "notice"},
        {"event_id": "d1", "subject_id": "a", "ts": T("10:00:00"), "type": "denied"},
        {"event_id": "d2", "subject_id": "b", "ts": T("10:00:00"), "type": "denied"},
    ]
    rule = _notice_rule()
    result = _run(rule, log=rows)
    assert result.message.startswith("1 of 2 covered decisions violate the check")
    view = findings_view(result)
    assert view is not None and view.check_title == "People are told before a covered decision"
    assert explain_transparency(rule).startswith("Every covered decision (denied)")


# -- opt_out_honored ------------------------------------------------------------------------


def _opt_out_rule(grace: str = "0s") -> Any:
    return make_rule(
        kind="consent", check="opt_out_honored", dataset="events", ledger="ledger",
        opt_out_purposes=["admt"], grace=grace,
    )  # fmt: skip


def _ledger(*rows: tuple[str, str | None, str | None]) -> list[dict[str, Any]]:
    return [
        {"subject_id": s, "purpose": "admt", "granted_at": g, "withdrawn_at": w} for s, g, w in rows
    ]


def test_an_event_at_the_opt_out_instant_violates_and_an_opt_in_covers_what_follows() -> None:
    ledger = _ledger(("a", None, T("10:00:00")), ("a", T("12:00:00"), None))
    events = [
        {"event_id": "e1", "subject_id": "a", "ts": T("09:59:59")},
        {"event_id": "e2", "subject_id": "a", "ts": T("10:00:00")},
        {"event_id": "e3", "subject_id": "a", "ts": T("12:00:00")},
    ]
    assert verdicts_of(_run(_opt_out_rule(), events=events, ledger=ledger)) == {"e2": "opted_out"}


def test_an_opt_out_and_an_opt_in_at_the_same_instant_the_opt_out_wins() -> None:
    ledger = _ledger(("a", T("10:00:00"), None), ("a", None, T("10:00:00")))
    events = [{"event_id": "e1", "subject_id": "a", "ts": T("11:00:00")}]
    assert verdicts_of(_run(_opt_out_rule(), events=events, ledger=ledger)) == {"e1": "opted_out"}


def test_a_second_opt_out_does_not_restart_the_grace() -> None:
    ledger = _ledger(("a", None, T("10:00:00")), ("a", None, T("11:30:00")))
    events = [{"event_id": "e1", "subject_id": "a", "ts": T("12:00:00")}]
    result = _run(_opt_out_rule("2h"), events=events, ledger=ledger)
    assert verdicts_of(result) == {"e1": "opted_out"}
    assert result.findings[0].fields["opted_out_at"] == T("10:00:00")
    events = [{"event_id": "e1", "subject_id": "a", "ts": T("11:59:59")}]
    assert _run(_opt_out_rule("2h"), events=events, ledger=ledger).status == RuleStatus.PASS


# -- request_answered -----------------------------------------------------------------------


def _request_rule() -> Any:
    return make_rule(kind="oversight", check="request_answered", dataset="req", within="30d")


def test_deadlines_are_inclusive_and_open_requests_wait_for_their_deadline() -> None:
    rows = [
        # answered exactly 30 days later: in time; one second more: late
        {"request_id": "r1", "type": "access_request", "ts": T("10:00:00", 1),
         "answered_at": "2025-03-31T10:00:00Z"},
        {"request_id": "r2", "type": "access_request", "ts": T("10:00:00", 1),
         "answered_at": "2025-03-31T10:00:01Z"},
        # open, deadline 2025-03-22T09:00:00Z, before the log's end (r2's answer)
        {"request_id": "r3", "type": "explanation_request", "ts": "2025-02-20T09:00:00Z",
         "answered_at": None},
        # open, deadline exactly at the log's end: still pending, not judged
        {"request_id": "r4", "type": "correction_request", "ts": T("10:00:01", 1),
         "answered_at": None},
        {"request_id": "r5", "type": "human_review_request", "ts": None, "answered_at": None},
        {"request_id": None, "type": "complaint", "ts": T("10:00:00", 2), "answered_at": None},
    ]  # fmt: skip
    result = _run(_request_rule(), req=rows)
    assert verdicts_of(result) == {
        "r2": "answered_late", "r3": "overdue", "r5": "missing_timestamp"
    }  # fmt: skip
    assert result.records_checked == 4  # r4 is pending; the complaint is no request


def test_every_open_request_inside_its_deadline_leaves_nothing_to_judge() -> None:
    rows = [
        {"request_id": "r1", "type": "access_request", "ts": T("10:00:00"), "answered_at": None}
    ]
    result = _run(_request_rule(), req=rows)
    assert result.status == RuleStatus.ERROR and result.records_checked == 0


# -- log_retention --------------------------------------------------------------------------


def _retention_rule(coverage: str = "5d", gap: int = 0) -> Any:
    return make_rule(
        kind="oversight", check="log_retention", dataset="log",
        min_coverage=coverage, max_gap_days=gap,
    )  # fmt: skip


def test_days_are_utc_days() -> None:
    # 23:30 at -01:00 is already the next UTC day: 1, 2, (3 from the offset), 4, 5
    rows = [{"ts": T("12:00:00", d)} for d in (1, 2, 4, 5)] + [{"ts": "2025-03-02T23:30:00-01:00"}]
    assert _run(_retention_rule(), log=rows).status == RuleStatus.PASS
    rows[-1] = {"ts": "2025-03-02T23:30:00+01:00"}  # still the 2nd in UTC: the 3rd is missing
    result = _run(_retention_rule(), log=rows)
    assert verdicts_of(result) == {"2025-03-03": "gap_too_long"}
    assert result.records_checked == 3  # covered 1-2, gap 3, covered 4-5


def test_logs_that_begin_too_late_are_not_retained_whatever_max_gap_days() -> None:
    rows = [{"ts": T("12:00:00", d)} for d in (3, 4, 5)]
    result = _run(_retention_rule(gap=3), log=rows)
    assert verdicts_of(result) == {"2025-03-01": "not_retained"}
    assert result.findings[0].fields == {
        "gap_from": "2025-03-01", "gap_to": "2025-03-02", "gap_days": "2"
    }  # fmt: skip


def test_a_gap_across_the_windows_start_counts_only_its_days_inside() -> None:
    rows = [{"ts": T("12:00:00", d)} for d in (1, 5, 6, 7, 8)]  # window: 4th to 8th
    result = _run(_retention_rule(gap=1), log=rows)
    assert result.status == RuleStatus.PASS  # the gap 2nd-4th has one day, the 4th, inside


def test_rows_without_a_time_cover_nothing() -> None:
    result = _run(_retention_rule(), log=[{"ts": None}, {"ts": ""}])
    assert result.status == RuleStatus.ERROR and result.records_checked == 0


# -- disclosed_on_request -------------------------------------------------------------------


def _chat(*events: tuple[str, str, str, str | None]) -> list[dict[str, Any]]:
    return [
        {"conversation_id": c, "ts": T(clock), "actor": a, "type": "message", "text": text}
        for c, clock, a, text in events
    ]


def test_a_bot_message_at_the_questions_instant_is_not_its_reply() -> None:
    rule = make_rule(kind="transparency", check="disclosed_on_request", dataset="chat")
    rows = _chat(
        ("c1", "10:00:00", "customer", "Are you a bot?"),
        ("c1", "10:00:00", "bot", "Yes, I'm a virtual assistant."),
        ("c1", "10:00:05", "bot", "What can I get you?"),
        ("c2", "10:00:00", "customer", "¿Eres un robot?"),
        ("c2", "10:00:05", "bot", "Sí, soy un asistente virtual."),
        ("c3", "10:00:00", "customer", "Bist du ein Mensch?"),
        ("c3", "10:00:05", "human", "Hallo, hier ist Anna."),
        ("c4", "10:00:00", "customer", "Êtes-vous un robot ?"),
        ("c5", "10:00:00", "customer", "Are you open on Sunday?"),
    )
    result = _run(rule, chat=rows)
    assert verdicts_of(result) == {"c1": "not_disclosed_on_request", "c4": "no_reply"}
    assert result.records_checked == 4  # c5 asks nothing of the kind


def test_a_bot_or_person_message_without_a_time_fails_the_question_it_may_have_answered() -> None:
    # found by the SB 243 QA (as in crisis_referral): an untimed bot reply without a
    # disclosure, then a timed person's reply, passed
    rule = make_rule(kind="transparency", check="disclosed_on_request", dataset="chat")
    rows = _chat(
        ("c1", "10:00:00", "customer", "Are you a bot?"),
        ("c1", "10:00:05", "human", "Hello, this is Anna."),
        ("c2", "10:00:00", "customer", "Are you a bot?"),
        ("c2", "10:00:05", "human", "Hello, this is Anna."),
    )
    rows.append({"conversation_id": "c2", "ts": None, "actor": "bot", "type": "message",
                 "text": "Hello!"})  # fmt: skip
    result = _run(rule, chat=rows)
    assert verdicts_of(result) == {"c2": "missing_timestamp"}
    (finding,) = result.findings
    assert finding.fields == {"asked_at": "2025-03-01T10:00:00Z", "replied_at": None}
    assert "a bot or person message has no timestamp" in finding.message


def test_a_system_disclosure_between_question_and_reply_counts() -> None:
    rule = make_rule(kind="transparency", check="disclosed_on_request", dataset="chat")
    rows = _chat(
        ("c1", "10:00:00", "customer", "am I talking to a bot?"),
        ("c1", "10:00:02", "system", None),
        ("c1", "10:00:05", "bot", "How can I help?"),
    )
    rows[1]["type"] = "ai_disclosure"
    assert _run(rule, chat=rows).status == RuleStatus.PASS


# -- pricing_disclosed ----------------------------------------------------------------------


def test_case_and_whitespace_are_ignored_a_paraphrase_is_not() -> None:
    rule = make_rule(kind="transparency", check="pricing_disclosed", dataset="p")
    rows = [
        {"event_id": "p1", "personalized": "yes",
         "text": "€3 — this price was set by an algorithm\tusing  your personal data."},
        {"event_id": "p2", "personalized": "true", "text": "Price set by an algorithm"},
        {"event_id": "p3", "personalized": "true", "text": None},
        {"event_id": "p4", "personalized": "false", "text": "€3"},
    ]  # fmt: skip
    result = _run(rule, p=rows)
    assert verdicts_of(result) == {"p2": "not_disclosed", "p3": "not_disclosed"}
    assert result.records_checked == 3


def test_a_price_in_scope_must_say_whether_it_is_personalised() -> None:
    rule = make_rule(kind="transparency", check="pricing_disclosed", dataset="p")
    rows = [{"event_id": "p1", "personalized": None, "text": "€3"}]
    with pytest.raises(EvidenceError, match="personalized") as info:
        _run(rule, p=rows)
    assert info.value.hint


def test_a_custom_statement_with_regex_characters_is_matched_literally() -> None:
    rule = make_rule(
        kind="transparency", check="pricing_disclosed", dataset="p", all_personalized=True,
        disclosure_text="Price (personalised) by AI*",
    )  # fmt: skip
    rows = [
        {"event_id": "p1", "text": "PRICE (PERSONALISED) BY AI*"},
        {"event_id": "p2", "text": "Price personalised by AIIII"},
    ]
    assert verdicts_of(_run(rule, p=rows)) == {"p2": "not_disclosed"}


def test_a_coverage_of_part_days_is_refused_by_the_model() -> None:
    with pytest.raises(ValueError, match="whole number of days"):
        make_rule(kind="oversight", check="log_retention", dataset="l", min_coverage="1d12h")


# -- periodic_reminder (California SB 243, § 22602(c)(2)) ------------------------------------

BREAK = "Time for a break! Remember, I'm an AI, not a person."


def _say(conv: str, clock: str, who: str, text: str = "hi", **more: Any) -> dict[str, Any]:
    return {"conversation_id": conv, "ts": T(clock), "actor": who, "type": "message",
            "text": text, "minor": True, **more}  # fmt: skip


def _reminder_rule(**options: Any) -> Any:
    return make_rule(kind="transparency", check="periodic_reminder", dataset="log", **options)


def test_a_bot_message_exactly_at_the_reminders_time_passes_one_second_later_does_not() -> None:
    rows = [
        _say("on-time", "10:00:00", "customer"),
        _say("on-time", "13:00:00", "bot"),
        _say("late", "10:00:00", "customer"),
        _say("late", "13:00:01", "bot"),
        # the customer may write on; only the bot writing past the time is a violation
        _say("customer-only", "10:00:00", "bot"),
        _say("customer-only", "15:00:00", "customer"),
    ]
    result = _run(_reminder_rule(), log=rows)
    assert verdicts_of(result) == {"late": "reminder_overdue"}
    assert result.records_checked == 3


def test_a_reminder_in_the_bot_message_itself_counts_and_restarts_the_clock() -> None:
    rows = [
        _say("a", "10:00:00", "customer"),
        _say("a", "12:00:00", "bot", BREAK),
        _say("a", "15:00:00", "bot"),
        _say("a", "15:00:01", "bot"),
    ]
    result = _run(_reminder_rule(), log=rows)
    assert verdicts_of(result) == {"a": "reminder_overdue"}
    finding = result.findings[0]
    assert finding.fields == {
        "began_at": "2025-03-01T10:00:00Z",
        "reminded_at": "2025-03-01T12:00:00Z",
        "bot_message_at": "2025-03-01T15:00:01Z",
    }
    assert "last reminder came at 2025-03-01T12:00:00Z" in finding.message


def test_a_break_alone_is_no_reminder_unless_disclosure_patterns_is_empty() -> None:
    rows = [
        _say("a", "10:00:00", "customer"),
        _say("a", "12:00:00", "bot", "Take a short break, okay?"),
        _say("a", "14:00:00", "bot"),
    ]
    assert verdicts_of(_run(_reminder_rule(), log=rows)) == {"a": "reminder_overdue"}
    assert verdicts_of(_run(_reminder_rule(disclosure_patterns=[]), log=rows)) == {}


def test_a_pause_longer_than_new_session_after_starts_a_new_interaction() -> None:
    rows = [
        _say("a", "10:00:00", "customer"),
        _say("a", "11:00:00", "bot"),
        _say("a", "14:00:00", "customer"),  # a pause of three hours
        _say("a", "16:59:00", "bot"),
    ]
    assert verdicts_of(_run(_reminder_rule(), log=rows)) == {"a": "reminder_overdue"}
    assert verdicts_of(_run(_reminder_rule(new_session_after="30m"), log=rows)) == {}


def test_only_known_minors_unless_all_and_the_flag_is_required_on_every_row() -> None:
    rows = [
        _say("adult", "10:00:00", "bot", minor=False),
        _say("adult", "14:00:00", "bot", minor=False),
    ]
    minors_only = _run(_reminder_rule(if_no_records="skip"), log=rows)
    assert minors_only.records_checked == 0
    assert minors_only.status == RuleStatus.SKIPPED
    assert verdicts_of(_run(_reminder_rule(conversations="all"), log=rows)) == {
        "adult": "reminder_overdue"
    }
    with pytest.raises(EvidenceError, match="minor") as info:
        _run(_reminder_rule(), log=[*rows, _say("adult", "14:30:00", "bot", minor=None)])
    assert "map minor: \"coalesce(minor, 'false')\"" in (info.value.hint or "")


def test_an_untimed_message_fails_the_conversation_as_missing_timestamp() -> None:
    rows = [_say("a", "10:00:00", "bot"), {**_say("a", "10:00:00", "customer"), "ts": None}]
    result = _run(_reminder_rule(), log=rows)
    assert verdicts_of(result) == {"a": "missing_timestamp"}
    assert result.findings[0].fields["began_at"] is None


def test_an_untimed_reminder_fails_the_conversation_as_missing_timestamp() -> None:
    # found by the review: a system reminder of no time was dropped, and the finding said
    # "4h later (limit 3h), with no reminder yet", which the log does not show
    rows = [
        _say("a", "10:00:00", "customer"),
        {**_say("a", "10:00:00", "system", BREAK, type="break_reminder"), "ts": None},
        _say("a", "14:00:00", "bot"),
    ]
    result = _run(_reminder_rule(), log=rows)
    assert verdicts_of(result) == {"a": "missing_timestamp"}
    assert "a message or a reminder has no timestamp" in result.findings[0].message


# -- crisis_referral (California SB 243, § 22602(b)) -----------------------------------------


def _crisis_rule(**options: Any) -> Any:
    return make_rule(kind="transparency", check="crisis_referral", dataset="log", **options)


def test_a_referral_in_the_reply_itself_or_at_the_messages_instant_counts() -> None:
    rows = [
        _say("in-reply", "10:00:00", "customer", "I want to die"),
        _say("in-reply", "10:01:00", "bot", "Please call or text 988 now."),
        _say("same-instant", "10:00:00", "customer", "I want to die"),
        _say("same-instant", "10:00:00", "system", "", type="crisis_referral"),
        _say("same-instant", "10:01:00", "bot", "I'm here."),
        _say("late", "10:00:00", "customer", "thinking about suicide"),
        _say("late", "10:01:00", "bot", "I'm here."),
        _say("late", "10:02:00", "bot", "Text HOME to 741741."),
        _say("none", "10:00:00", "customer", "I want to hurt myself"),
        _say("none", "10:01:00", "bot", "Tell me more."),
        _say("unanswered", "10:00:00", "customer", "I want to die"),
        _say("no-risk", "10:00:00", "customer", "this homework is killing me"),
        _say("no-risk", "10:01:00", "bot", "Ha!"),
    ]
    result = _run(_crisis_rule(), log=rows)
    assert verdicts_of(result) == {
        "late": "referred_late",
        "none": "not_referred",
        "unanswered": "not_referred",
    }
    assert result.records_checked == 5
    messages = {f.record_id: f.message for f in result.findings}
    assert "came before any referral" in messages["late"]
    assert "no referral to a crisis service followed" in messages["unanswered"]


def test_each_expression_needs_its_own_referral_before_the_next_reply() -> None:
    rows = [
        _say("a", "10:00:00", "customer", "I want to die"),
        _say("a", "10:01:00", "bot", "Please call 988."),
        _say("a", "10:05:00", "customer", "I still want to die"),
        _say("a", "10:06:00", "bot", "I'm listening."),
    ]
    result = _run(_crisis_rule(), log=rows)
    assert verdicts_of(result) == {"a": "not_referred"}
    assert result.findings[0].fields["risk_at"] == "2025-03-01T10:05:00Z"


def test_the_operators_classifier_flags_by_type_and_a_person_may_refer() -> None:
    rows = [
        _say("a", "10:00:00", "customer", "i'm done with everything"),
        _say("a", "10:00:00", "system", None, type="self_harm_risk"),
        _say("a", "10:02:00", "human", "You can call the 988 Suicide and Crisis Lifeline."),
    ]
    assert verdicts_of(_run(_crisis_rule(), log=rows)) == {}
    assert verdicts_of(_run(_crisis_rule(risk_types=[]), log=rows)) == {}
    rows[2]["text"] = "I'm a person, I'm here."
    assert verdicts_of(_run(_crisis_rule(), log=rows)) == {"a": "not_referred"}


def test_the_new_checks_are_explained_and_shown_in_words() -> None:
    reminder = explain_transparency(_reminder_rule(new_session_after="30m"))
    assert "known minor" in reminder and "3h" in reminder and "30m" in reminder
    assert "or the user became known to be a minor" in reminder
    crisis = explain_transparency(_crisis_rule())
    assert "988" in crisis
    rows = [_say("a", "10:00:00", "customer", "I want to die")]
    view = findings_view(_run(_crisis_rule(), log=rows))
    assert view is not None
    assert view.check_title.startswith("People who express thoughts of self-harm")
    assert view.reasons == [("not_referred", "no referral to a crisis service", "1")]


def test_only_rows_on_which_the_user_is_a_known_minor_count_and_start_the_clock() -> None:
    # age assurance flags the user at 14:00: before it no reminder was owed, so the bot's
    # message at 13:30 is no violation, and the three hours run from 14:00
    rows = [
        _say("learned", "10:00:00", "customer", minor=False),
        _say("learned", "13:30:00", "bot", minor=False),
        _say("learned", "14:00:00", "customer", minor=True),
        _say("learned", "16:59:00", "bot", minor=True),
        _say("known", "10:00:00", "customer"),
        _say("known", "13:30:00", "bot"),
    ]
    result = _run(_reminder_rule(), log=rows)
    assert verdicts_of(result) == {"known": "reminder_overdue"}
    assert result.records_checked == 2
    rows.append(_say("learned", "17:00:01", "bot", minor=True))
    finding = {f.record_id: f for f in _run(_reminder_rule(), log=rows).findings}["learned"]
    assert finding.fields["began_at"] == "2025-03-01T14:00:00Z"
    assert "known to be a minor" in finding.message


def test_a_reply_or_referral_without_a_time_fails_the_conversation_as_missing_timestamp() -> None:
    # the untimed reply may have come before the referral, and the untimed referral is no
    # proof that none was given: neither may decide the verdict
    rows = [
        _say("reply", "10:00:00", "customer", "I want to die"),
        {**_say("reply", "10:00:00", "bot", "Oh no."), "ts": None},
        _say("reply", "10:05:00", "bot", "Please call or text 988."),
        _say("referral", "10:00:00", "customer", "I want to die"),
        {**_say("referral", "10:00:00", "bot", "Please call or text 988."), "ts": None},
        _say("fine", "10:00:00", "customer", "I want to die"),
        {**_say("fine", "10:00:00", "customer", "ok"), "ts": None},
        _say("fine", "10:00:30", "bot", "Please call or text 988."),
    ]
    result = _run(_crisis_rule(), log=rows)
    assert verdicts_of(result) == {"reply": "missing_timestamp", "referral": "missing_timestamp"}
    messages = {f.record_id: f.message for f in result.findings}
    assert "a reply or referral has no timestamp" in messages["referral"]
    assert result.findings[0].fields == {
        "risk_at": "2025-03-01T10:00:00Z",
        "replied_at": None,
        "referred_at": None,
    }
