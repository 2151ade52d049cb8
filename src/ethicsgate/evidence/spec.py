"""How an audit spec names one set of evidence: files, format, filter and column mapping."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ethicsgate.base import Identifier, StrictModel

__all__ = ["EvidenceFormat", "EvidenceSpec"]

EvidenceFormat = Literal["csv", "parquet", "jsonl", "json"]
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
