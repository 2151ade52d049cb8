"""The registry of rule kinds: the built-in ones register here exactly as a third party's would.

``register(kind)`` adds a kind and its policy model (the policy language's ``Rule`` union
grows by it); :func:`kind_of` finds the kind of a rule. The built-in kinds are registered when
this module is first imported, each as a :class:`DeferredKind`: its name and policy model are
known at once, its module is imported when a rule of the kind is first scanned, evaluated,
explained or checked. An audit of consent logs does not import the fairness kind and the
pandas, numpy and statistics it needs (about half a second).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from typing import Any

from ethicsgate.evidence.contracts import BuiltinCheck, ContractResult
from ethicsgate.evidence.engine import Dataset
from ethicsgate.evidence.model import ProgressCallback
from ethicsgate.evidence.roles import Role
from ethicsgate.policy.models import (
    ConsentCheck,
    DataQualityRule,
    FairnessRule,
    OversightCheck,
    PolicyPack,
    ProxyFeaturesRule,
    TransparencyCheck,
    add_rule_model,
    remove_rule_model,
)
from ethicsgate.rules.kind import AuditInputs, RuleKind
from ethicsgate.rules.results import RuleResult

__all__ = [
    "BUILTIN",
    "KINDS",
    "DeferredKind",
    "builtin_checks",
    "kind_of",
    "register",
    "unregister",
]

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


class DeferredKind:
    """A rule kind whose module is imported on first use; its name and model are known at once.

    ``target`` is ``"package.module:Class"``, a :class:`~ethicsgate.rules.kind.RuleKind` class
    taking no arguments, whose ``name``, ``model`` and ``contract`` must equal the ones given
    here (checked when it is loaded).
    """

    def __init__(self, name: str, model: Any, target: str, *, contract: bool = False) -> None:
        """Keep what the policy language needs now and where the kind's code lives."""
        self.name = name
        self.model = model
        self.contract = contract
        self.target = target
        self._kind: RuleKind | None = None
        self._lock = threading.Lock()

    def load(self) -> RuleKind:
        """Return the kind itself, importing its module the first time.

        Raises:
            TypeError: the class loaded differs from this declaration in name, model or contract.
        """
        if self._kind is None:
            with self._lock:
                if self._kind is None:
                    module, _, attr = self.target.partition(":")
                    kind: RuleKind = getattr(importlib.import_module(module), attr)()
                    if (kind.name, kind.model, kind.contract) != (
                        self.name,
                        self.model,
                        self.contract,
                    ):
                        raise TypeError(f"{self.target} is not the rule kind {self.name!r}")
                    self._kind = kind
        return self._kind

    def run_contract(self, rule: Any, dataset: Dataset, rules: Sequence[Any]) -> ContractResult:
        """Run a contract rule on its dataset (the loaded kind's)."""
        return self.load().run_contract(rule, dataset, rules)

    def roles(self, rule: Any) -> dict[str, list[Role]]:
        """Return, per dataset, the typed roles the rule reads (the loaded kind's)."""
        return self.load().roles(rule)

    def scan(
        self, dataset: Dataset, rules: Sequence[Any], *, progress: ProgressCallback | None
    ) -> Any:
        """Return one aggregated scan of ``dataset`` for ``rules`` (the loaded kind's)."""
        return self.load().scan(dataset, rules, progress=progress)

    def evaluate(self, rule: Any, inputs: AuditInputs) -> RuleResult:
        """Evaluate one rule (the loaded kind's)."""
        return self.load().evaluate(rule, inputs)

    def explain(self, rule: Any, pack: PolicyPack | None) -> str:
        """Return what the rule checks, in plain words (the loaded kind's)."""
        return self.load().explain(rule, pack)

    def builtin_checks(self, rule: Any) -> list[tuple[str, BuiltinCheck]]:
        """Return the (dataset, check) pairs the rule's evidence must pass (the loaded kind's)."""
        return self.load().builtin_checks(rule)


#: The built-in kinds, in the order of the policy schema's union.
BUILTIN: tuple[DeferredKind, ...] = (
    DeferredKind("fairness", FairnessRule, "ethicsgate.rules.fairness:FairnessKind"),
    DeferredKind(
        "transparency", TransparencyCheck, "ethicsgate.rules.transparency:TransparencyKind"
    ),
    DeferredKind("consent", ConsentCheck, "ethicsgate.rules.consent:ConsentKind"),
    DeferredKind("oversight", OversightCheck, "ethicsgate.rules.oversight:OversightKind"),
    DeferredKind(
        "data_quality",
        DataQualityRule,
        "ethicsgate.rules.data_quality:DataQualityKind",
        contract=True,
    ),
    DeferredKind("proxy", ProxyFeaturesRule, "ethicsgate.rules.proxy:ProxyKind"),
)


def _register_builtin() -> None:
    for kind in BUILTIN:
        register(kind)


_register_builtin()
