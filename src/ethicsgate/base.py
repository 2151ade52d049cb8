"""Shared model base and field types for every file ethicsgate reads or writes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["COMPACT", "Identifier", "StrictModel", "Text"]

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


class StrictModel(BaseModel):
    """Base of every file model: unknown keys are errors and values are immutable."""

    # defer_build: a model's validator is built on first use, not at import, so an audit does
    # not pay for the models of rule kinds and outputs it never touches
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


#: The config of a value made once per group, 100,000 times in a large report (a group's
#: interval or test): ``@dataclass(frozen=True, slots=True, config=COMPACT)`` from
#: ``pydantic.dataclasses`` validates, dumps and describes it like a StrictModel (unknown keys
#: are errors, the JSON Schema is the same) in a sixth of the memory: an Interval is 105 bytes,
#: not 650, as it has no ``__dict__`` and no set of the fields given.
COMPACT = ConfigDict(extra="forbid", defer_build=True)


#: Text a person may write unquoted in YAML: a version (``1.10``), a group value (``0100``), an
#: outcome (``yes``). The loaders give every text field such a scalar exactly as the file writes
#: it, never the number or boolean YAML reads (``policy/yamlsource.py``: ``validate_document``).
Text = str
Identifier = Annotated[str, Field(pattern=_ID_PATTERN, max_length=128)]
