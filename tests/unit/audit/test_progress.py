"""Progress reports of a whole audit: each scan, then the rules' evaluation, each up to 1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ethicsgate.audit import run_audit
from ethicsgate.audit.run import EVALUATING

PASSING = "group,label,prediction\n" + "a,1,1\na,0,0\n" * 5 + "b,1,1\nb,0,0\n" * 5


def test_evaluation_reports_progress_after_the_scans(make_audit: Callable[..., Path]) -> None:
    seen: list[tuple[str, float]] = []
    run_audit(make_audit(PASSING), progress=lambda name, f: seen.append((name, f)))
    names = list(dict.fromkeys(name for name, _ in seen))
    assert names == ["predictions", EVALUATING]  # the scan, then the rules
    evaluating = [f for name, f in seen if name == EVALUATING]
    assert evaluating == sorted(evaluating) and evaluating[0] == 0.0 and evaluating[-1] == 1.0
