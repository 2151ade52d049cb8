"""The exact median in the profile and grouped passes, checked against numpy on raw rows.

Oracles: ``numpy.median`` of the audited scores, and the grouped counts the engine returns
when it is handed the median (one ``gt`` column computed in SQL): the frame the two-pass plan
puts together must equal that frame exactly, row order and types included.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ethicsgate.engines.duckdb.dataset as reader
import ethicsgate.evidence.median as median_module
from ethicsgate.engines.duckdb import open_evidence
from ethicsgate.errors import Location
from ethicsgate.evidence import EvidenceSpec
from ethicsgate.evidence.median import median_of_counts, plan_median
from ethicsgate.evidence.model import ScoreBucket, ScoreColumn, ScoreProfile
from ethicsgate.policy.models import FairnessRule
from ethicsgate.rules.fairness_scan import ABOVE_MEDIAN, scan_fairness_evidence


def _rule(**extra: Any) -> FairnessRule:
    return FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "s",
            "severity": "info",
            "sensitive_features": ["g"],
            "impact_ratio": "scoring",
            **extra,
        }
    )


def _open(
    tmp_path: Path, frame: pd.DataFrame, *, filter: str | None = None, fmt: str = "csv"
) -> Any:
    # CSV: the profile pass carries the 12-bit histogram; Parquet: equal-width bins over the
    # footer's range, in the same pass (doubles round-trip through DuckDB's CSV exactly)
    path = tmp_path / f"s.{fmt}"
    if fmt == "csv":
        duckdb.from_df(frame).write_csv(str(path))
    else:
        duckdb.from_df(frame).write_parquet(str(path))
    spec = EvidenceSpec.model_validate(
        {"path": path.name, "columns": {"score": "p", "label": "y"}, "filter": filter}
    )
    return open_evidence("s", spec, base_dir=tmp_path, locate=lambda loc: Location("audit.yaml"))


class _Scans:
    """Count the engine's scans of the evidence (every query goes through ``_tracked``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.labels: list[str] = []
        tracked = reader.DuckDBDataset._tracked

        def counting(dataset: Any, progress: Any, label: str, work: Any) -> Any:
            self.labels.append(label)
            return tracked(dataset, progress, label, work)

        monkeypatch.setattr(reader.DuckDBDataset, "_tracked", counting)


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Scans]:
    yield _Scans(monkeypatch)


def _check(evidence: Any, raw: pd.DataFrame, rule: FairnessRule) -> None:
    """Assert the scan's median and frame equal numpy's median and the one-column frame."""
    counts = scan_fairness_evidence(evidence, [rule])
    assert counts.median == np.median(raw["p"].to_numpy())
    roles = ["g", *(["label"] if rule.needs_label else [])]
    columns = {ABOVE_MEDIAN: ScoreColumn("gt", value=counts.median)}
    # the same columns as the scan asked for, but with the median handed over
    if rule.score_metrics:
        columns["_score_key"] = ScoreColumn("value")
    expected = evidence.grouped_counts(
        roles=roles,
        binary_roles=roles[1:],
        score_columns=columns,
    ).frame
    pd.testing.assert_frame_equal(counts.frame, expected)
    above = raw[raw["p"] > counts.median].groupby("g").size()
    got = counts.frame.groupby("g").apply(lambda f: (f[ABOVE_MEDIAN] * f["n"]).sum())
    assert above.reindex(got.index, fill_value=0).tolist() == got.tolist()


SCORES = st.one_of(
    st.lists(st.sampled_from([0.25]), min_size=1, max_size=40),  # all equal
    st.lists(st.sampled_from([-1.0, 2.0]), min_size=1, max_size=60),  # two values
    st.lists(  # heavy ties, near-equal values sharing a histogram bucket, signs, magnitudes
        st.one_of(
            st.sampled_from([0.0, -0.0, 0.5, 1.0, -3.25, 1e300, -1e300, 1e-300, 5e-324]),
            st.integers(0, 20).map(lambda k: 1.0 + k * 2.0**-40),
            st.integers(0, 20).map(lambda k: -7.0 - k * 2.0**-30),
            st.floats(-1e6, 1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=200,
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=SCORES, data=st.data())
def test_median_and_rows_above_it_equal_numpy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, values: list[float], data: st.DataObject
) -> None:
    # a tiny bracket limit sends some cases through the narrowing search as well; Parquet
    # takes the histogram's range from its footer (equal-width bins), CSV needs none (12 bits)
    limit = data.draw(st.sampled_from([1 << 18, 3]))
    fmt = data.draw(st.sampled_from(["csv", "parquet"]))
    monkeypatch.setattr(median_module, "BRACKET_ROWS", limit)
    rng = np.random.default_rng(len(values))
    keep = rng.random(len(values)) < 0.8
    keep[0] = True  # at least one audited row
    raw = pd.DataFrame(
        {
            "g": rng.choice(["a", "b", "c"], len(values)),
            "y": rng.integers(0, 2, len(values)),
            "p": values,
            "keep": keep,
        }
    )
    evidence = _open(tmp_path, raw, filter="keep", fmt=fmt)
    try:
        _check(evidence, raw[raw["keep"]], _rule())
    finally:
        evidence.engine.close()


def test_exact_scores_give_the_median_from_the_grouped_pass(tmp_path: Path, scans: _Scans) -> None:
    rng = np.random.default_rng(5)
    raw = pd.DataFrame(
        {
            "g": rng.choice(["a", "b"], 5001),
            "y": rng.integers(0, 2, 5001),
            "p": np.round(rng.random(5001), 2),
        }
    )
    evidence = _open(tmp_path, raw)
    try:
        _check(evidence, raw, _rule(score_metrics=["roc_auc"]))
    finally:
        evidence.engine.close()
    # profile (histogram and distinct count) + grouped, then the oracle's own grouped pass
    assert scans.labels == ["s (score profile)", "s", "s"]


@pytest.mark.parametrize(
    ("extra", "fmt", "expected"),
    [
        ({}, "csv", ["s (score profile)", "s"]),  # 12-bit histogram in the profile pass
        ({}, "parquet", ["s (score profile)", "s"]),  # equal-width bins over the footer range
        ({"score_metrics": ["roc_auc"]}, "csv", ["s (score profile)", "s"]),  # keyed scores
        ({"score_metrics": ["roc_auc"]}, "parquet", ["s (score profile)", "s"]),
        # binned ROC AUC: the histogram's buckets tell the distinct count too
        ({"score_metrics": ["roc_auc"], "score_bins": 10}, "parquet", ["s (score profile)", "s"]),
        ({"score_metrics": ["roc_auc"], "score_bins": 10}, "csv", ["s (score profile)", "s"]),
    ],
)
def test_a_scoring_audit_scans_twice(
    tmp_path: Path, scans: _Scans, extra: dict[str, Any], fmt: str, expected: list[str]
) -> None:
    rng = np.random.default_rng(7)
    distinct = 5000 if "score_bins" in extra else 50
    raw = pd.DataFrame(
        {
            "g": rng.choice(["a", "b", "c"], 20_000),
            "y": rng.integers(0, 2, 20_000),
            "p": rng.integers(0, distinct, 20_000) / distinct
            + rng.random(20_000) * 1e-9 * (distinct > 2048),
        }
    )
    evidence = _open(tmp_path, raw, fmt=fmt)
    try:
        counts = scan_fairness_evidence(evidence, [_rule(**extra)])
    finally:
        evidence.engine.close()
    assert counts.median == np.median(raw["p"].to_numpy())
    assert scans.labels == expected


@pytest.mark.parametrize("limit", [1 << 18, 3])
def test_unordered_buckets_fall_back_to_the_whole_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scans: _Scans, limit: int
) -> None:
    # a decreasing "histogram" cannot bracket ranks: the profile says so, and the whole range
    # is the bracket: keyed by score in the grouped pass, or (too many rows) narrowed down
    monkeypatch.setattr(reader, "_bucket_sql", lambda s: f"CASE WHEN isfinite({s}) THEN -{s} END")
    monkeypatch.setattr(median_module, "BRACKET_ROWS", limit)
    raw = pd.DataFrame({"g": ["a"] * 7, "y": [0, 1] * 3 + [0], "p": [5.0, 1, 4, 2, 3, 9, 0]})
    evidence = _open(tmp_path, raw)
    try:
        assert evidence.score_profile(distinct=False, median=True).median_buckets == ()
        scans.labels.clear()
        _check(evidence, raw, _rule())
    finally:
        evidence.engine.close()
    search = [] if limit > 7 else ["s (score median, pass 1)"]
    assert scans.labels == ["s (score profile)", *search, "s", "s"]


def test_plan_median_reads_buckets() -> None:
    one = ScoreProfile(4, 0.0, 9.0, 0, (ScoreBucket(below=1, rows=2, low=2.0, high=2.0),))
    assert plan_median(one).median == 2.0
    split = ScoreProfile(
        4,
        0.0,
        9.0,
        0,
        (ScoreBucket(1, 1, 1.0, 1.5), ScoreBucket(2, 1, 3.0, 3.0)),
    )
    plan = plan_median(split)
    assert plan.median is None and (plan.low, plan.high, plan.below, plan.rows) == (
        1.0,
        3.0,
        1,
        2,
    )
    whole = plan_median(ScoreProfile(3, -1.0, 4.0, 0, ()))
    assert (whole.low, whole.high, whole.below, whole.rows) == (-1.0, 4.0, 0, 3)
    assert median_of_counts(np.array([3.0, 1.2, 3.0]), np.array([1, 1, 2]), (1, 2), below=1) == (
        (1.2 + 3.0) / 2
    )
    with pytest.raises(ValueError, match="outside"):
        median_of_counts(np.array([1.0]), np.array([1]), (5,))
