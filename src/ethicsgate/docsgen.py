"""Generate the reference pages in docs/ from the models and the CLI, so they cannot drift.

``python -m ethicsgate.docsgen`` rewrites docs/policy-reference.md, docs/cli.md and
docs/python-api-reference.md; a test fails when the committed pages differ from what this
module generates.
"""

from __future__ import annotations

import sys
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel, TypeAdapter

from ethicsgate.policy.fields import format_duration

__all__ = ["cli_reference", "policy_reference", "python_api_reference", "write_docs"]


def _type_text(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if "const" in schema:
        return f"`{schema['const']!r}`"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "anyOf" in schema or "oneOf" in schema:
        parts = [_type_text(s, defs) for s in schema.get("anyOf", schema.get("oneOf", []))]
        return " \\| ".join(p for p in parts if p != "`null`") + (
            " (optional)" if any(p == "`null`" for p in parts) else ""
        )
    kind = schema.get("type")
    if schema.get("title") == "Duration":
        return f"duration (0 to {schema['maxDuration']})"
    if kind in ("integer", "number"):
        return str(kind) + _range_text(schema)
    if kind == "array":
        return f"list of {_type_text(schema.get('items', {}), defs)}"
    if kind == "object":
        values = schema.get("additionalProperties")
        if isinstance(values, dict):
            return f"mapping of name → {_type_text(values, defs)}"
        return "mapping"
    if kind == "null":
        return "`null`"
    return f"{kind}" if kind else "any"


def _number(value: float) -> str:
    """Return a bound as people read it: 100,000, 0.5, 10^15."""
    if isinstance(value, int) and abs(value) >= 10**7:
        exponent = len(str(abs(value))) - 1
        if abs(value) == 10**exponent:
            return f"10^{exponent}"
        return (
            f"2^{abs(value).bit_length()} - 1"
            if value == 2 ** value.bit_length() - 1
            else str(value)
        )
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _range_text(schema: dict[str, Any]) -> str:
    """Return a number field's documented range, e.g. `` (1 to 10^15)``, or ''."""
    low: float | None = schema.get("minimum", schema.get("exclusiveMinimum"))
    high: float | None = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is None and high is None:
        return ""
    if high is None:
        assert low is not None
        return f" (≥ {_number(low)})" if "minimum" in schema else f" (> {_number(low)})"
    if low is None:
        return f" (≤ {_number(high)})" if "maximum" in schema else f" (< {_number(high)})"
    left = "(" if "exclusiveMinimum" in schema else "["
    right = ")" if "exclusiveMaximum" in schema else "]"
    return f" {left}{_number(low)}, {_number(high)}{right}"


def _model_table(model: type[BaseModel]) -> str:
    schema = model.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    rows = ["| field | type | required | default | meaning |", "| --- | --- | --- | --- | --- |"]
    for name, prop in schema.get("properties", {}).items():
        default = prop.get("default", "")
        if prop.get("title") == "Duration" and isinstance(default, str) and "default" in prop:
            default = format_duration(TypeAdapter(timedelta).validate_python(default))
        default_text = f"`{default}`" if name not in required and "default" in prop else ""
        description = (prop.get("description") or "").replace("\n", " ").replace("|", "\\|")
        rows.append(
            f"| `{name}` | {_type_text(prop, defs)} | {'yes' if name in required else 'no'} "
            f"| {default_text} | {description} |"
        )
    doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
    return f"### `{model.__name__}`\n\n{doc}\n\n" + "\n".join(rows) + "\n"


def policy_reference() -> str:
    """Return docs/policy-reference.md: every model of the policy language and every metric."""
    from ethicsgate.audit.spec import AuditSpec
    from ethicsgate.evidence.spec import EvidenceSpec
    from ethicsgate.metrics import METRICS
    from ethicsgate.policy import models

    parts = [
        "# Policy language reference (schema_version 1)\n",
        "Generated from the models by `python -m ethicsgate.docsgen`; do not edit by hand. "
        "The JSON Schemas are in [schemas/](schemas/) and printed by "
        "`ethicsgate policy schema --kind policy|audit|report`.\n",
        "## Policy pack (`policies/*.yaml`)\n",
        _model_table(models.PolicyPack),
        _model_table(models.Reference),
        "## Rule kinds\n",
        "Every rule has `id`, `kind`, `dataset`, `severity` (`block` fails the audit; `warn` and "
        "`info` only report) and may cite `references`. Kinds implemented: "
        + ", ".join(f"`{_kind_name(k)}`" for k in models.rule_kinds())
        + ".\n",
    ]
    for kind in models.rule_kinds():
        parts.append(_model_table(kind))
    for extra in _extra_models(models):
        parts.append(_model_table(extra))
    parts += [
        "## Metrics\n",
        "Definitions follow fairlearn. TP, FP, TN, FN count people by true label and "
        "prediction; N is everyone in the group. A metric whose denominator is 0 is "
        "*undefined* (`null` in report.json) and an assertion that meets it is `error`.\n",
        "| id | name | formula | needs label | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for spec in METRICS.values():
        parts.append(
            f"| `{spec.id}` | {spec.title} | {spec.formula} | "
            f"{'yes' if spec.needs_label else 'no'} | {spec.description} |"
        )
    parts += [
        "",
        "## Audit spec (`audits/*.yaml`)\n",
        _model_table(AuditSpec),
        _model_table(EvidenceSpec),
    ]
    return "\n".join(parts).rstrip() + "\n"


def _kind_name(model: type[BaseModel]) -> str:
    """Return the ``kind`` literal of a rule model."""
    return str(typing.get_args(model.model_fields["kind"].annotation)[0])


def _extra_models(models: Any) -> list[type[BaseModel]]:
    """Return the non-rule models the rules use (assertions, options), in definition order."""
    seen = {models.PolicyPack, models.Reference, *models.rule_kinds()}
    out = []
    for value in vars(models).values():
        if (
            isinstance(value, type)
            and issubclass(value, BaseModel)
            and value.__module__ == models.__name__
            and value not in seen
            and value.__name__ not in ("RuleBase", "StrictModel", "PolicyModel")
        ):
            out.append(value)
    return out


def cli_reference() -> str:
    """Return docs/cli.md: every command's usage and options, from the click definitions."""
    from ethicsgate.cli import cli

    lines = [
        "# Command-line reference\n",
        "Generated from the CLI by `python -m ethicsgate.docsgen`; do not edit by hand.\n",
        "Exit codes of every command: **0** success (every blocking rule passed, or verified), "
        "**1** a blocking rule failed or could not be evaluated (or a signature did not "
        "verify), **2** bad input with a located message and no traceback, **3** internal "
        "error (a bug: please report it with the traceback).\n",
    ]

    def walk(command: click.Command, path: list[str], parent: click.Context | None) -> None:
        # contexts chain to the root, so every command inherits its settings (-h, width)
        settings: dict[str, Any] = {} if parent else dict(cli.context_settings)
        ctx = click.Context(
            command,
            parent=parent,
            info_name=path[-1] if parent else path[0],
            terminal_width=88,
            max_content_width=88,
            **settings,
        )
        if parent is not None:
            lines.append(f"## `{' '.join(path)}`\n")
            lines.append("```text\n" + command.get_help(ctx).rstrip() + "\n```\n")
        if isinstance(command, click.Group):
            for name in sorted(command.list_commands(ctx)):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    walk(sub, [*path, name], ctx)

    walk(cli, ["ethicsgate"], None)
    return "\n".join(lines).rstrip() + "\n"


#: The public Python names, by the module users import them from (docs/python-api.md).
PYTHON_API = {
    "ethicsgate": [
        "audit",
        "AuditReport",
        "AuditFailed",
        "load_policy",
        "LoadedPolicy",
        "verify",
        "generate_keypair",
        "open_store",
        "ReviewStore",
        "EthicsgateError",
        "PolicyError",
        "AuditSpecError",
        "EvidenceError",
        "OutputError",
        "SigningError",
        "VerificationError",
        "ReviewError",
    ],
    "ethicsgate.testing": ["assert_policy"],
    "ethicsgate.session": ["open_history"],
    "ethicsgate.history": ["HistoryStore", "RecordedRun", "RunDetail", "TrendResult"],
    "ethicsgate.notify": ["resolve_targets", "notify", "build_payload", "NotifyOutcome"],
    "ethicsgate.evidence.arrow": ["arrow_ipc_sha256", "read_arrow_file", "to_arrow_table"],
}


def _signature(obj: Any) -> str:
    import inspect
    import re

    try:
        text = str(inspect.signature(obj))
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return "(...)"
    return re.sub(r"<function (\w+) at 0x[0-9a-f]+>", r"\1", text)  # no memory addresses


def python_api_reference() -> str:
    """Return docs/python-api-reference.md: each public name's signature and docstring."""
    import importlib
    import inspect

    lines = [
        "# Python API reference\n",
        "Generated from the docstrings by `python -m ethicsgate.docsgen`; do not edit by hand. "
        "The guide with examples is [python-api.md](python-api.md).\n",
    ]
    for module_name, names in PYTHON_API.items():
        module = importlib.import_module(module_name)
        lines.append(f"## `{module_name}`\n")
        for name in names:
            # ethicsgate.audit is also the audit package; its call is ethicsgate.api.audit
            home = importlib.import_module("ethicsgate.api") if name == "audit" else module
            obj = getattr(home, name)
            if inspect.isclass(obj):
                lines.append(f"### class `{module_name}.{name}`\n")
                lines.append((inspect.getdoc(obj) or "").strip() + "\n")
                for member, value in sorted(vars(obj).items()):
                    if member.startswith("_") and member != "_repr_html_":
                        continue
                    doc = inspect.getdoc(value.fget if isinstance(value, property) else value)
                    if isinstance(value, property):
                        lines.append(f"- `{member}` (property): {(doc or '').splitlines()[0]}")
                    elif inspect.isfunction(value):
                        first = (doc or "").splitlines()[0] if doc else ""
                        lines.append(f"- `{member}{_signature(value)}`: {first}")
                lines.append("")
            else:
                lines.append(f"### `{module_name}.{name}{_signature(obj)}`\n")
                lines.append("```text\n" + (inspect.getdoc(obj) or "").strip() + "\n```\n")
    return "\n".join(lines).rstrip() + "\n"


def write_docs(docs: Path) -> list[Path]:
    """Write the generated pages into ``docs``."""
    pages = {
        "policy-reference.md": policy_reference(),
        "cli.md": cli_reference(),
        "python-api-reference.md": python_api_reference(),
    }
    written = []
    for name, text in pages.items():
        (docs / name).write_text(text, encoding="utf-8")
        written.append(docs / name)
    return written


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs")
    for page in write_docs(target):
        print(f"wrote {page}")
