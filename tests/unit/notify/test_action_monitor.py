"""The GitHub action's monitoring mode (command: audit, record, notify), its shell step run for real."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.unit.notify.conftest import Hook
from tests.unit.test_ci_integration import PIPELINE, _run_step

BIN = Path(sys.executable).parent


def test_action_audit_records_and_notifies(tmp_path: Path, hook: Hook) -> None:
    work = tmp_path / "repo"
    shutil.copytree(PIPELINE, work, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    outputs = tmp_path / "outputs"
    db = f"sqlite:///{tmp_path / 'history.db'}"
    env = {
        "AUDIT": "candidate-fail.yaml",
        "OUT": "report",
        "COMMAND": "audit",
        "RECORD": "true",
        "DB": db,
        "NOTIFY": f"generic:{hook.url}\n\n",
        "REPORT_URL": "https://ci.example/runs/1",
        "GITHUB_OUTPUT": str(outputs),
    }
    step = _run_step("Run the gate", env, work)
    assert step.returncode == 0, step.stderr
    assert outputs.read_text() == "exit-code=1\n"
    assert "SECRET" not in step.stdout + step.stderr
    assert (work / "report" / "report.json").is_file()
    [body] = hook.bodies
    assert body["report"] == "https://ci.example/runs/1/report.html"
    listed = subprocess.run(
        [BIN / "ethicsgate", "history", "list", "--db", db, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    [run] = json.loads(listed.stdout)["runs"]
    assert run["status"] == "fail"
    final = _run_step("Fail when the gate did not pass", {"CODE": "1", "COMMAND": "audit"}, work)
    assert final.returncode == 1 and "ethicsgate audit: a blocking rule failed" in final.stdout


def test_action_gate_refuses_record_and_notify(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    env = {"AUDIT": "x.yaml", "RECORD": "true", "GITHUB_OUTPUT": str(outputs)}
    step = _run_step("Run the gate", env, tmp_path)
    assert step.returncode == 0
    assert outputs.read_text() == "exit-code=2\n"
    assert "record and notify need command: audit" in step.stdout
