"""Golden files: compare produced bytes with a committed file; regenerate only on purpose.

Set ``ETHICSGATE_REGENERATE_GOLDEN=1`` to rewrite the goldens a run touches. Every test that
rewrites one fails (a run that regenerates its goldens has checked nothing); review the diff,
then rerun without the variable.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

from ethicsgate.canonical import canonical_json

__all__ = ["GOLDEN_DIR", "REGENERATE_GOLDEN", "assert_matches_golden", "regenerated"]

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
REGENERATE_GOLDEN = "ETHICSGATE_REGENERATE_GOLDEN"
# what a report records about the machine that made it, not about the audit
_MACHINE_FIELDS = ("engine", "ethicsgate_version")
_regenerated: list[Path] = []


def regenerated() -> list[Path]:
    """Return the golden files this run rewrote, in order."""
    return list(_regenerated)


def shown(path: Path) -> str:
    """Return ``path`` relative to the repository root when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _canonical(data: object) -> bytes:
    return canonical_json(data)


def _with_golden_machine(produced: bytes, golden: bytes) -> bytes:
    """Return ``produced`` with the golden's library versions, when both are canonical reports.

    Only the two machine fields may differ; the swap re-serialises ``produced`` only when it is
    canonical (re-serialising gives its own bytes back), so no other byte changes on the way.
    """
    try:
        data, want = json.loads(produced), json.loads(golden)
    except ValueError:
        return produced
    if not isinstance(data, dict) or not isinstance(want, dict) or _canonical(data) != produced:
        return produced
    audit, want_audit = data.get("audit"), want.get("audit")
    if not isinstance(audit, dict) or not isinstance(want_audit, dict):
        return produced
    for key in _MACHINE_FIELDS:
        if key in audit and key in want_audit:
            audit[key] = want_audit[key]
    return _canonical(data)


def assert_matches_golden(produced: bytes, golden: Path) -> None:
    """Assert that ``produced`` equals the committed ``golden`` file, byte for byte.

    A canonical JSON report is compared with the golden's ``audit.engine`` and
    ``audit.ethicsgate_version`` (library versions differ between machines); every other byte
    must match. With ``ETHICSGATE_REGENERATE_GOLDEN`` set, write ``produced`` to ``golden`` and
    fail.
    """
    if os.environ.get(REGENERATE_GOLDEN):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(produced)
        _regenerated.append(golden)
        pytest.fail(
            f"regenerated {len(_regenerated)} golden file(s) so far (this test: {shown(golden)}); "
            f"review the diff and rerun without {REGENERATE_GOLDEN}",
            pytrace=False,
        )
    if not golden.is_file():
        pytest.fail(
            f"golden file missing: {shown(golden)} (write it with {REGENERATE_GOLDEN}=1, review "
            "it, commit it)",
            pytrace=False,
        )
    expected = golden.read_bytes()
    if _with_golden_machine(produced, expected) != expected:
        diff = difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(),
            produced.decode("utf-8", "replace").splitlines(),
            fromfile=shown(golden),
            tofile="produced",
            lineterm="",
        )
        lines = list(diff)
        more = f"\n... {len(lines) - 80} more diff line(s)" if len(lines) > 80 else ""
        pytest.fail(
            f"{shown(golden)} differs from the produced bytes:\n"
            + "\n".join(lines[:80])
            + more
            + f"\nIf the change is intended, rerun with {REGENERATE_GOLDEN}=1 and review the diff.",
            pytrace=False,
        )
