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
    engine_option,
    format_option,
    key_option,
    out_dir_option,
    spec_argument,
)
from ethicsgate.cli._output import echo

if TYPE_CHECKING:
    from ethicsgate.gate import GateResult, Regression

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
    "--baseline-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Public key the baseline was signed with: its report.intoto.json beside it is "
    "verified first, so an edited baseline cannot hide a regression.",
)
@click.option(
    "--max-regression",
    type=click.FloatRange(min=0.0),
    default=0.0,
    show_default=True,
    help="Regression budget of assertions that set no max_regression.",
)
@click.option(
    "--significance-level",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True),
    default=0.05,
    show_default=True,
    help="With --baseline, a change beyond the budget blocks only when statistically "
    "significant at this level (two-sided); 1 counts every change beyond the budget.",
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
@engine_option()
@cross_check_options()
@click.pass_context
def gate(
    ctx: click.Context,
    spec: Path,
    baseline: Path | None,
    baseline_key: Path | None,
    max_regression: float,
    significance_level: float,
    out: Path | None,
    junit: Path | None,
    sarif: Path | None,
    github_summary: bool,
    key_path: Path | None,
    fmt: str,
    engine_target: str | None = None,
    cross_check: str | None = None,
    cross_check_groups: int = 1000,
) -> None:
    """Gate a model release on the audit SPEC: exit 0 pass, 1 blocked, 2 bad input.

    Blocked means a blocking rule failed or could not be evaluated (unless waived), or, with
    --baseline, what a blocking assertion checks (its worst group, or a group failing it) got
    worse than in the released model's report by more than its max_regression budget, and
    significantly so where the reports hold the counts. An improvement never blocks. A rule
    or assertion the baseline lacks (new or renamed) is listed as not compared; it blocks only
    through its own threshold. The report is written as by `ethicsgate audit`.
    """
    from ethicsgate.attest import load_public_key
    from ethicsgate.cli import EXIT_FAILED, EXIT_OK
    from ethicsgate.cli.keys import load_cli_signing_key
    from ethicsgate.session.gate import run_gate

    if baseline_key is not None and baseline is None:
        raise click.UsageError(
            "--baseline-key verifies the baseline: add --baseline, or leave it out", ctx=ctx
        )
    public = load_public_key(baseline_key) if baseline_key is not None else None
    key = load_cli_signing_key(key_path)
    run = run_gate(
        spec,
        baseline=baseline,
        baseline_key=public,
        max_regression=max_regression,
        significance_level=significance_level,
        out=out,
        key=key,
        junit=junit,
        sarif=sarif,
        engine_target=engine_target,
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


def _change(reg: Regression) -> str:
    """Return a regression as a sentence: what got worse, by how much, and how sure we are."""
    from ethicsgate.gate.baseline import UNTESTED_WORDS
    from ethicsgate.vocabulary import group_label

    what = "the worst value" if reg.compared == "worst" else "the value"
    before = f"{reg.baseline:.4g}"
    if reg.baseline_group is not None and reg.baseline_group != reg.group:
        before += f" ({group_label(reg.baseline_group)})"
    text = (
        f"{reg.rule} {reg.assertion}: {what} went from {before} to {reg.candidate:.4g} "
        f"({group_label(reg.group)}), worse by {reg.worse_by:.4g} (budget {reg.budget:.4g})"
    )
    if reg.p_value is None:
        why = f" ({UNTESTED_WORDS[reg.untested]})" if reg.untested is not None else ""
        return text + f"; no significance test{why}"
    return text + f"; {reg.test}: p = {reg.p_value:.3g}"


def _print_text(outcome: GateResult, written: Mapping[str, Path], signer: str | None) -> None:
    from ethicsgate.vocabulary import STATUS_WORDS

    for rule in outcome.result.rules:
        _, _, icon = STATUS_WORDS[rule.status.value]
        echo(f"{icon} {rule.status.value.upper():7} {rule.id} ({rule.severity}): {rule.message}")
    for reg in outcome.regressions:
        state = "waived" if reg.waived else ("BLOCKS" if reg.blocking else "reported")
        icon = "~" if reg.waived else ("✘" if reg.blocking else "⚠")
        echo(f"{icon} REGRESSION {_change(reg)} [{state}]")
    for reg in outcome.not_significant:
        echo(
            f"· WITHIN NOISE {_change(reg)}, not significant at "
            f"{outcome.significance_level:g} [does not block]"
        )
    for item in outcome.not_compared:
        echo(f"{STATUS_WORDS['skipped'][2]} NOT COMPARED {item.words}")
    code = "PASS: the release may go ahead" if outcome.passed else "BLOCKED"
    echo(f"\ngate {outcome.result.audit.id}: {code}")
    echo(outcome.verdict)
    # the page a person opens, as `audit` prints it (report.json stays beside it)
    echo(f"report: {written.get('report.html', written['report.json'])}")
    if signer:
        echo(f"signed: {written['report.intoto.json']} (key {signer})")
