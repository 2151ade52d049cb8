"""``ethicsgate history``: list recorded audit runs, show one, follow a rule's metric over runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ethicsgate.cli._options import db_option, format_option
from ethicsgate.cli._output import terminal_safe

if TYPE_CHECKING:
    from ethicsgate.history.store import HistoryStore

__all__ = ["history"]

_FORMAT = format_option("Print a table for people, or JSON.")
_DB = db_option(
    "History store (the review store's database): sqlite:///path.db or "
    "postgresql://user@host/db [env: ETHICSGATE_DB_URL; default: sqlite:///.ethicsgate/review.db]."
)


def _open(db_url: str | None) -> HistoryStore:
    from ethicsgate.session.history import open_history

    # every history command only reads: none may leave a store behind where there was none
    return open_history(db_url, create=False)


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=terminal_safe(title), title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(terminal_safe(_cell(v)) for v in row))
    import sys

    # piped output is not cut to 80 columns: a table of digests and groups needs room
    Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "(all)"
    return str(value)


def _interval(low: float | None, high: float | None) -> str | None:
    return None if low is None or high is None else f"[{low:.3g}, {high:.3g}]"


@click.group()
def history() -> None:
    """Recorded audit runs (`ethicsgate audit SPEC --record`): list, show, trend."""


@history.command("list")
@click.option("--audit", "audit_id", metavar="ID", help="Only runs of this audit id.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@_DB
@_FORMAT
def list_runs(audit_id: str | None, limit: int, db_url: str | None, fmt: str) -> None:
    """List recorded runs, newest first."""
    with _open(db_url) as store:
        runs = store.list_runs(audit_id=audit_id, limit=limit)
        if not runs and audit_id is not None and store.audit_ids():
            store.check_audit(audit_id)  # other audits are recorded: a mistyped --audit
    if fmt == "json":
        _dump({"runs": [r.model_dump(mode="json") for r in runs]})
        return
    if not runs:
        click.echo("no recorded runs (record one: ethicsgate audit SPEC --record)")
        return
    _table(
        "recorded runs",
        ["run", "finished", "audit", "policy", "status", "failed", "report sha256", "signed"],
        [
            [
                r.id,
                r.finished_at,
                r.audit_id,
                f"{r.policy_id} {r.policy_version}",
                r.status,
                f"{r.failed}/{r.rules}",
                r.report_sha256[:12],
                "yes" if r.envelope_sha256 else "no",
            ]
            for r in runs
        ],
    )


@history.command("show")
@click.argument("run")
@click.option("--metrics/--no-metrics", default=True, help="Include the group metrics.")
@_DB
@_FORMAT
def show(run: str, metrics: bool, db_url: str | None, fmt: str) -> None:
    """Show recorded run RUN (an id from `history list`): its rules and group metrics."""
    from ethicsgate.history.store import parse_run_id

    run_id = parse_run_id(run)
    with _open(db_url) as store:
        detail = store.get_run(run_id, metrics=metrics)
    if fmt == "json":
        _dump(detail.model_dump(mode="json"))
        return
    r = detail.run
    click.echo(
        terminal_safe(
            f"run {r.id}: audit {r.audit_id} — {r.status.upper()}, finished {r.finished_at}\n"
            f"policy {r.policy_id} {r.policy_version} (sha256 {r.policy_sha256})\n"
            f"report.json sha256 {r.report_sha256}\n"
            f"envelope sha256 {r.envelope_sha256 or '(unsigned)'}"
            + (f", signer {r.signer}" if r.signer else "")
            + f"\nengine {', '.join(f'{k} {v}' for k, v in r.engine.items()) or '?'}; "
            f"report {r.report_path or '?'}"
        )
    )
    _table(
        "rules",
        ["rule", "kind", "severity", "status", "rows", "message"],
        [[x.rule_id, x.kind, x.severity, x.status, x.rows, x.message] for x in detail.rules],
    )
    if detail.metrics:
        _table(
            "group metrics",
            ["rule", "group", "metric", "value", "interval", "ratio", "ratio interval", "p", "n"],
            [
                [
                    m.rule_id,
                    m.group,
                    m.metric,
                    m.value,
                    _interval(m.low, m.high),
                    m.ratio,
                    _interval(m.ratio_low, m.ratio_high),
                    m.p_value,
                    m.n,
                ]
                for m in detail.metrics
            ],
        )


@history.command("trend")
@click.argument("rule")
@click.option(
    "--metric",
    metavar="M",
    help="The metric, e.g. selection_rate [default: the rule's first metric with a ratio].",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="F=V[,F=V]",
    help="Only groups matching (repeatable: any of them), e.g. --group sex=Female.",
)
@click.option(
    "--audit",
    "audit_id",
    metavar="ID",
    help="Only runs of this audit id; needed when runs of several audits record RULE (their "
    "evidence differs: one trend would mix them).",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the trend as an HTML page: a chart per group (ratio, interval band, the "
    "latest run's threshold) and its table, no scripts.",
)
@_DB
@_FORMAT
def trend(
    rule: str,
    metric: str | None,
    groups: tuple[str, ...],
    audit_id: str | None,
    db_url: str | None,
    fmt: str,
    html_path: Path | None = None,
) -> None:
    """Show RULE's metric per group across recorded runs, oldest first."""
    from ethicsgate.history.store import parse_group_filter

    filters = parse_group_filter(groups)
    threshold: float | None = None
    if html_path is not None:
        from ethicsgate.files import check_writable

        check_writable(html_path.parent, what=f"the folder of {html_path.name}", option="--html")
    with _open(db_url) as store:
        result = store.trend(rule, metric=metric, groups=filters, audit_id=audit_id)
        if html_path is not None and result.points:
            latest = store.get_run(result.points[-1].run_id, metrics=False)
            # the chart draws ratios (else values): only a threshold on what it draws is
            # its line; a difference's 0.1 on a ratio chart would read as a ratio of 0.1
            drawn = "ratio" if any(p.ratio is not None for p in result.points) else "value"
            threshold = next(
                (
                    float(a["threshold"] or 0.0)
                    for r in latest.rules
                    if r.rule_id == rule
                    for a in r.assertions
                    if a.get("metric") == result.metric
                    and a.get("threshold") is not None
                    and (a.get("aggregate") == drawn or result.metric == "impact_ratio")
                ),
                None,
            )
    if html_path is not None:
        from ethicsgate.files import write_files_atomically
        from ethicsgate.report.formats.trend import render_trend_html

        page = render_trend_html(result, threshold=threshold).encode("utf-8")
        write_files_atomically(html_path.parent, {html_path.name: page})
    if fmt == "json":
        _dump(result.model_dump(mode="json"))
        return
    _table(
        f"{result.rule_id}: {result.metric} by run",
        [
            "run",
            "finished",
            "rule status",
            "group",
            "value",
            "interval",
            "ratio",
            "ratio interval",
            "p",
            "n",
        ],
        [
            [
                p.run_id,
                p.finished_at,
                p.status,
                p.group,
                p.value,
                _interval(p.low, p.high),
                p.ratio,
                _interval(p.ratio_low, p.ratio_high),
                p.p_value,
                p.n,
            ]
            for p in result.points
        ],
    )
