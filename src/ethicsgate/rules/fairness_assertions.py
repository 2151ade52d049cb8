"""Fairness assertions decided over groups, for one dataset or many windows at once.

An assertion's decision (which groups are compared, past the threshold, not significant,
undefined; the failing and worst group) is numpy over segments of groups, one segment per
window (:func:`assertion_decisions`); its result and message are then built per window
(:func:`judged_assertion`). :func:`~ethicsgate.rules.fairness.evaluate_fairness` decides one
segment, :mod:`~ethicsgate.rules.fairness_windows` all windows of a rule at once.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ethicsgate.errors import close_match
from ethicsgate.policy.models import FairnessAssertion, FairnessRule, Severity
from ethicsgate.rules.results import (
    AssertionResult,
    GroupKey,
    GroupResult,
    ReferenceValue,
    RuleStatus,
)
from ethicsgate.vocabulary import OP_WORDS_SHORT as _OP_WORDS
from ethicsgate.vocabulary import message_group_label as _fmt_group
from ethicsgate.vocabulary import unknown_words

__all__ = [
    "AssertionDecisions",
    "NO_ROWS",
    "WindowDecision",
    "assertion_decisions",
    "group_results",
    "judged_assertion",
    "nullable",
    "on_threshold",
    "rule_status",
    "segment_extreme",
    "unknown_groups",
]

#: The message of a rule (or a window) with no rows to judge.
NO_ROWS = (
    "no evidence rows to evaluate: the evidence holds none (a header only?) or its filter keeps "
    "none"
)


def group_results(
    groups: Sequence[GroupKey],
    counts: Sequence[int],
    excluded: Sequence[bool],
    values: Mapping[str, Sequence[Any]],
    ratios: Mapping[str, Sequence[Any]],
    differences: Mapping[str, Sequence[Any]],
    fields: Sequence[Mapping[str, Any]],
) -> list[GroupResult]:
    """Return each group's result from the per-metric columns (one list per metric)."""
    return [
        GroupResult(
            group=groups[i],
            count=counts[i],
            excluded=excluded[i],
            metrics={m: column[i] for m, column in values.items()},
            ratios={m: column[i] for m, column in ratios.items()},
            differences={m: column[i] for m, column in differences.items()},
            **fields[i],
        )
        for i in range(len(groups))
    ]


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


#: Float epsilons (times the threshold's size, at least 1) within which an observed value is
#: the threshold itself: a ratio or difference of two rates carries three roundings.
_THRESHOLD_EPSILONS = 4


def on_threshold(values: Any, threshold: float) -> Any:
    """Return ``values`` with those within rounding error of ``threshold`` set to it.

    A ratio or difference of rates is divided and subtracted in floats: a ratio of exactly
    4/5, (20/30) / (25/30), comes out as 0.7999999999999999, and 0.7 - 0.3 as
    0.39999999999999997, which ``>= 0.8`` and ``< 0.4`` would judge wrongly. A value within
    :data:`_THRESHOLD_EPSILONS` epsilons of the threshold (scaled by its size, at least 1)
    counts as equal to it; rates of groups under about a million people that truly differ are
    further apart than that. NaN stays NaN. Works on a float or an array.
    """
    tolerance = _THRESHOLD_EPSILONS * np.finfo(np.float64).eps * max(1.0, abs(threshold))
    array = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        snapped = np.where(np.abs(array - threshold) <= tolerance, threshold, array)
    return snapped if np.ndim(values) else float(snapped)


#: Undefined groups a failing assertion's message names (the rest are counted).
_NAMED_UNDEFINED = 3


def unknown_groups(rule: FairnessRule, columns: Sequence[Sequence[Any]]) -> np.ndarray:
    """Return, per group, whether one of its values is missing or one of ``unknown_values``.

    ``columns`` holds each sensitive feature's value per group (None: missing). Such groups
    are shown and never compared, as groups under ``min_group_size`` are. All False when the
    rule names no unknown values: a missing value is then a group of its own, compared.
    """
    size = len(columns[0]) if columns else 0
    mask = np.zeros(size, dtype=bool)
    if not rule.unknown_values:
        return mask
    import pandas as pd

    unknown = [str(v) for v in rule.unknown_values]
    for values in columns:
        column = pd.Series(values, dtype=object)
        mask |= (column.isna() | (column.notna() & column.astype(str).isin(unknown))).to_numpy()
    return mask


def _not_compared(rule: FairnessRule, excluded: Sequence[bool], unknown: np.ndarray | None) -> str:
    """Return the note on groups shown but not compared: small ones, and of unknown value."""
    if rule.ll144_only:
        return ""
    n_unknown = int(np.count_nonzero(unknown)) if unknown is not None else 0
    n_small = int(np.count_nonzero(excluded)) - n_unknown
    parts = []
    if n_small:
        parts.append(f"{n_small} group(s) under {rule.min_group_size} people")
    if n_unknown:
        parts.append(
            f"{n_unknown} group(s) of an unknown value ({unknown_words(rule.unknown_values)})"
        )
    return f"; {' and '.join(parts)} reported but not compared" if parts else ""


def nullable(values: np.ndarray) -> list[float | None]:
    """Return the values as Python floats, NaN as None."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out.tolist()  # type: ignore[no-any-return]


def _fmt(x: float | None) -> str:
    return "null" if x is None else f"{x:.4g}"


@dataclass(frozen=True)
class WindowDecision:
    """An assertion's decision in one window: indices into its groups (local)."""

    n_comparable: int
    failing: list[int]
    fail_index: int | None
    worst_index: int | None
    undefined: list[int]
    quiet: list[int]


@dataclass(frozen=True)
class AssertionDecisions:
    """An assertion decided for the groups of several windows at once (segments of rows).

    Rows are groups in report order, window after window; ``starts`` are the first rows of
    the windows (every window has a group). Per window: how many groups are compared, the
    failing, quiet (past the threshold, not significant) and undefined groups (positions in
    all rows), and the failing and worst groups' rows (-1: none).
    """

    starts: np.ndarray
    n_comparable: np.ndarray
    failing: np.ndarray
    quiet: np.ndarray
    undefined: np.ndarray
    fail_index: np.ndarray
    worst_index: np.ndarray

    def window(self, index: int, start: int, stop: int) -> WindowDecision:
        """Return window ``index`` (rows ``start`` to ``stop``), indices local to it."""

        def local(rows: np.ndarray) -> list[int]:
            lo, hi = np.searchsorted(rows, (start, stop))
            return (rows[lo:hi] - start).tolist()  # type: ignore[no-any-return]

        fail, worst = int(self.fail_index[index]), int(self.worst_index[index])
        return WindowDecision(
            n_comparable=int(self.n_comparable[index]),
            failing=local(self.failing),
            fail_index=fail - start if fail >= 0 else None,
            worst_index=worst - start if worst >= 0 else None,
            undefined=local(self.undefined),
            quiet=local(self.quiet),
        )


def segment_extreme(
    values: np.ndarray, mask: np.ndarray, starts: np.ndarray, *, lowest: bool
) -> np.ndarray:
    """Return, per segment, the row of the lowest (highest) value where ``mask``, or -1.

    Segments are the rows from each of ``starts`` to the next; ties: the first, exactly as
    ``argmin(where(mask, values, inf))`` (``argmax`` with -inf) within each segment.
    """
    out = np.full(len(starts), -1, dtype=np.int64)
    if not len(values):
        return out
    fill = np.inf if lowest else -np.inf
    filled = np.where(mask, values, fill)
    reduce = np.minimum if lowest else np.maximum
    extreme = reduce.reduceat(filled, starts)
    segment = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(values))))
    rows = np.arange(len(values), dtype=np.int64)
    first = np.minimum.reduceat(np.where(filled == extreme[segment], rows, len(values)), starts)
    has = np.logical_or.reduceat(mask, starts)
    out[has] = first[has]
    return out


def assertion_decisions(
    assertion: FairnessAssertion,
    values: np.ndarray,
    excluded: np.ndarray,
    tested: np.ndarray | None,
    starts: np.ndarray,
) -> AssertionDecisions:
    """Decide ``assertion`` for every group of every window (segments at ``starts``).

    ``values`` are the observed values (NaN: undefined), ``tested`` the p-values (NaN: not
    tested) when the rule tests its groups.
    """
    comparable = ~excluded
    defined = comparable & ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        check: Any = _OPS[assertion.op]  # elementwise on the array
        past = defined & ~check(on_threshold(values, assertion.value), assertion.value)
    quiet = np.zeros(len(values), dtype=bool)
    if assertion.significant_at is not None:
        # past the threshold but not significantly different from the reference: no failure
        significant = (
            tested < assertion.significant_at
            if tested is not None
            else np.zeros(len(values), dtype=bool)
        )
        quiet = past & ~significant
        past &= ~quiet
    lowest = assertion.op in (">=", ">")
    empty = not len(values)
    return AssertionDecisions(
        starts=starts,
        n_comparable=(
            np.zeros(len(starts), dtype=np.int64)
            if empty
            else np.add.reduceat(comparable.astype(np.int64), starts)
        ),
        failing=np.flatnonzero(past),
        quiet=np.flatnonzero(quiet),
        undefined=np.flatnonzero(comparable & np.isnan(values)),
        fail_index=segment_extreme(values, past, starts, lowest=lowest),
        worst_index=segment_extreme(values, defined, starts, lowest=lowest),
    )


def judged_assertion(
    rule: FairnessRule,
    assertion: FairnessAssertion,
    groups: list[GroupKey],
    observed: list[float | None],
    reference: ReferenceValue | None,
    p_values: list[float | None] | None,
    found: WindowDecision,
) -> AssertionResult:
    """Return an assertion's result in one window (or dataset) from its decision."""

    def result(
        status: str, message: str, index: int | None = None, **extra: Any
    ) -> AssertionResult:
        fields: dict[str, Any] = {"observed": None, "group": None, **extra}
        if index is not None:
            fields["observed"], fields["group"] = observed[index], groups[index]
        return AssertionResult(
            metric=assertion.metric,
            aggregate=assertion.aggregate,
            op=assertion.op,
            threshold=assertion.value,
            reference_group=reference.group if reference else None,
            reference_value=reference.value if reference else None,
            status=status,  # type: ignore[arg-type]
            message=message,
            significant_at=assertion.significant_at,
            p_value=p_values[index] if p_values is not None and index is not None else None,
            **fields,
        )

    label = f"{assertion.metric} {assertion.aggregate}"
    n_comparable = found.n_comparable
    needed = 1 if assertion.aggregate == "value" or rule.reference == "overall" else 2
    if n_comparable < needed:
        return result(
            "error",
            f"{label}: only {n_comparable} group(s) have at least {rule.min_group_size} people"
            + (" and a known value" if rule.unknown_values else "")
            + "; nothing to compare (lower min_group_size or add evidence)",
        )
    if assertion.aggregate != "value" and (reference is None or reference.value is None):
        why = _unusable_reference(rule, reference, groups, found)
        return result(
            "error",
            f"{label}: the reference value ({_fmt_group(reference.group if reference else None)})"
            f" {why}, so no ratio or difference can be taken",
        )
    if assertion.aggregate == "ratio" and reference is not None and reference.value == 0:
        return result(
            "error",
            f"{label}: the reference value ({_fmt_group(reference.group)}) is 0; ratios are "
            "undefined (use aggregate: difference, or another reference)",
        )
    worst_index = found.worst_index
    want = f"{_OP_WORDS[assertion.op]} {assertion.value:g}"
    n_quiet = len(found.quiet)
    quiet_note = (
        f"; {n_quiet} group(s) past the threshold but not significantly different from the "
        f"reference at {assertion.significant_at:g}"
        if n_quiet
        else ""
    )
    extra_fields: dict[str, Any] = {}
    if n_quiet:
        extra_fields["not_significant_groups"] = [groups[i] for i in found.quiet]
    failing = found.failing
    if failing:
        fail_index = found.fail_index
        assert fail_index is not None
        # a compared group whose value is 0/0 is not judged: a failure must still say so
        unjudged = [_fmt_group(groups[i]) for i in found.undefined[:_NAMED_UNDEFINED]]
        more = len(found.undefined) - len(unjudged)
        unjudged_note = (
            "; undefined (0/0), so not judged, for "
            + "; ".join(unjudged)
            + (f" and {more} more group(s)" if more else "")
            if unjudged
            else ""
        )
        return result(
            "fail",
            f"{label} for {_fmt_group(groups[fail_index])} is {_fmt(observed[fail_index])}, "
            f"not {want}"
            + (f" ({len(failing)} groups fail)" if len(failing) > 1 else "")
            + quiet_note
            + unjudged_note,
            fail_index,
            failing_groups=[groups[i] for i in failing],
            **extra_fields,
        )
    worst_group = groups[worst_index] if worst_index is not None else None
    worst_value = observed[worst_index] if worst_index is not None else None
    undefined = found.undefined
    if undefined:
        return result(
            "error",
            f"{label} is undefined (0/0) for "
            f"{'; '.join(_fmt_group(groups[i]) for i in undefined)}, "
            "so the assertion cannot be checked",
            worst_index,
            **extra_fields,
        )
    return result(
        "pass",
        f"{label} is {want} for every group (worst: {_fmt_group(worst_group)}, "
        f"{_fmt(worst_value)})" + quiet_note,
        worst_index,
        **extra_fields,
    )


def _unusable_reference(
    rule: FairnessRule,
    reference: ReferenceValue | None,
    groups: list[GroupKey],
    found: WindowDecision,
) -> str:
    """Return why a reference group has no value: not in the evidence, too small, or 0/0."""
    if not isinstance(rule.reference, dict) or reference is None or reference.group is None:
        return "is undefined"
    wanted = reference.group
    if wanted not in groups:
        guesses = [
            close_match(str(value), {str(g.get(feature)) for g in groups})
            for feature, value in wanted.items()
        ]
        guess = ", ".join(repr(g) for g in guesses if g is not None)
        return "is not a group of the evidence" + (f" (did you mean {guess}?)" if guess else "")
    if groups.index(wanted) in found.undefined:
        return "is undefined (0/0)"
    return f"has fewer than {rule.min_group_size} people"


def rule_status(
    rule: FairnessRule,
    assertions: list[AssertionResult],
    groups: list[GroupKey],
    excluded: list[bool],
    unknown: np.ndarray | None = None,
) -> tuple[RuleStatus, str]:
    """Return a rule's (or window's) status and message from its assertions' results.

    ``unknown``: which of the excluded groups are of an unknown value (:func:`unknown_groups`).
    """
    small = _not_compared(rule, excluded, unknown)
    failed = [a for a in assertions if a.status == "fail"]
    errors = [a for a in assertions if a.status == "error"]
    if failed:
        status = RuleStatus.FAIL if rule.severity == Severity.BLOCK else RuleStatus.WARN
        return status, "; ".join(a.message for a in failed) + small
    if errors:
        return RuleStatus.ERROR, "; ".join(a.message for a in errors) + small
    if not assertions:
        return (
            RuleStatus.PASS,
            f"reported {len(rule.all_metrics)} metric(s) for "
            f"{len(groups)} group(s); no assertions" + small,
        )
    return RuleStatus.PASS, f"all {len(assertions)} assertion(s) hold" + small
