r"""Printing for people: text from evidence, policies or review notes cannot drive the terminal.

A category, record id, reviewer note or a DuckDB message quoting a line of the evidence may hold
control characters: ``ESC ] 0 ; ... BEL`` retitles the terminal, ``ESC [ 2 J`` clears it, a
backspace or carriage return prints "FAIL" over "PASS", and Unicode bidirectional controls
reorder what is shown. :func:`echo` and :func:`secho` print every such character as a visible
escape (``\x1b``, ``\u202e``); newlines and tabs stay. click adds its own colours after
this, so they still work. Machine-readable output (JSON, exports) is printed as it is: its
encoders escape what they must, and its bytes must not change.
"""

from __future__ import annotations

from typing import Any

import click

from ethicsgate.escapes import CONTROLS, escape_chars

__all__ = ["Styled", "echo", "secho", "style", "terminal_safe"]


def terminal_safe(text: str) -> str:
    """Return ``text`` with every character that could control a terminal made visible."""
    return escape_chars(text, CONTROLS)


class Styled(str):
    """Text already made safe and styled by :func:`style`: printed as it is."""

    __slots__ = ()


def style(text: Any, **styles: Any) -> Styled:
    """Return ``text`` made safe, then styled with ``click.style`` (fg=..., bold=...)."""
    return Styled(click.style(terminal_safe(str(text)), **styles))


def echo(*parts: Any, **kwargs: Any) -> None:
    """``click.echo`` of the parts joined, each made safe unless :func:`style` made it."""
    click.echo(
        "".join(p if isinstance(p, Styled) else terminal_safe(str(p)) for p in parts), **kwargs
    )


def secho(message: Any = "", **kwargs: Any) -> None:
    """``click.secho`` for text people read: escaped first, then styled."""
    click.secho(terminal_safe(str(message)), **kwargs)
