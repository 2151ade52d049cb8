"""The metric vocabulary: every group metric by id, its formula and what it reads.

Ids and definitions follow fairlearn (``selection_rate``, ``false_positive_rate``, ...). Each
metric is a ratio of two sums over the confusion cells, which lets the auditor detect 0/0 from
the counts (fairlearn and scikit-learn return 0 with a warning there) and report ``null``.

Cells are ``(label, prediction)`` pairs; ``None`` is a wildcard. A metric's denominator is
summed over the group itself, except for a *share of all* metric (``scope="all"``, Aequitas'
``ppr``), whose denominator is summed over all of the rule's groups: the group's share of
everyone the system selected. This module is the ground
floor: the policy language, the rules and the reports all read it, and it imports neither
numpy nor fairlearn. :mod:`ethicsgate.metrics.counts` computes the metrics from grouped counts
(numpy and pandas); :mod:`ethicsgate.metrics._fairlearn`, the only fairlearn importer, is the
oracle they are checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "ALIASES",
    "ALL",
    "LABEL",
    "METRICS",
    "MISSING",
    "PREDICTION",
    "Cell",
    "MetricId",
    "MetricSpec",
    "canonical_metric",
    "harmed_when",
]

#: The binary roles a metric reads: the true outcome and the system's decision.
LABEL = "label"
PREDICTION = "prediction"
#: Stands in for a missing sensitive value where a key must not be None (fairlearn, lookups).
MISSING = "\x00null"

MetricId = Literal[
    "selection_rate",
    "base_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "true_negative_rate",
    "precision",
    "false_discovery_rate",
    "false_omission_rate",
    "accuracy",
    "ppr",
    "count",
]

Cell = tuple[int | None, int | None]
ALL: tuple[Cell, ...] = ((None, None),)


@dataclass(frozen=True)
class MetricSpec:
    """One metric: what it means, its formula over confusion cells, and what it reads."""

    id: str
    title: str
    formula: str
    description: str
    numerator: tuple[Cell, ...]
    denominator: tuple[Cell, ...] | None  # None: the metric is a count, never undefined
    needs_label: bool
    needs_prediction: bool
    higher_is: Literal["better", "worse", "neutral"] = "neutral"
    #: ``group``: the denominator counts the group's own people; ``all``: it counts the
    #: people of every group of the rule (a share of all, e.g. Aequitas' ``ppr``).
    scope: Literal["group", "all"] = "group"
    #: Which way the value moves when a group is given prediction 1 more often, at the same
    #: labels (``higher``: selection rate, FPR; ``lower``: FNR, precision); None when the
    #: prediction's direction does not decide it (base rate, accuracy, count).
    toward_one: Literal["higher", "lower"] | None = None


def _spec(
    id: str,
    title: str,
    formula: str,
    description: str,
    numerator: tuple[Cell, ...],
    denominator: tuple[Cell, ...] | None,
    higher_is: Literal["better", "worse", "neutral"] = "neutral",
    scope: Literal["group", "all"] = "group",
    toward_one: Literal["higher", "lower"] | None = None,
) -> MetricSpec:
    cells = numerator + (denominator or ())
    return MetricSpec(
        id=id,
        title=title,
        formula=formula,
        description=description,
        numerator=numerator,
        denominator=denominator,
        needs_label=any(c[0] is not None for c in cells),
        needs_prediction=any(c[1] is not None for c in cells),
        higher_is=higher_is,
        scope=scope,
        toward_one=toward_one,
    )


METRICS: dict[str, MetricSpec] = {
    m.id: m
    for m in (
        _spec(
            "selection_rate",
            "Selection rate",
            "(TP + FP) / N",
            "Share of people the system selected (predicted 1).",
            ((None, 1),),
            ALL,
            toward_one="higher",
        ),
        _spec(
            "base_rate",
            "Base rate",
            "(TP + FN) / N",
            "Share of people whose true label is 1.",
            ((1, None),),
            ALL,
        ),
        _spec(
            "true_positive_rate",
            "True positive rate (recall)",
            "TP / (TP + FN)",
            "Of the people whose true label is 1, the share the system selected.",
            ((1, 1),),
            ((1, None),),
            "better",
            toward_one="higher",
        ),
        _spec(
            "false_positive_rate",
            "False positive rate",
            "FP / (FP + TN)",
            "Of the people whose true label is 0, the share the system wrongly selected.",
            ((0, 1),),
            ((0, None),),
            "worse",
            toward_one="higher",
        ),
        _spec(
            "false_negative_rate",
            "False negative rate",
            "FN / (TP + FN)",
            "Of the people whose true label is 1, the share the system missed.",
            ((1, 0),),
            ((1, None),),
            "worse",
            toward_one="lower",
        ),
        _spec(
            "true_negative_rate",
            "True negative rate (specificity)",
            "TN / (FP + TN)",
            "Of the people whose true label is 0, the share the system correctly left out.",
            ((0, 0),),
            ((0, None),),
            "better",
            toward_one="lower",
        ),
        _spec(
            "precision",
            "Precision",
            "TP / (TP + FP)",
            "Of the people the system selected, the share whose true label is 1.",
            ((1, 1),),
            ((None, 1),),
            "better",
            toward_one="lower",
        ),
        _spec(
            "false_discovery_rate",
            "False discovery rate",
            "FP / (TP + FP)",
            "Of the people the system selected, the share whose true label is 0.",
            ((0, 1),),
            ((None, 1),),
            "worse",
            toward_one="higher",
        ),
        _spec(
            "false_omission_rate",
            "False omission rate",
            "FN / (FN + TN)",
            "Of the people the system left out, the share whose true label is 1.",
            ((1, 0),),
            ((None, 0),),
            "worse",
            toward_one="lower",
        ),
        _spec(
            "accuracy",
            "Accuracy",
            "(TP + TN) / N",
            "Share of people the system classified correctly.",
            ((1, 1), (0, 0)),
            ALL,
            "better",
        ),
        _spec(
            "ppr",
            "Predicted positive ratio (share of all selected)",
            "(TP + FP) / (TP + FP of all groups)",
            "The group's share of everyone the system selected, across all the rule's groups "
            "(Aequitas' ppr); the values sum to 1 over the groups.",
            ((None, 1),),
            ((None, 1),),
            scope="all",
            toward_one="higher",
        ),
        _spec("count", "Count", "N", "Number of people in the group.", ALL, None),
    )
}


def harmed_when(metric: str, favorable_prediction: int | None) -> Literal["higher", "lower"] | None:
    """Return which of a metric's values harms a group: ``higher``, ``lower``, or None (neither).

    ``favorable_prediction`` is the rule's: the prediction that is good for the person (1: a
    loan approved; 0: prediction 1 is adverse, a defendant flagged high risk). Where it decides
    (``toward_one``), a group is harmed by getting the adverse prediction more often: with 1
    favourable by a lower selection rate, TPR, FPR or FDR and a higher FNR, FOR, TNR or
    precision (Aequitas' *assistive* interventions: people wrongly denied), with 0 the
    other way round (*punitive*: people wrongly flagged). Unset (None), and for the metrics it
    does not decide, a metric where higher is worse (error rates) harms when higher, one where
    higher is better when lower, and a neutral one (selection rate, base rate) is None: the
    reports' wording before the field existed.

    Raises:
        KeyError: ``metric`` is no metric id.
    """
    spec = METRICS[metric]
    if favorable_prediction is None or spec.toward_one is None:
        if spec.higher_is == "neutral":
            return None
        return "higher" if spec.higher_is == "worse" else "lower"
    more_ones_harm = favorable_prediction == 0
    return "higher" if (spec.toward_one == "higher") == more_ones_harm else "lower"


#: Other names a policy may use for a metric, e.g. Aequitas' ``pprev`` (predicted prevalence,
#: the group's share of its people selected) for ``selection_rate``. A policy is read with
#: the canonical id, and every report uses it.
ALIASES: dict[str, str] = {"pprev": "selection_rate"}


def canonical_metric(metric: object) -> object:
    """Return the canonical id of a metric alias (anything else unchanged)."""
    return ALIASES.get(metric, metric) if isinstance(metric, str) else metric


assert set(METRICS) == set(get_args(MetricId)), "METRICS and MetricId disagree"
assert not set(ALIASES) & set(METRICS) and set(ALIASES.values()) <= set(METRICS)
