"""Score metrics and the score scans, checked against scikit-learn and numpy on raw rows.

Oracles: ``sklearn.metrics.roc_auc_score`` and ``sklearn.calibration.calibration_curve``
(``strategy="uniform"``) per group on the raw rows, ``numpy.median`` for the exact median.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

import ethicsgate.engines.duckdb.dataset as reader
from ethicsgate.audit import run_audit
from ethicsgate.engines.duckdb import open_evidence
from ethicsgate.errors import EvidenceError, Location
from ethicsgate.evidence import EvidenceSpec
from ethicsgate.rules.results import GroupScoreResult, ScoreSummary
from ethicsgate.rules.scores import (
    SCORE_KEY,
    SCORE_SUM,
    ScoreBinning,
    ScoreContext,
    group_score_results,
    roc_auc_from_counts,
)

POLICY = """
schema_version: 1
id: scores
version: "1"
title: Score metrics
owner: tests
rules:
  - id: scores
    kind: fairness
    dataset: d
    severity: info
    sensitive_features: [g]
    metrics: [selection_rate]
    min_group_size: 1
    score_metrics: [roc_auc, calibration]
    threshold: {threshold}
    score_bins: 100
    calibration_bins: 10
"""
AUDIT = """
schema_version: 1
id: scores
policy: policy.yaml
evidence:
  d:
    path: data.parquet
    columns: {score: p, label: y}
"""


def _data(n: int, seed: int, *, decimals: int | None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    y = (rng.random(n) < np.where(g == "a", 0.4, 0.25)).astype(int)
    p = 1 / (1 + np.exp(-(rng.normal(0, 1, n) + 1.2 * y - 0.4 * (g == "c"))))
    if decimals is not None:
        p = np.round(p, decimals)
    return pd.DataFrame({"g": g, "y": y, "p": p})


def _audit(tmp_path: Path, frame: pd.DataFrame, threshold: float = 0.5) -> object:
    duckdb.from_df(frame).write_parquet(str(tmp_path / "data.parquet"))
    (tmp_path / "policy.yaml").write_text(POLICY.replace("{threshold}", str(threshold)))
    (tmp_path / "audit.yaml").write_text(AUDIT)
    return run_audit(tmp_path / "audit.yaml").rules[0]


def test_exact_auc_and_calibration_equal_sklearn_when_scores_are_few(tmp_path: Path) -> None:
    raw = _data(20_000, seed=1, decimals=2)  # at most 101 distinct scores: exact
    rule = _audit(tmp_path, raw)
    assert rule.score.exact and rule.score.bins is None
    for group in rule.groups:
        part = raw[raw["g"] == group.group["g"]]
        score = group.score
        assert score.roc_auc == pytest.approx(roc_auc_score(part["y"], part["p"]), abs=1e-12)
        assert score.roc_auc_max_error == 0.0
        assert (score.positives, score.negatives) == (part["y"].sum(), (1 - part["y"]).sum())
        # scores on 0.01 steps sit on bin edges, where the audit's bins are [low, high) and
        # scikit-learn's (low, high]: compare with the raw rows binned the documented way
        bins = np.clip(np.floor(part["p"].to_numpy() * 10), 0, 9)
        for index, b in enumerate(score.calibration):
            rows = part[bins == index]
            assert b.count == len(rows)
            # the edges are the decimals, and hold the bin's scores: [low, high)
            assert (b.low, b.high) == (index / 10, (index + 1) / 10)
            assert ((rows["p"] >= b.low) & ((rows["p"] < b.high) | (index == 9))).all()
            if len(rows):
                assert b.mean_score == pytest.approx(rows["p"].mean(), abs=1e-12)
                assert b.observed_rate == pytest.approx(rows["y"].mean(), abs=1e-12)


def test_binned_auc_is_within_its_stated_error_and_calibration_equals_sklearn(
    tmp_path: Path,
) -> None:
    raw = _data(30_000, seed=2, decimals=None)  # continuous scores: 100 equal-width bins
    rule = _audit(tmp_path, raw, threshold=0.62)
    assert not rule.score.exact and rule.score.bins == 100
    for group in rule.groups:
        part = raw[raw["g"] == group.group["g"]]
        score = group.score
        exact = roc_auc_score(part["y"], part["p"])
        assert 0 < score.roc_auc_max_error < 0.01
        assert abs(score.roc_auc - exact) <= score.roc_auc_max_error
        prob_true, prob_pred = calibration_curve(part["y"], part["p"], n_bins=10)
        filled = [b for b in score.calibration if b.count]
        assert [b.observed_rate for b in filled] == pytest.approx(list(prob_true), abs=1e-12)
        assert [b.mean_score for b in filled] == pytest.approx(list(prob_pred), abs=1e-12)
        gaps = sum(b.count * abs(b.mean_score - b.observed_rate) for b in filled) / len(part)
        assert score.calibration_error == pytest.approx(gaps, abs=1e-12)
        # the threshold derives the prediction: selection rate = share with p >= 0.62
        assert group.metrics["selection_rate"] == pytest.approx((part["p"] >= 0.62).mean())


def _evidence(tmp_path: Path, values: list[float | None]) -> object:
    frame = pd.DataFrame({"score": pd.array(values, dtype="Float64")})
    duckdb.from_df(frame).write_parquet(str(tmp_path / "s.parquet"))
    return open_evidence(
        "s",
        EvidenceSpec(path="s.parquet"),
        base_dir=tmp_path,
        locate=lambda loc: Location("audit.yaml"),
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.one_of(
            st.floats(-1e6, 1e6, allow_nan=False),
            st.sampled_from([0.0, 0.5, 1.0, -3.25]),  # ties
        ),
        min_size=1,
        max_size=300,
    )
)
def test_exact_median_search_equals_numpy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, values: list[float]
) -> None:
    # tiny histograms and a tiny exact threshold make every search go through refinement
    monkeypatch.setattr(reader, "_HISTOGRAM_BINS", 4)
    monkeypatch.setattr(reader, "_EXACT_ROWS", 3)
    evidence = _evidence(tmp_path, values)
    profile = evidence.score_profile()
    assert profile.rows == len(values)
    assert evidence.score_median(profile) == np.median(np.array(values))


def test_missing_scores_are_located(tmp_path: Path) -> None:
    evidence = _evidence(tmp_path, [0.2, 0.4, None, 0.9])
    with pytest.raises(EvidenceError, match=r"'score' must be a finite number.*row 3"):
        evidence.score_profile()


def test_text_scores_are_rejected(tmp_path: Path, write: Callable[[str, str], Path]) -> None:
    write("t.csv", "score\nhigh\nlow\n")
    evidence = open_evidence(
        "t",
        EvidenceSpec(path="t.csv"),
        base_dir=tmp_path,
        locate=lambda loc: Location("audit.yaml"),
    )
    with pytest.raises(EvidenceError, match="'score' must be a number in every row, found 'high' "):
        evidence.score_profile()


def _one_group(part: pd.DataFrame, binning: ScoreBinning | None) -> tuple[float | None, list]:
    """Return one group's AUC and calibration counts with a plain per-group loop (the oracle)."""
    keys = sorted(set(part[SCORE_KEY]))
    pos = np.array([part[(part[SCORE_KEY] == k) & (part["label"] == 1)]["n"].sum() for k in keys])
    neg = np.array([part[(part[SCORE_KEY] == k) & (part["label"] == 0)]["n"].sum() for k in keys])
    auc, _ = roc_auc_from_counts(pos, neg)
    coarse = (
        ScoreBinning(0.0, 1.0, 10).index(np.array(keys))
        if binning is None
        else (np.array(keys) // 10)
    )
    counts = [int((pos + neg)[coarse == b].sum()) for b in range(10)]
    return auc, counts


def _all_groups(
    cells: pd.DataFrame, context: ScoreContext, *, level: float | None
) -> dict[int, GroupScoreResult]:
    """ROC AUC and 10-bin calibration of every group of ``cells`` (grouped by ``gid``)."""
    return group_score_results(
        cells,
        cells["gid"].to_numpy(),
        context=context,
        metrics=["roc_auc", "calibration"],
        calibration_bins=10,
        level=level,
    )


@pytest.mark.parametrize("groups", [40, 10_000])
def test_all_groups_at_once_equal_sklearn_on_raw_rows(groups: int) -> None:
    rng = np.random.default_rng(groups)
    rows = 60_000
    raw = pd.DataFrame(
        {
            "gid": rng.integers(0, groups, rows),
            "label": rng.integers(0, 2, rows),
            "p": np.round(rng.random(rows), 2),
        }
    )
    cells = raw.groupby(["gid", "label", "p"]).size().rename("n").reset_index()
    cells = cells.rename(columns={"p": SCORE_KEY})
    context = ScoreContext(summary=ScoreSummary(rows=rows, min=0.0, max=1.0))
    found = _all_groups(cells, context, level=None)
    assert set(found) == set(raw["gid"])
    checked = 0
    for gid, part in raw.groupby("gid"):
        result = found[int(gid)]
        if part["label"].nunique() == 2:
            expected = roc_auc_score(part["label"], part["p"])
            assert result.roc_auc == pytest.approx(expected, abs=1e-12)
            checked += 1
        else:
            assert result.roc_auc is None
        if checked < 50:  # the plain loop is slow: the first groups suffice
            auc, counts = _one_group(cells[cells["gid"] == gid], None)
            assert result.roc_auc == auc
            assert [b.count for b in result.calibration] == counts
    assert checked


@pytest.mark.parametrize("binned", [False, True])
def test_blocks_of_groups_give_the_results_of_all_groups_at_once(
    binned: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Histograms built a block of whole groups at a time (bounded memory at 10^7 cells) give
    the same numbers, to the bit, as all groups at once: each group's sums in the same order."""
    import ethicsgate.rules.scores as scores

    rng = np.random.default_rng(11)
    rows = 40_000
    raw = pd.DataFrame(
        {
            "gid": rng.integers(-1, 700, rows),  # -1: a cell in no reported group
            "label": rng.integers(0, 2, rows),
            "p": np.round(rng.random(rows), 3),
        }
    )
    cells = raw.groupby(["gid", "label", "p"]).size().rename("n").reset_index()
    cells = cells.sample(frac=1.0, random_state=3).reset_index(drop=True)  # groups interleaved
    if binned:
        cells[SCORE_SUM] = cells["p"] * cells["n"] * 1.000001
        cells[SCORE_KEY] = (cells["p"] * 99.999).astype("int64")
        binning = ScoreBinning(0.0, 1.0, 100)
    else:
        cells[SCORE_KEY] = cells["p"]
        binning = None
    context = ScoreContext(summary=ScoreSummary(rows=rows, min=0.0, max=1.0), binning=binning)

    def run() -> dict[int, object]:
        return dict(_all_groups(cells, context, level=0.95))

    whole = run()
    arrays = scores._Cells.of(cells, cells["gid"].to_numpy())
    assert len(list(arrays.blocks())) == 1
    monkeypatch.setattr(scores, "_BLOCK_CELLS", 997)
    masks = list(arrays.blocks())
    assert len(masks) > 20
    # every cell of a reported group in exactly one block, each block whole groups
    assert (np.sum(masks, axis=0) == (cells["gid"] >= 0)).all()
    seen = [set(cells["gid"][m]) for m in masks]
    assert sum(map(len, seen)) == len(set().union(*seen)) == 700
    assert run() == whole
    assert sum(r.roc_auc_interval is not None for r in whole.values()) > 600
