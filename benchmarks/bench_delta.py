"""Delta tables on the DuckDB engine: what reading a version through its log costs.

The rows of ``bench_scale``'s synthetic applicant log (1e7 and 1e8 by default) are written by
``deltalake`` twice: as one unpartitioned Delta table and as a table partitioned by age band
(four ``age_band=...`` folders; the column then comes from the folder names). Each is audited
with ``bench_scale``'s selection policy (LL144 tables, three metrics per intersectional group,
1,000 bootstrap resamples), end to end through the CLI in a fresh process, against:

* the same audit of the Parquet file itself (the obvious alternative: export the version to
  Parquet first, then audit the file);
* the floor: a bare DuckDB scan of the Delta table's files (``count(*)`` and ``sum(hash())``
  of the five columns the audit reads, partition column included);
* listing the version alone: a process that imports deltalake and asks for the version's
  files and partition values (the cost the Delta path adds before any row is read).

Medians of ``--repeat`` runs, cases interleaved, each on an idle machine (peak RSS from
``os.wait4``). Oracle: the rule results of every Delta audit equal those of the Parquet audit
(to 1e-12, timings aside), and the report names the version. Results go to
``docs/benchmarks.md`` between ``<!-- bench_delta:start -->`` and ``<!-- bench_delta:end -->``.

    .venv/bin/python benchmarks/bench_delta.py [--sizes 1e7,1e8] [--repeat 3] [--no-docs]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import ethicsgate_command, log, machine_info, update_doc_section  # noqa: E402
from _common import parse_count as parse_size  # noqa: E402
from bench_scale import DATA_DIR, Run, ensure_data, measure, size_label, write_specs  # noqa: E402
from tests.jsonclose import TIMINGS, differences  # noqa: E402

START = "<!-- bench_delta:start -->"
END = "<!-- bench_delta:end -->"
COLUMNS = "sex, race, age_band, hired, selected"
LAYOUTS = {"plain": None, "part": "age_band"}
PARQUET = "ethicsgate audit of the Parquet file"
PLAIN = "ethicsgate audit of the Delta table"
PART = "ethicsgate audit of the Delta table partitioned by age_band"
FLOOR_PLAIN = "floor: DuckDB scan of the Delta table's files"
FLOOR_PART = "floor: DuckDB scan of the partitioned table's files"
#: Each audit against the floor that reads the same files.
FLOORS = {PARQUET: FLOOR_PLAIN, PLAIN: FLOOR_PLAIN, PART: FLOOR_PART}


def table_path(rows: int, layout: str) -> Path:
    """Return the Delta table folder of one size and layout."""
    return DATA_DIR / f"delta_{size_label(rows)}_{layout}"


def ensure_tables(rows: int, data: Path) -> dict[str, Path]:
    """Write both Delta tables of ``data``'s rows unless they exist (a marker file says so)."""
    import pyarrow.dataset as ds
    from deltalake import write_deltalake

    tables = {}
    for layout, partition in LAYOUTS.items():
        folder = table_path(rows, layout)
        marker = folder / ".written"
        if not marker.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            started = time.perf_counter()
            source = ds.dataset(data).scanner(batch_size=1 << 20).to_reader()
            write_deltalake(folder, source, partition_by=[partition] if partition else None)
            marker.write_text("1")
            log(f"wrote {folder.name} in {time.perf_counter() - started:.1f} s")
        tables[layout] = folder
    return tables


def glob_of(folder: Path, layout: str) -> str:
    """Return a glob of the table's Parquet files (written once: every file is active)."""
    return str(folder / ("*/*.parquet" if LAYOUTS[layout] else "*.parquet"))


def child_floor(glob: str, layout: str) -> None:
    """Child: the bare DuckDB scan of the files, partition column from the folders."""
    import duckdb

    hive = ", hive_partitioning = true" if LAYOUTS[layout] else ""
    print(
        duckdb.sql(
            f"SELECT count(*), sum(hash({COLUMNS})) FROM read_parquet('{glob}'{hive})"
        ).fetchall()
    )


def child_listing(folder: str) -> None:
    """Child: the version's files and partition values, as the engine asks for them.

    Prints the seconds of the listing itself (deltalake imported, the log read, the folders
    checked), after the imports every audit makes anyway.
    """
    import pyarrow  # noqa: F401  (an audit has it loaded before it opens the evidence)

    from ethicsgate.evidence.delta import read_delta_snapshot

    started = time.perf_counter()
    found = read_delta_snapshot("bench", Path(folder), version=None, locate=lambda key: None)  # type: ignore[arg-type,return-value]
    print(f"seconds={time.perf_counter() - started:.4f} files={len(found.files)}")


def listing_seconds(folder: Path, repeat: int) -> tuple[float, int]:
    """Return the median seconds of listing the version in-process, and its file count."""
    found = []
    for _ in range(repeat):
        text = subprocess.run(
            child("listing", str(folder)), capture_output=True, text=True, check=True
        ).stdout
        fields = dict(part.split("=") for part in text.split())
        found.append((float(fields["seconds"]), int(fields["files"])))
    return statistics.median(s for s, _ in found), found[0][1]


def child(kind: str, *args: str) -> list[str]:
    """Return the command of one of this script's child measurements."""
    return [sys.executable, str(Path(__file__).resolve()), "--child", kind, *args]


def rules_of(report: Path) -> list[dict[str, object]]:
    """Return a report's rule results."""
    return json.loads(report.read_text())["rules"]


def run_size(rows: int, repeat: int) -> tuple[list[tuple[str, Run, str]], dict[str, str]]:
    """Measure every case of one size; return (case, median run, note) rows and listings."""
    data = ensure_data(rows, regenerate=False)
    parquet_spec = write_specs(rows, data)["selection"]
    tables = ensure_tables(rows, data)
    label = size_label(rows)
    specs = {"parquet": parquet_spec}
    for layout, folder in tables.items():
        spec = DATA_DIR / f"bench-delta-{label}-{layout}.yaml"
        spec.write_text(
            parquet_spec.read_text().replace(f"path: {data.name}", f"path: {folder.name}")
        )
        specs[layout] = spec
    out = DATA_DIR / f"delta-run-{label}"
    cases = {
        PARQUET: (ethicsgate_command(specs["parquet"], out / "parquet"), (0, 1)),
        PLAIN: (ethicsgate_command(specs["plain"], out / "plain"), (0, 1)),
        PART: (ethicsgate_command(specs["part"], out / "part"), (0, 1)),
        FLOOR_PLAIN: (child("floor", glob_of(tables["plain"], "plain"), "plain"), (0,)),
        FLOOR_PART: (child("floor", glob_of(tables["part"], "part"), "part"), (0,)),
    }
    runs: dict[str, list[Run]] = {name: [] for name in cases}
    for attempt in range(repeat):
        for name, (command, ok) in cases.items():
            found = measure(command, log_path=out.with_suffix(".log"), ok_codes=ok)
            runs[name].append(found)
            log(f"{rows:,} rows, {name}, run {attempt + 1}: {found.wall_s:.2f} s")
    expected = rules_of(out / "parquet" / "report.json")
    for layout in tables:
        report = out / layout / "report.json"
        found = differences(expected, rules_of(report), skip=TIMINGS)
        if found:
            raise SystemExit(f"{layout}: the Delta audit differs:\n" + "\n".join(found[:10]))
        version = json.loads(report.read_text())["audit"]["evidence"][0]["version"]
        if version != "delta:0":
            raise SystemExit(f"{layout}: the report names version {version!r}")
    rows_out = []
    for name, found in runs.items():
        median = Run(
            wall_s=statistics.median(r.wall_s for r in found),
            peak_rss_mib=statistics.median(r.peak_rss_mib for r in found),
            returncode=found[-1].returncode,
            idle=min(r.idle for r in found),
        )
        rows_out.append((name, median, f"{len(found)} runs"))
    listings = {}
    for layout, folder in tables.items():
        seconds, files = listing_seconds(folder, repeat)
        listings[layout] = f"{seconds * 1000:.0f} ms ({files} files)"
    return rows_out, listings


def main() -> None:
    """Measure the sizes and write the section of docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e7,1e8")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        {"floor": child_floor, "listing": child_listing}[kind](*rest)
        return
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    table = [
        "| rows | case | wall s | peak RSS MiB | × floor | CPU idle before |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    bounds = []
    for rows in sizes:
        found, listings = run_size(rows, args.repeat)
        by_name = {name: run for name, run, _ in found}
        for name, run, _ in found:
            floor = FLOORS.get(name)
            ratio = f"{run.wall_s / by_name[floor].wall_s:.2f}×" if floor else "—"
            table.append(
                f"| {rows:,} | {name} | {run.wall_s:.2f} | {run.peak_rss_mib:,.0f} | {ratio} | "
                f"{run.idle:.0%} |"
            )
        plain, part, base = (by_name[n].wall_s for n in (PLAIN, PART, PARQUET))
        bounds.append(
            f"- {rows:,} rows: the Delta table audits in {plain / base:.2f}× the time of the same "
            f"rows as one Parquet file, partitioned {part / base:.2f}×; listing the version "
            f"(in-process, after the imports an audit makes anyway): {listings['plain']} "
            f"unpartitioned, {listings['part']} partitioned"
        )
    info = machine_info(["duckdb", "deltalake", "pyarrow"])
    machine = ", ".join(f"{k} {v}" for k, v in info.items())
    section = "\n".join(
        [
            START,
            "## Delta tables on the DuckDB engine (`benchmarks/bench_delta.py`)",
            "",
            "Generated by `benchmarks/bench_delta.py`; do not edit by hand between the markers.",
            f"Run {datetime.now(UTC):%Y-%m-%d}; machine: {machine}.",
            "",
            "`bench_scale`'s synthetic applicants written by deltalake as a Delta table "
            "(unpartitioned, and partitioned by age band: the column then comes from the folder "
            "names), audited with `bench_scale`'s selection policy through the CLI in fresh "
            "processes, against the same audit of the Parquet file and a bare DuckDB scan of "
            "the table's files. Medians; every Delta audit's rule results equal the Parquet "
            "audit's (to 1e-12) and the report names the version (`delta:0`).",
            "",
            *table,
            "",
            *bounds,
            END,
        ]
    )
    if args.no_docs:
        print(section)
    else:
        update_doc_section(section, START, END)
        log("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
