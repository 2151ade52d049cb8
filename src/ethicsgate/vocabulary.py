"""The words ethicsgate shows for statuses, comparison operators and groups, defined once.

Every output (rule messages, the report, the CI outputs, public statements, the terminal)
takes its words from here, so a status or a group reads the same everywhere. Where two
outputs word a thing differently on purpose, the table holds both forms side by side.

This module is on the ground floor: it imports nothing from ethicsgate, so every layer,
``rules/`` included, can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, NamedTuple

__all__ = [
    "ALL_PEOPLE",
    "EVERYONE",
    "MISSING",
    "OPERATORS",
    "OP_WORDS",
    "OP_WORDS_SHORT",
    "OVERALL",
    "PUBLIC_STATUS_WORDS",
    "STATUSES",
    "STATUS_ICONS",
    "STATUS_WORDS",
    "TEST_WORDS",
    "p_value_words",
    "OperatorWords",
    "PublicStatus",
    "StatusWords",
    "group_label",
    "message_group_label",
    "unknown_words",
]

PublicStatus = Literal["met", "not_met", "not_met_warning", "not_evaluated", "waived", "skipped"]


class StatusWords(NamedTuple):
    """How a rule status is shown: in reports and CI outputs, and to the public."""

    code: str  # "FAIL"
    word: str  # "Failed"
    icon: str  # "✘"
    public: PublicStatus  # "not_met", the status of a public statement
    public_word: str  # "Not met"


#: Every rule status (``pass | fail | warn | error | skipped | waived``) in words.
STATUSES: dict[str, StatusWords] = {
    "pass": StatusWords("PASS", "Passed", "✔", "met", "Met"),
    "fail": StatusWords("FAIL", "Failed", "✘", "not_met", "Not met"),
    "warn": StatusWords(
        "WARN",
        "Failed (warning only)",
        "⚠",
        "not_met_warning",
        "Not met (a warning, not one of our must-meet requirements)",
    ),
    "error": StatusWords(
        "ERROR", "Could not be evaluated", "?", "not_evaluated", "Could not be checked"
    ),
    "skipped": StatusWords("SKIPPED", "Skipped", "–", "skipped", "Not checked"),
    "waived": StatusWords(
        "WAIVED",
        "Failed, but waived",
        "~",
        "waived",
        "Not met, with an approved and time-limited exception",
    ),
}
#: status -> (code, words, icon), as reports, CI outputs and the terminal show it.
STATUS_WORDS: dict[str, tuple[str, str, str]] = {
    status: (w.code, w.word, w.icon) for status, w in STATUSES.items()
}
#: status -> icon.
STATUS_ICONS: dict[str, str] = {status: w.icon for status, w in STATUSES.items()}
#: status -> (public status, words, icon), as public transparency statements show it.
PUBLIC_STATUS_WORDS: dict[str, tuple[PublicStatus, str, str]] = {
    status: (w.public, w.public_word, w.icon) for status, w in STATUSES.items()
}


class OperatorWords(NamedTuple):
    """A comparison operator in words: terse in rule messages, plain in prose."""

    short: str  # "above", in a rule's message: "not above 0.1"
    prose: str  # "more than", in the report and statements: "required: more than 0.8"


#: Every comparison operator of an assertion in words.
OPERATORS: dict[str, OperatorWords] = {
    ">=": OperatorWords("at least", "at least"),
    ">": OperatorWords("above", "more than"),
    "<=": OperatorWords("at most", "at most"),
    "<": OperatorWords("below", "less than"),
}
#: op -> words in rule messages (``report.json``): "above", "below".
OP_WORDS_SHORT: dict[str, str] = {op: w.short for op, w in OPERATORS.items()}
#: op -> words in the report's and statements' prose: "more than", "less than".
OP_WORDS: dict[str, str] = {op: w.prose for op, w in OPERATORS.items()}

#: The test of "same rate as the reference" (``ComparisonTest.method``) in words.
TEST_WORDS: dict[str, str] = {
    "z_test": "two-proportion z-test",
    "fisher_exact": "Fisher's exact test",
}


def p_value_words(p: float) -> str:
    """Return a p-value as reports and review items write it: ``p = 0.0123``, ``p < 0.0001``."""
    return "p < 0.0001" if p < 1e-4 else f"p = {p:.4g}"


#: A group's value when the evidence has none.
MISSING = "(missing)"
#: The label of no group (the whole population) in the report's tables and charts.
ALL_PEOPLE = "all people (overall)"
#: The label of no group in the report's detail tables (LL144, intervals, scores).
EVERYONE = "everyone"
#: The label of no group in rule messages (and the ``reference: overall`` policy keyword).
OVERALL = "overall"


def group_label(
    group: Mapping[str, str | None] | None, *, everyone: str = ALL_PEOPLE, equals: str = " = "
) -> str:
    """Return a group as people read it: ``race = Caucasian, sex = Male``.

    Args:
        group: feature -> value (``None`` for a missing value), or None for everyone.
        everyone: the label of no group.
        equals: what stands between a feature and its value.

    Returns:
        The label.
    """
    if group is None:
        return everyone
    return ", ".join(f"{k}{equals}{MISSING if v is None else v}" for k, v in group.items())


def message_group_label(group: Mapping[str, str | None] | None) -> str:
    """Return a group as rule messages write it: ``race=Caucasian, sex=Male`` or ``overall``."""
    return group_label(group, everyone=OVERALL, equals="=")


def unknown_words(unknown_values: Iterable[object]) -> str:
    """Return a rule's unknown values as messages and reports write them.

    ``Unknown, Decline to state or missing``: a missing value is unknown too where a rule names
    ``unknown_values``.
    """
    return ", ".join(str(v) for v in unknown_values) + " or missing"
