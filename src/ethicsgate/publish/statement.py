"""Build a public transparency statement from a policy's systems and an audit result.

The statement is for the public: plain words, no record-level data (no findings, no evidence
paths), and no value computed from fewer than ``k`` people. Each published number carries the
count of people it was computed from (``people``), so the rule can be checked mechanically:
groups smaller than ``k`` are not listed, a rate is shown only when its denominator (e.g. the
people whose true label is 0, for a false positive rate) is at least ``k``, and a ratio only
when both the group and its reference group clear ``k`` for that metric.

Small cells are also kept from being worked out by subtraction: a rate is published only when
the people it counts, the people it does not count, and the rest of the group outside its
denominator are each either none or at least ``k``; and when a group is left out, the total
number of people checked is left out too. Across the tables of one dataset (several rules, or
a group's several rates) that is not enough — 18 selected of race X minus 13 of race X and sex
M gives 5 of race X and sex F — so every count of 1 to k-1 people is then checked against all
the counts the statement would publish on its dataset, and more is withheld until none can be
worked out by adding and subtracting them (:mod:`ethicsgate.publish.disclosure`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import Field

from ethicsgate.audit.result import AuditResult
from ethicsgate.base import StrictModel
from ethicsgate.metrics import METRICS, harmed_when
from ethicsgate.policy.models import PolicyPack
from ethicsgate.publish.disclosure import (
    ALL_TYPES,
    CellSum,
    Disclosure,
    finest_cells,
    spanned_sums,
    type_mask,
    withhold_determined,
)
from ethicsgate.rules.results import AssertionResult, GroupKey, GroupResult, RuleResult
from ethicsgate.vocabulary import OP_WORDS, PUBLIC_STATUS_WORDS, PublicStatus, group_label

__all__ = [
    "DEFAULT_K",
    "AssertionStatement",
    "CheckStatement",
    "GroupStatement",
    "Statement",
    "SystemStatement",
    "ValueStatement",
    "build_statement",
    "human_date",
    "metric_denominator",
    "publishable",
]

#: Smallest number of people a published value may be computed from.
DEFAULT_K = 10

_BASIS_WORDS = {
    "consent": "your consent",
    "contract": "a contract with you",
    "legal_obligation": "a legal obligation",
    "vital_interests": "protecting someone's vital interests",
    "public_task": "a task in the public interest",
    "legitimate_interests": "our legitimate interests",
}
#: Each metric as a customer reads it: a short title for tables, and what it measures in a
#: sentence ("a yes" is the system's positive decision; the page says so). No statistics
#: words ("selection rate", "recall"): the statement is for people who use the service.
_PLAIN_METRICS: dict[str, tuple[str, str]] = {
    "selection_rate": ("Got a yes", "the share of people who got a yes"),
    "base_rate": (
        "Yes was the right outcome",
        "the share of people for whom yes was the right outcome",
    ),
    "true_positive_rate": (
        "Got a yes, of those who should",
        "the share of people who should get a yes that got one",
    ),
    "false_positive_rate": (
        "Wrongly got a yes, of those who should get a no",
        "the share of people who should get a no that were wrongly given a yes",
    ),
    "false_negative_rate": (
        "Wrongly got a no, of those who should get a yes",
        "the share of people who should get a yes that were wrongly given a no",
    ),
    "true_negative_rate": (
        "Got a no, of those who should",
        "the share of people who should get a no that got one",
    ),
    "precision": (
        "Right, of those given a yes",
        "the share of people given a yes that should have got one",
    ),
    "false_discovery_rate": (
        "Wrong, of those given a yes",
        "the share of people given a yes that should have got a no",
    ),
    "false_omission_rate": (
        "Wrong, of those given a no",
        "the share of people given a no that should have got a yes",
    ),
    "accuracy": ("Right decisions", "the share of decisions that were right"),
    "ppr": ("Share of all the yeses", "the group's share of all the yeses given"),
    "count": ("People", "the number of people"),
    "impact_ratio": (
        "Got a yes, compared with the group that got one most often",
        "how often people got a yes, compared with the group that got one most often",
    ),
}
#: Metrics whose base is every person of the group: a ratio of two of them reads "for every
#: 100 ... in one group, N in the other, out of the same number of people".
_PER_PERSON = {
    "selection_rate": "people who got a yes",
    "base_rate": "people for whom yes was the right outcome",
    "accuracy": "right decisions",
}


def _plain(metric: str) -> tuple[str, str]:
    """Return a metric's public title and phrase (its id, for one the vocabulary lacks)."""
    return _PLAIN_METRICS.get(metric, (metric, metric.replace("_", " ")))


def _number(value: float) -> str:
    return f"{value:.4g}"


def _percent(value: float) -> str:
    """Return a share as a percentage, ``0.8`` -> ``80 %`` (the same figure, in words)."""
    return f"{value * 100:.4g} %"


def _requirement(a: AssertionResult) -> str:
    """Return an assertion as a customer reads it: the requirement in one sentence.

    The threshold is shown as the policy writes it, with its meaning in brackets (a ratio of
    0.8 is 80 for every 100; a difference of 0.1 is 10 percentage points).
    """
    title, phrase = _plain(a.metric)
    op = OP_WORDS.get(a.op, a.op)
    threshold = _number(a.threshold)
    other = "everyone together" if a.reference_group is None else "the group it is compared with"
    if a.metric == "impact_ratio":
        return (
            f"For every group, people got a yes {op} {threshold} times as often as in the "
            f"group that got one most often ({op} {a.threshold * 100:.4g} for every 100)"
        )
    if a.aggregate == "ratio":
        return (
            f"For every group, {phrase} is {op} {threshold} times that of {other} "
            f"({op} {a.threshold * 100:.4g} for every 100)"
        )
    if a.aggregate == "difference":
        return (
            f"For every group, {phrase} differs from that of {other} by {op} {threshold} "
            f"({a.threshold * 100:.4g} percentage points)"
        )
    if a.metric == "count":
        return f"For every group, {phrase} is {op} {threshold}"
    return f"For every group, {phrase} is {op} {threshold} ({_percent(a.threshold)})"


def _worst_words(
    a: AssertionResult, value: float, shown: set[str], *, harmed_higher: bool = False
) -> str:
    """Return what the worst published result means, in a sentence.

    Groups are named only where the statement shows them (``shown``); a group left out is
    "one group", never named. ``harmed_higher``: the rule says a higher value harms (a yes
    against the person, ``favorable_prediction: 0``); a ratio under 1 then means the group
    compared with is the harmed one, and the sentence is said from its side (385 for every
    100, not 26).
    """
    _, phrase = _plain(a.metric)
    mine = group_label(a.group) if a.group is not None else None
    group = mine if mine in shown else "one group"
    if a.reference_group is None:
        other = "everyone together"
    else:
        theirs = group_label(a.reference_group)
        other = theirs if theirs in shown else "the group it is compared with"
    if (
        harmed_higher
        and a.aggregate == "ratio"
        and a.reference_group is not None
        and 0 < value < 1
        and not _same(a.group, a.reference_group)
    ):
        group, other, value = other, group, 1 / value
    if a.aggregate == "ratio" and a.group is not None and _same(a.group, a.reference_group):
        return f"No group did worse than {group}, the group the others are compared with."
    if a.aggregate == "ratio" or a.metric == "impact_ratio":
        # people, so whole ones where the number allows (63.4 per 100 reads as 63)
        per_100 = f"{value * 100:.0f}" if value * 100 >= 10 else f"{value * 100:.2g}"
        if a.metric in _PER_PERSON:
            noun = _PER_PERSON[a.metric]
            return (
                f"For every 100 {noun} in {other}, there were {per_100} in {group}, out of "
                "the same number of people."
            )
        if a.metric == "impact_ratio":
            return (
                f"In {group}, people got a yes {value:.3g} times as often as in the group "
                f"that got one most often: {per_100} for every 100."
            )
        return (
            f"In {group}, {phrase} was {value:.3g} times that of {other}: {per_100} for every 100."
        )
    if a.aggregate == "difference":
        return (
            f"{phrase[0].upper()}{phrase[1:]} in {group} and in {other} differed by "
            f"{value:.3g} ({value * 100:.3g} percentage points)."
        )
    if a.metric == "count":
        return f"In {group}, {phrase} was {value:.3g}."
    return f"In {group}, {phrase} was {value:.3g} ({value * 100:.3g} in every 100)."


class ValueStatement(StrictModel):
    """A published number and how many people it was computed from (always at least k)."""

    metric: str
    title: str
    value: float
    people: int = Field(description="People the value was computed from; never below k.")


class GroupStatement(StrictModel):
    """A group of at least k people and its published metric values."""

    group: str
    people: int
    values: list[ValueStatement]


class AssertionStatement(StrictModel):
    """One requirement of a check, in words, with its outcome."""

    requirement: str
    outcome: PublicStatus
    outcome_words: str
    icon: str
    worst: ValueStatement | None = Field(
        default=None,
        description="The worst group's value, when it and its reference group both have at "
        "least k people.",
    )
    worst_words: str | None = Field(
        default=None,
        description="What the worst value means, in a sentence (e.g. 'For every 100 people "
        "who got a yes in group = A, there were 83 in group = B, out of the same number of "
        "people.'); null when the value is not published.",
    )


class CheckStatement(StrictModel):
    """The latest result of one rule, in plain language."""

    rule: str
    title: str
    kind: str
    status: PublicStatus
    status_words: str
    icon: str
    summary: str
    people: int | None = Field(
        default=None, description="People (or records) checked; null when fewer than k."
    )
    adverse_yes: bool = Field(
        default=False,
        # absent when false: statements of other rules stay as they were
        exclude_if=lambda value: not value,
        description="fairness: a yes (prediction 1) is a decision against the person, as the "
        "rule's favorable_prediction: 0 says (e.g. rated high risk), so more yeses are worse "
        "for a group; the statement says so under the check. Absent otherwise.",
    )
    assertions: list[AssertionStatement] = Field(default_factory=list)
    groups: list[GroupStatement] = Field(default_factory=list)
    suppressed_groups: int = Field(
        default=0,
        description="Groups not shown: they have fewer than k people, or showing them would "
        "let such a count be worked out from the statement's other numbers.",
    )
    suppressed_values: int = Field(
        default=0,
        description="Values not shown: fewer than k people underlie them, or they would let "
        "such a count be worked out from the statement's other numbers.",
    )
    violations: int | None = Field(
        default=None, description="Records that broke the rule; null when between 1 and k-1."
    )
    violation_share: float | None = None
    exception: str | None = Field(default=None, description="The approved exception, if waived.")


class DataUseStatement(StrictModel):
    """A kind of data a system uses and the basis it is used on, in words."""

    data: str
    basis: str
    basis_words: str
    purpose: str | None = None


class SystemStatement(StrictModel):
    """One automated system as customers meet it."""

    id: str
    name: str
    purpose: str
    encounter: str
    disclosure: str
    human_contact: str
    accountable: str
    data: list[DataUseStatement]
    checks: list[CheckStatement]


class Statement(StrictModel):
    """A public transparency statement (``statement.json``)."""

    schema_version: Literal[1] = 1
    organisation: str
    title: str
    headline: str = Field(
        default="",
        description="The latest check's result in one sentence, with its date in words.",
    )
    policy: dict[str, str]
    audit: dict[str, str]
    k: int = Field(description="No published value is computed from fewer than k people.")
    systems: list[SystemStatement]
    other_checks: list[CheckStatement] = Field(
        default_factory=list, description="Checks of the policy no system names."
    )
    not_checked: list[str] = Field(
        default_factory=list,
        description="What the policy leaves to people (its scope's left_to_people): duties "
        "these checks do not cover, so that met checks do not read as meeting all of them.",
    )


def metric_denominator(
    metric: str, group_metrics: Mapping[str, float | None], count: int
) -> int | None:
    """Return how many people a metric's value for a group was computed from, if knowable.

    ``count`` is the group size; conditional rates divide by a subset (e.g. people with true
    label 0) derived from the group's ``base_rate`` or ``selection_rate``. ``None``: unknown.
    """
    spec = METRICS.get(metric)
    if spec is None:
        return None
    if spec.scope == "all":  # a share of all the groups (ppr): not the group's own people
        return None
    cells = spec.denominator
    if cells is None or cells == ((None, None),):
        return count
    if len(cells) != 1:
        return None
    label, prediction = cells[0]
    if label is not None and prediction is None:
        rate = group_metrics.get("base_rate")
        if rate is None:
            return None
        positives = round(rate * count)
        return positives if label == 1 else count - positives
    if prediction is not None and label is None:
        rate = group_metrics.get("selection_rate")
        if rate is None:
            return None
        selected = round(rate * count)
        return selected if prediction == 1 else count - selected
    return None


def _small(count: int, k: int) -> bool:
    return 0 < count < k


def publishable(value: float, denominator: int | None, group_size: int, k: int) -> bool:
    """Return whether a rate may be published: no cell behind it has 1 to k-1 people.

    The cells are the people the rate counts (``value * denominator``), the rest of its
    denominator, and the group's people outside the denominator.
    """
    if denominator is None or denominator < k:
        return False
    counted = round(value * denominator)
    return not (
        _small(counted, k)
        or _small(denominator - counted, k)
        or _small(group_size - denominator, k)
    )


def _published_people(
    metric: str, metrics: Mapping[str, float | None], count: int, k: int
) -> int | None:
    """Return the people behind a group's metric value if it may be published, else None."""
    value = metrics.get(metric)
    if metric == "count":
        return count if count >= k else None
    people = metric_denominator(metric, metrics, count)
    if value is None or not publishable(value, people, count, k):
        return None
    return people


def _same(a: GroupKey | None, b: GroupKey | None) -> bool:
    return a is not None and b is not None and sorted(a.items()) == sorted(b.items())


#: A number of the statement that secondary suppression may withhold: ``("group", rule, i)``,
#: ``("value", rule, i, metric)``, ``("total", rule)`` or ``("worst", rule, assertion)``.
_Key = tuple[str | int, ...]


def _scope(
    rule: RuleResult, a: AssertionResult
) -> tuple[Sequence[GroupResult], Mapping[str, float | int | None], int] | None:
    """Return the groups, overall values and rows an assertion's worst value comes from.

    A windowed rule's assertion reports one window (``a.window``): its people are that
    window's, not the whole rule's.
    """
    if a.window is None:
        return rule.groups, rule.overall, rule.rows
    for window in rule.windows:
        if window.label == a.window:
            return window.groups, window.overall, window.rows
    return None


def _group_people(
    groups: Sequence[GroupResult], key: GroupKey | None, metric: str, k: int
) -> int | None:
    for group in groups:
        if _same(group.group, key):
            if group.count < k:
                return None
            return _published_people(metric, group.metrics, group.count, k)
    return None


def _worst_people(rule: RuleResult, a: AssertionResult, k: int) -> int | None:
    """Return the people behind an assertion's worst value if it may be published, else None.

    A ratio or difference needs its group and its reference (a group, or everyone) to pass.
    A windowed rule's worst value is never published: it comes from one window, whose counts
    the disclosure check (publish/disclosure.py) does not model, and the window's people
    beside the whole group's give the other windows' by subtraction (4 people, in review).
    """
    if a.window is not None:
        return None
    scope = _scope(rule, a)
    if a.observed is None or scope is None:
        return None
    groups, overall, rows = scope
    people = _group_people(groups, a.group, a.metric, k)
    if a.aggregate != "value":
        if a.reference_group is None:  # overall: everyone the rule (or window) read
            reference = _published_people(a.metric, overall, rows, k)
        else:
            reference = _group_people(groups, a.reference_group, a.metric, k)
        people = None if reference is None or people is None else min(people, reference)
    return people


def _assertion(
    rule: RuleResult, index: int, k: int, withheld: set[_Key], shown: set[str]
) -> AssertionStatement:
    a = rule.assertions[index]
    outcome, words, icon = PUBLIC_STATUS_WORDS[a.status]
    title, _ = _plain(a.metric)
    worst = worst_words = None
    people = _worst_people(rule, a, k)
    if a.observed is not None and people is not None and ("worst", rule.id, index) not in withheld:
        worst = ValueStatement(
            metric=f"{a.metric}.{a.aggregate}", title=title, value=a.observed, people=people
        )
        harmed_higher = (
            rule.favorable_prediction is not None
            and a.metric in METRICS
            and harmed_when(a.metric, rule.favorable_prediction) == "higher"
        )
        worst_words = _worst_words(a, a.observed, shown, harmed_higher=harmed_higher)
    return AssertionStatement(
        requirement=_requirement(a),
        outcome=outcome,
        outcome_words=words,
        icon=icon,
        worst=worst,
        worst_words=worst_words,
    )


def _groups(rule: RuleResult, k: int, withheld: set[_Key]) -> tuple[list[GroupStatement], int, int]:
    shown: list[GroupStatement] = []
    hidden_groups = hidden_values = 0
    for i, group in enumerate(rule.groups):
        if group.count < k or ("group", rule.id, i) in withheld:
            hidden_groups += 1
            continue
        values = []
        for metric, value in group.metrics.items():
            if metric == "count" or value is None:
                continue
            people = _published_people(metric, group.metrics, group.count, k)
            if people is None or ("value", rule.id, i, metric) in withheld:
                hidden_values += 1
                continue
            values.append(
                ValueStatement(metric=metric, title=_plain(metric)[0], value=value, people=people)
            )
        shown.append(
            GroupStatement(group=group_label(group.group), people=group.count, values=values)
        )
    return shown, hidden_groups, hidden_values


def _counts(
    metric: str, metrics: Mapping[str, float | int | None], size: int
) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Return a metric's (type mask, people) of what it counts and of its base, if known."""
    value = metrics.get(metric)
    spec = METRICS.get(metric)
    if value is None or spec is None or spec.denominator is None:
        return None
    base = metric_denominator(metric, metrics, size)
    if base is None:
        return None
    counted = round(value * base)
    return (type_mask(spec.numerator), counted), (type_mask(spec.denominator), base)


def _rate_disclosure(
    key: _Key, cells: tuple[int, ...], metric: str, group: GroupResult, people: int
) -> Disclosure:
    """Return what a published rate and its people reveal: the counts, and the zeros."""
    counts = _counts(metric, group.metrics, group.count)
    assert counts is not None  # a published rate has a known base
    (counted_mask, counted), (base_mask, base) = counts
    zeros = [
        CellSum(cells, mask)
        for mask, value in (
            (counted_mask, counted),
            (base_mask & ~counted_mask, base - counted),
            (ALL_TYPES & ~base_mask, group.count - base),
        )
        if mask and value == 0
    ]
    return Disclosure(
        key=key,
        sums=(CellSum(cells, counted_mask), CellSum(cells, base_mask)),
        zeros=tuple(zeros),
        people=people,
        needs=(("group", *key[1:3]),),  # shown in its group's row
    )


def _metric_sums(cells: tuple[int, ...], metric: str) -> tuple[CellSum, ...]:
    """Return the counts behind a metric of one group (or everyone): what it counts, its base."""
    spec = METRICS.get(metric)
    if spec is None or spec.denominator is None:
        return (CellSum(cells, ALL_TYPES),)
    return (CellSum(cells, type_mask(spec.numerator)), CellSum(cells, type_mask(spec.denominator)))


def _dataset_model(rules: Sequence[RuleResult], k: int) -> tuple[list[Disclosure], list[CellSum]]:
    """Return one dataset's numbers the per-value rule lets through, and its protected counts.

    Every count is a sum over the dataset's finest cells (:mod:`ethicsgate.publish.
    disclosure`); a protected count is one of 1 to k-1 people that a group's (or everyone's)
    own metrics give, over any set of confusion types they determine.
    """
    tables = [(rule, list(rule.groups)) for rule in rules]
    null = object()  # a missing value, distinct from every string

    def key_of(group: GroupKey, features: Sequence[str]) -> tuple[object, ...]:
        return tuple(null if group.get(f) is None else group.get(f) for f in features)

    features, cells = finest_cells(
        [
            (rule.sensitive_features, [key_of(g.group, rule.sensitive_features) for g in groups])
            for rule, groups in tables
        ]
    )
    everyone = tuple(range(len(cells)))
    published: list[Disclosure] = []
    # what each group's own numbers (or everyone's) give, per set of cells: type mask -> people;
    # rules that derive predictions from a score at different thresholds count apart
    known: dict[tuple[tuple[int, ...], object], dict[int, int]] = {}
    for rule, groups in tables:
        at = [features.index(f) for f in rule.sensitive_features]
        cells_of: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for i, cell in enumerate(cells):
            cells_of[tuple(cell[j] for j in at)].append(i)
        prediction = rule.score.threshold if rule.score is not None else None
        members = [tuple(cells_of[key_of(g.group, rule.sensitive_features)]) for g in groups]
        for mine, metrics, size in [
            *((m, g.metrics, g.count) for m, g in zip(members, groups, strict=True)),
            (everyone, rule.overall, rule.rows),
        ]:
            own = known.setdefault((mine, prediction), {ALL_TYPES: size})
            for metric in metrics:
                for mask, count in _counts(metric, metrics, size) or ():
                    own.setdefault(mask, count)
        hidden = any(g.count < k for g in groups)
        checked = rule.records_checked if rule.records_checked is not None else rule.rows
        if checked >= k and not hidden:
            published.append(
                Disclosure(
                    ("total", rule.id),
                    (CellSum(everyone, ALL_TYPES),),
                    people=checked,
                    # with a group left out, the total would give its size away
                    needs=tuple(("group", rule.id, i) for i in range(len(groups))),
                )
            )
        for i, (group, mine) in enumerate(zip(groups, members, strict=True)):
            if group.count < k:
                continue
            for metric in group.metrics:
                people = _published_people(metric, group.metrics, group.count, k)
                if metric == "count" or people is None:
                    continue
                published.append(
                    _rate_disclosure(("value", rule.id, i, metric), mine, metric, group, people)
                )
            published.append(
                Disclosure(
                    ("group", rule.id, i),
                    (CellSum(mine, ALL_TYPES),),
                    people=group.count,
                    tier=1,
                )
            )
        for j, a in enumerate(rule.assertions):
            people = _worst_people(rule, a, k)
            if people is None:
                continue
            # a ratio or difference with one side known gives the other: count it as showing
            # both sides' counts (a windowed rule's worst value is never published)
            sides = [a.group] if a.aggregate == "value" else [a.group, a.reference_group]
            shown: list[CellSum] = []
            for side in sides:
                if side is None:
                    mine = everyone
                else:
                    found = [
                        m for g, m in zip(groups, members, strict=True) if _same(g.group, side)
                    ]
                    mine = found[0] if found else everyone
                shown += _metric_sums(mine, a.metric)
            published.append(Disclosure(("worst", rule.id, j), tuple(shown), people=people))
    protected = list(
        dict.fromkeys(
            CellSum(mine, mask)
            for (mine, _), sums in known.items()
            for mask, value in spanned_sums(sums).items()
            if 0 < value < k
        )
    )
    return published, protected


def _dataset_withheld(rules: Sequence[RuleResult], k: int) -> list[_Key]:
    """Return what to withhold, beyond the counts under k, from one dataset's tables."""
    published, protected = _dataset_model(rules, k)
    if not protected:
        return []
    return [key for key in withhold_determined(published, protected) if isinstance(key, tuple)]


def _withheld(rules: Sequence[RuleResult], k: int) -> set[_Key]:
    """Return every number secondary suppression withholds, over all the datasets."""
    by_dataset: dict[str, list[RuleResult]] = defaultdict(list)
    for rule in rules:
        if rule.groups:
            by_dataset[rule.dataset].append(rule)
    return {key for grouped in by_dataset.values() for key in _dataset_withheld(grouped, k)}


def _group_findings(rule: RuleResult) -> list[str]:
    """Return what failed a group-comparing rule: a requirement, a drop over time, or both.

    A drop (the rule's ``drift`` policy) is said with the two periods it is between, never
    its figures: they come from single windows or runs, which the disclosure check does not
    model.
    """
    said = []
    if any(a.status == "fail" for a in rule.assertions) or not rule.drift:
        said.append("At least one group falls short of the requirement (see the table).")
    if rule.drift:
        first = rule.drift[0]
        if first.after == "this run":
            when = "since our previous check"
        else:
            when = f"from {first.before} to {first.after}"
        what = (
            "chance of a yes" if first.metric in ("impact_ratio", "selection_rate") else "results"
        )
        said.append(
            f"At least one group's {what}, compared with the group it is compared with, fell "
            f"{when}: by more than we allow, and by more than chance would explain."
        )
    return said


def _plain_summary(
    rule: RuleResult, status: PublicStatus, violations: int | None, checked: int | None
) -> str:
    """Return what the check found, in words, without repeating its title or status."""
    records = rule.violations is not None
    if status == "not_evaluated":
        return "We could not reach a result, so it does not count as met."
    if status == "skipped":
        if rule.skipped_reason == "nothing_compared":
            return (
                "This requirement is about how results change over time, and there was no "
                "earlier result to compare with yet."
            )
        return "There was nothing to check this time: no record it applies to."
    if status == "met":
        if records:
            return (
                f"No problems in the {checked:,} cases we looked at."
                if checked
                else "No problems found."
            )
        return "Every group we compared meets the requirement."
    if records:
        found = (
            f"{violations:,} of the {checked:,} cases we looked at "
            f"({violations / checked * 100:.2f} %) did not meet this requirement."
            if violations is not None and checked
            else "Some cases did not meet this requirement (too few to say how many without "
            "risking someone's privacy)."
        )
    else:
        found = " ".join(_group_findings(rule))
    if status == "waived":
        return found + " An approved exception applies."
    return found


def _headline(checks: list[CheckStatement], checked_on: str) -> str:
    """Return the latest result in one sentence: how many requirements were met, and when."""
    total = len(checks)
    counts: dict[str, int] = {}
    for check in checks:
        counts[check.status] = counts.get(check.status, 0) + 1
    met = counts.get("met", 0)
    when = f"Our latest check, on {checked_on},"
    if total == 0:
        return f"{when} had no requirement to check."
    if total == 1:
        return {
            "met": f"{when} found our one requirement met.",
            "not_met": f"{when} found our one requirement not met.",
            "not_met_warning": f"{when} found our one requirement not met (a warning).",
            "waived": f"{when} found our one requirement not met, with an approved exception.",
            "not_evaluated": f"{when} could not check our one requirement.",
            "skipped": f"{when} had nothing to check for our one requirement.",
        }[checks[0].status]
    if met == total:
        return f"{when} found all {total} requirements met."
    others = [
        f"{counts[status]} {words}"
        for status, words in (
            ("not_met", "not met"),
            ("not_met_warning", "not met (warnings only)"),
            ("waived", "not met, with an approved exception"),
            ("not_evaluated", "could not be checked"),
            ("skipped", "had nothing to check"),
        )
        if counts.get(status)
    ]
    first = f"none of the {total} requirements met" if met == 0 else f"{met} of {total} met"
    return f"{when} found {first}: {', '.join(others)}."


def human_date(timestamp: str) -> str:
    """Return an ISO 8601 timestamp's date in words, e.g. ``4 December 2026`` (as written)."""
    from datetime import datetime

    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    return f"{when.day} {when:%B %Y}"


def _check(rule: RuleResult, k: int, withheld: set[_Key]) -> CheckStatement:
    status, words, icon = PUBLIC_STATUS_WORDS[rule.status.value]
    groups: list[GroupStatement] = []
    hidden_groups = hidden_values = 0
    if rule.groups:
        groups, hidden_groups, hidden_values = _groups(rule, k, withheld)
    checked = rule.records_checked if rule.records_checked is not None else rule.rows
    violations = violation_share = None
    if rule.violations is not None and publishable(
        rule.violations / checked if checked else 0.0, checked, checked, k
    ):
        violations = rule.violations
        violation_share = rule.violation_rate
    exception = None
    active = [w for w in rule.waivers if not w.expired]
    if rule.status.value == "waived" and active:
        w = active[0]
        exception = f"{w.reason} (approved by {w.approver}, valid until {w.expires})"
    return CheckStatement(
        rule=rule.id,
        title=rule.title or rule.id,
        kind=rule.kind,
        status=status,
        status_words=words,
        icon=icon,
        summary=_plain_summary(rule, status, violations, checked if checked >= k else None),
        adverse_yes=rule.favorable_prediction == 0,
        # with a group left out, the total would give its size away by subtraction
        people=checked
        if checked >= k and not hidden_groups and ("total", rule.id) not in withheld
        else None,
        assertions=[
            _assertion(rule, i, k, withheld, {g.group for g in groups})
            for i in range(len(rule.assertions))
        ],
        groups=groups,
        suppressed_groups=hidden_groups,
        suppressed_values=hidden_values,
        violations=violations,
        violation_share=violation_share,
        exception=exception,
    )


def build_statement(pack: PolicyPack, result: AuditResult, *, k: int = DEFAULT_K) -> Statement:
    """Return the public statement of ``pack``'s systems with ``result``'s latest outcomes."""
    if k < 1:
        raise ValueError("k must be at least 1")
    withheld = _withheld(result.rules, k)
    checks = {rule.id: _check(rule, k, withheld) for rule in result.rules}
    cited = {rule_id for system in pack.systems for rule_id in system.rules}
    systems = [
        SystemStatement(
            id=s.id,
            name=s.name,
            purpose=s.purpose,
            encounter=s.encounter,
            disclosure=s.disclosure,
            human_contact=s.human_contact,
            accountable=s.accountable,
            data=[
                DataUseStatement(
                    data=d.data, basis=d.basis, basis_words=_BASIS_WORDS[d.basis], purpose=d.purpose
                )
                for d in s.data
            ],
            checks=[checks[r] for r in s.rules if r in checks],
        )
        for s in pack.systems
    ]
    checked_on = human_date(result.audit.finished_at)
    return Statement(
        organisation=pack.owner,
        title="How we use automated systems",
        headline=_headline(list(checks.values()), checked_on),
        policy={"id": pack.id, "version": pack.version, "title": pack.title},
        audit={
            "id": result.audit.id,
            "status": result.status,
            "checked_at": result.audit.finished_at,
            "checked_on": checked_on,
        },
        k=k,
        systems=systems,
        other_checks=[c for rule_id, c in checks.items() if rule_id not in cited],
        not_checked=[" ".join(item.split()) for item in pack.scope.left_to_people]
        if pack.scope is not None
        else [],
    )
