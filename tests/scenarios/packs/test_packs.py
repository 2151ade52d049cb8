"""Every shipped policy pack validates, passes on its passing example and fails on its failing one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from ethicsgate.cli import cli
from ethicsgate.policy import load_policy

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
PACKS = ["nyc-ll144", "eeoc-four-fifths", "eu-ai-act-transparency", "gdpr-consent",
         "customer-automation", "colorado-sb26-189", "ccpa-admt", "illinois-hb3773",
         "utah-ai-disclosure", "ny-algorithmic-pricing", "eu-ai-act-deployer",
         "ca-feha-ads", "ca-sb243-companion-chatbots"]  # fmt: skip


def _expected_failures() -> dict[str, set[str]]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_examples", HERE / "make_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.EXPECTED_FAILURES), module


EXPECTED, MAKER = _expected_failures()


def test_every_shipped_pack_passes_policy_check() -> None:
    files = sorted(str(p) for p in (ROOT / "policies").glob("*.yaml"))
    assert {f"{p}.yaml" for p in PACKS} <= {Path(f).name for f in files}
    result = CliRunner().invoke(cli, ["policy", "check", *files])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("pack", PACKS)
def test_pack_cites_references_with_urls(pack: str) -> None:
    loaded = load_policy(ROOT / "policies" / f"{pack}.yaml")
    assert loaded.pack.references
    assert all(ref.url and ref.url.startswith("https://") for ref in loaded.pack.references)
    cited = {ref for rule in loaded.pack.rules for ref in rule.references}
    assert cited == {ref.id for ref in loaded.pack.references}
    assert all(rule.title for rule in loaded.pack.rules)


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("variant", ["pass", "fail"])
def test_pack_example(pack: str, variant: str, tmp_path: Path) -> None:
    audit = HERE / pack / variant / "audit.yaml"
    result = CliRunner().invoke(cli, ["audit", str(audit), "--out", str(tmp_path / "out")])
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    statuses = {rule["id"]: rule["status"] for rule in report["rules"]}
    if variant == "pass":
        assert result.exit_code == 0, result.output
        assert set(statuses.values()) == {"pass"}, statuses
    else:
        assert result.exit_code == 1, result.output
        failing = {rid for rid, status in statuses.items() if status in ("fail", "error")}
        assert failing == EXPECTED[pack]


def test_ll144_pack_reports_tables_with_unknowns(tmp_path: Path) -> None:
    audit = HERE / "nyc-ll144" / "fail" / "audit.yaml"
    CliRunner().invoke(cli, ["audit", str(audit), "--out", str(tmp_path)])
    rules = {r["id"]: r for r in json.loads((tmp_path / "report.json").read_text())["rules"]}
    for rule_id, kind in (("ll144-selection", "selection"), ("ll144-scoring", "scoring")):
        tables = rules[rule_id]["impact_ratio"]
        assert tables["kind"] == kind
        assert tables["exclude_below_share"] == 0.02
        by_features = {tuple(t["features"]): t for t in tables["tables"]}
        assert by_features[("sex",)]["unknown"] == 24  # every 50th applicant: sex Unknown
        assert ("sex", "race_ethnicity") in by_features


def test_examples_are_what_the_generator_writes(tmp_path: Path) -> None:
    MAKER.main(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert made
    for rel in made:
        assert (HERE / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


#: The shipped example audit of each new pack (audits/<pack>.yaml) over examples/bakery and
#: examples/hiring: every rule's status and violations by reason, as seeded by the generators.
SHIPPED_AUDITS: dict[str, dict[str, tuple[str, dict[str, int]]]] = {
    "colorado-sb26-189": {
        "consumers-are-told-before-admt-decides": ("fail", {"no_notice": 3}),
        "adverse-outcomes-are-explained": (
            "fail",
            {"missing_explanation": 2, "placeholder_explanation": 1},
        ),
        "adverse-outcomes-get-human-review": (
            "warn",
            {"automated_reviewer": 2, "no_human_review": 241},
        ),
        "consumer-requests-answered-in-30-days": ("fail", {"answered_late": 1, "overdue": 2}),
        "admt-records-kept-three-years": ("warn", {"not_retained": 1}),
    },
    "ccpa-admt": {
        "pre-use-notice-before-admt": ("fail", {"no_notice": 3}),
        "admt-opt-outs-honoured": ("fail", {"opted_out": 2}),
        "admt-access-requests-answered-in-45-days": ("pass", {}),
    },
    "illinois-hb3773": {
        "no-discriminatory-effect-by-sex": ("pass", {}),
        "no-discriminatory-effect-by-race-ethnicity": ("fail", {}),
        "no-zip-codes-or-other-proxies": ("fail", {"proxy_association": 1}),
        "applicants-notified-of-ai": ("fail", {"no_notice": 14}),
    },
    "utah-ai-disclosure": {
        "ai-admits-it-when-asked": ("fail", {"no_reply": 1, "not_disclosed_on_request": 2}),
        "high-risk-regulated-interactions-disclosed-up-front": ("skipped", {}),
        "safe-harbour-disclosure-at-the-outset": (
            "warn",
            {"disclosed_late": 4, "not_disclosed": 6},
        ),
    },
    "ny-algorithmic-pricing": {
        "personalised-prices-carry-the-statement": ("fail", {"not_disclosed": 3}),
    },
    "eu-ai-act-deployer": {
        "people-informed-before-decisions": ("fail", {"no_notice": 3}),
        "adverse-decisions-overseen": ("fail", {"automated_reviewer": 2, "no_human_review": 241}),
        "logs-kept-six-months": ("fail", {"gap_too_long": 1}),
        "explanations-given-within-30-days": ("pass", {}),
        "published-ai-text-labelled": ("fail", {"unlabeled": 4}),
    },
    "ca-feha-ads": {
        "ads-selects-each-sex-fairly": ("pass", {}),
        "ads-selects-each-race-ethnicity-fairly": ("fail", {}),
        "ads-inputs-checked-for-proxies": ("warn", {"proxy_association": 1}),
        "ads-records-kept-four-years": ("warn", {"not_retained": 1}),
    },
    "ca-sb243-companion-chatbots": {
        "companion-disclosed-as-ai": ("fail", {"not_disclosed": 2}),
        "minors-reminded-to-take-a-break": ("fail", {"reminder_overdue": 2}),
        "self-harm-referred-to-crisis-services": (
            "fail",
            {"not_referred": 1, "referred_late": 1},
        ),
    },
}


@pytest.mark.parametrize("pack", sorted(SHIPPED_AUDITS))
def test_shipped_example_audit_of_a_new_pack(pack: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["audit", str(ROOT / "audits" / f"{pack}.yaml"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1, result.output  # the seeded violations block
    report = json.loads((tmp_path / "report.json").read_text())
    found = {
        rule["id"]: (rule["status"], rule.get("violations_by_reason") or {})
        for rule in report["rules"]
    }
    assert found == SHIPPED_AUDITS[pack]
    for proxy in (r for r in report["rules"] if r["kind"] == "proxy"):
        # the zip3 column, mapped to home_area, is what gives it away (Illinois, California)
        (finding,) = proxy["findings"]
        assert finding["record_id"] == "home_area ~ race_ethnicity"


def test_feha_records_warning_shows_where_a_young_systems_records_begin(tmp_path: Path) -> None:
    """The hiring tool's records begin on 8 January 2026: the run before it is not retained,
    and the finding names its last day, so a person can compare it with the first day of use."""
    CliRunner().invoke(
        cli, ["audit", str(ROOT / "audits" / "ca-feha-ads.yaml"), "--out", str(tmp_path)]
    )
    rules = {r["id"]: r for r in json.loads((tmp_path / "report.json").read_text())["rules"]}
    (finding,) = rules["ads-records-kept-four-years"]["findings"]
    assert finding["reason"] == "not_retained"
    assert finding["fields"]["gap_to"] == "2026-01-07"


def test_feha_failing_example_warns_on_proxies_and_lost_records(tmp_path: Path) -> None:
    """The two warning rules of ca-feha-ads are broken in its failing example too: a home area
    that follows race, and five weeks of records lost (41 days without one, over the 14)."""
    audit = HERE / "ca-feha-ads" / "fail" / "audit.yaml"
    CliRunner().invoke(cli, ["audit", str(audit), "--out", str(tmp_path)])
    rules = {r["id"]: r for r in json.loads((tmp_path / "report.json").read_text())["rules"]}
    assert rules["ads-inputs-checked-for-proxies"]["status"] == "warn"
    records = rules["ads-records-kept-four-years"]
    assert records["status"] == "warn"
    assert records["violations_by_reason"] == {"gap_too_long": 1}
    (finding,) = records["findings"]
    assert finding["fields"]["gap_days"] == "41"


def test_illinois_example_files_are_what_make_applicants_writes(tmp_path: Path) -> None:
    import importlib.util

    hiring = ROOT / "examples" / "hiring"
    spec = importlib.util.spec_from_file_location("make_applicants", hiring / "make_applicants.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path / "applicants.csv")
    for name in ("applicants.csv", "applicant_features.csv", "notices.csv"):
        assert (tmp_path / name).read_bytes() == (hiring / name).read_bytes(), name


def _companion_maker() -> Any:
    import importlib.util

    path = ROOT / "examples" / "companion" / "make_chat.py"
    spec = importlib.util.spec_from_file_location("make_chat", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_companion_example_is_what_make_chat_writes(tmp_path: Path) -> None:
    _companion_maker().main(tmp_path / "chat_events.jsonl")
    shipped = ROOT / "examples" / "companion" / "chat_events.jsonl"
    assert (tmp_path / "chat_events.jsonl").read_bytes() == shipped.read_bytes()


def test_sb243_example_finds_exactly_the_planted_sessions(tmp_path: Path) -> None:
    """The companion log's planted violations, by session, and what each finding says."""
    spec = ROOT / "audits" / "ca-sb243-companion-chatbots.yaml"
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    rules = {r["id"]: r for r in json.loads((tmp_path / "report.json").read_text())["rules"]}
    expected = _companion_maker().EXPECTED
    assert {rid: rules[rid]["violations_by_reason"] for rid in expected} == expected
    sessions = {
        rid: {f["record_id"]: f["reason"] for f in rules[rid]["findings"]} for rid in expected
    }
    assert sessions == {
        "companion-disclosed-as-ai": {"S07": "not_disclosed", "S19": "not_disclosed"},
        "minors-reminded-to-take-a-break": {
            "M03": "reminder_overdue",
            "M08": "reminder_overdue",
        },
        "self-harm-referred-to-crisis-services": {
            "M05": "referred_late",
            "S11": "not_referred",
        },
    }
    # adults' long sessions (S05, S16) owe no reminder; minors' sessions are the records
    assert rules["minors-reminded-to-take-a-break"]["records_checked"] == 10
    # S23's message is recognised only by the app's own classifier (risk_flag, mapped)
    assert rules["self-harm-referred-to-crisis-services"]["records_checked"] == 5
    (m03,) = (
        f for f in rules["minors-reminded-to-take-a-break"]["findings"] if f["record_id"] == "M03"
    )
    assert "3h12m30s later (limit 3h)" in m03["message"]


def test_the_sb243_pack_says_what_the_law_says_and_no_more() -> None:
    """Chapter 22.6 runs to § 22606; the reminders are owed to users the operator knows are
    minors (the public statement promised them to every user under 18); the law sets no time
    for the referral and asks for reminders by default, which the pack must say it reads."""
    pack = load_policy(ROOT / "policies" / "ca-sb243-companion-chatbots.yaml").pack
    assert "§§ 22601-22606" in pack.title
    (system,) = pack.systems
    assert "users we know are under 18" in system.disclosure
    assert "sets no time" in pack.description
    assert any("by default" in item for item in pack.scope.left_to_people)


def test_a_minors_conversation_resumed_the_next_day_starts_its_three_hours_again(
    tmp_path: Path,
) -> None:
    """The pack ends an interaction at a pause of more than an hour (found by the SB 243 QA:
    without it, every companion conversation resumed the next day failed, "12h59m later");
    a pause of less goes on counting."""
    rows = []
    for conv, gap in (("resumed", 13 * 60), ("short-pause", 50)):
        for minute in (0, 60, 120, 120 + gap, 150 + gap, 200 + gap):
            clock = (datetime(2026, 3, 2, 8, tzinfo=UTC) + timedelta(minutes=minute)).isoformat()
            rows.append({"conversation_id": conv, "ts": clock, "actor": "bot", "type": "message",
                         "text": "I'm an AI companion.", "minor": "true"})  # fmt: skip
    (tmp_path / "chat.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "audit.yaml").write_text(
        "schema_version: 1\nid: t\npolicy: pack:ca-sb243-companion-chatbots\nevidence:\n"
        "  chat: {path: chat.jsonl}\n"
    )
    CliRunner().invoke(cli, ["audit", str(tmp_path / "audit.yaml"), "--out", str(tmp_path / "o")])
    rules = {r["id"]: r for r in json.loads((tmp_path / "o" / "report.json").read_text())["rules"]}
    reminders = rules["minors-reminded-to-take-a-break"]
    assert reminders["records_checked"] == 2
    assert {f["record_id"]: f["reason"] for f in reminders["findings"]} == {
        "short-pause": "reminder_overdue"
    }


def test_every_citation_of_the_ny_pricing_act_gives_its_dates() -> None:
    """§ 349-a is in force from 8 July 2025 and enforced from November 2025 (found by QA: the
    bakery pack said "in force November 2025", the New York pack 8 July 2025)."""
    titles = [
        ref.title
        for path in sorted((ROOT / "policies").glob("*.yaml"))
        for ref in load_policy(path).pack.references
        if "349-a" in ref.title
    ]
    assert len(titles) >= 2
    assert all("in force 8 July 2025" in title for title in titles), titles
    assert "in force November" not in (ROOT / "docs" / "rules-logs.md").read_text()


@pytest.mark.parametrize("pack", ["illinois-hb3773", "eeoc-four-fifths", "ca-feha-ads"])
def test_four_fifths_packs_compare_groups_not_people_who_declined(
    pack: str, tmp_path: Path
) -> None:
    """Found by QA: 'Decline to state' was compared as a race/ethnicity (failing, one of the
    "5 groups") and as a sex (the worst sex ratio, 0.83, was theirs, not women's 0.90)."""
    hiring = ROOT / "examples" / "hiring" / "applicants.csv"
    spec = ROOT / "audits" / f"{pack}.yaml"  # the shipped audit, over the same applicants
    if pack == "eeoc-four-fifths":
        spec = tmp_path / "audit.yaml"
        spec.write_text(
            f"schema_version: 1\nid: {pack}-hiring\npolicy: {ROOT / 'policies' / pack}.yaml\n"
            f"evidence:\n  applicants:\n    path: {hiring}\n"
            "    columns: {prediction: advanced}\n",
            encoding="utf-8",
        )
    CliRunner().invoke(cli, ["audit", str(spec), "--out", str(tmp_path / "out")])
    rules = json.loads((tmp_path / "out" / "report.json").read_text())["rules"]
    fairness = {r["id"]: r for r in rules if r["kind"] == "fairness"}
    assert len(fairness) == 2
    for rule in fairness.values():
        (assertion,) = rule["assertions"]
        failing = {v for g in assertion["failing_groups"] for v in g.values()}
        assert failing.isdisjoint({"Decline to state", "Unknown"}), rule["id"]
        unknown = [g for g in rule["groups"] if "Decline to state" in g["group"].values()]
        assert unknown and all(g["excluded"] for g in unknown), rule["id"]
        assert all(g["count"] >= 30 for g in unknown)  # left out as unknown, not as small
        reference = rule["reference_values"]["selection_rate"]["group"]
        assert set(reference.values()).isdisjoint({"Decline to state", "Unknown"})
        assert "of an unknown value (Unknown, Decline to state or missing)" in rule["message"]
    by_sex = next(r for r in fairness.values() if r["assertions"][0]["failing_groups"] == [])
    assert by_sex["assertions"][0]["observed"] == pytest.approx(0.8979, abs=1e-4)  # F / M


@pytest.mark.parametrize("pack", ["illinois-hb3773", "eeoc-four-fifths", "ca-feha-ads"])
def test_four_fifths_packs_never_judge_or_compare_against_a_tiny_group(
    pack: str, tmp_path: Path
) -> None:
    """Found by QA: with the four-fifths rule as LL144 impact-ratio tables, a 5-person sex
    category failed the audit (ratio 0) though the pack says groups under 30 are not
    compared; and a tiny category selected at 100 % would be every other's reference."""
    rows = ["sex,race_ethnicity,advanced"]
    rows += [f"F,A,{int(i % 2 == 0)}" for i in range(100)]  # 50 %
    rows += [f"M,A,{int(i % 5 < 3)}" for i in range(100)]  # 60 %
    rows += ["X,A,1"] * 5 + ["Y,A,0"] * 5  # 100 % and 0 %, five people each
    rows += ["Decline to state,A,0"] * 40
    (tmp_path / "applicants.csv").write_text("\n".join(rows) + "\n")
    # the pack's own fairness rules, alone (its other rules read other evidence)
    doc = yaml.safe_load((ROOT / "policies" / f"{pack}.yaml").read_text(encoding="utf-8"))
    doc["rules"] = [r for r in doc["rules"] if r["kind"] == "fairness"]
    doc.pop("systems", None)
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    spec = tmp_path / "audit.yaml"
    spec.write_text(
        f"schema_version: 1\nid: {pack}-tiny\npolicy: policy.yaml\n"
        "evidence:\n  applicants:\n    path: applicants.csv\n"
        "    columns: {prediction: advanced}\n",
        encoding="utf-8",
    )
    CliRunner().invoke(cli, ["audit", str(spec), "--out", str(tmp_path / "out")])
    rules = json.loads((tmp_path / "out" / "report.json").read_text())["rules"]
    (by_sex,) = [r for r in rules if r["kind"] == "fairness" and r["sensitive_features"] == ["sex"]]
    (assertion,) = by_sex["assertions"]
    assert assertion["failing_groups"] == [] and by_sex["status"] == "pass"
    assert assertion["reference_group"] == {"sex": "M"}
    assert assertion["observed"] == pytest.approx(0.5 / 0.6)
    assert "2 group(s) under 30 people and 1 group(s) of an unknown value" in by_sex["message"]


def test_the_uniform_guidelines_apply_from_their_effective_date() -> None:
    """29 CFR part 1607 was published on 25 August 1978 (43 FR 38290) and took effect on
    25 September 1978; the pack gave the publication date as the date it applies from."""
    scope = load_policy(ROOT / "policies" / "eeoc-four-fifths.yaml").pack.scope
    assert scope is not None
    assert [d.date.isoformat() for d in scope.in_force] == ["1978-09-25"]
