"""The metrics from counts, vectorised: bit-identical to fairlearn, 0/0 null, no sklearn import."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import AUDIT

from ethicsgate.metrics import METRICS, MISSING
from ethicsgate.metrics import _fairlearn as oracle
from ethicsgate.metrics.counts import compute_group_metrics, group_ids, key_ranks, level_keys

ALL_METRICS = list(METRICS)


@st.composite
def grouped_counts(draw: st.DrawFn) -> tuple[pd.DataFrame, list[str]]:
    """Grouped confusion counts: up to 3 features, missing values, empty cells, zero counts."""
    features = [f"f{i}" for i in range(draw(st.integers(1, 3)))]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 300))
    data: dict[str, object] = {}
    for feature in features:
        values: list[object] = [f"v{j}" for j in range(draw(st.integers(1, 4)))]
        if draw(st.booleans()):
            values.append(None)
        data[feature] = rng.choice(np.array(values, dtype=object), size=n)
    data["label"] = (rng.random(n) < draw(st.floats(0, 1))).astype(int)
    data["prediction"] = (rng.random(n) < draw(st.floats(0, 1))).astype(int)
    raw = pd.DataFrame(data)
    counts = raw.groupby([*features, "label", "prediction"], dropna=False).size()
    counts = counts.rename("n").reset_index()
    if draw(st.booleans()):  # a few counts scaled up, as after a large scan
        counts["n"] = counts["n"] * rng.integers(1, 100_000, size=len(counts))
    return counts, features


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grouped_counts())
def test_values_are_bit_identical_to_metricframe_on_the_counts(
    case: tuple[pd.DataFrame, list[str]],
) -> None:
    counts, features = case
    ours, overall, sizes = compute_group_metrics(counts, features=features, metrics=ALL_METRICS)
    theirs, their_overall, their_sizes = oracle.compute_group_metrics(
        counts, features=features, metrics=ALL_METRICS
    )
    theirs = theirs.reindex(ours.index)
    assert len(ours) == len(theirs) == len(their_sizes)
    assert list(ours.columns) == ALL_METRICS
    pd.testing.assert_series_equal(sizes, their_sizes.reindex(sizes.index), check_exact=True)
    for metric in ALL_METRICS:
        a, b = ours[metric].to_numpy(), theirs[metric].to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), metric
        assert a[~np.isnan(a)].tobytes() == b[~np.isnan(b)].astype(np.float64).tobytes(), metric
    assert overall == their_overall


def test_zero_over_zero_is_nan_per_group_and_none_overall() -> None:
    counts = pd.DataFrame(
        {"g": ["a", "a", "b"], "label": [1, 1, 1], "prediction": [1, 0, 1], "n": [3, 1, 2]}
    )
    by_group, overall, sizes = compute_group_metrics(
        counts, features=["g"], metrics=["false_positive_rate", "true_positive_rate", "count"]
    )
    assert by_group["false_positive_rate"].isna().all()
    assert overall["false_positive_rate"] is None
    assert by_group.loc[("a",), "true_positive_rate"] == 0.75
    assert overall["true_positive_rate"] == 5 / 6
    assert overall["count"] == 6 and isinstance(overall["count"], int)
    assert sizes.to_dict() == {("a",): 4, ("b",): 2}


def test_missing_values_are_a_group_and_empty_groups_are_left_out() -> None:
    counts = pd.DataFrame(
        {
            "g": ["a", None, "c"],
            "h": [1.0, 2.0, math.nan],
            "prediction": [1, 0, 1],
            "n": [2, 3, 0],
        }
    )
    by_group, overall, sizes = compute_group_metrics(
        counts, features=["g", "h"], metrics=["selection_rate"]
    )
    assert list(by_group.index) == [("a", 1.0), (MISSING, 2.0)]
    assert by_group.index.names == ["g", "h"]
    assert list(by_group["selection_rate"]) == [1.0, 0.0]
    assert overall == {"selection_rate": 0.4}
    assert list(sizes) == [2, 3]


def test_counts_without_label_or_prediction_give_counts() -> None:
    counts = pd.DataFrame({"g": ["a", "b"], "n": [5, 7]})
    by_group, overall, _ = compute_group_metrics(counts, features=["g"], metrics=["count"])
    assert list(by_group["count"]) == [5.0, 7.0]
    assert overall == {"count": 12}


PROBE = """
import json, sys
from ethicsgate.cli import cli

code = 0
try:
    cli.main(["audit", sys.argv[1], "--out", sys.argv[2], "--no-progress"], standalone_mode=False)
except SystemExit as exit:
    code = exit.code
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "fairlearn", "scipy"})
print(json.dumps({"code": code, "loaded": loaded}))
"""


def test_an_audit_imports_neither_scikit_learn_nor_fairlearn(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    policy = """
schema_version: 1
id: p
version: "1"
title: Every metric
owner: Tests
rules:
  - id: every-metric
    kind: fairness
    dataset: predictions
    sensitive_features: [group]
    metrics: [METRICS]
    assert:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}
""".replace("METRICS", ", ".join(ALL_METRICS))
    write("policy.yaml", policy)
    write("data.csv", "group,label,prediction\n" + "a,1,1\na,0,0\nb,1,0\nb,0,1\n" * 250)
    spec = write("audit.yaml", AUDIT)
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent(PROBE))
    done = subprocess.run(
        [sys.executable, str(probe), str(spec), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
    )
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["code"] in (0, 1), done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["rules"][0]["groups"], "the rule was evaluated"
    assert outcome["loaded"] == [], outcome


def _python_group_tuple(values: tuple[object, ...]) -> tuple[str, ...]:
    # the per-row definition the vectorised group_ids replaces: None, NaN and pd.NA missing
    return tuple(MISSING if v is None or bool(pd.isna(v)) else str(v) for v in values)


@pytest.mark.parametrize("dtype", [object, "string[pyarrow]", "category"])
@pytest.mark.parametrize("lookup", ["dense", "search", "renumbered"])
def test_group_ids_equal_a_python_loop_over_rows(
    dtype: object, lookup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ethicsgate.metrics.counts as counts_module

    if lookup != "dense":  # the codes' table too large: binary search
        monkeypatch.setattr(counts_module, "_DENSE_SPAN", 1)
    if lookup == "renumbered":  # the codes would overflow: renumbered between levels
        monkeypatch.setattr(counts_module, "_SAFE_SPAN", 8)
    rng = np.random.default_rng(3)
    rows = 5_000
    zips = rng.choice(np.array(["10001", "10002", "94110", None, "x"], dtype=object), rows)
    frame = pd.DataFrame(
        {
            "zip": pd.Series(zips, dtype=dtype),  # type: ignore[call-overload]
            "age": rng.choice(np.array([18, 30, 65, np.nan]), rows),
            "n": 1,
        }
    )
    # the groups in some report order; "x" and age 65 are not among them (rows get -1)
    groups = [
        (z, a) for z in ["94110", "10001", MISSING, "10002"] for a in ["30.0", "18.0", MISSING]
    ]
    keys = [np.array([g[i] for g in groups], dtype=object) for i in range(2)]
    order = {g: i for i, g in enumerate(groups)}
    expected = [
        order.get(_python_group_tuple(k), -1)
        for k in frame[["zip", "age"]].itertuples(index=False, name=None)
    ]
    ids = group_ids(frame, ["zip", "age"], keys)
    assert ids.dtype == np.int32  # half the memory of int64 per grouped row
    assert ids.tolist() == expected
    assert (ids == -1).any() and (ids >= 0).any()


def test_level_keys_and_key_ranks_follow_the_report_order() -> None:
    values = pd.Series(["b", None, "a", "b", math.nan, "c"], dtype=object)
    keys = level_keys(values)
    assert keys.tolist() == ["b", MISSING, "a", "b", MISSING, "c"]
    ranks = key_ranks(keys)
    expected = sorted(set(keys.tolist()), key=lambda v: (v == MISSING, v))
    assert ranks.tolist() == [expected.index(k) for k in keys.tolist()]
    assert expected[-1] == MISSING  # missing values last


@pytest.mark.parametrize(
    ("dense", "safe"), [(1 << 24, 1 << 62), (1, 1 << 62), (1, 16), (1 << 24, 16)]
)
def test_group_ids_of_three_features_with_sparse_groups(
    dense: int, safe: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few of many combinations are groups: the codes renumbered between levels (``safe``
    small) or not, looked up in a table or by binary search (``dense`` small)."""
    import ethicsgate.metrics.counts as counts_module

    monkeypatch.setattr(counts_module, "_DENSE_SPAN", dense)
    monkeypatch.setattr(counts_module, "_SAFE_SPAN", safe)
    rng = np.random.default_rng(5)
    rows = 4_000
    frame = pd.DataFrame(
        {
            "a": pd.Categorical(rng.choice(list("pqrstu"), rows)),
            "b": rng.choice(np.array(["x", "y", "z", None], dtype=object), rows),
            "c": rng.integers(0, 7, rows),
        }
    )
    seen = sorted({_python_group_tuple(t) for t in frame.itertuples(index=False, name=None)})
    picked = [seen[i] for i in rng.permutation(len(seen))[:6]]  # 6 of about 160
    keys = [np.array([g[i] for g in picked], dtype=object) for i in range(3)]
    order = {g: i for i, g in enumerate(picked)}
    expected = [
        order.get(_python_group_tuple(t), -1) for t in frame.itertuples(index=False, name=None)
    ]
    assert group_ids(frame, ["a", "b", "c"], keys).tolist() == expected
