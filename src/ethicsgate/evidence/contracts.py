"""Data contracts over evidence: the built-in checks rules need, and what a contract produces.

Engine-neutral: an engine runs the checks (:meth:`~ethicsgate.evidence.engine.Dataset.run_contract`,
``run_builtin_contract``) and returns a :class:`ContractResult` per expectation suite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from ethicsgate.base import StrictModel
from ethicsgate.evidence.roles import Role, RoleKind

__all__ = [
    "BuiltinCheck",
    "BuiltinKind",
    "ContractResult",
    "ExpectationResult",
    "Scope",
    "builtin_rule_id",
]

Parameter = str | int | float | bool | list[str | int | float | bool] | None


class ExpectationResult(StrictModel):
    """One expectation of a data contract, as Great Expectations judged it."""

    expect: str = Field(description="The policy's expectation kind, e.g. in_set.")
    expectation: str = Field(
        description="The Great Expectations expectation, e.g. expect_column_values_to_be_in_set."
    )
    column: str | None = Field(description="The role checked (null for row counts).")
    expression: str | None = Field(description="The evidence column or SQL expression read.")
    parameters: dict[str, Parameter] = Field(
        default_factory=dict, description="The expectation's options."
    )
    success: bool
    rows: int = Field(description="Audited rows the expectation looked at.")
    missing: int = Field(default=0, description="Rows with a missing value.")
    unexpected: int = Field(description="Rows (or, for row counts, 0 or 1) that failed.")
    unexpected_percent: float | None = Field(
        description="unexpected / non-missing rows (for not_null: / all rows), in percent."
    )
    examples: list[str] = Field(
        default_factory=list,
        description="A few failing values; masked (type and length) unless the column is "
        "declared safe.",
    )
    masked: bool = Field(default=True, description="True: examples show type and length only.")
    location: str | None = Field(
        default=None, description="The first failing row: file, line when known."
    )
    message: str = Field(description="The outcome in plain words.")
    guards: list[str] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Built-in expectations: the rules that depend on it (error when it fails).",
    )


class ContractResult(StrictModel):
    """A data contract on one dataset: every expectation, and what it guards.

    Either a data_quality rule of the policy, or (``builtin``) the expectations ethicsgate
    derives from what the rules read, with ``contracts: report`` in the audit spec.
    """

    rule_id: str
    dataset: str
    success: bool
    rows: int = Field(description="Audited rows (after the evidence filter).")
    chunks: int = Field(description="Chunks the rows were streamed to Great Expectations in.")
    engine: str = Field(description="Great Expectations version and execution engine.")
    guards: list[str] = Field(
        default_factory=list, description="Rules reported as error when the contract fails."
    )
    expectations: list[ExpectationResult]
    builtin: bool = Field(
        default=False,
        exclude_if=lambda value: not value,
        description="True: derived from the rules by ethicsgate (audit spec contracts: report), "
        "not written in the policy.",
    )


BuiltinKind = Literal[
    "exists", "binary", "finite", "number", "timestamp", "flag", "actor", "present", "unique_id"
]


@dataclass(frozen=True)
class Scope:
    """A condition limiting a check to some rows: a text role in ``values``, or a flag true."""

    role: str
    kind: Literal["text", "flag"]
    values: tuple[str, ...] = ()


@dataclass
class BuiltinCheck:
    """One built-in expectation on a role of a dataset, and the rules that depend on it."""

    expect: BuiltinKind
    column: str
    #: how the role is read (``key``, ``timestamp``, ...): present and unique_id type it so
    read_as: RoleKind = "text"
    scope: tuple[Scope, ...] = ()
    #: unique_id: the roles whose values make a record (rows repeating them are one record)
    record: tuple[Role, ...] = ()
    guards: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[Any, ...]:
        """Return what makes two rules' checks the same check."""
        return (self.expect, self.column, self.read_as, self.scope, self.record)

    @property
    def roles(self) -> list[str]:
        """Return every role the check reads."""
        names = [self.column, *(s.role for s in self.scope), *(r.name for r in self.record)]
        return list(dict.fromkeys(names))


def builtin_rule_id(dataset: str) -> str:
    """Return the id the report gives the built-in contract of a dataset."""
    return f"builtin:{dataset}"
