"""Human-in-the-loop review queue: findings become items that people claim and decide.

``open_store`` opens the SQLite or PostgreSQL store (creating and migrating it for writers only);
``items_from_audit`` turns an audit's findings into ``NewReviewItem``s; ``enqueue`` adds them
idempotently.

Names are imported on first use (PEP 562): ``from ethicsgate.review.workflow import ...`` must
not pay for SQLAlchemy (about 0.25 s) on an audit that queues nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethicsgate.lazy import lazy_exports

if TYPE_CHECKING:
    from ethicsgate.review.enqueue import enqueue, items_from_audit, review_options
    from ethicsgate.review.models import (
        ItemStatus,
        LogEntry,
        NewReviewItem,
        Outcome,
        ReviewItem,
        RuleQueueStats,
        VerifyResult,
    )
    from ethicsgate.review.store import (
        DEFAULT_LEASE,
        EnqueueResult,
        ReviewStore,
        default_reviewer,
        format_time,
        open_store,
    )

__all__ = [
    "DEFAULT_LEASE",
    "EnqueueResult",
    "ItemStatus",
    "LogEntry",
    "NewReviewItem",
    "Outcome",
    "ReviewItem",
    "ReviewStore",
    "RuleQueueStats",
    "VerifyResult",
    "default_reviewer",
    "enqueue",
    "format_time",
    "items_from_audit",
    "open_store",
    "review_options",
]

#: Exported name -> the submodule that defines it.
_HOMES = {
    "enqueue": "enqueue",
    "items_from_audit": "enqueue",
    "review_options": "enqueue",
    "ItemStatus": "models",
    "LogEntry": "models",
    "NewReviewItem": "models",
    "Outcome": "models",
    "ReviewItem": "models",
    "RuleQueueStats": "models",
    "VerifyResult": "models",
    "DEFAULT_LEASE": "store",
    "EnqueueResult": "store",
    "ReviewStore": "store",
    "default_reviewer": "store",
    "format_time": "store",
    "open_store": "store",
}

__getattr__ = lazy_exports(__name__, _HOMES)
