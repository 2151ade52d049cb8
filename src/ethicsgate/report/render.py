"""Render every file of a report or a statement in memory, and write files atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ethicsgate.audit.result import AuditResult
from ethicsgate.publish.statement import Statement
from ethicsgate.report.formats import REPORT_FORMATS, STATEMENT_FORMATS
from ethicsgate.report.formats.base import ReportInput, StatementInput

__all__ = ["report_files", "statement_files", "write_files_atomically", "write_report"]


def report_files(result: AuditResult, *, signer: str | None = None) -> dict[str, bytes]:
    """Render every report format in memory, by file name (``report.json``, ``.html``, ``.md``).

    The report's view is built once and shared by the formats that lay it out.
    """
    source = ReportInput(result, signer=signer)
    return {r.filename: r.render(source) for r in REPORT_FORMATS.values()}


def statement_files(statement: Statement, *, signer: str | None = None) -> dict[str, bytes]:
    """Render ``statement.json``, ``statement.html`` and ``statement.md`` in memory."""
    source = StatementInput(statement, signer=signer)
    return {r.filename: r.render(source) for r in STATEMENT_FORMATS.values()}


def write_files_atomically(out_dir: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write each file to a temporary name in ``out_dir``, then rename it into place.

    Readers never see a half-written file; if rendering or writing fails, no file is
    replaced. Returns the written paths.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, content in files.items():
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
            staged.append((name, Path(tmp_name)))
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, 0o644)
        written = []
        for name, staged_path in staged:
            os.replace(staged_path, out_dir / name)
            written.append(out_dir / name)
        return written
    finally:
        for _, leftover in staged:
            if leftover.exists():
                leftover.unlink()


def write_report(
    result: AuditResult, out_dir: Path, *, signer: str | None = None
) -> dict[str, Path]:
    """Render and write ``report.json``, ``report.html`` and ``report.md`` into ``out_dir``.

    Everything is rendered before anything is written. Returns the paths by file name.
    """
    written = write_files_atomically(out_dir, report_files(result, signer=signer))
    return {p.name: p for p in written}
