"""The registry of rule kinds: the built-in ones register here exactly as a third party's would.

``register(kind)`` adds a kind and its policy model (the policy language's ``Rule`` union
grows by it); :func:`kind_of` finds the kind of a rule. The built-in kinds are registered when
this module is first imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ethicsgate.evidence.contracts import BuiltinCheck
from ethicsgate.policy.models import add_rule_model, remove_rule_model
from ethicsgate.rules.kind import RuleKind

__all__ = ["KINDS", "builtin_checks", "kind_of", "register", "unregister"]

#: Kind name -> kind, in registration order (the order of the policy schema's union).
KINDS: dict[str, RuleKind] = {}


def register(kind: RuleKind) -> RuleKind:
    """Register a rule kind; its model joins the policy language. Returns the kind.

    Raises:
        ValueError: another kind of that name is registered already.
    """
    if kind.name in KINDS and KINDS[kind.name] is not kind:
        raise ValueError(f"a rule kind named {kind.name!r} is registered already")
    KINDS[kind.name] = kind
    add_rule_model(kind.name, kind.model)
    return kind


def unregister(name: str) -> None:
    """Remove a registered kind and its model from the policy language (tests, plug-ins)."""
    if KINDS.pop(name, None) is not None:
        remove_rule_model(name)


def kind_of(rule: Any) -> RuleKind:
    """Return the kind of a rule (by its ``kind`` field).

    Raises:
        KeyError: no kind of that name is registered (a policy model the registry lacks).
    """
    return KINDS[rule.kind]


def builtin_checks(rules: Sequence[Any]) -> dict[str, list[BuiltinCheck]]:
    """Return, per dataset, the built-in expectations the rules depend on (shared ones merged).

    Every role a rule reads must exist; beyond that each role is checked as the rule reads it.
    """
    found: dict[str, dict[tuple[Any, ...], BuiltinCheck]] = {}
    for rule in rules:
        for dataset, check in kind_of(rule).builtin_checks(rule):
            merged = found.setdefault(dataset, {}).setdefault(check.key, check)
            if rule.id not in merged.guards:
                merged.guards.append(rule.id)
    return {dataset: list(checks.values()) for dataset, checks in found.items()}


def _register_builtin() -> None:
    from ethicsgate.rules.consent import ConsentKind
    from ethicsgate.rules.data_quality import DataQualityKind
    from ethicsgate.rules.fairness import FairnessKind
    from ethicsgate.rules.oversight import OversightKind
    from ethicsgate.rules.transparency import TransparencyKind

    for kind in (
        FairnessKind(),
        TransparencyKind(),
        ConsentKind(),
        OversightKind(),
        DataQualityKind(),
    ):
        register(kind)


_register_builtin()
