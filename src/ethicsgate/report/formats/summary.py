"""The Markdown step summary of a gate (GitHub Actions ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from ethicsgate.gate.outcome import GateResult
from ethicsgate.report.formats.base import Format
from ethicsgate.report.markdown import code_span as _code
from ethicsgate.report.markdown import md_text as _cell
from ethicsgate.vocabulary import STATUS_WORDS, group_label

__all__ = ["SUMMARY", "render_summary"]


def render_summary(gate: GateResult) -> str:
    """Return the gate's outcome as Markdown: verdict, rules, regressions, what was not compared."""
    result = gate.result
    verdict = "✔ PASS: the release may go ahead" if gate.passed else "✘ Release blocked"
    lines = [
        f"## ethicsgate gate {_code(result.audit.id)}: {verdict}",
        "",
        _cell(gate.verdict),
        "",
        f"Policy {_code(result.audit.policy.id)} {_cell(result.audit.policy.version)} · "
        f"audit status **{result.status}**"
        + (f" · baseline {_code(gate.baseline)}" if gate.baseline else " · no baseline"),
        "",
        "| Rule | Result | Severity | Summary |",
        "| --- | --- | --- | --- |",
    ]
    for rule in result.rules:
        _, word, icon = STATUS_WORDS[rule.status.value]
        lines.append(
            f"| {_code(rule.id)} | {icon} {word} | {rule.severity} | {_cell(rule.message)} |"
        )
    if gate.baseline is not None:
        lines += ["", f"### Regressions against the baseline ({len(gate.regressions)})", ""]
        if gate.regressions:
            lines += [
                "| Rule | Check | Group | Baseline | Candidate | Worse by | Budget | Result |",
                "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
            ]
            for r in gate.regressions:
                outcome = (
                    "~ waived"
                    if r.waived
                    else ("✘ blocks" if r.blocking else "⚠ reported (not blocking)")
                )
                lines.append(
                    f"| {_code(r.rule)} | {_cell(r.assertion)} | {_cell(group_label(r.group))} "
                    f"| {r.baseline:.4g} | {r.candidate:.4g} | {r.worse_by:.4g} "
                    f"| {r.budget:.4g} | {outcome} |"
                )
        elif gate.not_compared:
            lines.append("Nothing compared got significantly worse than its budget allows.")
        else:
            lines.append("Nothing got significantly worse than its budget allows.")
        if gate.not_significant:
            lines += [
                "",
                f"Within noise ({len(gate.not_significant)}): worse than the budget, but not "
                f"significantly so at the {gate.significance_level:g} level, so they do not "
                "block:",
                "",
            ]
            for r in gate.not_significant:
                p_value = f"p = {r.p_value:.3g}" if r.p_value is not None else "no test"
                lines.append(
                    f"- {_code(r.rule)} {_cell(r.assertion)} {_cell(group_label(r.group))}: "
                    f"{r.baseline:.4g} → {r.candidate:.4g} ({p_value}, {_cell(r.test or '')})"
                )
        if gate.not_compared:
            lines += [
                "",
                f"### Not compared with the baseline ({len(gate.not_compared)})",
                "",
                "What the gate could not compare, and why (their own thresholds still apply):",
                "",
            ]
            for n in gate.not_compared:
                what = _code(n.rule) + (f" {_cell(n.assertion)}" if n.assertion else "")
                lines.append(f"- {what}: {_cell(n.reason)}")
    waivers = [(rule.id, w) for rule in result.rules for w in rule.waivers]
    if waivers:
        lines += ["", "### Waivers", ""]
        for rule_id, w in waivers:
            state = f"expired on {w.expires}" if w.expired else f"applies until {w.expires}"
            lines.append(
                f"- {_code(rule_id)}: {_cell(w.reason)} (approved by {_cell(w.approver)}; {state})"
            )
    return "\n".join(lines) + "\n"


def _render(gate: GateResult) -> bytes:
    return render_summary(gate).encode("utf-8")


#: A gate as the Markdown of a CI step summary (GitHub Actions ``$GITHUB_STEP_SUMMARY``).
SUMMARY: Format[GateResult] = Format("summary", "ethicsgate-summary.md", _render)
