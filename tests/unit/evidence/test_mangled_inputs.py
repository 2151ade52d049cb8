"""Mangled evidence never crashes an audit: it passes, or it is located bad input (exit 2).

Seeded mutations of a valid CSV (stray quotes, delimiters, line breaks, NUL, BOM, huge and
non-finite numbers, deleted runs of characters) go through the whole audit and all three
report renderings in both contract modes. Any exception other than the tool's own located
errors is a bug (it would be exit 3 with a traceback).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from tests.conftest import POLICY

from ethicsgate.audit import run_audit
from ethicsgate.errors import EthicsgateError
from ethicsgate.report import report_files

SCORED_POLICY = (
    POLICY.replace("sensitive_features: [group]", "sensitive_features: [group, sex]")
    + """
  - id: scoring
    kind: fairness
    dataset: predictions
    sensitive_features: [group]
    impact_ratio: scoring
    score_metrics: [roc_auc, calibration]
    min_group_size: 1
    uncertainty: {bootstrap_samples: 50, seed: 1}
    assert:
      - {metric: impact_ratio, op: ">=", value: 0.8}
"""
)
BASE = "group,sex,label,prediction,score\n" + "".join(
    f"{'abc'[i % 3]},{'FM'[i % 2]},{i % 2},{(i // 2) % 2},{(i * 37 % 100) / 100}\n"
    for i in range(60)
)
PIECES = ['"', ",", "\n", "\r", "\x00", ";", "\t", "\\", "'", "é", "\ufeff", "nan", "inf",
          "-", "1e999", "NULL", " ", '""', "true", "2", "-1", "0.5"]  # fmt: skip


def _mangle(rng: random.Random) -> str:
    text = list(BASE)
    for _ in range(rng.randint(1, 6)):
        pos = rng.randrange(len(text))
        op = rng.random()
        if op < 0.5:
            text[pos:pos] = list(rng.choice(PIECES))
        elif op < 0.8:
            del text[pos : pos + rng.randint(1, 5)]
        else:
            text[pos:pos] = list(rng.choice(PIECES) * rng.randint(1, 50))
    return "".join(text)


@pytest.mark.parametrize("seed", range(30))
def test_a_mangled_csv_passes_or_is_located_bad_input(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    (tmp_path / "policy.yaml").write_text(SCORED_POLICY)
    (tmp_path / "data.csv").write_text(_mangle(rng), encoding="utf-8")
    spec = tmp_path / "audit.yaml"
    spec.write_text(
        f"schema_version: 1\nid: a\npolicy: policy.yaml\ncontracts: {rng.choice(['stop', 'report'])}\n"
        "evidence:\n  predictions: {path: data.csv}\n"
    )
    try:
        report_files(run_audit(spec))
    except EthicsgateError as exc:
        assert exc.location is not None, exc  # located: the file, the spec or the row
