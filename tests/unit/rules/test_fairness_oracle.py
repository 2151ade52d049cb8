"""Oracle: metrics from aggregated counts equal fairlearn MetricFrame on the raw rows."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ethicsgate.metrics import METRICS
from ethicsgate.metrics._fairlearn import metric_functions, share_of_all
from ethicsgate.policy.models import FairnessRule
from ethicsgate.rules.fairness import evaluate_fairness, explain_fairness

ALL_METRICS = list(METRICS)


def _rule(features: list[str], **extra: object) -> FairnessRule:
    return FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "d",
            "severity": "info",
            "sensitive_features": features,
            "metrics": ALL_METRICS,
            "min_group_size": 1,
            **extra,
        }
    )


def _against_b(assertion: dict[str, object]) -> FairnessRule:
    """Return a rule over ``g`` (blocking, groups of one compared) with ``assertion`` vs b."""
    return FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "d",
            "sensitive_features": ["g"],
            "min_group_size": 1,
            "reference": {"g": "b"},
            "assert": [assertion],
        }
    )


def _aggregate(raw: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    counts = raw.groupby([*features, "label", "prediction"], dropna=False).size()
    return counts.rename("n").reset_index()


@st.composite
def datasets(draw: st.DrawFn) -> tuple[pd.DataFrame, list[str]]:
    n_features = draw(st.integers(1, 3))
    features = [f"f{i}" for i in range(n_features)]
    n = draw(st.integers(1, 400))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for feature in features:
        k = draw(st.integers(1, 4))
        data[feature] = rng.choice([f"v{j}" for j in range(k)], size=n)
    p_label, p_pred = draw(st.floats(0, 1)), draw(st.floats(0, 1))
    data["label"] = (rng.random(n) < p_label).astype(int)
    data["prediction"] = (rng.random(n) < p_pred).astype(int)
    return pd.DataFrame(data), features


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_aggregated_metrics_equal_fairlearn_on_raw_rows(
    case: tuple[pd.DataFrame, list[str]],
) -> None:
    raw, features = case
    result = evaluate_fairness(_rule(features), _aggregate(raw, features))
    functions = metric_functions()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = MetricFrame(
            metrics={m: functions[m] for m in ALL_METRICS},
            y_true=raw["label"].to_numpy(),
            y_pred=raw["prediction"].to_numpy(),
            sensitive_features=raw[features],
        )
    by_group = oracle.by_group
    by_group = by_group[by_group["count"].notna()]  # fairlearn lists empty combinations too
    assert len(result.groups) == len(by_group)
    for group in result.groups:
        key = tuple(group.group[f] for f in features)
        expected = by_group.loc[key if len(features) > 1 else key[0]]
        rows = raw
        for feature, value in group.group.items():
            rows = rows[rows[feature] == value]
        assert group.count == len(rows)
        for metric in ALL_METRICS:
            ours = group.metrics[metric]
            spec = METRICS[metric]
            # a share of all (ppr) divides by every group's rows: MetricFrame's overall value
            den_rows = raw if spec.scope == "all" else rows
            if spec.denominator is not None and _denominator(den_rows, spec.denominator) == 0:
                assert ours is None, f"{metric} is 0/0 for {key} and must be null"
                continue
            assert ours is not None
            value = float(expected[metric])
            if spec.scope == "all":
                value = float(share_of_all(value, float(oracle.overall[metric])))
            assert math.isclose(ours, value, rel_tol=0, abs_tol=1e-12), (
                metric,
                key,
                ours,
                expected[metric],
            )


def _denominator(rows: pd.DataFrame, cells: tuple[tuple[int | None, int | None], ...]) -> int:
    mask = np.zeros(len(rows), dtype=bool)
    for label, pred in cells:
        part = np.ones(len(rows), dtype=bool)
        if label is not None:
            part &= rows["label"].to_numpy() == label
        if pred is not None:
            part &= rows["prediction"].to_numpy() == pred
        mask |= part
    return int(mask.sum())


def test_metrics_match_a_plain_python_loop() -> None:
    """Second oracle, independent of fairlearn: count the confusion cells by hand."""
    rng = np.random.default_rng(7)
    raw = pd.DataFrame(
        {
            "g": rng.choice(["a", "b", "c"], 2000),
            "label": rng.integers(0, 2, 2000),
            "prediction": rng.integers(0, 2, 2000),
        }
    )
    result = evaluate_fairness(_rule(["g"]), _aggregate(raw, ["g"]))
    all_selected = int((raw.prediction == 1).sum())
    for group in result.groups:
        rows = raw[raw["g"] == group.group["g"]]
        tp = int(((rows.label == 1) & (rows.prediction == 1)).sum())
        fp = int(((rows.label == 0) & (rows.prediction == 1)).sum())
        tn = int(((rows.label == 0) & (rows.prediction == 0)).sum())
        fn = int(((rows.label == 1) & (rows.prediction == 0)).sum())
        n = tp + fp + tn + fn
        expected = {
            "selection_rate": (tp + fp) / n,
            "base_rate": (tp + fn) / n,
            "true_positive_rate": tp / (tp + fn),
            "false_positive_rate": fp / (fp + tn),
            "false_negative_rate": fn / (tp + fn),
            "true_negative_rate": tn / (fp + tn),
            "precision": tp / (tp + fp),
            "false_discovery_rate": fp / (tp + fp),
            "false_omission_rate": fn / (fn + tn),
            "accuracy": (tp + tn) / n,
            "ppr": (tp + fp) / all_selected,
            "count": n,
        }
        for metric, value in expected.items():
            assert math.isclose(group.metrics[metric], value, abs_tol=1e-12), metric


def test_zero_over_zero_is_null_and_makes_the_assertion_error() -> None:
    # group b has no negatives (label 0), so its false positive rate is 0/0
    raw = pd.DataFrame(
        {
            "g": ["a"] * 4 + ["b"] * 3,
            "label": [0, 0, 1, 1, 1, 1, 1],
            "prediction": [1, 0, 1, 0, 1, 1, 0],
        }
    )
    rule = _rule(
        ["g"],
        severity="block",
        **{
            "assert": [
                {
                    "metric": "false_positive_rate",
                    "aggregate": "difference",
                    "op": "<=",
                    "value": 1.0,
                }
            ]
        },
    )
    result = evaluate_fairness(rule, _aggregate(raw, ["g"]))
    by_group = {g.group["g"]: g for g in result.groups}
    assert by_group["b"].metrics["false_positive_rate"] is None
    assert by_group["a"].metrics["false_positive_rate"] == 0.5
    assert result.assertions[0].status == "error"
    assert result.status == "error"
    assert "0/0" in result.assertions[0].message


def test_label_free_metrics_need_no_label() -> None:
    raw = pd.DataFrame({"g": ["a", "a", "b", "b"], "prediction": [1, 0, 1, 1]})
    counts = raw.groupby(["g", "prediction"]).size().rename("n").reset_index()
    rule = _against_b({"metric": "selection_rate", "op": ">=", "value": 0.8})
    assert not rule.needs_label
    result = evaluate_fairness(rule, counts)
    assert result.assertions[0].observed == 0.5
    assert result.assertions[0].group == {"g": "a"}
    assert result.status == "fail"


@pytest.mark.parametrize(
    ("op", "failing"),
    [(">=", []), (">", ["a"]), ("<=", ["b"]), ("<", ["a", "b"])],
)
def test_a_ratio_of_exactly_four_fifths_is_on_the_threshold(op: str, failing: list[str]) -> None:
    # a: 20 of 30 selected (2/3), b: 25 of 30 (5/6); 2/3 / 5/6 is exactly 4/5, but the float
    # division gives 0.7999999999999999: ">= 0.8" must hold and "> 0.8" must not
    raw = pd.DataFrame(
        {
            "g": ["a"] * 30 + ["b"] * 30,
            "prediction": [1] * 20 + [0] * 10 + [1] * 25 + [0] * 5,
        }
    )
    counts = raw.groupby(["g", "prediction"]).size().rename("n").reset_index()
    rule = _against_b({"metric": "selection_rate", "op": op, "value": 0.8})
    result = evaluate_fairness(rule, counts)
    assert result.assertions[0].status == ("fail" if failing else "pass")
    assert result.assertions[0].failing_groups == [{"g": g} for g in failing]


def test_a_difference_at_the_threshold_is_on_it() -> None:
    # a: 7 of 10 selected, b: 3 of 10: 0.7 - 0.3 is 0.39999999999999997 in floats, exactly 0.4
    raw = pd.DataFrame(
        {"g": ["a"] * 10 + ["b"] * 10, "prediction": [1] * 7 + [0] * 3 + [1] * 3 + [0] * 7}
    )
    counts = raw.groupby(["g", "prediction"]).size().rename("n").reset_index()
    rule = _against_b(
        {"metric": "selection_rate", "aggregate": "difference", "op": "<", "value": 0.4}
    )
    result = evaluate_fairness(rule, counts)
    assert result.assertions[0].status == "fail"
    assert result.assertions[0].failing_groups == [{"g": "a"}]


def test_no_rows_is_an_error_that_does_not_blame_a_filter() -> None:
    # a header-only CSV with no filter: the message must not ask whether the filter is too strict
    empty = pd.DataFrame({"g": pd.Series([], dtype=str), "prediction": [], "n": []})
    rule = _rule(["g"], metrics=["selection_rate"])
    result = evaluate_fairness(rule, empty)
    assert result.status == "error"
    assert result.message == (
        "no evidence rows to evaluate: the evidence holds none (a header only?) or its filter "
        "keeps none"
    )


@pytest.mark.parametrize(
    ("reference", "why"),
    [
        (
            {"g": "Whtie"},
            "the reference value (g=Whtie) is not a group of the evidence (did you mean "
            "'White'?), so no ratio or difference can be taken",
        ),
        (
            {"g": "Tiny"},
            "the reference value (g=Tiny) has fewer than 5 people, so no ratio or difference "
            "can be taken",
        ),
        (
            {"g": "NoNeg"},
            "the reference value (g=NoNeg) is undefined (0/0), so no ratio or difference can be "
            "taken",
        ),
    ],
)
def test_a_named_reference_that_cannot_be_used_says_why(
    reference: dict[str, str], why: str
) -> None:
    raw = pd.DataFrame(
        {
            "g": ["White"] * 6 + ["Black"] * 6 + ["Tiny"] * 2 + ["NoNeg"] * 6,
            "label": [0, 1] * 6 + [0, 1] + [1] * 6,
            "prediction": [1, 0, 0] * 4 + [1, 1] + [1, 0] * 3,
        }
    )
    rule = _rule(
        ["g"],
        min_group_size=5,
        reference=reference,
        **{"assert": [{"metric": "false_positive_rate", "op": ">=", "value": 0.8}]},
    )
    result = evaluate_fairness(rule, _aggregate(raw, ["g"]))
    assert result.assertions[0].status == "error"
    assert result.assertions[0].message == f"false_positive_rate ratio: {why}"


def test_a_failing_assertion_still_names_the_groups_it_could_not_judge() -> None:
    # c has no one with label 1: its true positive rate is 0/0, not judged, and must be said
    raw = pd.DataFrame(
        {
            "g": ["a"] * 4 + ["b"] * 4 + ["c"] * 4,
            "label": [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0],
            "prediction": [1, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0],
        }
    )
    rule = _rule(
        ["g"],
        **{"assert": [{"metric": "true_positive_rate", "op": ">=", "value": 0.8}]},
    )
    result = evaluate_fairness(rule, _aggregate(raw, ["g"]))
    assertion = result.assertions[0]
    assert assertion.status == "fail"
    assert assertion.failing_groups == [{"g": "b"}]
    assert assertion.message == (
        "true_positive_rate ratio for g=b is 0.5, not at least 0.8; undefined (0/0), so not "
        "judged, for g=c"
    )


@pytest.mark.parametrize(
    ("reference", "words"),
    [
        (
            "max",
            "Ratios and differences are taken against the group with the highest value of each metric.",
        ),
        (
            "min",
            "Ratios and differences are taken against the group with the lowest value of each metric.",
        ),
        ("overall", "Ratios and differences are taken against everyone (overall)."),
        ({"g": "b"}, "Ratios and differences are taken against the group g = b."),
    ],
)
def test_explain_says_what_the_reference_is(reference: object, words: str) -> None:
    rule = _rule(
        ["g"],
        reference=reference,
        **{"assert": [{"metric": "selection_rate", "op": ">=", "value": 0.8}]},
    )
    assert words in explain_fairness(rule)
    values_only = _rule(
        ["g"], **{"assert": [{"metric": "count", "aggregate": "value", "op": ">=", "value": 1}]}
    )
    assert "taken against" not in explain_fairness(values_only)
