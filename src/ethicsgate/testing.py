"""Fairness checks for a model's own test suite: ``assert_policy`` fails with the groups named.

::

    from ethicsgate.testing import assert_policy

    def test_model_is_fair(predictions):
        assert_policy("policies/hiring.yaml", {"predictions": {"data": predictions}})

A failing rule makes the test fail with an ``AssertionError`` that lists each failing blocking
rule and, under it, each failing group with its value and the threshold it missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ethicsgate.api import AuditReport
    from ethicsgate.policy.loader import LoadedPolicy

__all__ = ["assert_policy"]

#: The statuses of a rule named in ``rules=`` that fail the test (``warn``: it failed at
#: severity warn; ``error``: it could not be judged; ``skipped``: it had nothing to check).
_NOT_PASSED = ("fail", "warn", "error", "skipped")


def assert_policy(
    policy: str | Path | LoadedPolicy,
    evidence: Mapping[str, Any] | None = None,
    *,
    rules: str | Iterable[str] | None = None,
    **options: Any,
) -> AuditReport:
    """Audit ``evidence`` against ``policy`` and fail the test unless every blocking rule passes.

    Takes what :func:`ethicsgate.audit` takes. ``rules`` narrows the check to those rule ids
    (the others still run and are in the returned report); a single id may be given as text
    (``rules="parity"``). A rule named is checked whatever its severity: one of severity
    ``warn`` that failed fails the test too. The ids are checked against the policy before any
    evidence is read. A test that checked nothing fails: a rule named that was skipped (no
    record to check), or every blocking rule skipped.

    Returns:
        The report, for further assertions.

    Raises:
        AssertionError: a checked rule failed, errored or was skipped (rules and groups
            named): every blocking rule, or each rule ``rules`` names.
        EthicsgateError: the policy or the evidence is wrong (not a test failure: a bad test);
            a ``PolicyError`` names the policy file when ``rules`` names a rule it does not have.
        TypeError: ``rules`` holds something other than rule ids (text), or ``policy`` is not
            a path or a loaded policy.
        ValueError: ``rules`` is empty, or left out when the policy has no blocking rule, so
            the test would check nothing.
    """
    from ethicsgate.api import audit

    checked = _rule_ids(rules) if rules is not None else None
    policy = _check_rule_ids(policy, evidence, checked)
    report = audit(policy, evidence, **options)
    if checked is None:
        failing = report.failing_rules
        blocking = [r for r in report.rules if r.severity == "block"]
        if not failing and all(r.status.value == "skipped" for r in blocking):
            failing = blocking  # every blocking rule had nothing to check: the test checked nothing
    else:  # a rule named is checked whatever its severity: a warn rule that failed fails
        failing = [r for r in report.rules if r.id in checked and r.status.value in _NOT_PASSED]
    if failing:
        __tracebackhide__ = True  # pytest: show the message, not this frame
        raise AssertionError(
            report.describe_failures()
            if checked is None and report.failing_rules
            else report.describe_failures(only=[r.id for r in failing])
        )
    return report


def _rule_ids(rules: str | Iterable[str]) -> list[str]:
    """Return the rule ids ``rules`` names: text is one id, not a sequence of characters.

    Raises:
        TypeError: an item is not text.
        ValueError: no id at all.
    """
    ids = [rules] if isinstance(rules, str) else list(rules)
    for item in ids:
        if not isinstance(item, str):
            raise TypeError(f"rules= takes rule ids (text), not {item!r}")
    if not ids:
        raise ValueError(
            "rules=[] checks no rule: leave rules out to check every blocking rule, or name "
            "the rule ids to check"
        )
    return ids


def _check_rule_ids(
    policy: str | Path | LoadedPolicy, evidence: Mapping[str, Any] | None, ids: list[str] | None
) -> str | Path | LoadedPolicy:
    """Return the policy (loaded, so the audit does not read it again), its rules checked.

    ``ids`` None checks the blocking rules: there must be one.

    Raises:
        PolicyError: the policy has no rule of one of ``ids`` (its file and rule ids named).
        AuditSpecError: with no ``evidence``, ``policy`` is an audit spec, and it is invalid.
        ValueError: ``ids`` is None and the policy has no blocking rule: nothing could fail.
    """
    from ethicsgate.errors import PolicyError, did_you_mean
    from ethicsgate.policy.loader import LoadedPolicy, load_policy

    if isinstance(policy, LoadedPolicy):
        loaded = policy
    elif evidence is None:  # an audit spec names the policy (as ethicsgate.audit reads it)
        from ethicsgate.audit.spec import load_audit_spec
        from ethicsgate.policy.loader import not_a_policy

        if not isinstance(policy, str | Path):
            raise not_a_policy(policy)

        loaded = load_audit_spec(policy).policy
    else:
        loaded = policy = load_policy(policy)
    known = [rule.id for rule in loaded.pack.rules]
    if ids is None:
        if not any(rule.severity == "block" for rule in loaded.pack.rules):
            raise ValueError(
                f"policy {loaded.pack.id!r} has no blocking rule (severity block), so no "
                "outcome could fail the test: name the rules to check, e.g. "
                f"rules={known[:2]!r}"
            )
        return policy
    unknown = [rule_id for rule_id in ids if rule_id not in known]
    if unknown:
        names = ", ".join(f"{rule_id!r}{did_you_mean(rule_id, known)}" for rule_id in unknown)
        raise PolicyError(
            f"policy {loaded.pack.id!r} has no rule {names}",
            location=loaded.ref or loaded.path,
            hint=f"rules= names rule ids of the policy: {', '.join(known)}",
        )
    return policy
