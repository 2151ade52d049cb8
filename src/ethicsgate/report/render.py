"""Render an ``AuditResult`` as canonical JSON, HTML and Markdown, and write them atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ethicsgate.audit.result import AuditResult
from ethicsgate.report.markdown import markdown_environment
from ethicsgate.report.view import report_view

__all__ = [
    "render_html",
    "render_json",
    "render_markdown",
    "report_files",
    "report_schema",
    "write_files_atomically",
    "write_report",
]

REPORT_FILES = ("report.json", "report.html", "report.md")


def render_json(result: AuditResult) -> bytes:
    """Return the canonical bytes of ``report.json``: sorted keys, 2-space indent, UTF-8."""
    data = result.model_dump(mode="json")
    text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def report_schema() -> dict[str, Any]:
    """Return the JSON Schema of ``report.json``."""
    schema = AuditResult.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://ethicsgate.dev/schemas/report-v1.json"
    return schema


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("ethicsgate.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(result: AuditResult, *, signer: str | None = None) -> str:
    """Return a self-contained HTML report a non-programmer can read."""
    template = _environment().get_template("report.html.j2")
    return str(template.render(r=report_view(result), signer=signer))


def render_markdown(result: AuditResult, *, signer: str | None = None) -> str:
    """Return the report as GitHub-flavoured Markdown (every value escaped as text)."""
    template = markdown_environment("ethicsgate.report").get_template("report.md.j2")
    return str(template.render(r=report_view(result), signer=signer))


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


def report_files(result: AuditResult, *, signer: str | None = None) -> dict[str, bytes]:
    """Render ``report.json``, ``report.html`` and ``report.md`` in memory."""
    return {
        "report.json": render_json(result),
        "report.html": render_html(result, signer=signer).encode("utf-8"),
        "report.md": render_markdown(result, signer=signer).encode("utf-8"),
    }


def write_report(
    result: AuditResult, out_dir: Path, *, signer: str | None = None
) -> dict[str, Path]:
    """Render and write ``report.json``, ``report.html`` and ``report.md`` into ``out_dir``.

    Everything is rendered before anything is written. Returns the paths by file name.
    """
    written = write_files_atomically(out_dir, report_files(result, signer=signer))
    return {p.name: p for p in written}
