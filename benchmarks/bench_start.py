"""Start time: ``ethicsgate --help``, the shipped audits and small audits, against a floor.

Each command is a fresh process, timed end to end (Python start-up, imports, reading the
evidence, evaluating, writing report.json/.html/.md), its wall time and CPU time (user + sys of
the process tree) the median of ``--repeat`` runs after one warm-up run (which also compiles the
bytecode and the report templates' cache, as an installed package has them). On a shared
machine the CPU time is the steadier figure. Floors: ``python -c pass`` (the interpreter) and
``python -c "import duckdb"`` (the engine every audit needs).

Cases: ``--help``; the shipped audits (bakery: records only, no data frames; nyc-ll144-example
and compas-example: fairness); a 1,000-row CSV fairness audit; a 2,000-row audit with a
data_quality contract (not_null, in_set, between, unique, regex, row_count_between) and the
built-in contracts (``contracts: report``), run by DuckDB, Great Expectations not imported.

Goals (issues #16 and #22): ``--help`` < 0.3 s, the 1,000-row audit < 0.8 s, the 2,000-row
audit with contracts < 1 s.

Results go to ``docs/benchmarks.md`` between ``<!-- bench_start:start -->`` and
``<!-- bench_start:end -->``. Run: ``python benchmarks/bench_start.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import ROOT, log, machine_info, update_doc_section

START = "<!-- bench_start:start -->"
END = "<!-- bench_start:end -->"
GOALS = {"--help": 0.3, "1,000-row CSV fairness audit": 0.8, "2,000-row audit with contracts": 1.0}

POLICY = """\
schema_version: 1
id: bench-start
version: "1"
title: Start-time benchmark
owner: Benchmarks
rules:
  - id: parity
    kind: fairness
    dataset: predictions
    sensitive_features: [sex, race]
    metrics: [selection_rate, true_positive_rate, false_positive_rate, count]
    min_group_size: 1
    assert:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}
"""
CONTRACT = """\
  - id: predictions-contract
    kind: data_quality
    dataset: predictions
    expectations:
      - {expect: not_null, column: sex}
      - {expect: in_set, column: race, values: [a, b, c, d, e]}
      - {expect: between, column: age, min: 18, max: 99}
      - {expect: unique, column: id}
      - {expect: regex, column: email, pattern: "^[a-z0-9.]+@[a-z]+\\\\.org$"}
      - {expect: row_count_between, min: 1, max: 1000000}
"""
AUDIT = """\
schema_version: 1
id: bench-start
policy: policy.yaml
evidence:
  predictions:
    path: data.csv
"""


def _write_case(folder: Path, rows: int, *, contracts: bool) -> Path:
    """Write a policy, an audit spec and a CSV of ``rows`` rows; return the spec's path."""
    rng = random.Random(rows)
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,sex,race,age,email,label,prediction"]
    for i in range(rows):
        label = int(rng.random() < 0.4)
        lines.append(
            f"{i},{rng.choice('fm')},{rng.choice('abcde')},{rng.randrange(18, 90)},"
            f"user{i}@example.org,{label},{int(rng.random() < (0.7 if label else 0.2))}"
        )
    (folder / "data.csv").write_text("\n".join(lines) + "\n")
    (folder / "policy.yaml").write_text(POLICY + (CONTRACT if contracts else ""))
    spec = folder / "audit.yaml"
    spec.write_text(AUDIT + ("contracts: report\n" if contracts else ""))
    return spec


def _time(command: list[str], *, repeat: int, env: dict[str, str]) -> tuple[float, float, int]:
    """Return the median wall and CPU seconds of ``command`` and its exit code (1 warm-up)."""
    walls: list[float] = []
    cpus: list[float] = []
    code = 0
    for run in range(repeat + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        code = subprocess.call(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if code not in (0, 1):
            raise SystemExit(f"exit {code}: {' '.join(command)}")
        if run:
            walls.append(wall)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus), code


def main() -> None:
    """Measure every case and write the section of docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (median)")
    parser.add_argument("--no-doc", action="store_true", help="print, do not write the doc")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ETHICSGATE_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp:
        work = Path(tmp)
        env["XDG_CACHE_HOME"] = str(work / "cache")
        small = _write_case(work / "small", 1_000, contracts=False)
        contracts = _write_case(work / "contracts", 2_000, contracts=True)

        def audit(spec: Path, name: str) -> list[str]:
            out = work / "out" / name
            return [py, "-m", "ethicsgate", "audit", str(spec), "--out", str(out), "--no-progress"]

        cases = [
            ("floor: python -c pass", [py, "-c", "pass"]),
            ("floor: python -c 'import duckdb'", [py, "-c", "import duckdb"]),
            ("--help", [py, "-m", "ethicsgate", "--help"]),
            *(
                (f"audits/{name}.yaml", audit(ROOT / "audits" / f"{name}.yaml", name))
                for name in ("bakery", "nyc-ll144-example", "compas-example")
            ),
            ("1,000-row CSV fairness audit", audit(small, "small")),
            ("2,000-row audit with contracts", audit(contracts, "contracts")),
        ]
        results = []
        for label, command in cases:
            wall, cpu, code = _time(command, repeat=args.repeat, env=env)
            log(f"{label}: wall {wall:.3f} s, cpu {cpu:.3f} s (exit {code})")
            results.append((label, wall, cpu))
    load = os.getloadavg()[0]
    info = machine_info(["duckdb", "pydantic", "click", "jinja2"])
    lines = [
        START,
        "## Start time: --help, the shipped audits, small audits",
        "",
        "Generated by `benchmarks/bench_start.py`; do not edit by hand between the markers.",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d}, {info['cpu']}, {info['cores']} core(s), Python "
        f"{info['python']}, duckdb {info['duckdb']}; 1-minute load average at the end {load:.1f}"
        " (above 0: other work shared the cores, and wall times are longer). Medians of "
        f"{args.repeat} fresh processes after a warm-up run; CPU = user + sys of the process.",
        "",
        "| command | wall s | CPU s | goal |",
        "|---|---:|---:|---|",
    ]
    for label, wall, cpu in results:
        goal = GOALS.get(label)
        mark = "" if goal is None else f"< {goal} s ({'met' if wall < goal else 'not met'})"
        lines.append(f"| {label} | {wall:.3f} | {cpu:.3f} | {mark} |")
    lines += [
        "",
        "An audit imports only what its rule kinds need: the fairness kind (pandas, numpy) is "
        "imported for fairness rules only, data contracts run as DuckDB queries (Great "
        "Expectations is not imported), the review queue (SQLAlchemy), signing and progress bars "
        "only when used. `tests/cli/test_fast_start.py` pins these imports. Both small audits "
        "have a fairness rule (sex x race), so they import pandas and pyarrow (about 0.2 s of "
        "the goals' budget, measured with python -X importtime); the CLI makes no full "
        "collection of what the imports leave (about 0.06 s, paired runs).",
        END,
    ]
    section = "\n".join(lines) + "\n"
    if args.no_doc:
        print(section)
    else:
        update_doc_section(section, START, END)


if __name__ == "__main__":
    main()
