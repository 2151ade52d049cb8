"""``report.json``: the canonical JSON of an audit result, and its JSON Schema."""

from __future__ import annotations

from typing import Any

from ethicsgate.audit.result import AuditResult
from ethicsgate.canonical import REPORT_JSON, canonical_json
from ethicsgate.report.formats.base import Format, ReportInput

__all__ = ["JSON", "render_json", "report_schema"]


def render_json(result: AuditResult) -> bytes:
    """Return the canonical bytes of ``report.json``: sorted keys, 2-space indent, UTF-8."""
    return canonical_json(result.model_dump(mode="json"))


def report_schema() -> dict[str, Any]:
    """Return the JSON Schema of ``report.json``."""
    schema = AuditResult.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://ethicsgate.dev/schemas/report-v1.json"
    return schema


def _render(source: ReportInput) -> bytes:
    return render_json(source.result)


#: The report as canonical JSON.
JSON: Format[ReportInput] = Format("json", REPORT_JSON, _render)
