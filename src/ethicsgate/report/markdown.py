"""Jinja2 for Markdown: every printed value is escaped, as autoescaping does for HTML.

A category, a record id, a message or a policy's text is data: printed into Markdown as it
is, ``|`` splits a table row, ``<img onerror=...>`` is raw HTML to many renderers, and
``[x](http://...)`` is a link. Templates rendered with :func:`markdown_environment` print
every ``{{ value }}`` through :func:`md_text` (one line, each character that can start
Markdown or HTML markup backslash-escaped, which renders as the character itself). Inside a
code span escapes do not work, so code spans are built whole by the ``code`` filter. Only
values are escaped; the template's own text is Markdown as written.

``_`` and ``#`` are left alone: GitHub-flavoured Markdown does not emphasise inside a word
(``age_band``), and ``#`` makes a heading only at the start of a line, where no value is
printed; escaping them would clutter every feature name in the Markdown source.
"""

from __future__ import annotations

import re
from typing import Any

from ethicsgate.escapes import CONTROLS, escape_chars

__all__ = ["Markdown", "code_span", "markdown_environment", "md_text"]

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|~&])")


class Markdown(str):
    """Finished Markdown, printed as it is (the result of :func:`md_text` or ``code``)."""

    __slots__ = ()


def md_text(value: object) -> Markdown:
    """Return ``value`` as Markdown text that reads as itself.

    One line, no markup, no HTML, no control characters (shown as escapes, as on the terminal).

    ``None`` is shown as an em dash; :class:`Markdown` values are returned unchanged.
    """
    if isinstance(value, Markdown):
        return value
    if value is None:
        return Markdown("—")
    text = escape_chars(" ".join(str(value).split()), CONTROLS)  # e.g. ESC shown as \x1b
    return Markdown(_MD_SPECIAL.sub(r"\\\1", text))


def code_span(value: object) -> Markdown:
    """Return ``value`` as one inline code span, fenced longer than any backtick run in it."""
    text = escape_chars(" ".join(str(value).split()), CONTROLS)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markdown(f"{fence}{pad}{text}{pad}{fence}")


def markdown_environment(package: str) -> Any:
    """Return a Jinja2 environment for the Markdown templates of ``package``."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from ethicsgate.report._bytecode import template_cache

    env = Environment(
        loader=PackageLoader(package, "templates"),
        bytecode_cache=template_cache("markdown"),
        autoescape=False,  # Markdown, not HTML: finalize escapes every value instead
        finalize=md_text,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["code"] = code_span
    return env
