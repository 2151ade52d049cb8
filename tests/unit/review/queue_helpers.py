"""Items and reviewers shared by the review queue's concurrency tests."""

from __future__ import annotations

from datetime import timedelta

from ethicsgate.review import NewReviewItem, open_store


def chat_items(n: int, *, audit_id: str = "load") -> list[NewReviewItem]:
    """Return ``n`` undisclosed-chat items, due one second apart (a minute's cycle)."""
    return [
        NewReviewItem(
            policy_id="chat",
            policy_version="1",
            rule_id="disclosure",
            record_id=f"conv-{i:05d}",
            audit_id=audit_id,
            severity="block",
            fields={"conversation_id": f"conv-{i:05d}"},
            reason="not_disclosed",
            due_at=f"2030-01-01T00:00:{i % 60:02d}.000000Z",
        )
        for i in range(n)
    ]


def decide_all(db_url: str, name: str) -> list[int]:
    """Claim and decide until the queue is empty; return the ids this reviewer decided.

    Every seventh item is dismissed, the others confirmed, each with a note.
    """
    mine: list[int] = []
    with open_store(db_url, pool_size=1, lease=timedelta(hours=1)) as own:
        while (item := own.claim(name)) is not None:
            outcome = "dismissed" if item.id % 7 == 0 else "confirmed"
            own.decide(item.id, actor=name, outcome=outcome, note=f"checked by {name}")
            mine.append(item.id)
    return mine


def decide_all_next(db_url: str, name: str) -> list[int]:
    """As :func:`decide_all`, but each decision claims the next item in the same transaction."""
    mine: list[int] = []
    with open_store(db_url, pool_size=1, lease=timedelta(hours=1)) as own:
        item = own.claim(name)
        while item is not None:
            mine.append(item.id)
            outcome = "dismissed" if item.id % 7 == 0 else "confirmed"
            _, item = own.decide_and_claim_next(
                item.id, actor=name, outcome=outcome, note=f"checked by {name}"
            )
    return mine
