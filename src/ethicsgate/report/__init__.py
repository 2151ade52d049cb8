"""Reports and every other output: one package for presentation.

``views/`` shapes an audit result for people (built once per report); ``formats/`` holds one
registry of renderers (``FORMATS``) for the report (canonical JSON, HTML, Markdown and the
group table as Parquet and CSV), the release gate (JUnit, SARIF, CI step summary) and public
statements; ``render.py`` renders a document's files in memory, or streams them to staged files that
are moved into place together.
"""

from ethicsgate.report.formats import (
    FORMATS,
    GATE_FORMATS,
    REPORT_FORMATS,
    STATEMENT_FORMATS,
    Format,
    Renderer,
    ReportInput,
    StatementInput,
    get_format,
)
from ethicsgate.report.formats.groups import render_groups_csv, render_groups_parquet
from ethicsgate.report.formats.html import render_html
from ethicsgate.report.formats.json import render_json, report_schema
from ethicsgate.report.formats.junit import render_junit
from ethicsgate.report.formats.markdown import render_markdown
from ethicsgate.report.formats.sarif import render_sarif
from ethicsgate.report.formats.statement import (
    render_statement_html,
    render_statement_json,
    render_statement_markdown,
)
from ethicsgate.report.formats.summary import render_summary
from ethicsgate.report.render import (
    report_files,
    stage_report_files,
    statement_files,
    write_report,
)
from ethicsgate.report.views import ReportView, report_view
from ethicsgate.report.views.groups import GROUP_COLUMNS, group_table

__all__ = [
    "FORMATS",
    "GATE_FORMATS",
    "GROUP_COLUMNS",
    "REPORT_FORMATS",
    "STATEMENT_FORMATS",
    "Format",
    "Renderer",
    "ReportInput",
    "ReportView",
    "StatementInput",
    "get_format",
    "group_table",
    "render_groups_csv",
    "render_groups_parquet",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_sarif",
    "render_statement_html",
    "render_statement_json",
    "render_statement_markdown",
    "render_summary",
    "report_files",
    "report_schema",
    "report_view",
    "stage_report_files",
    "statement_files",
    "write_report",
]
