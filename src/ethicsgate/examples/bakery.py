"""A small bakery's customer automation, with known, seeded violations: example evidence.

Krume & Co., a (fictional) Berlin bakery, runs three automated systems:

* **Krümel**, a website chatbot (``chat_events.jsonl``): it should say that it is a bot before or
  with its first message, and hand over to staff when a customer asks for a person;
* **email campaigns** (``email_sends.csv``) checked against the **consent ledger**
  (``consent_ledger.csv``): newsletters, birthday and loyalty offers need consent; order
  confirmations rest on the contract; newsletters drafted with AI carry a label;
* a **loyalty-discount model** (``loyalty_decisions.csv``): borderline denials get a human
  reviewer, denials are explained, and a stratified 5 % sample gets a quality review; its app's
  event log (``discount_events.csv``) shows the automated-decision notice before each decision,
  honours objections to profiling (opt-outs in the consent ledger), shows personalised loyalty
  prices with the algorithmic-pricing statement and is kept six months without long gaps;
* **data-protection requests** (``privacy_requests.csv``): access, explanation, correction and
  human-review requests are answered within 30 days.

Krümel also admits it is a bot when a customer asks.

``generate_bakery(out_dir, seed)`` writes the four files and an audit spec with its policy. The
data is a pure function of the seed; the violations are planted on purpose, and ``EXPECTED``
says exactly how many each rule must find (the tests hold the audit to it, for every seed).
Timestamps show the three time-zone cases: chat and decisions carry Berlin offsets (+01:00,
then +02:00 after 30 March 2025), the ledger is in UTC (``Z``), email sends are naive (UTC).
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ethicsgate.policy.packs import pack_path
from ethicsgate.rules.oversight import select_review_sample

__all__ = ["EXPECTED", "FILES", "audit_command", "generate_bakery", "policy_text"]

FILES = (
    "chat_events.jsonl",
    "email_sends.csv",
    "consent_ledger.csv",
    "loyalty_decisions.csv",
    "discount_events.csv",
    "privacy_requests.csv",
)

#: Exactly what the bakery audit finds, per rule: violations by reason.
EXPECTED: dict[str, dict[str, int]] = {
    "chatbot-discloses-automation": {"not_disclosed": 6, "disclosed_late": 4},
    "customers-can-reach-a-person": {"not_answered": 3, "answered_late": 4},
    "marketing-needs-consent": {
        "no_consent": 5,
        "consent_withdrawn": 4,
        "consent_expired": 2,
        "no_legal_basis": 2,
    },
    "unsubscribes-stop-email": {"consent_withdrawn": 8},
    "ai-drafted-email-is-labelled": {"unlabeled": 4},
    "borderline-denials-get-review": {"no_human_review": 5, "automated_reviewer": 2},
    "denials-are-explained": {"missing_explanation": 2, "placeholder_explanation": 1},
    "discount-decisions-quality-sample": {"not_reviewed": 3},
    "chatbot-admits-it-is-a-bot": {"no_reply": 1, "not_disclosed_on_request": 2},
    "customers-are-told-before-discount-decisions": {"no_notice": 3},
    "profiling-objections-are-honoured": {"opted_out": 2},
    "data-requests-answered-within-a-month": {"answered_late": 1, "overdue": 2},
    "discount-logs-kept-six-months": {"gap_too_long": 1},
    "personalised-prices-say-so": {"not_disclosed": 3},
}

START = datetime(2025, 3, 1, tzinfo=UTC)
END = datetime(2025, 5, 1, tzinfo=UTC)
DST_START = datetime(2025, 3, 30, 1, 0, tzinfo=UTC)  # Europe/Berlin: +01:00 -> +02:00
STAFF = ("Anna Weber", "Ben Okafor", "Chiara Russo", "Deniz Yilmaz")
SAMPLE_SHARE, SAMPLE_SEED = 0.05, 2025


def _berlin(ts: datetime) -> str:
    """Return ``ts`` as Berlin local time with its offset (+01:00 or +02:00)."""
    offset = timedelta(hours=2 if ts >= DST_START else 1)
    local = (ts + offset).replace(tzinfo=None)
    return local.isoformat(timespec="seconds") + ("+02:00" if offset.seconds == 7200 else "+01:00")


def _utc_z(ts: datetime | None) -> str:
    return "" if ts is None else ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _naive_utc(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _day_time(rng: random.Random, *, first: int = 7, last: int = 19) -> datetime:
    """Return a random UTC instant in the period, between ``first`` and ``last`` o'clock."""
    day = START + timedelta(days=rng.randrange((END - START).days))
    return day + timedelta(hours=rng.randint(first, last - 1), seconds=rng.randrange(3600))


# -- chat -------------------------------------------------------------------------------------

_QUESTIONS = {
    "en": [
        "Do you have gluten-free bread today?",
        "What time do you open on Sunday?",
        "Can I order a birthday cake for Saturday?",
        "Is the rye sourdough vegan?",
        "Do you deliver to Kreuzberg?",
    ],
    "de": [
        "Habt ihr heute glutenfreies Brot?",
        "Wann öffnet ihr am Sonntag?",
        "Kann ich eine Geburtstagstorte für Samstag bestellen?",
        "Ist das Roggenbrot vegan?",
    ],
}
_ANSWERS = {
    "en": [
        "Yes, we bake gluten-free bread on Tuesdays and Fridays.",
        "We open at 8:00 on Sundays.",
        "Of course, cakes can be ordered up to two days in advance.",
        "Yes, our rye sourdough contains only flour, water and salt.",
        "We deliver within 5 km of the shop.",
    ],
    "de": [
        "Ja, glutenfreies Brot backen wir dienstags und freitags.",
        "Sonntags öffnen wir um 8 Uhr.",
        "Gern, Torten kann man bis zwei Tage vorher bestellen.",
        "Ja, unser Roggensauerteig enthält nur Mehl, Wasser und Salz.",
    ],
}
_DISCLOSING_GREETING = {
    "en": "Hi! I'm Krümel, the virtual assistant of Krume & Co. How can I help?",
    "de": "Hallo! Ich bin Krümel, der virtuelle Assistent von Krume & Co. Wie kann ich helfen?",
}
_PLAIN_GREETING = {"en": "Hi! What can I get you today?", "de": "Hallo! Was darf es heute sein?"}
_LATE_DISCLOSURE = {
    "en": "By the way, I'm Krümel, the bakery's virtual assistant.",
    "de": "Übrigens: Ich bin Krümel, der digitale Assistent der Bäckerei.",
}
_REQUESTS = [
    ("en", "Can I talk to a person, please?"),
    ("en", "I'd like to speak to a human."),
    ("de", "Kann ich bitte mit einem Mitarbeiter sprechen?"),
    ("de", "Ich möchte mit einem Menschen sprechen."),
    ("fr", "Je voudrais parler à quelqu'un, s'il vous plaît."),
    ("es", "¿Puedo hablar con una persona?"),
]
_GETTING_STAFF = {
    "en": "Of course, I'm getting a colleague for you.",
    "de": "Gern, ich hole jemanden.",
}


@dataclass
class _Chat:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, session: str, ts: datetime, sender: str, event: str, message: str) -> None:
        self.rows.append(
            {
                "session": session,
                "timestamp": _berlin(ts),
                "sender": sender,
                "event": event,
                "message": message,
                "widget": "2.4.1",
            }
        )


def _conversation(
    rng: random.Random,
    chat: _Chat,
    session: str,
    *,
    disclosure: str,
    handoff: str | None,
    widget: str = "2.4.1",
) -> None:
    """Write one conversation. disclosure: greeting|system|late|none|human_only."""
    t = _day_time(rng)
    lang = rng.choice(["en", "de"])
    first = len(chat.rows)
    chat.add(session, t, "customer", "message", rng.choice(_QUESTIONS[lang]))
    t += timedelta(seconds=rng.randint(2, 8))
    if disclosure == "human_only":
        chat.add(
            session, t + timedelta(minutes=1), "agent", "message", "Hi, this is the bakery team."
        )
    else:
        if disclosure == "greeting":
            chat.add(session, t, "bot", "message", _DISCLOSING_GREETING[lang])
        elif disclosure == "system":  # a disclosure event at the same instant as the greeting
            chat.add(
                session,
                t,
                "system",
                "bot_disclosure",
                "You are chatting with an automated assistant.",
            )
            chat.add(session, t, "bot", "message", _PLAIN_GREETING[lang])
        else:
            chat.add(session, t, "bot", "message", _PLAIN_GREETING[lang])
        t += timedelta(seconds=rng.randint(10, 60))
        chat.add(session, t, "bot", "message", rng.choice(_ANSWERS[lang]))
        if disclosure == "late":
            t += timedelta(seconds=rng.randint(3, 20))
            chat.add(session, t, "bot", "message", _LATE_DISCLOSURE[lang])
    if handoff is not None:
        t += timedelta(seconds=rng.randint(20, 120))
        req_lang, request = rng.choice(_REQUESTS)
        chat.add(session, t, "customer", "message", request)
        asked = t
        t += timedelta(seconds=rng.randint(2, 6))
        chat.add(session, t, "bot", "message", _GETTING_STAFF.get(req_lang, _GETTING_STAFF["en"]))
        delay = {
            "ok": timedelta(seconds=rng.randint(60, 480)),
            "boundary": timedelta(minutes=10),  # exactly at the limit: answered in time
            "late": timedelta(minutes=rng.randint(14, 40)),
        }.get(handoff)
        if delay is not None:
            name = rng.choice(STAFF).split()[0]
            chat.add(
                session, asked + delay, "agent", "message", f"Hi, this is {name} from the bakery."
            )
    for row in chat.rows[first:]:
        row["widget"] = widget


def _chat_rows(rng: random.Random) -> list[dict[str, Any]]:
    chat = _Chat()
    plans: list[dict[str, Any]] = []
    plans += [{"disclosure": "none", "widget": "2.3.0"}] * 6
    plans += [{"disclosure": "late"}] * 4
    plans += [{"disclosure": "human_only"}] * 10
    plans += [{"disclosure": "system"}] * 12
    handoffs = ["none"] * 3 + ["late"] * 4 + ["boundary"] + ["ok"] * 32
    plans += [{"disclosure": "greeting", "handoff": h} for h in handoffs]
    plans += [{"disclosure": "greeting"}] * 180
    rng.shuffle(plans)
    for index, plan in enumerate(plans, start=1):
        _conversation(
            rng,
            chat,
            f"S{index:04d}",
            disclosure=plan["disclosure"],
            handoff=plan.get("handoff"),
            widget=plan.get("widget", "2.4.1"),
        )
    # the chat export delivered a few events twice: exact duplicates count once
    for row in rng.sample(chat.rows, 5):
        chat.rows.append(dict(row))
    return sorted(chat.rows, key=lambda r: (r["timestamp"], r["session"]))


# -- consent ledger and email sends -----------------------------------------------------------


@dataclass
class _Consent:
    customer: str
    purpose: str
    granted: datetime
    withdrawn: datetime | None = None
    expires: datetime | None = None


def _newsletter_times() -> list[datetime]:
    first = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)  # Tuesdays, 08:00 UTC
    return [first + timedelta(weeks=2 * i) for i in range(5)]


def _valid(consents: list[_Consent], customer: str, purpose: str, at: datetime) -> bool:
    """Return whether consent is valid at ``at`` (latest grant at or before ``at`` decides)."""
    grants = [c for c in consents if c.customer == customer and c.purpose == purpose]
    grants = [c for c in grants if c.granted <= at]
    if not grants:
        return False
    latest = max(grants, key=lambda c: c.granted)
    if latest.withdrawn is not None and at >= latest.withdrawn:
        return False
    return latest.expires is None or at < latest.expires


def _withdrawn_ever(consents: list[_Consent], customer: str, purpose: str, at: datetime) -> bool:
    """Return whether the consent deciding at ``at`` was withdrawn at or before ``at``."""
    grants = [
        c for c in consents if c.customer == customer and c.purpose == purpose and c.granted <= at
    ]
    if not grants:
        return False
    latest = max(grants, key=lambda c: c.granted)
    return latest.withdrawn is not None and latest.withdrawn <= at


def _ledger_and_sends(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    customers = [f"C{i:04d}" for i in range(1, 301)]
    special = customers[:30]  # customers who carry the seeded cases
    regular = customers[30:]
    consents: list[_Consent] = []
    before = START - timedelta(days=240)
    newsletters = _newsletter_times()
    for c in regular:
        if rng.random() < 0.65:
            granted = before + timedelta(seconds=rng.randrange(200 * 86400))
            withdrawn = None
            if rng.random() < 0.1:  # unsubscribed during the period, not between sends
                withdrawn = _day_time(rng)
            consents.append(_Consent(c, "newsletter", granted, withdrawn))
        if rng.random() < 0.4:
            granted = before + timedelta(seconds=rng.randrange(200 * 86400))
            consents.append(
                _Consent(c, "birthday_offer", granted, None, granted + timedelta(days=365))
            )
        if rng.random() < 0.5:
            granted = before + timedelta(seconds=rng.randrange(200 * 86400))
            consents.append(_Consent(c, "loyalty_offer", granted))
    sends: list[dict[str, Any]] = []

    def send(
        customer: str, purpose: str, at: datetime, *, ai: bool = False, label: bool = True
    ) -> None:
        sends.append(
            {
                "send_id": "",
                "customer_id": customer,
                "purpose": purpose,
                "campaign": f"{purpose}-{at:%Y%m%d}",
                "sent_at": _naive_utc(at),
                "ai_drafted": "true" if ai else "false",
                "ai_label_shown": ("true" if label else "false") if ai else "",
            }
        )

    def ai_drafted(at: datetime) -> bool:  # newsletters are drafted with AI since April
        return at >= datetime(2025, 4, 1, tzinfo=UTC)

    # -- the seeded cases, each on its own customers ------------------------------------------
    s = iter(special)
    n1, n2, n3, n4, n5 = newsletters
    for _ in range(5):  # newsletter to imported contacts who never consented
        send(next(s), "newsletter", n2)
    for days in (3, 5, 8, 10):  # unsubscribed days before a newsletter that still went out
        c = next(s)
        consents.append(_Consent(c, "newsletter", before, n3 - timedelta(days=days)))
        send(c, "newsletter", n3, ai=ai_drafted(n3))
    for hours in (2, 20, 40):  # unsubscribed within the 48h the mail tool needs to sync
        c = next(s)
        consents.append(_Consent(c, "newsletter", before, n4 - timedelta(hours=hours)))
        send(c, "newsletter", n4, ai=ai_drafted(n4))
    c = next(s)  # unsubscribed at the exact instant the newsletter went out
    consents.append(_Consent(c, "newsletter", before, n2))
    send(c, "newsletter", n2)
    for _ in range(2):  # birthday offer after the consent expired
        c = next(s)
        granted = START - timedelta(days=380)
        consents.append(_Consent(c, "birthday_offer", granted, None, granted + timedelta(days=365)))
        send(c, "birthday_offer", _day_time(rng, first=9, last=10))
    for _ in range(2):  # a survey for which no legal basis was ever declared
        send(next(s), "product_survey", _day_time(rng))
    c = next(s)  # subscribed at the exact instant of a newsletter: covered
    consents.append(_Consent(c, "newsletter", n3))
    send(c, "newsletter", n3, ai=ai_drafted(n3))
    c = next(s)  # unsubscribed, then subscribed again: the later grant decides
    consents.append(_Consent(c, "newsletter", before, n1 + timedelta(days=2)))
    consents.append(_Consent(c, "newsletter", n2 + timedelta(days=3)))
    send(c, "newsletter", n1)
    send(c, "newsletter", n3, ai=ai_drafted(n3))

    # -- ordinary sends: only to customers whose consent holds -------------------------------
    ordinary: list[tuple[str, str, datetime]] = []
    for at in newsletters:
        for c in regular:
            if _valid(consents, c, "newsletter", at):
                ordinary.append((c, "newsletter", at))
    for c in regular:
        birthday = _day_time(rng, first=9, last=10)
        if rng.random() < 0.3 and _valid(consents, c, "birthday_offer", birthday):
            ordinary.append((c, "birthday_offer", birthday))
    for at in (datetime(2025, 3, 15, 9, tzinfo=UTC), datetime(2025, 4, 15, 9, tzinfo=UTC)):
        for c in regular:
            if _valid(consents, c, "loyalty_offer", at):
                ordinary.append((c, "loyalty_offer", at))
    for _ in range(400):  # order confirmations rest on the contract, not on consent
        ordinary.append((rng.choice(customers), "order_confirmation", _day_time(rng)))
    is_ai = [p in ("newsletter", "birthday_offer") and ai_drafted(at) for _, p, at in ordinary]
    unlabeled = set(rng.sample([i for i, ai in enumerate(is_ai) if ai], 4))
    for index, (c, purpose, at) in enumerate(ordinary):
        assert purpose == "order_confirmation" or not _withdrawn_ever(consents, c, purpose, at)
        send(c, purpose, at, ai=is_ai[index], label=index not in unlabeled)
    sends.sort(key=lambda r: (r["sent_at"], r["customer_id"], r["purpose"]))
    for index, row in enumerate(sends, start=1):
        row["send_id"] = f"E{index:05d}"
    sends.append(dict(sends[len(sends) // 2]))  # delivered twice by the export: counted once
    ledger = [
        {
            "customer_id": c.customer,
            "purpose": c.purpose,
            "granted_at": _utc_z(c.granted),
            "withdrawn_at": _utc_z(c.withdrawn),
            "expires_at": _utc_z(c.expires),
        }
        for c in sorted(consents, key=lambda c: (c.customer, c.purpose, c.granted))
    ]
    return ledger, sends


# -- loyalty decisions ------------------------------------------------------------------------


def _decision_rows(rng: random.Random) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    segments = ["new"] * 30 + ["regular"] * 55 + ["lapsed"] * 15
    for index in range(1, 601):
        score = round(rng.uniform(0.05, 0.98), 3)
        rows.append(
            {
                "decision_id": f"L{index:05d}",
                "customer_id": f"C{rng.randint(1, 300):04d}",
                "decided_at": _berlin(_day_time(rng, first=0, last=24)),
                "segment": rng.choice(segments),
                "score": score,
                "outcome": "approved" if score >= 0.5 else "denied",
                "discount_pct": 10 if score >= 0.5 else 0,
                "reviewer": "",
                "routed_to_review": "false",
                "qa_reviewer": "",
                "reason": "",
            }
        )
    borderline = [r for r in rows if r["outcome"] == "denied" and 0.4 <= r["score"] <= 0.6]
    rng.shuffle(borderline)
    no_review, machine, routed = borderline[:5], borderline[5:7], borderline[7:9]
    no_review[0]["score"] = 0.4  # exactly on the band's edge: still borderline
    for r in borderline[9:]:
        r["reviewer"] = rng.choice(STAFF)
    for r in machine:
        r["reviewer"] = "system"
    for r in routed:  # waiting in the review queue: routed counts as review
        r["routed_to_review"] = "true"
    for r in rows:
        if r["outcome"] == "approved":
            r["reason"] = "Regular purchases in the last 90 days: 10 % loyalty discount"
        else:
            r["reason"] = f"Score {r['score']:.2f} below 0.50: fewer than 3 purchases in 90 days"
    denied = [r for r in rows if r["outcome"] == "denied"]
    unexplained = rng.sample(denied, 3)
    unexplained[0]["reason"] = ""
    unexplained[1]["reason"] = "   "
    unexplained[2]["reason"] = "n/a"
    sample = select_review_sample(
        ((r["decision_id"], r["segment"]) for r in rows), share=SAMPLE_SHARE, seed=SAMPLE_SEED
    )
    sampled = sorted(sample)
    skipped = set(rng.sample(sampled, 3))
    for r in rows:
        if r["decision_id"] in sample and r["decision_id"] not in skipped:
            r["qa_reviewer"] = rng.choice(STAFF)
        elif r["decision_id"] not in sample and rng.random() < 0.02:
            r["qa_reviewer"] = rng.choice(STAFF)  # reviewed outside the sample: fine too
    return rows


# -- asked whether it is a bot ----------------------------------------------------------------

_IDENTITY_QUESTIONS = [
    ("en", "Are you a bot?"),
    ("en", "Wait, am I talking to a bot?"),
    ("de", "Bist du ein Mensch?"),
    ("de", "Spreche ich mit einer KI?"),
    ("es", "¿Eres un robot?"),
    ("fr", "Êtes-vous un robot ?"),
]
_ADMITS = {
    "en": "Yes, I'm Krümel, the bakery's virtual assistant. A person can join if you like.",
    "de": "Ja, ich bin ein Bot: Krümel, der digitale Assistent der Bäckerei.",
    "es": "Sí, soy un asistente virtual de la panadería.",
    "fr": "Oui, je suis un assistant virtuel de la boulangerie.",
}
_DODGES = ["Ha, good question! What can I get you today?", "Ich bin Krümel und helfe gern!"]


def _identity_chat(rng: random.Random) -> list[dict[str, Any]]:
    """Conversations in which a customer asks whether Krümel is a bot (Utah-style duty).

    Each greeting discloses (so bot_disclosure holds); what counts is the reply to the
    question: 9 bot replies admit it, 2 come from a person, 2 dodge it, 1 question gets no
    reply at all.
    """
    chat = _Chat()
    plans = ["admits"] * 9 + ["person"] * 2 + ["dodges"] * 2 + ["silence"]
    rng.shuffle(plans)
    for index, plan in enumerate(plans, start=1):
        session = f"Q{index:04d}"
        t = _day_time(rng)
        lang = rng.choice(["en", "de"])
        chat.add(session, t, "customer", "message", rng.choice(_QUESTIONS[lang]))
        t += timedelta(seconds=rng.randint(2, 8))
        chat.add(session, t, "bot", "message", _DISCLOSING_GREETING[lang])
        q_lang, question = rng.choice(_IDENTITY_QUESTIONS)
        t += timedelta(seconds=rng.randint(20, 90))
        chat.add(session, t, "customer", "message", question)
        t += timedelta(seconds=rng.randint(2, 10))
        if plan == "admits":
            chat.add(session, t, "bot", "message", _ADMITS[q_lang])
        elif plan == "person":
            name = rng.choice(STAFF).split()[0]
            chat.add(session, t, "agent", "message", f"Hi, this is {name} from the bakery.")
        elif plan == "dodges":
            chat.add(session, t, "bot", "message", _DODGES[index % 2])
    return chat.rows


# -- the discount app's event log, profiling opt-outs, data-protection requests ---------------

NY_STATEMENT = "THIS PRICE WAS SET BY AN ALGORITHM USING YOUR PERSONAL DATA"
LOG_START = datetime(2024, 10, 15, tzinfo=UTC)
OUTAGE = (datetime(2025, 1, 5, tzinfo=UTC), datetime(2025, 1, 10, tzinfo=UTC))  # Sun-Thu
CLOSED = {datetime(2024, 12, 25).date(), datetime(2024, 12, 26).date()}


def _in_outage(ts: datetime) -> bool:
    return OUTAGE[0] <= ts < OUTAGE[1]


def _discount_events(
    rng: random.Random, decisions: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the discount app's event log and the profiling opt-outs for the ledger."""
    by_customer: dict[str, list[datetime]] = {}
    for d in decisions:
        by_customer.setdefault(d["customer_id"], []).append(
            datetime.fromisoformat(d["decided_at"]).astimezone(UTC)
        )
    single = sorted(c for c, times in by_customer.items() if len(times) == 1)
    chosen = rng.sample(single, 8)
    no_notice, notice_after, notice_at_instant = chosen[:2], chosen[2], chosen[3]
    opted_out, opted_out_at_instant, opted_back_in = chosen[4], chosen[5], chosen[6]
    events: list[dict[str, Any]] = []

    def event(customer: str, ts: datetime, kind: str, **more: str) -> None:
        events.append(
            {
                "event_id": more.pop("event_id", ""),
                "customer_id": customer,
                "ts": _berlin(ts),
                "event": kind,
                "personalized": more.get("personalized", ""),
                "price_eur": more.get("price_eur", ""),
                "shown_text": more.get("shown_text", ""),
            }
        )

    for customer, times in sorted(by_customer.items()):
        first = min(times)
        if customer in no_notice:
            continue
        if customer == notice_after:
            event(customer, first + timedelta(hours=2), "adm_notice")
            continue
        if customer == notice_at_instant:  # on the decision screen itself: counts
            event(customer, first, "adm_notice")
            continue
        signed_up = max(first - timedelta(days=rng.randint(1, 120)), LOG_START)
        signed_up += timedelta(hours=rng.randint(0, 3))
        while _in_outage(signed_up):
            signed_up -= timedelta(days=7)
        event(customer, signed_up, "adm_notice")
    for d in decisions:
        decided = datetime.fromisoformat(d["decided_at"]).astimezone(UTC)
        event(d["customer_id"], decided, "discount_decision", event_id=d["decision_id"])
    # the loyalty prices shown at the counter and in the app, every opening day
    offers: list[tuple[datetime, bool]] = []
    day = LOG_START
    while day < END:
        if day.weekday() != 6 and day.date() not in CLOSED and not _in_outage(day):
            for _ in range(rng.randint(3, 6)):
                at = day + timedelta(hours=rng.randint(7, 16), seconds=rng.randrange(3600))
                offers.append((at, rng.random() < 0.6))
        day += timedelta(days=1)
    personalised = [i for i, (_, p) in enumerate(offers) if p]
    missing = set(rng.sample(personalised, 3))
    paraphrased = min(missing)
    wrapped = rng.choice([i for i in personalised if i not in missing])
    for index, (ts, is_personal) in enumerate(offers):
        price = rng.choice([2.4, 3.1, 3.8, 4.5, 5.2, 12.9, 24.5])
        if is_personal:
            price = round(price * 0.9, 2)
            text = f"Your loyalty price: EUR {price:.2f}. {NY_STATEMENT}"
            if index in missing:
                text = f"Your loyalty price: EUR {price:.2f}."
            if index == paraphrased:
                text = f"Your loyalty price: EUR {price:.2f}. Price set by an algorithm."
            if index == wrapped:  # another case, more spaces: still the statement
                text = (
                    f"Your loyalty price: EUR {price:.2f}. This price was set by an  algorithm "
                    "using your   personal data."
                )
        else:
            text = f"Price: EUR {price:.2f}"
        event(
            f"C{rng.randint(1, 300):04d}",
            ts,
            "offer_shown",
            event_id=f"O{index + 1:05d}",
            personalized="true" if is_personal else "false",
            price_eur=f"{price:.2f}",
            shown_text=text,
        )
    events.sort(key=lambda e: (e["ts"], e["event_id"], e["customer_id"]))
    for index, e in enumerate(events, start=1):
        if not e["event_id"]:
            e["event_id"] = f"N{index:05d}"
    # objections to profiling (GDPR Art. 21), in the consent ledger as opt-outs
    opt_outs = []

    def opt_out(customer: str, at: datetime, back_in: datetime | None = None) -> None:
        opt_outs.append(
            {
                "customer_id": customer,
                "purpose": "automated_decisions",
                "granted_at": "",
                "withdrawn_at": _utc_z(at),
                "expires_at": "",
            }
        )
        if back_in is not None:
            opt_outs.append(
                {
                    "customer_id": customer,
                    "purpose": "automated_decisions",
                    "granted_at": _utc_z(back_in),
                    "withdrawn_at": "",
                    "expires_at": "",
                }
            )

    opt_out(opted_out, by_customer[opted_out][0] - timedelta(days=3))
    opt_out(opted_out_at_instant, by_customer[opted_out_at_instant][0])  # at once: violates
    decided = by_customer[opted_back_in][0]
    opt_out(opted_back_in, decided - timedelta(days=10), decided - timedelta(days=2))
    undecided = sorted({f"C{i:04d}" for i in range(1, 301)} - set(by_customer))
    for customer in rng.sample(undecided, min(4, len(undecided))):
        opt_out(customer, _day_time(rng))
    return events, opt_outs


_REQUEST_TYPES = (
    "access_request",
    "explanation_request",
    "correction_request",
    "human_review_request",
)


def _privacy_requests(rng: random.Random) -> list[dict[str, Any]]:
    """Data-protection requests: 30-day deadline (GDPR Art. 12(3)); some late, some open."""
    plans = ["ok"] * 14 + ["boundary", "late", "overdue", "overdue", "pending", "pending"]
    rows = []
    for plan in plans:
        if plan == "pending":  # still inside its deadline when the log ends: not judged
            received = datetime(2025, 4, 20, 9, tzinfo=UTC) + timedelta(hours=rng.randint(0, 150))
        elif plan == "overdue":
            received = datetime(2025, 2, 1, 9, tzinfo=UTC) + timedelta(hours=rng.randint(0, 800))
        else:
            received = datetime(2025, 1, 15, 9, tzinfo=UTC) + timedelta(hours=rng.randint(0, 1700))
        answered: datetime | None = {
            "ok": received + timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 8)),
            "boundary": received + timedelta(days=30),  # exactly at the deadline: in time
            "late": received + timedelta(days=34),
        }.get(plan)
        rows.append(
            {
                "request_id": "",
                "customer_id": f"C{rng.randint(1, 300):04d}",
                "type": rng.choice(_REQUEST_TYPES),
                "received_at": _utc_z(received),
                "answered_at": _utc_z(answered),
            }
        )
    rows.sort(key=lambda r: (r["received_at"], r["customer_id"]))
    for index, row in enumerate(rows, start=1):
        row["request_id"] = f"R{index:04d}"
    return rows


# -- writing ----------------------------------------------------------------------------------


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)


def policy_text() -> str:
    """Return the bakery policy pack as shipped (pack:bakery-customer-automation)."""
    return pack_path("bakery-customer-automation").read_text(encoding="utf-8")


def audit_command(out_dir: Path | str) -> str:
    """Return the command that audits what ``generate_bakery(out_dir)`` wrote."""
    out = Path(out_dir)
    return f"ethicsgate audit {out / 'audit.yaml'} --out {out / 'report'}"


AUDIT_TEMPLATE = """\
schema_version: 1
id: bakery
title: Krume & Co. bakery, customer automation March-April 2025 (generated, seed {seed})
description: >
  Website chatbot, email campaigns with their consent ledger, and the loyalty-discount model of
  a small bakery. Generated by `ethicsgate examples bakery` with known, seeded violations.
policy: {policy}
evidence:
  chat:
    path: {data}chat_events.jsonl
    columns:
      conversation_id: session
      ts: timestamp
      # the chat tool calls staff "agent"; the policy language says "human"
      actor: "CASE sender WHEN 'agent' THEN 'human' ELSE sender END"
      type: event
      text: message
  email_sends:
    path: {data}email_sends.csv
    columns:
      event_id: send_id
      subject_id: customer_id
      ts: sent_at
      ai_generated: ai_drafted
      ai_label: ai_label_shown
  consent_ledger:
    path: {data}consent_ledger.csv
    columns:
      subject_id: customer_id
  loyalty_decisions:
    path: {data}loyalty_decisions.csv
    columns:
      explanation: reason
      type: outcome
  discount_events:
    path: {data}discount_events.csv
    columns:
      subject_id: customer_id
      type: event
      text: shown_text
  privacy_requests:
    path: {data}privacy_requests.csv
    columns:
      ts: received_at
"""


def audit_text(*, policy: str, data: str, seed: int) -> str:
    """Return the bakery audit spec with the policy path and the data folder prefix."""
    return AUDIT_TEMPLATE.format(policy=policy, data=data, seed=seed)


def _readme(seed: int, command: str | None) -> str:
    lines = [
        "# Krume & Co. bakery: example evidence (generated)",
        "",
        f"Generated by `ethicsgate examples bakery --seed {seed}` "
        "(src/ethicsgate/examples/bakery.py): synthetic, no real person.",
        "The violations below are planted on purpose; the bakery audit must find exactly these:",
        "",
        "| Rule | Violations by reason |",
        "| --- | --- |",
    ]
    for rule, reasons in EXPECTED.items():
        text = ", ".join(f"{k} {v}" for k, v in reasons.items())
        lines.append(f"| `{rule}` | {text} |")
    if command is None:  # --data-only: the evidence of the repository's audits/bakery.yaml
        lines += [
            "",
            "Run `ethicsgate audit audits/bakery.yaml` from the repository root; the walk-through "
            "is docs/tutorial-bakery.md.",
            "",
        ]
    else:
        lines += [
            "",
            "Audit it from the folder you ran `ethicsgate examples bakery` in (exit 1: the planted "
            "violations fail blocking rules, as they should):",
            "",
            "```sh",
            command,
            "```",
            "",
            "The walk-through is docs/tutorial-bakery.md in the ethicsgate repository.",
            "",
        ]
    return "\n".join(lines)


def generate_bakery(
    out_dir: Path | str,
    *,
    seed: int = 7,
    with_audit: bool = True,
    force: bool = False,
    options: tuple[str, str] = ("out_dir= of generate_bakery", "force=True"),
) -> dict[str, Path]:
    """Write the bakery's evidence (and, with ``with_audit``, its policy and audit spec).

    Returns the written paths by file name. Same seed, same bytes: writing again is harmless,
    but a file that differs (edited, or of another seed) is replaced only with ``force``.
    ``options``: how errors' hints name ``out_dir`` and ``force`` (the command line passes
    ``("--out", "--force")``).

    Raises:
        OutputError: a file there differs and ``force`` is off; nothing is written.
    """
    from ethicsgate.files import refuse_to_replace_changed, write_files_atomically

    out = Path(out_dir)
    contents = {
        name: text.encode("utf-8")
        for name, text in bakery_texts(out_dir, seed=seed, with_audit=with_audit).items()
    }
    out_option, force_option = options
    if not force:
        refuse_to_replace_changed(
            out, contents, what="the bakery example", option=out_option, force=force_option
        )
    written = write_files_atomically(out, contents, option=out_option)
    return dict(zip(contents, written, strict=True))


def bakery_texts(out_dir: Path | str, *, seed: int = 7, with_audit: bool = True) -> dict[str, str]:
    """Return the bakery example's files, by name: its evidence, README, policy and spec."""
    rng = random.Random(seed)
    chat = _chat_rows(random.Random(rng.randrange(2**32)))
    ledger, sends = _ledger_and_sends(random.Random(rng.randrange(2**32)))
    decisions = _decision_rows(random.Random(rng.randrange(2**32)))
    # drawn after the others, so that the rows above stay what they were before these
    chat = sorted(
        chat + _identity_chat(random.Random(rng.randrange(2**32))),
        key=lambda r: (r["timestamp"], r["session"]),
    )
    events, opt_outs = _discount_events(random.Random(rng.randrange(2**32)), decisions)
    ledger = sorted(ledger + opt_outs, key=lambda r: (r["customer_id"], r["purpose"]))
    requests = _privacy_requests(random.Random(rng.randrange(2**32)))
    contents = {
        "chat_events.jsonl": _jsonl(chat),
        "email_sends.csv": _csv(sends),
        "consent_ledger.csv": _csv(ledger),
        "loyalty_decisions.csv": _csv(decisions),
        "discount_events.csv": _csv(events),
        "privacy_requests.csv": _csv(requests),
        "README.md": _readme(seed, audit_command(out_dir) if with_audit else None),
    }
    if with_audit:
        contents["bakery-policy.yaml"] = policy_text()
        contents["audit.yaml"] = audit_text(policy="bakery-policy.yaml", data="", seed=seed)
    return contents
