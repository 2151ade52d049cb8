"""Policy language v1: a pack of rules, each citing what it implements.

The YAML keys are the field names. This module is the contract of the policy language: extend
it, do not rename it.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ethicsgate.base import Identifier, StrictModel, Text
from ethicsgate.rules.metrics import METRICS, MetricId

__all__ = [
    "Aggregate",
    "FairnessAssertion",
    "FairnessRule",
    "Op",
    "PolicyPack",
    "Reference",
    "ReferenceGroup",
    "Rule",
    "RULE_KINDS",
    "Severity",
    "StrictModel",
]


class Severity(StrEnum):
    """How much a failing rule matters: ``block`` fails the audit, the others only report."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


Op = Literal[">=", ">", "<=", "<"]
Aggregate = Literal["ratio", "difference", "value"]
ReferenceGroup = Literal["max", "min", "overall"] | dict[str, Text]


class Reference(StrictModel):
    """A regulation or standard that rules implement."""

    id: Identifier = Field(description="Short id that rules cite in their `references`.")
    title: str = Field(min_length=1, description="The regulation or standard, as people cite it.")
    url: str | None = Field(
        default=None, pattern=r"^https?://\S+$", description="Where to read it."
    )


class FairnessAssertion(StrictModel):
    """One threshold on a metric's ratio, difference or value, holding for the worst group.

    ``ratio`` is group value / reference value, ``difference`` is |group - reference| and
    ``value`` is the group value itself.
    """

    metric: MetricId = Field(description="A metric id (see Metrics).")
    aggregate: Aggregate = Field(
        default="ratio",
        description="ratio: group / reference; difference: |group - reference|; "
        "value: the group's own value.",
    )
    op: Op = Field(description="How the observed value must compare with `value`.")
    value: float = Field(description="The threshold, e.g. 0.8 for the four-fifths rule.")

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("value must be a finite number")
        return value


class RuleBase(StrictModel):
    """Fields every rule kind shares."""

    id: Identifier = Field(description="Unique within the pack; used in reports and waivers.")
    title: str | None = Field(default=None, description="What the rule checks, in plain words.")
    description: str | None = None
    dataset: Identifier = Field(description="An evidence name bound by the audit spec.")
    severity: Severity = Field(
        default=Severity.BLOCK,
        description="block: a failure fails the audit (exit 1); warn/info: reported only.",
    )
    references: list[Identifier] = Field(
        default_factory=list, description="Ids from the pack's references that this rule cites."
    )


class FairnessRule(RuleBase):
    """Group fairness of binary predictions, with metrics as fairlearn defines them."""

    kind: Literal["fairness"]
    sensitive_features: list[Identifier] = Field(
        min_length=1,
        description="Columns (roles) that define groups; two or more give intersectional "
        "groups.",
    )
    metrics: list[MetricId] = Field(
        default_factory=list,
        description="Metrics reported for every group (asserted metrics are added).",
    )
    min_group_size: int = Field(
        default=30,
        ge=1,
        description="Smaller groups are reported and marked excluded, never compared.",
    )
    reference: ReferenceGroup = Field(
        default="max",
        description="The group ratios and differences are taken against: the group with "
        "the max or min value of each metric, everyone (overall), or a named group such as "
        "{race: Caucasian}.",
    )
    assertions: list[FairnessAssertion] = Field(
        default_factory=list,
        alias="assert",
        description="Thresholds that must hold for every compared group.",
    )

    @field_validator("sensitive_features", "metrics")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        seen: set[str] = set()
        for value in values:
            if value in seen:
                raise ValueError(f"{value!r} is listed twice")
            seen.add(value)
        return values

    @model_validator(mode="after")
    def _check(self) -> FairnessRule:
        if not self.metrics and not self.assertions:
            raise ValueError("a fairness rule needs 'metrics' or 'assert' (or both)")
        if isinstance(self.reference, dict):
            keys, features = set(self.reference), set(self.sensitive_features)
            if keys != features:
                raise ValueError(
                    f"reference group names {sorted(keys)} but the rule's sensitive_features are "
                    f"{sorted(features)}: name a value for each sensitive feature, or use "
                    "max, min or overall"
                )
        for assertion in self.assertions:
            if assertion.metric == "count" and assertion.aggregate != "value":
                raise ValueError(
                    "count can only be asserted with aggregate: value (use min_group_size "
                    "to exclude small groups)"
                )
        return self

    @property
    def all_metrics(self) -> list[MetricId]:
        """Return the listed metrics plus any the assertions use, in a stable order."""
        wanted = list(self.metrics)
        for assertion in self.assertions:
            if assertion.metric not in wanted:
                wanted.append(assertion.metric)
        return wanted

    @property
    def needs_label(self) -> bool:
        """Return whether any metric of this rule reads the ground-truth label."""
        return any(METRICS[m].needs_label for m in self.all_metrics)

    @property
    def needs_prediction(self) -> bool:
        """Return whether any metric of this rule reads the prediction."""
        return any(METRICS[m].needs_prediction for m in self.all_metrics)


#: Rule kinds implemented in this version. Later kinds (transparency, consent, oversight,
#: data_quality) join this union; the discriminator keeps error messages precise.
RULE_KINDS: tuple[type[RuleBase], ...] = (FairnessRule,)
Rule = Annotated[FairnessRule, Field(discriminator="kind")]

PLANNED_KINDS = ("transparency", "consent", "oversight", "data_quality")


class PolicyPack(StrictModel):
    """A versioned pack of rules with the references they implement."""

    schema_version: Literal[1] = Field(description="Version of the policy language: 1.")
    id: Identifier = Field(description="Stable id of the pack, recorded in every report.")
    version: Text = Field(min_length=1, description="The pack's own version.")
    title: str = Field(min_length=1)
    owner: str = Field(min_length=1, description="Who is accountable for the policy.")
    description: str | None = None
    references: list[Reference] = Field(
        default_factory=list, description="Regulations and standards the rules implement."
    )
    rules: list[Rule] = Field(min_length=1, description="At least one rule.")
