"""Scan one evidence set for all of its fairness rules: roles, labels, predictions, scores.

Every fairness rule of a dataset is served by one grouped scan. When a rule reads the
``score`` role, a profile pass (count, range, distinct estimate) and, for the LL144 scoring
rate, the exact median passes come first; the grouped scan then adds the score-derived
columns every rule needs:

* ``_above_median``: 0/1, score > the full-sample median (LL144 scoring rate);
* ``_score_ge_<i>``: 0/1, score >= a rule's ``threshold`` (its derived prediction);
* ``_score_key`` (the score itself, when it has at most 2,048 distinct values), or
  ``_score_bin_<bins>`` with ``_score_sum_<bins>`` (equal-width bins with the score sums),
  for ROC AUC and calibration.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

from ethicsgate.evidence.engine import Dataset
from ethicsgate.evidence.model import GroupedCounts, ProgressCallback, ScoreColumn, ScoreProfile
from ethicsgate.metrics import LABEL, PREDICTION
from ethicsgate.policy.models import FairnessRule
from ethicsgate.rules.results import ScoreSummary
from ethicsgate.rules.scores import EXACT_SCORE_VALUES, ScoreBinning, ScoreContext

__all__ = ["FairnessCounts", "scan_fairness_evidence", "score_context"]

ABOVE_MEDIAN = "_above_median"
EXACT_KEY = "_score_key"


@dataclass(frozen=True)
class FairnessCounts(GroupedCounts):
    """Grouped counts of a dataset with what its rules need to read the score columns."""

    profile: ScoreProfile | None = None
    median: float | None = None
    exact: bool = True
    thresholds: dict[float, str] = field(default_factory=dict)


def _bin_columns(bins: int) -> tuple[str, str]:
    return f"_score_bin_{bins}", f"_score_sum_{bins}"


def _needs_scipy(rule: FairnessRule) -> bool:
    return rule.uncertainty is not None or any(
        a.significant_at is not None for a in rule.assertions
    )


def _warm_imports() -> None:
    # scipy.special takes most of a second to import; doing it while the engine scans overlaps
    # that time with the scan instead of adding it after. Only for rules with intervals or
    # tests (the metrics themselves need no scipy). Best effort only: when the audit stops
    # early on bad input, the interpreter shuts down under this import, and that must not
    # print a traceback after the located error; an import that really fails fails again
    # where it is needed.
    with contextlib.suppress(Exception):
        import scipy.special  # noqa: F401


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
    if any(_needs_scipy(rule) for rule in rules):
        threading.Thread(target=_warm_imports, name="ethicsgate-imports").start()
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
    median: float | None = None
    thresholds: dict[float, str] = {}
    exact = True
    if any(r.needs_score for r in rules):
        # the distinct estimate only decides how ROC AUC and calibration group the scores
        profile = evidence.score_profile(
            distinct=any(r.score_metrics for r in rules), progress=progress
        )
        if any(r.impact_ratio == "scoring" for r in rules) and profile.rows:
            median = evidence.score_median(profile, progress=progress)
            columns[ABOVE_MEDIAN] = ScoreColumn("gt", value=median)
        for rule in rules:
            if rule.threshold is not None and rule.needs_prediction:
                name = thresholds.setdefault(rule.threshold, f"_score_ge_{len(thresholds)}")
                columns[name] = ScoreColumn("ge", value=rule.threshold)
        scored = [r for r in rules if r.score_metrics]
        exact = profile.distinct_estimate <= EXACT_SCORE_VALUES
        if scored and exact:
            columns[EXACT_KEY] = ScoreColumn("value")
        elif scored:
            for bins in sorted({r.score_bins for r in scored}):
                binning = ScoreBinning.for_range(profile.min, profile.max, bins)
                key, total = _bin_columns(bins)
                columns[key] = ScoreColumn("bin", value=binning.low, scale=binning.scale, bins=bins)
                columns[total] = ScoreColumn("sum")
    counts = evidence.grouped_counts(
        roles=[*roles, *binary],
        binary_roles=binary,
        progress=progress,
        score_columns=columns,
    )
    return FairnessCounts(
        frame=counts.frame,
        rows_read=counts.rows_read,
        rows=counts.rows,
        profile=profile,
        median=median,
        exact=exact,
        thresholds=thresholds,
    )


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
        distinct_estimate=profile.distinct_estimate if rule.score_metrics else None,
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
