"""Uncertainty from aggregated counts: bootstrap intervals and two-proportion tests.

Everything here works on counts, never on rows, so it costs the same for a thousand people as
for a billion:

* **Bootstrap.** Resampling a group's rows with replacement (keeping the group's size) gives
  its confusion cells a multinomial distribution with the observed cell shares, so drawing
  ``Multinomial(n_g, cells_g / n_g)`` for every group *is* the stratified row bootstrap. The
  intervals are percentile intervals of the drawn statistic. Draws in which a statistic is
  undefined (0/0) are left out; when more than half are undefined the interval is null.
* **Tests.** Each group-versus-reference comparison of a rate gets a two-sided test of equal
  proportions: the pooled two-proportion z-test, or Fisher's exact test on the 2x2 table
  (``auto`` picks Fisher's when an expected cell count is under 5, Cochran's rule).

scipy is imported only when a test runs, and ``scipy.stats`` only for Fisher's exact test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ethicsgate.rules.results import ComparisonTest, Interval

if TYPE_CHECKING:
    from ethicsgate.policy.models import UncertaintyOptions

__all__ = [
    "GroupUncertainty",
    "TestMethod",
    "bootstrap_cells",
    "choose_test",
    "compare_proportions",
    "delong_interval",
    "fisher_exact_test",
    "group_uncertainty",
    "percentile_interval",
    "percentile_intervals",
    "z_test",
]

TestMethod = Literal["auto", "z_test", "fisher_exact"]

#: Below this many expected people in a cell of the 2x2 table, ``auto`` uses Fisher's exact test.
MIN_EXPECTED = 5.0


def bootstrap_cells(counts: np.ndarray, *, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``samples`` stratified bootstrap replicates of per-group cell counts.

    ``counts`` has shape ``(groups, cells)``; the result has shape ``(samples, groups,
    cells)`` and every replicate keeps each group's size: row ``g`` of a replicate is
    ``Multinomial(counts[g].sum(), counts[g] / counts[g].sum())``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    sizes = counts.sum(axis=1)
    if samples <= 0 or counts.size == 0:
        return np.zeros((max(samples, 0), *counts.shape), dtype=np.int64)
    shares = counts / np.where(sizes == 0, 1, sizes)[:, None]
    return rng.multinomial(sizes, shares, size=(samples, counts.shape[0]))


def percentile_interval(draws: np.ndarray, level: float) -> Interval | None:
    """Return the percentile interval of one statistic's draws (NaN = undefined draw)."""
    draws = np.asarray(draws, dtype=np.float64)
    defined = draws[np.isfinite(draws)]
    if draws.size == 0 or defined.size * 2 < draws.size:
        return None
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(defined, [alpha, 1.0 - alpha])
    return Interval(low=float(low), high=float(high))


def percentile_intervals(draws: np.ndarray, level: float) -> list[Interval | None]:
    """Return :func:`percentile_interval` for each column of ``draws`` (shape samples x k)."""
    return [percentile_interval(draws[:, j], level) for j in range(draws.shape[1])]


def z_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Return ``(z, p)`` of the pooled two-proportion z-test of x1/n1 against x2/n2.

    z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)) with p = (x1 + x2) / (n1 + n2); two-sided
    p = 2 * (1 - Phi(|z|)). When both rates are 0 or both are 1 the rates are equal and
    ``(0, 1)`` is returned.

    Raises:
        ValueError: a group is empty.
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError("a z-test needs two non-empty groups")
    from scipy.special import ndtr

    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance <= 0.0:
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return float(z), float(2.0 * ndtr(-abs(z)))


def fisher_exact_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float | None, float]:
    """Return ``(odds ratio, p)`` of Fisher's exact test on [[x1, n1-x1], [x2, n2-x2]].

    The odds ratio is the sample one, (x1 (n2 - x2)) / ((n1 - x1) x2); ``None`` when it is
    0/0 or infinite.
    """
    from scipy.stats import fisher_exact

    table = np.array([[x1, n1 - x1], [x2, n2 - x2]], dtype=np.int64)
    result = fisher_exact(table, alternative="two-sided")
    odds = float(result.statistic)
    return (odds if math.isfinite(odds) else None), float(result.pvalue)


def choose_test(x1: int, n1: int, x2: int, n2: int) -> Literal["z_test", "fisher_exact"]:
    """Return the test ``auto`` uses: Fisher's exact when an expected count is under 5."""
    total = n1 + n2
    successes = x1 + x2
    failures = total - successes
    smallest = min(n1, n2) * min(successes, failures) / total if total else 0.0
    return "fisher_exact" if smallest < MIN_EXPECTED else "z_test"


def compare_proportions(
    x1: int, n1: int, x2: int, n2: int, *, method: TestMethod = "auto"
) -> ComparisonTest | None:
    """Test whether x1/n1 (a group) and x2/n2 (its reference) differ; None if either is empty."""
    if n1 <= 0 or n2 <= 0:
        return None
    chosen = choose_test(x1, n1, x2, n2) if method == "auto" else method
    if chosen == "z_test":
        statistic, p_value = z_test(x1, n1, x2, n2)
        stat: float | None = statistic
    else:
        stat, p_value = fisher_exact_test(x1, n1, x2, n2)
    return ComparisonTest(
        method=chosen,
        statistic=stat,
        p_value=min(1.0, max(0.0, p_value)),
        successes=int(x1),
        trials=int(n1),
        reference_successes=int(x2),
        reference_trials=int(n2),
    )


@dataclass(frozen=True)
class _Placements:
    auc: float
    variance: float


def _delong(pos: np.ndarray, neg: np.ndarray) -> _Placements | None:
    pos = np.asarray(pos, dtype=np.float64)
    neg = np.asarray(neg, dtype=np.float64)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return None
    below_neg = np.cumsum(neg) - neg  # negatives with a lower score
    above_pos = n_pos - np.cumsum(pos)  # positives with a higher score
    # placement of a positive: share of negatives it outranks (ties count one half), and of a
    # negative: share of positives that outrank it; positives with the same score share theirs
    v10 = (below_neg + 0.5 * neg) / n_neg
    v01 = (above_pos + 0.5 * pos) / n_pos
    auc = float((pos * v10).sum() / n_pos)
    s10 = float((pos * (v10 - auc) ** 2).sum() / (n_pos - 1)) if n_pos > 1 else 0.0
    s01 = float((neg * (v01 - auc) ** 2).sum() / (n_neg - 1)) if n_neg > 1 else 0.0
    return _Placements(auc=auc, variance=s10 / n_pos + s01 / n_neg)


def delong_interval(
    pos: Sequence[int] | np.ndarray, neg: Sequence[int] | np.ndarray, level: float
) -> Interval | None:
    """Return the DeLong interval of a ROC AUC from positive/negative counts per ascending score.

    The variance is DeLong, DeLong & Clarke-Pearson (1988), computed exactly from the counts
    (people with the same score have the same placement); the interval is normal on the logit
    scale, so it stays inside [0, 1]. Null when the AUC is 0 or 1 (no spread to measure) or
    undefined.
    """
    from scipy.special import ndtri

    placements = _delong(np.asarray(pos), np.asarray(neg))
    if placements is None or not 0.0 < placements.auc < 1.0:
        return None
    auc = placements.auc
    z = float(ndtri(0.5 + level / 2.0))
    logit = math.log(auc / (1.0 - auc))
    half = z * math.sqrt(placements.variance) / (auc * (1.0 - auc))
    return Interval(
        low=1.0 / (1.0 + math.exp(-(logit - half))),
        high=1.0 / (1.0 + math.exp(-(logit + half))),
    )


@dataclass
class GroupUncertainty:
    """Intervals and tests of every group, aligned with the rule's group order."""

    intervals: list[dict[str, Interval | None]]
    ratio_intervals: list[dict[str, Interval | None]]
    difference_intervals: list[dict[str, Interval | None]]
    tests: list[dict[str, ComparisonTest]]

    def p_values(self, metric: str) -> list[float | None]:
        """Return each group's p-value for ``metric`` (None where it was not tested)."""
        return [t[metric].p_value if metric in t else None for t in self.tests]


def _cell_mask(columns: list[tuple[int | None, int | None]], spec: Sequence[Any]) -> np.ndarray:
    mask = np.zeros(len(columns), dtype=bool)
    for label, pred in spec:
        for j, (col_label, col_pred) in enumerate(columns):
            if (label is None or col_label == label) and (pred is None or col_pred == pred):
                mask[j] = True
    return mask


def group_uncertainty(
    cells: np.ndarray,
    columns: list[tuple[int | None, int | None]],
    *,
    metrics: Sequence[str],
    references: dict[str, int | None],
    excluded: Sequence[bool],
    options: UncertaintyOptions | None,
    test: TestMethod | None,
) -> GroupUncertainty:
    """Return bootstrap intervals and reference tests for every group and metric.

    ``cells`` has shape ``(groups, len(columns))``: each group's count of people per
    ``(label, prediction)`` column (None where the role is not read). ``references`` gives,
    per metric, the index of the reference group, or None for ``overall`` (then a group is
    tested against everyone else). Excluded groups get metric intervals only.
    """
    from ethicsgate.metrics import METRICS

    n_groups = cells.shape[0]
    out = GroupUncertainty(
        intervals=[{} for _ in range(n_groups)],
        ratio_intervals=[{} for _ in range(n_groups)],
        difference_intervals=[{} for _ in range(n_groups)],
        tests=[{} for _ in range(n_groups)],
    )
    rated = [m for m in metrics if METRICS[m].denominator is not None]
    masks = {
        m: (
            _cell_mask(columns, METRICS[m].numerator),
            _cell_mask(columns, METRICS[m].denominator or ()),
        )
        for m in rated
    }
    totals = cells.sum(axis=0)
    if test is not None:
        for metric in rated:
            if metric not in references:
                continue
            num_mask, den_mask = masks[metric]
            ref = references[metric]
            for g in range(n_groups):
                if excluded[g] or g == ref:
                    continue
                x, n = int(cells[g, num_mask].sum()), int(cells[g, den_mask].sum())
                if ref is None:  # overall: against everyone else
                    x2 = int(totals[num_mask].sum()) - x
                    n2 = int(totals[den_mask].sum()) - n
                else:
                    x2, n2 = int(cells[ref, num_mask].sum()), int(cells[ref, den_mask].sum())
                result = compare_proportions(x, n, x2, n2, method=test)
                if result is not None:
                    out.tests[g][metric] = result
    if options is None or options.bootstrap_samples <= 0 or not rated:
        return out
    rng = np.random.default_rng([options.seed, 0])
    draws = bootstrap_cells(cells, samples=options.bootstrap_samples, rng=rng).astype(np.float64)
    level = options.confidence_level
    for metric in rated:
        num_mask, den_mask = masks[metric]
        num = draws[:, :, num_mask].sum(axis=2)
        den = draws[:, :, den_mask].sum(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(den > 0, num / den, np.nan)
        for g, interval in enumerate(percentile_intervals(value, level)):
            out.intervals[g][metric] = interval
        if metric not in references:
            continue
        ref = references[metric]
        if ref is None:
            all_den = den.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                ref_value = np.where(all_den > 0, num.sum(axis=1) / all_den, np.nan)
        else:
            ref_value = value[:, ref]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ref_value[:, None] != 0, value / ref_value[:, None], np.nan)
        difference = np.abs(value - ref_value[:, None])
        for g in range(n_groups):
            if excluded[g] or g == ref:
                continue
            out.ratio_intervals[g][metric] = percentile_interval(ratio[:, g], level)
            out.difference_intervals[g][metric] = percentile_interval(difference[:, g], level)
    return out
