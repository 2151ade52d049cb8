"""``report.md``: the report as GitHub-flavoured Markdown, every value escaped as text."""

from __future__ import annotations

from ethicsgate.audit.result import AuditResult
from ethicsgate.canonical import REPORT_MARKDOWN
from ethicsgate.report.formats.base import BinarySink, Format, ReportInput
from ethicsgate.report.markdown import markdown_environment
from ethicsgate.report.views import ReportView, report_view

__all__ = ["MARKDOWN", "render_markdown"]


def _markdown(view: ReportView, signer: str | None) -> str:
    template = markdown_environment("ethicsgate.report").get_template("report.md.j2")
    return str(template.render(r=view, signer=signer))


def render_markdown(result: AuditResult, *, signer: str | None = None) -> str:
    """Return the report as GitHub-flavoured Markdown (every value escaped as text)."""
    return _markdown(report_view(result), signer)


def _stream(source: ReportInput, out: BinarySink) -> None:
    template = markdown_environment("ethicsgate.report").get_template("report.md.j2")
    for text in template.generate(r=source.view, signer=source.signer):
        out.write(text.encode("utf-8"))


def _render(source: ReportInput) -> bytes:
    return _markdown(source.view, source.signer).encode("utf-8")


#: The report as GitHub-flavoured Markdown.
MARKDOWN: Format[ReportInput] = Format("markdown", REPORT_MARKDOWN, _render, _stream)
