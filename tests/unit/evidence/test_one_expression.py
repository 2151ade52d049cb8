"""The check that a mapping or filter is one SQL expression, as each engine quotes SQL.

Mappings and filters are spliced into queries as ``(<text>)``; the check refuses text that adds
a statement, closes that parenthesis, or leaves a string, quoted name or comment open (which
would run on into the query text after it). Strings, names and comments are read as the
engine reads them: PostgreSQL's ``E'...'`` and ``$tag$...$tag$``, Spark's backticks.
"""

from __future__ import annotations

import pytest

from ethicsgate.engines.duckdb.sqltext import expression_problem as duckdb_problem
from ethicsgate.evidence.sql import POSTGRESQL_LEXIS, SPARK_LEXIS, Lexis, expression_problem

ENGINES = {"postgresql": POSTGRESQL_LEXIS, "spark": SPARK_LEXIS}


def _problem(engine: str, text: str) -> str | None:
    if engine == "duckdb":
        return duckdb_problem(text)
    return expression_problem(text, ENGINES[engine])


ALL = ["duckdb", "postgresql", "spark"]

ONE_EXPRESSION = [
    ("score >= 0.5", ALL),
    ("coalesce(x, 'a;b') <> ')'", ALL),
    ('"odd (name" + 1', ALL),
    ("f(a, (b)) -- a note\n", ALL),
    ("a /* ; ) */ + b", ALL),
    ("/* /* nested ) */ still a comment ; */ x", ALL),
    ("'it''s ; )'", ALL),
    ("$$a ; ) b$$ = x", ["duckdb", "postgresql"]),
    ("$q$ it's ) $q$ = x", ["duckdb", "postgresql"]),
    ("E'it\\'s ; )' = x", ["duckdb", "postgresql"]),
    ("a$b + $1", ["postgresql"]),
    ("U&'d\\0061t' = x", ["postgresql"]),
    ("`odd ) name` + `a``b;`", ["spark"]),
    ("x rlike '\\\\d+'", ALL),
]

NOT_ONE = [
    ("label); DROP TABLE t; --", ALL, "')' closes a parenthesis"),
    ("label; DROP TABLE t", ALL, "';' ends it"),
    ("x) OR (1=1", ALL, "')' closes a parenthesis"),
    ("label) FROM other UNION SELECT (1", ALL, "')' closes a parenthesis"),
    ("(label", ALL, "'(' is never closed"),
    ("label -- the rest of the line", ALL, "-- comment"),
    ("x'", ALL, "never closed"),
    ('"label', ALL, "never closed"),
    ("label /* the rest", ALL, "never closed"),
    ("/* /* */ label", ["postgresql", "spark"], "never closed"),
    ("E'a\\'' ; x", ["duckdb", "postgresql"], "';' ends it"),
    ("$$ ; $$", ["spark"], "';' ends it"),
    ("$q$ ) $q", ["postgresql"], "never closed"),
    ("`a ; `", ["postgresql"], "';' ends it"),
    ("`label", ["spark"], "never closed"),
    ("'a\\'; DROP TABLE t; SELECT ''", ["spark"], "';' ends it"),
    ("x -- a note \\\n'\n) AS v FROM other --'", ["spark"], "')' closes a parenthesis"),
    # both engines end a -- comment at a carriage return too: what follows it is SQL
    ("s --\r) FROM secret UNION SELECT (label\n", ALL, "')' closes a parenthesis"),
    ("label --\r); CREATE TABLE pwn AS SELECT (1\n", ALL, "')' closes a parenthesis"),
    # a no-break space is a letter of a name to PostgreSQL: "\u00a0$q$" opens no dollar quote
    (
        "(SELECT 1 \u00a0$q$)) FROM t; CREATE TABLE pwn AS SELECT ((SELECT 1 -- $q$\n)",
        ["postgresql"],
        "')' closes a parenthesis",
    ),
    # Spark's lexer reads a backslash in "..." as an escape
    ('(SELECT 1 AS "\\" + ")) FROM secret UNION SELECT ((s --"\n)', ["spark"], "backslash"),
    # the rewriting of '...' for Spark (spark_sql) knows no comments or backquoted names
    ("x -- it's\n + 1", ["spark"], "a quote inside"),
    ("x /* it's */ + 1", ["spark"], "a quote inside"),
    ("`it's` + 1", ["spark"], "a quote inside"),
    # a raw string holds its backslash: the string after it is read with its escapes
    ("r'\\' = '\\' || ') FROM secret UNION SELECT (s --'\n", ["spark"], "')' closes"),
    # a hint's text is SQL to Spark, and "/*+" opens no comment inside one
    ("(SELECT /*+ x; */ 1)", ["spark"], "';' ends it"),
    ("/* /*+ */ ) FROM secret UNION SELECT ( */ 1", ["spark"], "')' closes"),
    # PostgreSQL 14 and older read 1e'...' as the number 1 and an E'' string
    ("1e'\\' || ') FROM secret UNION SELECT (s --'\n", ["duckdb", "postgresql"], "')' closes"),
    # ... and 1q$q$ as the number 1 and the name q$q$ (no dollar quote)
    ("(SELECT 1q$q$)) FROM secret UNION SELECT ((s -- $q$\n)", ["postgresql"], "')' closes"),
    ("", ["postgresql", "spark"], "empty"),
    ("-- only a comment\n", ALL, "empty"),
]


@pytest.mark.parametrize(("text", "engines"), ONE_EXPRESSION)
def test_one_expression_passes_whatever_its_strings_names_and_comments_hold(
    text: str, engines: list[str]
) -> None:
    for engine in engines:
        assert _problem(engine, text) is None, engine


@pytest.mark.parametrize(("text", "engines", "why"), NOT_ONE)
def test_text_that_is_not_one_expression_is_refused(
    text: str, engines: list[str], why: str
) -> None:
    for engine in engines:
        problem = _problem(engine, text)
        assert problem is not None and why in problem, (engine, problem)


def test_two_mappings_cannot_join_across_an_open_quote() -> None:
    """``x'`` opens a string that a second mapping closes; what follows that is SQL."""
    query = "SELECT (x'), (''), 1; DROP TABLE t; SELECT ('') FROM s"
    assert "DROP" in query  # the query the two mappings below would build
    for engine in ALL:
        assert "never closed" in (_problem(engine, "x'") or ""), engine


def test_a_backslash_is_read_both_ways_where_settings_decide() -> None:
    """Spark reads ``\\'`` as an escaped quote, or not (escapedStringLiterals): both refused."""
    either = Lexis("test", backslash_either_way=True)
    exact = Lexis("test")
    text = "'\\' || '; DROP TABLE t; SELECT 1 --'"  # escaped: a string, then SQL
    assert expression_problem(text, exact) is None
    assert expression_problem(text, either) is not None
