"""Review-queue data: what enqueueing takes, what the store returns, what the log holds."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from ethicsgate.base import StrictModel

__all__ = [
    "ItemStatus",
    "LogEntry",
    "NewReviewItem",
    "Outcome",
    "ReviewItem",
    "RuleQueueStats",
    "VerifyResult",
]


class ItemStatus(StrEnum):
    """Where an item is: open → claimed → decided (or escalated)."""

    OPEN = "open"
    CLAIMED = "claimed"
    DECIDED = "decided"
    ESCALATED = "escalated"


class Outcome(StrEnum):
    """A reviewer's decision. ``dismissed`` needs a note saying why."""

    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    ESCALATED = "escalated"


class NewReviewItem(StrictModel):
    """A finding to put in front of a person; (policy_id, rule_id, record_id) is its key."""

    policy_id: str
    policy_version: str
    rule_id: str
    record_id: str
    audit_id: str
    severity: Literal["block", "warn", "info"]
    fields: dict[str, str | None] = Field(
        default_factory=dict,
        description="A record's finding: only the record's fields the rule names. A fairness "
        "group: the group and the numbers behind its failure (review/fairness.py).",
    )
    reason: str
    due_at: str = Field(description="UTC, ISO 8601 with a Z: when a decision is due (SLA).")

    @property
    def key(self) -> str:
        """Return the idempotency key: the same finding is never queued twice."""
        return f"{self.policy_id}\x1f{self.rule_id}\x1f{self.record_id}"


class ReviewItem(StrictModel):
    """An item as the store holds it."""

    id: int
    policy_id: str
    policy_version: str
    rule_id: str
    record_id: str
    audit_id: str
    severity: str
    reason: str
    fields: dict[str, str | None]
    status: ItemStatus
    assignee: str | None
    claimed_at: str | None
    lease_expires_at: str | None
    outcome: Outcome | None
    note: str | None
    decided_by: str | None
    decided_at: str | None
    created_at: str
    due_at: str
    overdue: bool = Field(description="Not decided and past due_at (at the time of reading).")


class LogEntry(StrictModel):
    """One decision-log entry; ``hash`` covers every other field, ``prev_hash`` the entry before."""

    seq: int
    at: str
    actor: str
    action: Literal["enqueue", "claim", "release", "decide"]
    item_id: int
    data: dict[str, Any]
    prev_hash: str
    hash: str


class RuleQueueStats(StrictModel):
    """Queue counts for one rule."""

    rule_id: str
    open: int = 0
    claimed: int = 0
    overdue: int = 0
    decided: int = 0
    escalated: int = 0
    confirmed: int = 0
    dismissed: int = 0


class VerifyResult(StrictModel):
    """What ``verify-log`` found: ok, or the problems with where they are."""

    ok: bool
    entries: int
    items: int
    head: str | None
    problems: list[str] = Field(default_factory=list)
