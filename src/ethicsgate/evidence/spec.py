"""How an audit spec names one set of evidence: files, format, filter and column mapping."""

from __future__ import annotations

import functools
import re
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from ethicsgate.base import Identifier, StrictModel
from ethicsgate.evidence.sql import POSTGRESQL_LEXIS, sql_tokens

__all__ = [
    "DatasetFormat",
    "EvidenceFormat",
    "EvidenceSpec",
    "MemoryEvidenceSpec",
    "WindowEvery",
    "WindowSpec",
    "check_time_zone",
]

EvidenceFormat = Literal["csv", "parquet", "jsonl", "json", "delta"]
#: What a dataset is read as: a file format, ``arrow`` for in-memory evidence, or ``table`` /
#: ``query`` for evidence an engine reads where it lives (no files).
DatasetFormat = EvidenceFormat | Literal["arrow", "table", "query"]
#: A scalar reader option; lists and mappings of them are passed as DuckDB lists and structs.
OptionValue = str | int | float | bool


#: Calendar windows: days, ISO weeks (Monday to Sunday), months, quarters (of the window's
#: ``time_zone`` calendar, UTC by default).
WindowEvery = Literal["day", "week", "month", "quarter"]
_DAYS = re.compile(r"^([1-9][0-9]{0,4})d$")


@functools.cache
def _iana_zones() -> frozenset[str]:
    """Return the IANA zone names this Python knows (read once: a walk of the tz database)."""
    import zoneinfo

    # "localtime" is the machine's own zone file, not a name of the database
    return frozenset(zoneinfo.available_timezones() - {"localtime", "posixrules"})


def check_time_zone(name: str) -> str:
    """Return ``name`` if it is an IANA time zone (``Europe/Berlin``), else raise.

    Raises:
        ValueError: not a zone of the IANA database; the message names the closest one.
    """
    from ethicsgate.errors import close_match

    zones = _iana_zones()
    if not zones:
        raise ValueError(
            f"time_zone {name!r} cannot be checked: this Python finds no IANA time zone "
            "database; install it (pip install tzdata)"
        )
    if name in zones:
        return name
    by_case = {z.lower(): z for z in zones}
    meant = by_case.get(name.lower()) or close_match(name, zones)
    if meant is None and "/" not in name:
        # a city alone: Berlin -> Europe/Berlin
        cities = {z.rsplit("/", 1)[-1].lower(): z for z in zones if "/" in z}
        meant = cities.get(name.lower().replace(" ", "_"))
    more = f" (did you mean {meant!r}?)" if meant else ""
    raise ValueError(
        f"time_zone {name!r} is not an IANA time zone{more}; write a name such as "
        "Europe/Berlin, America/New_York or UTC"
    )


class WindowSpec(StrictModel):
    """Split the evidence into time windows by one column; fairness rules judge each window.

    ``every``: calendar windows (day, ISO week, month, quarter). ``last: 90d``: the 90 days
    that end with the latest day in the evidence, as one window; with ``every`` as well, one
    such trailing window ending with each calendar window (rolling windows).
    """

    column: str | None = Field(
        default=None,
        min_length=1,
        description="The time column or SQL expression (a DATE, a TIMESTAMP, or text that "
        "casts to one) [default: the `timestamp` role].",
    )
    every: WindowEvery | None = Field(
        default=None, description="Calendar windows: day, week (ISO, Monday first), month, quarter."
    )
    last: str | None = Field(
        default=None,
        description="Rolling windows of this many days, written like 90d: the last N days up "
        "to the latest day in the evidence (or, with `every`, up to the end of each window).",
    )
    time_zone: str | None = Field(
        default=None,
        min_length=1,
        description="The IANA time zone whose calendar cuts the windows (e.g. Europe/Berlin) "
        "[default: UTC]. Times with a zone or offset are converted to it; times without one "
        "are read as that zone's wall-clock time; dates are dates.",
    )

    @field_validator("last")
    @classmethod
    def _days(cls, value: str | None) -> str | None:
        if value is not None and not _DAYS.match(value):
            raise ValueError("last must be a number of days such as 90d")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_time_zone(value)

    @model_validator(mode="after")
    def _one_of(self) -> WindowSpec:
        if self.every is None and self.last is None:
            raise ValueError("a window needs `every` (day, week, month, quarter) or `last` (90d)")
        return self

    @property
    def last_days(self) -> int | None:
        """Return the rolling window's length in days (None: calendar windows only)."""
        found = _DAYS.match(self.last) if self.last else None
        return int(found.group(1)) if found else None

    @property
    def key_every(self) -> WindowEvery:
        """Return the calendar unit the engine groups by (rolling windows are built from days)."""
        return "day" if self.last is not None else (self.every or "day")


class EvidenceSpec(StrictModel):
    """One evidence set: files, a table or a query, mapped to the roles rules read.

    Exactly one of ``path`` (files, read by DuckDB or Spark), ``table`` and ``query`` (read
    where they live, by a database or Spark engine: ``--engine``).
    """

    path: str | None = Field(
        default=None,
        min_length=1,
        description="File or glob, relative to the audit spec (CSV, Parquet, JSON Lines).",
    )
    table: str | None = Field(
        default=None,
        min_length=1,
        pattern=r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$",
        description="A table or view of the engine's database: name, schema.name or "
        "db.schema.name (needs --engine with a database or Spark).",
    )
    query: str | None = Field(
        default=None,
        min_length=1,
        description="A SELECT run by the engine's database; its result is the evidence "
        "(needs --engine with a database or Spark). The report binds sha256 of its text.",
    )
    format: EvidenceFormat | None = Field(
        default=None, description="Overrides the format guessed from the file extension."
    )
    version: int | None = Field(
        default=None,
        ge=0,
        description="Delta tables: the table version to audit (time travel); default the "
        "latest. The report records the version read (delta:N).",
    )
    filter: str | None = Field(
        default=None, description="A SQL condition; only rows where it is true are audited."
    )
    columns: dict[Identifier, str] = Field(
        default_factory=dict,
        description=(
            "Role name -> column name or SQL expression "
            "(e.g. prediction: \"score_text <> 'Low'\"). Unmapped roles are read from the "
            "column of the same name."
        ),
    )
    options: dict[Identifier, OptionValue | list[OptionValue] | dict[str, OptionValue]] = Field(
        default_factory=dict,
        description="Reader options passed to DuckDB (e.g. delim: ';', header: true, "
        "types: {zip_code: VARCHAR}).",
    )
    window: WindowSpec | None = Field(
        default=None,
        description="Judge fairness rules per time window, e.g. {column: decided_at, every: "
        "month} or {column: decided_at, last: 90d}; all windows come from the same scan.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> EvidenceSpec:
        given = [k for k in ("path", "table", "query") if getattr(self, k) is not None]
        if len(given) != 1:
            found = " and ".join(given) if given else "none of them"
            raise ValueError(
                f"an evidence set needs exactly one of path (files), table or query; found {found}"
            )
        if self.query is not None and not _is_select(self.query):
            raise ValueError(
                "query must be one SELECT (or WITH ... SELECT) statement, without a ';' "
                "between statements"
            )
        return self

    @property
    def source(self) -> str:
        """Return how messages name the evidence: its path, ``table NAME`` or ``query``."""
        if self.path is not None:
            return self.path
        if self.table is not None:
            return f"table {self.table}"
        return "query"


def _is_select(query: str) -> bool:
    """Return whether ``query`` reads as one SELECT statement (a trailing ';' allowed).

    A ';' inside a string, a quoted name or a comment (``WHERE note <> 'a;b'``) is text, as
    PostgreSQL reads it; an engine checks the query with its own quoting before running it.
    """
    text = query.strip().rstrip(";").strip()
    head = text.split(None, 1)[0].lower() if text else ""
    if head not in ("select", "with", "(select", "values"):
        return False
    try:
        tokens = sql_tokens(text, POSTGRESQL_LEXIS)
    except ValueError:  # a quote left open: any ';' may end a statement
        return ";" not in text
    return ("operator", ";") not in tokens


class MemoryEvidenceSpec(EvidenceSpec):
    """An evidence set held in memory (the Python API): an Arrow table instead of files.

    Never read from YAML: ``ethicsgate.audit`` builds it. ``path`` is where the frame is saved
    for ``verify --evidence`` (the report's subject); ``data`` is the ``pyarrow.Table`` and
    ``kind`` what it was made from (``pandas.DataFrame``), for messages.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    data: Any = Field(exclude=True, repr=False, description="The evidence as a pyarrow.Table.")
    kind: str = Field(description="What the data was handed over as, e.g. pandas.DataFrame.")
