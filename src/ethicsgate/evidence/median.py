"""The exact median of the audited scores, planned from a histogram: engine-neutral arithmetic.

An engine's profile pass also returns the buckets of a fine, order-preserving histogram that
hold the middle ranks (:attr:`ScoreProfile.median_buckets
<ethicsgate.evidence.model.ScoreProfile.median_buckets>`). :func:`plan_median` turns them into
either the median itself (each middle rank lies in a bucket of one value) or a *bracket*: a
score range [low, high] holding both middle ranks, with the number of rows below it. The
grouped pass then keys the rows inside the bracket by their exact score (a ``within`` score
column) and flags the rows above it (``gt high``), so the exact median and every group's count
above it come out of that same pass (:func:`median_of_counts`). A bracket of more than
:data:`BRACKET_ROWS` rows would add too many rows to the grouped counts; the median is then
found by the engine's narrowing search over the bracket instead (one or more extra passes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ethicsgate.evidence.model import EXACT_SCORE_VALUES, ScoreBucket, ScoreProfile

if TYPE_CHECKING:  # numpy only where a median is computed, not for every audit
    import numpy as np

__all__ = [
    "BRACKET_ROWS",
    "HistogramSummary",
    "MedianPlan",
    "median_of_counts",
    "middle_ranks",
    "plan_median",
]

#: The most rows a median bracket may hold for the grouped pass to key them by their exact
#: score: each such row can add one row to the grouped counts.
BRACKET_ROWS = 1 << 18


@dataclass(frozen=True)
class HistogramSummary:
    """What one histogram scan of the audited scores tells, whatever the engine.

    ``bad``: rows whose score is NULL, NaN or infinite; ``rows``, ``low``, ``high``: the
    others' count, least and greatest score; ``single``/``mixed``: buckets holding one value
    / more than one; ``buckets``: those holding the middle ranks (empty when the buckets'
    ranges were not disjoint and ascending).
    """

    bad: int
    rows: int
    low: Any
    high: Any
    single: int
    mixed: int
    buckets: tuple[ScoreBucket, ...]

    @classmethod
    def from_rows(cls, found: Sequence[Sequence[Any]]) -> HistogramSummary:
        """Read the engines' histogram query: one row per middle bucket (or one without).

        Each row is (bad, rows, low, high, ordered, single, mixed, below, n, lo, hi), the
        first seven the same in every row, the last four NULL when no bucket came back.
        """
        bad, rows, low, high, ordered, single, mixed = tuple(found[0])[:7]
        buckets = tuple(
            ScoreBucket(below=int(b), rows=int(n), low=float(lo), high=float(hi))
            for *_, b, n, lo, hi in (tuple(r) for r in found)
            if b is not None
        )
        return cls(
            bad=int(bad),
            rows=int(rows),
            low=low,
            high=high,
            single=int(single or 0),
            mixed=int(mixed or 0),
            buckets=buckets if ordered else (),
        )

    @property
    def distinct(self) -> tuple[int, bool]:
        """Return the distinct scores the buckets prove, and whether only as a lower bound.

        Exact when every bucket holds one value; else at least (buckets of one value) +
        2 x (the others), which decides "more than 2,048" alone when it is above that.
        """
        return self.single + 2 * self.mixed, self.mixed > 0

    @property
    def distinct_undecided(self) -> bool:
        """Whether the buckets leave open if there are more than 2,048 distinct scores.

        Then the engine estimates the count in a pass of its own (``approx_count_distinct``,
        never below :attr:`distinct`), as it would without a histogram.
        """
        estimate, at_least = self.distinct
        return at_least and estimate <= EXACT_SCORE_VALUES


def middle_ranks(rows: int) -> list[int]:
    """Return the 0-based ranks whose scores average to the median of ``rows`` scores."""
    return sorted({(rows - 1) // 2, rows // 2})


@dataclass(frozen=True)
class MedianPlan:
    """Where the median of the audited scores lies, as far as the histogram tells.

    ``median`` is set when both middle ranks lie in buckets of a single value. Otherwise
    [``low``, ``high``] holds both middle ranks (so the median too), ``below`` rows score less
    than ``low`` and ``rows`` rows score within it.
    """

    ranks: tuple[int, ...]
    median: float | None
    low: float
    high: float
    below: int
    rows: int

    @property
    def fits(self) -> bool:
        """Return whether the grouped pass can key the bracket's rows by their exact score."""
        return self.rows <= BRACKET_ROWS


def plan_median(profile: ScoreProfile) -> MedianPlan:
    """Return the median or its bracket from the profile's median buckets.

    Without usable buckets the bracket is the whole range [min, max].

    Raises:
        ValueError: the profile has no rows.
    """
    if profile.rows == 0:
        raise ValueError("no audited rows, so the scores have no median")
    ranks = tuple(middle_ranks(profile.rows))
    whole = MedianPlan(ranks, None, profile.min, profile.max, 0, profile.rows)
    holding = []
    for rank in ranks:
        found = [b for b in profile.median_buckets or () if b.below <= rank < b.below + b.rows]
        if len(found) != 1:
            return whole  # no histogram of these rows: the whole range is the bracket
        holding.append(found[0])
    if all(b.low == b.high for b in holding):
        median = sum(b.low for b in holding) / len(holding)
        return MedianPlan(ranks, median, median, median, 0, 0)
    first, last = holding[0], holding[-1]
    rows = first.rows if first is last else first.rows + last.rows
    return MedianPlan(ranks, None, first.low, last.high, first.below, rows)


def median_of_counts(
    values: np.ndarray, counts: np.ndarray, ranks: tuple[int, ...], *, below: int = 0
) -> float:
    """Return the median from (score, count) pairs of the rows ranked ``below`` and up.

    ``values`` may repeat and come in any order; ``ranks`` are the middle ranks among all
    rows, ``below`` of which score less than every value here.

    Raises:
        ValueError: the counts do not reach a middle rank.
    """
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.int64)
    # np.unique without its inverse, then searchsorted: the inverse's argsort would hold
    # three more arrays of the rows' size (10^7 grouped rows: about 250 MB)
    keys = np.unique(values)
    totals = np.bincount(np.searchsorted(keys, values), weights=counts, minlength=keys.size).astype(
        np.int64
    )
    ends = below + np.cumsum(totals)
    found = []
    for rank in ranks:
        index = int(np.searchsorted(ends, rank, side="right"))
        if rank < below or index >= keys.size:
            raise ValueError(f"rank {rank} lies outside the counted scores")
        found.append(float(keys[index]))
    return sum(found) / len(found)
