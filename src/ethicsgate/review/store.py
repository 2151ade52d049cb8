"""The review store: every SQL statement of the review queue is in this module.

SQLite (a file, WAL) by default, PostgreSQL by URL. Every change runs in one transaction that
also appends to the hash-chained decision log, so a change and its log entry land together or not
at all. Appends never wait for each other: a writer takes the chain's head row with
``FOR UPDATE SKIP LOCKED``; when it gets it, it chains every staged entry it can see and its own
entries and moves the head, and when another writer holds the head, it stages its entries
(``review_log_staged``, each hashed on its own) for the next head holder to chain. Items are
taken with ``FOR UPDATE SKIP LOCKED`` too, so claimers never wait on each other's item. On
SQLite every writing transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time), so the
head is always free there and entries are chained at once.
"""

from __future__ import annotations

import collections
import getpass
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import sqlite as sqlite_dialect

from ethicsgate.engines import redact_message, redact_target
from ethicsgate.errors import ReviewError, SettingsError, did_you_mean
from ethicsgate.review.chain import (
    StagedEntry,
    canonical_data,
    entry_hash,
    replay,
    replay_item,
    staged_hash,
)
from ethicsgate.review.models import (
    ItemStatus,
    LogEntry,
    NewReviewItem,
    Outcome,
    ReviewItem,
    RuleQueueStats,
    VerifyResult,
)

__all__ = [
    "DEFAULT_DB_PATH",
    "DEFAULT_LEASE",
    "MAX_ACTOR",
    "MAX_NOTE",
    "EnqueueResult",
    "NoReviewStore",
    "ReviewStore",
    "checked_actor",
    "default_reviewer",
    "format_time",
    "open_store",
]

DEFAULT_DB_PATH = Path(".ethicsgate") / "review.db"
DEFAULT_LEASE = timedelta(minutes=15)
#: How to go on when someone else holds the item.
_HELD_HINT = (
    "`ethicsgate review claim` takes the next open item; this one can be claimed again once "
    "that claim lapses"
)
#: The longest note a decision takes, in characters: the same on the command line, in the
#: Python API, the JSON API and the web form (whose text box holds no more).
MAX_NOTE = 4000
#: The longest reviewer name the log takes, in characters (its columns hold no more).
MAX_ACTOR = 128
HEAD_REVISION = "0005"  # the web app's users and sessions (0005_users, after 0004_log_staging)
_MIGRATIONS = Path(__file__).parent / "migrations"

Clock = Callable[[], datetime]

_meta = sa.MetaData()
items_t = sa.Table(
    "review_items",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_key", sa.String(1024)),
    sa.Column("policy_id", sa.String(128)),
    sa.Column("policy_version", sa.String(128)),
    sa.Column("rule_id", sa.String(128)),
    sa.Column("record_id", sa.String(512)),
    sa.Column("audit_id", sa.String(128)),
    sa.Column("severity", sa.String(8)),
    sa.Column("reason", sa.String(256)),
    sa.Column("fields", sa.Text),
    sa.Column("status", sa.String(16)),
    sa.Column("assignee", sa.String(128)),
    sa.Column("claimed_at", sa.String(32)),
    sa.Column("lease_expires_at", sa.String(32)),
    sa.Column("outcome", sa.String(16)),
    sa.Column("note", sa.Text),
    sa.Column("decided_by", sa.String(128)),
    sa.Column("decided_at", sa.String(32)),
    sa.Column("created_at", sa.String(32)),
    sa.Column("due_at", sa.String(32)),
)


def _entry_columns() -> list[sa.Column[Any]]:
    """Return the columns a log entry has, chained or staged (new objects for each table)."""
    return [
        sa.Column("at", sa.String(32)),
        sa.Column("actor", sa.String(128)),
        sa.Column("action", sa.String(16)),
        sa.Column("item_id", sa.Integer),
        sa.Column("data", sa.Text),
    ]


log_t = sa.Table(
    "review_log",
    _meta,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    *_entry_columns(),
    sa.Column("prev_hash", sa.String(64)),
    sa.Column("hash", sa.String(64)),
)
staged_t = sa.Table(
    "review_log_staged",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    *_entry_columns(),
    sa.Column("hash", sa.String(64)),
)
head_t = sa.Table(
    "review_log_head",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer),
    sa.Column("hash", sa.String(64)),
)


# The statements of the hot path (claim, decide, append), built once: SQLAlchemy builds and
# caches a statement per call otherwise, and on SQLite (one writer at a time) that work is
# done while every other writer waits.
_b = sa.bindparam
_HEAD_TRY = (
    sa.select(head_t.c.seq, head_t.c.hash).where(head_t.c.id == 1).with_for_update(skip_locked=True)
)
_HEAD_WAIT = sa.select(head_t.c.seq, head_t.c.hash).where(head_t.c.id == 1).with_for_update()
_HEAD_MOVE = sa.update(head_t).where(head_t.c.id == 1).values(seq=_b("b_seq"), hash=_b("b_hash"))
_LOG_INSERT = sa.insert(log_t)
_STAGE_INSERT = sa.insert(staged_t)
_STAGED = sa.select(staged_t).order_by(staged_t.c.id)
_ITEM_LOCKED = sa.select(items_t).where(items_t.c.id == _b("b_id")).with_for_update()
#: The ids a BIGINT holds. Any other id names no item, and is never sent to the database:
#: SQLite cannot bind it (OverflowError), PostgreSQL refuses it (out of range).
_ITEM_IDS = range(-(2**63), 2**63)


#: How many of the audit ids the queue holds an unknown ``--audit`` lists.
_AUDITS_SHOWN = 20


def _no_item(item_id: int) -> ReviewError:
    return ReviewError(f"no review item {item_id}", hint="`ethicsgate review list`")


def _known_id(item_id: int) -> int:
    """Return ``item_id`` when an item could have it.

    Raises:
        ReviewError: no item has it (it is outside a BIGINT's range).
    """
    if item_id not in _ITEM_IDS:
        raise _no_item(item_id)
    return item_id


def checked_actor(actor: str, *, given: str = "actor=", hint: str | None = None) -> str:
    """Return the reviewer's name ``actor`` less surrounding whitespace, as the log records it.

    Every operation that records who acted checks the name here, whoever calls it: the command
    line (``given="--as"``), a Python program (``actor=``) or the web app. ``given`` names how
    the caller passed the name, in the error; ``hint`` replaces the default hint.

    Raises:
        ReviewError: the name is blank (acting as nobody, or as a name nobody chose, would sign
            the log with it), or longer than :data:`MAX_ACTOR` characters (refused, never cut
            short).
    """
    if not isinstance(actor, str) or not actor.strip():
        raise ReviewError(
            f"{given} gives the reviewer's name as {actor!r}, which is blank: the decision log "
            "records who acted",
            hint=hint or _name_hint(given),
        )
    name = actor.strip()
    if len(name) > MAX_ACTOR:
        raise ReviewError(
            f"{given} gives a reviewer's name {len(name):,} characters long; a name holds at "
            f"most {MAX_ACTOR}",
            hint=hint or f"give {given} a name of at most {MAX_ACTOR} characters",
        )
    return name


def _name_hint(given: str) -> str:
    example = f", e.g. {given}'alice'" if given.endswith("=") else ""
    return f"give {given} the reviewer's name{example}"


#: what a claim sets, by the claim of a given item and by the claim of the next one
_CLAIMED = {
    "status": "claimed",
    "assignee": _b("b_actor"),
    "claimed_at": _b("b_now"),
    "lease_expires_at": _b("b_expires"),
}
_CLAIM = (
    sa.update(items_t)
    .where(items_t.c.id == _b("b_id"), items_t.c.status == _b("b_from"))
    .values(_CLAIMED)
    .returning(*items_t.c)
)


def _claim_next(status: str, *lapsed: Any) -> Any:
    """Return the statement that claims the most urgent item in ``status`` and returns it.

    Finding the item and claiming it is one statement: the item is locked ``SKIP LOCKED``
    (claimers never wait on each other's item) and re-checked by the update.
    """
    where = sa.and_(items_t.c.status == status, *lapsed)
    next_id = (
        sa.select(items_t.c.id)
        .where(where)
        .order_by(items_t.c.due_at, items_t.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        sa.update(items_t)
        .where(items_t.c.id == next_id, where)
        .values(_CLAIMED)
        .returning(*items_t.c)
    )


# lapsed claims first (they waited longest), then open items; two statements so each walks
# the (status, due_at, id) index instead of sorting an OR. An escalated item an approver
# claimed keeps the outcome "escalated" until decided: when that claim lapses it goes back to
# the approvers' queue, never to a reviewer's.
_LAPSED = items_t.c.lease_expires_at < _b("b_now")
_CLAIM_NEXT = (
    ("claimed", _claim_next("claimed", _LAPSED, items_t.c.outcome.is_distinct_from("escalated"))),
    ("open", _claim_next("open")),
)
_CLAIM_NEXT_ESCALATED = (
    ("claimed", _claim_next("claimed", _LAPSED, items_t.c.outcome == "escalated")),
    ("escalated", _claim_next("escalated")),
)
_DECIDE = (  # only by the item's holder; anything else is explained by _check_holder
    sa.update(items_t)
    .where(
        items_t.c.id == _b("b_id"),
        items_t.c.status == "claimed",
        items_t.c.assignee == _b("b_actor"),
    )
    .values(
        status=_b("b_status"),
        assignee=None,
        claimed_at=None,
        lease_expires_at=None,
        outcome=_b("b_outcome"),
        note=_b("b_note"),
        decided_by=_b("b_actor"),
        decided_at=_b("b_now"),
    )
    .returning(*items_t.c)
)


_SQLITE = sqlite_dialect.dialect()


@dataclass(frozen=True)
class _Direct:
    """A hot-path statement compiled once for SQLite: its text, parameter order and defaults."""

    sql: str
    order: tuple[str, ...]
    defaults: dict[str, Any]

    @classmethod
    def of(cls, statement: Any) -> _Direct:
        """Compile ``statement`` (with its literal values as defaults) for SQLite."""
        compiled = statement.compile(dialect=_SQLITE)
        return cls(compiled.string, tuple(compiled.positiontup or ()), dict(compiled.params))

    def args(self, params: Mapping[str, Any] | None) -> list[Any]:
        """Return the positional parameters, ``params`` over the statement's own values."""
        values = {**self.defaults, **params} if params else self.defaults
        return [values[name] for name in self.order]


# SQLite runs the hot path through the driver's cursor: SQLAlchemy's work per statement (about
# as much as SQLite's own) is otherwise done while every other writer waits
_DIRECT = {
    id(statement): _Direct.of(statement)
    for statement in (
        _HEAD_TRY,
        _HEAD_MOVE,
        _LOG_INSERT,
        _CLAIM,
        _DECIDE,
        *(query for _, query in _CLAIM_NEXT + _CLAIM_NEXT_ESCALATED),
    )
}
_ROW_TYPES: dict[tuple[str, ...], Any] = {}


def _driver(conn: sa.Connection) -> Any:
    """Return the DB-API connection under ``conn`` (its transaction is the same)."""
    driver = conn.connection.driver_connection
    assert driver is not None  # a checked-out connection always has one
    return driver


def _row_type(names: tuple[str, ...]) -> Any:
    """Return a named tuple type for rows with these columns (made once per set of columns)."""
    row_type = _ROW_TYPES.get(names)
    if row_type is None:
        row_type = _ROW_TYPES.setdefault(names, collections.namedtuple("Row", names))
    return row_type


class _WriterGate:
    """One SQLite writer at a time: a thread lock, then ``flock`` on ``<db>.writer-lock``.

    The lock file only makes waiting prompt; correctness rests on ``BEGIN IMMEDIATE``. A killed
    process's ``flock`` is released by the kernel; a holder that is alive but stuck makes the
    others give up after ``timeout`` seconds, as SQLite's own lock would.
    """

    def __init__(self, path: str, *, timeout: float | None = None) -> None:
        self._thread_lock = threading.Lock()
        self._path = path + ".writer-lock"
        self._timeout = _BUSY_TIMEOUT_S if timeout is None else timeout
        self._fd: int | None = None
        self._pid = -1

    def __enter__(self) -> None:
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise self._busy()
        if fcntl is None:
            return
        try:
            if self._pid != os.getpid():  # a forked child must not share its parent's lock
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
                self._pid = os.getpid()
            assert self._fd is not None
            self._lock_file(self._fd)
        except BaseException:
            self._thread_lock.release()
            raise

    def _lock_file(self, fd: int) -> None:
        # Poll rather than block in flock. A waiter blocked in flock must be woken and scheduled
        # before the lock is used again; polling lets the writer that just let go take it again
        # at once while the others sleep. With 16 reviewers on 2 shared cores, blocking left the
        # lock idle: 213-518 against 456-974 claims+decisions/s polled (docs/benchmarks.md).
        # The timeout turns a stuck holder into an error, not a hang.
        assert fcntl is not None
        delay, deadline = 0.0002, time.monotonic() + self._timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise self._busy() from None
                time.sleep(delay)
                delay = min(delay * 2, 0.002)

    def _busy(self) -> ReviewError:
        return ReviewError(
            f"the review database is busy: another writer held it for over {self._timeout:g} s",
            hint=f"a process holding {self._path} may be stuck; the lock goes when it exits",
        )

    def __exit__(self, *exc: object) -> None:
        try:
            if fcntl is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


_SQLITE_LOCKS: dict[str, _WriterGate] = {}
_BUSY_TIMEOUT_S = 60.0
_SQLITE_LOCKS_GUARD = threading.Lock()
_TABLES = (
    "web_sessions",
    "users",
    "history_metrics",
    "history_rules",
    "history_runs",
    "review_items",
    "review_log",
    "review_log_staged",
    "review_log_head",
    "alembic_version",
)


def format_time(moment: datetime) -> str:
    """Return a UTC time as the store keeps it: fixed width, so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now() -> datetime:
    return datetime.now(UTC)


def _with_identity(data: dict[str, Any], identity: Mapping[str, str] | None) -> dict[str, Any]:
    """Return a log entry's data with how its actor authenticated, when that is known."""
    return data | {"identity": dict(identity)} if identity else data


def _claim_entry(
    actor: str, item_id: int, was: str, expires: str, identity: Mapping[str, str] | None
) -> tuple[str, str, int, dict[str, Any]]:
    """Return the log entry of a claim: the lease's end and the status it was taken from."""
    return (
        actor,
        "claim",
        item_id,
        _with_identity({"lease_expires_at": expires, "from": was}, identity),
    )


def default_reviewer() -> str:
    """Return the OS user name, the reviewer when neither ``--as`` nor the setting is given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in a container
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _normalise_url(url: str | None) -> str:
    if not url:
        return f"sqlite:///{DEFAULT_DB_PATH.as_posix()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):  # psycopg 3, not SQLAlchemy's default psycopg2
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class EnqueueResult:
    """How many items were new and how many were already queued (and so left alone)."""

    added: int
    existing: int
    ids: list[int]


class ReviewStore:
    """A review queue on one database; open with :func:`open_store`, close when done."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        url: str,
        clock: Clock = _now,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        """Use an open SQLAlchemy engine; :func:`open_store` makes one from a URL."""
        self._engine = engine
        self.url = url
        self.clock = clock
        self.lease = lease
        self.backend = engine.dialect.name
        self._writer_gate: _WriterGate | None = None
        self._direct = self.backend == "sqlite"
        if self.backend == "sqlite":
            path = os.path.realpath(engine.url.database or "")
            with _SQLITE_LOCKS_GUARD:
                self._writer_gate = _SQLITE_LOCKS.setdefault(path, _WriterGate(path))

    # -- plumbing -------------------------------------------------------------------------

    @property
    def engine(self) -> sa.Engine:
        """Return the SQLAlchemy engine (the history store shares the database)."""
        return self._engine

    @property
    def writer_gate(self) -> AbstractContextManager[object]:
        """Return what a writing transaction on this database holds from before its BEGIN.

        SQLite: the process-wide gate of this database file (one writer at a time, threads and
        processes queue on it instead of SQLite's busy handler); others: nothing to hold. Every
        other writer on the same database (the history store) must hold it too, or it competes
        with the gate's holders in SQLite's busy handler.
        """
        return self._writer_gate if self._writer_gate is not None else nullcontext()

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> ReviewStore:
        """Return the store itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()

    @contextmanager
    def _tx(self, *, write: bool) -> Iterator[sa.Connection]:
        # SQLite: writers queue on a lock (threads) and a lock file (processes) instead of
        # SQLite's busy handler, which sleeps up to 100 ms between retries; the connection is
        # checked out before queueing, so the pool's work is not done while the others wait
        gate = self._writer_gate if write else None
        with self._engine.connect() as conn, gate if gate is not None else nullcontext():
            conn.execution_options(ethicsgate_write=write)
            if not write and self._engine.dialect.name == "postgresql":
                # one snapshot for the whole read (SQLite's read transactions have one): under
                # READ COMMITTED each statement sees the commits made since the one before, and
                # verify_log took a decision made between its reads for tampering. A read-only
                # transaction never fails to serialise, so this costs no retry
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def _now(self) -> str:
        return format_time(self.clock())

    def _one(
        self, conn: sa.Connection, statement: Any, params: Mapping[str, Any] | None = None
    ) -> Any:
        """Run a hot-path statement in the transaction; return its (first) row, or None."""
        if not self._direct:
            result = conn.execute(statement, params)
            return result.one_or_none() if result.returns_rows else None
        direct = _DIRECT[id(statement)]
        cursor = _driver(conn).execute(direct.sql, direct.args(params))
        rows = cursor.fetchall()  # to the end, so the statement is done before the commit
        if not rows:
            return None
        return _row_type(tuple(d[0] for d in cursor.description))._make(rows[0])

    def _many(self, conn: sa.Connection, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a hot-path statement once per row of parameters in the transaction."""
        if not self._direct:
            conn.execute(statement, rows)
            return
        direct = _DIRECT[id(statement)]
        _driver(conn).executemany(direct.sql, [direct.args(row) for row in rows])

    def _append(
        self,
        conn: sa.Connection,
        entries: Sequence[tuple[str, str, int, dict[str, Any]]],
        at: str,
        *,
        wait: bool = False,
    ) -> None:
        """Append (actor, action, item_id, data) entries to the log; the caller's transaction.

        With the head free, chain the visible staged entries and then these; with the head
        held by another writer (PostgreSQL), stage these for it or the next writer to chain.
        ``wait``: wait for the head instead (enqueue, which also uses it as a lock).
        """
        if not entries:
            return
        head = conn.execute(_HEAD_WAIT).one_or_none() if wait else self._one(conn, _HEAD_TRY)
        if head is None:
            self._stage(conn, entries, at)
            return
        # SQLite has one writer at a time: the head is never held by another, nothing is staged
        chained, stalled = ([], False) if self.backend == "sqlite" else self._staged(conn)
        todo = [(e.at, e.actor, e.action, e.item_id, e.data) for e in chained]
        if stalled:  # an edited staged entry: chain nothing past it; stage ours behind it
            self._chain(conn, head, todo, [e.id for e in chained])
            self._stage(conn, entries, at)
            return
        todo += [(at, actor, action, item_id, data) for actor, action, item_id, data in entries]
        self._chain(conn, head, todo, [e.id for e in chained])

    @staticmethod
    def _stage(
        conn: sa.Connection, entries: Sequence[tuple[str, str, int, dict[str, Any]]], at: str
    ) -> None:
        """Stage entries for the next writer holding the head to chain."""
        conn.execute(
            _STAGE_INSERT,
            [
                {
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "item_id": item_id,
                    "data": canonical_data(data),
                    "hash": staged_hash(
                        at=at, actor=actor, action=action, item_id=item_id, data=data
                    ),
                }
                for actor, action, item_id, data in entries
            ],
        )

    def _staged(self, conn: sa.Connection) -> tuple[list[StagedEntry], bool]:
        """Return the staged entries that can be chained (in order), and whether one is not."""
        ready: list[StagedEntry] = []
        for row in conn.execute(_STAGED):
            entry = StagedEntry(
                id=row.id,
                at=row.at,
                actor=row.actor,
                action=row.action,
                item_id=row.item_id,
                data=json.loads(row.data),
                hash=row.hash,
            )
            if not entry.intact:
                return ready, True
            ready.append(entry)
        return ready, False

    def _chain(
        self,
        conn: sa.Connection,
        head: Any,
        todo: Sequence[tuple[str, str, str, int, dict[str, Any]]],
        staged_ids: Sequence[int],
    ) -> None:
        """Chain (at, actor, action, item_id, data) entries after ``head``; unstage the ids."""
        if not todo:
            return
        seq, prev = head.seq, head.hash
        rows = []
        for at, actor, action, item_id, data in todo:
            seq += 1
            digest = entry_hash(
                seq=seq, at=at, actor=actor, action=action, item_id=item_id, data=data, prev=prev
            )
            rows.append(
                {
                    "seq": seq,
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "item_id": item_id,
                    "data": canonical_data(data),
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        self._many(conn, _LOG_INSERT, rows)
        self._one(conn, _HEAD_MOVE, {"b_seq": seq, "b_hash": prev})
        for start in range(0, len(staged_ids), 500):
            chunk = staged_ids[start : start + 500]
            conn.execute(sa.delete(staged_t).where(staged_t.c.id.in_(chunk)))

    def chain_staged(self) -> int:
        """Chain every staged entry now (waiting for the head); return how many were chained.

        Writers chain staged entries as they go; this is for the moment the log is read as a
        whole (``verify_log``, ``log_entries``), so that it reads a chain with nothing staged.
        """
        with self._tx(write=True) as conn:
            head = conn.execute(
                sa.select(head_t.c.seq, head_t.c.hash).where(head_t.c.id == 1).with_for_update()
            ).one_or_none()
            if head is None:
                return 0
            ready, _ = self._staged(conn)
            self._chain(
                conn,
                head,
                [(e.at, e.actor, e.action, e.item_id, e.data) for e in ready],
                [e.id for e in ready],
            )
        return len(ready)

    def _item(self, row: Any, now: str) -> ReviewItem:
        status = row.status
        return ReviewItem(
            id=row.id,
            policy_id=row.policy_id,
            policy_version=row.policy_version,
            rule_id=row.rule_id,
            record_id=row.record_id,
            audit_id=row.audit_id,
            severity=row.severity,
            reason=row.reason,
            fields=json.loads(row.fields),
            status=status,
            assignee=row.assignee,
            claimed_at=row.claimed_at,
            lease_expires_at=row.lease_expires_at,
            outcome=row.outcome,
            note=row.note,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            created_at=row.created_at,
            due_at=row.due_at,
            overdue=status in ("open", "claimed") and row.due_at < now,
        )

    def _locked(self, conn: sa.Connection, item_id: int) -> Any:
        row = conn.execute(_ITEM_LOCKED, {"b_id": item_id}).one_or_none()
        if row is None:
            raise _no_item(item_id)
        return row

    # -- operations -----------------------------------------------------------------------

    def enqueue(self, items: Sequence[NewReviewItem], *, actor: str) -> EnqueueResult:
        """Add items whose (policy, rule, record) key is new; leave queued ones untouched.

        Raises:
            ReviewError: ``actor`` is blank or too long (see :func:`checked_actor`).
        """
        actor = checked_actor(actor)
        if not items:
            return EnqueueResult(0, 0, [])
        at = self._now()
        unique: dict[str, NewReviewItem] = {}
        for item in items:
            unique.setdefault(item.key, item)
        with self._tx(write=True) as conn:
            # lock the head first: concurrent enqueues of the same audit serialise here, so the
            # existence check below cannot race
            conn.execute(sa.select(head_t.c.seq).where(head_t.c.id == 1).with_for_update())
            keys = list(unique)
            existing: set[str] = set()
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                existing.update(
                    conn.execute(
                        sa.select(items_t.c.item_key).where(items_t.c.item_key.in_(chunk))
                    ).scalars()
                )
            new = [unique[k] for k in keys if k not in existing]
            ids: list[int] = []
            entries = []
            for item in new:
                values = {
                    "item_key": item.key,
                    "policy_id": item.policy_id,
                    "policy_version": item.policy_version,
                    "rule_id": item.rule_id,
                    "record_id": item.record_id,
                    "audit_id": item.audit_id,
                    "severity": item.severity,
                    "reason": item.reason,
                    "fields": canonical_data(item.fields),
                    "status": ItemStatus.OPEN.value,
                    "created_at": at,
                    "due_at": item.due_at,
                }
                item_id = conn.execute(
                    sa.insert(items_t).values(values).returning(items_t.c.id)
                ).scalar_one()
                ids.append(item_id)
                data = item.model_dump(mode="json")
                entries.append((actor, "enqueue", item_id, data))
            self._append(conn, entries, at, wait=True)
        return EnqueueResult(len(new), len(items) - len(new), ids)

    def get(self, item_id: int) -> ReviewItem:
        """Return one item.

        Raises:
            ReviewError: there is no such item.
        """
        now = self._now()
        _known_id(item_id)
        with self._tx(write=False) as conn:
            row = conn.execute(sa.select(items_t).where(items_t.c.id == item_id)).one_or_none()
        if row is None:
            raise _no_item(item_id)
        return self._item(row, now)

    def list_items(
        self,
        *,
        status: str | None = None,
        rule_id: str | None = None,
        assignee: str | None = None,
        overdue: bool = False,
        audit_id: str | None = None,
        limit: int | None = None,
    ) -> list[ReviewItem]:
        """Return items, most urgent first, matching every filter given.

        ``[]`` whatever the reason; :meth:`unknown_audit` says whether ``audit_id`` is one
        the queue holds items of (a mistyped ``--audit`` looks like an audit that queued none).
        """
        now = self._now()
        query = self._filtered(
            sa.select(items_t).order_by(items_t.c.due_at, items_t.c.id),
            now,
            status=status,
            rule_id=rule_id,
            assignee=assignee,
            overdue=overdue,
            audit_id=audit_id,
        )
        if limit is not None:
            query = query.limit(limit)
        with self._tx(write=False) as conn:
            return [self._item(row, now) for row in conn.execute(query)]

    def count_items(
        self,
        *,
        status: str | None = None,
        rule_id: str | None = None,
        assignee: str | None = None,
        overdue: bool = False,
        audit_id: str | None = None,
    ) -> int:
        """Return how many items match every filter given (as :meth:`list_items` filters)."""
        query = self._filtered(
            sa.select(sa.func.count()).select_from(items_t),
            self._now(),
            status=status,
            rule_id=rule_id,
            assignee=assignee,
            overdue=overdue,
            audit_id=audit_id,
        )
        with self._tx(write=False) as conn:
            return int(conn.execute(query).scalar_one())

    @staticmethod
    def _filtered(
        query: Any,
        now: str,
        *,
        status: str | None,
        rule_id: str | None,
        assignee: str | None,
        overdue: bool,
        audit_id: str | None,
    ) -> Any:
        """Return ``query`` over the items with the filters of :meth:`list_items`."""
        if status is not None:
            query = query.where(items_t.c.status == status)
        if rule_id is not None:
            query = query.where(items_t.c.rule_id == rule_id)
        if assignee is not None:
            query = query.where(items_t.c.assignee == assignee)
        if audit_id is not None:
            query = query.where(items_t.c.audit_id == audit_id)
        if overdue:
            query = query.where(items_t.c.status.in_(("open", "claimed")), items_t.c.due_at < now)
        return query

    def audit_ids(self) -> list[str]:
        """Return the audit ids the queue holds items of, sorted."""
        with self._tx(write=False) as conn:
            return self._audit_ids(conn)

    @staticmethod
    def _audit_ids(conn: sa.Connection) -> list[str]:
        query = sa.select(items_t.c.audit_id).distinct().where(items_t.c.audit_id.is_not(None))
        return sorted(conn.execute(query).scalars())

    def unknown_audit(self, audit_id: str) -> str | None:
        """Return what to say of an ``audit_id`` the queue holds no item of; None if it has one.

        Not an error: an audit with nothing to review queues nothing, so its id is unknown
        here too; a filter naming it lists nothing. The sentence names the closest audit id
        the queue holds (a mistyped ``--audit``) and lists them (20 at most).
        """
        return self._unknown(
            [items_t.c.audit_id],
            audit_id,
            said=f"no review item of audit {audit_id!r}",
            known_as="the queue holds items of the audits",
            after=" (an audit queues items only when it has findings to review)",
        )

    def unknown_rule(self, rule_id: str) -> str | None:
        """Return what to say of a ``rule_id`` the queue holds no item of; None if it has one.

        As :meth:`unknown_audit`: the closest rule id the queue holds (a mistyped ``--rule``).
        """
        return self._unknown(
            [items_t.c.rule_id],
            rule_id,
            said=f"no review item of rule {rule_id!r}",
            known_as="the queue holds items of the rules",
        )

    def unknown_assignee(self, assignee: str) -> str | None:
        """Return what to say of a reviewer who holds and decided no item; None otherwise.

        ``--assignee`` lists the items a reviewer holds now: a name that never claimed or
        decided one is likely mistyped; the closest of those who did is named.
        """
        return self._unknown(
            [items_t.c.assignee, items_t.c.decided_by],
            assignee,
            said=f"no review item is held or was decided by {assignee!r}",
            known_as="the reviewers of the queue are",
            none="no reviewer has claimed an item yet",
        )

    def _unknown(
        self,
        columns: list[sa.Column[Any]],
        value: str,
        *,
        said: str,
        known_as: str,
        after: str = "",
        none: str = "the queue is empty (`ethicsgate audit SPEC --enqueue` fills it)",
    ) -> str | None:
        """Return ``said``, the closest of the values ``columns`` hold, and those values.

        None when an item holds ``value`` in one of the columns; at most 20 values are listed.
        """
        with self._tx(write=False) as conn:
            for column in columns:
                exists = sa.select(items_t.c.id).where(column == value).limit(1)
                if conn.execute(exists).first() is not None:
                    return None
            known = sorted(
                {
                    name
                    for column in columns
                    for name in conn.execute(sa.select(column).distinct()).scalars()
                    if name is not None
                }
            )
        if not known:
            return f"{said}: {none}"
        shown = ", ".join(known[:_AUDITS_SHOWN])
        if len(known) > _AUDITS_SHOWN:
            shown += f" (and {len(known) - _AUDITS_SHOWN} more)"
        return f"{said}{did_you_mean(value, known)}: {known_as} {shown}{after}"

    def claim(
        self,
        actor: str,
        item_id: int | None = None,
        *,
        identity: Mapping[str, str] | None = None,
        escalated: bool = True,
        next_escalated: bool = False,
    ) -> ReviewItem | None:
        """Claim the most urgent claimable item (or ``item_id``); None when nothing is open.

        Claimable: open, or claimed under a lease that has expired; by id also escalated
        (unless ``escalated`` is false); with ``next_escalated``, the most urgent escalated
        item instead. ``identity`` (how the actor authenticated, e.g.
        ``{"auth": "password", "role": "reviewer"}``) goes into the log entry.

        Raises:
            ReviewError: the item given does not exist or cannot be claimed now; ``actor`` is
                blank or too long (see :func:`checked_actor`).
        """
        actor = checked_actor(actor)
        now_dt = self.clock()
        now = format_time(now_dt)
        expires = format_time(now_dt + self.lease)
        params = {"b_actor": actor, "b_now": now, "b_expires": expires}
        if item_id is not None:
            _known_id(item_id)
        with self._tx(write=True) as conn:
            if item_id is None:
                found = self._take_next(
                    conn, _CLAIM_NEXT_ESCALATED if next_escalated else _CLAIM_NEXT, params
                )
                if found is None:
                    return None
                was, claimed = found
            else:
                row = self._locked(conn, item_id)
                held = row.status == "claimed" and (row.lease_expires_at or "") >= now
                if row.status == "decided":
                    raise ReviewError(
                        f"review item {item_id} is decided ({row.outcome} by {row.decided_by}): "
                        "a decision is final",
                        hint=f"`ethicsgate review show {item_id}` shows it; "
                        "`ethicsgate review claim` takes the next open item",
                    )
                if held and row.assignee != actor:
                    raise ReviewError(
                        f"review item {item_id} is claimed by {row.assignee} until "
                        f"{row.lease_expires_at}",
                        hint=_HELD_HINT,
                    )
                if row.outcome == "escalated" and row.status != "decided" and not escalated:
                    # escalated, or claimed by an approver under a lease that lapsed
                    raise ReviewError(
                        f"review item {item_id} is escalated: only an approver may take it"
                    )
                was = row.status
                claimed = self._one(conn, _CLAIM, params | {"b_id": row.id, "b_from": was})
            self._append(conn, [_claim_entry(actor, claimed.id, was, expires, identity)], now)
        return self._item(claimed, now)

    def _take_next(
        self, conn: sa.Connection, queries: Sequence[tuple[str, Any]], params: dict[str, str]
    ) -> tuple[str, Any] | None:
        """Claim the first item the queries find; return its status before and its new row."""
        for was, query in queries:
            row = self._one(conn, query, params)
            if row is not None:
                return was, row
        return None

    def decide(
        self,
        item_id: int,
        *,
        actor: str,
        outcome: Outcome | str,
        note: str | None = None,
        identity: Mapping[str, str] | None = None,
    ) -> ReviewItem:
        """Record the decision on an item the actor has claimed (``identity``: see claim).

        Raises:
            ReviewError: unknown item, not claimed by the actor, bad outcome, or a dismissal
                without a note; ``actor`` is blank or too long (see :func:`checked_actor`).
        """
        actor = checked_actor(actor)
        outcome, note = self.check_decision(item_id, outcome, note)
        _known_id(item_id)
        now = self._now()
        with self._tx(write=True) as conn:
            decided = self._decide_in(conn, item_id, actor, outcome, note, now)
            self._append(conn, [self._decide_entry(actor, item_id, outcome, note, identity)], now)
        return self._item(decided, now)

    def decide_and_claim_next(
        self,
        item_id: int,
        *,
        actor: str,
        outcome: Outcome | str,
        note: str | None = None,
        identity: Mapping[str, str] | None = None,
        next_escalated: bool = False,
    ) -> tuple[ReviewItem, ReviewItem | None]:
        """Decide an item the actor has claimed and claim the next one, in one transaction.

        The reviewer's loop in one commit instead of two (one fsync on SQLite with
        ``synchronous=FULL``): the decision and the claim are both made or neither is. The next
        item is the one :meth:`claim` without an id would take: lapsed claims, then open items,
        never an escalated one; with ``next_escalated`` (an approver working the escalated
        queue; the caller checks the role) the most urgent escalated item instead. Return the
        decided item and the claimed one (None: nothing left to claim; the decision is made
        all the same).

        Raises:
            ReviewError: as :meth:`decide` (nothing is decided or claimed then).
        """
        actor = checked_actor(actor)
        outcome, note = self.check_decision(item_id, outcome, note)
        _known_id(item_id)
        now_dt = self.clock()
        now = format_time(now_dt)
        params = {"b_actor": actor, "b_now": now, "b_expires": format_time(now_dt + self.lease)}
        with self._tx(write=True) as conn:
            decided = self._decide_in(conn, item_id, actor, outcome, note, now)
            entries = [self._decide_entry(actor, item_id, outcome, note, identity)]
            found = self._take_next(
                conn, _CLAIM_NEXT_ESCALATED if next_escalated else _CLAIM_NEXT, params
            )
            if found is not None:
                was, claimed = found
                entries.append(_claim_entry(actor, claimed.id, was, params["b_expires"], identity))
            self._append(conn, entries, now)
        return self._item(decided, now), (self._item(found[1], now) if found else None)

    @staticmethod
    def check_decision(
        item_id: int, outcome: Outcome | str, note: str | None
    ) -> tuple[Outcome, str | None]:
        """Return the outcome and the note of a decision on ``item_id``, checked.

        The decision alone, without the database: :meth:`decide` checks it first, and a front
        door can tell a malformed decision from one the item's state refuses.

        Raises:
            ReviewError: an unknown outcome, a dismissal without a note, or a note longer than
                :data:`MAX_NOTE` characters (refused, never cut short).
        """
        try:
            outcome = Outcome(outcome)
        except ValueError as exc:
            choices = ", ".join(o.value for o in Outcome)
            raise ReviewError(f"unknown outcome {outcome!r} (choose {choices})") from exc
        # a line break is one character, as the web form's text box counts it (it sends CRLF)
        note = (note or "").replace("\r\n", "\n").strip() or None
        if note is not None and len(note) > MAX_NOTE:
            raise ReviewError(
                f"the note on review item {item_id} is {len(note):,} characters long; "
                f"a note holds at most {MAX_NOTE:,}",
                hint="shorten it, and keep longer material elsewhere (a ticket, a document) "
                "that the note names",
            )
        if outcome is Outcome.DISMISSED and note is None:
            raise ReviewError(
                f"dismissing review item {item_id} needs a note saying why",
                hint="--note 'why this finding is not a problem'",
            )
        return outcome, note

    def _decide_in(
        self,
        conn: sa.Connection,
        item_id: int,
        actor: str,
        outcome: Outcome,
        note: str | None,
        now: str,
    ) -> Any:
        """Decide the item in the caller's transaction; return its new row."""
        status = ItemStatus.ESCALATED if outcome is Outcome.ESCALATED else ItemStatus.DECIDED
        decided = self._one(
            conn,
            _DECIDE,
            {
                "b_id": item_id,
                "b_status": status.value,
                "b_outcome": outcome.value,
                "b_note": note,
                "b_actor": actor,
                "b_now": now,
            },
        )
        if decided is None:  # say why: no such item, not claimed, or claimed by another
            self._check_holder(self._locked(conn, item_id), actor, "decide")
            raise RuntimeError(f"decision on item {item_id} lost a race")  # pragma: no cover
        return decided

    @staticmethod
    def _decide_entry(
        actor: str,
        item_id: int,
        outcome: Outcome,
        note: str | None,
        identity: Mapping[str, str] | None,
    ) -> tuple[str, str, int, dict[str, Any]]:
        data = {"outcome": outcome.value, "note": note}
        return (actor, "decide", item_id, _with_identity(data, identity))

    def release(
        self, item_id: int, *, actor: str, identity: Mapping[str, str] | None = None
    ) -> ReviewItem:
        """Give a claimed item back to the queue undecided (``identity``: see claim).

        Raises:
            ReviewError: unknown item, or not claimed by the actor; ``actor`` is blank or too
                long (see :func:`checked_actor`).
        """
        actor = checked_actor(actor)
        now = self._now()
        _known_id(item_id)
        with self._tx(write=True) as conn:
            row = self._locked(conn, item_id)
            self._check_holder(row, actor, "release")
            back = ItemStatus.ESCALATED if row.outcome == "escalated" else ItemStatus.OPEN
            released = conn.execute(
                sa.update(items_t)
                .where(items_t.c.id == item_id)
                .values(status=back.value, assignee=None, claimed_at=None, lease_expires_at=None)
                .returning(*items_t.c)
            ).one()
            data = _with_identity({"status": back.value}, identity)
            self._append(conn, [(actor, "release", item_id, data)], now)
        return self._item(released, now)

    @staticmethod
    def _check_holder(row: Any, actor: str, verb: str) -> None:
        if row.status != "claimed":
            raise ReviewError(
                f"cannot {verb} review item {row.id}: it is {row.status}, not claimed",
                hint=f"claim it first: `ethicsgate review claim {row.id}`"
                if row.status in ("open", "escalated")
                else None,
            )
        if row.assignee != actor:
            raise ReviewError(
                f"cannot {verb} review item {row.id}: it is claimed by {row.assignee}, not "
                f"{actor} (until {row.lease_expires_at})",
                hint=f"only its holder decides or releases it (you are {actor} here: the name "
                "comes from --as, ETHICSGATE_REVIEWER or your OS user on the command line, from "
                f"actor= in Python, from the sign-in in the web app); {_HELD_HINT}",
            )

    def log_entries(self) -> Iterator[LogEntry]:
        """Yield the decision log in order (chaining any staged entries first)."""
        self.chain_staged()
        with self._tx(write=False) as conn:
            result = conn.execution_options(yield_per=2000).execute(
                sa.select(log_t).order_by(log_t.c.seq)
            )
            for row in result:
                yield LogEntry(
                    seq=row.seq,
                    at=row.at,
                    actor=row.actor,
                    action=row.action,
                    item_id=row.item_id,
                    data=json.loads(row.data),
                    prev_hash=row.prev_hash,
                    hash=row.hash,
                )

    def item_log(self, item_id: int) -> list[LogEntry]:
        """Return the log entries of one item, oldest first: its history (staged ones chained)."""
        if item_id not in _ITEM_IDS:
            return []
        self.chain_staged()
        with self._tx(write=False) as conn:
            rows = conn.execute(
                sa.select(log_t).where(log_t.c.item_id == item_id).order_by(log_t.c.seq)
            ).all()
        return [self._entry(row) for row in rows]

    def recent_log(self, limit: int = 100) -> list[LogEntry]:
        """Return the last ``limit`` log entries, newest first (staged ones chained first)."""
        self.chain_staged()
        with self._tx(write=False) as conn:
            rows = conn.execute(sa.select(log_t).order_by(log_t.c.seq.desc()).limit(limit)).all()
        return [self._entry(row) for row in rows]

    @staticmethod
    def _entry(row: Any) -> LogEntry:
        return LogEntry(
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            item_id=row.item_id,
            data=json.loads(row.data),
            prev_hash=row.prev_hash,
            hash=row.hash,
        )

    def verify_log(self) -> VerifyResult:
        """Check the log's hash chain, its head, and that replaying it gives the items table.

        Staged entries are chained first; those still staged (appended meanwhile, or stuck
        behind an edited one) are checked against their own hashes and replayed after the chain.
        """
        self.chain_staged()
        now = self._now()
        with self._tx(write=False) as conn:  # one snapshot of log, head, staged and items
            head_row = conn.execute(
                sa.select(head_t.c.seq, head_t.c.hash).where(head_t.c.id == 1)
            ).one_or_none()
            items = {row.id: self._item(row, now) for row in conn.execute(sa.select(items_t))}
            entries = [
                LogEntry(
                    seq=row.seq,
                    at=row.at,
                    actor=row.actor,
                    action=row.action,
                    item_id=row.item_id,
                    data=json.loads(row.data),
                    prev_hash=row.prev_hash,
                    hash=row.hash,
                )
                for row in conn.execute(sa.select(log_t).order_by(log_t.c.seq))
            ]
            staged = [
                StagedEntry(
                    id=row.id,
                    at=row.at,
                    actor=row.actor,
                    action=row.action,
                    item_id=row.item_id,
                    data=json.loads(row.data),
                    hash=row.hash,
                )
                for row in conn.execute(sa.select(staged_t).order_by(staged_t.c.id))
            ]
        head = (head_row.seq, head_row.hash) if head_row is not None else None
        count, problems = replay(entries, items, head=head, staged=staged)
        return VerifyResult(
            ok=not problems,
            entries=count,
            items=len(items),
            head=head[1] if head else None,
            problems=problems,
        )

    def verify_item(self, item_id: int) -> list[str]:
        """Return what is wrong with one item (empty: its row is what its entries say).

        An edited entry of it, or its row changed behind the log's back, read in one snapshot.
        The web app's item page shows this; a deleted entry or tail only :meth:`verify_log` sees.

        Raises:
            ReviewError: there is no such item.
        """
        now = self._now()
        _known_id(item_id)
        self.chain_staged()
        with self._tx(write=False) as conn:
            row = conn.execute(sa.select(items_t).where(items_t.c.id == item_id)).one_or_none()
            if row is None:
                raise _no_item(item_id)
            entries = conn.execute(
                sa.select(log_t).where(log_t.c.item_id == item_id).order_by(log_t.c.seq)
            ).all()
            staged = conn.execute(
                sa.select(staged_t).where(staged_t.c.item_id == item_id).order_by(staged_t.c.id)
            ).all()
        return replay_item(
            self._item(row, now),
            [self._entry(entry) for entry in entries],
            [
                StagedEntry(
                    id=entry.id,
                    at=entry.at,
                    actor=entry.actor,
                    action=entry.action,
                    item_id=entry.item_id,
                    data=json.loads(entry.data),
                    hash=entry.hash,
                )
                for entry in staged
            ],
        )

    def stats(self, *, audit_id: str | None = None) -> list[RuleQueueStats]:
        """Return open, claimed, overdue and decided counts and dismissals per rule."""
        now = self._now()
        c = items_t.c
        active = c.status.in_(("open", "claimed"))
        query = sa.select(
            c.rule_id,
            c.status,
            c.outcome,
            sa.func.count().label("n"),
            sa.func.sum(sa.case((sa.and_(active, c.due_at < now), 1), else_=0)).label("late"),
        ).group_by(c.rule_id, c.status, c.outcome)
        if audit_id is not None:
            query = query.where(c.audit_id == audit_id)
        by_rule: dict[str, dict[str, int]] = {}
        with self._tx(write=False) as conn:
            for row in conn.execute(query):
                counts = by_rule.setdefault(row.rule_id, {})
                counts[row.status] = counts.get(row.status, 0) + row.n
                counts["overdue"] = counts.get("overdue", 0) + int(row.late or 0)
                if row.outcome in ("confirmed", "dismissed") and row.status == "decided":
                    counts[row.outcome] = counts.get(row.outcome, 0) + row.n
        return [RuleQueueStats(rule_id=rule, **counts) for rule, counts in sorted(by_rule.items())]

    def drop_all(self) -> None:
        """Drop the review tables (tests and ``review`` re-initialisation only)."""
        with self._tx(write=True) as conn:
            for table in _TABLES:
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))


# -- opening ---------------------------------------------------------------------------------


def _sqlite_setup(engine: sa.Engine, *, synchronous: str, wal: bool = True) -> None:
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # let SQLAlchemy's begin event (below) decide how transactions start
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if wal:  # WAL is kept in the file: a store made here is WAL for every later reader
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front, so two writers never both read, then one
        # fails to upgrade its lock (SQLITE_BUSY without waiting) half-way through
        write = conn.get_execution_options().get("ethicsgate_write", True)
        # the driver's own execute: SQLAlchemy's would run while the other writers wait
        _driver(conn).execute("BEGIN IMMEDIATE" if write else "BEGIN")


def open_store(
    url: str | None = None,
    *,
    clock: Clock = _now,
    lease: timedelta = DEFAULT_LEASE,
    migrate: bool = True,
    create: bool = True,
    pool_size: int = 2,
) -> ReviewStore:
    """Open the review store at ``url`` (default: SQLite ``.ethicsgate/review.db``), migrated.

    ``create``: make the store (the SQLite file and its folder, the tables) when it is not
    there, and upgrade an older schema; False for commands that only read, which must find
    the store as the writers left it and change nothing (no file, no folder, no migration).
    Every URL in a message or in ``ReviewStore.url`` is shown with its secrets as ``***``.

    Raises:
        ReviewError: the URL is malformed, names an unsupported database, or cannot connect;
            with ``create`` False, there is no store at the URL or its schema is not this
            version's.
    """
    url = _normalise_url(url)
    shown = redact_target(url)
    try:
        parsed = sa.make_url(url)
    except (sa_exc.ArgumentError, ValueError) as exc:  # ValueError: a port that is no number
        raise ReviewError(
            f"bad review database URL {shown!r}",
            hint="use sqlite:///path/review.db or postgresql://user@host/db",
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ReviewError(f"review database {shown}: only sqlite and postgresql are supported")
    kwargs: dict[str, Any] = {}
    path: Path | None = None
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ReviewError(f"review database {shown}: SQLite needs a file path")
        path = Path(os.path.abspath(parsed.database))
        kwargs["connect_args"] = {"timeout": 60, "check_same_thread": False}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=2, pool_pre_ping=False)
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError, ValueError) as exc:
        raise ReviewError(f"review database {shown}: {redact_message(str(exc), url)}") from exc
    if path is not None:
        variable = "ETHICSGATE_SQLITE_SYNCHRONOUS"
        synchronous = os.environ.get(variable, "FULL").strip().upper()
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            engine.dispose()
            raise SettingsError(
                f"{os.environ[variable]!r} is not a SQLite synchronous mode",
                location=variable,
                hint=f"set {variable} to FULL (the default), NORMAL or EXTRA, or unset it",
            )
        if not create and not path.exists():
            # SQLite makes a missing file on connect: a reader would report an empty store
            engine.dispose()
            raise _no_store(str(path))
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                engine.dispose()
                blocker = next((p for p in path.parents if p.exists()), None)
                reason = exc.strerror or type(exc).__name__
                if blocker is not None and not blocker.is_dir():
                    reason = f"{blocker} is a file, not a folder"
                raise ReviewError(
                    f"cannot make the folder of review database {shown}: {reason}",
                    hint="pass --db (or ETHICSGATE_DB_URL) a sqlite:///path.db in a folder you "
                    "can write to",
                ) from exc
        _sqlite_setup(engine, synchronous=synchronous, wal=create)
    store = ReviewStore(engine, url=shown, clock=clock, lease=lease)
    try:
        if migrate and create:
            _migrate(engine)
        elif migrate:
            _check_schema(engine, str(path) if path is not None else shown)
        else:
            with engine.connect():
                pass
    except (sa_exc.DatabaseError, sa_exc.InterfaceError) as exc:
        # DatabaseError: also a file that is not SQLite at all ("file is not a database")
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ReviewError(
            f"cannot open review database {shown}: {redact_message(reason, url)}",
            hint="pass --db (or ETHICSGATE_DB_URL) a review store: a new or existing "
            "sqlite:///path.db file of ethicsgate's, or postgresql://user@host/db",
        ) from exc
    except ReviewError:
        engine.dispose()
        raise
    return store


class NoReviewStore(ReviewError):
    """A command that only reads found no review store where it looked (nothing was made)."""


def _no_store(where: str, why: str = "") -> ReviewError:
    """Return the error of a reader that finds no review store at ``where``."""
    return NoReviewStore(
        f"no review store at {where}{why}",
        hint="nothing was enqueued or recorded there: `ethicsgate audit SPEC --enqueue` (or "
        "--record) creates the store; to read another one, pass its URL with --db or set "
        "ETHICSGATE_DB_URL",
    )


def _revision(conn: sa.Connection) -> str | None:
    """Return the schema's Alembic revision, or None where the review tables were never made."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    current = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    return str(current) if current is not None else None


def _check_schema(engine: sa.Engine, where: str) -> None:
    """Check that there is a store of this version's schema (for readers), making none.

    A store an older ethicsgate wrote is upgraded, as every command did before readers
    stopped making stores: after an upgrade of ethicsgate, a CI job that only reads (`history
    list`, `audit --db` for the queue's state) must not fail until something writes.

    Raises:
        ReviewError: the database has no review tables, or a newer ethicsgate's revision.
    """
    with engine.connect() as conn:
        conn.execution_options(ethicsgate_write=False)
        with conn.begin():
            current = _revision(conn)
    if current is None:
        raise _no_store(where, ": the database has no review tables")
    if current < HEAD_REVISION:  # revisions are numbered 0001, 0002...
        _migrate(engine)
    elif current != HEAD_REVISION:
        raise ReviewError(
            f"the review store at {where} has schema revision {current}, not {HEAD_REVISION} "
            "(a newer ethicsgate wrote it)",
            hint="upgrade ethicsgate to the version that wrote it",
        )


def _migrate(engine: sa.Engine) -> None:
    """Run ``alembic upgrade head`` unless the schema is already there (the common case)."""
    with engine.connect() as conn:
        conn.execution_options(ethicsgate_write=False)
        with conn.begin():
            if _revision(conn) == HEAD_REVISION:
                return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.connect() as conn:
        conn.execution_options(ethicsgate_write=True)
        with conn.begin():
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
