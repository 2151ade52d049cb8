"""Web-app fixtures: a real signed audit queued for review, one user per role, live servers.

The seed is built once per session: the shipped bakery audit, signed with a fresh key and
enqueued into a SQLite review store (47 items), plus an item whose evidence is an XSS payload,
an unsigned and a tampered copy of the report, and a user (password and API token) of every
role. Each test gets its own copy of the database.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.conftest import ROOT

from ethicsgate.review import NewReviewItem, open_store
from ethicsgate.review.users import UserStore

ROLES = ("reviewer", "approver", "auditor", "admin")
PASSWORD = "correct horse battery staple"
XSS = '<script>alert("xss")</script><img src=x onerror="alert(1)">'
XSS_RECORD = '"><svg onload=alert(2)>'


@dataclass
class Seed:
    """What the session-wide seed holds."""

    folder: Path
    db: Path
    reports: Path
    public_key: Path
    tokens: dict[str, str]
    xss_item: int


def _cli(
    *args: str, cwd: Path = ROOT, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}")
    return subprocess.run(
        [sys.executable, "-m", "ethicsgate", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    folder = tmp_path_factory.mktemp("web-seed")
    db = folder / "review.db"
    reports = folder / "reports"
    keys = folder / "keys"
    done = _cli("keys", "generate", "--out", str(keys), "--name", "web")
    assert done.returncode == 0, done.stderr
    done = _cli(
        "audit",
        "audits/bakery.yaml",
        "--key",
        str(keys / "web.key"),
        "--out",
        str(reports / "bakery"),
        "--enqueue",
        "--db",
        f"sqlite:///{db}",
    )
    assert done.returncode in (0, 1), done.stderr
    # an unsigned copy, and a copy edited after signing
    shutil.copytree(reports / "bakery", reports / "bakery-unsigned")
    (reports / "bakery-unsigned" / "report.intoto.json").unlink()
    shutil.copytree(reports / "bakery", reports / "bakery-edited")
    edited = reports / "bakery-edited" / "report.json"
    edited.write_text(edited.read_text().replace('"status": "fail"', '"status": "pass"', 1))
    store = open_store(f"sqlite:///{db}")
    try:
        xss = store.enqueue(
            [
                NewReviewItem(
                    policy_id="bakery-customer-automation",
                    policy_version="1.1",
                    rule_id="chatbot-discloses-automation",
                    record_id=XSS_RECORD,
                    audit_id="bakery",
                    severity="block",
                    fields={"message": XSS, "customer": "Ada <b>Lovelace</b> & co"},
                    reason="not_disclosed",
                    due_at="2030-01-01T00:00:00.000000Z",
                )
            ],
            actor="seed",
        ).ids[0]
        users = UserStore(store)
        tokens = {}
        for role in ROLES:
            users.add(role, role, PASSWORD)
            tokens[role] = users.new_token(role)
    finally:
        store.close()
    return Seed(folder, db, reports, keys / "web.pub", tokens, xss)


@pytest.fixture
def db_copy(seed: Seed, tmp_path: Path) -> str:
    """Return the URL of this test's own copy of the seeded store."""
    target = tmp_path / "review.db"
    shutil.copy(seed.db, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app(seed: Seed, db_copy: str):  # type: ignore[no-untyped-def]
    from ethicsgate.web import WebConfig, create_app

    return create_app(
        WebConfig(db_url=db_copy, reports=seed.reports, keys=[seed.public_key], lease="15m")
    )


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(client, name: str, password: str = PASSWORD) -> str:  # type: ignore[no-untyped-def]
    """Sign ``name`` in; return the session's CSRF token."""
    page = client.get("/login")
    assert page.status_code == 200
    done = client.post(
        "/login",
        data={"username": name, "password": password, "csrf": csrf_of(page.text), "next": "/"},
    )
    assert done.status_code == 303, done.text
    home = client.get("/")
    assert home.status_code == 200
    return csrf_of(home.text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``ethicsgate serve`` in a subprocess: real uvicorn on a free port."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}")
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ethicsgate", "serve", "--port", str(self.port), *args],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=self.log,
            text=True,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"ethicsgate serve exited: {self.log.read()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("ethicsgate serve did not answer /healthz within 60 s")
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def live_server(seed: Seed, db_copy: str) -> Iterator[LiveServer]:
    server = LiveServer(
        "--db", db_copy, "--reports", str(seed.reports), "--key", str(seed.public_key)
    )
    try:
        yield server
    finally:
        server.stop()
