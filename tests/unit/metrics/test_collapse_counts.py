"""``collapse_counts``: the grouped rows summed to a rule's keys, as pandas' groupby sums them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ethicsgate.metrics.counts as counts_module
from ethicsgate.metrics.counts import collapse_counts


def _oracle(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.groupby(keys, dropna=False, observed=True)["n"].sum().reset_index()
    return _canonical(out[out["n"] > 0], keys)


def _canonical(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    plain = frame.astype(dict.fromkeys(keys, object)).fillna(dict.fromkeys(keys, "<NA>"))
    return plain.sort_values(keys).reset_index(drop=True)


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    zips = np.array([f"{z:05d}" for z in range(300)], dtype=object)
    zip_values = zips[rng.integers(0, 300, rows)]
    zip_values[rng.random(rows) < 0.03] = None  # a missing zip is a group of its own
    sex = rng.choice(np.array(["F", "M"], dtype=object), rows)
    return pd.DataFrame(
        {
            "zip": pd.Categorical(zip_values, categories=sorted(zips, reverse=True)),
            "sex": pd.Categorical(sex, categories=["M", "F", "X"]),  # X never occurs
            "label": rng.integers(0, 2, rows),
            "prediction": rng.integers(0, 2, rows).astype(np.int8),
            "bracket": rng.integers(-3, 4, rows),  # a small negative range
            "n": rng.integers(0, 5, rows),  # cells of 0 rows are dropped
        }
    )


@pytest.mark.parametrize(
    "keys",
    [["zip", "sex", "label", "prediction"], ["sex"], ["label"], ["zip", "bracket"]],
)
def test_collapsed_counts_are_the_groupby_sums(keys: list[str]) -> None:
    frame = _frame(20_000, seed=len(keys))
    found = collapse_counts(frame, keys)
    assert list(found.columns) == [*keys, "n"]
    assert found["n"].dtype == np.int64 and (found["n"] > 0).all()
    for key in keys:
        assert found[key].dtype == frame[key].dtype
    pd.testing.assert_frame_equal(_canonical(found, keys), _oracle(frame, keys))
    assert int(found["n"].sum()) == int(frame["n"].sum())


def test_keys_the_bincount_cannot_take_go_through_groupby(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _frame(5_000, seed=9)
    frame["city"] = frame["zip"].astype(object)  # text, not categorical
    frame["age"] = np.arange(len(frame)) * 7  # integers of a wide range
    calls: list[list[str]] = []
    real = counts_module._collapse_by_groupby

    def spy(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        calls.append(keys)
        return real(frame, keys)

    monkeypatch.setattr(counts_module, "_collapse_by_groupby", spy)
    for keys in (["city", "label"], ["age"], ["sex", "label"]):
        found = collapse_counts(frame, keys)
        pd.testing.assert_frame_equal(_canonical(found, keys), _oracle(frame, keys))
    assert calls == [["city", "label"], ["age"]]
    # more combinations than the bincount takes: groupby too
    monkeypatch.setattr(counts_module, "_MAX_SLOTS", 10)
    found = collapse_counts(frame.head(3), ["zip", "sex"])
    assert calls[-1] == ["zip", "sex"]
    pd.testing.assert_frame_equal(
        _canonical(found, ["zip", "sex"]), _oracle(frame.head(3), ["zip", "sex"])
    )
