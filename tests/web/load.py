"""Concurrent reviewers over HTTP: the load test's and benchmarks/bench_web.py's driver.

Each reviewer is a thread with its own HTTP client and browser session: it signs in through
the login form, then claims the next item and decides it through the HTML forms (with the
session's CSRF token) until the queue is empty. ``api=True`` works the JSON API with a bearer
token instead. What each reviewer decided, and how long each claim+decide took, is returned
for the caller to check against the store.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass, field

import httpx

from ethicsgate.review import NewReviewItem, open_store
from ethicsgate.review.users import UserStore

PASSWORD = "correct horse battery staple"


@dataclass
class LoadResult:
    """What the reviewers did."""

    decided: dict[str, list[int]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def all_decided(self) -> list[int]:
        return [item for items in self.decided.values() for item in items]

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def seed_store(url: str, *, items: int, reviewers: int, tokens: bool = False) -> dict[str, str]:
    """Queue ``items`` findings and add ``reviewers`` reviewer accounts; return their tokens."""
    new = [
        NewReviewItem(
            policy_id="load",
            policy_version="1",
            rule_id=f"rule-{i % 5}",
            record_id=f"rec-{i:06d}",
            audit_id="load-audit",
            severity="block",
            fields={"record": f"rec-{i:06d}", "value": str(i)},
            reason="not_disclosed",
            due_at=f"2030-01-01T00:00:{i % 60:02d}.000000Z",
        )
        for i in range(items)
    ]
    issued = {}
    with open_store(url) as store:
        store.enqueue(new, actor="load")
        users = UserStore(store)
        for n in range(reviewers):
            name = f"reviewer-{n:02d}"
            users.add(name, "reviewer", PASSWORD)
            if tokens:
                issued[name] = users.new_token(name)
    return issued


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    if not found:
        raise AssertionError("no CSRF token in the page")
    return found.group(1)


def _browser_reviewer(
    url: str, name: str, result: LoadResult, lock: threading.Lock, ready: threading.Barrier
) -> None:
    mine: list[int] = []
    times: list[float] = []
    with httpx.Client(base_url=url, follow_redirects=False, timeout=120) as client:
        page = client.get("/login")
        signed = client.post(
            "/login", data={"username": name, "password": PASSWORD, "csrf": _csrf(page.text)}
        )
        if signed.status_code != 303:
            raise AssertionError(f"{name} could not sign in: {signed.status_code}")
        csrf = _csrf(client.get("/").text)
        ready.wait()
        while True:
            start = time.perf_counter()
            claimed = client.post("/claim", data={"csrf": csrf})
            if claimed.status_code != 303:
                raise AssertionError(f"{name}: claim answered {claimed.status_code}")
            where = claimed.headers["location"]
            if "done=empty" in where:
                break
            item = int(where.split("?")[0].rsplit("/", 1)[1])
            outcome = "confirmed" if item % 3 else "dismissed"
            decided = client.post(
                f"/items/{item}/decide",
                data={"csrf": csrf, "outcome": outcome, "note": f"checked by {name}"},
            )
            if decided.status_code != 303:
                raise AssertionError(f"{name}: decide {item} answered {decided.status_code}")
            times.append(time.perf_counter() - start)
            mine.append(item)
    with lock:
        result.decided[name] = mine
        result.latencies.extend(times)


def _api_reviewer(
    url: str,
    name: str,
    token: str,
    result: LoadResult,
    lock: threading.Lock,
    ready: threading.Barrier,
) -> None:
    mine: list[int] = []
    times: list[float] = []
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        ready.wait()
        while True:
            start = time.perf_counter()
            claimed = client.post("/api/claim", json={})
            claimed.raise_for_status()
            item = claimed.json()["item"]
            if item is None:
                break
            decided = client.post(
                f"/api/items/{item['id']}/decide",
                json={"outcome": "confirmed", "note": f"checked by {name}"},
            )
            decided.raise_for_status()
            times.append(time.perf_counter() - start)
            mine.append(item["id"])
    with lock:
        result.decided[name] = mine
        result.latencies.extend(times)


def run_reviewers(url: str, reviewers: int, *, tokens: dict[str, str] | None = None) -> LoadResult:
    """Run ``reviewers`` concurrent reviewers against the server at ``url`` until it is empty."""
    result = LoadResult()
    lock = threading.Lock()
    # everyone signs in first; the clock starts when the last one has
    ready = threading.Barrier(reviewers + 1, timeout=600)

    def run(name: str) -> None:
        try:
            if tokens is not None:
                _api_reviewer(url, name, tokens[name], result, lock, ready)
            else:
                _browser_reviewer(url, name, result, lock, ready)
        except Exception as exc:  # reported to the caller, which fails
            ready.abort()
            with lock:
                result.errors.append(f"{name}: {exc!r}")

    threads = [threading.Thread(target=run, args=(f"reviewer-{n:02d}",)) for n in range(reviewers)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a reviewer failed: reported
        ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - start
    return result
