"""Open the Spark session an audit runs on: local, a standalone cluster, or Spark Connect.

``spark`` or ``local[N]`` starts a local session in this process (a JVM: Java 17+ needed);
``spark://HOST:PORT`` connects to a standalone cluster's master (the driver runs here, so Java
is needed too); ``sc://HOST:PORT`` talks to a Spark Connect server (Databricks and others): no
JVM here. Reachability is checked first with a plain TCP connection, so an unreachable master
fails in seconds with the fix, not after Spark's minute of retries.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ethicsgate.errors import EvidenceError, SettingsError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ethicsgate.settings import Settings

__all__ = [
    "SESSION_CONF",
    "Target",
    "is_connect_session",
    "open_session",
    "parse_target",
    "redact",
]

#: Runtime SQL settings every session of ours gets (session-level, so Spark Connect too): UTC
#: for naive timestamps, ANSI double-quoted identifiers (the SQL the rules write), and the
#: native as-of join where the Spark version has it.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",
    "spark.sql.join.asofJoin.enabled": "true",
}
#: Startup settings of a session we create (the user's conf wins).
_STARTUP_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
}
_LOCAL = re.compile(r"^local(\[(\d+|\*)(,\d+)?\])?$")
_CONNECT_TIMEOUT = 5.0
#: How long the gRPC (and TLS) handshake with a Spark Connect server may take.
_HANDSHAKE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Target:
    """Where the Spark engine runs: ``kind`` local, standalone or connect."""

    kind: str
    master: str  # local[N], spark://h:p, or the sc:// URL
    host: str = ""
    port: int = 0

    @property
    def shown(self) -> str:
        """Return the target as messages and reports show it (credentials redacted)."""
        return redact(self.master)


def redact(url: str) -> str:
    """Return ``url`` with a password, token or other secret parameter replaced by ``***``."""
    text = re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)
    return re.sub(r"(?i)(;\s*(?:token|password|secret|[a-z_-]*key)=)[^;]*", r"\1***", text)


def parse_target(target: str, settings: Settings | None = None) -> Target:
    """Return the target an ``--engine`` value names.

    Raises:
        SettingsError: the value is none of spark, local[N], spark://HOST:PORT, sc://HOST:PORT.
    """
    text = target.strip()
    if text == "spark":
        threads = settings.threads if settings is not None and settings.threads else "*"
        return Target("local", f"local[{threads}]")
    if _LOCAL.match(text):
        return Target("local", text)
    if text.startswith(("spark://", "sc://")):
        parts = urlsplit(text.split(";", 1)[0])
        try:
            port = parts.port or (15002 if text.startswith("sc://") else 7077)
        except ValueError:
            port = -1
        if parts.hostname and port > 0:
            kind = "connect" if text.startswith("sc://") else "standalone"
            return Target(kind, text, parts.hostname, port)
    raise SettingsError(
        f"engine {redact(target)!r} is not a Spark target",
        hint="use --engine spark (a local session), local[N], spark://HOST:PORT (a standalone "
        "cluster's master) or sc://HOST:PORT (Spark Connect)",
    )


def is_connect_session(session: object) -> bool:
    """Return whether ``session`` is a Spark Connect client's (no SparkContext, no JVM here)."""
    return type(session).__module__.startswith("pyspark.sql.connect")


def java_problem() -> str | None:
    """Return why no Java can be started here (None: one is found)."""
    home = os.environ.get("JAVA_HOME")
    if home:
        if (Path(home) / "bin" / "java").exists():
            return None
        return f"JAVA_HOME is {home}, but {home}/bin/java does not exist"
    if shutil.which("java"):
        return None
    return "no java on the PATH and JAVA_HOME is not set"


def _check_reachable(target: Target) -> None:
    try:
        with socket.create_connection((target.host, target.port), timeout=_CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        what = "Spark Connect server" if target.kind == "connect" else "Spark master"
        raise EvidenceError(
            f"engine spark: cannot reach the {what} at {target.shown} "
            f"({exc.strerror or exc.__class__.__name__})",
            hint=f"start the {what} or fix the host and port in --engine (or the audit "
            "spec's engine:); check that the firewall lets this machine reach it",
        ) from exc


def _first_line(exc: BaseException) -> str:
    """Return an exception's first line (a gRPC error's status and details), redacted."""
    text = str(exc).strip()
    status = re.search(r"status = StatusCode\.(\w+)", text)
    if status is not None:  # "<_InactiveRpcError of RPC that terminated with:", then fields
        details = re.search(r'details = "(.*)"', text)
        return redact(f"{status[1]}: {details[1]}" if details else status[1])
    return redact(text.splitlines()[0] if text else type(exc).__name__)


def _check_channel(target: Target) -> None:
    """Bring up the gRPC channel to a Spark Connect server within a bounded time.

    The TCP port is open (:func:`_check_reachable`), but a client speaking TLS to a server
    that does not (or the reverse) never completes the handshake, and PySpark's client
    retries that for ten minutes. PySpark's client uses TLS when the URL has ``use_ssl=true``
    or a ``token`` (from the URL or ``SPARK_CONNECT_AUTHENTICATE_TOKEN``), except that a token
    to host ``localhost`` without ``use_ssl`` goes over gRPC's local (loopback) credentials.

    Raises:
        EvidenceError: the channel did not come up in time.
    """
    import grpc  # type: ignore[import-untyped]
    from pyspark.sql.connect.client import DefaultChannelBuilder

    builder = DefaultChannelBuilder(target.master)
    channel = builder.toChannel()
    try:
        grpc.channel_ready_future(channel).result(timeout=_HANDSHAKE_TIMEOUT)
    except grpc.FutureTimeoutError as exc:
        tls = "with TLS" if builder.secure else "without TLS"
        raise EvidenceError(
            f"engine spark: the Spark Connect server at {target.shown} accepts connections, "
            f"but the gRPC handshake ({tls}) did not complete within "
            f"{_HANDSHAKE_TIMEOUT:.0f} s",
            hint="use the transport the server speaks: a token (in the URL or "
            "SPARK_CONNECT_AUTHENTICATE_TOKEN) or use_ssl=true makes the client use TLS; a "
            "server without TLS takes a token only as sc://localhost:PORT/;token=... on its own "
            "machine, elsewhere put it behind a TLS proxy (Databricks and other services speak "
            "TLS)",
        ) from exc
    finally:
        channel.close()


def _connect_error(target: Target, exc: BaseException) -> EvidenceError:
    """Return the error for a Spark Connect server that refused the session's first call."""
    text = _first_line(exc)
    if text.startswith(("UNAUTHENTICATED", "PERMISSION_DENIED")) or "token" in text.lower():
        hint = (
            "check the token: sc://HOST:PORT/;token=... (or SPARK_CONNECT_AUTHENTICATE_TOKEN) "
            "must be the one the server expects (spark.connect.authenticate.token, or your "
            "workspace's access token)"
        )
    else:
        hint = "check the URL and that the server is a Spark Connect server of Spark 3.4+"
    return EvidenceError(
        f"engine spark: the Spark Connect server at {target.shown} refused the session: {text}",
        hint=hint,
    )


def open_session(
    target: Target, conf: Mapping[str, str], settings: Settings | None
) -> tuple[SparkSession, bool]:
    """Return a Spark session for ``target`` and whether this call created it.

    A session already active in this process is reused when it runs where ``target`` says
    (a local session for a local target); one elsewhere is an error, as one process holds one
    Spark context.

    Raises:
        EvidenceError: Java is missing, the master is unreachable, or Spark fails to start.
        SettingsError: a session of another master is active in this process.
    """
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    if target.kind == "connect":
        # gRPC's core logs every failed TLS handshake to stderr; errors come back as ours
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
        _check_reachable(target)
        try:
            from pyspark.sql import SparkSession as Builder

            _check_channel(target)
            # create, not getOrCreate: getOrCreate hands back a session already active in the
            # process (another server's, or a local one) whatever the URL says
            session = Builder.builder.remote(target.master).create()
        except EvidenceError:
            raise
        except Exception as exc:  # grpc, missing connect extras: all user-fixable
            raise EvidenceError(
                f"engine spark: cannot open a Spark Connect session at {target.shown}: "
                f"{_first_line(exc)}",
                hint="install Spark Connect's client (pip install 'ethicsgate[spark]', or "
                "'pyspark[connect]>=4.0') and check the URL, e.g. sc://HOST:15002/;token=...",
            ) from exc
        try:
            session.version  # noqa: B018 - the first call the server answers: authentication
        except Exception as exc:
            with contextlib.suppress(Exception):
                session.stop()
            raise _connect_error(target, exc) from exc
        _apply(session, conf)
        return session, True

    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and is_connect_session(active):
        raise SettingsError(
            f"engine spark: this process already runs a Spark Connect session, so it cannot "
            f"start {target.shown}",
            hint="a process that opened a Spark Connect session cannot start a local Spark "
            "context: run the audit in a new process, or audit through Spark Connect "
            "(--engine sc://HOST:PORT, or SparkEngine(session=spark) with the session)",
        )
    if active is not None:
        master = str(active.sparkContext.master)
        same = master.startswith("local") if target.kind == "local" else master == target.master
        if not same:
            raise SettingsError(
                f"engine spark: this process already runs a Spark session on {redact(master)}, "
                f"not {target.shown}",
                hint="one process holds one Spark context: run the audit in a new process, "
                "or use the running session's master",
            )
        _apply(active, conf)
        return active, False
    _check_classic_environment(target)
    problem = java_problem()
    if problem is not None:
        raise EvidenceError(
            f"engine spark: Spark needs Java 17 or newer to run {target.shown}, but {problem}",
            hint="install a Java runtime (Debian/Ubuntu: apt-get install default-jre-headless) "
            "or set JAVA_HOME; or use --engine sc://HOST:PORT (Spark Connect needs no Java)",
        )
    if target.kind == "standalone":
        _check_reachable(target)
    builder = SparkSession.builder.master(target.master).appName("ethicsgate")
    startup = dict(_STARTUP_CONF)
    if settings is not None and settings.temp_dir is not None:
        startup["spark.local.dir"] = str(settings.temp_dir)
    for key, value in {**startup, **SESSION_CONF, **conf}.items():
        builder = builder.config(key, value)
    log = _jvm_log(settings)
    try:
        with _jvm_stderr_to(log):
            session = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start or to register: user-fixable
        tail = _tail(log)
        raise EvidenceError(
            f"engine spark: cannot start a Spark session on {target.shown}: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            + (f"; the JVM's last lines (all in {log}):\n{tail}" if tail else ""),
            hint="check the Java installation (java -version: 17 or newer) and the Spark conf",
        ) from exc
    with contextlib.suppress(OSError):
        log.unlink()  # the JVM keeps writing to it, unlinked, until the process ends
    session.sparkContext.setLogLevel("OFF")  # errors come back as located EvidenceErrors
    _apply(session, conf)
    return session, True


def _jvm_log(settings: Settings | None) -> Path:
    """Return where a local or standalone session's JVM writes its stderr."""
    import tempfile

    folder = settings.temp_dir if settings is not None and settings.temp_dir else None
    return Path(folder or tempfile.gettempdir()) / f"ethicsgate-spark-{os.getpid()}.log"


@contextlib.contextmanager
def _jvm_stderr_to(log: Path) -> Iterator[None]:
    """Give a JVM started in the block ``log`` as its stderr; this process keeps its own.

    The driver's JVM inherits the process's stderr and prints about seven lines of its own
    as it starts (log4j's profile, the default log level, the host's address, Hadoop's native
    library, the incubator modules), before any message of the audit. The descriptor is
    pointed at ``log`` while the JVM starts, then put back: the JVM keeps the file.
    """
    import sys

    sys.stderr.flush()
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    saved = os.dup(2)
    try:
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)


def _tail(log: Path, lines: int = 12) -> str:
    """Return the last lines of the JVM's log ("" if it wrote none)."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _check_classic_environment(target: Target) -> None:
    """Refuse to start a local or standalone session where PySpark would open Spark Connect.

    PySpark 4 reads ``SPARK_REMOTE``, ``SPARK_API_MODE=connect`` and
    ``SPARK_CONNECT_MODE_ENABLED`` from the environment: with any of them its session builder
    opens a Spark Connect session instead of the master it is given (or fails with "Only one
    of master and remote"), and its functions dispatch to the Connect client. A variable
    inherited from a shell set up for Databricks would turn ``--engine spark`` into an error
    about Java or a Connect session nobody asked for; this names the variable instead.

    Raises:
        SettingsError: one of those variables is set.
    """
    found = {
        name: value
        for name in ("SPARK_REMOTE", "SPARK_API_MODE", "SPARK_CONNECT_MODE_ENABLED")
        if (value := os.environ.get(name)) is not None
        and (name != "SPARK_API_MODE" or value.strip().lower() == "connect")
    }
    if not found:
        return
    shown = ", ".join(f"{name}={redact(value)}" for name, value in found.items())
    remote = found.get("SPARK_REMOTE", "")
    through = (
        f"--engine {redact(remote)}" if remote.startswith("sc://") else "--engine sc://HOST:PORT"
    )
    raise SettingsError(
        f"engine spark: cannot start {target.shown}: {shown} is set in the "
        "environment, which makes PySpark open Spark Connect sessions instead",
        hint=f"unset {' and '.join(found)} for this command (e.g. env -u {next(iter(found))} "
        f"ethicsgate audit ...), or audit through Spark Connect with {through}; a "
        "process that opened a Spark Connect session before sets SPARK_CONNECT_MODE_ENABLED "
        "itself: run the audit in a new process",
    )


def _apply(session: SparkSession, conf: Mapping[str, str]) -> None:
    """Set the session-level SQL settings (a user's ``spark.sql.*`` conf wins)."""
    for key, value in {**SESSION_CONF, **conf}.items():
        if key.startswith("spark.sql."):
            try:
                session.conf.set(key, value)
            except Exception as exc:  # a static or unknown setting on a running session
                if key in conf:
                    raise SettingsError(
                        f"engine spark: cannot set {key}={value} on the session: "
                        f"{str(exc).splitlines()[0]}",
                        hint="set startup settings (spark.executor.*, spark.driver.*) when the "
                        "session is created, or remove the setting",
                    ) from exc
