"""What pinning a table costs: the evidence identity digest in bare-scan units.

The same N rows (``bench_engines_sql``'s formula: sex, race, label, prediction, score) in a
PostgreSQL table and a Parquet file Spark reads by URI (``file://``, so Spark's digest pins
it, as it pins a catalog table). For each engine, through the engines' own code:

- *bare scan*: PostgreSQL ``count(*)``; Spark ``count`` of every column (a Parquet
  ``count(*)`` reads no column);
- *grouped pass*: the selection audit's ``grouped_counts`` with the identity already known
  (no digest), and again on a fresh dataset, which folds the digest into it;
- *digest alone*: ``identity()`` on a fresh dataset (one pass of its own, for audits with no
  grouped pass);
- *before* (PostgreSQL only): the previous digest, md5 of every row's text summed as
  ``sum-md5-128``; Spark had no digest.

Runs interleave the cases; the best of ``--runs`` is shown (the previous md5 digest runs
once at 10^7 rows). The digest's cost is *added to the grouped pass* (with minus without)
and *alone*, both divided by the bare scan.

Results go to ``docs/benchmarks.md`` between ``<!-- bench_identity:start -->`` and
``<!-- bench_identity:end -->``. Run: ``python benchmarks/bench_identity.py [--sizes
1e6,1e7]`` with ``ETHICSGATE_TEST_POSTGRES_URL`` set and Java 17 for Spark.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa
from _common import log, machine_info, parse_count, update_doc_section
from bench_engines_sql import _select

from ethicsgate.engines.sql.digest import row_hash_sql
from ethicsgate.evidence.model import TableIdentity
from ethicsgate.evidence.spec import EvidenceSpec

START = "<!-- bench_identity:start -->"
END = "<!-- bench_identity:end -->"
TABLE = "bench_identity.applicants"
ROLES = ["sex", "race", "label", "prediction"]
#: The digest before this benchmark's change: md5 of each row's text, summed modulo 2^128.
MD5_DIGEST = (
    "SELECT count(*), sum(hi), sum(lo), count(*) FILTER (WHERE lo < 0) FROM (SELECT "
    "CAST(CAST(('x' || _h) AS bit(64)) AS bigint) AS hi, "
    "CAST(CAST(('x' || right(_h, 16)) AS bit(64)) AS bigint) AS lo "
    f"FROM (SELECT md5(CAST(_s AS text)) AS _h FROM (SELECT * FROM {TABLE}) AS _s) AS _m) AS _d"
)
_KNOWN = TableIdentity("-", None, None, 0, "-", "-")
_ROW = f"(SELECT * FROM {TABLE}) AS _s"
_H = row_hash_sql(
    [("_s.sex", "text"), ("_s.race", "text"), ("_s.label", "integer"),
     ("_s.prediction", "integer"), ("_s.score", "double precision")]
)  # fmt: skip
#: Other ways to digest every row in PostgreSQL, each as a pass of its own (measured once).
ALTERNATIVES = {
    "md5 of the row's text, 128-bit sum (before)": MD5_DIGEST,
    "md5 of the row's text, once per row, one 64-bit lane": (
        "SELECT count(*), sum(CAST(CAST(('x' || left(md5(CAST(_s AS text)), 16)) AS bit(64)) "
        f"AS bigint)) FROM {_ROW}"
    ),
    "hashtextextended of the row's text, two lanes": (
        "SELECT count(*), sum(hashtextextended(CAST(_s AS text), 0)), "
        f"sum(hashtextextended(CAST(_s AS text), 1)) FROM {_ROW}"
    ),
    "hash_record_extended of the whole row, two lanes": (
        "SELECT count(*), sum(hash_record_extended(_s, 0)), sum(hash_record_extended(_s, 1)) "
        f"FROM {_ROW}"
    ),
    "typed extended hash per column, two lanes (h, hashint8extended(h, 0))": (
        f"SELECT count(*), sum({_H}), sum(hashint8extended({_H}, 0)) FROM {_ROW}"
    ),
}


def _best(cases: dict[str, Callable[[], Any]], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            times[name].append(time.perf_counter() - start)
    return {name: min(found) for name, found in times.items()}


def _prepare_pg(rows: int, url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                              isolation_level="AUTOCOMMIT")  # fmt: skip
    select = (
        _select(f"generate_series(1, {rows}) AS t(i)")
        .replace("AS INTEGER", "AS integer")
        .replace("% 1000003 AS DOUBLE PRECISION", "% 1000003 AS double precision")
        .replace("i * 2654435761", "CAST(i AS bigint) * 2654435761")
        .replace("i * 104729", "CAST(i AS bigint) * 104729")
        .replace("i * 7919", "CAST(i AS bigint) * 7919")
    )
    with engine.connect() as con:
        con.execute(sa.text("CREATE SCHEMA IF NOT EXISTS bench_identity"))
        con.execute(sa.text(f"DROP TABLE IF EXISTS {TABLE}"))
        con.execute(sa.text(f"CREATE TABLE {TABLE} AS {select}"))
        con.execute(sa.text(f"VACUUM ANALYZE {TABLE}"))
    engine.dispose()


def _pg(rows: int, url: str, runs: int) -> dict[str, float]:
    from ethicsgate.engines.sql import open_sql_engine

    _prepare_pg(rows, url)
    spec = EvidenceSpec(table=TABLE)
    with open_sql_engine(url) as engine:

        def fresh() -> Any:
            return engine.open("a", spec, base_dir=Path.cwd(), locate=lambda key: None)

        def known() -> Any:
            dataset = fresh()
            dataset._identity = _KNOWN  # the digest is known: the pass computes none
            return dataset

        def bare() -> None:
            engine.con.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).all()

        bare()  # warm the cache
        found = _best(
            {
                "bare": bare,
                "grouped": lambda: known().grouped_counts(roles=ROLES),
                "grouped+digest": lambda: fresh().grouped_counts(roles=ROLES),
                "alone": lambda: fresh().identity(),
            },
            runs,
        )
        for name, sql in ALTERNATIVES.items():
            log(f"{rows:,} rows: PostgreSQL, {name}")
            found |= _best(
                {name: lambda sql=sql: engine.con.execute(sa.text(sql)).all()},
                1 if rows >= 10_000_000 else runs,
            )
        found["before"] = found[next(iter(ALTERNATIVES))]
    return found


def _spark(rows: int, folder: Path, runs: int, engine: Any) -> dict[str, float]:
    parquet = folder / f"applicants-{rows}.parquet"
    con = duckdb.connect()
    con.execute(f"COPY ({_select(f'range(1, {rows} + 1) t(i)')}) TO '{parquet}' (FORMAT parquet)")
    con.close()
    spec = EvidenceSpec(path=f"file://{parquet}", format="parquet")

    def fresh() -> Any:
        return engine.open("a", spec, base_dir=folder, locate=lambda key: None)

    def known() -> Any:
        dataset = fresh()
        dataset._identity = _KNOWN
        return dataset

    columns = ", ".join(f"count({c})" for c in ("sex", "race", "label", "prediction", "score"))

    def bare() -> None:
        engine.spark.sql(f"SELECT count(*), {columns} FROM parquet.`{parquet}`").collect()

    bare()  # warm the JIT and the page cache
    fresh().grouped_counts(roles=ROLES)
    return _best(
        {
            "bare": bare,
            "grouped": lambda: known().grouped_counts(roles=ROLES),
            "grouped+digest": lambda: fresh().grouped_counts(roles=ROLES),
            "alone": lambda: fresh().identity(),
        },
        runs,
    )


def _line(rows: int, engine: str, kind: str, t: dict[str, float]) -> str:
    bare = t["bare"]
    added = max(t["grouped+digest"] - t["grouped"], 0.0)
    before = (
        f"{t['before']:.2f} s = {t['before'] / bare:.1f}×" if "before" in t else "none (no digest)"
    )
    return (
        f"| {rows:,} | {engine} | `{kind}` | {bare:.2f} | {t['grouped']:.2f} | "
        f"{t['grouped+digest']:.2f} | {added / bare:.2f}× | {t['alone']:.2f} s = "
        f"{t['alone'] / bare:.1f}× | {before} |"
    )


def run(sizes: list[int], runs: int, engines: list[str]) -> str:
    url = os.environ["ETHICSGATE_TEST_POSTGRES_URL"]
    lines: list[str] = []
    others: list[str] = []
    loads = [os.getloadavg()[0]]
    version = "?"
    spark = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for rows in sizes:
                if "postgresql" in engines:
                    log(f"{rows:,} rows: PostgreSQL")
                    found = _pg(rows, url, runs)
                    lines.append(_line(rows, "PostgreSQL", "sum-pghash-64", found))
                    log(lines[-1])
                    others += [
                        f"| {rows:,} | {name} | {found[name]:.2f} | "
                        f"{found[name] / found['bare']:.1f}× |"
                        for name in ALTERNATIVES
                    ]
                    others.append(
                        f"| {rows:,} | typed extended hash per column, one lane (chosen) | "
                        f"{found['alone']:.2f} | {found['alone'] / found['bare']:.1f}× |"
                    )
                if "spark" in engines:
                    if spark is None:
                        from ethicsgate.engines.spark import SparkEngine

                        spark = SparkEngine("local[2]", conf={"spark.ui.enabled": "false"})
                        version = spark.spark.version
                    log(f"{rows:,} rows: Spark")
                    found = _spark(rows, Path(tmp), runs, spark)
                    lines.append(_line(rows, "Spark local[2]", "sum-xxhash64-2x64", found))
                    log(lines[-1])
                loads.append(os.getloadavg()[0])
    finally:
        if spark is not None:
            spark.close()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as con:
        server = con.execute(sa.text("SHOW server_version")).scalar()
    engine.dispose()
    info = machine_info(["sqlalchemy", "psycopg", "pyspark"])
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    return "\n".join(
        [
            START,
            "## Pinning a table: the identity digest in bare-scan units (`bench_identity`)",
            "",
            "Generated by `benchmarks/bench_identity.py`; do not edit by hand between the markers.",
            "",
            f"Measured {when} on {info['cpu']} ({info['cores']} cores, {info['ram']}, shared: "
            f"1-minute load average {min(loads):.1f} to {max(loads):.1f} during the runs), "
            f"PostgreSQL {server} on the same machine, Spark {version} local[2] (PySpark "
            f"{info['pyspark']}). The same rows in both (five columns, sex × race); seconds, "
            f"the best of {runs} interleaved runs (the previous md5 digest once at 10^7). "
            "*bare*: PostgreSQL `count(*)`, Spark a count of every column; *grouped*: the "
            "selection audit's grouped pass without the digest; *+ digest*: the same pass "
            "computing the digest on the way; *added*: their difference in bare scans; "
            "*alone*: the digest as a pass of its own (audits without a grouped pass); "
            "*before*: the previous digest (PostgreSQL: md5 of every row's text; Spark had "
            "none).",
            "",
            "| rows | engine | digest | bare s | grouped s | + digest s | added | alone | before |",
            "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            *lines,
            "",
            "The ways of digesting every row in PostgreSQL that were weighed, each as a pass "
            "of its own (the best of the runs; once at 10^7), in bare scans (`count(*)`):",
            "",
            "| rows | per-row hash, folded by sums | s | × bare |",
            "| ---: | --- | ---: | ---: |",
            *others,
            "",
            "Reproduce: `ETHICSGATE_TEST_POSTGRES_URL=$(bash .ci/start-postgres) "
            ".venv/bin/python benchmarks/bench_identity.py --sizes 1e6,1e7`",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="postgresql,spark")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    section = run(
        [parse_count(s) for s in args.sizes.split(",")], args.runs, args.engines.split(",")
    )
    print(section)
    if not args.no_write:
        update_doc_section(section, START, END)


if __name__ == "__main__":
    main()
