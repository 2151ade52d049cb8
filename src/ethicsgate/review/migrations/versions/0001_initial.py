"""Review items, the hash-chained decision log and its head.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TIME = 32  # ISO 8601 UTC with microseconds and a Z: sorts as text on every back end


def upgrade() -> None:
    """Create the three tables and the log head at the genesis hash."""
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_key", sa.String(1024), nullable=False, unique=True),
        sa.Column("policy_id", sa.String(128), nullable=False),
        sa.Column("policy_version", sa.String(128), nullable=False),
        sa.Column("rule_id", sa.String(128), nullable=False),
        sa.Column("record_id", sa.String(512), nullable=False),
        sa.Column("audit_id", sa.String(128), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(128)),
        sa.Column("claimed_at", sa.String(_TIME)),
        sa.Column("lease_expires_at", sa.String(_TIME)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("note", sa.Text),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("decided_at", sa.String(_TIME)),
        sa.Column("created_at", sa.String(_TIME), nullable=False),
        sa.Column("due_at", sa.String(_TIME), nullable=False),
    )
    op.create_index("ix_review_items_queue", "review_items", ["status", "due_at", "id"])
    op.create_index("ix_review_items_audit", "review_items", ["audit_id", "rule_id"])
    op.create_table(
        "review_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(_TIME), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    head = op.create_table(
        "review_log_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    """Drop the review tables."""
    op.drop_table("review_log_head")
    op.drop_table("review_log")
    op.drop_index("ix_review_items_audit", table_name="review_items")
    op.drop_index("ix_review_items_queue", table_name="review_items")
    op.drop_table("review_items")
