"""One audit session: run an audit, render its report, sign it, write it, feed the review queue.

The CLI's ``ethicsgate audit`` is :func:`run_and_report` plus printing; a Python program or a
web app calls it the same way. Nothing here prints, prompts or exits: problems in the inputs
raise an :class:`~ethicsgate.errors.EthicsgateError`, findings are data in the result.

Each report file is streamed to a staging folder inside the output folder as it is rendered,
hashed as it is written; the digests are signed, and only then are the files moved into place:
a failure leaves the output folder as it was (and no staging folder), never half a report. A
report of 100,000 groups (a 250 MB report.json) is never held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ethicsgate.audit.findings import FindingsFile
    from ethicsgate.audit.result import AuditResult, ReviewSummary
    from ethicsgate.audit.spec import LoadedAudit
    from ethicsgate.evidence import Engine, ProgressCallback
    from ethicsgate.files import ReportFiles
    from ethicsgate.history.models import RecordedRun
    from ethicsgate.history.store import HistoryStore
    from ethicsgate.notify.send import NotifyOutcome
    from ethicsgate.notify.targets import NotifyTarget
    from ethicsgate.review.workflow import AuditReviewStep

__all__ = [
    "AuditRun",
    "Clock",
    "default_out_dir",
    "render_report_files",
    "report_dir",
    "run_and_report",
    "run_collecting_findings",
    "signer_fingerprint",
    "utc_now",
    "write_report_files",
    "write_signed_report",
]

#: Where the audit's start and finish times come from (a frozen one in tests).
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current time in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class AuditRun:
    """An audit run and its report: the result, the files' bytes, where they were written."""

    result: AuditResult
    """The audit's result, findings cut back to ``max_findings``, with the review state."""
    files: Mapping[str, bytes]
    """The report files by name (``report.json``, ...; ``report.intoto.json`` when signed).

    After :func:`run_and_report` a :class:`~ethicsgate.files.ReportFiles`: a file's bytes are
    read from disk when asked for, and its ``digests`` are the SHA-256s that were signed.
    """
    written: Mapping[str, Path]
    """Where each file was written, by name."""
    signer: str | None
    """The signing key's fingerprint, or None when the report is not signed."""
    recorded: RecordedRun | None = None
    """The run as the history store recorded it (``record``), else None."""
    notifications: Sequence[NotifyOutcome] = ()
    """What happened to each notification: sent, skipped (nothing to report) or failed."""

    @property
    def review(self) -> ReviewSummary | None:
        """Return the review queue's state, or None when the run had no review store."""
        return self.result.review

    @property
    def passed(self) -> bool:
        """Return whether every blocking rule passed."""
        return self.result.status == "pass"


def signer_fingerprint(key: Ed25519PrivateKey | None) -> str | None:
    """Return the fingerprint of the signing key, or None when not signing."""
    if key is None:
        return None
    from ethicsgate.attest import key_fingerprint

    return key_fingerprint(key.public_key())


def run_collecting_findings(
    audit: Path | str | LoadedAudit, **options: Any
) -> tuple[AuditResult, FindingsFile]:
    """Run the audit (``run_audit(audit, **options)``); return it and ``findings.parquet``.

    The findings file holds every violating record of every record-level rule, streamed from
    the engine while the rules are evaluated (``audit/findings.py``). It stays on disk, in a
    temporary folder: close it once the report is written.
    """
    # looked up on the package when called, as the CLI always did: a patched run_audit is run
    from ethicsgate.audit import run_audit
    from ethicsgate.audit.findings import FindingsWriter
    from ethicsgate.rules.records import collecting_findings

    writer = FindingsWriter()
    try:
        with collecting_findings(writer):
            result = run_audit(audit, **options)
        return result, writer.finish()
    finally:
        writer.close()


def render_report_files(
    result: AuditResult,
    key: Ed25519PrivateKey | None = None,
    *,
    findings: FindingsFile | bytes | None = None,
) -> dict[str, bytes]:
    """Render the report files in memory, plus the signed DSSE envelope when a key is given.

    ``findings``: ``findings.parquet`` (:func:`run_collecting_findings`, or its bytes), written
    and signed with the report; None for a result whose findings were not collected.
    """
    from ethicsgate.canonical import FINDINGS_PARQUET
    from ethicsgate.report import report_files

    files = report_files(result, signer=signer_fingerprint(key))
    if findings is not None:
        files[FINDINGS_PARQUET] = findings if isinstance(findings, bytes) else findings.read_bytes()
    if key is not None:
        from ethicsgate.attest import ENVELOPE_FILENAME, file_digests, sign_report

        files[ENVELOPE_FILENAME] = sign_report(result, file_digests(files), key)
    return files


def write_signed_report(
    result: AuditResult,
    out_dir: Path,
    key: Ed25519PrivateKey | None = None,
    *,
    findings: FindingsFile | bytes | None = None,
    option: str = "--out",
) -> ReportFiles:
    """Render the report files into ``out_dir``, with the signed DSSE envelope when given a key.

    The same files, byte for byte, as :func:`render_report_files` then
    :func:`write_report_files`, but each file is streamed to a staging folder as it is
    rendered and hashed as it is written; the digests are signed, then every file is moved
    into place (a stale envelope of an earlier signed run is removed from an unsigned one, and
    a report file an earlier run wrote and this one does not, such as ``findings.parquet``).
    An error leaves ``out_dir`` as it was, without a staging folder. ``option``: how the caller
    named ``out_dir``, for errors' hints (``--out``, or ``out=`` of ``AuditReport.write``).

    Returns:
        The written files: their paths, the digests signed, their bytes read when asked for.
    """
    from ethicsgate.attest import ENVELOPE_FILENAME
    from ethicsgate.canonical import FINDINGS_PARQUET, REPORT_FILES
    from ethicsgate.files import staged_files
    from ethicsgate.report import stage_report_files

    with staged_files(out_dir, option=option) as staged:
        digests = stage_report_files(result, staged, signer=signer_fingerprint(key))
        if isinstance(findings, bytes):
            digests[FINDINGS_PARQUET] = staged.add(FINDINGS_PARQUET, findings)
        elif findings is not None:  # copied from disk, hashed as copied: never all in memory
            digests[FINDINGS_PARQUET] = staged.copy(FINDINGS_PARQUET, findings.path)
        if key is not None:
            from ethicsgate.attest import sign_report

            staged.add(ENVELOPE_FILENAME, sign_report(result, digests, key))
        # an earlier run's file this one does not write would sit unsigned beside the envelope
        return staged.commit(drop=(*REPORT_FILES, ENVELOPE_FILENAME))


def write_report_files(out_dir: Path, files: Mapping[str, bytes]) -> dict[str, Path]:
    """Write rendered report files atomically; drop a stale envelope an unsigned run leaves.

    Returns the written paths by file name.
    """
    from ethicsgate.attest import ENVELOPE_FILENAME
    from ethicsgate.files import write_signed_files

    return {p.name: p for p in write_signed_files(out_dir, files, envelope=ENVELOPE_FILENAME)}


def default_out_dir(result: AuditResult) -> Path:
    """Return the report folder when none is given: ``reports/<audit id>/``."""
    return report_dir(result.audit.id)


def report_dir(audit_id: str) -> Path:
    """Return the default report folder of the audit ``audit_id``: ``reports/<audit id>/``."""
    return Path("reports") / audit_id


def run_and_report(
    spec: Path | str | LoadedAudit,
    *,
    out: Path | None = None,
    key: Ed25519PrivateKey | None = None,
    review: AuditReviewStep | None = None,
    engine: Engine | None = None,
    engine_target: str | None = None,
    cross_check: int | None = None,
    progress: ProgressCallback | None = None,
    clock: Clock = utc_now,
    record: HistoryStore | None = None,
    notify: Sequence[NotifyTarget] = (),
    report_url: str | None = None,
) -> AuditRun:
    """Run the audit ``spec``, then render, sign (with ``key``) and write its report to ``out``.

    Args:
        spec: The audit spec's path, or the spec already loaded.
        out: The report folder [default: :func:`default_out_dir`].
        key: Sign the report with this private key (see ``attest.load_signing_key``).
        review: The review queue's step (see ``review.workflow.audit_review_step``): it
            enqueues the findings and adds the queue's state to the report.
        engine: Where the evidence is read [default: the engine ``engine_target`` names, else
            the spec's ``engine:``, else a new embedded DuckDB engine].
        engine_target: An engine target (``--engine``: duckdb, spark, a database URL),
            opened for this run and closed after it; overrides the spec's ``engine:``.
        cross_check: Recompute up to this many groups of each fairness rule with fairlearn
            and record the agreement in the (signed) report.
        progress: Told how far the evidence scans and the rules' evaluation are.
        clock: Where the audit's times (and new review items' due times) come from.
        record: Record the run (digests, rule results, group metrics) in this history store
            (see ``session.open_history``); it is closed afterwards.
        notify: Post the outcome to these webhooks (see ``notify.resolve_targets``), besides
            the spec's ``notify:`` entries. A failed post is in ``notifications``, never raised.
        report_url: The report folder's public base URL for notifications [default: its path].

    Returns:
        The result, the report files (bytes read from disk when asked for), the written paths
        and the signer's fingerprint.

    Raises:
        AuditSpecError, PolicyError, EvidenceError: the inputs are wrong; nothing is written.
        OutputError: the report folder cannot be written (checked before the scan).
        ReviewError: the review store cannot be used.
    """
    from ethicsgate.attest import ENVELOPE_FILENAME
    from ethicsgate.audit.run import aware_clock
    from ethicsgate.audit.spec import LoadedAudit, load_audit_spec
    from ethicsgate.canonical import REPORT_FILES
    from ethicsgate.files import check_writable

    clock = aware_clock(clock)
    try:
        loaded = spec if isinstance(spec, LoadedAudit) else load_audit_spec(spec)
        check_writable(
            out if out is not None else report_dir(loaded.spec.id),
            files=(*REPORT_FILES, ENVELOPE_FILENAME),
        )
        targets = list(notify)
        if loaded.spec.notify:
            from ethicsgate.notify.targets import resolve_targets

            # resolved before the scan: an unset ${VAR} fails fast (exit 2), not after the audit
            targets += resolve_targets(
                spec_targets=[t.model_dump() for t in loaded.spec.notify],
                spec_locations=[
                    loaded.document.locate(("notify", i, "url"))
                    for i in range(len(loaded.spec.notify))
                ],
            )
        audit = review.prepare(loaded) if review is not None else loaded
        result, findings = run_collecting_findings(
            audit,
            engine=engine,
            engine_target=engine_target,
            cross_check=cross_check,
            progress=progress,
            clock=clock,
        )
        with findings:  # the temporary findings file is removed once the report is written
            if record is not None:  # drift against the last recorded run, before signing
                from ethicsgate.session.history import history_drift

                result = history_drift(result, loaded.policy.pack, record)
            if review is not None:
                result = review.finish(result, now=clock(), findings=findings)
            files = write_signed_report(
                result, out if out is not None else default_out_dir(result), key, findings=findings
            )
        written = files.paths
    except BaseException:
        if record is not None:  # opened before the scan: release it when the audit fails
            record.close()
        raise
    signer = signer_fingerprint(key)
    recorded = None
    if record is not None:
        with record:
            recorded = record.record(
                result,
                files,
                report_path=str(written["report.json"]),
                signer=signer,
                recorded_at=clock(),
            )
    outcomes: list[NotifyOutcome] = []
    if targets:
        from ethicsgate.notify.send import notify as post

        outcomes = post(result, targets, report=_report_link(written, report_url))
    return AuditRun(
        result=result,
        files=files,
        written=written,
        signer=signer,
        recorded=recorded,
        notifications=tuple(outcomes),
    )


def _report_link(written: Mapping[str, Path], report_url: str | None) -> str | None:
    """Return where people open the report: ``report_url``/report.html, else its path."""
    name = "report.html" if "report.html" in written else "report.json"
    if name not in written:
        return None
    if report_url:
        return report_url.rstrip("/") + "/" + name
    return str(written[name])
