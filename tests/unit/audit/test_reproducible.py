"""The same audit on the same evidence gives the same report, however DuckDB's threads ran."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ethicsgate.audit import run_audit
from ethicsgate.report import render_json

POLICY = """
schema_version: 1
id: repro
version: "1"
title: Reproducibility
owner: Tests
rules:
  - id: scores
    kind: fairness
    dataset: applicants
    severity: info
    sensitive_features: [sex, race]
    impact_ratio: scoring
    min_group_size: 1
    score_metrics: [roc_auc, calibration]
    metrics: [selection_rate, true_positive_rate]
    uncertainty: {bootstrap_samples: 200, seed: 7}
"""

AUDIT = """
schema_version: 1
id: repro
policy: policy.yaml
evidence:
  applicants:
    path: applicants.parquet
    columns: {label: hired, prediction: "score >= 0.6"}
"""


def test_reports_are_identical_across_runs(
    write: Callable[[str, str], Path],
    tmp_path: Path,
    frozen_clock: Callable[[], datetime],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # many row groups and threads: DuckDB aggregates them in parallel, in no fixed order, so
    # float sums and the order of the grouped rows vary unless the scan pins them down
    duckdb.sql(
        f"""COPY (SELECT CASE WHEN hash(i, 1) % 2 = 0 THEN 'F' ELSE 'M' END AS sex,
                         ['A', 'B', 'C', 'D'][1 + CAST(hash(i, 2) % 4 AS BIGINT)] AS race,
                         (hash(i, 3) % 1000003) / 1000003.0 AS score,
                         CAST(hash(i, 4) % 3 = 0 AS INTEGER) AS hired
                  FROM range(400000) t(i))
            TO '{tmp_path / "applicants.parquet"}' (FORMAT parquet, ROW_GROUP_SIZE 5000)"""
    )
    write("policy.yaml", POLICY)
    spec = write("audit.yaml", AUDIT)
    monkeypatch.setenv("ETHICSGATE_THREADS", "4")
    reports = {render_json(run_audit(spec, clock=frozen_clock)) for _ in range(4)}
    assert len(reports) == 1
