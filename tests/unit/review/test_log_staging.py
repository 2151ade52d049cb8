"""Appends that find the chain's head held by another writer are staged, then chained.

The head is held here by a second connection (``SELECT … FOR UPDATE`` on PostgreSQL), as a
concurrent reviewer's transaction would hold it: the store's changes must not wait for it,
their entries must be staged with a hash of their own, and the next writer (or ``verify_log``)
must chain them in order. Tampering with a staged entry is detected like tampering with a
chained one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from tests.unit.review.conftest import _fresh_postgres
from tests.unit.review.test_review_store import Clock, make_items

from ethicsgate.review import ReviewStore, open_store


@pytest.fixture
def pg_url() -> str:
    return _fresh_postgres()


@pytest.fixture
def store(pg_url: str) -> Iterator[ReviewStore]:
    with open_store(pg_url, clock=Clock()) as opened:
        yield opened


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


@contextmanager
def head_held(url: str) -> Iterator[None]:
    """Hold the log head's row lock in another transaction, as a concurrent writer would."""
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT seq FROM review_log_head WHERE id = 1 FOR UPDATE"))
            yield
    finally:
        engine.dispose()


def _count(url: str, table: str) -> int:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def _sql(url: str, sql: str) -> None:
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


def test_changes_do_not_wait_for_a_held_head_and_are_chained_later(
    store: ReviewStore, pg_url: str
) -> None:
    store.enqueue(make_items(3), actor="ci")
    assert _count(pg_url, "review_log") == 3
    with head_held(pg_url):
        began = time.perf_counter()
        first = store.claim("alice")
        assert first is not None
        store.decide(first.id, actor="alice", outcome="confirmed")
        second = store.claim("bob")
        assert second is not None
        assert time.perf_counter() - began < 5  # never waited for the head
        assert _count(pg_url, "review_log_staged") == 3
        assert _count(pg_url, "review_log") == 3
    # the next change chains the staged entries, then its own, in the order they were made
    store.decide(second.id, actor="bob", outcome="escalated", note="unsure")
    assert _count(pg_url, "review_log_staged") == 0
    entries = list(store.log_entries())
    assert [(e.seq, e.action, e.actor) for e in entries[3:]] == [
        (4, "claim", "alice"),
        (5, "decide", "alice"),
        (6, "claim", "bob"),
        (7, "decide", "bob"),
    ]
    result = store.verify_log()
    assert result.ok, result.problems
    assert result.entries == 7


def test_verify_log_chains_what_is_staged_and_replays_what_is_still_staged(
    store: ReviewStore, pg_url: str
) -> None:
    store.enqueue(make_items(2), actor="ci")
    with head_held(pg_url):
        item = store.claim("alice")
        assert item is not None
    assert _count(pg_url, "review_log_staged") == 1
    result = store.verify_log()  # chains the staged claim first
    assert result.ok, result.problems
    assert _count(pg_url, "review_log_staged") == 0
    assert result.entries == 3


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        (
            "UPDATE review_log_staged SET actor = 'mallory' WHERE action = 'claim'",
            "staged entry 1: hash does not match its content",
        ),
        ("DELETE FROM review_log_staged", "item 1: status is 'decided' but the log says 'open'"),
        (
            "UPDATE review_log_staged SET data = replace(data, 'confirmed', 'dismissed') "
            "WHERE action = 'decide'",
            "staged entry 2: hash does not match its content",
        ),
    ],
    ids=["edited", "deleted", "decision-edited"],
)
def test_tampering_with_staged_entries_is_detected(
    store: ReviewStore, pg_url: str, sql: str, problem: str
) -> None:
    store.enqueue(make_items(2), actor="ci")
    with head_held(pg_url):
        item = store.claim("alice")
        assert item is not None
        store.decide(item.id, actor="alice", outcome="confirmed")
        _sql(pg_url, sql)
    result = store.verify_log()
    assert not result.ok
    assert any(problem in p for p in result.problems), result.problems
    if "hash does not match" in problem:
        # an edited staged entry is never chained (a chain would bless the edit), and nothing
        # after it is: later changes are staged behind it
        other = store.claim("bob")
        assert other is not None
        # the edited entry and bob's claim behind it stay staged
        assert _count(pg_url, "review_log_staged") >= 2
        again = store.verify_log()
        assert any(problem in p for p in again.problems)


def test_many_writers_with_a_busy_head_lose_nothing(pg_url: str) -> None:
    """Threads racing for the head: each change is logged once, in a verifiable chain."""
    with open_store(pg_url, pool_size=8) as store:
        store.enqueue(make_items(200), actor="ci")
        errors: list[BaseException] = []

        def reviewer(name: str) -> None:
            try:
                while (item := store.claim(name)) is not None:
                    store.decide(item.id, actor=name, outcome="confirmed")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=reviewer, args=(f"r{i}",)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        result = store.verify_log()
        assert result.ok, result.problems[:5]
        assert result.entries == 200 * 3
        decided = store.list_items()
        assert all(i.status == "decided" for i in decided) and len(decided) == 200
