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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ethicsgate.policy.models import FairnessAssertion, FairnessRule, UncertaintyOptions
from ethicsgate.rules.results import (
    AssertionResult,
    ComparisonTest,
    GroupKey,
    ImpactRatioResult,
    ImpactRatioRow,
    ImpactRatioTable,
    Interval,
)
from ethicsgate.rules.uncertainty import (
    bootstrap_cells,
    compare_proportions,
    percentile_interval,
)
from ethicsgate.vocabulary import OP_WORDS_SHORT as _OP_WORDS
from ethicsgate.vocabulary import message_group_label as _label

__all__ = [
    "SUCCESS",
    "ImpactRatioRowData",
    "evaluate_impact_ratio_assertion",
    "impact_ratio_tables",
]

#: The 0/1 column of the counts that marks a selection (or a score above the median).
SUCCESS = "_ll144_success"


@dataclass
class ImpactRatioRowData:
    """A table row while it is computed (see :class:`ImpactRatioRow` for the fields)."""

    category: tuple[str, ...]
    applicants: int
    selected: int
    excluded: bool = False
    impact_ratio: float | None = None
    most_selected: bool = False
    test: ComparisonTest | None = None
    rate_interval: Interval | None = None
    impact_ratio_interval: Interval | None = None
    share: float = 0.0

    @property
    def rate(self) -> float:
        """Return selected / applicants."""
        return self.selected / self.applicants


@dataclass
class _Table:
    features: list[str]
    unknown: int
    rows: list[ImpactRatioRowData] = field(default_factory=list)
    reference: int | None = None


def _known(frame: pd.DataFrame, features: Sequence[str], unknown: set[str]) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for feature in features:
        values = frame[feature]
        mask &= values.notna() & ~values.astype(object).isin(unknown)
    return mask


def _table(frame: pd.DataFrame, features: list[str], unknown: set[str]) -> _Table:
    known = _known(frame, features, unknown)
    rows = frame[known]
    selected = rows["n"].where(rows[SUCCESS] == 1, 0)
    grouped = (
        rows.assign(_selected=selected)
        .groupby(features, sort=False)[["n", "_selected"]]
        .sum()
        .reset_index()
    )
    grouped = grouped[grouped["n"] > 0]
    table = _Table(features=features, unknown=int(frame.loc[~known, "n"].sum()))
    for record in grouped.itertuples(index=False):
        values = tuple(str(v) for v in record[: len(features)])
        table.rows.append(
            ImpactRatioRowData(
                category=values, applicants=int(record[-2]), selected=int(record[-1])
            )
        )
    table.rows.sort(key=lambda r: r.category)
    total = sum(r.applicants for r in table.rows)
    for row in table.rows:
        row.share = row.applicants / total if total else 0.0
    return table


def _finish(table: _Table, *, method: str | None) -> None:
    """Pick the most selected category among those not excluded; take ratios and tests."""
    candidates = [i for i, r in enumerate(table.rows) if not r.excluded]
    if not candidates:
        return
    best = max(candidates, key=lambda i: (table.rows[i].rate, -i))  # ties: first in order
    table.reference = best
    ref = table.rows[best]
    ref.most_selected = True
    for index in candidates:
        row = table.rows[index]
        row.impact_ratio = row.rate / ref.rate if ref.rate > 0 else None
        if method is not None and index != best:
            row.test = compare_proportions(
                row.selected,
                row.applicants,
                ref.selected,
                ref.applicants,
                method=method,  # type: ignore[arg-type]
            )


def _bootstrap(table: _Table, options: UncertaintyOptions, rng: np.random.Generator) -> None:
    if options.bootstrap_samples <= 0 or not table.rows:
        return
    counts = np.array([[r.selected, r.applicants - r.selected] for r in table.rows])
    draws = bootstrap_cells(counts, samples=options.bootstrap_samples, rng=rng)
    rates = draws[:, :, 0] / counts.sum(axis=1)[None, :]
    level = options.confidence_level
    for j, row in enumerate(table.rows):
        row.rate_interval = percentile_interval(rates[:, j], level)
    if table.reference is None:
        return
    reference = rates[:, table.reference]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(reference[:, None] > 0, rates / reference[:, None], np.nan)
    for j, row in enumerate(table.rows):
        if not row.excluded and j != table.reference:
            row.impact_ratio_interval = percentile_interval(ratios[:, j], level)


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
    selected one (also done whenever the rule has ``uncertainty``).
    """
    assert rule.impact_ratio is not None
    features = list(rule.sensitive_features)
    unknown = {str(v) for v in rule.unknown_values}
    options = rule.uncertainty
    method = options.test if options is not None else ("auto" if tests else None)
    share = rule.exclude_below_share

    singles = [_table(frame, [f], unknown) for f in features]
    tables = list(singles)
    if len(features) > 1:
        tables.append(_table(frame, features, unknown))
    for table in singles:
        for row in table.rows:
            row.excluded = share is not None and row.share < share
    if len(features) > 1:
        excluded_parts = [{r.category[0] for r in table.rows if r.excluded} for table in singles]
        for row in tables[-1].rows:
            if rule.intersection_exclusion == "components":
                row.excluded = any(
                    value in parts
                    for value, parts in zip(row.category, excluded_parts, strict=True)
                )
            else:
                row.excluded = share is not None and row.share < share
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
    reference = table.rows[table.reference] if table.reference is not None else None
    return ImpactRatioTable(
        features=table.features,
        applicants=sum(r.applicants for r in table.rows),
        unknown=table.unknown,
        most_selected=_key(table.features, reference.category) if reference else None,
        most_selected_rate=reference.rate if reference else None,
        rows=[
            ImpactRatioRow(
                category=_key(table.features, r.category),
                applicants=r.applicants,
                selected=r.selected,
                rate=r.rate,
                share=r.share,
                impact_ratio=r.impact_ratio,
                excluded=r.excluded,
                most_selected=r.most_selected,
                rate_interval=r.rate_interval,
                impact_ratio_interval=r.impact_ratio_interval,
                test=r.test,
            )
            for r in table.rows
        ],
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
    rows: list[tuple[ImpactRatioTable, ImpactRatioRow]] = [
        (table, row) for table in result.tables for row in table.rows if not row.excluded
    ]
    base: dict[str, Any] = {
        "metric": "impact_ratio",
        "aggregate": "value",
        "op": assertion.op,
        "threshold": assertion.value,
        "significant_at": assertion.significant_at,
    }
    undefined = [(t, r) for t, r in rows if r.impact_ratio is None]
    if not rows or len(undefined) == len(rows):
        if not any(t.applicants for t in result.tables):
            why = "no applicant is in a known category (see unknown_values)"
        elif not rows:
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
    defined = [(t, r) for t, r in rows if r.impact_ratio is not None]
    lower_is_worse = assertion.op in (">=", ">")
    table, worst = (min if lower_is_worse else max)(
        defined, key=lambda tr: tr[1].impact_ratio or 0.0
    )
    past = [(t, r) for t, r in defined if not check(r.impact_ratio or 0.0, assertion.value)]
    failing, quiet = past, []
    if assertion.significant_at is not None:
        alpha = assertion.significant_at
        failing = [(t, r) for t, r in past if r.test is not None and r.test.p_value < alpha]
        quiet = [(t, r) for t, r in past if not (r.test is not None and r.test.p_value < alpha)]
    common: dict[str, Any] = {
        **base,
        "observed": worst.impact_ratio,
        "group": worst.category,
        "reference_group": table.most_selected,
        "reference_value": table.most_selected_rate,
        "p_value": worst.test.p_value if worst.test is not None else None,
        "failing_groups": [r.category for _, r in failing],
        "not_significant_groups": [r.category for _, r in quiet],
    }
    quiet_note = (
        f"; {len(quiet)} categor{'y is' if len(quiet) == 1 else 'ies are'} past the threshold "
        f"but not significantly different from the most selected at {assertion.significant_at:g}"
        if quiet
        else ""
    )
    if failing:
        _, first = (min if lower_is_worse else max)(
            failing, key=lambda tr: tr[1].impact_ratio or 0.0
        )
        significance = (
            f", p = {first.test.p_value:.3g}" if first.test is not None and quiet_note else ""
        )
        return AssertionResult(
            **{**common, "observed": first.impact_ratio, "group": first.category},
            status="fail",
            message=f"impact_ratio for {_label(first.category)} is {first.impact_ratio:.4g}, "
            f"not {want}{significance}"
            + (f" ({len(failing)} categories fail)" if len(failing) > 1 else "")
            + quiet_note,
        )
    if undefined:
        return AssertionResult(
            **common,
            status="error",
            message="impact_ratio is undefined for "
            + "; ".join(_label(r.category) for _, r in undefined),
        )
    return AssertionResult(
        **common,
        status="pass",
        message=f"impact_ratio is {want} for every compared category (worst: "
        f"{_label(worst.category)}, {worst.impact_ratio:.4g})" + quiet_note,
    )
