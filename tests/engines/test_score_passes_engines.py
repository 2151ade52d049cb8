"""A scoring audit with ROC AUC, calibration and the LL144 scoring rate reads its table twice on
Spark and PostgreSQL too, and reports what DuckDB reports.

The profile pass groups the scores by the 12-bit histogram: the buckets around the middle
ranks bracket the median, and the same buckets count the distinct scores (exactly when each
holds one value, else as a lower bound that decides "more than 2,048" alone). Before, both
engines took a distinct count in the profile and the histogram in a pass of its own: three
passes. Only when the buckets cannot tell (few buckets, some holding several values, at most
2,048 in all) does a distinct count take a pass of its own; the third case here forces it.

Oracle: the DuckDB engine over the same Parquet file: rule statuses and every number to 1e-12
(the distinct-count figure aside: DuckDB's and Spark's estimates are HyperLogLogs).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from tests.engines.conftest import load_table
from tests.jsonclose import differences

from ethicsgate.audit import run_audit
from ethicsgate.session.audit import run_collecting_findings

ROWS = 20_000

POLICY = """\
schema_version: 1
id: scoring-passes
version: "1"
title: Scoring audit, passes over the evidence
owner: Tests
rules:
  - id: scoring
    kind: fairness
    dataset: applicants
    sensitive_features: [sex, race]
    impact_ratio: scoring
    min_group_size: 30
    score_metrics: [roc_auc, calibration]
    assert:
      - {metric: impact_ratio, op: ">=", value: 0.8}
"""

#: (scores, passes the audit makes on Spark and PostgreSQL, whether ROC AUC is exact)
SHAPES = {
    # ~10^4 distinct: the buckets prove more than 2,048 alone (binned AUC, calibration)
    "continuous": 2,
    # 101 values, each alone in its bucket: counted exactly (exact AUC)
    "few": 2,
    # 1,000 values in four buckets: the buckets cannot tell, a distinct count of its own
    "crowded": 3,
}


def _scores(shape: str, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(ROWS)
    if shape == "continuous":
        return np.round(np.clip(0.5 + 0.37 * (u + rng.random(ROWS) - 1.0), 0.0, 1.0), 4)
    if shape == "few":
        return np.round(u, 2)
    if shape == "crowded":  # 12 significant bits near 1000 are steps of 0.25
        return 1000.0 + np.floor(u * 1000.0) / 1000.0
    raise AssertionError(shape)


def _write(folder: Path, shape: str) -> Path:
    rng = np.random.default_rng(11)
    scores = _scores(shape, rng)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["Female", "Male"], ROWS),
            "race": rng.choice(["A", "B", "C"], ROWS, p=[0.5, 0.3, 0.2]),
            "score": scores,
            "hired": (rng.random(ROWS) < (scores - scores.min() + 0.1) / 2.0).astype(np.int64),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "applicants.parquet")
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "audit.yaml").write_text(
        "schema_version: 1\nid: scoring-passes\ntitle: Scoring passes\npolicy: policy.yaml\n"
        "evidence:\n  applicants:\n    path: applicants.parquet\n"
        "    columns: {label: hired}\n"
    )
    return folder / "audit.yaml"


def _numbers(result: Any) -> dict[str, Any]:
    rules = result.model_dump(mode="json")["rules"]
    for rule in rules:
        (rule.get("score") or {}).pop("distinct_estimate", None)
    return {"rules": rules}


def _exact(result: Any) -> bool:
    return bool(result.rules[0].score.exact)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_spark_scoring_audit_reads_twice(engine: Any, tmp_path: Path, shape: str) -> None:
    from ethicsgate.engines.spark.dataset import SparkDataset

    spec = _write(tmp_path, shape)
    duck = run_audit(spec)
    labels: list[str] = []
    tracked = SparkDataset._tracked

    def counting(dataset: Any, progress: Any, label: str, work: Any) -> Any:
        labels.append(label)
        return tracked(dataset, progress, label, work)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SparkDataset, "_tracked", counting)
        spark = run_audit(spec, engine=engine)
    assert len(labels) == SHAPES[shape], labels
    assert labels[-1] == "applicants"  # the grouped pass, after the profile
    assert [r.status for r in spark.rules] == [r.status for r in duck.rules]
    assert differences(_numbers(duck), _numbers(spark)) == []
    assert _exact(spark) == _exact(duck) == (shape != "continuous")


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_postgres_scoring_audit_reads_twice(
    pg_url: str, pg_engine: sa.Engine, tmp_path: Path, shape: str
) -> None:
    spec = _write(tmp_path, shape)
    table = f"score_passes.{shape}"
    with pg_engine.connect() as con:
        con.execute(sa.text("CREATE SCHEMA IF NOT EXISTS score_passes"))
        con.commit()
    load_table(pg_engine, tmp_path / "applicants.parquet", table)
    tables = tmp_path / "tables.yaml"
    tables.write_text(spec.read_text().replace("path: applicants.parquet", f"table: {table}"))
    duck, _ = run_collecting_findings(spec)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if table in statement and not re.search(r"LIMIT 0\s*$", statement.strip()):
            statements.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", count)
    try:
        pg, _ = run_collecting_findings(tables, engine_target=pg_url)
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", count)
    assert len(statements) == SHAPES[shape], [s[:100] for s in statements]
    assert [r.status for r in pg.rules] == [r.status for r in duck.rules]
    assert differences(_numbers(duck), _numbers(pg)) == []
    assert _exact(pg) == _exact(duck) == (shape != "continuous")
