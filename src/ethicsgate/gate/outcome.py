"""A release gate's outcome: the audit, the regressions against a baseline, and locations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from ethicsgate.audit.result import AuditResult
from ethicsgate.audit.spec import LoadedAudit
from ethicsgate.gate.baseline import Regression, assertion_name, compare_to_baseline

__all__ = ["GateResult", "SourcePosition", "evaluate_gate"]

#: A 1-based line and column in the policy file.
SourcePosition = tuple[int, int]


@dataclass(frozen=True)
class GateResult:
    """Everything a gate's outputs (exit code, JUnit, SARIF, summary) are computed from."""

    result: AuditResult
    regressions: list[Regression]
    baseline: str | None
    policy_uri: str
    rule_positions: dict[str, SourcePosition] = field(default_factory=dict)
    assertion_names: dict[str, list[str]] = field(default_factory=dict)
    assertion_positions: dict[tuple[str, str], SourcePosition] = field(default_factory=dict)

    @property
    def blocking_regressions(self) -> list[Regression]:
        """Return the regressions that block the release."""
        return [r for r in self.regressions if r.blocking]

    @property
    def status(self) -> Literal["pass", "fail", "error"]:
        """Return fail when the audit failed or a blocking regression exists, else its status."""
        if self.result.status == "fail" or self.blocking_regressions:
            return "fail"
        return self.result.status

    @property
    def passed(self) -> bool:
        """Return whether the release may go ahead."""
        return self.status == "pass"

    def to_json(self, *, report: Path | str) -> str:
        """Return the gate's outcome as the JSON ``ethicsgate gate --format json`` prints.

        Args:
            report: Where the audit's ``report.json`` was written.
        """
        return json.dumps(
            {
                "status": self.status,
                "audit_status": self.result.status,
                "rules": {r.id: r.status.value for r in self.result.rules},
                "regressions": [r.model_dump(mode="json") for r in self.regressions],
                "report": str(report),
            },
            indent=2,
        )


def _position(audit: LoadedAudit, loc: tuple[str | int, ...]) -> SourcePosition:
    where = audit.policy.document.locate(loc)
    return (where.line or 1, where.column or 1)


def evaluate_gate(
    audit: LoadedAudit,
    result: AuditResult,
    *,
    baseline: AuditResult | None = None,
    baseline_name: str | None = None,
    default_budget: float = 0.0,
    today: date | None = None,
) -> GateResult:
    """Compare ``result`` with ``baseline`` (if any) and locate every rule and assertion."""
    pack = audit.policy.pack
    regressions = (
        compare_to_baseline(result, baseline, pack=pack, default_budget=default_budget, today=today)
        if baseline is not None
        else []
    )
    rule_positions: dict[str, SourcePosition] = {}
    names: dict[str, list[str]] = {}
    assertion_positions: dict[tuple[str, str], SourcePosition] = {}
    for index, rule in enumerate(pack.rules):
        rule_positions[rule.id] = _position(audit, ("rules", index))
        if rule.has_assertions:
            names[rule.id] = [assertion_name(rule, i) for i in range(len(rule.rule_assertions))]
            for i, name in enumerate(names[rule.id]):
                assertion_positions[(rule.id, name)] = _position(
                    audit, ("rules", index, "assert", i)
                )
    return GateResult(
        result=result,
        regressions=regressions,
        baseline=baseline_name,
        policy_uri=result.audit.policy.path,
        rule_positions=rule_positions,
        assertion_names=names,
        assertion_positions=assertion_positions,
    )
