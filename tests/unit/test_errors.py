"""The shared pieces of error messages: the closest choice to what was typed."""

from __future__ import annotations

from ethicsgate.errors import close_match, did_you_mean


def test_the_closest_choice_is_offered() -> None:
    assert did_you_mean("montth", ["day", "week", "month"]) == " (did you mean 'month'?)"
    assert did_you_mean("zzz", ["day", "week", "month"]) == ""


def test_a_text_longer_than_a_typo_is_not_compared() -> None:
    # a web page's query value (?audit=...) can be any length: difflib's time grows with it
    # times each choice, so text longer than a typo is not compared
    ids = [f"audit-{i:05d}" for i in range(20_000)]
    assert close_match("audit-0000" + "x" * 10_000, ids) is None
    assert close_match("audit-0000" + "x" * 300, ["audit-0000" + "x" * 301]) is None
    assert close_match("audit-1234x", ids) is not None
