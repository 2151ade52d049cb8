"""The DuckDB connection every evidence scan runs on, set up from the deployment settings.

``ETHICSGATE_MEMORY_LIMIT`` caps DuckDB's memory (joins, sorts and aggregates spill to
``ETHICSGATE_TEMP_DIR`` beyond it), ``ETHICSGATE_THREADS`` its worker threads. A value DuckDB
rejects is a :class:`SettingsError` (exit 2) naming the variable, never a traceback.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from ethicsgate.errors import SettingsError
from ethicsgate.settings import Settings, load_settings

__all__ = ["connect", "diagnostic_rows"]

_EXAMPLES = {
    "memory_limit": "2GB or 500MB",
    "threads": "a whole number such as 2",
    "temp_dir": "a folder you can write to",
}
_SERIAL = itertools.count()


def connect(settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """Return an in-memory DuckDB connection with the configured limits applied.

    Raises:
        SettingsError: ``ETHICSGATE_MEMORY_LIMIT``, ``ETHICSGATE_THREADS`` or
            ``ETHICSGATE_TEMP_DIR`` holds a value DuckDB cannot use.
    """
    settings = settings or load_settings()
    parent = _temp_parent(settings)
    con = duckdb.connect()
    try:
        # DuckDB's own bar would print to the terminal; the CLI draws its own from query_progress.
        # In a Jupyter kernel without ipywidgets DuckDB refuses every progress-bar setting (the
        # Python API's tutorial found it); it shows no bar there anyway (it starts with
        # enable_progress_bar = false), so there is nothing to turn off.
        with contextlib.suppress(duckdb.InvalidInputException):
            con.execute("SET enable_progress_bar_print = false")
        # the allocator's memory freed after a large GROUP BY goes back to the system in the
        # background: at 1e5 groups x 2e6 rows the process held 879 MiB after the grouped scan
        # without it, 616 MiB with it, and the audit's peak went 1,781 -> 1,407 MiB
        con.execute("SET allocator_background_threads = true")
        # a folder per connection, which DuckDB creates on the first spill and removes on close
        # (its default, .tmp in the working directory, would spill into the user's checkout)
        spill = parent / f"duckdb-{os.getpid()}-{next(_SERIAL)}"
        _set(con, "temp_directory", str(spill), "temp_dir")
        if settings.memory_limit is not None:
            _set(con, "memory_limit", settings.memory_limit, "memory_limit")
        if settings.threads is not None:
            if not settings.threads.strip().isdigit() or int(settings.threads) < 1:
                raise _error("threads", settings.threads, "must be a whole number of at least 1")
            _set(con, "threads", int(settings.threads), "threads")
    except BaseException:
        con.close()
        raise
    return con


def _temp_parent(settings: Settings) -> Path:
    """Return the folder that holds the connections' spill folders, creating it (0700)."""
    if settings.temp_dir is not None:
        parent = settings.temp_dir.expanduser()
    else:
        parent = Path(tempfile.gettempdir()) / f"ethicsgate-{os.getuid()}"
    try:
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _error("temp_dir", str(parent), f"cannot be created: {exc.strerror}") from exc
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _error("temp_dir", str(parent), "is not writable")
    return parent


def _set(con: duckdb.DuckDBPyConnection, option: str, value: str | int, name: str) -> None:
    try:
        con.execute(f"SET {option} = ?", [value])
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        raise _error(name, value, f"is not usable: {reason}") from exc


def _error(name: str, value: object, problem: str) -> SettingsError:
    variable = f"ETHICSGATE_{name.upper()}"
    return SettingsError(
        f"{value!r} {problem}",
        location=variable,
        hint=f"set {variable} to {_EXAMPLES[name]}, or unset it for the default",
    )


def diagnostic_rows(
    sql: str, *, tables: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]] | None:
    """Run a rare diagnostic query (where is the first bad row?) on a fresh connection.

    One thread, so that ``row_number() OVER ()`` follows the file's order, and UTC, as the
    evidence scans read timestamps. Returns None when DuckDB cannot run the query (one file of
    a glob sniffed to other types, a pattern RE2 rejects): the caller is reporting another
    error, which this must not replace. ``tables``: in-memory evidence the query reads, by
    view name (Arrow tables), registered on the fresh connection.
    """
    diag = duckdb.connect()
    try:
        diag.execute("SET threads = 1; SET TimeZone = 'UTC'")
        for view, table in (tables or {}).items():
            diag.register(view, table)
        return diag.sql(sql).fetchall()
    except duckdb.Error:
        return None
    finally:
        diag.close()
