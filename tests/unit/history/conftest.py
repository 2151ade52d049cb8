"""History-store fixtures: an empty store on SQLite and on the real PostgreSQL server.

The PostgreSQL server is the review tests' (``tests/unit/review/conftest.py``): the variable
``ETHICSGATE_TEST_POSTGRES_URL``, else a private pgserver, started once per session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.review.conftest import _fresh_postgres, stop_private_server


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty review and history store on each back end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'review.db'}"
    else:
        yield _fresh_postgres()


@pytest.fixture(autouse=True, scope="session")
def _stop_private_postgres() -> Iterator[None]:
    """Stop the private PostgreSQL server when the session ends (idempotent)."""
    yield
    stop_private_server()
