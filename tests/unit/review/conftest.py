"""Review-store fixtures: a fresh SQLite file per test, and a real PostgreSQL server.

PostgreSQL tests use ``ETHICSGATE_TEST_POSTGRES_URL`` when it is set (``.ci/start-postgres``
prints one: Debian's server, as CI runs it). Otherwise they start a private server from the
``pgserver`` wheel (a dev extra: PostgreSQL's own binaries, no root, no system package) in a
temporary folder, once per test session, and stop it at the end. Only where neither exists are
they skipped locally; in CI (``CI=true``) a missing server fails them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ethicsgate.review import open_store

POSTGRES_ENV = "ETHICSGATE_TEST_POSTGRES_URL"


_PRIVATE: dict[str, Any] = {}


def _private_server() -> str | None:
    """Return the URL of a private pgserver instance, started on first use (None: no pgserver)."""
    if "url" in _PRIVATE:
        return str(_PRIVATE["url"])
    try:
        import pgserver
    except ImportError:
        return None
    folder = tempfile.mkdtemp(prefix="ethicsgate-pg-")
    server = pgserver.get_server(folder, cleanup_mode="delete")
    _PRIVATE.update(server=server, url=server.get_uri())
    return str(_PRIVATE["url"])


def stop_private_server() -> None:
    """Stop the private server, if this session started one."""
    server = _PRIVATE.pop("server", None)
    _PRIVATE.pop("url", None)
    if server is not None:
        server.cleanup()


def postgres_url() -> str:
    """Return the test server's URL, or skip (locally) / fail (in CI) without one."""
    url = os.environ.get(POSTGRES_ENV) or _private_server()
    if url:
        return url
    message = (
        f"{POSTGRES_ENV} is not set and pgserver is not installed (install the dev extras, "
        "or start a server with `bash .ci/start-postgres`)"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL review-store tests cannot run in CI: {message}")
    pytest.skip(message)


def _fresh_postgres() -> str:
    url = postgres_url()
    store = open_store(url, migrate=False)
    try:
        store.drop_all()
    finally:
        store.close()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty review store on each back end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'review.db'}"
    else:
        yield _fresh_postgres()


@pytest.fixture(autouse=True, scope="session")
def _stop_private_postgres() -> Iterator[None]:
    """Stop the private PostgreSQL server when the session ends."""
    yield
    stop_private_server()
