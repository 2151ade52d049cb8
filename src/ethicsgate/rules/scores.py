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

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ethicsgate.evidence.model import EXACT_SCORE_VALUES
from ethicsgate.rules.results import GroupScoreResult, ScoreSummary
from ethicsgate.rules.uncertainty import delong_interval

__all__ = [
    "EXACT_SCORE_VALUES",
    "SCORE_KEY",
    "SCORE_SUM",
    "ScoreBinning",
    "ScoreContext",
    "group_score_result",
    "group_score_results",
    "roc_auc_from_counts",
]

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


#: Cells turned into histograms at a time (a block of whole groups): at 10^7 cells the
#: histograms of all groups at once held about 0.6 GB of arrays; a block of 2^21 cells
#: ~140 MB, of 2^20 half that (the peak of a 10^5-group audit, for ~0.3 s more)
_BLOCK_CELLS = 1 << 20


@dataclass(frozen=True)
class _Cells:
    """The columns of the (group, score key, label) cells as arrays, with each cell's group."""

    ids: np.ndarray  # the cell's group index (negative: in no reported group)
    key: np.ndarray
    n: np.ndarray
    label: np.ndarray
    sums: np.ndarray | None  # the score sums, when the key is a bin

    @classmethod
    def of(cls, cells: pd.DataFrame, ids: np.ndarray) -> _Cells:
        """Return the frame's columns as arrays (views, no copies of numeric columns)."""
        return cls(
            ids=np.asarray(ids),  # int32 or int64, as group_ids gives them: not copied
            key=cells[SCORE_KEY].to_numpy(),
            n=cells["n"].to_numpy(),
            label=cells["label"].to_numpy(),
            sums=cells[SCORE_SUM].to_numpy() if SCORE_SUM in cells else None,
        )

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield masks of blocks of whole groups, each of about :data:`_BLOCK_CELLS` cells.

        One block, every cell in a reported group, when they are fewer.
        """
        cells = _BLOCK_CELLS
        known = self.ids >= 0
        if int(known.sum()) <= cells:
            yield known
            return
        sizes = np.bincount(self.ids[known])
        del known
        ends = np.cumsum(sizes)
        # the last group of each block: where the running count reaches a multiple of cells
        cuts = np.unique(np.searchsorted(ends, np.arange(cells, int(ends[-1]), cells)))
        bounds = [0, *(int(c) + 1 for c in cuts if c + 1 < sizes.size), int(sizes.size)]
        for low, high in itertools.pairwise(bounds):
            yield (self.ids >= low) & (self.ids < high)


@dataclass(frozen=True)
class _Histograms:
    """Positive/negative counts and score sums per (group, score key), all groups at once.

    Pairs are sorted by group, then key; ``starts`` indexes each group's first pair.
    """

    group: np.ndarray  # the group of each pair
    key: np.ndarray  # the score key of each pair
    pos: np.ndarray
    neg: np.ndarray
    sums: np.ndarray
    starts: np.ndarray
    groups: np.ndarray  # the group of each run of pairs

    @classmethod
    def build(cls, cells: _Cells, keep: np.ndarray, *, exact: bool) -> _Histograms:
        """Return the histograms of the cells where ``keep`` is true (in frame order)."""
        group = cells.ids[keep]
        raw = cells.key[keep]
        n = cells.n[keep].astype(np.float64)
        is_pos = cells.label[keep] == 1
        keys = np.unique(raw)
        width = np.int64(max(keys.size, 1))
        # one index per (group, key), ordered as the pair; bincount adds each pair's rows in
        # frame order, as the per-group computation did
        # int64 products whatever the ids' type (int32) and numpy's promotion rules
        dense = np.multiply(group, width, dtype=np.int64) + np.searchsorted(keys, raw)
        del raw
        slots = (int(group.max()) + 1) * int(width) if group.size else 0
        if slots <= 2 * dense.size:
            # the (group, key) slots are few enough to count in place: no sort of the rows
            # (np.unique's argsort and inverse of 10^7 rows hold about 0.5 GB); the occupied
            # slots, in order, are the pairs, and each slot adds its rows in frame order
            pairs = np.flatnonzero(np.bincount(dense, minlength=slots))
            index, size = dense, slots
        else:
            pairs, inverse = np.unique(dense, return_inverse=True)
            index, size = inverse.ravel(), pairs.size
        del dense
        pos = np.bincount(index, weights=np.where(is_pos, n, 0.0), minlength=size)
        neg = np.bincount(index, weights=np.where(is_pos, 0.0, n), minlength=size)
        if size != pairs.size:
            pos, neg = pos[pairs], neg[pairs]
        key = keys[pairs % width]
        if exact:
            sums = key.astype(np.float64) * (pos + neg)
        else:
            assert cells.sums is not None
            weights = cells.sums[keep].astype(np.float64)
            sums = np.bincount(index, weights=weights, minlength=size)
            if size != pairs.size:
                sums = sums[pairs]
        pair_group = pairs // width
        starts = (
            np.flatnonzero(np.r_[True, pair_group[1:] != pair_group[:-1]])
            if pairs.size
            else (np.zeros(0, dtype=np.int64))
        )
        return cls(pair_group, key, pos, neg, sums, starts, pair_group[starts])

    def per_group(self, values: np.ndarray) -> np.ndarray:
        """Return the sum of ``values`` (one per pair) over each group's pairs, in order."""
        return np.add.reduceat(values, self.starts) if self.starts.size else values[:0]

    def roc_auc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return each group's AUC, tie mass, positives and negatives (NaN AUC: undefined)."""
        n_pos, n_neg = self.per_group(self.pos), self.per_group(self.neg)
        cum = np.cumsum(self.neg)
        base = (cum - self.neg)[self.starts]  # negatives of the earlier groups
        lengths = np.diff(np.r_[self.starts, self.pos.size])
        below = cum - self.neg - np.repeat(base, lengths)
        # every term is a multiple of 1/2, so these sums are exact in any order (below 2^52)
        wins = self.per_group(self.pos * (below + 0.5 * self.neg))
        ties = self.per_group(self.pos * self.neg)
        defined = (n_pos > 0) & (n_neg > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            auc = np.where(defined, wins / (n_pos * n_neg), np.nan)
            tie = np.where(defined, ties / (2.0 * n_pos * n_neg), 0.0)
        return auc, tie, n_pos, n_neg


def _calibration_tables(
    hist: _Histograms,
    coarse: np.ndarray,
    *,
    binning: ScoreBinning,
    calibration_bins: int,
) -> tuple[list[list[dict[str, object]]], list[float | None]]:
    """Return each group's calibration bins (as fields) and ECE, all groups at once."""
    width = calibration_bins
    cell = np.searchsorted(hist.groups, hist.group) * width + coarse
    size = hist.groups.size * width
    count = np.bincount(cell, weights=hist.pos + hist.neg, minlength=size).reshape(-1, width)
    pos = np.bincount(cell, weights=hist.pos, minlength=size).reshape(-1, width)
    total_score = np.bincount(cell, weights=hist.sums, minlength=size).reshape(-1, width)
    filled = count > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total_score / count
        rate = pos / count
    gap = np.zeros(hist.groups.size)
    for b in range(width):  # bin by bin, in order: the same float sums as one group at a time
        gap += np.where(filled[:, b], count[:, b] * np.abs(mean[:, b] - rate[:, b]), 0.0)
    total = count.sum(axis=1)
    # width * b / bins, not b * (width / bins): 3 * 0.1 is 0.30000000000000004, an edge
    # above the score 0.3 the bin [0.3, 0.4) holds
    span = binning.high - binning.low
    edges = [
        (
            binning.low + span * b / calibration_bins,
            binning.high
            if b == calibration_bins - 1
            else binning.low + span * (b + 1) / calibration_bins,
        )
        for b in range(calibration_bins)
    ]
    counts, means, rates = count.astype(np.int64).tolist(), mean.tolist(), rate.tolist()
    tables = [
        [
            {
                "low": low,
                "high": high,
                "count": c,
                "mean_score": m if c else None,
                "observed_rate": r if c else None,
            }
            for (low, high), c, m, r in zip(edges, counts[g], means[g], rates[g], strict=True)
        ]
        for g in range(hist.groups.size)
    ]
    errors = [float(gap[g] / total[g]) if total[g] else None for g in range(hist.groups.size)]
    return tables, errors


def group_score_results(
    cells: pd.DataFrame,
    ids: np.ndarray,
    *,
    context: ScoreContext,
    metrics: list[str],
    calibration_bins: int,
    level: float | None,
) -> dict[int, GroupScoreResult]:
    """Return ROC AUC and calibration of every group at once, by group index.

    ``cells`` holds SCORE_KEY, ``label`` (0/1), ``n`` and, when binned, SCORE_SUM; ``ids``
    is each row's group index (negative: in no reported group). The per-group histograms are
    built once over all groups, sorted by (group, key), and AUC and calibration come from
    their segmented cumulative sums; only groups with rows get a result. ``level`` is the
    confidence level of the DeLong AUC interval (None: no interval).
    """
    arrays = _Cells.of(cells, ids)
    out: dict[int, GroupScoreResult] = {}
    # block by block of whole groups: each group's sums are the same, in the same order
    for keep in arrays.blocks():
        hist = _Histograms.build(arrays, keep, exact=context.binning is None)
        del keep
        out.update(
            _block_results(
                hist,
                context=context,
                metrics=metrics,
                calibration_bins=calibration_bins,
                level=level,
            )
        )
    return out


def _block_results(
    hist: _Histograms,
    *,
    context: ScoreContext,
    metrics: list[str],
    calibration_bins: int,
    level: float | None,
) -> dict[int, GroupScoreResult]:
    """Return the ROC AUC and calibration of the groups of ``hist``, by group index."""
    exact = context.binning is None
    auc, ties, n_pos, n_neg = hist.roc_auc()
    wants_auc = "roc_auc" in metrics
    tables: list[list[dict[str, object]]] | None = None
    errors: list[float | None] = []
    if "calibration" in metrics:
        if exact:
            binning = ScoreBinning.for_range(
                context.summary.min, context.summary.max, calibration_bins
            )
            coarse = binning.index(hist.key)
        else:
            assert context.binning is not None
            binning = context.binning
            coarse = hist.key.astype(np.int64) // (binning.bins // calibration_bins)
        tables, errors = _calibration_tables(
            hist, coarse, binning=binning, calibration_bins=calibration_bins
        )
    # the gap between a mean score and a rate only means something for probabilities
    probabilities = context.summary.min >= 0.0 and context.summary.max <= 1.0
    ends = np.r_[hist.starts, hist.pos.size]
    out: dict[int, GroupScoreResult] = {}
    for g, group in enumerate(hist.groups.tolist()):
        value = None if math.isnan(auc[g]) else float(auc[g])
        result: dict[str, Any] = {
            "positives": int(n_pos[g]),
            "negatives": int(n_neg[g]),
            "roc_auc": value if wants_auc else None,
            "roc_auc_max_error": 0.0 if exact or value is None or not wants_auc else float(ties[g]),
        }
        if wants_auc and level is not None and value is not None:
            part = slice(ends[g], ends[g + 1])
            result["roc_auc_interval"] = delong_interval(hist.pos[part], hist.neg[part], level)
        if tables is not None:
            result["calibration"] = tables[g]
            ece = errors[g]
            if probabilities and ece is not None and math.isfinite(ece):
                result["calibration_error"] = ece
        out[int(group)] = GroupScoreResult(**result)
    return out


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
    is the confidence level of the DeLong AUC interval (None: no interval). One group of
    :func:`group_score_results`.

    Raises:
        ValueError: ``cells`` is empty.
    """
    found = group_score_results(
        cells,
        np.zeros(len(cells), dtype=np.int64),
        context=context,
        metrics=metrics,
        calibration_bins=calibration_bins,
        level=level,
    )
    if 0 not in found:
        raise ValueError("no cells: the group has no rows")
    return found[0]
