"""Load: 16 reviewers over HTTP against a real uvicorn server work a queue of 200 items, on
SQLite and on PostgreSQL: every item is decided exactly once, by the reviewer who was told it
was theirs, nothing is lost, and the hash-chained log verifies.

The oracle is the store itself, read after the run: each item's row, and a plain count of the
``decide`` entries per item in the log. benchmarks/bench_web.py runs the same with 2,000 items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from tests.unit.review.conftest import _fresh_postgres, stop_private_server
from tests.web.conftest import LiveServer
from tests.web.load import run_reviewers, seed_store

from ethicsgate.review import open_store

ITEMS, REVIEWERS = 200, 16


@pytest.fixture(scope="module", autouse=True)
def _stop_postgres() -> Iterator[None]:
    yield
    stop_private_server()


@pytest.fixture(params=["sqlite", "postgresql"])
def load_db(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'review.db'}"
    return _fresh_postgres()


def test_concurrent_reviewers_decide_every_item_exactly_once(load_db: str) -> None:
    seed_store(load_db, items=ITEMS, reviewers=REVIEWERS)
    server = LiveServer("--db", load_db)
    try:
        result = run_reviewers(server.url, REVIEWERS)
    finally:
        server.stop()
    assert result.errors == []
    decided = result.all_decided
    assert len(decided) == len(set(decided)) == ITEMS  # each once, none lost
    assert sum(1 for items in result.decided.values() if items) > 1  # they really shared it
    with open_store(load_db) as store:
        items = {item.id: item for item in store.list_items()}
        entries = list(store.log_entries())
        verified = store.verify_log()
    assert set(items) == set(decided)
    assert all(item.status.value == "decided" for item in items.values())
    decides = Counter(e.item_id for e in entries if e.action == "decide")
    assert decides == Counter(set(decided))  # exactly one decide entry per item
    for name, mine in result.decided.items():
        for item_id in mine:
            assert items[item_id].decided_by == name
    claims = [e for e in entries if e.action == "claim"]
    assert all(e.data["identity"]["auth"] == "password" for e in claims)
    assert verified.ok, verified.problems
    assert verified.entries == ITEMS * 3  # enqueue, claim, decide: nothing else happened
