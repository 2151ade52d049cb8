"""``ethicsgate audit``: run an audit spec and write its report."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ethicsgate.cli._options import (
    cross_check_limit,
    cross_check_options,
    db_option,
    engine_option,
    format_option,
    key_option,
    out_dir_option,
    spec_argument,
)
from ethicsgate.cli._output import echo, style
from ethicsgate.vocabulary import STATUS_ICONS as _ICONS

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult
    from ethicsgate.audit.spec import LoadedAudit
    from ethicsgate.evidence import ProgressCallback
    from ethicsgate.session.audit import AuditRun

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


def _print_text(result: AuditResult, written: Mapping[str, Path]) -> None:
    for rule in result.rules:
        status = rule.status.value
        echo(
            style(f"{_ICONS[status]} {status.upper():5}", fg=_COLORS.get(status)),
            f" {rule.id} ({rule.severity}): {rule.message}",
        )
    status = result.status
    s = result.summary
    # skipped and waived rules checked nothing: said, so that a PASS of unchecked rules shows
    unchecked = "".join(
        f", {n} {word}"
        for word, n in (
            ("skipped", sum(r.status.value == "skipped" for r in result.rules)),
            ("waived", s.waived),
        )
        if n
    )
    echo(
        style(f"\naudit {result.audit.id}: {status.upper()}", fg=_COLORS[status], bold=True),
        f" — {s.rules} rule(s): {s.passed} passed, {s.failed} failed, {s.warned} warned, "
        f"{s.errors} error(s){unchecked}",
    )
    if "report.html" in written:
        echo(f"report: {written['report.html']}")


@click.command()
@spec_argument()
@out_dir_option(
    "Folder for report.json, .html, .md, groups.parquet and .csv [default: reports/<audit id>/]."
)
@format_option("What to print: a summary, or report.json itself.")
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
    "--record",
    is_flag=True,
    help="Record the run (report digest, rule results, group metrics) in the history store "
    "(`ethicsgate history`), the review store's database.",
)
@db_option(
    "Review and history store for --enqueue, --record and the report's review section "
    "[env: ETHICSGATE_DB_URL; default for --record: sqlite:///.ethicsgate/review.db]."
)
@click.option(
    "--notify",
    "notify_urls",
    multiple=True,
    metavar="URL",
    help="Post failing rules and groups to this webhook (repeatable; slack:URL, teams:URL or "
    "generic:URL sets the format, else guessed from the host; ${VAR} is read from the "
    "environment). A failed post is reported and never changes the exit code.",
)
@click.option(
    "--report-url",
    metavar="URL",
    help="Public base URL of the report folder, for the link in notifications [default: its path].",
)
@engine_option()
@click.option(
    "--window",
    metavar="UNIT[:COLUMN][@ZONE]",
    help="Judge the fairness rules per time window: day, week, month or quarter, or the last "
    "N days (90d), by COLUMN [default: the spec's window column, else the timestamp role], "
    "in the calendar of the IANA time ZONE (e.g. month:decided_at@Europe/Berlin) [default: "
    "the spec's `time_zone`, else UTC]; overrides the spec's `window:`.",
)
@cross_check_options()
@click.pass_context
def audit(
    ctx: click.Context,
    spec: Path,
    out: Path | None,
    fmt: str,
    key_path: Path | None,
    progress: bool | None,
    enqueue: bool = False,
    record: bool = False,
    db_url: str | None = None,
    notify_urls: tuple[str, ...] = (),
    report_url: str | None = None,
    engine_target: str | None = None,
    cross_check: str | None = None,
    cross_check_groups: int = 1000,
    window: str | None = None,
) -> None:
    """Run the audit SPEC (audits/*.yaml) and write a report, signed when a key is given.

    Exits 0 when every blocking rule passes, 1 when one fails or cannot be evaluated,
    2 when the policy, the audit spec, the evidence or the key is wrong.
    """
    from ethicsgate.cli import EXIT_FAILED, EXIT_OK
    from ethicsgate.cli.keys import load_cli_signing_key
    from ethicsgate.review.workflow import audit_review_step
    from ethicsgate.session.audit import run_and_report

    target: Path | LoadedAudit = spec
    if window is not None:
        from ethicsgate.audit.spec import load_audit_spec, parse_window_option, with_window

        target = with_window(load_audit_spec(spec), parse_window_option(window), option=window)
    # a bad key or review store fails before the scan, not after
    key = load_cli_signing_key(key_path)
    review = audit_review_step(enqueue=enqueue, db_url=db_url)
    history = None
    if record:
        from ethicsgate.session.history import open_history

        history = open_history(db_url)
    targets = []
    if notify_urls:
        from ethicsgate.notify.targets import resolve_targets

        targets = resolve_targets(notify_urls)
    show_progress = sys.stderr.isatty() if progress is None else progress
    with _progress(show_progress) as callback:
        run = run_and_report(
            target,
            out=out,
            key=key,
            review=review,
            engine_target=engine_target,
            cross_check=cross_check_limit(cross_check, cross_check_groups),
            progress=callback,
            record=history,
            notify=targets,
            report_url=report_url,
        )
    if fmt == "json":
        click.echo(run.files["report.json"].decode("utf-8"), nl=False)
    else:
        _print_text(run.result, run.written)
        if run.signer:
            echo(f"signed: {run.written['report.intoto.json']} (key {run.signer})")
    _print_side_effects(run)
    ctx.exit(EXIT_OK if run.passed else EXIT_FAILED)


def _print_side_effects(run: AuditRun) -> None:
    """Say on stderr what was recorded and what happened to each notification."""
    if run.recorded is not None:
        echo(
            f"recorded: run {run.recorded.id} (ethicsgate history show {run.recorded.id})", err=True
        )
    for outcome in run.notifications:
        if outcome.skipped:
            echo(f"notify: {outcome.target}: nothing to report, not sent", err=True)
        elif outcome.sent:
            tries = f" after {outcome.attempts} tries" if outcome.attempts > 1 else ""
            echo(f"notify: sent to {outcome.target} ({outcome.format}){tries}", err=True)
        else:
            echo(
                style(
                    f"notify: FAILED to post to {outcome.target} ({outcome.format}) after "
                    f"{outcome.attempts} tr{'y' if outcome.attempts == 1 else 'ies'}: "
                    f"{outcome.error}; the audit's exit code is unchanged",
                    fg="yellow",
                ),
                err=True,
            )
