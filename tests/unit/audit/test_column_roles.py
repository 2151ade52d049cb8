"""An audit spec's ``columns:`` keys: names a policy gives and plug-in kinds' roles stay allowed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from ethicsgate.audit.spec import load_audit_spec
from ethicsgate.errors import AuditSpecError
from ethicsgate.policy.models import PolicyPack, RuleBase
from ethicsgate.rules.kind import AuditInputs, KindBase
from ethicsgate.rules.registry import register, unregister
from ethicsgate.rules.results import RuleResult

POLICY = """
schema_version: 1
id: p
version: "1"
title: t
owner: o
rules:
  - id: r
    title: t
    dataset: d
{rule}
"""

AUDIT = """
schema_version: 1
id: a
policy: policy.yaml
evidence:
  d:
    path: d.csv
    columns:
      {key}: x
"""


@pytest.mark.parametrize("column", ["zip-code", "age.band", "2nd_score"])
def test_an_expectation_column_any_identifier_names_may_be_mapped(
    write: Callable[[str, str], Path], column: str
) -> None:
    # found in review: zip-code is a valid Identifier, but only [A-Za-z_]\w* names the policy
    # gave counted, so the spec was refused with "no column policy 'p' names"
    rule = (
        f"    kind: data_quality\n    expectations:\n      - {{expect: not_null, column: {column}}}"
    )
    write("policy.yaml", POLICY.format(rule=rule))
    loaded = load_audit_spec(write("audit.yaml", AUDIT.format(key=column)))
    assert loaded.spec.evidence["d"].columns == {column: "x"}


def test_a_misspelt_role_is_still_refused(write: Callable[[str, str], Path]) -> None:
    rule = "    kind: data_quality\n    expectations:\n      - {expect: not_null, column: zip-code}"
    write("policy.yaml", POLICY.format(rule=rule))
    with pytest.raises(AuditSpecError, match="maps 'lable'.*did you mean 'label'"):
        load_audit_spec(write("audit.yaml", AUDIT.format(key="lable")))


class _CountRule(RuleBase):
    kind: Literal["approval_count"]


class _CountKind(KindBase):
    """A plug-in kind reading the role ``approved`` in its scan, not as typed rows."""

    name = "approval_count"
    model = _CountRule

    def scan(self, dataset: Any, rules: Any, *, progress: Any) -> Any:
        return dataset.grouped_counts(roles=["approved"], progress=progress)

    def evaluate(self, rule: Any, inputs: AuditInputs) -> RuleResult:
        raise NotImplementedError

    def explain(self, rule: Any, pack: PolicyPack | None) -> str:
        return "counts approvals"


@pytest.fixture
def count_kind() -> Iterator[None]:
    register(_CountKind())
    try:
        yield
    finally:
        unregister(_CountKind.name)


@pytest.mark.usefixtures("count_kind")
def test_a_plug_in_kind_reading_roles_in_its_scan_may_have_them_mapped(
    write: Callable[[str, str], Path],
) -> None:
    # found in review: docs/architecture.md lets a kind read through `roles` or `scan`; a role
    # read only in the scan is named nowhere the check looked, so its mapping was refused
    write("policy.yaml", POLICY.format(rule="    kind: approval_count"))
    loaded = load_audit_spec(write("audit.yaml", AUDIT.format(key="approved")))
    assert loaded.spec.evidence["d"].columns == {"approved": "x"}


def test_a_mapping_of_the_window_column_says_where_the_column_goes(
    write: Callable[[str, str], Path],
) -> None:
    # found in review: columns: {decided_at: "CAST(when AS DATE)"} with window: {column:
    # decided_at} was "no role ethicsgate knows (did you mean 'expires_at'?)", which points away
    # from the fix: a window column is SQL read as written, not a role
    rule = "    kind: fairness\n    severity: info\n    sensitive_features: [race]\n    metrics: [selection_rate]"
    write("policy.yaml", POLICY.format(rule=rule))
    spec = AUDIT.format(key="decided_at").replace("x\n", '"CAST(at AS DATE)"\n')
    spec += "    window: {column: decided_at, every: month}\n"
    with pytest.raises(AuditSpecError, match="the window's column") as refused:
        load_audit_spec(write("audit.yaml", spec))
    assert 'window: {column: "CAST(at AS DATE)", ...}' in (refused.value.hint or "")
    assert "did you mean" not in refused.value.message
