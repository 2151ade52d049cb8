"""Accounts of the reviewer web app: users and their browser sessions.

Users have a role, an argon2 password hash and an API token hash; of a session only the hash
of its id is stored.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TIME = 32  # ISO 8601 UTC, as the review tables keep times


def upgrade() -> None:
    """Create users and web_sessions; index the log by item."""
    op.create_table(
        "users",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("token_hash", sa.String(64), unique=True),
        sa.Column("created_at", sa.String(_TIME), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("auth", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(_TIME), nullable=False),
        sa.Column("expires_at", sa.String(_TIME), nullable=False),
    )
    op.create_index("ix_web_sessions_user", "web_sessions", ["user_name"])
    # an item's page shows its history: its entries of the decision log
    op.create_index("ix_review_log_item", "review_log", ["item_id", "seq"])


def downgrade() -> None:
    """Drop web_sessions and users."""
    op.drop_index("ix_review_log_item", table_name="review_log")
    op.drop_index("ix_web_sessions_user", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("users")
