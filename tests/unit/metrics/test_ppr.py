"""Aequitas' ppr (a group's share of all predicted positives) and the pprev alias.

ppr's denominator spans the groups, so it is checked against a plain Python loop over the raw
rows and against fairlearn's MetricFrame (the group's predicted positives by group, divided by
their overall value), at 1, 40 and 10,000 groups, and against the loop at 100,000 groups.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame
from pydantic import ValidationError
from tests.conftest import POLICY

from ethicsgate.errors import PolicyError
from ethicsgate.metrics import ALIASES, METRICS, canonical_metric
from ethicsgate.metrics._fairlearn import metric_functions, share_of_all
from ethicsgate.metrics.counts import compute_group_metrics
from ethicsgate.policy import FairnessRule, load_policy
from ethicsgate.policy.models import UncertaintyOptions
from ethicsgate.rules.fairness import evaluate_fairness
from ethicsgate.rules.uncertainty import _bootstrap_draws, bootstrap_cells


def _rule(**extra: object) -> FairnessRule:
    return FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "d",
            "severity": "info",
            "sensitive_features": ["g"],
            "metrics": ["ppr", "selection_rate"],
            "min_group_size": 1,
            **extra,
        }
    )


def _raw(groups: int, rows: int, seed: int, *, selected: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "g": np.char.add("g", rng.integers(0, groups, rows).astype(str)),
            "label": rng.integers(0, 2, rows),
            "prediction": (rng.random(rows) < selected).astype(int),
        }
    )


def _aggregate(raw: pd.DataFrame) -> pd.DataFrame:
    return raw.groupby(["g", "label", "prediction"]).size().rename("n").reset_index()


def _loop_ppr(raw: pd.DataFrame) -> dict[str, float | None]:
    """The plain Python definition: a group's predicted positives over everyone's."""
    positives: Counter[str] = Counter()
    for group, prediction in zip(raw["g"].tolist(), raw["prediction"].tolist(), strict=True):
        positives[group] += 0  # every group is listed, selected or not
        if prediction == 1:
            positives[group] += 1
    total = sum(positives.values())
    return {g: (k / total if total else None) for g, k in positives.items()}


def _fairlearn_ppr(raw: pd.DataFrame) -> dict[str, float]:
    function = metric_functions()["ppr"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = MetricFrame(
            metrics={"ppr": function},
            y_true=raw["label"].to_numpy(),
            y_pred=raw["prediction"].to_numpy(),
            sensitive_features=raw["g"],
        )
    ppr = share_of_all(frame.by_group["ppr"], float(frame.overall["ppr"]))
    return {str(g): float(v) for g, v in ppr.items()}


@pytest.mark.parametrize(
    ("groups", "rows"),
    # fairlearn's MetricFrame takes about 15 s of CPU over 10,000 groups
    [(1, 500), (40, 4_000), pytest.param(10_000, 60_000, marks=pytest.mark.slow)],
)
def test_ppr_equals_a_python_loop_and_fairlearn_on_raw_rows(groups: int, rows: int) -> None:
    raw = _raw(groups, rows, seed=groups)
    result = evaluate_fairness(_rule(), _aggregate(raw))
    ours = {g.group["g"]: g.metrics["ppr"] for g in result.groups}
    loop = _loop_ppr(raw)
    theirs = _fairlearn_ppr(raw)
    assert ours.keys() == loop.keys() == theirs.keys()
    for group, value in ours.items():
        assert value is not None
        assert value == loop[group], group  # the same division of the same integers
        assert math.isclose(value, theirs[group], rel_tol=0, abs_tol=1e-12), group
    assert math.isclose(sum(v for v in ours.values() if v is not None), 1.0, abs_tol=1e-9)
    assert result.overall["ppr"] == 1.0


def test_ppr_at_100000_groups_equals_a_python_loop() -> None:
    raw = _raw(100_000, 400_000, seed=5)
    counts = _aggregate(raw)
    by_group, overall, _ = compute_group_metrics(counts, features=["g"], metrics=["ppr"])
    loop = _loop_ppr(raw)
    assert len(by_group) == len(loop)
    ours = dict(zip((k[0] for k in by_group.index), by_group["ppr"].tolist(), strict=True))
    assert ours == loop
    assert overall == {"ppr": 1.0}


def test_ppr_is_null_when_no_one_is_selected() -> None:
    raw = _raw(3, 300, seed=1, selected=0.0)
    result = evaluate_fairness(_rule(), _aggregate(raw))
    assert [g.metrics["ppr"] for g in result.groups] == [None, None, None]
    assert result.overall["ppr"] is None
    assert _loop_ppr(raw) == {g.group["g"]: None for g in result.groups}


def test_ppr_cross_check_divides_by_every_group_not_only_the_checked_ones() -> None:
    raw = _raw(12, 3_000, seed=3)
    result = evaluate_fairness(_rule(), _aggregate(raw), cross_check=3)
    assert result.cross_check is not None
    assert result.cross_check.groups_checked == 3
    assert result.cross_check.agrees, result.cross_check


def test_ppr_bootstrap_renormalises_each_resample() -> None:
    cells = np.array([[5, 20, 7, 30], [40, 3, 10, 2], [9, 9, 9, 9]], dtype=np.int64)
    columns: list[tuple[int | None, int | None]] = [(0, 0), (0, 1), (1, 0), (1, 1)]
    selected = np.array([c[1] == 1 for c in columns])
    options = UncertaintyOptions(bootstrap_samples=300, seed=11)
    drawn = _bootstrap_draws(cells, {"ppr": (selected, selected)}, options, shares={"ppr"})
    values, overall = {"ppr": drawn.rates("ppr", slice(None))}, drawn.overall
    # the same stream, drawn by hand: each resample's selected counts over their total
    draws = bootstrap_cells(cells, samples=300, rng=np.random.default_rng([11, 0]))
    positives = draws[:, :, selected].sum(axis=2)
    expected = positives / positives.sum(axis=1, keepdims=True)
    assert np.array_equal(values["ppr"], expected.T)
    assert np.allclose(values["ppr"].sum(axis=0), 1.0)
    assert np.array_equal(overall["ppr"], np.ones(300))


def test_ppr_gets_intervals_but_no_test() -> None:
    raw = _raw(4, 2_000, seed=9)
    rule = _rule(uncertainty={"bootstrap_samples": 200, "seed": 1})
    result = evaluate_fairness(rule, _aggregate(raw))
    for group in result.groups:
        interval = group.intervals["ppr"]
        assert interval is not None and interval.low <= group.metrics["ppr"] <= interval.high
        assert "ppr" not in group.tests
        assert "selection_rate" in group.tests or group.ratios["selection_rate"] == 1.0


def test_significant_at_on_ppr_is_refused() -> None:
    with pytest.raises(ValidationError, match="no significance test"):
        _rule(
            **{
                "assert": [
                    {
                        "metric": "ppr",
                        "aggregate": "ratio",
                        "op": ">=",
                        "value": 0.8,
                        "significant_at": 0.05,
                    }
                ]
            }
        )


def test_pprev_is_read_as_selection_rate() -> None:
    assert ALIASES == {"pprev": "selection_rate"} and canonical_metric("pprev") == "selection_rate"
    rule = _rule(
        metrics=["pprev"],
        **{"assert": [{"metric": "pprev", "op": ">=", "value": 0.8}]},
    )
    assert rule.metrics == ["selection_rate"]
    assert rule.assertions[0].metric == "selection_rate"
    result = evaluate_fairness(rule, _aggregate(_raw(3, 600, seed=2)))
    assert result.assertions[0].metric == "selection_rate"
    assert set(result.groups[0].metrics) == {"selection_rate"}
    with pytest.raises(ValidationError, match="[Dd]uplicate|more than once|twice"):
        _rule(metrics=["selection_rate", "pprev"])


def test_pprev_loads_from_yaml_and_a_typo_still_fails(write: Callable[[str, str], Path]) -> None:
    text = POLICY.replace("selection_rate, false", "pprev, false")
    assert text != POLICY
    rule = load_policy(write("p.yaml", text)).pack.rules[0]
    assert isinstance(rule, FairnessRule)
    assert "selection_rate" in rule.metrics and "pprev" not in rule.metrics
    with pytest.raises(PolicyError, match="unknown metric 'pprv'"):
        load_policy(write("q.yaml", POLICY.replace("selection_rate, false", "pprv, false")))


def test_ppr_is_in_the_metric_table() -> None:
    spec = METRICS["ppr"]
    assert spec.scope == "all" and spec.needs_prediction and not spec.needs_label
    assert spec.formula == "(TP + FP) / (TP + FP of all groups)"
    assert all(s.scope == "group" for m, s in METRICS.items() if m != "ppr")
