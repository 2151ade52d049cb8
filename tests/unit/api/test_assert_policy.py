"""``assert_policy``: rule ids checked before any evidence is read; failures name their figures."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.cli.test_audit_cli import FAILING, PASSING
from tests.conftest import AUDIT, POLICY, ROOT

import ethicsgate
from ethicsgate.errors import EvidenceError, PolicyError
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


# -- what a failure says: each failing group's figure, as the report shows it ------------------


def _failure(policy: str | Path, evidence: dict[str, Any] | None, **options: Any) -> str:
    with pytest.raises(AssertionError) as info:
        assert_policy(policy, evidence, **options)
    return str(info.value)


def test_an_impact_ratio_failure_shows_each_category_s_ratio() -> None:
    # the LL144 tables hold the impact ratios: the group's metrics have none to show
    applicants = pd.read_csv(ROOT / "examples" / "hiring" / "applicants.csv")
    columns = {"prediction": "advanced", "score": "match_score"}
    entry = {"applicants": {"data": applicants, "columns": columns}}
    report = ethicsgate.audit("pack:nyc-ll144", entry)
    rule = report.rule("ll144-selection")
    assert rule.impact_ratio is not None
    ratios = {
        tuple(row.category.items()): row.impact_ratio
        for table in rule.impact_ratio.tables
        for row in table.rows
    }
    message = _failure("pack:nyc-ll144", entry)
    assert "undefined" not in message
    black_women = ratios[(("sex", "Female"), ("race_ethnicity", "Black or African American"))]
    assert black_women is not None
    assert (
        f"- sex=Female, race_ethnicity=Black or African American: impact_ratio "
        f"{black_women:.4g}, needs >= 0.8" in message
    )


def test_a_windowed_failure_shows_the_failing_window_s_figure_and_names_it(
    tmp_path: Path,
) -> None:
    from tests.unit.rules.windows_data import POLICY as CREDIT
    from tests.unit.rules.windows_data import year_of_decisions

    policy = tmp_path / "policy.yaml"
    policy.write_text(CREDIT)
    year = year_of_decisions(per_day=40)
    entry = {"decisions": {"data": year, "columns": {"prediction": "approved"}}}
    report = ethicsgate.audit(policy, entry, window="month:decided_at")
    september = next(w for w in report.rules[0].windows if w.label == "2026-09")
    in_window = next(g for g in september.groups if g.group == {"group": "B"})
    overall = next(g for g in report.rules[0].groups if g.group == {"group": "B"})
    ratio = in_window.ratios["selection_rate"]
    assert ratio is not None and f"{ratio:.4g}" != f"{overall.ratios['selection_rate']:.4g}"
    message = _failure(policy, entry, window="month:decided_at")
    assert f"- group=B: selection_rate ratio {ratio:.4g}, needs >= 0.8 in window 2026-09" in message


def test_a_group_without_a_value_is_named_as_the_rule_s_message_names_it(
    write: Callable[[str, str], Path],
) -> None:
    policy = write("policy.yaml", POLICY)
    frame = pd.read_csv(io.StringIO(FAILING)).astype({"group": object})
    frame.loc[frame["group"] == "b", "group"] = None
    message = _failure(policy, {"predictions": frame})
    assert "ratio for group=(missing) is 0" in message
    assert "- group=(missing): selection_rate ratio 0, needs >= 0.8" in message


def test_a_rule_that_could_not_be_judged_names_the_groups_and_why(
    write: Callable[[str, str], Path],
) -> None:
    # b has 2 people, under min_group_size 3: nothing to compare, and the failure says who
    policy = write("policy.yaml", POLICY.replace("min_group_size: 1", "min_group_size: 3"))
    frame = pd.DataFrame(
        {"group": ["a"] * 4 + ["b"] * 2, "label": [1, 0] * 3, "prediction": [1, 0, 1, 1, 0, 0]}
    )
    message = _failure(policy, {"predictions": frame})
    assert "parity [error]" in message
    assert "- group=b: 2 people, under min_group_size 3: not compared" in message
    # a metric undefined for every group (no one with label 0): each group says so
    no_negatives = frame.assign(label=1)
    fpr = POLICY.replace(
        "metric: selection_rate, aggregate: ratio", "metric: false_positive_rate, aggregate: ratio"
    )
    message = _failure(write("fpr.yaml", fpr), {"predictions": no_negatives})
    assert "- group=a: false_positive_rate undefined" in message
    assert "- group=b: false_positive_rate undefined" in message


def test_a_rule_named_in_rules_is_checked_whatever_its_severity(
    write: Callable[[str, str], Path],
) -> None:
    # naming a warn rule asks for it to be checked: it must not pass silently when it fails
    warned = write(
        "policy.yaml", TWO_RULES.replace("  - id: strict\n", "  - id: strict\n    severity: warn\n")
    )
    failing = {"predictions": {"path": str(write("failing.csv", FAILING))}}
    with pytest.raises(AssertionError) as info:
        assert_policy(warned, failing, rules="strict")
    message = str(info.value)
    assert "strict [warn]" in message and "needs >= 0.99" in message
    assert "parity [" not in message
    passing = {"predictions": {"path": str(write("passing.csv", PASSING))}}
    assert assert_policy(warned, passing, rules="strict").rule("strict").status == "pass"


def test_a_record_level_failure_names_its_first_records() -> None:
    # a test reader needs a record to look at, not only the violation rate
    spec = ROOT / "audits" / "bakery.yaml"
    report = ethicsgate.audit(spec)
    rule = report.rule("chatbot-discloses-automation")
    assert rule.findings_total is not None and rule.findings_total > 3
    first = rule.findings[0]
    message = _failure(spec, None, rules="chatbot-discloses-automation")
    assert f"- record {first.record_id} ({first.reason}): {first.message}" in message
    assert f"... and {rule.findings_total - 3} more record(s)" in message


# -- a test that checked nothing must not pass --------------------------------------------------

#: a record-level rule that skips (if_no_records: skip), and a chat log with no bot message in it
SKIPPING = """
schema_version: 1
id: chat-policy
version: "1"
title: Chats disclose the bot
owner: Tests
rules:
  - id: discloses
    kind: transparency
    check: bot_disclosure
    dataset: chat
    if_no_records: skip
"""
NO_BOT = pd.DataFrame(
    {
        "conversation_id": ["c1", "c1"],
        "ts": ["2025-03-01T10:00:00Z", "2025-03-01T10:01:00Z"],
        "actor": ["customer", "human"],
        "type": ["message", "message"],
        "text": ["Hello", "Hi"],
    }
)


def test_a_policy_without_a_blocking_rule_is_refused_before_the_evidence_is_read(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    # every rule at severity warn: no outcome (a failure, no rows at all) could fail the test
    warned = write(
        "policy.yaml", POLICY.replace("  - id: parity\n", "  - id: parity\n    severity: warn\n")
    )
    with pytest.raises(ValueError, match="no blocking rule") as info:
        assert_policy(warned, _unreadable(tmp_path))
    assert "rules=" in str(info.value) and "parity" in str(info.value)
    # naming the rule checks it
    with pytest.raises(AssertionError, match=r"parity \[warn\]"):
        assert_policy(
            warned, {"predictions": {"path": str(write("failing.csv", FAILING))}}, rules="parity"
        )


def test_a_rule_that_checked_nothing_fails_the_test(write: Callable[[str, str], Path]) -> None:
    # skipped: no record to check; the audit passes (as the CLI's), but a test of it checked nothing
    policy = write("policy.yaml", SKIPPING)
    report = ethicsgate.audit(policy, {"chat": NO_BOT})
    assert report.rule("discloses").status == "skipped" and report.passed
    for rules in (None, "discloses"):
        message = _failure(policy, {"chat": NO_BOT}, rules=rules)
        assert "discloses [skipped]: no conversations with a bot message" in message
        assert "nothing" in message.splitlines()[0]


def test_a_skipped_rule_beside_a_passing_one_passes_unless_named(
    write: Callable[[str, str], Path],
) -> None:
    # the CLI's verdict: a blocking rule skipped beside one that passed is no failure; naming
    # the skipped rule asks for it to be checked
    both = SKIPPING + POLICY.split("rules:\n", 1)[1].replace("    references: [eeoc]\n", "")
    policy = write("policy.yaml", both)
    passing = {"chat": NO_BOT, "predictions": {"path": str(write("passing.csv", PASSING))}}
    assert assert_policy(policy, passing).rule("parity").status == "pass"
    message = _failure(policy, passing, rules=["parity", "discloses"])
    assert "discloses [skipped]" in message and "parity [" not in message


def test_a_skipped_rule_is_counted_in_the_repr_and_has_its_row_in_the_table(
    write: Callable[[str, str], Path],
) -> None:
    # the repr read "1 rules, 0 passed, 0 failed, 0 errors, 0 warned" and the table was empty
    report = ethicsgate.audit(write("policy.yaml", SKIPPING), {"chat": NO_BOT})
    assert "1 rules, 0 passed, 0 failed, 0 errors, 0 warned, 1 skipped>" in repr(report)
    [row] = report.to_pandas().itertuples()
    assert (row.rule, row.status, row.metric, row.count) == (
        "discloses",
        "skipped",
        "violation_rate",
        0,
    )
    assert pd.isna(row.value)


def test_a_fairness_rule_that_judged_no_group_has_its_row_in_the_table(
    write: Callable[[str, str], Path],
) -> None:
    # found by the Python API QA: a fairness rule that errored before any group had no row
    frame = pd.read_csv(io.StringIO(PASSING))
    report = ethicsgate.audit(
        write("policy.yaml", POLICY), {"predictions": {"data": frame, "filter": "false"}}
    )
    assert report.status == "error"
    [row] = report.to_pandas().itertuples()
    assert (row.kind, row.status) == ("fairness", "error")
    assert pd.isna(row.value) and pd.isna(row.metric)


def test_a_column_set_as_the_index_is_named_with_the_fix(
    write: Callable[[str, str], Path],
) -> None:
    # found by the Python API QA: df.set_index("race") read as "no column 'race'"
    frame = pd.read_csv(io.StringIO(PASSING)).set_index("group")
    with pytest.raises(EvidenceError, match="has no column 'group'") as info:
        ethicsgate.audit(write("policy.yaml", POLICY), {"predictions": frame})
    assert info.value.hint is not None
    assert info.value.hint.startswith(
        "'group' is the DataFrame's index, not a column: pass df.reset_index()"
    )
