"""Render every file of a report or a statement in memory (and write a report atomically)."""

from __future__ import annotations

from pathlib import Path

from ethicsgate.audit.result import AuditResult
from ethicsgate.files import write_files_atomically
from ethicsgate.publish.statement import Statement
from ethicsgate.report.formats import REPORT_FORMATS, STATEMENT_FORMATS
from ethicsgate.report.formats.base import ReportInput, StatementInput

__all__ = ["report_files", "statement_files", "write_report"]


def report_files(result: AuditResult, *, signer: str | None = None) -> dict[str, bytes]:
    """Render every report format in memory, by file name (``report.json``, ``groups.csv``...).

    The report's view is built once and shared by the formats that lay it out.
    """
    source = ReportInput(result, signer=signer)
    return {r.filename: r.render(source) for r in REPORT_FORMATS.values()}


def statement_files(statement: Statement, *, signer: str | None = None) -> dict[str, bytes]:
    """Render ``statement.json``, ``statement.html`` and ``statement.md`` in memory."""
    source = StatementInput(statement, signer=signer)
    return {r.filename: r.render(source) for r in STATEMENT_FORMATS.values()}


def write_report(
    result: AuditResult, out_dir: Path, *, signer: str | None = None
) -> dict[str, Path]:
    """Render and write every report file (``report.json``, ``groups.csv``...) into ``out_dir``.

    Everything is rendered before anything is written. Returns the paths by file name.
    """
    written = write_files_atomically(out_dir, report_files(result, signer=signer))
    return {p.name: p for p in written}
