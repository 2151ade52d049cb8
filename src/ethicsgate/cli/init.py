"""``ethicsgate init``: scaffold a project for a new user."""

from __future__ import annotations

from pathlib import Path

import click

from ethicsgate.cli._output import echo

__all__ = ["init"]


@click.command("init")
@click.argument("directory", required=False, default=".", type=click.Path(path_type=Path))
@click.option(
    "--pack",
    metavar="NAME",
    help="Start from a shipped policy pack instead (`ethicsgate policy list`): copy it to "
    "policies/NAME.yaml with an audit spec audits/NAME.yaml to fill in.",
)
def init(directory: Path, pack: str | None) -> None:
    """Create policies/, audits/ and a sample audit in DIRECTORY (default: here).

    Refuses to overwrite any file; the sample audit runs as-is. With --pack, writes a copy of
    that shipped pack and an audit spec whose evidence paths and columns you fill in.
    """
    from ethicsgate.files import check_writable
    from ethicsgate.scaffold import scaffold_pack, scaffold_project

    check_writable(directory, what="the project folder")
    written = scaffold_project(directory) if pack is None else scaffold_pack(directory, pack)
    for path in written:
        echo(f"wrote {path}")
    if pack is None:
        echo(f"\nnext: ethicsgate audit {directory / 'audits' / 'sample.yaml'}")
        return
    spec = written[-1]
    echo(
        f"\nnext: put your evidence in {directory / 'data'}/, map its columns in {spec} "
        f"(`ethicsgate policy explain {written[0]}` says what each rule reads), then run "
        f"ethicsgate audit {spec}"
    )
