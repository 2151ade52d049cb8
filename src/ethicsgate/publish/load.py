"""Find what a statement is published from: an audit spec (run now) or a report.json."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ethicsgate.audit.reportfile import read_report
from ethicsgate.audit.result import AuditResult
from ethicsgate.errors import PublishError
from ethicsgate.policy.loader import load_policy
from ethicsgate.policy.models import PolicyPack

__all__ = ["load_publish_inputs"]


def load_publish_inputs(
    source: Path,
    *,
    policy: Path | None = None,
    clock: Callable[[], datetime] | None = None,
) -> tuple[PolicyPack, AuditResult]:
    """Return the policy pack and audit result a statement is built from.

    ``source`` is an audit spec (``*.yaml``: the audit runs now), a ``report.json`` or the
    report folder holding one. For a report, the policy is read from the path it records (or
    ``policy``) and must be byte-for-byte the one the audit ran.

    Raises:
        PublishError: the report is unreadable, its policy is missing or changed since the
            audit, or the policy describes no systems.
        PolicyError, AuditSpecError, EvidenceError: the audit spec, policy or evidence is wrong.
    """
    if source.suffix in (".yaml", ".yml"):
        from ethicsgate.audit import load_audit_spec, run_audit

        loaded = load_audit_spec(source)
        _need_systems(loaded.policy.pack, loaded.policy.path)
        result = run_audit(loaded) if clock is None else run_audit(loaded, clock=clock)
        return loaded.policy.pack, result
    report_path = source / "report.json" if source.is_dir() else source
    result = read_report(report_path, error=PublishError, what="report")
    policy_path = policy if policy is not None else Path(result.audit.policy.path)
    if not policy_path.is_file():
        raise PublishError(
            f"the report's policy {str(policy_path)!r} was not found",
            location=report_path,
            hint="run from the folder the audit ran in, or pass --policy PATH",
        )
    digest = hashlib.sha256(policy_path.read_bytes()).hexdigest()
    if digest != result.audit.policy.sha256:
        raise PublishError(
            f"policy {policy_path} changed since the audit (sha256 {digest[:12]}…, the report "
            f"recorded {result.audit.policy.sha256[:12]}…)",
            location=report_path,
            hint="publish from a fresh audit of the current policy, or pass the policy "
            "version the report was made with (--policy)",
        )
    pack = load_policy(policy_path).pack
    _need_systems(pack, policy_path)
    return pack, result


def _need_systems(pack: PolicyPack, path: Path) -> None:
    if not pack.systems:
        raise PublishError(
            "the policy describes no automated systems, so there is nothing to publish",
            location=path,
            hint="add a 'systems:' section (docs/transparency-statements.md)",
        )
