"""``ethicsgate policy list|check|explain|schema``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import click

from ethicsgate.cli._options import format_option
from ethicsgate.cli._output import echo, secho

__all__ = ["policy"]


@click.group()
def policy() -> None:
    """Validate policy packs, explain them in plain language, print their schema."""


@policy.command("list")
@format_option(show_default=False)
def list_(fmt: str) -> None:
    """List the policy packs shipped with ethicsgate.

    An audit spec uses one as `policy: pack:NAME`; the report pins it by version and sha256.
    """
    from dataclasses import asdict

    from ethicsgate.policy.loader import list_packs
    from ethicsgate.policy.packs import PACK_PREFIX

    packs = list_packs()
    if fmt == "json":
        click.echo(json.dumps([asdict(p) for p in packs], indent=2))
        return
    wrap = textwrap.TextWrapper(
        width=88, initial_indent="    ", subsequent_indent="      ", break_on_hyphens=False
    )
    for pack in packs:
        systems = f", {pack.systems} system(s)" if pack.systems else ""
        echo(f"{PACK_PREFIX}{pack.name}  {pack.version}  ({pack.rules} rule(s){systems})")
        echo(f"  {pack.title}")
        if pack.jurisdiction:
            since = f", in force from {pack.in_force}" if pack.in_force else ""
            echo(f"  {pack.jurisdiction}{since}")
        for ref in pack.references:
            echo(wrap.fill(ref))
    echo(
        "\nuse one in an audit spec as `policy: pack:NAME`, explain it with "
        "`ethicsgate policy explain pack:NAME`, or copy it with `ethicsgate init --pack NAME`"
    )


@policy.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option(show_default=False)
@click.pass_context
def check(ctx: click.Context, files: tuple[Path, ...], fmt: str) -> None:
    """Validate policy packs (files or pack:NAME); exit 2 if one is invalid.

    The error names file:line:column and the fix.
    """
    from ethicsgate.cli import EXIT_BAD_INPUT
    from ethicsgate.errors import EthicsgateError
    from ethicsgate.policy import load_policy

    results = []
    for file in files:
        try:
            loaded = load_policy(file)
        except EthicsgateError as exc:
            results.append({"path": str(file), "ok": False, "error": exc.diagnostics()})
            if fmt == "text":
                secho(f"error: {exc.diagnostics()}", err=True, fg="red")
            continue
        pack = loaded.pack
        results.append(
            {
                "path": str(file),
                "ok": True,
                "id": pack.id,
                "version": pack.version,
                "rules": len(pack.rules),
                "sha256": loaded.sha256,
            }
        )
        if fmt == "text":
            echo(f"ok  {file}  ({pack.id} {pack.version}, {len(pack.rules)} rule(s))")
    if fmt == "json":
        click.echo(json.dumps(results, indent=2))
    if not all(r["ok"] for r in results):
        ctx.exit(EXIT_BAD_INPUT)


@policy.command("explain")
@click.argument("file", type=click.Path(path_type=Path))
@format_option(show_default=False)
def explain(file: Path, fmt: str) -> None:
    """Describe a policy pack (a file or pack:NAME) in plain language.

    Each rule, its effect and its sources.
    """
    from ethicsgate.policy import load_policy
    from ethicsgate.rules.explain import explain_policy

    described = explain_policy(load_policy(file).pack)
    if fmt == "json":
        click.echo(json.dumps(described, indent=2))
        return
    wrap = textwrap.TextWrapper(
        width=88, subsequent_indent="   ", break_long_words=False, break_on_hyphens=False
    )
    echo(f"{described['title']}  ({described['id']} {described['version']})")
    echo(f"Owner: {described['owner']}")
    if described["description"]:
        echo("\n" + textwrap.fill(described["description"], width=88))
    scope = described["scope"]
    if scope:
        bullet = textwrap.TextWrapper(
            width=88, initial_indent="  - ", subsequent_indent="    ", break_on_hyphens=False
        )
        echo(f"\nJurisdiction: {scope['jurisdiction']}")
        if scope["applies_to"]:
            echo(textwrap.fill(f"Applies to: {scope['applies_to']}", width=88))
        if scope["in_force"]:
            echo("In force:")
            for day in scope["in_force"]:
                echo(bullet.fill(f"{day['date']}: {day['what']}"))
        if scope["left_to_people"]:
            echo("Not checked here, left to people:")
            for item in scope["left_to_people"]:
                echo(bullet.fill(item))
    for number, rule in enumerate(described["rules"], start=1):
        echo(f"\n{number}. {rule['title']}  [{rule['id']}, {rule['kind']}]")
        echo(wrap.fill("   " + rule["checks"]))
        echo(wrap.fill("   " + rule["severity"]))
        for ref in rule["references"]:
            url = f" <{ref['url']}>" if ref["url"] else ""
            echo(wrap.fill(f"   Source: {ref['title']}{url}"))


@policy.command("schema")
@click.option(
    "--kind",
    type=click.Choice(["policy", "audit", "report"]),
    default="policy",
    show_default=True,
    help="Which file's schema to print.",
)
def schema(kind: str) -> None:
    """Print the JSON Schema of policy packs, audit specs or report.json."""
    from ethicsgate.schemas import json_schema

    click.echo(json.dumps(json_schema(kind), indent=2, sort_keys=True))
