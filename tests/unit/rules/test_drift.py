"""Change detection: significant drops between windows and against the last recorded run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests
from tests.unit.rules.windows_data import DRIFT_POLICY, POLICY, write_audit, year_of_decisions

from ethicsgate.audit.run import run_audit
from ethicsgate.errors import PolicyError
from ethicsgate.policy.models import FairnessRule
from ethicsgate.rules.drift import NOTHING_COMPARED, RatePoint, detect_drift, holm
from ethicsgate.session import open_history, run_and_report


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_year_with_a_drift_in_september_finds_it_there_and_nowhere_else(
    tmp_path: Path, seed: int
) -> None:
    rule = run_audit(
        write_audit(tmp_path, year_of_decisions(seed=seed), policy=DRIFT_POLICY)
    ).rules[0]
    assert [(f.before, f.after, f.group) for f in rule.drift] == [
        ("2026-08", "2026-09", {"group": "B"})
    ]
    finding = rule.drift[0]
    assert finding.drop > 0.2 and finding.p_adjusted < 1e-6 and finding.severity == "block"
    assert rule.status == "fail" and "dropped from" in rule.message


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_steady_year_has_no_drift(tmp_path: Path, seed: int) -> None:
    frame = year_of_decisions(seed=seed, drift_month=None)
    rule = run_audit(write_audit(tmp_path, frame, policy=DRIFT_POLICY)).rules[0]
    assert rule.drift == [] and rule.status == "pass"


def test_a_small_significant_drop_under_max_drop_is_no_finding(tmp_path: Path) -> None:
    frame = year_of_decisions(per_day=3000, seed=4, drop_to=0.42)  # ratio 0.9 -> 0.84
    policy = DRIFT_POLICY.replace("max_drop: 0.05", "max_drop: 0.1")
    assert run_audit(write_audit(tmp_path / "a", frame, policy=policy)).rules[0].drift == []
    found = run_audit(write_audit(tmp_path / "b", frame, policy=DRIFT_POLICY)).rules[0].drift
    assert [(f.before, f.after) for f in found] == [("2026-08", "2026-09")]


def test_holm_matches_statsmodels() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = rng.random(int(rng.integers(1, 30))) ** 3
        expected = multipletests(p, method="holm")[1]
        assert holm(list(p)) == pytest.approx(list(expected), abs=1e-12)


def _rule(max_drop: float = 0.0) -> FairnessRule:
    return FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "d",
            "sensitive_features": ["g"],
            "metrics": ["selection_rate"],
            "drift": {"max_drop": max_drop, "significant_at": 0.05},
        }
    )


def _point(label: str, rng: np.random.Generator, n: int, rate_b: float) -> RatePoint:
    xa, xb = int(rng.binomial(n, 0.5)), int(rng.binomial(n, rate_b))
    groups = {
        (("g", "A"),): ({"g": "A"}, xa, n, False),
        (("g", "B"),): ({"g": "B"}, xb, n, False),
    }
    return RatePoint(label, groups, (xa, n), (("g", "A"),))


def test_the_test_holds_its_level_and_has_power() -> None:
    """Under no change, about 5 % of one-sided tests reject; a real drop is found."""
    rng = np.random.default_rng(1)
    rule = _rule()
    null = sum(
        bool(detect_drift(rule, [(_point("1", rng, 2000, 0.45), _point("2", rng, 2000, 0.45))]))
        for _ in range(2000)
    )
    assert 0.035 < null / 2000 < 0.065
    power = sum(
        bool(detect_drift(rule, [(_point("1", rng, 2000, 0.45), _point("2", rng, 2000, 0.35))]))
        for _ in range(200)
    )
    assert power / 200 > 0.99


def test_a_block_rule_with_only_drift_loads(tmp_path: Path) -> None:
    write_audit(tmp_path, year_of_decisions(per_day=2), policy=DRIFT_POLICY)
    bad = DRIFT_POLICY.replace("metric: impact_ratio", "metric: precision")
    spec = write_audit(tmp_path / "bad", year_of_decisions(per_day=2), policy=bad)
    with pytest.raises(PolicyError, match="drift.metric"):
        run_audit(spec)


def test_a_rule_with_drift_and_no_metrics_list_tracks_the_drift_metric(tmp_path: Path) -> None:
    # docs/monitoring.md's approval-parity: sensitive features and a drift policy, nothing else
    policy = DRIFT_POLICY.replace("    metrics: [selection_rate]\n", "")
    assert "metrics:" not in policy
    spec = write_audit(tmp_path, year_of_decisions(), policy=policy)
    result = run_audit(spec)
    (rule,) = result.rules
    assert rule.status == "fail"
    assert [(d.before, d.after) for d in rule.drift] == [("2026-08", "2026-09")]


def test_drift_against_the_last_recorded_run(tmp_path: Path) -> None:
    frame = year_of_decisions(seed=3)
    month = frame["decided_at"].dt.month
    db = f"sqlite:///{tmp_path / 'history.db'}"
    spring = write_audit(tmp_path / "spring", frame[month <= 8], policy=DRIFT_POLICY, window=None)
    first = run_and_report(spring, out=tmp_path / "r1", record=open_history(db))
    assert first.result.rules[0].drift == [] and first.recorded is not None
    september = write_audit(
        tmp_path / "september", frame[month == 9], policy=DRIFT_POLICY, window=None
    )
    second = run_and_report(september, out=tmp_path / "r2", record=open_history(db))
    rule = second.result.rules[0]
    assert [(f.before, f.after, f.group) for f in rule.drift] == [
        (f"run {first.recorded.id}", "this run", {"group": "B"})
    ]
    assert rule.status == "fail" and second.result.status == "fail"
    # the steady months after it: no drop against September
    october = write_audit(tmp_path / "october", frame[month == 10], policy=POLICY, window=None)
    third = run_and_report(october, out=tmp_path / "r3", record=open_history(db))
    assert third.result.rules[0].drift == []


def test_history_trend_html_draws_the_recorded_runs(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from tests.axe import require_axe, run_axe

    from ethicsgate.cli import cli

    frame = year_of_decisions(seed=3, per_day=50)
    month = frame["decided_at"].dt.month
    db = f"sqlite:///{tmp_path / 'history.db'}"
    for m in (7, 8, 9, 10):
        spec = write_audit(tmp_path / str(m), frame[month == m], window=None)
        run_and_report(spec, out=tmp_path / f"r{m}", record=open_history(db))
    page = tmp_path / "trend.html"
    result = CliRunner().invoke(
        cli, ["history", "trend", "approval-parity", "--db", db, "--html", str(page)]
    )
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert html.count('class="trend-line"') == 2 and "<script" not in html
    assert 'class="threshold"' in html and "threshold 0.8" in html
    assert html.count('class="fail-marker"') == 2  # September failed: both groups' points
    assert "run 3" in html
    if require_axe() is None:
        results = run_axe(html, tmp_path)
        assert results["violations"] == [], results["violations"]


def test_a_rule_judged_by_drift_alone_that_compares_nothing_is_skipped_not_passed(
    tmp_path: Path,
) -> None:
    # found by QA: a blocking drift-only rule without windows or history said PASS, exit 0,
    # over evidence with B's impact ratio at 0.6
    frame = year_of_decisions(seed=3, drift_month=None, drop_to=0.45)
    spec = write_audit(tmp_path, frame, policy=DRIFT_POLICY, window=None)
    rule = run_audit(spec).rules[0]
    assert rule.status == "skipped"
    assert rule.message.startswith(NOTHING_COMPARED) and "--record" in rule.message
    # one window is nothing to compare either; two or more are judged as before
    one = write_audit(
        tmp_path / "one", frame[frame["decided_at"].dt.month == 3], policy=DRIFT_POLICY
    )
    assert run_audit(one).rules[0].status == "skipped"
    months = run_audit(write_audit(tmp_path / "months", frame, policy=DRIFT_POLICY)).rules[0]
    assert months.status == "pass" and len(months.windows) == 12
    # a rule with assertions is judged by them, drift or not
    both = DRIFT_POLICY.replace(
        "    drift:",
        '    assertions:\n      - {metric: selection_rate, aggregate: ratio, op: ">=", '
        "value: 0.8}\n    drift:",
    )
    assert (
        run_audit(write_audit(tmp_path / "both", frame, policy=both, window=None)).rules[0].status
        == "pass"
    )


def test_recorded_runs_judge_a_drift_only_rule_from_the_second_run_on(tmp_path: Path) -> None:
    frame = year_of_decisions(seed=3, drift_month=None, drop_to=0.45)
    month = frame["decided_at"].dt.month
    db = f"sqlite:///{tmp_path / 'history.db'}"
    runs = []
    for m in (1, 2):
        spec = write_audit(tmp_path / f"m{m}", frame[month == m], policy=DRIFT_POLICY, window=None)
        runs.append(run_and_report(spec, out=tmp_path / f"r{m}", record=open_history(db)))
    first, second = (r.result.rules[0] for r in runs)
    assert first.status == "skipped" and "no earlier recorded run" in first.message
    assert second.status == "pass"
    assert second.message == (
        f"drift: no significant drop beyond 0.05 against run {runs[0].recorded.id} "
        "(1 group comparison(s))"  # B against the reference A
    )


def test_recorded_runs_read_the_skip_reason_not_the_message(tmp_path: Path) -> None:
    # review: history_drift told a drift-only rule that compared nothing by the start of its
    # message; a reworded message was then never judged, and a skipped rule of another cause
    # whose message happened to start so was turned into a pass
    from ethicsgate.audit.run import with_rules
    from ethicsgate.audit.spec import load_audit_spec
    from ethicsgate.session.history import history_drift

    frame = year_of_decisions(seed=3, drift_month=None, drop_to=0.45)
    month = frame["decided_at"].dt.month
    db = f"sqlite:///{tmp_path / 'history.db'}"
    first = write_audit(tmp_path / "m1", frame[month == 1], policy=DRIFT_POLICY, window=None)
    run_and_report(first, out=tmp_path / "r1", record=open_history(db))
    second = write_audit(tmp_path / "m2", frame[month == 2], policy=DRIFT_POLICY, window=None)
    result = run_audit(second)
    rule = result.rules[0]
    assert rule.status == "skipped" and rule.skipped_reason == "nothing_compared"
    pack = load_audit_spec(second).policy.pack

    reworded = rule.model_copy(update={"message": "nichts zu vergleichen"})
    judged = history_drift(with_rules(result, [reworded]), pack, open_history(db)).rules[0]
    assert judged.status == "pass" and judged.skipped_reason is None
    assert "1 group comparison(s)" in judged.message

    other = rule.model_copy(update={"skipped_reason": None})  # skipped for another reason
    kept = history_drift(with_rules(result, [other]), pack, open_history(db)).rules[0]
    assert kept.status == "skipped" and kept.message == rule.message


def test_judge_drift_counts_its_comparisons_once() -> None:
    from ethicsgate.rules.drift import judge_drift

    rng = np.random.default_rng(5)
    points = [_point(str(i), rng, 500, 0.45) for i in range(4)]
    outcome = judge_drift(_rule(), list(zip(points, points[1:], strict=False)))
    assert outcome.compared == 3  # B over 3 pairs (A, the reference, is always 1)
    assert outcome.findings == detect_drift(_rule(), list(zip(points, points[1:], strict=False)))
