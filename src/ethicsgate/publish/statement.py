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
number of people checked is left out too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field

from ethicsgate.audit.result import AuditResult
from ethicsgate.base import StrictModel
from ethicsgate.metrics import METRICS
from ethicsgate.policy.models import PolicyPack
from ethicsgate.rules.results import AssertionResult, GroupKey, RuleResult
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
_AGGREGATE_WORDS = {
    "ratio": "compared with the reference group (ratio)",
    "difference": "gap to the reference group (difference)",
    "value": "value",
}


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
    assertions: list[AssertionStatement] = Field(default_factory=list)
    groups: list[GroupStatement] = Field(default_factory=list)
    suppressed_groups: int = Field(
        default=0, description="Groups not shown because they have fewer than k people."
    )
    suppressed_values: int = Field(
        default=0, description="Values not shown because fewer than k people underlie them."
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


def _reference_people(rule: RuleResult, assertion: AssertionResult, k: int) -> int | None:
    if assertion.reference_group is None:  # overall: everyone the rule read
        return _published_people(assertion.metric, rule.overall, rule.rows, k)
    return _group_people(rule, assertion.reference_group, assertion.metric, k)


def _group_people(rule: RuleResult, key: GroupKey | None, metric: str, k: int) -> int | None:
    for group in rule.groups:
        if _same(group.group, key):
            if group.count < k:
                return None
            return _published_people(metric, group.metrics, group.count, k)
    return None


def _assertion(rule: RuleResult, a: AssertionResult, k: int) -> AssertionStatement:
    outcome, words, icon = PUBLIC_STATUS_WORDS[a.status]
    title = METRICS[a.metric].title if a.metric in METRICS else a.metric
    threshold = f"{a.threshold:.4g}"
    requirement = (
        f"{title}, {_AGGREGATE_WORDS[a.aggregate]}: {OP_WORDS.get(a.op, a.op)} {threshold} "
        "for every group"
    )
    worst = None
    people = _group_people(rule, a.group, a.metric, k)
    if a.aggregate != "value":
        reference = _reference_people(rule, a, k)
        people = None if reference is None or people is None else min(people, reference)
    if a.observed is not None and people is not None:
        worst = ValueStatement(
            metric=f"{a.metric}.{a.aggregate}", title=title, value=a.observed, people=people
        )
    return AssertionStatement(
        requirement=requirement, outcome=outcome, outcome_words=words, icon=icon, worst=worst
    )


def _groups(rule: RuleResult, k: int) -> tuple[list[GroupStatement], int, int]:
    shown: list[GroupStatement] = []
    hidden_groups = hidden_values = 0
    for group in rule.groups:
        if group.count < k:
            hidden_groups += 1
            continue
        values = []
        for metric, value in group.metrics.items():
            if metric == "count" or value is None:
                continue
            people = _published_people(metric, group.metrics, group.count, k)
            if people is None:
                hidden_values += 1
                continue
            values.append(
                ValueStatement(
                    metric=metric, title=METRICS[metric].title, value=value, people=people
                )
            )
        shown.append(
            GroupStatement(group=group_label(group.group), people=group.count, values=values)
        )
    return shown, hidden_groups, hidden_values


def _plain_summary(
    rule: RuleResult, status: PublicStatus, violations: int | None, checked: int | None
) -> str:
    """Return what the check found, in words, without repeating its title or status."""
    records = rule.violations is not None
    if status == "not_evaluated":
        return "We could not reach a result, so it does not count as met."
    if status == "skipped":
        return "There was nothing to check this time: no record it applies to."
    if status == "met":
        if records:
            return (
                f"No problems in the {checked:,} records we looked at."
                if checked
                else "No problems found."
            )
        return "Every group we compared meets the requirement."
    if records:
        found = (
            f"{violations:,} of {checked:,} records ({violations / checked * 100:.2f} %) broke "
            "this rule."
            if violations is not None and checked
            else "Some records broke this rule (too few to publish how many)."
        )
    else:
        found = "At least one group falls short of the requirement (see the table)."
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
            ("not_met_warning", "not met (warnings)"),
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


def _check(rule: RuleResult, k: int) -> CheckStatement:
    status, words, icon = PUBLIC_STATUS_WORDS[rule.status.value]
    groups: list[GroupStatement] = []
    hidden_groups = hidden_values = 0
    if rule.groups:
        groups, hidden_groups, hidden_values = _groups(rule, k)
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
        # with a group left out, the total would give its size away by subtraction
        people=checked if checked >= k and not hidden_groups else None,
        assertions=[_assertion(rule, a, k) for a in rule.assertions],
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
    checks = {rule.id: _check(rule, k) for rule in result.rules}
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
    )
