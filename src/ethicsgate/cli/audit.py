"""``ethicsgate audit``: run an audit spec and write its report."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ethicsgate.cli._output import echo, style
from ethicsgate.cli._reporting import key_option
from ethicsgate.vocabulary import STATUS_ICONS as _ICONS

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult
    from ethicsgate.evidence import ProgressCallback

__all__ = ["audit"]

_COLORS = {"pass": "green", "fail": "red", "warn": "yellow", "error": "magenta"}


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressCallback | None]:
    """Show rich progress bars on stderr for the evidence scans and the rules' evaluation."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ethicsgate.audit.run import EVALUATING

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def update(name: str, fraction: float) -> None:
            if name not in tasks:
                # evidence names are ids (letters, digits, '_', '.', '-'): no markup in them
                label = name if name == EVALUATING else f"scanning [bold]{name}[/bold]"
                tasks[name] = bar.add_task(label, total=1.0)
            bar.update(tasks[name], completed=fraction)  # type: ignore[arg-type]

        yield update


def _print_text(result: AuditResult, written: dict[str, Path]) -> None:
    for rule in result.rules:
        status = rule.status.value
        echo(
            style(f"{_ICONS[status]} {status.upper():5}", fg=_COLORS.get(status)),
            f" {rule.id} ({rule.severity}): {rule.message}",
        )
    status = result.status
    s = result.summary
    echo(
        style(f"\naudit {result.audit.id}: {status.upper()}", fg=_COLORS[status], bold=True),
        f" — {s.rules} rule(s): {s.passed} passed, {s.failed} failed, {s.warned} warned, "
        f"{s.errors} error(s)",
    )
    if "report.html" in written:
        echo(f"report: {written['report.html']}")


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
@key_option("report")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress bars while scanning evidence and evaluating rules "
    "[default: when on a terminal].",
)
@click.option(
    "--enqueue",
    is_flag=True,
    help="Put the findings of rules that ask for review into the review queue (idempotent).",
)
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    help="Review store for --enqueue and the report's review section [env: ETHICSGATE_DB_URL].",
)
@click.pass_context
def audit(
    ctx: click.Context,
    spec: Path,
    out: Path | None,
    fmt: str,
    key_path: Path | None,
    progress: bool | None,
    enqueue: bool = False,
    db_url: str | None = None,
) -> None:
    """Run the audit SPEC (audits/*.yaml) and write a report, signed when a key is given.

    Exits 0 when every blocking rule passes, 1 when one fails or cannot be evaluated,
    2 when the policy, the audit spec, the evidence or the key is wrong.
    """
    from ethicsgate.audit import run_audit
    from ethicsgate.cli import EXIT_FAILED, EXIT_OK
    from ethicsgate.cli._reporting import load_key_option, render_report, write_report_dir
    from ethicsgate.cli.review import prepare_audit_review
    from ethicsgate.report import render_json

    key = load_key_option(key_path)  # fail on a bad key before the scan, not after
    review_step = prepare_audit_review(spec, enqueue=enqueue, db_url=db_url)
    show_progress = sys.stderr.isatty() if progress is None else progress
    with _progress(show_progress) as callback:
        result = run_audit(review_step.audit, progress=callback)
    result = review_step.finish(result)
    out_dir = out if out is not None else Path("reports") / result.audit.id
    files, signer = render_report(result, key)
    written = write_report_dir(out_dir, files)
    if fmt == "json":
        click.echo(render_json(result).decode("utf-8"), nl=False)
    else:
        _print_text(result, written)
        if signer:
            echo(f"signed: {written['report.intoto.json']} (key {signer})")
    ctx.exit(EXIT_OK if result.status == "pass" else EXIT_FAILED)
