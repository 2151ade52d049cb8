"""Waivers and system descriptions of a pack: checks that they name real rules, and matching."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ethicsgate.errors import PolicyError, did_you_mean
from ethicsgate.policy.models import PolicyPack, Waiver
from ethicsgate.policy.yamlsource import YamlDocument

__all__ = ["check_systems", "check_waivers", "waiver_covers", "waiver_expired"]


def waiver_expired(waiver: Waiver, today: date) -> bool:
    """Return whether ``waiver`` no longer applies on ``today`` (its last day is ``expires``)."""
    return today > waiver.expires


def waiver_covers(
    waiver: Waiver,
    *,
    rule_id: str,
    metric: str | None = None,
    group: Mapping[str, str | None] | None = None,
) -> bool:
    """Return whether ``waiver``'s scope covers a failure of ``rule_id`` (at metric, group).

    A scoped waiver (``metric`` or ``group``) covers only failures that name that metric or
    group; a failure with no metric or group (a rule that could not be evaluated, a record-level
    rule) is covered only by an unscoped waiver.
    """
    if waiver.rule != rule_id:
        return False
    if waiver.metric is not None and waiver.metric != metric:
        return False
    if waiver.group is not None:
        if group is None:
            return False
        return all(group.get(k) == v for k, v in waiver.group.items())
    return True


def check_waivers(doc: YamlDocument, pack: PolicyPack) -> None:
    """Check that every waiver names a rule of the pack and a scope that rule can fail on.

    Expired waivers are valid (they simply stop waiving); reports say they expired.

    Raises:
        PolicyError: a waiver names an unknown rule, a metric the rule does not assert, or a
            group on features the rule does not use; located at the waiver's field.
    """
    rules = {rule.id: rule for rule in pack.rules}
    for index, waiver in enumerate(pack.waivers):
        rule = rules.get(waiver.rule)
        if rule is None:
            suggestion = did_you_mean(waiver.rule, rules)
            raise PolicyError(
                f"waiver {index + 1} names unknown rule {waiver.rule!r}{suggestion}",
                location=doc.locate(("waivers", index, "rule")),
                hint=f"rules of this pack: {', '.join(rules)}",
            )
        if waiver.metric is not None:
            asserted = [a.metric for a in rule.rule_assertions]
            if waiver.metric not in asserted:
                raise PolicyError(
                    f"waiver {index + 1}: rule {rule.id!r} asserts no metric {waiver.metric!r}, "
                    "so the waiver could never apply",
                    location=doc.locate(("waivers", index, "metric")),
                    hint=f"asserted metrics: {', '.join(asserted) or 'none'}; or drop 'metric'",
                )
        if waiver.group is not None:
            features = list(rule.group_features)
            unknown = sorted(set(waiver.group) - set(features))
            if unknown:
                raise PolicyError(
                    f"waiver {index + 1}: rule {rule.id!r} does not group by {unknown}, so the "
                    "waiver could never apply",
                    location=doc.locate(("waivers", index, "group")),
                    hint=f"the rule's sensitive_features: {', '.join(features) or 'none'}",
                )


def check_systems(doc: YamlDocument, pack: PolicyPack) -> None:
    """Check that system ids are unique and every rule a system cites exists.

    Raises:
        PolicyError: a repeated system id or an unknown rule id, located at the field.
    """
    rules = {rule.id for rule in pack.rules}
    seen: set[str] = set()
    for index, system in enumerate(pack.systems):
        if system.id in seen:
            raise PolicyError(
                f"system id {system.id!r} is used twice",
                location=doc.locate(("systems", index, "id")),
                hint="give every system a unique id",
            )
        seen.add(system.id)
        for r_index, rule_id in enumerate(system.rules):
            if rule_id not in rules:
                raise PolicyError(
                    f"system {system.id!r} cites unknown rule {rule_id!r}",
                    location=doc.locate(("systems", index, "rules", r_index)),
                    hint=f"rules of this pack: {', '.join(sorted(rules))}",
                )
