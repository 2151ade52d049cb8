"""Benchmark a fairness audit: ethicsgate end to end vs fairlearn's MetricFrame on raw rows.

What it measures, for each size (default 1e6 and 1e7 rows):

* **ethicsgate audit (CLI)**: ``ethicsgate audit SPEC --out DIR --no-progress`` on a generated
  audit spec and policy (one fairness rule over ``[sex, race, age_band]``, 40 intersectional
  groups, seven metrics plus ``count``, one ratio assertion). DuckDB aggregates the Parquet to
  grouped confusion counts and fairlearn's ``MetricFrame`` runs on those weighted rows. The time
  includes Python start-up, imports, hashing the evidence file and writing the three reports.
* **fairlearn on raw rows**: the obvious alternative. A child process reads the Parquet with
  pandas and runs ``fairlearn.metrics.MetricFrame`` on every row with the same seven metrics
  (fairlearn's ``selection_rate``, ``true_positive_rate``, ``false_positive_rate``,
  ``false_negative_rate``, ``true_negative_rate``; scikit-learn's ``precision_score``
  (``zero_division=0``) and ``accuracy_score``) over the same three sensitive features.
* **DuckDB scan (floor)**: ``SELECT count(*), sum(hash(sex, race, age_band, y_true, y_pred))``
  over the Parquet, which decodes the same five columns and does nothing else.

Every measurement runs in a fresh child process, started by a small stdlib-only wrapper that
times it and reads ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` afterwards (spawned straight from
this script, a child's ``ru_maxrss`` would start from this script's own peak). The data file
is read once before timing, so every method starts from a warm page cache. ethicsgate and the
floor run ``--repeat`` times (median wall time, highest peak RSS); fairlearn on raw rows runs
once. The CLI runs without ``ETHICSGATE_*`` variables, so the audit is never signed. For scale,
Python start-up plus the imports an audit needs (ethicsgate, duckdb, pandas, sklearn,
fairlearn) is measured alone too.

Oracle: the per-group metrics and counts in the ``report.json`` that the CLI wrote must equal
fairlearn's raw-row results to 1e-12 (and an independent DuckDB ``GROUP BY`` of exact integer
counts); any difference stops the run with a non-zero exit before the docs are touched.

The synthetic data (seeded numpy, written in chunks of 1e6 rows with pyarrow, so the dataset is
never whole in memory) goes to ``benchmarks/data/`` (git-ignored) and is reused when present.
Results are printed as a Markdown table and written into ``docs/benchmarks.md`` between the
``<!-- bench_fairness:start -->`` / ``<!-- bench_fairness:end -->`` markers.

Run from the repository root (fairlearn on 1e7 raw rows alone took about 4 minutes and
6.5 GB on 2 cores)::

    .venv/bin/python benchmarks/bench_fairness.py
    .venv/bin/python benchmarks/bench_fairness.py --sizes 1e6 --repeat 1 --no-docs
    .venv/bin/python benchmarks/bench_fairness.py --skip-raw-above 1e6
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shlex
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402  (benchmarks/ is not a package)
    DOC_PATH,
    ROOT,
    ethicsgate_command,
    log,
    machine_info,
    measure_wrapped,
    parquet_has_metadata,
    update_doc_section,
    warm_cache,
    write_parquet_chunks,
)
from _common import parse_count as parse_size  # noqa: E402

DATA_DIR = ROOT / "benchmarks" / "data"
START = "<!-- bench_fairness:start -->"
END = "<!-- bench_fairness:end -->"
SECTION_TITLE = "## Fairness audit: ethicsgate vs fairlearn on raw rows"

FEATURES = ("sex", "race", "age_band")
LABEL, PREDICTION = "y_true", "y_pred"
COLUMNS = (*FEATURES, LABEL, PREDICTION)
METRICS = (
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "true_negative_rate",
    "precision",
    "accuracy",
)
TOLERANCE = 1e-12
SEED = 20_240_611
CHUNK_ROWS = 1_000_000
GENERATOR_VERSION = "1"

# Levels, their shares, and logit offsets for the base rate, the true positive rate and the
# false positive rate: every group gets its own rates, and the smallest of the 40 groups still
# has about 0.4% of the rows.
SEX = (("female", "male"), (0.5, 0.5), (-0.1, 0.1), (0.0, 0.15), (-0.1, 0.1))
RACE = (
    ("asian", "black", "hispanic", "other", "white"),
    (0.07, 0.25, 0.18, 0.05, 0.45),
    (-0.3, 0.4, 0.1, 0.0, -0.2),
    (0.1, 0.3, 0.0, -0.2, -0.1),
    (-0.2, 0.5, 0.2, 0.1, -0.3),
)
AGE_BAND = (
    ("18-24", "25-44", "45-64", "65+"),
    (0.15, 0.40, 0.30, 0.15),
    (0.5, 0.2, -0.3, -0.6),
    (0.2, 0.1, -0.1, -0.3),
    (0.4, 0.1, -0.2, -0.4),
)
BASE_LOGIT, TPR_LOGIT, FPR_LOGIT = -0.4, 1.0, -1.4

ORACLE_RAW = "fairlearn on raw rows"
ORACLE_COUNTS = "exact confusion counts from a separate DuckDB GROUP BY"
METHOD_FLOOR = "DuckDB scan of the 5 columns (floor)"
METHOD_ETHICSGATE = "ethicsgate audit (CLI, end to end)"
METHOD_RAW = "fairlearn MetricFrame on raw rows"


def size_label(rows: int) -> str:
    """Return '1e6' for 1_000_000, else the number with thousands separators."""
    exponent = round(math.log10(rows))
    if 10**exponent == rows:
        return f"1e{exponent}"
    return f"{rows:,}"


# -- data -------------------------------------------------------------------------------------


def data_path(rows: int) -> Path:
    """Return where the Parquet file of ``rows`` rows lives."""
    return DATA_DIR / f"fairness_{size_label(rows).replace(',', '_')}.parquet"


def _expected_metadata(rows: int) -> dict[bytes, bytes]:
    return {
        b"bench_fairness.generator": GENERATOR_VERSION.encode(),
        b"bench_fairness.seed": str(SEED).encode(),
        b"bench_fairness.rows": str(rows).encode(),
    }


def ensure_data(rows: int, *, regenerate: bool) -> Path:
    """Write the synthetic Parquet file for ``rows`` rows unless an identical one exists."""
    path = data_path(rows)
    if not regenerate and parquet_has_metadata(path, _expected_metadata(rows)):
        log(f"data: reusing {path.relative_to(ROOT)} ({path.stat().st_size / 2**20:.1f} MiB)")
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    log(f"data: generating {rows:,} rows -> {path.relative_to(ROOT)}")
    started = time.perf_counter()
    chunks = (
        _chunk(index, min(CHUNK_ROWS, rows - start))
        for index, start in enumerate(range(0, rows, CHUNK_ROWS))
    )
    write_parquet_chunks(path, chunks, _expected_metadata(rows))
    log(
        f"data: wrote {path.stat().st_size / 2**20:.1f} MiB in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return path


def _chunk(index: int, rows: int) -> Any:
    """Return one chunk of synthetic rows as a pyarrow Table (seeded by the chunk index)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng([SEED, index])
    columns: dict[str, Any] = {}
    logits = {
        "base": np.full(rows, BASE_LOGIT),
        "tpr": np.full(rows, TPR_LOGIT),
        "fpr": np.full(rows, FPR_LOGIT),
    }
    for name, (levels, shares, base, tpr, fpr) in zip(FEATURES, (SEX, RACE, AGE_BAND), strict=True):
        codes = rng.choice(len(levels), size=rows, p=np.asarray(shares) / sum(shares))
        columns[name] = pa.array(levels, pa.string()).take(pa.array(codes.astype(np.int32)))
        logits["base"] += np.asarray(base)[codes]
        logits["tpr"] += np.asarray(tpr)[codes]
        logits["fpr"] += np.asarray(fpr)[codes]

    def prob(x: Any) -> Any:
        return 1.0 / (1.0 + np.exp(-x))

    y_true = rng.random(rows) < prob(logits["base"])
    p_selected = np.where(y_true, prob(logits["tpr"]), prob(logits["fpr"]))
    y_pred = rng.random(rows) < p_selected
    columns[LABEL] = pa.array(y_true.astype(np.int8))
    columns[PREDICTION] = pa.array(y_pred.astype(np.int8))
    return pa.table(columns)


# -- audit spec and policy ----------------------------------------------------------------------


POLICY_YAML = """\
schema_version: 1
id: bench-fairness
version: "1"
title: Synthetic benchmark policy (benchmarks/bench_fairness.py)
owner: benchmarks
rules:
  - id: intersectional-parity
    kind: fairness
    title: Selection rates are similar across sex x race x age band
    dataset: predictions
    severity: block
    sensitive_features: [{features}]
    metrics: [{metrics}, count]
    min_group_size: 30
    reference: max
    assert:
      - {{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}}
"""

AUDIT_YAML = """\
schema_version: 1
id: bench-fairness-{label}
title: Synthetic predictions, {rows:,} rows (benchmarks/bench_fairness.py)
policy: bench-fairness-policy.yaml
evidence:
  predictions:
    path: {data}
    columns:
      label: {label_column}
      prediction: {prediction_column}
"""


def write_audit_spec(rows: int, data: Path) -> Path:
    """Write the policy and the audit spec of one size into benchmarks/data/."""
    policy = DATA_DIR / "bench-fairness-policy.yaml"
    policy.write_text(
        POLICY_YAML.format(features=", ".join(FEATURES), metrics=", ".join(METRICS)),
        encoding="utf-8",
    )
    label = size_label(rows).replace(",", "_")
    spec = DATA_DIR / f"bench-fairness-{label}.yaml"
    spec.write_text(
        AUDIT_YAML.format(
            label=label,
            rows=rows,
            data=data.name,
            label_column=LABEL,
            prediction_column=PREDICTION,
        ),
        encoding="utf-8",
    )
    return spec


# -- measuring child processes ------------------------------------------------------------------


@dataclass
class Run:
    """One measured child process."""

    wall_s: float
    peak_rss_mib: float
    returncode: int
    detail: dict[str, Any] = field(default_factory=dict)


def measure(
    command: list[str], *, log_path: Path, ok_codes: tuple[int, ...] = (0,), env: Any = None
) -> Run:
    """Run ``command`` in a fresh child of a small wrapper; return its wall time and peak RSS.

    See :func:`_common.measure_wrapped`: peak RSS is the ``ru_maxrss`` of the process tree
    under the wrapper, not of this process.
    """
    code, wall_s, peak_mib = measure_wrapped(command, log_path=log_path, ok_codes=ok_codes, env=env)
    return Run(wall_s=wall_s, peak_rss_mib=peak_mib, returncode=code)


def clean_env() -> dict[str, str]:
    """Return the environment without ETHICSGATE_* settings (no signing key: unsigned audits)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ETHICSGATE_")}


IMPORTS_ONLY = "import ethicsgate.audit, duckdb, pandas, sklearn.metrics, fairlearn.metrics"


def child_command(kind: str, data: Path, out: Path) -> list[str]:
    """Return the command that runs one of this script's child measurements."""
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--child-data",
        str(data),
        "--child-out",
        str(out),
    ]


def child_fairlearn_raw(data: Path, out: Path) -> None:
    """Child: read the raw rows with pandas and run fairlearn's MetricFrame on them."""
    t0 = time.perf_counter()
    import functools
    import warnings

    import pandas as pd
    from fairlearn.metrics import (
        MetricFrame,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    t1 = time.perf_counter()
    frame = pd.read_parquet(data, columns=list(COLUMNS))
    t2 = time.perf_counter()
    metrics = {
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "false_negative_rate": false_negative_rate,
        "true_negative_rate": true_negative_rate,
        "precision": functools.partial(precision_score, zero_division=0),
        "accuracy": accuracy_score,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = MetricFrame(
            metrics=metrics,
            y_true=frame[LABEL],
            y_pred=frame[PREDICTION],
            sensitive_features=frame[list(FEATURES)],
        )
    by_group = mf.by_group
    t3 = time.perf_counter()
    sizes = frame.groupby(list(FEATURES), observed=True).size()
    groups = []
    for key, row in by_group.iterrows():
        groups.append(
            {
                "group": dict(zip(FEATURES, map(str, key), strict=True)),
                "count": int(sizes.loc[key]),
                "metrics": {m: float(row[m]) for m in METRICS},
            }
        )
    result = {
        "rows": len(frame),
        "groups": groups,
        "timings_s": {"imports": t1 - t0, "read_parquet": t2 - t1, "metric_frame": t3 - t2},
    }
    out.write_text(json.dumps(result), encoding="utf-8")


def child_duckdb_scan(data: Path, out: Path) -> None:
    """Child: the floor, a DuckDB scan that decodes the five columns and hashes them."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    cols = ", ".join(COLUMNS)
    path = str(data).replace("'", "''")
    rows, digest = con.sql(
        f"SELECT count(*), sum(hash({cols})) FROM read_parquet('{path}')"
    ).fetchall()[0]
    con.close()
    out.write_text(
        json.dumps(
            {
                "rows": int(rows),
                "digest": str(digest),
                "timings_s": {"query": time.perf_counter() - started},
            }
        ),
        encoding="utf-8",
    )


# -- oracle -------------------------------------------------------------------------------------


def exact_counts(data: Path) -> dict[tuple[str, ...], dict[str, int]]:
    """Return the four confusion cells of every group, counted exactly by DuckDB."""
    import duckdb

    con = duckdb.connect()
    cols = ", ".join(FEATURES)
    path = str(data).replace("'", "''")
    sql = (
        f"SELECT {cols}, "
        f"count_if({LABEL} = 1 AND {PREDICTION} = 1), count_if({LABEL} = 0 AND {PREDICTION} = 1),"
        f" count_if({LABEL} = 0 AND {PREDICTION} = 0), count_if({LABEL} = 1 AND {PREDICTION} = 0)"
        f" FROM read_parquet('{path}') GROUP BY ALL"
    )
    rows = con.sql(sql).fetchall()
    con.close()
    k = len(FEATURES)
    return {
        tuple(map(str, r[:k])): dict(zip(("tp", "fp", "tn", "fn"), map(int, r[k:]), strict=True))
        for r in rows
    }


def metrics_from_counts(c: dict[str, int]) -> dict[str, float | None]:
    """Return the seven metrics from exact confusion counts (None for 0/0)."""

    def div(num: int, den: int) -> float | None:
        return num / den if den else None

    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    n = tp + fp + tn + fn
    return {
        "selection_rate": div(tp + fp, n),
        "true_positive_rate": div(tp, tp + fn),
        "false_positive_rate": div(fp, fp + tn),
        "false_negative_rate": div(fn, tp + fn),
        "true_negative_rate": div(tn, fp + tn),
        "precision": div(tp, tp + fp),
        "accuracy": div(tp + tn, n),
    }


@dataclass
class OracleResult:
    """How ethicsgate's report compared with one oracle."""

    oracle: str
    groups: int
    values: int
    identical: int
    max_abs_diff: float
    problems: list[str]


def compare(
    report_groups: dict[tuple[str, ...], dict[str, Any]],
    expected: dict[tuple[str, ...], dict[str, Any]],
    oracle: str,
) -> OracleResult:
    """Compare ethicsgate's groups (metrics and count) with an oracle's, to TOLERANCE."""
    problems: list[str] = []
    if set(report_groups) != set(expected):
        missing = sorted(set(expected) - set(report_groups))
        extra = sorted(set(report_groups) - set(expected))
        problems.append(f"group sets differ: missing {missing}, extra {extra}")
    values = identical = 0
    max_diff = 0.0
    for key in sorted(set(report_groups) & set(expected)):
        got, want = report_groups[key], expected[key]
        if got["count"] != want["count"]:
            problems.append(f"{key}: count {got['count']} != {want['count']}")
        for metric in METRICS:
            a, b = got["metrics"].get(metric), want["metrics"].get(metric)
            values += 1
            if a is None or b is None:
                if a is b:
                    identical += 1
                else:
                    problems.append(f"{key} {metric}: ethicsgate {a!r}, {oracle} {b!r}")
                continue
            diff = abs(a - b)
            max_diff = max(max_diff, diff)
            identical += a == b
            if not diff <= TOLERANCE:
                problems.append(f"{key} {metric}: ethicsgate {a!r}, {oracle} {b!r} (diff {diff})")
    return OracleResult(oracle, len(expected), values, identical, max_diff, problems)


def load_report_groups(report: Path) -> dict[tuple[str, ...], dict[str, Any]]:
    """Return the groups of the benchmark rule in the report.json the CLI wrote."""
    data = json.loads(report.read_text(encoding="utf-8"))
    (rule,) = [r for r in data["rules"] if r["id"] == "intersectional-parity"]
    if rule["status"] not in ("pass", "fail"):
        raise SystemExit(f"ethicsgate rule status {rule['status']!r}: {rule['message']}")
    return {
        tuple(str(g["group"][f]) for f in FEATURES): {
            "count": g["count"],
            "metrics": g["metrics"],
        }
        for g in rule["groups"]
    }


# -- machine and docs ---------------------------------------------------------------------------


def fairness_machine_info() -> dict[str, str]:
    """Return the CPU model, cores, RAM and the versions that matter here."""
    info = machine_info(
        ("ethicsgate", "duckdb", "fairlearn", "pandas", "numpy", "scikit-learn", "pyarrow")
    )
    blas = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")}
    info["openblas_env"] = ", ".join(f"{k}={v}" for k, v in sorted(blas.items())) or "unset"
    return info


def machine_line(info: dict[str, str]) -> str:
    """Return the machine as one line of Markdown."""
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['os']}; "
        f"Python {info['python']}, duckdb {info['duckdb']}, fairlearn {info['fairlearn']}, "
        f"pandas {info['pandas']}, numpy {info['numpy']}, scikit-learn {info['scikit-learn']}, "
        f"pyarrow {info['pyarrow']}, ethicsgate {info['ethicsgate']} "
        f"(environment: {info['openblas_env']})"
    )


@dataclass
class Row:
    """One line of the results table."""

    rows: int
    method: str
    runs: list[Run]

    @property
    def wall_s(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def peak_rss_mib(self) -> float:
        return max(r.peak_rss_mib for r in self.runs)


def table_markdown(rows: list[Row]) -> str:
    """Return the results as a Markdown table, speed-ups relative to fairlearn on raw rows."""
    raw = {r.rows: r.wall_s for r in rows if r.method == METHOD_RAW}
    lines = [
        "| rows | method | runs | wall s (median) | peak RSS MB | speed-up vs fairlearn raw |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        speed = f"{raw[row.rows] / row.wall_s:,.1f}×" if row.rows in raw else "n/a (raw skipped)"
        lines.append(
            f"| {row.rows:,} | {row.method} | {len(row.runs)} | {row.wall_s:,.2f} | "
            f"{row.peak_rss_mib:,.0f} | {speed} |"
        )
    return "\n".join(lines)


def section_markdown(
    *, command: str, info: dict[str, str], table: str, notes: list[str], oracle: list[str]
) -> str:
    """Return this benchmark's section of docs/benchmarks.md, markers included."""
    today = dt.date.today().isoformat()
    parts = [
        START,
        SECTION_TITLE,
        "",
        "Generated by `benchmarks/bench_fairness.py`; do not edit by hand between the markers.",
        "",
        "One fairness rule over `[sex, race, age_band]` (2 × 5 × 4 = 40 intersectional groups) "
        "with seven metrics (selection rate, TPR, FPR, FNR, TNR, precision, accuracy) and one "
        "ratio assertion, on synthetic Parquet data with group-dependent base and error rates. "
        "ethicsgate is timed end to end through its CLI (Python start-up, imports, DuckDB "
        "aggregation to grouped confusion counts, fairlearn on those weighted rows, hashing the "
        "evidence, writing report.json/.html/.md). The alternative reads the rows with pandas "
        "and runs fairlearn's `MetricFrame` on all of them; the floor is a DuckDB scan that "
        "decodes the same five columns and does nothing else. Each measurement is a fresh child "
        "process of a small wrapper that times it and reads its `ru_maxrss` (peak RSS; "
        "MB = 2^20 bytes); the data file is in the page cache for all three. ethicsgate and "
        "the floor are the median of `--repeat` runs, fairlearn on raw rows runs once; the "
        "audit is unsigned.",
        "",
        "Reproduce (from the repository root):",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Machine: {machine_line(info)}. Measured {today}.",
        "",
        table,
        "",
        *[f"- {n}" for n in notes],
        "",
        "**Oracle check.** " + " ".join(oracle),
        END,
    ]
    return "\n".join(parts) + "\n"


def update_doc(section: str) -> None:
    """Replace this benchmark's section in docs/benchmarks.md, or add it; keep the rest."""
    update_doc_section(section, START, END)


# -- main ---------------------------------------------------------------------------------------


def benchmark_size(
    rows: int, *, repeat: int, run_raw: bool, regenerate: bool
) -> tuple[list[Row], list[OracleResult], list[str]]:
    """Measure the three methods at one size and check ethicsgate against the oracles."""
    data = ensure_data(rows, regenerate=regenerate)
    spec = write_audit_spec(rows, data)
    label = size_label(rows).replace(",", "_")
    work = DATA_DIR / f"run-{label}"
    work.mkdir(parents=True, exist_ok=True)
    warm_cache(data)
    notes = [
        f"{rows:,} rows: the Parquet file is {data.stat().st_size / 2**20:.1f} MiB "
        "(snappy, 5 columns)."
    ]

    floor = Row(rows, METHOD_FLOOR, [])
    for i in range(repeat):
        out = work / "duckdb-scan.json"
        run = measure(child_command("duckdb-scan", data, out), log_path=work / "duckdb-scan.log")
        run.detail = json.loads(out.read_text(encoding="utf-8"))
        if run.detail["rows"] != rows:
            raise SystemExit(f"DuckDB scan counted {run.detail['rows']} rows, not {rows}")
        floor.runs.append(run)
        log(
            f"{size_label(rows)} floor run {i + 1}/{repeat}: {run.wall_s:.2f} s, "
            f"{run.peak_rss_mib:.0f} MB"
        )

    eg = Row(rows, METHOD_ETHICSGATE, [])
    report_dir = work / "ethicsgate-report"
    for i in range(repeat):
        (report_dir / "report.json").unlink(missing_ok=True)
        run = measure(
            ethicsgate_command(spec, report_dir),
            log_path=work / "ethicsgate.log",
            ok_codes=(0, 1),
            env=clean_env(),
        )
        eg.runs.append(run)
        log(
            f"{size_label(rows)} ethicsgate run {i + 1}/{repeat}: {run.wall_s:.2f} s, "
            f"{run.peak_rss_mib:.0f} MB, exit {run.returncode}"
        )
    report_groups = load_report_groups(report_dir / "report.json")
    exit_codes = sorted({r.returncode for r in eg.runs})
    outcome = "pass" if exit_codes == [0] else "fail: the selection-rate ratio does not hold"
    notes.append(
        f"{rows:,} rows: the audit exited {'/'.join(map(str, exit_codes))} ({outcome}); "
        f"{len(report_groups)} groups reported."
    )

    oracles: list[OracleResult] = []
    log(f"{size_label(rows)} oracle: {ORACLE_COUNTS}")
    counts = exact_counts(data)
    oracles.append(
        compare(
            report_groups,
            {
                k: {"count": sum(c.values()), "metrics": metrics_from_counts(c)}
                for k, c in counts.items()
            },
            ORACLE_COUNTS,
        )
    )

    result_rows = [floor, eg]
    if run_raw:
        log(f"{size_label(rows)} fairlearn on raw rows: running (1e7 rows: minutes and several GB)")
        out = work / "fairlearn-raw.json"
        run = measure(
            child_command("fairlearn-raw", data, out), log_path=work / "fairlearn-raw.log"
        )
        run.detail = json.loads(out.read_text(encoding="utf-8"))
        log(
            f"{size_label(rows)} fairlearn raw: {run.wall_s:.2f} s, {run.peak_rss_mib:.0f} MB "
            f"({', '.join(f'{k} {v:.1f} s' for k, v in run.detail['timings_s'].items())})"
        )
        result_rows.append(Row(rows, METHOD_RAW, [run]))
        timings = run.detail["timings_s"]
        notes.append(
            f"{rows:,} rows, fairlearn on raw rows: imports {timings['imports']:.1f} s, "
            f"`read_parquet` {timings['read_parquet']:.1f} s, `MetricFrame` "
            f"{timings['metric_frame']:.1f} s."
        )
        raw_groups = {tuple(g["group"][f] for f in FEATURES): g for g in run.detail["groups"]}
        oracles.append(compare(report_groups, raw_groups, ORACLE_RAW))
    for o in oracles:
        status = "OK" if not o.problems else f"{len(o.problems)} PROBLEM(S)"
        log(
            f"{size_label(rows)} oracle vs {o.oracle}: {status}; {o.groups} groups, "
            f"{o.values} values, {o.identical} bit-identical, max |diff| {o.max_abs_diff:.3g}"
        )
    return result_rows, oracles, notes


def measure_imports(repeat: int) -> Row:
    """Measure Python start-up plus the imports an audit needs, doing nothing else."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    row = Row(0, "imports only", [])
    for _ in range(repeat):
        row.runs.append(
            measure([sys.executable, "-c", IMPORTS_ONLY], log_path=DATA_DIR / "imports.log")
        )
    return row


def oracle_summary(checks: list[tuple[int, OracleResult]], skipped_raw: list[int]) -> list[str]:
    """Return sentences saying how ethicsgate's report compared with each oracle."""
    lines: list[str] = []
    names = dict.fromkeys(o.oracle for _, o in checks)
    for oracle in sorted(names, key=lambda name: name != ORACLE_RAW):
        mine = [(rows, o) for rows, o in checks if o.oracle == oracle]
        sizes = " and ".join(f"{rows:,}" for rows, _ in mine)
        bad = [(rows, o) for rows, o in mine if o.problems]
        if bad:
            lines.append(
                f"ethicsgate DIFFERED from {oracle} at "
                + ", ".join(f"{rows:,} rows ({len(o.problems)} problems)" for rows, o in bad)
                + "."
            )
            continue
        values = sum(o.values for _, o in mine)
        identical = sum(o.identical for _, o in mine)
        worst = max(o.max_abs_diff for _, o in mine)
        groups = "/".join(sorted({str(o.groups) for _, o in mine}))
        exact = (
            "all of them bit-identical"
            if identical == values
            else f"{identical} bit-identical, max |difference| {worst:.3g}"
        )
        lines.append(
            f"At {sizes} rows, the group counts and metrics in ethicsgate's report.json "
            f"matched {oracle} for all {groups} groups: counts exactly and {values} metric "
            f"values within {TOLERANCE:g}, {exact}."
        )
    if skipped_raw:
        sizes = " and ".join(f"{rows:,}" for rows in skipped_raw)
        lines.append(f"fairlearn on raw rows was skipped at {sizes} rows (--skip-raw-above).")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark ethicsgate's fairness audit against fairlearn on raw rows.",
    )
    parser.add_argument(
        "--sizes", default="1e6,1e7", help="comma-separated row counts [default: 1e6,1e7]"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of ethicsgate and of the DuckDB floor per size (median "
        "reported); fairlearn on raw rows runs once [default: 3]",
    )
    parser.add_argument(
        "--skip-raw-above",
        type=parse_size,
        default=None,
        metavar="N",
        help="skip fairlearn on raw rows for sizes above N rows [default: never]",
    )
    parser.add_argument(
        "--regenerate", action="store_true", help="rewrite the data files even if they exist"
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="print the table but leave docs/benchmarks.md alone"
    )
    parser.add_argument("--child", choices=["fairlearn-raw", "duckdb-scan"], help=argparse.SUPPRESS)
    parser.add_argument("--child-data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "fairlearn-raw":
        child_fairlearn_raw(args.child_data, args.child_out)
        return 0
    if args.child == "duckdb-scan":
        child_duckdb_scan(args.child_data, args.child_out)
        return 0

    sizes = [parse_size(s.strip()) for s in args.sizes.split(",") if s.strip()]
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    info = fairness_machine_info()
    log(f"machine: {machine_line(info)}")
    imports = measure_imports(args.repeat)
    log(f"imports only: {imports.wall_s:.2f} s, {imports.peak_rss_mib:.0f} MB")
    all_rows: list[Row] = []
    checks: list[tuple[int, OracleResult]] = []
    skipped_raw: list[int] = []
    notes: list[str] = []
    failures: list[str] = []
    for rows in sizes:
        run_raw = args.skip_raw_above is None or rows <= args.skip_raw_above
        result_rows, oracles, size_notes = benchmark_size(
            rows, repeat=args.repeat, run_raw=run_raw, regenerate=args.regenerate
        )
        all_rows.extend(result_rows)
        notes.extend(size_notes)
        for o in oracles:
            checks.append((rows, o))
            failures.extend(f"{rows:,} rows vs {o.oracle}: {p}" for p in o.problems)
        if not run_raw:
            skipped_raw.append(rows)
    notes.append(
        f"Python start-up plus `{IMPORTS_ONLY}` alone, measured the same way: "
        f"{imports.wall_s:.2f} s and {imports.peak_rss_mib:.0f} MB, most of ethicsgate's "
        "fixed cost."
    )
    oracle_lines = oracle_summary(checks, skipped_raw)

    table = table_markdown(all_rows)
    print("\n" + table + "\n", flush=True)
    results = DATA_DIR / "bench_fairness-results.json"
    results.write_text(
        json.dumps(
            {
                "machine": info,
                "rows": [
                    {
                        "rows": r.rows,
                        "method": r.method,
                        "runs": [
                            {
                                "wall_s": x.wall_s,
                                "peak_rss_mib": x.peak_rss_mib,
                                "returncode": x.returncode,
                            }
                            for x in r.runs
                        ],
                    }
                    for r in all_rows
                ],
                "oracle": oracle_lines,
                "failures": failures,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    log(f"raw results: {results.relative_to(ROOT)}")
    if failures:
        print("ORACLE CHECK FAILED: ethicsgate disagrees with the oracle:", file=sys.stderr)
        for line in failures[:50]:
            print("  " + line, file=sys.stderr)
        return 1
    for line in oracle_lines:
        log(line)

    if not args.no_docs:
        command_args = [".venv/bin/python", "benchmarks/bench_fairness.py"]
        if args.sizes != "1e6,1e7":
            command_args += ["--sizes", args.sizes]
        if args.repeat != 3:
            command_args += ["--repeat", str(args.repeat)]
        if args.skip_raw_above is not None:
            command_args += ["--skip-raw-above", str(args.skip_raw_above)]
        section = section_markdown(
            command=shlex.join(command_args),
            info=info,
            table=table,
            notes=notes,
            oracle=oracle_lines,
        )
        update_doc(section)
        log(f"docs: updated {DOC_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
