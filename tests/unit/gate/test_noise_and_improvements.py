"""The gate compares what an assertion compares, and only changes beyond noise (issue 22)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import AUDIT

from ethicsgate.audit import run_audit
from ethicsgate.cli import cli
from ethicsgate.gate import compare_with_baseline
from ethicsgate.gate.baseline import change_test
from ethicsgate.policy import load_policy
from ethicsgate.rules.uncertainty import fisher_exact_test, z_test


def _gate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["gate", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_flipping_one_of_150_decisions_does_not_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the project `ethicsgate init` writes: 150 offers, 25 of 50 in each of 3 groups
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(cli, ["init", "shop"], catch_exceptions=False).exit_code == 0
    spec = "shop/audits/sample.yaml"
    code, output = _gate(spec, "--out", "released")
    assert code == 0, output
    data = next((tmp_path / "shop" / "data").glob("*.csv"))
    lines = data.read_text().splitlines()
    flip = next(i for i, line in enumerate(lines) if ",senior," in line and line.endswith(",1"))
    lines[flip] = lines[flip][: -len("1")] + "0"  # senior: 24 of 50, ratio 1 -> 0.96
    data.write_text("\n".join(lines) + "\n")

    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, output = _gate(
        spec, "--baseline", "released/report.json", "--out", "candidate", "--github-summary"
    )
    assert code == 0, output
    assert "BLOCKS" not in output and "WITHIN NOISE" in output
    assert "gate sample: PASS: the release may go ahead" in output
    # the CI step summary says the same in words, and lists the change as noise
    text = summary.read_text()
    assert "Release may go ahead: every blocking rule passed" in text
    assert "Within noise (1)" in text and "customer_group = senior" in text
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    # beyond the default budget of 0 it is: counting every change, the flip would block
    code, output = _gate(
        spec, "--baseline", "released/report.json", "--out", "c2", "--significance-level", "1"
    )
    assert code == 1, output
    assert "[BLOCKS]" in output
    assert "gate sample: BLOCKED" in output
    assert (
        "Release blocked: 1 check got significantly worse than in the baseline, beyond the "
        "budget (offers-fair-across-groups selection_rate.ratio for customer_group = senior). "
        "The audit itself passed."
    ) in output


LL144 = """
schema_version: 1
id: p
version: "1"
title: T
owner: O
rules:
  - id: ll144
    kind: fairness
    dataset: predictions
    sensitive_features: [sex, race]
    impact_ratio: selection
    assert:
      - {metric: impact_ratio, op: ">=", value: 0.8, significant_at: 0.05}
"""


def _applicants(selected: dict[tuple[str, str], int], per_cell: int = 300) -> str:
    rows = ["sex,race,label,prediction"]
    for (sex, race), chosen in selected.items():
        rows += [f"{sex},{race},1,{int(i < chosen)}" for i in range(per_cell)]
    return "\n".join(rows) + "\n"


def test_an_improved_worst_impact_ratio_is_no_regression(
    make_audit: Callable[..., Path], frozen_clock: Callable[[], datetime]
) -> None:
    # released: Male/White leads; worst ratio 0.4 (Black applicants, either sex)
    before = {("Male", "White"): 150, ("Male", "Black"): 60}
    before |= {("Female", "White"): 120, ("Female", "Black"): 60}
    # candidate: every Black category and women gain; men lose their lead (sex = Male 1 ->
    # 0.94, Male/White 1 -> 0.93): worst ratio 0.4 -> 0.69
    after = {("Male", "White"): 140, ("Male", "Black"): 104}
    after |= {("Female", "White"): 150, ("Female", "Black"): 105}
    spec = make_audit(_applicants(before), policy=LL144, audit=AUDIT)
    released = run_audit(spec, clock=frozen_clock)
    spec = make_audit(_applicants(after), policy=LL144, audit=AUDIT)
    candidate = run_audit(spec, clock=frozen_clock)
    pack = load_policy(spec.parent / "policy.yaml").pack
    assert released.rules[0].assertions[0].observed == pytest.approx(0.4)
    assert candidate.rules[0].assertions[0].observed == pytest.approx(104 / 150)
    assert candidate.rules[0].assertions[0].status == "fail"  # still under 0.8: it fails
    for level in (0.05, 1.0):  # not because of the noise test: nothing compared got worse
        found = compare_with_baseline(candidate, released, pack=pack, significance_level=level)
        assert found.regressions == [] and found.not_significant == []
    # the other way round, the worst ratio fell 0.69 -> 0.4, significantly: that blocks
    back = compare_with_baseline(released, candidate, pack=pack)
    assert back.regressions and all(r.blocking for r in back.regressions)
    worst = back.regressions[0]
    assert worst.compared == "worst" and worst.p_value is not None and worst.p_value < 0.001
    assert worst.test == "z-test of the change in the log ratio"


def test_change_tests_against_the_formulas() -> None:
    # value: the two-proportion test of the group's rate, candidate against baseline
    name, p = change_test("selection_rate", "value", (40, 100, 0, 0), (25, 100, 0, 0)) or ("", 0)
    assert name == "two-proportion z-test of the group's rate in the two audits"
    assert p == z_test(25, 100, 40, 100)[1]
    name, p = change_test("selection_rate", "value", (1, 10, 0, 0), (4, 10, 0, 0)) or ("", 0)
    assert name.startswith("Fisher's exact test") and p == fisher_exact_test(4, 10, 1, 10)[1]
    # ratio: Wald test of log(r1) - log(r0), each with the delta-method variance
    before, after = (30, 100, 60, 100), (20, 100, 60, 100)

    def log_ratio(x: int, n: int, xr: int, nr: int) -> tuple[float, float]:
        return math.log((x / n) / (xr / nr)), 1 / x - 1 / n + 1 / xr - 1 / nr

    (r0, v0), (r1, v1) = log_ratio(*before), log_ratio(*after)
    expected = 2 * (1 - 0.5 * (1 + math.erf(abs(r1 - r0) / math.sqrt(v0 + v1) / math.sqrt(2))))
    name, p = change_test("selection_rate", "ratio", before, after) or ("", 0)
    assert p == pytest.approx(expected, abs=1e-12)
    # difference: Wald test of d1 - d0
    d0, d1 = 0.3, 0.4
    w0 = 0.3 * 0.7 / 100 + 0.6 * 0.4 / 100
    w1 = 0.2 * 0.8 / 100 + 0.6 * 0.4 / 100
    expected = 2 * (1 - 0.5 * (1 + math.erf(abs(d1 - d0) / math.sqrt(w0 + w1) / math.sqrt(2))))
    name, p = change_test("selection_rate", "difference", before, after) or ("", 0)
    assert name == "z-test of the change in the difference"
    assert p == pytest.approx(expected, abs=1e-12)
    # an empty group has no test
    assert change_test("selection_rate", "ratio", (0, 0, 5, 10), after) is None
