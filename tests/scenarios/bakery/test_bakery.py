"""The bakery example end to end: shipped data, policy and audit find exactly what was planted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ethicsgate.audit import run_audit
from ethicsgate.audit.result import AuditResult
from ethicsgate.examples.bakery import EXPECTED, FILES, generate_bakery, policy_text
from ethicsgate.report import render_html, render_markdown

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "examples" / "bakery"

#: What the audit of the shipped data (seed 7) finds: written out, not computed, so that a
#: change in the generator or in a check shows up here.
SHIPPED_COUNTS = {
    "chatbot-discloses-automation": (242, {"disclosed_late": 4, "not_disclosed": 6}),
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
        "chat": (884, 884),
        "email_sends": (1561, 1561),
        "consent_ledger": (444, 444),
        "loyalty_decisions": (600, 600),
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


@pytest.mark.parametrize("seed", [1, 2024])
def test_every_seed_plants_exactly_the_expected_violations(tmp_path: Path, seed: int) -> None:
    written = generate_bakery(tmp_path, seed=seed)
    result = run_audit(written["audit.yaml"])
    assert {r.id: r.violations_by_reason for r in result.rules} == EXPECTED


def test_reports_show_the_findings(shipped: AuditResult) -> None:
    html = render_html(shipped)
    assert html.count('class="findings-table"') == 8
    assert "Bots disclose that they are automated" in html
    assert "Review sample by group" in html
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
