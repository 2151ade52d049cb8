"""``ethicsgate audit``: run an audit spec and write its report."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult
    from ethicsgate.evidence import ProgressCallback

__all__ = ["audit"]

_ICONS = {"pass": "✔", "fail": "✘", "warn": "⚠", "error": "?", "skipped": "–", "waived": "~"}
_COLORS = {"pass": "green", "fail": "red", "warn": "yellow", "error": "magenta"}


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressCallback | None]:
    """Show a rich progress bar on stderr for evidence scans, when stderr is a terminal."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("scanning [bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def update(name: str, fraction: float) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=1.0)
            bar.update(tasks[name], completed=fraction)  # type: ignore[arg-type]

        yield update


def _print_text(result: AuditResult, written: dict[str, Path]) -> None:
    for rule in result.rules:
        status = rule.status.value
        click.echo(
            click.style(f"{_ICONS[status]} {status.upper():5}", fg=_COLORS.get(status))
            + f" {rule.id} ({rule.severity}): {rule.message}"
        )
    status = result.status
    s = result.summary
    click.echo(
        click.style(f"\naudit {result.audit.id}: {status.upper()}", fg=_COLORS[status], bold=True)
        + f" — {s.rules} rule(s): {s.passed} passed, {s.failed} failed, {s.warned} warned, "
        f"{s.errors} error(s)"
    )
    if "report.html" in written:
        click.echo(f"report: {written['report.html']}")


@click.command()
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for report.json, report.html and report.md [default: reports/<audit id>/].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="What to print: a summary, or report.json itself.",
)
@click.option(
    "--key",
    "key_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Sign the report with this Ed25519 private key [env: ETHICSGATE_SIGNING_KEY].",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar while scanning evidence [default: when on a terminal].",
)
@click.pass_context
def audit(
    ctx: click.Context,
    spec: Path,
    out: Path | None,
    fmt: str,
    key_path: Path | None,
    progress: bool | None,
) -> None:
    """Run the audit SPEC (audits/*.yaml) and write a report, signed when a key is given.

    Exits 0 when every blocking rule passes, 1 when one fails or cannot be evaluated,
    2 when the policy, the audit spec, the evidence or the key is wrong.
    """
    from ethicsgate.audit import run_audit
    from ethicsgate.cli import EXIT_FAILED, EXIT_OK
    from ethicsgate.report import render_json, report_files, write_files_atomically
    from ethicsgate.settings import Settings

    key_path = key_path or Settings().signing_key
    key = None
    if key_path is not None:  # fail on a bad key before the scan, not after
        from ethicsgate.attest import key_fingerprint
        from ethicsgate.cli.keys import load_signing_key

        key = load_signing_key(key_path)
    show_progress = sys.stderr.isatty() if progress is None else progress
    with _progress(show_progress) as callback:
        result = run_audit(spec, progress=callback)
    out_dir = out if out is not None else Path("reports") / result.audit.id
    signer = key_fingerprint(key.public_key()) if key is not None else None
    files = report_files(result, signer=signer)
    if key is not None:
        from ethicsgate.attest import ENVELOPE_FILENAME, sign_report

        files[ENVELOPE_FILENAME] = sign_report(result, files, key)
    written = {p.name: p for p in write_files_atomically(out_dir, files)}
    stale = out_dir / "report.intoto.json"
    if key is None and stale.exists():
        stale.unlink()  # it signed an earlier report and would no longer verify
    if fmt == "json":
        click.echo(render_json(result).decode("utf-8"), nl=False)
    else:
        _print_text(result, written)
        if signer:
            click.echo(f"signed: {written['report.intoto.json']} (key {signer})")
    ctx.exit(EXIT_OK if result.status == "pass" else EXIT_FAILED)
