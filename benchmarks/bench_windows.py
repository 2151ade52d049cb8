"""Windowed audits: per-month (per-day) fairness in the same scan, against the plain audit.

Evidence: N decisions over 2026 (one Parquet file written by DuckDB): ``decided_at``
(TIMESTAMP, spread evenly over the year, to the second), ``decided_on`` (its DATE), ``race``
(5 values), ``sex`` (2), ``approved`` (0/1).
One fairness rule: selection-rate ratio >= 0.8 over race x sex (10 groups). Cases, each a
fresh process (wall time and peak RSS of the process tree, ``_common.measure_wrapped``):

- ``ethicsgate audit`` without windows (the baseline);
- ``ethicsgate audit --window month:decided_at`` (12 windows, each judged),
  ``--window week:decided_at`` (53) and ``--window day:decided_at`` (365 windows): the goal
  is at most 1.3x the baseline. The file is written in time order, so most row groups lie
  in one month and take their window from the Parquet footer where that costs less than
  keying every row (``engines/duckdb/rowgroups.py``: one scan branch per month, the time
  column unread; the few row groups that straddle a boundary keyed row by row); weeks and
  days are keyed row by row by the row's date (as every window keyed row by row);
- ``--window 90d:decided_at``: one rolling window, the last 90 days (the latest day from the
  footer; the row groups older than the window one branch keyed by one day, unread);
- ``--window "month:(decided_at)"``: the same months with the column given as an expression,
  which is always keyed row by row (the method before footer windows), for comparison;
- ``--window month:decided_on``: the same months from a DATE column (365 distinct values,
  which Parquet stores in a fraction of the timestamps' bytes);
- floors: DuckDB alone, ``SELECT race, sex, approved, count(*) ... GROUP BY ALL`` and the same
  with the month (``year(t) * 12 + month(t)``) as a fourth key: what reading the counts costs
  at least (no keyed hashing, no report).

Best of ``--repeat`` runs, cases interleaved (the machine is shared). Results go to
``docs/benchmarks.md`` between ``<!-- bench_windows:start -->`` and ``<!-- bench_windows:end -->``.
Run: ``python benchmarks/bench_windows.py [--sizes 1e7] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import ROOT, ethicsgate_command, log, machine_info, update_doc_section

START = "<!-- bench_windows:start -->"
END = "<!-- bench_windows:end -->"
POLICY = """\
schema_version: 1
id: bench-windows
version: "1"
title: Windows benchmark
owner: Benchmarks
rules:
  - id: approval-parity
    kind: fairness
    severity: block
    dataset: d
    sensitive_features: [race, sex]
    metrics: [selection_rate]
    assertions:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}
"""
AUDIT = """\
schema_version: 1
id: bench-windows
policy: policy.yaml
evidence:
  d:
    path: d.parquet
    columns: {prediction: approved}
"""
GENERATE = """
import duckdb, sys
n = int(sys.argv[2])
duckdb.sql("SET threads = 2")
duckdb.sql(f\"\"\"COPY (
  SELECT TIMESTAMP '2026-01-01' + to_seconds(CAST(i * (31536000 / {n}) AS BIGINT)) AS decided_at,
         CAST(TIMESTAMP '2026-01-01' + to_seconds(CAST(i * (31536000 / {n}) AS BIGINT)) AS DATE)
           AS decided_on,
         ['A', 'B', 'C', 'D', 'E'][CAST(hash(i) % 5 AS INTEGER) + 1] AS race,
         CASE WHEN hash(i * 3) % 2 = 0 THEN 'F' ELSE 'M' END AS sex,
         CAST(hash(i * 7) % 100 < 40 + CAST(hash(i) % 5 AS INTEGER) * 2 AS INTEGER) AS approved
  FROM range({n}) t(i)) TO '{sys.argv[1]}' (FORMAT parquet, COMPRESSION zstd)\"\"\")
"""
FLOOR = """
import duckdb, json, sys
column = sys.argv[2]
extra = f", year({column}) * 12 + month({column}) AS w" if column != "none" else ""
rows = duckdb.sql(f"SELECT race, sex, approved{extra}, count(*) AS n "
                  f"FROM read_parquet('{sys.argv[1]}') GROUP BY ALL").fetchall()
print(json.dumps({"groups": len(rows), "rows": sum(r[-1] for r in rows)}))
"""


def _measure(
    command: list[str], *, log_path: Path, ok_codes: tuple[int, ...] = (0,)
) -> tuple[float, float, float]:
    """Run ``command``; return (wall s, CPU s of the process and its children, peak MiB).

    The machine is shared: CPU seconds (user + system, from ``wait4``) move much less with
    the load than wall time, so the ratios are taken on them.
    """
    with log_path.open("wb") as out:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in ok_codes:
        raise SystemExit(f"{command} failed ({child.returncode}): {log_path.read_text()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _cases(folder: Path) -> dict[str, tuple[list[str], tuple[int, ...]]]:
    spec = folder / "audit.yaml"
    audit = ethicsgate_command(spec, folder / "r")
    parquet = str(folder / "d.parquet")
    return {
        "ethicsgate audit, no windows": (audit, (0, 1)),
        "ethicsgate audit --window month (12 windows)": (
            [*audit, "--window", "month:decided_at"],
            (0, 1),
        ),
        "ethicsgate audit --window month:(decided_at) (keyed row by row)": (
            [*audit, "--window", "month:(decided_at)"],
            (0, 1),
        ),
        "ethicsgate audit --window week (53 windows)": (
            [*audit, "--window", "week:decided_at"],
            (0, 1),
        ),
        "ethicsgate audit --window day (365 windows)": (
            [*audit, "--window", "day:decided_at"],
            (0, 1),
        ),
        "ethicsgate audit --window 90d (the last 90 days)": (
            [*audit, "--window", "90d:decided_at"],
            (0, 1),
        ),
        "ethicsgate audit --window month:decided_on (a DATE column)": (
            [*audit, "--window", "month:decided_on"],
            (0, 1),
        ),
        "floor: DuckDB GROUP BY race, sex, approved": (
            [sys.executable, "-c", FLOOR, parquet, "none"],
            (0,),
        ),
        "floor: DuckDB GROUP BY ... + month of decided_at": (
            [sys.executable, "-c", FLOOR, parquet, "decided_at"],
            (0,),
        ),
        "floor: DuckDB GROUP BY ... + month of decided_on": (
            [sys.executable, "-c", FLOOR, parquet, "decided_on"],
            (0,),
        ),
    }


def main() -> None:
    """Run the cases at each size and write the table to docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e7", help="rows, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best kept)")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    parser.add_argument(
        "--large",
        default="",
        help="sizes (comma-separated, e.g. 1e8) run --large-repeat times",
    )
    parser.add_argument(
        "--large-repeat", type=int, default=1, help="runs per case at the --large sizes"
    )
    args = parser.parse_args()
    load = os.getloadavg()[0]
    lines = [
        START,
        "## Windowed audits: per-window fairness in the same scan (`benchmarks/bench_windows.py`)",
        "",
        "Generated by `benchmarks/bench_windows.py`; do not edit by hand between the markers.",
        f"Run {datetime.now(UTC):%Y-%m-%d}; machine: "
        + ", ".join(f"{k} {v}" for k, v in machine_info(["duckdb"]).items())
        + f"; 1-minute load average at the start {load:.1f} (the machine is shared).",
        "",
        "Evidence: N decisions over 2026 in one Parquet file (zstd); one fairness rule over "
        "race × sex (10 groups), selection-rate ratio ≥ 0.8. Every case is a fresh process "
        f"(best of {args.repeat} for CPU and wall separately, cases interleaved; CPU is user + "
        "system seconds of the process tree, steadier than wall time on a shared machine); the "
        "audits include start-up, the file's "
        "sha256, the report (JSON, HTML, Markdown, groups) and, windowed, every window judged "
        "and charted. The floors are DuckDB alone reading the grouped counts (every row's "
        "month computed, no footer windows).",
        "",
        "| rows | case | CPU s | wall s | peak MiB | CPU × no windows | wall × no windows |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    notes: list[str] = []
    large = {int(float(s)) for s in args.large.split(",") if s}
    sizes = [int(float(s)) for s in args.sizes.split(",") if s] + sorted(large)
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-windows-") as tmp:
            folder = Path(tmp)
            log(f"writing {size:,} rows")
            generated, _, _ = _measure(
                [sys.executable, "-c", GENERATE, str(folder / "d.parquet"), str(size)],
                log_path=folder / "gen.txt",
            )
            loads = [os.getloadavg()[0]]
            (folder / "policy.yaml").write_text(POLICY, encoding="utf-8")
            (folder / "audit.yaml").write_text(AUDIT, encoding="utf-8")
            cases = _cases(folder)
            best: dict[str, tuple[float, float, float]] = {}
            windows: dict[str, object] = {}
            for attempt in range(args.large_repeat if size in large else args.repeat):
                for name, (command, ok) in cases.items():
                    log(f"{size:,} #{attempt + 1}: {name}")
                    loads.append(os.getloadavg()[0])
                    wall, cpu, peak = _measure(command, log_path=folder / "log.txt", ok_codes=ok)
                    if name.startswith("floor"):
                        found = json.loads((folder / "log.txt").read_text().splitlines()[-1])
                        assert found["rows"] == size, (name, found)
                    else:
                        report = json.loads((folder / "r" / "report.json").read_text())
                        rule = report["rules"][0]
                        outside = (rule.get("window") or {}).get("rows_outside", 0)
                        assert rule["rows"] + outside == size, name  # rolling: older rows
                        windows[name] = report["rules"][0].get("windows")
                    previous = best.get(name)
                    best[name] = (
                        min(wall, previous[0]) if previous else wall,
                        min(cpu, previous[1]) if previous else cpu,
                        peak,
                    )
            # oracle: the column's months (from the footer where that pays) are the months
            # keyed row by row, window by window
            footer = windows["ethicsgate audit --window month (12 windows)"]
            assert (
                footer == windows["ethicsgate audit --window month:(decided_at) (keyed row by row)"]
            )
            notes.append(
                f"{size:,} rows: written in {generated:.0f} s; 1-minute load average "
                f"{min(loads):.1f} to {max(loads):.1f} during the runs; month windows of the "
                "column (from the footer where that pays) equal those keyed row by row (checked)."
            )
            plain_wall, plain_cpu, _ = best["ethicsgate audit, no windows"]
            for name, (wall, cpu, peak) in best.items():
                ratios = (
                    f"{cpu / plain_cpu:.2f}× | {wall / plain_wall:.2f}×"
                    if name.startswith("ethicsgate")
                    else "— | —"
                )
                lines.append(
                    f"| {size:,} | {name} | {cpu:.2f} | {wall:.2f} | {peak:,.0f} | {ratios} |"
                )
    lines += ["", *notes, END]
    section = "\n".join(lines)
    print(section)
    if not args.no_doc:
        update_doc_section(section, START, END)


if __name__ == "__main__":
    main()
