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
from tests.conftest import PROPUBLICA_CSV, ROOT
from tests.goldens import GOLDEN_DIR, assert_matches_golden

from ethicsgate.audit import run_audit
from ethicsgate.report import report_files

SHIPPED = sorted((ROOT / "audits").glob("*.yaml"))
#: Evidence that is downloaded, not shipped -> the workplace's shared copy of the same bytes.
STAND_INS = {ROOT / "examples" / "compas" / "compas-scores-two-years.csv": PROPUBLICA_CSV}


def _missing_evidence(spec: Path) -> list[Path]:
    """Return the evidence files ``spec`` names (relative to its folder) that do not exist.

    compas-propublica reads examples/compas/, which `ethicsgate examples compas` downloads (the
    file is not shipped: names, no licence).
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
    spec: Path,
    monkeypatch: pytest.MonkeyPatch,
    frozen_clock: Callable[[], datetime],
    tmp_path: Path,
) -> None:
    missing = _missing_evidence(spec)
    if missing and all(STAND_INS.get(p, Path("/nonexistent")).is_file() for p in missing):
        spec = _checkout_with_stand_ins(spec, missing, tmp_path)
    elif missing:
        pytest.skip(
            f"{spec.relative_to(ROOT)}: evidence not shipped and not found: "
            + ", ".join(map(str, missing))
        )
    monkeypatch.chdir(ROOT if spec.is_relative_to(ROOT) else tmp_path)
    result = run_audit(spec.relative_to(Path.cwd()), clock=frozen_clock)
    files = report_files(result, signer=None)
    assert_matches_golden(files["report.json"], GOLDEN_DIR / f"{spec.stem}.report.json")


def _checkout_with_stand_ins(spec: Path, missing: list[Path], tmp_path: Path) -> Path:
    """Return ``spec`` in a copy of the checkout's layout where the downloaded files exist.

    The copy links the policies and the stand-ins, so the report (paths relative to the
    working directory, digests) is byte for byte what a fresh clone writes after
    `ethicsgate examples compas --out examples/compas`.
    """
    (tmp_path / "policies").symlink_to(ROOT / "policies")
    for path in missing:
        link = tmp_path / path.relative_to(ROOT)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(STAND_INS[path])
    copy = tmp_path / spec.relative_to(ROOT)
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(spec.read_bytes())
    return copy
