"""fairlearn, the definition and the oracle: the metric callables and ``MetricFrame`` on counts.

The only module that imports fairlearn (and through it scikit-learn, about a second). The audit
path computes the metrics from the counts itself (:mod:`ethicsgate.metrics.counts`); this module
is what those values are checked against: the oracle tests run ``MetricFrame`` on the raw rows
with :func:`metric_functions`, and :func:`compute_group_metrics` runs it on the grouped rows
with ``sample_weight = n``, which gives the same values as on the raw rows (every weighted sum
is an integer well below 2**53).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ethicsgate.metrics import LABEL, METRICS, PREDICTION, Cell
from ethicsgate.metrics.counts import as_multiindex, cells_mask, group_keys

__all__ = [
    "CROSS_CHECK_TOLERANCE",
    "compute_group_metrics",
    "cross_check",
    "metric_functions",
    "share_of_all",
]


MetricFunction = Callable[..., float]


def _weighted_share(numerator: tuple[Cell, ...], denominator: tuple[Cell, ...]) -> MetricFunction:
    def metric(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        weight = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight)
        den = float(weight[cells_mask(denominator, y_true, y_pred)].sum())
        num = float(weight[cells_mask(numerator, y_true, y_pred)].sum())
        return num / den if den else float("nan")

    return metric


def _predicted_positives(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    # the numerator of ppr: a group's ppr is this over its value for all the groups together
    weight = np.ones(len(y_pred)) if sample_weight is None else np.asarray(sample_weight)
    return float(weight[np.asarray(y_pred) == 1].sum())


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
    A share-of-all metric (``ppr``) maps to its numerator (the group's predicted positives):
    MetricFrame computes a function per group, so its value is that function's ``by_group``
    divided by its ``overall`` (:func:`share_of_all`).
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
        "ppr": _predicted_positives,
        "count": _weighted_count,
    }
    for metric_id, spec in METRICS.items():
        if metric_id not in functions:
            assert spec.denominator is not None
            functions[metric_id] = _weighted_share(spec.numerator, spec.denominator)
    return functions


def share_of_all(by_group: Any, total: float) -> Any:
    """Return a share-of-all metric from its numerator per group and over all groups (0/0: NaN)."""
    return by_group / total if total else by_group * np.nan


def _cells_sum(frame: pd.DataFrame, cells: Sequence[Cell]) -> pd.Series:
    labels = frame[LABEL].to_numpy() if LABEL in frame else None
    predictions = frame[PREDICTION].to_numpy() if PREDICTION in frame else None
    return frame["n"].where(cells_mask(cells, labels, predictions), 0)


def compute_group_metrics(
    counts: pd.DataFrame,
    *,
    features: Sequence[str],
    metrics: Sequence[str],
    totals: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, float | None], pd.Series]:
    """Compute metrics per group with fairlearn ``MetricFrame`` on weighted, aggregated rows.

    ``counts`` has the feature columns, ``label`` and/or ``prediction`` (0/1) and ``n``.
    Returns the per-group metrics (index: group tuples; undefined values as NaN), the overall
    metrics (``None`` where undefined) and the group sizes. ``totals``: the all-groups
    numerator of a share-of-all metric when ``counts`` holds only some of the groups (default:
    MetricFrame's ``overall`` on ``counts``).
    """
    from fairlearn.metrics import MetricFrame

    features = list(features)
    frame = counts.copy()
    for feature, column in zip(features, group_keys(counts, features), strict=True):
        frame[feature] = column
    has_label, has_pred = LABEL in frame, PREDICTION in frame
    if not has_label and not has_pred:  # only counts (e.g. a rule of LL144 tables only)
        frame[PREDICTION] = 0
        has_pred = True
    y_true = frame[LABEL] if has_label else frame[PREDICTION]
    y_pred = frame[PREDICTION] if has_pred else frame[LABEL]
    functions = metric_functions()
    chosen = {m: functions[m] for m in metrics}
    weight = frame["n"].to_numpy(dtype=np.float64)
    with warnings.catch_warnings():
        # 0/0 is detected from the counts below; fairlearn and sklearn warn and return 0 or nan
        warnings.simplefilter("ignore")
        mf = MetricFrame(
            metrics=chosen,
            y_true=y_true.to_numpy(dtype=np.int64),
            y_pred=y_pred.to_numpy(dtype=np.int64),
            sensitive_features=frame[features],
            sample_params={m: {"sample_weight": weight} for m in chosen},
        )
    by_group = mf.by_group.astype(float)
    by_group.index = as_multiindex(by_group.index, features)
    overall_series = mf.overall

    # Undefined (0/0) from the counts themselves: fairlearn would report 0 for some of them.
    keys = [frame[f] for f in features]
    sizes = frame.groupby(keys, sort=False)["n"].sum()
    sizes.index = as_multiindex(sizes.index, features)
    overall: dict[str, float | int | None] = {}
    for metric in metrics:
        spec = METRICS[metric]
        if spec.denominator is None:  # a count of people: an integer, never undefined
            overall[metric] = int(overall_series[metric])
            continue
        if spec.scope == "all":  # a share of all: the groups' numerators over their total
            total = float(overall_series[metric])
            if totals is not None and metric in totals:
                total = totals[metric]
            by_group[metric] = share_of_all(by_group[metric], total)
            overall[metric] = None if total == 0 else float(overall_series[metric]) / total
            continue
        den = _cells_sum(frame, spec.denominator)
        den_by_group = den.groupby(keys, sort=False).sum()
        den_by_group.index = as_multiindex(den_by_group.index, features)
        zero = den_by_group.reindex(by_group.index) == 0
        by_group.loc[zero.to_numpy(), metric] = np.nan
        overall[metric] = None if den.sum() == 0 else float(overall_series[metric])
    # fairlearn lists every combination of feature values; keep the groups that have people
    sizes = sizes.reindex(by_group.index)
    present = sizes.notna().to_numpy() & (sizes.fillna(0).to_numpy() > 0)
    return by_group[present], overall, sizes[present].astype("int64")


#: The largest |difference| between ethicsgate's and fairlearn's values that counts as
#: agreement: both divide the same exact integer sums, so they should be equal to the bit.
CROSS_CHECK_TOLERANCE = 1e-12
CROSS_CHECK_METHOD = (
    "fairlearn MetricFrame on the grouped rows (sample_weight = count), for the first groups "
    "in report order"
)


def cross_check(
    counts: pd.DataFrame,
    *,
    features: Sequence[str],
    metrics: Sequence[str],
    by_group: pd.DataFrame,
    max_groups: int,
) -> dict[str, Any]:
    """Recompute up to ``max_groups`` groups' metrics with ``MetricFrame``; compare with ours.

    ``by_group`` holds ethicsgate's values, indexed by group tuples (missing values as
    ``MISSING``) in report order; the first ``max_groups`` of them are recomputed from their
    rows of ``counts``. Returns the fields of
    :class:`~ethicsgate.rules.results.CrossCheck`.
    """
    from importlib import metadata

    features = list(features)
    keys = list(by_group.index[:max_groups])
    wanted = set(keys)
    row_keys = zip(*group_keys(counts, features), strict=True)
    mask = np.fromiter((key in wanted for key in row_keys), dtype=bool, count=len(counts))
    # a share-of-all metric (ppr) divides by all the groups, not only the ones recomputed
    functions = metric_functions()
    labels = counts[LABEL if LABEL in counts else PREDICTION].to_numpy(dtype=np.int64)
    predictions = counts[PREDICTION if PREDICTION in counts else LABEL].to_numpy(dtype=np.int64)
    totals = {
        m: float(functions[m](labels, predictions, sample_weight=counts["n"].to_numpy()))
        for m in metrics
        if METRICS[m].scope == "all"
    }
    theirs, _, _ = compute_group_metrics(
        counts[mask], features=features, metrics=metrics, totals=totals
    )
    ours = by_group.loc[keys, list(metrics)].to_numpy(dtype=np.float64)
    other = theirs.reindex(by_group.index[:max_groups])[list(metrics)].to_numpy(dtype=np.float64)
    same_undefined = bool(np.array_equal(np.isnan(ours), np.isnan(other)))
    both = ~np.isnan(ours) & ~np.isnan(other)
    worst = float(np.max(np.abs(ours[both] - other[both]), initial=0.0))
    return {
        "method": CROSS_CHECK_METHOD,
        "fairlearn_version": metadata.version("fairlearn"),
        "groups_checked": len(keys),
        "groups_total": len(by_group),
        "values_compared": int(ours.size),
        "max_abs_difference": worst,
        "tolerance": CROSS_CHECK_TOLERANCE,
        "agrees": same_undefined and worst <= CROSS_CHECK_TOLERANCE,
    }
