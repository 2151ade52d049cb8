"""``ethicsgate gate``: run an audit as a CI release gate, with JUnit, SARIF and a summary."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ethicsgate.cli._output import echo
from ethicsgate.cli._reporting import key_option

if TYPE_CHECKING:
    from ethicsgate.gate import GateResult

__all__ = ["gate"]


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


@click.command()
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, dir_okay=False),
    help="report.json of the released model: fail if fairness got worse beyond the budget.",
)
@click.option(
    "--max-regression",
    type=click.FloatRange(min=0.0),
    default=0.0,
    show_default=True,
    help="Regression budget of assertions that set no max_regression.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the report [default: reports/<audit id>/].",
)
@click.option(
    "--junit", type=click.Path(path_type=Path, dir_okay=False), help="Write JUnit XML here."
)
@click.option(
    "--sarif", type=click.Path(path_type=Path, dir_okay=False), help="Write SARIF 2.1.0 here."
)
@click.option(
    "--github-summary",
    is_flag=True,
    help="Append a Markdown summary to $GITHUB_STEP_SUMMARY (printed when it is not set).",
)
@key_option("report")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="What to print: a summary, or the gate outcome as JSON.",
)
@click.pass_context
def gate(
    ctx: click.Context,
    spec: Path,
    baseline: Path | None,
    max_regression: float,
    out: Path | None,
    junit: Path | None,
    sarif: Path | None,
    github_summary: bool,
    key_path: Path | None,
    fmt: str,
) -> None:
    """Gate a model release on the audit SPEC: exit 0 pass, 1 blocked, 2 bad input.

    Blocked means a blocking rule failed or could not be evaluated (unless waived), or, with
    --baseline, a blocking assertion got worse than in the released model's report by more
    than its max_regression budget. The report is written as by `ethicsgate audit`.
    """
    import json

    from ethicsgate.audit import load_audit_spec, run_audit
    from ethicsgate.cli import EXIT_FAILED, EXIT_OK
    from ethicsgate.cli._reporting import load_key_option, render_report, write_report_dir
    from ethicsgate.gate import evaluate_gate, load_baseline
    from ethicsgate.report import (
        render_junit,
        render_sarif,
        render_summary,
        write_files_atomically,
    )

    key = load_key_option(key_path)
    loaded = load_audit_spec(spec)
    previous = None
    if baseline is not None:  # a bad baseline fails before the scan
        previous = load_baseline(baseline, policy_id=loaded.policy.pack.id)
    result = run_audit(loaded)
    outcome = evaluate_gate(
        loaded,
        result,
        baseline=previous,
        baseline_name=str(baseline) if baseline is not None else None,
        default_budget=max_regression,
        today=datetime.fromisoformat(result.audit.finished_at).date(),
    )
    # render everything before writing anything
    files, signer = render_report(result, key)
    extra: list[tuple[Path, bytes]] = []
    if junit is not None:
        extra.append((junit, render_junit(outcome)))
    if sarif is not None:
        extra.append((sarif, render_sarif(outcome)))
    summary = render_summary(outcome)

    out_dir = out if out is not None else Path("reports") / result.audit.id
    written = write_report_dir(out_dir, files)
    for path, content in extra:
        write_files_atomically(path.parent, {path.name: content})
    if github_summary:
        target = os.environ.get("GITHUB_STEP_SUMMARY")
        if target:
            _append(Path(target), summary)
        else:
            echo(summary)

    if fmt == "json":
        echo(
            json.dumps(
                {
                    "status": outcome.status,
                    "audit_status": result.status,
                    "rules": {r.id: r.status.value for r in result.rules},
                    "regressions": [r.model_dump(mode="json") for r in outcome.regressions],
                    "report": str(written["report.json"]),
                },
                indent=2,
            )
        )
    else:
        _print_text(outcome, written, signer)
    ctx.exit(EXIT_OK if outcome.passed else EXIT_FAILED)


def _print_text(outcome: GateResult, written: dict[str, Path], signer: str | None) -> None:
    from ethicsgate.vocabulary import STATUS_WORDS, group_label

    for rule in outcome.result.rules:
        _, _, icon = STATUS_WORDS[rule.status.value]
        echo(f"{icon} {rule.status.value.upper():7} {rule.id} ({rule.severity}): {rule.message}")
    for reg in outcome.regressions:
        state = "waived" if reg.waived else ("BLOCKS" if reg.blocking else "reported")
        icon = "~" if reg.waived else ("✘" if reg.blocking else "⚠")
        echo(
            f"{icon} REGRESSION {reg.rule} {reg.assertion} {group_label(reg.group)}: "
            f"{reg.baseline:.4g} -> {reg.candidate:.4g} (worse by {reg.worse_by:.4g}, "
            f"budget {reg.budget:.4g}) [{state}]"
        )
    verdict = "PASS: the release may go ahead" if outcome.passed else "BLOCKED"
    echo(f"\ngate {outcome.result.audit.id}: {verdict} (audit {outcome.result.status})")
    echo(f"report: {written['report.json']}")
    if signer:
        echo(f"signed: {written['report.intoto.json']} (key {signer})")
