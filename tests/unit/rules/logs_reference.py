"""Plain-Python references for the transparency, consent and oversight checks, and helpers.

Each reference reads the same raw rows the audit reads (before any SQL) and applies the
documented semantics with loops and dicts, nothing clever. The property tests require the SQL
checks to agree with them exactly: records checked, and the violating record ids with reasons.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from ethicsgate.engines.duckdb import DuckDBEngine, open_evidence
from ethicsgate.errors import Location
from ethicsgate.evidence import EvidenceSpec
from ethicsgate.policy.models import PolicyPack
from ethicsgate.rules.consent import consent_roles, evaluate_consent
from ethicsgate.rules.oversight import evaluate_oversight, oversight_roles
from ethicsgate.rules.results import RuleResult
from ethicsgate.rules.transparency import evaluate_transparency, transparency_roles

WS = " \t\n\r\x0b\x0c"
Verdicts = dict[str, str | None]  # record id -> reason (None: complies)

ROLES = {"transparency": transparency_roles, "consent": consent_roles, "oversight": oversight_roles}
EVALUATE = {
    "transparency": evaluate_transparency,
    "consent": evaluate_consent,
    "oversight": evaluate_oversight,
}


class Conflict(Exception):
    """Two different rows share a record id (the audit must raise an EvidenceError)."""


class MissingId(Exception):
    """A row in scope has no id (the audit must raise an EvidenceError)."""


# -- running a rule on rows, the real way -------------------------------------------------------


def make_rule(**fields: Any) -> Any:
    """Validate one rule through the real policy models; return it."""
    pack = PolicyPack.model_validate(
        {
            "schema_version": 1,
            "id": "p",
            "version": "1",
            "title": "t",
            "owner": "o",
            "rules": [{"id": "r", **fields}],
        }
    )
    return pack.rules[0]


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write rows as JSON Lines (None becomes null)."""
    path.write_text("".join(json.dumps(dict(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def run_rule(
    rule: Any,
    files: Mapping[str, Path],
    *,
    columns: Mapping[str, Mapping[str, str]] | None = None,
    filters: Mapping[str, str] | None = None,
) -> RuleResult:
    """Read each dataset's roles with the evidence layer and evaluate ``rule`` on them."""
    engine = DuckDBEngine()
    try:
        tables = {}
        for name, roles in ROLES[rule.kind](rule).items():
            spec = EvidenceSpec(
                path=str(files[name]),
                columns=dict((columns or {}).get(name, {})),
                filter=(filters or {}).get(name),
            )
            evidence = open_evidence(
                name,
                spec,
                base_dir=files[name].parent,
                locate=lambda loc: Location("audit.yaml"),
                engine=engine,
            )
            tables[name] = evidence.read_rows(roles)
        return EVALUATE[rule.kind](rule, tables)
    finally:
        engine.close()


def verdicts_of(result: RuleResult) -> Verdicts:
    """Return the violating record ids with their reasons (compliant ids are not listed)."""
    return {f.record_id: f.reason for f in result.findings}


# -- shared semantics --------------------------------------------------------------------------


def parse_ts(value: Any) -> datetime | None:
    """Parse a timestamp as the audit does: empty is missing, naive is UTC."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = datetime.fromisoformat(str(value).strip())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def blank(value: str | None) -> bool:
    """Return whether a text value is missing or only ASCII whitespace."""
    return value is None or value.strip(WS) == ""


def flag(value: Any, *, missing: bool | None) -> bool | None:
    """Return a flag's truth; ``missing`` for NULL/empty text."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return missing
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "1.0", "true", "t", "yes", "y"):
        return True
    if text in ("0", "0.0", "false", "f", "no", "n"):
        return False
    raise ValueError(f"not a flag: {value!r}")


def _matches(patterns: Sequence[str], text: str | None) -> bool:
    return text is not None and any(re.search(p, text, re.IGNORECASE) for p in patterns)


def discloses(rule: Any, text: str | None) -> bool:
    """Return whether ``text`` discloses automation: a disclosure pattern, and no denial."""
    return _matches(rule.disclosure_patterns, text) and not _matches(rule.denial_patterns, text)


def records_by_id(rows: Iterable[tuple[Any, ...]]) -> dict[Any, tuple[Any, ...]]:
    """Collapse rows (id first) to one per id; exact repeats count once, differing rows conflict.

    Raises:
        MissingId: a row has no id. Conflict: two different rows share an id.
    """
    seen: dict[Any, set[tuple[Any, ...]]] = defaultdict(set)
    for row in rows:
        if row[0] is None or row[0] == "":
            raise MissingId
        seen[str(row[0])].add(tuple(row[1:]))
    out = {}
    for key, values in seen.items():
        if len(values) > 1:
            raise Conflict
        out[key] = next(iter(values))
    return out


# -- transparency --------------------------------------------------------------------------------


def actor(value: str) -> str:
    """Return an actor as the audit reads it: trimmed, lower case."""
    return value.strip().lower()


def bot_disclosure(events: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """Conversations with a bot message must disclose at or before the first one.

    With ``before: first_message``: at or before the first message of a customer, bot or human.
    """
    conversations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        conversations[str(e["conversation_id"])].append({**e, "actor": actor(e["actor"])})
    opening = ("bot", "human", "customer") if rule.before == "first_message" else ("bot",)
    records, verdicts = 0, {}
    for conv, evs in conversations.items():
        if not any(e["actor"] == "bot" for e in evs):
            continue
        records += 1
        opens = [e for e in evs if e["actor"] in opening]
        if any(parse_ts(e["ts"]) is None for e in opens):
            verdicts[conv] = "missing_timestamp"
            continue
        first_bot = min(parse_ts(e["ts"]) for e in opens)
        disclosures = [
            parse_ts(e["ts"])
            for e in evs
            if parse_ts(e["ts"]) is not None
            and (
                e["type"] in rule.disclosure_types
                or (e["actor"] in ("bot", "system") and discloses(rule, e["text"]))
            )
        ]
        if not disclosures:
            verdicts[conv] = "not_disclosed"
        elif min(disclosures) > first_bot:
            verdicts[conv] = "disclosed_late"
    return records, verdicts


def human_handoff(events: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """Each request for a person must be followed by a human within the time or turn limit."""
    distinct = {
        (str(e["conversation_id"]), parse_ts(e["ts"]), actor(e["actor"]), e["type"], e["text"])
        for e in events
    }
    conversations: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for e in distinct:
        conversations[e[0]].append(e)
    records, verdicts = 0, {}
    for conv, evs in conversations.items():
        requests = [
            e
            for e in evs
            if e[3] in rule.request_types
            or (e[2] == "customer" and _matches(rule.request_patterns, e[4]))
        ]
        if not requests:
            continue
        records += 1
        humans = sorted(
            e[1]
            for e in evs
            if e[1] is not None and (e[2] == "human" or e[3] in rule.human_join_types)
        )
        failures = []
        for r in requests:
            asked = r[1]
            if asked is None:
                failures.append((0, None, "missing_timestamp"))
                continue
            later = [h for h in humans if h >= asked]
            if not later:
                failures.append((1, asked, "not_answered"))
                continue
            joined = later[0]
            if rule.window is not None:
                ok = joined <= asked + rule.window
            else:
                between = sum(1 for e in evs if e[1] is not None and asked < e[1] < joined)
                ok = between < rule.within_turns
            if not ok:
                failures.append((1, asked, "answered_late"))
        if failures:
            verdicts[conv] = min(failures, key=lambda f: (f[0], f[1] or datetime.min))[2]
    return records, verdicts


def decision_explained(rows: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """Decisions in scope must carry a real explanation."""
    scoped = [r for r in rows if not rule.event_types or r.get("type") in rule.event_types]
    extras = [f for f in rule.finding_fields if f != "explanation"]
    records = records_by_id(
        (r["decision_id"], r["explanation"], *(r.get(f) for f in extras)) for r in scoped
    )
    placeholders = {p.strip(WS).lower() for p in rule.placeholders}
    verdicts: Verdicts = {}
    for key, (explanation, *_rest) in records.items():
        if blank(explanation):
            verdicts[key] = "missing_explanation"
        elif explanation.strip(WS).lower() in placeholders:
            verdicts[key] = "placeholder_explanation"
        elif len(explanation.strip(WS)) < rule.min_length:
            verdicts[key] = "explanation_too_short"
    return len(records), verdicts


def ai_content_labeled(rows: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """Generated content in scope must carry the AI label."""
    scoped = []
    for r in rows:
        if rule.event_types and r.get("type") not in rule.event_types:
            continue
        if not rule.all_generated:
            generated = flag(r["ai_generated"], missing=None)
            if generated is None:
                raise MissingId  # the audit requires the flag in scope
            if not generated:
                continue
        scoped.append(r)
    records = records_by_id(
        (
            r["event_id"],
            flag(r["ai_label"], missing=False),
            *([r["type"]] if rule.event_types else []),
        )
        for r in scoped
    )
    return len(records), {k: "unlabeled" for k, (label, *_) in records.items() if not label}


# -- consent -------------------------------------------------------------------------------------


def consent_verdicts(
    events: Iterable[Mapping[str, Any]],
    ledger: Iterable[Mapping[str, Any]],
    *,
    purposes: Mapping[str, str],
    grace: timedelta = timedelta(0),
    check: str = "consent_valid",
    undeclared_purposes: str = "violation",
) -> Verdicts:
    """Return each processing event the check applies to, with its reason (None: complies).

    The one Python reference of the consent semantics, for the oracle tests and
    ``benchmarks/bench_consent.py``: each event against the ledger as of the event's time (the
    latest grant at or before it; tied grants give the earliest withdrawal and expiry).

    Args:
        events: Rows with ``event_id``, ``subject_id``, ``purpose``, ``ts``.
        ledger: Rows with ``subject_id``, ``purpose``, ``granted_at``, ``withdrawn_at``,
            ``expires_at``.
        purposes: The legal basis of each declared purpose.
        grace: How long after a withdrawal processing is still accepted.
        check: ``consent_valid`` or ``withdrawal_honored``.
        undeclared_purposes: ``violation`` or ``ignore``.

    Raises:
        MissingId: an event has no id. Conflict: two different events share an id.
    """
    withdrawal_only = check == "withdrawal_honored"
    records = records_by_id(
        (
            e["event_id"],
            None if e["subject_id"] is None else str(e["subject_id"]),
            e["purpose"],
            parse_ts(e["ts"]),
        )
        for e in events
    )
    grants: dict[tuple[str, str], list[tuple[datetime, Any, Any]]] = defaultdict(list)
    for row in ledger:
        granted = parse_ts(row["granted_at"])
        if row["subject_id"] is None or granted is None:
            continue
        key = (str(row["subject_id"]), row["purpose"])
        grants[key].append((granted, parse_ts(row["withdrawn_at"]), parse_ts(row["expires_at"])))
    verdicts: Verdicts = {}
    for key, (subject, purpose, ts) in records.items():
        basis = purposes.get(purpose)
        if basis is None:
            if undeclared_purposes == "violation":
                verdicts[key] = "no_legal_basis"
            continue
        if basis != "consent":
            continue
        verdicts[key] = None
        if subject is None:
            verdicts[key] = "missing_subject"
            continue
        if ts is None:
            verdicts[key] = "missing_timestamp"
            continue
        before = [g for g in grants[(subject, purpose)] if g[0] <= ts]
        if not before:
            if not withdrawal_only:
                verdicts[key] = "no_consent"
            continue
        latest = max(g[0] for g in before)
        ties = [g for g in before if g[0] == latest]
        withdrawn = min((g[1] for g in ties if g[1] is not None), default=None)
        expires = min((g[2] for g in ties if g[2] is not None), default=None)
        if withdrawn is not None and ts >= withdrawn + grace:
            verdicts[key] = "consent_withdrawn"
        elif not withdrawal_only and expires is not None and ts >= expires:
            verdicts[key] = "consent_expired"
    return verdicts


def consent(
    events: list[dict[str, Any]], ledger: list[dict[str, Any]], rule: Any
) -> tuple[int, Verdicts]:
    """Processing events against the ledger, as of each event's time."""
    verdicts = consent_verdicts(
        events,
        ledger,
        purposes=rule.purposes,
        grace=rule.grace,
        check=rule.check,
        undeclared_purposes=rule.undeclared_purposes,
    )
    return len(verdicts), {k: v for k, v in verdicts.items() if v is not None}


# -- oversight -----------------------------------------------------------------------------------


def _human_reviewer(value: str | None, automated: Sequence[str]) -> tuple[bool, bool]:
    """Return (a person reviewed, a machine is named)."""
    if blank(value):
        return False, False
    machine = value.strip(WS).lower() in {a.strip(WS).lower() for a in automated}
    return not machine, machine


def human_review_required(rows: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts]:
    """Adverse decisions need a human reviewer (or routing, if accepted)."""
    band = rule.adverse is not None and (
        rule.adverse.score_min is not None or rule.adverse.score_max is not None
    )

    def read(r: dict[str, Any]) -> tuple[Any, ...]:
        if rule.adverse is None and flag(r.get("adverse"), missing=None) is None:
            raise MissingId  # the audit requires the adverse flag on every decision
        return (
            r["decision_id"],
            r.get("outcome") if rule.adverse is not None else None,
            None if not band or r.get("score") in (None, "") else float(r["score"]),
            flag(r.get("adverse"), missing=None) if rule.adverse is None else None,
            r.get("reviewer") if "reviewer" in rule.review_evidence else None,
            flag(r.get("routed_to_review"), missing=False)
            if "routed_to_review" in rule.review_evidence
            else False,
        )

    records = records_by_id(read(r) for r in rows)
    checked, verdicts = 0, {}
    for key, (outcome, score, adverse_flag, reviewer, routed) in records.items():
        if rule.adverse is None:
            adverse = bool(adverse_flag)
        else:
            adverse = outcome in rule.adverse.outcomes
            if rule.adverse.score_min is not None and score is not None:
                adverse = adverse and score >= rule.adverse.score_min
            if rule.adverse.score_max is not None and score is not None:
                adverse = adverse and score <= rule.adverse.score_max
        if not adverse:
            continue
        checked += 1
        human, machine = _human_reviewer(reviewer, rule.automated_reviewers)
        if human or routed:
            continue
        verdicts[key] = "automated_reviewer" if machine else "no_human_review"
    return checked, verdicts


def review_sampling(rows: list[dict[str, Any]], rule: Any) -> tuple[int, Verdicts, dict]:
    """The seeded stratified sample; sampled decisions need a human QA review."""
    records = records_by_id(
        (r["decision_id"], *(r.get(s) for s in rule.strata), r.get("qa_reviewer")) for r in rows
    )
    groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for key, values in records.items():
        groups[tuple(values[:-1])].append(key)
    share = Fraction(str(rule.share))
    checked, verdicts, strata = 0, {}, {}
    for group, ids in groups.items():
        n = len(ids)
        k = min(n, max(rule.min_per_group, -(-n * share.numerator // share.denominator)))
        ranked = sorted(
            ids, key=lambda i: (hashlib.md5(f"{rule.seed}:{i}".encode()).hexdigest(), i)
        )
        reviewed = 0
        for decision in ranked[:k]:
            checked += 1
            human, machine = _human_reviewer(records[decision][-1], rule.automated_reviewers)
            if human:
                reviewed += 1
            else:
                verdicts[decision] = "automated_reviewer" if machine else "not_reviewed"
        strata[group] = (n, k, reviewed)
    return checked, verdicts, strata


def at(minute: int, *, fmt: str = "Z") -> str:
    """Return 2025-03-01T10:00Z plus ``minute`` minutes, written with offset ``fmt``.

    ``fmt``: "Z", "naive" (UTC without an offset), "+01:00", "-05:00", or "space" (naive, with a
    space instead of T).
    """
    moment = datetime(2025, 3, 1, 10, 0, tzinfo=UTC) + timedelta(minutes=minute)
    if fmt == "Z":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "naive":
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fmt == "space":
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    sign = 1 if fmt[0] == "+" else -1
    offset = timedelta(hours=int(fmt[1:3]), minutes=int(fmt[4:6])) * sign
    local = (moment + offset).replace(tzinfo=None)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + fmt
