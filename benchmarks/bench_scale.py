"""Benchmark LL144 fairness audits at scale: time and peak memory up to 3e8 rows.

For each size (default 1e6, 1e7, 1e8 and 3e8 rows) the script writes a synthetic applicant log
as Parquet with DuckDB (``COPY (SELECT ... FROM range(n))``, streamed, never in Python memory;
git-ignored under ``benchmarks/data/``) with three sensitive features (sex with 2 % missing,
seven EEO race/ethnicity categories plus 5 % "Unknown", four age bands), a continuous score,
the tool's selection and the hiring outcome. It then measures, each in a fresh child process
(wall time around it, peak RSS from ``os.wait4``):

* **selection audit**: ``ethicsgate audit`` (CLI, end to end) of one rule with the LL144
  selection-rate tables over sex, race, age band and their intersection, ``unknown_values``,
  ``exclude_below_share: 0.02``, selection rate / TPR / FPR per intersectional group, 1,000
  bootstrap resamples, a test per comparison and the four-fifths assertion with
  ``significant_at``; reads 5 columns;
* **scoring audit**: the same with the LL144 *scoring* rate (exact full-sample median) and ROC
  AUC + calibration per intersectional group; reads 5 columns (score instead of selection);
* **DuckDB floor**: ``SELECT count(*), sum(hash(<the same 5 columns>))``, a bare scan that
  decodes what the audit reads and nothing else;
* **imports alone** (once, before the sizes): a fresh process that imports what every audit
  must import (the CLI, the audit runner, the report writers and fairlearn's metrics, which
  compute the group metrics on the audit path) and does nothing else: the floor of the
  audit's fixed cost, set against 2× the bare scan at each size;
* **fairlearn on raw rows** (at ``--raw-sizes``, default 1e7, the largest size whose raw rows
  fit in this machine's memory): pandas reads the rows and ``MetricFrame`` computes the three
  metrics over the intersectional groups.

Oracles (at every size up to ``--oracle-max``): the LL144 tables in report.json must equal
exact DuckDB ``GROUP BY`` counts (selection), and, for scoring, the median must equal
DuckDB's ``median(score)`` and the above-median counts a ``GROUP BY score > median``; where
fairlearn ran, the group metrics must equal its raw-row results to 1e-12. A mismatch stops the
run before the docs are touched. At the largest size a profiling child times each phase of
the audit in-process (imports, score passes, grouped scan, evaluation, evidence digest,
report).

Results go to ``benchmarks/data/bench_scale-results.json`` and to ``docs/benchmarks.md``
between ``<!-- bench_scale:start -->`` and ``<!-- bench_scale:end -->``. Run from the
repository root (about 15 minutes, 5 GB of disk)::

    .venv/bin/python benchmarks/bench_scale.py
    .venv/bin/python benchmarks/bench_scale.py --sizes 1e6 --raw-sizes 1e6 --repeat 1 --no-docs
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402  (benchmarks/ is not a package)
    DOC_PATH,
    ROOT,
    ethicsgate_command,
    log,
    machine_info,
    update_doc_section,
    warm_cache,
)
from _common import parse_count as parse_size  # noqa: E402

DATA_DIR = ROOT / "benchmarks" / "data"
RESULTS = DATA_DIR / "bench_scale-results.json"
START = "<!-- bench_scale:start -->"
END = "<!-- bench_scale:end -->"
GENERATOR_VERSION = "1"
SALT = 144_2023
FEATURES = ("sex", "race", "age_band")
CONFIG_COLUMNS = {
    "selection": (*FEATURES, "selected", "hired"),
    "scoring": (*FEATURES, "score", "hired"),
}
RAW_METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate")
RSS_LIMIT_MIB = 2048
#: Issue #16's end-to-end goals, × the floor, by (config, rows); 2× where none is set.
GOALS = {
    ("selection", 100_000_000): 2.0,
    ("selection", 300_000_000): 1.6,
    ("scoring", 100_000_000): 2.5,
}
TOLERANCE = 1e-12

POLICY = """\
schema_version: 1
id: bench-scale-{config}
version: "1"
title: LL144 {config} audit at scale (benchmarks/bench_scale.py)
owner: benchmarks
references:
  - id: rcny-5-301
    title: 6 RCNY 5-301 Bias Audit (NYC Local Law 144)
rules:
  - id: ll144-{config}
    kind: fairness
    dataset: applicants
    severity: block
    references: [rcny-5-301]
    sensitive_features: [sex, race, age_band]
    impact_ratio: {config}
    unknown_values: [Unknown]
    exclude_below_share: 0.02
    min_group_size: 30
{extra}    uncertainty: {{bootstrap_samples: 1000, seed: 1}}
    assert:
      - {{metric: impact_ratio, op: ">=", value: 0.8, significant_at: 0.05}}
"""
EXTRA = {
    "selection": "    metrics: [selection_rate, true_positive_rate, false_positive_rate]\n",
    "scoring": "    score_metrics: [roc_auc, calibration]\n",
}
AUDIT = """\
schema_version: 1
id: bench-scale-{config}-{label}
title: Synthetic applicants, {rows:,} rows (benchmarks/bench_scale.py)
policy: bench-scale-{config}.yaml
evidence:
  applicants:
    path: {data}
    columns:
      label: hired
      prediction: selected
"""


def size_label(rows: int) -> str:
    """Return '1e8' for 100,000,000 and '3e8' for 300,000,000."""
    exponent = int(math.floor(math.log10(rows)))
    mantissa = rows / 10**exponent
    if mantissa == int(mantissa):
        return f"{int(mantissa)}e{exponent}" if mantissa != 1 else f"1e{exponent}"
    return str(rows)


# -- data ---------------------------------------------------------------------------------------


def _u(k: int) -> str:
    """A uniform [0, 1) number per row, from DuckDB's hash (parallel-safe and reproducible)."""
    return f"(hash(i * 16 + {k} + {SALT})::DOUBLE / 18446744073709551616.0)"


def generation_sql(rows: int, path: Path) -> str:
    """Return the COPY statement that writes ``rows`` synthetic applicants to ``path``."""
    return f"""
COPY (
  SELECT sex, race, age_band, score,
         CAST(score >= 0.62 AS TINYINT) AS selected,
         CAST(u5 < 0.15 + 0.6 * score AS TINYINT) AS hired
  FROM (
    SELECT *,
      round(least(1.0, greatest(0.0, 0.5 + 0.22 * (u4 + u6 - 1.0) * 1.7
        + CASE race WHEN 'White' THEN 0.04 WHEN 'Asian' THEN 0.02
                    WHEN 'Black or African American' THEN -0.03 ELSE 0 END
        + CASE sex WHEN 'Male' THEN 0.02 ELSE 0 END
        + CASE age_band WHEN '55+' THEN -0.04 ELSE 0 END)), 6) AS score
    FROM (
      SELECT i, u4, u5, u6,
        CASE WHEN u1 < 0.02 THEN NULL WHEN u1 < 0.51 THEN 'Female' ELSE 'Male' END AS sex,
        CASE WHEN u2 < 0.05 THEN 'Unknown'
             WHEN u2 < 0.23 THEN 'Hispanic or Latino'
             WHEN u2 < 0.61 THEN 'White'
             WHEN u2 < 0.78 THEN 'Black or African American'
             WHEN u2 < 0.79 THEN 'Native Hawaiian or Pacific Islander'
             WHEN u2 < 0.94 THEN 'Asian'
             WHEN u2 < 0.955 THEN 'Native American or Alaska Native'
             ELSE 'Two or More Races' END AS race,
        CASE WHEN u3 < 0.2 THEN '18-29' WHEN u3 < 0.55 THEN '30-41'
             WHEN u3 < 0.85 THEN '42-54' ELSE '55+' END AS age_band
      FROM (SELECT i, {_u(1)} AS u1, {_u(2)} AS u2, {_u(3)} AS u3, {_u(4)} AS u4,
                   {_u(5)} AS u5, {_u(6)} AS u6 FROM range({rows}) t(i))
    )
  )
) TO '{path}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1000000,
               KV_METADATA {{generator: '{GENERATOR_VERSION}', rows: '{rows}', salt: '{SALT}'}})
"""


def data_path(rows: int) -> Path:
    """Return the Parquet file of ``rows`` rows."""
    return DATA_DIR / f"scale_{size_label(rows)}.parquet"


def ensure_data(rows: int, *, regenerate: bool) -> Path:
    """Write the data in a child process (the parent stays small: children start as its copy).

    ``os.wait4``'s ``ru_maxrss`` of a child counts the pages it shares with the parent at
    fork, so the parent must never hold DuckDB's working memory (a ``median()`` over 10^8
    rows is 1.7 GB), or every later child would appear to use that much.
    """
    result = subprocess.run(
        child("generate", str(rows), "1" if regenerate else "0"), cwd=ROOT, check=False
    )
    if result.returncode:
        raise SystemExit(f"generating {rows:,} rows failed")
    return data_path(rows)


def child_generate(rows_text: str, regenerate_text: str) -> None:
    """Child: write the synthetic file for ``rows`` rows unless an identical one exists."""
    import duckdb

    rows, regenerate = int(rows_text), regenerate_text == "1"

    path = data_path(rows)
    if path.is_file() and not regenerate:
        try:
            meta = {
                bytes(k).decode(): bytes(v).decode()
                for k, v in duckdb.sql(
                    f"SELECT key, value FROM parquet_kv_metadata('{path}')"
                ).fetchall()
            }
        except duckdb.Error:
            meta = {}
        wanted = {"generator": GENERATOR_VERSION, "rows": str(rows), "salt": str(SALT)}
        if all(meta.get(k) == v for k, v in wanted.items()):
            log(f"data: reusing {path.relative_to(ROOT)} ({path.stat().st_size / 2**20:,.0f} MiB)")
            return
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    log(f"data: generating {rows:,} rows -> {path.relative_to(ROOT)}")
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(generation_sql(rows, tmp))
    con.close()
    os.replace(tmp, path)
    log(
        f"data: wrote {path.stat().st_size / 2**20:,.0f} MiB in "
        f"{time.perf_counter() - started:.1f} s"
    )


def write_specs(rows: int, data: Path) -> dict[str, Path]:
    """Write both policies and both audit specs of one size; return the specs by config."""
    specs = {}
    for config in CONFIG_COLUMNS:
        policy = DATA_DIR / f"bench-scale-{config}.yaml"
        policy.write_text(POLICY.format(config=config, extra=EXTRA[config]), encoding="utf-8")
        label = size_label(rows)
        spec = DATA_DIR / f"bench-scale-{config}-{label}.yaml"
        spec.write_text(
            AUDIT.format(config=config, label=label, rows=rows, data=data.name), encoding="utf-8"
        )
        specs[config] = spec
    return specs


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One measured child process."""

    wall_s: float
    peak_rss_mib: float
    returncode: int
    idle: float = float("nan")  # share of idle CPU just before the run


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)  # idle + iowait, total


MAX_IDLE_WAIT_S = 180.0


def wait_idle(*, idle: float = 0.9, max_wait_s: float | None = None) -> float:
    """Wait until the machine is idle (other users' jobs distort timings); return idle share.

    Samples /proc/stat over one-second windows until two in a row are at least ``idle`` idle,
    or ``max_wait_s`` passes (then the measurement goes ahead and the share is recorded).
    """
    if not Path("/proc/stat").is_file():
        return float("nan")
    deadline = time.monotonic() + (MAX_IDLE_WAIT_S if max_wait_s is None else max_wait_s)
    calm = 0
    share = 0.0
    while time.monotonic() < deadline:
        idle0, total0 = _cpu_times()
        time.sleep(1.0)
        idle1, total1 = _cpu_times()
        share = (idle1 - idle0) / max(total1 - total0, 1)
        calm = calm + 1 if share >= idle else 0
        if calm >= 2:
            break
    return share


def measure(command: list[str], *, log_path: Path, ok_codes: tuple[int, ...] = (0,)) -> Run:
    """Run ``command`` in a fresh child, on an idle machine; return wall time and peak RSS."""
    idle = wait_idle()
    if idle < 0.9:
        log(f"warning: the machine is busy ({idle:.0%} idle); timing anyway")
    with log_path.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code not in ok_codes:
        tail = log_path.read_text(errors="replace")[-4000:]
        raise SystemExit(f"command failed ({code}): {shlex.join(command)}\n{tail}")
    return Run(wall_s=wall, peak_rss_mib=usage.ru_maxrss / 1024, returncode=code, idle=idle)


def child(kind: str, *args: str) -> list[str]:
    """Return the command of one of this script's child measurements."""
    return [sys.executable, str(Path(__file__).resolve()), "--child", kind, *args]


def child_floor(data: str, columns: str) -> None:
    """Child: the bare DuckDB scan of the columns an audit reads."""
    import duckdb

    con = duckdb.connect()
    row = con.sql(f"SELECT count(*), sum(hash({columns})) FROM read_parquet('{data}')").fetchall()[
        0
    ]
    print(row)


#: What every fairness audit process must import before it can report: the CLI, the audit
#: runner, the report writers (duckdb, pandas, pydantic, jinja2) and the fairness rules. Not
#: fairlearn (issue #16: the metrics come from the counts) and not scipy (the p-values and the
#: AUC interval's quantile come from the standard library; scipy only for Fisher's exact test).
AUDIT_IMPORTS = (
    "ethicsgate.cli.audit",
    "ethicsgate.audit.run",
    "ethicsgate.report",
    "ethicsgate.rules.fairness",
)


def child_imports() -> None:
    """Child: import what an audit must import, and nothing else (its fixed cost's floor)."""
    import importlib

    for name in AUDIT_IMPORTS:
        importlib.import_module(name)


def child_fairlearn(data: str, out: str) -> None:
    """Child: pandas reads the raw rows, fairlearn's MetricFrame computes three metrics."""
    t0 = time.perf_counter()
    import warnings

    import pandas as pd
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    t1 = time.perf_counter()
    frame = pd.read_parquet(data, columns=[*FEATURES, "selected", "hired"])
    for feature in FEATURES:  # fairlearn cannot group by a missing value
        frame[feature] = frame[feature].astype(object).where(frame[feature].notna(), "(missing)")
    t2 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "true_positive_rate": true_positive_rate,
                "false_positive_rate": false_positive_rate,
            },
            y_true=frame["hired"],
            y_pred=frame["selected"],
            sensitive_features=frame[list(FEATURES)],
        )
        by_group = mf.by_group
    t3 = time.perf_counter()
    groups = {
        "|".join(map(str, key)): {m: float(row[m]) for m in RAW_METRICS}
        for key, row in by_group.iterrows()
        if not row.isna().all()
    }
    Path(out).write_text(
        json.dumps(
            {
                "groups": groups,
                "timings_s": {"imports": t1 - t0, "read": t2 - t1, "metric_frame": t3 - t2},
            }
        )
    )


def child_profile(spec: str, out: str) -> None:
    """Child: run one audit in-process and time each phase."""
    t0 = time.perf_counter()
    import ethicsgate.audit.run as run_module
    import ethicsgate.engines.duckdb.dataset as reader
    from ethicsgate.report import write_report
    from ethicsgate.rules.fairness import FairnessKind

    t_import = time.perf_counter() - t0
    timings: dict[str, float] = {}

    def timed(owner: Any, name: str, key: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timings[key] = timings.get(key, 0.0) + time.perf_counter() - start

        setattr(owner, name, wrapper)

    timed(reader.DuckDBDataset, "score_profile", "score profile pass")
    # the median's bracket narrowing (extra passes only when the profile's buckets leave too
    # many rows in the bracket); the exact median itself comes from the grouped scan
    timed(reader.DuckDBDataset, "score_median_buckets", "median bracket narrowing passes")
    timed(reader.DuckDBDataset, "grouped_counts", "grouped scan")
    timed(reader.DuckDBDataset, "digests", "waiting for the evidence sha256")
    timed(FairnessKind, "evaluate", "evaluation (metrics, LL144, bootstrap, tests, scores)")
    started = time.perf_counter()
    result = run_module.run_audit(spec)
    audit_s = time.perf_counter() - started
    started = time.perf_counter()
    write_report(result, Path(out).parent / "profile-report")
    timings["writing the three reports"] = time.perf_counter() - started
    import hashlib

    data = Path(result.audit.evidence[0].files[0].path)
    started = time.perf_counter()
    digest = hashlib.sha256()
    with (ROOT / data if not data.is_absolute() else data).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    sha_alone = time.perf_counter() - started
    Path(out).write_text(
        json.dumps(
            {
                "imports (ethicsgate, duckdb, pandas, pydantic)": t_import,
                "run_audit": audit_s,
                **timings,
                "sha256 of the file alone (for comparison)": sha_alone,
            }
        )
    )


def child_scan(spec: str, columns: str, repeat: str, out: str) -> None:
    """Child: the audit's evidence scans against the bare scan, in one process, alternating.

    fairlearn is imported first, so the scans compete with neither that import nor the
    evidence sha256 (both of which the end-to-end runs include): this isolates what the
    engine's SQL costs against decoding the same columns.
    """
    import duckdb
    import fairlearn.metrics  # noqa: F401  (see the docstring)

    from ethicsgate.audit.spec import load_audit_spec
    from ethicsgate.engines.duckdb import DuckDBEngine
    from ethicsgate.errors import Location
    from ethicsgate.policy.models import FairnessRule
    from ethicsgate.rules.fairness_scan import scan_fairness_evidence

    audit = load_audit_spec(spec)
    name, evidence_spec = next(iter(audit.spec.evidence.items()))

    def open_evidence(engine: DuckDBEngine) -> Any:
        return engine.open(
            name, evidence_spec, base_dir=audit.base_dir, locate=lambda _: Location(spec)
        )

    evidence = open_evidence(DuckDBEngine())
    rules = [r for r in audit.policy.pack.rules if isinstance(r, FairnessRule)]
    floor_sql = f"SELECT count(*), sum(hash({columns})) FROM {evidence.source_sql()}"
    floor, scans = [], []
    for _ in range(int(repeat)):
        con = duckdb.connect()
        started = time.perf_counter()
        con.sql(floor_sql).fetchall()
        floor.append(time.perf_counter() - started)
        con.close()
        engine = DuckDBEngine()
        started = time.perf_counter()
        scan_fairness_evidence(open_evidence(engine), rules)
        scans.append(time.perf_counter() - started)
        engine.close()
    Path(out).write_text(json.dumps({"floor_s": floor, "scan_s": scans}))


# -- oracles ------------------------------------------------------------------------------------


def oracle(config: str, run_dir: Path, data: Path) -> str:
    """Run an oracle check in a child process (see :func:`ensure_data`); return its summary."""
    report = run_dir / f"report-{config}" / "report.json"
    result = subprocess.run(
        child("oracle", config, str(report), str(data)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"oracle check failed ({config}):\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def child_oracle(config: str, report_path: str, data: str) -> None:
    """Child: compare a report with exact DuckDB results; print the summary."""
    report = json.loads(Path(report_path).read_text())
    check = check_selection if config == "selection" else check_scoring
    print(check(report, Path(data)))


def _exact_table(table: dict[str, Any], data: Path, selected: str) -> int:
    """Check one LL144 table against DuckDB's exact counts; return its number of categories.

    ``selected`` is the SQL that counts a person as selected (or scoring above the median);
    people in an unknown category (NULL or 'Unknown') are left out, as the tables leave them.
    """
    import duckdb

    cols = table["features"]
    known = " AND ".join(f"{c} IS NOT NULL AND {c} <> 'Unknown'" for c in cols)
    rows = duckdb.sql(
        f"SELECT {', '.join(cols)}, count(*), count(*) FILTER (WHERE {selected}) "
        f"FROM read_parquet('{data}') WHERE {known} GROUP BY ALL"
    ).fetchall()
    exact = {tuple(r[: len(cols)]): (int(r[-2]), int(r[-1])) for r in rows}
    ours = {
        tuple(row["category"][c] for c in cols): (row["applicants"], row["selected"])
        for row in table["rows"]
    }
    if exact != ours:
        raise SystemExit(f"LL144 table {cols} differs from exact DuckDB counts ({selected})")
    return len(exact)


def check_selection(report: dict[str, Any], data: Path) -> str:
    """Compare the LL144 selection tables with exact DuckDB counts; return a summary."""
    tables = report["rules"][0]["impact_ratio"]["tables"]
    compared = sum(_exact_table(table, data, "selected = 1") for table in tables)
    return f"{compared} categories in {len(tables)} tables"


def check_scoring(report: dict[str, Any], data: Path) -> str:
    """Compare the scoring median and above-median counts with DuckDB; return a summary."""
    import duckdb

    rule = report["rules"][0]
    median = duckdb.sql(f"SELECT median(score) FROM read_parquet('{data}')").fetchall()[0][0]
    if rule["impact_ratio"]["median_score"] != median:
        raise SystemExit(f"median {rule['impact_ratio']['median_score']} != DuckDB {median}")
    compared = _exact_table(rule["impact_ratio"]["tables"][-1], data, f"score > {median!r}")
    return f"median {median!r} equal to DuckDB's; {compared} intersectional categories"


def check_fairlearn(report: dict[str, Any], raw: dict[str, Any]) -> str:
    """Compare the report's group metrics with fairlearn on raw rows; return a summary."""
    groups = {
        "|".join("(missing)" if g["group"][f] is None else g["group"][f] for f in FEATURES): g
        for g in report["rules"][0]["groups"]
    }
    worst = 0.0
    values = 0
    for key, expected in raw["groups"].items():
        mine = groups[key]["metrics"]
        for metric, value in expected.items():
            got = mine[metric]
            if got is None or abs(got - value) > TOLERANCE:
                raise SystemExit(f"{key} {metric}: ethicsgate {got} != fairlearn {value}")
            worst = max(worst, abs(got - value))
            values += 1
    return f"{values} metric values of {len(raw['groups'])} groups, max |difference| {worst:g}"


# -- docs ---------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """Describe the machine and the library versions."""
    return machine_info(
        ("duckdb", "fairlearn", "pandas", "numpy", "scipy", "pyarrow"),
        missing="-",
        cpu_default="unknown",
    )


def render_doc(results: dict[str, Any]) -> str:
    """Return the docs section."""
    m = results["machine"]
    lines = [
        START,
        "## LL144 audits at scale: time and memory up to "
        f"{max(r['rows'] for r in results['sizes']):,} rows",
        "",
        "Generated by `benchmarks/bench_scale.py`; do not edit by hand between the markers.",
        "",
        "A synthetic applicant log (sex with 2 % missing, seven EEO race/ethnicity categories "
        "plus 5 % `Unknown`, four age bands: 70 intersectional categories; a continuous score "
        "with about 10^6 distinct values; the selection; the hiring outcome) is written as "
        "Parquet by DuckDB. Two policies are audited through the CLI, end to end (Python "
        "start-up, imports, evidence scans, sha256 of the evidence, evaluation, writing "
        "report.json/.html/.md): **selection** — LL144 selection-rate tables for each feature "
        "and the intersection, unknown categories, 2 % exclusion, selection rate/TPR/FPR per "
        "intersectional group, 1,000 bootstrap resamples, a test per comparison and the "
        "four-fifths assertion with `significant_at: 0.05`; **scoring** — the same with the "
        "LL144 scoring rate (exact full-sample median) and ROC AUC + calibration per group. "
        "The floor is a bare DuckDB scan of the same five columns (`SELECT count(*), "
        "sum(hash(...))`). Every measurement is a fresh child process (peak RSS = its "
        "`ru_maxrss`, MiB); the data file is in the page cache; medians of the runs.",
        "",
        "Reproduce: `.venv/bin/python benchmarks/bench_scale.py`",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, {m['os']}; Python "
        f"{m['python']}, duckdb {m['duckdb']}, fairlearn {m['fairlearn']}, pandas "
        f"{m['pandas']}, numpy {m['numpy']}, scipy {m['scipy']}. Measured {results['date']}."
        + (f" {results['note']}" if results.get("note") else ""),
        "",
        "| rows | file MiB | method | runs | wall s | peak RSS MiB | × floor | CPU idle before |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in results["sizes"]:
        for entry in size["methods"]:
            runs = entry["runs"]
            wall = statistics.median(r["wall_s"] for r in runs)
            rss = max(r["peak_rss_mib"] for r in runs)
            floor = entry.get("floor_s")
            ratio = f"{wall / floor:.2f}×" if floor else "—"
            idle = min(r.get("idle", float("nan")) for r in runs)
            lines.append(
                f"| {size['rows']:,} | {size['file_mib']:,.0f} | {entry['method']} | "
                f"{len(runs)} | {wall:.2f} | {rss:,.0f} | {ratio} | {idle:.0%} |"
            )
    if results.get("scans"):
        lines += [
            "",
            "**The scans alone**, in one process that imported fairlearn first: every pass the "
            "audit makes over the evidence (`scan_fairness_evidence`: for scoring the score "
            "profile, the exact-median passes and the grouped scan; for selection the grouped "
            "scan) against the bare scan, alternating, medians. Neither the imports nor the "
            "evidence sha256 compete with them here, unlike end to end.",
            "",
            "| rows | audit | runs | bare scan s | audit's scans s | × bare scan |",
            "| ---: | --- | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {e['rows']:,} | {e['config']} | {e['runs']} | {e['floor_s']:.2f} | "
            f"{e['scan_s']:.2f} | {e['scan_s'] / e['floor_s']:.2f}× |"
            for e in results["scans"]
        ]
    lines += ["", "**Bounds.**"]
    lines += [f"- {line}" for line in results["bounds"]]
    lines += ["", "**Oracle checks.**"]
    lines += [f"- {line}" for line in results["oracles"]]
    if results.get("profile"):
        size, config, phases = results["profile"]
        lines += [
            "",
            f"**Where the time goes** ({config} audit, {size:,} rows, one in-process run; "
            "the evidence sha256 runs in a thread during the scans, so its own time and the "
            "time the audit waited for it are both shown):",
            "",
            "| phase | s |",
            "| --- | ---: |",
        ]
        lines += [f"| {name} | {seconds:.2f} |" for name, seconds in phases.items()]
    if results.get("findings"):
        lines += ["", "**Reading the numbers.**"]
        lines += [f"- {line}" for line in results["findings"]]
    lines.append(END)
    return "\n".join(lines) + "\n"


def update_doc(section: str) -> None:
    """Replace this benchmark's section in docs/benchmarks.md, or add it; keep the rest."""
    update_doc_section(section, START, END)


# -- main ---------------------------------------------------------------------------------------


def run_size(rows: int, args: argparse.Namespace, results: dict[str, Any]) -> None:
    """Measure every method at one size; check the oracles."""
    data = ensure_data(rows, regenerate=args.regenerate)
    specs = write_specs(rows, data)
    warm_cache(data)
    run_dir = DATA_DIR / f"scale-run-{size_label(rows)}"
    run_dir.mkdir(parents=True, exist_ok=True)
    size: dict[str, Any] = {
        "rows": rows,
        "file_mib": data.stat().st_size / 2**20,
        "methods": [],
    }
    reports: dict[str, dict[str, Any]] = {}
    for config, columns in CONFIG_COLUMNS.items():
        floor_runs = []
        for index in range(args.repeat):
            floor_runs.append(
                measure(
                    child("floor", str(data), ", ".join(columns)),
                    log_path=run_dir / f"floor-{config}-{index}.log",
                )
            )
        floor = statistics.median(r.wall_s for r in floor_runs)
        size["methods"].append(
            {
                "method": f"DuckDB floor: scan of the {config} audit's 5 columns",
                "runs": [asdict(r) for r in floor_runs],
            }
        )
        audit_runs = []
        for index in range(args.repeat):
            out = run_dir / f"report-{config}"
            audit_runs.append(
                measure(
                    ethicsgate_command(specs[config], out),
                    log_path=run_dir / f"ethicsgate-{config}-{index}.log",
                    ok_codes=(0, 1),
                )
            )
        reports[config] = json.loads((run_dir / f"report-{config}" / "report.json").read_text())
        size["methods"].append(
            {
                "method": f"ethicsgate {config} audit (CLI, end to end)",
                "runs": [asdict(r) for r in audit_runs],
                "floor_s": floor,
            }
        )
        wall = statistics.median(r.wall_s for r in audit_runs)
        rss = max(r.peak_rss_mib for r in audit_runs)
        log(
            f"{rows:,} rows, {config}: floor {floor:.2f} s; ethicsgate {wall:.2f} s "
            f"({wall / floor:.2f}x), peak RSS {rss:,.0f} MiB"
        )
        goal = GOALS.get((config, rows), 2.0)
        results["bounds"].append(
            f"{rows:,} rows, {config}, end to end: {wall:.2f} s = {wall / floor:.2f}× the floor "
            f"({'within' if wall <= goal * floor else 'over'} {goal:g}×); peak RSS {rss:,.0f} MiB "
            f"({'under' if rss < RSS_LIMIT_MIB else 'over'} {RSS_LIMIT_MIB:,} MiB)"
        )
        out = run_dir / f"scan-{config}.json"
        measure(
            child("scan", str(specs[config]), ", ".join(columns), str(args.repeat), str(out)),
            log_path=out.with_suffix(".log"),
        )
        scan = json.loads(out.read_text())
        scan_floor, scan_s = statistics.median(scan["floor_s"]), statistics.median(scan["scan_s"])
        results["scans"].append(
            {
                "rows": rows,
                "config": config,
                "floor_s": scan_floor,
                "scan_s": scan_s,
                "runs": len(scan["scan_s"]),
            }
        )
        log(f"{rows:,} rows, {config}: scans {scan_s:.2f} s vs bare scan {scan_floor:.2f} s")
        results["bounds"].append(
            f"{rows:,} rows, {config}, the audit's evidence scans: {scan_s:.2f} s = "
            f"{scan_s / scan_floor:.2f}× the bare scan in the same process "
            f"({'within' if scan_s <= 2 * scan_floor else 'over'} 2×)"
        )
    if rows <= args.oracle_max:
        results["oracles"].append(
            f"{rows:,} rows, selection: LL144 tables equal exact DuckDB counts "
            f"({oracle('selection', run_dir, data)})"
        )
        results["oracles"].append(f"{rows:,} rows, scoring: {oracle('scoring', run_dir, data)}")
    if rows in args.raw_sizes:
        out = run_dir / "fairlearn-raw.json"
        raw_run = measure(
            child("fairlearn", str(data), str(out)), log_path=run_dir / "fairlearn-raw.log"
        )
        raw = json.loads(out.read_text())
        size["methods"].append(
            {
                "method": "fairlearn MetricFrame on raw rows (3 metrics)",
                "runs": [asdict(raw_run)],
            }
        )
        timings = raw["timings_s"]
        log(
            f"{rows:,} rows, fairlearn raw: {raw_run.wall_s:.1f} s, {raw_run.peak_rss_mib:,.0f} MiB"
        )
        results["oracles"].append(
            f"{rows:,} rows: ethicsgate's group metrics equal fairlearn's on the raw rows "
            f"({check_fairlearn(reports['selection'], raw)}); fairlearn took "
            f"{raw_run.wall_s:.1f} s (imports {timings['imports']:.1f} s, read "
            f"{timings['read']:.1f} s, MetricFrame {timings['metric_frame']:.1f} s) and "
            f"{raw_run.peak_rss_mib:,.0f} MiB"
        )
    results["sizes"].append(size)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    global MAX_IDLE_WAIT_S
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1e6,1e7,1e8,3e8")
    parser.add_argument("--raw-sizes", default="1e7")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--oracle-max", type=parse_size, default=parse_size("1e8"))
    parser.add_argument("--profile-size", default=None, help="default: the largest size")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--note", default="", help="a sentence added to the docs")
    parser.add_argument(
        "--max-idle-wait",
        type=float,
        default=MAX_IDLE_WAIT_S,
        help="seconds to wait for an idle machine before each measurement",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.child:
        children = {
            "floor": child_floor,
            "imports": child_imports,
            "fairlearn": child_fairlearn,
            "profile": child_profile,
            "scan": child_scan,
            "generate": child_generate,
            "oracle": child_oracle,
        }
        children[args.child](*rest)
        return 0
    MAX_IDLE_WAIT_S = args.max_idle_wait
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    args.raw_sizes = {parse_size(s) for s in args.raw_sizes.split(",") if s}
    results: dict[str, Any] = {
        "machine": machine(),
        "date": dt.date.today().isoformat(),
        "note": args.note,
        "sizes": [],
        "bounds": [],
        "oracles": [],
        "scans": [],
    }
    DATA_DIR.mkdir(parents=True, exist_ok=True)  # a fresh clone has no benchmarks/data yet
    import_runs = [
        measure(child("imports"), log_path=DATA_DIR / f"imports-{index}.log")
        for index in range(max(args.repeat, 5))
    ]
    results["imports_s"] = statistics.median(r.wall_s for r in import_runs)
    log(f"imports alone: {results['imports_s']:.2f} s")
    for rows in sizes:
        run_size(rows, args, results)
    profile_rows = parse_size(args.profile_size) if args.profile_size else max(sizes)
    spec = DATA_DIR / f"bench-scale-scoring-{size_label(profile_rows)}.yaml"
    out = DATA_DIR / f"scale-run-{size_label(profile_rows)}" / "profile.json"
    measure(child("profile", str(spec), str(out)), log_path=out.with_suffix(".log"), ok_codes=(0,))
    results["profile"] = [profile_rows, "scoring", json.loads(out.read_text())]
    results["findings"] = findings(results)
    RESULTS.write_text(json.dumps(results, indent=2), encoding="utf-8")
    section = render_doc(results)
    print(section)
    if not args.no_docs:
        update_doc(section)
        log(f"docs: updated {DOC_PATH.relative_to(ROOT)}")
    return 0


def findings(results: dict[str, Any]) -> list[str]:
    """Summarise scaling: fixed cost and cost per 10^8 rows, from the two largest sizes."""
    out = []
    sizes = sorted(results["sizes"], key=lambda s: s["rows"])
    if results.get("imports_s"):
        imports = results["imports_s"]
        floors = {
            size["rows"]: statistics.median(
                r["wall_s"]
                for e in size["methods"]
                if e["method"].startswith("DuckDB floor: scan of the selection")
                for r in e["runs"]
            )
            for size in sizes
        }
        out.append(
            f"a process that only starts Python and imports what every audit must import "
            f"({', '.join(AUDIT_IMPORTS)}) takes {imports:.2f} s, before reading any row; "
            "2× the selection floor is "
            + ", ".join(f"{2 * f:.2f} s at {rows:,} rows" for rows, f in floors.items())
        )
    if len(sizes) < 2:
        return out
    small, large = sizes[-2], sizes[-1]
    for config in CONFIG_COLUMNS:

        def wall(size: dict[str, Any], prefix: str) -> float:
            entry = next(e for e in size["methods"] if e["method"].startswith(prefix))
            return statistics.median(r["wall_s"] for r in entry["runs"])

        rows = large["rows"] - small["rows"]
        audit = wall(large, f"ethicsgate {config}") - wall(small, f"ethicsgate {config}")
        floor = wall(large, f"DuckDB floor: scan of the {config}") - wall(
            small, f"DuckDB floor: scan of the {config}"
        )
        fixed = wall(large, f"ethicsgate {config}") - audit / rows * large["rows"]
        out.append(
            f"{config}: between {small['rows']:,} and {large['rows']:,} rows each further "
            f"10^8 rows cost the audit {audit / rows * 1e8:.2f} s and the floor "
            f"{floor / rows * 1e8:.2f} s ({audit / floor:.2f}× the floor per row); the audit's "
            f"fixed cost (start-up, imports, reports) is about {fixed:.1f} s"
        )
    return out


if __name__ == "__main__":
    sys.exit(main())
