"""NYC Local Law 144 bias-audit tables (6 RCNY § 5-301), from grouped counts.

For every sensitive feature, and for their intersection, one table lists each category's
number of applicants, the number selected (``selection``: prediction 1) or scoring above the
full-sample median (``scoring``), the rate, and the impact ratio

    impact ratio = rate of the category / rate of the most selected category.

People whose category is missing or one of ``unknown_values`` are counted in the table's
``unknown`` and left out of rates and ratios (§ 5-301(b)(5)). With ``exclude_below_share``,
categories under that share of the table's known applicants are marked excluded: they keep
their count and rate, get no ratio, and the most selected category is taken among the others
(§ 5-301(d)). The EEOC four-fifths rule (29 CFR 1607.4(D)) is then the assertion
``impact_ratio >= 0.8``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ethicsgate.metrics.counts import as_multiindex, collapse_counts, key_ranks, level_keys
from ethicsgate.policy.models import FairnessAssertion, FairnessRule, UncertaintyOptions
from ethicsgate.rules.fairness_assertions import on_threshold
from ethicsgate.rules.results import (
    ABSENT,
    Absent,
    AssertionResult,
    ComparisonTest,
    GroupKey,
    ImpactRatioResult,
    ImpactRatioRow,
    ImpactRatioRows,
    ImpactRatioTable,
    IntervalColumn,
    TestColumn,
)
from ethicsgate.rules.uncertainty import (
    bootstrap_cells,
    compare_proportions_many,
    interval_column,
    percentile_bounds,
)
from ethicsgate.vocabulary import OP_WORDS_SHORT as _OP_WORDS
from ethicsgate.vocabulary import message_group_label as _label

__all__ = [
    "SUCCESS",
    "evaluate_impact_ratio_assertion",
    "impact_ratio_tables",
]

#: The 0/1 column of the counts that marks a selection (or a score above the median).
SUCCESS = "_ll144_success"


@dataclass
class _Table:
    """One table while it is computed: one array entry per category, in category order."""

    features: list[str]
    unknown: int
    categories: list[tuple[str, ...]]
    applicants: np.ndarray  # int64
    selected: np.ndarray  # int64
    share: np.ndarray
    excluded: np.ndarray  # bool
    reference: int | None = None
    impact_ratio: np.ndarray | None = None  # float64, NaN: none
    tests: TestColumn | None = None
    rate_intervals: IntervalColumn | None = None
    ratio_intervals: IntervalColumn | None = None

    @property
    def rate(self) -> np.ndarray:
        """Return selected / applicants per category."""
        rate: np.ndarray = self.selected / self.applicants
        return rate


def _known(frame: pd.DataFrame, features: Sequence[str], unknown: set[str]) -> np.ndarray:
    """Return which rows have a known category: no feature missing or in ``unknown``."""
    mask = np.ones(len(frame), dtype=bool)
    for feature in features:
        codes, uniques = pd.factorize(frame[feature], use_na_sentinel=True)
        # each distinct value is checked once; the code -1 (missing) picks the trailing False
        known = np.array([*(u not in unknown for u in uniques), False], dtype=bool)
        mask &= known[codes]
    return mask


def _table(frame: pd.DataFrame, features: list[str], unknown: set[str]) -> _Table:
    known = _known(frame, features, unknown)
    rows = frame[known]
    selected = rows["n"].where(rows[SUCCESS] == 1, 0)
    grouped = (
        rows.assign(_selected=selected).groupby(features, sort=False)[["n", "_selected"]].sum()
    )
    grouped = grouped[grouped["n"].to_numpy() > 0]
    index = as_multiindex(grouped.index, features)
    keys = [level_keys(index.get_level_values(i)) for i in range(len(features))]
    # categories sorted as tuples of strings: one lexsort over each level's ranks
    order = np.lexsort([key_ranks(k) for k in reversed(keys)]) if len(grouped) else np.arange(0)
    applicants = grouped["n"].to_numpy(dtype=np.int64)[order]
    total = int(applicants.sum())
    return _Table(
        features=features,
        unknown=int(frame.loc[~known, "n"].sum()),
        categories=list(zip(*(k[order].tolist() for k in keys), strict=True)),
        applicants=applicants,
        selected=grouped["_selected"].to_numpy(dtype=np.int64)[order],
        share=applicants / total if total else np.zeros(len(applicants)),
        excluded=np.zeros(len(applicants), dtype=bool),
    )


def _finish(table: _Table, *, method: str | None) -> None:
    """Pick the most selected category among those not excluded; take ratios and tests."""
    size = len(table.categories)
    table.impact_ratio = np.full(size, np.nan)
    candidates = ~table.excluded
    if not candidates.any():
        return
    rate = table.rate
    # the highest rate; ties: the first in order (argmax returns the first maximum)
    best = int(np.argmax(np.where(candidates, rate, -np.inf)))
    table.reference = best
    ref_rate = float(rate[best])
    if ref_rate > 0:
        table.impact_ratio = np.where(candidates, rate / ref_rate, np.nan)
    if method is not None:
        compared = candidates.copy()
        compared[best] = False
        where = np.flatnonzero(compared)
        results = compare_proportions_many(
            table.selected[where],
            table.applicants[where],
            np.full(where.size, table.selected[best]),
            np.full(where.size, table.applicants[best]),
            method=method,  # type: ignore[arg-type]
        )
        tests: list[ComparisonTest | Absent] = [ABSENT] * size
        for i, test in zip(where.tolist(), results, strict=True):
            if test is not None:  # None: no test (ABSENT reads as none too)
                tests[i] = test
        table.tests = TestColumn(tests)  # held compact, made when read


def _bootstrap(table: _Table, options: UncertaintyOptions, rng: np.random.Generator) -> None:
    size = len(table.categories)
    if options.bootstrap_samples <= 0 or not size:
        return
    counts = np.stack([table.selected, table.applicants - table.selected], axis=1)
    draws = bootstrap_cells(counts, samples=options.bootstrap_samples, rng=rng)
    rates = draws[:, :, 0] / counts.sum(axis=1)[None, :]
    level = options.confidence_level
    table.rate_intervals = interval_column(*percentile_bounds(rates.T, level))
    low, high = np.full(size, np.nan), np.full(size, np.nan)  # NaN: no interval
    if table.reference is not None:
        reference = rates[:, table.reference]
        compared = ~table.excluded
        compared[table.reference] = False
        where = np.flatnonzero(compared)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(
                reference[None, :] > 0, rates[:, where].T / reference[None, :], np.nan
            )
        low[where], high[where] = percentile_bounds(ratios, level)
    table.ratio_intervals = interval_column(low, high)


def impact_ratio_tables(
    rule: FairnessRule,
    frame: pd.DataFrame,
    *,
    median_score: float | None = None,
    tests: bool = False,
) -> ImpactRatioResult:
    """Return the rule's LL144 tables from counts with the features, SUCCESS (0/1) and ``n``.

    One table per sensitive feature and, with two or more features, one for their
    intersection. ``tests`` adds a significance test of each category against the most
    selected one (also done whenever the rule has ``uncertainty``). Every category of a
    table is handled at once: ratios, tests and bootstrap intervals are array operations.
    """
    assert rule.impact_ratio is not None
    features = list(rule.sensitive_features)
    unknown = {str(v) for v in rule.unknown_values}
    # every table reads the counts by category and success: aggregate them once
    frame = collapse_counts(frame, [*features, SUCCESS])
    options = rule.uncertainty
    method = options.test if options is not None else ("auto" if tests else None)
    share = rule.exclude_below_share

    singles = [_table(frame, [f], unknown) for f in features]
    tables = list(singles)
    if len(features) > 1:
        tables.append(_table(frame, features, unknown))
    for table in singles:
        table.excluded = table.share < share if share is not None else table.excluded
    if len(features) > 1:
        last = tables[-1]
        if rule.intersection_exclusion == "components":
            excluded = np.zeros(len(last.categories), dtype=bool)
            for position, table in enumerate(singles):
                parts = pd.Index(
                    [c[0] for c, ex in zip(table.categories, table.excluded, strict=True) if ex]
                )
                values = pd.Index([c[position] for c in last.categories])
                excluded |= values.isin(parts)
            last.excluded = excluded
        elif share is not None:
            last.excluded = last.share < share
    for index, table in enumerate(tables):
        _finish(table, method=method)
        if options is not None:
            rng = np.random.default_rng([options.seed, 1_000 + index])
            _bootstrap(table, options, rng)

    return ImpactRatioResult(
        kind=rule.impact_ratio,
        median_score=median_score,
        unknown_values=sorted(unknown),
        exclude_below_share=share,
        intersection_exclusion=rule.intersection_exclusion,
        tables=[_to_model(t) for t in tables],
    )


def _key(features: list[str], category: tuple[str, ...]) -> GroupKey:
    return dict(zip(features, category, strict=True))


def _to_model(table: _Table) -> ImpactRatioTable:
    ref = table.reference
    rate = table.rate
    size = len(table.categories)
    ratio = table.impact_ratio if table.impact_ratio is not None else np.full(size, np.nan)
    return ImpactRatioTable(
        features=table.features,
        applicants=int(table.applicants.sum()),
        unknown=table.unknown,
        most_selected=_key(table.features, table.categories[ref]) if ref is not None else None,
        most_selected_rate=float(rate[ref]) if ref is not None else None,
        # held as columns, a row made when read: a row object per category was 70 MB a
        # table at 10^5 intersectional categories
        rows=ImpactRatioRows(
            table.features,
            table.categories,
            applicants=np.ascontiguousarray(table.applicants, dtype=np.int64),
            selected=np.ascontiguousarray(table.selected, dtype=np.int64),
            rate=np.ascontiguousarray(rate, dtype=np.float64),
            share=np.ascontiguousarray(table.share, dtype=np.float64),
            impact_ratio=np.ascontiguousarray(ratio, dtype=np.float64),
            excluded=np.ascontiguousarray(table.excluded, dtype=np.int8),
            reference=ref,
            rate_intervals=table.rate_intervals,
            ratio_intervals=table.ratio_intervals,
            tests=table.tests,
        ),
    )


def evaluate_impact_ratio_assertion(
    assertion: FairnessAssertion, result: ImpactRatioResult
) -> AssertionResult:
    """Check an ``impact_ratio`` assertion on every compared category of every table.

    Excluded categories are never compared. With ``significant_at``, a category past the
    threshold fails only when its test against the most selected category has p below it.
    """
    import operator

    check = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}[assertion.op]
    want = f"{_OP_WORDS[assertion.op]} {assertion.value:g}"
    base: dict[str, Any] = {
        "metric": "impact_ratio",
        "aggregate": "value",
        "op": assertion.op,
        "threshold": assertion.value,
        "significant_at": assertion.significant_at,
    }
    lower_is_worse = assertion.op in (">=", ">")
    alpha = assertion.significant_at
    # one pass, each row made as it is reached (a table holds its rows as columns): only the
    # worst row and the categories past the threshold are kept
    compared = 0
    undefined: list[GroupKey] = []
    worst: tuple[ImpactRatioTable, ImpactRatioRow, float] | None = None
    failing: list[tuple[float, GroupKey, float | None]] = []  # ratio, category, p
    quiet: list[GroupKey] = []
    for table in result.tables:
        for row in table.rows:
            if row.excluded:
                continue
            compared += 1
            ratio = row.impact_ratio
            if ratio is None:
                undefined.append(row.category)
                continue
            if worst is None or (ratio < worst[2] if lower_is_worse else ratio > worst[2]):
                worst = (table, row, ratio)  # ties: the first, as min() and max() keep
            if check(on_threshold(ratio, assertion.value), assertion.value):
                continue
            p = row.test.p_value if row.test is not None else None
            if alpha is None or (p is not None and p < alpha):
                failing.append((ratio, row.category, p))
            else:
                quiet.append(row.category)
    if worst is None:
        if not any(t.applicants for t in result.tables):
            why = "no applicant is in a known category (see unknown_values)"
        elif not compared:
            why = "every category is excluded (see exclude_below_share)"
        elif result.kind == "scoring":
            why = "no category has anyone scoring above the median"
        else:
            why = "no category was selected"
        return AssertionResult(
            **base,
            observed=None,
            group=None,
            status="error",
            message=f"impact_ratio cannot be taken: {why}",
        )
    table, worst_row, _ = worst
    common: dict[str, Any] = {
        **base,
        "observed": worst_row.impact_ratio,
        "group": worst_row.category,
        "reference_group": table.most_selected,
        "reference_value": table.most_selected_rate,
        "p_value": worst_row.test.p_value if worst_row.test is not None else None,
        "failing_groups": [category for _, category, _ in failing],
        "not_significant_groups": quiet,
    }
    quiet_note = (
        f"; {len(quiet)} categor{'y is' if len(quiet) == 1 else 'ies are'} past the threshold "
        f"but not significantly different from the most selected at {assertion.significant_at:g}"
        if quiet
        else ""
    )
    if failing:
        ratio, category, p = (min if lower_is_worse else max)(failing, key=lambda f: f[0])
        significance = f", p = {p:.3g}" if p is not None and quiet_note else ""
        return AssertionResult(
            **{**common, "observed": ratio, "group": category},
            status="fail",
            message=f"impact_ratio for {_label(category)} is {ratio:.4g}, "
            f"not {want}{significance}"
            + (f" ({len(failing)} categories fail)" if len(failing) > 1 else "")
            + quiet_note,
        )
    if undefined:
        return AssertionResult(
            **common,
            status="error",
            message="impact_ratio is undefined for " + "; ".join(_label(c) for c in undefined),
        )
    return AssertionResult(
        **common,
        status="pass",
        message=f"impact_ratio is {want} for every compared category (worst: "
        f"{_label(worst_row.category)}, {worst[2]:.4g})" + quiet_note,
    )
