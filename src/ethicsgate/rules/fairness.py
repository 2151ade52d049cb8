"""Fairness rules: group metrics from aggregated confusion counts, then the assertions.

The evidence layer hands over rows grouped by sensitive features, label and prediction with
their count ``n``. Every metric is computed from those counts for all groups at once
(:mod:`ethicsgate.metrics.counts`); the values equal fairlearn's ``MetricFrame`` on the raw
rows (every sum is an integer well below 2**53), which the oracle tests check.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ethicsgate.evidence.contracts import BuiltinCheck
from ethicsgate.evidence.engine import Dataset
from ethicsgate.evidence.model import ProgressCallback
from ethicsgate.metrics import LABEL, METRICS, PREDICTION, MetricId
from ethicsgate.metrics import MISSING as _NULL
from ethicsgate.metrics.counts import compute_group_metrics, key_ranks, level_keys
from ethicsgate.policy.models import FairnessAssertion, FairnessRule, PolicyPack, Severity
from ethicsgate.rules.fairness_extras import fairness_extras, rule_counts
from ethicsgate.rules.fairness_scan import (
    SCORE_SUM_PREFIX,
    FairnessCounts,
    scan_fairness_evidence,
    score_context,
)
from ethicsgate.rules.kind import AuditInputs, KindBase
from ethicsgate.rules.ll144 import evaluate_impact_ratio_assertion
from ethicsgate.rules.results import (
    AssertionResult,
    CrossCheck,
    GroupKey,
    GroupResult,
    ReferenceValue,
    RuleResult,
    RuleStatus,
)
from ethicsgate.rules.scores import ScoreContext
from ethicsgate.vocabulary import OP_WORDS_SHORT as _OP_WORDS
from ethicsgate.vocabulary import message_group_label as _fmt_group

__all__ = ["FairnessKind", "evaluate_fairness", "explain_fairness"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


def _nullable(values: np.ndarray) -> list[float | None]:
    """Return the values as Python floats, NaN as None."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out.tolist()  # type: ignore[no-any-return]


def _fmt(x: float | None) -> str:
    return "null" if x is None else f"{x:.4g}"


def evaluate_fairness(
    rule: FairnessRule,
    counts: pd.DataFrame,
    *,
    scores: ScoreContext | None = None,
    cross_check: int | None = None,
) -> RuleResult:
    """Evaluate a fairness rule on grouped counts of its dataset.

    ``ratio`` = group value / reference value and ``difference`` = |group - reference|, for
    every group at least ``min_group_size`` large; each assertion holds for its worst group.
    ``scores`` describes the score columns of the counts (LL144 scoring rate, score metrics,
    thresholded predictions). ``cross_check`` (or the rule's own ``cross_check``): recompute
    that many groups with fairlearn and record the agreement; a disagreement makes the rule
    ``error``, never a pass.
    """
    features = list(rule.sensitive_features)
    metrics = rule.all_metrics
    full = rule_counts(rule, counts, scores)
    keep = [*features] + [c for c in (LABEL, PREDICTION) if c in full]
    counts = full.groupby(keep, dropna=False, sort=False)["n"].sum().reset_index()
    counts = counts[counts["n"] > 0]
    base: dict[str, Any] = {
        "id": rule.id,
        "kind": rule.kind,
        "title": rule.title,
        "severity": rule.severity.value,
        "dataset": rule.dataset,
        "references": list(rule.references),
        "sensitive_features": features,
        "min_group_size": rule.min_group_size,
        "reference": rule.reference,
        "rows": int(counts["n"].sum()),
    }
    if counts.empty:
        return RuleResult(
            **base,
            status=RuleStatus.ERROR,
            message="no evidence rows to evaluate (is the filter too strict?)",
        )
    by_group, overall, sizes = compute_group_metrics(counts, features=features, metrics=metrics)

    # Stable order: by group values, missing values last (one lexsort over per-level ranks).
    keys = [level_keys(by_group.index.get_level_values(i)) for i in range(len(features))]
    order = np.lexsort([key_ranks(k) for k in reversed(keys)]) if len(by_group) else np.arange(0)
    by_group = by_group.iloc[order]
    sizes = sizes.iloc[order]
    keys = [k[order] for k in keys]
    checked = _cross_check(rule, counts, by_group, metrics, cross_check or rule.cross_check)
    columns: list[list[str | None]] = [
        [None if v == _NULL else v for v in k.tolist()] for k in keys
    ]
    groups: list[GroupKey] = [
        dict(zip(features, vals, strict=True)) for vals in zip(*columns, strict=True)
    ]
    sizes_array = sizes.to_numpy(dtype=np.int64)
    counts_list = sizes_array.tolist()
    excluded_mask = sizes_array < rule.min_group_size
    excluded = excluded_mask.tolist()
    arrays: dict[str, Any] = {m: by_group[m].to_numpy(dtype=np.float64) for m in metrics}
    values: dict[str, list[float | None]] = {
        m: counts_list if METRICS[m].denominator is None else _nullable(arrays[m]) for m in metrics
    }

    references: dict[str, ReferenceValue] = {
        m: _reference(rule, m, groups, keys, excluded_mask, arrays[m], overall[m])
        for m in metrics
        if m != "count"
    }
    ratios: dict[str, list[float | None]] = {}
    differences: dict[str, list[float | None]] = {}
    for metric, ref in references.items():
        value = np.where(excluded_mask, np.nan, arrays[metric])
        if ref.value is None:
            ratios[metric] = differences[metric] = [None] * len(groups)
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = value / ref.value if ref.value != 0 else np.full(len(value), np.nan)
        ratios[metric] = _nullable(ratio)
        differences[metric] = _nullable(np.abs(value - ref.value))

    extras = fairness_extras(
        rule,
        full=full,
        counts=counts,
        groups=groups,
        keys=keys,
        excluded=excluded,
        references=references,
        scores=scores,
    )
    group_results = [
        GroupResult(
            group=groups[i],
            count=counts_list[i],
            excluded=excluded[i],
            metrics={m: values[m][i] for m in metrics},
            ratios={m: ratios[m][i] for m in ratios},
            differences={m: differences[m][i] for m in differences},
            **extras.group_fields[i],
        )
        for i in range(len(groups))
    ]
    observed_for: dict[str, dict[str, list[float | None]]] = {
        "ratio": ratios,
        "difference": differences,
        "value": values,
    }
    assertions = [
        evaluate_impact_ratio_assertion(a, extras.impact_ratio)
        if a.metric == "impact_ratio" and extras.impact_ratio is not None
        else _evaluate_assertion(
            rule,
            a,
            groups,
            excluded_mask,
            observed_for[a.aggregate][a.metric],
            references.get(a.metric),
            p_values=extras.p_values(a.metric),
        )
        for a in rule.assertions
    ]
    status, message = _rule_status(rule, assertions, groups, excluded)
    if checked is not None and not checked.agrees:
        status = RuleStatus.ERROR
        message = (
            f"the cross-check with fairlearn {checked.fairlearn_version} disagrees (largest "
            f"difference {checked.max_abs_difference:.3g} over {checked.groups_checked:,} "
            "group(s), or a metric undefined in one and not the other): please report this; "
            f"the rule is not judged. {message}"
        )
    return RuleResult(
        **base,
        status=status,
        message=message,
        overall=overall,
        reference_values=references,
        assertions=assertions,
        groups=group_results,
        uncertainty=extras.info,
        impact_ratio=extras.impact_ratio,
        score=extras.score,
        cross_check=checked,
    )


def _cross_check(
    rule: FairnessRule,
    counts: pd.DataFrame,
    by_group: pd.DataFrame,
    metrics: list[MetricId],
    groups: int | None,
) -> CrossCheck | None:
    """Recompute the first ``groups`` groups with fairlearn (imported only here), or None."""
    if not groups:
        return None
    from ethicsgate.metrics._fairlearn import cross_check

    found = cross_check(
        counts,
        features=rule.sensitive_features,
        metrics=metrics,
        by_group=by_group,
        max_groups=groups,
    )
    return CrossCheck(**found)


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def _reference(
    rule: FairnessRule,
    metric: str,
    groups: list[GroupKey],
    keys: list[np.ndarray],
    excluded: np.ndarray,
    values: np.ndarray,
    overall: float | None,
) -> ReferenceValue:
    if rule.reference == "overall":
        return ReferenceValue(group=None, value=overall)
    if isinstance(rule.reference, dict):
        wanted: GroupKey = {k: str(v) for k, v in rule.reference.items()}
        features = list(rule.sensitive_features)
        if set(wanted) == set(features) and groups:
            match = np.logical_and.reduce(
                [k == wanted[f] for f, k in zip(features, keys, strict=True)]
            )
            found = np.flatnonzero(match)
            if found.size:
                i = int(found[0])
                value = None if excluded[i] or math.isnan(values[i]) else float(values[i])
                return ReferenceValue(group=groups[i], value=value)
        return ReferenceValue(group=wanted, value=None)
    candidates = ~excluded & ~np.isnan(values)
    if not candidates.any():
        return ReferenceValue(group=None, value=None)
    # ties: the first group in order, as argmax and argmin return the first extreme
    if rule.reference == "max":
        index = int(np.argmax(np.where(candidates, values, -np.inf)))
    else:
        index = int(np.argmin(np.where(candidates, values, np.inf)))
    return ReferenceValue(group=groups[index], value=float(values[index]))


def _evaluate_assertion(
    rule: FairnessRule,
    assertion: FairnessAssertion,
    groups: list[GroupKey],
    excluded: np.ndarray,
    observed: list[float | None],
    reference: ReferenceValue | None,
    *,
    p_values: list[float | None] | None = None,
) -> AssertionResult:
    tested = np.array(p_values, dtype=np.float64) if p_values is not None else None
    values = np.array(observed, dtype=np.float64)  # None -> NaN
    found = assertion_decisions(
        assertion, values, excluded, tested, np.zeros(1, dtype=np.int64)
    ).window(0, 0, len(values))
    return judged_assertion(rule, assertion, groups, observed, reference, p_values, found)


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
        past = defined & ~check(values, assertion.value)
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
            f"{label}: only {n_comparable} group(s) have at least {rule.min_group_size} people;"
            " nothing to compare (lower min_group_size or add evidence)",
        )
    if assertion.aggregate != "value" and (reference is None or reference.value is None):
        why = "is excluded or missing" if isinstance(rule.reference, dict) else "is undefined"
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
        return result(
            "fail",
            f"{label} for {_fmt_group(groups[fail_index])} is {_fmt(observed[fail_index])}, "
            f"not {want}"
            + (f" ({len(failing)} groups fail)" if len(failing) > 1 else "")
            + quiet_note,
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


def _rule_status(
    rule: FairnessRule,
    assertions: list[AssertionResult],
    groups: list[GroupKey],
    excluded: list[bool],
) -> tuple[RuleStatus, str]:
    n_excluded = sum(excluded)
    small = (
        f"; {n_excluded} group(s) under {rule.min_group_size} people reported but not compared"
        if n_excluded
        else ""
    )
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


# -- the kind ---------------------------------------------------------------------------------


def explain_fairness(rule: FairnessRule, pack: PolicyPack | None = None) -> str:
    """Return one paragraph saying what a fairness rule checks, in plain words."""
    where = f"the evidence '{rule.dataset}'"
    groups = " and ".join(rule.sensitive_features)
    text = f"Splits the people in {where} into groups by {groups}"
    if len(rule.sensitive_features) > 1:
        text += " (every combination is a group)"
    text += f"; groups under {rule.min_group_size} people are shown but not compared."
    if rule.assertions:
        text += (
            " It fails when, for any compared group, "
            + "; or ".join(_explain_assertion(a, rule) for a in rule.assertions)
            + "."
        )
    if rule.impact_ratio:
        variant = (
            "selection rate (share with prediction 1)"
            if rule.impact_ratio == "selection"
            else "scoring rate (share scoring above the median)"
        )
        text += (
            f" It also produces the NYC Local Law 144 tables: per category the number of "
            f"applicants, the {variant} and the impact ratio to the most selected category"
        )
        if rule.unknown_values:
            text += f", counting {', '.join(rule.unknown_values)} as unknown"
        if rule.exclude_below_share:
            text += (
                f", leaving categories under {rule.exclude_below_share:.0%} of the data out "
                "of the ratios"
            )
        text += "."
    return text


def _explain_assertion(assertion: FairnessAssertion, rule: FairnessRule) -> str:
    metric = assertion.metric.replace("_", " ")
    op = _OP_WORDS[assertion.op]
    if assertion.metric == "impact_ratio":
        text = f"its impact ratio is not {op} {assertion.value:g}"
    elif assertion.aggregate == "ratio":
        text = f"its {metric} divided by the reference group's is not {op} {assertion.value:g}"
    elif assertion.aggregate == "difference":
        text = (
            f"its {metric} differs from the reference group's by an amount not {op} "
            f"{assertion.value:g}"
        )
    else:
        text = f"its {metric} is not {op} {assertion.value:g}"
    if assertion.significant_at is not None:
        text += f" and the gap is statistically significant (p < {assertion.significant_at:g})"
    return text


class FairnessKind(KindBase):
    """Group fairness: one grouped scan per dataset serves every fairness rule on it."""

    name = "fairness"
    model = FairnessRule

    def scan(
        self, dataset: Dataset, rules: Sequence[Any], *, progress: ProgressCallback | None
    ) -> FairnessCounts:
        """Return the dataset's grouped counts for all of its fairness rules."""
        return scan_fairness_evidence(dataset, list(rules), progress=progress)

    def evaluate(self, rule: Any, inputs: AuditInputs) -> RuleResult:
        """Evaluate the rule on its dataset's grouped counts."""
        counts = inputs.scans[(self.name, rule.dataset)]
        scores = score_context(rule, counts)

        def judge(frame: pd.DataFrame) -> RuleResult:
            return evaluate_fairness(rule, frame, scores=scores, cross_check=inputs.cross_check)

        window = counts.window if isinstance(counts, FairnessCounts) else None
        if window is None:
            return judge(counts.frame)
        from ethicsgate.rules.fairness_windows import evaluate_fairness_windows, vectorised
        from ethicsgate.rules.windows import WindowJudgement, evaluate_windowed

        def judge_all(stacked: pd.DataFrame, windows: int) -> list[WindowJudgement]:
            return evaluate_fairness_windows(rule, stacked, windows, scores=scores)

        sums = [c for c in counts.frame.columns if str(c).startswith(SCORE_SUM_PREFIX)]
        return evaluate_windowed(
            rule,
            counts.frame,
            window,
            sums=sums,
            evaluate=judge,
            evaluate_all=judge_all if vectorised(rule, inputs.cross_check) else None,
        )

    def explain(self, rule: Any, pack: PolicyPack | None) -> str:
        """Return what the rule checks, in plain words."""
        return explain_fairness(rule, pack)

    def builtin_checks(self, rule: Any) -> list[tuple[str, BuiltinCheck]]:
        """Return the roles the grouped scan reads: each exists; 0/1 labels, finite scores."""
        names = list(rule.sensitive_features)
        binary = []
        if rule.needs_label:
            binary.append(LABEL)
        if rule.reads_prediction:
            binary.append(PREDICTION)
        names += binary + (["score"] if rule.needs_score else [])
        out = [(rule.dataset, BuiltinCheck("exists", n)) for n in dict.fromkeys(names)]
        out += [(rule.dataset, BuiltinCheck("binary", r)) for r in binary]
        if rule.needs_score:
            out.append((rule.dataset, BuiltinCheck("finite", "score")))
        return out
