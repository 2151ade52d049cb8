"""--cross-check fairlearn: the metrics recomputed with MetricFrame, recorded in the report."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from tests.conftest import ROOT

import ethicsgate.metrics.counts as counts
from ethicsgate.cli import cli

SPEC = ROOT / "audits" / "compas-example.yaml"


def _audit(tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["audit", str(SPEC), "--out", str(out), *args])
    assert result.exit_code in (0, 1), result.output
    report: dict[str, object] = json.loads((out / "report.json").read_text())
    return report


def test_the_cross_check_is_recorded_and_agrees_to_the_bit(tmp_path: Path) -> None:
    report = _audit(tmp_path, "--cross-check", "fairlearn", "--cross-check-groups", "5")
    rules = report["rules"]
    assert isinstance(rules, list)
    for rule in rules:
        check = rule["cross_check"]
        assert check["agrees"] is True and check["max_abs_difference"] == 0.0
        assert check["groups_checked"] == min(5, check["groups_total"])
        assert check["values_compared"] == check["groups_checked"] * len(
            rule["groups"][0]["metrics"]
        )
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "Cross-checked with fairlearn" in markdown and ": agrees." in markdown


def test_without_the_option_the_report_has_no_cross_check(tmp_path: Path) -> None:
    report = _audit(tmp_path)
    rules = report["rules"]
    assert isinstance(rules, list)
    assert all("cross_check" not in rule for rule in rules)


def test_a_disagreement_makes_the_rule_an_error_not_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = counts.compute_group_metrics

    def off_by_a_little(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        by_group, overall, sizes = real(*args, **kwargs)  # type: ignore[arg-type]
        by_group = by_group.copy()
        by_group.iloc[0, 0] = by_group.iloc[0, 0] + 1e-9
        return by_group, overall, sizes

    monkeypatch.setattr("ethicsgate.rules.fairness.compute_group_metrics", off_by_a_little)
    report = _audit(tmp_path, "--cross-check", "fairlearn")
    rules = report["rules"]
    assert isinstance(rules, list)
    for rule in rules:
        assert rule["status"] == "error"
        assert rule["cross_check"]["agrees"] is False
        assert rule["cross_check"]["max_abs_difference"] == pytest.approx(1e-9, rel=1e-3)
        assert "disagrees" in rule["message"]
    assert report["status"] == "error"


def test_the_policy_can_ask_for_it_per_rule(
    make_audit: Callable[..., Path], tmp_path: Path
) -> None:
    policy = (
        "schema_version: 1\nid: p\nversion: '1'\ntitle: P\nowner: T\nrules:\n"
        "  - {id: r, kind: fairness, dataset: predictions, sensitive_features: [group],\n"
        "     metrics: [selection_rate], min_group_size: 1, severity: info, cross_check: 1}\n"
    )
    spec = make_audit("group,label,prediction\na,1,1\na,0,0\nb,1,0\n", policy=policy)
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    (rule,) = json.loads((tmp_path / "o" / "report.json").read_text())["rules"]
    assert rule["cross_check"]["groups_checked"] == 1 and rule["cross_check"]["groups_total"] == 2


def test_scikit_learn_is_imported_only_for_a_cross_check(tmp_path: Path) -> None:
    # run from a file, not `python -c` (see tests/unit/metrics/test_counts.py)
    script = tmp_path / "probe.py"
    script.write_text(
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from ethicsgate.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['audit', {str(SPEC)!r}, '--out', {str(tmp_path / 'o')!r},"
        " '--cross-check', 'fairlearn'])\n"
        "assert r.exit_code in (0, 1), r.output\n"
        "print('sklearn' in sys.modules, 'fairlearn' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "True True"


def test_pandas_frames_of_the_check_are_not_modified() -> None:
    frame = pd.DataFrame(
        {"g": ["a", "b", None], "label": [1, 0, 1], "prediction": [1, 1, 0], "n": [3, 4, 5]}
    )
    before = frame.copy()
    from ethicsgate.metrics._fairlearn import cross_check

    by_group, _, _ = counts.compute_group_metrics(
        frame, features=["g"], metrics=["selection_rate", "precision"]
    )
    found = cross_check(
        frame,
        features=["g"],
        metrics=["selection_rate", "precision"],
        by_group=by_group,
        max_groups=10,
    )
    assert found["agrees"] and found["groups_checked"] == 3
    pd.testing.assert_frame_equal(frame, before)
