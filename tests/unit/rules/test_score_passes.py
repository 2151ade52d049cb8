"""A scoring audit reads its evidence twice, and reports what the three-pass path reported.

Before issue #16 item 3, DuckDB profiled the scores (count, range, a HyperLogLog distinct
estimate), then took a pass for the median's histogram, then the grouped pass. Now the
profile and the histogram are one scan (equal-width bins over the Parquet footer's range, or
12-bit buckets for the text formats), and the histogram's buckets count the distinct scores.

Oracle: the old path, rebuilt here from the engine's own pieces (``score_profile`` without
the histogram, then ``score_median_buckets``), on the shapes the scale benchmark and the
users feed it. Every report byte must agree but the distinct count's figure, which was an
estimate and is now counted (or, when binned, only "more than 2,048").
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

import ethicsgate.engines.duckdb.dataset as reader
from ethicsgate import api
from ethicsgate.errors import EvidenceError
from ethicsgate.evidence.model import EXACT_SCORE_VALUES, ScoreProfile

ROWS = 60_000


def _old_profile(original: Any) -> Any:
    """Return ``score_profile`` as it was: the histogram in a pass of its own, HyperLogLog."""

    def score_profile(
        self: Any, *, distinct: bool = True, median: bool = False, progress: Any = None
    ) -> ScoreProfile:
        if median and not distinct and self.format != "parquet":
            return original(self, distinct=False, median=True, progress=progress)  # 12 bits
        profile: ScoreProfile = original(self, distinct=distinct, median=False, progress=progress)
        if median and not distinct and profile.rows:
            buckets = self.score_median_buckets(low=profile.min, high=profile.max)
            profile = replace(profile, median_buckets=buckets)
        return profile  # with ``distinct`` no buckets: the audit asked for them in a pass

    return score_profile


def _scores(shape: str, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(ROWS)
    if shape == "continuous":  # the scale benchmark's: six decimals, ~10^5 distinct here
        return np.round(np.clip(0.5 + 0.37 * (u + rng.random(ROWS) - 1.0), 0.0, 1.0), 6)
    if shape == "few":  # at most 2,048 distinct values: exact keys
        return np.round(u, 2)
    if shape == "wide":  # outside [0, 1]
        return np.round(u * 850.0 + 300.0, 3)
    if shape == "negative":
        return np.round(u * 10.0 - 7.5, 5)
    raise AssertionError(shape)


def _write(tmp_path: Path, shape: str, fmt: str, *, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["Female", "Male", None], ROWS, p=[0.49, 0.49, 0.02]),
            "race": rng.choice(["A", "B", "C", "Unknown"], ROWS, p=[0.5, 0.3, 0.15, 0.05]),
            "score": _scores(shape, rng),
            "hired": (rng.random(ROWS) < 0.3).astype(np.int8),
            "keep": rng.random(ROWS) < 0.9,
        }
    )
    return _save(frame, tmp_path / f"applicants.{fmt}", fmt)


def _save(frame: pd.DataFrame, path: Path, fmt: str) -> Path:
    """Write ``frame`` to ``path`` as CSV or Parquet (by DuckDB); return the path."""
    rel = duckdb.from_df(frame)
    if fmt == "csv":
        rel.write_csv(str(path))
    else:
        rel.write_parquet(str(path))
    return path


def _policy(tmp_path: Path, *, metrics: bool) -> Path:
    rule: dict[str, Any] = {
        "id": "ll144-scoring",
        "kind": "fairness",
        "dataset": "applicants",
        "severity": "block",
        "sensitive_features": ["sex", "race"],
        "impact_ratio": "scoring",
        "unknown_values": ["Unknown"],
        "min_group_size": 30,
        "uncertainty": {"bootstrap_samples": 200, "seed": 1},
        "assert": [{"metric": "impact_ratio", "op": ">=", "value": 0.8}],
    }
    if metrics:
        rule["score_metrics"] = ["roc_auc", "calibration"]
    policy = tmp_path / "policy.yaml"
    document = {"schema_version": 1, "id": "scoring", "version": "1", "title": "Scoring"}
    policy.write_text(yaml.safe_dump({**document, "owner": "Tests", "rules": [rule]}))
    return policy


def _report(policy: Path, data: Path, *, filter: str | None) -> tuple[dict[str, Any], list[str]]:
    """Return the audit's report.json (parsed) and the labels of its evidence scans."""
    labels: list[str] = []
    tracked = reader.DuckDBDataset._tracked

    def counting(dataset: Any, progress: Any, label: str, work: Any) -> Any:
        labels.append(label)
        return tracked(dataset, progress, label, work)

    evidence: dict[str, Any] = {"path": str(data), "columns": {"label": "hired"}}
    if filter:
        evidence["filter"] = filter
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader.DuckDBDataset, "_tracked", counting)
        report = api.audit(
            policy, {"applicants": evidence}, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC)
        )
    return json.loads(report.files()["report.json"]), labels


def _without_distinct(report: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    [rule] = report["rules"]
    score = rule.get("score") or {}
    figure = score.pop("distinct_estimate", None)
    report["audit"].pop("duration_ms", None)
    return report, figure


CASES = [
    ("continuous", True, None),
    ("continuous", False, None),
    ("few", True, None),
    ("wide", True, None),
    ("negative", True, None),
    ("continuous", True, "keep"),
    ("few", True, "keep AND score < 0.9"),
]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize(("shape", "metrics", "filter"), CASES)
def test_two_passes_and_the_old_paths_report(
    tmp_path: Path, fmt: str, shape: str, metrics: bool, filter: str | None
) -> None:
    data = _write(tmp_path, shape, fmt)
    policy = _policy(tmp_path, metrics=metrics)
    new, labels = _report(policy, data, filter=filter)
    # the profile (with the median's histogram and the distinct count) and the grouped pass
    assert labels == ["applicants (score profile)", "applicants"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            reader.DuckDBDataset,
            "score_profile",
            _old_profile(reader.DuckDBDataset.score_profile),
        )
        old, old_labels = _report(policy, data, filter=filter)
    binned = metrics and shape != "few"
    if binned or (fmt == "parquet" and not metrics):
        assert len(old_labels) == 3  # the old path's histogram pass of its own
    new, counted = _without_distinct(new)
    old, estimated = _without_distinct(old)
    assert new == old
    if not metrics:
        assert counted is None and estimated is None
    elif binned:
        assert counted is None  # "more than 2,048": a lower bound, reported as such
        assert estimated > EXACT_SCORE_VALUES
    else:
        [(distinct,)] = duckdb.sql(
            f"SELECT count(DISTINCT score) FROM '{data}' WHERE {filter or 'true'}"
        ).fetchall()
        assert counted == distinct  # counted, not estimated


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("bad", ["nan", "null", "inf"])
def test_a_bad_score_is_located_as_before(tmp_path: Path, fmt: str, bad: str) -> None:
    rng = np.random.default_rng(9)
    scores = np.round(rng.random(5000), 6).astype(object)
    scores[1234] = {"nan": float("nan"), "null": None, "inf": float("inf")}[bad]
    scores[4000] = None
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], 5000),
            "race": rng.choice(["A", "B"], 5000),
            "score": scores,
            "hired": rng.integers(0, 2, 5000),
        }
    )
    frame["score"] = frame["score"].astype("float64")
    path = _save(frame, tmp_path / f"a.{fmt}", fmt)
    policy = _policy(tmp_path, metrics=True)
    messages = []
    for old in (False, True):
        with pytest.MonkeyPatch.context() as patch:
            if old:
                patch.setattr(
                    reader.DuckDBDataset,
                    "score_profile",
                    _old_profile(reader.DuckDBDataset.score_profile),
                )
            with pytest.raises(EvidenceError) as caught:
                _report(policy, path, filter=None)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "row 1235" in messages[0] and "(2 such rows)" in messages[0]


def test_a_filter_drops_bad_scores_and_keeps_two_passes(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "sex": ["F", "M"] * 500,
            "race": ["A", "A", "B", "B"] * 250,
            "score": [float("nan") if i % 100 == 7 else (i % 37) / 37 for i in range(1000)],
            "hired": [i % 3 == 0 for i in range(1000)],
        }
    )
    path = tmp_path / "a.parquet"
    duckdb.from_df(frame).write_parquet(str(path))
    report, labels = _report(_policy(tmp_path, metrics=True), path, filter="NOT isnan(score)")
    assert labels == ["applicants (score profile)", "applicants"]
    [rule] = report["rules"]
    assert rule["score"]["distinct_estimate"] == 37 and rule["score"]["exact"] is True
    kept = frame[frame["score"].notna()]["score"]
    assert rule["score"]["median"] == float(np.median(kept))
