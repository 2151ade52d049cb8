"""``ethicsgate init``: scaffold a project for a new user."""

from __future__ import annotations

from pathlib import Path

import click

from ethicsgate.cli._output import echo

__all__ = ["init"]


@click.command("init")
@click.argument("directory", required=False, default=".", type=click.Path(path_type=Path))
def init(directory: Path) -> None:
    """Create policies/, audits/ and a sample audit in DIRECTORY (default: here).

    Refuses to overwrite any file; the sample audit runs as-is.
    """
    from ethicsgate.scaffold import scaffold_project

    for path in scaffold_project(directory):
        echo(f"wrote {path}")
    spec = directory / "audits" / "sample.yaml"
    echo(f"\nnext: ethicsgate audit {spec}")
