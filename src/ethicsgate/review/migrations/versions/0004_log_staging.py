"""Staged decision-log entries: appends that did not wait for the chain's head.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TIME = 32


def upgrade() -> None:
    """Create review_log_staged: entries waiting to be chained, each hashed on its own."""
    op.create_table(
        "review_log_staged",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(_TIME), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    """Drop review_log_staged (chain its entries first: `ethicsgate review verify`)."""
    op.drop_table("review_log_staged")
