r"""Characters that must not reach an output as they are, shown as visible escapes instead.

Text from evidence (categories, record ids, messages quoting values) goes to terminals, XML and
other outputs that a stray control character can drive or break. Each output names the
characters it cannot take; :func:`escape_chars` shows each as ``\x1b`` or ``\u202e``.
"""

from __future__ import annotations

import re

__all__ = ["CONTROLS", "FORMULA_START", "csv_cell", "escape_chars"]

#: Characters that drive or reorder a terminal or a text view: C0 controls but tab and newline,
#: DEL, C1 controls, and Unicode's bidirectional marks, embeddings, overrides and isolates.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_chars(text: str, unsafe: re.Pattern[str]) -> str:
    """Return ``text`` with every character ``unsafe`` matches shown as a visible escape."""
    return unsafe.sub(_visible, text)


#: What a spreadsheet reads as the start of a formula when a CSV cell begins with it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """Return ``value`` safe to open in a spreadsheet as a CSV cell.

    Text a spreadsheet would run as a formula (``=HYPERLINK(...)``, ``+cmd``, ``@SUM(...)``)
    gets a leading ``'``, shown as text (OWASP's advice against CSV injection); anything else,
    numbers included (also written as text: ``-3``), is returned as it is.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


#: A number written as text (``-3``, ``+0.5``, ``-1e-3``): no formula, kept as it is (a record
#: id ``-3`` must still match its row)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")
