"""Oracle: each transparency check's SQL equals a plain-Python loop on randomized logs."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from logs_reference import (
    Conflict,
    MissingId,
    ai_content_labeled,
    at,
    bot_disclosure,
    decision_explained,
    human_handoff,
    make_rule,
    run_rule,
    verdicts_of,
    write_jsonl,
)

from ethicsgate.errors import EvidenceError
from ethicsgate.rules.results import RuleStatus

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ACTORS = ["bot", "human", "customer", "system", " Bot", "HUMAN "]  # any case, trimmed
TYPES = ["message", "message", "bot_disclosure", "handoff_request", "agent_joined", None]
TEXTS = [
    None,
    "",
    "Hello!",
    "We open at 8.",
    "Hi, I'm Krümel, the virtual assistant of the bakery.",
    "Hallo, ich bin der digitale Assistent.",
    "I am a bot",
    "Can I talk to a person?",
    "Ich möchte mit einem Menschen sprechen.",
    "Je voudrais parler à quelqu'un",
    "real person please",
    "A human, please",
    "Do you have bread?",
]
FORMATS = ["Z", "naive", "space", "+01:00", "-05:00"]


@st.composite
def timestamps(draw: st.DrawFn, *, minutes: int = 30) -> str | None:
    """A timestamp on a coarse grid (ties are common), in any offset; sometimes missing."""
    minute = draw(st.integers(-3, minutes))
    if minute < 0:
        return draw(st.sampled_from([None, "", "  "]))
    return at(minute, fmt=draw(st.sampled_from(FORMATS)))


@st.composite
def conversation_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Events of a few conversations, with repeated events and every actor."""
    conversations = draw(st.integers(1, 5))
    rows = [
        {
            "conversation_id": f"c{draw(st.integers(0, conversations - 1))}",
            "ts": draw(timestamps()),
            "actor": draw(st.sampled_from(ACTORS)),
            "type": draw(st.sampled_from(TYPES)),
            "text": draw(st.sampled_from(TEXTS)),
        }
        for _ in range(draw(st.integers(0, 40)))  # 0: an empty log
    ]
    if rows and draw(st.booleans()):  # a log shipper delivered some events twice
        rows += draw(st.lists(st.sampled_from(rows), max_size=4))
    return rows


def _run(rule: Any, rows: list[dict[str, Any]]) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_jsonl(Path(tmp) / "log.jsonl", rows)
        return run_rule(rule, {"log": path})


def _check(result: Any, records: int, verdicts: dict[str, str | None]) -> None:
    assert result.records_checked == records
    assert verdicts_of(result) == verdicts
    assert result.violations == len(verdicts)
    assert sum(result.violations_by_reason.values()) == len(verdicts)
    if records == 0:
        assert result.status == RuleStatus.ERROR
        assert result.violation_rate is None
    else:
        assert result.status == (RuleStatus.FAIL if verdicts else RuleStatus.PASS)
        assert result.violation_rate == len(verdicts) / records


@pytest.mark.slow
@SETTINGS
@given(
    rows=conversation_logs(),
    types=st.sampled_from([None, [], ["bot_disclosure"]]),
    before=st.sampled_from([None, "first_bot_message", "first_message"]),
)
def test_bot_disclosure_equals_reference(
    rows: list[dict[str, Any]], types: Any, before: str | None
) -> None:
    options: dict[str, Any] = {} if types is None else {"disclosure_types": types}
    if before is not None:
        options["before"] = before
    rule = make_rule(kind="transparency", check="bot_disclosure", dataset="log", **options)
    _check(_run(rule, rows), *bot_disclosure(rows, rule))


@pytest.mark.slow
@SETTINGS
@given(
    rows=conversation_logs(),
    limit=st.sampled_from(
        [{}, {"within": "3m"}, {"within": "10m"}, {"within_turns": 1}, {"within_turns": 3}]
    ),  # fmt: skip
    joins=st.sampled_from([[], ["agent_joined"]]),
)
def test_human_handoff_equals_reference(
    rows: list[dict[str, Any]], limit: dict[str, Any], joins: list[str]
) -> None:
    rule = make_rule(
        kind="transparency", check="human_handoff", dataset="log", human_join_types=joins, **limit
    )
    _check(_run(rule, rows), *human_handoff(rows, rule))


EXPLANATIONS = [None, "", "  ", "\t\n", "n/a", " N/A ", "TBD", "ok", "x", "Score 0.42 below 0.50"]


@st.composite
def decision_logs(draw: st.DrawFn, *, fields: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Rows with mostly unique ids, exact repeats, and now and then a conflict or no id."""
    rows = []
    for index in range(draw(st.integers(0, 25))):
        row: dict[str, Any] = {"id": f"d{index}"}
        for name, values in fields.items():
            row[name] = draw(st.sampled_from(values))
        rows.append(row)
    if rows and draw(st.booleans()):
        rows += draw(st.lists(st.sampled_from(rows), max_size=3))
    if rows and not draw(st.integers(0, 8)):  # a different row under an existing id
        clash = dict(draw(st.sampled_from(rows)))
        name = draw(st.sampled_from(sorted(fields)))
        clash[name] = draw(st.sampled_from(fields[name]))
        rows.append(clash)
    if rows and not draw(st.integers(0, 9)):  # a row without an id
        rows.append({**draw(st.sampled_from(rows)), "id": None})
    return rows


@SETTINGS
@given(
    rows=decision_logs(
        fields={
            "explanation": EXPLANATIONS,
            "type": ["decision", "refund", "message", None],
            "segment": ["a", "b"],
        }  # fmt: skip
    ),
    event_types=st.sampled_from([[], ["decision"], ["decision", "refund"]]),
    min_length=st.integers(1, 4),
    extra=st.sampled_from([[], ["segment"]]),
)
def test_decision_explained_equals_reference(
    rows: list[dict[str, Any]], event_types: list[str], min_length: int, extra: list[str]
) -> None:
    rows = [{"decision_id": r["id"], **{k: v for k, v in r.items() if k != "id"}} for r in rows]
    rule = make_rule(
        kind="transparency",
        check="decision_explained",
        dataset="log",
        event_types=event_types,
        min_length=min_length,
        finding_fields=extra,
    )
    try:
        expected = decision_explained(rows, rule)
    except (Conflict, MissingId):
        with pytest.raises(EvidenceError, match="decision_id"):
            _run(rule, rows)
        return
    _check(_run(rule, rows), *expected)


FLAGS = [True, False, "true", "false", "yes", "no", "1", "0", " TRUE "]


@SETTINGS
@given(
    rows=decision_logs(
        fields={
            "ai_generated": [*FLAGS, None],
            "ai_label": [*FLAGS, None, ""],
            "type": ["newsletter", "reply", "receipt"],
        }  # fmt: skip
    ),
    event_types=st.sampled_from([[], ["newsletter"], ["newsletter", "reply"]]),
    all_generated=st.booleans(),
)
def test_ai_content_labeled_equals_reference(
    rows: list[dict[str, Any]], event_types: list[str], all_generated: bool
) -> None:
    rows = [{"event_id": r["id"], **{k: v for k, v in r.items() if k != "id"}} for r in rows]
    rule = make_rule(
        kind="transparency",
        check="ai_content_labeled",
        dataset="log",
        event_types=event_types,
        all_generated=all_generated,
    )
    try:
        expected = ai_content_labeled(rows, rule)
    except (Conflict, MissingId):
        with pytest.raises(EvidenceError, match="event_id|ai_generated"):
            _run(rule, rows)
        return
    _check(_run(rule, rows), *expected)
