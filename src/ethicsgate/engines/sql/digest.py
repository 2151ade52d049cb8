"""The content digest of a table or query, computed by PostgreSQL in a pass it makes anyway.

Each row gets a 64-bit hash ``h``: the XOR of every column's PostgreSQL *extended hash* (the
function its type's hash operator class uses, as hash partitioning does), seeded by the
column's position, so values moved between columns change it; a NULL column contributes
``-position``. The digest is two 64-bit lanes summed over all rows modulo 2^64:
``sum(h)`` and ``sum(hashint8extended(h, 0))`` (a second, non-linear function of ``h``), so
the same multiset of rows gives the same digest in any order, and a repeated row counts twice.

These aggregates ride along in the grouped-count query of the audit (its GROUP BY already
reads every row), so on a fairness audit the digest needs no pass of its own; an audit
without one runs :func:`digest_query`, one pass.

Why not md5 of each row's text (the first version, ``sum-md5-128``): writing every row as
text and hashing it cost about 40 bare scans of the table; the typed hashes read the values
as stored. What it gives up: the extended hash functions are internal to PostgreSQL (stable
in practice, because hash-partitioned tables depend on them, but not a documented promise),
differ on big-endian machines, and are not cryptographic, so the digest detects a changed,
added, removed or repeated row with overwhelming probability (a 2^-64 chance per lane for
an accidental change), but does not resist a forger who chooses the rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from ethicsgate.evidence.sql import quote_ident

__all__ = ["DIGEST_KIND", "digest_columns", "digest_query", "digest_value", "row_hash_sql"]

#: How ``content_digest`` is computed (recorded in the report next to it).
DIGEST_KIND = "sum-pghash-2x64"

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
#: The second lane's function of the row hash.
LANE2 = "hashint8extended({h}, 0)"
_MASK = (1 << 64) - 1


def row_hash_sql(columns: Sequence[tuple[str, str]]) -> str:
    """Return the SQL of a row's 64-bit hash over ``(column SQL, type name)`` pairs."""
    terms = []
    for position, (value, kind) in enumerate(columns, start=1):
        hashed = _HASHES.get(kind, _AS_TEXT).format(v=value, s=position)
        terms.append(f"coalesce({hashed}, {-position})")
    return "(" + " # ".join(terms) + ")" if terms else "CAST(0 AS bigint)"


def digest_columns(columns: Sequence[tuple[str, str]], *, alias: str = "_s") -> list[str]:
    """Return the two aggregate expressions of the digest over a relation aliased ``alias``."""
    h = row_hash_sql([(f"{alias}.{quote_ident(name)}", kind) for name, kind in columns])
    return [f"sum({h})", f"sum({LANE2.format(h=h)})"]


def digest_query(source: str, columns: Sequence[tuple[str, str]]) -> str:
    """Return SQL giving ``count(*)`` and the two lanes' sums over ``source`` (one pass).

    The columns are renamed by position, so a query whose result repeats a column name is
    digested too, and the digest equals the one the grouped pass computes.
    """
    names = [f"_c{i}" for i in range(len(columns))]
    aliases = f"({', '.join(quote_ident(n) for n in names)})" if names else ""
    typed = [(n, kind) for n, (_, kind) in zip(names, columns, strict=True)]
    return f"SELECT count(*), {', '.join(digest_columns(typed))} FROM {source} AS _s{aliases}"


def digest_value(lane1: int, lane2: int) -> str:
    """Return the digest's hex text from the two lanes' sums (exact integers, any size)."""
    return f"{lane1 & _MASK:016x}{lane2 & _MASK:016x}"
