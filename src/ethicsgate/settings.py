"""Deployment settings, read from ``ETHICSGATE_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Settings that a deployment sets once rather than on every command."""

    model_config = SettingsConfigDict(env_prefix="ETHICSGATE_", extra="ignore")

    signing_key: Path | None = None
    """Private key used by ``ethicsgate audit`` when ``--key`` is not given."""
    key_passphrase: SecretStr | None = None
    """Passphrase of an encrypted private key (otherwise asked for at a prompt)."""
    db_url: str | None = None
    """Review store URL (SQLite file by default)."""
    reviewer: str | None = None
    """Who ``ethicsgate review`` acts as when ``--as`` is not given (default: the OS user)."""
    review_lease: str = "15m"
    """How long a review claim lasts before the item is claimable again (``--lease``)."""
    memory_limit: str | None = None
    """DuckDB's memory limit for evidence scans, e.g. ``2GB`` (default: DuckDB's, 80 % of RAM);
    over it, joins and sorts spill to ``temp_dir``."""
    threads: str | None = None
    """DuckDB worker threads for evidence scans (default: one per core)."""
    temp_dir: Path | None = None
    """Where DuckDB spills when over ``memory_limit`` (default: a folder in the system's temp)."""
