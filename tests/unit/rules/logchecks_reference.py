"""Plain-Python references for the checks of issue #20 over automation logs.

``notice_before_decision``, ``opt_out_honored``, ``request_answered``, ``log_retention``,
``disclosed_on_request`` and ``pricing_disclosed``: each reads the same raw rows the audit reads
and applies the semantics of docs/rules-logs.md with loops and dicts. The property tests in
test_logchecks_oracle.py require the SQL checks to agree with them exactly.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from logs_reference import (
    MissingId,
    Verdicts,
    actor,
    discloses,
    flag,
    parse_ts,
    records_by_id,
)


def _key(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _matches(patterns: Sequence[str], text: str | None) -> bool:
    return text is not None and any(re.search(p, text, re.IGNORECASE) for p in patterns)


def notice_before_decision(rows: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """Each decision needs a notice to its subject at or before it (within ``within``)."""
    extras = [f for f in rule.finding_fields if f not in ("type", "subject_id")]
    decisions = records_by_id(
        (r["event_id"], _key(r["subject_id"]), parse_ts(r["ts"]), r["type"])
        + tuple(r.get(f) for f in extras)
        for r in rows
        if r["type"] in rule.decision_types
    )
    notices: dict[str, list[datetime]] = defaultdict(list)
    for r in rows:
        ts, subject = parse_ts(r["ts"]), _key(r["subject_id"])
        if r["type"] in rule.notice_types and ts is not None and subject is not None:
            notices[subject].append(ts)
    verdicts: Verdicts = {}
    for key, (subject, ts, *_rest) in decisions.items():
        if subject is None:
            verdicts[key] = "missing_subject"
        elif ts is None:
            verdicts[key] = "missing_timestamp"
        else:
            before = [n for n in notices[subject] if n <= ts]
            if not before:
                verdicts[key] = "no_notice"
            elif rule.within is not None and ts > max(before) + rule.within:
                verdicts[key] = "notice_too_old"
    return len(decisions), verdicts


def opt_out_honored(
    events: list[dict[str, Any]], ledger: list[dict[str, Any]], rule: Any
) -> tuple[int, Verdicts]:
    """No event after the person's opt-out (the first since they last opted in), + grace."""
    shown = (["type"] if rule.event_types else []) + [
        f for f in rule.finding_fields if not (rule.event_types and f == "type")
    ]
    records = records_by_id(
        (e["event_id"], _key(e["subject_id"]), parse_ts(e["ts"]), *(e.get(f) for f in shown))
        for e in events
        if not rule.event_types or e.get("type") in rule.event_types
    )
    said: dict[str, dict[datetime, int]] = defaultdict(dict)
    for row in ledger:
        subject = _key(row["subject_id"])
        if subject is None or row["purpose"] not in rule.opt_out_purposes:
            continue
        for column, opt_out in (("granted_at", 0), ("withdrawn_at", 1)):
            at = parse_ts(row[column])
            if at is not None:
                said[subject][at] = max(said[subject].get(at, 0), opt_out)
    changes: dict[str, list[tuple[datetime, int]]] = {}
    for subject, statements in said.items():
        kept: list[tuple[datetime, int]] = []
        for at, opt_out in sorted(statements.items()):
            if not kept or kept[-1][1] != opt_out:
                kept.append((at, opt_out))
        changes[subject] = kept
    verdicts: Verdicts = {}
    for key, (subject, ts, *_rest) in records.items():
        if subject is None:
            verdicts[key] = "missing_subject"
        elif ts is None:
            verdicts[key] = "missing_timestamp"
        else:
            before = [c for c in changes.get(subject, []) if c[0] <= ts]
            if before and before[-1][1] == 1 and ts >= before[-1][0] + rule.grace:
                verdicts[key] = "opted_out"
    return len(records), verdicts


def request_answered(rows: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """Requests answered within ``within``; open ones judged only once past their deadline."""
    shown = (["type"] if rule.request_types else []) + [
        f for f in rule.finding_fields if not (rule.request_types and f == "type")
    ]
    records = records_by_id(
        (r["request_id"], parse_ts(r["ts"]), parse_ts(r["answered_at"]))
        + tuple(r.get(f) for f in shown)
        for r in rows
        if not rule.request_types or r.get("type") in rule.request_types
    )
    instants = [parse_ts(r[c]) for r in rows for c in ("ts", "answered_at")]
    end = max((i for i in instants if i is not None), default=None)
    checked, verdicts = 0, {}
    for key, (ts, answered, *_rest) in records.items():
        if ts is None:
            checked += 1
            verdicts[key] = "missing_timestamp"
            continue
        due = ts + rule.within
        if answered is None:
            assert end is not None
            if end > due:
                checked += 1
                verdicts[key] = "overdue"
            continue
        checked += 1
        if answered > due:
            verdicts[key] = "answered_late"
    return checked, verdicts


def log_retention(rows: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """Runs of UTC days with and without rows in the last ``min_coverage`` days."""
    days = {
        parse_ts(r["ts"]).astimezone(UTC).date()  # type: ignore[union-attr]
        for r in rows
        if parse_ts(r["ts"]) is not None
    }
    if not days:
        return 0, {}
    first, last = min(days), max(days)
    start = last - timedelta(days=rule.min_coverage.days - 1)
    runs: list[tuple[date, date, bool]] = []  # from, to, covered
    day = start
    while day <= last:
        covered = day in days
        if runs and runs[-1][2] == covered and runs[-1][1] == day - timedelta(days=1):
            runs[-1] = (runs[-1][0], day, covered)
        else:
            runs.append((day, day, covered))
        day += timedelta(days=1)
    verdicts: Verdicts = {}
    for index, (since, until, covered) in enumerate(runs):
        if covered:
            continue
        if index == 0 and first > start:
            verdicts[since.isoformat()] = "not_retained"
        elif (until - since).days + 1 > rule.max_gap_days:
            verdicts[since.isoformat()] = "gap_too_long"
    return len(runs), verdicts


def disclosed_on_request(events: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """Questions "human or machine?" need a reply; a bot reply needs a disclosure by then."""
    distinct = {
        (str(e["conversation_id"]), parse_ts(e["ts"]), actor(e["actor"]), e["type"], e["text"])
        for e in events
    }
    conversations: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for e in distinct:
        conversations[e[0]].append(e)
    records, verdicts = 0, {}
    for conv, evs in conversations.items():
        questions = [
            e[1]
            for e in evs
            if e[3] in rule.question_types
            or (e[2] == "customer" and _matches(rule.question_patterns, e[4]))
        ]
        if not questions:
            continue
        records += 1
        disclosures = [
            e[1]
            for e in evs
            if e[1] is not None
            and (
                e[3] in rule.disclosure_types
                or (e[2] in ("bot", "system") and discloses(rule, e[4]))
            )
        ]
        failures = []
        # a bot or person message of no time may have been the reply to any question
        untimed = any(e[1] is None and e[2] in ("bot", "human") for e in evs)
        for asked in questions:
            if asked is None:
                failures.append((0, datetime.min.replace(tzinfo=UTC), "missing_timestamp"))
                continue
            if untimed:
                failures.append((1, asked, "missing_timestamp"))
                continue
            replies = [
                e for e in evs if e[1] is not None and e[1] > asked and e[2] in ("bot", "human")
            ]
            if not replies:
                failures.append((1, asked, "no_reply"))
                continue
            replied = min(e[1] for e in replies)
            bot = any(e[2] == "bot" and e[1] == replied for e in replies)
            if bot and not any(asked < d <= replied for d in disclosures):
                failures.append((1, asked, "not_disclosed_on_request"))
        if failures:
            verdicts[conv] = min(failures, key=lambda f: (f[0], f[1]))[2]
    return records, verdicts


def pricing_disclosed(rows: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """Personalised prices in scope must show the statement (case, whitespace ignored)."""
    statement = " ".join(rule.disclosure_text.split()).lower()
    shown = (["type"] if rule.event_types else []) + [
        f for f in rule.finding_fields if f != "text" and not (rule.event_types and f == "type")
    ]
    scoped = []
    for r in rows:
        if rule.event_types and r.get("type") not in rule.event_types:
            continue
        if not rule.all_personalized:
            personalised = flag(r.get("personalized"), missing=None)
            if personalised is None:
                raise MissingId  # the audit requires the flag on every price in scope
            if not personalised:
                continue
        scoped.append(r)
    records = records_by_id(
        (r["event_id"], r.get("text"), *(r.get(f) for f in shown)) for r in scoped
    )
    verdicts: Verdicts = {}
    for key, (text, *_rest) in records.items():
        normal = " ".join(str(text).split()).lower() if text is not None else ""
        if statement not in normal:
            verdicts[key] = "not_disclosed"
    return len(records), verdicts


def _conversations(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Group events by conversation; an event without one is a missing id."""
    conversations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        key = _key(e["conversation_id"])
        if key is None:
            raise MissingId
        conversations[key].append({**e, "ts": parse_ts(e["ts"]), "actor": actor(e["actor"])})
    return conversations


def periodic_reminder(events: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """No bot message later than ``every`` after the interaction's start or last reminder."""
    minors = rule.conversations == "of_minors"
    if minors and any(flag(e.get("minor"), missing=None) is None for e in events):
        raise MissingId  # the audit requires the flag on every row
    messages = ("bot", "human", "customer")

    def reminds(e: dict[str, Any]) -> bool:
        if e.get("type") in rule.reminder_types:
            return True
        if e["actor"] not in ("bot", "system") or not rule.reminder_patterns:
            return False
        said = _matches(rule.reminder_patterns, e.get("text"))
        if rule.disclosure_patterns:
            said = said and discloses(rule, e.get("text"))
        return said

    records, verdicts = 0, {}
    for conv, all_evs in _conversations(events).items():
        # of known minors, only the rows on which the user is known to be one count
        evs = [e for e in all_evs if not minors or flag(e.get("minor"), missing=None)]
        if not any(e["actor"] == "bot" for e in evs):
            continue
        records += 1
        if any(e["ts"] is None and (e["actor"] in messages or reminds(e)) for e in evs):
            verdicts[conv] = "missing_timestamp"
            continue
        timed = sorted(
            (e for e in evs if e["ts"] is not None and (e["actor"] in messages or reminds(e))),
            key=lambda e: e["ts"],
        )
        sessions: list[list[dict[str, Any]]] = []
        for e in timed:
            pause = rule.new_session_after
            if not sessions or (pause is not None and e["ts"] > sessions[-1][-1]["ts"] + pause):
                sessions.append([])
            sessions[-1].append(e)
        for session in sessions:
            began = session[0]["ts"]
            for e in session:
                if e["actor"] != "bot":
                    continue
                reminded = [r["ts"] for r in session if r["ts"] <= e["ts"] and reminds(r)]
                if e["ts"] > max(reminded, default=began) + rule.every:
                    verdicts[conv] = "reminder_overdue"
    return records, verdicts


def crisis_referral(events: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """Self-harm expressed needs a referral at or after it, by the next bot or human reply."""
    records, verdicts = 0, {}
    for conv, evs in _conversations(events).items():
        risks = [
            e["ts"]
            for e in evs
            if e.get("type") in rule.risk_types
            or (e["actor"] == "customer" and _matches(rule.risk_patterns, e.get("text")))
        ]
        if not risks:
            continue
        records += 1
        referrals = [
            e["ts"]
            for e in evs
            if e["ts"] is not None
            and (
                e.get("type") in rule.referral_types
                or (
                    e["actor"] in ("bot", "human", "system")
                    and _matches(rule.referral_patterns, e.get("text"))
                )
            )
        ]
        # a reply or referral of no time may have come anywhere
        untimed = any(
            e["ts"] is None
            and (
                e["actor"] in ("bot", "human")
                or e.get("type") in rule.referral_types
                or (e["actor"] == "system" and _matches(rule.referral_patterns, e.get("text")))
            )
            for e in evs
        )
        failures = []
        for said in risks:
            if said is None:
                failures.append((0, datetime.min.replace(tzinfo=UTC), "missing_timestamp"))
                continue
            if untimed:
                failures.append((1, said, "missing_timestamp"))
                continue
            replies = [
                e["ts"]
                for e in evs
                if e["ts"] is not None and e["ts"] > said and e["actor"] in ("bot", "human")
            ]
            replied = min(replies, default=None)
            after = [d for d in referrals if d >= said]
            if not after:
                failures.append((1, said, "not_referred"))
            elif replied is not None and min(after) > replied:
                failures.append((1, said, "referred_late"))
        if failures:
            verdicts[conv] = min(failures, key=lambda f: (f[0], f[1]))[2]
    return records, verdicts
