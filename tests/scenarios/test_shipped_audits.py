"""The shipped audits (``audits/*.yaml``) render the committed golden ``report.json``, byte for byte.

Each audit runs with the frozen clock from the repository root (the report shows evidence paths
relative to the working directory) and is rendered as ``ethicsgate audit`` renders it, unsigned.
A refactoring that changes one byte of a shipped report fails here; an intended change is
regenerated with ``ETHICSGATE_REGENERATE_GOLDEN=1`` and reviewed in the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from tests.conftest import ROOT
from tests.goldens import GOLDEN_DIR, assert_matches_golden

from ethicsgate.audit import run_audit
from ethicsgate.report import report_files

SHIPPED = sorted((ROOT / "audits").glob("*.yaml"))


def _missing_evidence(spec: Path) -> list[Path]:
    """Return the evidence files ``spec`` names (relative to its folder) that do not exist.

    compas-propublica reads ../../shared/datasets, which is not shipped (names, no licence).
    """
    evidence = yaml.safe_load(spec.read_text(encoding="utf-8"))["evidence"]
    paths = (spec.parent / e["path"] for e in evidence.values())
    return [p.resolve() for p in paths if not p.exists()]


def test_every_shipped_audit_has_a_golden() -> None:
    assert [s.stem for s in SHIPPED] == sorted(
        p.name.removesuffix(".report.json") for p in GOLDEN_DIR.glob("*.report.json")
    )


@pytest.mark.parametrize("spec", SHIPPED, ids=[s.stem for s in SHIPPED])
def test_shipped_audit_report_json_matches_golden(
    spec: Path, monkeypatch: pytest.MonkeyPatch, frozen_clock: Callable[[], datetime]
) -> None:
    missing = _missing_evidence(spec)
    if missing:
        pytest.skip(
            f"{spec.relative_to(ROOT)}: evidence not shipped and not found: "
            + ", ".join(map(str, missing))
        )
    monkeypatch.chdir(ROOT)
    result = run_audit(spec.relative_to(ROOT), clock=frozen_clock)
    files = report_files(result, signer=None)
    assert_matches_golden(files["report.json"], GOLDEN_DIR / f"{spec.stem}.report.json")
