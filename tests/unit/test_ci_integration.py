"""The GitHub composite action's shell steps and the pre-commit hook, run for real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.conftest import ROOT

PIPELINE = ROOT / "tests" / "scenarios" / "gate_pipeline"
BIN = Path(sys.executable).parent


def _step(name: str) -> dict[str, object]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    return next(s for s in action["runs"]["steps"] if s.get("name") == name)


def _run_step(name: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    step = _step(name)
    script = str(step["run"])
    full_env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(("audit", "code"), [("candidate-pass", "0"), ("candidate-fail", "1")])
def test_action_gate_step_records_the_exit_code(tmp_path: Path, audit: str, code: str) -> None:
    work = tmp_path / "repo"
    shutil.copytree(PIPELINE, work, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    outputs, summary = tmp_path / "outputs", tmp_path / "summary.md"
    env = {
        "AUDIT": f"{audit}.yaml",
        "BASELINE": "",
        "MAX_REGRESSION": "0",
        "OUT": "report",
        "JUNIT": "junit.xml",
        "SARIF": "gate.sarif",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    gate = _run_step("Run the gate", env, work)
    assert gate.returncode == 0, gate.stderr  # the job fails later, after the SARIF upload
    assert outputs.read_text() == f"exit-code={code}\n"
    assert (work / "junit.xml").is_file() and (work / "gate.sarif").is_file()
    assert "## ethicsgate gate" in summary.read_text()
    final = _run_step("Fail when the gate did not pass", {"CODE": code}, work)
    assert final.returncode == int(code)


def test_pre_commit_hook_checks_policies(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "ethicsgate-policy-check")
    pattern = re.compile(hook["files"])
    assert pattern.search("policies/hiring.yaml") and pattern.search("policies/a.yml")
    assert not pattern.search("audits/compas-example.yaml")
    entry = hook["entry"].split()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    good = subprocess.run(
        [*entry, str(ROOT / "policies" / "recidivism-fairness.yaml")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0, good.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nid: x\n")
    failed = subprocess.run([*entry, str(bad)], env=env, capture_output=True, text=True)
    assert failed.returncode == 2 and "bad.yaml" in failed.stderr
