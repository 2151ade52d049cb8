"""The metric table: every group metric by id, its formula, and the function that computes it.

Ids and definitions follow fairlearn (``selection_rate``, ``false_positive_rate``, ...). Each
metric is a ratio of two sums over the confusion cells, which lets the auditor detect 0/0 from
the counts (fairlearn and scikit-learn return 0 with a warning there) and report ``null``.

Cells are ``(label, prediction)`` pairs; ``None`` is a wildcard. fairlearn and scikit-learn are
imported only when metrics are computed (``ethicsgate --help`` must stay instant).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_args

import numpy as np

__all__ = ["METRICS", "MetricId", "MetricSpec", "metric_functions"]

MetricId = Literal[
    "selection_rate",
    "base_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "true_negative_rate",
    "precision",
    "false_discovery_rate",
    "false_omission_rate",
    "accuracy",
    "count",
]

Cell = tuple[int | None, int | None]
ALL: tuple[Cell, ...] = ((None, None),)


@dataclass(frozen=True)
class MetricSpec:
    """One metric: what it means, its formula over confusion cells, and what it reads."""

    id: str
    title: str
    formula: str
    description: str
    numerator: tuple[Cell, ...]
    denominator: tuple[Cell, ...] | None  # None: the metric is a count, never undefined
    needs_label: bool
    needs_prediction: bool
    higher_is: Literal["better", "worse", "neutral"] = "neutral"


def _spec(
    id: str,
    title: str,
    formula: str,
    description: str,
    numerator: tuple[Cell, ...],
    denominator: tuple[Cell, ...] | None,
    higher_is: Literal["better", "worse", "neutral"] = "neutral",
) -> MetricSpec:
    cells = numerator + (denominator or ())
    return MetricSpec(
        id=id,
        title=title,
        formula=formula,
        description=description,
        numerator=numerator,
        denominator=denominator,
        needs_label=any(c[0] is not None for c in cells),
        needs_prediction=any(c[1] is not None for c in cells),
        higher_is=higher_is,
    )


METRICS: dict[str, MetricSpec] = {
    m.id: m
    for m in (
        _spec(
            "selection_rate",
            "Selection rate",
            "(TP + FP) / N",
            "Share of people the system selected (predicted 1).",
            ((None, 1),),
            ALL,
        ),
        _spec(
            "base_rate",
            "Base rate",
            "(TP + FN) / N",
            "Share of people whose true label is 1.",
            ((1, None),),
            ALL,
        ),
        _spec(
            "true_positive_rate",
            "True positive rate (recall)",
            "TP / (TP + FN)",
            "Of the people whose true label is 1, the share the system selected.",
            ((1, 1),),
            ((1, None),),
            "better",
        ),
        _spec(
            "false_positive_rate",
            "False positive rate",
            "FP / (FP + TN)",
            "Of the people whose true label is 0, the share the system wrongly selected.",
            ((0, 1),),
            ((0, None),),
            "worse",
        ),
        _spec(
            "false_negative_rate",
            "False negative rate",
            "FN / (TP + FN)",
            "Of the people whose true label is 1, the share the system missed.",
            ((1, 0),),
            ((1, None),),
            "worse",
        ),
        _spec(
            "true_negative_rate",
            "True negative rate (specificity)",
            "TN / (FP + TN)",
            "Of the people whose true label is 0, the share the system correctly left out.",
            ((0, 0),),
            ((0, None),),
            "better",
        ),
        _spec(
            "precision",
            "Precision",
            "TP / (TP + FP)",
            "Of the people the system selected, the share whose true label is 1.",
            ((1, 1),),
            ((None, 1),),
            "better",
        ),
        _spec(
            "false_discovery_rate",
            "False discovery rate",
            "FP / (TP + FP)",
            "Of the people the system selected, the share whose true label is 0.",
            ((0, 1),),
            ((None, 1),),
            "worse",
        ),
        _spec(
            "false_omission_rate",
            "False omission rate",
            "FN / (FN + TN)",
            "Of the people the system left out, the share whose true label is 1.",
            ((1, 0),),
            ((None, 0),),
            "worse",
        ),
        _spec(
            "accuracy",
            "Accuracy",
            "(TP + TN) / N",
            "Share of people the system classified correctly.",
            ((1, 1), (0, 0)),
            ALL,
            "better",
        ),
        _spec("count", "Count", "N", "Number of people in the group.", ALL, None),
    )
}

assert set(METRICS) == set(get_args(MetricId)), "METRICS and MetricId disagree"

MetricFunction = Callable[..., float]


def _weighted_share(numerator: tuple[Cell, ...], denominator: tuple[Cell, ...]) -> MetricFunction:
    def _mask(cells: tuple[Cell, ...], y_true: Any, y_pred: Any) -> Any:
        mask = np.zeros(len(y_true), dtype=bool)
        for label, pred in cells:
            part = np.ones(len(y_true), dtype=bool)
            if label is not None:
                part &= y_true == label
            if pred is not None:
                part &= y_pred == pred
            mask |= part
        return mask

    def metric(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        weight = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight)
        den = float(weight[_mask(denominator, y_true, y_pred)].sum())
        num = float(weight[_mask(numerator, y_true, y_pred)].sum())
        return num / den if den else float("nan")

    return metric


def _weighted_count(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    # fairlearn.metrics.count takes no sample_weight: on aggregated rows it would count rows
    if sample_weight is None:
        return float(len(y_true))
    return float(np.asarray(sample_weight).sum())


@cache
def metric_functions() -> dict[str, MetricFunction]:
    """Return the callable for every metric id, taking ``(y_true, y_pred, sample_weight)``.

    fairlearn's and scikit-learn's own functions are used where they exist; the rest
    (base rate, false discovery and omission rates, weighted count) follow the same formulas.
    """
    import fairlearn.metrics as flm
    from sklearn.metrics import accuracy_score, precision_score

    def precision(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        return float(
            precision_score(y_true, y_pred, sample_weight=sample_weight, zero_division=np.nan)
        )

    def base_rate(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        return float(flm.selection_rate(y_true, y_true, sample_weight=sample_weight))

    functions: dict[str, MetricFunction] = {
        "selection_rate": flm.selection_rate,
        "base_rate": base_rate,
        "true_positive_rate": flm.true_positive_rate,
        "false_positive_rate": flm.false_positive_rate,
        "false_negative_rate": flm.false_negative_rate,
        "true_negative_rate": flm.true_negative_rate,
        "precision": precision,
        "accuracy": accuracy_score,
        "count": _weighted_count,
    }
    for metric_id, spec in METRICS.items():
        if metric_id not in functions:
            assert spec.denominator is not None
            functions[metric_id] = _weighted_share(spec.numerator, spec.denominator)
    return functions
