"""``report.html``: a self-contained HTML report a non-programmer can read."""

from __future__ import annotations

from ethicsgate.audit.result import AuditResult
from ethicsgate.canonical import REPORT_HTML
from ethicsgate.report.formats.base import BinarySink, Format, ReportInput, html_environment
from ethicsgate.report.views import ReportView, report_view

__all__ = ["HTML", "render_html"]


def _html(view: ReportView, signer: str | None) -> str:
    template = html_environment().get_template("report.html.j2")
    return str(template.render(r=view, signer=signer))


def _stream(source: ReportInput, out: BinarySink) -> None:
    template = html_environment().get_template("report.html.j2")
    for text in template.generate(r=source.view, signer=source.signer):
        out.write(text.encode("utf-8"))


def render_html(result: AuditResult, *, signer: str | None = None) -> str:
    """Return a self-contained HTML report a non-programmer can read."""
    return _html(report_view(result), signer)


def _render(source: ReportInput) -> bytes:
    return _html(source.view, source.signer).encode("utf-8")


#: The report as one self-contained HTML page.
HTML: Format[ReportInput] = Format("html", REPORT_HTML, _render, _stream)
