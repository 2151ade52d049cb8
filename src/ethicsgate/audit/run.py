"""Run an audit: scan each evidence set once, evaluate every rule, collect the findings."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from ethicsgate import __version__
from ethicsgate.audit.fairness_scan import scan_fairness_evidence, score_context
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
from ethicsgate.audit.waivers import apply_waivers
from ethicsgate.contracts.results import ContractResult, ExpectationResult
from ethicsgate.contracts.run import (
    contract_rule_result,
    guarded_error,
    guarded_rules,
    run_contract,
)
from ethicsgate.errors import Location
from ethicsgate.evidence import EvidenceSet, GroupedCounts, ProgressCallback, open_evidence
from ethicsgate.evidence.rows import Role, RowsTable, read_rows
from ethicsgate.policy.models import (
    ConsentRule,
    DataQualityRule,
    FairnessRule,
    OversightRule,
    Rule,
    Severity,
    TransparencyRule,
)
from ethicsgate.rules.consent import consent_roles, evaluate_consent
from ethicsgate.rules.fairness import evaluate_fairness
from ethicsgate.rules.oversight import evaluate_oversight, oversight_roles
from ethicsgate.rules.results import RuleResult, RuleStatus
from ethicsgate.rules.transparency import evaluate_transparency, transparency_roles

__all__ = ["EVALUATING", "display_path", "run_audit", "status_of"]

#: The progress label of evaluating the rules, after the evidence scans.
EVALUATING = "evaluating the rules"

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
    from ethicsgate.evidence.engine import connect

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
        con = connect()  # ETHICSGATE_MEMORY_LIMIT, _THREADS, _TEMP_DIR (before hashing starts)
        for evidence_set in evidence.values():
            evidence_set.start_hashing(pool)
        try:
            # data contracts first: rules whose evidence breaks one are not evaluated (error)
            contracts, blocked = _run_contracts(
                con, rules, evidence, builtin=audit.spec.contracts == "report"
            )
            active = [r for r in rules if r.id not in blocked]
            for name, evidence_set in evidence.items():
                readers = [r for r in active if r.dataset == name and isinstance(r, FairnessRule)]
                if not readers:
                    continue
                counts[name] = scan_fairness_evidence(con, evidence_set, readers, progress=progress)
            tables = _read_record_evidence(con, active, evidence, progress)
            results = []
            for index, rule in enumerate(rules):
                if progress is not None:  # a rule over many groups can take a while
                    progress(EVALUATING, index / len(rules))
                results.append(
                    _contract_outcome(rule, contracts, blocked)
                    or _EVALUATORS[rule.kind](con, rule, counts, tables)
                )
            if progress is not None:
                progress(EVALUATING, 1.0)
        finally:
            con.close()
        evidence_info = [
            _evidence_info(e, counts.get(e.name), tables.get(e.name)) for e in evidence.values()
        ]

    pack = audit.policy.pack
    finished = clock()
    results = apply_waivers(results, pack.waivers, today=finished.date())
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
            "duckdb": _version("duckdb"),
            "fairlearn": _version("fairlearn"),
            "python": ".".join(map(str, __import__("sys").version_info[:3])),
        },
    )
    return AuditResult(
        status=status_of(results),
        audit=info,
        summary=_summary(results),
        rules=results,
        contracts=list(contracts.values()),
    )


#: rule id -> the contract that blocked it and, for a built-in one, the failed expectations
#: the rule depends on
Blocked = dict[str, tuple[ContractResult, list[ExpectationResult]]]


def _run_contracts(
    con: Any, rules: list[Rule], evidence: dict[str, EvidenceSet], *, builtin: bool = False
) -> tuple[dict[str, ContractResult], Blocked]:
    """Run the data contracts; return each and, per blocked rule, what blocked it.

    The policy's data_quality rules run first; with ``builtin`` the built-in contracts of
    every dataset follow, and a failed built-in expectation blocks only the rules it lists.
    """
    contracts: dict[str, ContractResult] = {}
    blocked: Blocked = {}
    for rule in rules:
        if not isinstance(rule, DataQualityRule):
            continue
        guards = guarded_rules(rule, rules)
        contract = run_contract(con, rule, evidence[rule.dataset], guards=guards)
        contracts[rule.id] = contract
        if not contract.success:
            for guarded in guards:
                blocked.setdefault(guarded, (contract, []))
    if not builtin:
        return contracts, blocked
    # imported only for ``contracts: report``: the default ``stop`` never loads it
    from ethicsgate.contracts.builtin import builtin_checks, run_builtin_contract

    for dataset, checks in builtin_checks(rules).items():
        contract = run_builtin_contract(con, dataset, evidence[dataset], checks)
        contracts[contract.rule_id] = contract
        for expectation in contract.expectations:
            if not expectation.success:
                for guarded in expectation.guards or []:
                    if blocked.setdefault(guarded, (contract, []))[0] is contract:
                        blocked[guarded][1].append(expectation)
    return contracts, blocked


def _contract_outcome(
    rule: Rule, contracts: dict[str, ContractResult], blocked: Blocked
) -> RuleResult | None:
    """Return a data_quality rule's result, or the error of a rule a failed contract guards."""
    if isinstance(rule, DataQualityRule):
        return contract_rule_result(rule, contracts[rule.id])
    if rule.id in blocked:
        contract, failed = blocked[rule.id]
        return guarded_error(rule, contract, *failed[:1], also=failed[1:])
    return None


def _evaluate(rule: FairnessRule, counts: GroupedCounts) -> RuleResult:
    return evaluate_fairness(rule, counts.frame, scores=score_context(rule, counts))


Tables = dict[str, RowsTable]
Counts = dict[str, GroupedCounts]


def _fairness(con: Any, rule: Rule, counts: Counts, tables: Tables) -> RuleResult:
    assert isinstance(rule, FairnessRule)
    return _evaluate(rule, counts[rule.dataset])


def _transparency(con: Any, rule: Rule, counts: Counts, tables: Tables) -> RuleResult:
    assert isinstance(rule, TransparencyRule)
    return evaluate_transparency(con, rule, tables)


def _consent(con: Any, rule: Rule, counts: Counts, tables: Tables) -> RuleResult:
    assert isinstance(rule, ConsentRule)
    return evaluate_consent(con, rule, tables)


def _oversight(con: Any, rule: Rule, counts: Counts, tables: Tables) -> RuleResult:
    assert isinstance(rule, OversightRule)
    return evaluate_oversight(con, rule, tables)


#: Rule kind -> evaluator. Fairness reads grouped counts (one aggregating scan per dataset);
#: the record-level kinds read typed rows (one scan per dataset into a temporary table).
_EVALUATORS: dict[str, Callable[[Any, Rule, Counts, Tables], RuleResult]] = {
    "fairness": _fairness,
    "transparency": _transparency,
    "consent": _consent,
    "oversight": _oversight,
}
#: Record-level rule kind -> the roles its rules read, by dataset.
_ROLES: dict[str, Callable[[Any], dict[str, list[Role]]]] = {
    "transparency": transparency_roles,
    "consent": consent_roles,
    "oversight": oversight_roles,
}


def _read_record_evidence(
    con: Any, rules: list[Rule], evidence: dict[str, EvidenceSet], progress: ProgressCallback | None
) -> Tables:
    """Read each dataset that record-level rules use once, with every role they need."""
    wanted: dict[str, list[Role]] = {}
    for rule in rules:
        roles_of = _ROLES.get(rule.kind)
        if roles_of is None:
            continue
        for dataset, roles in roles_of(rule).items():
            wanted.setdefault(dataset, []).extend(roles)
    tables: Tables = {}
    for index, (name, roles) in enumerate(wanted.items()):
        if progress is not None:
            progress(name, 0.0)
        tables[name] = read_rows(con, evidence[name], roles, table=f"_eg_rows_{index}")
        if progress is not None:
            progress(name, 1.0)
    return tables


def _locator(audit: LoadedAudit, name: str) -> Callable[[Sequence[str | int]], Location]:
    """Return a function locating keys of one evidence entry inside the audit spec."""
    return lambda loc: audit.document.locate(("evidence", name, *loc))


def _evidence_info(
    evidence_set: EvidenceSet, counts: GroupedCounts | None, table: RowsTable | None = None
) -> EvidenceInfo:
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
        rows_read=counts.rows_read if counts else (table.rows_read if table else None),
        rows=counts.rows if counts else (table.rows if table else None),
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
        waived=n(RuleStatus.WAIVED),
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
