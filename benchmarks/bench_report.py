"""Benchmark rendering a report of many groups: each report file, and the indented JSON it replaced.

A synthetic log (``--groups`` zip × sex groups, 20 people each, a selection rule with bootstrap
intervals and tests, and an LL144 scoring rule with ROC AUC per group) is audited once in
process; then every report format is rendered from the same result and timed (CPU seconds,
best of ``--repeat``). The alternative is what ``report.json`` was before one line per group:
``json.dumps(sort_keys=True, indent=2)``, which Python writes with its pure-Python encoder.
Oracle: both JSON documents hold the same data, and ``groups.csv`` has one row per group and
metric plus one per LL144 row.

Reproduce: ``.venv/bin/python benchmarks/bench_report.py --groups 10000`` (prints a Markdown
table for docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

POLICY = """
schema_version: 1
id: bench
version: "1"
title: bench
owner: bench
rules:
  - id: sel
    kind: fairness
    dataset: d
    sensitive_features: [zip, sex]
    metrics: [selection_rate, true_positive_rate, false_positive_rate]
    uncertainty: {bootstrap_samples: 200, seed: 1}
    assert:
      - {metric: selection_rate, op: ">=", value: 0.8}
  - id: scoring
    kind: fairness
    dataset: d
    severity: warn
    sensitive_features: [zip, sex]
    impact_ratio: scoring
    score_metrics: [roc_auc]
"""
AUDIT = """
schema_version: 1
id: bench
policy: policy.yaml
evidence:
  d: {path: data.csv, columns: {label: label, prediction: pred, score: score}}
"""


def _write_inputs(folder: Path, groups: int) -> Path:
    with (folder / "data.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["zip", "sex", "score", "label", "pred"])
        for i in range(groups * 20):
            h = hash((i, 7)) & 0xFFFF  # stable within a run; the data only needs spread
            score = (h % 100) / 100
            writer.writerow(
                [f"{(i // 40):05d}", "FM"[i % 2], score, (h >> 8) & 1, int(score >= 0.5)]
            )
    (folder / "policy.yaml").write_text(POLICY)
    spec = folder / "audit.yaml"
    spec.write_text(AUDIT)
    return spec


def main() -> None:
    """Audit a synthetic log once, then time every report format."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    from ethicsgate.audit import run_audit
    from ethicsgate.report import REPORT_FORMATS
    from ethicsgate.report.formats.base import ReportInput

    with tempfile.TemporaryDirectory() as tmp:
        spec = _write_inputs(Path(tmp), args.groups)
        os.chdir(tmp)
        result = run_audit(spec, clock=lambda: datetime(2026, 1, 2, tzinfo=UTC))
    rows = []

    def timed(name: str, render: object) -> bytes:
        best, data = float("inf"), b""
        for _ in range(args.repeat):
            start = time.process_time()
            data = render()  # type: ignore[operator]
            best = min(best, time.process_time() - start)
        rows.append((name, best, len(data)))
        return data

    files = {}
    for renderer in REPORT_FORMATS.values():
        files[renderer.filename] = timed(
            renderer.filename, lambda r=renderer: r.render(ReportInput(result))
        )
    indented = timed(
        "report.json, indented (before)",
        lambda: (
            json.dumps(
                result.model_dump(mode="json"),
                sort_keys=True,
                indent=2,
                ensure_ascii=False,
                allow_nan=False,
            )
            + "\n"
        ).encode(),
    )
    assert json.loads(files["report.json"]) == json.loads(indented)
    per_group = sum(len(g.metrics) + (2 if g.score else 0) for r in result.rules for g in r.groups)
    ll144 = sum(len(t.rows) for r in result.rules if r.impact_ratio for t in r.impact_ratio.tables)
    table = list(csv.reader(io.StringIO(files["groups.csv"].decode())))
    assert len(table) == 1 + per_group + ll144, (len(table), per_group, ll144)

    groups = sum(len(r.groups) for r in result.rules)
    print(f"{groups:,} groups over {len(result.rules)} rules; CPU s, best of {args.repeat}\n")
    print("| file | CPU s | MB |\n| --- | ---: | ---: |")
    for name, seconds, size in rows:
        print(f"| {name} | {seconds:.2f} | {size / 1e6:.1f} |")


if __name__ == "__main__":
    main()
