"""Evidence engines: where an audit's evidence is read and aggregated.

Each engine implements :class:`ethicsgate.evidence.engine.Engine` in a package of its own, which
is the only place that imports its client library. :func:`default_engine` returns the embedded
DuckDB engine; :func:`open_engine` the engine an ``--engine`` target (or the audit spec's
``engine:``) names: ``duckdb``, a Spark master (``spark``, ``local[*]``, ``spark://HOST:PORT``,
``sc://HOST:PORT``) or a SQLAlchemy database URL (``postgresql://user@host/db``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from ethicsgate.errors import EvidenceError

if TYPE_CHECKING:
    from ethicsgate.errors import Location
    from ethicsgate.evidence.engine import Engine
    from ethicsgate.settings import Settings

__all__ = ["default_engine", "engine_kind", "open_engine", "redact_message", "redact_target"]

_SPARK = re.compile(r"^(spark|local(\[[^\]]*\])?|spark://.+|sc://.+)$")
_URL = re.compile(r"^(?P<dialect>[a-z][a-z0-9]*)(\+(?P<driver>[a-z0-9_]+))?://", re.IGNORECASE)
#: The user:password@ part of a URL: the password is never shown. The password runs to the
#: first @, as SQLAlchemy reads it (``u:pa/ss@h`` is user u, password pa/ss).
_USERINFO = re.compile(r"^(?P<scheme>[^:/?#]+://)(?P<user>[^:@/?#]*):(?P<password>[^@]*)@")
#: One name=value parameter of a URL's query string (``;`` too: Spark Connect's separator).
_PARAM = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#]+)=(?P<value>[^&;#]*)")
#: Query parameters whose value is a secret: libpq's password and sslpassword, and the tokens,
#: secrets and keys other dialects take in a URL (access_token, client_secret,
#: private_key_file_pwd, api_key...). A harmless parameter caught by the net is only hidden.
_SECRET_NAME = re.compile(
    r"(?i)password|passwd|pwd|passphrase|token|secret|credential|api_?key|private_?key"
)
#: The SQLAlchemy dialects the SQL engine's templates cover (see docs/scale-out.md).
SQL_DIALECTS = ("postgresql",)


def default_engine(settings: Settings | None = None) -> Engine:
    """Return a new DuckDB engine with the deployment settings (``ETHICSGATE_MEMORY_LIMIT``...).

    Raises:
        SettingsError: a setting holds a value DuckDB cannot use.
    """
    from ethicsgate.engines.duckdb import DuckDBEngine

    return DuckDBEngine(settings)


def redact_target(target: str) -> str:
    """Return an engine target or database URL as it may be shown: its secrets as ``***``.

    ``postgresql://user:secret@host/db`` becomes ``postgresql://user:***@host/db``; secret
    query parameters (``?password=...``, ``sslpassword``, ``access_token``...) are replaced
    too. Every place that shows a database URL (engines, the review and history stores, the
    reports) shows it through this function.
    """
    shown = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", target)
    return _PARAM.sub(_redact_param, shown)


def _redact_param(match: re.Match[str]) -> str:
    if not _SECRET_NAME.search(match["name"]):
        return match[0]
    return f"{match['lead']}{match['name']}=***"


def _secrets(target: str) -> set[str]:
    """Return the secrets ``target`` carries, as written and percent-decoded."""
    found = []
    userinfo = _USERINFO.match(target)
    if userinfo:
        found.append(userinfo["password"])
    found += [m["value"] for m in _PARAM.finditer(target) if _SECRET_NAME.search(m["name"])]
    return {form for value in found for form in (value, unquote_plus(value)) if form}


def redact_message(message: str, target: str) -> str:
    """Return a driver's ``message`` about ``target`` with the target's secrets as ``***``.

    psycopg 3.3 on libpq 18 put no password in their messages (tried: a refused connection, a
    bad port, a bad sslmode, an unknown query parameter, a host that does not resolve, each
    with ``?password=``), but a driver that quotes its connection string or a value would show
    it: every secret ``target`` carries is replaced wherever it appears, and a URL in the
    message is redacted as :func:`redact_target` does.
    """
    text = message
    for secret in sorted(_secrets(target), key=len, reverse=True):  # a longer one first
        text = text.replace(secret, "***")
    return redact_target(text) if "://" in text else text


def engine_kind(target: str | None, *, location: Location | str | None = None) -> str:
    """Return which engine a target names: ``duckdb``, ``spark`` or ``sql``.

    Raises:
        EvidenceError: the target names no engine ethicsgate has (with the accepted forms).
    """
    if target is None or target.strip().lower() == "duckdb":
        return "duckdb"
    text = target.strip()
    if _SPARK.match(text):
        return "spark"
    match = _URL.match(text)
    if match and match["dialect"].lower() not in ("spark", "sc", "file", "http", "https"):
        return "sql"
    raise EvidenceError(
        f"unknown engine {redact_target(text)!r}",
        location=location or "--engine",
        hint="use duckdb (the default), spark or local[N] (a local Spark session), "
        "spark://HOST:PORT (a standalone cluster), sc://HOST:PORT (Spark Connect), or a "
        "SQLAlchemy URL such as postgresql://USER@HOST/DB",
    )


def open_engine(
    target: str | None,
    *,
    conf: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    location: Location | str | None = None,
) -> Engine:
    """Return the engine ``target`` names (None or ``duckdb``: the embedded DuckDB engine).

    ``conf``: engine settings (Spark conf; for a SQL database, options of its connection).
    ``location``: where the target was written (the audit spec's ``engine:``), for errors.

    Raises:
        EvidenceError: the target names no engine ethicsgate has, or its client library is
            missing (with the extra to install).
        SettingsError: a setting holds a value the engine cannot use.
    """
    kind = engine_kind(target, location=location)
    if kind == "duckdb":
        return default_engine(settings)
    assert target is not None
    if kind == "spark":
        try:  # by name: the Spark package imports pyspark, an optional extra
            spark = importlib.import_module("ethicsgate.engines.spark")
        except ImportError as exc:
            raise _missing(target, "pyspark", "spark", location) from exc
        opened: Engine = spark.open_spark_engine(target.strip(), conf=conf, settings=settings)
        return opened
    from ethicsgate.engines.sql import open_sql_engine

    return open_sql_engine(target.strip(), conf=conf, settings=settings, location=location)


def _missing(
    target: str, module: str, extra: str, location: Location | str | None
) -> EvidenceError:
    return EvidenceError(
        f"engine {redact_target(target)!r} needs {module}, which is not installed",
        location=location or "--engine",
        hint=f"pip install 'ethicsgate[{extra}]'",
    )
