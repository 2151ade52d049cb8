"""The content digest of evidence Spark reads without files to hash (tables, queries, URIs).

Each row gets a 64-bit hash ``h``: Spark's ``xxhash64`` over every column in order, plus a
bit mask of which columns are NULL (``xxhash64`` skips a NULL, so without the mask a value
moved from one column into a NULL neighbour would hash alike). The digest is two 64-bit
lanes summed over all rows modulo 2^64: ``sum(h)`` and ``sum(xxhash64(h))`` (a second,
non-linear function of ``h``); the same multiset of rows gives the same digest in any order
or partitioning, and a repeated row counts twice.

Spark's ``sum`` of a BIGINT overflows (an error under ANSI SQL), so each lane is summed as
three unsigned pieces of 22, 21 and 21 bits, exact up to 2^41 rows; the driver adds them.
The sums ride along in the grouped pass of a fairness audit; otherwise
:func:`digest_query` is one pass of its own.

What it is: ``xxhash64`` (seed 42) is Spark's documented SQL function, the same on every
Spark version and platform, but not cryptographic: it detects an accidental change, added,
removed or repeated row with overwhelming probability, not a forger who chooses the rows.
Values Spark holds equal hash alike (``-0.0`` and ``0.0``); maps and variants are hashed as
their JSON text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ethicsgate.evidence.sql import quote_ident

__all__ = ["DIGEST_KIND", "PIECES", "digest_pieces", "digest_query", "digest_value"]

DIGEST_KIND = "sum-xxhash64-2x64"
#: Each lane's pieces: (shift, bits).
_SPLIT = ((0, 22), (22, 21), (43, 21))
#: How many piece sums the digest has: three per lane.
PIECES = 2 * len(_SPLIT)
_MASK = (1 << 64) - 1


def _hashable(name: str, kind: str) -> str:
    column = quote_ident(name)
    if kind.startswith("map<") or "map<" in kind or kind.startswith("variant"):
        return f"to_json({column})"  # xxhash64 refuses maps (and variants)
    return column


def row_hash_sql(columns: Sequence[tuple[str, str]]) -> str:
    """Return the SQL of a row's 64-bit hash over ``(column name, Spark type)`` pairs."""
    values = [_hashable(name, kind) for name, kind in columns]
    masks = []
    for start in range(0, len(columns), 62):  # 62 flags per BIGINT, never its sign bit
        chunk = columns[start : start + 62]
        flags = " + ".join(
            f"CASE WHEN {quote_ident(name)} IS NULL THEN {1 << i} ELSE 0 END"
            for i, (name, _) in enumerate(chunk)
        )
        masks.append(f"CAST({flags} AS BIGINT)")
    return f"xxhash64({', '.join([*values, *masks]) or '0'})"


def digest_pieces(columns: Sequence[tuple[str, str]]) -> list[str]:
    """Return the piece sums of both lanes (BIGINT aggregates) over the source's columns."""
    h = row_hash_sql(columns)
    sums = []
    for lane in (h, f"xxhash64({h})"):
        for shift, bits in _SPLIT:
            shifted = f"shiftrightunsigned({lane}, {shift})" if shift else lane
            sums.append(f"sum({shifted} & {(1 << bits) - 1})")
    return sums


def digest_query(source: str, columns: Sequence[tuple[str, str]]) -> str:
    """Return SQL giving ``count(*)`` and the piece sums over ``source`` (one pass)."""
    pieces = ", ".join(f"{p} AS _eg_d{i}" for i, p in enumerate(digest_pieces(columns)))
    return f"SELECT count(*) AS _eg_rows, {pieces} FROM {source}"


def digest_value(sums: Mapping[int, int]) -> str:
    """Return the digest's hex text from the piece sums, by index (exact integers)."""
    lanes = []
    for lane in range(2):
        total = sum(
            int(sums[lane * len(_SPLIT) + i]) << shift for i, (shift, _) in enumerate(_SPLIT)
        )
        lanes.append(f"{total & _MASK:016x}")
    return "".join(lanes)
