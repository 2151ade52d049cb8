"""How an audit spec names one set of evidence: files, format, filter and column mapping."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from ethicsgate.base import Identifier, StrictModel

__all__ = ["DatasetFormat", "EvidenceFormat", "EvidenceSpec", "MemoryEvidenceSpec"]

EvidenceFormat = Literal["csv", "parquet", "jsonl", "json"]
#: What a dataset is read as: a file format, or ``arrow`` for in-memory evidence.
DatasetFormat = EvidenceFormat | Literal["arrow"]
#: A scalar reader option; lists and mappings of them are passed as DuckDB lists and structs.
OptionValue = str | int | float | bool


class EvidenceSpec(StrictModel):
    """One evidence set: a file or glob, read by DuckDB, mapped to the roles rules read."""

    path: str = Field(
        min_length=1,
        description="File or glob, relative to the audit spec (CSV, Parquet, JSON Lines).",
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


class MemoryEvidenceSpec(EvidenceSpec):
    """An evidence set held in memory (the Python API): an Arrow table instead of files.

    Never read from YAML: ``ethicsgate.audit`` builds it. ``path`` is where the frame is saved
    for ``verify --evidence`` (the report's subject); ``data`` is the ``pyarrow.Table`` and
    ``kind`` what it was made from (``pandas.DataFrame``), for messages.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    data: Any = Field(exclude=True, repr=False, description="The evidence as a pyarrow.Table.")
    kind: str = Field(description="What the data was handed over as, e.g. pandas.DataFrame.")
