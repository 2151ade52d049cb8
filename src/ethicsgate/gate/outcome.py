"""A release gate's outcome: the audit, the regressions against a baseline, and locations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from ethicsgate.audit.result import AuditResult
from ethicsgate.audit.spec import LoadedAudit
from ethicsgate.gate.baseline import (
    DEFAULT_SIGNIFICANCE_LEVEL,
    NotCompared,
    Regression,
    assertion_name,
    compare_with_baseline,
)
from ethicsgate.vocabulary import group_label

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
    not_significant: list[Regression] = field(default_factory=list)
    """Worse than the baseline beyond the budget, but within noise: never blocking."""
    significance_level: float = DEFAULT_SIGNIFICANCE_LEVEL
    not_compared: list[NotCompared] = field(default_factory=list)
    """Rules and assertions the baseline gave nothing to compare with: said, never passed."""

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

    @property
    def verdict(self) -> str:
        """Return the outcome in plain language: ``Release blocked: ...`` and why."""
        blocking = [r for r in self.result.rules if r.severity == "block"]
        failed = [r.id for r in blocking if r.status.value == "fail"]
        unknown = [r.id for r in blocking if r.status.value == "error"]
        reasons = []
        if failed:
            reasons.append(f"{_rules(failed)} failed")
        if unknown:
            reasons.append(f"{_rules(unknown)} could not be evaluated")
        regressions = self.blocking_regressions
        if regressions:
            reasons.append(
                f"{_count(len(regressions), 'check')} got significantly worse than in the "
                f"baseline, beyond the budget ({_regressions(regressions)})"
            )
        if self.passed:
            text = "Release may go ahead: every blocking rule passed"
            if self.baseline is not None and self.not_compared:
                # "nothing got worse" would claim what was never compared
                text += (
                    " and nothing compared got significantly worse than in the baseline; "
                    + _not_compared(self.not_compared, "it")
                )
            elif self.baseline is not None:
                text += " and nothing got significantly worse than in the baseline"
            return text + "."
        if not reasons:  # the audit's status says no, for a reason of its own
            reasons.append(f"the audit's status is {self.result.status}")
        text = "Release blocked: " + "; ".join(reasons)
        if not (failed or unknown):
            text += ". The audit itself passed"
        if self.not_compared:
            text += ". " + _not_compared(self.not_compared, "the baseline")
        return text + "."

    def to_json(self, *, report: Path | str) -> str:
        """Return the gate's outcome as the JSON ``ethicsgate gate --format json`` prints.

        Args:
            report: Where the audit's ``report.json`` was written.
        """
        return json.dumps(
            {
                "status": self.status,
                "verdict": self.verdict,
                "audit_status": self.result.status,
                "rules": {r.id: r.status.value for r in self.result.rules},
                "regressions": [r.model_dump(mode="json") for r in self.regressions],
                "not_significant": [r.model_dump(mode="json") for r in self.not_significant],
                "not_compared": [n.model_dump(mode="json") for n in self.not_compared],
                "significance_level": self.significance_level,
                "report": str(report),
            },
            indent=2,
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _rules(ids: list[str]) -> str:
    return ("rule " if len(ids) == 1 else "rules ") + ", ".join(ids)


def _regressions(found: list[Regression]) -> str:
    shown = [f"{r.rule} {r.assertion} for {group_label(r.group)}" for r in found[:3]]
    return "; ".join(shown) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")


def _not_compared(items: list[NotCompared], baseline: str) -> str:
    """Return ``1 rule and 2 assertions were not compared with <baseline> (...)``."""
    rules = sum(1 for n in items if n.assertion is None)
    parts = [_count(rules, "rule")] if rules else []
    if len(items) > rules:
        parts.append(_count(len(items) - rules, "assertion"))
    verb = "was" if len(items) == 1 else "were"
    shown = "; ".join(n.words for n in items[:3])
    if len(items) > 3:
        shown += f"; and {len(items) - 3} more"
    return f"{' and '.join(parts)} {verb} not compared with {baseline} ({shown})"


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
    significance_level: float = DEFAULT_SIGNIFICANCE_LEVEL,
    today: date | None = None,
) -> GateResult:
    """Compare ``result`` with ``baseline`` (if any) and locate every rule and assertion."""
    pack = audit.policy.pack
    regressions: list[Regression] = []
    noise: list[Regression] = []
    not_compared: list[NotCompared] = []
    if baseline is not None:
        comparison = compare_with_baseline(
            result,
            baseline,
            pack=pack,
            default_budget=default_budget,
            significance_level=significance_level,
            today=today,
        )
        regressions, noise = comparison.regressions, comparison.not_significant
        not_compared = comparison.not_compared
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
        not_significant=noise,
        significance_level=significance_level,
        not_compared=not_compared,
    )
