"""Notification messages: the failing rules and groups with their figures, never evidence rows.

Only aggregate figures leave the machine: a rule's status, severity and message, and for each
failing group its metric value, interval, ratio, test p-value and size. Findings (record ids and
their fields) are never included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ethicsgate.vocabulary import OP_WORDS

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult
    from ethicsgate.notify.targets import Format
    from ethicsgate.rules.results import RuleResult

__all__ = ["MAX_GROUPS", "build_payload", "failing_rules", "has_problems"]

#: Failing groups listed per rule; the rest are counted ("and 12 more").
MAX_GROUPS = 10
_PROBLEMS = ("fail", "warn", "error")
_ICON = {"fail": "❌", "warn": "⚠️", "error": "❗", "pass": "✅"}


def has_problems(result: AuditResult) -> bool:
    """Return whether a rule failed, warned or could not be evaluated."""
    return any(rule.status.value in _PROBLEMS for rule in result.rules)


def _label(group: Mapping[str, str | None]) -> str:
    return ", ".join(f"{k}={v}" for k, v in group.items())


def _group_figures(rule: RuleResult) -> tuple[list[dict[str, Any]], int]:
    failing: list[tuple[dict[str, str | None], str, float | None, float, str, str]] = []
    for a in rule.assertions:
        if a.status != "fail":
            continue
        for group in a.failing_groups:
            failing.append((group, a.metric, a.observed, a.threshold, a.op, a.aggregate))
    by_key = {tuple(sorted(g.group.items())): g for g in rule.groups}
    figures = []
    for group, metric, observed, threshold, op, aggregate in failing[:MAX_GROUPS]:
        found = by_key.get(tuple(sorted(group.items())))
        item: dict[str, Any] = {
            "group": dict(group),
            "metric": metric,
            "aggregate": aggregate,
            "threshold": threshold,
            "op": op,
            "worst_observed": observed,
        }
        if found is not None:
            interval = found.intervals.get(metric)
            ratio_interval = found.ratio_intervals.get(metric)
            test = found.tests.get(metric)
            value = found.metrics.get(metric)
            item.update(
                value=None if value is None else float(value),
                interval=None if interval is None else [interval.low, interval.high],
                ratio=found.ratios.get(metric),
                ratio_interval=None
                if ratio_interval is None
                else [ratio_interval.low, ratio_interval.high],
                difference=found.differences.get(metric),
                p_value=None if test is None else test.p_value,
                n=found.count,
            )
        elif metric == "impact_ratio" and rule.impact_ratio is not None:
            row = next(
                (
                    r
                    for t in rule.impact_ratio.tables
                    for r in t.rows
                    if tuple(sorted(r.category.items())) == tuple(sorted(group.items()))
                ),
                None,
            )
            if row is not None:
                ir = row.impact_ratio_interval
                item.update(
                    value=row.impact_ratio,
                    interval=None if ir is None else [ir.low, ir.high],
                    ratio=row.impact_ratio,
                    rate=row.rate,
                    p_value=None if row.test is None else row.test.p_value,
                    n=row.applicants,
                )
        figures.append(item)
    return figures, max(0, len(failing) - MAX_GROUPS)


def failing_rules(result: AuditResult) -> list[dict[str, Any]]:
    """Return the failing, warning and error rules with their failing groups' figures."""
    rules = []
    for rule in result.rules:
        status = rule.status.value
        if status not in _PROBLEMS:
            continue
        groups, more = _group_figures(rule)
        entry: dict[str, Any] = {
            "id": rule.id,
            "title": rule.title,
            "severity": rule.severity,
            "status": status,
            "message": rule.message,
            "groups": groups,
            "more_groups": more,
        }
        if rule.violations is not None:
            entry.update(violations=rule.violations, records_checked=rule.records_checked)
        rules.append(entry)
    return rules


def _generic(
    result: AuditResult, report: str | None, rules: list[dict[str, Any]]
) -> dict[str, Any]:
    info = result.audit
    return {
        "schema": "ethicsgate.notification/1",
        "audit": {"id": info.id, "title": info.title, "finished_at": info.finished_at},
        "policy": {"id": info.policy.id, "version": info.policy.version},
        "status": result.status,
        "summary": result.summary.model_dump(mode="json"),
        "report": report,
        "rules": rules,
    }


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def _lines(result: AuditResult, report: str | None, rules: list[dict[str, Any]]) -> list[str]:
    s = result.summary
    lines = [
        f"ethicsgate audit {result.audit.id}: {result.status.upper()} — {s.failed} failed, "
        f"{s.warned} warned, {s.errors} error(s) of {s.rules} rule(s) "
        f"(policy {result.audit.policy.id} {result.audit.policy.version})"
    ]
    for rule in rules:
        lines.append(
            f"{_ICON[rule['status']]} {rule['id']} ({rule['severity']}): {rule['message']}"
        )
        for g in rule["groups"]:
            figures = f"{g['metric']} {_fmt(g.get('value'))}"
            if g.get("ratio") is not None:
                figures += f", ratio {_fmt(g['ratio'])}"
            if g.get("interval"):
                figures += f" [{_fmt(g['interval'][0])}, {_fmt(g['interval'][1])}]"
            if g.get("p_value") is not None:
                figures += f", p={_fmt(g['p_value'])}"
            if g.get("n") is not None:
                figures += f", n={g['n']}"
            if g.get("threshold") is not None:
                # what the threshold bounds: the ratio, the difference or the value itself
                what = {"ratio": "ratio ", "difference": "difference "}.get(g["aggregate"], "")
                if g["metric"] == "impact_ratio":
                    what = ""
                op = OP_WORDS.get(g["op"], g["op"])
                figures += f" (required: {what}{op} {_fmt(float(g['threshold']))})"
            lines.append(f"    • {_label(g['group'])}: {figures}")
        if rule["more_groups"]:
            lines.append(f"    • and {rule['more_groups']} more group(s)")
    if report:
        lines.append(f"report: {report}")
    return lines


def _slack_text(text: str) -> str:
    """Return ``text`` escaped for Slack's mrkdwn: ``&``, ``<`` and ``>`` as entities.

    Group values come from the evidence: unescaped, a group named ``<!channel>`` would notify
    the whole channel and ``<https://x|y>`` would show a link under other words.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_body(lines: list[str], limit: int = 2900) -> str:
    """Return the lines as one mrkdwn section, cut at a line (and said so) past ``limit``."""
    body = "\n".join(_slack_text(line) for line in lines) or "every rule passed"
    if len(body) <= limit:
        return body
    more = "\n… more in the report"
    cut = body.rfind("\n", 0, limit - len(more))
    return body[: cut if cut > 0 else limit - len(more)] + more


def _teams_line(text: str, **style: str) -> dict[str, Any]:
    """Return one line of a Teams card: a RichTextBlock of one TextRun (no Markdown)."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


def build_payload(result: AuditResult, fmt: Format, *, report: str | None = None) -> dict[str, Any]:
    """Return the JSON body for a ``slack``, ``teams`` or ``generic`` webhook.

    ``report`` is the report's link (a URL, or its path when no ``--report-url`` is given).
    """
    rules = failing_rules(result)
    if fmt == "generic":
        return _generic(result, report, rules)
    lines = _lines(result, report, rules)
    if fmt == "slack":
        # Slack: `text` is the notification's fallback; blocks carry the body (mrkdwn)
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": lines[0][:150]}}
        ]
        body = _slack_body(lines[1:])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body}})
        return {"text": _slack_text(lines[0]), "blocks": blocks}
    # Teams workflow webhooks take a message with an Adaptive Card attachment. Each line is a
    # RichTextBlock of one TextRun: a TextBlock renders Markdown, so a group value from the
    # evidence such as `[Sign in](https://evil.example)` became a link in the alert; a
    # TextRun's text is shown as written (the schema: "Markdown is not supported"), and there
    # is no escaping of Markdown that every Teams client honours
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            _teams_line(lines[0], weight="Bolder"),
            *(_teams_line(line) for line in lines[1:]),
        ],
    }
    if report and report.startswith(("http://", "https://")):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the report", "url": report}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
