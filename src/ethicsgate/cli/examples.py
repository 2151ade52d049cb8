"""``ethicsgate examples bakery``: write example evidence with known, seeded violations."""

from __future__ import annotations

from pathlib import Path

import click

from ethicsgate.cli._options import format_option, out_dir_option
from ethicsgate.cli._output import echo

__all__ = ["examples"]


@click.group()
def examples() -> None:
    """Write example evidence, policies and audit specs to try ethicsgate on."""


@examples.command("bakery")
@out_dir_option("Folder to write the data, bakery-policy.yaml and audit.yaml into.", required=True)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same data.")
@click.option("--data-only", is_flag=True, help="Write only the evidence files and README.md.")
@format_option(show_default=False)
def bakery(out: Path, seed: int, data_only: bool, fmt: str) -> None:
    """Write a small bakery's chatbot, email, consent and loyalty-discount logs.

    The violations are planted on purpose; run ``ethicsgate audit OUT/audit.yaml`` to find
    them (exit 1: blocking rules fail, as they should).
    """
    import json

    from ethicsgate.examples.bakery import EXPECTED, generate_bakery

    written = generate_bakery(out, seed=seed, with_audit=not data_only)
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
        echo(f"next: ethicsgate audit {out / 'audit.yaml'} --out {out / 'report'}")
