"""Checks of CSV evidence files that every engine makes before it trusts what its reader says.

An engine's CSV reader quietly makes something of a file it should refuse: an empty file is
one column (DuckDB) or none (Spark), so every role is "missing"; a header naming one column
twice is read with the second renamed (``score_1`` on DuckDB, ``score2`` and ``score3`` on
Spark), and the rules read another column than meant; bytes that are not UTF-8 stop DuckDB with
a message naming no line, and become U+FFFD in Spark's text (a group "Caf\ufffd"). The engines
(``engines/duckdb``, ``engines/spark``) share these checks and their messages; each asks its
own reader whether two repeated columns differ.
"""

from __future__ import annotations

import codecs
import csv
import gzip
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from ethicsgate.errors import EvidenceError, Location

__all__ = [
    "empty_file_error",
    "header_fields",
    "non_utf8_error",
    "open_text",
    "repeated_header_error",
    "repeated_header_fields",
    "utf8_error",
]

#: How many bytes the UTF-8 check decodes at a time.
_CHUNK = 1 << 22


def open_text(file: Path, *, newline: str | None = None) -> IO[str] | None:
    """Open an evidence file as text for a diagnostic read (gzip too); None for zstd."""
    if file.suffix == ".zst":  # DuckDB's other compression: not worth a dependency here
        return None
    if file.suffix == ".gz":
        return gzip.open(file, "rt", encoding="utf-8", errors="replace", newline=newline)
    return file.open(encoding="utf-8", errors="replace", newline=newline)


def _named(name: str, engine: str) -> str:
    """Return how a message names the evidence: ``evidence 'x'``, with the engine if given."""
    return f"evidence {name!r}" + (f" (engine {engine})" if engine else "")


def empty_file_error(name: str, files: Iterable[Path], *, engine: str = "") -> EvidenceError | None:
    """Return the error for the first empty (0-byte) file, or None."""
    for file in files:
        if file.is_file() and file.stat().st_size == 0:
            return EvidenceError(
                f"{_named(name, engine)}: the file is empty (0 bytes): no header, no rows",
                location=Location(str(file)),
                hint="write the evidence again (an export that failed?), or point "
                f"evidence.{name}.path at the right file",
            )
    return None


def non_utf8_error(name: str, files: Iterable[Path], *, engine: str = "") -> EvidenceError | None:
    """Return the error naming the first line, column and byte of the files that is not UTF-8."""
    for file in files:
        if file.suffix in (".gz", ".zst") or not file.is_file():
            continue
        with file.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    column = len(line[: exc.start].decode("utf-8")) + 1
                    shown = line[exc.start : exc.start + 1].hex()
                    return EvidenceError(
                        f"{_named(name, engine)}: line {number} is not UTF-8 (byte 0x{shown}"
                        f" at column {column}): the file is in another encoding",
                        location=Location(str(file), number, column),
                        hint=f"say the file's encoding under evidence.{name}.options, e.g. "
                        "options: {encoding: latin-1} (or utf-16), or save the file as UTF-8",
                    )
    return None


def utf8_error(name: str, files: Iterable[Path], *, engine: str = "") -> EvidenceError | None:
    """Return :func:`non_utf8_error` for the first file that is not UTF-8, or None.

    For a reader that does not say so itself (Spark reads a bad byte as U+FFFD): each file is
    decoded in 4 MiB chunks (gigabytes a second), and read by line only when one fails.
    """
    for file in files:
        if file.suffix in (".gz", ".zst") or not file.is_file():
            continue
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            with file.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return non_utf8_error(name, [file], engine=engine)
    return None


def header_fields(file: Path, delimiter: str | None = None) -> list[str] | None:
    """Return the fields of a CSV file's first line (the delimiter guessed if not given)."""
    handle = open_text(file, newline="")
    if handle is None:
        return None
    with handle:
        line = handle.readline()
    delimiter = delimiter or max(",;\t|", key=line.count)
    return next(csv.reader([line], delimiter=delimiter), [])


def repeated_header_fields(header: Sequence[str]) -> list[tuple[int, int]]:
    """Return (earlier, later) 1-based field numbers of each name repeated in a header.

    Names are compared ignoring case: both DuckDB and Spark (by default) take ``Score`` and
    ``score`` for one name.
    """
    seen: dict[str, int] = {}
    pairs: list[tuple[int, int]] = []
    for column, field in enumerate(header, start=1):
        key = field.lower()
        if key in seen:
            pairs.append((seen[key], column))
        else:
            seen[key] = column
    return pairs


def repeated_header_error(
    name: str,
    file: Path,
    header: Sequence[str],
    pair: tuple[int, int],
    *,
    reading: str,
    engine: str = "",
) -> EvidenceError:
    """Return the error for a header naming one column twice where the two columns differ.

    ``reading`` says how the engine reads the two (``DuckDB reads the second as 'x_1'``).
    """
    earlier, column = pair
    first, second = header[earlier - 1], header[column - 1]
    cased = f", as {first!r} and {second!r}: the names ignore case" if first != second else ""
    return EvidenceError(
        f"{_named(name, engine)}: the header names column {second!r} twice (fields {earlier} and "
        f"{column}{cased}) and the two differ; {reading}",
        location=Location(str(file), 1, None),
        hint="rename one of the two columns in the file, so that each role reads the column meant",
    )
