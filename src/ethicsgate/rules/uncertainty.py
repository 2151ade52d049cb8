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

Every group is handled at once: the draws of all groups and resamples are arrays (drawn in
blocks of resamples, which consume the random stream in the same order as one call, and kept
as compact integer cells), the percentile intervals of a block of groups come from one sort
of rates computed from those cells, and the z-tests are array operations.
Only Fisher's exact test, which scipy does not vectorise, runs per group, and only for the
groups that need it. The array paths repeat numpy's and the scalar functions' arithmetic
operation by operation, so they give the same bits as the per-group functions.

The normal distribution comes from the standard library (``math.erfc``, ``NormalDist``), so
no audit imports scipy (about 0.23 s) but for Fisher's exact test (``scipy.stats``). Against
``scipy.special.ndtr`` the p-values agree to 1.2e-10 relative (deep in the tail, where the two
libraries' erfc differ; 1e-15 near the usual thresholds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ethicsgate.rules.results import (
    ABSENT,
    Absent,
    ComparisonTest,
    Interval,
    IntervalColumn,
    TestColumn,
    entries,
)

if TYPE_CHECKING:
    from ethicsgate.policy.models import UncertaintyOptions

__all__ = [
    "GroupUncertainty",
    "TestMethod",
    "bootstrap_cells",
    "choose_test",
    "choose_tests",
    "compare_proportions",
    "compare_proportions_many",
    "delong_interval",
    "fisher_exact_test",
    "group_uncertainty",
    "interval_column",
    "interval_list",
    "percentile_bounds",
    "percentile_interval",
    "percentile_intervals",
    "z_test",
    "z_tests",
]

TestMethod = Literal["auto", "z_test", "fisher_exact"]

#: Below this many expected people in a cell of the 2x2 table, ``auto`` uses Fisher's exact test.
MIN_EXPECTED = 5.0

#: Integers up to here convert to float64 exactly, so numpy's division equals Python's.
_EXACT = 2**53

#: About this many numbers per block of draws or rows (32 MB of float64 or int64).
_BLOCK = 4_000_000


#: ``math.erfc`` as a ufunc (object in, object out): one C call per value.
_ERFC = np.frompyfunc(math.erfc, 1, 1)
_SQRT2 = math.sqrt(2.0)


def two_sided_p(z: float) -> float:
    """Return the two-sided p-value of a standard normal statistic, 2 (1 - Phi(|z|))."""
    return math.erfc(abs(z) / _SQRT2)


def two_sided_ps(z: np.ndarray) -> np.ndarray:
    """Return :func:`two_sided_p` of every value of ``z`` (the same bits, as float64)."""
    values = np.abs(np.asarray(z, dtype=np.float64)) / _SQRT2
    return np.asarray(_ERFC(values), dtype=np.float64).reshape(values.shape)


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


def _row_bounds(rows: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    samples = rows.shape[1]
    rows = np.where(np.isfinite(rows), rows, np.nan)
    defined = samples - np.isnan(rows).sum(axis=1)
    ordered = np.sort(rows, axis=1)  # NaN sorts last: the first `defined` are the defined draws
    alpha = (1.0 - level) / 2.0
    q = np.asarray([alpha, 1.0 - alpha], dtype=np.float64)
    # numpy's "linear" quantile of the `defined` draws, step by step (see np.quantile's
    # _quantile, _get_indexes, _get_gamma and _lerp), with a per-row count
    count = np.maximum(defined, 1)[:, None]
    virtual = (count - 1) * q[None, :]
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= count - 1
    previous[above] = -1
    following[above] = -1
    prev_i = previous.astype(np.intp)
    next_i = following.astype(np.intp)
    gamma = virtual - prev_i
    last = count - 1
    row = np.arange(rows.shape[0])[:, None]
    a = ordered[row, np.where(prev_i < 0, last, prev_i)]
    b = ordered[row, np.where(next_i < 0, last, next_i)]
    diff_b_a = b - a
    result = np.add(a, diff_b_a * gamma)
    np.subtract(b, diff_b_a * (1 - gamma), out=result, where=gamma >= 0.5)
    null = defined * 2 < samples
    result[null] = np.nan
    return result[:, 0], result[:, 1]


def percentile_bounds(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the low and high bounds of each row's percentile interval (draws: k x samples).

    Row ``j`` gives the same bounds as ``percentile_interval(draws[j], level)``, bit for bit
    (but for the sign of a zero bound when a row holds both -0.0 and 0.0, which rates do not);
    both bounds are NaN where that is None (no draws, or more than half undefined).
    """
    draws = np.asarray(draws, dtype=np.float64)
    rows, samples = draws.shape
    low = np.full(rows, np.nan)
    high = np.full(rows, np.nan)
    if samples == 0:
        return low, high
    step = max(1, _BLOCK // samples)
    for start in range(0, rows, step):
        stop = min(rows, start + step)
        low[start:stop], high[start:stop] = _row_bounds(draws[start:stop], level)
    return low, high


def interval_list(low: np.ndarray, high: np.ndarray) -> list[Interval | None]:
    """Return the intervals of the bound arrays (None where a bound is NaN).

    A rule holds its intervals as bounds (:func:`interval_column`); this list is for a few.
    """
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    return [
        None if math.isnan(lo) else Interval(low=lo, high=hi)
        for lo, hi in zip(low.tolist(), high.tolist(), strict=True)
    ]


def percentile_intervals(draws: np.ndarray, level: float) -> list[Interval | None]:
    """Return :func:`percentile_interval` for each column of ``draws`` (shape samples x k)."""
    draws = np.asarray(draws, dtype=np.float64)
    return interval_list(*percentile_bounds(draws.T, level))


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
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance <= 0.0:
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return float(z), two_sided_p(z)


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


def z_tests(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``(z, p)`` arrays of :func:`z_test` for every row of the count arrays.

    Each row gives the same bits as :func:`z_test` (counts under 2**53).

    Raises:
        ValueError: a group is empty.
    """
    x1, n1, x2, n2 = (np.asarray(v, dtype=np.int64) for v in (x1, n1, x2, n2))
    if (n1 <= 0).any() or (n2 <= 0).any():
        raise ValueError("a z-test needs two non-empty groups")
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    spread = variance > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(spread, (x1 / n1 - x2 / n2) / np.sqrt(variance), 0.0)
    p = np.where(spread, two_sided_ps(z), 1.0)
    return z, p


def choose_tests(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Return, per row, whether :func:`choose_test` picks Fisher's exact test."""
    x1, n1, x2, n2 = (np.asarray(v, dtype=np.int64) for v in (x1, n1, x2, n2))
    total = n1 + n2
    successes = x1 + x2
    smaller, fewer = np.minimum(n1, n2), np.minimum(successes, total - successes)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        product = smaller * fewer
        smallest = np.where(total > 0, product / np.where(total > 0, total, 1), 0.0)
    fisher = smallest < MIN_EXPECTED
    # beyond 2**53 numpy's int-to-float division may differ from Python's in the last bit (and
    # beyond 2**63 the product wraps): Python's integers decide there
    inexact = smaller.astype(np.float64) * fewer >= _EXACT
    for i in np.flatnonzero(inexact | (total >= _EXACT)).tolist():
        fisher[i] = choose_test(int(x1[i]), int(n1[i]), int(x2[i]), int(n2[i])) == "fisher_exact"
    return fisher


def compare_proportions_many(
    x1: np.ndarray,
    n1: np.ndarray,
    x2: np.ndarray,
    n2: np.ndarray,
    *,
    method: TestMethod = "auto",
) -> list[ComparisonTest | None]:
    """Return :func:`compare_proportions` for every row of the count arrays.

    The z-tests run as array operations, Fisher's exact test per row that needs it.
    """
    x1, n1, x2, n2 = (np.asarray(v, dtype=np.int64) for v in (x1, n1, x2, n2))
    rows = len(x1)
    out: list[ComparisonTest | None] = [None] * rows
    valid = (n1 > 0) & (n2 > 0)
    large = (x1 >= _EXACT) | (n1 >= _EXACT) | (x2 >= _EXACT) | (n2 >= _EXACT)
    for i in np.flatnonzero(valid & large).tolist():  # counts past float64's integers
        out[i] = compare_proportions(int(x1[i]), int(n1[i]), int(x2[i]), int(n2[i]), method=method)
    valid &= ~large
    if method == "auto":
        fisher = choose_tests(x1, n1, x2, n2)
    else:
        fisher = np.full(rows, method == "fisher_exact")
    z_rows = np.flatnonzero(valid & ~fisher)
    z_stat, p = z_tests(x1[z_rows], n1[z_rows], x2[z_rows], n2[z_rows])
    p = np.where(p > 0.0, p, 0.0)  # min(1, max(0, p)) as compare_proportions clamps it
    p = np.where(p < 1.0, p, 1.0)
    values = zip(
        z_rows.tolist(),
        z_stat.tolist(),
        p.tolist(),
        x1[z_rows].tolist(),
        n1[z_rows].tolist(),
        x2[z_rows].tolist(),
        n2[z_rows].tolist(),
        strict=True,
    )
    for i, stat, p_value, successes, trials, ref_successes, ref_trials in values:
        out[i] = ComparisonTest(
            method="z_test",
            statistic=stat,
            p_value=p_value,
            successes=successes,
            trials=trials,
            reference_successes=ref_successes,
            reference_trials=ref_trials,
        )
    seen: dict[tuple[int, int, int, int], ComparisonTest | None] = {}
    for i in np.flatnonzero(valid & fisher).tolist():
        key = (int(x1[i]), int(n1[i]), int(x2[i]), int(n2[i]))
        if key not in seen:  # many groups share a table: test each table once
            seen[key] = compare_proportions(*key, method="fisher_exact")
        out[i] = seen[key]
    return out


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
    placements = _delong(np.asarray(pos), np.asarray(neg))
    if placements is None or not 0.0 < placements.auc < 1.0:
        return None
    auc = placements.auc
    from statistics import NormalDist  # 10 ms of imports, for AUC intervals only

    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    logit = math.log(auc / (1.0 - auc))
    half = z * math.sqrt(placements.variance) / (auc * (1.0 - auc))
    return Interval(
        low=1.0 / (1.0 + math.exp(-(logit - half))),
        high=1.0 / (1.0 + math.exp(-(logit + half))),
    )


@dataclass
class GroupUncertainty:
    """Intervals and tests of every group, as columns aligned with the rule's group order.

    Per metric, one value per group: ``intervals`` for every group (None: no interval);
    ``ratio_intervals`` and ``difference_intervals`` :data:`ABSENT` for the groups not
    compared with the reference; ``tests`` :data:`ABSENT` where a group was not tested.
    """

    groups: int
    intervals: dict[str, Sequence[Interval | None | Absent]]
    ratio_intervals: dict[str, Sequence[Interval | None | Absent]]
    difference_intervals: dict[str, Sequence[Interval | None | Absent]]
    tests: dict[str, Sequence[ComparisonTest | Absent]]

    def p_values(self, metric: str) -> list[float | None]:
        """Return each group's p-value for ``metric`` (None where it was not tested)."""
        column = self.tests.get(metric)
        if column is None:
            return [None] * self.groups
        return [None if isinstance(t, Absent) else t.p_value for t in column]

    def group_fields(self, g: int) -> dict[str, Any]:
        """Return group ``g``'s intervals and tests as :class:`GroupResult` fields."""
        return {
            "intervals": entries(self.intervals, g),
            "ratio_intervals": entries(self.ratio_intervals, g),
            "difference_intervals": entries(self.difference_intervals, g),
            "tests": entries(self.tests, g),
        }


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

    cells = np.asarray(cells, dtype=np.int64)
    n_groups = cells.shape[0]
    out = GroupUncertainty(n_groups, {}, {}, {}, {})
    rated = [m for m in metrics if METRICS[m].denominator is not None]
    masks = {
        m: (
            _cell_mask(columns, METRICS[m].numerator),
            _cell_mask(columns, METRICS[m].denominator or ()),
        )
        for m in rated
    }
    excluded_mask = np.asarray(excluded, dtype=bool).reshape(n_groups)
    if test is not None:
        for metric in rated:
            # a share of all (ppr) is not a proportion of the group's own people: no test
            if metric not in references or METRICS[metric].scope == "all":
                continue
            num_mask, den_mask = masks[metric]
            ref = references[metric]
            x, n = cells[:, num_mask].sum(axis=1), cells[:, den_mask].sum(axis=1)
            if ref is None:  # overall: against everyone else
                x2, n2 = x.sum() - x, n.sum() - n
            else:
                x2, n2 = np.full(n_groups, x[ref]), np.full(n_groups, n[ref])
            tested = _compared(excluded_mask, ref)
            results = compare_proportions_many(
                x[tested], n[tested], x2[tested], n2[tested], method=test
            )
            column: list[ComparisonTest | Absent] = [ABSENT] * n_groups
            for g, result in zip(tested.tolist(), results, strict=True):
                if result is not None:
                    column[g] = result
            out.tests[metric] = TestColumn(column)  # held compact, made when read
    if options is None or options.bootstrap_samples <= 0 or not rated:
        return out
    level = options.confidence_level
    shares = {m for m in rated if METRICS[m].scope == "all"}
    draws = _bootstrap_draws(cells, masks, options, shares=shares)
    # groups per block of rates: a block's rates, ratios, differences and their sorts are a
    # dozen arrays of this size alive at once (4 MB each)
    step = max(1, _BLOCK // 8 // options.bootstrap_samples)
    bounds = []
    for metric in rated:
        low, high = np.empty(n_groups), np.empty(n_groups)
        compared = np.empty(0, dtype=np.intp)
        ref_value = None
        if metric in references:
            ref = references[metric]
            ref_value = draws.overall[metric] if ref is None else draws.rates(metric, [ref])[0]
            compared = _compared(excluded_mask, ref)
        ratio_bounds = (np.empty(compared.size), np.empty(compared.size))
        difference_bounds = (np.empty(compared.size), np.empty(compared.size))
        for start in range(0, n_groups, step):
            stop = min(n_groups, start + step)
            value = draws.rates(metric, slice(start, stop))
            low[start:stop], high[start:stop] = percentile_bounds(value, level)
            if ref_value is None:
                continue
            first, last = np.searchsorted(compared, [start, stop]).tolist()
            part = value[compared[first:last] - start]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(ref_value[None, :] != 0, part / ref_value[None, :], np.nan)
            difference = np.abs(part - ref_value[None, :])
            block = slice(first, last)
            ratio_bounds[0][block], ratio_bounds[1][block] = percentile_bounds(ratio, level)
            difference_bounds[0][block], difference_bounds[1][block] = percentile_bounds(
                difference, level
            )
        bounds.append((metric, (low, high), compared, ratio_bounds, difference_bounds))
    del draws  # every resample of every group: freed before the intervals are made
    for metric, metric_bounds, compared, ratio_bounds, difference_bounds in bounds:
        # held as bounds, made when read: an object per group and metric was 0.1 GB at 10^5
        out.intervals[metric] = interval_column(*metric_bounds)
        if metric not in references:
            continue
        out.ratio_intervals[metric] = interval_column(*ratio_bounds, at=compared, size=n_groups)
        out.difference_intervals[metric] = interval_column(
            *difference_bounds, at=compared, size=n_groups
        )
    return out


def interval_column(
    low: np.ndarray, high: np.ndarray, *, at: np.ndarray | None = None, size: int = 0
) -> IntervalColumn:
    """Return the intervals of the bound arrays as a column (None where a bound is NaN).

    With ``at``, the bounds are those of the groups at these positions of ``size`` groups,
    and the others have no entry (:data:`ABSENT`). It reads as ``interval_list(low, high)``
    (placed), with no interval made until one is read.
    """
    low = np.ascontiguousarray(low, dtype=np.float64)
    high = np.ascontiguousarray(high, dtype=np.float64)
    if at is None:
        return IntervalColumn(low, high, np.ones(low.size, dtype=np.int8))
    placed_low, placed_high = np.full(size, np.nan), np.full(size, np.nan)
    present = np.zeros(size, dtype=np.int8)
    placed_low[at], placed_high[at], present[at] = low, high, 1
    return IntervalColumn(placed_low, placed_high, present)


def _compared(excluded: np.ndarray, ref: int | None) -> np.ndarray:
    """Return the indices of the groups compared with the reference (not excluded, not it)."""
    keep = ~excluded
    if ref is not None:
        keep[ref] = False
    return np.flatnonzero(keep)


def _cell_sum(draws: np.ndarray, mask: np.ndarray, sums: dict[bytes, np.ndarray]) -> np.ndarray:
    """Return the draws' count over the mask's cells (samples x groups), once per mask."""
    key = mask.tobytes()
    if key not in sums:
        total = np.zeros(draws.shape[:2], dtype=np.int64)
        for j in np.flatnonzero(mask).tolist():
            total += draws[:, :, j]
        sums[key] = total
    return sums[key]


@dataclass
class _BootstrapDraws:
    """Every group's drawn cells, compact, and the drawn overall rates; rates on demand.

    ``cells`` has shape ``(groups, samples, cells - 1)`` in the smallest unsigned integer
    type that holds the largest group's size (a drawn cell never exceeds its group's size):
    at 10^5 groups of 20 people and 200 resamples, 60 MB of ``uint8`` where every metric's
    rates in float64 took 160 MB each. The last cell is not kept: every resample keeps its
    group's size (``sizes``), so the last cell is the size less the others. The rates of a
    block of groups are computed from them when asked for, with the same integer sums and
    the same division as when every rate was kept, so they are the same bits.
    """

    cells: np.ndarray
    sizes: np.ndarray
    """Each group's size (int64), the sum of its cells in every resample."""
    masks: dict[str, tuple[np.ndarray, np.ndarray]]
    overall: dict[str, np.ndarray]
    """Each metric's drawn rate over all groups, per resample."""
    totals: dict[str, np.ndarray]
    """Each share-of-all metric's denominator: the resample's total over all groups."""

    def rates(self, metric: str, groups: slice | Sequence[int] | np.ndarray) -> np.ndarray:
        """Return the metric's drawn rates of ``groups`` (shape groups x samples, NaN: 0/0)."""
        part, sizes = self.cells[groups], self.sizes[groups]
        num_mask, den_mask = self.masks[metric]
        num = _group_cell_sum(part, sizes, num_mask)
        if metric in self.totals:  # the same denominator, the resample's total, for every group
            den = np.broadcast_to(self.totals[metric][None, :], num.shape)
        else:
            den = _group_cell_sum(part, sizes, den_mask)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)


def _group_cell_sum(part: np.ndarray, sizes: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return the count over the mask's cells of compact draws (groups x samples), as int64.

    ``part`` holds every cell but the last (:class:`_BootstrapDraws`); a mask with the last
    cell counts the group's size less the cells outside the mask, the same integer.
    """
    last = mask.size - 1
    total = np.zeros(part.shape[:2], dtype=np.int64)
    if last < 0:
        return total
    if not mask[last]:
        for j in np.flatnonzero(mask).tolist():
            total += part[:, :, j]
        return total
    for j in np.flatnonzero(~mask[:last]).tolist():
        total += part[:, :, j]
    return np.subtract(np.asarray(sizes, dtype=np.int64)[:, None], total, out=total)


def _bootstrap_draws(
    cells: np.ndarray,
    masks: dict[str, tuple[np.ndarray, np.ndarray]],
    options: UncertaintyOptions,
    *,
    shares: set[str] | frozenset[str] = frozenset(),
) -> _BootstrapDraws:
    """Draw every resample of every group; keep the cells compact and the overall rates.

    The draws come in blocks of resamples from one generator; a block of ``k`` resamples
    consumes the stream exactly as the next ``k`` rows of one ``(samples, groups)`` call.
    A metric in ``shares`` is a share of all (``ppr``): each resample's numerators are
    renormalised by their total over the groups in that resample.
    """
    samples = options.bootstrap_samples
    n_groups, n_cells = cells.shape
    rng = np.random.default_rng([options.seed, 0])
    largest = int(cells.sum(axis=1).max()) if cells.size else 0
    compact = np.min_scalar_type(largest)  # uint8, uint16 or uint32; int64 beyond
    # the last cell is the group's size less the others: not kept (a quarter less of 4 cells)
    kept = np.empty(
        (n_groups, samples, max(n_cells - 1, 0)),
        dtype=compact if compact.itemsize < 8 else np.int64,
    )
    overall = {m: np.empty(samples) for m in masks}
    totals = {m: np.empty(samples, dtype=np.int64) for m in masks if m in shares}
    step = max(1, _BLOCK // max(n_groups * n_cells, 1))
    for start in range(0, samples, step):
        stop = min(samples, start + step)
        draws = bootstrap_cells(cells, samples=stop - start, rng=rng)
        kept[:, start:stop, :] = draws[:, :, : kept.shape[2]].transpose(1, 0, 2)  # exact
        sums: dict[bytes, np.ndarray] = {}  # metrics often share a denominator
        for metric, (num_mask, den_mask) in masks.items():
            # integer sums are exact, so they equal the float sums of the draws
            num, den = _cell_sum(draws, num_mask, sums), _cell_sum(draws, den_mask, sums)
            all_den = den.sum(axis=1)
            if metric in totals:
                totals[metric][start:stop] = all_den
            with np.errstate(divide="ignore", invalid="ignore"):
                overall[metric][start:stop] = np.where(
                    all_den > 0, num.sum(axis=1) / all_den, np.nan
                )
    sizes = cells.sum(axis=1, dtype=np.int64)
    return _BootstrapDraws(cells=kept, sizes=sizes, masks=masks, overall=overall, totals=totals)
