"""``ethicsgate publish``: write a public transparency statement (HTML, Markdown, JSON)."""

from __future__ import annotations

from pathlib import Path

import click

from ethicsgate.cli._options import key_option, out_dir_option
from ethicsgate.cli._output import echo

__all__ = ["publish"]


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@out_dir_option("Folder for statement.html, statement.md and statement.json.", required=True)
@click.option(
    "--k",
    "k",
    type=click.IntRange(min=2),
    default=10,
    show_default=True,
    help="Publish no value computed from fewer than this many people.",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The policy a report was made with [default: the path the report records].",
)
@key_option("statement")
def publish(
    source: Path, out: Path, k: int, policy_path: Path | None, key_path: Path | None
) -> None:
    """Publish the transparency statement of SOURCE: an audit spec (run now) or a report.

    SOURCE is audits/*.yaml, a report.json or its folder. The policy's `systems:` section
    describes each automated system; the latest results are summarised in plain words, with
    groups and values based on fewer than --k people left out. Exits 0 when written (whatever
    the audit found), 2 on bad input.
    """
    from ethicsgate.cli.keys import load_cli_signing_key
    from ethicsgate.session.publish import publish_statement

    key = load_cli_signing_key(key_path)
    run = publish_statement(source, out, k=k, policy=policy_path, key=key)
    for path in run.written:
        echo(f"wrote {path}")
