"""Open the history store: the review queue's database, opened and migrated by the review store.

The history and review packages are siblings that never import each other; a session joins
them: the review store's opener resolves the URL (``--db``, ``ETHICSGATE_DB_URL``, the default
SQLite file), sets SQLite's locking up and migrates to the head revision, which includes the
history tables, and the history store uses its engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ethicsgate.history.store import HistoryStore

__all__ = ["open_history"]


def open_history(db_url: str | None = None) -> HistoryStore:
    """Open the history store at ``db_url``, else ``ETHICSGATE_DB_URL``, else the default file.

    Raises:
        ReviewError: the URL is bad or the database cannot be opened.
    """
    from ethicsgate.history.store import HistoryStore
    from ethicsgate.review.workflow import open_review_store

    store = open_review_store(db_url)
    return HistoryStore(store.engine, url=store.url)
