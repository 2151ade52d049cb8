"""Deployment settings, read from ``ETHICSGATE_*`` environment variables by :func:`load_settings`.

pydantic-settings (and the asyncio it imports) is loaded only when such a variable is set: a
run with none of them gets every default without it.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

__all__ = ["ENV_PREFIX", "Settings", "load_settings"]

#: The prefix of every setting's environment variable (matched case-insensitively).
ENV_PREFIX = "ETHICSGATE_"


class Settings(BaseModel):
    """Settings that a deployment sets once rather than on every command."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

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


def load_settings() -> Settings:
    """Return the settings read from the ``ETHICSGATE_*`` environment variables."""
    prefix = ENV_PREFIX.lower()
    if not any(name.lower().startswith(prefix) for name in os.environ):
        return Settings()
    settings: Settings = _from_environment()()
    return settings


@cache
def _from_environment() -> Any:
    """Return the pydantic-settings class that reads :class:`Settings` from the environment."""
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class EnvironmentSettings(BaseSettings, Settings):
        model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    return EnvironmentSettings
