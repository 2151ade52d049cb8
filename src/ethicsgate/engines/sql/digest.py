"""The content digest of a table or query, computed by PostgreSQL in a pass it makes anyway.

Each row gets a 64-bit hash ``h``: the XOR of every column's PostgreSQL *extended hash* (the
function its type's hash operator class uses, as hash partitioning does), seeded by the
column's position, so values moved between columns change it; a NULL column contributes
``-position``. The digest is ``sum(h)`` over all rows modulo 2^64: the same multiset of rows
gives the same digest in any order, and a repeated row counts twice.

The sum rides along in the grouped-count query of the audit (its GROUP BY already reads
every row), so on a fairness audit the digest needs no pass of its own; an audit without one
runs :func:`digest_query`, one pass.

Why these choices (measured in ``benchmarks/bench_identity.py``, docs/benchmarks.md):

- md5 of each row's text (the first version, ``sum-md5-128``) wrote every row as text and
  hashed it, about 40 bare scans; hashing the row's text with ``hashtextextended``, or the
  whole row with ``hash_record_extended``, still costs 18 to 30; typed hashes per column
  read the values as stored.
- One 64-bit lane, not two: PostgreSQL evaluates an expression once per use, so a second
  lane (any function of ``h``) hashes every column again, doubling the cost (about 4 bare
  scans instead of 2 added to the grouped pass at 10^7 rows). A second lane would not make
  the digest resist a forger either (the hashes are not cryptographic); against accidental
  change 64 bits leave a 2^-64 chance that a changed row goes unnoticed.

What it gives up: the extended hash functions are internal to PostgreSQL (stable in
practice, because hash-partitioned tables depend on them, but not a documented promise) and
differ on big-endian machines; values PostgreSQL holds equal hash alike (``0.0`` and
``-0.0``, ``numeric`` ``1.0`` and ``1.00``); and the digest does not resist a forger who
chooses the rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from ethicsgate.evidence.sql import quote_ident

__all__ = ["DIGEST_KIND", "digest_query", "digest_sum", "digest_value", "row_hash_sql"]

#: How ``content_digest`` is computed (recorded in the report next to it).
DIGEST_KIND = "sum-pghash-64"

#: Type name (``format_type`` without modifiers) -> the extended hash of a value of it.
_HASHES = {
    "smallint": "hashint4extended(CAST({v} AS integer), {s})",
    "integer": "hashint4extended({v}, {s})",
    "bigint": "hashint8extended({v}, {s})",
    "real": "hashfloat8extended(CAST({v} AS double precision), {s})",
    "double precision": "hashfloat8extended({v}, {s})",
    "numeric": "hash_numeric_extended({v}, {s})",
    "boolean": "hashint4extended(CAST({v} AS integer), {s})",
    "text": "hashtextextended({v}, {s})",
    "character varying": "hashtextextended(CAST({v} AS text), {s})",
    "character": "hashtextextended(CAST({v} AS text), {s})",
    "name": "hashtextextended(CAST({v} AS text), {s})",
    "date": "timestamp_hash_extended(CAST({v} AS timestamp), {s})",
    "timestamp without time zone": "timestamp_hash_extended({v}, {s})",
    "timestamp with time zone": "timestamp_hash_extended(({v} AT TIME ZONE 'UTC'), {s})",
    "time without time zone": "time_hash_extended({v}, {s})",
    "interval": "interval_hash_extended({v}, {s})",
    "uuid": "uuid_hash_extended({v}, {s})",
    "jsonb": "jsonb_hash_extended({v}, {s})",
}
#: Any other type is hashed as its text (the session writes doubles and times one way).
_AS_TEXT = "hashtextextended(CAST({v} AS text), {s})"
_MASK = (1 << 64) - 1


def row_hash_sql(columns: Sequence[tuple[str, str]]) -> str:
    """Return the SQL of a row's 64-bit hash over ``(column SQL, type name)`` pairs."""
    terms = []
    for position, (value, kind) in enumerate(columns, start=1):
        hashed = _HASHES.get(kind, _AS_TEXT).format(v=value, s=position)
        terms.append(f"coalesce({hashed}, {-position})")
    return "(" + " # ".join(terms) + ")" if terms else "CAST(0 AS bigint)"


def digest_sum(columns: Sequence[tuple[str, str]], *, alias: str = "_s") -> str:
    """Return the digest's aggregate (an exact sum) over a relation aliased ``alias``."""
    return f"sum({row_hash_sql([(f'{alias}.{quote_ident(n)}', k) for n, k in columns])})"


def digest_query(source: str, columns: Sequence[tuple[str, str]]) -> str:
    """Return SQL giving ``count(*)`` and the digest's sum over ``source`` (one pass).

    The columns are renamed by position, so a query whose result repeats a column name is
    digested too, and the digest equals the one the grouped pass computes.
    """
    names = [f"_c{i}" for i in range(len(columns))]
    aliases = f"({', '.join(quote_ident(n) for n in names)})" if names else ""
    typed = [(n, kind) for n, (_, kind) in zip(names, columns, strict=True)]
    return f"SELECT count(*), {digest_sum(typed)} FROM {source} AS _s{aliases}"


def digest_value(total: int) -> str:
    """Return the digest's hex text from the exact sum of the row hashes."""
    return f"{total & _MASK:016x}"
