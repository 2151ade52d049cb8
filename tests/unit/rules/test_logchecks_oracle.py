"""Oracle: the checks of issue #20 (SQL through Rows/Dialect) equal plain-Python loops.

Timestamps sit on a coarse grid, so ties (a notice at the decision's instant, an opt-out at the
event's instant, an answer at exactly the deadline) are common.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import logchecks_reference as ref
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from logs_reference import Conflict, MissingId, at, make_rule, run_rule, verdicts_of, write_jsonl

from ethicsgate.errors import EvidenceError
from ethicsgate.rules.results import RuleResult, RuleStatus

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FORMATS = ["Z", "naive", "space", "+01:00", "-05:00"]
SUBJECTS = ["s0", "s1", "s2", None, ""]


@st.composite
def timestamps(draw: st.DrawFn, *, steps: int = 12, step: int = 10) -> str | None:
    """A time on a grid of ``step`` minutes, in any offset; sometimes missing."""
    n = draw(st.integers(-1, steps))
    if n < 0:
        return draw(st.sampled_from([None, ""]))
    return at(step * n, fmt=draw(st.sampled_from(FORMATS)))


def _events(draw: st.DrawFn, rows: list[dict[str, Any]], *, id_key: str = "event_id") -> None:
    """Add exact repeats, and sometimes a clashing record or a record without an id."""
    if rows and draw(st.booleans()):
        rows += draw(st.lists(st.sampled_from(rows), max_size=3))
    if rows and not draw(st.integers(0, 11)):
        clash = dict(draw(st.sampled_from(rows)))
        clash["ts"] = draw(timestamps())
        rows.append(clash)
    if rows and not draw(st.integers(0, 11)):
        rows.append({**draw(st.sampled_from(rows)), id_key: None})


def _run(rule: Any, files: dict[str, list[dict[str, Any]]]) -> RuleResult:
    with tempfile.TemporaryDirectory() as tmp:
        paths = {
            name: write_jsonl(Path(tmp) / f"{name}.jsonl", rows) for name, rows in files.items()
        }
        return run_rule(rule, paths)


def _check(result: RuleResult, records: int, verdicts: dict[str, str | None]) -> None:
    assert result.records_checked == records
    assert verdicts_of(result) == verdicts
    assert result.violations == len(verdicts)
    assert sum(result.violations_by_reason.values()) == len(verdicts)
    if records == 0:
        assert result.status == RuleStatus.ERROR
    else:
        assert result.status == (RuleStatus.FAIL if verdicts else RuleStatus.PASS)
    for finding in result.findings:
        for name, value in finding.fields.items():
            if name.endswith("_at") and value is not None:
                assert value.endswith("Z")


def _compare(rule: Any, files: dict[str, list[dict[str, Any]]], reference: Any) -> None:
    try:
        expected = reference()
    except (Conflict, MissingId):
        with pytest.raises(EvidenceError):
            _run(rule, files)
        return
    _check(_run(rule, files), *expected)


# -- notice_before_decision -----------------------------------------------------------------


@st.composite
def decision_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = [
        {
            "event_id": f"e{i}",
            "subject_id": draw(st.sampled_from(SUBJECTS)),
            "ts": draw(timestamps()),
            "type": draw(st.sampled_from(["denial", "approval", "notice", "notice", "other"])),
            "channel": draw(st.sampled_from(["web", "mail", None])),
        }
        for i in range(draw(st.integers(0, 30)))
    ]
    _events(draw, rows)
    return rows


@pytest.mark.slow
@SETTINGS
@given(
    rows=decision_logs(),
    within=st.sampled_from([None, "10m", "30m"]),
    extra=st.sampled_from([[], ["channel"]]),
)
def test_notice_before_decision_equals_reference(
    rows: list[dict[str, Any]], within: str | None, extra: list[str]
) -> None:
    options: dict[str, Any] = {} if within is None else {"within": within}
    rule = make_rule(
        kind="transparency",
        check="notice_before_decision",
        dataset="log",
        decision_types=["denial", "approval"],
        notice_types=["notice"],
        finding_fields=extra,
        **options,
    )
    _compare(rule, {"log": rows}, lambda: ref.notice_before_decision(rows, rule))


# -- opt_out_honored ------------------------------------------------------------------------


@st.composite
def opt_out_logs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ledger = [
        {
            "subject_id": draw(st.sampled_from(SUBJECTS)),
            "purpose": draw(st.sampled_from(["admt", "profiling", "newsletter"])),
            "granted_at": draw(timestamps()),
            "withdrawn_at": draw(st.one_of(st.none(), timestamps())),
        }
        for _ in range(draw(st.integers(0, 10)))
    ]
    events = [
        {
            "event_id": f"e{i}",
            "subject_id": draw(st.sampled_from(SUBJECTS)),
            "ts": draw(timestamps()),
            "type": draw(st.sampled_from(["scoring", "profiling", "login"])),
        }
        for i in range(draw(st.integers(0, 25)))
    ]
    _events(draw, events)
    return events, ledger


@pytest.mark.slow
@SETTINGS
@given(
    case=opt_out_logs(),
    grace=st.sampled_from(["0s", "10m", "1h"]),
    types=st.sampled_from([[], ["scoring", "profiling"]]),
    purposes=st.sampled_from([["admt"], ["admt", "profiling"]]),
)
def test_opt_out_honored_equals_reference(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    grace: str,
    types: list[str],
    purposes: list[str],
) -> None:
    events, ledger = case
    rule = make_rule(
        kind="consent",
        check="opt_out_honored",
        dataset="events",
        ledger="ledger",
        opt_out_purposes=purposes,
        event_types=types,
        grace=grace,
    )
    _compare(
        rule,
        {"events": events, "ledger": ledger},
        lambda: ref.opt_out_honored(events, ledger, rule),
    )


# -- request_answered -----------------------------------------------------------------------


@st.composite
def request_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = [
        {
            "request_id": f"r{i}",
            "ts": draw(timestamps()),
            "answered_at": draw(st.one_of(st.none(), timestamps())),
            "type": draw(st.sampled_from(["access_request", "explanation_request", "complaint"])),
            "subject_id": draw(st.sampled_from(SUBJECTS)),
        }
        for i in range(draw(st.integers(0, 25)))
    ]
    _events(draw, rows, id_key="request_id")
    return rows


@pytest.mark.slow
@SETTINGS
@given(
    rows=request_logs(),
    within=st.sampled_from(["10m", "30m", "1h"]),
    types=st.sampled_from([None, [], ["access_request"]]),
    extra=st.sampled_from([[], ["subject_id"]]),
)
def test_request_answered_equals_reference(
    rows: list[dict[str, Any]], within: str, types: list[str] | None, extra: list[str]
) -> None:
    options: dict[str, Any] = {} if types is None else {"request_types": types}
    rule = make_rule(
        kind="oversight",
        check="request_answered",
        dataset="log",
        within=within,
        finding_fields=extra,
        **options,
    )
    _compare(rule, {"log": rows}, lambda: ref.request_answered(rows, rule))


# -- log_retention --------------------------------------------------------------------------


@st.composite
def retention_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Rows on a few of 20 days, at hours that cross UTC midnight in some offsets."""
    active = draw(st.sets(st.integers(0, 19), max_size=20))
    rows = []
    for day in sorted(active):
        for _ in range(draw(st.integers(1, 2))):
            minute = day * 1440 + draw(st.sampled_from([-600, -60, 0, 300, 780, 839]))
            rows.append({"ts": at(minute, fmt=draw(st.sampled_from(FORMATS))), "n": len(rows)})
    if draw(st.booleans()):
        rows.append({"ts": draw(st.sampled_from([None, ""])), "n": -1})
    return rows


@pytest.mark.slow
@SETTINGS
@given(
    rows=retention_logs(),
    coverage=st.sampled_from(["1d", "5d", "12d", "20d", "30d"]),
    gap=st.integers(0, 3),
)
def test_log_retention_equals_reference(
    rows: list[dict[str, Any]], coverage: str, gap: int
) -> None:
    if gap >= int(coverage[:-1]):
        return
    rule = make_rule(
        kind="oversight",
        check="log_retention",
        dataset="log",
        min_coverage=coverage,
        max_gap_days=gap,
    )
    _compare(rule, {"log": rows}, lambda: ref.log_retention(rows, rule))


# -- disclosed_on_request -------------------------------------------------------------------

ACTORS = ["bot", "human", "customer", "system", " Bot", "CUSTOMER "]
CHAT_TEXTS = [
    None,
    "",
    "Hello!",
    "We open at 8.",
    "Are you a bot?",
    "Bist du ein Mensch?",
    "¿Eres un robot?",
    "Êtes-vous un robot ?",
    "Are you open on Sunday?",
    "Yes, I'm a virtual assistant.",
    "Ja, ich bin ein Bot.",
    "Soy un asistente virtual.",
    "Hi, this is Anna from the bakery.",
]


@st.composite
def chat_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    conversations = draw(st.integers(1, 4))
    rows = [
        {
            "conversation_id": f"c{draw(st.integers(0, conversations - 1))}",
            "ts": draw(timestamps(steps=8, step=1)),
            "actor": draw(st.sampled_from(ACTORS)),
            "type": draw(st.sampled_from(["message", "message", "bot_disclosure", "identity_q"])),
            "text": draw(st.sampled_from(CHAT_TEXTS)),
        }
        for _ in range(draw(st.integers(0, 30)))
    ]
    if rows and draw(st.booleans()):
        rows += draw(st.lists(st.sampled_from(rows), max_size=3))
    return rows


@pytest.mark.slow
@SETTINGS
@given(
    rows=chat_logs(),
    question_types=st.sampled_from([None, ["identity_q"]]),
    disclosure_types=st.sampled_from([None, []]),
)
def test_disclosed_on_request_equals_reference(
    rows: list[dict[str, Any]], question_types: Any, disclosure_types: Any
) -> None:
    options: dict[str, Any] = {}
    if question_types is not None:
        options["question_types"] = question_types
    if disclosure_types is not None:
        options["disclosure_types"] = disclosure_types
    rule = make_rule(kind="transparency", check="disclosed_on_request", dataset="log", **options)
    _compare(rule, {"log": rows}, lambda: ref.disclosed_on_request(rows, rule))


# -- periodic_reminder and crisis_referral (California SB 243) ---------------------------------

COMPANION_TEXTS = [
    None,
    "",
    "hi",
    "Time for a break! Remember, I'm an AI, not a person.",
    "Take a short break, okay?",
    "I'm an AI companion.",
    "Tómate un descanso: soy una IA, no una persona.",
    "I want to die",
    "I keep thinking about suicide",
    "this homework is killing me",
    "Please call or text 988, the Suicide and Crisis Lifeline.",
    "You can text HOME to 741741.",
    "I'm here for you.",
]
COMPANION_TYPES = ["message", "message", "break_reminder", "self_harm_risk", "crisis_referral"]


@st.composite
def companion_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    conversations = draw(st.integers(1, 4))
    minors = {f"c{i}": draw(st.sampled_from(["true", "false", True, False])) for i in range(4)}
    rows = []
    for _ in range(draw(st.integers(0, 30))):
        conv = f"c{draw(st.integers(0, conversations - 1))}"
        rows.append(
            {
                "conversation_id": conv,
                "ts": draw(timestamps(steps=16, step=10)),
                "actor": draw(st.sampled_from(ACTORS)),
                "type": draw(st.sampled_from(COMPANION_TYPES)),
                "text": draw(st.sampled_from(COMPANION_TEXTS)),
                # the flag the operator knows; sometimes it changes within a conversation
                # (age assurance), sometimes it is missing on a row
                "minor": draw(st.sampled_from([minors[conv]] * 9 + [True, "false", None])),
            }
        )
    if rows and draw(st.booleans()):
        rows += draw(st.lists(st.sampled_from(rows), max_size=3))
    return rows


@pytest.mark.slow
@SETTINGS
@given(
    rows=companion_logs(),
    every=st.sampled_from(["30m", "1h"]),
    pause=st.sampled_from([None, "20m"]),
    conversations=st.sampled_from(["of_minors", "all"]),
    disclosure=st.sampled_from([None, []]),
    reminder_types=st.sampled_from([None, []]),
)
def test_periodic_reminder_equals_reference(
    rows: list[dict[str, Any]],
    every: str,
    pause: str | None,
    conversations: str,
    disclosure: Any,
    reminder_types: Any,
) -> None:
    options: dict[str, Any] = {"every": every, "conversations": conversations}
    if pause is not None:
        options["new_session_after"] = pause
    if disclosure is not None:
        options["disclosure_patterns"] = disclosure
    if reminder_types is not None:
        options["reminder_types"] = reminder_types
    rule = make_rule(kind="transparency", check="periodic_reminder", dataset="log", **options)
    _compare(rule, {"log": rows}, lambda: ref.periodic_reminder(rows, rule))


@pytest.mark.slow
@SETTINGS
@given(
    rows=companion_logs(),
    risk_types=st.sampled_from([None, []]),
    referral_types=st.sampled_from([None, []]),
)
def test_crisis_referral_equals_reference(
    rows: list[dict[str, Any]], risk_types: Any, referral_types: Any
) -> None:
    options: dict[str, Any] = {}
    if risk_types is not None:
        options["risk_types"] = risk_types
    if referral_types is not None:
        options["referral_types"] = referral_types
    rule = make_rule(kind="transparency", check="crisis_referral", dataset="log", **options)
    _compare(rule, {"log": rows}, lambda: ref.crisis_referral(rows, rule))


# -- pricing_disclosed ----------------------------------------------------------------------

NY = "THIS PRICE WAS SET BY AN ALGORITHM USING YOUR PERSONAL DATA"
PRICE_TEXTS = [
    None,
    "",
    "   ",
    NY,
    f"€4.20 — {NY}",
    NY.lower(),
    "This price was set by an algorithm\n using   your personal data.",
    "THIS PRICE WAS SET BY AN ALGORITHM",
    "Price set by an algorithm using your personal data",
    "Sale! 10 % off",
]


@st.composite
def price_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = [
        {
            "event_id": f"p{i}",
            "type": draw(st.sampled_from(["price_shown", "price_shown", "checkout"])),
            "personalized": draw(
                st.sampled_from(["true", "false", "yes", "0", "1", True, False, None])
            ),
            "text": draw(st.sampled_from(PRICE_TEXTS)),
            "sku": draw(st.sampled_from(["rye", "cake", None])),
            "ts": draw(timestamps()),
        }
        for i in range(draw(st.integers(0, 25)))
    ]
    _events(draw, rows)
    return rows


@pytest.mark.slow
@SETTINGS
@given(
    rows=price_logs(),
    types=st.sampled_from([[], ["price_shown"]]),
    all_personalized=st.booleans(),
    extra=st.sampled_from([[], ["sku"]]),
)
def test_pricing_disclosed_equals_reference(
    rows: list[dict[str, Any]], types: list[str], all_personalized: bool, extra: list[str]
) -> None:
    rule = make_rule(
        kind="transparency",
        check="pricing_disclosed",
        dataset="log",
        event_types=types,
        all_personalized=all_personalized,
        finding_fields=extra,
    )
    _compare(rule, {"log": rows}, lambda: ref.pricing_disclosed(rows, rule))
