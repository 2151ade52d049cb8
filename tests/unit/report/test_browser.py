"""The HTML report in a real browser (Debian's Chromium, headless): it renders, offline."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.conftest import ROOT

from ethicsgate.audit import run_audit
from ethicsgate.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must have Chromium: .ci/run installs Debian's chromium package")
    pytestmark = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium)")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_report_renders_in_chromium(tmp_path: Path) -> None:
    result = run_audit(ROOT / "audits" / "compas-example.yaml")
    html = write_report(result, tmp_path / "r")["report.html"]
    dom = _chromium(tmp_path, "--dump-dom", html.as_uri()).stdout
    assert "Overall result: Failed" in dom
    assert "race = African-American" in dom and "44.85 %" in dom
    assert dom.count('<figure class="chart">') == 3  # + one <svg> holding the shared pattern
    shot = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2400", html.as_uri())
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000  # a real, non-blank page
