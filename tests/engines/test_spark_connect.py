"""The Spark engine through a real Spark Connect server: same audits, same results, no secrets.

One server (pip PySpark's ``sbin/start-connect-server.sh``, local[2], a pre-shared token) serves
the whole session (``spark_connect`` in conftest.py). Each audit runs end to end through the
CLI, ``ethicsgate audit SPEC --engine sc://localhost:PORT/;token=...``, in a process of its own
(a Spark Connect client: no JVM), and its report must match the DuckDB engine's as the local
Spark session's does (test_spark_parity.py's helpers): rule statuses, metrics to 1e-12, LL144
tables, violations and finding ids. Evidence Spark pins (a ``file://`` path, a query) gets the
same row count and ``sum-xxhash64-2x64`` digest as on the local session. The token appears in
no output and no report file; a wrong token, and a token the client would send over TLS to a
server without TLS, exit 2 with the engine and the fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyspark
import pytest
from tests.engines.conftest import ConnectServer
from tests.engines.test_spark_parity import AUDITS, ROOT, UNCOMPARED, _open, _same_rules
from tests.jsonclose import differences

from ethicsgate.audit import run_audit
from ethicsgate.audit.result import AuditResult
from ethicsgate.session.audit import run_and_report

POLICY = ROOT / "policies" / "recidivism-fairness.yaml"


def _audit(
    spec: Path, target: str, out: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``ethicsgate audit`` in a fresh process (the Spark Connect client) and return it."""
    clean = {k: v for k, v in os.environ.items() if k != "SPARK_CONNECT_AUTHENTICATE_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "ethicsgate.cli", "audit", str(spec), "--engine", target]
        + ["--out", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, **(env or {})},
        timeout=600,
        check=False,
    )


def _report(done: subprocess.CompletedProcess[str], out: Path, server: ConnectServer) -> Any:
    """Return the report of a finished audit, after checking the token is nowhere in it."""
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert server.token not in done.stdout + done.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert server.token.encode() not in path.read_bytes(), path
    return AuditResult.model_validate_json((out / "report.json").read_text(encoding="utf-8"))


def test_compas_audit_over_spark_connect_is_the_same_as_duckdb(
    spark_connect: ConnectServer, tmp_path: Path
) -> None:
    spec = AUDITS / "compas-example.yaml"
    done = _audit(spec, spark_connect.url, tmp_path)
    found = _report(done, tmp_path, spark_connect)
    _same_rules(run_audit(spec), found)
    assert {r.id: r.status.value for r in found.rules} == {
        "fpr-parity": "fail",
        "selection-rate-by-race-and-sex": "warn",
    }
    assert found.audit.engine["spark_master"] == f"sc://localhost:{spark_connect.port}/;token=***"
    assert found.audit.engine["spark"] == pyspark.__version__  # the server's, asked over gRPC
    assert done.returncode == 1  # fpr-parity blocks


def test_ll144_tables_over_spark_connect_are_the_same_as_duckdb(
    spark_connect: ConnectServer, tmp_path: Path
) -> None:
    """The token from SPARK_CONNECT_AUTHENTICATE_TOKEN: the URL (and argv) carry none."""
    spec = AUDITS / "nyc-ll144-example.yaml"
    url = f"sc://localhost:{spark_connect.port}"
    done = _audit(spec, url, tmp_path, {"SPARK_CONNECT_AUTHENTICATE_TOKEN": spark_connect.token})
    found = _report(done, tmp_path, spark_connect)
    _same_rules(run_audit(spec), found)
    kinds = [r.impact_ratio.kind for r in found.rules if r.impact_ratio is not None]
    assert sorted(kinds) == ["scoring", "selection"], "both LL144 tables are compared"
    scoring = next(r for r in found.rules if r.impact_ratio and r.impact_ratio.kind == "scoring")
    assert scoring.impact_ratio is not None and scoring.impact_ratio.median_score == 61.0
    assert found.audit.engine["spark_master"] == url


def test_naive_csv_times_in_a_zones_windows_over_spark_connect_are_duckdbs(
    spark_connect: ConnectServer, tmp_path: Path
) -> None:
    """The server infers CSV times as the client asked (naive ones as its wall clock)."""
    from tests.unit.rules.windows_data import POLICY as WINDOWS_POLICY
    from tests.unit.rules.windows_data import decisions_around_local_midnights

    (tmp_path / "policy.yaml").write_text(WINDOWS_POLICY)
    decisions_around_local_midnights().to_csv(tmp_path / "decisions.csv", index=False)
    spec = tmp_path / "audit.yaml"
    spec.write_text(
        "schema_version: 1\nid: w\npolicy: policy.yaml\nevidence:\n  decisions:\n"
        "    path: decisions.csv\n    columns: {prediction: approved}\n"
        "    window: {column: naive_at, every: day, time_zone: Europe/Berlin}\n"
    )
    out = tmp_path / "out"
    found = _report(_audit(spec, spark_connect.url, out), out, spark_connect)
    _same_rules(run_audit(spec), found)
    assert len(found.rules[0].windows) == 18


def test_bakery_findings_over_spark_connect_are_the_same_as_duckdb(
    spark_connect: ConnectServer, tmp_path: Path
) -> None:
    spec = AUDITS / "bakery.yaml"
    done = _audit(spec, spark_connect.url, tmp_path / "connect")
    found = _report(done, tmp_path / "connect", spark_connect)
    duck = run_and_report(spec, out=tmp_path / "duck").result
    _same_rules(duck, found)
    assert {r.id: r.violations_by_reason for r in found.rules} == {
        r.id: r.violations_by_reason for r in duck.rules
    }
    assert {r.id: [(f.record_id, f.reason) for f in r.findings] for r in found.rules} == {
        r.id: [(f.record_id, f.reason) for f in r.findings] for r in duck.rules
    }

    def every(folder: Path) -> list[dict[str, Any]]:
        rows = pq.read_table(folder / "findings.parquet").to_pylist()
        return sorted(rows, key=lambda r: (r["rule_id"], r["record_id"], r["reason"]))

    violations = every(tmp_path / "duck")
    assert every(tmp_path / "connect") == violations
    assert len(violations) == sum(r.violations for r in duck.rules) > 0


def test_evidence_identity_over_spark_connect_is_the_local_sessions(
    spark_connect: ConnectServer, engine: Any, tmp_path: Path
) -> None:
    """A file:// path and a query, pinned by Spark: the same rows and digest either way."""
    parquet = tmp_path / "compas.parquet"
    pq.write_table(pacsv.read_csv(ROOT / "examples" / "data" / "compas_for_aequitas.csv"), parquet)
    columns = "    columns:\n      label: label_value\n      prediction: score\n"
    sources = {
        "uri": f"    path: file://{parquet}\n    format: parquet\n",
        "query": f"    query: \"SELECT * FROM parquet.`{parquet}` WHERE sex = 'Male'\"\n",
    }
    for name, evidence in sources.items():
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(
            f"schema_version: 1\nid: {name}\npolicy: {POLICY}\nevidence:\n  predictions:\n"
            f"{evidence}{columns}",
            encoding="utf-8",
        )
        local = run_audit(spec, engine=engine)
        out = tmp_path / f"{name}-connect"
        connect = _report(_audit(spec, spark_connect.url, out), out, spark_connect)
        # the rules as _same_rules compares them; the evidence's sha256 covers the engine's name
        assert [(r.id, r.status) for r in connect.rules] == [(r.id, r.status) for r in local.rules]
        for a, b in zip(local.rules, connect.rules, strict=True):
            assert not differences(
                a.model_dump(mode="json"), b.model_dump(mode="json"), skip=UNCOMPARED, path=a.id
            )
        mine, theirs = (
            json.loads(r.audit.evidence[0].model_dump_json())["table"] for r in (local, connect)
        )
        assert mine["digest_kind"] == theirs["digest_kind"] == "sum-xxhash64-2x64"
        assert (theirs["rows"], theirs["content_digest"]) == (mine["rows"], mine["content_digest"])
        assert theirs["rows"] == (7214 if name == "uri" else 5819), name
        assert theirs["engine"] == f"spark sc://localhost:{spark_connect.port}/;token=***"
        assert (theirs["table"], theirs["query_sha256"]) == (mine["table"], mine["query_sha256"])


# -- credentials and the errors a user can fix ---------------------------------------------------


def test_a_wrong_token_exits_2_naming_the_engine_and_the_fix(
    spark_connect: ConnectServer, tmp_path: Path
) -> None:
    started = time.monotonic()
    done = _audit(
        AUDITS / "compas-example.yaml",
        f"sc://localhost:{spark_connect.port}/;token=not-{spark_connect.token[:8]}-wrong",
        tmp_path,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "engine spark: the Spark Connect server at sc://localhost:" in output
    assert "/;token=*** refused the session" in output and "check the token" in output
    assert "-wrong" not in output and spark_connect.token[:8] not in output
    assert "Traceback" not in output and not (tmp_path / "report.json").exists()
    assert time.monotonic() - started < 120


def test_a_token_over_tls_to_a_server_without_tls_exits_2_in_seconds(
    spark_connect: ConnectServer, tmp_path: Path
) -> None:
    """To any host but ``localhost`` PySpark's client sends a token only over TLS.

    This server speaks no TLS: the handshake never completes, which the client would retry
    for ten minutes; the engine gives up after ten seconds, names the cause and the fix.
    """
    started = time.monotonic()
    target = f"sc://127.0.0.1:{spark_connect.port}/;token={spark_connect.token}"
    done = _audit(AUDITS / "compas-example.yaml", target, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert f"Spark Connect server at sc://127.0.0.1:{spark_connect.port}/;token=***" in output
    assert "gRPC handshake (with TLS) did not complete within 10 s" in output
    assert "sc://localhost:PORT/;token=" in output
    assert spark_connect.token not in output and "Traceback" not in output
    assert time.monotonic() - started < 90


# -- the Python API: a Connect session beside a local one, and the other way round -----------------


def test_the_api_opens_its_own_connect_session_beside_a_local_one(
    spark: Any, spark_connect: ConnectServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local session (the ``spark`` fixture) is active: the engine must not take it."""
    from ethicsgate.engines.spark import open_spark_engine
    from ethicsgate.engines.spark.session import is_connect_session

    monkeypatch.delenv("SPARK_CONNECT_MODE_ENABLED", raising=False)  # PySpark sets it: undone
    spec = AUDITS / "compas-example.yaml"
    with open_spark_engine(spark_connect.url) as connect:
        assert is_connect_session(connect.spark) and not is_connect_session(spark)
        result = run_audit(spec, engine=connect)
    _same_rules(run_audit(spec), result)
    assert result.audit.engine["spark_master"].endswith("/;token=***")
    assert spark.sql("SELECT 1 AS x").collect()[0].x == 1  # the local session still runs


def test_a_local_session_in_a_process_with_a_connect_one_is_refused(
    spark_connect: ConnectServer,
) -> None:
    code = (
        "from pyspark.sql import SparkSession\n"
        "from ethicsgate.engines.spark import open_spark_engine\n"
        "from ethicsgate.errors import EthicsgateError\n"
        "import sys\n"
        "SparkSession.builder.remote(sys.argv[1]).getOrCreate()\n"
        "try:\n"
        "    open_spark_engine('local[1]').connect()\n"
        "except EthicsgateError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, spark_connect.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "SettingsError engine spark: this process already runs a Spark Connect session" in (
        done.stdout
    ), done.stdout + done.stderr
    assert "run the audit in a new process" in done.stdout


def test_frames_and_bad_values_over_spark_connect(
    spark_connect: ConnectServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An in-memory table goes up to the server; a bad value is named with its file."""
    from ethicsgate.engines.duckdb import DuckDBEngine
    from ethicsgate.engines.spark import open_spark_engine
    from ethicsgate.errors import EvidenceError
    from ethicsgate.evidence.roles import Role
    from ethicsgate.evidence.spec import MemoryEvidenceSpec

    monkeypatch.delenv("SPARK_CONNECT_MODE_ENABLED", raising=False)
    table = pacsv.read_csv(ROOT / "examples" / "data" / "compas_for_aequitas.csv")
    spec = MemoryEvidenceSpec(
        path="compas.arrow",
        data=table,
        kind="pyarrow.Table",
        columns={"label": "label_value", "prediction": "score"},
    )
    events = tmp_path / "events.csv"
    events.write_text("event_id,ts\n1,2025-03-01T10:00:00Z\n2,next tuesday\n", encoding="utf-8")
    with DuckDBEngine() as duck, open_spark_engine(spark_connect.url) as connect:
        frames = [
            reader.open("frame", spec, base_dir=ROOT, locate=lambda loc: None)
            .grouped_counts(
                roles=["race", "label", "prediction"], binary_roles=["label", "prediction"]
            )
            .frame
            for reader in (duck, connect)
        ]
        with pytest.raises(EvidenceError) as err:
            _open(connect, events).read_rows([Role("event_id", "key"), Role("ts", "timestamp")])
    assert frames[1].to_dict("records") == frames[0].to_dict("records")
    assert "'next tuesday'" in str(err.value) and str(events) in str(err.value)
    assert "ISO 8601" in (err.value.hint or "")
