"""16 reviewers against 10,000 items on each back end, and a reviewer killed mid-decision."""

from __future__ import annotations

import collections
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from tests.unit.review.queue_helpers import chat_items, decide_all, decide_all_next

from ethicsgate.review import open_store

WORKERS = 16
ITEMS = 10_000


@pytest.mark.slow
def test_sixteen_reviewers_never_claim_twice_and_lose_nothing(db_url: str) -> None:
    with open_store(db_url) as store:
        assert store.enqueue(chat_items(ITEMS), actor="ci").added == ITEMS
    # separate processes, each with its own connection, as 16 people at 16 terminals would be
    names = [f"r{i:02d}" for i in range(WORKERS)]
    began = time.perf_counter()
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("fork")) as pool:
        decided = dict(zip(names, pool.map(decide_all, [db_url] * WORKERS, names), strict=True))
    elapsed = time.perf_counter() - began
    every = [item_id for ids in decided.values() for item_id in ids]
    assert len(every) == ITEMS and len(set(every)) == ITEMS  # each decided exactly once
    assert sum(1 for ids in decided.values() if ids) > 1  # the work really was shared

    with open_store(db_url) as store:
        items = store.list_items()
        assert len(items) == ITEMS
        assert {i.status.value for i in items} == {"decided"}
        assert all(i.decided_by and i.id in decided[i.decided_by] for i in items)
        actions = collections.Counter((e.action, e.item_id) for e in store.log_entries())
        # the log proves it: one claim and one decision per item, nothing else
        assert {a for a, _ in actions} == {"enqueue", "claim", "decide"}
        assert set(actions.values()) == {1} and len(actions) == 3 * ITEMS
        result = store.verify_log()
        assert result.ok, result.problems[:5]
        assert result.entries == 3 * ITEMS
    print(f"\n{db_url.split(':')[0]}: {2 * ITEMS / elapsed:.0f} claims+decisions/s")


def test_sixteen_reviewers_deciding_and_claiming_next_in_one_transaction(db_url: str) -> None:
    # the reviewer's loop as the web app and `review decide --next` run it: each decision
    # claims the next item in the same commit
    items = 2_000
    with open_store(db_url) as store:
        assert store.enqueue(chat_items(items), actor="ci").added == items
    names = [f"r{i:02d}" for i in range(WORKERS)]
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("fork")) as pool:
        decided = dict(
            zip(names, pool.map(decide_all_next, [db_url] * WORKERS, names), strict=True)
        )
    every = [item_id for ids in decided.values() for item_id in ids]
    assert len(every) == items and len(set(every)) == items  # each decided exactly once
    assert sum(1 for ids in decided.values() if ids) > 1
    with open_store(db_url) as store:
        assert {(i.status.value, i.decided_by in decided) for i in store.list_items()} == {
            ("decided", True)
        }
        assert all(i.id in decided[i.decided_by or ""] for i in store.list_items())
        actions = collections.Counter((e.action, e.item_id) for e in store.log_entries())
        assert set(actions.values()) == {1} and len(actions) == 3 * items
        result = store.verify_log()
        assert result.ok, result.problems[:5]


_KILLED = textwrap.dedent(
    """
    import sys, time
    from datetime import timedelta
    from ethicsgate.review import open_store
    from ethicsgate.review.store import ReviewStore

    original = ReviewStore._append

    def stall(self, conn, entries, at):
        original(self, conn, entries, at)
        if entries[0][1] == "decide":  # the item row and the log entry are written, not committed
            print("deciding", flush=True)
            time.sleep(600)

    ReviewStore._append = stall
    store = open_store(sys.argv[1], lease=timedelta(seconds=float(sys.argv[2])))
    item = store.claim("doomed")
    print("claimed", item.id, flush=True)
    if sys.argv[3] == "next":
        store.decide_and_claim_next(item.id, actor="doomed", outcome="confirmed")
    else:
        store.decide(item.id, actor="doomed", outcome="confirmed")
    """
)


@pytest.mark.parametrize("how", ["decide", "next"])
def test_a_reviewer_killed_mid_decision_leaves_the_item_claimable(
    db_url: str, tmp_path: Path, how: str
) -> None:
    # how=next: killed inside decide_and_claim_next, after the next item's claim and both log
    # entries were written but before the commit: neither the decision nor the claim happened
    lease = 3.0
    with open_store(db_url, lease=timedelta(seconds=lease)) as store:
        store.enqueue(chat_items(3), actor="ci")
    script = tmp_path / "killed.py"
    script.write_text(_KILLED)
    child = subprocess.Popen(
        [sys.executable, str(script), db_url, str(lease), how],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert child.stdout is not None
        claimed = child.stdout.readline().split()
        assert claimed[0] == "claimed", claimed
        item_id = int(claimed[1])
        assert child.stdout.readline().strip() == "deciding"
        claimed_at = time.monotonic()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    with open_store(db_url, lease=timedelta(seconds=lease)) as store:
        item = store.get(item_id)
        assert (item.status, item.assignee, item.outcome) == ("claimed", "doomed", None)
        assert [i.id for i in store.list_items(assignee="doomed")] == [item_id]
        assert store.verify_log().ok  # the half-written decision never reached the log
        other = store.claim("survivor")
        assert other is not None and other.id != item_id  # still leased to the dead reviewer
        store.release(other.id, actor="survivor")
        time.sleep(max(0.0, lease - (time.monotonic() - claimed_at)) + 0.3)
        taken = store.claim("survivor", item_id)
        assert taken.assignee == "survivor"
        store.decide(item_id, actor="survivor", outcome="confirmed")
        result = store.verify_log()
        assert result.ok, result.problems
