"""Portable SQL text: quoted identifiers and literals, as every SQL engine of ours reads them.

And the check, shared by the engines, that a mapping or filter of an audit spec is one SQL
expression before it is spliced into any query (:func:`expression_problem`,
:func:`tokens_problem`), with each engine's quoting (:class:`Lexis`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ethicsgate.errors import EvidenceError, Location, did_you_mean

__all__ = [
    "DUCKDB_LEXIS",
    "OFFSET_TEXT",
    "POSTGRESQL_LEXIS",
    "SPARK_LEXIS",
    "UNCLOSED",
    "Lexis",
    "Token",
    "column_guess",
    "expression_problem",
    "keyword_column_hint",
    "names_a_column",
    "not_one_expression",
    "quote_ident",
    "sql_literal",
    "sql_tokens",
    "text_not_a_time",
    "tokens_problem",
    "window_column_hint",
    "window_key_path",
]


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


#: Text of a time with a UTC offset or a zone (``...T22:30:00Z``, ``22:30+02:00``,
#: ``22:30:00 -0500``, ``22:30:00 UTC``, ``22:30 America/New_York``, ``22:30 GMT+2``, spaces
#: after it): a regular expression read alike by DuckDB (RE2), PostgreSQL (POSIX) and Spark
#: (Java), without a backslash (Spark's string literals escape). With a window ``time_zone``,
#: such text is an instant converted to the zone; text without one is the zone's wall-clock
#: time (DuckDB and PostgreSQL read a trailing zone name as an instant too).
OFFSET_TEXT = (
    "[0-9]:[0-9][0-9](:[0-9][0-9]([.,][0-9]+)?)? *"
    "([Zz]|[+-][0-9][0-9](:?[0-9][0-9])?|[A-Za-z][A-Za-z0-9_/+-]*) *$"
)


def window_key_path(column: str | None, columns: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the key of an evidence entry that chose a window's time column.

    The window's own ``column``; else the ``timestamp`` role's mapping; else the window itself
    (it names no column, and the default column ``timestamp`` is not mapped).
    """
    if column:
        return ("window", "column")
    return ("columns", "timestamp") if "timestamp" in columns else ("window",)


def text_not_a_time(
    who: str,
    expr: str,
    detail: str,
    *,
    location: Location | None,
    available: Iterable[tuple[str, str]],
) -> EvidenceError:
    """Return the error for a text window column holding a value that is no time.

    ``who`` opens the message (``evidence 'x'``, with the engine where it names one);
    ``detail`` follows "not a date or time": the value found, or the engine's reason.
    """
    names = ", ".join(name for name, _ in available)
    return EvidenceError(
        f"{who}: the window column {expr} is text that is not a date or time{detail}",
        location=location,
        hint=window_column_hint(location, names)
        + "; text times are read as ISO 8601, e.g. 2026-09-14 or 2026-09-14T10:30:00+02:00",
    )


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


# -- one expression ------------------------------------------------------------------------------

#: A token as the expression check reads it: ``comment``, ``operator`` (punctuation, one
#: character), or ``other`` (a word, number, string or quoted name, whose contents never count).
Token = tuple[Literal["comment", "operator", "other"], str]


@dataclass(frozen=True)
class Lexis:
    """How an engine's SQL quotes text and names and writes comments: what the check skips."""

    engine: str
    #: characters that open a quoted name (``""`` or a doubled backtick inside stays inside)
    name_quotes: str = '"'
    #: ``E'...'`` strings, in which a backslash escapes the next character (PostgreSQL)
    escape_strings: bool = False
    #: ``$tag$ ... $tag$`` strings (PostgreSQL)
    dollar_quotes: bool = False
    #: whether a backslash may escape a quote in a plain ``'...'`` string: on Spark the
    #: session's settings and the rewriting of literals (``spark_sql``) decide, so the text is
    #: read both ways and refused if either reading finds a problem; PostgreSQL's session
    #: sets standard_conforming_strings (no escapes outside ``E'...'``)
    backslash_either_way: bool = False
    #: a ``--`` comment goes on past a newline right after a backslash (Spark's lexer)
    comment_continues: bool = False
    #: what separates tokens: PostgreSQL's ASCII spaces only (a no-break space, U+00A0, is a
    #: letter of a name there: ``\u00a0$q$`` is a name, not a dollar quote); None: any
    #: character ``str.isspace`` takes (Spark's lexer skips U+00A0 and its kin)
    spaces: str | None = None
    #: ``r'...'`` and ``r"..."`` strings, in which a backslash is text (Spark)
    raw_strings: bool = False
    #: ``/*+ ... */`` is a hint whose text is lexed as SQL, not a comment (Spark)
    hints: bool = False
    #: the query is rewritten before it runs (``spark_sql`` doubles the backslashes of
    #: '...'), by a reader of '...' and "..." alone: a quote inside a comment or a
    #: backquoted name, or a backslash in a "..." name (an escape to Spark's lexer), would
    #: put that reader out of step with the engine's, so they are refused
    rewritten: bool = False


#: PostgreSQL: ``"name"``, ``U&"name"``, ``'text'``, ``E'te\'xt'``, ``$$text$$``, ``$q$text$q$``,
#: ``--`` and nested ``/* */`` comments; ``$`` inside a name (``a$b``) and ``$1`` are no quotes.
POSTGRESQL_LEXIS = Lexis(
    "PostgreSQL", escape_strings=True, dollar_quotes=True, spaces=" \t\n\r\f\v"
)
#: Spark SQL: ``"name"`` (the session reads double quotes as names) and ``` `name` ```,
#: ``'text'``, ``--`` comments (a backslash at the end of the line continues one) and nested
#: ``/* */`` comments.
SPARK_LEXIS = Lexis(
    "Spark SQL",
    name_quotes='"`',
    backslash_either_way=True,
    comment_continues=True,
    raw_strings=True,
    hints=True,
    rewritten=True,
)

#: DuckDB: ``"name"``, ``'text'``, ``--`` and ``/* */`` comments (enough to find the names).
DUCKDB_LEXIS = Lexis("DuckDB")

#: A name, or a number with what follows it up to a space or an operator: ``1q$q$`` is the
#: number 1 and the name q$q$ on PostgreSQL 14 (an error from 15 on), never a dollar quote;
#: ``1$q$`` is 1 and a dollar quote.
_WORD = re.compile(
    r"[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*"
    r"|[0-9][0-9_.]*(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_.$\x80-\U0010ffff]*)?"
)
_LINE_BREAK = re.compile(r"[\r\n]")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")


#: Why a text whose string, quoted name or comment runs to its end is refused.
UNCLOSED = "a string, quoted name or comment is never closed (it would run on into the query)"


class _Unclosed(Exception):
    """A string, quoted name or comment runs to the end of the text."""


def _closing(text: str, start: int, quote: str, *, backslash: bool, doubled: bool = True) -> int:
    """Return the index just after the quote closing the one at ``start`` (doubled stays in)."""
    i = start + 1
    while i < len(text):
        char = text[i]
        if backslash and char == "\\":
            i += 2
            continue
        if char == quote:
            if doubled and text.startswith(quote, i + 1):
                i += 2
                continue
            return i + 1
        i += 1
    raise _Unclosed


def _line_end(text: str, start: int, lexis: Lexis) -> int:
    r"""Return the index just after the ``--`` comment at ``start``: past its line break.

    Both engines end the comment at a carriage return as at a newline (``-- x\r) FROM other``
    goes on as SQL); on Spark a backslash right before a newline continues it.
    """
    i = start
    while True:
        found = _LINE_BREAK.search(text, i)
        if found is None:
            return len(text)
        end = found.start()
        if lexis.comment_continues and text[end] == "\n" and end > start and text[end - 1] == "\\":
            i = end + 1
            continue
        return end + 1


def _comment_end(text: str, start: int, *, hints: bool = False) -> int:
    """Return the index just after the nested ``/* */`` comment opened at ``start``.

    ``hints``: a ``/*+`` inside opens no nested comment (Spark's lexer: ``/* /*+ */`` ends).
    """
    depth, i = 0, start
    while i < len(text):
        if text.startswith("/*", i) and not (hints and depth and text.startswith("/*+", i)):
            depth, i = depth + 1, i + 2
        elif text.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    raise _Unclosed


def sql_tokens(text: str, lexis: Lexis, *, backslash: bool = False) -> list[Token]:
    """Return the tokens of ``text`` as ``lexis`` reads it (``backslash``: escapes in '...').

    Raises:
        ValueError: a string, quoted name or comment is never closed.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    hint = False
    try:
        while i < n:
            char = text[i]
            if char in lexis.spaces if lexis.spaces is not None else char.isspace():
                i += 1
            elif text.startswith("--", i):
                end = _line_end(text, i, lexis)
                tokens.append(("comment", text[i:end]))
                i = end
            elif lexis.hints and text.startswith("/*+", i):
                # a hint (SELECT /*+ REPARTITION(2) */ ...): its text is SQL to Spark
                tokens.append(("other", "/*+"))
                i += 3
                hint = True
            elif hint and text.startswith("*/", i):
                tokens.append(("other", "*/"))
                i += 2
                hint = False
            elif text.startswith("/*", i):
                end = _comment_end(text, i, hints=lexis.hints)
                tokens.append(("comment", text[i:end]))
                i = end
            elif lexis.raw_strings and char in "rR" and text[i + 1 : i + 2] in ("'", '"'):
                end = _closing(text, i + 1, text[i + 1], backslash=False, doubled=False)
                tokens.append(("other", text[i:end]))
                i = end
            elif char == "'":
                end = _closing(text, i, "'", backslash=backslash)
                tokens.append(("other", text[i:end]))
                i = end
            elif char in lexis.name_quotes:
                # Spark's lexer reads a backslash in "..." as an escape, as in '...'
                escapes = backslash and char == '"' and lexis.backslash_either_way
                end = _closing(text, i, char, backslash=escapes)
                tokens.append(("other", text[i:end]))
                i = end
            elif lexis.dollar_quotes and (tag := _DOLLAR_TAG.match(text, i)) is not None:
                end = text.find(tag.group(), tag.end())
                if end < 0:
                    raise _Unclosed
                end += len(tag.group())
                tokens.append(("other", text[i:end]))
                i = end
            elif (word := _WORD.match(text, i)) is not None:
                end = word.end()
                # E'...' takes backslash escapes; so does 1e'...' on PostgreSQL 14 and older
                # (the number 1, then E'...'), an error from 15 on
                read = word.group()
                if (
                    lexis.escape_strings
                    and (read in ("E", "e") or (read[0].isdigit() and read[-1] in "Ee"))
                    and text.startswith("'", end)
                ):
                    end = _closing(text, end, "'", backslash=True)
                tokens.append(("other", text[i:end]))
                i = end
            else:
                tokens.append(("operator", char))
                i += 1
        if hint:
            raise _Unclosed
    except _Unclosed:
        raise ValueError(f"{UNCLOSED}: {text[i : i + 20]!r}...") from None
    return tokens


def tokens_problem(tokens: Iterable[Token]) -> str | None:
    """Return why ``tokens`` are not one expression that stays inside its parentheses, or None.

    Mappings and filters are spliced into queries as ``(<text>)``. A ``;`` would start another
    statement (which DuckDB and PostgreSQL run), and a ``)`` closing a parenthesis the text did
    not open ends the expression early, the rest read as more of the query (``label) FROM
    other UNION SELECT (1`` audits other rows). Strings, quoted names and comments do not count.
    """
    depth = 0
    seen = False
    for kind, token in tokens:
        if kind == "comment":
            if token.startswith("--") and "\n" not in token and "\r" not in token:
                return "it ends in a -- comment, which would hide what follows it in a query"
            continue
        seen = True
        if kind != "operator":
            continue
        for char in token:
            if char == ";":
                return "a ';' ends it and starts another statement"
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth < 0:
                return "a ')' closes a parenthesis it did not open"
    if not seen:
        return "it is empty"
    if depth > 0:
        return "a '(' is never closed"
    return None


def expression_problem(text: str, lexis: Lexis) -> str | None:
    """Return why ``text`` is not one SQL expression of the ``lexis`` engine, or None.

    A string, quoted name or comment left open is refused too: it would run on into the query
    text after it (into a second mapping that closes it, and what follows that is SQL).
    """
    for backslash in (False, True) if lexis.backslash_either_way else (False,):
        try:
            tokens = sql_tokens(text, lexis, backslash=backslash)
        except ValueError as exc:
            return str(exc)
        problem = tokens_problem(tokens)
        if problem is None and lexis.rewritten:
            problem = _rewrite_problem(tokens)
        if problem is not None:
            return problem
    return None


def _rewrite_problem(tokens: Iterable[Token]) -> str | None:
    """Return why the rewriting of ``Lexis.rewritten`` would misread the tokens, or None."""
    for kind, token in tokens:
        if (kind == "comment" or token.startswith("`")) and ("'" in token or '"' in token):
            return (
                f"a quote inside a comment or a `name` ({token.strip()[:20]}) is read as "
                "the start of a string when the query is rewritten"
            )
        if token.startswith('"') and "\\" in token:
            return f'a backslash in a "name" ({token[:20]}) escapes the next character'
    return None


def not_one_expression(
    evidence: str,
    what: str,
    text: str,
    problem: str,
    *,
    location: Location | None,
    engine: str = "",
) -> EvidenceError:
    """Return the error for a mapping or filter that is not one SQL expression."""
    on = f" (engine {engine})" if engine else ""
    return EvidenceError(
        f"evidence {evidence!r}{on}: {what} ({text}) is not one SQL expression: {problem}",
        location=location,
        hint='write one expression over the evidence columns, e.g. "score >= 0.5"; a '
        "name or text holding ( ) ; or -- is quoted: \"my (col)\", 'a;b'",
    )


#: Words of an expression that are SQL, not a column (never offered a column that looks alike).
_KEYWORDS = frozenset(
    [
        "and",
        "or",
        "not",
        "is",
        "null",
        "in",
        "like",
        "ilike",
        "between",
        "case",
        "when",
        "then",
        "else",
        "end",
        "as",
        "true",
        "false",
        "cast",
        "distinct",
        "interval",
        "date",
        "timestamp",
        "int",
        "integer",
        "bigint",
        "double",
        "float",
        "varchar",
        "text",
        "boolean",
        "decimal",
        "numeric",
        "string",
    ]
)


def column_guess(text: str, names: Iterable[str], lexis: Lexis = DUCKDB_LEXIS) -> str:
    """Return `` (did you mean 'column'?)`` for a name of ``text`` that is no column but close.

    ``text`` is the SQL a role is mapped to (``two_year_recd``, ``CAST(scor AS INT)``); the
    first name in it (bare or quoted, not a function or keyword) that none of ``names``
    matches, even ignoring case, and that one of them is close to, is guessed; else ``""``.
    """
    names = list(names)
    folded = {name.casefold() for name in names}
    try:
        tokens = sql_tokens(text, lexis)
    except ValueError:
        return ""
    if len(tokens) > 1 and all(kind == "other" and _WORD.fullmatch(t) for kind, t in tokens):
        # a name with spaces, unquoted (label: Two Year Recid): read as SQL, meant as a name
        whole = did_you_mean(text.strip(), names) if text.strip().casefold() not in folded else ""
        if whole:
            return whole
    for i, (kind, token) in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if kind != "other" or following == ("operator", "("):
            continue
        if token[0] in lexis.name_quotes and token[-1] == token[0] and len(token) > 1:
            word = token[1:-1].replace(token[0] * 2, token[0])
        elif _WORD.fullmatch(token) and not token[0].isdigit():
            word = token
            if word.casefold() in _KEYWORDS:
                continue
        else:
            continue
        if word in names or word.casefold() in folded:
            continue
        guess = did_you_mean(word, names)
        if guess:
            return guess
    return ""


def keyword_column_hint(
    text: str, names: Iterable[str], reserved: frozenset[str], lexis: Lexis = DUCKDB_LEXIS
) -> str | None:
    """Return a hint when ``text`` names a column unquoted whose name is a reserved keyword.

    ``filter: "group <> 'c'"`` is a syntax error, although the evidence has a column
    ``group``: the hint gives the text with such names in double quotes. None when there are
    none.
    """
    folded = {name.casefold(): name for name in names}
    try:
        tokens = sql_tokens(text, lexis)
    except ValueError:
        return None
    fixed, cursor, words = [], 0, []
    for kind, token in tokens:
        at = text.find(token, cursor)
        if at < 0:  # pragma: no cover - tokens are substrings of the text, in order
            return None
        fixed.append(text[cursor:at])
        cursor = at + len(token)
        key = token.casefold()
        if kind == "other" and _WORD.fullmatch(token) and key in folded and key in reserved:
            words.append(folded[key])
            token = quote_ident(folded[key])
        fixed.append(token)
    if not words:
        return None
    rewritten = "".join(fixed) + text[cursor:]
    return (
        f"{', '.join(dict.fromkeys(words))} is also an SQL keyword: write the column in double "
        f"quotes: {rewritten}"
    )
