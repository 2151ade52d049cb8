"""Mapping an audit's findings to review items: which rules, which records, which fields."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from ethicsgate.audit.result import AuditInfo, AuditResult, PolicyInfo, Summary
from ethicsgate.policy.models import PolicyPack
from ethicsgate.review import items_from_audit, open_store, review_options
from ethicsgate.review.enqueue import group_record_id
from ethicsgate.rules.results import (
    AssertionResult,
    ComparisonTest,
    Finding,
    GroupResult,
    Interval,
    ReferenceValue,
    RuleResult,
    UncertaintyInfo,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def pack(**reviews: object) -> PolicyPack:
    """A pack with one oversight rule per id in ``reviews`` (value: its ``review`` field)."""
    rules = []
    for rule_id, review in reviews.items():
        rule: dict[str, object] = {
            "id": rule_id,
            "kind": "oversight",
            "check": "human_review_required",
            "dataset": "decisions",
            "max_findings": 2,
        }
        if isinstance(review, tuple):
            review, rule["severity"] = review
        if review is not None:
            rule["review"] = review
        rules.append(rule)
    rules.append(
        {
            "id": "parity",
            "kind": "fairness",
            "dataset": "decisions",
            "sensitive_features": ["race", "sex"],
            "assert": [{"metric": "selection_rate", "op": ">=", "value": 0.8}],
            "review": True,
        }
    )
    return PolicyPack.model_validate(
        {
            "schema_version": 1,
            "id": "loans",
            "version": "3",
            "title": "t",
            "owner": "o",
            "rules": rules,
        }
    )


def record_rule(rule_id: str, status: str, n: int, *, severity: str = "block") -> RuleResult:
    return RuleResult(
        id=rule_id,
        kind="oversight",
        severity=severity,
        status=status,
        message="m",
        dataset="decisions",
        rows=100,
        check="human_review_required",
        violations=n,
        findings=[
            Finding(
                record_id=f"d{i}",
                reason="no_human_review",
                message="adverse decision without a human reviewer",
                fields={"decision_id": f"d{i}", "outcome": "deny"},
            )
            for i in range(n)
        ],
        findings_total=n,
    )


def fairness_rule() -> RuleResult:
    asian = {"race": "Asian", "sex": "Female"}
    black = {"race": "Black", "sex": None}
    return RuleResult(
        id="parity",
        kind="fairness",
        severity="block",
        status="fail",
        message="m",
        dataset="decisions",
        rows=100,
        groups=[
            GroupResult(
                group=asian,
                count=40,
                excluded=False,
                metrics={"selection_rate": 0.2},
                ratios={"selection_rate": 0.5},
            ),
            GroupResult(
                group=black,
                count=40,
                excluded=False,
                metrics={"selection_rate": 0.3},
                ratios={"selection_rate": 0.75},
            ),
        ],
        assertions=[
            AssertionResult(
                metric="selection_rate",
                aggregate="ratio",
                op=">=",
                threshold=0.8,
                observed=0.5,
                group=asian,
                failing_groups=[asian, black],
                status="fail",
                message="m",
            ),
        ],
    )


def audit_result(*rules: RuleResult) -> AuditResult:
    policy = PolicyInfo(id="loans", version="3", title="t", owner="o", path="p.yaml", sha256="0")
    info = AuditInfo(
        id="loans-audit",
        spec_path="a.yaml",
        spec_sha256="0",
        policy=policy,
        evidence=[],
        started_at="s",
        finished_at="f",
        ethicsgate_version="0",
    )
    summary = Summary(rules=len(rules), passed=0, failed=0, warned=0, errors=0, blocking_failed=0)
    return AuditResult(status="fail", audit=info, summary=summary, rules=list(rules))


def test_review_options_follow_the_policy_then_the_severity() -> None:
    p = pack(a=None, b=(None, "warn"), c=False, d=True, e={"sla": "4h", "on": ["warn"]})
    by_id = {r.id: r for r in p.rules}
    assert review_options(by_id["a"]).sla.total_seconds() == 48 * 3600  # block: reviewed
    assert review_options(by_id["b"]) is None  # warn and unset: not reviewed
    assert review_options(by_id["c"]) is None
    assert review_options(by_id["d"]).on == ["fail", "warn"]
    assert review_options(by_id["e"]).sla.total_seconds() == 4 * 3600


def test_record_findings_become_items_with_only_the_named_fields() -> None:
    p = pack(a=None, c=False, e={"sla": "4h"})
    result = audit_result(
        record_rule("a", "fail", 3), record_rule("c", "fail", 2), record_rule("e", "fail", 1)
    )
    items = items_from_audit(result, p, now=NOW)
    assert [(i.rule_id, i.record_id) for i in items[:3]] == [("a", "d0"), ("a", "d1"), ("a", "d2")]
    first = items[0]
    assert first.policy_id == "loans" and first.policy_version == "3"
    assert first.audit_id == "loans-audit" and first.severity == "block"
    assert first.reason == "no_human_review"
    assert first.fields == {"decision_id": "d0", "outcome": "deny"}
    assert first.due_at == "2026-01-04T03:04:05.000000Z"  # 48h default SLA
    assert items[3].rule_id == "e" and items[3].due_at == "2026-01-02T07:04:05.000000Z"
    assert all(i.rule_id != "c" for i in items)


def test_only_outcomes_listed_in_on_are_enqueued() -> None:
    p = pack(a={"on": ["fail"]}, b={"on": ["pass"]})
    result = audit_result(record_rule("a", "pass", 2), record_rule("b", "pass", 1))
    assert [(i.rule_id, i.record_id) for i in items_from_audit(result, p, now=NOW)] == [("b", "d0")]


def test_failing_fairness_groups_become_one_item_each() -> None:
    items = items_from_audit(audit_result(fairness_rule()), pack(), now=NOW)
    assert [i.record_id for i in items] == [
        "group:race=Asian,sex=Female",
        "group:race=Black,sex=(missing)",
    ]
    assert items[0].reason == "selection_rate_ratio"
    assert items[0].fields == {
        "race": "Asian",
        "sex": "Female",
        "metric": "selection_rate",
        "aggregate": "ratio",
        "requirement": ">= 0.8",
        "observed": "0.5",
        # what a reviewer reads (this bare result has no reference, interval or test)
        "group": "race = Asian, sex = Female",
        "group_rate": "0.2",
        "ratio": "0.5",
        "summary": "Selection rate of race = Asian, sex = Female: 20.0 %. The ratio is 0.5; "
        "the policy requires at least 0.8. No significance test was computed (the rule sets "
        "no uncertainty).",
    }
    assert group_record_id({"sex": "M", "race": "B"}) == "group:race=B,sex=M"


def test_enqueueing_the_same_audit_twice_adds_nothing(tmp_path) -> None:
    items = items_from_audit(
        audit_result(record_rule("a", "fail", 4), fairness_rule()), pack(a=None), now=NOW
    )
    with open_store(f"sqlite:///{tmp_path / 'q.db'}") as store:
        assert store.enqueue(items, actor="ci").added == 6
        assert store.enqueue(items, actor="ci").added == 0
        assert len(store.list_items()) == 6


def test_a_failing_group_item_names_the_reference_interval_and_test() -> None:
    rule = fairness_rule()
    asian, white = rule.groups[0].group, {"race": "White", "sex": "Male"}
    test = ComparisonTest(
        method="fisher_exact",
        statistic=0.25,
        p_value=0.0123456,
        successes=8,
        trials=40,
        reference_successes=16,
        reference_trials=40,
    )
    group = dataclasses.replace(
        rule.groups[0],
        ratio_intervals={"selection_rate": Interval(low=0.25, high=0.9)},
        tests={"selection_rate": test},
    )
    rule = rule.model_copy(
        update={
            "groups": [group, rule.groups[1]],
            "reference_values": {"selection_rate": ReferenceValue(group=white, value=0.4)},
            "uncertainty": UncertaintyInfo(
                method="bootstrap",
                bootstrap_samples=100,
                confidence_level=0.95,
                seed=1,
                test="auto",
            ),
            "assertions": [
                rule.assertions[0].model_copy(update={"significant_at": 0.05, "group": asian})
            ],
        }
    )
    fields = items_from_audit(audit_result(rule), pack(), now=NOW)[0].fields
    assert {k: fields[k] for k in fields if k not in ("summary", "race", "sex")} == {
        "group": "race = Asian, sex = Female",
        "metric": "selection_rate",
        "aggregate": "ratio",
        "group_rate": "0.2",
        "group_counts": "8 of 40",
        "reference_group": "race = White, sex = Male",
        "reference_rate": "0.4",
        "reference_counts": "16 of 40",
        "ratio": "0.5",
        "observed": "0.5",
        "requirement": ">= 0.8",
        "interval_low": "0.25",
        "interval_high": "0.9",
        "confidence_level": "0.95",
        "p_value": "0.0123456",
        "test": "Fisher's exact test",
        "significant_at": "0.05",
    }
    assert fields["summary"] == (
        "Selection rate of race = Asian, sex = Female: 20.0 % (8 of 40), against 40.0 % "
        "(16 of 40) in the reference group, race = White, sex = Male. The ratio is 0.5 (95 % "
        "confidence interval 0.25 to 0.9); the policy requires at least 0.8. A Fisher's exact "
        "test of the difference from the reference group gives p = 0.01235 (significant at the "
        "0.05 level)."
    )
