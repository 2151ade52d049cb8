"""The Spark engine on a real standalone cluster: ``--engine spark://HOST:PORT``.

One master and one worker (pip PySpark's ``bin/spark-class``, ``spark_standalone`` in
conftest.py) serve the session. Each audit runs end to end through the CLI in a process of its
own, which is the driver (a JVM here) while the worker's executors read the evidence: its report
must match the DuckDB engine's as the local session's does (test_spark_parity.py's helpers):
rule statuses, metrics to 1e-12, LL144 tables, violations, finding ids and findings.parquet.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from tests.engines.conftest import StandaloneCluster
from tests.engines.test_spark_parity import AUDITS, ROOT, _same_rules

from ethicsgate.audit import run_audit
from ethicsgate.audit.result import AuditResult
from ethicsgate.session.audit import run_and_report


def _driver_env() -> dict[str, str]:
    """Return this process's environment for a driver of its own, on the loopback.

    Without the ``PYSPARK_GATEWAY_*`` variables a local session in this process (the ``spark``
    fixture) leaves behind, which would make the child use that JVM instead of starting one.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_GATEWAY", "SPARK_"))}
    return {**env, "SPARK_LOCAL_IP": "127.0.0.1"}


def _audit(spec: Path, cluster: StandaloneCluster, out: Path) -> AuditResult:
    """Run ``ethicsgate audit SPEC --engine spark://...`` in a fresh process; return its report."""
    done = subprocess.run(
        [sys.executable, "-m", "ethicsgate.cli", "audit", str(spec), "--engine", cluster.url]
        + ["--out", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_driver_env(),
        timeout=600,
        check=False,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return AuditResult.model_validate_json((out / "report.json").read_text(encoding="utf-8"))


def test_compas_audit_on_a_standalone_cluster_is_the_same_as_duckdb(
    spark_standalone: StandaloneCluster, tmp_path: Path
) -> None:
    spec = AUDITS / "compas-example.yaml"
    found = _audit(spec, spark_standalone, tmp_path)
    _same_rules(run_audit(spec), found)
    assert {r.id: r.status.value for r in found.rules} == {
        "fpr-parity": "fail",
        "selection-rate-by-race-and-sex": "warn",
    }
    assert found.audit.engine["spark_master"] == spark_standalone.url
    # the work ran on the cluster: the worker launched executors for this application
    executors = list((spark_standalone.work / "worker").glob("app-*/*"))
    assert executors, "no executor ran on the worker"


def test_bakery_findings_on_a_standalone_cluster_are_the_same_as_duckdb(
    spark_standalone: StandaloneCluster, tmp_path: Path
) -> None:
    """Transparency, consent (the as-of join) and oversight rules; every finding in the file."""
    spec = AUDITS / "bakery.yaml"
    found = _audit(spec, spark_standalone, tmp_path / "cluster")
    duck = run_and_report(spec, out=tmp_path / "duck").result
    _same_rules(duck, found)
    assert {r.id: r.violations_by_reason for r in found.rules} == {
        r.id: r.violations_by_reason for r in duck.rules
    }

    def every(folder: Path) -> list[dict[str, Any]]:
        return pq.read_table(folder / "findings.parquet").to_pylist()

    violations = every(tmp_path / "duck")
    assert every(tmp_path / "cluster") == violations  # the same rows in the same order
    assert len(violations) == sum(r.violations for r in duck.rules) > 0
