"""``assert_policy(rules=...)``: the rule ids are checked before any evidence is read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.cli.test_audit_cli import FAILING, PASSING
from tests.conftest import AUDIT, POLICY

from ethicsgate.errors import PolicyError
from ethicsgate.policy import load_policy
from ethicsgate.testing import assert_policy

#: parity (block) and a second blocking rule, strict, that the failing rows also fail
TWO_RULES = (
    POLICY
    + """
  - id: strict
    kind: fairness
    dataset: predictions
    sensitive_features: [group]
    metrics: [selection_rate]
    min_group_size: 1
    assert:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.99}
"""
)


@pytest.fixture
def policy(write: Callable[[str, str], Path]) -> Path:
    return write("policy.yaml", TWO_RULES)


def _unreadable(tmp_path: Path) -> dict[str, dict[str, str]]:
    # evidence that cannot be read: any error about it means the audit ran
    return {"predictions": {"path": str(tmp_path / "missing.csv")}}


def test_unknown_rule_id_is_a_policy_error_before_the_evidence_is_read(
    policy: Path, tmp_path: Path
) -> None:
    with pytest.raises(PolicyError) as info:
        assert_policy(policy, _unreadable(tmp_path), rules=["parityy"])
    error = info.value
    assert "no rule 'parityy'" in error.message
    assert "(did you mean 'parity'?)" in error.message
    assert error.location is not None and error.location.path == str(policy)
    assert error.hint is not None and "parity" in error.hint and "strict" in error.hint


def test_unknown_rule_id_of_a_loaded_policy_names_its_file(policy: Path, tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no rule 'nope'") as info:
        assert_policy(load_policy(policy), _unreadable(tmp_path), rules=["parity", "nope"])
    assert info.value.location is not None and info.value.location.path == str(policy)


def test_unknown_rule_id_of_an_audit_spec_names_its_policy_file(
    policy: Path, write: Callable[[str, str], Path]
) -> None:
    spec = write("audit.yaml", AUDIT)  # its data.csv does not exist: it must not be read
    with pytest.raises(PolicyError, match="no rule 'parityy'") as info:
        assert_policy(spec, rules="parityy")
    assert info.value.location is not None and info.value.location.path == str(policy)


def test_empty_rules_are_refused_before_the_evidence_is_read(policy: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="checks no rule"):
        assert_policy(policy, _unreadable(tmp_path), rules=[])


def test_rules_that_are_no_ids_are_refused(policy: Path, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="rule ids"):
        assert_policy(policy, _unreadable(tmp_path), rules=[1])  # type: ignore[list-item]


def test_one_rule_id_as_text_is_that_rule(policy: Path, write: Callable[[str, str], Path]) -> None:
    failing = {"predictions": {"path": str(write("failing.csv", FAILING))}}
    with pytest.raises(AssertionError, match="parity") as info:
        assert_policy(policy, failing, rules="parity")
    assert "strict" not in str(info.value)
    passing = {"predictions": {"path": str(write("passing.csv", PASSING))}}
    report = assert_policy(policy, passing, rules="parity")
    assert report.rule("parity").status == "pass"


def test_rules_narrow_the_check_to_the_ids_given(
    policy: Path, write: Callable[[str, str], Path]
) -> None:
    # 0.5 selection ratio: parity (>= 0.8) fails, so checking strict alone must fail on strict
    failing = {"predictions": {"path": str(write("failing.csv", FAILING))}}
    with pytest.raises(AssertionError) as info:
        assert_policy(policy, failing, rules=("strict",))
    assert "strict" in str(info.value) and "parity [" not in str(info.value)
