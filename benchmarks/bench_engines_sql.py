"""Audits where the data lives: DuckDB over Parquet against PostgreSQL over a table.

The same N rows (sex x race, a label, a prediction and a score, made by one deterministic
formula in each engine, so nothing is copied between them) are audited twice in this process:

- DuckDB (the default engine) over a Parquet file of them;
- the SQL engine (``--engine postgresql://...``) over a PostgreSQL table of them.

Audits: *selection* (an LL144 selection rule: grouped counts, no bootstrap) and *scoring*
(an LL144 scoring rule: exact median and impact ratios). For PostgreSQL the benchmark counts
the statements that read the evidence table (the *passes*: the scans, with the identity
digest summed in the grouped pass; the probes that read no rows are not counted) and the
bytes of the rows the database returned to the driver (the text of every fetched row); the
floor is one ``count(*)`` over the table, one bare pass. Both engines must give the same
rule statuses and impact ratios.

Results go to ``docs/benchmarks.md`` between ``<!-- bench_engines_sql:start -->`` and
``<!-- bench_engines_sql:end -->``. Run: ``python benchmarks/bench_engines_sql.py [--sizes
1e6,1e7]`` with ``ETHICSGATE_TEST_POSTGRES_URL`` set (``bash .ci/start-postgres``), or with
the ``pgserver`` wheel installed (a private server is started).
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa
from _common import log, machine_info, parse_count, update_doc_section

from ethicsgate.audit import run_audit

START = "<!-- bench_engines_sql:start -->"
END = "<!-- bench_engines_sql:end -->"
TABLE = "bench_engines.applicants"
POLICY = """\
schema_version: 1
id: bench-engines
version: "1"
title: Engines benchmark
owner: Benchmarks
rules:
  - id: selection
    kind: fairness
    dataset: applicants
    sensitive_features: [sex, race]
    impact_ratio: selection
    metrics: [selection_rate]
    min_group_size: 30
    assert:
      - {metric: impact_ratio, op: ">=", value: 0.8}
  - id: scoring
    kind: fairness
    dataset: applicants
    severity: warn
    sensitive_features: [sex, race]
    impact_ratio: scoring
    min_group_size: 30
    assert:
      - {metric: impact_ratio, op: ">=", value: 0.8}
"""
#: The same rows in both engines: i = 1..N; integer arithmetic only, then one division.
COLUMNS = {
    "sex": "CASE WHEN i % 2 = 0 THEN 'Female' ELSE 'Male' END",
    "race": "CASE i % 5 WHEN 0 THEN 'Asian' WHEN 1 THEN 'Black' WHEN 2 THEN 'Hispanic' "
    "WHEN 3 THEN 'White' ELSE 'Other' END",
    "label": "CAST((i * 7919) % 10 < 3 AS INTEGER)",
    "prediction": "CAST((i * 104729) % 100 < 40 + (i % 5) * 3 AS INTEGER)",
    "score": "CAST((i * 2654435761) % 1000003 AS DOUBLE PRECISION) / 1000003",
}


def _select(source: str) -> str:
    return "SELECT " + ", ".join(f"{e} AS {c}" for c, e in COLUMNS.items()) + f" FROM {source}"


def _server() -> tuple[str, Any]:
    url = os.environ.get("ETHICSGATE_TEST_POSTGRES_URL")
    if url:
        return url, None
    import pgserver

    server = pgserver.get_server(tempfile.mkdtemp(prefix="bench-pg-"), cleanup_mode="delete")
    return server.get_uri(), server


def _sa(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


class _Meter:
    """Count the statements reading the table and the bytes of the rows fetched."""

    def __init__(self) -> None:
        self.passes = 0
        self.bytes = 0
        self.digest_s = 0.0
        self.statements: list[str] = []

    def install(self) -> None:
        import psycopg

        meter = self
        originals = {n: getattr(psycopg.Cursor, n) for n in ("fetchall", "fetchmany", "fetchone")}

        def wrap(name: str) -> Any:
            original = originals[name]

            def counted(cursor: Any, *args: Any, **kwargs: Any) -> Any:
                rows = original(cursor, *args, **kwargs)
                if name == "fetchone":
                    meter.bytes += len(repr(rows)) if rows is not None else 0
                else:
                    meter.bytes += sum(len(repr(r)) for r in rows)
                return rows

            return counted

        for name in originals:
            setattr(psycopg.Cursor, name, wrap(name))

        @sa.event.listens_for(sa.Engine, "before_cursor_execute")
        def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            conn.info["started"] = time.perf_counter()
            if TABLE in statement and not re.search(r"LIMIT 0\s*$", statement.strip()):
                meter.passes += 1
                meter.statements.append(statement[:120])

        @sa.event.listens_for(sa.Engine, "after_cursor_execute")
        def _time(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            # a digest pass of its own (a fairness audit sums the digest in its grouped pass)
            if "extended(" in statement and TABLE in statement and "_eg_digest" not in statement:
                meter.digest_s += time.perf_counter() - conn.info["started"]

    def reset(self) -> None:
        self.passes = self.bytes = 0
        self.digest_s = 0.0
        self.statements = []


def _prepare(rows: int, url: str, folder: Path) -> Path:
    parquet = folder / f"applicants-{rows}.parquet"
    con = duckdb.connect()
    con.execute(f"COPY ({_select(f'range(1, {rows} + 1) t(i)')}) TO '{parquet}' (FORMAT parquet)")
    con.close()
    engine = sa.create_engine(_sa(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text("CREATE SCHEMA IF NOT EXISTS bench_engines"))
        c.execute(sa.text(f"DROP TABLE IF EXISTS {TABLE}"))
        c.execute(
            sa.text(
                f"CREATE TABLE {TABLE} AS "
                + _select(f"generate_series(1, {rows}) AS t(i)")
                .replace("AS INTEGER", "AS integer")
                .replace("% 1000003 AS DOUBLE PRECISION", "% 1000003 AS double precision")
                .replace("i * 2654435761", "CAST(i AS bigint) * 2654435761")
                .replace("i * 104729", "CAST(i AS bigint) * 104729")
                .replace("i * 7919", "CAST(i AS bigint) * 7919")
            )
        )
        # a settled table, as audited tables are: hint bits and the visibility map set, so
        # neither the floor nor the audits pay for the load's first reads, and autovacuum
        # does not compete with the runs
        c.execute(sa.text(f"VACUUM (FREEZE, ANALYZE) {TABLE}"))
    engine.dispose()
    return parquet


def _spec(folder: Path, evidence: str, name: str) -> Path:
    spec = folder / name
    spec.write_text(
        "schema_version: 1\nid: bench-engines\npolicy: policy.yaml\nevidence:\n  applicants:\n"
        f"{evidence}"
    )
    return spec


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 10)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items() if k != "distinct_estimate"}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _ratios(result: Any) -> list[Any]:
    return [
        _rounded(r.impact_ratio.model_dump(mode="json")) for r in result.rules if r.impact_ratio
    ]


def run(sizes: list[int], audits: list[str]) -> str:
    url, server = _server()
    meter = _Meter()
    meter.install()
    lines = []
    warmed: set[str] = set()
    version = "?"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for rows in sizes:
                log(f"{rows:,} rows: preparing")
                parquet = _prepare(rows, url, folder)
                engine = sa.create_engine(_sa(url))
                with engine.connect() as c:
                    start = time.perf_counter()
                    c.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).all()
                    floor = time.perf_counter() - start
                engine.dispose()
                size = sa.create_engine(_sa(url))
                with size.connect() as c:
                    table_mb = c.execute(
                        sa.text(f"SELECT pg_total_relation_size('{TABLE}') / 1e6")
                    ).scalar()
                    version = c.execute(sa.text("SHOW server_version")).scalar()
                size.dispose()
                head, scoring = POLICY.split("  - id: scoring")
                selection = head
                head = head.split("  - id: selection")[0]
                for audit, policy in (
                    ("selection", selection),
                    ("scoring", head + "  - id: scoring" + scoring),
                ):
                    if audit not in audits:
                        continue
                    duck_spec = _spec(folder, f"    path: {parquet}\n", "duck.yaml")
                    pg_spec = _spec(folder, f"    table: {TABLE}\n", "pg.yaml")
                    (folder / "policy.yaml").write_text(policy)
                    log(f"{rows:,} rows, {audit}: DuckDB")
                    if audit not in warmed:  # the first audit in the process imports the rules
                        run_audit(duck_spec)
                        warmed.add(audit)
                    start = time.perf_counter()
                    duck = run_audit(duck_spec)
                    duck_s = time.perf_counter() - start
                    log(f"{rows:,} rows, {audit}: PostgreSQL")
                    meter.reset()
                    start = time.perf_counter()
                    pg = run_audit(pg_spec, engine_target=url)
                    pg_s = time.perf_counter() - start
                    same = [r.status for r in pg.rules] == [r.status for r in duck.rules] and (
                        _ratios(pg) == _ratios(duck)
                    )
                    lines.append(
                        f"| {rows:,} | {audit} | {duck_s:.2f} | {pg_s:.2f} | "
                        f"{meter.digest_s:.2f} | {floor:.2f} | "
                        f"{meter.passes} | {meter.bytes / 1e3:,.1f} | {table_mb:,.0f} | "
                        f"{'yes' if same else 'NO'} |"
                    )
                    log(lines[-1])
                    if not same:
                        raise SystemExit("the engines disagree")
    finally:
        if server is not None:
            server.cleanup()
    info = machine_info(["duckdb", "sqlalchemy", "psycopg"])
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    return "\n".join(
        [
            START,
            "## Audits in PostgreSQL: DuckDB over Parquet against the SQL engine over a table",
            "",
            "Generated by `benchmarks/bench_engines_sql.py`; do not edit by hand between the "
            "markers.",
            "",
            f"Measured {when} on {info['cpu']} ({info['cores']} cores, {info['ram']}, shared), "
            f"DuckDB {info['duckdb']}, PostgreSQL {version} on the same machine (no network), "
            f"SQLAlchemy {info['sqlalchemy']}, psycopg {info['psycopg']}. The same "
            "rows in both engines (sex × race, 10 groups); *selection*: one LL144 selection "
            "rule; *scoring*: one LL144 scoring rule (exact median, impact ratios). Seconds "
            "wall for the whole `run_audit`; *floor*: PostgreSQL's bare `count(*)` over the "
            "table; *passes*: statements reading the table (the evidence identity's digest "
            "is summed in the grouped pass); *of which digest*: a digest pass of its own, "
            "if any; *returned*: the text of every row PostgreSQL sent to the driver; "
            "*same*: equal rule statuses and impact ratios (to 1e-12).",
            "",
            "| rows | audit | DuckDB s | PostgreSQL s | of which digest s | floor s | passes | "
            "returned kB | table MB | same |",
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            *lines,
            "",
            "Reproduce: `ETHICSGATE_TEST_POSTGRES_URL=$(bash .ci/start-postgres) "
            ".venv/bin/python benchmarks/bench_engines_sql.py --sizes 1e6,1e7`",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7")
    parser.add_argument("--audits", default="selection,scoring")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    section = run([parse_count(s) for s in args.sizes.split(",")], args.audits.split(","))
    print(section)
    if not args.no_write:
        update_doc_section(section, START, END)


if __name__ == "__main__":
    main()
