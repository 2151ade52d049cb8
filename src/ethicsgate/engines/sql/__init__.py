"""Audit evidence where it lives: a SQL database reached through SQLAlchemy 2 Core.

``--engine postgresql://USER@HOST/DB`` (or the audit spec's ``engine:``) runs every scan inside
the database, over evidence given as ``table:`` or ``query:``; only aggregates and a bounded
sample of findings come back (findings.parquet streams every violation in batches). The SQL is
written per dialect (:mod:`.dialect`, :mod:`.types`) and tested against a real PostgreSQL
server; no transpiler is trusted with it. This package is the only one that speaks to the
database for evidence.

PostgreSQL is the tested dialect. Snowflake, BigQuery, Trino and Databricks SQL are targets of
the dialect layer, refused until a real engine runs them in CI (docs/scale-out.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ethicsgate.engines import redact_message, redact_target
from ethicsgate.engines.sql.dataset import SQLDataset, database_error
from ethicsgate.engines.sql.types import SESSION_FUNCTIONS
from ethicsgate.errors import EvidenceError, Location
from ethicsgate.evidence.delta import refuse_version

if TYPE_CHECKING:
    from ethicsgate.evidence.model import Locator
    from ethicsgate.evidence.spec import EvidenceSpec
    from ethicsgate.settings import Settings

__all__ = ["SQLDataset", "SQLEngine", "open_sql_engine"]

#: Dialects whose SQL templates are written and tested against a real server.
TESTED = ("postgresql",)
#: Dialects the template layer is meant for, refused until CI runs them (docs/scale-out.md).
TARGETED = ("snowflake", "bigquery", "trino", "databricks")


def open_sql_engine(
    target: str,
    *,
    conf: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    location: Location | str | None = None,
) -> SQLEngine:
    """Return an engine for the database at the SQLAlchemy URL ``target`` (not yet connected).

    ``conf``: options of the connection (``connect_args``), e.g. ``sslmode: require``.

    Raises:
        EvidenceError: the URL is not one SQLAlchemy reads, or its dialect is not covered.
    """
    shown = redact_target(target)
    try:
        url = sa.make_url(target)
    except (sa_exc.ArgumentError, ValueError):
        raise EvidenceError(
            f"engine {shown!r} is not a database URL SQLAlchemy can read",
            location=location or "--engine",
            hint="write it as postgresql://USER@HOST:PORT/DB (a password as ${ENV_VAR} in the "
            "audit spec, or in ~/.pgpass)",
        ) from None
    dialect = url.get_backend_name()
    if dialect not in TESTED:
        planned = (
            f"{dialect} is a target of the SQL dialect layer but untested until a real "
            "engine runs it in CI"
            if dialect in TARGETED
            else f"there are no SQL templates for {dialect}"
        )
        raise EvidenceError(
            f"engine {shown!r}: {planned}",
            location=location or "--engine",
            hint="use postgresql://USER@HOST/DB, or export the data to Parquet and run on "
            "DuckDB (docs/scale-out.md)",
        )
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3, a dependency
    return SQLEngine(url, shown=shown, conf=dict(conf or {}), location=location)


class SQLEngine:
    """One database connection for an audit; temporary tables live in its session."""

    name = "sql"

    def __init__(
        self,
        url: sa.URL,
        *,
        shown: str,
        conf: Mapping[str, str] | None = None,
        location: Location | str | None = None,
    ) -> None:
        """Keep the URL; :meth:`connect` opens the connection on first use."""
        self.url = url
        self.shown = shown
        self._conf = dict(conf or {})
        self._location = location
        self._engine: sa.Engine | None = None
        self._con: sa.Connection | None = None
        self.server_version = ""
        self._reserved: frozenset[str] | None = None

    @property
    def dialect_name(self) -> str:
        """Return the SQLAlchemy dialect's name, e.g. ``postgresql``."""
        return self.url.get_backend_name()

    def connect(self) -> None:
        """Connect, set the session to UTC and read-only, create its helper functions.

        Raises:
            EvidenceError: the server cannot be reached or refuses the login (the engine is
                named with its password redacted).
        """
        if self._con is not None:
            return
        # autocommit: a failed probe must not abort the session's transaction (and with it the
        # temporary tables); every statement here only reads, or writes pg_temp
        engine = sa.create_engine(
            self.url,
            connect_args=self._conf,
            poolclass=sa.NullPool,
            isolation_level="AUTOCOMMIT",
        )
        try:
            con = engine.connect()
        except sa_exc.DBAPIError as exc:
            engine.dispose()
            raise self.unreachable(exc) from None
        try:
            con.execute(sa.text("SET TimeZone = 'UTC'"))
            con.execute(sa.text("SET extra_float_digits = 1"))  # shortest exact doubles
            # a backslash is text outside E'...', as the check of mappings and filters reads
            # them (evidence.sql.POSTGRESQL_LEXIS), whatever the server's default
            con.execute(sa.text("SET standard_conforming_strings = on"))
            for sql in SESSION_FUNCTIONS:
                con.execute(sa.text(sql))
            self.server_version = str(con.execute(sa.text("SHOW server_version")).scalar())
        except sa_exc.DBAPIError as exc:
            con.close()
            engine.dispose()
            raise database_error(self, exc, what="set up the session") from None
        self._engine, self._con = engine, con

    def reserved_words(self) -> frozenset[str]:
        """Return the server's keywords that do not read as a column unquoted (read once).

        PostgreSQL's reserved ones (``group`` is a syntax error, ``user`` the session's user)
        and those only a function or type may use (``authorization``).
        """
        if self._reserved is None:
            try:
                rows = self.con.execute(
                    sa.text("SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T')")
                ).all()
            except sa_exc.DBAPIError as exc:
                raise database_error(self, exc, what="read its keywords") from None
            self._reserved = frozenset(str(word) for (word,) in rows)
        return self._reserved

    def unreachable(self, exc: sa_exc.DBAPIError) -> EvidenceError:
        """Return the error for a server that cannot be reached or refuses the login."""
        text = _reason(exc, self.url)
        hint = (
            "check the host, port and database name, that the server runs and accepts "
            "connections from here"
        )
        if "password" in text.lower() or "authentication" in text.lower():
            hint = (
                "check the user and password (give the password as ${ENV_VAR} in the audit "
                "spec's engine:, or in ~/.pgpass; never on a shared command line)"
            )
        return EvidenceError(
            f"engine {self.shown}: cannot connect: {text}",
            location=self._location or "--engine",
            hint=hint,
        )

    @property
    def con(self) -> sa.Connection:
        """Return the connection, connecting on first use."""
        self.connect()
        assert self._con is not None
        return self._con

    def open(self, name: str, spec: EvidenceSpec, *, base_dir: Path, locate: Locator) -> SQLDataset:
        """Open a ``table:`` or ``query:`` evidence set (checked on first use).

        Raises:
            EvidenceError: the evidence is files, which a database does not read.
        """
        if spec.path is not None:
            raise EvidenceError(
                f"evidence {name!r} is files ({spec.path}), but engine {self.shown} reads "
                "tables and queries of its database",
                location=locate(("path",)),
                hint="load the files into a table and write table: SCHEMA.NAME, or run the "
                "audit on DuckDB (no --engine)",
            )
        refuse_version(name, spec, locate)
        return SQLDataset(name=name, spec=spec, locate=locate, engine=self)

    def versions(self) -> dict[str, str]:
        """Return the engine (URL password redacted), server and client versions."""
        versions = {"engine": self.shown, "sqlalchemy": sa.__version__}
        if self.server_version:
            versions[self.dialect_name] = self.server_version
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions["psycopg"] = metadata.version("psycopg")
        return versions

    def close(self) -> None:
        """Close the connection (its temporary tables go with the session)."""
        if self._con is not None:
            try:
                self._con.close()
            finally:
                self._con = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> SQLEngine:
        """Return the engine itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the engine."""
        self.close()


def _reason(exc: sa_exc.DBAPIError, url: sa.URL) -> str:
    """Return the driver's first line, every secret of ``url`` in it replaced by ``***``."""
    text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return redact_message(text, url.render_as_string(hide_password=False))
