"""Human-in-the-loop review queue: findings become items that people claim and decide.

``open_store`` opens (and migrates) the SQLite or PostgreSQL store; ``items_from_audit`` turns an
audit's findings into ``NewReviewItem``s; ``enqueue`` adds them idempotently.
"""

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
