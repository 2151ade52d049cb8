"""A release pipeline: the released model's report is the baseline of every candidate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from junitparser import JUnitXml

from ethicsgate.cli import cli

HERE = Path(__file__).resolve().parent


def gate(tmp_path: Path, name: str, *extra: str) -> tuple[int, str, Path]:
    out = tmp_path / name
    result = CliRunner().invoke(
        cli,
        [
            "gate",
            str(HERE / f"{name}.yaml"),
            "--out",
            str(out),
            "--junit",
            str(out / "junit.xml"),
            "--sarif",
            str(out / "gate.sarif"),
            *extra,
        ],
        catch_exceptions=False,
    )
    return result.exit_code, result.output, out


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    code, output, out = gate(tmp_path_factory.mktemp("pipeline"), "released")
    assert code == 0, output
    return out / "report.json"


@pytest.mark.parametrize(
    ("candidate", "exit_code", "rule_status", "regressed"),
    [
        ("candidate-pass", 0, "pass", False),
        ("candidate-regressed", 1, "pass", True),
        ("candidate-fail", 1, "fail", True),
        ("candidate-waived", 0, "waived", False),
        ("candidate-expired-waiver", 1, "fail", True),
    ],
)
def test_candidate_against_the_released_model(
    tmp_path: Path,
    released: Path,
    candidate: str,
    exit_code: int,
    rule_status: str,
    regressed: bool,
) -> None:
    # every change beyond the budget counts (level 1): candidate-regressed's drop is noise at
    # the default level, see test_a_drop_within_noise_does_not_block
    code, output, out = gate(
        tmp_path, candidate, "--baseline", str(released), "--significance-level", "1"
    )
    assert code == exit_code, output
    report = json.loads((out / "report.json").read_text())
    assert report["rules"][0]["status"] == rule_status
    assert ("BLOCKS" in output) is regressed
    verdict = "PASS: the release may go ahead" if exit_code == 0 else "BLOCKED"
    assert f"gate {candidate}: {verdict}" in output

    suite = next(iter(JUnitXml.fromfile(str(out / "junit.xml"))))
    cases = {case.name: case for case in suite}
    assert set(cases) == {
        "approval-parity",
        "approval-parity::selection_rate.ratio",
        "approval-parity::selection_rate.ratio::regression",
    }
    regression_case = cases["approval-parity::selection_rate.ratio::regression"]
    assert bool(regression_case.result) == (regressed or rule_status == "waived")
    sarif = json.loads((out / "gate.sarif").read_text())
    rule_ids = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert ("approval-parity/regression" in rule_ids) == (regressed or rule_status == "waived")


def test_a_drop_within_noise_does_not_block(tmp_path: Path, released: Path) -> None:
    # group B: 95 of 200 selected -> 85 of 200; ratio to A 0.95 -> 0.85, beyond the budget of
    # 0.02 but not significant (z-test of the change in the log ratio, p = 0.456)
    code, output, out = gate(tmp_path, "candidate-regressed", "--baseline", str(released))
    assert code == 0, output
    assert "BLOCKS" not in output
    assert (
        "· WITHIN NOISE approval-parity selection_rate.ratio: the worst value went from 0.95 "
        "to 0.85 (group = B), worse by 0.1 (budget 0.02); z-test of the change in the log "
        "ratio: p = 0.456, not significant at 0.05 [does not block]"
    ) in output
    assert "gate candidate-regressed: PASS: the release may go ahead" in output
    suite = next(iter(JUnitXml.fromfile(str(out / "junit.xml"))))
    cases = {case.name: case for case in suite}
    assert not cases["approval-parity::selection_rate.ratio::regression"].result


def test_waived_shows_as_waived_in_every_output(tmp_path: Path, released: Path) -> None:
    code, output, out = gate(tmp_path, "candidate-waived", "--baseline", str(released))
    assert code == 0
    assert "WAIVED" in output and "[waived]" in output
    report = json.loads((out / "report.json").read_text())
    rule = report["rules"][0]
    assert rule["status"] == "waived" and rule["assertions"][0]["status"] == "waived"
    assert rule["waivers"][0]["approver"] == "Chief Risk Officer"
    assert report["summary"]["waived"] == 1 and report["status"] == "pass"
    assert "Failed, but waived" in (out / "report.html").read_text()
    assert "Failed, but waived" in (out / "report.md").read_text()
    suite = next(iter(JUnitXml.fromfile(str(out / "junit.xml"))))
    skipped = {c.name: c.result[0].message for c in suite if c.result}
    assert skipped["approval-parity"].startswith("waived:")
    sarif = json.loads((out / "gate.sarif").read_text())
    for result in sarif["runs"][0]["results"]:
        assert result["suppressions"][0]["status"] == "accepted"


def test_expired_waiver_is_reported_but_does_not_waive(tmp_path: Path) -> None:
    code, output, out = gate(tmp_path, "candidate-expired-waiver")
    assert code == 1
    rule = json.loads((out / "report.json").read_text())["rules"][0]
    assert rule["status"] == "fail"
    assert rule["waivers"] == [
        {
            "rule": "approval-parity",
            "metric": "selection_rate",
            "group": {"group": "B"},
            "reason": "Known data gap for group B; a corrected model ships in Q2.",
            "approver": "Chief Risk Officer",
            "expires": "2020-01-31",
            "expired": True,
        }
    ]
    assert "waiver by Chief Risk Officer expired on 2020-01-31" in output


def test_baseline_that_is_not_a_report_exits_2(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"status": "pass"}')
    code, output, out = gate(tmp_path, "candidate-pass", "--baseline", str(bogus))
    assert code == 2
    assert f"{bogus}: baseline report is not a valid report.json" in output
    assert "Traceback" not in output
    assert not out.exists()
