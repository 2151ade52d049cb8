"""``ethicsgate gate``: run an audit as a CI release gate, with JUnit, SARIF and a summary."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ethicsgate.cli._options import (
    cross_check_limit,
    cross_check_options,
    format_option,
    key_option,
    out_dir_option,
    spec_argument,
)
from ethicsgate.cli._output import echo

if TYPE_CHECKING:
    from ethicsgate.gate import GateResult

__all__ = ["gate"]


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


@click.command()
@spec_argument()
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
@out_dir_option("Folder for the report [default: reports/<audit id>/].")
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
@format_option("What to print: a summary, or the gate outcome as JSON.")
@cross_check_options()
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
    cross_check: str | None = None,
    cross_check_groups: int = 1000,
) -> None:
    """Gate a model release on the audit SPEC: exit 0 pass, 1 blocked, 2 bad input.

    Blocked means a blocking rule failed or could not be evaluated (unless waived), or, with
    --baseline, a blocking assertion got worse than in the released model's report by more
    than its max_regression budget. The report is written as by `ethicsgate audit`.
    """
    from ethicsgate.attest import load_signing_key
    from ethicsgate.cli import EXIT_FAILED, EXIT_OK
    from ethicsgate.cli.keys import passphrase_prompt
    from ethicsgate.session.gate import run_gate

    key = load_signing_key(key_path, ask_passphrase=passphrase_prompt())
    run = run_gate(
        spec,
        baseline=baseline,
        max_regression=max_regression,
        out=out,
        key=key,
        junit=junit,
        sarif=sarif,
        cross_check=cross_check_limit(cross_check, cross_check_groups),
    )
    if github_summary:
        target = os.environ.get("GITHUB_STEP_SUMMARY")
        if target:
            _append(Path(target), run.summary)
        else:
            echo(run.summary)

    if fmt == "json":
        echo(run.to_json())
    else:
        _print_text(run.outcome, run.report.written, run.report.signer)
    ctx.exit(EXIT_OK if run.outcome.passed else EXIT_FAILED)


def _print_text(outcome: GateResult, written: Mapping[str, Path], signer: str | None) -> None:
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
