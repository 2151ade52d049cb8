"""What rules produce: findings as data, never exceptions."""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence, Sized
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, Protocol, TypeVar

from pydantic import Field, GetCoreSchemaHandler
from pydantic.dataclasses import dataclass
from pydantic_core import core_schema

from ethicsgate.base import COMPACT, StrictModel
from ethicsgate.canonical import ItemSequence


class _Array(Protocol):
    """A numpy array or an ``array.array``: what a column is held from."""

    def tobytes(self) -> bytes: ...  # pragma: no cover - a protocol


__all__ = [
    "AssertionResult",
    "AssertionStatus",
    "CalibrationBin",
    "ComparisonTest",
    "CrossCheck",
    "DriftFinding",
    "Finding",
    "ABSENT",
    "Absent",
    "GroupColumns",
    "GroupKey",
    "GroupResult",
    "Groups",
    "IntervalColumn",
    "GroupScoreResult",
    "ImpactRatioResult",
    "ImpactRatioRow",
    "ImpactRatioTable",
    "Interval",
    "ReferenceValue",
    "RuleResult",
    "RuleStatus",
    "ScoreSummary",
    "UncertaintyInfo",
    "StratumResult",
    "TestColumn",
    "WaiverInfo",
    "WindowInfo",
    "WindowResult",
    "as_columns",
    "entries",
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


AssertionStatus = Literal["pass", "fail", "error", "waived"]


@dataclass(frozen=True, slots=True, config=COMPACT)
class Interval:
    """A two-sided confidence interval at the rule's confidence level."""

    low: float
    high: float


@dataclass(frozen=True, slots=True, config=COMPACT)
class ComparisonTest:
    """A two-sided test of "same rate as the reference" for one group (or category)."""

    method: Annotated[
        Literal["z_test", "fisher_exact"],
        Field(
            description="z_test: pooled two-proportion z-test; fisher_exact: Fisher's exact "
            "test on the 2x2 table (used by auto when an expected count is under 5)."
        ),
    ]
    statistic: Annotated[
        float | None,
        Field(
            description="The z statistic (group minus reference), or the 2x2 table's odds ratio."
        ),
    ]
    p_value: float
    successes: Annotated[
        int, Field(description="The group's numerator count (e.g. people selected).")
    ]
    trials: Annotated[int, Field(description="The group's denominator count (e.g. applicants).")]
    reference_successes: int
    reference_trials: int


class CalibrationBin(StrictModel):
    """One score bin of a calibration table: mean score against the observed rate."""

    low: float = Field(description="Lower score edge (inclusive).")
    high: float = Field(description="Upper score edge (exclusive, inclusive for the last bin).")
    count: int
    mean_score: float | None
    observed_rate: float | None = Field(description="Share of the bin's people with label 1.")


@dataclass(frozen=True, slots=True, config=COMPACT)
class GroupScoreResult:
    """Score-based metrics of one group, computed from score aggregates."""

    positives: int
    negatives: int
    roc_auc: Annotated[
        float | None, Field(description="Null when the group lacks positives or negatives.")
    ]
    roc_auc_interval: Interval | None = None
    roc_auc_max_error: float = Field(
        default=0.0,
        description="Largest possible difference from the exact AUC: 0 when every distinct "
        "score was kept; with score bins, ties inside a bin count one half.",
    )
    calibration: list[CalibrationBin] = Field(default_factory=list)
    calibration_error: float | None = Field(
        default=None,
        description="Expected calibration error: the count-weighted mean of "
        "|mean_score - observed_rate| over the bins.",
    )


@dataclass(frozen=True, slots=True, config=COMPACT)
class ImpactRatioRow:
    """One category of an LL144 table."""

    category: GroupKey
    applicants: int
    selected: Annotated[
        int,
        Field(description="People selected (selection) or scoring above the median (scoring)."),
    ]
    rate: Annotated[float, Field(description="Selection or scoring rate: selected / applicants.")]
    share: Annotated[
        float, Field(description="The category's share of the table's known applicants.")
    ]
    impact_ratio: Annotated[
        float | None,
        Field(
            description="rate / rate of the most selected category; null when excluded or "
            "when the most selected rate is 0."
        ),
    ]
    excluded: Annotated[
        bool,
        Field(description="Under exclude_below_share: shown with count and rate, but no ratio."),
    ]
    most_selected: bool = False
    rate_interval: Interval | None = None
    impact_ratio_interval: Interval | None = None
    test: ComparisonTest | None = Field(
        default=None, description="Against the most selected category."
    )


class ImpactRatioRows(ItemSequence[ImpactRatioRow]):
    """An LL144 table's rows held as columns, one value per category; a row made when read.

    A row held per category, with its category dict, two intervals and a test, took about
    700 bytes: at 100,000 intersectional categories 70 MB per table. Equal to the list of
    the same rows; JSON writes it as that list.
    """

    __slots__ = (
        "applicants",
        "categories",
        "excluded",
        "features",
        "impact_ratio",
        "rate",
        "rate_intervals",
        "ratio_intervals",
        "reference",
        "selected",
        "share",
        "tests",
    )

    def __init__(
        self,
        features: Sequence[str],
        categories: Sequence[tuple[str, ...]],
        *,
        applicants: _Array,
        selected: _Array,
        rate: _Array,
        share: _Array,
        impact_ratio: _Array,
        excluded: _Array,
        reference: int | None,
        rate_intervals: IntervalColumn | None = None,
        ratio_intervals: IntervalColumn | None = None,
        tests: TestColumn | None = None,
    ) -> None:
        """Hold the columns: int64 counts, float64 rates, shares and ratios (NaN: null), int8.

        ``reference`` is the most selected category's position; without intervals or
        tests (None) every row has none.
        """
        self.features = tuple(features)
        self.categories = categories
        self.applicants = array("q", applicants.tobytes())
        self.selected = array("q", selected.tobytes())
        self.rate = array("d", rate.tobytes())
        self.share = array("d", share.tobytes())
        self.impact_ratio = array("d", impact_ratio.tobytes())
        self.excluded = array("b", excluded.tobytes())
        self.reference = reference
        self.rate_intervals = rate_intervals
        self.ratio_intervals = ratio_intervals
        self.tests = tests
        size = len(categories)
        held: list[Sized | None] = [
            *(self.applicants, self.selected, self.rate, self.share, self.impact_ratio),
            *(self.excluded, rate_intervals, ratio_intervals, tests),
        ]
        if any(len(c) != size for c in held if c is not None):
            raise ValueError("columns of different lengths")

    def __len__(self) -> int:
        """Return the number of categories."""
        return len(self.categories)

    def _item(self, index: int) -> ImpactRatioRow:
        # made without validation, as a rule's groups are (GroupColumns); the columns hold
        # what validation keeps (tests/unit/rules/test_group_columns.py)
        i = index
        ratio = self.impact_ratio[i]
        test = self.tests[i] if self.tests is not None else None
        row = _new(ImpactRatioRow)
        for name, value in (
            ("category", dict(zip(self.features, self.categories[i], strict=True))),
            ("applicants", self.applicants[i]),
            ("selected", self.selected[i]),
            ("rate", self.rate[i]),
            ("share", self.share[i]),
            ("impact_ratio", None if ratio != ratio else ratio),
            ("excluded", bool(self.excluded[i])),
            ("most_selected", bool(i == self.reference)),
            ("rate_interval", self.rate_intervals[i] if self.rate_intervals else None),
            ("impact_ratio_interval", self.ratio_intervals[i] if self.ratio_intervals else None),
            ("test", None if isinstance(test, Absent) else test),
        ):
            _set(row, name, value)
        return row


class _ColumnsSchema:
    """Items held as columns (an :class:`ItemSequence`) kept as they are, or a list of them.

    Validated, a list stays a list (a report read back); dumped, either is the list of
    items; described (JSON Schema), it is that list.
    """

    __slots__ = ("columns", "item")

    def __init__(self, columns: type[ItemSequence[Any]], item: type[Any]) -> None:
        self.columns = columns
        self.item = item

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        items = handler.generate_schema(list[self.item])  # type: ignore[name-defined]
        return core_schema.json_or_python_schema(
            json_schema=items,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(self.columns), items]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(
                list, return_schema=items
            ),
        )


class ImpactRatioTable(StrictModel):
    """The LL144 table of one sensitive feature, or of their intersection."""

    features: list[str]
    applicants: int = Field(description="Applicants in a known category.")
    unknown: int = Field(
        description="Applicants in an unknown category: counted, left out of rates and ratios."
    )
    most_selected: GroupKey | None
    most_selected_rate: float | None
    rows: Annotated[Sequence[ImpactRatioRow], _ColumnsSchema(ImpactRatioRows, ImpactRatioRow)]


class ImpactRatioResult(StrictModel):
    """NYC Local Law 144 bias-audit tables (6 RCNY 5-301): rates and impact ratios."""

    kind: Literal["selection", "scoring"]
    median_score: float | None = Field(
        default=None, description="The full-sample median score (scoring only)."
    )
    unknown_values: list[str] = Field(default_factory=list)
    exclude_below_share: float | None = None
    intersection_exclusion: Literal["share", "components"] = "share"
    tables: list[ImpactRatioTable]


class UncertaintyInfo(StrictModel):
    """How the intervals and tests of a rule were computed, so they can be reproduced."""

    method: str
    bootstrap_samples: int
    confidence_level: float
    seed: int
    test: Literal["auto", "z_test", "fisher_exact"]


class ScoreSummary(StrictModel):
    """The score column as the rule read it."""

    rows: int
    min: float
    max: float
    median: float | None = None
    distinct_estimate: int | None = Field(
        default=None,
        description="Distinct scores: an estimate (HyperLogLog) or a count; null when no score "
        "metric needs it, or when the engine only counted more than 2,048 (binned).",
    )
    exact: bool | None = Field(
        default=None,
        description="True when every distinct score was kept (AUC and calibration are exact); "
        "null without score metrics.",
    )
    bins: int | None = Field(default=None, description="Equal-width score bins when not exact.")
    threshold: float | None = None


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
    significant_at: float | None = None
    p_value: float | None = Field(
        default=None, description="The worst group's test p-value against the reference."
    )
    window: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Windowed rules: the window this result comes from (the first failing "
        "one, else the one with the worst value); absent otherwise.",
    )
    not_significant_groups: list[GroupKey] = Field(
        default_factory=list,
        description="Groups past the threshold whose difference is not significant at "
        "significant_at; they do not fail the assertion.",
    )


class ReferenceValue(StrictModel):
    """The reference a metric's ratios and differences are taken against."""

    group: GroupKey | None = Field(description="null when the reference is 'overall'.")
    value: float | None


@dataclass(frozen=True, slots=True, config=COMPACT)
class GroupResult:
    """One group's size and metrics, with ratios and differences against the reference."""

    group: GroupKey
    count: int
    excluded: Annotated[
        bool,
        Field(
            description="True when smaller than min_group_size, or of an unknown value "
            "(unknown_values, or missing when the rule names unknown values): never compared."
        ),
    ]
    metrics: dict[str, float | int | None]
    ratios: dict[str, float | None] = Field(default_factory=dict)
    differences: dict[str, float | None] = Field(default_factory=dict)
    intervals: dict[str, Interval | None] = Field(default_factory=dict)
    ratio_intervals: dict[str, Interval | None] = Field(default_factory=dict)
    difference_intervals: dict[str, Interval | None] = Field(default_factory=dict)
    tests: dict[str, ComparisonTest] = Field(
        default_factory=dict, description="Per metric, the test against the reference group."
    )
    score: GroupScoreResult | None = None


class Absent:
    """The marker of a group with no entry for a metric (see :data:`ABSENT`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        """Return the marker's name."""
        return "ABSENT"


#: In a :class:`GroupColumns` column: the group has no entry for that metric (its dict lacks
#: the key), as the reference group has no ratio interval of its own.
ABSENT: Final = Absent()


class GroupColumns(ItemSequence[GroupResult]):
    """A rule's groups held as columns, one per field and metric; a group is made when read.

    Each column has one value per group, in report order. A :class:`GroupResult` held per
    group, with its seven dicts, nine intervals and three tests, took ~5 KB: at 100,000
    groups half a GB per rule, most of an audit's peak memory. Here the values are the
    rule's own columns (lists the rule computes anyway), and the group's dicts are made
    each time it is read. Equal to the list of the same groups; JSON writes it as that list.
    """

    __slots__ = (
        "differences",
        "difference_intervals",
        "excluded",
        "groups",
        "intervals",
        "metrics",
        "ratio_intervals",
        "ratios",
        "score",
        "sizes",
        "tests",
    )

    def __init__(
        self,
        groups: Sequence[GroupKey],
        sizes: Sequence[int],
        excluded: Sequence[bool],
        metrics: Mapping[str, Sequence[float | int | None | Absent]],
        ratios: Mapping[str, Sequence[float | None | Absent]],
        differences: Mapping[str, Sequence[float | None | Absent]],
        *,
        intervals: Mapping[str, Sequence[Interval | None | Absent]] | None = None,
        ratio_intervals: Mapping[str, Sequence[Interval | None | Absent]] | None = None,
        difference_intervals: Mapping[str, Sequence[Interval | None | Absent]] | None = None,
        tests: Mapping[str, Sequence[ComparisonTest | Absent]] | None = None,
        score: Sequence[GroupScoreResult | None] | None = None,
    ) -> None:
        """Hold the columns (:data:`ABSENT`: the group has no entry for that metric)."""
        self.groups = groups
        self.sizes = sizes
        self.excluded = excluded
        self.metrics = metrics
        self.ratios = ratios
        self.differences = differences
        self.intervals = intervals or {}
        self.ratio_intervals = ratio_intervals or {}
        self.difference_intervals = difference_intervals or {}
        self.tests = tests or {}
        self.score = score

    def __len__(self) -> int:
        """Return the number of groups."""
        return len(self.groups)

    def _item(self, index: int) -> GroupResult:
        # made without validation (a third of the time: a report reads each group about
        # seven times, 10^5 groups 0.8 s a pass); the columns hold what validation would keep:
        # the rule's own Python values, intervals and tests (tests/unit/rules/test_group_columns.py)
        i = index
        group = _new(GroupResult)
        for name, value in (
            ("group", dict(self.groups[i])),  # the reader's own, as validation copied it
            ("count", self.sizes[i]),
            ("excluded", self.excluded[i]),
            ("metrics", entries(self.metrics, i)),
            ("ratios", entries(self.ratios, i)),
            ("differences", entries(self.differences, i)),
            ("intervals", entries(self.intervals, i)),
            ("ratio_intervals", entries(self.ratio_intervals, i)),
            ("difference_intervals", entries(self.difference_intervals, i)),
            ("tests", entries(self.tests, i)),
            ("score", self.score[i] if self.score is not None else None),
        ):
            _set(group, name, value)
        return group


_new = object.__new__
_set = object.__setattr__


class IntervalColumn(ItemSequence["Interval | None | Absent"]):
    """One metric's intervals of every group as two arrays of bounds; made when read.

    NaN bounds read as None (no interval); ``present`` False as :data:`ABSENT`. An
    :class:`Interval` held per group was ~110 bytes (9 per group of a rule with
    three metrics); here 16.
    """

    __slots__ = ("high", "low", "present")

    def __init__(self, low: _Array, high: _Array, present: _Array) -> None:
        """Hold the bound arrays as they are (float64 ``low``, ``high``; int8 ``present``).

        A NaN low bound reads as None (no interval); ``present`` 0 as :data:`ABSENT`
        (:func:`ethicsgate.rules.uncertainty.interval_column` makes them from a rule's bounds).
        """
        self.low = array("d", low.tobytes())
        self.high = array("d", high.tobytes())
        self.present = array("b", present.tobytes())
        if not len(self.low) == len(self.high) == len(self.present):
            raise ValueError("bounds of different lengths")

    def __len__(self) -> int:
        """Return the number of groups."""
        return len(self.low)

    def _item(self, index: int) -> Interval | None | Absent:
        if not self.present[index]:
            return ABSENT
        low = self.low[index]
        if low != low:  # NaN: no interval
            return None
        interval = _new(Interval)
        _set(interval, "low", low)
        _set(interval, "high", self.high[index])
        return interval


class TestColumn(ItemSequence["ComparisonTest | Absent"]):
    """One metric's reference tests of every group as arrays; a test made when read."""

    __slots__ = ("counts", "method", "p_value", "statistic")

    def __init__(self, values: Sequence[ComparisonTest | Absent]) -> None:
        """Hold the fields of ``values`` (:data:`ABSENT`: the group was not tested)."""
        size = len(values)
        self.method = array("b", [-1] * size)
        self.statistic = array("d", [_NAN] * size)
        self.p_value = array("d", [_NAN] * size)
        self.counts = array("q", [0] * (4 * size))
        for i, test in enumerate(values):
            if isinstance(test, Absent):
                continue
            self.method[i] = _METHODS.index(test.method)
            if test.statistic is not None:
                self.statistic[i] = test.statistic
            self.p_value[i] = test.p_value
            self.counts[4 * i : 4 * i + 4] = array(
                "q",
                (test.successes, test.trials, test.reference_successes, test.reference_trials),
            )

    def __len__(self) -> int:
        """Return the number of groups."""
        return len(self.method)

    def _item(self, index: int) -> ComparisonTest | Absent:
        method = self.method[index]
        if method < 0:
            return ABSENT
        statistic = self.statistic[index]
        test = _new(ComparisonTest)
        base = 4 * index
        for name, value in (
            ("method", _METHODS[method]),
            ("statistic", None if statistic != statistic else statistic),
            ("p_value", self.p_value[index]),
            ("successes", self.counts[base]),
            ("trials", self.counts[base + 1]),
            ("reference_successes", self.counts[base + 2]),
            ("reference_trials", self.counts[base + 3]),
        ):
            _set(test, name, value)
        return test


_NAN = float("nan")
_METHODS: tuple[Literal["z_test", "fisher_exact"], ...] = ("z_test", "fisher_exact")


def as_columns(groups: Sequence[GroupResult]) -> GroupColumns:
    """Return a rule's groups as columns: held so already, or a list (a report read back).

    What reads one field of every group (sizes, metric values, whether tested) reads it here
    without making every group, or holding them all.
    """
    if isinstance(groups, GroupColumns):
        return groups
    fields = [
        "metrics",
        "ratios",
        "differences",
        "intervals",
        "ratio_intervals",
        "difference_intervals",
        "tests",
    ]
    columns: dict[str, dict[str, list[Any]]] = {name: {} for name in fields}
    for i, group in enumerate(groups):
        for name, by_metric in columns.items():
            for metric, value in getattr(group, name).items():
                by_metric.setdefault(metric, [ABSENT] * len(groups))[i] = value
    return GroupColumns(
        [g.group for g in groups],
        [g.count for g in groups],
        [g.excluded for g in groups],
        columns["metrics"],
        columns["ratios"],
        columns["differences"],
        intervals=columns["intervals"],
        ratio_intervals=columns["ratio_intervals"],
        difference_intervals=columns["difference_intervals"],
        tests=columns["tests"],
        score=[g.score for g in groups],
    )


_V = TypeVar("_V")


def entries(columns: Mapping[str, Sequence[_V | Absent]], i: int) -> dict[str, _V]:
    """Return group ``i``'s entries of per-metric columns, the :data:`ABSENT` ones left out."""
    return {m: value for m, column in columns.items() if not isinstance(value := column[i], Absent)}


#: The type of a rule's (and a window's) ``groups``.
Groups = Annotated[Sequence[GroupResult], _ColumnsSchema(GroupColumns, GroupResult)]


class Finding(StrictModel):
    """One record that violates a rule: its id, why, and the few fields the rule reads."""

    record_id: str = Field(description="The record's id (a conversation, event or decision).")
    reason: str = Field(description="A stable code, e.g. not_disclosed, consent_withdrawn.")
    message: str = Field(description="The reason in plain words.")
    fields: dict[str, str | None] = Field(
        default_factory=dict,
        description="Values of the roles the rule names (timestamps in UTC, ISO 8601).",
    )


class StratumResult(StrictModel):
    """One group of a stratified review sample: its size, sample and reviews."""

    group: GroupKey
    decisions: int
    sampled: int
    reviewed: int


class WaiverInfo(StrictModel):
    """The policy waiver that turned a rule's failure into ``waived``, or that has expired."""

    rule: str
    metric: str | None = None
    group: GroupKey | None = None
    reason: str
    approver: str
    expires: str = Field(description="Last day the waiver applies (YYYY-MM-DD).")
    expired: bool = Field(default=False, description="True: it no longer waives anything.")


class CrossCheck(StrictModel):
    """The same metrics recomputed with fairlearn's ``MetricFrame``, and how far they agree."""

    method: str = Field(description="What was recomputed, and on which rows.")
    fairlearn_version: str
    groups_checked: int = Field(description="Groups recomputed (the first ones, in report order).")
    groups_total: int
    values_compared: int = Field(description="Group metric values compared (null with null).")
    max_abs_difference: float = Field(
        description="The largest |ethicsgate - fairlearn| over the values compared."
    )
    tolerance: float = Field(description="The largest difference that counts as agreement.")
    agrees: bool = Field(
        description="Every value within the tolerance, and undefined (0/0) in the same places."
    )


class WindowInfo(StrictModel):
    """How a windowed rule's evidence was split into time windows."""

    column: str = Field(description="The time column or expression.")
    every: Literal["day", "week", "month", "quarter"] | None = None
    last_days: int | None = Field(default=None, description="Rolling windows: their length.")
    time_zone: str | None = Field(
        default=None,
        # absent when UTC: reports of windows without a zone stay as they were
        exclude_if=lambda zone: zone is None,
        description="The IANA time zone whose calendar cut the windows (absent: UTC).",
    )
    rows_without_time: int = Field(
        default=0, description="Rows left out of every window: their time is missing."
    )
    rows_outside: int = Field(
        default=0, description="Rolling windows: rows older than every window."
    )


class WindowResult(StrictModel):
    """A fairness rule judged on one time window of its evidence."""

    label: str = Field(description="e.g. 2026-03 (month), 2026-W10 (week), 2026-Q1 (quarter).")
    start: str = Field(description="First day of the window (YYYY-MM-DD).")
    end: str = Field(description="Last day of the window (YYYY-MM-DD), inclusive.")
    rows: int
    status: RuleStatus
    message: str
    overall: dict[str, float | int | None] = Field(default_factory=dict)
    reference_values: dict[str, ReferenceValue] = Field(default_factory=dict)
    assertions: list[AssertionResult] = Field(default_factory=list)
    groups: Groups = Field(default_factory=list)
    impact_ratio: ImpactRatioResult | None = None


class DriftFinding(StrictModel):
    """A significant drop of a group's metric between two windows, or two recorded runs."""

    metric: str = Field(description="impact_ratio, or a metric id whose ratio is tracked.")
    group: GroupKey
    before: str = Field(description="The earlier window's label, or 'run <id>' from history.")
    after: str = Field(description="The later window's label, or 'this run'.")
    value_before: float
    value_after: float
    drop: float = Field(description="value_before - value_after.")
    z: float = Field(description="Wald statistic of the change in the log ratio.")
    p_value: float = Field(description="One-sided p-value of a drop, before correction.")
    p_adjusted: float = Field(description="Holm-adjusted p-value over the rule's comparisons.")
    severity: Literal["block", "warn", "info"]
    message: str


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
    favorable_prediction: Literal[0, 1] | None = Field(
        default=None,
        # absent when unset: reports of rules without it stay as they were
        exclude_if=lambda value: value is None,
        description="fairness: the rule's favorable_prediction, the prediction that is good "
        "for the person (0: prediction 1 is adverse); it decides which group the report names "
        "as harmed. Absent when the policy leaves it unset.",
    )
    unknown_values: list[str] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="fairness: the values the rule counts as unknown; groups of such a value "
        "(or a missing one) are shown and never compared. Absent when the policy names none.",
    )
    rows: int = Field(description="Evidence rows the rule evaluated.")
    overall: dict[str, float | int | None] = Field(default_factory=dict)
    reference_values: dict[str, ReferenceValue] = Field(default_factory=dict)
    assertions: list[AssertionResult] = Field(default_factory=list)
    groups: Groups = Field(default_factory=list)
    uncertainty: UncertaintyInfo | None = None
    impact_ratio: ImpactRatioResult | None = None
    score: ScoreSummary | None = None
    cross_check: CrossCheck | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="fairness: the metrics recomputed with fairlearn (--cross-check fairlearn "
        "or the rule's cross_check); absent when not asked for.",
    )
    window: WindowInfo | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Windowed fairness rules: how the evidence was split; absent otherwise. "
        "`groups` and `overall` then cover all windows together, `windows` each one, and the "
        "rule fails when an assertion fails in any window.",
    )
    windows: list[WindowResult] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,
        description="Windowed fairness rules: the rule judged per window, oldest first.",
    )
    drift: list[DriftFinding] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,
        description="Significant drops between consecutive windows or recorded runs "
        "(the rule's `drift` policy).",
    )
    skipped_reason: Literal["nothing_compared"] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Why a skipped rule checked nothing: `nothing_compared`, a rule judged by "
        "its `drift` policy alone had no earlier window or recorded run to compare with; "
        "absent otherwise.",
    )
    # record-level rules (transparency, consent, oversight); null/empty for the other kinds
    check: str | None = Field(default=None, description="The check of a record-level rule.")
    parameters: dict[str, str | int | float | bool | list[str] | None] = Field(
        default_factory=dict, description="The check's options as the report shows them."
    )
    records_checked: int | None = Field(
        default=None, description="Records the check applies to (conversations, events, ...)."
    )
    violations: int | None = Field(default=None, description="Records that violate the check.")
    violation_rate: float | None = Field(
        default=None, description="violations / records_checked; null when no record applies."
    )
    max_violation_rate: float | None = Field(
        default=None, description="The largest violation rate that passes."
    )
    violations_by_reason: dict[str, int] = Field(default_factory=dict)
    findings: list[Finding] = Field(
        default_factory=list, description="Violating records, ordered by id, at most max_findings."
    )
    findings_total: int | None = Field(
        default=None, description="All violating records, listed or not."
    )
    findings_truncated: bool = Field(
        default=False, description="True when findings lists fewer than findings_total."
    )
    strata: list[StratumResult] = Field(
        default_factory=list, description="Per-group sample sizes of review_sampling."
    )
    waivers: list[WaiverInfo] = Field(
        default_factory=list,
        description="Waivers that apply to this rule's failures (status waived), or that "
        "would have and have expired.",
    )
