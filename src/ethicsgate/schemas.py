"""JSON Schemas of every file ethicsgate reads or writes, as published in docs/schemas/."""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["SCHEMA_KINDS", "json_schema"]

SCHEMA_KINDS = ("policy", "audit", "report")


def json_schema(kind: Literal["policy", "audit", "report"] | str) -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a policy pack, audit spec or report."""
    if kind == "policy":
        from ethicsgate.policy.models import PolicyPack

        schema = PolicyPack.model_json_schema(by_alias=True)
    elif kind == "audit":
        from ethicsgate.audit.spec import AuditSpec

        schema = AuditSpec.model_json_schema(by_alias=True)
    elif kind == "report":
        from ethicsgate.report import report_schema

        return report_schema()
    else:
        raise ValueError(f"unknown schema kind {kind!r}")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://ethicsgate.dev/schemas/{kind}-v1.json"
    return schema
