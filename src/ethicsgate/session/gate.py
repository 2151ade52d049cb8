"""One gate session: run the audit, compare it with a baseline, write the report and CI files.

``ethicsgate gate`` is :func:`run_gate` plus printing; nothing here prints or exits. The CI
files are rendered and the report staged before anything is written, so bad input or a
failure leaves no partial output behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ethicsgate.session.audit import (
    AuditRun,
    Clock,
    default_out_dir,
    report_dir,
    run_collecting_findings,
    signer_fingerprint,
    utc_now,
    write_signed_report,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from ethicsgate.audit.spec import LoadedAudit
    from ethicsgate.evidence import Engine
    from ethicsgate.gate.outcome import GateResult

__all__ = ["GateRun", "run_gate"]


@dataclass(frozen=True)
class GateRun:
    """A gate's outcome, its audit report, the CI files written and the Markdown summary."""

    outcome: GateResult
    report: AuditRun
    ci_files: Mapping[str, Path]
    """The JUnit and SARIF files written, by kind (``junit``, ``sarif``)."""
    summary: str
    """The Markdown summary for ``$GITHUB_STEP_SUMMARY``."""

    def to_json(self) -> str:
        """Return the gate's outcome as the JSON ``ethicsgate gate --format json`` prints."""
        return self.outcome.to_json(report=self.report.written["report.json"])


def run_gate(
    spec: Path | str | LoadedAudit,
    *,
    baseline: Path | None = None,
    baseline_key: Ed25519PublicKey | None = None,
    max_regression: float = 0.0,
    significance_level: float = 0.05,  # gate.DEFAULT_SIGNIFICANCE_LEVEL, not imported eagerly
    out: Path | None = None,
    key: Ed25519PrivateKey | None = None,
    junit: Path | None = None,
    sarif: Path | None = None,
    engine: Engine | None = None,
    engine_target: str | None = None,
    cross_check: int | None = None,
    clock: Clock = utc_now,
) -> GateRun:
    """Gate a release on the audit ``spec``; write its report (as an audit does) and CI files.

    Args:
        spec: The audit spec's path, or the spec already loaded.
        baseline: The released model's ``report.json``: regressions beyond the budget block.
        baseline_key: The public key the baseline must be signed with: its envelope beside
            it is verified before it is read, so an edited baseline cannot hide a regression.
        max_regression: The budget of assertions that set no ``max_regression``.
        significance_level: A change beyond the budget blocks only when significant at this
            level (two-sided); 1 counts every change beyond the budget.
        out: The report folder [default: ``reports/<audit id>/``].
        key: Sign the report with this private key.
        junit: Write JUnit XML here.
        sarif: Write SARIF 2.1.0 here.
        engine: Where the evidence is read [default: the engine ``engine_target`` names, else
            the spec's ``engine:``, else a new embedded DuckDB engine].
        engine_target: An engine target (``--engine``: duckdb, spark, a database URL),
            opened for this run and closed after it; overrides the spec's ``engine:``.
        cross_check: Recompute up to this many groups of each fairness rule with fairlearn.
        clock: Where the audit's times come from.

    Returns:
        The gate's outcome, the audit run, the CI files written and the summary.

    Raises:
        AuditSpecError, PolicyError, EvidenceError, BaselineError: the inputs are wrong;
            nothing is written.
        OutputError: an output folder or file cannot be written (checked before the scan).
    """
    from ethicsgate.attest import ENVELOPE_FILENAME
    from ethicsgate.audit import load_audit_spec
    from ethicsgate.audit.spec import LoadedAudit
    from ethicsgate.canonical import REPORT_FILES
    from ethicsgate.errors import OutputError
    from ethicsgate.files import check_writable, write_files_atomically
    from ethicsgate.gate import evaluate_gate, load_baseline
    from ethicsgate.report import render_junit, render_sarif, render_summary

    loaded = spec if isinstance(spec, LoadedAudit) else load_audit_spec(spec)
    # every output's folder is tried before the scan: no report written, then a CI file failing
    check_writable(
        out if out is not None else report_dir(loaded.spec.id),
        files=(*REPORT_FILES, ENVELOPE_FILENAME),
    )
    for ci_file, option in ((junit, "--junit"), (sarif, "--sarif")):
        if ci_file is not None:
            check_writable(ci_file.parent, what=f"the folder of {ci_file.name}", option=option)
            if ci_file.is_dir():
                raise OutputError(
                    f"cannot write {ci_file}: it is a folder",
                    location=ci_file,
                    hint="give a file name, e.g. --junit results/ethicsgate.xml",
                )
    previous = None
    if baseline is not None:  # a bad baseline fails before the scan
        if baseline_key is not None:
            verify_baseline(baseline, baseline_key)
        previous = load_baseline(baseline, policy_id=loaded.policy.pack.id)
    result, findings = run_collecting_findings(
        loaded, engine=engine, engine_target=engine_target, cross_check=cross_check, clock=clock
    )
    with findings:  # the temporary findings file is removed once the report is written
        outcome = evaluate_gate(
            loaded,
            result,
            baseline=previous,
            baseline_name=str(baseline) if baseline is not None else None,
            default_budget=max_regression,
            significance_level=significance_level,
            today=datetime.fromisoformat(result.audit.finished_at).date(),
        )
        # render the CI files before writing anything; the report is staged (write_signed_report)
        extra: dict[str, tuple[Path, bytes]] = {}
        if junit is not None:
            extra["junit"] = (junit, render_junit(outcome))
        if sarif is not None:
            extra["sarif"] = (sarif, render_sarif(outcome))
        summary = render_summary(outcome)

        files = write_signed_report(
            result, out if out is not None else default_out_dir(result), key, findings=findings
        )
    written = files.paths
    ci_files: dict[str, Path] = {}
    for kind, (path, content) in extra.items():
        write_files_atomically(path.parent, {path.name: content})
        ci_files[kind] = path
    report = AuditRun(result=result, files=files, written=written, signer=signer_fingerprint(key))
    return GateRun(outcome=outcome, report=report, ci_files=ci_files, summary=summary)


def verify_baseline(baseline: Path, key: Ed25519PublicKey) -> None:
    """Verify the signed report a baseline ``report.json`` belongs to, with ``key``.

    Raises:
        BaselineError: the baseline is not signed, its envelope is missing, or it does not
            verify with ``key`` (the reasons named).
    """
    from ethicsgate.attest import verify_attestation
    from ethicsgate.errors import BaselineError, VerificationError

    keep = "keep the released report's report.intoto.json beside its report.json"
    try:  # it finds the envelope beside report.json, or says why there is none
        result = verify_attestation(baseline, key)
    except VerificationError as exc:
        raise BaselineError(
            f"the baseline cannot be verified: {exc.message}",
            location=baseline,
            hint=f"{keep}, or leave out --baseline-key to compare with it unverified",
        ) from exc
    if not result.ok:
        raise BaselineError(
            "the baseline report is NOT verified: " + "; ".join(result.reasons),
            location=baseline,
            hint="compare with the report the release was signed with (and the public key "
            f"of the pair that signed it); {keep}",
        )
