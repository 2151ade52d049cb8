"""Every shipped audit's report.html passes axe-core (WCAG 2.1 A/AA and best practices).

axe runs in headless Chromium (tests/axe.py). The page has one <main> landmark, all content
inside landmarks, and ids that are unique (the failing-bar hatch pattern is defined once).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from tests.axe import require_axe, run_axe
from tests.conftest import ROOT

from ethicsgate.audit import run_audit
from ethicsgate.report import report_files

_skip = require_axe()
if _skip is not None:
    pytestmark = _skip

#: compas-propublica reads a downloaded file; the same report shape is compas-example's.
AUDITS = ["bakery", "compas-example", "nyc-ll144-example"]


@pytest.mark.parametrize("audit", AUDITS)
@pytest.mark.parametrize("signer", [None, "SHA256:" + "ab" * 32], ids=["unsigned", "signed"])
def test_shipped_report_has_no_axe_violations(
    audit: str,
    signer: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    frozen_clock: Callable[[], datetime],
) -> None:
    monkeypatch.chdir(ROOT)
    result = run_audit(Path("audits") / f"{audit}.yaml", clock=frozen_clock)
    page = report_files(result, signer=signer)["report.html"].decode("utf-8")
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert page.count("<main>") == 1
    results = run_axe(page, tmp_path)
    assert results["violations"] == [], json.dumps(results["violations"], indent=2)
    # the checks that failed before really ran and passed
    for rule in ("landmark-one-main", "region", "color-contrast", "html-has-lang"):
        assert rule in results["passes"], rule


def test_windowed_report_with_trend_charts_has_no_axe_violations(
    tmp_path: Path, frozen_clock: Callable[[], datetime]
) -> None:
    from tests.unit.rules.windows_data import DRIFT_POLICY, write_audit, year_of_decisions

    policy = DRIFT_POLICY.replace(
        "    drift:",
        "    uncertainty: {bootstrap_samples: 100, seed: 1}\n    assert:\n"
        '      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}\n    drift:',
    )
    spec = write_audit(tmp_path / "a", year_of_decisions(per_day=40, seed=2), policy=policy)
    page = report_files(run_audit(spec, clock=frozen_clock))["report.html"].decode("utf-8")
    assert page.count('<figure class="chart trend">') == 1 and "<script" not in page
    results = run_axe(page, tmp_path)
    assert results["violations"] == [], json.dumps(results["violations"], indent=2)
    for rule in ("svg-img-alt", "color-contrast", "th-has-data-cells"):
        assert rule in results["passes"], rule
