"""All windows judged in one vectorised pass, against each window's rows judged alone (oracle).

The oracle is :func:`~ethicsgate.rules.fairness.evaluate_fairness` on one window's counts, the
evaluation every window got before the windows were vectorised. Every field a window reports
(rows, status, message, overall, references, assertions, groups with their intervals and
tests) must agree, numbers to 1e-12 (in fact they are equal: the same integer sums, the same
divisions, the same seeded bootstrap per window).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.jsonclose import differences

from ethicsgate.policy.models import FairnessRule
from ethicsgate.rules.fairness import evaluate_fairness
from ethicsgate.rules.fairness_windows import evaluate_fairness_windows, vectorised
from ethicsgate.rules.results import RuleResult
from ethicsgate.rules.windows import WINDOW_INDEX, WindowJudgement


def _rule(**extra: Any) -> FairnessRule:
    return FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "d",
            "severity": "block",
            "sensitive_features": ["race", "sex"],
            "metrics": ["selection_rate", "true_positive_rate", "count"],
            "min_group_size": 5,
            **extra,
        }
    )


def _stacked(seed: int, windows: int, *, rows: int = 400) -> pd.DataFrame:
    """Return grouped counts of ``windows`` windows (some sparse, one empty, missing values)."""
    rng = np.random.default_rng(seed)
    raw = pd.DataFrame(
        {
            WINDOW_INDEX: rng.integers(0, windows, rows),
            "race": rng.choice(np.array(["A", "B", "C", None], dtype=object), rows),
            "sex": rng.choice(np.array(["F", "M"], dtype=object), rows, p=[0.3, 0.7]),
            "label": rng.integers(0, 2, rows),
            "prediction": (rng.random(rows) < rng.uniform(0.05, 0.95)).astype(np.int64),
        }
    )
    raw = raw[raw[WINDOW_INDEX] != windows // 2]  # a window without rows
    keys = [WINDOW_INDEX, "race", "sex", "label", "prediction"]
    counts = raw.groupby(keys, dropna=False).size().rename("n").reset_index()
    return counts.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # scan order


def _close(a: Any, b: Any, where: str) -> None:
    found = differences(a, b, rel=0.0, strict_types=True, path=where)
    assert not found, found


def _fields(result: RuleResult | WindowJudgement) -> dict[str, Any]:
    return {
        "rows": result.rows,
        "status": str(result.status),
        "message": result.message,
        "overall": result.overall,
        "reference_values": {k: v.model_dump() for k, v in result.reference_values.items()},
        "assertions": [a.model_dump() for a in result.assertions],
        "groups": [_group(g) for g in result.groups],
    }


def _group(group: Any) -> dict[str, Any]:
    from pydantic import RootModel

    return RootModel[type(group)](group).model_dump()  # type: ignore[misc,no-any-return]


def _check(rule: FairnessRule, stacked: pd.DataFrame, windows: int) -> list[WindowJudgement]:
    assert vectorised(rule, None)
    found = evaluate_fairness_windows(rule, stacked, windows)
    assert len(found) == windows
    for index in range(windows):
        alone = stacked[stacked[WINDOW_INDEX] == index].drop(columns=[WINDOW_INDEX])
        oracle = evaluate_fairness(rule, alone.reset_index(drop=True))
        _close(_fields(found[index]), _fields(oracle), f"window {index}")
    return found


ASSERTIONS = [
    {"metric": "selection_rate", "aggregate": "ratio", "op": ">=", "value": 0.8},
    {"metric": "true_positive_rate", "aggregate": "difference", "op": "<=", "value": 0.2},
    {"metric": "selection_rate", "aggregate": "value", "op": "<", "value": 0.9},
    {"metric": "count", "aggregate": "value", "op": ">=", "value": 20},
]


@pytest.mark.parametrize(
    "reference", ["max", "min", "overall", {"race": "B", "sex": "M"}, {"race": "Z", "sex": "F"}]
)
def test_every_window_equals_the_window_judged_alone(reference: Any) -> None:
    rule = _rule(reference=reference, **{"assert": ASSERTIONS})
    found = _check(rule, _stacked(3, 9), 9)
    statuses = {str(w.status) for w in found}
    assert "error" in statuses  # the empty window, at least
    assert found[4].rows == 0 and found[4].groups == []


def test_bootstrap_intervals_and_tests_equal_the_window_alone() -> None:
    """Each window's intervals are drawn with the rule's seed, as when judged alone."""
    rule = _rule(
        uncertainty={"bootstrap_samples": 200, "seed": 11, "test": "auto"},
        **{
            "assert": [
                {
                    "metric": "selection_rate",
                    "aggregate": "ratio",
                    "op": ">=",
                    "value": 0.8,
                    "significant_at": 0.05,
                },
                {
                    "metric": "true_positive_rate",
                    "aggregate": "difference",
                    "op": "<=",
                    "value": 0.1,
                },
            ]
        },
    )
    found = _check(rule, _stacked(5, 6, rows=3000), 6)
    assert any(g.intervals for w in found for g in w.groups)
    assert any(g.tests for w in found for g in w.groups)


def test_significance_without_bootstrap_uses_the_tests() -> None:
    rule = _rule(
        reference="overall",
        **{
            "assert": [
                {
                    "metric": "selection_rate",
                    "aggregate": "difference",
                    "op": "<=",
                    "value": 0.01,
                    "significant_at": 0.2,
                }
            ]
        },
    )
    _check(rule, _stacked(8, 5, rows=2000), 5)


def test_one_feature_shares_of_all_and_undefined_rates() -> None:
    """ppr divides by the window's total; a group without positives has no TPR (0/0)."""
    rule = _rule(
        sensitive_features=["race"],
        metrics=["ppr", "true_positive_rate", "false_positive_rate"],
        min_group_size=1,
        **{
            "assert": [
                {"metric": "true_positive_rate", "aggregate": "ratio", "op": ">=", "value": 0.5}
            ]
        },
    )
    stacked = _stacked(2, 4, rows=60)
    stacked.loc[stacked["race"].isna(), "label"] = 0  # the missing race has no positives
    stacked = stacked.groupby(list(stacked.columns[:-1]), dropna=False)["n"].sum().reset_index()
    _check(rule, stacked, 4)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    windows=st.integers(1, 12),
    rows=st.integers(1, 600),
    min_group_size=st.integers(1, 40),
    reference=st.sampled_from(["max", "min", "overall"]),
)
def test_random_windows_equal_the_oracle(
    seed: int, windows: int, rows: int, min_group_size: int, reference: str
) -> None:
    rule = _rule(min_group_size=min_group_size, reference=reference, **{"assert": ASSERTIONS})
    _check(rule, _stacked(seed, windows, rows=rows), windows)


def test_rules_with_their_own_tables_are_judged_window_by_window() -> None:
    assert not vectorised(_rule(impact_ratio="selection"), None)
    assert not vectorised(_rule(), 5)
    assert not vectorised(_rule(cross_check=3), None)
    assert vectorised(_rule(), None)


def _daily(seed: int, days: int = 120) -> pd.DataFrame:
    """Return grouped counts keyed by day (``_window``), as the scan returns them for rolling
    windows: gaps between days, missing keys, a score sum, rows in scan order."""
    from ethicsgate.evidence.model import WINDOW_KEY

    rng = np.random.default_rng(seed)
    rows = 3000
    day = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, days, rows), unit="D")
    raw = pd.DataFrame(
        {
            WINDOW_KEY: day.strftime("%Y-%m-%d"),
            "race": rng.choice(np.array(["A", "B", "C", None], dtype=object), rows),
            "sex": rng.choice(np.array(["F", "M"], dtype=object), rows, p=[0.3, 0.7]),
            "label": rng.integers(0, 2, rows),
            "prediction": (rng.random(rows) < 0.4).astype(np.int64),
            "_score_sum": rng.random(rows) / 3.0,  # floats: sums must add in the same order
        }
    )
    raw = raw[~raw[WINDOW_KEY].between("2026-02-10", "2026-02-20")]  # days without rows
    keys = [WINDOW_KEY, "race", "sex", "label", "prediction"]
    counts = raw.groupby(keys, dropna=False).agg(
        n=("prediction", "size"), _score_sum=("_score_sum", "sum")
    )
    counts = counts.reset_index()[[*keys, "n", "_score_sum"]]
    counts.loc[counts.index[:3], WINDOW_KEY] = None  # rows without a time
    return counts.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize(
    "window",
    [
        {"last": "30d", "every": "week"},
        {"last": "7d", "every": "day"},
        {"last": "45d", "every": "month"},
        {"last": "90d", "every": "quarter"},
        {"last": "10d"},
        {"last": "400d"},
    ],
)
def test_rolling_windows_equal_each_window_of_rows_alone(
    window: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from ethicsgate.evidence.model import WINDOW_KEY
    from ethicsgate.evidence.spec import WindowSpec
    from ethicsgate.rules import windows as windows_module
    from ethicsgate.rules.windows import evaluate_windowed, split_windows

    frame = _daily(11)
    spec = WindowSpec.model_validate({"column": "t", **window})
    monkeypatch.setattr(windows_module, "_MAX_REPEATED", 2000)  # several chunks of windows
    collapsed: list[int] = []
    real = windows_module._collapse

    def counted(part: pd.DataFrame, sums: list[str]) -> pd.DataFrame:
        collapsed.append(len(part))
        return real(part, sums)

    monkeypatch.setattr(windows_module, "_collapse", counted)
    split = split_windows(frame, spec, sums=["_score_sum"])
    assert len(collapsed) == 1  # all windows together, never a filter and a groupby per window
    assert split.without_time == int(frame.loc[frame[WINDOW_KEY].isna(), "n"].sum())
    timed = frame[frame[WINDOW_KEY].notna()]
    days = pd.to_datetime(timed[WINDOW_KEY]).dt.date
    assert split.windows[-1].end == max(days)
    parts = split.frames()
    for index, w in enumerate(split.windows):
        assert (w.end - w.start).days == spec.last_days - 1  # type: ignore[operator]
        alone = timed[((days >= w.start) & (days <= w.end)).to_numpy()]
        pd.testing.assert_frame_equal(parts[index], real(alone, ["_score_sum"]), check_exact=True)
    assert split.outside == int(timed.loc[(days < split.windows[0].start).to_numpy(), "n"].sum())
    assert split.windows[0].start <= date(2026, 5, 1)

    # judged: every rolling window equals its rows judged alone (the oracle)
    monkeypatch.setattr(windows_module, "_collapse", real)
    rule = _rule(assertions=ASSERTIONS[:2])
    counts = frame.drop(columns=["_score_sum"])
    result = evaluate_windowed(
        rule,
        counts,
        spec,
        sums=[],
        evaluate=lambda part: evaluate_fairness(rule, part),
        evaluate_all=lambda stacked, n: evaluate_fairness_windows(rule, stacked, n),
    )
    timed = counts[counts[WINDOW_KEY].notna()]
    for judged, w in zip(result.windows, split.windows, strict=True):
        alone = timed[((days >= w.start) & (days <= w.end)).to_numpy()].drop(columns=[WINDOW_KEY])
        oracle = evaluate_fairness(rule, alone.reset_index(drop=True))
        found = _fields(judged)
        for assertion in found["assertions"]:
            assert assertion.pop("window") == judged.label
        _close(found, _fields(oracle), judged.label)


@pytest.mark.parametrize("reference", ["max", {"race": "B", "sex": "M"}])
def test_unknown_values_are_left_out_alike_in_every_window_and_alone(reference: Any) -> None:
    """C and missing races are unknown: shown, never compared, never the reference."""
    rule = _rule(reference=reference, unknown_values=["C"], **{"assert": ASSERTIONS[:2]})
    found = _check(rule, _stacked(5, 6), 6)
    for window in found:
        for group in window.groups:
            unknown = group.group["race"] in ("C", None)
            assert group.excluded == (unknown or group.count < 5)
        for value in window.reference_values.values():
            unknown_reference = value.group is not None and value.group["race"] in ("C", None)
            assert not (unknown_reference and value.value is not None)
    messages = " ".join(w.message for w in found)
    assert "of an unknown value (C or missing) reported but not compared" in messages


def test_without_unknown_values_a_missing_value_is_a_group_compared_as_any() -> None:
    rule = _rule(**{"assert": ASSERTIONS[:1]})
    stacked = _stacked(5, 3)
    stacked = stacked[stacked[WINDOW_INDEX] == 0].drop(columns=[WINDOW_INDEX])
    result = evaluate_fairness(rule, stacked)
    missing = [g for g in result.groups if g.group["race"] is None and g.count >= 5]
    assert missing and not any(g.excluded for g in missing)
