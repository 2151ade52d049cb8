"""Render every file of a report or a statement: in memory, or streamed to staged files.

A report of 100,000 groups is hundreds of megabytes of text (``report.json``, ``groups.csv``);
:func:`stage_report_files` writes each file to a staging folder as it is rendered, hashing it
as it goes, so that it is signed by its digest and moved into place without being held.
"""

from __future__ import annotations

from pathlib import Path

from ethicsgate.audit.result import AuditResult
from ethicsgate.files import StagedFiles, staged_files
from ethicsgate.publish.statement import Statement
from ethicsgate.report.formats import REPORT_FORMATS, STATEMENT_FORMATS
from ethicsgate.report.formats.base import ReportInput, StatementInput, write_rendered

__all__ = ["report_files", "stage_report_files", "statement_files", "write_report"]


def report_files(result: AuditResult, *, signer: str | None = None) -> dict[str, bytes]:
    """Render every report format in memory, by file name (``report.json``, ``groups.csv``...).

    The report's view is built once and shared by the formats that lay it out.
    """
    source = ReportInput(result, signer=signer)
    return {r.filename: r.render(source) for r in REPORT_FORMATS.values()}


def stage_report_files(
    result: AuditResult, staged: StagedFiles, *, signer: str | None = None
) -> dict[str, str]:
    """Write every report format to ``staged`` as it is rendered; return the files' SHA-256s.

    The bytes are :func:`report_files`'s; the digests (hex, by file name) are computed as the
    bytes are written, for signing.
    """
    source = ReportInput(result, signer=signer)
    digests = {}
    for renderer in REPORT_FORMATS.values():
        with staged.open(renderer.filename) as out:
            write_rendered(renderer, source, out)
        digests[renderer.filename] = staged.digests[renderer.filename]
    return digests


def statement_files(statement: Statement, *, signer: str | None = None) -> dict[str, bytes]:
    """Render ``statement.json``, ``statement.html`` and ``statement.md`` in memory."""
    source = StatementInput(statement, signer=signer)
    return {r.filename: r.render(source) for r in STATEMENT_FORMATS.values()}


def write_report(
    result: AuditResult, out_dir: Path, *, signer: str | None = None
) -> dict[str, Path]:
    """Render and write every report file (``report.json``, ``groups.csv``...) into ``out_dir``.

    Every file is rendered into a staging folder before any is moved into place: an error
    leaves ``out_dir`` as it was. Returns the paths by file name.
    """
    with staged_files(out_dir) as staged:
        stage_report_files(result, staged, signer=signer)
        return dict(staged.commit().paths)
