"""The statement page passes axe-core (WCAG 2.1 A/AA and best practices) in headless Chromium.

How axe runs, and why a missing browser fails CI: tests/axe.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from tests.axe import require_axe, run_axe
from tests.conftest import ROOT

from ethicsgate.publish import build_statement, load_publish_inputs
from ethicsgate.report import render_statement_html

PIPELINE = ROOT / "tests" / "scenarios" / "gate_pipeline"
_skip = require_axe()
if _skip is not None:
    pytestmark = _skip


@pytest.mark.parametrize("audit", ["candidate-waived", "candidate-fail", "candidate-pass"])
def test_statement_page_has_no_axe_violations(
    audit: str, tmp_path: Path, frozen_clock: Callable[[], datetime]
) -> None:
    pack, result = load_publish_inputs(PIPELINE / f"{audit}.yaml", clock=frozen_clock)
    page = render_statement_html(build_statement(pack, result), signer="SHA256:" + "ab" * 32)
    results = run_axe(page, tmp_path)
    assert results["violations"] == [], json.dumps(results["violations"], indent=2)
    # the checks that matter here really ran and passed
    for rule in (
        "html-has-lang",
        "color-contrast",
        "heading-order",
        "page-has-heading-one",
        "document-title",
        "landmark-one-main",
        "th-has-data-cells",
    ):
        assert rule in results["passes"], rule
    assert not [v for v in results["incomplete"] if v["id"] == "color-contrast"]


def test_axe_run_can_fail(tmp_path: Path) -> None:
    bad = """<!DOCTYPE html><html><head><title>x</title></head><body>
<h3>Skipped levels</h3><p style="color:#aaa;background:#fff">Low contrast</p>
<img src="x.png"></body></html>"""
    ids = {v["id"] for v in run_axe(bad, tmp_path)["violations"]}
    assert {"html-has-lang", "color-contrast", "image-alt"} <= ids
