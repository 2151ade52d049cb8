"""The review store on SQLite and PostgreSQL: states, idempotency, leases, the hash chain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from ethicsgate.errors import ReviewError
from ethicsgate.review import NewReviewItem, ReviewStore, open_store
from ethicsgate.review.store import MAX_ACTOR


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def make_items(n: int, *, rule: str = "disclosure", due: str = "2026-01-03T00:00:00.000000Z"):
    return [
        NewReviewItem(
            policy_id="chat",
            policy_version="1",
            rule_id=rule,
            record_id=f"conv-{i:05d}",
            audit_id="chat-audit",
            severity="block",
            fields={"conversation_id": f"conv-{i:05d}", "first_bot_at": None},
            reason="not_disclosed",
            due_at=due,
        )
        for i in range(n)
    ]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_url: str, clock: Clock) -> Iterator[ReviewStore]:
    with open_store(db_url, clock=clock, lease=timedelta(minutes=15)) as s:
        yield s


def test_enqueue_is_idempotent_on_policy_rule_record(store: ReviewStore) -> None:
    first = store.enqueue(make_items(5), actor="ci")
    again = store.enqueue(make_items(7), actor="ci")  # 5 old + 2 new
    assert (first.added, first.existing) == (5, 0)
    assert (again.added, again.existing) == (2, 5)
    assert len(store.list_items()) == 7
    other_rule = store.enqueue(make_items(1, rule="handoff"), actor="ci")
    assert other_rule.added == 1  # same record, another rule: another item
    assert store.verify_log().ok


def test_claim_decide_walks_the_states(store: ReviewStore) -> None:
    store.enqueue(make_items(3), actor="ci")
    item = store.claim("alice")
    assert item is not None and item.status == "claimed" and item.assignee == "alice"
    assert item.record_id == "conv-00000"  # most urgent first (same due: lowest id)
    assert item.fields == {"conversation_id": "conv-00000", "first_bot_at": None}
    done = store.decide(item.id, actor="alice", outcome="confirmed")
    assert (done.status, done.outcome, done.decided_by) == ("decided", "confirmed", "alice")
    with pytest.raises(ReviewError, match="is decided"):
        store.claim("bob", done.id)
    esc = store.claim("bob")
    assert esc is not None
    esc = store.decide(esc.id, actor="bob", outcome="escalated", note="legal should look")
    assert esc.status == "escalated"
    assert store.claim("carol", esc.id).status == "claimed"  # a senior takes it by id
    assert store.release(esc.id, actor="carol").status == "escalated"
    assert [i.status.value for i in store.list_items()] == ["decided", "escalated", "open"]
    result = store.verify_log()
    assert result.ok, result.problems
    assert result.entries == 3 + 2 + 2 + 2


def test_bad_operations_raise_review_error(store: ReviewStore) -> None:
    store.enqueue(make_items(2), actor="ci")
    item = store.claim("alice")
    assert item is not None
    with pytest.raises(ReviewError, match="no review item 999"):
        store.get(999)
    with pytest.raises(ReviewError, match="no review item 999"):
        store.decide(999, actor="alice", outcome="confirmed")
    with pytest.raises(ReviewError, match="claimed by alice, not bob"):
        store.decide(item.id, actor="bob", outcome="confirmed")
    with pytest.raises(ReviewError, match="claimed by alice, not bob"):
        store.release(item.id, actor="bob")
    with pytest.raises(ReviewError, match="needs a note"):
        store.decide(item.id, actor="alice", outcome="dismissed", note="  ")
    with pytest.raises(ReviewError, match="unknown outcome 'maybe'"):
        store.decide(item.id, actor="alice", outcome="maybe")
    with pytest.raises(ReviewError, match="it is open, not claimed"):
        store.decide(item.id + 1, actor="alice", outcome="confirmed")
    with pytest.raises(ReviewError, match="is claimed by alice"):
        store.claim("bob", item.id)
    done = store.decide(item.id, actor="alice", outcome="dismissed", note="test account")
    assert done.note == "test account"
    assert store.verify_log().ok


@pytest.mark.parametrize("item_id", [2**63, -(2**63) - 1, 10**20])
def test_ids_no_bigint_holds_name_no_item(store: ReviewStore, item_id: int) -> None:
    store.enqueue(make_items(1), actor="ci")
    before = store.verify_log().entries
    message = f"no review item {item_id}"
    with pytest.raises(ReviewError, match=message):
        store.get(item_id)
    with pytest.raises(ReviewError, match=message):
        store.claim("alice", item_id)
    with pytest.raises(ReviewError, match=message):
        store.decide(item_id, actor="alice", outcome="confirmed")
    with pytest.raises(ReviewError, match=message):
        store.decide_and_claim_next(item_id, actor="alice", outcome="confirmed")
    with pytest.raises(ReviewError, match=message):
        store.release(item_id, actor="alice")
    assert store.item_log(item_id) == []
    assert store.verify_log().entries == before
    assert store.list_items()[0].status == "open"  # nothing was claimed instead


def test_expired_lease_makes_the_item_claimable_again(store: ReviewStore, clock: Clock) -> None:
    store.enqueue(make_items(1), actor="ci")
    item = store.claim("alice")
    assert item is not None
    assert store.claim("bob") is None  # held
    clock.advance(minutes=16)
    again = store.claim("bob")
    assert again is not None and again.id == item.id and again.assignee == "bob"
    with pytest.raises(ReviewError, match="claimed by bob, not alice"):
        store.decide(item.id, actor="alice", outcome="confirmed")
    store.decide(item.id, actor="bob", outcome="confirmed")
    assert store.verify_log().ok


def test_a_lapsed_claim_is_taken_before_an_open_item(store: ReviewStore, clock: Clock) -> None:
    store.enqueue(make_items(2, due="2026-01-09T00:00:00.000000Z"), actor="ci")
    store.enqueue(make_items(1, rule="urgent", due="2026-01-03T00:00:00.000000Z"), actor="ci")
    first = store.claim("alice")
    assert first is not None and first.rule_id == "urgent"
    second = store.claim("alice")
    assert second is not None and second.record_id == "conv-00000"
    clock.advance(minutes=16)
    # both of alice's leases lapsed: the most urgent lapsed claim first, then the other, then open
    taken = [store.claim("bob") for _ in range(4)]
    assert [t.id if t else None for t in taken] == [first.id, second.id, second.id + 1, None]
    froms = [e.data["from"] for e in store.recent_log(3)][::-1]
    assert froms == ["claimed", "claimed", "open"]
    with pytest.raises(ReviewError, match="claimed by bob, not alice"):
        store.decide(first.id, actor="alice", outcome="confirmed")
    assert store.verify_log().ok


def test_list_filters_and_overdue(store: ReviewStore, clock: Clock) -> None:
    store.enqueue(make_items(3, due="2026-01-02T04:00:00.000000Z"), actor="ci")
    store.enqueue(make_items(2, rule="handoff", due="2026-01-09T00:00:00.000000Z"), actor="ci")
    item = store.claim("alice")
    assert item is not None
    assert len(store.list_items(rule_id="handoff")) == 2
    assert [i.id for i in store.list_items(assignee="alice")] == [item.id]
    assert len(store.list_items(status="open")) == 4
    assert store.list_items(overdue=True) == []
    clock.advance(hours=2)
    overdue = store.list_items(overdue=True)
    assert len(overdue) == 3 and all(i.overdue for i in overdue)
    store.decide(item.id, actor="alice", outcome="dismissed", note="fine")
    stats = {s.rule_id: s for s in store.stats(audit_id="chat-audit")}
    assert stats["disclosure"].open == 2 and stats["disclosure"].overdue == 2
    assert stats["disclosure"].decided == 1 and stats["disclosure"].dismissed == 1
    assert stats["handoff"].open == 2 and stats["handoff"].overdue == 0
    assert store.stats(audit_id="another") == []


def test_an_audit_the_queue_holds_no_item_of_is_named_with_the_closest(
    store: ReviewStore,
) -> None:
    # found by QA: list_items(audit_id=<typo>) returned [] with nothing to tell it from an
    # audit that queued nothing; unknown_audit says which, and names the closest
    assert store.list_items(audit_id="chat-audit") == []
    assert "the queue is empty" in (store.unknown_audit("chat-audit") or "")
    store.enqueue(make_items(2), actor="ci")
    others = [
        item.model_copy(update={"audit_id": f"audit-{n:02d}", "record_id": f"r{n}"})
        for n, item in enumerate(make_items(25))
    ]
    store.enqueue(others, actor="ci")
    assert store.audit_ids()[:2] == ["audit-00", "audit-01"] and len(store.audit_ids()) == 26
    assert store.list_items(audit_id="chat-audti", status="open") == []
    note = store.unknown_audit("chat-audti") or ""
    assert note.startswith("no review item of audit 'chat-audti' (did you mean 'chat-audit'?)")
    assert "the audits audit-00, audit-01," in note and "audit-19 (and 6 more)" in note
    # an audit with items, none matching the other filters: nothing to list, nothing to say
    assert store.list_items(audit_id="chat-audit", status="decided") == []
    assert store.unknown_audit("chat-audit") is None
    assert len(store.list_items(audit_id="chat-audit")) == 2
    rule = store.list_items()[0].rule_id
    assert store.unknown_rule(rule) is None
    said = store.unknown_rule(rule + "s") or ""
    assert said.startswith(f"no review item of rule {rule + 's'!r} (did you mean {rule!r}?)")
    # --assignee: the items a reviewer holds now; a name that held and decided none is said
    assert store.unknown_assignee("alice") == (
        "no review item is held or was decided by 'alice': no reviewer has claimed an item yet"
    )
    store.claim("alice")
    assert store.unknown_assignee("alice") is None
    said = store.unknown_assignee("alcie") or ""
    assert said == (
        "no review item is held or was decided by 'alcie' (did you mean 'alice'?): the "
        "reviewers of the queue are alice"
    )


def _tamper(url: str, sql: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE review_log SET actor = 'mallory' WHERE seq = 3", "entry 3: hash does not match"),
        ("DELETE FROM review_log WHERE seq = 2", "expected seq 2"),
        ("UPDATE review_log SET seq = seq + 100 WHERE seq = 2", "expected seq 2"),
        ("DELETE FROM review_log WHERE seq = 5", "the log ends at entry 4"),
        ("UPDATE review_items SET outcome = 'dismissed' WHERE id = 1", "outcome is 'dismissed'"),
        ("UPDATE review_items SET fields = '{}' WHERE id = 2", "item 2: fields"),
    ],
    ids=["edited", "deleted", "reordered", "tail-deleted", "item-edited", "evidence-edited"],
)
def test_verify_log_detects_tampering(store: ReviewStore, db_url: str, sql: str, problem: str):
    store.enqueue(make_items(2), actor="ci")
    item = store.claim("alice")
    assert item is not None
    store.decide(item.id, actor="alice", outcome="confirmed")
    store.claim("bob")
    assert store.verify_log().ok
    _tamper(db_url, sql)
    result = store.verify_log()
    assert not result.ok
    assert any(problem in p for p in result.problems), result.problems


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE review_log SET actor = 'mallory' WHERE seq = 4", "entry 4: hash does not match"),
        ("UPDATE review_items SET outcome = 'dismissed' WHERE id = 1", "outcome is 'dismissed'"),
        ("UPDATE review_items SET fields = '{}' WHERE id = 1", "item 1: fields"),
    ],
    ids=["entry-edited", "item-edited", "evidence-edited"],
)
def test_verify_item_finds_an_edit_of_that_item_only(
    store: ReviewStore, db_url: str, sql: str, problem: str
) -> None:
    store.enqueue(make_items(2), actor="ci")
    item = store.claim("alice")
    assert item is not None and item.id == 1
    store.decide(item.id, actor="alice", outcome="confirmed")  # entries 3 and 4
    assert store.verify_item(1) == [] and store.verify_item(2) == []
    _tamper(db_url, sql)
    assert any(problem in p for p in store.verify_item(1)), store.verify_item(1)
    assert store.verify_item(2) == []
    with pytest.raises(ReviewError, match="no review item 3"):
        store.verify_item(3)


def test_verify_log_detects_swapped_entries(store: ReviewStore, db_url: str) -> None:
    store.enqueue(make_items(3), actor="ci")
    # swap entries 2 and 3 wholesale (hashes and all): the links break
    _tamper(db_url, "UPDATE review_log SET seq = -2 WHERE seq = 2")
    _tamper(db_url, "UPDATE review_log SET seq = 2 WHERE seq = 3")
    _tamper(db_url, "UPDATE review_log SET seq = 3 WHERE seq = -2")
    result = store.verify_log()
    assert not result.ok
    assert any("prev_hash does not match" in p for p in result.problems)


def test_verify_log_is_not_fooled_by_a_decision_made_while_it_reads(
    store: ReviewStore, db_url: str
) -> None:
    """Found by the web QA: on PostgreSQL the log page and ``verify-log`` said the log did not
    verify ("the log ends at entry 9 but its head says entry 7", "status is 'open' but the log
    says 'claimed'") while reviewers worked: each statement of the check saw the commits made
    since the one before, so the items were read before a decision and the log after it."""
    store.enqueue(make_items(3), actor="ci")
    meanwhile: list[int] = []

    def decide_meanwhile(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        sql = " ".join(statement.split())
        if meanwhile or "FROM review_log ORDER BY review_log.seq" not in sql:
            return
        with open_store(db_url) as other:  # another reviewer, committing between two reads
            item = other.claim("ben")
            assert item is not None
            other.decide(item.id, actor="ben", outcome="confirmed")
            meanwhile.append(item.id)

    sa.event.listen(store.engine, "before_cursor_execute", decide_meanwhile)
    try:
        result = store.verify_log()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", decide_meanwhile)
    assert meanwhile  # the decision was made while the check read
    assert result.ok, result.problems
    assert (result.entries, result.items) == (3, 3)  # what was there when the check began
    assert store.verify_log().ok and store.verify_log().entries == 5


def test_reopening_a_store_keeps_its_schema_and_data(db_url: str) -> None:
    with open_store(db_url) as first:
        first.enqueue(make_items(2), actor="ci")
    with open_store(db_url) as second:
        assert len(second.list_items()) == 2
        assert second.verify_log().ok


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "only sqlite and postgresql are supported"),
        ("not a url", "bad review database URL"),
        ("sqlite://", "SQLite needs a file path"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot open review database"),
    ],
)
def test_bad_urls_are_review_errors(url: str, message: str) -> None:
    with pytest.raises(ReviewError, match=message):
        open_store(url)


def test_default_store_is_a_wal_sqlite_file(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store(None) as store:
        store.enqueue(make_items(1), actor="ci")
        assert store.backend == "sqlite"
    assert (tmp_path / ".ethicsgate" / "review.db").is_file()
    con = sa.create_engine(f"sqlite:///{tmp_path / '.ethicsgate' / 'review.db'}")
    with con.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    con.dispose()


def test_reclaiming_your_own_item_extends_the_lease(store: ReviewStore, clock: Clock) -> None:
    store.enqueue(make_items(1), actor="ci")
    item = store.claim("alice")
    assert item is not None
    clock.advance(minutes=10)
    again = store.claim("alice", item.id)
    assert again.lease_expires_at > item.lease_expires_at
    assert store.verify_log().ok


def _alembic(db_url: str, action: str, revision: str) -> None:
    """Run an Alembic command on the review migrations, as the store does (no alembic.ini)."""
    from alembic import command
    from alembic.config import Config

    from ethicsgate.review.store import _MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


def _tables(db_url: str) -> dict[str, set[str]]:
    engine = sa.create_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        return {
            t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def test_migrations_downgrade_to_base_and_upgrade_again(db_url: str) -> None:
    from ethicsgate.review.store import _meta

    with open_store(db_url) as store:
        store.enqueue(make_items(2), actor="ci")
    expected = {name: {c.name for c in table.columns} for name, table in _meta.tables.items()}
    upgraded = _tables(db_url)
    # the migration builds what the store reads
    assert {t: upgraded[t] for t in expected} == expected
    _alembic(db_url, "downgrade", "base")
    assert not set(_tables(db_url)) & set(expected)  # every review table is gone
    with open_store(db_url) as store:  # opening migrates up again, to an empty, valid store
        assert store.list_items() == []
        assert store.verify_log().ok
        store.enqueue(make_items(1), actor="ci")
        assert len(store.list_items()) == 1


def _walk(store: ReviewStore, clock: Clock) -> None:
    store.enqueue(make_items(4), actor="ci")
    first = store.claim("alice")
    assert first is not None
    store.decide(first.id, actor="alice", outcome="confirmed")
    second = store.claim("bob", identity={"auth": "password", "role": "reviewer"})
    assert second is not None
    store.decide(second.id, actor="bob", outcome="dismissed", note="a test account")
    third = store.claim("carol")
    assert third is not None
    store.release(third.id, actor="carol")
    fourth = store.claim("carol")
    assert fourth is not None
    clock.advance(minutes=16)
    lapsed = store.claim("dave")
    assert lapsed is not None and lapsed.id == fourth.id
    store.decide(lapsed.id, actor="dave", outcome="escalated", note="legal")
    with pytest.raises(ReviewError, match="it is escalated, not claimed"):
        store.decide(fourth.id, actor="carol", outcome="confirmed")


def test_sqlite_hot_path_through_the_driver_equals_sqlalchemy(tmp_path: Path) -> None:
    # oracle: SQLite runs claim, decide and the log's appends through the driver's cursor;
    # the same steps through SQLAlchemy give the same items and the same chain, hash for hash
    results = []
    for direct in (True, False):
        clock = Clock()
        with open_store(f"sqlite:///{tmp_path / f'{direct}.db'}", clock=clock) as store:
            store._direct = direct
            _walk(store, clock)
            assert store.verify_log().ok
            results.append((store.list_items(), [e.hash for e in store.log_entries()]))
    assert results[0] == results[1]
    assert len(results[0][1]) == 4 + 2 + 2 + 2 + 1 + 2


def test_decide_and_claim_next_is_one_transaction(store: ReviewStore, clock: Clock) -> None:
    store.enqueue(make_items(3), actor="ci")
    first = store.claim("alice")
    assert first is not None
    head = store.recent_log(1)[0].seq
    decided, nxt = store.decide_and_claim_next(
        first.id, actor="alice", outcome="dismissed", note="test account", identity={"auth": "os"}
    )
    assert (decided.id, decided.status, decided.note) == (first.id, "decided", "test account")
    assert nxt is not None and nxt.id == first.id + 1 and nxt.assignee == "alice"
    assert nxt.lease_expires_at == "2026-01-02T03:19:05.000000Z"  # the lease runs from now
    entries = store.recent_log(2)[::-1]
    # one commit, two entries: the decision first, then the claim, at the same moment
    assert [(e.seq, e.action, e.item_id) for e in entries] == [
        (head + 1, "decide", first.id),
        (head + 2, "claim", nxt.id),
    ]
    assert entries[0].at == entries[1].at
    assert entries[1].data == {
        "lease_expires_at": nxt.lease_expires_at,
        "from": "open",
        "identity": {"auth": "os"},
    }
    assert entries[0].data["identity"] == {"auth": "os"}
    last, none = store.decide_and_claim_next(nxt.id, actor="alice", outcome="escalated")
    assert last.status == "escalated" and none is not None and none.id == nxt.id + 1
    # the queue runs dry: the decision is made, nothing is claimed (the escalated item stays)
    final, empty = store.decide_and_claim_next(none.id, actor="alice", outcome="confirmed")
    assert final.status == "decided" and empty is None
    assert [i.status.value for i in store.list_items()] == ["decided", "escalated", "decided"]
    result = store.verify_log()
    assert result.ok, result.problems
    assert result.entries == 3 + 1 + 3 * 2 - 1


def test_decide_and_claim_next_takes_a_lapsed_claim_first(store: ReviewStore, clock: Clock):
    store.enqueue(make_items(3), actor="ci")
    mine, lapsing = store.claim("alice"), store.claim("bob")
    assert mine is not None and lapsing is not None
    clock.advance(minutes=16)  # both leases lapse; alice still holds hers until someone claims
    _, nxt = store.decide_and_claim_next(mine.id, actor="alice", outcome="confirmed")
    assert nxt is not None and nxt.id == lapsing.id and nxt.assignee == "alice"
    assert store.recent_log(1)[0].data["from"] == "claimed"
    with pytest.raises(ReviewError, match="claimed by alice, not bob"):
        store.decide(lapsing.id, actor="bob", outcome="confirmed")
    assert store.verify_log().ok


def test_a_refused_decide_and_claim_next_changes_nothing(store: ReviewStore) -> None:
    store.enqueue(make_items(3), actor="ci")
    item = store.claim("alice")
    assert item is not None
    before = (store.list_items(), [e.hash for e in store.log_entries()])
    with pytest.raises(ReviewError, match="claimed by alice, not bob"):
        store.decide_and_claim_next(item.id, actor="bob", outcome="confirmed")
    with pytest.raises(ReviewError, match="needs a note"):
        store.decide_and_claim_next(item.id, actor="alice", outcome="dismissed")
    with pytest.raises(ReviewError, match="unknown outcome 'maybe'"):
        store.decide_and_claim_next(item.id, actor="alice", outcome="maybe")
    with pytest.raises(ReviewError, match="no review item 999"):
        store.decide_and_claim_next(999, actor="alice", outcome="confirmed")
    with pytest.raises(ReviewError, match="it is open, not claimed"):
        store.decide_and_claim_next(item.id + 1, actor="alice", outcome="confirmed")
    # nothing was decided, and no other item was claimed by the refused calls
    assert (store.list_items(), [e.hash for e in store.log_entries()]) == before
    assert store.verify_log().ok


def test_decide_and_claim_next_tampering_is_detected(store: ReviewStore, db_url: str) -> None:
    store.enqueue(make_items(2), actor="ci")
    item = store.claim("alice")
    assert item is not None
    _, nxt = store.decide_and_claim_next(item.id, actor="alice", outcome="confirmed")
    assert nxt is not None and store.verify_log().ok
    # the claim made in the decision's transaction is chained like any other entry
    _tamper(db_url, f"UPDATE review_items SET assignee = 'mallory' WHERE id = {nxt.id}")
    result = store.verify_log()
    assert any(f"item {nxt.id}: assignee is 'mallory'" in p for p in result.problems)
    _tamper(db_url, "UPDATE review_log SET actor = 'mallory' WHERE seq = 4")
    result = store.verify_log()
    assert any("entry 4: hash does not match" in p for p in result.problems), result.problems


def test_an_approver_works_the_escalated_queue_in_one_transaction_per_item(
    store: ReviewStore,
) -> None:
    store.enqueue(make_items(4), actor="ci")
    for _ in range(2):  # a reviewer escalates two items; two stay open
        item = store.claim("alice")
        assert item is not None
        store.decide(item.id, actor="alice", outcome="escalated", note="legal must see it")
    first = store.claim("carol", next_escalated=True)
    assert first is not None and store.recent_log(1)[0].data["from"] == "escalated"
    decided, nxt = store.decide_and_claim_next(
        first.id, actor="carol", outcome="confirmed", next_escalated=True
    )
    assert decided.status == "decided" and nxt is not None and nxt.id == first.id + 1
    assert (nxt.assignee, store.recent_log(1)[0].data["from"]) == ("carol", "escalated")
    # the escalated queue runs dry: nothing is claimed, and the open items are left alone
    last, none = store.decide_and_claim_next(
        nxt.id, actor="carol", outcome="dismissed", note="consented by phone", next_escalated=True
    )
    assert last.status == "decided" and none is None
    assert [i.status.value for i in store.list_items()] == ["decided", "decided", "open", "open"]
    assert store.verify_log().ok


def test_a_lapsed_approver_claim_goes_back_to_the_approvers_not_to_a_reviewer(
    store: ReviewStore, clock: Clock
) -> None:
    store.enqueue(make_items(2), actor="ci")
    item = store.claim("alice")
    assert item is not None
    store.decide(item.id, actor="alice", outcome="escalated", note="legal must see it")
    taken = store.claim("carol", next_escalated=True)
    assert taken is not None and taken.id == item.id
    clock.advance(minutes=16)  # carol's lease lapses; the item is still an escalation
    other = store.claim("bob")  # a reviewer gets the open item, not the lapsed escalation
    assert other is not None and other.id != item.id
    with pytest.raises(ReviewError, match="is escalated: only an approver may take it"):
        store.claim("bob", item.id, escalated=False)
    _, following = store.decide_and_claim_next(other.id, actor="bob", outcome="confirmed")
    assert following is None  # nothing for a reviewer: the lapsed claim is the approvers'
    back = store.claim("dave", next_escalated=True)
    assert back is not None and (back.id, back.assignee) == (item.id, "dave")
    assert store.recent_log(1)[0].data["from"] == "claimed"
    assert store.decide(item.id, actor="dave", outcome="confirmed").status == "decided"
    assert store.verify_log().ok


def test_a_reader_neither_creates_nor_migrates_a_store(db_url: str) -> None:
    with pytest.raises(ReviewError, match="no review store at") as caught:
        open_store(db_url, create=False)
    assert "--enqueue" in (caught.value.hint or "")
    if db_url.startswith("sqlite"):
        path = Path(sa.make_url(db_url).database or "")
        assert list(path.parent.iterdir()) == []  # no file, no lock file
    else:
        assert _tables(db_url) == {}  # nothing migrated
    with open_store(db_url) as writer:  # a writer makes it
        writer.enqueue(make_items(1), actor="ci")
    with open_store(db_url, create=False) as reader:
        assert len(reader.list_items()) == 1 and reader.verify_log().ok


def test_a_reader_upgrades_an_older_store_and_refuses_a_newer_one(db_url: str) -> None:
    # after an upgrade of ethicsgate, a job that only reads must not fail until one writes
    with open_store(db_url) as store:
        store.enqueue(make_items(1), actor="ci")
    _alembic(db_url, "downgrade", "0004")
    with open_store(db_url, create=False) as reader:
        assert len(reader.list_items()) == 1 and reader.verify_log().ok
    with sa.create_engine(db_url).begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ReviewError, match="schema revision 9999, not 0005") as caught:
        open_store(db_url, create=False)
    assert "upgrade ethicsgate" in (caught.value.hint or "")


def test_the_store_url_is_shown_without_its_secrets() -> None:
    from tests.unit.review.conftest import _fresh_postgres

    url = _fresh_postgres()  # the test server ignores a password it does not ask for
    secret = "Hidden-in-the-query-1"
    with_secret = f"{url}{'&' if '?' in url else '?'}password={secret}&sslpassword={secret}"
    with open_store(with_secret) as store:
        assert secret not in store.url
        assert "password=***" in store.url and "sslpassword=***" in store.url


def test_a_refused_claim_or_decision_says_who_holds_it_until_when_and_what_to_do(
    store: ReviewStore,
) -> None:
    """Found by QA: "review item 1 is claimed by alice" and "... is decided" gave no fix."""
    store.enqueue(make_items(2), actor="ci")
    item = store.claim("alice")
    assert item is not None
    until = item.lease_expires_at
    with pytest.raises(ReviewError) as held:
        store.claim("bob", item.id)
    assert held.value.message == f"review item {item.id} is claimed by alice until {until}"
    assert "`ethicsgate review claim` takes the next open item" in (held.value.hint or "")
    with pytest.raises(ReviewError) as other:
        store.decide(item.id, actor="bob", outcome="confirmed")
    assert other.value.message == (
        f"cannot decide review item {item.id}: it is claimed by alice, not bob (until {until})"
    )
    assert "you are bob here: the name comes from --as" in (other.value.hint or "")
    assert "from actor= in Python, from the sign-in in the web app" in (other.value.hint or "")
    store.decide(item.id, actor="alice", outcome="dismissed", note="test account")
    with pytest.raises(ReviewError) as final:
        store.claim("bob", item.id)
    assert final.value.message == (
        f"review item {item.id} is decided (dismissed by alice): a decision is final"
    )
    assert f"`ethicsgate review show {item.id}`" in (final.value.hint or "")


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_every_operation_that_records_a_reviewer_refuses_a_blank_name(
    store: ReviewStore, name: str
) -> None:
    """Found in review: the CLI refused --as '', the Python API logged '' or '   ' as the actor."""
    store.enqueue(make_items(3), actor="ci")
    item = store.claim("alice")
    assert item is not None
    before = (store.list_items(), [e.hash for e in store.log_entries()])
    refusals = {
        "enqueue": lambda: store.enqueue(make_items(5), actor=name),
        "enqueue nothing": lambda: store.enqueue([], actor=name),
        "claim next": lambda: store.claim(name),
        "claim by id": lambda: store.claim(name, item.id + 1),
        "decide": lambda: store.decide(item.id, actor=name, outcome="confirmed"),
        "decide and claim next": lambda: store.decide_and_claim_next(
            item.id, actor=name, outcome="confirmed"
        ),
        "release": lambda: store.release(item.id, actor=name),
    }
    for what, call in refusals.items():
        with pytest.raises(ReviewError) as refused:
            call()
        assert refused.value.message == (
            f"actor= gives the reviewer's name as {name!r}, which is blank: the decision log "
            "records who acted"
        ), what
        assert refused.value.hint == "give actor= the reviewer's name, e.g. actor='alice'", what
    assert (store.list_items(), [e.hash for e in store.log_entries()]) == before
    assert store.verify_log().ok


def test_a_reviewer_name_is_logged_without_its_spaces_and_refused_when_too_long(
    store: ReviewStore,
) -> None:
    """A name longer than the log's columns was a DataError (exit 3) on PostgreSQL."""
    store.enqueue(make_items(2), actor=" ci ")
    item = store.claim("  alice ")
    assert item is not None and item.assignee == "alice"
    with pytest.raises(ReviewError) as refused:
        store.claim("a" * (MAX_ACTOR + 1))
    assert refused.value.message == (
        f"actor= gives a reviewer's name {MAX_ACTOR + 1} characters long; a name holds at most "
        f"{MAX_ACTOR}"
    )
    longest = store.claim("b" * MAX_ACTOR)
    assert longest is not None and longest.assignee == "b" * MAX_ACTOR
    done = store.decide(item.id, actor="alice", outcome="confirmed")
    assert done.decided_by == "alice"
    assert [(e.actor, e.action) for e in store.log_entries()] == [
        ("ci", "enqueue"),
        ("ci", "enqueue"),
        ("alice", "claim"),
        ("b" * MAX_ACTOR, "claim"),
        ("alice", "decide"),
    ]
