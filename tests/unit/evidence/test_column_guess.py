"""The closest column to a misspelt name in a mapping that does not evaluate."""

from __future__ import annotations

import pytest

from ethicsgate.evidence.sql import DUCKDB_LEXIS, POSTGRESQL_LEXIS, SPARK_LEXIS, Lexis, column_guess

COLUMNS = ["entity_id", "score", "label_value", "two_year_recid", "race", "Two Year Recid"]


@pytest.mark.parametrize(
    ("mapped", "guess"),
    [
        ("two_year_recd", "two_year_recid"),
        ('"two_year_recd"', "two_year_recid"),
        ("CAST(two_year_recd AS INT)", "two_year_recid"),
        ("scor > 1", "score"),
        ("CASE WHEN rac = 'x' THEN 1 ELSE 0 END", "race"),
        ("Two Year Recd", "Two Year Recid"),  # a name with spaces, unquoted
        # nothing close, or the names are columns (the SQL is wrong elsewhere): no guess
        ("label_value / 0", None),
        ("LABEL_VALUE + 'scor'", None),
        ("coalesce(nothing_like_it, 1)", None),
        ("'unclosed", None),
    ],
)
def test_a_name_close_to_a_column_is_guessed(mapped: str, guess: str | None) -> None:
    said = column_guess(mapped, COLUMNS)
    assert said == (f" (did you mean {guess!r}?)" if guess else "")


@pytest.mark.parametrize("lexis", [DUCKDB_LEXIS, POSTGRESQL_LEXIS, SPARK_LEXIS])
def test_each_engine_reads_its_quoted_names(lexis: Lexis) -> None:
    quoted = "`two_year_recd`" if lexis is SPARK_LEXIS else '"two_year_recd"'
    assert column_guess(quoted, COLUMNS, lexis) == " (did you mean 'two_year_recid'?)"
