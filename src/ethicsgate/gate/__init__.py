"""Release gating: baseline comparison and the gate's outcome (its formats are in report/)."""

from ethicsgate.gate.baseline import Regression, compare_to_baseline, load_baseline
from ethicsgate.gate.outcome import GateResult, evaluate_gate

__all__ = [
    "GateResult",
    "Regression",
    "compare_to_baseline",
    "evaluate_gate",
    "load_baseline",
]
