"""Score-based metrics from aggregates: ROC AUC and calibration per group.

The evidence layer hands over counts per group, label and *score key*. The key is the score
itself when the score has few distinct values (at most :data:`EXACT_SCORE_VALUES`), which makes
every result here exact; otherwise it is the index of an equal-width score bin, with the sum of
the scores in each cell kept for the calibration means.

* ROC AUC = P(score of a positive > score of a negative) + 1/2 P(equal), the Mann-Whitney form
  that scikit-learn's ``roc_auc_score`` also computes. With bins, people in the same bin count
  as tied, so the AUC is within ``sum_b pos_b neg_b / (2 P N)`` of the exact one; the result
  carries that bound.
* Calibration: per equal-width bin, the mean score against the share of positives, and the
  expected calibration error (the count-weighted mean absolute gap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ethicsgate.rules.results import CalibrationBin, GroupScoreResult, ScoreSummary
from ethicsgate.rules.uncertainty import delong_interval

__all__ = [
    "EXACT_SCORE_VALUES",
    "SCORE_KEY",
    "SCORE_SUM",
    "ScoreBinning",
    "ScoreContext",
    "group_score_result",
    "roc_auc_from_counts",
]

#: With at most this many distinct scores (HyperLogLog estimate) the scores themselves are the
#: group keys and AUC and calibration are exact.
EXACT_SCORE_VALUES = 2048
#: Column names the evidence layer uses for the score key and the per-cell score sum.
SCORE_KEY = "_score_key"
SCORE_SUM = "_score_sum"


@dataclass(frozen=True)
class ScoreBinning:
    """Equal-width bins over [low, high]: bin = clamp(floor((s - low) * scale), 0, bins - 1).

    The range is [0, 1] when every score lies in it (probabilities), else [min, max].
    """

    low: float
    high: float
    bins: int

    @property
    def scale(self) -> float:
        """Return bins / (high - low); 0 when every score is equal (everything in bin 0)."""
        width = self.high - self.low
        return self.bins / width if width > 0 else 0.0

    def index(self, scores: np.ndarray) -> np.ndarray:
        """Return the bin of each score, with the same float operations as the SQL."""
        raw = np.floor((np.asarray(scores, dtype=np.float64) - self.low) * self.scale)
        return np.clip(raw, 0, self.bins - 1).astype(np.int64)

    @classmethod
    def for_range(cls, low: float, high: float, bins: int) -> ScoreBinning:
        """Return the binning the audit uses for scores between ``low`` and ``high``."""
        if low >= 0.0 and high <= 1.0:
            return cls(0.0, 1.0, bins)
        return cls(low, high, bins)


@dataclass(frozen=True)
class ScoreContext:
    """What a fairness rule needs to know about its dataset's score columns.

    Column names refer to the grouped counts of the rule's dataset; the caller renames
    ``key``/``total`` to :data:`SCORE_KEY`/:data:`SCORE_SUM` before calling
    :func:`group_score_result`.
    """

    summary: ScoreSummary
    binning: ScoreBinning | None = None  # None: the score key is the exact score
    key: str | None = None  # column holding the score (exact) or its bin
    total: str | None = None  # column holding the sum of scores per cell (binned only)
    above_median: str | None = None  # 0/1 column: score > full-sample median
    prediction: str | None = None  # 0/1 column: score >= the rule's threshold


def roc_auc_from_counts(pos: np.ndarray, neg: np.ndarray) -> tuple[float | None, float]:
    """Return ``(AUC, tie mass)`` from positive/negative counts per ascending score key.

    AUC = sum_k pos_k (neg_<k + neg_k / 2) / (P N); the tie mass sum_k pos_k neg_k / (2 P N)
    is the largest error when a key is a bin rather than one score. AUC is None when the
    group has no positives or no negatives.
    """
    pos = np.asarray(pos, dtype=np.float64)
    neg = np.asarray(neg, dtype=np.float64)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return None, 0.0
    below = np.cumsum(neg) - neg
    auc = float((pos * (below + 0.5 * neg)).sum() / (n_pos * n_neg))
    ties = float((pos * neg).sum() / (2.0 * n_pos * n_neg))
    return auc, ties


def _calibration(
    coarse: np.ndarray,
    n: np.ndarray,
    positives: np.ndarray,
    sums: np.ndarray,
    *,
    binning: ScoreBinning,
    calibration_bins: int,
) -> tuple[list[CalibrationBin], float | None]:
    """Return calibration bins and ECE from per-key counts, positives and score sums."""
    count = np.bincount(coarse, weights=n, minlength=calibration_bins)
    pos = np.bincount(coarse, weights=positives, minlength=calibration_bins)
    total_score = np.bincount(coarse, weights=sums, minlength=calibration_bins)
    width = (binning.high - binning.low) / calibration_bins
    out: list[CalibrationBin] = []
    gap = 0.0
    for b in range(calibration_bins):
        filled = count[b] > 0
        mean = float(total_score[b] / count[b]) if filled else None
        rate = float(pos[b] / count[b]) if filled else None
        if mean is not None and rate is not None:
            gap += float(count[b]) * abs(mean - rate)
        out.append(
            CalibrationBin(
                low=binning.low + b * width,
                high=binning.high if b == calibration_bins - 1 else binning.low + (b + 1) * width,
                count=int(count[b]),
                mean_score=mean,
                observed_rate=rate,
            )
        )
    total = float(count.sum())
    return out, (gap / total if total else None)


def group_score_result(
    cells: pd.DataFrame,
    *,
    context: ScoreContext,
    metrics: list[str],
    calibration_bins: int,
    level: float | None,
) -> GroupScoreResult:
    """Return one group's ROC AUC and calibration from its (key, label, n, sum) cells.

    ``cells`` holds SCORE_KEY, ``label`` (0/1), ``n`` and, when binned, SCORE_SUM. ``level``
    is the confidence level of the DeLong AUC interval (None: no interval).
    """
    exact = context.binning is None
    keys, order = np.unique(cells[SCORE_KEY].to_numpy(), return_inverse=True)
    n = cells["n"].to_numpy(dtype=np.float64)
    is_pos = cells["label"].to_numpy() == 1
    pos = np.bincount(order, weights=np.where(is_pos, n, 0.0), minlength=keys.size)
    neg = np.bincount(order, weights=np.where(is_pos, 0.0, n), minlength=keys.size)
    if exact:
        sums = keys.astype(np.float64) * (pos + neg)
    else:
        sums = np.bincount(
            order, weights=cells[SCORE_SUM].to_numpy(dtype=np.float64), minlength=keys.size
        )
    auc, ties = roc_auc_from_counts(pos, neg)
    result: dict[str, object] = {
        "positives": int(pos.sum()),
        "negatives": int(neg.sum()),
        "roc_auc": auc if "roc_auc" in metrics else None,
        "roc_auc_max_error": 0.0 if exact or auc is None or "roc_auc" not in metrics else ties,
    }
    if "roc_auc" in metrics and level is not None and auc is not None:
        result["roc_auc_interval"] = delong_interval(pos, neg, level)
    if "calibration" in metrics:
        if exact:
            binning = ScoreBinning.for_range(
                context.summary.min, context.summary.max, calibration_bins
            )
            coarse = binning.index(keys)
        else:
            assert context.binning is not None
            binning = context.binning
            coarse = keys.astype(np.int64) // (binning.bins // calibration_bins)
        bins, ece = _calibration(
            coarse, pos + neg, pos, sums, binning=binning, calibration_bins=calibration_bins
        )
        result["calibration"] = bins
        # the gap between a mean score and a rate only means something for probabilities
        probabilities = context.summary.min >= 0.0 and context.summary.max <= 1.0
        if probabilities and ece is not None and math.isfinite(ece):
            result["calibration_error"] = ece
    return GroupScoreResult.model_validate(result)
