"""History writes queue at the review store's SQLite writer gate, with the review queue's writers.

Both stores write to the same database file. A history writer that skipped the gate would meet
the gate's holders in SQLite's lock instead: with SQLite's busy handler turned off (timeout 0)
that is an immediate 'database is locked', with it on, waits of up to 100 ms between retries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.conftest import ROOT
from tests.unit.review.queue_helpers import chat_items

from ethicsgate.audit.result import AuditResult
from ethicsgate.review import ReviewStore, open_store
from ethicsgate.session import open_history, render_report_files

BAKERY = ROOT / "audits" / "bakery.yaml"


@pytest.fixture(scope="module")
def bakery() -> tuple[AuditResult, dict[str, bytes]]:
    from ethicsgate.audit import run_audit

    result = run_audit(BAKERY)
    return result, render_report_files(result)


def _variant(files: dict[str, bytes], n: int) -> dict[str, bytes]:
    """Return the report's files with report.json made distinct (a new run to record)."""
    return files | {"report.json": files["report.json"] + b" " * n}


def _no_busy_wait(engine: sa.Engine) -> None:
    """Turn SQLite's busy handler off on every connection ``engine`` hands out."""

    @sa.event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'review.db'}"


def test_a_history_write_waits_for_the_writer_gate(db: str, bakery) -> None:
    result, files = bakery
    history = open_history(db)
    holder = open_store(db)
    recorded: list[int] = []
    writer = threading.Thread(target=lambda: recorded.append(history.record(result, files).id))
    try:
        with holder.writer_gate:  # a review writer between its BEGIN and its COMMIT
            writer.start()
            time.sleep(0.5)
            assert writer.is_alive() and recorded == []  # queued at the gate, not in SQLite
            assert history.list_runs() == []  # readers are not gated
        writer.join(timeout=30)
        assert not writer.is_alive() and len(recorded) == 1
    finally:
        history.close()
        holder.close()


def test_concurrent_history_records_and_review_decisions_never_see_a_locked_database(
    db: str, bakery
) -> None:
    result, files = bakery
    items, runs, reviewers = 300, 12, 4
    with open_store(db) as store:
        store.enqueue(chat_items(items), actor="ci")
    history = open_history(db)
    stores: list[ReviewStore] = [
        open_store(db, lease=timedelta(hours=1), pool_size=1) for _ in range(reviewers)
    ]
    for engine in [history._engine, *(s.engine for s in stores)]:
        _no_busy_wait(engine)
    errors: list[BaseException] = []
    decided: list[int] = []
    recorded: list[int] = []
    start = threading.Barrier(reviewers + 2)

    def review(store: ReviewStore, name: str) -> None:
        try:
            start.wait()
            item = store.claim(name)
            while item is not None:
                decided.append(item.id)
                _, item = store.decide_and_claim_next(item.id, actor=name, outcome="confirmed")
        except BaseException as exc:  # reported below, with the others'
            errors.append(exc)

    def record(offset: int) -> None:
        try:
            start.wait()
            for n in range(offset, runs, 2):
                recorded.append(history.record(result, _variant(files, n)).id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=review, args=(s, f"r{i}")) for i, s in enumerate(stores)] + [
        threading.Thread(target=record, args=(offset,)) for offset in (0, 1)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not [str(e) for e in errors]  # no 'database is locked', nor anything else
        assert sorted(decided) == list(range(1, items + 1))
        assert len(set(recorded)) == runs and len(history.list_runs()) == runs
        assert stores[0].verify_log().ok
    finally:
        history.close()
        for store in stores:
            store.close()
