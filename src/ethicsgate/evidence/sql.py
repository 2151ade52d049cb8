"""Portable SQL text: quoted identifiers and literals, as every SQL engine of ours reads them."""

from __future__ import annotations

__all__ = ["quote_ident", "sql_literal"]


def quote_ident(name: str) -> str:
    """Return ``name`` as a double-quoted SQL identifier (ANSI; quotes inside doubled)."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: str | int | float | bool) -> str:
    """Return a SQL literal: ``true``/``false``, a number as Python writes it, or quoted text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"
