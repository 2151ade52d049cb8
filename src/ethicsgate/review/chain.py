"""The hash-chained decision log: hashing entries and replaying them (no SQL here)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ethicsgate.review.models import LogEntry, ReviewItem

__all__ = ["GENESIS", "StagedEntry", "entry_hash", "replay", "replay_item", "staged_hash"]

#: ``prev_hash`` of the first entry.
GENESIS = "0" * 64


def entry_hash(
    *, seq: int, at: str, actor: str, action: str, item_id: int, data: Mapping[str, Any], prev: str
) -> str:
    """Return sha256 over the canonical JSON of an entry and the previous entry's hash."""
    body = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "item_id": item_id,
        "data": data,
        "prev_hash": prev,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def staged_hash(*, at: str, actor: str, action: str, item_id: int, data: Mapping[str, Any]) -> str:
    """Return sha256 over the canonical JSON of a staged entry (not yet chained)."""
    body = {"at": at, "actor": actor, "action": action, "item_id": item_id, "data": data}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StagedEntry:
    """An entry appended while another writer held the chain's head, waiting to be chained.

    ``hash`` covers the entry's content; the next writer that holds the head chains staged
    entries in ``id`` order (for one item, that is the order its changes were made in, since
    each change waits for the item's row lock). Until then an edit of one is detected by its
    hash, a deletion or reordering by replaying the items.
    """

    id: int
    at: str
    actor: str
    action: str
    item_id: int
    data: dict[str, Any]
    hash: str

    @property
    def intact(self) -> bool:
        """Return whether the hash still matches the content."""
        return self.hash == staged_hash(
            at=self.at, actor=self.actor, action=self.action, item_id=self.item_id, data=self.data
        )


def canonical_data(data: Mapping[str, Any]) -> str:
    """Return the canonical JSON text the store keeps for an entry's data."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# The item columns an entry's replay must reproduce.
_ENQUEUED = (
    "policy_id",
    "policy_version",
    "rule_id",
    "record_id",
    "audit_id",
    "severity",
    "reason",
    "fields",
    "due_at",
)


def replay(
    entries: Iterable[LogEntry],
    items: Mapping[int, ReviewItem],
    *,
    head: tuple[int, str] | None,
    staged: Iterable[StagedEntry] = (),
) -> tuple[int, list[str]]:
    """Check the chain and that replaying it yields the items table; return (entries, problems).

    Detects an edited entry (its hash no longer matches), a deleted or reordered one (a gap in
    ``seq`` or a broken ``prev_hash`` link), a deleted tail (the stored head disagrees), a claim of
    an item someone else holds under an unexpired lease, and items whose row differs from what
    the log says happened to them.
    """
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    state: dict[int, dict[str, Any]] = {}
    for entry in entries:
        count += 1
        where = f"entry {entry.seq}"
        if entry.seq != expected_seq:
            problems.append(f"{where}: expected seq {expected_seq} (an entry was deleted or moved)")
        if entry.prev_hash != prev:
            problems.append(f"{where}: prev_hash does not match the hash of the entry before it")
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            item_id=entry.item_id,
            data=entry.data,
            prev=entry.prev_hash,
        )
        if recomputed != entry.hash:
            problems.append(f"{where}: hash does not match its content (the entry was edited)")
        prev, expected_seq = entry.hash, entry.seq + 1
        problems.extend(_apply(state, entry, f"entry {entry.seq}"))
    if head is None:
        if count:
            problems.append("the log head is missing")
    elif head != (expected_seq - 1, prev):
        problems.append(
            f"the log ends at entry {expected_seq - 1} but its head says entry {head[0]} "
            "(entries were deleted from the end, or the head was edited)"
        )
    for waiting in staged:  # appended after the chain's head, in the order they were made
        count += 1
        if not waiting.intact:
            problems.append(
                f"staged entry {waiting.id}: hash does not match its content (the entry was "
                "edited before it was chained)"
            )
        problems.extend(_apply(state, waiting, f"staged entry {waiting.id}"))
    for item_id, item in items.items():
        problems.extend(_differences(item_id, item, state.get(item_id)))
    problems.extend(f"item {i}: in the log but not in the store" for i in state if i not in items)
    return count, problems


def replay_item(
    item: ReviewItem, entries: Iterable[LogEntry], staged: Iterable[StagedEntry] = ()
) -> list[str]:
    """Check one item's entries and that replaying them gives its row; return the problems.

    Each entry is checked against its own hash (an edited entry) and the item's row against
    what its entries say happened (a row changed behind the log's back). What only the whole
    chain shows (a deleted or moved entry, a deleted tail) is :func:`replay`'s.
    """
    problems: list[str] = []
    state: dict[int, dict[str, Any]] = {}
    for entry in entries:
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            item_id=entry.item_id,
            data=entry.data,
            prev=entry.prev_hash,
        )
        if recomputed != entry.hash:
            problems.append(
                f"entry {entry.seq}: hash does not match its content (the entry was edited)"
            )
        problems.extend(_apply(state, entry, f"entry {entry.seq}"))
    for waiting in staged:
        if not waiting.intact:
            problems.append(
                f"staged entry {waiting.id}: hash does not match its content (the entry was "
                "edited before it was chained)"
            )
        problems.extend(_apply(state, waiting, f"staged entry {waiting.id}"))
    return problems + _differences(item.id, item, state.get(item.id))


def _differences(item_id: int, item: ReviewItem, derived: dict[str, Any] | None) -> list[str]:
    """Return how an item's row differs from what its log entries say happened to it."""
    if derived is None:
        return [f"item {item_id}: not in the log"]
    row = item.model_dump(mode="json")
    return [
        f"item {item_id}: {name} is {row.get(name)!r} but the log says {value!r}"
        for name, value in derived.items()
        if row.get(name) != value
    ]


def _apply(state: dict[int, dict[str, Any]], entry: LogEntry | StagedEntry, name: str) -> list[str]:
    where = f"{name} ({entry.action} item {entry.item_id})"
    item = state.get(entry.item_id)
    data = entry.data
    if entry.action == "enqueue":
        if item is not None:
            return [f"{where}: the item was already enqueued"]
        state[entry.item_id] = {name: data.get(name) for name in _ENQUEUED} | {
            "status": "open",
            "assignee": None,
            "claimed_at": None,
            "lease_expires_at": None,
            "outcome": None,
            "note": None,
            "decided_by": None,
            "decided_at": None,
            "created_at": entry.at,
        }
        return []
    if item is None:
        return [f"{where}: the item was never enqueued"]
    holder_ok = item["status"] == "claimed" and item["assignee"] == entry.actor
    if entry.action == "claim":
        if item["status"] == "decided":
            return [f"{where}: claimed after it was decided"]
        held = item["status"] == "claimed" and (item["lease_expires_at"] or "") > entry.at
        if held and item["assignee"] != entry.actor:
            return [f"{where}: claimed while {item['assignee']} held it (double claim)"]
        item.update(
            status="claimed",
            assignee=entry.actor,
            claimed_at=entry.at,
            lease_expires_at=data.get("lease_expires_at"),
        )
    elif entry.action == "release":
        if not holder_ok:
            return [f"{where}: released by someone who did not hold it"]
        item.update(
            status=data.get("status", "open"),
            assignee=None,
            claimed_at=None,
            lease_expires_at=None,
        )
    elif entry.action == "decide":
        if not holder_ok:
            return [f"{where}: decided by someone who did not hold it"]
        outcome = data.get("outcome")
        item.update(
            status="escalated" if outcome == "escalated" else "decided",
            assignee=None,
            claimed_at=None,
            lease_expires_at=None,
            outcome=outcome,
            note=data.get("note"),
            decided_by=entry.actor,
            decided_at=entry.at,
        )
    return []
