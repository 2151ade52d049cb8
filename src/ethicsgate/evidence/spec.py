"""How an audit spec names one set of evidence: files, format, filter and column mapping."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from ethicsgate.base import Identifier, StrictModel

__all__ = ["DatasetFormat", "EvidenceFormat", "EvidenceSpec", "MemoryEvidenceSpec"]

EvidenceFormat = Literal["csv", "parquet", "jsonl", "json"]
#: What a dataset is read as: a file format, ``arrow`` for in-memory evidence, or ``table`` /
#: ``query`` for evidence an engine reads where it lives (no files).
DatasetFormat = EvidenceFormat | Literal["arrow", "table", "query"]
#: A scalar reader option; lists and mappings of them are passed as DuckDB lists and structs.
OptionValue = str | int | float | bool


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
    """Return whether ``query`` reads as one SELECT statement (a trailing ';' allowed)."""
    text = query.strip().rstrip(";").strip()
    head = text.split(None, 1)[0].lower() if text else ""
    return head in ("select", "with", "(select", "values") and ";" not in text


class MemoryEvidenceSpec(EvidenceSpec):
    """An evidence set held in memory (the Python API): an Arrow table instead of files.

    Never read from YAML: ``ethicsgate.audit`` builds it. ``path`` is where the frame is saved
    for ``verify --evidence`` (the report's subject); ``data`` is the ``pyarrow.Table`` and
    ``kind`` what it was made from (``pandas.DataFrame``), for messages.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    data: Any = Field(exclude=True, repr=False, description="The evidence as a pyarrow.Table.")
    kind: str = Field(description="What the data was handed over as, e.g. pandas.DataFrame.")
