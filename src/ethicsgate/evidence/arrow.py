"""In-memory evidence as Arrow tables, and its identity: a digest of a canonical IPC stream.

The Python API audits frames that were never written to a file. Every supported frame (pandas,
polars, a pyarrow ``Table`` or ``RecordBatchReader``, a DuckDB relation) becomes one
``pyarrow.Table``: without a copy where the library hands Arrow memory over (polars, pyarrow,
numeric pandas columns), with one where it cannot (pandas strings, a stream read once).

A report names a file by the sha256 of its bytes. A frame has no bytes of its own, so its
identity is the **arrow-ipc-sha256** digest: the SHA-256 of the Arrow IPC *stream* format of the
table in a canonical form, so that equal data gives equal digests whatever library or chunking
it came from, and the same frame saved as Parquet or Arrow (Feather) hashes the same:

1. every column of the frame, in the frame's order (a pandas index is not a column);
2. types canonical: dictionary (categorical) columns decoded to their values, every string
   type as ``large_string``, every binary type as ``large_binary``, half floats (float16) as
   ``float`` (float32: DuckDB reads no float16, so a frame's float16 columns are widened,
   losslessly, before the audit), times in seconds (timestamp, time32) in milliseconds and
   date64 as date32 (the same values, as Parquet stores them), every list type as
   ``large_list`` with its item named ``item``, struct fields canonical in turn; no schema or
   field metadata; every field nullable;
3. record batches of exactly 65,536 rows (the last one shorter), each array contiguous, from
   offset 0, the value bytes under a null slot of a fixed-width column set to zero;
4. written uncompressed with pyarrow's default IPC options (metadata version V5), schema
   message first, end-of-stream marker last.

``ethicsgate verify --evidence`` reads the saved file back (:func:`read_arrow_file`: Parquet, or
an Arrow IPC file or stream; pandas' stored index columns dropped) and recomputes the digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ethicsgate.errors import EvidenceError, Location, first_line

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ARROW_IPC_SHA256",
    "BATCH_ROWS",
    "ArrowDigest",
    "arrow_ipc_sha256",
    "describe_frame",
    "read_arrow_file",
    "to_arrow_table",
]

#: The digest kind a report records for in-memory evidence (the prefix of its subject name).
ARROW_IPC_SHA256 = "arrow-ipc-sha256"
#: Rows per record batch of the canonical stream.
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class ArrowDigest:
    """The arrow-ipc-sha256 of a table and the length of the stream it hashed."""

    sha256: str
    size: int


def describe_frame(data: object) -> str:
    """Return what kind of frame ``data`` is, as messages name it (``pandas.DataFrame``)."""
    cls = type(data)
    return f"{cls.__module__.split('.')[0]}.{cls.__qualname__}"


def to_arrow_table(data: object, *, name: str, location: Location | None = None) -> pa.Table:
    """Return ``data`` (pandas, polars, pyarrow, a DuckDB relation) as one Arrow table.

    Float16 columns come back as float32, which holds each of their values exactly (DuckDB
    reads no float16).

    Raises:
        EvidenceError: the object is not a frame ethicsgate reads, a column cannot be
            converted to Arrow (a pandas object column holding mixed types, complex numbers,
            a sparse column: named, with the fix), or two columns share a name, ignoring case;
            located at ``location``.
    """
    import pyarrow as pa

    kind = describe_frame(data)
    frame: Any = data  # duck-typed below: no frame library is imported here
    table: Any
    try:
        if isinstance(data, pa.Table):
            table = data
        elif isinstance(data, pa.RecordBatch):
            table = pa.Table.from_batches([data])
        elif isinstance(data, pa.RecordBatchReader):
            table = data.read_all()  # a stream reads once; the audit scans it several times
        elif kind in ("pandas.Series", "polars.Series"):
            raise EvidenceError(
                f"evidence {name!r}: a {kind} is one column, not a table with the columns "
                "the rules read",
                location=location,
                hint="pass the DataFrame it came from, or series.to_frame() for one column",
            )
        elif kind == "pandas.DataFrame":
            table = _from_pandas(data, name, location)
        elif kind == "polars.LazyFrame":
            table = _from_polars(_materialise(frame.collect, kind, name, location))
        elif hasattr(data, "to_arrow") and kind.startswith("polars."):
            table = _from_polars(frame)
        elif kind.startswith("duckdb.") and hasattr(data, "arrow"):
            # a DuckDB relation (of any connection): materialised as Arrow
            fetch = getattr(frame, "to_arrow_table", None) or frame.arrow
            table = _materialise(fetch, kind, name, location)
            if isinstance(table, pa.RecordBatchReader):
                table = table.read_all()
        elif hasattr(data, "__arrow_c_stream__"):  # any Arrow PyCapsule producer
            table = pa.table(data)
        else:
            raise EvidenceError(
                f"evidence {name!r}: cannot read a {kind} as a table",
                location=location,
                hint="pass a pandas or polars DataFrame, a pyarrow Table or RecordBatchReader, "
                "or a DuckDB relation under data:, or a file under path:",
            )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise EvidenceError(
            f"evidence {name!r}: cannot convert the {kind} to Arrow: {exc}",
            location=location,
            hint="give every column one type (e.g. df[col].astype(str) or pd.to_numeric)",
        ) from exc
    if not isinstance(table, pa.Table):  # pragma: no cover - each branch returns a Table
        raise EvidenceError(
            f"evidence {name!r}: the {kind} did not convert to an Arrow table", location=location
        )
    _check_names(table.column_names, name, kind, location)
    return _widen_half_floats(table)


def _materialise(run: Callable[[], Any], kind: str, name: str, location: Location | None) -> Any:
    """Run a lazy frame's query (a polars LazyFrame, a DuckDB relation) and return its result.

    The query is the user's (a file it scans, a column it selects, a connection closed since):
    its failure is bad input, reported at the frame, not an internal error.

    Raises:
        EvidenceError: the frame library failed to run the query (its message kept).
    """
    try:
        return run()
    except Exception as exc:
        library = type(exc).__module__.split(".")[0].lstrip("_")
        if library not in ("polars", "duckdb") and not isinstance(exc, OSError):
            raise  # a bug, here or in the library: not the frame's fault
        raise EvidenceError(
            f"evidence {name!r}: the {kind} cannot be read: {first_line(exc)}",
            location=location,
            hint="run the frame's query yourself (frame.collect()) to see why"
            if kind.startswith("polars.")
            else "run the relation's query yourself (relation.to_arrow_table()) to see why; "
            "a DuckDB relation needs its connection open",
        ) from exc


def _check_names(names: list[str], name: str, kind: str, location: Location | None) -> None:
    """Refuse a frame that names a column twice, in one case or two.

    DuckDB's names ignore case: of ``group`` and ``Group`` (or two ``group``), the rules
    would read whichever comes first, silently auditing the other column's values.

    Raises:
        EvidenceError: two columns share a name, ignoring case (both named).
    """
    seen: dict[str, str] = {}
    for column in names:
        first = seen.get(column.lower())
        seen.setdefault(column.lower(), column)
        if first is not None:
            cased = "DuckDB's names ignore case, so " if first != column else ""
            raise EvidenceError(
                f"evidence {name!r}: the {kind} names a column twice: {first!r} and "
                f"{column!r} ({cased}a rule would read the first)",
                location=location,
                hint="rename the columns so that each name is unique, ignoring case, "
                "or drop the one no rule reads",
            )


def _widen_half_floats(table: pa.Table) -> pa.Table:
    """Return ``table`` with its float16 columns as float32 (exact: a float32 holds each)."""
    import pyarrow as pa

    for index, field in enumerate(table.schema):
        if pa.types.is_float16(field.type):
            table = table.set_column(
                index, pa.field(field.name, pa.float32()), _single_floats(table.column(index))
            )
    return table


def _single_floats(values: pa.Array | pa.ChunkedArray) -> Any:
    """Return float16 ``values`` as float32, nulls kept."""
    import pyarrow as pa

    try:
        return values.cast(pa.float32())
    except pa.ArrowNotImplementedError:  # pyarrow before 17 casts no float16: through numpy
        import numpy as np

        def widen(array: pa.Array) -> pa.Array:
            numbers = array.to_numpy(zero_copy_only=False).astype(np.float32)
            mask = array.is_null().to_numpy(zero_copy_only=False)
            return pa.array(numbers, type=pa.float32(), mask=mask)

        if isinstance(values, pa.ChunkedArray):
            return pa.chunked_array([widen(c) for c in values.chunks], type=pa.float32())
        return widen(values)


def _from_polars(frame: Any) -> pa.Table:
    """Hand a polars frame over without a copy: its strings as Arrow ``string_view``."""
    import polars as pl

    compat = getattr(pl, "CompatLevel", None)
    if compat is None:  # polars before 1.0: large_string, copied
        return frame.to_arrow()
    return frame.to_arrow(compat_level=compat.newest())


def _from_pandas(frame: Any, name: str, location: Location | None) -> pa.Table:
    """Convert a pandas frame column by column, so a failure names its column."""
    import pyarrow as pa

    if frame.columns.nlevels > 1:  # str(("x", "group")) would be the column's name
        raise EvidenceError(
            f"evidence {name!r}: the DataFrame's columns are a MultiIndex "
            f"({frame.columns.nlevels} levels); the rules read columns by one name",
            location=location,
            hint='flatten them first, e.g. df.columns = ["_".join(map(str, c)) for c in '
            "df.columns], or pick one level: df.droplevel(0, axis=1)",
        )
    names = [str(c) for c in frame.columns]
    _check_names(names, name, "pandas.DataFrame", location)  # before frame[column] is ambiguous
    arrays = []
    for label, column in zip(names, frame.columns, strict=True):
        series = frame[column]
        try:
            arrays.append(pa.Array.from_pandas(series))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            problem, fix = _pandas_column_problem(label, series.dtype, exc)
            raise EvidenceError(
                f"evidence {name!r}: column {label!r} {problem}",
                location=location,
                hint=fix,
            ) from exc
    return pa.Table.from_arrays(arrays, names=names)


def _pandas_column_problem(label: str, dtype: Any, exc: Exception) -> tuple[str, str]:
    """Return why a pandas column does not convert to Arrow, and the fix, by its dtype."""
    drop = f"df.drop(columns=[{label!r}])"
    kind = getattr(dtype, "kind", "")
    if kind == "c":
        return (
            f"holds complex numbers (dtype {dtype}), which Arrow has no type for",
            f"drop it if no rule reads it: {drop}; or keep its parts as two float columns, "
            f"df[{label!r}].to_numpy().real and .imag",
        )
    if type(dtype).__name__ == "SparseDtype":
        return (
            f"is sparse (dtype {dtype}), which Arrow does not read",
            f"make it dense, df[{label!r}] = df[{label!r}].sparse.to_dense() "
            f"(or all columns: df.sparse.to_dense()), or drop it if no rule reads it: {drop}",
        )
    if kind == "O":
        return (
            f"cannot be read as one type (dtype {dtype}): {exc}",
            f"give column {label!r} one type, e.g. df[{label!r}].astype(str), or drop it: {drop}",
        )
    return (
        f"cannot be converted to Arrow (dtype {dtype}): {exc}",
        f"cast it to a number, text, boolean or time, e.g. df.astype({{{label!r}: str}}), "
        f"or drop it if no rule reads it: {drop}",
    )


def _canonical_type(t: pa.DataType) -> pa.DataType:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return _canonical_type(t.value_type)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.large_string()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.large_binary()
    if pa.types.is_float16(t):  # audited as float32 (to_arrow_table): a saved float16 verifies
        return pa.float32()
    # Parquet has no second unit and no date64: they come back as milliseconds and date32, the
    # same values; canonical in that form, a frame saved to Parquet verifies
    if pa.types.is_timestamp(t) and t.unit == "s":
        return pa.timestamp("ms", tz=t.tz)
    if pa.types.is_time32(t) and t.unit == "s":
        return pa.time32("ms")
    if pa.types.is_date64(t):
        return pa.date32()
    # nested types canonical inside too; a list's item has no name of its own (Parquet calls it
    # "element", pyarrow "item") and one offset width (polars hands large lists over)
    if (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_list_view(t)
        or pa.types.is_large_list_view(t)
    ):
        return pa.large_list(_canonical_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _canonical_type(f.type)) for f in t])
    return t


def _zero_scalar(t: pa.DataType) -> pa.Scalar | None:
    """Return the zero of a fixed-width type whose null slots are zeroed, or None."""
    import pyarrow as pa

    if pa.types.is_boolean(t):
        return pa.scalar(False)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return pa.scalar(0, type=t)
    if pa.types.is_temporal(t):
        try:
            return pa.scalar(0, type=pa.int64()).cast(t)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pa.scalar(0, type=pa.int32()).cast(t)
    return None


def _canonical_array(array: pa.Array, t: pa.DataType) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(array.type):
        # decoded over canonical values: pyarrow has no take for a dictionary of string_view
        # (polars' Categorical and Enum columns), which the cast to large_string gives one
        values = array.dictionary
        if values.type != _canonical_type(values.type):
            values = values.cast(_canonical_type(values.type))
        array = pa.DictionaryArray.from_arrays(array.indices, values).dictionary_decode()
    if pa.types.is_float16(array.type):
        array = _single_floats(array)
    if array.type != t:
        array = array.cast(t)
    # a concatenation allocates fresh buffers: offset 0, no bytes beyond the batch
    array = pa.concat_arrays([array, array.slice(0, 0)])
    zero = _zero_scalar(t) if array.null_count else None
    if zero is not None:
        filled = pc.fill_null(array, zero)
        array = pa.Array.from_buffers(
            t, len(array), [array.buffers()[0], filled.buffers()[1]], null_count=array.null_count
        )
    return array


class _HashSink:
    """A write-only file that hashes what it is given."""

    closed = False

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""


def arrow_ipc_sha256(table: pa.Table) -> ArrowDigest:
    """Return the arrow-ipc-sha256 of ``table``: SHA-256 of its canonical IPC stream."""
    import pyarrow as pa

    schema = pa.schema([pa.field(f.name, _canonical_type(f.type)) for f in table.schema])
    sink = _HashSink()
    with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), schema) as writer:
        for offset in range(0, table.num_rows, BATCH_ROWS):
            part = table.slice(offset, BATCH_ROWS)
            arrays = [
                _canonical_array(part.column(i).combine_chunks(), field.type)
                for i, field in enumerate(schema)
            ]
            writer.write_batch(pa.record_batch(arrays, schema=schema))
    return ArrowDigest(sink.digest.hexdigest(), sink.size)


def read_arrow_file(path: Path) -> pa.Table:
    """Read a saved frame (Parquet, or an Arrow IPC file or stream) without pandas' index.

    Raises:
        OSError: the file cannot be read.
        ValueError: it is neither Parquet nor Arrow IPC.
    """
    import pyarrow as pa

    with path.open("rb") as handle:
        magic = handle.read(6)
    if magic[:4] == b"PAR1":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    else:
        try:
            if magic == b"ARROW1":
                table = pa.ipc.open_file(path).read_all()
            else:
                with pa.OSFile(str(path), "rb") as source:
                    table = pa.ipc.open_stream(source).read_all()
        except pa.ArrowInvalid as exc:
            raise ValueError(f"neither Parquet nor Arrow IPC ({exc})") from exc
    pandas_meta = table.schema.pandas_metadata or {}
    stored_index = [c for c in pandas_meta.get("index_columns", []) if isinstance(c, str)]
    return table.drop_columns(stored_index) if stored_index else table
