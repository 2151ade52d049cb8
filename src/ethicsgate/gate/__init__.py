"""Release gating: baseline comparison and the gate's outcome (its formats are in report/)."""

from ethicsgate.gate.baseline import (
    DEFAULT_SIGNIFICANCE_LEVEL,
    BaselineComparison,
    NotCompared,
    Regression,
    compare_to_baseline,
    compare_with_baseline,
    load_baseline,
)
from ethicsgate.gate.outcome import GateResult, evaluate_gate

__all__ = [
    "DEFAULT_SIGNIFICANCE_LEVEL",
    "BaselineComparison",
    "GateResult",
    "NotCompared",
    "Regression",
    "compare_to_baseline",
    "compare_with_baseline",
    "evaluate_gate",
    "load_baseline",
]
