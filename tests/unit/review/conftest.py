"""Review-store fixtures: a fresh SQLite file per test, and the real PostgreSQL server.

PostgreSQL tests read ``ETHICSGATE_TEST_POSTGRES_URL`` (``.ci/start-postgres`` prints one). In
CI (``CI=true``) a missing URL fails those tests; locally they are skipped with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ethicsgate.review import open_store

POSTGRES_ENV = "ETHICSGATE_TEST_POSTGRES_URL"


def postgres_url() -> str:
    """Return the test server's URL, or skip (locally) / fail (in CI) without one."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    message = f"{POSTGRES_ENV} is not set (start a server with `bash .ci/start-postgres`)"
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
