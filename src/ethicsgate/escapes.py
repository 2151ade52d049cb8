r"""Characters that must not reach an output as they are, shown as visible escapes instead.

Text from evidence (categories, record ids, messages quoting values) goes to terminals, XML and
other outputs that a stray control character can drive or break. Each output names the
characters it cannot take; :func:`escape_chars` shows each as ``\x1b`` or ``\u202e``.
"""

from __future__ import annotations

import re

__all__ = ["CONTROLS", "FORMULA_START", "HIDDEN", "csv_cell", "escape_chars", "written_out"]

#: Characters that drive or reorder a terminal or a text view: C0 controls but tab and newline,
#: DEL, C1 controls, Unicode's bidirectional marks, embeddings, overrides and isolates, and the
#: zero-width spaces (and the word joiner) that make two record ids look alike; the zero-width
#: joiner and non-joiner stay, as emoji and Indic text need them.
CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff]"
)
#: Characters that reorder or hide text on a web page: the bidirectional embeddings,
#: overrides, isolates and marks, and the zero-width spaces. In evidence they make a page say
#: what it does not (after U+202E the rest of the line reads backwards: 0.3613 as 3163.0) or
#: two record ids look alike.
HIDDEN = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_chars(text: str, unsafe: re.Pattern[str]) -> str:
    """Return ``text`` with every character ``unsafe`` matches shown as a visible escape."""
    return unsafe.sub(_visible, text)


def written_out(value: object) -> object:
    """Return a text ``value`` with each character that reorders or hides text as ``<U+XXXX>``.

    The HTML templates' ``finalize`` (the report's and the web app's): every ``{{ ... }}``
    shows evidence, notes and names so. Markup is left as it is, so ``{{ value | e }}`` keeps
    the characters where a link or a filter must send the value back unchanged.
    """
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return HIDDEN.sub(lambda m: f"<U+{ord(m.group()):04X}>", value)
    return value


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
