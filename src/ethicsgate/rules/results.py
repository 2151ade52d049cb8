"""What rules produce: findings as data, never exceptions."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from ethicsgate.base import StrictModel

__all__ = [
    "AssertionResult",
    "AssertionStatus",
    "GroupKey",
    "GroupResult",
    "ReferenceValue",
    "RuleResult",
    "RuleStatus",
]

#: A group as {sensitive feature: value}; ``None`` where the evidence has no value.
GroupKey = dict[str, str | None]


class RuleStatus(StrEnum):
    """A rule's outcome. ``error`` means it could not be evaluated and is never a pass."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    ERROR = "error"
    SKIPPED = "skipped"
    WAIVED = "waived"


AssertionStatus = Literal["pass", "fail", "error"]


class AssertionResult(StrictModel):
    """One assertion evaluated over every comparable group, reported at its worst group."""

    metric: str
    aggregate: Literal["ratio", "difference", "value"]
    op: str
    threshold: float
    observed: float | None = Field(description="The worst group's value; null if undefined.")
    group: GroupKey | None = Field(description="The group the observed value came from.")
    reference_group: GroupKey | None = Field(
        default=None, description="The group compared against (null for 'overall')."
    )
    reference_value: float | None = None
    failing_groups: list[GroupKey] = Field(default_factory=list)
    status: AssertionStatus
    message: str


class ReferenceValue(StrictModel):
    """The reference a metric's ratios and differences are taken against."""

    group: GroupKey | None = Field(description="null when the reference is 'overall'.")
    value: float | None


class GroupResult(StrictModel):
    """One group's size and metrics, with ratios and differences against the reference."""

    group: GroupKey
    count: int
    excluded: bool = Field(description="True when smaller than min_group_size: never compared.")
    metrics: dict[str, float | None]
    ratios: dict[str, float | None] = Field(default_factory=dict)
    differences: dict[str, float | None] = Field(default_factory=dict)


class RuleResult(StrictModel):
    """A rule's outcome with everything needed to see why."""

    id: str
    kind: str
    title: str | None = None
    severity: Literal["block", "warn", "info"]
    status: RuleStatus
    message: str
    dataset: str
    references: list[str] = Field(default_factory=list)
    sensitive_features: list[str] = Field(default_factory=list)
    min_group_size: int | None = None
    reference: str | GroupKey | None = None
    rows: int = Field(description="Evidence rows the rule evaluated.")
    overall: dict[str, float | None] = Field(default_factory=dict)
    reference_values: dict[str, ReferenceValue] = Field(default_factory=dict)
    assertions: list[AssertionResult] = Field(default_factory=list)
    groups: list[GroupResult] = Field(default_factory=list)
