"""Release gating: baseline comparison, and JUnit, SARIF and Markdown outputs for CI."""

from ethicsgate.gate.baseline import Regression, compare_to_baseline, load_baseline
from ethicsgate.gate.junit import render_junit
from ethicsgate.gate.outcome import GateResult, evaluate_gate
from ethicsgate.gate.sarif import render_sarif
from ethicsgate.gate.summary import render_summary

__all__ = [
    "GateResult",
    "Regression",
    "compare_to_baseline",
    "evaluate_gate",
    "load_baseline",
    "render_junit",
    "render_sarif",
    "render_summary",
]
