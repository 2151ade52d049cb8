"""A local Spark session starts without the JVM's own lines on the terminal.

The driver's JVM inherits the process's stderr: log4j's profile, the default log level, the
host's address, Hadoop's native library and the incubator modules came out as about seven lines
before any message of the audit. They go to a log file now, whose last lines a failed start
shows. Real JVMs in fresh processes (a session started in this process would be reused).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from tests.conftest import PROPUBLICA_CSV
from tests.engines.conftest import _require_spark


def _example(tmp_path: Path) -> Path:
    out = tmp_path / "ex"
    done = subprocess.run(
        [sys.executable, "-m", "ethicsgate", "examples", "compas", "--out", str(out)]
        + ["--from", str(PROPUBLICA_CSV)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return out / "audit.yaml"


def _audit(spec: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # a Spark Connect session opened earlier in this test process sets SPARK_CONNECT_MODE_ENABLED
    # (the engine then refuses a local session: tested elsewhere); these are fresh processes
    kept = {
        k: v for k, v in os.environ.items() if not k.startswith(("SPARK_CONNECT", "SPARK_REMOTE"))
    }
    env = {**kept, "TMPDIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "ethicsgate", "audit", str(spec), "--out", str(tmp_path / "o")]
        + list(extra),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )


def test_a_local_session_prints_nothing_of_the_jvms_own(tmp_path: Path) -> None:
    _require_spark()
    spec = _example(tmp_path)
    done = _audit(spec, tmp_path, "--engine", "spark")
    assert done.returncode == 1, done.stderr  # the COMPAS example fails its blocking rule
    for noise in ("log4j", "Setting default log level", "incubator", "NativeCodeLoader"):
        assert noise not in done.stderr and noise not in done.stdout
    assert " WARN Utils" not in done.stderr + done.stdout  # the JVM's hostname warning
    assert "audit compas-propublica: FAIL" in done.stdout
    assert not list(tmp_path.glob("ethicsgate-spark-*.log"))  # unlinked once started


def test_a_jvm_that_cannot_start_shows_its_last_lines(tmp_path: Path) -> None:
    _require_spark()
    spec = _example(tmp_path)
    document = yaml.safe_load(spec.read_text())
    document["engine"] = {
        "target": "spark",
        "conf": {"spark.driver.memory": "lots"},
    }
    spec.write_text(yaml.safe_dump(document))
    done = _audit(spec, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "cannot start a Spark session" in done.stderr
    assert "Invalid maximum heap size: -Xmxlots" in done.stderr  # the JVM's own, from its log
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()
