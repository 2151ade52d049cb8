"""Run an audit: scan each evidence set once, evaluate every rule, collect the findings."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from ethicsgate import __version__
from ethicsgate.audit.result import (
    AuditInfo,
    AuditResult,
    EvidenceFileInfo,
    EvidenceInfo,
    PolicyInfo,
    ReferenceInfo,
    Summary,
    TableIdentityInfo,
)
from ethicsgate.audit.spec import LoadedAudit, load_audit_spec
from ethicsgate.audit.waivers import apply_waivers
from ethicsgate.errors import Location
from ethicsgate.evidence.contracts import ContractResult, ExpectationResult
from ethicsgate.evidence.engine import Dataset, Engine, Rows
from ethicsgate.evidence.model import EvidenceFile, GroupedCounts, ProgressCallback
from ethicsgate.evidence.roles import Role
from ethicsgate.policy.models import Rule, Severity
from ethicsgate.rules.data_quality import guarded_error
from ethicsgate.rules.kind import AuditInputs
from ethicsgate.rules.registry import builtin_checks, kind_of
from ethicsgate.rules.results import RuleResult, RuleStatus

__all__ = [
    "EVALUATING",
    "aware_clock",
    "display_path",
    "open_audit_engine",
    "run_audit",
    "status_of",
    "with_rules",
]

#: The progress label of evaluating the rules, after the evidence scans.
EVALUATING = "evaluating the rules"

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def aware_clock(clock: Clock) -> Clock:
    """Return ``clock`` giving times with their zone, so a report never holds one without it.

    A naive time is read as Python reads one, the machine's local time (``datetime.now()``),
    and given in UTC.
    """

    def now() -> datetime:
        moment = clock()
        return moment if moment.tzinfo is not None else moment.astimezone(UTC)

    return now


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
    engine: Engine | None = None,
    engine_target: str | None = None,
    cross_check: int | None = None,
    progress: ProgressCallback | None = None,
    clock: Clock = _now,
) -> AuditResult:
    """Run every rule of an audit spec's policy against its evidence.

    ``engine`` reads the evidence (an engine passed in is left open for its owner to close).
    Without one, the engine ``engine_target`` names (``--engine``), else the spec's ``engine:``,
    else the embedded DuckDB is opened, and closed at the end (:func:`open_audit_engine`).
    ``cross_check``: recompute up to that many groups of every fairness rule with fairlearn and
    record the agreement.

    Raises:
        AuditSpecError, PolicyError, EvidenceError, SettingsError: the inputs are wrong;
            nothing is written.
    """
    clock = aware_clock(clock)
    started = clock()
    audit = spec if isinstance(spec, LoadedAudit) else load_audit_spec(spec)
    if engine is None:
        engine, owned = open_audit_engine(audit, engine_target), True
    else:
        owned = False
    try:
        return _run(
            audit,
            engine,
            cross_check=cross_check,
            progress=progress,
            clock=clock,
            started=started,
        )
    finally:
        if owned:
            engine.close()


def open_audit_engine(audit: LoadedAudit, target: str | None = None) -> Engine:
    """Return the engine an audit runs on: ``target`` (``--engine``), else the spec's ``engine:``.

    ``${VAR}`` in the spec's target is read from the environment, so that a password stays
    out of the spec.

    Raises:
        AuditSpecError: the spec's target uses an unset ``${VAR}``.
        EvidenceError: the target names no engine (located at ``--engine`` or in the spec).
    """
    from ethicsgate.engines import open_engine

    declared = audit.spec.engine
    if target is not None or declared is None:
        return open_engine(target)
    spec_target = declared if isinstance(declared, str) else declared.target
    conf = None if isinstance(declared, str) else declared.conf
    key: tuple[str, ...] = ("engine",) if isinstance(declared, str) else ("engine", "target")
    where = audit.document.locate(key)
    return open_engine(_expand(spec_target, where), conf=conf, location=where)


def _expand(text: str, where: Location) -> str:
    """Replace ``${VAR}`` by the environment variable's value."""
    import re

    from ethicsgate.errors import AuditSpecError

    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name not in os.environ:
            raise AuditSpecError(
                f"the engine target uses ${{{name}}}, which is not set",
                location=where,
                hint=f"export {name}=... before running the audit",
            )
        return os.environ[name]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", value, text)


def _run(
    audit: LoadedAudit,
    engine: Engine,
    *,
    cross_check: int | None,
    progress: ProgressCallback | None,
    clock: Clock,
    started: datetime,
) -> AuditResult:
    datasets: dict[str, Dataset] = {}
    for name, evidence_spec in audit.spec.evidence.items():
        datasets[name] = engine.open(
            name, evidence_spec, base_dir=audit.base_dir, locate=_locator(audit, name)
        )

    rules = audit.policy.pack.rules
    scans: dict[tuple[str, str], Any] = {}
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ethicsgate-hash") as pool:
        engine.connect()  # the engine's settings are checked before hashing starts
        for dataset in datasets.values():
            dataset.start_hashing(pool)
        # data contracts first: rules whose evidence breaks one are not evaluated (error)
        contracts, blocked = _run_contracts(
            rules, datasets, builtin=audit.spec.contracts == "report"
        )
        active = [r for r in rules if r.id not in blocked]
        for name, dataset in datasets.items():
            by_kind: dict[str, list[Rule]] = {}
            for rule in active:
                if rule.dataset == name:
                    by_kind.setdefault(rule.kind, []).append(rule)
            for kind_name, kind_rules in by_kind.items():
                scan = kind_of(kind_rules[0]).scan(dataset, kind_rules, progress=progress)
                if scan is not None:
                    scans[(kind_name, name)] = scan
        rows = _read_record_evidence(active, datasets, progress)
        inputs = AuditInputs(
            datasets=datasets,
            scans=scans,
            rows=rows,
            contracts=contracts,
            cross_check=cross_check,
        )
        results = []
        for index, rule in enumerate(rules):
            if progress is not None:  # a rule over many groups can take a while
                progress(EVALUATING, index / len(rules))
            results.append(
                _contract_outcome(rule, contracts, blocked) or kind_of(rule).evaluate(rule, inputs)
            )
        if progress is not None:
            progress(EVALUATING, 1.0)
        counts = {
            name: scan for (kind_name, name), scan in scans.items() if kind_name == "fairness"
        }
        evidence_info = [
            _evidence_info(d, counts.get(d.name), rows.get(d.name)) for d in datasets.values()
        ]

    pack = audit.policy.pack
    finished = clock()
    results = apply_waivers(results, pack.waivers, today=finished.date())
    info = AuditInfo(
        id=audit.spec.id,
        title=audit.spec.title,
        spec_path=audit.display or display_path(audit.path),
        spec_sha256=hashlib.sha256(
            audit.source if audit.source is not None else audit.path.read_bytes()
        ).hexdigest(),
        policy=PolicyInfo(
            id=pack.id,
            version=pack.version,
            title=pack.title,
            owner=pack.owner,
            path=audit.policy.ref or display_path(audit.policy.path),
            sha256=audit.policy.sha256,
            references=[ReferenceInfo(**ref.model_dump()) for ref in pack.references],
        ),
        evidence=evidence_info,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=finished.isoformat(timespec="seconds"),
        ethicsgate_version=__version__,
        engine={
            **engine.versions(),
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
    rules: list[Rule], datasets: dict[str, Dataset], *, builtin: bool = False
) -> tuple[dict[str, ContractResult], Blocked]:
    """Run the data contracts; return each and, per blocked rule, what blocked it.

    The policy's contract rules run first; with ``builtin`` the built-in contracts of every
    dataset follow, and a failed built-in expectation blocks only the rules it lists.
    """
    contracts: dict[str, ContractResult] = {}
    blocked: Blocked = {}
    for rule in rules:
        kind = kind_of(rule)
        if not kind.contract:
            continue
        contract = kind.run_contract(rule, datasets[rule.dataset], rules)
        contracts[rule.id] = contract
        if not contract.success:
            for guarded in contract.guards:
                blocked.setdefault(guarded, (contract, []))
    if not builtin:
        return contracts, blocked
    for dataset, checks in builtin_checks(rules).items():
        contract = datasets[dataset].run_builtin_contract(checks)
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
    """Return the error of a rule a failed contract guards (None: evaluate it)."""
    if rule.id in blocked and not kind_of(rule).contract:
        contract, failed = blocked[rule.id]
        return guarded_error(rule, contract, *failed[:1], also=failed[1:])
    return None


def _read_record_evidence(
    rules: list[Rule], datasets: dict[str, Dataset], progress: ProgressCallback | None
) -> dict[str, Rows]:
    """Read each dataset that record-level rules use once, with every role they need."""
    wanted: dict[str, list[Role]] = {}
    for rule in rules:
        for dataset, roles in kind_of(rule).roles(rule).items():
            wanted.setdefault(dataset, []).extend(roles)
    tables: dict[str, Rows] = {}
    for name, roles in wanted.items():
        if progress is not None:
            progress(name, 0.0)
        tables[name] = datasets[name].read_rows(roles)
        if progress is not None:
            progress(name, 1.0)
    return tables


def _locator(audit: LoadedAudit, name: str) -> Callable[[Sequence[str | int]], Location]:
    """Return a function locating keys of one evidence entry inside the audit spec.

    A window set by ``--window`` (or ``window=`` in Python) is located at the option: the
    window itself, and its column when the option named one (else the column is the spec's).
    """
    option = audit.window_option

    def locate(loc: Sequence[str | int]) -> Location:
        at_window = option is not None and tuple(loc[:1]) == ("window",)
        if at_window and (tuple(loc) != ("window", "column") or audit.window_option_column):
            return Location(str(option), option=audit.window_option_name)
        return audit.document.locate(("evidence", name, *loc))

    return locate


def _evidence_info(
    evidence_set: Dataset, counts: GroupedCounts | None, table: Rows | None = None
) -> EvidenceInfo:
    files = evidence_set.digests()
    if len(files) == 1:
        digest = files[0].sha256
    else:
        manifest = "".join(f"{f.sha256}  {_file_name(f)}\n" for f in files)
        digest = hashlib.sha256(manifest.encode()).hexdigest()
    identity = getattr(evidence_set, "identity", None)  # engines reading tables define it
    pinned = identity() if identity is not None else None
    if pinned is not None:
        digest = pinned.sha256
    delta = getattr(evidence_set, "delta", None)  # a Delta table read from its files
    return EvidenceInfo(
        name=evidence_set.name,
        path=evidence_set.spec.path,
        table=None if pinned is None else TableIdentityInfo(**dataclasses.asdict(pinned)),
        format="delta" if delta is not None else evidence_set.format,
        version=None if delta is None else delta.label,
        sha256=digest,
        files=[EvidenceFileInfo(path=_file_name(f), sha256=f.sha256, bytes=f.size) for f in files],
        filter=evidence_set.spec.filter,
        rows_read=counts.rows_read if counts else (table.rows_read if table else None),
        rows=counts.rows if counts else (table.rows if table else None),
    )


def _file_name(file: EvidenceFile) -> str:
    """Return how the report names a file: its path, or ``KIND:path`` for another digest.

    In-memory evidence is named ``arrow-ipc-sha256:<where it is saved>`` (as given, relative to
    where ``verify`` runs), so that ``verify --evidence`` knows to rehash the saved frame.
    """
    if file.kind == "sha256":
        return display_path(file.path)
    return f"{file.kind}:{file.path.as_posix()}"


def status_of(results: list[RuleResult]) -> Literal["pass", "fail", "error"]:
    """Return the audit status: fail if a block rule failed, error if one errored, else pass."""
    blocking = [r for r in results if r.severity == Severity.BLOCK.value]
    if any(r.status == RuleStatus.FAIL for r in blocking):
        return "fail"
    if any(r.status == RuleStatus.ERROR for r in blocking):
        return "error"
    return "pass"


def with_rules(result: AuditResult, rules: list[RuleResult]) -> AuditResult:
    """Return ``result`` with its rules replaced, status and summary recomputed."""
    return result.model_copy(
        update={"rules": rules, "status": status_of(rules), "summary": _summary(rules)}
    )


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
