"""Run an audit: scan each evidence set once, evaluate every rule, collect the findings."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Literal

from ethicsgate import __version__
from ethicsgate.audit.result import (
    AuditInfo,
    AuditResult,
    EvidenceFileInfo,
    EvidenceInfo,
    PolicyInfo,
    ReferenceInfo,
    Summary,
)
from ethicsgate.audit.spec import LoadedAudit, load_audit_spec
from ethicsgate.errors import Location
from ethicsgate.evidence import EvidenceSet, GroupedCounts, ProgressCallback, open_evidence
from ethicsgate.policy.models import FairnessRule, Severity
from ethicsgate.rules.fairness import LABEL, PREDICTION, evaluate_fairness
from ethicsgate.rules.results import RuleResult, RuleStatus

__all__ = ["display_path", "run_audit", "status_of"]

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def display_path(path: Path) -> str:
    """Return a path as reports show it: relative to the working directory, '/'-separated."""
    try:
        text = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        text = str(path.resolve())
    if text.startswith(os.pardir + os.sep + os.pardir + os.sep + os.pardir):
        text = str(path.resolve())  # far outside the working directory: absolute reads better
    return text.replace(os.sep, "/")


def run_audit(
    spec: Path | str | LoadedAudit,
    *,
    progress: ProgressCallback | None = None,
    clock: Clock = _now,
) -> AuditResult:
    """Run every rule of an audit spec's policy against its evidence.

    Raises:
        AuditSpecError, PolicyError, EvidenceError: the inputs are wrong; nothing is written.
    """
    import duckdb

    started = clock()
    audit = spec if isinstance(spec, LoadedAudit) else load_audit_spec(spec)
    evidence: dict[str, EvidenceSet] = {}
    for name, evidence_spec in audit.spec.evidence.items():
        evidence[name] = open_evidence(
            name, evidence_spec, base_dir=audit.base_dir, locate=_locator(audit, name)
        )

    rules = audit.policy.pack.rules
    counts: dict[str, GroupedCounts] = {}
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ethicsgate-hash") as pool:
        for evidence_set in evidence.values():
            evidence_set.start_hashing(pool)
        con = duckdb.connect()
        try:
            for name, evidence_set in evidence.items():
                readers = [r for r in rules if r.dataset == name]
                if not readers:
                    continue
                roles: list[str] = []
                for rule in readers:
                    for feature in rule.sensitive_features:
                        if feature not in roles:
                            roles.append(feature)
                binary = [LABEL] if any(r.needs_label for r in readers) else []
                if any(r.needs_prediction for r in readers):
                    binary.append(PREDICTION)
                counts[name] = evidence_set.grouped_counts(
                    con, roles=[*roles, *binary], binary_roles=binary, progress=progress
                )
        finally:
            con.close()
        results = [_evaluate(rule, counts[rule.dataset]) for rule in rules]
        evidence_info = [_evidence_info(e, counts.get(e.name)) for e in evidence.values()]

    pack = audit.policy.pack
    finished = clock()
    info = AuditInfo(
        id=audit.spec.id,
        title=audit.spec.title,
        spec_path=display_path(audit.path),
        spec_sha256=hashlib.sha256(audit.path.read_bytes()).hexdigest(),
        policy=PolicyInfo(
            id=pack.id,
            version=pack.version,
            title=pack.title,
            owner=pack.owner,
            path=display_path(audit.policy.path),
            sha256=audit.policy.sha256,
            references=[ReferenceInfo(**ref.model_dump()) for ref in pack.references],
        ),
        evidence=evidence_info,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=finished.isoformat(timespec="seconds"),
        ethicsgate_version=__version__,
        engine={
            "duckdb": duckdb.__version__,
            "fairlearn": _version("fairlearn"),
            "python": ".".join(map(str, __import__("sys").version_info[:3])),
        },
    )
    return AuditResult(
        status=status_of(results), audit=info, summary=_summary(results), rules=results
    )


def _evaluate(rule: FairnessRule, counts: GroupedCounts) -> RuleResult:
    return evaluate_fairness(rule, counts.frame)


def _locator(audit: LoadedAudit, name: str) -> Callable[[Sequence[str | int]], Location]:
    """Return a function locating keys of one evidence entry inside the audit spec."""
    return lambda loc: audit.document.locate(("evidence", name, *loc))


def _evidence_info(evidence_set: EvidenceSet, counts: GroupedCounts | None) -> EvidenceInfo:
    files = evidence_set.digests()
    if len(files) == 1:
        digest = files[0].sha256
    else:
        manifest = "".join(f"{f.sha256}  {display_path(f.path)}\n" for f in files)
        digest = hashlib.sha256(manifest.encode()).hexdigest()
    return EvidenceInfo(
        name=evidence_set.name,
        path=evidence_set.spec.path,
        format=evidence_set.format,
        sha256=digest,
        files=[
            EvidenceFileInfo(path=display_path(f.path), sha256=f.sha256, bytes=f.size)
            for f in files
        ],
        filter=evidence_set.spec.filter,
        rows_read=counts.rows_read if counts else None,
        rows=counts.rows if counts else None,
    )


def status_of(results: list[RuleResult]) -> Literal["pass", "fail", "error"]:
    """Return the audit status: fail if a block rule failed, error if one errored, else pass."""
    blocking = [r for r in results if r.severity == Severity.BLOCK.value]
    if any(r.status == RuleStatus.FAIL for r in blocking):
        return "fail"
    if any(r.status == RuleStatus.ERROR for r in blocking):
        return "error"
    return "pass"


def _summary(results: list[RuleResult]) -> Summary:
    def n(status: RuleStatus) -> int:
        return sum(r.status == status for r in results)

    return Summary(
        rules=len(results),
        passed=n(RuleStatus.PASS),
        failed=n(RuleStatus.FAIL),
        warned=n(RuleStatus.WARN),
        errors=n(RuleStatus.ERROR),
        blocking_failed=sum(
            r.status in (RuleStatus.FAIL, RuleStatus.ERROR) and r.severity == Severity.BLOCK.value
            for r in results
        ),
    )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover - fairlearn is a dependency
        return "unknown"
