"""The Apache Spark engine: audits run as Spark SQL where the evidence lives.

``open_spark_engine("spark")`` (or ``local[N]``) runs a local session, ``spark://HOST:PORT`` a
standalone cluster and ``sc://HOST:PORT`` Spark Connect (Databricks and others). Evidence is
files Spark reads (CSV, Parquet, JSON Lines; local or ``s3a://``/``hdfs://`` paths) or catalog
tables (``table:``); every scan is one Spark SQL query over a temporary view, and only
aggregates and a bounded sample of findings come back to the driver. The DuckDB engine is the
reference these results are checked against (tests/engines/test_spark_parity.py). This package
is the only one that imports ``pyspark``.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from ethicsgate.engines.spark.dataset import SparkDataset
from ethicsgate.engines.spark.dialect import SparkDialect
from ethicsgate.engines.spark.failures import SPARK_ERRORS
from ethicsgate.engines.spark.session import Target, open_session, parse_target
from ethicsgate.evidence.delta import local_delta_root, refuse_version
from ethicsgate.evidence.model import Locator, detect_format, resolve_files
from ethicsgate.evidence.spec import MemoryEvidenceSpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ethicsgate.evidence.engine import Engine
    from ethicsgate.evidence.spec import EvidenceSpec
    from ethicsgate.settings import Settings

__all__ = ["SparkDataset", "SparkEngine", "open_spark_engine"]

# PySpark 4 warns on every Arrow conversion that it does not yet fully support pandas 3; the
# engine converts only small aggregate tables (plain types), which it checks against DuckDB
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)

#: Schemes of paths Spark reads itself (no local file to resolve or hash).
_REMOTE = ("s3://", "s3a://", "s3n://", "hdfs://", "gs://", "abfs://", "abfss://", "wasbs://",
           "dbfs:/", "file://")  # fmt: skip


class SparkEngine:
    """One Spark session for an audit (created on first use, or one already running)."""

    name = "spark"

    def __init__(
        self,
        target: str | Target = "spark",
        *,
        conf: Mapping[str, str] | None = None,
        settings: Settings | None = None,
        session: SparkSession | None = None,
    ) -> None:
        """Keep where to run; :meth:`connect` opens the session on first use.

        ``session``: a session to use as it is (left running by :meth:`close`).

        Raises:
            SettingsError: ``target`` is not a Spark target.
        """
        self.target = target if isinstance(target, Target) else parse_target(target, settings)
        self._conf = dict(conf or {})
        self._settings = settings
        self._session = session
        self._owned = False
        self._dialect: SparkDialect | None = None
        self.views: list[str] = []
        """The temporary views and cached tables this engine created (dropped by close)."""
        if session is not None:
            from ethicsgate.engines.spark.session import _apply

            _apply(session, self._conf)

    def connect(self) -> None:
        """Open the session (idempotent).

        Raises:
            EvidenceError: Java is missing, the master is unreachable, or Spark fails to start.
            SettingsError: a session of another master is active in this process.
        """
        if self._session is None:
            self._session, self._owned = open_session(self.target, self._conf, self._settings)

    @property
    def spark(self) -> SparkSession:
        """Return the session, opening it on first use."""
        self.connect()
        assert self._session is not None
        return self._session

    @property
    def dialect(self) -> SparkDialect:
        """Return the SQL dialect: the native as-of join from Spark 4.3 on, else the portable."""
        if self._dialect is None:
            native = self._conf.get("spark.sql.join.asofJoin.enabled", "true") == "true"
            self._dialect = SparkDialect(native_asof=native and _at_least(self.spark.version, 4, 3))
        return self._dialect

    def open(
        self, name: str, spec: EvidenceSpec, *, base_dir: Path, locate: Locator
    ) -> SparkDataset:
        """Resolve an evidence spec: a catalog table, a remote path, local files, or a frame.

        Raises:
            EvidenceError: no local file matches, or the format cannot be told.
        """
        table = spec.table
        if spec.query:
            return SparkDataset(
                name=name,
                spec=spec,
                files=[],
                format=spec.format or "parquet",
                locate=locate,
                engine=self,
                query=spec.query,
            )
        if table:
            return SparkDataset(
                name=name,
                spec=spec,
                files=[],
                format=spec.format or "parquet",
                locate=locate,
                engine=self,
                table_name=str(table),
            )
        if isinstance(spec, MemoryEvidenceSpec):
            return SparkDataset(
                name=name,
                spec=spec,
                files=[Path(f"<{spec.kind} {name}>")],
                format="arrow",
                locate=locate,
                engine=self,
                memory=spec.data,
            )
        delta = _delta_path(spec, base_dir)
        if delta is not None:
            return SparkDataset(
                name=name, spec=spec, files=[], format="delta", locate=locate, engine=self,
                delta_path=delta,
            )  # fmt: skip
        refuse_version(name, spec, locate)
        if spec.path is not None and spec.path.startswith(_REMOTE):
            fmt = spec.format or detect_format([Path(spec.path.rstrip("/*"))]) or "parquet"
            return SparkDataset(
                name=name, spec=spec, files=[], format=fmt, locate=locate, engine=self,
                uri=spec.path,
            )  # fmt: skip
        files, fmt = resolve_files(name, spec, base_dir=base_dir, locate=locate)
        return SparkDataset(
            name=name, spec=spec, files=files, format=fmt, locate=locate, engine=self
        )

    def versions(self) -> dict[str, str]:
        """Return Spark's version and where it ran (credentials redacted), for the report."""
        found = {"pyspark": _version("pyspark"), "spark_master": self.target.shown}
        if self._session is not None:
            found["spark"] = self._session.version
        return found

    def close(self) -> None:
        """Drop this audit's temporary views; stop the session if this engine started it."""
        if self._session is None:
            return
        if self._owned:
            self._session.stop()
        else:  # a session someone else runs: drop only what this engine created
            for view in reversed(self.views):
                with contextlib.suppress(*SPARK_ERRORS):
                    self._session.sql(f"UNCACHE TABLE IF EXISTS `{view}`")
                    self._session.catalog.dropTempView(view)
        self.views.clear()
        self._session = None

    def __enter__(self) -> SparkEngine:
        """Return the engine itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the engine."""
        self.close()


def open_spark_engine(
    target: str, conf: Mapping[str, str] | None = None, settings: Settings | None = None
) -> SparkEngine:
    """Return a Spark engine for ``target``: ``spark``/``local[N]``, ``spark://``, ``sc://``.

    ``conf``: Spark settings (``spark.executor.memory``, ``spark.sql.shuffle.partitions``...);
    the session opens on first use.

    Raises:
        SettingsError: ``target`` is not a Spark target.
    """
    return SparkEngine(target, conf=conf, settings=settings)


def _delta_path(spec: EvidenceSpec, base_dir: Path) -> str | None:
    """Return the table's location if ``spec`` is a Delta table by path, else None.

    ``format: delta``, or a local directory holding ``_delta_log/``.
    """
    if spec.path is None or isinstance(spec, MemoryEvidenceSpec):
        return None
    if spec.path.startswith(_REMOTE):
        return spec.path if spec.format == "delta" else None
    folder = local_delta_root(spec, base_dir)
    return None if folder is None else str(folder)


def _at_least(version: str, major: int, minor: int) -> bool:
    parts = [int(p) if p.isdigit() else 0 for p in version.split(".")[:2]]
    return tuple(parts) >= (major, minor)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover - a dependency
        return "unknown"


if TYPE_CHECKING:  # mypy checks that the Spark engine implements the engine interface

    def _implements_the_interface(engine: SparkEngine) -> Engine:
        return engine
