"""Portable SQL text: quoted identifiers and literals, as every SQL engine of ours reads them."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["names_a_column", "quote_ident", "sql_literal"]


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
