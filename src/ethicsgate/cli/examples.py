"""``ethicsgate examples bakery|compas``: write example evidence, policies and audit specs."""

from __future__ import annotations

from pathlib import Path

import click

from ethicsgate.cli._options import format_option, out_dir_option
from ethicsgate.cli._output import echo

__all__ = ["examples"]

#: How the writers' errors name the folder and the overwrite switch here (their flags).
_OPTIONS = ("--out", "--force")


@click.group()
def examples() -> None:
    """Write example evidence, policies and audit specs to try ethicsgate on."""


@examples.command("bakery")
@out_dir_option("Folder to write the data, bakery-policy.yaml and audit.yaml into.", required=True)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same data.")
@click.option("--data-only", is_flag=True, help="Write only the evidence files and README.md.")
@click.option("--force", is_flag=True, help="Overwrite files there that differ (edited ones).")
@format_option(show_default=False)
def bakery(out: Path, seed: int, data_only: bool, force: bool, fmt: str) -> None:
    """Write a small bakery's chatbot, email, consent and loyalty-discount logs.

    The violations are planted on purpose; run ``ethicsgate audit OUT/audit.yaml`` to find
    them (exit 1: blocking rules fail, as they should).
    """
    import json

    from ethicsgate.examples.bakery import EXPECTED, audit_command, generate_bakery
    from ethicsgate.files import check_writable

    check_writable(out)
    written = generate_bakery(
        out, seed=seed, with_audit=not data_only, force=force, options=_OPTIONS
    )
    if fmt == "json":
        data = {
            "seed": seed,
            "files": {name: str(path) for name, path in written.items()},
            "expected": EXPECTED,
        }
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for path in written.values():
        echo(f"wrote {path}")
    if not data_only:
        echo(f"next: {audit_command(out)}")


@examples.command("compas")
@out_dir_option(
    "Folder to write compas-scores-two-years.csv, audit.yaml and README.md into.", required=True
)
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Use this copy of compas-scores-two-years.csv instead of downloading it (offline); "
    "it must have the pinned sha256.",
)
@click.option("--data-only", is_flag=True, help="Write only the CSV.")
@click.option("--force", is_flag=True, help="Overwrite files there that differ (edited ones).")
@format_option(show_default=False)
def compas(out: Path, source: Path | None, data_only: bool, force: bool, fmt: str) -> None:
    """Download ProPublica's COMPAS data, checked and cached, with an audit spec.

    The file (7,214 defendants, with names and dates of birth, no license) comes from
    ProPublica's public repository, is accepted only with its pinned sha256 and is kept in
    ~/.cache/ethicsgate (or $XDG_CACHE_HOME), so it is downloaded once. Offline, download it
    elsewhere and pass it with --from.
    """
    import json

    from ethicsgate.examples.compas import (
        COMPAS_SHA256,
        COMPAS_URL,
        audit_command,
        write_compas_example,
    )
    from ethicsgate.files import check_writable

    check_writable(out)
    written = write_compas_example(
        out, source=source, with_audit=not data_only, force=force, options=_OPTIONS
    )
    if fmt == "json":
        data = {
            "url": COMPAS_URL,
            "sha256": COMPAS_SHA256,
            "files": {name: str(path) for name, path in written.items()},
        }
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for path in written.values():
        echo(f"wrote {path}")
    if not data_only:
        echo(f"next: {audit_command(out)}")
