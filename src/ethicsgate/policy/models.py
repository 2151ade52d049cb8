"""Policy language v1: a pack of rules, each citing what it implements.

The YAML keys are the field names. This module is the contract of the policy language: extend
it, do not rename it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ethicsgate.base import Identifier, StrictModel, Text
from ethicsgate.metrics import ALIASES, METRICS, MetricId, canonical_metric
from ethicsgate.policy.fields import Duration, TextPattern, format_duration

__all__ = [
    "CHECKS",
    "AdverseCondition",
    "Aggregate",
    "AiContentLabeledRule",
    "BotDisclosureRule",
    "DataUse",
    "ConsentRule",
    "ConsentValidRule",
    "CrisisReferralRule",
    "DataQualityRule",
    "DriftPolicy",
    "Expectation",
    "DecisionExplainedRule",
    "DisclosedOnRequestRule",
    "HumanHandoffRule",
    "HumanReviewRequiredRule",
    "InForce",
    "LegalBasis",
    "LogRetentionRule",
    "NoticeBeforeDecisionRule",
    "OptOutHonoredRule",
    "OversightRule",
    "PackScope",
    "PeriodicReminderRule",
    "ProxyFeaturesRule",
    "PurposeConsentRule",
    "RecordRuleBase",
    "RequestAnsweredRule",
    "ReviewSamplingRule",
    "ReviewedDecisionRule",
    "TransparencyRule",
    "WithdrawalHonoredRule",
    "FairnessAssertion",
    "FairnessRule",
    "Op",
    "PolicyPack",
    "PricingDisclosedRule",
    "Reference",
    "ReferenceGroup",
    "ReviewOptions",
    "Rule",
    "RULE_KINDS",
    "add_rule_model",
    "remove_rule_model",
    "rule_kinds",
    "Severity",
    "StrictModel",
    "SystemDescription",
    "Waiver",
]


class PolicyModel(StrictModel):
    """Base of the policy models whose numbers a person writes: NaN and infinity are refused.

    A YAML ``.nan`` would otherwise slip through every bound (NaN compares false with all),
    and reads "not a number" in the error instead of "should be less than or equal to 1".
    """

    model_config = ConfigDict(**StrictModel.model_config, allow_inf_nan=False)


class Severity(StrEnum):
    """How much a failing rule matters: ``block`` fails the audit, the others only report."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


Op = Literal[">=", ">", "<=", "<"]
Aggregate = Literal["ratio", "difference", "value"]
ReferenceGroup = Literal["max", "min", "overall"] | dict[str, Text]
#: The prediction that is good for the person a fairness rule judges (0 or 1).
FavorablePrediction = Literal[0, 1]


class Reference(StrictModel):
    """A regulation or standard that rules implement."""

    id: Identifier = Field(description="Short id that rules cite in their `references`.")
    title: str = Field(min_length=1, description="The regulation or standard, as people cite it.")
    url: str | None = Field(
        default=None, pattern=r"^https?://\S+$", description="Where to read it."
    )


#: Ids an assertion may name besides the group metrics: ``impact_ratio`` is read from the
#: LL144 / EEOC tables of a rule with ``impact_ratio`` set (the selection or scoring rate of a
#: category divided by that of the most selected category).
ASSERTION_ONLY_METRICS = ("impact_ratio",)
#: A metric id, or an alias of one (``metrics.ALIASES``: Aequitas' ``pprev`` for
#: ``selection_rate``), read as the canonical id: the report never shows the alias.
PolicyMetricId = Annotated[
    MetricId,
    BeforeValidator(canonical_metric, json_schema_input_type=MetricId | Literal["pprev"]),
]
AssertedMetric = Annotated[
    MetricId | Literal["impact_ratio"],
    BeforeValidator(
        canonical_metric,
        json_schema_input_type=MetricId | Literal["impact_ratio", "pprev"],
    ),
]
assert set(ALIASES) == {"pprev"}, "list every alias in the JSON schema input types above"
ScoreMetric = Literal["roc_auc", "calibration"]
ImpactRatioKind = Literal["selection", "scoring"]


class UncertaintyOptions(PolicyModel):
    """How a fairness rule measures uncertainty: bootstrap intervals and significance tests.

    The bootstrap resamples each group's aggregated confusion cells multinomially (the same
    distribution as resampling that group's rows with replacement), so it costs the same at
    1e3 and 1e9 rows. Every group-versus-reference comparison also gets a two-sided test.
    """

    bootstrap_samples: int = Field(
        default=1000,
        ge=0,
        le=100_000,
        description="Bootstrap resamples for the confidence intervals (0: tests only).",
    )
    confidence_level: float = Field(
        default=0.95, gt=0.5, lt=1, description="Coverage of the percentile intervals."
    )
    seed: int = Field(
        default=0,
        ge=0,
        le=2**63 - 1,
        description="Seed of the random generator: the same seed gives the same intervals.",
    )
    test: Literal["auto", "z_test", "fisher_exact"] = Field(
        default="auto",
        description="Two-proportion z-test, Fisher's exact test, or auto: Fisher's exact test "
        "when an expected cell count is under 5, the z-test otherwise.",
    )


#: Metrics a drift policy can track: rates over the group's own people (their counts are
#: the group's size), and ``impact_ratio``, the selection rate's ratio to the reference.
DriftMetric = Literal["impact_ratio", "selection_rate", "base_rate", "accuracy"]


class DriftPolicy(PolicyModel):
    """A drop of a group's ratio to the reference that is a finding when large and significant.

    Compared: consecutive windows of a windowed audit, and the last run recorded in the
    history with this run (``audit --record``). The test is a one-sided Wald z-test of the
    change in the log ratio (delta method), Holm-corrected over all of the rule's comparisons.
    """

    metric: DriftMetric = Field(
        default="impact_ratio",
        description="impact_ratio (the selection rate's ratio to the reference group), or the "
        "ratio of selection_rate, base_rate or accuracy.",
    )
    max_drop: float = Field(
        ge=0, le=1e6, description="The largest drop of the ratio that is no finding, e.g. 0.05."
    )
    significant_at: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        description="A drop is a finding only when its Holm-adjusted one-sided p-value is "
        "below this.",
    )
    severity: Severity | None = Field(
        default=None, description="Severity of a drift finding [default: the rule's]."
    )


class FairnessAssertion(PolicyModel):
    """One threshold on a metric's ratio, difference or value, holding for the worst group.

    ``ratio`` is group value / reference value, ``difference`` is |group - reference| and
    ``value`` is the group value itself.
    """

    metric: AssertedMetric = Field(
        description="A metric id (see Metrics), or impact_ratio for the LL144 tables."
    )
    aggregate: Aggregate = Field(
        default="ratio",
        description="ratio: group / reference; difference: |group - reference|; "
        "value: the group's own value.",
    )
    op: Op = Field(description="How the observed value must compare with `value`.")
    value: float = Field(description="The threshold, e.g. 0.8 for the four-fifths rule.")
    significant_at: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Count a group as failing only when its comparison with the reference "
        "is also statistically significant at this level (two-sided p-value below it).",
    )
    max_regression: float | None = Field(
        default=None,
        ge=0.0,
        description="For `ethicsgate gate --baseline`: how much worse (in the failing "
        "direction of `op`) the worst value, or a failing group's value, may be than in the "
        "baseline report; a change beyond it blocks only when statistically significant.",
    )

    @field_validator("value", "max_regression")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("value must be a finite number")
        return value

    @field_validator("significant_at")
    @classmethod
    def _testable(cls, value: float | None, info: ValidationInfo) -> float | None:
        # checked here, not by the rule, so that the error is located at this key
        spec = METRICS.get(info.data.get("metric", ""))
        if value is not None and spec is not None and spec.scope == "all":
            raise ValueError(
                f"{spec.id} is a share of all the groups' selections, not a rate of the "
                "group's own people, so it has no significance test: drop significant_at "
                "(or assert on selection_rate)"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _impact_ratio_is_a_value(cls, data: Any) -> Any:
        # impact_ratio is itself the ratio to the most selected category: it is read as a value
        if isinstance(data, dict) and data.get("metric") == "impact_ratio":
            if data.get("aggregate", "value") != "value":
                raise ValueError(
                    "impact_ratio is already a ratio to the most selected category: leave out "
                    "'aggregate' (or write aggregate: value)"
                )
            data = {**data, "aggregate": "value"}
        return data

    @model_validator(mode="after")
    def _check_significance(self) -> FairnessAssertion:
        # checked here, not by the rule, so that the error is located at this assertion
        if self.metric == "count" and self.aggregate != "value":
            raise ValueError(
                "count can only be asserted with aggregate: value (use min_group_size "
                "to exclude small groups)"
            )
        if (
            self.significant_at is not None
            and self.aggregate == "value"
            and self.metric != "impact_ratio"
        ):
            raise ValueError(
                "significant_at needs a comparison between groups: use aggregate ratio or "
                "difference, or impact_ratio"
            )
        return self


class ReviewOptions(PolicyModel):
    """How a rule's findings go to the human review queue (``ethicsgate audit --enqueue``)."""

    sla: Duration = Field(
        default=timedelta(hours=48), description="A decision is due this long after enqueueing."
    )
    on: list[Literal["fail", "warn", "pass"]] = Field(
        default_factory=lambda: ["fail", "warn"],  # type: ignore[arg-type]
        min_length=1,
        description="Rule outcomes whose findings are enqueued.",
    )


class RuleBase(PolicyModel):
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
    review: bool | ReviewOptions | None = Field(
        default=None,
        description="Send findings to the review queue: true (48h SLA), options, or false; "
        "unset: findings of block rules are reviewed.",
    )

    #: Rules of this kind are data contracts: run first, guarding the others' evidence.
    contract: ClassVar[bool] = False
    #: Rules of this kind state assertions (``assert:``) that waivers and the gate refer to.
    has_assertions: ClassVar[bool] = False

    @property
    def datasets(self) -> tuple[str, ...]:
        """Return every evidence name the rule reads (the audit spec must bind each)."""
        return (self.dataset,)

    @property
    def rule_assertions(self) -> Sequence[FairnessAssertion]:
        """Return the rule's assertions (none for kinds without them)."""
        return ()

    @property
    def group_features(self) -> Sequence[str]:
        """Return the features the rule's results are grouped by (none: not grouped)."""
        return ()

    @property
    def findings_limit(self) -> int | None:
        """Return how many violating records the rule lists (None: it lists no records)."""
        return None


def _unique_list(values: list[str]) -> list[str]:
    """Reject a list that names the same value twice (a likely copy-paste slip)."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(value)
    return values


class FairnessRule(RuleBase):
    """Group fairness of binary predictions, with metrics as fairlearn defines them."""

    has_assertions: ClassVar[bool] = True

    kind: Literal["fairness"]
    sensitive_features: list[Identifier] = Field(
        min_length=1,
        description="Columns (roles) that define groups; two or more give intersectional groups.",
    )
    metrics: list[PolicyMetricId] = Field(
        default_factory=list,
        description="Metrics reported for every group (asserted metrics are added); pprev "
        "(Aequitas' name) is read as selection_rate.",
    )
    min_group_size: int = Field(
        default=30,
        ge=1,
        le=10**15,
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
    favorable_prediction: FavorablePrediction | None = Field(
        default=None,
        description="The prediction that is good for the person: 1 when prediction 1 grants "
        "something (a loan, an interview), 0 when prediction 1 is adverse (a defendant flagged "
        "high risk, a claim sent to fraud review). It decides which way each metric harms a "
        "group, and so which group the report, `policy explain` and the public statement name "
        "as harmed: with 1, a lower selection rate, true positive rate or false positive rate "
        "and a higher false negative or false omission rate (people wrongly denied); with 0, "
        "a higher selection rate, false positive or false discovery rate and a lower false "
        "negative rate (people wrongly flagged). Values and pass or fail do not change. "
        "Unset: error rates read as harmful when higher and the selection rate names the "
        "group the check found. Named for the prediction's value, as AIF360's "
        "favorable_label, because `outcome` means the true label here and `positive` means "
        "prediction 1 whether it helps or harms.",
    )
    impact_ratio: ImpactRatioKind | None = Field(
        default=None,
        description="Also produce the NYC Local Law 144 (6 RCNY 5-301) / EEOC tables: per "
        "category the applicants, the selection rate (selection: share with prediction 1) or "
        "scoring rate (scoring: share with a score above the full-sample median) and the "
        "impact ratio to the most selected category, for each sensitive feature and for "
        "their intersection.",
    )
    unknown_values: list[Text] = Field(
        default_factory=list,
        description="Category values that mean 'unknown' (e.g. Unknown, Decline to state). "
        "People with a missing (null) or unknown value are counted but never compared: their "
        "groups are shown and left out of comparisons (never the reference), as groups under "
        "min_group_size are, and impact-ratio tables count them apart from the categories. "
        "Without it, a missing value is a group of its own, compared like any other.",
    )
    exclude_below_share: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Exclude categories under this share of a table's known data (0.02 for "
        "the rule's 2 %) from the impact ratios; they still show their count and rate.",
    )
    intersection_exclusion: Literal["share", "components"] = Field(
        default="share",
        description="share: an intersectional category is excluded when it is itself under "
        "exclude_below_share; components: when one of the categories it combines is excluded "
        "in its own table.",
    )
    uncertainty: UncertaintyOptions | None = Field(
        default=None,
        description="Bootstrap confidence intervals and significance tests (see Uncertainty).",
    )
    score_metrics: list[ScoreMetric] = Field(
        default_factory=list,
        description="Metrics of the `score` column per group: roc_auc and calibration (mean "
        "score against observed rate per score bin).",
    )
    threshold: float | None = Field(
        default=None,
        description="Derive the prediction from the score: prediction = score >= threshold.",
    )
    calibration_bins: int = Field(
        default=10, ge=2, le=100, description="Equal-width score bins of the calibration table."
    )
    drift: DriftPolicy | None = Field(
        default=None,
        description="Change detection: a significant drop of a group's ratio between "
        "consecutive windows (a windowed audit) or against the last recorded run is a finding, "
        "e.g. {metric: impact_ratio, max_drop: 0.05, significant_at: 0.05}.",
    )
    cross_check: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Recompute the metrics of up to this many groups with fairlearn's "
        "MetricFrame on the grouped rows and record the agreement in the report (as "
        "`ethicsgate audit --cross-check fairlearn`; scikit-learn is imported only then).",
    )
    score_bins: int = Field(
        default=100,
        ge=10,
        le=10_000,
        description="When the score has more than 2,048 distinct values, ROC AUC and "
        "calibration use this many equal-width score bins (a multiple of calibration_bins); "
        "the report states the largest possible AUC error.",
    )

    check_unique = field_validator("sensitive_features", "metrics")(_unique_list)

    @field_validator("favorable_prediction", mode="before")
    @classmethod
    def _favorable_is_0_or_1(cls, value: object) -> object:
        """Refuse anything but the integers 0 and 1 (YAML's true is no prediction value).

        Raises:
            ValueError: the value is not 0 or 1; the message says which to write.
        """
        if value is None or (type(value) is int and value in (0, 1)):
            return value
        found = str(value).lower() if isinstance(value, bool) else repr(value)  # YAML's words
        raise ValueError(
            f"favorable_prediction is the prediction value that is good for the person, 0 or "
            f"1 (found {found}): write 1 when prediction 1 grants something (a loan, an "
            "interview), 0 when prediction 1 is adverse (flagged high risk, as in COMPAS)"
        )

    @model_validator(mode="after")
    def _check(self) -> FairnessRule:
        # a drift policy names its metric: all_metrics computes it without a 'metrics' list
        if not (
            self.metrics or self.assertions or self.impact_ratio or self.score_metrics or self.drift
        ):
            raise ValueError(
                "a fairness rule needs 'metrics', 'assert', 'impact_ratio', 'score_metrics' or "
                "'drift'"
            )
        self._check_score_options()
        if isinstance(self.reference, dict):
            keys, features = set(self.reference), set(self.sensitive_features)
            if keys != features:
                raise ValueError(
                    f"reference group names {sorted(keys)} but the rule's sensitive_features are "
                    f"{sorted(features)}: name a value for each sensitive feature, or use "
                    "max, min or overall"
                )
            unknown = {str(v) for v in self.unknown_values}
            held = [f"{k}={v}" for k, v in self.reference.items() if str(v) in unknown]
            if held:
                raise ValueError(
                    f"reference group {', '.join(held)} is one of unknown_values, which are "
                    "never compared: name a group of known values, or use max, min or overall"
                )
        if self.favorable_prediction is not None and not any(
            METRICS[m].toward_one for m in self.all_metrics
        ):
            decided = ", ".join(m for m, spec in METRICS.items() if spec.toward_one)
            raise ValueError(
                "favorable_prediction decides which way a metric of the prediction harms a "
                f"group ({decided}); this rule reports none of them: add one to 'metrics' or "
                "remove favorable_prediction"
            )
        for assertion in self.assertions:
            if assertion.metric == "impact_ratio" and self.impact_ratio is None:
                raise ValueError(
                    "an assertion on impact_ratio needs the rule's impact_ratio: selection or "
                    "scoring"
                )
        return self

    def _check_score_options(self) -> None:
        if self.impact_ratio is None:
            ll144_only = {"exclude_below_share", "intersection_exclusion"}
            for name in sorted(ll144_only & self.model_fields_set):
                raise ValueError(f"{name} is only used with impact_ratio: selection or scoring")
        if self.score_bins % self.calibration_bins:
            raise ValueError(
                f"score_bins ({self.score_bins}) must be a multiple of calibration_bins "
                f"({self.calibration_bins}) so that calibration bins are unions of score bins"
            )
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise ValueError("threshold must be a finite number")

    @property
    def rule_assertions(self) -> Sequence[FairnessAssertion]:
        """Return the rule's assertions."""
        return self.assertions

    @property
    def group_features(self) -> Sequence[str]:
        """Return the sensitive features its groups are made of."""
        return self.sensitive_features

    @property
    def all_metrics(self) -> list[MetricId]:
        """Return the listed metrics plus any the assertions use, in a stable order.

        A rule that only asks for LL144 tables or score metrics still reports group counts.
        """
        wanted: list[MetricId] = list(self.metrics)
        for assertion in self.assertions:
            metric = assertion.metric
            if metric in METRICS and metric not in wanted:
                wanted.append(metric)  # type: ignore[arg-type]
        if self.drift is not None:
            tracked = "selection_rate" if self.drift.metric == "impact_ratio" else self.drift.metric
            if tracked not in wanted:
                wanted.append(tracked)
        return wanted or ["count"]

    @property
    def ll144_only(self) -> bool:
        """Return whether the rule compares only in its LL144 tables (no group metric but counts).

        Its groups are not compared, so ``min_group_size`` leaves none out of anything: the
        tables exclude by ``exclude_below_share``.
        """
        return self.impact_ratio is not None and self.all_metrics == ["count"]

    @property
    def needs_label(self) -> bool:
        """Return whether any metric of this rule reads the ground-truth label."""
        return bool(self.score_metrics) or any(METRICS[m].needs_label for m in self.all_metrics)

    @property
    def needs_prediction(self) -> bool:
        """Return whether any metric of this rule reads the prediction (read or derived)."""
        return self.impact_ratio == "selection" or any(
            METRICS[m].needs_prediction for m in self.all_metrics
        )

    @property
    def reads_prediction(self) -> bool:
        """Return whether the prediction is read from the evidence (not derived by threshold)."""
        return self.needs_prediction and self.threshold is None

    @property
    def needs_score(self) -> bool:
        """Return whether the rule reads the evidence's `score` role."""
        return (
            self.impact_ratio == "scoring"
            or bool(self.score_metrics)
            or (self.threshold is not None and self.needs_prediction)
        )


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
#: Bot or system text that discloses automation, in English, German, French, Spanish, Italian,
#: Dutch and Portuguese (RE2 syntax, case-insensitive). Grown from the phrase corpus in
#: tests/assets/phrase-corpus.yaml: each phrase there must match (or must not). RE2's ``\b``
#: knows only ASCII letters, so no ``\b`` touches an accented letter.
DEFAULT_DISCLOSURE_PATTERNS = (
    # en
    r"\b(virtual|digital|automated|ai|a\.i\.|ai-powered) ?(assistant|agent|helper|companion|"
    r"friend)\b",
    r"\bchat ?bot\b",
    r"\b(is|am|are) (just |only )?an? (ai|a\.i\.|bot|chatbot|robot)\b",
    r"\b(this is|i am|i'm|you are|you're) (talking |chatting |speaking |writing )?(to |with )?"
    r"(an? |our )?(bot|chatbot|ai|a\.i\.|machine|computer program|automated (assistant|system|"
    r"service|message|reply|response))\b",
    r"\b(i am|i'm) not (a |an )?(human|real person|person)\b",
    r"\bthis (chat|conversation|reply|response|message|answer) is (automated|ai-generated)\b",
    r"\bautomated (reply|response|message|answer)\b",
    r"\b(generated|powered|answered|written|handled) by (an? )?(ai|a\.i\.|bot|artificial "
    r"intelligence|automation)\b",
    r"\bartificial intelligence\b",
    # de
    r"\b(virtuell|digital|automatisiert)e[rn]? assistent",
    r"\bki-(assistent|gestützt)",
    r"\bich bin (ein|eine) (bot|chatbot|ki|computerprogramm)\b",
    r"\b(sie|du) (chatten|chattest|sprechen|sprichst|schreiben|schreibst) mit (einem|einer) "
    r"(bot|chatbot|ki|maschine|computer)\b",
    r"\b(automatische|automatisierte) (antwort|nachricht)",
    r"\bich bin kein (mensch|echter mensch)\b",
    r"\bkünstliche[rn]? intelligenz",
    # fr
    r"\bassistant (virtuel|automatisé|numérique)",
    r"\bje suis (un robot|un bot|un chatbot|une ia|une intelligence artificielle)\b",
    r"\bvous (discutez|parlez|échangez|chattez) avec (un robot|un bot|un chatbot|une ia)\b",
    r"\b(réponse|message) automatique",
    r"\bje ne suis pas (un humain|une personne|un être humain)",
    r"\bintelligence artificielle\b",
    # es
    r"\basistente (virtual|automático|digital)",
    r"\b(soy|es) una? (bot|robot|chatbot|asistente virtual|ia)\b",
    r"(estás|está|estas|esta) hablando con (un bot|un robot|un chatbot|una ia)\b",
    r"\brespuesta automática",
    r"\bno soy (una persona|un humano|un ser humano)\b",
    r"\binteligencia artificial\b",
    # it
    r"\bassistente (virtuale|digitale)",
    r"\bsono un (bot|robot|chatbot)\b",
    r"\brisposta automatica\b",
    r"\bnon sono (una persona|un essere umano|un umano)\b",
    r"\bintelligenza artificiale\b",
    # nl
    r"\b(virtuele|digitale) assistent",
    r"\bik ben een (bot|chatbot|robot)\b",
    r"\bautomatisch (antwoord|bericht)\b",
    r"\bik ben geen mens\b",
    r"\bkunstmatige intelligentie\b",
    # pt
    r"\bsou um (bot|robô|chatbot|assistente virtual)",
    r"\bsou uma (ia|inteligência artificial)",
    r"\bresposta automática",
    r"o sou (humano|uma pessoa|um humano)\b",  # "não sou": RE2's \b cannot precede "ã"
    r"\bintelig(ê|e)ncia artificial\b",
)
#: Event types that are a request for a person.
DEFAULT_REQUEST_TYPES = ("handoff_request",)
#: Customer text that asks for a person, in English, German, French, Spanish, Italian, Dutch
#: and Portuguese; grown from the same phrase corpus.
DEFAULT_REQUEST_PATTERNS = (
    # en
    r"\b(speak|talk|chat) (to|with) (a |an |some|the )?(real |live |actual )?(human|person|agent|"
    r"someone|somebody|staff|employee|representative|operator|manager|customer service)",
    r"\b(connect|transfer|put) me (through )?(to|with) (a |an |the )?(real |live )?(human|person|"
    r"agent|someone|somebody|representative|operator|manager|customer service)",
    r"\bget me (a |an )?(real |live )?(human|person|agent|representative|operator)\b",
    r"\b(real|live) (person|human|agent)\b",
    r"\b(human|agent|representative|operator|person)[,!.]? ?(please|pls|plz)\b",
    r"^\W*(human|agent|representative|operator|a person|a human)\W*$",
    # de
    r"\bmit (einem|einer) (echten )?(menschen|mitarbeiter|mitarbeiterin|person)\b",
    r"\b(mitarbeiter|mitarbeiterin|mensch|berater|beraterin),? bitte\b",
    # fr
    r"\bparler (à|a|avec) (un humain|une personne|un conseiller|une conseillère|quelqu'un)",
    r"\b(un conseiller|une conseillère|un humain|un agent|une personne),? (svp|stp|s'il vous pla)",
    r"\ben relation avec (un conseiller|une conseillère|un humain|une personne|un agent)",
    # es
    r"\bhablar con (una persona|un humano|un agente|alguien)\b",
    r"\b(agente|operador|humano|persona),? por favor\b",
    r"\b(pásame|pasame|comuníqueme|comuniqueme) con (un|una) (agente|persona|humano|operador)",
    # it
    r"\bparlare con (una persona|un operatore|un umano|qualcuno)\b",
    r"\b(operatore|persona|umano),? per favore\b",
    # nl
    r"\bmet een (mens|medewerker|persoon)\b",
    r"\b(medewerker|mens),? (graag|alstublieft|alsjeblieft)\b",
    # pt
    r"\bfalar com (um atendente|uma pessoa|um humano|algu|um agente)",
    r"\b(atendente|humano|agente),? por favor\b",
)
#: Customer text asking whether they talk to a person or a machine (Utah Code
#: § 13-77-103(1)(b): disclose when "clearly and unambiguously" asked), in English, German,
#: French, Spanish, Italian, Dutch and Portuguese; grown from the phrase corpus (section
#: identity_question). No ``\b`` touches an accented letter (RE2 knows only ASCII letters).
DEFAULT_IDENTITY_QUESTION_PATTERNS = (
    # en
    r"\b(are|r) (you|u) (a |an )?(real |actual |live )?(bot|robot|chatbot|ai|a\.i\.|machine|"
    r"computer|human|person|automated)\b",
    r"\b(am i|are we) (talking|chatting|speaking|writing) (to|with) (a |an )?(real |actual |live )?"
    r"(bot|robot|chatbot|ai|a\.i\.|machine|computer|human|person)\b",
    r"\b(is this|is that|is it) (a |an )?(real |actual |live )?(bot|robot|chatbot|ai|machine|"
    r"computer|human|person)\b",
    r"\b(human|person|bot|robot|machine) or (a |an )?(bot|robot|machine|ai|human|person|computer)"
    r"\b",
    # de
    r"\b(bist du|sind sie) (ein |eine )?(echter |echte )?(bot|roboter|chatbot|ki|maschine|mensch|"
    r"computer)\b",
    r"\b(spreche|schreibe|chatte|rede) ich (hier |gerade )?mit (einem |einer )?(echten )?(bot|"
    r"roboter|chatbot|ki|maschine|menschen|computer)\b",
    r"\bmensch oder (maschine|bot|ki|roboter|computer)\b",
    # fr
    r"(es-tu|êtes-vous|etes-vous|tu es|vous êtes) (un |une )?(vrai |vraie )?(robot|bot|chatbot|"
    r"ia|machine|humain|personne)\b",
    r"\b(je parle|je discute|suis-je en train de parler) (à|a|avec) (un |une )?(vrai |vraie )?"
    r"(robot|bot|chatbot|ia|machine|humain|personne)\b",
    r"\bhumain ou (robot|machine|bot|ia)\b",
    # es
    r"\b(eres|es usted|sos) (un |una )?(bot|robot|chatbot|ia|m(á|a)quina|humano|persona)",
    r"\bestoy hablando con (un |una )?(bot|robot|chatbot|ia|m(á|a)quina|humano|persona)",
    # it
    r"\bsei (un |una )?(vero |vera )?(bot|robot|chatbot|ia|macchina|umano|persona)\b",
    r"\bsto (parlando|chattando|scrivendo) con (un |una )?(bot|robot|chatbot|ia|macchina|umano|"
    r"persona)\b",
    # nl
    r"\b(ben je|bent u) (een )?(echte )?(bot|robot|chatbot|ai|machine|mens|persoon|computer)\b",
    r"\b(praat|chat|spreek) ik (nu )?met (een )?(echte )?(bot|robot|chatbot|ai|machine|mens|"
    r"persoon|computer)\b",
    # pt
    r"\b(você é|voce é|voce e|vc é|vc e) (um |uma )?(bot|robô|robo|chatbot|ia|máquina|maquina|"
    r"humano|pessoa)",
    r"\b(estou|to) (falando|conversando) com (um |uma )?(bot|robô|robo|chatbot|ia|máquina|maquina|"
    r"humano|pessoa)",
)
#: Event types that are a break reminder (California SB 243, Bus. & Prof. Code § 22602(c)(2)).
DEFAULT_REMINDER_TYPES = ("break_reminder",)
#: Bot or system text that reminds the user to take a break, in English and Spanish (RE2,
#: case-insensitive; the phrase corpus in tests/assets/phrase-corpus.yaml, ``break_reminder``).
DEFAULT_REMINDER_PATTERNS = (
    # en
    r"\b(take|taking|have|need|time for|time to take|due for|go for|how about) (a |an |some )?"
    r"(short |quick |little |real )?(break|breather|pause|rest)s?\b",
    r"\b(step|stepping) away( from (the |your )?(screen|phone|chat|app))?\b",
    # es
    r"\b(t(ó|o)mate|toma|tomar|hacer|haz|haces|es hora de) (un |una )?(peque(ñ|n)(o|a) |"
    r"breve )?(descanso|pausa|respiro)",
    r"\bdescansa(r|s)? (un (rato|poco|momento)|la vista)",
)
#: Event types by which the operator's own classifier flags a risk of self-harm.
DEFAULT_RISK_TYPES = ("self_harm_risk",)
#: Customer text that expresses suicidal ideation or self-harm, in English and Spanish (RE2,
#: case-insensitive; the phrase corpus, ``self_harm``). A floor, not a classifier: bind the
#: classifier's flags as ``risk_types`` where the operator has one.
DEFAULT_RISK_PATTERNS = (
    # en ("going to die" is left out: "of boredom", "if I miss the concert" far outnumber it)
    r"\b(kill|killing|hurt|hurting|harm|harming|cut|cutting|unalive|unaliving) (myself|my self)\b",
    r"\b(wanna|want to|gonna|going to|about to|i'?ll|just) kms\b",
    r"\bsuicid(e|al)\b",
    r"\b(end|take|ending|taking) my (own )?life\b",
    r"\bend it all\b",
    r"\b(want|wanna|wanted|ready) (to )?die\b",
    r"\bwish (i (was|were) (dead|never born)|i'?d never been born)\b",
    r"\bself[- ]?harm",
    # "live", "be here", "wake up" alone or with "anymore", not "live with my dad"
    r"\b(don'?t|do not|no longer) (want to|wanna) (be alive\b|(live|be here|wake up)( anymore\b|"
    r" any more\b| ever again\b| like this\b|( tomorrow)?\s*([.,;!?]|$)))",
    r"\bno (reason|point) (to|in) (keep |go on )?(live|living|going on)\b",
    r"\bbetter off (dead|without me)\b",
    # es
    r"\b(quiero|quisiera|voy a) (morir|matarme|suicidarme|lastimarme)",
    r"\bme (quiero|voy a) (morir|matar|suicidar)",
    r"\bsuicid(io|arme|ar|as?)\b",
    r"\b(quitarme|acabar con) (la|mi) vida",
    r"\b(hacerme|me hago) da(ñ|n)o",
    r"\b(me corto|cortarme) (los brazos|las venas|las mu(ñ|n)ecas|las piernas)",
    r"\b(ojal(á|a) (estuviera|estuviese)|quiero estar|quisiera estar) muert(o|a)",
    r"\bsentido (a |en )?vivir\b",
    r"\bestar(í|i)an mejor sin m(í|i)",
    r"\bno quiero (vivir|seguir viviendo)( m(á|a)s\b| as(í|i)|\s*([.,;!?]|$))",
)
#: Event types that refer the user to a crisis service (SB 243, § 22602(b)).
DEFAULT_REFERRAL_TYPES = ("crisis_referral",)
#: Bot, person or system text that refers to a crisis service (US numbers and names, and the
#: Spanish forms; RE2, case-insensitive; the phrase corpus, ``crisis_referral``).
DEFAULT_REFERRAL_PATTERNS = (
    # 988 with what makes it the Lifeline: a call or text to it, its name, its site; a bare
    # 988 is an order or a phone number's digits as often (found by the review)
    r"\b(call|text|dial|phone|ring|contact|reach|llama|llamar|marca|marcar|escribe|escribir) "
    r"((or|o) (text|call|escribe|llama) |(al|a la|the|to) |(el|la) n(ú|u)mero )?988\b",
    r"\b988 (suicide|crisis|lifeline|line|hotline|helpline|l(í|i)nea)",
    r"\b988lifeline\b",
    r"\b(suicide|crisis)[^.\n]{0,40}\b988\b",
    r"\bcrisis (text )?line\b",
    r"\b741741\b",
    r"\b(suicide|crisis) (and crisis |prevention )?(life ?line|hot ?line|help ?line)\b",
    r"\b(l(í|i)nea|linea) (de )?(crisis|prevenci(ó|o)n del suicidio)",
    r"\btrevor (project|lifeline)\b",
)
#: Bot or system text that denies being automated, or claims to be a person, which no
#: disclosure pattern may count as a disclosure ("No soy un robot", "Do you think I am a
#: robot? I'm as real as you"), in English and Spanish (RE2, case-insensitive; the phrase
#: corpus's ``disclosure`` no_match phrases). A message matching one discloses nothing.
DEFAULT_DENIAL_PATTERNS = (
    # en
    r"\b(not|never|isn'?t|aren'?t|ain'?t) (a |an |some )?(bot|robot|chatbot|ai|a\.i\.|machine|"
    r"computer|program)\b",
    r"\b(do you think|who says|you think|did you think|why would you think) (that )?(i'?m|i am) "
    r"(a |an )?(bot|robot|chatbot|ai|a\.i\.|machine)\b",
    r"\b(i'?m|i am) (a )?(real|actual|living) (person|human|girl|boy|woman|man)\b",
    r"\b(i'?m|i am) as real as you\b",
    # es
    r"\bno (soy|es|eres) (un |una |solo un |solo una )?(bot|robot|chatbot|ia|m(á|a)quina|"
    r"asistente virtual|programa)",
    # at the start of a sentence or clause: "No soy una persona real" is a disclosure
    r"(^|[.!?,;:¡¿]\s*)(soy|es) (una persona|un humano|una humana) (real|de verdad)",
)
DEFAULT_PLACEHOLDERS = ("n/a", "na", "none", "null", "-", "unknown", "tbd", "todo", "?")


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
        description="How many violating records the report lists; all are counted, and all "
        "are in findings.parquet.",
    )

    @property
    def findings_limit(self) -> int | None:
        """Return ``max_findings``: how many violating records the rule lists."""
        return self.max_findings


class TransparencyRule(RecordRuleBase):
    """Transparency of customer-facing automation (EU AI Act Art. 50, GDPR Art. 13-15, 22)."""

    kind: Literal["transparency"]


class BotDisclosureRule(TransparencyRule):
    """Every conversation with a bot discloses automation at or before the first bot message.

    With ``before: first_message``, at or before the conversation's first message by anyone
    (Utah Code § 13-77-103(3): in writing before a written exchange starts).
    """

    check: Literal["bot_disclosure"]
    before: Literal["first_bot_message", "first_message"] = Field(
        default="first_bot_message",
        description="The disclosure must come at or before the first bot message, or at or "
        "before the first message of anyone (customer, bot or human), so before the customer "
        "has written anything.",
    )
    disclosure_types: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_DISCLOSURE_TYPES),
        description="Event types that disclose automation (any actor).",
    )
    disclosure_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_DISCLOSURE_PATTERNS),
        description="Regular expressions (RE2, case-insensitive) that disclose automation "
        "when found in a bot or system message.",
    )
    denial_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_DENIAL_PATTERNS),
        description="Regular expressions (RE2, case-insensitive): a message matching one denies "
        "being automated or claims to be a person, and discloses nothing, whatever else it "
        "matches.",
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
        le=1_000_000,
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
    min_length: int = Field(
        default=1, ge=1, le=1_000_000, description="Shortest accepted explanation."
    )
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


class NoticeBeforeDecisionRule(TransparencyRule):
    """Every covered decision has a notice to its subject at or before it.

    Colorado SB 26-189, Illinois HB 3773, the CCPA ADMT regulations' pre-use notice, EU AI Act
    Art. 26(11).
    """

    check: Literal["notice_before_decision"]
    decision_types: list[Text] = Field(
        min_length=1,
        description="Event types of the decisions it covers (a law's own term: Colorado's "
        "consequential decisions, the CCPA's significant decisions, ...).",
    )
    notice_types: list[Text] = Field(
        min_length=1, description="Event types that are a notice to the decision's subject."
    )
    within: Duration | None = Field(
        default=None,
        description="The notice must come at most this long before the decision (unset: any "
        "time before).",
    )
    finding_fields: list[Identifier] = Field(
        default_factory=list, description="Extra roles of the decision to show in findings."
    )

    check_unique = field_validator("decision_types", "notice_types", "finding_fields")(_unique_list)

    @model_validator(mode="after")
    def _disjoint(self) -> NoticeBeforeDecisionRule:
        both = sorted(set(self.decision_types) & set(self.notice_types))
        if both:
            raise ValueError(
                f"{', '.join(map(repr, both))} is both a decision type and a notice type; an "
                "event is one or the other"
            )
        if self.within is not None and self.within.total_seconds() <= 0:
            raise ValueError("within must be longer than 0s")
        return self


class DisclosedOnRequestRule(TransparencyRule):
    """Asked whether they talk to a person or a machine, the next bot reply says it is one.

    Utah Code § 13-77-103 (AI Policy Act as amended by SB 226 and SB 332, 2025): disclose when
    a person clearly and unambiguously asks whether they are interacting with AI.
    """

    check: Literal["disclosed_on_request"]
    question_types: list[Text] = Field(
        default_factory=list,
        description="Event types that are such a question (any actor), besides the patterns.",
    )
    question_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_IDENTITY_QUESTION_PATTERNS),
        description="Regular expressions (RE2, case-insensitive) that make a customer message a "
        "question whether they talk to a person or a machine.",
    )
    disclosure_types: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_DISCLOSURE_TYPES),
        description="Event types that disclose automation (any actor).",
    )
    disclosure_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_DISCLOSURE_PATTERNS),
        description="Regular expressions (RE2, case-insensitive) that disclose automation "
        "when found in a bot or system message.",
    )
    denial_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_DENIAL_PATTERNS),
        description="Regular expressions (RE2, case-insensitive): a message matching one denies "
        "being automated or claims to be a person, and discloses nothing, whatever else it "
        "matches.",
    )

    @model_validator(mode="after")
    def _something_asks_and_discloses(self) -> DisclosedOnRequestRule:
        if not self.question_types and not self.question_patterns:
            raise ValueError(
                "question_types and question_patterns are both empty, so no question could "
                "ever be recognised; list at least one"
            )
        if not self.disclosure_types and not self.disclosure_patterns:
            raise ValueError(
                "disclosure_types and disclosure_patterns are both empty, so no reply could "
                "ever disclose automation; list at least one"
            )
        return self


class PeriodicReminderRule(TransparencyRule):
    """While a conversation continues, the bot reminds the person at least every so often.

    California SB 243 (Bus. & Prof. Code § 22602(c)(2)): for a user the operator knows is a
    minor, a notification at least every three hours of a continuing interaction, reminding
    them to take a break and that the chatbot is artificially generated, not human.
    """

    check: Literal["periodic_reminder"]
    every: Duration = Field(
        default=timedelta(hours=3),
        description="The longest time the bot may go on writing after the interaction began, "
        "or after the last reminder, without a new reminder.",
    )
    conversations: Literal["of_minors", "all"] = Field(
        default="of_minors",
        description="of_minors: the rows on which the flag role minor is true, so a "
        "conversation from when the user is known to be a minor (minor must say true or false "
        "on every row); all: every conversation with a bot message.",
    )
    new_session_after: Duration | None = Field(
        default=None,
        description="A pause longer than this ends the interaction: the next message begins a "
        "new one, and the clock starts again (unset: a conversation is one interaction, "
        "however long its pauses).",
    )
    reminder_types: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_REMINDER_TYPES),
        description="Event types that are a reminder (any actor).",
    )
    reminder_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_REMINDER_PATTERNS),
        description="Regular expressions (RE2, case-insensitive): a bot or system message "
        "matching one of them, and one of disclosure_patterns, is a reminder.",
    )
    disclosure_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_DISCLOSURE_PATTERNS),
        description="What the reminder must also say, that the chatbot is not human (RE2, "
        "case-insensitive); empty: a message matching reminder_patterns is a reminder alone.",
    )
    denial_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_DENIAL_PATTERNS),
        description="Regular expressions (RE2, case-insensitive): a message matching one denies "
        "being automated or claims to be a person, and discloses nothing, whatever else it "
        "matches.",
    )

    check_unique = field_validator("reminder_types")(_unique_list)

    @model_validator(mode="after")
    def _something_reminds(self) -> PeriodicReminderRule:
        if not self.reminder_types and not self.reminder_patterns:
            raise ValueError(
                "reminder_types and reminder_patterns are both empty, so no message could ever "
                "be a reminder; list at least one"
            )
        if self.every.total_seconds() <= 0:
            raise ValueError("every must be longer than 0s")
        if self.new_session_after is not None and self.new_session_after.total_seconds() <= 0:
            raise ValueError("new_session_after must be longer than 0s")
        return self


class CrisisReferralRule(TransparencyRule):
    """A person who expresses thoughts of suicide or self-harm is referred to a crisis service.

    California SB 243 (Bus. & Prof. Code § 22602(b)(1)): the operator's protocol includes a
    notification that refers the user to crisis service providers, such as a suicide hotline
    or crisis text line, when the user expresses suicidal ideation, suicide or self-harm.
    """

    check: Literal["crisis_referral"]
    risk_types: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_RISK_TYPES),
        description="Event types that flag such a message (any actor, e.g. the operator's "
        "classifier), besides the patterns.",
    )
    risk_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_RISK_PATTERNS),
        description="Regular expressions (RE2, case-insensitive) that make a customer message "
        "an expression of suicidal ideation or self-harm.",
    )
    referral_types: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_REFERRAL_TYPES),
        description="Event types that are a referral to a crisis service (any actor).",
    )
    referral_patterns: list[TextPattern] = Field(
        default_factory=lambda: list(DEFAULT_REFERRAL_PATTERNS),
        description="Regular expressions (RE2, case-insensitive) that make a bot, person or "
        "system message a referral to a crisis service.",
    )

    check_unique = field_validator("risk_types", "referral_types")(_unique_list)

    @model_validator(mode="after")
    def _something_flags_and_refers(self) -> CrisisReferralRule:
        if not self.risk_types and not self.risk_patterns:
            raise ValueError(
                "risk_types and risk_patterns are both empty, so no message could ever be "
                "recognised; list at least one"
            )
        if not self.referral_types and not self.referral_patterns:
            raise ValueError(
                "referral_types and referral_patterns are both empty, so no message could "
                "ever refer to a crisis service; list at least one"
            )
        both = sorted(set(self.risk_types) & set(self.referral_types))
        if both:
            raise ValueError(
                f"{', '.join(map(repr, both))} is both a risk type and a referral type; an "
                "event is one or the other"
            )
        return self


#: The statement New York's Algorithmic Pricing Disclosure Act requires next to a price set
#: with personal data (N.Y. Gen. Bus. Law § 349-a).
NY_PRICING_DISCLOSURE = "THIS PRICE WAS SET BY AN ALGORITHM USING YOUR PERSONAL DATA"


class PricingDisclosedRule(TransparencyRule):
    """Every personalised price shown carries the algorithmic-pricing disclosure.

    New York Algorithmic Pricing Disclosure Act (N.Y. Gen. Bus. Law § 349-a, in force
    8 July 2025, enforced from November 2025).
    """

    check: Literal["pricing_disclosed"]
    disclosure_text: Text = Field(
        default=NY_PRICING_DISCLOSURE,
        min_length=1,
        max_length=1000,
        description="The statement the shown text must contain (case and runs of whitespace "
        "ignored).",
    )
    event_types: list[Text] = Field(
        default_factory=list,
        description="Event types that show a price; empty: every row.",
    )
    all_personalized: bool = Field(
        default=False,
        description="true: every price in scope was set with personal data; false: the flag "
        "role personalized says which were.",
    )
    finding_fields: list[Identifier] = Field(
        default_factory=list, description="Extra roles of the event to show in findings."
    )

    check_unique = field_validator("event_types", "finding_fields")(_unique_list)

    @field_validator("disclosure_text")
    @classmethod
    def _words(cls, value: str) -> str:
        if not value.split():
            raise ValueError("disclosure_text is blank; write the statement the law requires")
        return value

    @property
    def disclosure_pattern(self) -> str:
        """Return the RE2 pattern of the statement: its words, any whitespace between."""
        return r"\s+".join(re.escape(word) for word in self.disclosure_text.split())


class ConsentRule(RecordRuleBase):
    """Processing events judged against a consent ledger, as of each event's time."""

    kind: Literal["consent"]
    ledger: Identifier = Field(
        description="Evidence name of the consent ledger (subject_id, purpose, granted_at, "
        "withdrawn_at, expires_at)."
    )
    grace: Duration = Field(
        default=timedelta(0),
        description="Processing this long after a withdrawal (or opt-out) is still accepted.",
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


class PurposeConsentRule(ConsentRule):
    """Processing is covered by a declared legal basis and, for consent, by the ledger."""

    purposes: dict[Identifier, LegalBasis] = Field(
        min_length=1,
        description="Legal basis of each processing purpose, e.g. newsletter: consent.",
    )
    undeclared_purposes: Literal["violation", "ignore"] = Field(
        default="violation",
        description="Whether processing for a purpose not listed in purposes is a finding.",
    )

    @property
    def consent_purposes(self) -> list[str]:
        """Return the purposes whose legal basis is consent."""
        return [p for p, basis in self.purposes.items() if basis == "consent"]


class ConsentValidRule(PurposeConsentRule):
    """Every processing event of a consent purpose has consent valid at its time (Art. 6, 7)."""

    check: Literal["consent_valid"]


class WithdrawalHonoredRule(PurposeConsentRule):
    """No processing after consent was withdrawn, beyond a grace period (GDPR Art. 7(3))."""

    check: Literal["withdrawal_honored"]


class OptOutHonoredRule(ConsentRule):
    """No automated decision or profiling of a person after they opted out (CCPA ADMT)."""

    check: Literal["opt_out_honored"]
    opt_out_purposes: list[Text] = Field(
        min_length=1,
        description="Ledger purposes whose withdrawal is an opt-out of these events, e.g. "
        "admt; a grant of one of them is an opt-in (again).",
    )
    event_types: list[Text] = Field(
        default_factory=list,
        description="Event types that are automated decisions or profiling; empty: every row.",
    )

    check_unique_lists = field_validator("opt_out_purposes", "event_types")(_unique_list)


class OversightRule(RecordRuleBase):
    """Human oversight of automated decisions (GDPR Art. 22, EU AI Act Art. 14, 26, 86)."""

    kind: Literal["oversight"]
    finding_fields: list[Identifier] = Field(
        default_factory=list, description="Extra roles of the record to show in findings."
    )

    check_unique = field_validator("finding_fields")(_unique_list)


class ReviewedDecisionRule(OversightRule):
    """Oversight checks that look for a person's review of a decision."""

    automated_reviewers: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_AUTOMATED_REVIEWERS),
        description="Reviewer values that name a machine and so are no human review.",
    )


class AdverseCondition(PolicyModel):
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


class HumanReviewRequiredRule(ReviewedDecisionRule):
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


class ReviewSamplingRule(ReviewedDecisionRule):
    """A seeded, stratified sample of decisions is selected for, and gets, human QA review."""

    check: Literal["review_sampling"]
    share: float = Field(gt=0.0, le=1.0, description="Share of decisions sampled per group.")
    seed: int = Field(
        ge=0, le=2**63 - 1, description="Seed of the sample: same data and seed, same sample."
    )
    strata: list[Identifier] = Field(
        default_factory=list, description="Roles whose values form the groups sampled apart."
    )
    min_per_group: int = Field(
        default=1,
        ge=0,
        le=1_000_000_000,
        description="Sample at least this many decisions of every group.",
    )

    check_unique_strata = field_validator("strata")(_unique_list)


#: Request types about automated decisions: access, explanation, correction, human review.
DEFAULT_ADM_REQUEST_TYPES = (
    "access_request",
    "explanation_request",
    "correction_request",
    "human_review_request",
)


class RequestAnsweredRule(OversightRule):
    """Requests about automated decisions are answered within a deadline.

    EU AI Act Art. 86 (explanation), Colorado SB 26-189 (access, correction, review), CCPA
    ADMT access requests (45 days).
    """

    check: Literal["request_answered"]
    within: Duration = Field(
        description="A request must be answered at most this long after it was received, e.g. 45d."
    )
    request_types: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_ADM_REQUEST_TYPES),
        description="Values of the role type that are requests; empty: every row is one.",
    )

    check_unique_types = field_validator("request_types")(_unique_list)

    @model_validator(mode="after")
    def _positive(self) -> RequestAnsweredRule:
        if self.within.total_seconds() <= 0:
            raise ValueError("within must be longer than 0s")
        return self


TransparencyCheck = Annotated[
    BotDisclosureRule
    | HumanHandoffRule
    | DecisionExplainedRule
    | AiContentLabeledRule
    | NoticeBeforeDecisionRule
    | DisclosedOnRequestRule
    | PricingDisclosedRule
    | PeriodicReminderRule
    | CrisisReferralRule,
    Field(discriminator="check"),
]
ConsentCheck = Annotated[
    ConsentValidRule | WithdrawalHonoredRule | OptOutHonoredRule, Field(discriminator="check")
]


class LogRetentionRule(OversightRule):
    """Automation logs are kept for at least a period, without long gaps.

    EU AI Act Art. 26(6) (deployers keep logs at least six months), Art. 19; California FEHA
    ADS regulations (records kept four years).
    """

    check: Literal["log_retention"]
    min_coverage: Duration = Field(
        description="The logs must cover at least this many whole days up to their last day, "
        "e.g. 183d (six months) or 1461d (four years)."
    )
    max_gap_days: int = Field(
        default=0,
        ge=0,
        le=36_500,
        description="Longest run of whole days (UTC) without any log row that is accepted.",
    )

    @model_validator(mode="after")
    def _whole_days(self) -> LogRetentionRule:
        if self.min_coverage.total_seconds() <= 0 or self.min_coverage.total_seconds() % 86400:
            raise ValueError(
                f"min_coverage must be a whole number of days, e.g. 183d (not "
                f"{format_duration(self.min_coverage)})"
            )
        if self.finding_fields:
            raise ValueError(
                "log_retention takes no finding_fields: its records are runs of days, not rows"
            )
        if self.max_gap_days >= self.min_coverage.days:
            raise ValueError(
                f"max_gap_days {self.max_gap_days} must be shorter than min_coverage "
                f"({self.min_coverage.days} days)"
            )
        return self


OversightCheck = Annotated[
    HumanReviewRequiredRule | ReviewSamplingRule | RequestAnsweredRule | LogRetentionRule,
    Field(discriminator="check"),
]

#: The checks of each record-level kind, as written after ``check:``.
CHECKS: dict[str, tuple[str, ...]] = {
    "transparency": (
        "bot_disclosure",
        "human_handoff",
        "decision_explained",
        "ai_content_labeled",
        "notice_before_decision",
        "disclosed_on_request",
        "pricing_disclosed",
        "periodic_reminder",
        "crisis_referral",
    ),
    "consent": ("consent_valid", "withdrawal_honored", "opt_out_honored"),
    "oversight": (
        "human_review_required",
        "review_sampling",
        "request_answered",
        "log_retention",
    ),
}


ExpectationKind = Literal[
    "not_null", "in_set", "between", "unique", "row_count_between", "regex", "timestamp"
]
#: Each expectation kind and the Great Expectations expectation that checks it.
EXPECTATIONS: dict[str, str] = {
    "not_null": "expect_column_values_to_not_be_null",
    "in_set": "expect_column_values_to_be_in_set",
    "between": "expect_column_values_to_be_between",
    "unique": "expect_column_values_to_be_unique",
    "row_count_between": "expect_table_row_count_to_be_between",
    "regex": "expect_column_values_to_match_regex",
    "timestamp": "expect_column_values_to_be_in_set",
}


class Expectation(PolicyModel):
    """One data-quality expectation on a role (column) of the rule's dataset.

    not_null: no missing value; in_set: every value is one of ``values``; between: every value
    is within [min, max]; unique: no value appears twice; row_count_between: the audited rows
    number within [min, max]; regex: every value contains a match of ``pattern``; timestamp:
    every value parses as a timestamp. Missing values only fail ``not_null`` (and count in
    ``row_count_between``).
    """

    expect: ExpectationKind = Field(description="What must hold (see the list above).")
    column: Identifier | None = Field(
        default=None,
        description="The role checked, mapped by the audit spec's columns like any role "
        "(not used by row_count_between).",
    )
    values: list[str | int | float | bool] | None = Field(
        default=None, description="in_set: the allowed values."
    )
    min: float | None = Field(default=None, description="between, row_count_between: lowest.")
    max: float | None = Field(default=None, description="between, row_count_between: highest.")
    pattern: str | None = Field(
        default=None, description="regex: a Python regular expression searched in each value."
    )
    mostly: float = Field(
        default=1.0,
        gt=0.0,
        le=1.0,
        description="Share of the (non-missing) values that must meet the expectation.",
    )

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Expectation:
        if self.expect == "row_count_between":
            if self.column is not None:
                raise ValueError("row_count_between counts rows: leave out 'column'")
        elif self.column is None:
            raise ValueError(f"expect {self.expect} needs a 'column' (a role of the dataset)")
        if self.expect == "in_set" and not self.values:
            raise ValueError("expect in_set needs a non-empty 'values' list")
        if self.expect != "in_set" and self.values is not None:
            raise ValueError("'values' belongs to expect in_set only")
        if self.expect in ("between", "row_count_between"):
            if self.min is None and self.max is None:
                raise ValueError(f"expect {self.expect} needs 'min', 'max' or both")
            for bound in (self.min, self.max):
                if bound is not None and not math.isfinite(bound):
                    raise ValueError("min and max must be finite numbers")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"min {self.min} is above max {self.max}")
        elif self.min is not None or self.max is not None:
            raise ValueError("'min' and 'max' belong to between and row_count_between only")
        if self.expect == "regex":
            if not self.pattern:
                raise ValueError("expect regex needs a 'pattern'")
            import re

            try:
                re.compile(self.pattern)
            except re.error as exc:
                message = f"pattern {self.pattern!r} is not a regular expression: {exc}"
                raise ValueError(message) from exc
        elif self.pattern is not None:
            raise ValueError("'pattern' belongs to expect regex only")
        if self.expect in ("unique", "row_count_between") and self.mostly != 1.0:
            raise ValueError(f"expect {self.expect} takes no 'mostly'")
        return self

    @property
    def gx_expectation(self) -> str:
        """Return the name of the Great Expectations expectation that checks this."""
        return EXPECTATIONS[self.expect]


class DataQualityRule(RuleBase):
    """A data contract: Great Expectations expectations on a dataset, checked before rules run.

    When an expectation fails, this rule fails and every rule it guards is reported as
    ``error`` (not evaluated): results on broken evidence are never a pass.
    """

    contract: ClassVar[bool] = True

    kind: Literal["data_quality"]
    expectations: list[Expectation] = Field(min_length=1, description="What the data must meet.")
    guards: list[Identifier] | None = Field(
        default=None,
        description="Ids of the rules that are not evaluated (status error) when this contract "
        "fails; default: every other rule reading the same dataset.",
    )
    safe_columns: list[Identifier] = Field(
        default_factory=list,
        description="Roles whose failing values the report may show as they are; values of "
        "other roles are masked (type and length only).",
    )
    max_examples: int = Field(
        default=5, ge=0, le=100, description="Failing values shown per expectation."
    )

    check_unique = field_validator("guards", "safe_columns")(
        lambda values: values if values is None else _unique_list(values)
    )

    def guarded(self, rules: list[Any]) -> list[str]:
        """Return the ids of the rules this contract guards (default: others on its dataset)."""
        if self.guards is not None:
            return list(self.guards)
        return [
            r.id for r in rules if r.id != self.id and not r.contract and self.dataset in r.datasets
        ]


#: Input names refused outright as proxies (IL HB 3773: "zip codes as a proxy"): a feature is
#: refused when its name from the start of one of its words (after a separator, or a capital
#: after a small letter), lower-cased with everything but letters and digits removed, starts
#: with one of these (so ``zip``, ``zip3``, ``ZIP_Code``, ``postal_code``, ``postcode_area``,
#: ``applicant_zip``, ``homeZip``; not ``postal_area``).
DEFAULT_REFUSED_PROXIES = ("zip", "postcode", "postalcode", "postcd")


class ProxyFeaturesRule(RuleBase):
    """Model inputs that stand in for a protected attribute (proxy discrimination).

    Over a predictions dataset, the association of each model input with each protected
    attribute: bias-corrected Cramér's V for categorical inputs (Bergsma 2013), normalized
    mutual information for numeric inputs binned into ``bins`` equal-count bins by rank. A
    pair above its threshold is a finding; an input named like a zip or postal code is refused
    whatever its association (``refuse``).
    """

    kind: Literal["proxy"]
    check: Literal["proxy_features"] = Field(
        default="proxy_features", description="The only check of this kind."
    )
    features: list[Identifier] = Field(
        min_length=1, description="The model's inputs, as roles (columns) of the dataset."
    )
    numeric: list[Identifier] = Field(
        default_factory=list,
        description="Inputs that are numbers: binned by rank, measured by mutual information "
        "(the others are categories, measured by Cramér's V).",
    )
    sensitive_features: list[Identifier] = Field(
        min_length=1, description="Protected attributes, as roles (columns) of the dataset."
    )
    max_cramers_v: float = Field(
        default=0.3,
        gt=0.0,
        le=1.0,
        description="Largest bias-corrected Cramér's V of a categorical input that passes.",
    )
    max_mutual_information: float = Field(
        default=0.1,
        gt=0.0,
        le=1.0,
        description="Largest normalized mutual information (arithmetic mean of the entropies, "
        "as scikit-learn's default) of a numeric input that passes.",
    )
    bins: int = Field(default=10, ge=2, le=100, description="Rank bins of a numeric input.")
    refuse: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_REFUSED_PROXIES),
        description="Input names refused as proxies whatever their association: an input "
        "whose name, from the start of any of its words (lower-cased, letters and digits "
        "only), starts with one: applicant_zip, ZIP_Code (default: zip, postcode, postalcode, "
        "postcd); [] to refuse none.",
    )

    check_unique = field_validator("features", "numeric", "sensitive_features")(_unique_list)

    @model_validator(mode="after")
    def _numeric_are_features(self) -> ProxyFeaturesRule:
        stray = [n for n in self.numeric if n not in self.features]
        if stray:
            raise ValueError(
                f"numeric names {', '.join(stray)}, which is not in features: list every "
                "numeric input under features too"
            )
        both = [f for f in self.features if f in self.sensitive_features]
        if both:
            raise ValueError(
                f"{', '.join(both)} is both a feature and a sensitive feature: a protected "
                "attribute used as a model input is a direct, not a proxy, use"
            )
        return self

    @property
    def group_features(self) -> Sequence[str]:
        """Return no grouping: the rule's results are per input, not per group."""
        return ()

    @property
    def findings_limit(self) -> int | None:
        """Return the number of pairs: every flagged pair is listed."""
        return len(self.features) * len(self.sensitive_features) + len(self.features)


#: Rule kinds of the policy language, by ``kind``: each one's base model (for the docs and the
#: loader's messages) and its member of the ``Rule`` union (the model, or a union by ``check``).
#: The rule-kind registry (:mod:`ethicsgate.rules.registry`) adds a kind's model with
#: :func:`add_rule_model`; the built-in models below are the language's own.
_RULE_MODELS: dict[str, Any] = {
    "fairness": FairnessRule,
    "transparency": TransparencyCheck,
    "consent": ConsentCheck,
    "oversight": OversightCheck,
    "data_quality": DataQualityRule,
    "proxy": ProxyFeaturesRule,
}
_BASE_MODELS: dict[str, type[RuleBase]] = {
    "fairness": FairnessRule,
    "transparency": TransparencyRule,
    "consent": ConsentRule,
    "oversight": OversightRule,
    "data_quality": DataQualityRule,
    "proxy": ProxyFeaturesRule,
}
#: Rule kinds known to the language; the discriminators (kind, then check) keep error messages
#: precise. Kept in step with the registered models by add_rule_model.
RULE_KINDS: tuple[type[RuleBase], ...] = tuple(_BASE_MODELS.values())
Rule = Annotated[
    FairnessRule
    | TransparencyCheck
    | ConsentCheck
    | OversightCheck
    | DataQualityRule
    | ProxyFeaturesRule,
    Field(discriminator="kind"),
]

#: Kinds a later version may add: the loader names them "not supported" rather than unknown.
PLANNED_KINDS = ("robustness",)


class Waiver(StrictModel):
    """An approved, expiring exception: a failing rule it covers is reported as ``waived``."""

    rule: Identifier = Field(description="Id of the rule the waiver covers.")
    metric: PolicyMetricId | None = Field(
        default=None,
        description="Only failing assertions on this metric are waived (default: any).",
    )
    group: dict[Identifier, Text] | None = Field(
        default=None,
        description="Only failures of this group are waived, e.g. {race: Asian} (default: any).",
    )
    reason: str = Field(min_length=1, description="Why the failure is accepted, in plain words.")
    approver: str = Field(min_length=1, description="Who approved the waiver.")
    expires: date = Field(
        description="Last day the waiver applies (YYYY-MM-DD); from the next day it stops waiving."
    )


class DataUse(StrictModel):
    """One kind of personal data a system uses and the legal basis it is used on."""

    data: str = Field(min_length=1, description="The data in plain words, e.g. 'order history'.")
    basis: LegalBasis = Field(description="GDPR Art. 6(1) legal basis, e.g. contract.")
    purpose: str | None = Field(default=None, description="What the data is used for.")


class SystemDescription(StrictModel):
    """An automated system as the public transparency statement describes it, in plain words."""

    id: Identifier = Field(description="Stable id of the system.")
    name: str = Field(min_length=1, description="The name customers know it by.")
    purpose: str = Field(min_length=1, description="What it does, in plain words.")
    encounter: str = Field(min_length=1, description="When a customer meets it.")
    disclosure: str = Field(
        min_length=1, description="How people are told that they deal with an automated system."
    )
    human_contact: str = Field(
        min_length=1, description="How to reach a person (the escalation path)."
    )
    data: list[DataUse] = Field(
        min_length=1, description="The data it uses and the basis each is used on."
    )
    accountable: str = Field(min_length=1, description="Who is accountable for it.")
    rules: list[Identifier] = Field(
        default_factory=list,
        description="Ids of the rules that check this system; their latest results are "
        "published with it.",
    )


#: ``date`` under another name, for the field called ``date`` below.
_Day = date


class InForce(StrictModel):
    """A date from which (some of) the duties a pack checks apply."""

    date: _Day = Field(description="The date, YYYY-MM-DD.")
    what: str = Field(min_length=1, description="Which duties apply from that date.")


class PackScope(StrictModel):
    """Where and when a pack's law applies, and what a person must still do beyond its checks.

    A compliance reviewer trusts a pack only if it says plainly which jurisdiction it covers,
    from when, and which duties of that law no check over evidence can show (paperwork,
    notices' content, assessments): ``ethicsgate policy explain`` and ``policy list`` show it.
    """

    jurisdiction: str = Field(
        min_length=1, description="Where the law applies, e.g. 'Colorado, United States'."
    )
    applies_to: str | None = Field(
        default=None, description="Whom the duties bind, e.g. 'deployers of ADMT'."
    )
    in_force: list[InForce] = Field(
        default_factory=list, description="The dates from which the checked duties apply."
    )
    left_to_people: list[str] = Field(
        default_factory=list,
        description="Duties of the law that no check over evidence shows: what a person "
        "must still do or write.",
    )


class PolicyPack(StrictModel):
    """A versioned pack of rules with the references they implement."""

    schema_version: Literal[1] = Field(description="Version of the policy language: 1.")
    id: Identifier = Field(description="Stable id of the pack, recorded in every report.")
    version: Text = Field(min_length=1, description="The pack's own version.")
    title: str = Field(min_length=1)
    owner: str = Field(min_length=1, description="Who is accountable for the policy.")
    description: str | None = None
    scope: PackScope | None = Field(
        default=None,
        description="Jurisdiction, dates in force, and what is left to people (shipped packs "
        "all say).",
    )
    references: list[Reference] = Field(
        default_factory=list, description="Regulations and standards the rules implement."
    )
    rules: list[Rule] = Field(min_length=1, description="At least one rule.")
    waivers: list[Waiver] = Field(
        default_factory=list, description="Approved, expiring exceptions to rules."
    )
    systems: list[SystemDescription] = Field(
        default_factory=list,
        description="The automated systems the pack governs, for transparency statements.",
    )


def _base_model(model: Any) -> type[RuleBase]:
    """Return the RuleBase subclass of a kind's model (the common base of a union's members)."""
    if isinstance(model, type) and issubclass(model, RuleBase):
        return model
    members = list(get_args(get_args(model)[0] if get_origin(model) is Annotated else model))
    bases = [b for b in members[0].__mro__ if issubclass(b, RuleBase)]
    base: type[RuleBase] = next(b for b in bases if all(issubclass(m, b) for m in members))
    return base


def _rebuild() -> None:
    """Rebuild ``PolicyPack`` with the current union of rule models."""
    global RULE_KINDS
    models = tuple(_RULE_MODELS.values())
    union: Any = models[0]
    for model in models[1:]:
        union = union | model
    PolicyPack.model_fields["rules"].annotation = list[
        Annotated[union, Field(discriminator="kind")]
    ]
    PolicyPack.model_rebuild(force=True)
    RULE_KINDS = tuple(_BASE_MODELS.values())


def add_rule_model(kind: str, model: Any) -> None:
    """Add a rule kind's model to the policy language (a no-op for the model it has already).

    Raises:
        ValueError: the language has another model for ``kind``.
    """
    if kind in _RULE_MODELS:
        if _RULE_MODELS[kind] is not model:
            raise ValueError(f"the policy language has another model for kind {kind!r}")
        return
    _RULE_MODELS[kind] = model
    _BASE_MODELS[kind] = _base_model(model)
    _rebuild()


def remove_rule_model(kind: str) -> None:
    """Remove a kind's model from the policy language (after a plug-in is unregistered)."""
    if _RULE_MODELS.pop(kind, None) is not None:
        _BASE_MODELS.pop(kind, None)
        _rebuild()


def rule_kinds() -> tuple[type[RuleBase], ...]:
    """Return the base model of every rule kind the language knows, in order."""
    return tuple(_BASE_MODELS.values())
