"""Alembic migrations of the review store, one module per schema version."""
