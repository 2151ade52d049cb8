"""The reviewer web app under load: 16 reviewers over HTTP work 2,000 items (SQLite, PostgreSQL).

Each case starts ``ethicsgate serve`` (one uvicorn process) on a store holding ``--items``
queued findings and 16 reviewer accounts, then runs 16 reviewer threads, each with its own HTTP
client:

- **browser sessions** (the case the issue asks for): each reviewer signs in through the login
  form, then claims the next item and decides it through the HTML forms, with its session
  cookie and CSRF token, until the queue is empty;
- **JSON API** (the obvious alternative for automation): the same with a bearer token,
  ``POST /api/claim`` and ``POST /api/items/N/decide``;
- **floor**: 16 threads calling the review store in-process (``claim``/``decide``), no HTTP: what
  the web app cannot beat on the same database.

The clock starts when every reviewer has signed in. Decisions/s is items / wall time; latency
is one claim + decide round trip as a reviewer sees it. After every run the benchmark checks
what tests/web/test_web_load.py checks: every item decided exactly once by the reviewer who
was told it was theirs, nothing lost, and the decision log verifies; it exits non-zero if not.

PostgreSQL: ``ETHICSGATE_BENCH_POSTGRES_URL`` (a database the benchmark may empty), else a
private server from the ``pgserver`` wheel in a temporary folder. Results replace the section
between ``<!-- bench_web:start -->`` and ``<!-- bench_web:end -->`` of docs/benchmarks.md::

    .venv/bin/python benchmarks/bench_web.py              # 2,000 items, 16 reviewers
    .venv/bin/python benchmarks/bench_web.py --items 500 --no-doc
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import log, machine_info, update_doc_section  # noqa: E402  (not a package)
from tests.web.conftest import LiveServer  # noqa: E402
from tests.web.load import LoadResult, run_reviewers, seed_store  # noqa: E402

from ethicsgate.review import open_store  # noqa: E402

START = "<!-- bench_web:start -->"
END = "<!-- bench_web:end -->"


@dataclass
class Case:
    """One measured run."""

    backend: str
    mode: str
    items: int
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def _postgres() -> tuple[str, object | None]:
    url = os.environ.get("ETHICSGATE_BENCH_POSTGRES_URL")
    if url:
        return url, None
    import pgserver

    server = pgserver.get_server(tempfile.mkdtemp(prefix="bench-web-pg-"), cleanup_mode="delete")
    return server.get_uri(), server


def _empty(url: str, tmp: Path, name: str) -> str:
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp / name}.db"
    store = open_store(url, migrate=False)
    try:
        store.drop_all()
    finally:
        store.close()
    return url


def _check(url: str, result: LoadResult, items: int) -> None:
    """Fail unless every item was decided exactly once, by its reviewer, and the log verifies."""
    problems = list(result.errors)
    decided = result.all_decided
    if len(decided) != len(set(decided)) or len(decided) != items:
        problems.append(f"{len(decided)} decisions, {len(set(decided))} items, {items} queued")
    with open_store(url) as store:
        rows = {item.id: item for item in store.list_items()}
        decides = Counter(e.item_id for e in store.log_entries() if e.action == "decide")
        verified = store.verify_log()
    if any(item.status.value != "decided" for item in rows.values()):
        problems.append("an item is not decided")
    if set(decides.values()) != {1} or set(decides) != set(rows):
        problems.append("not exactly one decide entry per item")
    for name, mine in result.decided.items():
        if any(rows[i].decided_by != name for i in mine):
            problems.append(f"{name} was told of a decision the store gives to someone else")
    if not verified.ok:
        problems.append(f"the log does not verify: {verified.problems[:3]}")
    if problems:
        raise SystemExit("exactly-once check failed: " + "; ".join(problems))


def _floor(url: str, reviewers: int) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()
    store = open_store(url, pool_size=reviewers)

    def work(name: str) -> None:
        mine, times = [], []
        while True:
            start = time.perf_counter()
            item = store.claim(name)
            if item is None:
                break
            store.decide(item.id, actor=name, outcome="confirmed", note=f"checked by {name}")
            times.append(time.perf_counter() - start)
            mine.append(item.id)
        with lock:
            result.decided[name] = mine
            result.latencies.extend(times)

    threads = [threading.Thread(target=work, args=(f"reviewer-{n:02d}",)) for n in range(reviewers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - start
    store.close()
    return result


def run_case(url: str, backend: str, mode: str, items: int, reviewers: int) -> Case:
    tokens = seed_store(url, items=items, reviewers=reviewers, tokens=mode == "JSON API")
    if mode == "floor: store in-process":
        result = _floor(url, reviewers)
    else:
        server = LiveServer("--db", url)
        try:
            result = run_reviewers(
                server.url, reviewers, tokens=tokens if mode == "JSON API" else None
            )
        finally:
            server.stop()
    _check(url, result, items)
    case = Case(
        backend,
        mode,
        items,
        result.seconds,
        result.percentile(0.5) * 1000,
        result.percentile(0.95) * 1000,
    )
    log(
        f"{backend:10} {mode:24} {items} items in {case.seconds:6.1f} s: "
        f"{case.rate:6.1f} decisions/s, p50 {case.p50_ms:5.0f} ms, p95 {case.p95_ms:5.0f} ms"
    )
    return case


def section(cases: list[Case], reviewers: int, items: int, command: str) -> str:
    info = machine_info(["starlette", "uvicorn", "sqlalchemy", "psycopg"])
    lines = [
        START,
        "## The reviewer web app under load (`bench_web`)",
        "",
        "Generated by `benchmarks/bench_web.py`; do not edit by hand between the markers.",
        "",
        f"{reviewers} reviewers over HTTP against one `ethicsgate serve` (uvicorn) process work "
        f"a queue of {items:,} items until it is empty: each claims the next item and decides "
        "it. *Browser sessions* sign in through the login form and post the HTML forms (session "
        "cookie and CSRF token); the *JSON API* uses bearer tokens; the *floor* is 16 threads "
        "calling the review store in-process, no HTTP. Latency is one claim + decide round trip. "
        "Every run is checked: each item decided exactly once, by the reviewer who was told it "
        "was theirs, nothing lost, the hash-chained log verifies. Each decision is two write "
        "transactions that also append to the hash chain (serialised on the log head), so the "
        "store sets much of the pace; the floor's row against the server's shows what HTTP, "
        "sign-in sessions and the thread pool add.",
        "",
        "| store | reviewers | mode | items | seconds | decisions/s | p50 latency | p95 latency |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for c in cases:
        lines.append(
            f"| {c.backend} | {reviewers} | {c.mode} | {c.items:,} | {c.seconds:.1f} | "
            f"{c.rate:.1f} | {c.p50_ms:.0f} ms | {c.p95_ms:.0f} ms |"
        )
    lines += [
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']}, {info['os']}, Python "
        f"{info['python']}; starlette {info['starlette']}, uvicorn {info['uvicorn']}, "
        f"SQLAlchemy {info['sqlalchemy']}, psycopg {info['psycopg']}; measured "
        f"{datetime.now(UTC):%Y-%m-%d}. SQLite runs with `synchronous=FULL` (every decision "
        "is on disk before it is answered). The machine was shared with other jobs while this "
        "ran: compare the rows with each other, not with another machine.",
        "",
        f"Reproduce: `{command}`",
        END,
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--reviewers", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--modes", default="browser sessions,JSON API,floor: store in-process")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    cases = []
    server = None
    try:
        for backend in args.backends.split(","):
            base = f"sqlite:///{tmp}/x.db"
            if backend == "postgresql":
                base, server = _postgres()
            for n, mode in enumerate(args.modes.split(",")):
                url = _empty(base, tmp, f"{backend}-{n}")
                cases.append(run_case(url, backend, mode, args.items, args.reviewers))
    finally:
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]
    command = ".venv/bin/python benchmarks/bench_web.py"
    if args.items != 2000:
        command += f" --items {args.items}"
    text = section(cases, args.reviewers, args.items, command)
    if args.no_doc:
        print(text)
    else:
        update_doc_section(text, START, END)
        log("updated docs/benchmarks.md")


if __name__ == "__main__":
    main()
