"""Fairness checks for a model's own test suite: ``assert_policy`` fails with the groups named.

::

    from ethicsgate.testing import assert_policy

    def test_model_is_fair(predictions):
        assert_policy("policies/hiring.yaml", {"predictions": {"data": predictions}})

A failing rule makes the test fail with an ``AssertionError`` that lists each failing blocking
rule and, under it, each failing group with its value and the threshold it missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ethicsgate.api import AuditReport
    from ethicsgate.policy.loader import LoadedPolicy

__all__ = ["assert_policy"]


def assert_policy(
    policy: str | Path | LoadedPolicy,
    evidence: Mapping[str, Any] | None = None,
    *,
    rules: list[str] | None = None,
    **options: Any,
) -> AuditReport:
    """Audit ``evidence`` against ``policy`` and fail the test unless every blocking rule passes.

    Takes what :func:`ethicsgate.audit` takes. ``rules`` narrows the check to those rule ids
    (the others still run and are in the returned report).

    Returns:
        The report, for further assertions.

    Raises:
        AssertionError: a checked blocking rule failed or errored (rules and groups named).
        EthicsgateError: the policy or the evidence is wrong (not a test failure: a bad test).
    """
    from ethicsgate.api import audit

    report = audit(policy, evidence, **options)
    failing = report.failing_rules
    if rules is not None:
        unknown = sorted(set(rules) - {r.id for r in report.rules})
        if unknown:
            raise KeyError(f"no rule {unknown[0]!r} in the policy")
        failing = [r for r in failing if r.id in rules]
    if failing:
        __tracebackhide__ = True  # pytest: show the message, not this frame
        raise AssertionError(report.describe_failures(only=[r.id for r in failing]))
    return report
