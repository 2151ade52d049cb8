"""The Python API: a frame audited in memory vs the same rows audited from Parquet.

Each measurement is a fresh child process: it loads the evidence (a pandas frame, a polars frame
or a pyarrow table read from the Parquet file; nothing for the file method), then runs
``ethicsgate.audit`` once, timed. Peak RSS is the child's ``ru_maxrss`` at the end (MiB); the
frame's own memory is in it, so the table also gives the RSS after loading, before the audit.
Every method must give the same rule results (the file audit is the oracle).

Results replace the section between ``<!-- bench_api:start -->`` / ``<!-- bench_api:end -->``
in docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_api.py --rows 1e7
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, log, machine_info, parse_count, update_doc_section, warm_cache

START = "<!-- bench_api:start -->"
END = "<!-- bench_api:end -->"

POLICY = """\
schema_version: 1
id: bench-api
version: "1"
title: Python API benchmark
owner: Benchmarks
rules:
  - id: parity
    kind: fairness
    dataset: predictions
    sensitive_features: [sex, race]
    metrics: [selection_rate, true_positive_rate, false_positive_rate, count]
    min_group_size: 30
    assert:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}
"""

CHILD = """
import json, resource, sys, time
method, data, policy, out = sys.argv[1:5]
import ethicsgate
# the audit's own imports first, so that no method pays for them inside the timed call
import ethicsgate.api._run, ethicsgate.audit.run, ethicsgate.engines.duckdb
import ethicsgate.evidence.arrow, ethicsgate.report, pyarrow, pyarrow.compute
start = time.perf_counter()
if method == "parquet file":
    evidence = {"predictions": {"path": data}}
elif method == "pandas in memory":
    import pandas as pd
    evidence = {"predictions": {"data": pd.read_parquet(data)}}
elif method == "polars in memory":
    import polars as pl
    evidence = {"predictions": {"data": pl.read_parquet(data)}}
else:
    import pyarrow.parquet as pq
    evidence = {"predictions": {"data": pq.read_table(data)}}
loaded = time.perf_counter()
rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
report = ethicsgate.audit(policy, evidence)
done = time.perf_counter()
rules = [r.model_dump(mode="json") for r in report.rules]
with open(out, "w") as f:
    json.dump({"load_s": loaded - start, "audit_s": done - loaded, "rss_loaded": rss_loaded,
               "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "rules": rules, "digest": report.result.audit.evidence[0].sha256}, f)
"""

METHODS = ["parquet file", "pandas in memory", "polars in memory", "pyarrow in memory"]


def make_data(path: Path, rows: int) -> None:
    """Write ``rows`` synthetic predictions (sex, race, label, prediction, score) as Parquet."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(2026)
    sex = rng.choice(np.array(["female", "male"]), rows)
    race = rng.choice(np.array(["a", "b", "c", "d"]), rows, p=[0.5, 0.25, 0.15, 0.1])
    score = np.clip(rng.normal(0.5, 0.2, rows) + np.where(sex == "male", 0.05, 0.0), 0, 1)
    label = (rng.random(rows) < score).astype("int64")
    prediction = (score >= 0.5).astype("int64")
    table = pa.table(
        {"sex": sex, "race": race, "label": label, "prediction": prediction, "score": score}
    )
    pq.write_table(table, path)


def measure(method: str, data: Path, policy: Path, tmp: Path) -> dict[str, object]:
    """Run one child; return what it measured."""
    out = tmp / "child.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(data), str(policy), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{method} failed:\n{done.stderr[-4000:]}")
    result: dict[str, object] = json.loads(out.read_text())
    return result


def main() -> None:
    """Measure every method, check they agree, update docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=parse_count, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-doc", action="store_true", help="Print; leave the docs alone.")
    parser.add_argument("--make-data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_data is not None:
        make_data(args.make_data, args.rows)
        return
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        data, policy = tmp / "predictions.parquet", tmp / "policy.yaml"
        policy.write_text(POLICY)
        log(f"writing {args.rows:,} rows")
        # in a child: Linux keeps a process's peak RSS across exec, so the children measured
        # must be forked from a small parent
        subprocess.run(
            [sys.executable, __file__, "--make-data", str(data), "--rows", str(args.rows)],
            check=True,
        )
        warm_cache(data)
        size = data.stat().st_size / 2**20
        results: dict[str, list[dict[str, object]]] = {m: [] for m in METHODS}
        for run in range(args.runs):
            for method in METHODS:  # interleaved: load on the shared machine hits all alike
                measured = measure(method, data, policy, tmp)
                results[method].append(measured)
                log(f"run {run + 1} {method}: audit {measured['audit_s']:.2f} s")
    oracle = results["parquet file"][0]["rules"]
    for method, runs in results.items():
        for measured in runs:
            assert measured["rules"] == oracle, f"{method} gave other rule results"
    digests = {str(m["digest"]) for method in METHODS[1:] for m in results[method]}
    assert len(digests) == 1, "the in-memory digests differ between libraries"
    section = render(results, args.rows, size, args.runs)
    if args.no_doc:
        print(section)
    else:
        update_doc_section(section, START, END, create=False)
        print("updated docs/benchmarks.md")


def render(results: dict[str, list[dict[str, object]]], rows: int, size: float, runs: int) -> str:
    """Return the docs section."""
    info = machine_info(["duckdb", "pyarrow", "pandas", "polars"])

    def median(method: str, key: str) -> float:
        return statistics.median(float(m[key]) for m in results[method])  # type: ignore[arg-type]

    lines = [
        START,
        "## The Python API: frames in memory vs the same rows from Parquet",
        "",
        "Generated by `benchmarks/bench_api.py`; do not edit by hand between the markers.",
        "",
        f"{rows:,} synthetic predictions (sex, race, label, prediction, score; {size:.0f} MiB "
        "of Parquet), one fairness rule over the 8 intersectional groups (selection rate, TPR, "
        "FPR, count, the four-fifths assertion). Each run is a fresh process: it loads the "
        "evidence (pandas `read_parquet`, polars `read_parquet`, pyarrow `read_table`; nothing "
        "for the file) after importing the audit's modules, then "
        "`ethicsgate.audit(policy, evidence)` once. *audit s* is that call: "
        "for a frame, the conversion to Arrow, the DuckDB scans of the registered table and the "
        "arrow-ipc-sha256 of every column; for the file, the scans and the file's sha256. Peak "
        "RSS includes the frame itself (see the RSS after loading). Every method gave the same "
        "rule results as the file, and the three frames the same digest. Most of what a frame "
        "costs over the file is its digest: the canonical IPC stream of 10^7 rows of these "
        "five columns is about 440 MiB to hash (about 0.45 s on this machine), where the "
        "Parquet file's sha256 reads 85 MiB, beside the scans.",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/bench_api.py --rows {rows}`",
        "",
        "Machine: "
        + ", ".join(f"{k} {v}" for k, v in info.items())
        + f". Measured {time.strftime('%Y-%m-%d')}; medians of {runs} runs.",
        "",
        "| method | load s | audit s | RSS after loading MiB | peak RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for method in METHODS:
        lines.append(
            f"| {method} | {median(method, 'load_s'):.2f} | {median(method, 'audit_s'):.2f} | "
            f"{median(method, 'rss_loaded'):,.0f} | {median(method, 'peak'):,.0f} |"
        )
    lines.append(END)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
