"""Engine tests: a real PostgreSQL server (as the review-store tests use) and evidence loaded into it,
and a local Spark session.

``postgres_url`` is ``ETHICSGATE_TEST_POSTGRES_URL`` or a private ``pgserver`` started once per
session; without either the tests skip locally and fail in CI (``CI=true``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.unit.review.conftest import postgres_url, stop_private_server

#: DuckDB types of the shipped evidence -> PostgreSQL column types.
_PG_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSON": "jsonb",
}


def sa_url(url: str) -> str:
    """Return a server URL with the psycopg 3 driver SQLAlchemy needs."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """Yield the test server's URL (skip locally, fail in CI, without one)."""
    yield postgres_url()
    stop_private_server()


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[sa.Engine]:
    """Yield a SQLAlchemy engine on the test server (autocommit)."""
    engine = sa.create_engine(sa_url(pg_url), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def load_table(engine: sa.Engine, path: Path, table: str, *, reader: str | None = None) -> int:
    """Load an evidence file into ``table`` (replaced) with the types DuckDB reads it as.

    Returns the number of rows. The values go through DuckDB, so the database holds what the
    DuckDB engine audits (the parity tests compare the two engines on the same data).
    """
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        source = reader or (
            f"read_json('{path}', format='newline_delimited')"
            if path.suffix == ".jsonl"
            else f"read_parquet('{path}')"
            if path.suffix == ".parquet"
            else f"read_csv('{path}')"
        )
        rel = con.sql(f"SELECT * FROM {source}")
        columns = list(zip(rel.columns, [str(t) for t in rel.types], strict=True))
        rows = rel.fetchall()
    finally:
        con.close()
    schema, _, name = table.rpartition(".")
    defs = ", ".join(f'"{c}" {_PG_TYPES.get(t, "text")}' for c, t in columns)
    names = ", ".join(f'"{c}"' for c, _ in columns)
    with engine.connect() as conn:
        if schema:
            conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {table} CASCADE"))
        conn.execute(sa.text(f"CREATE TABLE {table} ({defs})"))
        raw = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)


# -- Spark: a local session (Java 17+ needed: skip locally, fail in CI without it) --------------

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _require_spark() -> None:
    from ethicsgate.engines.spark.session import java_problem

    problem = java_problem()
    if problem is None:
        return
    message = f"Java 17+ for Spark is missing ({problem}): apt-get install default-jre-headless"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    _require_spark()
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("ethicsgate-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()


@pytest.fixture
def engine(spark: Any) -> Iterator[Any]:
    from ethicsgate.engines.spark import SparkEngine

    found = SparkEngine("local[2]", session=spark)
    yield found
    found.close()
