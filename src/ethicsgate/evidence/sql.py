"""Portable SQL text: quoted identifiers and literals, as every SQL engine of ours reads them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ethicsgate.errors import Location

__all__ = ["names_a_column", "quote_ident", "sql_literal", "window_column_hint", "window_key_path"]


def quote_ident(name: str) -> str:
    """Return ``name`` as a double-quoted SQL identifier (ANSI; quotes inside doubled)."""
    return '"' + name.replace('"', '""') + '"'


def names_a_column(text: str, available: Iterable[tuple[str, str]]) -> bool:
    """Return whether ``text`` is the name of one of the ``available`` (name, type) columns.

    A mapping that names a column is read by that name, quoted, even where its name is a
    keyword or holds a space ("order", "Decided At"); anything else is SQL over the source.
    """
    return any(text == name for name, _ in available)


def sql_literal(value: str | int | float | bool) -> str:
    """Return a SQL literal: ``true``/``false``, a number as Python writes it, or quoted text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def window_key_path(column: str | None, columns: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the key of an evidence entry that chose a window's time column.

    The window's own ``column``; else the ``timestamp`` role's mapping; else the window itself
    (it names no column, and the default column ``timestamp`` is not mapped).
    """
    if column:
        return ("window", "column")
    return ("columns", "timestamp") if "timestamp" in columns else ("window",)


def window_column_hint(location: Location | None, names: str) -> str:
    """Return the fix for a window column that is missing or not a time, where it was set.

    ``location`` is where the column came from: the ``--window`` option, or the audit spec.
    """
    if location is not None and location.option is not None:
        name = location.option
        example = (
            f"{name} month:decided_at" if name.startswith("-") else f"{name}='month:decided_at'"
        )
        return (
            f"name a date or timestamp column after the unit, e.g. {example} (columns: "
            f"{names}), or leave {name} out"
        )
    return f"set window.column to a date or timestamp column; available: {names}"
