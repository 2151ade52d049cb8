"""Waivers: validated with located errors, applied once in run_audit, expiring by the audit clock."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.conftest import AUDIT

from ethicsgate.audit import run_audit
from ethicsgate.errors import PolicyError
from ethicsgate.policy import load_policy

POLICY = """
schema_version: 1
id: p
version: "1"
title: T
owner: O
rules:
  - id: parity
    kind: fairness
    dataset: predictions
    sensitive_features: [group]
    min_group_size: 1
    reference: max
    assert:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}
      - {metric: true_positive_rate, aggregate: ratio, op: ">=", value: 0.8}
waivers:
"""
# a: everyone selected; b: nobody with label 0 selected, half with label 1 -> both ratios fail
DATA = "group,label,prediction\n" + "a,1,1\na,0,1\n" * 4 + "b,1,1\nb,1,0\nb,0,0\nb,0,0\n" * 2
WAIVER = "  - {{rule: parity, {scope}reason: known gap, approver: CRO, expires: {expires}}}\n"


def clock(day: int) -> Callable[[], datetime]:
    return lambda: datetime(2026, 3, day, 12, 0, tzinfo=UTC)


def run(make_audit: Callable[..., Path], waivers: str, day: int = 1):  # type: ignore[no-untyped-def]
    spec = make_audit(DATA, policy=POLICY + waivers, audit=AUDIT)
    return run_audit(spec, clock=clock(day))


def test_unscoped_waiver_waives_the_rule(make_audit: Callable[..., Path]) -> None:
    result = run(make_audit, WAIVER.format(scope="", expires="2026-03-31"))
    rule = result.rules[0]
    assert rule.status == "waived"
    assert [a.status for a in rule.assertions] == ["waived", "waived"]
    assert rule.waivers[0].approver == "CRO" and not rule.waivers[0].expired
    assert "waived by CRO until 2026-03-31: known gap" in rule.message
    assert result.status == "pass"
    assert result.summary.waived == 1 and result.summary.failed == 0
    assert result.summary.blocking_failed == 0


def test_scoped_waiver_covering_one_metric_leaves_the_rule_failing(
    make_audit: Callable[..., Path],
) -> None:
    result = run(make_audit, WAIVER.format(scope="metric: selection_rate, ", expires="2026-03-31"))
    rule = result.rules[0]
    assert rule.status == "fail" and result.status == "fail"
    assert [a.status for a in rule.assertions] == ["waived", "fail"]
    assert "partly waived" in rule.message


def test_scoped_waivers_covering_every_failure_waive_the_rule(
    make_audit: Callable[..., Path],
) -> None:
    waivers = WAIVER.format(
        scope="metric: selection_rate, group: {group: b}, ", expires="2026-03-31"
    ) + WAIVER.format(scope="metric: true_positive_rate, ", expires="2026-03-31")
    result = run(make_audit, waivers)
    assert result.rules[0].status == "waived"
    assert len(result.rules[0].waivers) == 2


def test_waiver_for_another_group_does_not_apply(make_audit: Callable[..., Path]) -> None:
    result = run(make_audit, WAIVER.format(scope="group: {group: a}, ", expires="2026-03-31"))
    assert result.rules[0].status == "fail" and result.rules[0].waivers == []


@pytest.mark.parametrize(("day", "status"), [(30, "waived"), (31, "waived")])
def test_waiver_applies_through_its_last_day(
    make_audit: Callable[..., Path], day: int, status: str
) -> None:
    assert (
        run(make_audit, WAIVER.format(scope="", expires="2026-03-31"), day).rules[0].status
        == status
    )


def test_expired_waiver_stops_waiving_and_says_so(make_audit: Callable[..., Path]) -> None:
    spec = make_audit(
        DATA, policy=POLICY + WAIVER.format(scope="", expires="2026-02-28"), audit=AUDIT
    )
    result = run_audit(spec, clock=clock(1))
    rule = result.rules[0]
    assert rule.status == "fail" and result.status == "fail"
    assert rule.waivers[0].expired
    assert "waiver by CRO expired on 2026-02-28" in rule.message


def test_passing_rule_is_never_marked_waived(make_audit: Callable[..., Path]) -> None:
    passing = "group,label,prediction\n" + "a,1,1\na,0,0\n" * 4 + "b,1,1\nb,0,0\n" * 4
    spec = make_audit(
        passing, policy=POLICY + WAIVER.format(scope="", expires="2026-03-31"), audit=AUDIT
    )
    rule = run_audit(spec, clock=clock(1)).rules[0]
    assert rule.status == "pass" and rule.waivers == []


@pytest.mark.parametrize(
    ("waiver", "message", "where"),
    [
        (
            "  - {rule: parrity, reason: r, approver: a, expires: 2030-01-01}\n",
            "waiver 1 names unknown rule 'parrity' (did you mean 'parity'?)",
            ":17:12",
        ),
        (
            "  - {rule: parity, metric: precision, reason: r, approver: a, expires: 2030-01-01}\n",
            "rule 'parity' asserts no metric 'precision'",
            ":17:28",
        ),
        (
            "  - {rule: parity, group: {sex: F}, reason: r, approver: a, expires: 2030-01-01}\n",
            "rule 'parity' does not group by ['sex']",
            ":17:27",
        ),
        (
            "  - {rule: parity, reason: r, approver: a, expires: '2030-02-30'}\n",
            "waivers.0.expires",
            ":17:53",
        ),
        ("  - {rule: parity, approver: a, expires: 2030-01-01}\n", "reason", ":17:5"),
    ],
)
def test_invalid_waivers_are_located(
    write: Callable[[str, str], Path], waiver: str, message: str, where: str
) -> None:
    path = write("policy.yaml", POLICY + waiver)
    with pytest.raises(PolicyError, match=re.escape(message)) as info:
        load_policy(path)
    assert f"policy.yaml{where}" in str(info.value)


def test_expired_waiver_is_valid_policy(write: Callable[[str, str], Path]) -> None:
    path = write(
        "policy.yaml", POLICY + "  - {rule: parity, reason: r, approver: a, expires: 2001-01-01}\n"
    )
    assert load_policy(path).pack.waivers[0].expires.year == 2001


def test_impossible_unquoted_date_is_a_located_policy_error(
    write: Callable[[str, str], Path],
) -> None:
    path = write(
        "policy.yaml", POLICY + "  - {rule: parity, reason: r, approver: a, expires: 2030-02-30}\n"
    )
    with pytest.raises(PolicyError, match="waivers.0.expires") as info:
        load_policy(path)
    assert "policy.yaml:17:53" in str(info.value)


@pytest.mark.parametrize("written", ["30.06.2026", "2026-6-30", "20260630"])
def test_a_date_not_written_yyyy_mm_dd_gets_the_format_as_its_fix(
    write: Callable[[str, str], Path], written: str
) -> None:
    path = write(
        "policy.yaml",
        POLICY + f"  - {{rule: parity, reason: r, approver: a, expires: {written}}}\n",
    )
    with pytest.raises(PolicyError, match="waivers.0.expires") as info:
        load_policy(path)
    assert info.value.hint is not None and "YYYY-MM-DD" in info.value.hint
