"""The rule-kind interface: everything the audit, the explainer and the reports need of a kind.

A kind (fairness, transparency, consent, oversight, data_quality, or a third party's) is one
object implementing :class:`RuleKind`, registered with :func:`ethicsgate.rules.registry.register`.
The audit never branches on a rule's model: it asks the rule's kind which evidence it reads
(aggregated scans of a dataset, or typed rows), and to evaluate, explain and guard the rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ethicsgate.evidence.contracts import BuiltinCheck, ContractResult
from ethicsgate.evidence.engine import Dataset, Rows
from ethicsgate.evidence.model import ProgressCallback
from ethicsgate.evidence.roles import Role
from ethicsgate.policy.models import PolicyPack
from ethicsgate.rules.results import RuleResult

__all__ = ["AuditInputs", "KindBase", "RuleKind", "role_checks"]


@dataclass(frozen=True)
class AuditInputs:
    """What an audit hands a kind to evaluate one rule: nothing of an engine but its outputs.

    ``scans``: per (kind, dataset), what the kind's :meth:`RuleKind.scan` returned;
    ``rows``: per dataset, the typed rows every record-level rule of the audit reads;
    ``contracts``: per data_quality rule id, its contract's result; ``cross_check``: recompute
    up to that many groups of each grouped rule with the reference implementation (fairlearn),
    as ``ethicsgate audit --cross-check`` asks.
    """

    datasets: Mapping[str, Dataset]
    scans: Mapping[tuple[str, str], Any] = field(default_factory=dict)
    rows: Mapping[str, Rows] = field(default_factory=dict)
    contracts: Mapping[str, ContractResult] = field(default_factory=dict)
    cross_check: int | None = None


class RuleKind(Protocol):
    """One kind of rule: its policy model, the evidence it reads, and how it is judged."""

    @property
    def name(self) -> str:
        """Return the ``kind:`` value of its rules in a policy, e.g. ``fairness``."""
        ...

    @property
    def model(self) -> Any:
        """Return its pydantic model.

        A RuleBase subclass with ``kind: Literal[name]``, or a discriminated union of such (by
        ``check``).
        """
        ...

    @property
    def contract(self) -> bool:
        """Return True for data contracts: run first, guarding the other rules' evidence."""
        ...

    def run_contract(self, rule: Any, dataset: Dataset, rules: Sequence[Any]) -> ContractResult:
        """Run a contract rule on its dataset (only for kinds whose ``contract`` is true)."""
        ...

    def roles(self, rule: Any) -> dict[str, list[Role]]:
        """Return, per dataset, the typed roles the rule reads as rows (``{}``: none)."""
        ...

    def scan(
        self, dataset: Dataset, rules: Sequence[Any], *, progress: ProgressCallback | None
    ) -> Any:
        """Return one aggregated scan of ``dataset`` serving all of ``rules`` (None: no scan)."""
        ...

    def evaluate(self, rule: Any, inputs: AuditInputs) -> RuleResult:
        """Evaluate one rule; findings are data, user-fixable problems EthicsgateErrors."""
        ...

    def explain(self, rule: Any, pack: PolicyPack | None) -> str:
        """Return one paragraph saying what the rule checks, in plain words."""
        ...

    def builtin_checks(self, rule: Any) -> list[tuple[str, BuiltinCheck]]:
        """Return the (dataset, check) pairs the rule's evidence must pass to be evaluated."""
        ...


class KindBase:
    """Defaults for a kind: reads no rows, needs no scan, no built-in checks, not a contract."""

    name: ClassVar[str]
    model: ClassVar[Any]
    contract: ClassVar[bool] = False

    def run_contract(self, rule: Any, dataset: Dataset, rules: Sequence[Any]) -> ContractResult:
        """Raise TypeError: only contract kinds run contracts."""
        raise TypeError(f"rule kind {self.name!r} is not a data contract")

    def roles(self, rule: Any) -> dict[str, list[Role]]:
        """Return no roles: the kind reads no typed rows."""
        return {}

    def scan(
        self, dataset: Dataset, rules: Sequence[Any], *, progress: ProgressCallback | None
    ) -> Any:
        """Return None: the kind needs no aggregated scan."""
        return None

    def explain(self, rule: Any, pack: PolicyPack | None) -> str:
        """Return a generic sentence naming the evidence the rule checks."""
        return f"Checks the evidence '{rule.dataset}'."

    def builtin_checks(self, rule: Any) -> list[tuple[str, BuiltinCheck]]:
        """Return each role the rule reads as a built-in check (see :func:`role_checks`)."""
        return role_checks(self.roles(rule))


def role_checks(read: Mapping[str, Sequence[Role]]) -> list[tuple[str, BuiltinCheck]]:
    """Return the built-in checks of typed roles: each exists, and is readable as its kind."""
    kinds: dict[str, Any] = {
        "timestamp": "timestamp",
        "flag": "flag",
        "flag_or_false": "flag",
        "number": "number",
        "actor": "actor",
        "required_text": "present",
    }
    out: list[tuple[str, BuiltinCheck]] = []
    for dataset, roles in read.items():
        out += [(dataset, BuiltinCheck("exists", n)) for n in dict.fromkeys(r.name for r in roles)]
        for role in dict.fromkeys(roles):
            kind = kinds.get(role.kind)
            if kind is not None:
                out.append((dataset, BuiltinCheck(kind, role.name, read_as=role.kind)))
    return out
