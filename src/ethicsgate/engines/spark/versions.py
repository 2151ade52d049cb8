"""The version a table format keeps (Delta, Iceberg), recorded beside the content digest.

A version names the exact rows for as long as the table's history keeps it (Delta's log
retention, Iceberg's snapshot expiry): ``delta:N`` is Delta's table version, ``iceberg:ID``
the Iceberg snapshot id of the ``main`` branch. It is read before the scans, where the
session's catalog exposes it; anything else (a plain table, a catalog without the format's
extension, a metadata query the catalog refuses) records no version, and the content digest
alone pins the rows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ethicsgate.engines.spark.failures import SPARK_ERRORS

if TYPE_CHECKING:
    from ethicsgate.engines.spark.dataset import SparkDataset

__all__ = ["delta_log_version", "table_provider", "table_version"]

_COMMIT = re.compile(r"^(\d{20})\.(?:json|checkpoint\.parquet|checkpoint\.\d+\.\d+\.parquet)$")


def table_provider(dataset: SparkDataset) -> str | None:
    """Return a catalog table's provider (``delta``, ``iceberg``, ``parquet``...), lower case."""
    if dataset.table_name is None:
        return None
    try:
        rows = dataset.spark.sql(f"DESCRIBE TABLE EXTENDED {dataset.table_name}").collect()
    except SPARK_ERRORS:
        return None
    for row in rows:
        if str(row[0]).strip().lower() == "provider":
            return str(row[1]).strip().lower()
    return None


def table_version(dataset: SparkDataset) -> str | None:
    """Return ``delta:N`` or ``iceberg:SNAPSHOT`` for a table that keeps versions, else None."""
    if dataset.delta_path is not None:
        if dataset.spec.version is not None:  # the version asked for (read as of it)
            return f"delta:{dataset.spec.version}"
        local = delta_log_version(Path(dataset.delta_path))
        if local is not None:
            return f"delta:{local}"
        return _first(dataset, f"DESCRIBE HISTORY delta.`{dataset.delta_path}` LIMIT 1", "delta")
    provider = table_provider(dataset)
    if provider == "delta":
        return _first(dataset, f"DESCRIBE HISTORY {dataset.table_name} LIMIT 1", "delta")
    if provider == "iceberg":
        sql = f"SELECT snapshot_id FROM {dataset.table_name}.refs WHERE name = 'main'"
        return _first(dataset, sql, "iceberg")
    return None


def _first(dataset: SparkDataset, sql: str, prefix: str) -> str | None:
    try:
        rows = dataset.spark.sql(sql).collect()
    except SPARK_ERRORS:
        return None
    return f"{prefix}:{rows[0][0]}" if rows and rows[0][0] is not None else None


def delta_log_version(table: Path) -> int | None:
    """Return the latest version in a local Delta table's ``_delta_log`` (None: not local).

    The newest commit file (``NNN.json``) or checkpoint names it; ``_last_checkpoint`` alone
    is not enough, since commits follow a checkpoint.
    """
    log = table / "_delta_log"
    if not log.is_dir():
        return None
    found = [int(m.group(1)) for p in log.iterdir() if (m := _COMMIT.match(p.name))]
    if not found:
        last = log / "_last_checkpoint"
        if last.is_file():
            return int(json.loads(last.read_text())["version"])
        return None
    return max(found)
