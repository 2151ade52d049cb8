"""PostgreSQL type names (``format_type``) as the evidence layer groups them, and conversions."""

from __future__ import annotations

from ethicsgate.evidence.sql import sql_literal

__all__ = ["BOOLEAN", "INTEGER", "NUMERIC", "TEXT", "TIMES", "binary_sql", "text_sql"]

INTEGER = ("smallint", "integer", "bigint")
NUMERIC = (*INTEGER, "real", "double precision", "numeric")
TEXT = ("text", "character varying", "character", "name", "unknown", "citext")
BOOLEAN = ("boolean",)
#: Timestamps without a time zone (read as UTC) and dates.
NAIVE_TIME = ("timestamp without time zone", "date")
TIMES = ("timestamp with time zone", *NAIVE_TIME)
JSON = ("json", "jsonb")


def base_type(name: str) -> str:
    """Return a type's name without its modifiers (``character varying(20)`` -> ...)."""
    return name.split("(")[0].strip()


def text_sql(value: str, kind: str) -> str:
    """Return SQL giving ``value`` (of type ``kind``) as text: a JSON string without quotes."""
    if kind == "jsonb":
        return f"({value}) #>> '{{}}'"
    if kind == "json":
        return f"(({value})::jsonb #>> '{{}}')"
    return f"CAST(({value}) AS text)"


def binary_sql(kind: str, value: str) -> str | None:
    """Return SQL mapping ``value`` to 0/1, NULL for anything else (the reader's spellings).

    None: the type cannot hold 0/1 at all. The same spellings as the DuckDB engine's.
    """
    if kind in JSON:
        return binary_sql("text", text_sql(value, kind))
    if kind in BOOLEAN:
        return f"CAST(({value}) AS integer)"
    if kind in NUMERIC:
        return f"CASE WHEN ({value}) = 1 THEN 1 WHEN ({value}) = 0 THEN 0 END"
    if kind in TEXT:
        return (
            f"CASE lower(btrim(CAST(({value}) AS text))) WHEN '1' THEN 1 WHEN '0' THEN 0 "
            "WHEN 'true' THEN 1 WHEN 'false' THEN 0 WHEN '1.0' THEN 1 WHEN '0.0' THEN 0 END"
        )
    return None


_TRUE = ("1", "1.0", "true", "t", "yes", "y")
_FALSE = ("0", "0.0", "false", "f", "no", "n")


def flag_sql(expr: str, base: str, null_value: str) -> str | None:
    """Return SQL giving true/false, ``null_value`` when missing, NULL for another value."""
    if base in BOOLEAN:
        return f"coalesce(({expr}), {null_value})"
    if base in NUMERIC:
        return (
            f"CASE WHEN ({expr}) IS NULL THEN {null_value} WHEN ({expr}) = 1 THEN true "
            f"WHEN ({expr}) = 0 THEN false END"
        )
    if base in TEXT or base in JSON:
        norm = f"lower(btrim({text_sql(expr, base)}))"
        true = ", ".join(sql_literal(v) for v in _TRUE)
        false = ", ".join(sql_literal(v) for v in _FALSE)
        return (
            f"CASE WHEN ({expr}) IS NULL OR {norm} = '' THEN {null_value} "
            f"WHEN {norm} IN ({true}) THEN true WHEN {norm} IN ({false}) THEN false END"
        )
    return None


def convert_sql(kind: str, expr: str, base: str) -> str | None:
    """Return SQL reading ``expr`` (PostgreSQL type ``base``) as a role of ``kind`` is typed.

    Values that cannot be converted give NULL (``pg_temp`` functions of the session); the
    reader then checks for them and names the first. None: the type cannot hold such a role.
    """
    if base in JSON:
        expr, base = text_sql(expr, base), "text"
    if kind in ("key", "ref"):
        return f"({expr})" if base in INTEGER else f"nullif(CAST(({expr}) AS text), '')"
    if kind in ("text", "required_text"):
        return f"CAST(({expr}) AS text)"
    if kind == "actor":
        return f"lower(btrim(CAST(({expr}) AS text)))"
    if kind == "timestamp":
        if base == "timestamp with time zone":
            return f"({expr})"
        if base in NAIVE_TIME:
            return f"CAST(({expr}) AS timestamptz)"  # the session time zone is UTC
        if base in TEXT:
            return f"pg_temp.eg_timestamptz(CAST(({expr}) AS text))"
        return None
    if kind in ("flag", "flag_or_false"):
        return flag_sql(expr, base, "false" if kind == "flag_or_false" else "NULL")
    if kind == "number":
        if base in NUMERIC:
            return f"CAST(({expr}) AS double precision)"
        if base in TEXT:
            return f"pg_temp.eg_float8(CAST(({expr}) AS text))"
    return None


#: Functions created in each session's ``pg_temp`` schema: a cast that gives NULL for a value
#: it cannot convert (PostgreSQL 15 has no ``pg_input_is_valid``, and a cast error would stop
#: the whole scan without saying where).
SESSION_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION pg_temp.eg_timestamptz(value text) RETURNS timestamptz
    LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
      IF value IS NULL OR btrim(value) = '' THEN RETURN NULL; END IF;
      RETURN CAST(btrim(value) AS timestamptz);
    EXCEPTION WHEN others THEN RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION pg_temp.eg_float8(value text) RETURNS double precision
    LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
      IF value IS NULL OR btrim(value) = '' THEN RETURN NULL; END IF;
      RETURN CAST(btrim(value) AS double precision);
    EXCEPTION WHEN others THEN RETURN NULL;
    END $$""",
)
