"""Delta tables read from their Parquet files: one version's snapshot, engine-neutral.

A Delta table is a folder of Parquet files and a transaction log (``_delta_log/``) saying which
of them make up each version. :func:`read_delta_snapshot` asks delta-rs (the ``deltalake``
package, the ``delta`` extra; no JVM) for a version's active files and partition values; an
engine then reads those files as plain Parquet, with the partition columns taken from the
``column=value`` folders, the way a Delta reader does for a table that uses none of the
features below. So the DuckDB engine audits a Delta table with every Parquet fast path, the
report binds the sha256 of each file read (``verify --evidence`` re-checks them) and the
version (``delta:N``), and the Spark engine reads one without delta-spark's jars.

Refused, named, with the fix (reading the files alone would give other rows or columns):
deletion vectors on an active file (rows deleted without rewriting the file), column mapping
(physical column names differ from the logical ones), reader features not in
:data:`READABLE_FEATURES`, binary partition columns, a version without data files, and (for
an engine that reads the partition values from the folders) values not spelled in the files'
folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ethicsgate.errors import EvidenceError, first_line
from ethicsgate.evidence.model import Locator, is_delta_table
from ethicsgate.evidence.spec import EvidenceSpec

__all__ = [
    "READABLE_FEATURES",
    "DeltaSnapshot",
    "local_delta_root",
    "read_delta_snapshot",
    "refuse_version",
]

#: Reader features that leave a version's rows exactly the rows of its Parquet files:
#: deletion vectors are checked file by file, the others concern the log (delta-rs reads it)
#: or types that the Parquet files hold as they are.
READABLE_FEATURES = frozenset(
    {
        "deletionVectors",
        "timestampNtz",
        "v2Checkpoint",
        "vacuumProtocolCheck",
        "variantType",
        "checkpointProtection",
    }
)
#: How Hive-style folders spell a NULL partition value.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_INSTALL = 'pip install "ethicsgate[delta]" (delta-rs, no JVM needed)'


@dataclass(frozen=True)
class DeltaSnapshot:
    """One version of a Delta table: its active Parquet files and partition columns.

    ``partitions`` maps each partition column to its Delta type (``string``, ``date``,
    ``long``, ``decimal(10,2)``...), in the table's order; the files hold the other columns.
    ``empty_folders``: the partition columns with a folder ``column=`` (an empty value, which
    Delta reads as NULL and a Hive-style reader as the empty text). ``values``: each file's
    partition values as the log spells them (text, None for NULL), by file name.
    """

    root: Path
    version: int
    files: tuple[Path, ...]
    partitions: dict[str, str]
    empty_folders: tuple[str, ...] = ()
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Return how the report names the version: ``delta:N``."""
        return f"delta:{self.version}"


def local_delta_root(spec: EvidenceSpec, base_dir: Path) -> Path | None:
    """Return the folder of the local Delta table ``spec`` names, else None.

    A path (no glob, relative to ``base_dir``) with ``format: delta`` or holding ``_delta_log/``.
    """
    if spec.path is None or "://" in spec.path or any(c in spec.path for c in "*?["):
        return None
    folder = Path(spec.path).expanduser()
    if not folder.is_absolute():
        folder = base_dir / folder
    return folder if is_delta_table(folder, spec.format) else None


def refuse_version(name: str, spec: EvidenceSpec, locate: Locator) -> None:
    """Raise if ``spec`` pins a ``version`` though it is no Delta table.

    Raises:
        EvidenceError: ``version`` is set on evidence that keeps no versions.
    """
    if spec.version is not None:
        raise EvidenceError(
            f"evidence {name!r}: version {spec.version} applies to Delta tables, and "
            f"{spec.source} is none",
            location=locate(("version",)),
            hint="remove version:, or give the folder of a Delta table (holding _delta_log/) "
            "as path",
        )


def read_delta_snapshot(
    name: str, root: Path, *, version: int | None, locate: Locator, from_folders: bool = True
) -> DeltaSnapshot:
    """Return the active files of ``root``'s Delta table at ``version`` (default: the latest).

    ``from_folders``: the engine reads the partition values from the files' folder names
    (DuckDB), so they must spell the logged ones; else it joins them by file name (Spark).

    Raises:
        EvidenceError: deltalake is not installed, the folder is no Delta table or lacks the
            version, or the table uses a feature that reading its files alone would get wrong.
    """
    try:
        from deltalake import DeltaTable
        from deltalake.exceptions import DeltaError
    except ImportError as exc:
        raise EvidenceError(
            f"evidence {name!r}: {root} is a Delta table, and reading one needs the deltalake "
            "package, which is not installed",
            location=locate(("path",)),
            hint=_INSTALL,
        ) from exc
    at_path = locate(("path",))
    try:
        table = DeltaTable(str(root), version=version)
        protocol = table.protocol()
        configuration = dict(table.metadata().configuration)
        partition_columns = list(table.metadata().partition_columns)
        fields = {f.name: f.type for f in table.schema().fields}
        uris = list(table.file_uris())
        actions = _partition_values(table, partition_columns)
        deleted = _num_rows(table.deletion_vectors())
    except (DeltaError, OSError, ValueError) as exc:
        raise EvidenceError(
            f"evidence {name!r}: cannot read the Delta table at {root}"
            + (f" at version {version}{_latest(DeltaTable, root)}" if version is not None else "")
            + f": {first_line(exc) or type(exc).__name__}",
            location=locate(("version",)) if version is not None else at_path,
            hint="check the path (the folder holding _delta_log/) and that the version "
            "exists (delta-rs lists them: DeltaTable(path).history()); versions removed by "
            "log cleanup can no longer be read",
        ) from exc
    unknown = sorted(set(protocol.reader_features or ()) - READABLE_FEATURES)
    mapping = configuration.get("delta.columnMapping.mode", "none")
    if unknown or mapping not in ("none", ""):
        what = (
            f"reader feature(s) {', '.join(unknown)}" if unknown else f"column mapping ({mapping})"
        )
        raise EvidenceError(
            f"evidence {name!r}: the Delta table at {root} uses {what}, so its Parquet files "
            "alone do not give its rows and columns",
            location=at_path,
            hint="run the audit with --engine spark on a session with delta-spark, or write the "
            "version to audit as plain Parquet (e.g. DeltaTable(path).to_pyarrow_table()) and "
            "give that path",
        )
    if deleted:
        raise EvidenceError(
            f"evidence {name!r}: {deleted} file(s) of the Delta table at {root} have "
            "deletion vectors (rows deleted without rewriting the file), which reading the "
            "files would count",
            location=at_path,
            hint="purge them (Spark: REORG TABLE ... APPLY (PURGE)), run the audit with --engine "
            "spark on a session with delta-spark, or audit a version before the delete",
        )
    partitions: dict[str, str] = {}
    for column in partition_columns:
        kind = _type_name(fields.get(column))
        if kind == "binary":
            raise EvidenceError(
                f"evidence {name!r}: the Delta table at {root} is partitioned by the binary "
                f"column {column!r}, whose values a folder name cannot hold exactly",
                location=at_path,
                hint="write the version to audit as plain Parquet and give that path",
            )
        partitions[column] = kind
    files = tuple(sorted(Path(_local_path(uri, name, at_path)) for uri in uris))
    if not files:
        raise EvidenceError(
            f"evidence {name!r}: version {table.version()} of the Delta table at {root} holds "
            "no data files, so no rows to audit",
            location=locate(("version",)) if version is not None else at_path,
            hint="audit a version that holds rows (version: N), or check the table's writer",
        )
    empty = set()
    if from_folders:
        empty = _check_folders(name, root, files, actions, partitions, at_path)
    return DeltaSnapshot(
        root=root,
        version=int(table.version()),
        files=files,
        partitions=partitions,
        empty_folders=tuple(c for c in partitions if c in empty),
        values=actions,
    )


def _partition_values(table: Any, columns: Sequence[str]) -> dict[str, dict[str, str | None]]:
    """Return each active file's partition values from the log, by its name (last segment).

    Read from delta-rs' own Arrow table (arro3), without pyarrow: ``pyarrow.table()`` would
    import pandas (0.6 s) to check its argument.
    """
    if not columns:
        return {}
    found = table.get_add_actions(flatten=True)
    paths = found.column("path").to_pylist()
    by_column = {c: found.column(f"partition.{c}").to_pylist() for c in columns}
    return {
        unquote(str(path)).rsplit("/", 1)[-1]: {
            c: None if by_column[c][i] in (None, "") else str(by_column[c][i]) for c in columns
        }
        for i, path in enumerate(paths)
    }


def _check_folders(
    name: str,
    root: Path,
    files: Sequence[Path],
    actions: dict[str, dict[str, str | None]],
    partitions: dict[str, str],
    where: Any,
) -> set[str]:
    """Check that every file's ``column=value`` folders spell its logged partition values.

    Engines read the partition columns from the folder names (Hive style), as the writers of
    Delta tables lay them out; a table written with random file prefixes does not, and is
    refused rather than read with the wrong values. An empty folder value and
    ``__HIVE_DEFAULT_PARTITION__`` both stand for NULL. Return the columns with an empty one.
    """
    empty: set[str] = set()
    base = root.resolve()
    for file in files:
        logged = actions.get(file.name)
        try:
            parts = file.resolve().relative_to(base).parts[:-1]
        except ValueError:  # pragma: no cover - delta-rs lists the files under the table
            parts = ()
        folders: dict[str, str | None] = {}
        for part in parts:
            column, eq, value = part.partition("=")
            if eq:
                text = unquote(value)
                folders[column] = None if text in ("", HIVE_NULL) else text
                if not text:
                    empty.add(column)
        for column in partitions:
            want = None if logged is None else logged.get(column)
            if logged is None or column not in folders or folders[column] != want:
                raise EvidenceError(
                    f"evidence {name!r}: the Delta table at {root} keeps partition "
                    f"{column!r} of {file.name} outside its folder names (expected "
                    f"{column}={want if want is not None else HIVE_NULL}/ in its path), "
                    "where this engine reads them from",
                    location=where,
                    hint="run the audit with --engine spark (it takes the partition values from "
                    "the log), or write the version to audit as plain Parquet and give that path",
                )
    return empty


def _local_path(uri: str, name: str, where: Any) -> str:
    """Return a file URI of the table as a local path (remote stores are not read here)."""
    if uri.startswith("file://"):
        return unquote(uri[len("file://") :])
    if "://" in uri:
        raise EvidenceError(
            f"evidence {name!r}: the Delta table's files are in a remote store ({uri.split('/')[0]}"
            "//...), which this engine does not read",
            location=where,
            hint="run the audit with --engine spark, or copy the table to a local folder",
        )
    return uri


def _type_name(kind: Any) -> str:
    """Return a Delta schema type's name (``string``, ``decimal(10,2)``); ``struct`` etc."""
    text = getattr(kind, "type", None)
    return str(text) if isinstance(text, str) else type(kind).__name__.removesuffix("Type").lower()


def _num_rows(reader: Any) -> int:
    """Return the rows of delta-rs' record batch reader (deletion vectors: one per file)."""
    return int(reader.read_all().num_rows)


def _latest(table: Any, root: Path) -> str:
    """Return ``" (its latest version is N)"``, or nothing when the table cannot say."""
    try:
        return f" (its latest version is {table(str(root)).version()})"
    except Exception:  # the table itself cannot be read: the error says why
        return ""
