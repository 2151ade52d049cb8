"""The default disclosure and hand-off patterns against their phrase corpus, in the audit's engine.

tests/assets/phrase-corpus.yaml lists, per language, what must be recognised and what must not;
the patterns are matched exactly as an audit matches them (DuckDB's RE2, case-insensitive, via
the engine's dialect), so an RE2-only difference (``\\b`` beside an accented letter) shows here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from ethicsgate.engines.duckdb.dialect import DIALECT
from ethicsgate.evidence.sql import sql_literal
from ethicsgate.policy.models import (
    DEFAULT_DENIAL_PATTERNS,
    DEFAULT_DISCLOSURE_PATTERNS,
    DEFAULT_IDENTITY_QUESTION_PATTERNS,
    DEFAULT_REFERRAL_PATTERNS,
    DEFAULT_REMINDER_PATTERNS,
    DEFAULT_REQUEST_PATTERNS,
    DEFAULT_RISK_PATTERNS,
)

CORPUS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "assets" / "phrase-corpus.yaml").read_text("utf-8")
)
PATTERNS = {
    "disclosure": DEFAULT_DISCLOSURE_PATTERNS,
    "handoff": DEFAULT_REQUEST_PATTERNS,
    "identity_question": DEFAULT_IDENTITY_QUESTION_PATTERNS,
    "break_reminder": DEFAULT_REMINDER_PATTERNS,
    "self_harm": DEFAULT_RISK_PATTERNS,
    "crisis_referral": DEFAULT_REFERRAL_PATTERNS,
}
LANGUAGES = {"en", "de", "fr", "es", "it", "nl", "pt"}
#: The companion-chatbot kinds (California SB 243) cover California's two most spoken languages.
CALIFORNIA = {"en", "es"}
KIND_LANGUAGES = {
    kind: CALIFORNIA if kind in ("break_reminder", "self_harm", "crisis_referral") else LANGUAGES
    for kind in PATTERNS
}


CON = duckdb.connect()


def matching(text: str, patterns: tuple[str, ...]) -> list[str]:
    """Return the patterns that match ``text`` as the audit's SQL matches it (one query)."""
    columns = ", ".join(DIALECT.regexp_match(sql_literal(text), p) for p in patterns)
    row = CON.execute(f"SELECT {columns}").fetchone()
    assert row is not None
    return [pattern for pattern, hit in zip(patterns, row, strict=True) if hit]


def cases(expected: str) -> list[Any]:
    return [
        pytest.param(kind, text, id=f"{kind}-{lang}-{index}")
        for kind in PATTERNS
        for lang, texts in CORPUS[kind][expected].items()
        for index, text in enumerate(texts)
    ]


def test_corpus_covers_every_language() -> None:
    for kind in PATTERNS:
        assert set(CORPUS[kind]["match"]) == KIND_LANGUAGES[kind]
        assert set(CORPUS[kind]["no_match"]) == KIND_LANGUAGES[kind]


def recognised(kind: str, text: str) -> bool:
    """Return whether the audit reads ``text`` as a phrase of ``kind``: a disclosure matches a
    disclosure pattern and no denial pattern ("No soy un robot" holds "soy un robot")."""
    found = bool(matching(text, PATTERNS[kind]))
    if kind == "disclosure":
        return found and not matching(text, DEFAULT_DENIAL_PATTERNS)
    return found


@pytest.mark.parametrize(("kind", "text"), cases("match"))
def test_phrase_is_recognised(kind: str, text: str) -> None:
    assert recognised(kind, text), f"no default {kind} pattern matches {text!r}"


@pytest.mark.parametrize(("kind", "text"), cases("no_match"))
def test_phrase_is_not_recognised(kind: str, text: str) -> None:
    assert not recognised(kind, text)


@pytest.mark.parametrize("pattern", DEFAULT_DENIAL_PATTERNS)
def test_every_denial_pattern_is_needed(pattern: str) -> None:
    """Each denial pattern takes out at least one phrase a disclosure pattern would count."""
    texts = [t for texts in CORPUS["disclosure"]["no_match"].values() for t in texts]
    assert any(
        matching(text, DEFAULT_DISCLOSURE_PATTERNS) and matching(text, (pattern,)) for text in texts
    ), pattern


@pytest.mark.parametrize(
    ("kind", "pattern"), [(kind, p) for kind, patterns in PATTERNS.items() for p in patterns]
)
def test_every_pattern_is_needed(kind: str, pattern: str) -> None:
    """Each default pattern recognises at least one phrase of the corpus (no dead patterns)."""
    texts = [t for texts in CORPUS[kind]["match"].values() for t in texts]
    assert any(matching(text, (pattern,)) for text in texts), pattern
