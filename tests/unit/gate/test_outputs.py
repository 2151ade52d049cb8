"""JUnit and SARIF of a gate: schema-valid, parseable, stable names, located in the policy."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from junitparser import JUnitXml
from tests.conftest import ASSETS

from ethicsgate.audit import load_audit_spec, run_audit
from ethicsgate.gate import evaluate_gate
from ethicsgate.report import render_junit, render_sarif, render_summary

PIPELINE = Path(__file__).resolve().parents[2] / "scenarios" / "gate_pipeline"
SARIF_SCHEMA = json.loads((ASSETS / "sarif-schema-2.1.0.json").read_text())


def _gate(name: str, clock: Callable[[], datetime], baseline: str | None = None):  # type: ignore[no-untyped-def]
    loaded = load_audit_spec(PIPELINE / f"{name}.yaml")
    result = run_audit(loaded, clock=clock)
    previous = run_audit(PIPELINE / f"{baseline}.yaml", clock=clock) if baseline else None
    # candidate-regressed's drop (ratio 0.95 -> 0.85 in groups of 200) is within noise
    # (p = 0.46); these tests are about how a regression is written out, so they count every
    # change beyond the budget (significance level 1)
    return loaded, evaluate_gate(
        loaded,
        result,
        baseline=previous,
        baseline_name=baseline,
        significance_level=1.0,
        today=clock().date(),
    )


def _validate(sarif: bytes) -> dict:  # type: ignore[type-arg]
    log = json.loads(sarif)
    validator = jsonschema.Draft4Validator(
        SARIF_SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, [e.message for e in errors[:5]]
    return log  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("name", "baseline"),
    [
        ("candidate-pass", None),
        ("candidate-fail", None),
        ("candidate-fail", "released"),
        ("candidate-waived", "released"),
        ("candidate-regressed", "released"),
    ],
)
def test_sarif_validates_against_the_2_1_0_schema(
    name: str, baseline: str | None, frozen_clock: Callable[[], datetime]
) -> None:
    _, outcome = _gate(name, frozen_clock, baseline)
    log = _validate(render_sarif(outcome))
    assert log["version"] == "2.1.0"
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "ethicsgate"
    for result in log["runs"][0]["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_the_schema_check_can_fail(frozen_clock: Callable[[], datetime]) -> None:
    _, outcome = _gate("candidate-fail", frozen_clock)
    log = json.loads(render_sarif(outcome))
    del log["runs"][0]["results"][0]["message"]
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA)
    assert list(validator.iter_errors(log))


def test_sarif_locates_findings_at_the_rule_and_assertion_lines(
    frozen_clock: Callable[[], datetime],
) -> None:
    loaded, outcome = _gate("candidate-regressed", frozen_clock, "released")
    log = _validate(render_sarif(outcome))
    lines = loaded.policy.path.read_text().splitlines()
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["approval-parity/regression"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert Path(location["artifactLocation"]["uri"]).resolve() == loaded.policy.path.resolve()
    line = lines[location["region"]["startLine"] - 1]
    assert "metric: selection_rate" in line and "max_regression: 0.02" in line

    _, failing = _gate("candidate-fail", frozen_clock)
    result = json.loads(render_sarif(failing))["runs"][0]["results"][0]
    assert result["ruleId"] == "approval-parity" and result["level"] == "error"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert "metric: selection_rate" in lines[region["startLine"] - 1]


def test_sarif_fingerprints_are_stable_and_ignore_the_numbers(
    frozen_clock: Callable[[], datetime],
) -> None:
    _, fail = _gate("candidate-fail", frozen_clock, "released")
    _, regressed = _gate("candidate-regressed", frozen_clock, "released")

    def prints(outcome) -> dict[str, str]:  # type: ignore[no-untyped-def]
        log = json.loads(render_sarif(outcome))
        return {
            r["ruleId"]: r["partialFingerprints"]["ethicsgateFinding/v1"]
            for r in log["runs"][0]["results"]
        }

    assert prints(fail) == prints(fail)
    # the same regression (rule, assertion, group) with other numbers keeps its fingerprint
    assert (
        prints(fail)["approval-parity/regression"]
        == prints(regressed)["approval-parity/regression"]
    )
    assert render_sarif(fail) == render_sarif(fail)


def test_junit_parses_with_standard_parsers(frozen_clock: Callable[[], datetime]) -> None:
    _, outcome = _gate("candidate-fail", frozen_clock, "released")
    data = render_junit(outcome)
    root = ET.fromstring(data)
    assert root.tag == "testsuites"
    assert root.get("tests") == "3" and root.get("failures") == "3"
    names = [case.get("name") for case in root.iter("testcase")]
    assert names == [
        "approval-parity",
        "approval-parity::selection_rate.ratio",
        "approval-parity::selection_rate.ratio::regression",
    ]
    path = Path(outcome.policy_uri)
    for case in root.iter("testcase"):
        assert case.get("file") == outcome.policy_uri
        assert int(case.get("line", "0")) > 1
    assert path.name == "policy.yaml"


def test_junit_with_junitparser(tmp_path: Path, frozen_clock: Callable[[], datetime]) -> None:
    _, outcome = _gate("candidate-waived", frozen_clock, "released")
    path = tmp_path / "junit.xml"
    path.write_bytes(render_junit(outcome))
    xml = JUnitXml.fromfile(str(path))
    suite = next(iter(xml))
    assert suite.tests == 3 and suite.failures == 0 and suite.skipped == 3
    for case in suite:
        assert case.is_skipped and case.result[0].message.startswith("waived:")


def test_summary_says_the_verdict_in_words(frozen_clock: Callable[[], datetime]) -> None:
    _, blocked = _gate("candidate-regressed", frozen_clock, "released")
    text = render_summary(blocked)
    assert text.startswith("## ethicsgate gate `candidate-regressed`: ✘ Release blocked")
    assert (
        "| `approval-parity` | selection_rate.ratio | group = B | 0.95 | 0.85 | 0.1 | 0.02 | ✘ blocks |"
        in text
    )
    _, waived = _gate("candidate-waived", frozen_clock, "released")
    text = render_summary(waived)
    assert "✔ PASS" in text and "~ Failed, but waived" in text and "### Waivers" in text


def test_outputs_stay_well_formed_with_control_characters_in_the_evidence(
    make_audit: Callable[..., Path], frozen_clock: Callable[[], datetime]
) -> None:
    """XML 1.0 cannot hold ESC, BEL or NUL even escaped: a category holding them made the
    JUnit file unparseable; it and the Markdown summary show them as escapes instead."""
    hostile = "\x1b]0;x\x07\x00 | [a](b)"
    rows = "".join(f'"{hostile}",{i % 2},{int(i == 0)}\n' for i in range(10)) + "b,1,1\n" * 9
    loaded = load_audit_spec(make_audit("group,label,prediction\n" + rows))
    outcome = evaluate_gate(loaded, run_audit(loaded, clock=frozen_clock))
    root = ET.fromstring(render_junit(outcome))
    messages = [f.get("message", "") for f in root.iter("failure")]
    assert messages and all("group=\\x1b]0;x\\x07\\x00 | [a](b)" in m for m in messages)
    summary = render_summary(outcome)
    assert "\x1b" not in summary and "\\| \\[a\\](b)" in summary
    _validate(render_sarif(outcome))


def test_run_gate_writes_the_audit_report_and_ci_files(
    frozen_clock: Callable[[], datetime], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethicsgate.session.audit import run_and_report
    from ethicsgate.session.gate import run_gate

    monkeypatch.chdir(tmp_path)
    released = run_and_report(PIPELINE / "released.yaml", out=tmp_path / "r", clock=frozen_clock)
    run = run_gate(
        PIPELINE / "candidate-regressed.yaml",
        baseline=released.written["report.json"],
        out=tmp_path / "g",
        junit=tmp_path / "ci" / "junit.xml",
        sarif=tmp_path / "ci" / "gate.sarif",
        significance_level=1.0,  # count the 0.95 -> 0.85 drop although it is within noise
        clock=frozen_clock,
    )
    audit = run_and_report(
        PIPELINE / "candidate-regressed.yaml", out=tmp_path / "a", clock=frozen_clock
    )
    assert run.report.files == audit.files, "the gate writes the report an audit writes"
    assert run.ci_files["junit"].read_bytes() == render_junit(run.outcome)
    assert run.ci_files["sarif"].read_bytes() == render_sarif(run.outcome)
    assert run.summary == render_summary(run.outcome)
    data = json.loads(run.to_json())
    assert data["report"] == str(tmp_path / "g" / "report.json")
    assert data["status"] == run.outcome.status and not run.outcome.passed
    assert data["regressions"] and data["rules"] == {
        r.id: r.status.value for r in run.outcome.result.rules
    }
