"""Scan one evidence set for all of its fairness rules: roles, labels, predictions, scores.

Every fairness rule of a dataset is served by one grouped scan. When a rule reads the
``score`` role, a profile pass (count, range, distinct values, and the median's histogram)
comes first; the grouped scan then adds the score-derived columns every rule needs:

* ``_above_median``: 0/1, score > the full-sample median (LL144 scoring rate), exact;
* ``_score_ge_<i>``: 0/1, score >= a rule's ``threshold`` (its derived prediction);
* ``_score_key`` (the score itself, when it has at most 2,048 distinct values), or
  ``_score_bin_<bins>`` with ``_score_sum_<bins>`` (equal-width bins with the score sums),
  for ROC AUC and calibration.

The median takes no pass of its own in the usual case (two passes in all):

* with exact ROC AUC, the grouped scan keys every row by its score: the median and the rows
  above it come from those keys;
* otherwise the profile pass groups the scores by a fine histogram (DuckDB: 4,096
  equal-width bins over the range in the Parquet footer, or 12 significant bits) whose
  buckets around the middle ranks either give the median (buckets of one value) or bracket
  it; the grouped scan then keys the bracket's rows by their exact score and flags the rows
  above it, and ``_above_median`` is put together from those columns after the scan
  (:mod:`ethicsgate.evidence.median`). The same buckets tell whether the score has more than
  2,048 distinct values (every engine; :meth:`DuckDBDataset.score_profile
  <ethicsgate.engines.duckdb.dataset.DuckDBDataset.score_profile>`).

Extra passes: one for the histogram when an engine's profile returns no buckets (none of
the shipped engines); one distinct-count pass when the buckets cannot tell the distinct
count from 2,048 (few buckets, some holding several values); the engine's narrowing search
when the bracket holds more than :data:`~ethicsgate.evidence.median.BRACKET_ROWS` rows
(2^18; about 2 * 10^9 rows of a smooth score distribution).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ethicsgate.evidence.engine import Dataset
from ethicsgate.evidence.median import MedianPlan, median_of_counts, middle_ranks, plan_median
from ethicsgate.evidence.model import (
    GroupedCounts,
    ProgressCallback,
    ScoreColumn,
    ScoreProfile,
    WindowKey,
)
from ethicsgate.evidence.spec import WindowSpec
from ethicsgate.metrics import LABEL, PREDICTION
from ethicsgate.policy.models import FairnessRule
from ethicsgate.rules.results import ScoreSummary
from ethicsgate.rules.scores import EXACT_SCORE_VALUES, ScoreBinning, ScoreContext

__all__ = ["SCORE_SUM_PREFIX", "FairnessCounts", "scan_fairness_evidence", "score_context"]

ABOVE_MEDIAN = "_above_median"
#: In the grouped pass, when the histogram only brackets the median: 0/1, score > the
#: bracket; and the score itself inside the bracket (NULL outside).
ABOVE_BRACKET = "_above_bracket"
IN_BRACKET = "_in_bracket"
EXACT_KEY = "_score_key"
#: Score sums per group (aggregates, not keys): ``_score_sum_<bins>``.
SCORE_SUM_PREFIX = "_score_sum_"


@dataclass(frozen=True)
class FairnessCounts(GroupedCounts):
    """Grouped counts of a dataset with what its rules need to read the score columns."""

    profile: ScoreProfile | None = None
    median: float | None = None
    exact: bool = True
    thresholds: dict[float, str] = field(default_factory=dict)
    window: WindowSpec | None = None
    """The evidence set's time windows: the frame then has the key ``_window``."""


def _bin_columns(bins: int) -> tuple[str, str]:
    return f"_score_bin_{bins}", f"{SCORE_SUM_PREFIX}{bins}"


def scan_fairness_evidence(
    evidence: Dataset,
    rules: list[FairnessRule],
    *,
    progress: ProgressCallback | None = None,
) -> FairnessCounts:
    """Return one dataset's grouped counts for all of its fairness rules.

    Raises:
        EvidenceError: a role is missing or holds values the rules cannot use.
    """
    roles: list[str] = []
    for rule in rules:
        for feature in rule.sensitive_features:
            if feature not in roles:
                roles.append(feature)
    binary = [LABEL] if any(r.needs_label for r in rules) else []
    if any(r.reads_prediction for r in rules):
        binary.append(PREDICTION)

    columns: dict[str, ScoreColumn] = {}
    profile: ScoreProfile | None = None
    plan: MedianPlan | None = None
    thresholds: dict[float, str] = {}
    exact = True
    if any(r.needs_score for r in rules):
        scored = [r for r in rules if r.score_metrics]
        wants_median = any(r.impact_ratio == "scoring" for r in rules)
        # the distinct count only decides how ROC AUC and calibration group the scores; the
        # engines tell it from the median histogram's pass (an engine that returns no buckets
        # makes the histogram take a pass of its own below, only when binned)
        profile = evidence.score_profile(
            distinct=bool(scored), median=wants_median, progress=progress
        )
        exact = not profile.distinct_at_least and profile.distinct_estimate <= EXACT_SCORE_VALUES
        if wants_median and profile.rows:
            plan = _median_columns(
                evidence, profile, columns, keyed=bool(scored) and exact, progress=progress
            )
        for rule in rules:
            if rule.threshold is not None and rule.needs_prediction:
                name = thresholds.setdefault(rule.threshold, f"_score_ge_{len(thresholds)}")
                columns[name] = ScoreColumn("ge", value=rule.threshold)
        if scored and exact:
            columns[EXACT_KEY] = ScoreColumn("value")
        elif scored:
            for bins in sorted({r.score_bins for r in scored}):
                binning = ScoreBinning.for_range(profile.min, profile.max, bins)
                key, total = _bin_columns(bins)
                columns[key] = ScoreColumn("bin", value=binning.low, scale=binning.scale, bins=bins)
                columns[total] = ScoreColumn("sum")
    window = evidence.spec.window
    extra = {}
    if window is not None:
        # one more key of the same grouped scan (engines without windows never see it)
        # one rolling window alone: the engine may lump the rows before it together
        last_days = window.last_days if window.every is None else None
        extra["window"] = WindowKey(
            column=window.column,
            every=window.key_every,
            last_days=last_days,
            time_zone=window.time_zone,
        )
    counts = evidence.grouped_counts(
        roles=[*roles, *binary],
        binary_roles=binary,
        progress=progress,
        score_columns=columns,
        **extra,
    )
    frame = counts.frame
    median: float | None = None
    if plan is not None:
        frame, median = _above_median(frame, plan, columns, keys=len(roles) + len(binary))
    return FairnessCounts(
        frame=frame,
        rows_read=counts.rows_read,
        rows=counts.rows,
        profile=profile,
        median=median,
        exact=exact,
        thresholds=thresholds,
        window=window,
    )


def _median_columns(
    evidence: Dataset,
    profile: ScoreProfile,
    columns: dict[str, ScoreColumn],
    *,
    keyed: bool,
    progress: ProgressCallback | None,
) -> MedianPlan:
    """Add the columns the grouped pass needs for the median, and return its plan.

    ``keyed``: the grouped pass keys every row by its exact score anyway (exact ROC AUC), so
    the median and the rows above it come from those keys. Otherwise the profile's buckets
    give the median (each middle rank in a bucket of one value) or a bracket whose rows the
    grouped pass keys by their exact score, with the rows above it flagged; a bracket too
    large for that is narrowed down by the engine first (one or more extra passes).
    """
    ranks = tuple(middle_ranks(profile.rows))
    if keyed:
        return MedianPlan(ranks, None, profile.min, profile.max, 0, profile.rows)
    if profile.median_buckets is None:  # a pass of its own: the engine's profile had none
        buckets = evidence.score_median_buckets(
            low=profile.min, high=profile.max, progress=progress
        )
        profile = replace(profile, median_buckets=buckets)
    plan = plan_median(profile)
    if plan.median is None and not plan.fits:
        found = evidence.score_order_statistics(
            [r - plan.below for r in ranks],
            low=plan.low,
            high=plan.high,
            rows=plan.rows,
            progress=progress,
        )
        value = sum(found[r - plan.below] for r in ranks) / len(ranks)
        plan = MedianPlan(ranks, value, value, value, 0, 0)
    if plan.median is not None:
        columns[ABOVE_MEDIAN] = ScoreColumn("gt", value=plan.median)
    else:
        columns[ABOVE_BRACKET] = ScoreColumn("gt", value=plan.high)
        columns[IN_BRACKET] = ScoreColumn("within", value=plan.low, high=plan.high)
    return plan


def _above_median(
    frame: pd.DataFrame, plan: MedianPlan, columns: dict[str, ScoreColumn], *, keys: int
) -> tuple[pd.DataFrame, float]:
    """Return the grouped counts with ``_above_median`` (0/1) in place, and the median.

    The column takes the place it has when the grouped pass computes it (right after the
    roles), and the rows stay sorted as the pass sorts them, so everything read from the
    frame in order is the same either way.
    """
    if plan.median is not None:
        return frame, plan.median
    n = frame["n"].to_numpy(dtype=np.int64)
    if EXACT_KEY in columns and ABOVE_BRACKET not in columns:
        scores = frame[EXACT_KEY].to_numpy(dtype=np.float64)
        median = median_of_counts(scores, n, plan.ranks)
        # in place: the grouped counts' frame is this scan's own (a copy held 10^7 rows twice)
        frame.insert(keys, ABOVE_MEDIAN, (scores > median).astype(np.int32))
        return frame, median
    inside = frame[IN_BRACKET].to_numpy(dtype=np.float64, na_value=np.nan)
    held = ~np.isnan(inside)
    if int(n[held].sum()) != plan.rows:  # pragma: no cover - both passes count the same rows
        raise AssertionError("the grouped pass and the histogram disagree on the bracket")
    median = median_of_counts(inside[held], n[held], plan.ranks, below=plan.below)
    above = (frame[ABOVE_BRACKET].to_numpy(dtype=np.int64) == 1) | (held & (inside > median))
    frame = frame.drop(columns=[ABOVE_BRACKET, IN_BRACKET])
    frame.insert(keys, ABOVE_MEDIAN, above.astype(np.int32))
    return _merge_rows(frame, columns), median


def _merge_rows(frame: pd.DataFrame, columns: dict[str, ScoreColumn]) -> pd.DataFrame:
    """Return ``frame`` with rows of equal keys summed up, sorted by the keys (NULLs first).

    ``n`` adds up; score sums add up with :func:`math.fsum` (correctly rounded), and only
    the few rows that merged (those the bracket split) are summed in Python.
    """
    sums = [name for name, column in columns.items() if column.kind == "sum" and name in frame]
    keys = [c for c in frame.columns if c != "n" and c not in sums]
    repeated = frame.duplicated(keys, keep=False).to_numpy()
    if repeated.any():
        merged = frame[repeated].groupby(keys, dropna=False, sort=False)
        parts = merged["n"].sum().to_frame()
        for name in sums:
            parts[name] = merged[name].agg(math.fsum)
        merged_rows = parts.reset_index()[list(frame.columns)]
        frame = pd.concat([frame[~repeated], merged_rows], ignore_index=True)
    frame = frame.sort_values(keys, na_position="first", kind="stable")
    return frame.reset_index(drop=True)


def score_context(rule: FairnessRule, counts: GroupedCounts) -> ScoreContext | None:
    """Return how ``rule`` reads the score columns of its dataset's counts (None: no score)."""
    if not isinstance(counts, FairnessCounts) or counts.profile is None or not rule.needs_score:
        return None
    profile = counts.profile
    summary = ScoreSummary(
        rows=profile.rows,
        min=profile.min,
        max=profile.max,
        median=counts.median if rule.impact_ratio == "scoring" else None,
        distinct_estimate=(
            profile.distinct_estimate
            if rule.score_metrics and not profile.distinct_at_least
            else None
        ),
        exact=counts.exact if rule.score_metrics else None,
        bins=None if counts.exact or not rule.score_metrics else rule.score_bins,
    )
    binning: ScoreBinning | None = None
    key = total = None
    if rule.score_metrics:
        if counts.exact:
            key = EXACT_KEY
        else:
            binning = ScoreBinning.for_range(profile.min, profile.max, rule.score_bins)
            key, total = _bin_columns(rule.score_bins)
    return ScoreContext(
        summary=summary,
        binning=binning,
        key=key,
        total=total,
        above_median=ABOVE_MEDIAN if counts.median is not None else None,
        prediction=counts.thresholds.get(rule.threshold) if rule.threshold is not None else None,
    )
