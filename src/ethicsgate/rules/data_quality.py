"""The data_quality kind: data contracts, run before the rules whose evidence they guard.

A data_quality rule's expectations run inside the engine (``Dataset.run_contract``); this module
turns a contract's result into the rule's own result, and into the ``error`` of each rule a
failed contract guards.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ethicsgate.evidence.contracts import BuiltinCheck, ContractResult, ExpectationResult
from ethicsgate.evidence.engine import Dataset
from ethicsgate.policy.models import DataQualityRule, Expectation, PolicyPack, Rule
from ethicsgate.rules.kind import AuditInputs, KindBase
from ethicsgate.rules.results import RuleResult, RuleStatus

__all__ = [
    "DataQualityKind",
    "contract_rule_result",
    "explain_data_quality",
    "guarded_error",
    "guarded_rules",
]


def guarded_rules(rule: DataQualityRule, rules: Sequence[Rule]) -> list[str]:
    """Return the ids of the rules a contract guards (default: others on its dataset)."""
    return rule.guarded(list(rules))


def contract_rule_result(rule: DataQualityRule, contract: ContractResult) -> RuleResult:
    """Return the data_quality rule's own result: fail when any expectation failed."""
    failed = [e for e in contract.expectations if not e.success]
    if failed:
        first = failed[0]
        message = (
            f"{len(failed)} of {len(contract.expectations)} expectation(s) failed; first: "
            f"{first.message}"
        )
        if contract.guards:
            message += f"; not evaluated: {', '.join(contract.guards)}"
    else:
        count = len(contract.expectations)
        message = f"all {count} expectation(s) met on {contract.rows:,} row(s)"
    return RuleResult(
        id=rule.id,
        kind=rule.kind,
        title=rule.title,
        severity=rule.severity.value,
        status=RuleStatus.FAIL if failed else RuleStatus.PASS,
        message=message,
        dataset=rule.dataset,
        references=list(rule.references),
        rows=contract.rows,
        records_checked=contract.rows,
        violations=sum(e.unexpected for e in failed),
        parameters={"expectations": [e.expect for e in contract.expectations]},
    )


def guarded_error(
    rule: Rule,
    contract: ContractResult,
    failed: ExpectationResult | None = None,
    *,
    also: Sequence[ExpectationResult] = (),
) -> RuleResult:
    """Return the ``error`` result of a rule whose evidence broke a data contract.

    ``failed`` is the expectation the rule depends on (default: the contract's first failure)
    and ``also`` the other failed ones it depends on.
    """
    if failed is None:
        failed = next(e for e in contract.expectations if not e.success)
    if contract.builtin:
        message = (
            f"not evaluated: built-in data contract on {contract.dataset!r} failed: "
            f"{failed.message}"
        )
        if also:
            named = ", ".join(f"{e.expect} on {e.column!r}" for e in also)
            message += f"; also failed: {named}"
    else:
        message = (
            f"not evaluated: data contract {contract.rule_id!r} on {contract.dataset!r} "
            f"failed ({failed.message})"
        )
    return RuleResult(
        id=rule.id,
        kind=rule.kind,
        title=rule.title,
        severity=rule.severity.value,
        status=RuleStatus.ERROR,
        message=message,
        dataset=rule.dataset,
        references=list(rule.references),
        rows=0,
        check=getattr(rule, "check", None),
    )


def explain_data_quality(rule: DataQualityRule, pack: PolicyPack | None = None) -> str:
    """Return one paragraph saying what a data contract checks, in plain words."""
    where = f"the evidence '{rule.dataset}'"
    parts = "; ".join(_expectation(e) for e in rule.expectations)
    # plain words: the owner reading this need not know the library, nor the engine (which
    # is not DuckDB on PostgreSQL or Spark)
    text = f"Before the other rules run, checks that {where}: {parts}."
    guards = rule.guarded(list(pack.rules)) if pack is not None else rule.guards
    if guards:
        text += f" If it fails, these rules are not evaluated (error): {', '.join(guards)}."
    return text


def _expectation(exp: Expectation) -> str:
    share = f" (for at least {exp.mostly:.0%} of the rows)" if exp.mostly < 1 else ""
    column = f"'{exp.column}'"
    if exp.expect == "not_null":
        return f"{column} is never missing{share}"
    if exp.expect == "in_set":
        values = ", ".join(
            ("true" if v else "false") if isinstance(v, bool) else str(v) for v in exp.values or []
        )
        return f"{column} is one of {values}{share}"
    bounds = " and ".join(
        part
        for part in (
            "" if exp.min is None else f"at least {exp.min:g}",
            "" if exp.max is None else f"at most {exp.max:g}",
        )
        if part
    )
    if exp.expect == "between":
        return f"{column} is {bounds}{share}"
    if exp.expect == "unique":
        return f"no two rows share a {column}"
    if exp.expect == "row_count_between":
        return f"it has {bounds} rows"
    if exp.expect == "regex":
        return f"{column} matches the pattern {exp.pattern}{share}"
    return f"{column} holds timestamps that parse{share}"


class DataQualityKind(KindBase):
    """Data contracts: Great Expectations' expectations, run inside the engine before the rules."""

    name = "data_quality"
    model = DataQualityRule
    contract = True

    def run_contract(self, rule: Any, dataset: Dataset, rules: Sequence[Any]) -> ContractResult:
        """Run the rule's expectations on its dataset, guarding the rules it lists."""
        return dataset.run_contract(rule, guards=guarded_rules(rule, rules))

    def evaluate(self, rule: Any, inputs: AuditInputs) -> RuleResult:
        """Return the rule's own result from its contract's result."""
        return contract_rule_result(rule, inputs.contracts[rule.id])

    def explain(self, rule: Any, pack: PolicyPack | None) -> str:
        """Return what the contract checks, in plain words."""
        return explain_data_quality(rule, pack)

    def builtin_checks(self, rule: Any) -> list[tuple[str, BuiltinCheck]]:
        """Return no checks: a contract is itself the check of its evidence."""
        return []
