"""Oracle: the consent checks (DuckDB ASOF join) equal a plain-Python loop on randomized logs.

Timestamps sit on a coarse grid, so events land exactly on grant, withdrawal, grace and expiry
instants, and ledger records tie on their grant instant, as often as possible.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from logs_reference import Conflict, MissingId, at, consent, make_rule, run_rule, verdicts_of
from logs_reference import write_jsonl as write

from ethicsgate.errors import EvidenceError
from ethicsgate.rules.results import RuleStatus

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FORMATS = ["Z", "naive", "space", "+01:00", "-05:00"]
SUBJECTS = ["s0", "s1", "s2"]
PURPOSES = {"newsletter": "consent", "birthday": "consent", "orders": "contract"}


@st.composite
def instant(draw: st.DrawFn, *, missing: bool = True) -> str | None:
    """A time on a 10-minute grid (0-120 minutes), in any offset; sometimes missing."""
    step = draw(st.integers(-1 if missing else 0, 12))
    if step < 0:
        return draw(st.sampled_from([None, ""]))
    return at(10 * step, fmt=draw(st.sampled_from(FORMATS)))


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        granted = draw(instant())
        rows.append(
            {
                "subject_id": draw(st.sampled_from([*SUBJECTS, None])),
                "purpose": draw(st.sampled_from(["newsletter", "birthday", "orders"])),
                "granted_at": granted,
                "withdrawn_at": draw(st.one_of(st.none(), *[instant(missing=False)] * 2)),
                "expires_at": draw(st.one_of(st.none(), instant(missing=False))),
            }
        )
    if rows and draw(st.booleans()):  # records tied on subject, purpose and grant instant
        tie = dict(draw(st.sampled_from(rows)))
        tie["withdrawn_at"] = draw(st.one_of(st.none(), instant(missing=False)))
        tie["expires_at"] = draw(st.one_of(st.none(), instant(missing=False)))
        rows.append(tie)
    return rows


def _shifted(value: str | None, minutes: int) -> str | None:
    if not value:
        return value
    moment = datetime.fromisoformat(value)
    moment = moment.replace(tzinfo=moment.tzinfo or UTC) + timedelta(minutes=minutes)
    return moment.isoformat()


@st.composite
def processing(draw: st.DrawFn, ledger: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events, many of them at a ledger record's exact grant, withdrawal, grace or expiry."""
    rows = []
    for index in range(draw(st.integers(0, 30))):
        row = {
            "event_id": f"e{index}",
            "subject_id": draw(st.sampled_from([*SUBJECTS, *SUBJECTS, None])),
            "purpose": draw(st.sampled_from([*PURPOSES, *PURPOSES, "survey", None])),
            "ts": draw(instant()),
        }
        if ledger and draw(st.booleans()):
            record = draw(st.sampled_from(ledger))
            edge = draw(
                st.sampled_from(["granted_at", "withdrawn_at", "withdrawn_at", "expires_at"])
            )
            row |= {
                "subject_id": record["subject_id"],
                "purpose": record["purpose"],
                # the grace periods drawn are 0s, 10m and 1h: hit each boundary exactly
                "ts": _shifted(record[edge], draw(st.sampled_from([-10, 0, 0, 10, 60]))),
            }
        rows.append(row)
    if rows and draw(st.booleans()):  # exact repeats count once
        rows += draw(st.lists(st.sampled_from(rows), max_size=3))
    if rows and not draw(st.integers(0, 9)):  # a different event under an existing id
        clash = dict(draw(st.sampled_from(rows)))
        clash["ts"] = draw(instant())
        rows.append(clash)
    if rows and not draw(st.integers(0, 9)):  # an event without an id
        rows.append({**draw(st.sampled_from(rows)), "event_id": None})
    return rows


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ledger = draw(ledgers())
    return draw(processing(ledger)), ledger


@pytest.mark.slow
@SETTINGS
@given(
    case=logs(),
    check=st.sampled_from(["consent_valid", "withdrawal_honored"]),
    grace=st.sampled_from(["0s", "10m", "1h"]),
    undeclared=st.sampled_from(["violation", "ignore"]),
)
def test_consent_checks_equal_reference(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    check: str,
    grace: str,
    undeclared: str,
) -> None:
    events, ledger = case
    rule = make_rule(
        kind="consent",
        check=check,
        dataset="events",
        ledger="ledger",
        purposes=PURPOSES,
        grace=grace,
        undeclared_purposes=undeclared,
    )
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "events": write(Path(tmp) / "events.jsonl", events),
            "ledger": write(Path(tmp) / "ledger.jsonl", ledger),
        }
        try:
            records, verdicts = consent(events, ledger, rule)
        except (Conflict, MissingId):
            with pytest.raises(EvidenceError, match="event_id"):
                run_rule(rule, files)
            return
        result = run_rule(rule, files)
    assert result.records_checked == records
    assert verdicts_of(result) == verdicts
    assert result.violations == len(verdicts)
    if records == 0:
        assert result.status == RuleStatus.ERROR
    else:
        assert result.status == (RuleStatus.FAIL if verdicts else RuleStatus.PASS)
    for finding in result.findings:  # only the named fields, timestamps in UTC
        assert set(finding.fields) == {
            "subject_id", "purpose", "ts", "granted_at", "withdrawn_at", "expires_at"
        }  # fmt: skip
        assert finding.fields["ts"] is None or finding.fields["ts"].endswith("Z")
