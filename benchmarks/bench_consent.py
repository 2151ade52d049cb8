"""Benchmark the consent check: ethicsgate's DuckDB ASOF join vs a pandas ``merge_asof``.

What it measures (default: 10 million processing events against 2 million consent records):

* **ethicsgate audit (CLI)**: ``ethicsgate audit SPEC --out DIR --no-progress`` on a generated
  audit spec and policy with one ``kind: consent, check: consent_valid`` rule (four purposes,
  three of them consent-based, one undeclared purpose in the data, ``grace: 48h``). End to end:
  Python start-up, imports, reading both Parquet files into typed DuckDB tables, collapsing
  exact duplicates and checking event ids, the ASOF LEFT JOIN, counts and the first 1,000
  findings, hashing the evidence and writing report.json/.html/.md.
* **pandas merge_asof**: the obvious alternative, written to be fast rather than naive: read
  both files with pandas (pyarrow), drop exact duplicate events, check ids, merge tied ledger
  records (earliest withdrawal and expiry), then ``pd.merge_asof`` on one integer key
  (subject * 8 + purpose code) and vectorised reasons with ``np.select``.
* **DuckDB scan (floor)**: a DuckDB query that decodes the nine columns of both files and does
  nothing else.

Each measurement is a fresh child process of a small wrapper that times it and reads its
``ru_maxrss`` (peak RSS of that process tree). The data files are read once before timing, so
every method starts from a warm page cache. Medians of ``--repeat`` runs.

Oracles, checked in the same run before the docs are touched (any difference exits non-zero):

1. ethicsgate's report and pandas agree on the records checked, the violations by reason and
   the first 1,000 findings by event id (id and reason).
2. On a sample of 2,000 events (plus every edge case: missing timestamp, missing subject,
   undeclared purpose, an event at an exact grant or withdrawal instant, a duplicated event), a
   plain Python loop over the raw rows gives the same verdict per event as ethicsgate (run on
   just those events, with an evidence filter) and as pandas.

The synthetic data (seeded numpy, written in chunks of 1e6 rows) goes to
``benchmarks/data/consent/`` (git-ignored) and is reused when present. Results go to
``docs/benchmarks.md`` between ``<!-- bench_consent:start -->`` and ``<!-- bench_consent:end
-->``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_consent.py
    .venv/bin/python benchmarks/bench_consent.py --events 1e6 --ledger 2e5 --repeat 1 --no-docs
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the repository root, for the consent reference the tests use (tests/unit/rules/logs_reference.py)
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from _common import (  # noqa: E402  (benchmarks/ is not a package)
    DOC_PATH,
    ROOT,
    cpu_model,
    ethicsgate_command,
    log,
    measure_wrapped,
    package_version,
    parquet_has_metadata,
    parse_count,
    ram_gib,
    update_doc_section,
    warm_cache,
    write_parquet_chunks,
)

DATA_DIR = ROOT / "benchmarks" / "data" / "consent"
START_MARK = "<!-- bench_consent:start -->"
END_MARK = "<!-- bench_consent:end -->"
SECTION_TITLE = "## Consent check: ethicsgate (DuckDB ASOF join) vs pandas merge_asof"
SEED = 20_250_301
CHUNK = 1_000_000
GENERATOR_VERSION = "1"
PURPOSES = {
    "newsletter": "consent",
    "birthday_offer": "consent",
    "loyalty_offer": "consent",
    "order_confirmation": "contract",
}
CONSENT = [p for p, b in PURPOSES.items() if b == "consent"]
GRACE_S = 48 * 3600
FINDINGS = 1000
SAMPLE = 2000
EPOCH_2024 = 1_704_067_200  # 2024-01-01T00:00:00Z
EVENT_COLUMNS = ("event_id", "subject_id", "purpose", "ts")
LEDGER_COLUMNS = ("subject_id", "purpose", "granted_at", "withdrawn_at", "expires_at")

LOAD = os.getloadavg()
METHOD_ETHICSGATE = "ethicsgate audit (CLI, end to end)"
METHOD_PANDAS = "pandas merge_asof (read + check)"
METHOD_FLOOR = "DuckDB scan of the 9 columns (floor)"


def parse_size(text: str) -> int:
    """Parse '1e6', '10000000' or '2.5e6' as a whole number."""
    return parse_count(text, noun=None)


# -- data -------------------------------------------------------------------------------------


def data_paths(events: int, ledger: int) -> tuple[Path, Path]:
    """Return where the events and ledger Parquet files of these sizes live."""
    return (
        DATA_DIR / f"events_{events}_{ledger}.parquet",
        DATA_DIR / f"ledger_{ledger}.parquet",
    )


def _metadata(kind: str, events: int, ledger: int) -> dict[bytes, bytes]:
    return {
        b"bench_consent.generator": GENERATOR_VERSION.encode(),
        b"bench_consent.seed": str(SEED).encode(),
        b"bench_consent.kind": kind.encode(),
        b"bench_consent.size": f"{events}/{ledger}".encode(),
    }


def _ledger_arrays(ledger: int) -> dict[str, Any]:
    """Return the ledger as numpy arrays (seconds since the epoch; -1 for missing)."""
    import numpy as np

    rng = np.random.default_rng([SEED, 1])
    subjects = max(ledger // 2, 10)
    purposes = np.array([*CONSENT, "order_confirmation"])
    subject = rng.integers(0, subjects, ledger, dtype=np.int64)
    purpose = rng.choice(4, ledger, p=[0.5, 0.2, 0.28, 0.02]).astype(np.int8)
    granted = EPOCH_2024 + rng.integers(0, 365 * 86400, ledger, dtype=np.int64)
    withdrawn = np.where(
        rng.random(ledger) < 0.25, granted + rng.integers(3600, 200 * 86400, ledger), -1
    )
    expires = np.where(rng.random(ledger) < 0.3, granted + 365 * 86400, -1)
    granted[rng.random(ledger) < 0.0005] = -1
    # ties: some records repeat another record's subject, purpose and grant instant
    tie = rng.choice(ledger, ledger // 500, replace=False)
    source = rng.choice(ledger, tie.size)
    subject[tie], purpose[tie], granted[tie] = subject[source], purpose[source], granted[source]
    return {
        "subject": subject,
        "purpose": purpose,
        "purposes": purposes,
        "granted": granted,
        "withdrawn": withdrawn,
        "expires": expires,
        "subjects": subjects,
    }


def _ts_array(seconds: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    mask = seconds < 0
    values = np.where(mask, 0, seconds) * 1_000_000
    return pa.array(values, type=pa.timestamp("us", tz="UTC"), mask=mask)


def ensure_data(events: int, ledger: int, *, regenerate: bool) -> tuple[Path, Path]:
    """Write the synthetic ledger and events unless identical files exist."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    events_path, ledger_path = data_paths(events, ledger)
    meta_e, meta_l = _metadata("events", events, ledger), _metadata("ledger", 0, ledger)
    if (
        not regenerate
        and parquet_has_metadata(events_path, meta_e)
        and parquet_has_metadata(ledger_path, meta_l)
    ):
        log(f"data: reusing {events_path.name} and {ledger_path.name}")
        return events_path, ledger_path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    led = _ledger_arrays(ledger)
    table = pa.table(
        {
            "subject_id": pa.array(led["subject"]),
            "purpose": pa.array(led["purposes"][led["purpose"]]).dictionary_encode(),
            "granted_at": _ts_array(led["granted"]),
            "withdrawn_at": _ts_array(led["withdrawn"]),
            "expires_at": _ts_array(led["expires"]),
        }
    )
    pq.write_table(table.replace_schema_metadata(meta_l), ledger_path, compression="snappy")
    log(f"data: wrote {ledger:,} consent records in {time.perf_counter() - started:.1f} s")
    usable = np.flatnonzero((led["purpose"] < 3) & (led["granted"] >= 0))
    chunks = (
        _events_chunk(index, start, min(CHUNK, events - start), led, usable)
        for index, start in enumerate(range(0, events, CHUNK))
    )
    write_parquet_chunks(events_path, chunks, meta_e, tmp=events_path.with_suffix(".tmp"))
    log(f"data: wrote {events:,} events in {time.perf_counter() - started:.1f} s")
    return events_path, ledger_path


def _events_chunk(index: int, start: int, rows: int, led: dict[str, Any], usable: Any) -> Any:
    """Return one chunk of events: mostly covered by consent, with every kind of violation."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng([SEED, 2, index])
    dups = rows // 2000  # exact duplicates of other events in the chunk
    base = rows - dups
    kind = rng.choice(5, base, p=[0.73, 0.24, 0.02, 0.005, 0.005])
    subject = rng.integers(0, led["subjects"], base, dtype=np.int64)
    purpose = np.array(["order_confirmation"] * base, dtype=object)
    ts = EPOCH_2024 + rng.integers(0, 548 * 86400, base, dtype=np.int64)
    # 0: covered by a ledger record (most of the time: the latest grant may differ)
    covered = np.flatnonzero(kind == 0)
    pick = usable[rng.integers(0, usable.size, covered.size)]
    granted = led["granted"][pick]
    ends = np.full(covered.size, 400 * 86400, dtype=np.int64)
    for other in (led["withdrawn"][pick], led["expires"][pick]):
        ends = np.where(other >= 0, np.minimum(ends, other - granted), ends)
    ends = np.maximum(ends, 1)
    subject[covered] = led["subject"][pick]
    purpose[covered] = led["purposes"][led["purpose"][pick]]
    ts[covered] = granted + (rng.random(covered.size) * ends).astype(np.int64)
    # edge instants: exactly at a grant, exactly at a withdrawal (+ within or beyond grace)
    edge = covered[rng.random(covered.size) < 0.002]
    edge_pick = usable[rng.integers(0, usable.size, edge.size)]
    subject[edge] = led["subject"][edge_pick]
    purpose[edge] = led["purposes"][led["purpose"][edge_pick]]
    withdrawn = led["withdrawn"][edge_pick]
    shift = rng.choice([0, GRACE_S - 1, GRACE_S, 5 * 86400], edge.size)
    ts[edge] = np.where(
        (withdrawn >= 0) & (rng.random(edge.size) < 0.7),
        withdrawn + shift,
        led["granted"][edge_pick],
    )
    # 2: a consent purpose for a random subject; 3: an undeclared purpose; 4: missing values
    random_consent = np.flatnonzero(kind == 2)
    purpose[random_consent] = np.array(CONSENT, dtype=object)[
        rng.integers(0, len(CONSENT), random_consent.size)
    ]
    purpose[kind == 3] = "product_survey"
    missing = np.flatnonzero(kind == 4)
    purpose[missing] = "newsletter"
    no_ts = missing[: missing.size // 2]
    no_subject = missing[missing.size // 2 :]
    ts[no_ts] = -1
    subject_mask = np.zeros(base, dtype=bool)
    subject_mask[no_subject] = True
    event_id = start + np.arange(base, dtype=np.int64)  # unique: chunks hold CHUNK rows
    order = np.concatenate([np.arange(base), rng.choice(base, dups)])
    return pa.table(
        {
            "event_id": pa.array(event_id[order]),
            "subject_id": pa.array(subject[order], mask=subject_mask[order]),
            "purpose": pa.array(purpose[order], type=pa.string()).dictionary_encode(),
            "ts": _ts_array(ts[order]),
        }
    )


# -- the audit spec and policy ethicsgate runs --------------------------------------------------


def write_spec(events: Path, ledger: Path, *, name: str, sample: list[int] | None = None) -> Path:
    """Write a policy and an audit spec for the consent check; return the spec's path."""
    folder = DATA_DIR / name
    folder.mkdir(parents=True, exist_ok=True)
    purposes = "\n".join(f"      {p}: {b}" for p, b in PURPOSES.items())
    max_findings = 100_000 if sample is not None else FINDINGS
    (folder / "policy.yaml").write_text(
        f"""schema_version: 1
id: bench-consent
version: "1"
title: Benchmark consent policy
owner: benchmarks
rules:
  - id: consent-valid
    kind: consent
    check: consent_valid
    dataset: events
    ledger: ledger
    grace: 48h
    max_findings: {max_findings}
    purposes:
{purposes}
""",
        encoding="utf-8",
    )
    where = ""
    if sample is not None:
        where = f'\n    filter: "event_id IN ({", ".join(map(str, sample))})"'
    (folder / "audit.yaml").write_text(
        f"""schema_version: 1
id: bench-consent
policy: policy.yaml
evidence:
  events:
    path: {events}{where}
  ledger:
    path: {ledger}
""",
        encoding="utf-8",
    )
    return folder / "audit.yaml"


# -- the pandas implementation (run as a child: --pandas-child) --------------------------------


def pandas_check(events: Path, ledger: Path, sample_ids: list[int]) -> dict[str, Any]:
    """Run the consent check with pandas; return counts, first findings and sample verdicts."""
    import numpy as np
    import pandas as pd

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ev = pd.read_parquet(events)
    led = pd.read_parquet(ledger)
    ev["purpose"] = ev["purpose"].astype(str)
    led["purpose"] = led["purpose"].astype(str)
    timings["read"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    ev = ev.drop_duplicates()  # exact duplicates count once
    if ev["event_id"].duplicated().any():
        raise SystemExit("two different events share an id")
    basis = ev["purpose"].map(PURPOSES)
    applies = basis.eq("consent") | basis.isna()
    reason = pd.Series(None, index=ev.index, dtype=object)
    reason[basis.isna()] = "no_legal_basis"
    consent = basis.eq("consent")
    reason[consent & ev["subject_id"].isna()] = "missing_subject"
    reason[consent & ev["subject_id"].notna() & ev["ts"].isna()] = "missing_timestamp"
    timings["prepare"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    code = {p: i for i, p in enumerate(CONSENT)}
    cand = ev.loc[consent & ev["subject_id"].notna() & ev["ts"].notna()]
    cand = cand.assign(
        key=cand["subject_id"].astype("int64") * 8 + cand["purpose"].map(code).astype("int64")
    ).sort_values("ts")
    led = led[led["purpose"].isin(CONSENT) & led["subject_id"].notna() & led["granted_at"].notna()]
    led = led.groupby(["subject_id", "purpose", "granted_at"], as_index=False).agg(
        withdrawn_at=("withdrawn_at", "min"), expires_at=("expires_at", "min")
    )
    led = led.assign(
        key=led["subject_id"].astype("int64") * 8 + led["purpose"].map(code).astype("int64")
    ).sort_values("granted_at")
    merged = pd.merge_asof(
        cand[["event_id", "key", "ts"]],
        led[["key", "granted_at", "withdrawn_at", "expires_at"]],
        left_on="ts",
        right_on="granted_at",
        by="key",
        direction="backward",
        allow_exact_matches=True,
    )
    grace = pd.Timedelta(seconds=GRACE_S)
    verdict = np.select(
        [
            merged["granted_at"].isna().to_numpy(),
            (
                merged["withdrawn_at"].notna() & (merged["ts"] >= merged["withdrawn_at"] + grace)
            ).to_numpy(),
            (merged["expires_at"].notna() & (merged["ts"] >= merged["expires_at"])).to_numpy(),
        ],
        ["no_consent", "consent_withdrawn", "consent_expired"],
        default="",
    )
    timings["asof_join"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    joined = pd.Series(verdict, index=merged["event_id"].to_numpy())
    by_id = pd.Series(reason.to_numpy(), index=ev["event_id"].to_numpy())
    by_id.loc[joined.index] = joined.replace("", None).to_numpy()
    applies_ids = pd.Series(applies.to_numpy(), index=ev["event_id"].to_numpy())
    bad = by_id[applies_ids & by_id.notna()].sort_index()
    counts = bad.value_counts().sort_index()
    result = {
        "records_checked": int(applies.sum()),
        "violations": int(bad.size),
        "violations_by_reason": {str(k): int(v) for k, v in counts.items()},
        "findings": [[int(i), str(r)] for i, r in bad.iloc[:FINDINGS].items()],
        "sample": {
            str(i): (None if pd.isna(by_id.get(i)) or not applies_ids.get(i) else by_id.get(i))
            for i in sample_ids
            if i in by_id.index
        },
    }
    timings["collect"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t0
    result["timings"] = timings
    return result


def pandas_child(argv: list[str]) -> None:
    """Child entry point: run pandas_check and write its result as JSON."""
    events, ledger, sample_file, out = map(Path, argv)
    sample_ids = json.loads(sample_file.read_text()) if sample_file.is_file() else []
    result = pandas_check(events, ledger, sample_ids)
    out.write_text(json.dumps(result), encoding="utf-8")


# -- the plain Python oracle ---------------------------------------------------------------------


def brute_force(event_rows: list[tuple[Any, ...]], ledger_rows: list[tuple[Any, ...]]) -> dict:
    """Return each event's verdict (reason or None; absent when not applicable) by plain loops.

    Events: (event_id, subject_id, purpose, ts); ledger: (subject_id, purpose, granted_at,
    withdrawn_at, expires_at); timestamps as aware datetimes or None. The loops are the test
    suite's reference of the consent semantics (``tests/unit/rules/logs_reference.py``), so the
    benchmark and the oracle tests check against the same one.
    """
    from tests.unit.rules.logs_reference import consent_verdicts

    events = [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in event_rows]
    ledger = [dict(zip(LEDGER_COLUMNS, row, strict=True)) for row in ledger_rows]
    verdicts = consent_verdicts(
        events, ledger, purposes=PURPOSES, grace=dt.timedelta(seconds=GRACE_S)
    )
    return {int(event_id): reason for event_id, reason in verdicts.items()}


def choose_sample(events: Path, ledger: Path) -> list[int]:
    """Return 2,000 random event ids plus ids of every edge case, sorted."""
    import duckdb

    con = duckdb.connect()
    src, led = f"read_parquet('{events}')", f"read_parquet('{ledger}')"

    def ids_of(sql: str) -> set[int]:
        return {int(r[0]) for r in con.sql(sql).fetchall()}

    ids = ids_of(f"SELECT event_id FROM {src} USING SAMPLE reservoir({SAMPLE} ROWS) REPEATABLE (7)")
    for where in (
        "ts IS NULL",
        "subject_id IS NULL",
        "purpose = 'product_survey'",
        "purpose = 'order_confirmation'",
    ):
        ids |= ids_of(f"SELECT event_id FROM {src} WHERE {where} LIMIT 20")
    ids |= ids_of(f"SELECT event_id FROM {src} GROUP BY event_id HAVING count(*) > 1 LIMIT 20")
    for instant in (
        "l.granted_at",
        "l.withdrawn_at",
        f"l.withdrawn_at + INTERVAL {GRACE_S} SECOND",
    ):
        ids |= ids_of(
            f"SELECT e.event_id FROM {src} e JOIN {led} l ON e.subject_id = l.subject_id "
            f"AND e.purpose = l.purpose AND e.ts = {instant} LIMIT 30"
        )
    con.close()
    return sorted(ids)


def sample_rows(events: Path, ledger: Path, ids: list[int]) -> tuple[list, list]:
    """Return the raw event rows of ``ids`` and the ledger rows of their subjects."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TEMP TABLE ids AS SELECT unnest($1::BIGINT[]) AS event_id", [ids])
    rows = con.sql(
        f"SELECT e.event_id, e.subject_id, CAST(e.purpose AS VARCHAR), e.ts "
        f"FROM read_parquet('{events}') e JOIN ids USING (event_id)"
    ).fetchall()
    subjects = sorted({r[1] for r in rows if r[1] is not None})
    led = con.execute(
        f"SELECT subject_id, CAST(purpose AS VARCHAR), granted_at, withdrawn_at, expires_at "
        f"FROM read_parquet('{ledger}') WHERE subject_id = ANY($1::BIGINT[])",
        [subjects],
    ).fetchall()
    con.close()
    return rows, led


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Run:
    """One measured child process."""

    wall_s: float
    peak_rss_mib: float


@dataclass
class Row:
    """The runs of one method."""

    method: str
    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        """Return the median wall time."""
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def rss(self) -> float:
        """Return the median peak RSS."""
        return statistics.median(r.peak_rss_mib for r in self.runs)


def measure(command: list[str], *, log_path: Path, ok: tuple[int, ...] = (0,)) -> Run:
    """Run ``command`` as the only child of a wrapper; return its wall time and peak RSS."""
    _, wall_s, peak_mib = measure_wrapped(command, log_path=log_path, ok_codes=ok)
    return Run(wall_s=wall_s, peak_rss_mib=peak_mib)


FLOOR = """\
import duckdb, sys
con = duckdb.connect()
events = "event_id, subject_id, purpose, ts"
ledger = "subject_id, purpose, granted_at, withdrawn_at, expires_at"
for columns, path in ((events, sys.argv[1]), (ledger, sys.argv[2])):
    sql = f"SELECT count(*), sum(hash({columns})) FROM read_parquet('{path}')"
    print(con.sql(sql).fetchall())
"""


# -- comparing ---------------------------------------------------------------------------------


def compare(report: dict[str, Any], pandas: dict[str, Any]) -> list[str]:
    """Return the differences between ethicsgate's report and the pandas result."""
    rule = report["rules"][0]
    problems = []
    for key in ("records_checked", "violations", "violations_by_reason"):
        if rule[key] != pandas[key]:
            problems.append(f"{key}: ethicsgate {rule[key]!r} vs pandas {pandas[key]!r}")
    mine = [[int(f["record_id"]), f["reason"]] for f in rule["findings"]]
    if mine != pandas["findings"]:
        first = next(
            (i for i, (a, b) in enumerate(zip(mine, pandas["findings"], strict=False)) if a != b),
            min(len(mine), len(pandas["findings"])),
        )
        problems.append(f"findings differ from position {first}")
    return problems


def compare_sample(
    brute: dict[int, str | None], ethicsgate: dict[int, str], pandas: dict[str, str | None]
) -> list[str]:
    """Return the events on which the brute force, ethicsgate and pandas disagree."""
    problems = []
    for event_id, verdict in brute.items():
        mine = ethicsgate.get(event_id)
        theirs = pandas.get(str(event_id))
        if mine != verdict or theirs != verdict:
            problems.append(
                f"event {event_id}: brute {verdict}, ethicsgate {mine}, pandas {theirs}"
            )
    return problems


# -- docs ----------------------------------------------------------------------------------------


def machine_line() -> str:
    """Return a line describing the machine and the library versions."""
    ram = ram_gib()
    mem = float("nan") if ram is None else ram
    versions = ", ".join(
        f"{name} {package_version(name)}" for name in ("duckdb", "pandas", "numpy", "pyarrow")
    )
    return (
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, {mem:.1f} GiB RAM, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, {versions}, ethicsgate "
        f"{package_version('ethicsgate')}. Measured {dt.date.today().isoformat()}; 1-minute "
        f"load average {LOAD[0]:.2f} before and {os.getloadavg()[0]:.2f} after the runs (other "
        "work on the machine slows every method alike)."
    )


def section(
    events: int,
    ledger: int,
    rows: list[Row],
    pandas: dict[str, Any],
    report: dict[str, Any],
    sample_size: int,
    repeat: int,
) -> str:
    """Return the Markdown section for docs/benchmarks.md."""
    rule = report["rules"][0]
    pandas_wall = next(r.wall for r in rows if r.method == METHOD_PANDAS)
    table = [
        "| method | runs | wall s (median) | peak RSS MB (median) | vs pandas |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        ratio = pandas_wall / row.wall if row.wall else float("nan")
        table.append(
            f"| {row.method} | {len(row.runs)} | {row.wall:.2f} | {row.rss:,.0f} | {ratio:.2f}× |"
        )
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in pandas["timings"].items() if k != "total")
    reasons = ", ".join(f"{k} {v:,}" for k, v in rule["violations_by_reason"].items())
    lines = [
        START_MARK,
        SECTION_TITLE,
        "",
        "Generated by `benchmarks/bench_consent.py`; do not edit by hand between the markers.",
        "",
        f"{events:,} processing events (Parquet, with exact duplicates and every kind of "
        f"violation) against {ledger:,} consent records: one `kind: consent`, "
        "`check: consent_valid` rule, `grace: 48h`, three consent purposes, one contract purpose "
        "and one undeclared purpose in the data. ethicsgate is timed end to end through its CLI "
        "(start-up, reading both files into typed DuckDB tables, collapsing duplicates and "
        "checking ids, the ASOF LEFT JOIN, counts and the first 1,000 findings, hashing the "
        "evidence, writing the three report files). The alternative reads both files with pandas "
        "and runs the same check with `pd.merge_asof` on an integer key (tied ledger records "
        "merged first, reasons vectorised with `np.select`); its own steps took: "
        f"{steps}. The floor is a DuckDB query that decodes the nine columns and nothing else. "
        "Each measurement is a fresh child process of a wrapper that times it and reads its "
        f"`ru_maxrss` (MB = 2^20 bytes); medians of {repeat} run(s); files in the page cache.",
        "",
        "Reproduce (from the repository root):",
        "",
        "```sh",
        ".venv/bin/python benchmarks/bench_consent.py",
        "```",
        "",
        machine_line(),
        "",
        *table,
        "",
        f"Result (both methods): {rule['records_checked']:,} events need consent or have no "
        f"declared legal basis; {rule['violations']:,} violate ({reasons}).",
        "",
        "Checked in the same run: ethicsgate's report and pandas agree on the records checked, "
        "the violations by reason and the first 1,000 findings (event id and reason); and on "
        f"{sample_size:,} sampled events (random, plus every edge case: missing timestamp or "
        "subject, undeclared and contract purposes, exact grant and withdrawal instants, "
        "duplicated events) a plain Python loop over the raw rows gives the same verdict per "
        "event as ethicsgate (run on just those events through an evidence filter) and as "
        "pandas.",
        END_MARK,
    ]
    return "\n".join(lines) + "\n"


def write_docs(text: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md (create the file if missing)."""
    update_doc_section(text, START_MARK, END_MARK, atomic=True)


# -- main ----------------------------------------------------------------------------------------


def main() -> None:
    """Generate data, measure, check the oracles, and write the docs section."""
    if len(sys.argv) > 1 and sys.argv[1] == "--pandas-child":
        pandas_child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=parse_size, default=10_000_000)
    parser.add_argument("--ledger", type=parse_size, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()

    events, ledger = ensure_data(args.events, args.ledger, regenerate=args.regenerate)
    spec = write_spec(events, ledger, name=f"run-{args.events}")
    sample = choose_sample(events, ledger)
    sample_file = DATA_DIR / "sample-ids.json"
    sample_file.write_text(json.dumps(sample), encoding="utf-8")
    warm_cache(events, ledger)
    out_dir = DATA_DIR / f"run-{args.events}" / "report"
    pandas_out = DATA_DIR / f"run-{args.events}" / "pandas.json"
    rows = [Row(METHOD_ETHICSGATE), Row(METHOD_PANDAS), Row(METHOD_FLOOR)]
    for attempt in range(args.repeat):
        log(f"run {attempt + 1}/{args.repeat}: ethicsgate")
        rows[0].runs.append(
            measure(
                ethicsgate_command(spec, out_dir),
                log_path=DATA_DIR / "ethicsgate.log",
                ok=(0, 1),
            )
        )
        log(f"  {rows[0].runs[-1]}")
        log(f"run {attempt + 1}/{args.repeat}: pandas")
        rows[1].runs.append(
            measure(
                [
                    sys.executable,
                    __file__,
                    "--pandas-child",
                    str(events),
                    str(ledger),
                    str(sample_file),
                    str(pandas_out),
                ],
                log_path=DATA_DIR / "pandas.log",
            )  # fmt: skip
        )
        log(f"  {rows[1].runs[-1]}")
        rows[2].runs.append(
            measure(
                [sys.executable, "-c", FLOOR, str(events), str(ledger)],
                log_path=DATA_DIR / "floor.log",
            )
        )
        log(f"  floor {rows[2].runs[-1]}")

    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    pandas = json.loads(pandas_out.read_text(encoding="utf-8"))
    problems = compare(report, pandas)

    log(f"oracle: brute force on {len(sample):,} sampled events")
    from ethicsgate.audit import run_audit

    sample_spec = write_spec(events, ledger, name="sample", sample=sample)
    sample_result = run_audit(sample_spec)
    ethicsgate_sample = {int(f.record_id): f.reason for f in sample_result.rules[0].findings}
    event_rows, ledger_rows = sample_rows(events, ledger, sample)
    brute = brute_force(event_rows, ledger_rows)
    problems += compare_sample(brute, ethicsgate_sample, pandas["sample"])
    if sample_result.rules[0].records_checked != len(brute):
        problems.append(
            f"sample: ethicsgate checked {sample_result.rules[0].records_checked} events, "
            f"brute force {len(brute)}"
        )
    for row in rows:
        log(f"{row.method}: {row.wall:.2f} s, {row.rss:,.0f} MB")
    if problems:
        for problem in problems[:20]:
            log(f"DIFFERENCE: {problem}")
        raise SystemExit(f"{len(problems)} difference(s); docs not written")
    log("oracles: all agree")
    text = section(args.events, args.ledger, rows, pandas, report, len(sample), args.repeat)
    print(text)
    if not args.no_docs:
        write_docs(text)
        log(f"wrote {DOC_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
