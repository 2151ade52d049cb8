"""History store: the cost of ``--record`` at 10, 10^4 and 10^5 groups on SQLite, against a floor.

A synthetic run is the shipped COMPAS example's ``fpr-parity`` rule with its first group
copied N times under distinct keys (five metrics per group: 5N metric rows). Three ways to
store the same rows in a fresh SQLite file (WAL, ``synchronous=FULL``, as the store runs):

- **ethicsgate**: ``HistoryStore.record`` (run, rules and metric rows in one transaction,
  metric rows built from the result as tuples and inserted with the driver's executemany in
  chunks of 5,000);
- **SQLAlchemy insert()**: the same rows as dicts through ``conn.execute(insert(t), rows)``;
- **row at a time**: the obvious alternative, one SQLAlchemy INSERT per metric row (same
  transaction), up to 10^4 groups;
- **floor**: the stdlib ``sqlite3`` ``executemany`` of the rows already built as tuples, into
  the same table, one transaction: no row building, no SQLAlchemy.

Each is the best of ``--repeat`` runs; every method's table is checked to hold the same rows
(count and the sum of values). Opening and migrating the store is timed separately.
Results replace the section between ``<!-- bench_history:start -->`` /
``<!-- bench_history:end -->`` in docs/benchmarks.md::

    .venv/bin/python benchmarks/bench_history.py            # 10, 1e4, 1e5 groups
    .venv/bin/python benchmarks/bench_history.py --no-doc   # print only
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, log, machine_info, parse_count, update_doc_section  # noqa: E402

START = "<!-- bench_history:start -->"
END = "<!-- bench_history:end -->"
COLUMNS = (
    "run_id", "rule_id", "group_key", "metric", "value", "low", "high", "ratio", "ratio_low",
    "ratio_high", "difference", "p_value", "n", "excluded",
)  # fmt: skip


def _synthetic(template: Any, groups: int) -> Any:
    rule = next(r for r in template.rules if r.id == "fpr-parity")
    first = rule.groups[0]
    copies = [first.model_copy(update={"group": {"id": f"g{i:06d}"}}) for i in range(groups)]
    return template.model_copy(update={"rules": [rule.model_copy(update={"groups": copies})]})


def _files(groups: int, attempt: int) -> dict[str, bytes]:
    return {"report.json": f"synthetic {groups} {attempt} {time.time_ns()}".encode()}


def _check(path: Path) -> tuple[int, float]:
    with sqlite3.connect(path) as conn:
        count, total = conn.execute("SELECT count(*), sum(value) FROM history_metrics").fetchone()
    return int(count), float(total or 0.0)


def _ethicsgate(result: Any, folder: Path, groups: int, attempt: int) -> tuple[float, float, Path]:
    from ethicsgate.session import open_history

    path = folder / f"eg-{groups}-{attempt}.db"
    started = time.perf_counter()
    store = open_history(f"sqlite:///{path}")
    opened = time.perf_counter() - started
    started = time.perf_counter()
    store.record(result, _files(groups, attempt))
    seconds = time.perf_counter() - started
    store.close()
    return seconds, opened, path


def _row_at_a_time(result: Any, folder: Path, groups: int, attempt: int) -> tuple[float, Path]:
    import sqlalchemy as sa

    from ethicsgate.history import metric_rows
    from ethicsgate.history.store import metrics_t
    from ethicsgate.session import open_history

    path = folder / f"row-{groups}-{attempt}.db"
    store = open_history(f"sqlite:///{path}")
    engine = store._engine  # noqa: SLF001  (the benchmark's own back door)
    started = time.perf_counter()
    with engine.begin() as conn:
        for row in metric_rows(result):
            conn.execute(sa.insert(metrics_t).values(run_id=1, **row))
    seconds = time.perf_counter() - started
    store.close()
    return seconds, path


def _sa_dicts(result: Any, folder: Path, groups: int, attempt: int) -> tuple[float, Path]:
    import sqlalchemy as sa

    from ethicsgate.history import metric_rows
    from ethicsgate.history.store import CHUNK, metrics_t
    from ethicsgate.session import open_history

    path = folder / f"sa-{groups}-{attempt}.db"
    store = open_history(f"sqlite:///{path}")
    engine = store._engine  # noqa: SLF001  (the benchmark's own back door)
    started = time.perf_counter()
    with engine.begin() as conn:
        rows = [{"run_id": 1, **row} for row in metric_rows(result)]
        for start in range(0, len(rows), CHUNK):
            conn.execute(sa.insert(metrics_t), rows[start : start + CHUNK])
    seconds = time.perf_counter() - started
    store.close()
    return seconds, path


def _floor(
    rows: list[tuple[Any, ...]], folder: Path, groups: int, attempt: int
) -> tuple[float, Path]:
    from ethicsgate.session import open_history

    path = folder / f"floor-{groups}-{attempt}.db"
    open_history(f"sqlite:///{path}").close()  # the same schema and indexes
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    marks = ", ".join("?" * len(COLUMNS))
    sql = f"INSERT INTO history_metrics ({', '.join(COLUMNS)}) VALUES ({marks})"
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, path


def main() -> None:
    """Measure and write docs/benchmarks.md's section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=parse_count, nargs="+", default=[10, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--row-limit",
        type=parse_count,
        default=10_000,
        help="largest group count for the row-at-a-time method",
    )
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()

    from ethicsgate.audit import run_audit
    from ethicsgate.history import metric_rows

    load = os.getloadavg()[0]
    log("running the COMPAS example once for the template")
    template = run_audit(ROOT / "audits" / "compas-example.yaml")
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        folder = Path(tmp)
        for groups in args.groups:
            result = _synthetic(template, groups)
            rows = [tuple({"run_id": 1, **row}[c] for c in COLUMNS) for row in metric_rows(result)]
            best: dict[str, float] = {}
            opened = []
            checks = set()
            for attempt in range(args.repeat):
                seconds, open_s, path = _ethicsgate(result, folder, groups, attempt)
                best["ethicsgate"] = min(best.get("ethicsgate", seconds), seconds)
                opened.append(open_s)
                checks.add(_check(path))
                seconds, path = _floor(rows, folder, groups, attempt)
                best["floor"] = min(best.get("floor", seconds), seconds)
                checks.add(_check(path))
                seconds, path = _sa_dicts(result, folder, groups, attempt)
                best["sa"] = min(best.get("sa", seconds), seconds)
                checks.add(_check(path))
                if groups <= args.row_limit:
                    seconds, path = _row_at_a_time(result, folder, groups, attempt)
                    best["row"] = min(best.get("row", seconds), seconds)
                    checks.add(_check(path))
            assert len(checks) == 1, f"the methods stored different rows: {checks}"
            ((count, _total),) = checks
            assert count == len(rows)
            row_s = best.get("row")
            row_text = "—" if row_s is None else f"{row_s:.3f}"
            log(
                f"{groups:>7} groups, {count} rows: ethicsgate {best['ethicsgate']:.3f} s, "
                f"SQLAlchemy insert() {best['sa']:.3f} s, floor {best['floor']:.3f} s, "
                f"row at a time {row_text}"
            )
            lines.append(
                f"| {groups:,} | {count:,} | {best['ethicsgate']:.3f} | {best['sa']:.3f} | "
                f"{row_text} | {best['floor']:.3f} | "
                f"{best['ethicsgate'] / best['floor']:.1f}× | "
                f"{count / best['ethicsgate']:,.0f} | {min(opened):.3f} |"
            )
    info = machine_info(["sqlalchemy"])
    section = "\n".join(
        [
            START,
            "## History store: recording a run (`--record`) at 10 to 10^5 groups",
            "",
            "Generated by `benchmarks/bench_history.py`; do not edit by hand between the markers.",
            "",
            "A synthetic run: the COMPAS example's `fpr-parity` rule with its first group "
            "copied N times (five metrics per group, so 5N metric rows), recorded into a fresh "
            "SQLite file (WAL, `synchronous=FULL`). **ethicsgate** is `HistoryStore.record`: the "
            "run, its rules and its metric rows, built from the result as tuples and inserted "
            "with the driver's executemany in chunks of 5,000, in one transaction. "
            "**SQLAlchemy insert()** is the same rows as dicts through `conn.execute(insert(t), "
            "rows)` (executemany with SQLAlchemy's per-row parameter processing). "
            "**row at a time** is one SQLAlchemy INSERT per metric row "
            "(same transaction). The **floor** is the stdlib `sqlite3` `executemany` of the rows "
            "already built as tuples into the same table and indexes. Best of "
            f"{args.repeat}; every method's table holds the same rows (count and sum checked). "
            "Opening the store (connect + migration check) is the last column.",
            "",
            "Reproduce: `.venv/bin/python benchmarks/bench_history.py`",
            "",
            f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['os']}; "
            f"Python {info['python']}, SQLAlchemy {info['sqlalchemy']}, SQLite "
            f"{sqlite3.sqlite_version}. Measured {date.today().isoformat()}; 1-minute load "
            f"average at the start {load:.1f} (other work shared the cores).",
            "",
            "| groups | metric rows | ethicsgate s | SQLAlchemy insert() s | row at a time s "
            "| floor s | ethicsgate / floor | rows/s | open s |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *lines,
            END,
            "",
        ]
    )
    print(section)
    if not args.no_doc:
        update_doc_section(section, START, END)


if __name__ == "__main__":
    main()
