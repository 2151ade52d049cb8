"""SQLite's writer gate: one writer at a time across processes, and never a hang.

Writers queue on the gate (a thread lock and ``flock`` on ``<db>.writer-lock``) rather than on
SQLite's busy handler. A gate that lets two in loses the counter's increments below; one that
waits forever for a stuck holder, or keeps the lock after giving up, fails the holder tests.
"""

from __future__ import annotations

import collections
import fcntl
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from tests.unit.review.queue_helpers import chat_items, decide_all

from ethicsgate.errors import ReviewError
from ethicsgate.review import open_store
from ethicsgate.review import store as store_module
from ethicsgate.review.store import _WriterGate

PROCESSES = 8
INCREMENTS = 150

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from ethicsgate.review.store import _WriterGate

    with _WriterGate(sys.argv[1]):
        print("held", flush=True)
        time.sleep(600)
    """
)


def _increment(db: str, times: int) -> int:
    """Read, yield the CPU and write a counter file ``times`` times, each under the gate."""
    gate = _WriterGate(db)
    counter = Path(db + ".counter")
    for _ in range(times):
        with gate:
            value = int(counter.read_text())
            time.sleep(0.0001)  # a writer without the gate would be overtaken here
            counter.write_text(str(value + 1))
    return times


def test_the_gate_lets_one_process_in_at_a_time(tmp_path: Path) -> None:
    db = str(tmp_path / "review.db")
    Path(db + ".counter").write_text("0")
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        done = sum(pool.map(_increment, [db] * PROCESSES, [INCREMENTS] * PROCESSES))
    assert done == PROCESSES * INCREMENTS
    assert int(Path(db + ".counter").read_text()) == PROCESSES * INCREMENTS  # none lost


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Yield a process that holds the gate of ``tmp_path/review.db`` until it is killed."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path / "review.db")],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        yield child
    finally:
        child.kill()
        child.wait(timeout=30)


def _free(path: str) -> bool:
    """Return whether nobody, this process's threads included, holds the lock file."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # drops the lock if we took it


def test_a_stuck_holder_times_out_and_a_killed_one_frees_the_gate(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    db = str(tmp_path / "review.db")
    gate = _WriterGate(db, timeout=0.5)
    began = time.monotonic()
    with pytest.raises(ReviewError, match="busy: another writer held it for over 0.5 s"), gate:
        pass
    assert 0.5 <= time.monotonic() - began < 5  # gave up after the timeout, not never
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    began = time.monotonic()
    with gate:  # the kernel released the dead holder's lock
        assert not _free(db + ".writer-lock")
    assert time.monotonic() - began < 0.5  # at once, not after a timeout
    # nothing in this process (e.g. a waiter that gave up) still holds the lock
    deadline = time.monotonic() + 5
    while not _free(db + ".writer-lock"):
        assert time.monotonic() < deadline, "an abandoned waiter kept the writer lock"
        time.sleep(0.01)


def test_a_store_write_behind_a_stuck_writer_fails_after_the_timeout(
    tmp_path: Path, holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "_BUSY_TIMEOUT_S", 0.5)
    monkeypatch.setattr(store_module, "_SQLITE_LOCKS", {})  # a gate made with the short timeout
    url = f"sqlite:///{tmp_path / 'review.db'}"
    with open_store(url) as store:
        with pytest.raises(ReviewError, match="the review database is busy"):
            store.enqueue(chat_items(2), actor="ci")
        assert store.list_items() == []  # readers do not queue behind writers
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        assert store.enqueue(chat_items(2), actor="ci").added == 2
        assert store.verify_log().ok


def test_processes_racing_on_sqlite_decide_each_item_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'review.db'}"
    items = 600
    with open_store(url) as store:
        store.enqueue(chat_items(items), actor="ci")
    names = [f"r{i}" for i in range(PROCESSES)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        decided = list(pool.map(decide_all, [url] * PROCESSES, names))
    every = [item_id for ids in decided for item_id in ids]
    assert sorted(every) == list(range(1, items + 1))  # each once, none lost
    with open_store(url) as store:
        assert {i.status.value for i in store.list_items()} == {"decided"}
        actions = collections.Counter((e.action, e.item_id) for e in store.log_entries())
        assert set(actions.values()) == {1} and len(actions) == 3 * items
        assert store.verify_log().ok
