"""The embedded DuckDB engine: out-of-core scans of CSV, Parquet and JSON Lines files.

The default engine and the reference the other engines are checked against. This package is the
only one that imports ``duckdb``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ethicsgate.engines.duckdb.connection import connect
from ethicsgate.engines.duckdb.dataset import DuckDBDataset
from ethicsgate.engines.duckdb.sqltypes import delta_type_sql
from ethicsgate.errors import EvidenceError
from ethicsgate.evidence.delta import local_delta_root, read_delta_snapshot, refuse_version
from ethicsgate.evidence.model import Locator, resolve_files
from ethicsgate.evidence.spec import MemoryEvidenceSpec

if TYPE_CHECKING:
    from ethicsgate.evidence.spec import EvidenceSpec
    from ethicsgate.settings import Settings

__all__ = ["DuckDBDataset", "DuckDBEngine", "open_evidence"]


class DuckDBEngine:
    """One in-memory DuckDB connection for an audit, with the configured limits applied."""

    name = "duckdb"

    def __init__(self, settings: Settings | None = None) -> None:
        """Keep the settings; :meth:`connect` applies them on first use."""
        self._settings = settings
        self._con: duckdb.DuckDBPyConnection | None = None
        self._memory_limit_set = False

    def connect(self) -> None:
        """Connect (``ETHICSGATE_MEMORY_LIMIT``, ``_THREADS``, ``_TEMP_DIR`` applied); idempotent.

        Raises:
            SettingsError: a setting holds a value DuckDB cannot use.
        """
        if self._con is None:
            from ethicsgate.settings import load_settings

            settings = self._settings or load_settings()
            self._con = connect(settings)
            self._memory_limit_set = settings.memory_limit is not None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """Return the connection, connecting on first use."""
        self.connect()
        assert self._con is not None
        return self._con

    @contextmanager
    def spilling_beyond(self, limit: str) -> Iterator[None]:
        """Run the queries of the block with DuckDB's memory capped at ``limit`` (it spills).

        For a query whose hash table and sort are as large as its input (a grouped scan keyed
        by exact scores with millions of cells): DuckDB's default limit, 80 % of the machine,
        lets it grow to gigabytes that it then keeps. A limit the user set
        (``ETHICSGATE_MEMORY_LIMIT``) is theirs and stays as it is.
        """
        self.connect()
        if self._memory_limit_set:
            yield
            return
        self.con.execute("SET memory_limit = ?", [limit])
        try:
            yield
        finally:
            self.con.execute("RESET memory_limit")

    def open(
        self, name: str, spec: EvidenceSpec, *, base_dir: Path, locate: Locator
    ) -> DuckDBDataset:
        """Resolve an evidence spec's files (a path or glob relative to ``base_dir``).

        Raises:
            EvidenceError: no file matches, or the format cannot be told from the extensions.
        """
        if isinstance(spec, MemoryEvidenceSpec):  # a frame from the Python API
            return DuckDBDataset(
                name=name,
                spec=spec,
                files=[Path(f"<{spec.kind} {name}>")],
                format="arrow",
                locate=locate,
                engine=self,
                table=spec.data,
            )
        root = local_delta_root(spec, base_dir)
        if root is not None:  # read as the Parquet files of the version audited
            delta = read_delta_snapshot(name, root, version=spec.version, locate=locate)
            hive_types = {}
            for column, kind in delta.partitions.items():
                try:
                    hive_types[column] = delta_type_sql(kind)
                except ValueError as exc:
                    raise EvidenceError(
                        f"evidence {name!r}: the Delta table at {root} is partitioned by "
                        f"{column!r} of type {kind}, which DuckDB cannot read from a folder name",
                        location=locate(("path",)),
                        hint="write the version to audit as plain Parquet and give that path",
                    ) from exc
            return DuckDBDataset(
                name=name,
                spec=spec,
                files=list(delta.files),
                format="parquet",
                locate=locate,
                engine=self,
                delta=delta,
                hive_types=hive_types,
            )
        refuse_version(name, spec, locate)
        files, fmt = resolve_files(name, spec, base_dir=base_dir, locate=locate)
        return DuckDBDataset(
            name=name, spec=spec, files=files, format=fmt, locate=locate, engine=self
        )

    def versions(self) -> dict[str, str]:
        """Return DuckDB's version, recorded in the report."""
        try:
            return {"duckdb": metadata.version("duckdb")}
        except metadata.PackageNotFoundError:  # pragma: no cover - a dependency
            return {"duckdb": "unknown"}

    def close(self) -> None:
        """Close the connection (DuckDB removes its spill folder)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> DuckDBEngine:
        """Return the engine itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the engine."""
        self.close()


def open_evidence(
    name: str,
    spec: EvidenceSpec,
    *,
    base_dir: Path,
    locate: Locator,
    engine: DuckDBEngine | None = None,
) -> DuckDBDataset:
    """Open one evidence set on ``engine`` (default: a new engine of its own), e.g. in a test.

    Raises:
        EvidenceError: no file matches, or the format cannot be told from the extensions.
    """
    return (engine or DuckDBEngine()).open(name, spec, base_dir=base_dir, locate=locate)
