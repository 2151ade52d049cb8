"""What a fairness rule reports beyond its group metrics: intervals, tests, LL144, scores.

:func:`evaluate_fairness <ethicsgate.rules.fairness.evaluate_fairness>` computes the group
metrics, references, ratios and differences; this module adds, from the same counts,

* bootstrap intervals and reference tests of every group metric (``uncertainty``),
* the NYC Local Law 144 tables (``impact_ratio``), and
* ROC AUC and calibration per group (``score_metrics``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ethicsgate.metrics import LABEL, PREDICTION
from ethicsgate.metrics.counts import group_ids
from ethicsgate.policy.models import FairnessRule
from ethicsgate.rules.ll144 import SUCCESS, impact_ratio_tables
from ethicsgate.rules.results import (
    GroupKey,
    GroupScoreResult,
    ImpactRatioResult,
    ReferenceValue,
    ScoreSummary,
    UncertaintyInfo,
)
from ethicsgate.rules.scores import SCORE_KEY, SCORE_SUM, ScoreContext, group_score_results
from ethicsgate.rules.uncertainty import GroupUncertainty, TestMethod, group_uncertainty

__all__ = ["FairnessExtras", "cell_table", "fairness_extras", "rule_counts"]


BOOTSTRAP_METHOD = (
    "stratified bootstrap of the aggregated counts (each group's cells drawn from a multinomial "
    "with the group's size and observed cell shares), percentile intervals"
)
#: Added to :data:`BOOTSTRAP_METHOD` when the rule computes ROC AUC (``score_metrics``).
DELONG_METHOD = (
    "ROC AUC intervals use DeLong's variance from the score counts, normal on the logit scale"
)


@dataclass
class FairnessExtras:
    """Extra fields of a fairness rule's result, per group and for the rule."""

    groups: int
    uncertainty: GroupUncertainty | None = None
    group_scores: list[GroupScoreResult | None] | None = None
    info: UncertaintyInfo | None = None
    impact_ratio: ImpactRatioResult | None = None
    score: ScoreSummary | None = None
    notes: list[str] = field(default_factory=list)

    def p_values(self, metric: str) -> list[float | None] | None:
        """Return each group's p-value for ``metric``, or None when no tests ran."""
        return self.uncertainty.p_values(metric) if self.uncertainty is not None else None

    def group_columns(self) -> dict[str, Any]:
        """Return the per-group columns of these extras as :class:`GroupColumns` arguments."""
        found = self.uncertainty
        columns: dict[str, Any] = {"score": self.group_scores}
        if found is not None:
            columns.update(
                intervals=found.intervals,
                ratio_intervals=found.ratio_intervals,
                difference_intervals=found.difference_intervals,
                tests=found.tests,
            )
        return columns


def rule_counts(
    rule: FairnessRule, counts: pd.DataFrame, scores: ScoreContext | None
) -> pd.DataFrame:
    """Return the dataset's counts as this rule reads them: prediction from its threshold."""
    if rule.threshold is not None and rule.needs_prediction:
        if scores is None or scores.prediction is None:
            raise ValueError(f"rule {rule.id!r}: the counts lack the thresholded prediction")
        counts = counts.drop(columns=[PREDICTION], errors="ignore")
        counts = counts.rename(columns={scores.prediction: PREDICTION})
    return counts


def cell_table(
    counts: pd.DataFrame, ids: np.ndarray, n_groups: int
) -> tuple[np.ndarray, list[tuple[int | None, int | None]]]:
    """Return each group's count of people per (label, prediction) column, and the columns.

    ``ids`` are the rows' groups (-1: none); a role the counts lack is one None column.
    """
    has_label, has_pred = LABEL in counts, PREDICTION in counts
    labels = counts[LABEL].to_numpy(dtype=np.int64) if has_label else None
    preds = counts[PREDICTION].to_numpy(dtype=np.int64) if has_pred else None
    columns: list[tuple[int | None, int | None]] = [
        (label, pred)
        for label in ((0, 1) if has_label else (None,))
        for pred in ((0, 1) if has_pred else (None,))
    ]
    # each row's column: label * 2 + prediction over the (label, prediction) pairs above
    column = np.zeros(len(counts), dtype=np.int64)
    for values, width in ((labels, 2 if has_pred else 1), (preds, 1)):
        if values is not None:
            if not np.isin(values, (0, 1)).all():
                raise ValueError("labels and predictions must be 0 or 1")
            column += values * width
    table = np.zeros((n_groups, len(columns)), dtype=np.int64)
    n = counts["n"].to_numpy(dtype=np.int64)
    known = ids >= 0
    np.add.at(table, (ids[known], column[known]), n[known])
    return table, columns


def fairness_extras(
    rule: FairnessRule,
    *,
    full: pd.DataFrame,
    counts: pd.DataFrame,
    groups: list[GroupKey],
    keys: Sequence[np.ndarray],
    excluded: list[bool],
    references: dict[str, ReferenceValue],
    scores: ScoreContext | None,
) -> FairnessExtras:
    """Return intervals, tests, LL144 tables and score metrics of a fairness rule.

    ``full`` is the dataset's counts as :func:`rule_counts` returns them (with score and
    above-median columns); ``counts`` is the same aggregated to the rule's features, label
    and prediction; ``groups``, ``excluded`` and ``references`` are the rule's groups in
    report order and its reference per metric; ``keys`` are the groups' values per feature
    as :func:`level_keys` gives them.
    """
    features = list(rule.sensitive_features)
    extras = FairnessExtras(groups=len(groups))
    significance = any(a.significant_at is not None for a in rule.assertions)
    test: TestMethod | None = "auto" if significance else None
    if rule.uncertainty is not None:
        test = rule.uncertainty.test

    if rule.uncertainty is not None or test is not None:
        ids = group_ids(counts, features, keys)
        cells, columns = cell_table(counts, ids, len(groups))
        ref_index: dict[str, int | None] = {}
        for metric, ref in references.items():
            if ref.value is None:
                continue
            if ref.group is None:
                ref_index[metric] = None
            elif ref.group in groups:
                ref_index[metric] = groups.index(ref.group)
        extras.uncertainty = group_uncertainty(
            cells,
            columns,
            metrics=[m for m in rule.all_metrics if m != "count"],
            references=ref_index,
            excluded=excluded,
            options=rule.uncertainty,
            test=test,
        )
    if rule.uncertainty is not None:
        extras.info = UncertaintyInfo(
            method=BOOTSTRAP_METHOD
            + (f"; {DELONG_METHOD}" if "roc_auc" in rule.score_metrics else ""),
            bootstrap_samples=rule.uncertainty.bootstrap_samples,
            confidence_level=rule.uncertainty.confidence_level,
            seed=rule.uncertainty.seed,
            test=rule.uncertainty.test,
        )

    if rule.impact_ratio is not None:
        success = PREDICTION if rule.impact_ratio == "selection" else None
        if rule.impact_ratio == "scoring":
            if scores is None or scores.above_median is None:
                raise ValueError(f"rule {rule.id!r}: the counts lack the above-median column")
            success = scores.above_median
        assert success is not None
        frame = full[[*features, success, "n"]].rename(columns={success: SUCCESS})
        extras.impact_ratio = impact_ratio_tables(
            rule,
            frame,
            median_score=scores.summary.median if scores is not None else None,
            tests=significance,
        )

    if scores is not None:
        extras.score = scores.summary.model_copy(update={"threshold": rule.threshold})
    if rule.score_metrics:
        assert scores is not None and scores.key is not None
        columns_needed = [*features, LABEL, scores.key, "n"]
        rename = {scores.key: SCORE_KEY}
        if scores.total is not None:
            columns_needed.append(scores.total)
            rename[scores.total] = SCORE_SUM
        frame = full[columns_needed].rename(columns=rename)
        ids = group_ids(frame, features, keys)
        level = rule.uncertainty.confidence_level if rule.uncertainty is not None else None
        found = group_score_results(
            frame,
            ids,
            context=scores,
            metrics=list(rule.score_metrics),
            calibration_bins=rule.calibration_bins,
            level=level,
        )
        extras.group_scores = [None] * len(groups)
        for index, result in found.items():
            extras.group_scores[index] = result
    return extras
