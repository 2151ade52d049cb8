"""``ethicsgate gate --baseline``: what was not compared is said, and why a change went untested."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from tests.conftest import ASSETS

from ethicsgate.cli import cli

RATIO = '{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}'
DIFFERENCE = '{metric: selection_rate, aggregate: difference, op: "<=", value: 0.2}'

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


def _policy(project: Path, *, rule: str = "fair", assertion: str = RATIO) -> None:
    (project / "good.yaml").write_text(POLICY.format(rule=rule, assertion=assertion))


def test_an_assertion_the_baseline_lacks_is_said_not_compared(project: Path) -> None:
    _policy(project, assertion=DIFFERENCE)
    summary = project / "summary.md"
    code, stdout, stderr = run(
        "gate",
        "a.yaml",
        "--baseline",
        "rel/report.json",
        "--out",
        "cand",
        "--junit",
        "ci/junit.xml",
        "--sarif",
        "ci/gate.sarif",
        "--github-summary",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    # a new assertion is normal in a new release: it is judged by its threshold, not blocked
    assert code == 0, stderr
    said = (
        "NOT COMPARED assertion selection_rate.difference of rule fair: "
        "the baseline has no such assertion"
    )
    assert said in stdout
    assert "nothing got significantly worse" not in stdout
    assert (
        "Release may go ahead: every blocking rule passed and nothing compared got "
        "significantly worse than in the baseline; 1 assertion was not compared with it "
        "(assertion selection_rate.difference of rule fair: the baseline has no such "
        "assertion)."
    ) in stdout

    # the step summary lists it, and does not say nothing got worse
    text = summary.read_text()
    assert "### Not compared with the baseline (1)" in text
    assert "the baseline has no such assertion" in text
    assert "Nothing got significantly worse" not in text

    # JUnit: the assertion's regression check is skipped, with the reason, not passed
    root = ET.parse(project / "ci" / "junit.xml").getroot()
    case = next(
        c
        for c in root.iter("testcase")
        if c.get("name") == "fair::selection_rate.difference::regression"
    )
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "not compared: the baseline has no such assertion"

    # SARIF: a notApplicable result of the rule's regression check, still schema-valid
    log = json.loads((project / "ci" / "gate.sarif").read_text())
    schema = json.loads((ASSETS / "sarif-schema-2.1.0.json").read_text())
    assert not list(jsonschema.Draft4Validator(schema).iter_errors(log))
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["kind"], r["level"]) for r in results] == [
        ("fair/regression", "notApplicable", "none")
    ]
    assert "the baseline has no such assertion" in results[0]["message"]["text"]

    # JSON: the same, as data
    code, stdout, _ = run(
        "gate", "a.yaml", "--baseline", "rel/report.json", "--out", "c2", "--format", "json"
    )
    data = json.loads(stdout)
    assert code == 0 and data["regressions"] == []
    assert data["not_compared"] == [
        {
            "rule": "fair",
            "assertion": "selection_rate.difference",
            "severity": "block",
            "reason": "the baseline has no such assertion",
        }
    ]
    assert "nothing compared got significantly worse" in data["verdict"]


def test_a_renamed_rule_is_said_not_compared(project: Path) -> None:
    _policy(project, rule="fair-offers")
    code, stdout, stderr = run(
        "gate", "a.yaml", "--baseline", "rel/report.json", "--out", "cand", "--format", "json"
    )
    assert code == 0, stderr
    data = json.loads(stdout)
    assert data["not_compared"] == [
        {
            "rule": "fair-offers",
            "assertion": None,
            "severity": "block",
            "reason": "not in the baseline",
        }
    ]
    assert data["verdict"] == (
        "Release may go ahead: every blocking rule passed and nothing compared got "
        "significantly worse than in the baseline; 1 rule was not compared with it "
        "(rule fair-offers: not in the baseline)."
    )
    code, stdout, _ = run("gate", "a.yaml", "--baseline", "rel/report.json", "--out", "c2")
    assert "NOT COMPARED rule fair-offers: not in the baseline" in stdout


def test_a_blocked_gate_also_says_what_it_did_not_compare(project: Path) -> None:
    (project / "d.csv").write_text(offers(1))  # ratio 0.2: the new assertion fails too
    _policy(project, assertion=DIFFERENCE)
    code, stdout, _ = run("gate", "a.yaml", "--baseline", "rel/report.json", "--out", "cand")
    assert code == 1
    # its worst value had nothing to compare with; the failing group b was compared by value
    assert "WITHIN NOISE fair selection_rate.difference" in stdout
    assert (
        "Release blocked: rule fair failed. 1 assertion was not compared with the baseline "
        "(assertion selection_rate.difference of rule fair: the baseline has no such "
        "assertion, though the groups failing it were compared with their own baseline "
        "values)."
    ) in stdout


def test_everything_compared_keeps_the_plain_verdict(project: Path) -> None:
    code, stdout, _ = run(
        "gate", "a.yaml", "--baseline", "rel/report.json", "--out", "cand", "--format", "json"
    )
    data = json.loads(stdout)
    assert code == 0 and data["not_compared"] == []
    assert data["verdict"] == (
        "Release may go ahead: every blocking rule passed and nothing got significantly "
        "worse than in the baseline."
    )


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


def test_baseline_key_verifies_the_baseline_before_comparing(project: Path) -> None:
    # found by the signing QA: gate --baseline read any report.json, so an edited baseline
    # (a worse released model, or a forged one) could hide a regression
    assert run("keys", "generate", "--out", "keys")[0] == 0
    assert run("keys", "generate", "--out", "other")[0] == 0
    code, _, stderr = run("gate", "a.yaml", "--out", "signed", "--key", "keys/ethicsgate.key")
    assert code == 0, stderr
    code, stdout, stderr = run(
        *("gate", "a.yaml", "--out", "ok", "--baseline", "signed/report.json"),
        *("--baseline-key", "keys/ethicsgate.pub"),
    )
    assert code == 0, stderr
    base = ("gate", "a.yaml", "--out", "cand", "--baseline")

    # signed by another key, or edited after signing: exit 2 before the scan, with the reason
    code, _, stderr = run(*base, "signed/report.json", "--baseline-key", "other/ethicsgate.pub")
    assert code == 2 and "the baseline report is NOT verified" in stderr
    assert not (project / "cand").exists()
    report = project / "signed" / "report.json"
    report.write_text(report.read_text().replace('"status": "pass"', '"status": "fail"', 1))
    code, _, stderr = run(*base, "signed/report.json", "--baseline-key", "keys/ethicsgate.pub")
    assert code == 2 and "the baseline report is NOT verified" in stderr and "report.json" in stderr

    # an unsigned baseline, and the key without a baseline
    code, _, stderr = run(*base, "rel/report.json", "--baseline-key", "keys/ethicsgate.pub")
    assert code == 2 and "the baseline cannot be verified" in stderr
    assert "leave out --baseline-key" in stderr
    code, _, stderr = run("gate", "a.yaml", "--baseline-key", "keys/ethicsgate.pub")
    assert code == 2 and "add --baseline" in stderr
    assert "Traceback" not in stderr
