"""A misspelled key is named where it is written, with the field it was meant to be."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import AUDIT, POLICY

from ethicsgate.audit import load_audit_spec
from ethicsgate.errors import AuditSpecError, PolicyError
from ethicsgate.policy import load_policy

TEXT = POLICY.lstrip("\n")
WAIVER = "waivers:\n  - {rule: parity, reason: r, approver: a, expires: 2030-01-01}\n"
CONTRACT = """  - id: contract
    kind: data_quality
    dataset: predictions
    expectations:
      - {expect: in_set, column: label, values: [0, 1]}
"""


def _error(write: Callable[[str, str], Path], text: str) -> PolicyError:
    path = write("typo.yaml", text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return info.value


def _edit(old: str, new: str, text: str = TEXT) -> str:
    assert old in text, f"test edit {old!r} does not apply"
    return text.replace(old, new, 1)


def test_misspelled_required_field_is_one_error_at_the_key_with_a_rename(
    write: Callable[[str, str], Path],
) -> None:
    error = _error(write, _edit("sensitive_features:", "sensitve_features:"))
    assert error.message == (
        "rules.0.sensitve_features: unknown field 'sensitve_features' "
        "(did you mean 'sensitive_features'?)"
    )
    assert "missing required field" not in error.diagnostics()
    assert error.hint == "rename it to sensitive_features"
    assert error.location is not None
    assert (error.location.line, error.location.column) == (13, 5)


@pytest.mark.parametrize(
    ("old", "new", "meant", "line"),
    [
        ("title: Test policy", "titel: Test policy", "title", 4),
        ("rules:", "rulez:", "rules", 8),
    ],
)
def test_misspelled_top_level_field_is_renamed(
    write: Callable[[str, str], Path], old: str, new: str, meant: str, line: int
) -> None:
    error = _error(write, _edit(old, new))
    typo = new.partition(":")[0]
    assert f"unknown field '{typo}' (did you mean '{meant}'?)" in error.message
    assert "missing required field" not in error.diagnostics()
    assert error.hint == f"rename it to {meant}"
    assert error.location is not None and (error.location.line, error.location.column) == (
        line,
        1,
    )


def test_misspelled_waiver_field_is_renamed(write: Callable[[str, str], Path]) -> None:
    error = _error(write, TEXT + WAIVER.replace("approver:", "approved_by:"))
    assert "unknown field 'approved_by' (did you mean 'approver'?)" in error.message
    assert "missing required field" not in error.diagnostics()
    assert error.hint == "rename it to approver"


def test_misspelled_optional_field_gets_a_suggestion(write: Callable[[str, str], Path]) -> None:
    contract = CONTRACT.replace("values:", "value_set:")
    error = _error(write, TEXT + contract)
    assert "unknown field 'value_set' (did you mean 'values'?)" in error.message
    assert error.hint is not None and "values" in error.hint
    assert "add the field" not in error.hint


def test_unknown_field_with_no_near_miss_lists_no_guess(write: Callable[[str, str], Path]) -> None:
    error = _error(write, _edit("    min_group_size: 1", "    min_group_size: 1\n    colour: red"))
    assert "unknown field 'colour'" in error.message
    assert "did you mean" not in error.message
    assert error.hint is not None and error.hint.startswith("remove the field")


def test_misspelled_kind_gets_a_suggestion(write: Callable[[str, str], Path]) -> None:
    error = _error(write, _edit("kind: fairness", "kind: fairnes"))
    assert "unknown rule kind 'fairnes' (did you mean 'fairness'?)" in error.message
    assert error.hint is not None and "fairness" in error.hint and "transparency" in error.hint


def test_misspelled_allowed_value_gets_a_suggestion(write: Callable[[str, str], Path]) -> None:
    error = _error(write, _edit("aggregate: ratio", "aggregate: ration"))
    assert "(did you mean 'ratio'?)" in error.message


def test_hint_belongs_to_the_first_error_shown(write: Callable[[str, str], Path]) -> None:
    # a missing field first, an unknown field that is no near miss of it second
    text = _edit("owner: Tests\n", "")
    text = _edit("    min_group_size: 1", "    min_group_size: 1\n    colour: red", text)
    error = _error(write, text)
    assert error.message.startswith("owner: missing required field 'owner'")
    assert error.hint is not None and error.hint.startswith("add the field")


def test_audit_spec_misspelled_field_is_renamed(write: Callable[[str, str], Path]) -> None:
    write("policy.yaml", TEXT)
    spec = AUDIT.lstrip("\n").replace("evidence:", "evidance:")
    with pytest.raises(AuditSpecError) as info:
        load_audit_spec(write("audit.yaml", spec))
    error = info.value
    assert "unknown field 'evidance' (did you mean 'evidence'?)" in error.message
    assert "missing required field" not in error.diagnostics()
    assert error.hint == "rename it to evidence"
    assert error.location is not None and (error.location.line, error.location.column) == (4, 1)


def test_audit_spec_misspelled_evidence_field_gets_a_suggestion(
    write: Callable[[str, str], Path],
) -> None:
    write("policy.yaml", TEXT)
    spec = AUDIT.lstrip("\n") + "    fitler: \"group <> 'x'\"\n"
    with pytest.raises(AuditSpecError) as info:
        load_audit_spec(write("audit.yaml", spec))
    assert "unknown field 'fitler' (did you mean 'filter'?)" in info.value.message
    assert info.value.hint is not None and "audit" in info.value.hint


def test_several_misspelled_keys_are_one_rename_hint(write: Callable[[str, str], Path]) -> None:
    text = _edit("title: Test policy", "titel: Test policy")
    error = _error(write, _edit("owner:", "ownr:", text))
    assert "unknown field 'ownr' (did you mean 'owner'?)" in error.message
    assert error.hint == "rename titel to title, ownr to owner"


@pytest.mark.parametrize(
    ("review", "path", "at"),
    [
        # found by QA: 'rules.0.review.ReviewOptions.onn', the union member's name in the path
        ("{onn: 2d}", "rules.0.review.onn: unknown field 'onn' (did you mean 'on'?)", "onn"),
        ("{sla: soon}", "rules.0.review.sla: 'soon' is not a duration", "soon"),
        ("5", "rules.0.review: Input should be a valid boolean", "5"),
    ],
)
def test_a_union_member_name_is_no_part_of_the_field_path(
    write: Callable[[str, str], Path], review: str, path: str, at: str
) -> None:
    text = _edit("    references: [eeoc]\n", f"    references: [eeoc]\n    review: {review}\n")
    error = _error(write, text)
    shown = error.diagnostics()
    assert error.message.startswith(path), shown
    assert "ReviewOptions." not in shown and "review.bool" not in shown
    assert error.location is not None and error.location.line is not None
    line = text.splitlines()[error.location.line - 1]
    assert line[(error.location.column or 1) - 1 :].startswith(at)  # at the key or value
