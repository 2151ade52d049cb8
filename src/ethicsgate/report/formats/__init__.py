"""Every output format, in one registry: a :class:`Renderer` per document and format name.

Three kinds of document are rendered: the report of an audit (``report.json``, ``.html``,
``.md``, and its group table ``groups.parquet`` and ``groups.csv``), a release gate (JUnit,
SARIF, the CI step summary) and a public transparency statement (``statement.json``,
``.html``, ``.md``). :data:`FORMATS` maps each document to its formats by name; adding a
format is adding an entry, and ``report_files`` and ``statement_files`` (``report/render.py``)
render every entry of their document (``ethicsgate.canonical.RENDERED_REPORT_FILES``). A
new report file is signed only when its name is also in ``ethicsgate.canonical.REPORT_FILES``
(which adds ``findings.parquet``, collected while the audit runs, not rendered).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ethicsgate.gate.outcome import GateResult
from ethicsgate.report.formats.base import (
    Format,
    Renderer,
    ReportInput,
    StatementInput,
    html_environment,
)
from ethicsgate.report.formats.groups import GROUPS_CSV_FORMAT, GROUPS_PARQUET_FORMAT
from ethicsgate.report.formats.html import HTML
from ethicsgate.report.formats.json import JSON
from ethicsgate.report.formats.junit import JUNIT
from ethicsgate.report.formats.markdown import MARKDOWN
from ethicsgate.report.formats.sarif import SARIF
from ethicsgate.report.formats.statement import (
    STATEMENT_HTML_FORMAT,
    STATEMENT_JSON_FORMAT,
    STATEMENT_MARKDOWN_FORMAT,
)
from ethicsgate.report.formats.summary import SUMMARY

__all__ = [
    "FORMATS",
    "GATE_FORMATS",
    "REPORT_FORMATS",
    "STATEMENT_FORMATS",
    "Format",
    "Renderer",
    "ReportInput",
    "StatementInput",
    "get_format",
    "html_environment",
]

#: The formats of an audit's report, in the order its files are written.
REPORT_FORMATS: dict[str, Renderer[ReportInput]] = {
    r.name: r for r in (JSON, HTML, MARKDOWN, GROUPS_PARQUET_FORMAT, GROUPS_CSV_FORMAT)
}
#: The formats of a release gate, for CI.
GATE_FORMATS: dict[str, Renderer[GateResult]] = {r.name: r for r in (JUNIT, SARIF, SUMMARY)}
#: The formats of a public transparency statement.
STATEMENT_FORMATS: dict[str, Renderer[StatementInput]] = {
    r.name: r for r in (STATEMENT_JSON_FORMAT, STATEMENT_HTML_FORMAT, STATEMENT_MARKDOWN_FORMAT)
}
#: document -> format name -> renderer: every output format ethicsgate has.
FORMATS: dict[str, Mapping[str, Renderer[Any]]] = {
    "report": REPORT_FORMATS,
    "gate": GATE_FORMATS,
    "statement": STATEMENT_FORMATS,
}


def get_format(document: str, name: str) -> Renderer[Any]:
    """Return the renderer of one format of a document: ``get_format("gate", "sarif")``.

    Raises:
        KeyError: no such document or format; the message lists the known ones.
    """
    formats = FORMATS.get(document)
    if formats is None:
        raise KeyError(f"unknown document {document!r} (known: {', '.join(sorted(FORMATS))})")
    renderer = formats.get(name)
    if renderer is None:
        known = ", ".join(sorted(formats))
        raise KeyError(f"unknown {document} format {name!r} (known: {known})")
    return renderer
