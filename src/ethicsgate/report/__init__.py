"""Reports: canonical JSON, HTML and Markdown renderings of an audit result, written atomically."""

from ethicsgate.report.render import (
    render_html,
    render_json,
    render_markdown,
    report_files,
    report_schema,
    write_files_atomically,
    write_report,
)

__all__ = [
    "render_html",
    "render_json",
    "render_markdown",
    "report_files",
    "report_schema",
    "write_files_atomically",
    "write_report",
]
