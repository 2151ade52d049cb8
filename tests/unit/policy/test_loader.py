"""Policy packs: valid ones load; every invalid one fails with file:line:column and a fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import POLICY, ROOT

from ethicsgate.errors import PolicyError
from ethicsgate.policy import FairnessRule, load_policy


def test_shipped_policies_load() -> None:
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        loaded = load_policy(path)
        assert loaded.pack.rules, path
        assert len(loaded.sha256) == 64


def test_valid_policy(write: Callable[[str, str], Path]) -> None:
    loaded = load_policy(write("p.yaml", POLICY))
    rule = loaded.pack.rules[0]
    assert isinstance(rule, FairnessRule)
    assert rule.assertions[0].metric == "selection_rate"
    assert rule.all_metrics == ["selection_rate", "false_positive_rate", "count"]
    assert rule.needs_label and rule.needs_prediction


BAD = [
    # (name, yaml text transform, expected message fragment, expected line, expected column)
    (
        "unknown_metric",
        ("selection_rate, false", "selection_rte, false"),
        "unknown metric 'selection_rte' (did you mean 'selection_rate'?)",
        14,
        15,
    ),
    (
        "unknown_field",
        ("    min_group_size: 1", "    min_group_sise: 1"),
        "unknown field 'min_group_sise'",
        15,
        5,
    ),
    ("bad_op", ('op: ">="', 'op: "=>"'), "rules.0.assert.0.op", 17, 56),
    (
        "bad_severity",
        ("    dataset: predictions", "    dataset: predictions\n    severity: fatal"),
        "rules.0.severity",
        12,
        15,
    ),
    ("unknown_kind", ("kind: fairness", "kind: fairnes"), "unknown rule kind 'fairnes'", 10, 11),
    (
        "planned_kind",
        ("kind: fairness", "kind: robustness"),
        "kind 'robustness' is not supported",
        10,
        11,
    ),
    (
        "unknown_reference",
        ("references: [eeoc]", "references: [eeoc, gdpr]"),
        "cites unknown reference 'gdpr'",
        12,
        24,
    ),
    ("bad_schema_version", ("schema_version: 1", "schema_version: 2"), "schema_version", 1, 17),
    ("missing_owner", ("owner: Tests\n", ""), "missing required field 'owner'", 1, 1),
    ("no_rules", (POLICY[POLICY.index("rules:") :], "rules: []\n"), "rules", 8, 8),
    ("yaml_syntax", ("title: Test policy", "title: [Test policy"), "invalid YAML", 5, 6),
    # an editor's tab (it was "found character that cannot start any token")
    ("tab_indent", ("    min_group_size: 1", "\tmin_group_size: 1"), "a tab character here", 15, 1),
    (
        "duplicate_key",
        ("owner: Tests", "owner: Tests\nowner: Other"),
        "duplicate key 'owner'",
        6,
        1,
    ),
    ("block_without_assert", (POLICY[POLICY.index("    assert:") :], ""), "could never fail", 9, 5),
    (
        "reference_mismatch",
        ("    min_group_size: 1", "    min_group_size: 1\n    reference: {sex: F}"),
        "reference group names ['sex']",
        9,
        5,
    ),
    ("infinite_threshold", ("value: 0.8", "value: .inf"), "finite", 17, 69),
    # numbers as an owner writes them (it was "unable to parse string as a number")
    (
        "percent_threshold",
        ("value: 0.8", "value: 80%"),
        "a percentage, but this value is a plain number\n  hint: write 0.8 for 80 %",
        17,
        69,
    ),
    (
        "decimal_comma",
        (
            '{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}',
            (
                'metric: selection_rate\n        aggregate: ratio\n        op: ">="\n'
                "        value: 0,8"
            ),
        ),
        "has a decimal comma",
        20,
        16,
    ),
    (
        "bad_rule_id",
        ("- id: parity", "- id: 'parity rule'"),
        "rules.0.id: an id may contain only letters",
        9,
        9,
    ),
]


@pytest.mark.parametrize(
    ("name", "edit", "fragment", "line", "column"), BAD, ids=[b[0] for b in BAD]
)
def test_invalid_policies_are_located(
    write: Callable[[str, str], Path],
    name: str,
    edit: tuple[str, str],
    fragment: str,
    line: int,
    column: int,
) -> None:
    text = POLICY.lstrip("\n")
    assert edit[0] in text, f"test edit {edit[0]!r} does not apply"
    path = write(f"{name}.yaml", text.replace(edit[0], edit[1], 1))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = info.value.diagnostics()
    assert fragment in message
    assert info.value.location is not None
    assert info.value.location.path == str(path)
    assert (info.value.location.line, info.value.location.column) == (line, column), message


def test_duplicate_rule_ids(write: Callable[[str, str], Path]) -> None:
    rules = POLICY[POLICY.index("  - id: parity") :]
    path = write("dup.yaml", POLICY + rules.replace("\n", "\n", 1))
    with pytest.raises(PolicyError, match="rule id 'parity' is used twice"):
        load_policy(path)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policy(tmp_path / "nope.yaml")
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    with pytest.raises(PolicyError, match="policy file is empty"):
        load_policy(tmp_path / "empty.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(PolicyError, match="must be a YAML mapping"):
        load_policy(tmp_path / "list.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(tmp_path / "bin.yaml")


def test_numbers_as_text_are_accepted(write: Callable[[str, str], Path]) -> None:
    path = write("p.yaml", POLICY.replace('version: "1"', "version: 1.0"))
    assert load_policy(path).pack.version == "1.0"
