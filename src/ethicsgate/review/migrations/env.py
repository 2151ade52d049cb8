"""Alembic environment: run on the connection the review store passes in (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # two processes opening a fresh database at once: the second waits, then sees head
        connection.execute(text("SELECT pg_advisory_xact_lock(7317001)"))
    context.run_migrations()
