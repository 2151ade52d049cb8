"""Engine tests: a real PostgreSQL server (as the review-store tests use) and evidence loaded into it,
a local Spark session, and a real Spark Connect server.

``postgres_url`` is ``ETHICSGATE_TEST_POSTGRES_URL`` or a private ``pgserver`` started once per
session; without either the tests skip locally and fail in CI (``CI=true``). The local Spark
session and the Spark Connect server (two JVMs) are started once per test session too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.unit.review.conftest import postgres_url, stop_private_server

#: DuckDB types of the shipped evidence -> PostgreSQL column types.
_PG_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSON": "jsonb",
}


def sa_url(url: str) -> str:
    """Return a server URL with the psycopg 3 driver SQLAlchemy needs."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """Yield the test server's URL (skip locally, fail in CI, without one)."""
    yield postgres_url()
    stop_private_server()


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[sa.Engine]:
    """Yield a SQLAlchemy engine on the test server (autocommit)."""
    engine = sa.create_engine(sa_url(pg_url), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def load_table(engine: sa.Engine, path: Path, table: str, *, reader: str | None = None) -> int:
    """Load an evidence file into ``table`` (replaced) with the types DuckDB reads it as.

    Returns the number of rows. The values go through DuckDB, so the database holds what the
    DuckDB engine audits (the parity tests compare the two engines on the same data).
    """
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        source = reader or (
            f"read_json('{path}', format='newline_delimited')"
            if path.suffix == ".jsonl"
            else f"read_parquet('{path}')"
            if path.suffix == ".parquet"
            else f"read_csv('{path}')"
        )
        rel = con.sql(f"SELECT * FROM {source}")
        columns = list(zip(rel.columns, [str(t) for t in rel.types], strict=True))
        rows = rel.fetchall()
    finally:
        con.close()
    schema, _, name = table.rpartition(".")
    defs = ", ".join(f'"{c}" {_PG_TYPES.get(t, "text")}' for c, t in columns)
    names = ", ".join(f'"{c}"' for c, _ in columns)
    with engine.connect() as conn:
        if schema:
            conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {table} CASCADE"))
        conn.execute(sa.text(f"CREATE TABLE {table} ({defs})"))
        raw = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)


# -- Spark: a local session (Java 17+ needed: skip locally, fail in CI without it) --------------

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _require_spark() -> None:
    from ethicsgate.engines.spark.session import java_problem

    problem = java_problem()
    if problem is None:
        return
    message = f"Java 17+ for Spark is missing ({problem}): apt-get install default-jre-headless"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    _require_spark()
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("ethicsgate-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()


@pytest.fixture
def engine(spark: Any) -> Iterator[Any]:
    from ethicsgate.engines.spark import SparkEngine

    found = SparkEngine("local[2]", session=spark)
    yield found
    found.close()


# -- Spark Connect: a real server from the pip PySpark (sbin/start-connect-server.sh) ----------

#: How long the server may take to accept connections (a JVM on a shared 2-core machine takes
#: 20-40 s).
CONNECT_START_TIMEOUT = 240.0


@dataclass(frozen=True)
class ConnectServer:
    """A running Spark Connect server on 127.0.0.1 that demands a pre-shared token."""

    port: int
    token: str
    log: Path
    pid: int

    @property
    def url(self) -> str:
        """Return the URL a client authenticates with.

        ``localhost`` (the literal host name): PySpark's client sends a token over gRPC's local
        (loopback, no TLS) credentials only to ``localhost``; for any other host a token means
        TLS, which this server does not speak.
        """
        return f"sc://localhost:{self.port}/;token={self.token}"


def _require_connect_client() -> None:
    try:
        from pyspark.sql.connect.utils import check_dependencies

        check_dependencies()
    except ImportError as exc:  # PySparkImportError too: pandas, pyarrow, grpcio...
        message = (
            f"the Spark Connect client libraries are missing ({str(exc).splitlines()[0]}): "
            "make install-dev, or pip install 'pyspark[connect]'"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _spawn(
    command: list[str], work: Path, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """Start ``command`` in ``work`` in a process group of its own, its output into ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server's process group (the scripts and the JVM): TERM, then KILL."""
    for sig, grace in ((signal.SIGTERM, 60.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.5)
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return  # every process of the group is gone
    raise RuntimeError(f"the Spark processes (process group {proc.pid}) did not stop")


@pytest.fixture(scope="session")
def spark_connect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectServer]:
    """Start a Spark Connect server (local[2]) once per session; stop it, JVM and all, after.

    The server is pip PySpark's own ``sbin/start-connect-server.sh --wait`` (its
    ``spark-connect`` jar ships in ``pyspark/jars``), in a process group of its own, bound to
    127.0.0.1 on a free port, with a random pre-shared token (given in the environment, not on
    the command line). Java or the client libraries missing: skip locally, fail in CI; a
    server that does not come up: fail, with the end of its log.
    """
    _require_spark()
    _require_connect_client()
    import pyspark

    home = Path(pyspark.__file__).parent
    script = home / "sbin" / "start-connect-server.sh"
    jars = sorted((home / "jars").glob("spark-connect_*.jar"))
    if not script.exists() or not jars:
        pytest.fail(f"pip PySpark at {home} has no sbin/start-connect-server.sh or connect jar")
    work = tmp_path_factory.mktemp("spark-connect")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SPARK_")},
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": str(work),
        "SPARK_PID_DIR": str(work),
        "SPARK_CONNECT_AUTHENTICATE_TOKEN": token,
    }
    conf = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.sql.shuffle.partitions": "4",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.local.dir": str(work),
        "spark.sql.warehouse.dir": str(work / "warehouse"),
    }
    command = ["bash", str(script), "--wait", "--master", "local[2]"]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    log = work / "server.log"
    started = time.monotonic()
    proc = _spawn(command, work, env, log)
    try:
        _wait_for("Connect server", lambda: _listening(port), proc, log)
        print(f"Spark Connect server up in {time.monotonic() - started:.1f} s on port {port}")
        yield ConnectServer(port, token, log, proc.pid)
    finally:
        _stop_group(proc)


# -- a Spark standalone cluster: a master and a worker from pip PySpark (bin/spark-class) ------


@dataclass(frozen=True)
class StandaloneCluster:
    """A running standalone master with one registered worker, on 127.0.0.1."""

    port: int
    work: Path

    @property
    def url(self) -> str:
        """Return the master's URL, as ``--engine`` takes it."""
        return f"spark://127.0.0.1:{self.port}"


def _start_daemon(
    home: Path, work: Path, name: str, args: list[str], env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start ``spark-class <args>`` in a process group of its own, logging to ``work/name.log``."""
    log = work / f"{name}.log"
    return _spawn(["bash", str(home / "bin" / "spark-class"), *args], work, env, log), log


def _wait_for(
    what: str, ready: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path
) -> None:
    """Wait until ``ready()``; fail with the end of ``log`` if the daemon exits or is too slow."""
    started = time.monotonic()
    while not ready():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        if proc.poll() is not None:
            pytest.fail(f"the Spark {what} exited with {proc.returncode}:\n{tail}")
        if time.monotonic() - started > CONNECT_START_TIMEOUT:
            pytest.fail(f"the Spark {what} was not ready in {CONNECT_START_TIMEOUT:.0f} s:\n{tail}")
        time.sleep(0.5)


@pytest.fixture(scope="session")
def spark_standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    """Start a standalone master and one worker (2 cores, 1 GiB) once per session; stop both.

    Pip PySpark's own ``bin/spark-class`` runs ``deploy.master.Master`` and
    ``deploy.worker.Worker``, bound to 127.0.0.1 on free ports (``SPARK_LOCAL_IP`` keeps
    every JVM, the audit's driver too, on the loopback). The fixture returns once the master's
    log says the worker registered. Java missing: skip locally, fail in CI.
    """
    _require_spark()
    import pyspark

    home = Path(pyspark.__file__).parent
    work = tmp_path_factory.mktemp("spark-standalone")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SPARK_")},
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(work),
        "SPARK_WORKER_DIR": str(work / "worker"),
        "SPARK_LOCAL_DIRS": str(work / "local"),
        "SPARK_NO_DAEMONIZE": "1",
    }
    port = _free_port()
    master, master_log = _start_daemon(
        home,
        work,
        "master",
        ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port)]
        + ["--webui-port", str(_free_port())],
        env,
    )
    worker: subprocess.Popen[bytes] | None = None
    try:
        _wait_for("master", lambda: _listening(port), master, master_log)
        worker, worker_log = _start_daemon(
            home,
            work,
            "worker",
            ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1"]
            + ["--port", str(_free_port()), "--webui-port", str(_free_port())]
            + ["--cores", "2", "--memory", "1g", f"spark://127.0.0.1:{port}"],
            env,
        )
        _wait_for(
            "worker",
            lambda: "Registering worker" in master_log.read_text(errors="replace"),
            worker,
            worker_log,
        )
        yield StandaloneCluster(port, work)
    finally:
        if worker is not None:
            _stop_group(worker)
        _stop_group(master)
