"""Policy language v1: a pack of rules, each citing what it implements.

The YAML keys are the field names. This module is the contract of the policy language: extend
it, do not rename it.
"""

from __future__ import annotations

import math
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ethicsgate.base import Identifier, StrictModel, Text
from ethicsgate.policy.fields import Duration, TextPattern
from ethicsgate.rules.metrics import METRICS, MetricId

__all__ = [
    "CHECKS",
    "AdverseCondition",
    "Aggregate",
    "AiContentLabeledRule",
    "BotDisclosureRule",
    "ConsentRule",
    "ConsentValidRule",
    "DecisionExplainedRule",
    "HumanHandoffRule",
    "HumanReviewRequiredRule",
    "LegalBasis",
    "OversightRule",
    "RecordRuleBase",
    "ReviewSamplingRule",
    "TransparencyRule",
    "WithdrawalHonoredRule",
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

    @property
    def datasets(self) -> tuple[str, ...]:
        """Return every evidence name the rule reads (the audit spec must bind each)."""
        return (self.dataset,)


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


# -- record-level rules over automation logs ----------------------------------------------------

LegalBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
]
"""GDPR Art. 6(1)(a)-(f). Only ``consent`` needs a matching grant in the consent ledger."""

#: Reviewer values that name a machine, not a person (compared case-insensitively).
DEFAULT_AUTOMATED_REVIEWERS = ("system", "auto", "automated", "model", "bot", "ai")

#: Event types that disclose automation (EU AI Act Art. 50(1)).
DEFAULT_DISCLOSURE_TYPES = ("bot_disclosure", "ai_disclosure")
#: Bot or system text that discloses automation, in English, German, French, Spanish, Italian
#: and Dutch (RE2 syntax, case-insensitive).
DEFAULT_DISCLOSURE_PATTERNS = (
    r"\b(virtual|digital|automated|ai|a\.i\.) ?(assistant|agent|helper)\b",
    r"\bchat ?bot\b",
    r"\b(i am|i'm) (an? )?(bot|ai|machine|computer program)\b",
    r"\bartificial intelligence\b",
    r"\b(virtueller|digitaler|automatisierter) assistent",
    r"\bki-(assistent|gestützt)",
    r"\bich bin (ein|eine) (bot|chatbot|ki|computerprogramm)\b",
    r"\bassistant (virtuel|automatisé|numérique)",
    r"\bje suis (un robot|un bot|une ia)\b",
    r"\basistente (virtual|automático|digital)",
    r"\bsoy un (bot|robot|asistente virtual)\b",
    r"\bassistente (virtuale|digitale)",
    r"\b(virtuele|digitale) assistent",
)
#: Event types that are a request for a person.
DEFAULT_REQUEST_TYPES = ("handoff_request",)
#: Customer text that asks for a person, in English, German, French, Spanish, Italian and Dutch.
DEFAULT_REQUEST_PATTERNS = (
    r"\b(speak|talk|chat) (to|with) (a |an |some)?(real )?(human|person|agent|someone|somebody|"
    r"staff|employee|representative)",
    r"\b(real|live) (person|human|agent)\b",
    r"\bhuman,? please\b",
    r"\bmit (einem|einer) (echten )?(menschen|mitarbeiter|mitarbeiterin|person)\b",
    r"\bparler (à|a|avec) (un humain|une personne|un conseiller|une conseillère|quelqu'un)",
    r"\bhablar con (una persona|un humano|un agente|alguien)\b",
    r"\bparlare con (una persona|un operatore|un umano|qualcuno)\b",
    r"\bmet een (mens|medewerker|persoon)\b",
)
DEFAULT_PLACEHOLDERS = ("n/a", "na", "none", "null", "-", "unknown", "tbd", "todo", "?")


def _unique_list(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(value)
    return values


class RecordRuleBase(RuleBase):
    """Fields of rules that judge records one by one (transparency, consent, oversight).

    Each such rule counts the records it applies to and the ones that violate it; the rule fails
    when ``violations / records`` exceeds ``max_violation_rate``.
    """

    max_violation_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Largest share of violating records that still passes (0.0: none may).",
    )
    if_no_records: Literal["error", "skip"] = Field(
        default="error",
        description="When the rule applies to no record: error (never a silent pass) or skip.",
    )
    max_findings: int = Field(
        default=1000,
        ge=0,
        le=100_000,
        description="How many violating records the report lists; all are counted.",
    )



class TransparencyRule(RecordRuleBase):
    """Transparency of customer-facing automation (EU AI Act Art. 50, GDPR Art. 13-15, 22)."""

    kind: Literal["transparency"]


class BotDisclosureRule(TransparencyRule):
    """Every conversation with a bot discloses automation at or before the first bot message."""

    check: Literal["bot_disclosure"]
    disclosure_types: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_DISCLOSURE_TYPES),
        description="Event types that disclose automation (any actor).",
    )
    disclosure_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_DISCLOSURE_PATTERNS),
        description="Regular expressions (RE2, case-insensitive) that disclose automation "
        "when found in a bot or system message.",
    )

    @model_validator(mode="after")
    def _something_discloses(self) -> BotDisclosureRule:
        if not self.disclosure_types and not self.disclosure_patterns:
            raise ValueError(
                "disclosure_types and disclosure_patterns are both empty, so no conversation "
                "could ever disclose automation; list at least one"
            )
        return self


class HumanHandoffRule(TransparencyRule):
    """A customer who asks for a person gets one within a time or a number of turns."""

    check: Literal["human_handoff"]
    within: Duration | None = Field(
        default=None,
        description="A human must join at most this long after the request (default 10m).",
    )
    within_turns: int | None = Field(
        default=None,
        ge=1,
        description="Instead of a time: a human must join within this many later events.",
    )
    request_types: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_REQUEST_TYPES),
        description="Event types that are a request for a person (any actor).",
    )
    request_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_REQUEST_PATTERNS),
        description="Regular expressions (RE2, case-insensitive) that make a customer message "
        "a request for a person.",
    )
    human_join_types: list[Text] = Field(
        default_factory=list,
        description="Event types that mean a person joined, besides any event by actor human.",
    )

    @model_validator(mode="after")
    def _one_limit(self) -> HumanHandoffRule:
        if self.within is not None and self.within_turns is not None:
            raise ValueError("give either within (a time) or within_turns, not both")
        if self.within is not None and self.within.total_seconds() <= 0:
            raise ValueError("within must be longer than 0s")
        if not self.request_types and not self.request_patterns:
            raise ValueError(
                "request_types and request_patterns are both empty, so no request for a person "
                "could ever be recognised; list at least one"
            )
        return self

    @property
    def window(self) -> timedelta | None:
        """Return the time limit (10 minutes unless ``within_turns`` is used)."""
        if self.within_turns is not None:
            return None
        return self.within if self.within is not None else timedelta(minutes=10)


class DecisionExplainedRule(TransparencyRule):
    """Automated decisions carry a reason people can read (GDPR Art. 13-15, 22)."""

    check: Literal["decision_explained"]
    event_types: list[Text] = Field(
        default_factory=list,
        description="Event types that are automated decisions; empty: every row is one.",
    )
    placeholders: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_PLACEHOLDERS),
        description="Values that are not an explanation (compared case-insensitively).",
    )
    min_length: int = Field(default=1, ge=1, description="Shortest accepted explanation.")
    finding_fields: list[Identifier] = Field(
        default_factory=list, description="Extra roles of the record to show in findings."
    )

    check_unique = field_validator("event_types", "finding_fields")(_unique_list)


class AiContentLabeledRule(TransparencyRule):
    """AI-generated content carries the label that says so (EU AI Act Art. 50(2), 50(4))."""

    check: Literal["ai_content_labeled"]
    event_types: list[Text] = Field(
        default_factory=list,
        description="Event types of the content to check; empty: every row.",
    )
    all_generated: bool = Field(
        default=False,
        description="true: every row in scope is generated content; false: the role "
        "ai_generated says which rows are.",
    )
    finding_fields: list[Identifier] = Field(
        default_factory=list, description="Extra roles of the record to show in findings."
    )

    check_unique = field_validator("event_types", "finding_fields")(_unique_list)


class ConsentRule(RecordRuleBase):
    """Processing is covered by a declared legal basis and, for consent, by the ledger."""

    kind: Literal["consent"]
    ledger: Identifier = Field(
        description="Evidence name of the consent ledger (subject_id, purpose, granted_at, "
        "withdrawn_at, expires_at)."
    )
    purposes: dict[Identifier, LegalBasis] = Field(
        min_length=1,
        description="Legal basis of each processing purpose, e.g. newsletter: consent.",
    )
    undeclared_purposes: Literal["violation", "ignore"] = Field(
        default="violation",
        description="Whether processing for a purpose not listed in purposes is a finding.",
    )
    grace: Duration = Field(
        default=timedelta(0),
        description="Processing this long after a withdrawal is still accepted.",
    )
    finding_fields: list[Identifier] = Field(
        default_factory=list, description="Extra roles of the event to show in findings."
    )

    check_unique = field_validator("finding_fields")(_unique_list)

    @model_validator(mode="after")
    def _separate_ledger(self) -> ConsentRule:
        if self.ledger == self.dataset:
            raise ValueError("ledger must name another evidence set than dataset")
        return self

    @property
    def datasets(self) -> tuple[str, ...]:
        """Return the processing events and the consent ledger."""
        return (self.dataset, self.ledger)

    @property
    def consent_purposes(self) -> list[str]:
        """Return the purposes whose legal basis is consent."""
        return [p for p, basis in self.purposes.items() if basis == "consent"]


class ConsentValidRule(ConsentRule):
    """Every processing event of a consent purpose has consent valid at its time (Art. 6, 7)."""

    check: Literal["consent_valid"]


class WithdrawalHonoredRule(ConsentRule):
    """No processing after consent was withdrawn, beyond a grace period (GDPR Art. 7(3))."""

    check: Literal["withdrawal_honored"]


class OversightRule(RecordRuleBase):
    """Human oversight of automated decisions (GDPR Art. 22, EU AI Act Art. 14)."""

    kind: Literal["oversight"]
    automated_reviewers: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_AUTOMATED_REVIEWERS),
        description="Reviewer values that name a machine and so are no human review.",
    )
    finding_fields: list[Identifier] = Field(
        default_factory=list, description="Extra roles of the decision to show in findings."
    )

    check_unique = field_validator("finding_fields")(_unique_list)


class AdverseCondition(StrictModel):
    """Which decisions are adverse: an outcome in a list and, optionally, a score band."""

    outcomes: list[Text] = Field(
        min_length=1, description="Values of the role outcome that are adverse (exact match)."
    )
    score_min: float | None = Field(default=None, description="Inclusive lower score bound.")
    score_max: float | None = Field(default=None, description="Inclusive upper score bound.")

    @model_validator(mode="after")
    def _band(self) -> AdverseCondition:
        for value in (self.score_min, self.score_max):
            if value is not None and not math.isfinite(value):
                raise ValueError("score bounds must be finite numbers")
        if (
            self.score_min is not None
            and self.score_max is not None
            and self.score_min > self.score_max
        ):
            raise ValueError(f"score_min {self.score_min} is above score_max {self.score_max}")
        return self


class HumanReviewRequiredRule(OversightRule):
    """Adverse automated decisions carry a human reviewer or were routed to review."""

    check: Literal["human_review_required"]
    adverse: AdverseCondition | None = Field(
        default=None,
        description="Which decisions are adverse; omitted: the 0/1 role adverse says so.",
    )
    review_evidence: list[Literal["reviewer", "routed_to_review"]] = Field(
        default_factory=lambda: ["reviewer"],  # type: ignore[arg-type]
        min_length=1,
        description="What shows human review: a named reviewer, a routed-to-review flag, or "
        "either.",
    )

    check_unique_evidence = field_validator("review_evidence")(_unique_list)


class ReviewSamplingRule(OversightRule):
    """A seeded, stratified sample of decisions is selected for, and gets, human QA review."""

    check: Literal["review_sampling"]
    share: float = Field(gt=0.0, le=1.0, description="Share of decisions sampled per group.")
    seed: int = Field(ge=0, description="Seed of the sample: same data and seed, same sample.")
    strata: list[Identifier] = Field(
        default_factory=list, description="Roles whose values form the groups sampled apart."
    )
    min_per_group: int = Field(
        default=1, ge=0, description="Sample at least this many decisions of every group."
    )

    check_unique_strata = field_validator("strata")(_unique_list)


TransparencyCheck = Annotated[
    BotDisclosureRule | HumanHandoffRule | DecisionExplainedRule | AiContentLabeledRule,
    Field(discriminator="check"),
]
ConsentCheck = Annotated[ConsentValidRule | WithdrawalHonoredRule, Field(discriminator="check")]
OversightCheck = Annotated[
    HumanReviewRequiredRule | ReviewSamplingRule, Field(discriminator="check")
]

#: The checks of each record-level kind, as written after ``check:``.
CHECKS: dict[str, tuple[str, ...]] = {
    "transparency": (
        "bot_disclosure",
        "human_handoff",
        "decision_explained",
        "ai_content_labeled",
    ),
    "consent": ("consent_valid", "withdrawal_honored"),
    "oversight": ("human_review_required", "review_sampling"),
}


#: Rule kinds implemented in this version. Later kinds (data_quality) join this union; the
#: discriminators (kind, then check) keep error messages precise.
RULE_KINDS: tuple[type[RuleBase], ...] = (
    FairnessRule,
    TransparencyRule,
    ConsentRule,
    OversightRule,
)
Rule = Annotated[
    FairnessRule | TransparencyCheck | ConsentCheck | OversightCheck, Field(discriminator="kind")
]

PLANNED_KINDS = ("data_quality",)


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
