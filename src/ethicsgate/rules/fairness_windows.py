"""A fairness rule judged in every time window at once: the window is one more group key.

:func:`~ethicsgate.rules.fairness.evaluate_fairness` judges one frame of grouped counts. A
year of day windows called it 365 times, about 6 to 8 ms each in pandas (two ``groupby`` per
window on frames of a few dozen rows), more than the scan itself at 1e8 rows. Here the counts
of all windows are one frame with the window's index as a leading key: the group sums are one
``bincount`` over (window, group) for all windows, and the metrics, references, ratios,
differences and assertion decisions are numpy over windows × groups (segments of rows, one per
window). Only the results themselves are built per window. The values are those of judging
each window's rows alone, bit for bit (every sum is an exact integer, every value the same
division), which ``tests/unit/rules/test_fairness_windows.py`` checks against that oracle.

Bootstrap intervals and reference tests are drawn per window from the same cell counts with
the rule's seed, exactly as judging the window alone does. Rules with LL144 tables, score
metrics or a fairlearn cross-check are judged window by window (:func:`vectorised`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ethicsgate.metrics import LABEL, METRICS, MISSING, PREDICTION
from ethicsgate.metrics.counts import cells_mask, group_keys, key_ranks
from ethicsgate.policy.models import FairnessRule
from ethicsgate.rules.fairness_assertions import (
    NO_ROWS,
    assertion_decisions,
    group_results,
    judged_assertion,
    nullable,
    rule_status,
    segment_extreme,
    unknown_groups,
)
from ethicsgate.rules.fairness_extras import cell_table, rule_counts
from ethicsgate.rules.results import (
    GroupKey,
    ReferenceValue,
    RuleStatus,
)
from ethicsgate.rules.scores import ScoreContext
from ethicsgate.rules.uncertainty import TestMethod, group_uncertainty
from ethicsgate.rules.windows import WINDOW_INDEX, WindowJudgement

__all__ = ["evaluate_fairness_windows", "vectorised"]


def vectorised(rule: FairnessRule, cross_check: int | None) -> bool:
    """Return whether :func:`evaluate_fairness_windows` judges ``rule`` (else window by window).

    LL144 tables and score metrics are tables of their own per window, and a cross-check
    recomputes groups with fairlearn from each window's frame.
    """
    return (
        rule.impact_ratio is None
        and not rule.score_metrics
        and not (cross_check or rule.cross_check)
        and not any(a.metric == "impact_ratio" for a in rule.assertions)
    )


def _codes(keys: list[pd.Series], window: np.ndarray) -> np.ndarray:
    """Return each row's (window, group) code, numbered in order of first appearance."""
    combined = window.astype(np.int64)
    for key in keys:
        codes, uniques = pd.factorize(key, use_na_sentinel=False)
        combined = combined * max(len(uniques), 1) + codes
        combined = pd.factorize(combined)[0].astype(np.int64)
    return combined


def _empty(rows: int = 0) -> WindowJudgement:
    return WindowJudgement(rows, RuleStatus.ERROR, NO_ROWS, {}, {}, [], [])


def evaluate_fairness_windows(
    rule: FairnessRule,
    stacked: pd.DataFrame,
    windows: int,
    *,
    scores: ScoreContext | None = None,
) -> list[WindowJudgement]:
    """Judge ``rule`` in each of ``windows`` windows of ``stacked`` grouped counts at once.

    ``stacked`` holds the windows' counts one under another, each row's window in
    :data:`WINDOW_INDEX`; the result for window ``i`` equals
    ``evaluate_fairness(rule, <its rows>, scores=scores)``'s (rows, status, message, overall,
    references, assertions, groups). The rule must be :func:`vectorised`.
    """
    features = list(rule.sensitive_features)
    metrics = rule.all_metrics
    full = rule_counts(rule, stacked, scores)
    window = full[WINDOW_INDEX].to_numpy(dtype=np.int64)
    n = full["n"].to_numpy(dtype=np.int64)
    keys = group_keys(full, features)
    code = _codes(keys, window)
    n_codes = int(code.max()) + 1 if len(code) else 0
    size = np.bincount(code, weights=n, minlength=n_codes).astype(np.int64)

    # the groups of every window, each once, sorted by window and then as a window sorts them
    _, first_row = np.unique(code, return_index=True)
    live = np.flatnonzero(size > 0)
    if not len(live):
        return [_empty() for _ in range(windows)]
    rows_of = first_row[live]
    names: list[np.ndarray] = []
    ranks: list[np.ndarray] = []
    for key in keys:
        codes, uniques = pd.factorize(key.to_numpy()[rows_of], use_na_sentinel=False)
        level = np.array([str(u) for u in uniques], dtype=object)
        names.append(level[codes])
        ranks.append(key_ranks(level)[codes])
    group_window = window[rows_of]
    order = np.lexsort([*reversed(ranks), group_window])
    live, group_window = live[order], group_window[order]
    names = [k[order] for k in names]
    position = np.full(n_codes, -1, dtype=np.int64)
    position[live] = np.arange(len(live))
    row_group = position[code]  # each row's group in report order (-1: a group of size 0)
    present, starts = np.unique(group_window, return_index=True)
    stops = np.append(starts[1:], len(live))
    segment = np.repeat(np.arange(len(starts)), stops - starts)

    # cell sums per group, as compute_group_metrics sums them per window
    if LABEL in full or PREDICTION in full:
        labels = full[LABEL if LABEL in full else PREDICTION].to_numpy()
        predictions = full[PREDICTION if PREDICTION in full else LABEL].to_numpy()
    else:
        labels = predictions = np.zeros(len(full), dtype=np.int64)
    counted = row_group >= 0
    cell_sums: dict[tuple[Any, ...], np.ndarray] = {}
    for metric in metrics:
        spec = METRICS[metric]
        for cells in (spec.numerator, spec.denominator or ()):
            if cells not in cell_sums:
                weights = np.where(cells_mask(cells, labels, predictions), n, 0)[counted]
                sums = np.bincount(row_group[counted], weights=weights, minlength=len(live))
                cell_sums[cells] = sums.astype(np.int64)
    sizes = size[live]
    totals = {c: np.add.reduceat(s, starts) if len(s) else s for c, s in cell_sums.items()}
    arrays: dict[str, np.ndarray] = {}
    overall: dict[str, list[float | int | None]] = {}
    for metric in metrics:
        spec = METRICS[metric]
        num = cell_sums[spec.numerator].astype(np.float64)
        total_num = totals[spec.numerator]
        if spec.denominator is None:
            arrays[metric] = num
            overall[metric] = [int(t) for t in total_num]
            continue
        total_den = totals[spec.denominator]
        if spec.scope == "all":
            den = total_den[segment].astype(np.float64)
        else:
            den = cell_sums[spec.denominator].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            arrays[metric] = np.where(den == 0, np.nan, num / den)
        overall[metric] = [
            None if d == 0 else float(x) / float(d)
            for x, d in zip(total_num.tolist(), total_den.tolist(), strict=True)
        ]

    columns = [[None if v == MISSING else v for v in k.tolist()] for k in names]
    unknown = unknown_groups(rule, columns)
    excluded = (sizes < rule.min_group_size) | unknown
    counts_list = sizes.tolist()
    excluded_list = excluded.tolist()
    groups: list[GroupKey] = [
        dict(zip(features, values, strict=True)) for values in zip(*columns, strict=True)
    ]
    values: dict[str, list[Any]] = {
        m: counts_list if METRICS[m].denominator is None else nullable(arrays[m]) for m in metrics
    }

    # references per window, then ratios and differences against them
    references: dict[str, list[ReferenceValue]] = {}
    for metric in metrics:
        if metric == "count":
            continue
        found = _references(rule, features, names, excluded, arrays[metric], starts)
        references[metric] = [
            _reference_value(rule, metric, groups, arrays, excluded, overall, i, int(row))
            for i, row in enumerate(found.tolist())
        ]
    ratios: dict[str, list[float | None]] = {}
    differences: dict[str, list[float | None]] = {}
    for name, refs in references.items():
        ref = np.array([np.nan if r.value is None else r.value for r in refs], dtype=np.float64)
        known = np.array([r.value is not None for r in refs], dtype=bool)[segment]
        ref_row = ref[segment]
        value = np.where(excluded, np.nan, arrays[name])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ref_row != 0, value / ref_row, np.nan)
            difference = np.abs(value - ref_row)
        ratio_list, difference_list = nullable(ratio), nullable(difference)
        if not known.all():
            for i in np.flatnonzero(~known).tolist():
                ratio_list[i] = difference_list[i] = None
        ratios[name], differences[name] = ratio_list, difference_list

    fields, p_values = _uncertainty(
        rule, full, row_group, len(live), starts, stops, excluded_list, groups, references
    )
    results = group_results(groups, counts_list, excluded_list, values, ratios, differences, fields)

    observed_for: dict[str, dict[str, list[Any]]] = {
        "ratio": ratios,
        "difference": differences,
        "value": values,
    }
    decisions = []
    for assertion in rule.assertions:
        observed = np.array(observed_for[assertion.aggregate][assertion.metric], dtype=np.float64)
        tested = (
            np.array(p_values[assertion.metric], dtype=np.float64) if p_values is not None else None
        )
        decisions.append(assertion_decisions(assertion, observed, excluded, tested, starts))

    rows = np.bincount(window, weights=n, minlength=windows).astype(np.int64).tolist()
    out = [_empty(rows[w]) for w in range(windows)]
    for i, (w, start, stop) in enumerate(zip(present.tolist(), starts, stops, strict=True)):
        start, stop = int(start), int(stop)
        local = groups[start:stop]
        assertions = [
            judged_assertion(
                rule,
                a,
                local,
                observed_for[a.aggregate][a.metric][start:stop],
                references[a.metric][i] if a.metric in references else None,
                p_values[a.metric][start:stop] if p_values is not None else None,
                decisions[j].window(i, start, stop),
            )
            for j, a in enumerate(rule.assertions)
        ]
        status, message = rule_status(
            rule, assertions, local, excluded_list[start:stop], unknown[start:stop]
        )
        out[w] = WindowJudgement(
            rows=rows[w],
            status=status,
            message=message,
            overall={m: overall[m][i] for m in metrics},
            reference_values={m: refs[i] for m, refs in references.items()},
            assertions=assertions,
            groups=results[start:stop],
        )
    return out


def _references(
    rule: FairnessRule,
    features: list[str],
    names: list[np.ndarray],
    excluded: np.ndarray,
    values: np.ndarray,
    starts: np.ndarray,
) -> np.ndarray:
    """Return each window's reference row for one metric (-1: none; overall: unused)."""
    if rule.reference == "overall":
        return np.full(len(starts), -1, dtype=np.int64)
    if isinstance(rule.reference, dict):
        wanted = {k: str(v) for k, v in rule.reference.items()}
        if set(wanted) != set(features) or not len(values):
            return np.full(len(starts), -1, dtype=np.int64)
        match = np.logical_and.reduce(
            [k == wanted[f] for f, k in zip(features, names, strict=True)]
        )
        return segment_extreme(np.zeros(len(values)), match, starts, lowest=True)
    candidates = ~excluded & ~np.isnan(values)
    return segment_extreme(values, candidates, starts, lowest=rule.reference != "max")


def _reference_value(
    rule: FairnessRule,
    metric: str,
    groups: list[GroupKey],
    arrays: dict[str, np.ndarray],
    excluded: np.ndarray,
    overall: dict[str, list[float | int | None]],
    window: int,
    row: int,
) -> ReferenceValue:
    """Return a window's reference for ``metric`` as evaluate_fairness's ``_reference`` does."""
    if rule.reference == "overall":
        return ReferenceValue(group=None, value=overall[metric][window])
    if isinstance(rule.reference, dict):
        wanted: GroupKey = {k: str(v) for k, v in rule.reference.items()}
        if row < 0:
            return ReferenceValue(group=wanted, value=None)
        value = arrays[metric][row]
        known = not excluded[row] and not np.isnan(value)
        return ReferenceValue(group=groups[row], value=float(value) if known else None)
    if row < 0:
        return ReferenceValue(group=None, value=None)
    return ReferenceValue(group=groups[row], value=float(arrays[metric][row]))


def _uncertainty(
    rule: FairnessRule,
    full: pd.DataFrame,
    row_group: np.ndarray,
    n_groups: int,
    starts: np.ndarray,
    stops: np.ndarray,
    excluded: list[bool],
    groups: list[GroupKey],
    references: dict[str, list[ReferenceValue]],
) -> tuple[list[dict[str, Any]], dict[str, list[float | None]] | None]:
    """Return each group's intervals and tests and each metric's p-values (None: untested).

    One cell table for all groups; each window's intervals are drawn from its slice with the
    rule's seed, as judging the window alone draws them.
    """
    fields: list[dict[str, Any]] = [{} for _ in range(n_groups)]
    significance = any(a.significant_at is not None for a in rule.assertions)
    test: TestMethod | None = "auto" if significance else None
    if rule.uncertainty is not None:
        test = rule.uncertainty.test
    if rule.uncertainty is None and test is None:
        return fields, None
    cells, columns = cell_table(full, row_group, n_groups)
    metrics = [m for m in rule.all_metrics if m != "count"]
    p_values: dict[str, list[float | None]] = {m: [] for m in rule.all_metrics}
    for i, (start, stop) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
        local = groups[start:stop]
        ref_index: dict[str, int | None] = {}
        for metric, refs in references.items():
            ref = refs[i]
            if ref.value is None:
                continue
            if ref.group is None:
                ref_index[metric] = None
            elif ref.group in local:
                ref_index[metric] = local.index(ref.group)
        found = group_uncertainty(
            cells[start:stop],
            columns,
            metrics=metrics,
            references=ref_index,
            excluded=excluded[start:stop],
            options=rule.uncertainty,
            test=test,
        )
        for g in range(stop - start):
            fields[start + g] = found.group_fields(g)
        for metric, tested in p_values.items():
            tested.extend(found.p_values(metric))
    return fields, p_values
