"""Baseline comparison: 'worse' follows each assertion's op; budgets; bad baselines."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from tests.conftest import AUDIT

from ethicsgate.audit import run_audit
from ethicsgate.audit.result import AuditResult
from ethicsgate.errors import BaselineError
from ethicsgate.gate import compare_to_baseline, compare_with_baseline, load_baseline
from ethicsgate.policy import load_policy
from ethicsgate.report import render_json

POLICY = """
schema_version: 1
id: p
version: "1"
title: T
owner: O
rules:
  - id: r
    kind: fairness
    dataset: predictions
    sensitive_features: [group]
    min_group_size: 1
    reference: {{group: a}}
    assert:
      - {{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.1{ratio_budget}}}
      - {{metric: selection_rate, aggregate: difference, op: "<=", value: 0.9{diff_budget}}}
{waivers}
"""


def data(selected_b: int, *, scale: int = 100) -> str:
    """Group a: 10 people, 5 selected; group b: 10 people, ``selected_b`` selected; x ``scale``.

    At 100 times the people the changes these tests make are statistically significant, so
    they count as regressions (a change of 1 in 10 is noise: see the test of that).
    """
    rows = ["group,label,prediction"]
    rows += [f"a,1,{int(i < 5 * scale)}" for i in range(10 * scale)]
    rows += [f"b,1,{int(i < selected_b * scale)}" for i in range(10 * scale)]
    return "\n".join(rows) + "\n"


def audit(
    make: Callable[..., Path],
    clock: Callable[[], datetime],
    selected_b: int,
    *,
    ratio_budget: str = "",
    diff_budget: str = "",
    waivers: str = "",
) -> tuple[Path, AuditResult]:
    policy = POLICY.format(ratio_budget=ratio_budget, diff_budget=diff_budget, waivers=waivers)
    spec = make(data(selected_b), policy=policy, audit=AUDIT)
    return spec.parent / "policy.yaml", run_audit(spec, clock=clock)


def test_worse_follows_the_op(
    make_audit: Callable[..., Path], frozen_clock: Callable[[], datetime]
) -> None:
    _, before = audit(make_audit, frozen_clock, 5)  # ratio 1.0, difference 0
    path, after = audit(make_audit, frozen_clock, 4)  # ratio 0.8, difference 0.1
    pack = load_policy(path).pack
    found = compare_to_baseline(after, before, pack=pack)
    assert [(r.assertion, r.baseline, round(r.candidate, 9)) for r in found] == [
        ("selection_rate.ratio", 1.0, 0.8),
        ("selection_rate.difference", 0.0, 0.1),
    ]
    assert all(r.blocking and r.group == {"group": "b"} for r in found)
    # the other way round, both got better: nothing regressed
    assert compare_to_baseline(before, after, pack=pack) == []


def test_budgets_from_the_policy_and_the_default(
    make_audit: Callable[..., Path], frozen_clock: Callable[[], datetime]
) -> None:
    _, before = audit(make_audit, frozen_clock, 5)
    path, after = audit(make_audit, frozen_clock, 4, ratio_budget=", max_regression: 0.25")
    pack = load_policy(path).pack
    found = compare_to_baseline(after, before, pack=pack)
    assert [r.assertion for r in found] == ["selection_rate.difference"]
    assert found[0].budget == 0.0
    assert compare_to_baseline(after, before, pack=pack, default_budget=0.1) == []
    # exactly at the budget is not a regression (float noise included)
    assert compare_to_baseline(after, before, pack=pack, default_budget=0.1 - 1e-12) == []


def test_waiver_covers_a_regression_until_it_expires(
    make_audit: Callable[..., Path], frozen_clock: Callable[[], datetime]
) -> None:
    waiver = """waivers:
  - {rule: r, metric: selection_rate, reason: accepted, approver: CRO, expires: 2026-01-02}"""
    _, before = audit(make_audit, frozen_clock, 5)
    path, after = audit(make_audit, frozen_clock, 4, waivers=waiver)
    pack = load_policy(path).pack
    on_last_day = compare_to_baseline(after, before, pack=pack, today=date(2026, 1, 2))
    assert on_last_day and all(r.waived and not r.blocking for r in on_last_day)
    day_after = compare_to_baseline(after, before, pack=pack, today=date(2026, 1, 3))
    assert day_after and all(r.blocking for r in day_after)


def test_bad_baselines(
    tmp_path: Path, make_audit: Callable[..., Path], frozen_clock: Callable[[], datetime]
) -> None:
    _, result = audit(make_audit, frozen_clock, 5)
    good = tmp_path / "good.json"
    good.write_bytes(render_json(result))
    assert load_baseline(good, policy_id="p") == result
    with pytest.raises(BaselineError, match="audited policy 'p', not 'other'"):
        load_baseline(good, policy_id="other")
    with pytest.raises(BaselineError, match="baseline report not found") as missing:
        load_baseline(tmp_path / "missing.json", policy_id="p")
    # found by QA: no hint; it says where it looked and how a baseline is made
    hint = missing.value.hint or ""
    assert hint.startswith(f"looked for {tmp_path / 'missing.json'}; the baseline is the ")
    assert "`ethicsgate audit SPEC --out DIR`" in hint and "leave --baseline out" in hint
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(BaselineError, match="baseline report is not JSON"):
        load_baseline(garbage, policy_id="p")
    broken = json.loads(good.read_text())
    broken["rules"][0]["status"] = "great"
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(broken))
    with pytest.raises(BaselineError, match=r"not a valid report.json: rules.0.status"):
        load_baseline(wrong, policy_id="p")


LL144_POLICY = """
schema_version: 1
id: p
version: "1"
title: T
owner: O
rules:
  - id: r
    kind: fairness
    dataset: predictions
    sensitive_features: [group]
    impact_ratio: selection
    assert:
      - {{metric: impact_ratio, op: ">=", value: 0.5{budget}}}
"""


def test_impact_ratio_regressions_are_compared_per_ll144_category(
    make_audit: Callable[..., Path], frozen_clock: Callable[[], datetime]
) -> None:
    def ll144(selected_b: int, budget: str = "") -> tuple[Path, AuditResult]:
        spec = make_audit(data(selected_b), policy=LL144_POLICY.format(budget=budget), audit=AUDIT)
        return spec.parent / "policy.yaml", run_audit(spec, clock=frozen_clock)

    _, before = ll144(5)  # a and b both 5/10: impact ratios 1.0 and 1.0
    path, after = ll144(4)  # b 4/10: impact ratio 0.8
    found = compare_to_baseline(after, before, pack=load_policy(path).pack)
    assert [(r.assertion, r.group, r.baseline, round(r.candidate, 9)) for r in found] == [
        ("impact_ratio.value", {"group": "b"}, 1.0, 0.8)
    ]
    assert found[0].blocking and round(found[0].worse_by, 9) == 0.2
    # the policy's budget applies to impact ratios too
    path, after = ll144(4, budget=", max_regression: 0.25")
    assert compare_to_baseline(after, before, pack=load_policy(path).pack) == []
    # getting better is never a regression
    assert compare_to_baseline(before, after, pack=load_policy(path).pack) == []


def test_what_has_no_worst_value_on_either_side_is_said_not_compared(
    make_audit: Callable[..., Path], frozen_clock: Callable[[], datetime]
) -> None:
    policy = POLICY.format(ratio_budget="", diff_budget="", waivers="")
    spec = make_audit(data(5), policy=policy.replace("min_group_size: 1", "min_group_size: 5000"))
    unevaluable = run_audit(spec, clock=frozen_clock)  # every group too small: status error
    assert [a.observed for a in unevaluable.rules[0].assertions] == [None, None]
    path, evaluated = audit(make_audit, frozen_clock, 4)
    pack = load_policy(path).pack

    found = compare_with_baseline(evaluated, unevaluable, pack=pack)
    assert found.regressions == [] and found.not_significant == []
    assert [(n.rule, n.assertion, n.reason) for n in found.not_compared] == [
        ("r", "selection_rate.ratio", "the baseline has no worst value for it, status error there"),
        (
            "r",
            "selection_rate.difference",
            "the baseline has no worst value for it, status error there",
        ),
    ]
    backwards = compare_with_baseline(unevaluable, evaluated, pack=pack)
    assert [n.reason for n in backwards.not_compared] == [
        "it has no worst value in this audit, status error"
    ] * 2
    # compared in full, nothing is listed
    _, before = audit(make_audit, frozen_clock, 5)
    assert compare_with_baseline(evaluated, before, pack=pack).not_compared == []
