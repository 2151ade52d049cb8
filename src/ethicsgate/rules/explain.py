"""Describe a policy pack in plain language: what each rule checks, on what, and why.

Each rule's paragraph comes from its kind (:meth:`RuleKind.explain`).
"""

from __future__ import annotations

from typing import Any

from ethicsgate.policy.models import PolicyPack, Rule
from ethicsgate.rules.registry import kind_of

__all__ = ["explain_policy", "explain_rule"]

_SEVERITY = {
    "block": "Blocking: if it fails, the audit fails.",
    "warn": "Warning: a failure is reported but does not fail the audit.",
    "info": "Information only: reported, never fails the audit.",
}


def explain_policy(pack: PolicyPack) -> dict[str, Any]:
    """Return a plain-language description of a pack and each of its rules."""
    references = {ref.id: ref for ref in pack.references}
    rules = []
    for rule in pack.rules:
        cites = [
            {"id": r, "title": references[r].title, "url": references[r].url}
            for r in rule.references
            if r in references
        ]
        rules.append(
            {
                "id": rule.id,
                "kind": rule.kind,
                "title": rule.title or rule.id,
                "checks": explain_rule(rule, pack),
                "severity": _SEVERITY[rule.severity.value],
                "references": cites,
            }
        )
    return {
        "id": pack.id,
        "version": pack.version,
        "title": pack.title,
        "owner": pack.owner,
        "description": " ".join((pack.description or "").split()),
        "scope": _scope(pack),
        "rules": rules,
    }


def _scope(pack: PolicyPack) -> dict[str, Any] | None:
    """Return where and from when a pack's law applies, and what it leaves to people."""
    if pack.scope is None:
        return None
    scope = pack.scope
    return {
        "jurisdiction": scope.jurisdiction,
        "applies_to": scope.applies_to,
        "in_force": [
            {"date": d.date.isoformat(), "what": " ".join(d.what.split())}
            for d in sorted(scope.in_force, key=lambda d: d.date)
        ],
        "left_to_people": [" ".join(item.split()) for item in scope.left_to_people],
    }


def explain_rule(rule: Rule, pack: PolicyPack | None = None) -> str:
    """Return one paragraph saying what a rule checks, in plain words."""
    return kind_of(rule).explain(rule, pack)
