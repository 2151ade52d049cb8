"""``ethicsgate publish``: write a public transparency statement (HTML, Markdown, JSON)."""

from __future__ import annotations

from pathlib import Path

import click

from ethicsgate.cli._output import echo
from ethicsgate.cli._reporting import key_option

__all__ = ["publish"]


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for statement.html, statement.md and statement.json.",
)
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
    from ethicsgate.cli._reporting import load_key_option, signer_of
    from ethicsgate.publish import (
        STATEMENT_ENVELOPE,
        build_statement,
        load_publish_inputs,
        sign_statement,
    )
    from ethicsgate.report import statement_files, write_files_atomically

    key = load_key_option(key_path)
    pack, result = load_publish_inputs(source, policy=policy_path)
    statement = build_statement(pack, result, k=k)
    signer = signer_of(key)
    files = statement_files(statement, signer=signer)
    if key is not None:
        files[STATEMENT_ENVELOPE] = sign_statement(statement, files, key)
    written = write_files_atomically(out, files)
    stale = out / STATEMENT_ENVELOPE
    if key is None and stale.exists():
        stale.unlink()  # it signed an earlier statement and would no longer verify
    for path in written:
        echo(f"wrote {path}")
