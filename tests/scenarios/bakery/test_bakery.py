"""The bakery example end to end: shipped data, policy and audit find exactly what was planted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ethicsgate.audit import run_audit
from ethicsgate.audit.result import AuditResult
from ethicsgate.errors import OutputError
from ethicsgate.examples.bakery import EXPECTED, FILES, generate_bakery, policy_text
from ethicsgate.report import render_html, render_markdown

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "examples" / "bakery"

#: What the audit of the shipped data (seed 7) finds: written out, not computed, so that a
#: change in the generator or in a check shows up here.
SHIPPED_COUNTS = {
    "chatbot-discloses-automation": (256, {"disclosed_late": 4, "not_disclosed": 6}),
    "customers-can-reach-a-person": (40, {"answered_late": 4, "not_answered": 3}),
    "marketing-needs-consent": (
        1160,
        {"consent_expired": 2, "consent_withdrawn": 4, "no_consent": 5, "no_legal_basis": 2},
    ),
    "unsubscribes-stop-email": (1158, {"consent_withdrawn": 8}),
    "ai-drafted-email-is-labelled": (508, {"unlabeled": 4}),
    "borderline-denials-get-review": (60, {"automated_reviewer": 2, "no_human_review": 5}),
    "denials-are-explained": (296, {"missing_explanation": 2, "placeholder_explanation": 1}),
    "discount-decisions-quality-sample": (32, {"not_reviewed": 3}),
    "chatbot-admits-it-is-a-bot": (14, {"no_reply": 1, "not_disclosed_on_request": 2}),
    "customers-are-told-before-discount-decisions": (600, {"no_notice": 3}),
    "profiling-objections-are-honoured": (600, {"opted_out": 2}),
    "data-requests-answered-within-a-month": (18, {"answered_late": 1, "overdue": 2}),
    "discount-logs-kept-six-months": (7, {"gap_too_long": 1}),
    "personalised-prices-say-so": (432, {"not_disclosed": 3}),
}


@pytest.fixture(scope="module")
def shipped() -> AuditResult:
    return run_audit(ROOT / "audits" / "bakery.yaml")


def test_shipped_audit_finds_exactly_the_planted_violations(shipped: AuditResult) -> None:
    got = {r.id: (r.records_checked, r.violations_by_reason) for r in shipped.rules}
    assert got == SHIPPED_COUNTS
    assert {k: v[1] for k, v in SHIPPED_COUNTS.items()} == EXPECTED
    assert shipped.status == "fail"
    statuses = {r.id: r.status.value for r in shipped.rules}
    assert statuses["unsubscribes-stop-email"] == "warn"
    assert {s for k, s in statuses.items() if k != "unsubscribes-stop-email"} == {"fail"}


def test_shipped_audit_reads_every_file(shipped: AuditResult) -> None:
    evidence = {e.name: (e.rows_read, e.rows) for e in shipped.audit.evidence}
    assert evidence == {
        "chat": (939, 939),
        "email_sends": (1561, 1561),
        "consent_ledger": (452, 452),
        "loyalty_decisions": (600, 600),
        "discount_events": (1575, 1575),
        "privacy_requests": (20, 20),
    }


def test_edge_cases_planted_in_the_shipped_data(shipped: AuditResult) -> None:
    rules = {r.id: r for r in shipped.rules}
    withdrawn = rules["unsubscribes-stop-email"].findings
    # the send at the exact instant of the unsubscribe counts as after it (grace 0s) ...
    assert any(f.fields["ts"] == f.fields["withdrawn_at"] for f in withdrawn)
    # ... but the 48h grace of the consent rule accepts it, and the sends within 48h
    consent = rules["marketing-needs-consent"]
    late = [f for f in consent.findings if f.reason == "consent_withdrawn"]
    assert len(late) == 4 and all("(grace 2d)" in f.message for f in late)
    # a borderline denial with a score exactly on the band's lower edge needs review
    scores = {f.fields["score"] for f in rules["borderline-denials-get-review"].findings}
    assert "0.4" in scores
    strata = rules["discount-decisions-quality-sample"].strata
    assert [s.group["segment"] for s in strata] == ["lapsed", "new", "regular"]
    assert sum(s.sampled for s in strata) == 32 and sum(s.reviewed for s in strata) == 29


def test_edge_cases_of_the_issue_20_checks_in_the_shipped_data(shipped: AuditResult) -> None:
    rules = {r.id: r for r in shipped.rules}
    # a decision at the exact instant of the customer's opt-out counts as after it
    opted = rules["profiling-objections-are-honoured"].findings
    assert any(f.fields["ts"] == f.fields["opted_out_at"] for f in opted)
    # a notice only after the decision is no notice; one at its instant is (not a finding)
    told = rules["customers-are-told-before-discount-decisions"].findings
    assert {f.reason for f in told} == {"no_notice"}
    # two requests still inside their 30 days when the log ends are not judged (20 - 2)
    requests = rules["data-requests-answered-within-a-month"]
    assert requests.records_checked == 18
    assert {f.fields["customer_id"] is not None for f in requests.findings} == {True}
    # the outage of 5-9 January 2025 (Sunday to Thursday); Sundays and Christmas are allowed
    (gap,) = rules["discount-logs-kept-six-months"].findings
    assert (gap.record_id, gap.fields["gap_to"], gap.fields["gap_days"]) == (
        "2025-01-05", "2025-01-09", "5"
    )  # fmt: skip
    # a paraphrase of the statement is no statement
    prices = rules["personalised-prices-say-so"].findings
    assert any("Price set by an algorithm." in (f.fields["text"] or "") for f in prices)
    # a person replying to "are you a bot?" needs to disclose nothing; a dodge does
    asked = rules["chatbot-admits-it-is-a-bot"].findings
    assert sorted(f.reason for f in asked) == [
        "no_reply", "not_disclosed_on_request", "not_disclosed_on_request"
    ]  # fmt: skip


def test_shipped_data_is_the_generator_output_for_seed_7(tmp_path: Path) -> None:
    written = generate_bakery(tmp_path, seed=7, with_audit=False)
    for name in (*FILES, "README.md"):
        assert written[name].read_bytes() == (SHIPPED / name).read_bytes(), name


def test_shipped_policy_is_the_packaged_one() -> None:
    assert (ROOT / "policies" / "bakery-customer-automation.yaml").read_text() == policy_text()


def test_generator_is_deterministic_and_the_seed_matters(tmp_path: Path) -> None:
    a = generate_bakery(tmp_path / "a", seed=11)
    b = generate_bakery(tmp_path / "b", seed=11)
    c = generate_bakery(tmp_path / "c", seed=12)
    for name in FILES:
        assert a[name].read_bytes() == b[name].read_bytes()
        assert a[name].read_bytes() != c[name].read_bytes()


def test_writing_again_keeps_an_edited_file_unless_forced(tmp_path: Path) -> None:
    # found by QA: `examples bakery --out DIR` again replaced an edited audit.yaml silently
    first = generate_bakery(tmp_path, seed=11)
    assert generate_bakery(tmp_path, seed=11) == first  # the same bytes again: harmless
    edited = first["audit.yaml"].read_text() + "# my edit\n"
    first["audit.yaml"].write_text(edited)
    before = {name: path.read_bytes() for name, path in first.items()}
    with pytest.raises(OutputError, match="1 file.s. there differ .* audit.yaml") as caught:
        generate_bakery(tmp_path, seed=11)
    # called from Python: the hint names the parameters, not the command's --force and --out
    assert caught.value.hint == (
        "pass force=True to overwrite them, or choose another folder (out_dir= of generate_bakery)"
    )
    with pytest.raises(OutputError, match="chat_events.jsonl"):  # another seed: nothing written
        generate_bakery(tmp_path, seed=12)
    assert {name: path.read_bytes() for name, path in first.items()} == before
    generate_bakery(tmp_path, seed=11, force=True)
    assert "# my edit" not in first["audit.yaml"].read_text()


@pytest.mark.parametrize("seed", [1, 2024])
def test_every_seed_plants_exactly_the_expected_violations(tmp_path: Path, seed: int) -> None:
    written = generate_bakery(tmp_path, seed=seed)
    result = run_audit(written["audit.yaml"])
    assert {r.id: r.violations_by_reason for r in result.rules} == EXPECTED


def test_reports_show_the_findings(shipped: AuditResult) -> None:
    html = render_html(shipped)
    assert html.count('class="findings-table"') == 14
    assert "Bots disclose that they are automated" in html
    assert "Review sample by group" in html
    assert "Personalised prices carry the algorithmic-pricing disclosure" in html
    markdown = render_markdown(shipped)
    assert "**Withdrawn consent is honoured** (check `withdrawal_honored`)" in markdown
    assert "| Records checked | 1,158 |" in markdown
    data = json.loads(shipped.model_dump_json())
    rule = next(r for r in data["rules"] if r["id"] == "customers-can-reach-a-person")
    assert rule["parameters"]["within"] == "10m"
    assert set(rule["findings"][0]["fields"]) == {"requested_at", "human_joined_at"}


def test_bakery_report_validates_against_the_published_schema(shipped: AuditResult) -> None:
    import jsonschema

    from ethicsgate.report import render_json

    schema = json.loads((ROOT / "docs" / "schemas" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(render_json(shipped)))


def test_readme_gives_the_command_the_cli_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from ethicsgate.cli import cli

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["examples", "bakery", "--out", "ex"], catch_exceptions=False)
    assert result.exit_code == 0
    command = result.stdout.splitlines()[-1].removeprefix("next: ")
    assert command == "ethicsgate audit ex/audit.yaml --out ex/report"
    readme = (tmp_path / "ex" / "README.md").read_text()
    assert f"\n{command}\n" in readme
    assert "audits/bakery.yaml" not in readme  # the repository's spec is not in this folder
    # the command works as printed, from where the example was written
    args = command.split()[1:]
    audited = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert audited.exit_code == 1, audited.stderr  # the planted violations fail, as they should
    assert (tmp_path / "ex" / "report" / "report.json").is_file()


def test_the_tutorials_own_folder_commands_work_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by the owner QA: in a fresh folder the tutorial's commands (policies/..., audits/
    # bakery.yaml) were 'file not found'; it now gives the steps for the folder examples writes
    import re

    from click.testing import CliRunner

    from ethicsgate.cli import cli

    tutorial = (ROOT / "docs" / "tutorial-bakery.md").read_text()
    section = tutorial[tutorial.index("In a folder\nof your own") :]
    block = section[section.index("```console\n") : section.index("```\n\n")]
    commands = re.findall(r"^\$ ethicsgate (.+)$", block, flags=re.MULTILINE)
    assert len(commands) == 7
    monkeypatch.chdir(tmp_path)
    for command in commands:
        result = CliRunner().invoke(cli, command.split(), catch_exceptions=False)
        audit = command.startswith("audit ")
        assert result.exit_code == (1 if audit else 0), (command, result.stderr)
    assert (tmp_path / "my-bakery" / "report" / "report.intoto.json").is_file()
    assert (tmp_path / "my-bakery" / "public" / "statement.html").is_file()
