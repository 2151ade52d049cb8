"""``ethicsgate gate --baseline``: why a change went untested."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ethicsgate.cli import cli

RATIO = '{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}'

POLICY = """schema_version: 1
id: p
version: "1"
title: t
owner: o
rules:
  - id: {rule}
    kind: fairness
    dataset: offers
    sensitive_features: [group]
    metrics: [selection_rate]
    min_group_size: 1
    assert:
      - {assertion}
"""

AUDIT = """schema_version: 1
id: a
policy: good.yaml
evidence:
  offers:
    path: d.csv
    columns: {prediction: offered}
"""


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


def offers(selected_b: int) -> str:
    """Group a: 5 of 10 offered; group b: ``selected_b`` of 10."""
    rows = ["id,group,offered"]
    rows += [f"{i},a,{int(i < 5)}" for i in range(10)]
    rows += [f"{10 + i},b,{int(i < selected_b)}" for i in range(10)]
    return "\n".join(rows) + "\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A policy with one ratio assertion, its audit and data; the baseline gated into rel/."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text(offers(5))
    (tmp_path / "good.yaml").write_text(POLICY.format(rule="fair", assertion=RATIO))
    (tmp_path / "a.yaml").write_text(AUDIT)
    code, _, stderr = run("gate", "a.yaml", "--out", "rel")
    assert code == 0, stderr
    return tmp_path


def test_significance_level_1_says_the_test_was_switched_off(project: Path) -> None:
    (project / "d.csv").write_text(offers(4))  # b: 5 -> 4 of 10, ratio 1 -> 0.8
    # the default level tests the change, from the counts the reports hold
    code, stdout, _ = run("gate", "a.yaml", "--baseline", "rel/report.json", "--out", "c1")
    assert code == 0
    assert "WITHIN NOISE" in stdout and "p = " in stdout
    code, stdout, _ = run(
        "gate",
        "a.yaml",
        "--baseline",
        "rel/report.json",
        "--out",
        "c2",
        "--significance-level",
        "1",
    )
    assert code == 1
    assert "lack the counts" not in stdout
    assert (
        "no significance test (switched off: at significance level 1 every change beyond the "
        "budget counts) [BLOCKS]"
    ) in stdout
    code, stdout, _ = run(
        "gate",
        "a.yaml",
        "--baseline",
        "rel/report.json",
        "--out",
        "c3",
        "--significance-level",
        "1",
        "--format",
        "json",
    )
    regression = json.loads(stdout)["regressions"][0]
    assert regression["p_value"] is None and regression["untested"] == "switched_off"


def test_a_metric_without_counts_still_says_the_reports_lack_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rule = POLICY.format(
        rule="fair",
        assertion='{metric: true_positive_rate, aggregate: ratio, op: ">=", value: 0.5}',
    ).replace("metrics: [selection_rate]", "metrics: [true_positive_rate]")
    (tmp_path / "good.yaml").write_text(rule)
    (tmp_path / "a.yaml").write_text(
        AUDIT.replace("{prediction: offered}", "{prediction: offered, label: label}")
    )

    def data(hits_b: int) -> str:
        rows = ["id,group,label,offered"]
        rows += [f"{i},a,1,{int(i < 5)}" for i in range(10)]
        rows += [f"{10 + i},b,1,{int(i < hits_b)}" for i in range(10)]
        return "\n".join(rows) + "\n"

    (tmp_path / "d.csv").write_text(data(5))
    assert run("gate", "a.yaml", "--out", "rel")[0] == 0
    (tmp_path / "d.csv").write_text(data(4))
    code, stdout, _ = run("gate", "a.yaml", "--baseline", "rel/report.json", "--out", "cand")
    assert code == 1
    assert "no significance test (the reports lack the counts) [BLOCKS]" in stdout
    code, stdout, _ = run(
        "gate", "a.yaml", "--baseline", "rel/report.json", "--out", "c2", "--format", "json"
    )
    assert json.loads(stdout)["regressions"][0]["untested"] == "no_counts"
