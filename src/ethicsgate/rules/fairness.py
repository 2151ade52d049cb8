"""Fairness rules: group metrics from aggregated confusion counts, then the assertions.

The evidence layer hands over rows grouped by sensitive features, label and prediction with
their count ``n``. Every metric is computed from those counts for all groups at once
(:mod:`ethicsgate.metrics.counts`); the values equal fairlearn's ``MetricFrame`` on the raw
rows (every sum is an integer well below 2**53), which the oracle tests check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ethicsgate.evidence.contracts import BuiltinCheck
from ethicsgate.evidence.engine import Dataset
from ethicsgate.evidence.model import ProgressCallback
from ethicsgate.memory import give_back_freed_memory
from ethicsgate.metrics import LABEL, METRICS, PREDICTION, MetricId, harmed_when
from ethicsgate.metrics import MISSING as _NULL
from ethicsgate.metrics.counts import (
    collapse_counts,
    compute_group_metrics,
    key_ranks,
    level_keys,
)
from ethicsgate.policy.models import FairnessAssertion, FairnessRule, PolicyPack
from ethicsgate.rules.fairness_assertions import (
    NO_ROWS,
    assertion_decisions,
    judged_assertion,
    nullable,
    rule_status,
    unknown_groups,
)
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
    GroupColumns,
    GroupKey,
    ReferenceValue,
    RuleResult,
    RuleStatus,
)
from ethicsgate.rules.scores import ScoreContext
from ethicsgate.vocabulary import OP_WORDS_SHORT as _OP_WORDS
from ethicsgate.vocabulary import group_label, unknown_words

#: Above this many grouped rows, the freed heap is given back after a rule (3 ms).
_TRIM_ROWS = 100_000

__all__ = ["FairnessKind", "evaluate_fairness", "explain_fairness"]


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
    counts = collapse_counts(full, keep)
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
        "favorable_prediction": rule.favorable_prediction,
        "unknown_values": [str(v) for v in rule.unknown_values] or None,
        "rows": int(counts["n"].sum()),
    }
    if counts.empty:
        return RuleResult(
            **base,
            status=RuleStatus.ERROR,
            message=NO_ROWS,
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
    unknown = unknown_groups(rule, columns)
    excluded_mask = (sizes_array < rule.min_group_size) | unknown
    excluded = excluded_mask.tolist()
    arrays: dict[str, Any] = {m: by_group[m].to_numpy(dtype=np.float64) for m in metrics}
    values: dict[str, list[float | None]] = {
        m: counts_list if METRICS[m].denominator is None else nullable(arrays[m]) for m in metrics
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
        ratios[metric] = nullable(ratio)
        differences[metric] = nullable(np.abs(value - ref.value))

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
    results = GroupColumns(
        groups, counts_list, excluded, values, ratios, differences, **extras.group_columns()
    )
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
    status, message = rule_status(rule, assertions, groups, excluded, unknown)
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
        groups=results,
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


# -- the kind ---------------------------------------------------------------------------------


def explain_fairness(rule: FairnessRule, pack: PolicyPack | None = None) -> str:
    """Return one paragraph saying what a fairness rule checks, in plain words."""
    where = f"the evidence '{rule.dataset}'"
    groups = " and ".join(rule.sensitive_features)
    text = f"Splits the people in {where} into groups by {groups}"
    if len(rule.sensitive_features) > 1:
        text += " (every combination is a group)"
    if rule.ll144_only:  # its tables exclude by share, said below
        text += "."
    else:
        text += f"; groups under {rule.min_group_size} people"
        if rule.unknown_values:
            text += f" and groups of an unknown value ({unknown_words(rule.unknown_values)})"
        text += " are shown but not compared."
    if any(a.aggregate != "value" and a.metric != "impact_ratio" for a in rule.assertions):
        text += f" Ratios and differences are taken against {_explain_reference(rule)}."
    if rule.favorable_prediction is not None:
        text += _explain_harm(rule, rule.favorable_prediction)
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
        tables = (
            "the NYC Local Law 144 tables" if _cites_ll144(rule, pack) else "impact-ratio tables"
        )
        text += (
            f" It also produces {tables}: per category the number of "
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


def _cites_ll144(rule: FairnessRule, pack: PolicyPack | None) -> bool:
    """Return whether the rule (or, when it names none, its pack) cites NYC Local Law 144.

    Packs such as the four-fifths rule's use the same tables without that law: their
    explanation names the tables by what they are.
    """
    if pack is None:
        return False
    cited = [r for r in pack.references if r.id in rule.references or not rule.references]
    return any("Local Law 144" in r.title or "5-301" in r.title for r in cited)


def _explain_harm(rule: FairnessRule, favorable: int) -> str:
    """Return which way the rule's metrics harm a group, as its favorable_prediction says."""
    ways: dict[str, list[str]] = {"higher": [], "lower": []}
    for metric in rule.all_metrics:
        if METRICS[metric].toward_one is not None:
            ways[str(harmed_when(metric, favorable))].append(metric.replace("_", " "))
    meaning = "adverse to the person" if favorable == 0 else "favourable to the person"
    harms = " and ".join(
        f"a {way} " + (names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}")
        for way, names in ways.items()
        if names
    )
    return (
        f" Prediction 1 is {meaning} (favorable_prediction: {favorable}), so a group is "
        f"harmed by {harms}; the report names the group at that end as the worst."
    )


def _explain_reference(rule: FairnessRule) -> str:
    if isinstance(rule.reference, dict):
        return f"the group {group_label({k: str(v) for k, v in rule.reference.items()})}"
    return {
        "max": "the group with the highest value of each metric",
        "min": "the group with the lowest value of each metric",
        "overall": "everyone (overall)",
    }[rule.reference]


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
        if len(inputs.scans[(self.name, rule.dataset)].frame) <= _TRIM_ROWS:
            return self._evaluate(rule, inputs)
        # a rule over many grouped rows frees a few hundred MB of intermediate arrays that
        # glibc would keep in the heap (140 MB at 10^5 groups): given back before the next
        # rule, whose own peak then starts lower
        try:
            return self._evaluate(rule, inputs)
        finally:
            give_back_freed_memory()

    def _evaluate(self, rule: Any, inputs: AuditInputs) -> RuleResult:
        counts = inputs.scans[(self.name, rule.dataset)]
        scores = score_context(rule, counts)

        def judge(frame: pd.DataFrame) -> RuleResult:
            return evaluate_fairness(rule, frame, scores=scores, cross_check=inputs.cross_check)

        window = counts.window if isinstance(counts, FairnessCounts) else None
        if window is None:
            return self._unchecked_drift(rule, judge(counts.frame))
        from ethicsgate.rules.fairness_windows import evaluate_fairness_windows, vectorised
        from ethicsgate.rules.windows import WindowJudgement, evaluate_windowed

        def judge_all(stacked: pd.DataFrame, windows: int) -> list[WindowJudgement]:
            return evaluate_fairness_windows(rule, stacked, windows, scores=scores)

        sums = [c for c in counts.frame.columns if str(c).startswith(SCORE_SUM_PREFIX)]
        result = evaluate_windowed(
            rule,
            counts.frame,
            window,
            sums=sums,
            evaluate=judge,
            evaluate_all=judge_all if vectorised(rule, inputs.cross_check) else None,
        )
        return result if len(result.windows) > 1 else self._unchecked_drift(rule, result)

    @staticmethod
    def _unchecked_drift(rule: FairnessRule, result: RuleResult) -> RuleResult:
        """A rule judged by drift alone, in one window: skipped until a run is recorded."""
        if rule.drift is None:
            return result
        from ethicsgate.rules.drift import nothing_compared

        return nothing_compared(
            rule,
            result,
            why="the evidence is one window and no recorded run was compared (record runs "
            "with --record to compare each with the last, or split the evidence by time with "
            "--window)",
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
