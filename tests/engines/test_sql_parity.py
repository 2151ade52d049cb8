"""Parity: the shipped audits give the same results on PostgreSQL tables as on DuckDB files.

Each audit's evidence files are loaded into tables of a real PostgreSQL server (through DuckDB,
so both engines see the same values and types), the audit spec is rewritten to name the tables
(``table:``) and run with ``engine_target`` set to the server. The DuckDB run over the files is
the oracle: rule statuses, messages, every metric (to 1e-12), the LL144 tables, the findings
listed in report.json and every row of findings.parquet must agree. The only field allowed to
differ is the score's distinct-value *estimate*: DuckDB's is a HyperLogLog, PostgreSQL's exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
import yaml
from tests.conftest import PROPUBLICA_CSV, ROOT
from tests.engines.conftest import load_table
from tests.jsonclose import differences

from ethicsgate.engines import redact_target
from ethicsgate.session.audit import run_collecting_findings

AUDITS = [
    "compas-example",
    "bakery",
    "nyc-ll144-example",
    "compas-propublica",
    "ca-sb243-companion-chatbots",
]


def _to_tables(spec: Path, engine: sa.Engine, schema: str, out: Path) -> tuple[Path, Path]:
    """Load the spec's evidence files into ``schema``; return the file spec and the table spec.

    The ProPublica file is not shipped: it is read from the shared datasets.
    """
    data = yaml.safe_load(spec.read_text())
    data["policy"] = str((spec.parent / data["policy"]).resolve())
    files = yaml.safe_load(yaml.safe_dump(data))
    for name, evidence in data["evidence"].items():
        table = f"{schema}.{name}"
        path = (spec.parent / evidence.pop("path")).resolve()
        if path.name == PROPUBLICA_CSV.name:
            path = PROPUBLICA_CSV
        files["evidence"][name]["path"] = str(path)
        load_table(engine, path, table)
        evidence["table"] = table
    (out / "files").mkdir(exist_ok=True)
    (out / "tables").mkdir(exist_ok=True)
    file_spec, table_spec = out / "files" / spec.name, out / "tables" / spec.name
    file_spec.write_text(yaml.safe_dump(files, sort_keys=False))
    table_spec.write_text(yaml.safe_dump(data, sort_keys=False))
    return file_spec, table_spec


def _differences(pg: Any, duck: Any) -> list[str]:
    """Return where PostgreSQL's rule results differ from DuckDB's (floats to 1e-12)."""
    # distinct_estimate: HyperLogLog (DuckDB) against an exact count (PostgreSQL)
    return differences(duck, pg, skip={"distinct_estimate"})


@pytest.mark.parametrize("audit", AUDITS)
def test_postgres_tables_match_duckdb_files(
    audit: str, pg_url: str, pg_engine: sa.Engine, tmp_path: Path
) -> None:
    spec = ROOT / "audits" / f"{audit}.yaml"
    if audit == "compas-propublica" and not PROPUBLICA_CSV.is_file():
        pytest.skip(f"evidence not shipped: {PROPUBLICA_CSV}")
    schema = f"parity_{audit.replace('-', '_')}"
    files, tables = _to_tables(spec, pg_engine, schema, tmp_path)

    duck, duck_findings = run_collecting_findings(files)
    pg, pg_findings = run_collecting_findings(tables, engine_target=pg_url)

    assert pg.status == duck.status
    assert [r.status for r in pg.rules] == [r.status for r in duck.rules]
    assert (
        _differences(pg.model_dump(mode="json")["rules"], duck.model_dump(mode="json")["rules"])
        == []
    )
    # findings.parquet: the same rows (ids, reasons, fields) in the same order
    pg_rows = pq.read_table(pg_findings.path)
    duck_rows = pq.read_table(duck_findings.path)
    assert pg_rows.schema == duck_rows.schema
    assert pg_rows.to_pylist() == duck_rows.to_pylist()
    # the evidence is pinned by its identity in the database, not by files
    for evidence in pg.audit.evidence:
        assert evidence.files == [] and evidence.table is not None
        assert evidence.table.table == f"{schema}.{evidence.name}"
        assert evidence.table.rows == evidence.rows_read
        assert evidence.table.engine == redact_target(pg_url)


def test_parity_compares_something(pg_engine: sa.Engine, pg_url: str, tmp_path: Path) -> None:
    """The comparison can fail: a changed row in the table changes a metric and a finding."""
    spec = ROOT / "audits" / "compas-example.yaml"
    files, tables = _to_tables(spec, pg_engine, "parity_changed", tmp_path)
    with pg_engine.connect() as con:
        con.execute(
            sa.text(
                "UPDATE parity_changed.predictions SET score = 1 - score WHERE ctid IN "
                "(SELECT ctid FROM parity_changed.predictions WHERE race = 'Asian' LIMIT 5)"
            )
        )
    duck, _ = run_collecting_findings(files)
    pg, _ = run_collecting_findings(tables, engine_target=pg_url)
    found = _differences(pg.model_dump(mode="json")["rules"], duck.model_dump(mode="json")["rules"])
    assert any("false_positive_rate" in d or "selection_rate" in d for d in found), found


@pytest.mark.parametrize("every", ["month", "week", "quarter"])
def test_windowed_audit_with_drift_matches_duckdb(
    every: str, pg_url: str, pg_engine: sa.Engine, tmp_path: Path
) -> None:
    """A year of decisions with a drop in September: same windows, ratios and drift findings."""
    from tests.unit.rules.windows_data import DRIFT_POLICY, write_audit, year_of_decisions

    frame = year_of_decisions(per_day=300 if every == "month" else 40)
    spec = write_audit(
        tmp_path / "w",
        frame,
        window=f"{{column: decided_at, every: {every}}}",
        policy=DRIFT_POLICY,
    )
    files, tables = _to_tables(spec, pg_engine, f"parity_window_{every}", tmp_path)
    duck, duck_findings = run_collecting_findings(files)
    pg, pg_findings = run_collecting_findings(tables, engine_target=pg_url)
    assert [r.status for r in pg.rules] == [r.status for r in duck.rules]
    assert (
        _differences(pg.model_dump(mode="json")["rules"], duck.model_dump(mode="json")["rules"])
        == []
    )
    assert pq.read_table(pg_findings.path).to_pylist() == (
        pq.read_table(duck_findings.path).to_pylist()
    )
    windows = pg.rules[0].windows
    assert len(windows) == {"month": 12, "quarter": 4, "week": 53}[every]
    assert windows[0].start == {"month": "2026-01-01", "quarter": "2026-01-01"}.get(
        every,
        "2025-12-29",  # weeks start on Monday
    )
    if every == "month":
        assert [d.after for d in pg.rules[0].drift] == ["2026-09"]


def test_a_bad_window_on_postgresql_names_the_option_or_the_value(
    pg_url: str, pg_engine: sa.Engine, tmp_path: Path
) -> None:
    # found by QA on PostgreSQL: a text window column with one value that is no time failed
    # with "audit.yaml:7:12: ... cannot count the rows of table ...: invalid input syntax for
    # type timestamp with time zone" and the hint "check the table, columns and filter"
    from click.testing import CliRunner
    from tests.unit.rules.windows_data import write_audit, year_of_decisions

    from ethicsgate.cli import cli

    frame = year_of_decisions(per_day=4)
    frame["decided_txt"] = frame["decided_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    frame.loc[5, "decided_txt"] = "not a date"
    spec = write_audit(tmp_path / "w", frame, window=None)
    _, tables = _to_tables(spec, pg_engine, "qa_window_errors", tmp_path)
    runner = CliRunner()

    def audit(window: str) -> tuple[int, str]:
        out = tmp_path / "r"
        args = ["audit", str(tables), "--engine", pg_url, "--window", window, "--out", str(out)]
        done = runner.invoke(cli, args)
        assert "Traceback" not in done.output and not out.exists()
        return done.exit_code, done.output

    code, output = audit("month:decided_txt")
    assert code == 2, output
    assert output.startswith("error: --window 'month:decided_txt': evidence 'decisions': ")
    assert "is text that is not a date or time" in output and '"not a date"' in output
    assert "e.g. --window month:decided_at" in output
    code, output = audit("month:nosuch")
    assert code == 2 and output.startswith("error: --window 'month:nosuch': "), output
    assert "decided_at, group, approved, decided_txt" in output


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_windows_in_a_time_zone_match_duckdb(
    zone: str, pg_url: str, pg_engine: sa.Engine, tmp_path: Path
) -> None:
    """Instants, naive times and text with and without an offset: DuckDB's windows exactly."""
    from tests.unit.rules.windows_data import decisions_around_local_midnights, write_audit

    frame = decisions_around_local_midnights()
    schema = f"parity_tz_{zone.split('/')[1].lower()}"
    seen: dict[tuple[str, bool], list[tuple[str, int]]] = {}
    for column in ("decided_at", "naive_at", "text_offset", "text_naive"):
        for window in (f"{{column: {column}, every: day, time_zone: {zone}}}", None):
            text = window or f"{{column: {column}, every: month, last: 7d, time_zone: {zone}}}"
            folder = tmp_path / f"{column}-{'day' if window else 'rolling'}"
            spec = write_audit(folder, frame, window=text)
            files, tables = _to_tables(spec, pg_engine, schema, folder)
            duck, _ = run_collecting_findings(files)
            pg, _ = run_collecting_findings(tables, engine_target=pg_url)
            assert duck.rules[0].windows, column
            assert [(w.label, w.rows) for w in pg.rules[0].windows] == [
                (w.label, w.rows) for w in duck.rules[0].windows
            ], (column, text)
            assert (
                _differences(
                    pg.model_dump(mode="json")["rules"], duck.model_dump(mode="json")["rules"]
                )
                == []
            ), (column, text)
            assert pg.rules[0].window is not None and pg.rules[0].window.time_zone == zone
            seen[column, window is None] = [(w.label, w.rows) for w in pg.rules[0].windows]
    # the instants and the text with an offset are the same instants: the same windows; the
    # naive times are the wall clock, so other days
    for rolling in (False, True):
        assert seen["decided_at", rolling] == seen["text_offset", rolling]
        assert seen["naive_at", rolling] == seen["text_naive", rolling]
    assert seen["decided_at", False] != seen["naive_at", False]
