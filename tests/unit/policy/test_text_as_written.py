"""A text field holds an unquoted scalar exactly as written, never the number YAML made of it.

YAML reads ``1.10`` as the float 1.1, ``0100`` as the (YAML 1.1 octal) int 64, ``1e3`` as 1000.0
and ``yes`` as True; a version, a group value or a title written that way means the text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import AUDIT, POLICY

import ethicsgate
from ethicsgate.audit import load_audit_spec
from ethicsgate.errors import PolicyError
from ethicsgate.policy import FairnessRule, load_policy
from ethicsgate.policy.models import HumanReviewRequiredRule

TEXT = POLICY.lstrip("\n")


def _policy(write: Callable[[str, str], Path], *edits: tuple[str, str]) -> Path:
    text = TEXT
    for old, new in edits:
        assert old in text, f"test edit {old!r} does not apply"
        text = text.replace(old, new, 1)
    return write("policy.yaml", text)


@pytest.mark.parametrize("written", ["1.10", "1.0", "2", "0100", "1e3", "1_000", "1:30", ".inf"])
def test_version_keeps_the_number_as_written(
    write: Callable[[str, str], Path], written: str
) -> None:
    path = _policy(write, ('version: "1"', f"version: {written}"))
    assert load_policy(path).pack.version == written


@pytest.mark.parametrize("written", ["yes", "No", "on", "true", "FALSE"])
def test_yaml_11_booleans_in_a_text_field_stay_the_word_written(
    write: Callable[[str, str], Path], written: str
) -> None:
    path = _policy(write, ('version: "1"', f"version: {written}"))
    assert load_policy(path).pack.version == written


def test_reference_group_value_keeps_its_leading_zero(write: Callable[[str, str], Path]) -> None:
    path = _policy(
        write,
        ("sensitive_features: [group]", "sensitive_features: [region]"),
        ("    min_group_size: 1", "    min_group_size: 1\n    reference: {region: 0100}"),
    )
    rule = load_policy(path).pack.rules[0]
    assert isinstance(rule, FairnessRule)
    assert rule.reference == {"region": "0100"}


def test_plain_text_fields_and_list_items_keep_what_was_written(
    write: Callable[[str, str], Path],
) -> None:
    path = write(
        "policy.yaml",
        """
        schema_version: 1
        id: p
        version: 2.10
        title: 2024
        owner: yes
        rules:
          - id: reviewed
            kind: oversight
            check: human_review_required
            dataset: decisions
            severity: info
            adverse: {outcomes: [yes, 0100, 1.50]}
            automated_reviewers: [no, 7]
        """,
    )
    pack = load_policy(path).pack
    assert (pack.version, pack.title, pack.owner) == ("2.10", "2024", "yes")
    rule = pack.rules[0]
    assert isinstance(rule, HumanReviewRequiredRule) and rule.adverse is not None
    assert list(rule.adverse.outcomes) == ["yes", "0100", "1.50"]
    assert list(rule.automated_reviewers) == ["no", "7"]


def test_anchored_scalar_keeps_its_text_wherever_it_is_used(
    write: Callable[[str, str], Path],
) -> None:
    path = _policy(
        write,
        ('version: "1"', "version: &v 1.10"),
        ("title: Test policy", "title: *v"),
    )
    pack = load_policy(path).pack
    assert (pack.version, pack.title) == ("1.10", "1.10")


def test_numeric_fields_still_read_numbers(write: Callable[[str, str], Path]) -> None:
    path = _policy(
        write,
        ('version: "1"', "version: 1.10"),
        ("min_group_size: 1", "min_group_size: 0100"),
        ("value: 0.8}", "value: 0.80}"),
    )
    rule = load_policy(path).pack.rules[0]
    assert isinstance(rule, FairnessRule)
    assert rule.min_group_size == 64 and type(rule.min_group_size) is int  # YAML's own number
    assert rule.assertions[0].value == 0.8 and type(rule.assertions[0].value) is float


def test_a_key_keeps_what_was_written(write: Callable[[str, str], Path]) -> None:
    path = _policy(
        write,
        ("sensitive_features: [group]", "sensitive_features: [0100]"),
        ("    min_group_size: 1", "    min_group_size: 1\n    reference: {0100: yes}"),
    )
    rule = load_policy(path).pack.rules[0]
    assert isinstance(rule, FairnessRule)
    assert list(rule.sensitive_features) == ["0100"]
    assert rule.reference == {"0100": "yes"}


@pytest.mark.parametrize("block", [False, True])
def test_a_field_named_on_is_the_field_not_a_boolean_key(
    write: Callable[[str, str], Path], block: bool
) -> None:
    # YAML 1.1 reads the key `on` as true; docs/review-queue.md writes `review: {on: [fail]}`
    review = "\n      sla: 24h\n      on: [fail]" if block else " {sla: 24h, on: [fail]}"
    path = _policy(write, ("    min_group_size: 1", f"    min_group_size: 1\n    review:{review}"))
    rule = load_policy(path).pack.rules[0]
    assert isinstance(rule, FairnessRule)
    assert not isinstance(rule.review, bool) and rule.review is not None
    assert list(rule.review.on) == ["fail"]


def test_a_misspelt_field_yaml_reads_as_no_text_is_named_as_written(
    write: Callable[[str, str], Path],
) -> None:
    path = _policy(
        write, ("    min_group_size: 1", "    min_group_size: 1\n    review: {off: [fail]}")
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert "unknown field 'off'" in caught.value.message
    assert "Keys should be strings" not in caught.value.message
    # the mapping is review's options, not the boolean `review: true`: one problem, not two
    assert "valid boolean" not in caught.value.message


def test_a_merged_value_keeps_what_was_written(write: Callable[[str, str], Path]) -> None:
    path = _policy(
        write,
        ("sensitive_features: [group]", "sensitive_features: [region]"),
        ("    min_group_size: 1", "    min_group_size: 1\n    reference: {<<: {region: 0100}}"),
    )
    rule = load_policy(path).pack.rules[0]
    assert isinstance(rule, FairnessRule)
    assert rule.reference == {"region": "0100"}


def test_a_number_tagged_so_is_refused_with_the_fix(write: Callable[[str, str], Path]) -> None:
    # an explicit tag asks for the number: its text is not kept, and the field is text
    path = _policy(write, ('version: "1"', 'version: !!float "1.10"'))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert "version: this value is text, but YAML reads it as a number (1.1)" in str(info.value)
    assert info.value.hint is not None and "quote" in info.value.hint
    assert info.value.location is not None
    assert (info.value.location.line, info.value.location.column) == (3, 10)


def test_the_report_pins_the_version_as_written(write: Callable[[str, str], Path]) -> None:
    policy = _policy(write, ('version: "1"', "version: 1.10"))
    rows = "group,label,prediction\n" + "a,1,1\na,0,0\n" * 5 + "b,1,1\nb,0,0\n" * 5
    data = write("data.csv", rows)
    report = ethicsgate.audit(policy, {"predictions": {"path": str(data)}})
    assert report.result.audit.policy.version == "1.10"


def test_audit_spec_text_fields_keep_what_was_written(write: Callable[[str, str], Path]) -> None:
    write("policy.yaml", TEXT)
    write("data.csv", "group,label,prediction\na,1,1\n")
    spec = AUDIT.lstrip("\n").replace("id: test-audit", "id: 2024\ntitle: 1.10\ndescription: no")
    loaded = load_audit_spec(write("audit.yaml", spec))
    assert (loaded.spec.id, loaded.spec.title, loaded.spec.description) == ("2024", "1.10", "no")


def test_audit_spec_column_name_keeps_what_was_written(
    write: Callable[[str, str], Path],
) -> None:
    write("policy.yaml", TEXT)
    spec = AUDIT.lstrip("\n") + "    columns: {label: 0100, prediction: 1.10}\n"
    loaded = load_audit_spec(write("audit.yaml", spec))
    columns = loaded.spec.evidence["predictions"].columns
    assert (columns["label"], columns["prediction"]) == ("0100", "1.10")
