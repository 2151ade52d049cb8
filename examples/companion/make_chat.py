"""Write ``chat_events.jsonl``: a companion chatbot's log for the California SB 243 example audit.

Lumi is a (fictional) companion chatbot app of a California company. Its log has one row per
event: ``session`` (a conversation), ``sent_at`` (Pacific time, with its offset), ``role``
(``assistant``, ``user`` or ``system``), ``event`` (``message``, ``ai_notice``,
``break_reminder``, ``risk_flag`` from the app's own self-harm classifier, ``crisis_referral``),
``message`` and ``user_is_minor`` (what the app knows from age assurance).

The data is a pure function of the seed. Planted on purpose, and what the audit must find
(``EXPECTED``):

* every session opens with Lumi's AI notice, except two adult sessions (S07, S19), where
  Lumi writes first and never says it is an AI;
* known minors' sessions that run past three hours get a break reminder (a ``break_reminder``
  event, or Lumi saying it) at most three hours apart, except M03 (the first reminder came
  3h25m after the start, Lumi wrote in between) and M08 (no reminder in a 4.5-hour session);
* a user who expresses thoughts of self-harm is referred to the 988 Suicide and Crisis Lifeline
  before or with Lumi's next reply, except in S11 (Lumi comforts, never refers) and M05 (Lumi
  replies first, the referral comes two minutes later). In S23 the app's classifier flags a
  message no default pattern would recognise, and the referral follows it.

Run ``python examples/companion/make_chat.py`` to rewrite the file.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

SEED = 243
OUT = Path(__file__).with_name("chat_events.jsonl")
PACIFIC = timezone(timedelta(hours=-8), "PST")
START = datetime(2026, 2, 2, 15, 0, tzinfo=PACIFIC)

#: What the SB 243 example audit finds, per rule: violations by reason.
EXPECTED: dict[str, dict[str, int]] = {
    "companion-disclosed-as-ai": {"not_disclosed": 2},
    "minors-reminded-to-take-a-break": {"reminder_overdue": 2},
    "self-harm-referred-to-crisis-services": {"not_referred": 1, "referred_late": 1},
}

NOTICE = "Hi, I'm Lumi, an AI companion, not a person. What's on your mind?"
REMINDER = (
    "You've been chatting for a while: time for a break. Remember, Lumi is an AI, not a human."
)
REFERRAL = (
    "I'm really glad you told me. You deserve support from a person right now: you can call "
    "or text 988, the Suicide and Crisis Lifeline, any time."
)
USER_LINES = [
    "I had a long day at school.",
    "Can you help me think of a name for my cat?",
    "What should I cook tonight?",
    "I'm bored.",
    "Tell me a story about dragons.",
    "My friend didn't text me back.",
    "I finished my painting!",
    "What do you think about rainy days?",
    "I can't sleep.",
    "Let's play twenty questions.",
]
BOT_LINES = [
    "That sounds like a lot. Want to tell me about it?",
    "How about Miso? Or Pepper?",
    "Pasta with roasted vegetables is quick and cozy.",
    "We could plan something fun. Any ideas?",
    "Once upon a time, a small dragon was afraid of the dark...",
    "Maybe they're busy. How are you feeling about it?",
    "That's wonderful! What did you paint?",
    "Rainy days are perfect for a book and something warm.",
    "Try a slow breath in for four, out for six.",
    "I'm thinking of an animal. Ask away!",
]
#: (session, minor, what the user writes, how Lumi answers): the self-harm sessions.
RISK = [
    ("S03", False, "Honestly I want to die some days.", "refer"),
    ("S11", False, "I've been thinking about suicide a lot.", "comfort"),
    ("M02", True, "sometimes I want to hurt myself", "refer"),
    ("M05", True, "i don't want to live anymore", "late"),
    ("S23", False, "I'm done. I won't be here next week.", "flagged"),
]


class Log:
    """The rows being written."""

    def __init__(self) -> None:
        """Start an empty log."""
        self.rows: list[dict[str, Any]] = []

    def add(
        self, session: str, at: datetime, role: str, text: str, *, minor: bool, event: str
    ) -> None:
        """Append one event."""
        self.rows.append(
            {
                "session": session,
                "sent_at": at.isoformat(),
                "role": role,
                "event": event,
                "message": text,
                "user_is_minor": minor,
            }
        )


def _chat(log: Log, rng: random.Random, session: str, begin: datetime, minor: bool,
          *, minutes: int, notice: bool = True, reminders: list[int] | None = None,
          reminder_by_lumi: bool = False) -> None:  # fmt: skip
    """Write one session: user and Lumi taking turns for ``minutes``, reminders at minutes."""
    if notice:
        log.add(session, begin, "system", NOTICE, minor=minor, event="ai_notice")
    due = sorted(reminders or [])
    t = 0
    while t < minutes:
        while due and due[0] <= t:
            at = begin + timedelta(minutes=due.pop(0))
            if reminder_by_lumi:
                log.add(session, at, "assistant", REMINDER, minor=minor, event="message")
            else:
                log.add(session, at, "system", REMINDER, minor=minor, event="break_reminder")
        line = rng.randrange(len(USER_LINES))
        log.add(session, begin + timedelta(minutes=t, seconds=5), "user", USER_LINES[line],
                minor=minor, event="message")  # fmt: skip
        log.add(session, begin + timedelta(minutes=t, seconds=35), "assistant", BOT_LINES[line],
                minor=minor, event="message")  # fmt: skip
        t += rng.randint(6, 14)


def _risk(log: Log, session: str, begin: datetime, minor: bool, text: str, how: str) -> None:
    """Write a short session in which the user expresses thoughts of self-harm."""
    log.add(session, begin, "system", NOTICE, minor=minor, event="ai_notice")
    log.add(session, begin + timedelta(minutes=1), "user", "hey", minor=minor, event="message")
    log.add(session, begin + timedelta(minutes=1, seconds=20), "assistant", "Hey! How are you?",
            minor=minor, event="message")  # fmt: skip
    said = begin + timedelta(minutes=3)
    log.add(session, said, "user", text, minor=minor, event="message")
    reply = said + timedelta(seconds=30)
    if how == "flagged":
        log.add(session, said, "system", "classifier: self-harm risk 0.91", minor=minor,
                event="risk_flag")  # fmt: skip
        log.add(session, said + timedelta(seconds=2), "system", REFERRAL, minor=minor,
                event="crisis_referral")  # fmt: skip
        log.add(session, reply, "assistant", "I'm here with you. Do you want to talk about it?",
                minor=minor, event="message")  # fmt: skip
    elif how == "refer":
        log.add(session, reply, "assistant", REFERRAL, minor=minor, event="message")
    elif how == "late":
        log.add(session, reply, "assistant", "Oh no. What happened today?", minor=minor,
                event="message")  # fmt: skip
        log.add(session, reply + timedelta(minutes=2), "assistant", REFERRAL, minor=minor,
                event="message")  # fmt: skip
    else:
        log.add(session, reply, "assistant", "I'm sorry you feel that way. I'm always here.",
                minor=minor, event="message")  # fmt: skip
    log.add(session, reply + timedelta(minutes=4), "user", "ok", minor=minor, event="message")


def main(path: Path = OUT) -> None:
    """Write the log: 24 adult sessions (S00-S23) and 10 of known minors (M00-M09)."""
    rng = random.Random(SEED)
    log = Log()
    risky = {session: (minor, text, how) for session, minor, text, how in RISK}
    for i in range(24):
        session = f"S{i:02d}"
        begin = START + timedelta(days=i % 6, hours=rng.randint(0, 5), minutes=rng.randint(0, 59))
        if session in risky:
            _risk(log, session, begin, False, *risky[session][1:])
        else:
            # adults are not owed break reminders: S05 and S16 run long without them
            minutes = 290 if session in ("S05", "S16") else rng.randint(15, 60)
            _chat(log, rng, session, begin, False, minutes=minutes,
                  notice=session not in ("S07", "S19"))  # fmt: skip
    long_minors = {
        "M00": {"minutes": 400, "reminders": [175, 350]},
        "M01": {"minutes": 230, "reminders": [180], "reminder_by_lumi": True},
        "M03": {"minutes": 260, "reminders": [205]},
        "M06": {"minutes": 190, "reminders": [170]},
        "M08": {"minutes": 270, "reminders": []},
    }
    for i in range(10):
        session = f"M{i:02d}"
        begin = START + timedelta(days=i % 5, hours=rng.randint(0, 3), minutes=rng.randint(0, 59))
        if session in risky:
            _risk(log, session, begin, True, *risky[session][1:])
        elif session in long_minors:
            _chat(log, rng, session, begin, True, **long_minors[session])
        else:
            _chat(log, rng, session, begin, True, minutes=rng.randint(20, 90))
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in log.rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
