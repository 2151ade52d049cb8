"""Write the passing and failing example audits of every shipped policy pack (seeded, small).

Run from the repository root: ``python tests/scenarios/packs/make_examples.py``. Each pack gets
``<pack>/pass/`` and ``<pack>/fail/`` with an ``audit.yaml`` and its data; the failing variant
breaks exactly the rules ``EXPECTED_FAILURES`` names.
"""

from __future__ import annotations

import csv
import json
import random
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
}


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


BUILDERS = {
    "nyc-ll144": _hiring,
    "eeoc-four-fifths": _hiring,
    "eu-ai-act-transparency": _eu_ai_act,
    "gdpr-consent": _gdpr,
    "customer-automation": _customer,
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
