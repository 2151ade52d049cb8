"""Alerts against a real local HTTP server: payload shapes, retries, time-outs, no secrets."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.cli.test_audit_cli import FAILING, PASSING
from tests.conftest import ROOT
from tests.unit.notify.conftest import SECRET_PATH, SECRET_QUERY, Hook

import ethicsgate.notify.send
from ethicsgate.audit.result import AuditResult
from ethicsgate.cli import cli
from ethicsgate.errors import NotifyError
from ethicsgate.notify import (
    NotifyTarget,
    guess_format,
    notify,
    redact_url,
    resolve_targets,
)


@pytest.fixture(autouse=True)
def _no_proxy_no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(ethicsgate.notify.send, "BACKOFF", 0.01)


@pytest.fixture(scope="module")
def results() -> dict[str, AuditResult]:
    """The LL144 example (fairness fails) and the bakery (record rules fail, with findings)."""
    from ethicsgate.audit import run_audit

    clock = lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # noqa: E731
    return {
        name: run_audit(ROOT / "audits" / f"{name}.yaml", clock=clock)
        for name in ("nyc-ll144-example", "bakery")
    }


def _target(hook: Hook, fmt: str = "generic", **kwargs: Any) -> NotifyTarget:
    return NotifyTarget(url=hook.url, shown=redact_url(hook.url), format=fmt, **kwargs)  # type: ignore[arg-type]


def _evidence_values(result: AuditResult) -> set[str]:
    values = set()
    for rule in result.rules:
        for finding in rule.findings:
            values.add(finding.record_id)
            values.update(v for v in finding.fields.values() if v and len(v) > 3)
    return values


def test_generic_payload_names_failing_rules_and_groups_with_figures(
    hook: Hook, results: dict[str, AuditResult]
) -> None:
    result = results["nyc-ll144-example"]
    [outcome] = notify(result, [_target(hook)], report="reports/x/report.html")
    assert outcome.sent and outcome.attempts == 1 and outcome.status == 200
    [body] = hook.bodies
    assert hook.headers[0]["Content-Type"] == "application/json"
    assert body["schema"] == "ethicsgate.notification/1"
    assert body["status"] == "fail" and body["report"] == "reports/x/report.html"
    assert body["audit"]["id"] == "nyc-ll144-example"
    rule = next(r for r in body["rules"] if r["id"] == "ll144-selection")
    assert rule["status"] == "fail" and rule["severity"] == "block"
    # the figures are the report's, for a group the assertion names as failing
    real = next(r for r in result.rules if r.id == "ll144-selection")
    failing = next(a for a in real.assertions if a.status == "fail")
    first = rule["groups"][0]
    assert first["group"] == failing.failing_groups[0]
    # LL144: the figures are the impact-ratio table's row of that category
    assert first["metric"] == "impact_ratio" and real.impact_ratio is not None
    row = next(r for t in real.impact_ratio.tables for r in t.rows if r.category == first["group"])
    assert first["value"] == first["ratio"] == row.impact_ratio
    assert first["rate"] == row.rate and first["n"] == row.applicants
    assert row.test is not None and first["p_value"] == row.test.p_value
    assert first["threshold"] == failing.threshold
    assert len(rule["groups"]) + rule["more_groups"] == sum(
        len(a.failing_groups) for a in real.assertions if a.status == "fail"
    )
    assert all(r["status"] in ("fail", "warn", "error") for r in body["rules"])


def test_group_figures_of_a_fairness_rule(hook: Hook, make_audit: Callable[..., Path]) -> None:
    from ethicsgate.audit import run_audit

    result = run_audit(make_audit(FAILING))
    notify(result, [_target(hook)])
    [rule] = hook.bodies[0]["rules"]
    [figure] = rule["groups"]
    real = result.rules[0]
    group = next(g for g in real.groups if g.group == figure["group"])
    assert figure["metric"] == "selection_rate"
    assert figure["value"] == group.metrics["selection_rate"]
    assert figure["ratio"] == group.ratios["selection_rate"]
    assert figure["n"] == group.count and rule["more_groups"] == 0


def test_slack_and_teams_payload_shapes(hook: Hook, results: dict[str, AuditResult]) -> None:
    result = results["nyc-ll144-example"]
    outcomes = notify(
        result,
        [_target(hook, "slack"), _target(hook, "teams")],
        report="https://reports.example/x/report.html",
    )
    assert [o.sent for o in outcomes] == [True, True]
    slack, teams = hook.bodies
    assert set(slack) == {"text", "blocks"}
    assert slack["text"].startswith("ethicsgate audit nyc-ll144-example: FAIL")
    assert [b["type"] for b in slack["blocks"]] == ["header", "section"]
    assert slack["blocks"][1]["text"]["type"] == "mrkdwn"
    assert "ll144-selection" in slack["blocks"][1]["text"]["text"]
    assert "https://reports.example/x/report.html" in slack["blocks"][1]["text"]["text"]
    assert teams["type"] == "message"
    [attachment] = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert all(b["type"] == "RichTextBlock" for b in card["body"])
    texts = [run["text"] for b in card["body"] for run in b["inlines"]]
    assert all(run["type"] == "TextRun" for b in card["body"] for run in b["inlines"])
    assert texts[0].startswith("ethicsgate audit nyc-ll144-example: FAIL")
    assert card["body"][0]["inlines"][0]["weight"] == "Bolder"
    assert any("ll144-selection" in text for text in texts)
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open the report",
            "url": "https://reports.example/x/report.html",
        }
    ]


def _posted_with_group(
    hook: Hook,
    make_audit: Callable[..., Path],
    group: str,
    fmt: str,
    report: str | None = None,
) -> dict[str, Any]:
    """Post the failing audit whose failing group is named ``group``; return the one body."""
    from ethicsgate.audit import run_audit

    result = run_audit(make_audit(FAILING.replace("b,", f'"{group}",')))
    notify(result, [_target(hook, fmt)], report=report)
    [body] = hook.bodies
    return body


def test_slack_messages_escape_group_names_from_the_evidence(
    hook: Hook, make_audit: Callable[..., Path]
) -> None:
    # found by QA: a group value `<!channel> <http://evil.example|click>` went into Slack's
    # mrkdwn as it was: it notified the whole channel and showed a link under other words
    evil = "<!channel> & <http://evil.example|click>"
    slack = _posted_with_group(
        hook, make_audit, evil, "slack", report="https://reports.example/x?a=1&b=2"
    )
    section = slack["blocks"][1]["text"]["text"]
    for text in (section, slack["text"]):
        assert "<" not in text and ">" not in text, text
    assert "&lt;!channel&gt; &amp; &lt;http://evil.example|click&gt;" in section
    assert "https://reports.example/x?a=1&amp;b=2" in section
    # the header is plain text: Slack shows it as written
    assert "&lt;" not in slack["blocks"][0]["text"]["text"]


def test_teams_cards_show_group_names_from_the_evidence_as_written(
    hook: Hook, make_audit: Callable[..., Path]
) -> None:
    # a TextBlock renders Markdown: a group value `[Sign in](https://evil.example)` was a link
    # in the Teams alert, `**URGENT**` bold. Every line is now a TextRun of a RichTextBlock,
    # whose text Adaptive Cards never read as Markdown; the text itself is unchanged
    evil = "[Sign in](https://evil.example) **URGENT**"
    card = _posted_with_group(hook, make_audit, evil, "teams")["attachments"][0]["content"]
    elements = [b["type"] for b in card["body"]]
    assert elements and set(elements) == {"RichTextBlock"}, elements
    runs = [run for b in card["body"] for run in b["inlines"]]
    assert {run["type"] for run in runs} == {"TextRun"}
    assert any(evil in run["text"] for run in runs)
    assert '"TextBlock"' not in json.dumps(card)


def test_a_long_slack_message_is_cut_at_a_line_and_says_so() -> None:
    from ethicsgate.notify.message import _slack_body

    lines = [f"rule {i}: " + "x" * 90 for i in range(60)]
    body = _slack_body(lines)
    assert len(body) <= 2900 and body.endswith("\n… more in the report")
    kept = body.splitlines()[:-1]
    assert kept == lines[: len(kept)]  # whole lines only


@pytest.mark.parametrize("fmt", ["slack", "teams", "generic"])
def test_no_evidence_rows_or_secrets_in_any_payload(
    hook: Hook, results: dict[str, AuditResult], fmt: str
) -> None:
    result = results["bakery"]
    evidence = _evidence_values(result)
    assert len(evidence) > 10, "the bakery's rules have findings"
    notify(result, [_target(hook, fmt)])
    text = json.dumps(hook.bodies[0])
    assert not {v for v in evidence if v in text}
    assert "SECRET" not in text
    assert "findings" not in text and "record_id" not in text


def test_retries_a_500_then_succeeds(hook: Hook, results: dict[str, AuditResult]) -> None:
    hook.statuses = [500, 503]
    waits: list[float] = []
    [outcome] = notify(results["bakery"], [_target(hook)], backoff=0.5, sleep=waits.append)
    assert outcome.sent and outcome.attempts == 3 and outcome.status == 200
    assert waits == [0.5, 1.0]  # exponential back-off
    assert len(hook.bodies) == 3 and hook.bodies[0] == hook.bodies[2]


def test_gives_up_after_the_tries(hook: Hook, results: dict[str, AuditResult]) -> None:
    hook.statuses = [500] * 5
    [outcome] = notify(results["bakery"], [_target(hook, tries=4)])
    assert not outcome.sent and outcome.attempts == 4 and outcome.status == 500
    assert outcome.error == "HTTP 500" and len(hook.bodies) == 4


def test_a_client_error_is_not_retried(hook: Hook, results: dict[str, AuditResult]) -> None:
    hook.statuses = [404]
    [outcome] = notify(results["bakery"], [_target(hook)])
    assert not outcome.sent and outcome.attempts == 1 and outcome.error == "HTTP 404"


def test_a_slow_server_times_out(hook: Hook, results: dict[str, AuditResult]) -> None:
    hook.delay = 1.0
    started = time.monotonic()
    [outcome] = notify(results["bakery"], [_target(hook, tries=2, timeout=0.2)])
    assert time.monotonic() - started < 2.0
    assert not outcome.sent and outcome.attempts == 2
    assert outcome.error == "no answer within 0.2 s"


def test_a_refused_connection_is_reported_without_the_url(results: dict[str, AuditResult]) -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nobody listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook/{SECRET_PATH}"
    [outcome] = notify(results["bakery"], [NotifyTarget(url=url, shown=redact_url(url), tries=2)])
    assert not outcome.sent and outcome.attempts == 2
    assert outcome.error is not None and outcome.error.startswith("cannot connect")
    assert "SECRET" not in outcome.error + outcome.target


def test_credentials_in_the_url_go_as_basic_auth_never_in_the_request_line(
    hook: Hook, results: dict[str, AuditResult]
) -> None:
    import base64

    # percent-encoded in the URL, sent decoded: "user@corp" and "p:w/SECRET%"
    url = hook.url.replace("http://", "http://user%40corp:p%3Aw%2FSECRET%25@")
    [outcome] = notify(results["bakery"], [NotifyTarget(url=url, shown=redact_url(url))])
    assert outcome.sent and outcome.attempts == 1 and outcome.status == 200, outcome
    [headers] = hook.headers
    expected = base64.b64encode(b"user@corp:p:w/SECRET%").decode("ascii")
    assert headers["Authorization"] == f"Basic {expected}"
    assert headers["Host"] == f"127.0.0.1:{hook.port}"
    [line] = hook.request_lines
    assert line == f"POST /services/{SECRET_PATH}?{SECRET_QUERY} HTTP/1.1"
    assert "user" not in line and "@" not in line
    assert "user" not in outcome.target and "SECRET" not in outcome.target


def test_a_url_without_credentials_sends_no_authorization(
    hook: Hook, results: dict[str, AuditResult]
) -> None:
    [outcome] = notify(results["bakery"], [_target(hook)])
    assert outcome.sent
    assert "Authorization" not in hook.headers[0]


def test_a_user_without_password_is_sent_with_an_empty_one(
    hook: Hook, results: dict[str, AuditResult]
) -> None:
    import base64

    url = hook.url.replace("http://", "http://token@")
    [outcome] = notify(results["bakery"], [NotifyTarget(url=url, shown=redact_url(url))])
    assert outcome.sent, outcome
    assert hook.headers[0]["Authorization"] == "Basic " + base64.b64encode(b"token:").decode()


def test_cli_notify_with_credentials_posts_and_never_prints_them(
    hook: Hook, make_audit: Callable[..., Path], tmp_path: Path
) -> None:
    url = hook.url.replace("http://", "http://someuser:SECRETPW@")
    spec = make_audit(FAILING)
    done = CliRunner().invoke(
        cli, ["audit", str(spec), "--out", str(tmp_path / "o"), "--notify", url]
    )
    assert done.exit_code == 1, done.output
    assert f"notify: sent to http://127.0.0.1:{hook.port}/… (generic)" in done.stderr
    assert "someuser" not in done.output + done.stderr
    assert "SECRET" not in done.output + done.stderr
    assert hook.headers[0]["Authorization"].startswith("Basic ")
    assert "someuser" not in hook.request_lines[0] + hook.headers[0]["Host"]


def test_problems_only_by_default(hook: Hook, make_audit: Callable[..., Path]) -> None:
    from ethicsgate.audit import run_audit

    passed = run_audit(make_audit(PASSING))
    [skipped, sent] = notify(passed, [_target(hook), _target(hook, when="always")])
    assert skipped.skipped and not skipped.sent and skipped.attempts == 0
    assert sent.sent and len(hook.bodies) == 1 and hook.bodies[0]["rules"] == []


def test_redact_and_guess() -> None:
    assert (
        redact_url(f"https://hooks.slack.com/services/{SECRET_PATH}") == "https://hooks.slack.com/…"
    )
    assert (
        redact_url(f"https://user:pw@h.example:8443/x?{SECRET_QUERY}") == "https://h.example:8443/…"
    )
    assert redact_url("https://h.example") == "https://h.example"
    assert redact_url("${SLACK_WEBHOOK}") == "${SLACK_WEBHOOK}"
    assert redact_url("not a url SECRET") == "<url hidden>"
    assert guess_format("https://hooks.slack.com/services/x") == "slack"
    assert guess_format("https://acme.webhook.office.com/webhookb2/x") == "teams"
    assert guess_format("https://prod-1.westus.logic.azure.com/workflows/x") == "teams"
    assert guess_format("https://example.org/hook") == "generic"


def test_resolve_targets_reads_env_and_prefixes() -> None:
    env = {"SLACK_WEBHOOK": f"https://hooks.slack.com/services/{SECRET_PATH}"}
    cli_target, spec_target = resolve_targets(
        ["teams:https://example.org/x"],
        [
            {
                "url": "${SLACK_WEBHOOK}",
                "format": "slack",
                "tries": 5,
                "timeout": 2.0,
                "when": "always",
            }
        ],
        env=env,
    )
    assert (cli_target.format, cli_target.shown) == ("teams", "https://example.org/…")
    assert spec_target.url == env["SLACK_WEBHOOK"] and spec_target.shown == "${SLACK_WEBHOOK}"
    assert (spec_target.tries, spec_target.timeout, spec_target.when) == (5, 2.0, "always")
    [from_env] = resolve_targets(["${SLACK_WEBHOOK}"], env=env)
    assert (from_env.format, from_env.shown) == ("slack", "${SLACK_WEBHOOK}")
    with pytest.raises(NotifyError, match=r"uses \$\{NOPE\}, which is not set") as exc:
        resolve_targets([], [{"url": "${NOPE}"}], env={})
    assert "export NOPE=" in (exc.value.hint or "")
    with pytest.raises(NotifyError, match="not an http") as exc:
        resolve_targets([f"ftp://h.example/{SECRET_PATH}"], env={})
    assert "SECRET" not in str(exc.value)


# -- the CLI: exit codes unchanged, failures reported, secrets never printed ------------------


def test_cli_notify_failure_keeps_the_exit_code(
    hook: Hook, make_audit: Callable[..., Path], tmp_path: Path
) -> None:
    runner = CliRunner()
    hook.statuses = [500] * 3
    spec = make_audit(FAILING)
    done = runner.invoke(
        cli, ["audit", str(spec), "--out", str(tmp_path / "o"), "--notify", hook.url]
    )
    assert done.exit_code == 1, done.output  # the audit's own code
    assert "notify: FAILED to post to http://127.0.0.1:" in done.stderr
    assert "after 3 tries: HTTP 500" in done.stderr
    assert "SECRET" not in done.output + done.stderr
    assert len(hook.bodies) == 3


def test_cli_notify_success_and_report_url(
    hook: Hook, make_audit: Callable[..., Path], tmp_path: Path
) -> None:
    spec = make_audit(FAILING)
    args = ["audit", str(spec), "--out", str(tmp_path / "o"), "--notify", f"slack:{hook.url}"]
    done = CliRunner().invoke(cli, [*args, "--report-url", "https://ci.example/run/7/"])
    assert done.exit_code == 1, done.output
    assert f"notify: sent to http://127.0.0.1:{hook.port}/… (slack)" in done.stderr
    assert "SECRET" not in done.output + done.stderr
    assert "https://ci.example/run/7/report.html" in hook.bodies[0]["blocks"][1]["text"]["text"]
    assert hook.paths == [f"/services/{SECRET_PATH}?{SECRET_QUERY}"]


def test_spec_notify_with_env_var(
    hook: Hook, make_audit: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import AUDIT

    spec = make_audit(
        PASSING,
        audit=AUDIT + "notify:\n  - {url: '${EG_HOOK}', format: teams, when: always, tries: 2}\n",
    )
    monkeypatch.setenv("EG_HOOK", hook.url)
    hook.statuses = [500, 500]
    done = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(tmp_path / "o")])
    assert done.exit_code == 0, done.output  # passed: a failed notification changes nothing
    assert "notify: FAILED to post to ${EG_HOOK} (teams) after 2 tries" in done.stderr
    assert hook.bodies[0]["type"] == "message"

    monkeypatch.delenv("EG_HOOK")
    out = tmp_path / "unset"
    done = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(out)])
    assert done.exit_code == 2, done.output
    assert "${EG_HOOK}, which is not set" in done.stderr and "export EG_HOOK=" in done.stderr
    assert not out.exists(), "checked before the scan: nothing written"
    assert "Traceback" not in done.stderr


def test_session_result_lists_the_outcomes(
    hook: Hook, make_audit: Callable[..., Path], tmp_path: Path
) -> None:
    from ethicsgate.session import run_and_report

    hook.statuses = [500]
    run = run_and_report(make_audit(FAILING), out=tmp_path / "o", notify=[_target(hook)])
    [outcome] = run.notifications
    assert outcome.sent and outcome.attempts == 2
    assert run.result.status == "fail"


def test_a_bad_spec_notify_url_is_located_in_the_spec(
    make_audit: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by QA: "error: notify: ${NOPE_HOOK}: the webhook URL uses ${NOPE_HOOK}, which is
    # not set" named no file or line of the audit spec that holds the entry
    from tests.conftest import AUDIT

    monkeypatch.delenv("NOPE_HOOK", raising=False)
    spec = make_audit(
        PASSING,
        audit=AUDIT + "notify:\n  - url: https://example.org/x\n  - url: ${NOPE_HOOK}\n",
    )
    line = spec.read_text().splitlines().index("  - url: ${NOPE_HOOK}") + 1
    done = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(tmp_path / "o")])
    assert done.exit_code == 2, done.output
    assert done.stderr.startswith(f"error: {spec}:{line}:10: notify: ${{NOPE_HOOK}}"), done.stderr
    spec.write_text(AUDIT + "notify:\n  - {url: 'ftp://example.org/x'}\n")
    done = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(tmp_path / "o")])
    line = spec.read_text().splitlines().index("  - {url: 'ftp://example.org/x'}") + 1
    assert done.exit_code == 2 and done.stderr.startswith(f"error: {spec}:{line}:"), done.stderr
    assert "not an http(s) URL" in done.stderr and not (tmp_path / "o").exists()


@pytest.mark.parametrize("code", [301, 302, 307])
def test_a_redirect_is_a_failure_not_a_silent_get(
    code: int, results: dict[str, AuditResult]
) -> None:
    # found by QA: a webhook answering 301 made urllib send a GET without the message to the
    # new address; its 200 was reported as "sent"
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Moved(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append(f"POST {self.path}")
            if self.path == "/old":
                self.send_response(code)
                self.send_header("Location", "/new-secret-path")
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            seen.append(f"GET {self.path}")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Moved)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/old"
        target = NotifyTarget(url=url, shown=redact_url(url), format="generic")
        [outcome] = notify(results["nyc-ll144-example"], [target])
    finally:
        server.shutdown()
        server.server_close()
    assert seen == ["POST /old"]
    assert not outcome.sent and outcome.attempts == 1 and outcome.status == code
    assert outcome.error is not None and "a redirect, not followed" in outcome.error
    assert "new-secret-path" not in outcome.error


def test_chat_messages_give_each_group_the_threshold_it_failed(
    hook: Hook, make_audit: Callable[..., Path]
) -> None:
    # found by QA: Slack and Teams lines listed a failing group's value, ratio and n but not
    # what was required (docs: "and the assertion's threshold"); the generic payload had the
    # threshold but not whether it bounds the ratio, the difference or the value
    from tests.conftest import POLICY

    from ethicsgate.audit import run_audit

    difference = POLICY.replace(
        '{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}',
        '{metric: selection_rate, aggregate: difference, op: "<=", value: 0.1}',
    )
    assert difference != POLICY
    for policy, required in (
        (POLICY, "(required: ratio at least 0.8)"),
        (difference, "(required: difference at most 0.1)"),
    ):
        result = run_audit(make_audit(FAILING, policy=policy))
        hook.bodies.clear()
        notify(result, [_target(hook, "slack"), _target(hook, "teams"), _target(hook)])
        slack, teams, generic = hook.bodies
        assert required in slack["blocks"][1]["text"]["text"]
        body = teams["attachments"][0]["content"]["body"]
        assert any(required in run["text"] for b in body for run in b["inlines"])
        [figure] = generic["rules"][0]["groups"]
        assert figure["aggregate"] == required.split()[1]
