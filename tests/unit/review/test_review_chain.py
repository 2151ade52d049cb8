"""The decision log's replay catches what a hash chain alone cannot: impossible histories."""

from __future__ import annotations

from typing import Any

from ethicsgate.review.chain import GENESIS, entry_hash, replay
from ethicsgate.review.models import LogEntry

ENQUEUED = {
    "policy_id": "p",
    "policy_version": "1",
    "rule_id": "r",
    "record_id": "x",
    "audit_id": "a",
    "severity": "block",
    "reason": "why",
    "fields": {},
    "due_at": "2026-01-03T00:00:00.000000Z",
}


def chain(*steps: tuple[str, str, str, dict[str, Any]]) -> list[LogEntry]:
    """Build a correctly hashed log from (at, actor, action, data) steps on item 1."""
    entries, prev = [], GENESIS
    for seq, (at, actor, action, data) in enumerate(steps, start=1):
        digest = entry_hash(
            seq=seq, at=at, actor=actor, action=action, item_id=1, data=data, prev=prev
        )
        entries.append(
            LogEntry(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                item_id=1,
                data=data,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    return entries


def test_a_validly_hashed_double_claim_is_still_caught() -> None:
    lease = {"lease_expires_at": "2026-01-02T00:15:00.000000Z"}
    log = chain(
        ("2026-01-02T00:00:00.000000Z", "ci", "enqueue", ENQUEUED),
        ("2026-01-02T00:01:00.000000Z", "alice", "claim", lease),
        ("2026-01-02T00:02:00.000000Z", "bob", "claim", lease),
    )
    _, problems = replay(log, {}, head=(3, log[-1].hash))
    assert any("claimed while alice held it (double claim)" in p for p in problems)


def test_deciding_without_holding_the_claim_is_caught() -> None:
    log = chain(
        ("2026-01-02T00:00:00.000000Z", "ci", "enqueue", ENQUEUED),
        ("2026-01-02T00:01:00.000000Z", "bob", "decide", {"outcome": "confirmed", "note": None}),
    )
    _, problems = replay(log, {}, head=(2, log[-1].hash))
    assert any("decided by someone who did not hold it" in p for p in problems)
    assert any("in the log but not in the store" in p for p in problems)


def test_a_lapsed_claim_may_be_taken_over() -> None:
    log = chain(
        ("2026-01-02T00:00:00.000000Z", "ci", "enqueue", ENQUEUED),
        (
            "2026-01-02T00:01:00.000000Z",
            "alice",
            "claim",
            {"lease_expires_at": "2026-01-02T00:02:00.000000Z"},
        ),
        (
            "2026-01-02T00:03:00.000000Z",
            "bob",
            "claim",
            {"lease_expires_at": "2026-01-02T00:18:00.000000Z"},
        ),
    )
    count, problems = replay(log, {}, head=(3, log[-1].hash))
    assert count == 3
    assert problems == ["item 1: in the log but not in the store"]
