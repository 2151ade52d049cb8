"""Evidence engines: where an audit's evidence is read and aggregated.

Each engine implements :class:`ethicsgate.evidence.engine.Engine` in a package of its own, which
is the only place that imports its client library. :func:`default_engine` returns the embedded
DuckDB engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ethicsgate.evidence.engine import Engine
    from ethicsgate.settings import Settings

__all__ = ["default_engine"]


def default_engine(settings: Settings | None = None) -> Engine:
    """Return a new DuckDB engine with the deployment settings (``ETHICSGATE_MEMORY_LIMIT``...).

    Raises:
        SettingsError: a setting holds a value DuckDB cannot use.
    """
    from ethicsgate.engines.duckdb import DuckDBEngine

    return DuckDBEngine(settings)
