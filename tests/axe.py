"""axe-core in headless Chromium: the accessibility check every HTML page of ethicsgate passes.

axe-core is a test-only npm dependency (tests/browser/package.json; `.ci/run` installs it with
`npm ci --prefix tests/browser`). The page is copied next to axe.min.js with two scripts added
that run axe and write its results into an attribute of <html>; `--dump-dom` returns them.
In CI (CI=true) a missing Chromium or axe-core fails the test module instead of skipping it:
call :func:`require_axe` at the top of the module.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ROOT

AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--allow-file-access-from-files",
    "--virtual-time-budget=30000",
]
RUN_AXE = """<script src="axe.min.js"></script>
<script>
axe.run(document, {runOnly: {type: "tag",
    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
  .then(function (r) {
    var brief = function (list) { return list.map(function (v) {
      return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(function (n) {
        return n.target.join(" ") + ": " + (n.failureSummary || ""); })}; }); };
    document.documentElement.setAttribute("data-axe", JSON.stringify({
      version: axe.version, violations: brief(r.violations), incomplete: brief(r.incomplete),
      passes: r.passes.map(function (v) { return v.id; })}));
  }, function (e) { document.documentElement.setAttribute("data-axe-error", String(e)); });
</script>
</body>"""


def require_axe() -> pytest.MarkDecorator | None:
    """Return a skip mark when Chromium or axe-core is missing (raise in CI), else None."""
    missing = [w for w, ok in (("Chromium", CHROMIUM), ("axe-core", AXE.is_file())) if not ok]
    if not missing:
        return None
    if os.environ.get("CI"):
        raise RuntimeError(
            f"CI must have {' and '.join(missing)}: .ci/run installs chromium and runs "
            "`npm ci --prefix tests/browser`"
        )
    return pytest.mark.skip(
        reason=f"{' and '.join(missing)} missing (apt-get install chromium; "
        "npm ci --prefix tests/browser)"
    )


def run_axe(page: str, tmp_path: Path) -> dict[str, Any]:
    """Return axe-core's results for the HTML text ``page``, rendered in Chromium."""
    assert page.count("</body>") == 1
    folder = tmp_path / "axe"
    folder.mkdir()
    shutil.copy(AXE, folder / "axe.min.js")
    target = folder / "page.html"
    target.write_text(page.replace("</body>", RUN_AXE), encoding="utf-8")
    proc = subprocess.run(
        [
            str(CHROMIUM),
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            target.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    error = re.search(r'data-axe-error="([^"]*)"', proc.stdout)
    assert error is None, html.unescape(error.group(1))
    found = re.search(r'data-axe="([^"]*)"', proc.stdout)
    assert found, f"axe did not report (stderr: {proc.stderr[-500:]})"
    return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]
