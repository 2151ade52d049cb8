"""Write the passing and failing example audits of every shipped policy pack (seeded, small).

Run from the repository root: ``python tests/scenarios/packs/make_examples.py``. Each pack gets
``<pack>/pass/`` and ``<pack>/fail/`` with an ``audit.yaml`` and its data; the failing variant
breaks exactly the rules ``EXPECTED_FAILURES`` names.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).parent
POLICIES = "../../../../../policies"

#: Rules that fail (or error) in each pack's failing example.
EXPECTED_FAILURES = {
    "nyc-ll144": {"ll144-selection"},
    "eeoc-four-fifths": {"four-fifths-sex"},
    "eu-ai-act-transparency": {
        "ai-disclosed-at-first-interaction",
        "ai-content-labelled",
        "adverse-decisions-overseen",
    },
    "gdpr-consent": {
        "processing-has-valid-consent",
        "withdrawal-honoured",
        "human-intervention-on-adverse-decisions",
        "automated-decisions-explained",
    },
    "customer-automation": {
        "bot-says-it-is-a-bot",
        "customers-reach-a-person",
        "marketing-has-consent",
        "replies-in-the-customers-language",
        "offers-fair-across-groups",
    },
    "colorado-sb26-189": {
        "consumers-are-told-before-admt-decides",
        "adverse-outcomes-are-explained",
        "consumer-requests-answered-in-30-days",
    },
    "ccpa-admt": {
        "pre-use-notice-before-admt",
        "admt-opt-outs-honoured",
        "admt-access-requests-answered-in-45-days",
    },
    "illinois-hb3773": {
        "no-discriminatory-effect-by-sex",
        "no-zip-codes-or-other-proxies",
        "applicants-notified-of-ai",
    },
    "utah-ai-disclosure": {
        "ai-admits-it-when-asked",
        "high-risk-regulated-interactions-disclosed-up-front",
    },
    "ny-algorithmic-pricing": {"personalised-prices-carry-the-statement"},
    "eu-ai-act-deployer": {
        "people-informed-before-decisions",
        "adverse-decisions-overseen",
        "logs-kept-six-months",
        "explanations-given-within-30-days",
        "published-ai-text-labelled",
    },
    # the proxy and records rules only warn: the failing example breaks them too (test_packs.py)
    "ca-feha-ads": {"ads-selects-each-sex-fairly"},
    "ca-sb243-companion-chatbots": {
        "companion-disclosed-as-ai",
        "minors-reminded-to-take-a-break",
        "self-harm-referred-to-crisis-services",
    },
}

#: The outcome of the shared decisions log as the new packs name it (an adverse one).
ADVERSE = "CASE outcome WHEN 'denied' THEN 'adverse' ELSE outcome END"


def _csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _audit(folder: Path, pack: str, evidence: dict[str, dict[str, object]]) -> None:
    lines = [
        "schema_version: 1",
        f"id: {pack}-{folder.name}",
        f"title: {pack} example ({folder.name}ing)",
        f"policy: {POLICIES}/{pack}.yaml",
        "evidence:",
    ]
    for name, spec in evidence.items():
        lines.append(f"  {name}: {json.dumps(spec)}")
    (folder / "audit.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _applicants(fail: bool, rng: random.Random) -> list[dict[str, object]]:
    rows = []
    groups = [("Male", "White"), ("Female", "White"), ("Male", "Black"), ("Female", "Black")]
    for i in range(1200):
        sex, race = groups[i % 4]
        rate = 0.5
        if fail and sex == "Female":
            rate = 0.2
        score = rng.random()
        advanced = int(rng.random() < rate)
        rows.append(
            {
                "applicant_id": i + 1,
                "sex": sex if i % 50 else "Unknown",
                "race_ethnicity": race,
                "advanced": advanced,
                "match_score": round(0.5 * score + 0.5 * advanced, 4),
            }
        )
    return rows


def _hiring(pack: str, folder: Path, fail: bool) -> None:
    rng = random.Random(1607)
    _csv(folder / "applicants.csv", _applicants(fail, rng))
    columns = {"prediction": "advanced", "score": "match_score"}
    _audit(folder, pack, {"applicants": {"path": "applicants.csv", "columns": columns}})


def _chat(fail: bool, *, handoff: bool = False) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for c in range(6):
        cid = f"C{c}"
        disclose = not (fail and c == 0)
        first = "Hi, I'm the virtual assistant of the shop." if disclose else "Hi! How can I help?"
        rows += [
            {"conversation_id": cid, "ts": f"2025-03-0{c + 1}T10:00:00Z", "actor": "customer",
             "type": "message", "text": "Do you deliver on Sundays?"},
            {"conversation_id": cid, "ts": f"2025-03-0{c + 1}T10:00:05Z", "actor": "bot",
             "type": "message", "text": first},
        ]  # fmt: skip
        if handoff and c == 1:
            late = fail
            rows += [
                {"conversation_id": cid, "ts": f"2025-03-0{c + 1}T10:01:00Z",
                 "actor": "customer", "type": "message", "text": "Can I talk to a person?"},
                {"conversation_id": cid,
                 "ts": f"2025-03-0{c + 1}T{'11:30' if late else '10:05'}:00Z",
                 "actor": "human", "type": "message", "text": "Hello, this is Anna."},
            ]  # fmt: skip
    return rows


def _decisions(fail: bool) -> list[dict[str, object]]:
    rows = []
    for d in range(10):
        outcome = "denied" if d % 3 == 0 else "approved"
        reviewer = "Sam Lee" if outcome == "denied" and not (fail and d == 0) else ""
        reason = "" if fail and d == 3 else f"Score {0.3 + d / 20:.2f} against a 0.5 threshold"
        rows.append(
            {"decision_id": f"D{d}", "outcome": outcome, "reviewer": reviewer,
             "routed_to_review": "false", "explanation": reason}
        )  # fmt: skip
    return rows


def _eu_ai_act(pack: str, folder: Path, fail: bool) -> None:
    _jsonl(folder / "chat.jsonl", _chat(fail))
    content = [
        {"event_id": f"P{i}", "ai_generated": "true" if i % 2 else "false",
         "ai_label": "false" if fail and i == 1 else ("true" if i % 2 else "false")}
        for i in range(6)
    ]  # fmt: skip
    _csv(folder / "content.csv", content)
    _csv(folder / "decisions.csv", _decisions(fail))
    _audit(
        folder,
        pack,
        {
            "chat": {"path": "chat.jsonl"},
            "content": {"path": "content.csv"},
            "decisions": {"path": "decisions.csv"},
        },
    )


def _consent(fail: bool) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    ledger = [
        {"subject_id": "S1", "purpose": "marketing", "granted_at": "2025-01-01T00:00:00Z",
         "withdrawn_at": "2025-03-01T00:00:00Z", "expires_at": ""},
        {"subject_id": "S2", "purpose": "marketing", "granted_at": "2025-01-01T00:00:00Z",
         "withdrawn_at": "", "expires_at": ""},
    ]  # fmt: skip
    events = [
        {"event_id": "E1", "subject_id": "S1", "purpose": "marketing", "ts": "2025-02-01T09:00:00Z"},
        {"event_id": "E2", "subject_id": "S2", "purpose": "marketing", "ts": "2025-03-02T09:00:00Z"},
        {"event_id": "E3", "subject_id": "S3", "purpose": "service", "ts": "2025-03-02T09:00:00Z"},
    ]  # fmt: skip
    if fail:
        events += [
            {"event_id": "E4", "subject_id": "S1", "purpose": "marketing",
             "ts": "2025-03-05T09:00:00Z"},
            {"event_id": "E5", "subject_id": "S3", "purpose": "marketing",
             "ts": "2025-03-05T09:00:00Z"},
        ]  # fmt: skip
    return events, ledger


def _gdpr(pack: str, folder: Path, fail: bool) -> None:
    events, ledger = _consent(fail)
    _csv(folder / "processing.csv", events)
    _csv(folder / "consent_ledger.csv", ledger)
    _csv(folder / "decisions.csv", _decisions(fail))
    _audit(
        folder,
        pack,
        {
            "processing": {"path": "processing.csv"},
            "consent_ledger": {"path": "consent_ledger.csv"},
            "decisions": {"path": "decisions.csv"},
        },
    )


def _customer(pack: str, folder: Path, fail: bool) -> None:
    _jsonl(folder / "chat.jsonl", _chat(fail, handoff=True))
    events, ledger = _consent(fail)
    sends = [
        {**e, "purpose": {"marketing": "newsletter", "service": "order_confirmation"}[e["purpose"]]}
        for e in events
    ]
    ledger = [{**row, "purpose": "newsletter"} for row in ledger]
    _csv(folder / "email_sends.csv", sends)
    _csv(folder / "consent_ledger.csv", ledger)
    replies = [
        {"reply_id": f"R{i}", "customer_language": "de" if i % 4 == 0 else "en",
         "reply_language": "en" if (fail and i % 4 == 0) or i == 1 else
         ("de" if i % 4 == 0 else "en")}
        for i in range(100)
    ]  # fmt: skip
    _csv(folder / "replies.csv", replies)
    offers = []
    for i in range(200):
        group = ["new", "regular", "senior"][i % 3]
        # every group is offered every second time; in the failing data seniors every sixth
        every = 6 if fail and group == "senior" else 2
        offers.append({"customer_id": f"K{i}", "customer_group": group,
                       "offered": int((i // 3) % every == 0)})  # fmt: skip
    _csv(folder / "offers.csv", offers)
    _audit(
        folder,
        pack,
        {
            "chat": {"path": "chat.jsonl"},
            "email_sends": {"path": "email_sends.csv"},
            "consent_ledger": {"path": "consent_ledger.csv"},
            "replies": {
                "path": "replies.csv",
                "columns": {"same_language": "reply_language = customer_language"},
            },
            "offers": {"path": "offers.csv", "columns": {"prediction": "offered"}},
        },
    )


def _day(start: date, days: int, hour: int = 9) -> str:
    return f"{(start + timedelta(days=days)).isoformat()}T{hour:02d}:00:00Z"


def _notices_and_decisions(
    count: int, every: int, *, notice: str, decision: str, missing: int | None
) -> list[dict[str, object]]:
    """One subject per ``every`` days: a notice at 09:00, the decision at 10:00 (none for
    subject ``missing``, whose decision comes without a notice)."""
    rows: list[dict[str, object]] = []
    start = date(2024, 1, 1)
    for i in range(count):
        subject = f"S{i:04d}"
        if i != missing:
            rows.append({"event_id": f"N{i:04d}", "subject_id": subject,
                         "ts": _day(start, i * every), "type": notice})  # fmt: skip
        rows.append({"event_id": f"D{i:04d}", "subject_id": subject,
                     "ts": _day(start, i * every, 10), "type": decision})  # fmt: skip
    return rows


def _requests(kind: str, within_days: int, fail: bool) -> list[dict[str, object]]:
    """Three requests answered in time; in the failing data the second one is answered late."""
    start = date(2026, 3, 1)
    late = within_days + 5
    return [
        {"request_id": f"R{i}", "ts": _day(start, 10 * i), "type": kind,
         "answered_at": _day(start, 10 * i + (late if fail and i == 1 else 3))}
        for i in range(3)
    ]  # fmt: skip


def _colorado(pack: str, folder: Path, fail: bool) -> None:
    # a decision every 5 days for three years: the log covers 1096 days without a long gap
    events = _notices_and_decisions(
        222, 5, notice="admt_notice", decision="consequential_decision", missing=3 if fail else None
    )
    _csv(folder / "admt_events.csv", events)
    _csv(folder / "decisions.csv", _decisions(fail))
    _csv(folder / "requests.csv", _requests("correction_request", 30, fail))
    _audit(
        folder,
        pack,
        {
            "admt_events": {"path": "admt_events.csv"},
            "decisions": {
                "path": "decisions.csv",
                "columns": {"outcome": ADVERSE, "type": ADVERSE},
            },
            "requests": {"path": "requests.csv"},
        },
    )


def _ccpa(pack: str, folder: Path, fail: bool) -> None:
    events = _notices_and_decisions(
        8, 1, notice="pre_use_notice", decision="significant_decision", missing=0 if fail else None
    )
    # S0005 opted out before its decision's day in the failing data, after it in the passing
    opted_out = _day(date(2024, 1, 1), 4 if fail else 6)
    ledger = [
        {"subject_id": "S0005", "purpose": "admt", "granted_at": "", "withdrawn_at": opted_out,
         "expires_at": ""},
        {"subject_id": "S0006", "purpose": "marketing", "granted_at": "",
         "withdrawn_at": _day(date(2024, 1, 1), 1), "expires_at": ""},
    ]  # fmt: skip
    _csv(folder / "admt_events.csv", events)
    _csv(folder / "opt_out_ledger.csv", ledger)
    _csv(folder / "requests.csv", _requests("admt_access_request", 45, fail))
    _audit(
        folder,
        pack,
        {
            "admt_events": {"path": "admt_events.csv"},
            "opt_out_ledger": {"path": "opt_out_ledger.csv"},
            "requests": {"path": "requests.csv"},
        },
    )


def _model_inputs(applicants: list[dict[str, object]], fail: bool) -> list[dict[str, object]]:
    """The model's inputs per applicant; failing: the home area follows race 9 times in 10."""
    rng = random.Random(3773)
    areas = {"White": "604", "Black": "606"}
    inputs = []
    for row in applicants:
        # failing: the home area is the race's area 9 times in 10; passing: drawn at random
        tied = fail and rng.random() < 0.9
        inputs.append(
            {"applicant_id": row["applicant_id"], "sex": row["sex"],
             "race_ethnicity": row["race_ethnicity"],
             "years_experience": rng.randint(0, 20), "degree": rng.choice(["none", "bachelor"]),
             "commute_km": round(rng.uniform(1, 40), 1),
             "home_area": areas[str(row["race_ethnicity"])] if tied else rng.choice(["604", "606"])}
        )  # fmt: skip
    return inputs


def _illinois(pack: str, folder: Path, fail: bool) -> None:
    applicants = _applicants(fail, random.Random(1607))
    _csv(folder / "applicants.csv", applicants)
    _csv(folder / "model_inputs.csv", _model_inputs(applicants, fail))
    events = _notices_and_decisions(
        20, 1, notice="ai_notice", decision="ai_decision", missing=7 if fail else None
    )
    _csv(folder / "hiring_events.csv", events)
    _audit(
        folder,
        pack,
        {
            "applicants": {"path": "applicants.csv", "columns": {"prediction": "advanced"}},
            "model_inputs": {"path": "model_inputs.csv"},
            "hiring_events": {"path": "hiring_events.csv"},
        },
    )


def _utah(pack: str, folder: Path, fail: bool) -> None:
    chat = _chat(False)
    answer = "Hello!" if fail else "No, I'm a virtual assistant, not a person."
    chat += [
        {"conversation_id": "Q1", "ts": "2025-03-09T10:00:00Z", "actor": "bot",
         "type": "message", "text": "Hi, I'm the virtual assistant of the shop."},
        {"conversation_id": "Q1", "ts": "2025-03-09T10:01:00Z", "actor": "customer",
         "type": "message", "text": "Am I talking to a real person?"},
        {"conversation_id": "Q1", "ts": "2025-03-09T10:01:05Z", "actor": "bot",
         "type": "message", "text": answer},
    ]  # fmt: skip
    _jsonl(folder / "chat.jsonl", chat)
    # high-risk interactions: the disclosure opens the chat, before the client writes; in the
    # failing example R0's client writes first and the bot's first reply discloses (too late)
    regulated = []
    for c in range(4):
        disclosure = {"conversation_id": f"R{c}", "ts": f"2025-03-1{c}T09:00:00Z",
                      "actor": "system", "type": "ai_disclosure",
                      "text": "I am an AI assistant, not a person."}  # fmt: skip
        if fail and c == 0:
            disclosure = {**disclosure, "ts": f"2025-03-1{c}T09:00:05Z", "actor": "bot",
                          "type": "message"}  # fmt: skip
        regulated += [
            disclosure,
            {"conversation_id": f"R{c}", "ts": f"2025-03-1{c}T09:00:01Z", "actor": "customer",
             "type": "message", "text": "Can you check my prescription dosage?"},
            {"conversation_id": f"R{c}", "ts": f"2025-03-1{c}T09:00:06Z", "actor": "bot",
             "type": "message", "text": "Please give me the name of the medicine."},
        ]  # fmt: skip
    _jsonl(folder / "regulated_chat.jsonl", regulated)
    _audit(
        folder,
        pack,
        {"chat": {"path": "chat.jsonl"}, "regulated_chat": {"path": "regulated_chat.jsonl"}},
    )


STATEMENT = "THIS PRICE WAS SET BY AN ALGORITHM USING YOUR PERSONAL DATA"


def _ny(pack: str, folder: Path, fail: bool) -> None:
    prices = []
    for i in range(8):
        personalized = i % 2 == 0
        text = f"Your price: USD {3 + i}.50"
        if personalized and not (fail and i == 4):
            text += f". {STATEMENT.lower() if i == 2 else STATEMENT}"
        prices.append({"event_id": f"P{i}", "personalized": str(personalized).lower(),
                       "text": text})  # fmt: skip
    _csv(folder / "prices_shown.csv", prices)
    _audit(folder, pack, {"prices_shown": {"path": "prices_shown.csv"}})


def _eu_deployer(pack: str, folder: Path, fail: bool) -> None:
    events = _notices_and_decisions(
        200, 1, notice="ai_notice", decision="ai_decision", missing=5 if fail else None
    )
    if fail:  # five days without log rows
        gap = {f"S{i:04d}" for i in range(100, 105)}
        events = [e for e in events if e["subject_id"] not in gap]
    _csv(folder / "decision_events.csv", events)
    _csv(folder / "decisions.csv", _decisions(fail))
    _csv(folder / "explanation_requests.csv", _requests("explanation_request", 30, fail))
    content = [
        {"event_id": f"T{i}", "ai_generated": "true" if i % 2 else "false",
         "ai_label": "false" if fail and i == 1 else ("true" if i % 2 else "false")}
        for i in range(6)
    ]  # fmt: skip
    _csv(folder / "published_content.csv", content)
    _audit(
        folder,
        pack,
        {
            "decision_events": {"path": "decision_events.csv"},
            "decisions": {"path": "decisions.csv", "columns": {"outcome": ADVERSE}},
            "system_logs": {"path": "decision_events.csv"},
            "explanation_requests": {"path": "explanation_requests.csv"},
            "published_content": {"path": "published_content.csv"},
        },
    )


def _feha(pack: str, folder: Path, fail: bool) -> None:
    applicants = _applicants(fail, random.Random(1607))
    _csv(folder / "applicants.csv", applicants)
    _csv(folder / "model_inputs.csv", _model_inputs(applicants, fail))
    # a decision record every 7 days for four years and a bit: 1461 days without a long gap;
    # the failing records lose five weeks in the middle (41 days without a record)
    start = date(2022, 1, 3)
    lost = range(100, 105) if fail else range(0)
    records = [
        {"record_id": f"R{i:04d}", "applicant_id": f"A{i:04d}", "ts": _day(start, 7 * i),
         "type": "screening_decision"}
        for i in range(210)
        if i not in lost
    ]  # fmt: skip
    _csv(folder / "ads_records.csv", records)
    _audit(
        folder,
        pack,
        {
            "applicants": {"path": "applicants.csv", "columns": {"prediction": "advanced"}},
            "model_inputs": {"path": "model_inputs.csv"},
            "ads_records": {"path": "ads_records.csv"},
        },
    )


def _sb243(pack: str, folder: Path, fail: bool) -> None:
    def say(cid: str, clock: str, actor: str, text: str, minor: bool, type_: str = "message"):
        return {"conversation_id": cid, "ts": f"2026-02-02T{clock}-08:00", "actor": actor,
                "type": type_, "text": text, "minor": str(minor).lower()}  # fmt: skip

    notice = "Hi, I'm Nova, an AI companion, not a person."
    reminder = "Time for a break! Remember, I'm an AI, not a human."
    chat = []
    for c, minor in enumerate([False, True, True]):
        cid = f"K{c}"
        if not (fail and c == 0):
            chat.append(say(cid, "15:00:00", "system", notice, minor, "ai_disclosure"))
        # a four-hour chat, a turn every 20 minutes; reminders at 2h50m (late in the failing one)
        for minute in range(0, 240, 20):
            clock = f"{15 + minute // 60}:{minute % 60:02d}"
            chat.append(say(cid, f"{clock}:05", "customer", "tell me more", minor))
            chat.append(say(cid, f"{clock}:30", "bot", "Sure! Here's another story.", minor))
        if minor:
            chat.append(say(cid, "18:10:00" if fail and c == 1 else "17:50:00", "system",
                            reminder, minor, "break_reminder"))  # fmt: skip
    # one expression of self-harm, referred before (passing) or after (failing) the reply
    referral = "Please call or text 988, the Suicide and Crisis Lifeline."
    chat += [
        say("K3", "20:00:00", "system", notice, True, "ai_disclosure"),
        say("K3", "20:01:00", "customer", "i want to die", True),
        say("K3", "20:01:20" if fail else "20:01:10", "bot", referral, True),
        say("K3", "20:01:15", "bot", "I'm here for you.", True),
    ]
    _jsonl(folder / "chat.jsonl", chat)
    _audit(folder, pack, {"chat": {"path": "chat.jsonl"}})


BUILDERS = {
    "nyc-ll144": _hiring,
    "eeoc-four-fifths": _hiring,
    "eu-ai-act-transparency": _eu_ai_act,
    "gdpr-consent": _gdpr,
    "customer-automation": _customer,
    "colorado-sb26-189": _colorado,
    "ccpa-admt": _ccpa,
    "illinois-hb3773": _illinois,
    "utah-ai-disclosure": _utah,
    "ny-algorithmic-pricing": _ny,
    "eu-ai-act-deployer": _eu_deployer,
    "ca-feha-ads": _feha,
    "ca-sb243-companion-chatbots": _sb243,
}


def main(root: Path = HERE) -> None:
    """Write every example under ``root``."""
    for pack, build in BUILDERS.items():
        for variant in ("pass", "fail"):
            folder = root / pack / variant
            folder.mkdir(parents=True, exist_ok=True)
            build(pack, folder, variant == "fail")


if __name__ == "__main__":
    main()
