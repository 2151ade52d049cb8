"""Transparency checks over conversation and event logs, each one query inside the engine.

Events are ordered by their timestamp only: events logged at the same instant are simultaneous
(a disclosure at the same instant as the first bot message is "at" it). Exact duplicate events
count once. A missing timestamp never helps a record pass: see docs/rules-logs.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ethicsgate.errors import PolicyError
from ethicsgate.evidence.contracts import BuiltinCheck, Scope
from ethicsgate.evidence.engine import Dialect, Rows
from ethicsgate.evidence.roles import Role
from ethicsgate.evidence.sql import quote_ident
from ethicsgate.policy.fields import format_duration
from ethicsgate.policy.models import (
    AiContentLabeledRule,
    BotDisclosureRule,
    CrisisReferralRule,
    DecisionExplainedRule,
    DisclosedOnRequestRule,
    HumanHandoffRule,
    NoticeBeforeDecisionRule,
    PeriodicReminderRule,
    PolicyPack,
    PricingDisclosedRule,
    TransparencyCheck,
    TransparencyRule,
)
from ethicsgate.rules.kind import AuditInputs, KindBase, role_checks
from ethicsgate.rules.records import (
    Verdicts,
    blank_sql,
    fmt_time,
    sql_list,
    summarize,
    trim_sql,
)
from ethicsgate.rules.results import RuleResult

__all__ = [
    "TransparencyKind",
    "evaluate_transparency",
    "explain_transparency",
    "transparency_roles",
]

CONVERSATION = Role("conversation_id", "key")
TS = Role("ts", "timestamp")
ACTOR = Role("actor", "actor")
TYPE = Role("type", "text")
TEXT = Role("text", "text")
EVENT = Role("event_id", "key")
DECISION = Role("decision_id", "key")
EXPLANATION = Role("explanation", "text")
AI_GENERATED = Role("ai_generated", "flag")
AI_LABEL = Role("ai_label", "flag_or_false")
SUBJECT = Role("subject_id", "ref")
PERSONALIZED = Role("personalized", "flag")
MINOR = Role("minor", "flag")


def transparency_roles(rule: TransparencyRule) -> dict[str, list[Role]]:
    """Return the roles a transparency rule reads from its dataset."""
    roles: list[Role]
    if isinstance(rule, BotDisclosureRule):
        roles = [CONVERSATION, TS, ACTOR]
        if rule.disclosure_types:
            roles.append(TYPE)
        if rule.disclosure_patterns:
            roles.append(TEXT)
    elif isinstance(rule, HumanHandoffRule):
        roles = [CONVERSATION, TS, ACTOR]
        if rule.request_types or rule.human_join_types:
            roles.append(TYPE)
        if rule.request_patterns:
            roles.append(TEXT)
    elif isinstance(rule, DecisionExplainedRule):
        roles = [DECISION, EXPLANATION]
        if rule.event_types:
            roles.append(TYPE)
        roles += [Role(f, "text") for f in rule.finding_fields if f != EXPLANATION.name]
    elif isinstance(rule, AiContentLabeledRule):
        roles = [EVENT, AI_LABEL]
        if rule.event_types:
            roles.append(TYPE)
        if not rule.all_generated:
            roles.append(AI_GENERATED)
        roles += [Role(f, "text") for f in rule.finding_fields]
    elif isinstance(rule, DisclosedOnRequestRule):
        roles = [CONVERSATION, TS, ACTOR]
        if rule.question_types or rule.disclosure_types:
            roles.append(TYPE)
        if rule.question_patterns or rule.disclosure_patterns:
            roles.append(TEXT)
    elif isinstance(rule, PricingDisclosedRule):
        roles = [EVENT, TEXT, *_pricing_shown(rule)]
        if not rule.all_personalized:
            roles.append(PERSONALIZED)
    elif isinstance(rule, NoticeBeforeDecisionRule):
        roles = [EVENT, SUBJECT, TS, TYPE, *(Role(f, "text") for f in rule.finding_fields)]
    elif isinstance(rule, PeriodicReminderRule):
        roles = [CONVERSATION, TS, ACTOR]
        if rule.reminder_types:
            roles.append(TYPE)
        if rule.reminder_patterns:
            roles.append(TEXT)
        if rule.conversations == "of_minors":
            roles.append(MINOR)
    elif isinstance(rule, CrisisReferralRule):
        roles = [CONVERSATION, TS, ACTOR]
        if rule.risk_types or rule.referral_types:
            roles.append(TYPE)
        if rule.risk_patterns or rule.referral_patterns:
            roles.append(TEXT)
    else:  # pragma: no cover - the policy models admit no other check
        raise TypeError(f"unknown transparency check {rule!r}")
    return {rule.dataset: list(dict.fromkeys(roles))}


def evaluate_transparency(rule: TransparencyRule, tables: Mapping[str, Rows]) -> RuleResult:
    """Evaluate a transparency rule on the rows of its dataset.

    Raises:
        EvidenceError: a record has no id, a needed flag is missing, or two rows share an id.
        PolicyError: a text pattern is not valid in DuckDB's regular expression engine.
    """
    table = tables[rule.dataset]
    if isinstance(rule, BotDisclosureRule):
        return _bot_disclosure(rule, table)
    if isinstance(rule, HumanHandoffRule):
        return _human_handoff(rule, table)
    if isinstance(rule, DecisionExplainedRule):
        return _decision_explained(rule, table)
    if isinstance(rule, AiContentLabeledRule):
        return _ai_content_labeled(rule, table)
    if isinstance(rule, NoticeBeforeDecisionRule):
        return _notice_before_decision(rule, table)
    if isinstance(rule, DisclosedOnRequestRule):
        return _disclosed_on_request(rule, table)
    if isinstance(rule, PricingDisclosedRule):
        return _pricing_disclosed(rule, table)
    if isinstance(rule, PeriodicReminderRule):
        return _periodic_reminder(rule, table)
    if isinstance(rule, CrisisReferralRule):
        return _crisis_referral(rule, table)
    raise TypeError(f"unknown transparency check {rule!r}")  # pragma: no cover


def _pattern_sql(rule: TransparencyRule, t: Rows, patterns: list[str], text: str) -> str:
    bad, why = t.check_patterns(patterns)
    if bad:
        raise PolicyError(
            f"rule {rule.id!r}: pattern {bad!r} is not valid in DuckDB's regular expressions "
            f"(RE2): {why}",
            hint="simplify the pattern; RE2 syntax is described at "
            "https://github.com/google/re2/wiki/Syntax",
        )
    combined = "|".join(f"(?:{p})" for p in patterns)
    return t.dialect.regexp_match(text, combined)


def _disclosure_sql(
    rule: BotDisclosureRule | DisclosedOnRequestRule | PeriodicReminderRule, t: Rows
) -> str:
    """Return the condition that a message's text discloses automation.

    A disclosure pattern matches and no denial pattern does ("No soy un robot" holds
    "soy un robot").
    """
    matches = _pattern_sql(rule, t, rule.disclosure_patterns, TEXT.column)
    if not rule.denial_patterns:
        return matches
    denies = _pattern_sql(rule, t, rule.denial_patterns, TEXT.column)
    return f"({matches} AND NOT coalesce({denies}, false))"


def _any(conditions: list[str]) -> str:
    return "(" + " OR ".join(conditions) + ")" if conditions else "false"


# -- bot_disclosure -------------------------------------------------------------------------


def _bot_disclosure(rule: BotDisclosureRule, t: Rows) -> RuleResult:
    conv, ts, actor = CONVERSATION.column, TS.column, ACTOR.column
    t.require_present(CONVERSATION, purpose="every event needs its conversation")
    conditions = []
    if rule.disclosure_types:
        conditions.append(f"{TYPE.column} IN {sql_list(rule.disclosure_types)}")
    if rule.disclosure_patterns:
        conditions.append(f"({actor} IN ('bot', 'system') AND {_disclosure_sql(rule, t)})")
    disclosure = _any(conditions)
    # the message the disclosure must come at or before: the bot's first, or anyone's first
    by_anyone = rule.before == "first_message"
    opens = f"{actor} IN ('bot', 'human', 'customer')" if by_anyone else f"{actor} = 'bot'"
    first_field = "first_message_at" if by_anyone else "first_bot_at"
    first = f"min({ts}) FILTER (WHERE {opens})"
    disclosed = f"min({ts}) FILTER (WHERE {disclosure})"
    untimed = f"bool_or({opens} AND {ts} IS NULL)"
    # with a message of no time, the first message and the first disclosure are not known:
    # the times of the timed messages would read as them, so neither is given
    sql = f"""
        SELECT {conv} AS _id, bool_or({actor} = 'bot') AS _applies, false AS _conflict,
          CASE WHEN {untimed} THEN 'missing_timestamp'
               WHEN {disclosed} IS NULL THEN 'not_disclosed'
               WHEN {disclosed} > {first} THEN 'disclosed_late' END AS _reason,
          CASE WHEN NOT {untimed} THEN {first} END AS {first_field},
          CASE WHEN NOT {untimed} THEN {disclosed} END AS disclosed_at
        FROM {t.table} GROUP BY {conv}"""
    which = "the first message" if by_anyone else "the first bot message"

    def message(reason: str, row: Mapping[str, Any]) -> str:
        if reason == "missing_timestamp":
            what = "a message" if by_anyone else "a bot message"
            return f"{what} has no timestamp, so no disclosure can be shown to come first"
        if reason == "not_disclosed":
            if by_anyone:
                return (
                    f"a bot wrote, but the conversation (first message at "
                    f"{fmt_time(row[first_field])}) never discloses that it is automated"
                )
            return (
                f"a bot wrote (first at {fmt_time(row[first_field])}) but the conversation "
                "never discloses that it is automated"
            )
        return (
            f"{which} came at {fmt_time(row[first_field])}, the disclosure "
            f"only at {fmt_time(row['disclosed_at'])}"
        )

    verdicts = Verdicts(
        sql=sql,
        fields=[first_field, "disclosed_at"],
        table=t,
        id_role=CONVERSATION,
        noun="conversations with a bot message",
    )
    parameters = {
        "before": rule.before,
        "disclosure_types": rule.disclosure_types,
        "disclosure_patterns": f"{len(rule.disclosure_patterns)} pattern(s)",
        "denial_patterns": f"{len(rule.denial_patterns)} pattern(s)",
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


# -- human_handoff --------------------------------------------------------------------------


def _human_handoff(rule: HumanHandoffRule, t: Rows) -> RuleResult:
    conv, ts, actor = CONVERSATION.column, TS.column, ACTOR.column
    t.require_present(CONVERSATION, purpose="every event needs its conversation")
    requests = []
    if rule.request_types:
        requests.append(f"{TYPE.column} IN {sql_list(rule.request_types)}")
    if rule.request_patterns:
        matches = _pattern_sql(rule, t, rule.request_patterns, TEXT.column)
        requests.append(f"({actor} = 'customer' AND {matches})")
    humans = [f"{actor} = 'human'"]
    if rule.human_join_types:
        humans.append(f"{TYPE.column} IN {sql_list(rule.human_join_types)}")
    # exact duplicates over the roles this rule reads (the table may hold more, for others)
    columns = [role.column for role in transparency_roles(rule)[rule.dataset]]
    window = rule.window
    if window is not None:
        micros = int(window.total_seconds()) * 1_000_000
        answered = f"human_joined_at <= requested_at + {t.dialect.microseconds(micros)}"
        turns = "NULL AS lt, NULL AS le"  # no need to sort every conversation's events
    else:
        order = f"OVER (PARTITION BY {conv} ORDER BY {ts} ASC NULLS LAST)"
        turns = f"rank() {order} - 1 AS lt, count(*) {order} AS le"
        # h_lt: events before the human's instant; r_le: events up to the request's instant.
        # The human joined within N turns when fewer than N events lie strictly between.
        answered = f"h_lt - r_le < {int(rule.within_turns or 1)}"
    dialect = t.dialect
    asof = dialect.asof_left_join(
        "req", "hum", equal=[("req.conv", "hum.conv")], on="req.ts <= hum.ts"
    )
    first_failure = _first_failure(dialect, ["reason", "requested_at", "human_joined_at"])

    def field(name: str) -> str:
        return dialect.struct_field("first_failure", name)

    sql = f"""
        WITH e AS (SELECT DISTINCT {", ".join(columns)} FROM {t.table}),
        r AS (
          SELECT {conv} AS conv, {ts} AS ts, {_any(requests)} AS is_request,
                 {_any(humans)} AS is_human,
                 {turns}
          FROM e),
        req AS (SELECT conv, ts, le FROM r WHERE is_request),
        hum AS (SELECT conv, ts, lt FROM r WHERE is_human AND ts IS NOT NULL),
        m AS (
          SELECT req.conv, req.ts AS requested_at, req.le AS r_le,
                 hum.ts AS human_joined_at, hum.lt AS h_lt
          FROM {asof}),
        v AS (
          SELECT conv, requested_at, human_joined_at,
            CASE WHEN requested_at IS NULL THEN 'missing_timestamp'
                 WHEN human_joined_at IS NULL THEN 'not_answered'
                 WHEN NOT ({answered}) THEN 'answered_late' END AS reason
          FROM m),
        c AS (
          SELECT conv,
            {first_failure} AS first_failure
          FROM v GROUP BY conv)
        SELECT conv AS _id, true AS _applies, false AS _conflict,
               {field("reason")} AS _reason,
               {field("requested_at")} AS requested_at,
               {field("human_joined_at")} AS human_joined_at
        FROM c"""

    limit = f"{format_duration(window)}" if window is not None else f"{rule.within_turns} turn(s)"

    def message(reason: str, row: Mapping[str, Any]) -> str:
        asked = fmt_time(row["requested_at"])
        if reason == "missing_timestamp":
            return "a request for a person has no timestamp, so the response cannot be timed"
        if reason == "not_answered":
            return f"asked for a person at {asked}; no person joined afterwards"
        joined = fmt_time(row["human_joined_at"])
        if window is not None:
            waited = row["human_joined_at"] - row["requested_at"]
            return (
                f"asked for a person at {asked}; a person joined only at {joined}, after "
                f"{format_duration(waited)} (limit {limit})"
            )
        return f"asked for a person at {asked}; a person joined at {joined}, later than {limit}"

    verdicts = Verdicts(
        sql=sql,
        fields=["requested_at", "human_joined_at"],
        table=t,
        id_role=CONVERSATION,
        noun="conversations with a request for a person",
    )
    parameters: dict[str, Any] = {
        "within": format_duration(window) if window is not None else None,
        "within_turns": rule.within_turns,
        "request_types": rule.request_types,
        "request_patterns": f"{len(rule.request_patterns)} pattern(s)",
        "human_join_types": rule.human_join_types,
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


# -- decision_explained and ai_content_labeled: one verdict per event id ---------------------


def _records_sql(
    t: Rows, key: Role, roles: list[Role], where: str
) -> tuple[str, list[tuple[Role, str]]]:
    """Return SQL collapsing rows to one per id (with a conflict flag) and the value columns."""
    values = [(r, f"v{i}") for i, r in enumerate(roles) if r != key]
    sql = t.dialect.unique_records(
        t.table, key.column, [(r.column, a) for r, a in values], where=where
    )
    return sql, values


def _raw(t: Rows, condition: str) -> str:
    """Rewrite a condition over table columns into one over the raw files (for locating)."""
    for role in t.roles:
        condition = condition.replace(role.column, f"({t.raw(role)})")
    return condition


def _decision_explained(rule: DecisionExplainedRule, t: Rows) -> RuleResult:
    scope = f"{TYPE.column} IN {sql_list(rule.event_types)}" if rule.event_types else "true"
    t.require_present(
        DECISION, where=scope, raw_where=_raw(t, scope),
        purpose="every automated decision needs an id to be reported",
    )  # fmt: skip
    extras = [Role(f, "text") for f in rule.finding_fields if f != EXPLANATION.name]
    records, values = _records_sql(t, DECISION, [EXPLANATION, *extras], scope)
    alias = dict(values)
    expl = alias[EXPLANATION]
    trimmed = trim_sql(t.dialect, expl)
    placeholders = sorted({p.strip(" \t\n\r\x0b\x0c").lower() for p in rule.placeholders})
    extra_cols = "".join(f", {alias[r]} AS {quote_ident(r.name)}" for r in extras)
    sql = f"""
        SELECT _id, true AS _applies, _conflict,
          CASE WHEN {blank_sql(t.dialect, expl)} THEN 'missing_explanation'
               WHEN lower({trimmed}) IN {sql_list(placeholders)} THEN 'placeholder_explanation'
               WHEN length({trimmed}) < {int(rule.min_length)} THEN 'explanation_too_short'
          END AS _reason,
          {expl} AS explanation{extra_cols}
        FROM ({records}) AS _records"""

    def message(reason: str, row: Mapping[str, Any]) -> str:
        if reason == "missing_explanation":
            return "the automated decision carries no explanation"
        if reason == "placeholder_explanation":
            return f"the explanation {row['explanation']!r} is a placeholder, not a reason"
        return (
            f"the explanation {row['explanation']!r} is shorter than {rule.min_length} characters"
        )

    verdicts = Verdicts(
        sql=sql,
        fields=["explanation", *(r.name for r in extras)],
        table=t,
        id_role=DECISION,
        noun="automated decisions",
    )
    parameters = {
        "event_types": rule.event_types or None,
        "placeholders": rule.placeholders,
        "min_length": rule.min_length,
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


def _ai_content_labeled(rule: AiContentLabeledRule, t: Rows) -> RuleResult:
    typed_scope = f"{TYPE.column} IN {sql_list(rule.event_types)}" if rule.event_types else "true"
    scope = typed_scope
    if not rule.all_generated:
        t.require_present(
            AI_GENERATED, where=typed_scope, raw_where=_raw(t, typed_scope),
            purpose="ai_generated must say, for all content in scope, whether it was generated",
        )  # fmt: skip
        scope = f"({typed_scope}) AND {AI_GENERATED.column}"
    t.require_present(
        EVENT, where=scope, raw_where=_raw(t, scope),
        purpose="every piece of generated content needs an id to be reported",
    )  # fmt: skip
    extras = [Role(f, "text") for f in rule.finding_fields]
    shown = list(dict.fromkeys(([TYPE] if rule.event_types else []) + extras))
    records, values = _records_sql(t, EVENT, [AI_LABEL, *shown], scope)
    alias = dict(values)
    extra_cols = "".join(f", {alias[r]} AS {quote_ident(r.name)}" for r in shown)
    sql = f"""
        SELECT _id, true AS _applies, _conflict,
          CASE WHEN NOT {alias[AI_LABEL]} THEN 'unlabeled' END AS _reason{extra_cols}
        FROM ({records}) AS _records"""

    def message(reason: str, row: Mapping[str, Any]) -> str:
        what = f"{row['type']} " if "type" in row and row["type"] else ""
        return f"generated {what}content carries no AI-generated label"

    verdicts = Verdicts(
        sql=sql,
        fields=[r.name for r in shown],
        table=t,
        id_role=EVENT,
        noun="pieces of AI-generated content",
    )
    parameters = {"event_types": rule.event_types or None, "all_generated": rule.all_generated}
    return summarize(rule, verdicts, messages=message, parameters=parameters)


def _first_failure(dialect: Dialect, fields: Sequence[str]) -> str:
    """Return an aggregate: the ``fields`` of a conversation's earliest failing row.

    ``fields[0]`` is the reason, ``fields[1]`` the time that orders the rows (a missing time
    first).
    """
    return dialect.first_by(
        dialect.struct({name: name for name in fields}),
        f"coalesce({dialect.epoch_us(fields[1])}, -9223372036854775807)",
        f"{fields[0]} IS NOT NULL",
    )


# -- disclosed_on_request -------------------------------------------------------------------


def _disclosed_on_request(rule: DisclosedOnRequestRule, t: Rows) -> RuleResult:
    """Each question "human or machine?" is followed by a reply; a bot reply discloses.

    The reply is the first bot or human message strictly after the question; when a bot
    message is among the replies at that instant, a disclosure must come after the question
    and at or before it. A bot or human message without a time may have been the reply, so it
    fails its conversation.
    """
    conv, ts, actor = CONVERSATION.column, TS.column, ACTOR.column
    t.require_present(CONVERSATION, purpose="every event needs its conversation")
    questions = []
    if rule.question_types:
        questions.append(f"{TYPE.column} IN {sql_list(rule.question_types)}")
    if rule.question_patterns:
        matches = _pattern_sql(rule, t, rule.question_patterns, TEXT.column)
        questions.append(f"({actor} = 'customer' AND {matches})")
    disclosures = []
    if rule.disclosure_types:
        disclosures.append(f"{TYPE.column} IN {sql_list(rule.disclosure_types)}")
    if rule.disclosure_patterns:
        disclosures.append(f"({actor} IN ('bot', 'system') AND {_disclosure_sql(rule, t)})")
    columns = [role.column for role in transparency_roles(rule)[rule.dataset]]
    dialect = t.dialect
    reply_join = dialect.asof_left_join(
        "q", "rep", equal=[("q.conv", "rep.conv")], on="q.after <= rep.ts"
    )
    disclosure_join = dialect.asof_left_join(
        "m", "dis", equal=[("m.conv", "dis.conv")], on="m.after <= dis.ts"
    )
    first_failure = _first_failure(dialect, ["reason", "asked_at", "replied_at"])

    def field(name: str) -> str:
        return dialect.struct_field("first_failure", name)

    sql = f"""
        WITH e AS (SELECT DISTINCT {", ".join(columns)} FROM {t.table}),
        r AS (
          SELECT {conv} AS conv, {ts} AS ts, {actor} AS actor,
                 {_any(questions)} AS is_question, {_any(disclosures)} AS is_disclosure
          FROM e),
        u AS (
          SELECT DISTINCT conv FROM r WHERE ts IS NULL AND actor IN ('bot', 'human')),
        q AS (
          SELECT r.conv, r.ts AS asked_at, r.ts + {dialect.microseconds(1)} AS after,
                 CASE WHEN u.conv IS NULL THEN 0 ELSE 1 END AS untimed
          FROM r LEFT JOIN u ON r.conv = u.conv WHERE r.is_question),
        rep AS (
          SELECT conv, ts, max(CASE WHEN actor = 'bot' THEN 1 ELSE 0 END) AS bot
          FROM r WHERE actor IN ('bot', 'human') AND ts IS NOT NULL GROUP BY conv, ts),
        dis AS (SELECT DISTINCT conv, ts FROM r WHERE is_disclosure AND ts IS NOT NULL),
        m AS (
          SELECT q.conv, q.asked_at, q.after, q.untimed, rep.ts AS replied_at, rep.bot
          FROM {reply_join}),
        v AS (
          SELECT m.conv, m.asked_at, CASE WHEN m.untimed = 0 THEN m.replied_at END AS replied_at,
            CASE WHEN m.asked_at IS NULL OR m.untimed = 1 THEN 'missing_timestamp'
                 WHEN m.replied_at IS NULL THEN 'no_reply'
                 WHEN m.bot = 1 AND (dis.ts IS NULL OR dis.ts > m.replied_at)
                 THEN 'not_disclosed_on_request' END AS reason
          FROM {disclosure_join}),
        c AS (SELECT conv, {first_failure} AS first_failure FROM v GROUP BY conv)
        SELECT conv AS _id, true AS _applies, false AS _conflict,
               {field("reason")} AS _reason,
               {field("asked_at")} AS asked_at,
               {field("replied_at")} AS replied_at
        FROM c"""

    def message(reason: str, row: Mapping[str, Any]) -> str:
        if reason == "missing_timestamp" and row["asked_at"] is None:
            return "a question whether the customer talks to a machine has no timestamp"
        asked = fmt_time(row["asked_at"])
        if reason == "missing_timestamp":
            return (
                f"asked at {asked} whether they talk to a machine; a bot or person message "
                "has no timestamp, so which one replied first is not known"
            )
        if reason == "no_reply":
            return f"asked at {asked} whether they talk to a machine; nobody replied"
        return (
            f"asked at {asked} whether they talk to a machine; the bot's reply at "
            f"{fmt_time(row['replied_at'])} did not say that it is automated"
        )

    verdicts = Verdicts(
        sql=sql,
        fields=["asked_at", "replied_at"],
        table=t,
        id_role=CONVERSATION,
        noun="conversations with a question whether the customer talks to a machine",
    )
    parameters: dict[str, Any] = {
        "question_types": rule.question_types,
        "question_patterns": f"{len(rule.question_patterns)} pattern(s)",
        "disclosure_types": rule.disclosure_types,
        "disclosure_patterns": f"{len(rule.disclosure_patterns)} pattern(s)",
        "denial_patterns": f"{len(rule.denial_patterns)} pattern(s)",
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


# -- periodic_reminder ----------------------------------------------------------------------


def _periodic_reminder(rule: PeriodicReminderRule, t: Rows) -> RuleResult:
    """No bot message later than ``every`` after the interaction began or its last reminder.

    The interaction begins at the conversation's first message (customer, bot or person), or,
    with ``new_session_after``, at the first message after a longer pause. A reminder at the
    same instant as a bot message counts for it. Of known minors, only the rows on which
    ``minor`` is true count: before the operator knew, no reminder was owed.
    """
    conv, ts, actor = CONVERSATION.column, TS.column, ACTOR.column
    t.require_present(CONVERSATION, purpose="every event needs its conversation")
    minors = rule.conversations == "of_minors"
    if minors:
        t.require_present(
            MINOR,
            purpose="minor must say, on every row, whether the person is a known minor (where "
            "a missing value means not known to be one, map minor: \"coalesce(minor, 'false')\")",
        )
    reminders = []
    if rule.reminder_types:
        reminders.append(f"{TYPE.column} IN {sql_list(rule.reminder_types)}")
    if rule.reminder_patterns:
        said = [_pattern_sql(rule, t, rule.reminder_patterns, TEXT.column)]
        if rule.disclosure_patterns:
            said.append(_disclosure_sql(rule, t))
        reminders.append(f"({actor} IN ('bot', 'system') AND {' AND '.join(said)})")
    columns = [role.column for role in transparency_roles(rule)[rule.dataset]]
    dialect = t.dialect
    every = dialect.microseconds(int(rule.every.total_seconds()) * 1_000_000)
    messages = "actor IN ('bot', 'human', 'customer')"
    if rule.new_session_after is not None:
        pause = dialect.microseconds(int(rule.new_session_after.total_seconds()) * 1_000_000)
        # ties share an instant, so only the first row of an instant can follow a pause, and
        # the running sum (RANGE frame: an instant's rows together) numbers the sessions
        sessions = f"""
        g AS (
          SELECT conv, ts, actor, is_reminder,
            CASE WHEN ts > lag(ts) OVER (PARTITION BY conv ORDER BY ts) + {pause}
                 THEN 1 ELSE 0 END AS starts
          FROM m),
        k AS (
          SELECT conv, ts, actor, is_reminder,
                 sum(starts) OVER (PARTITION BY conv ORDER BY ts) AS session
          FROM g),"""
    else:
        sessions = """
        k AS (SELECT conv, ts, actor, is_reminder, 0 AS session FROM m),"""
    late = dialect.first_by(
        dialect.struct(
            {"began_at": "began_at", "reminded_at": "reminded_at", "message_at": "message_at"}
        ),
        dialect.epoch_us("message_at"),
        "true",
    )

    def field(name: str) -> str:
        return f"CASE WHEN NOT s.untimed THEN {dialect.struct_field('f.late', name)} END"

    sql = f"""
        WITH e AS (SELECT DISTINCT {", ".join(columns)} FROM {t.table}),
        r AS (
          SELECT {conv} AS conv, {ts} AS ts, {actor} AS actor, {_any(reminders)} AS is_reminder
          FROM e{f" WHERE {MINOR.column}" if minors else ""}),
        s AS (
          SELECT conv, bool_or(ts IS NULL AND ({messages} OR is_reminder)) AS untimed
          FROM r GROUP BY conv HAVING bool_or(actor = 'bot')),
        m AS (
          SELECT r.conv, r.ts, r.actor, r.is_reminder
          FROM r JOIN s ON r.conv = s.conv
          WHERE r.ts IS NOT NULL AND ({messages} OR r.is_reminder)),{sessions}
        w AS (
          SELECT conv, ts, actor,
                 min(ts) OVER (PARTITION BY conv, session) AS began_at,
                 max(CASE WHEN is_reminder THEN ts END)
                   OVER (PARTITION BY conv, session ORDER BY ts) AS reminded_at
          FROM k),
        v AS (
          SELECT conv, ts AS message_at, began_at, reminded_at
          FROM w WHERE actor = 'bot' AND ts > coalesce(reminded_at, began_at) + {every}),
        f AS (SELECT conv, {late} AS late FROM v GROUP BY conv)
        SELECT s.conv AS _id, true AS _applies, false AS _conflict,
          CASE WHEN s.untimed THEN 'missing_timestamp'
               WHEN f.conv IS NOT NULL THEN 'reminder_overdue' END AS _reason,
          {field("began_at")} AS began_at,
          {field("reminded_at")} AS reminded_at,
          {field("message_at")} AS bot_message_at
        FROM s LEFT JOIN f ON s.conv = f.conv"""
    limit = format_duration(rule.every)
    # the first row of a known minor may come after the conversation's first: say whose
    of_whom = "with a user known to be a minor " if minors else ""

    def message(reason: str, row: Mapping[str, Any]) -> str:
        if reason == "missing_timestamp":
            return (
                "a message or a reminder has no timestamp, so the time since the last reminder "
                "is not known"
            )
        began, wrote = fmt_time(row["began_at"]), fmt_time(row["bot_message_at"])
        since = row["reminded_at"] if row["reminded_at"] is not None else row["began_at"]
        waited = format_duration(row["bot_message_at"] - since)
        if row["reminded_at"] is None:
            return (
                f"the interaction {of_whom}began at {began}; the bot wrote at {wrote}, {waited} "
                f"later (limit {limit}), with no reminder yet"
            )
        return (
            f"the last reminder came at {fmt_time(row['reminded_at'])}; the bot wrote at "
            f"{wrote}, {waited} later (limit {limit}), with no new reminder (the interaction "
            f"{of_whom}began at {began})"
        )

    verdicts = Verdicts(
        sql=sql,
        fields=["began_at", "reminded_at", "bot_message_at"],
        table=t,
        id_role=CONVERSATION,
        noun="conversations of known minors with a bot" if minors else "conversations with a bot",
    )
    parameters: dict[str, Any] = {
        "every": limit,
        "conversations": rule.conversations,
        "new_session_after": (
            format_duration(rule.new_session_after) if rule.new_session_after else None
        ),
        "reminder_types": rule.reminder_types,
        "reminder_patterns": f"{len(rule.reminder_patterns)} pattern(s)",
        "disclosure_patterns": f"{len(rule.disclosure_patterns)} pattern(s)",
        "denial_patterns": f"{len(rule.denial_patterns)} pattern(s)",
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


# -- crisis_referral ------------------------------------------------------------------------


def _crisis_referral(rule: CrisisReferralRule, t: Rows) -> RuleResult:
    """Each message expressing self-harm is followed by a referral, by the next reply.

    The referral must come at or after the message and at or before the first bot or human
    message strictly after it; with no reply yet, at any time after it. A bot or human message
    or a referral without a time may have been either, so it fails its conversation.
    """
    conv, ts, actor = CONVERSATION.column, TS.column, ACTOR.column
    t.require_present(CONVERSATION, purpose="every event needs its conversation")
    risks = []
    if rule.risk_types:
        risks.append(f"{TYPE.column} IN {sql_list(rule.risk_types)}")
    if rule.risk_patterns:
        matches = _pattern_sql(rule, t, rule.risk_patterns, TEXT.column)
        risks.append(f"({actor} = 'customer' AND {matches})")
    referrals = []
    if rule.referral_types:
        referrals.append(f"{TYPE.column} IN {sql_list(rule.referral_types)}")
    if rule.referral_patterns:
        matches = _pattern_sql(rule, t, rule.referral_patterns, TEXT.column)
        referrals.append(f"({actor} IN ('bot', 'human', 'system') AND {matches})")
    columns = [role.column for role in transparency_roles(rule)[rule.dataset]]
    dialect = t.dialect
    reply_join = dialect.asof_left_join(
        "q", "rep", equal=[("q.conv", "rep.conv")], on="q.after <= rep.ts"
    )
    referral_join = dialect.asof_left_join(
        "m", "ref", equal=[("m.conv", "ref.conv")], on="m.risk_at <= ref.ts"
    )
    first_failure = _first_failure(dialect, ["reason", "risk_at", "replied_at", "referred_at"])

    def field(name: str) -> str:
        return dialect.struct_field("first_failure", name)

    # u: the conversations in which a reply or referral of no time leaves the first of them
    # unknown (a grouped list, not a window over every row: the window cost 4x the floor)
    sql = f"""
        WITH e AS (SELECT DISTINCT {", ".join(columns)} FROM {t.table}),
        r AS (
          SELECT {conv} AS conv, {ts} AS ts, {actor} AS actor,
                 {_any(risks)} AS is_risk, {_any(referrals)} AS is_referral
          FROM e),
        u AS (
          SELECT DISTINCT conv FROM r
          WHERE ts IS NULL AND (actor IN ('bot', 'human') OR is_referral)),
        q AS (
          SELECT r.conv, r.ts AS risk_at, r.ts + {dialect.microseconds(1)} AS after,
                 CASE WHEN u.conv IS NULL THEN 0 ELSE 1 END AS untimed
          FROM r LEFT JOIN u ON r.conv = u.conv WHERE r.is_risk),
        rep AS (
          SELECT DISTINCT conv, ts FROM r WHERE actor IN ('bot', 'human') AND ts IS NOT NULL),
        ref AS (SELECT DISTINCT conv, ts FROM r WHERE is_referral AND ts IS NOT NULL),
        m AS (
          SELECT q.conv, q.risk_at, q.untimed, rep.ts AS replied_at
          FROM {reply_join}),
        v AS (
          SELECT m.conv, m.risk_at,
            CASE WHEN m.untimed = 0 THEN m.replied_at END AS replied_at,
            CASE WHEN m.untimed = 0 THEN ref.ts END AS referred_at,
            CASE WHEN m.risk_at IS NULL OR m.untimed = 1 THEN 'missing_timestamp'
                 WHEN ref.ts IS NULL THEN 'not_referred'
                 WHEN m.replied_at IS NOT NULL AND ref.ts > m.replied_at
                 THEN 'referred_late' END AS reason
          FROM {referral_join}),
        c AS (SELECT conv, {first_failure} AS first_failure FROM v GROUP BY conv)
        SELECT conv AS _id, true AS _applies, false AS _conflict,
               {field("reason")} AS _reason,
               {field("risk_at")} AS risk_at,
               {field("replied_at")} AS replied_at,
               {field("referred_at")} AS referred_at
        FROM c"""

    def message(reason: str, row: Mapping[str, Any]) -> str:
        if reason == "missing_timestamp" and row["risk_at"] is None:
            return "a message expressing thoughts of self-harm has no timestamp"
        said = fmt_time(row["risk_at"])
        if reason == "missing_timestamp":
            return (
                f"thoughts of self-harm expressed at {said}; a reply or referral has no "
                "timestamp, so the referral cannot be shown to come by the reply"
            )
        if reason == "not_referred":
            if row["replied_at"] is None:
                return (
                    f"thoughts of self-harm expressed at {said}; no referral to a crisis "
                    "service followed"
                )
            return (
                f"thoughts of self-harm expressed at {said}; the reply at "
                f"{fmt_time(row['replied_at'])} and everything after it gave no referral to a "
                "crisis service"
            )
        return (
            f"thoughts of self-harm expressed at {said}; the reply at "
            f"{fmt_time(row['replied_at'])} came before any referral to a crisis service "
            f"(first at {fmt_time(row['referred_at'])})"
        )

    verdicts = Verdicts(
        sql=sql,
        fields=["risk_at", "replied_at", "referred_at"],
        table=t,
        id_role=CONVERSATION,
        noun="conversations in which a person expressed thoughts of self-harm",
    )
    parameters: dict[str, Any] = {
        "risk_types": rule.risk_types,
        "risk_patterns": f"{len(rule.risk_patterns)} pattern(s)",
        "referral_types": rule.referral_types,
        "referral_patterns": f"{len(rule.referral_patterns)} pattern(s)",
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


# -- notice_before_decision -----------------------------------------------------------------


def _notice_extras(rule: NoticeBeforeDecisionRule) -> list[Role]:
    return [
        r
        for r in dict.fromkeys(Role(f, "text") for f in rule.finding_fields)
        if r not in (TYPE, SUBJECT)
    ]


def _notice_before_decision(rule: NoticeBeforeDecisionRule, t: Rows) -> RuleResult:
    scope = f"{TYPE.column} IN {sql_list(rule.decision_types)}"
    t.require_present(
        EVENT, where=scope, raw_where=_raw(t, scope),
        purpose="every covered decision needs an id to be reported",
    )  # fmt: skip
    extras = _notice_extras(rule)
    records, values = _records_sql(t, EVENT, [SUBJECT, TS, TYPE, *extras], scope)
    alias = dict(values)
    dialect = t.dialect
    join = dialect.asof_left_join(
        "d", "n", equal=[("d.subject_id", "n.subject_id")], on="d.decided_at >= n.noticed_at"
    )
    too_old = "false"
    if rule.within is not None:
        micros = int(rule.within.total_seconds()) * 1_000_000
        too_old = f"decided_at > noticed_at + {dialect.microseconds(micros)}"
    extra_cols = "".join(f", {alias[r]} AS {quote_ident(r.name)}" for r in extras)
    sql = f"""
        WITH d AS (
          SELECT _id, _conflict, {alias[SUBJECT]} AS subject_id, {alias[TS]} AS decided_at,
                 {alias[TYPE]} AS type{extra_cols}
          FROM ({records}) AS _records),
        n AS (
          SELECT DISTINCT {SUBJECT.column} AS subject_id, {TS.column} AS noticed_at
          FROM {t.table}
          WHERE {TYPE.column} IN {sql_list(rule.notice_types)}
            AND {SUBJECT.column} IS NOT NULL AND {TS.column} IS NOT NULL)
        SELECT d.*, n.noticed_at, true AS _applies,
          CASE WHEN d.subject_id IS NULL THEN 'missing_subject'
               WHEN decided_at IS NULL THEN 'missing_timestamp'
               WHEN noticed_at IS NULL THEN 'no_notice'
               WHEN {too_old} THEN 'notice_too_old' END AS _reason
        FROM {join}"""
    notices = ", ".join(rule.notice_types)

    def message(reason: str, row: Mapping[str, Any]) -> str:
        decided = fmt_time(row["decided_at"])
        if reason == "missing_subject":
            return "the decision names no subject, so no notice to them can be shown"
        if reason == "missing_timestamp":
            return "the decision has no timestamp, so no notice can be shown to come before it"
        if reason == "no_notice":
            return f"decided at {decided} with no notice ({notices}) to the subject before it"
        assert rule.within is not None
        return (
            f"decided at {decided}; the last notice to the subject was at "
            f"{fmt_time(row['noticed_at'])}, more than {format_duration(rule.within)} before"
        )

    verdicts = Verdicts(
        sql=sql,
        fields=["subject_id", "type", "decided_at", "noticed_at", *(r.name for r in extras)],
        table=t,
        id_role=EVENT,
        noun="covered decisions",  # each law its own term: consequential, significant, ...
    )
    parameters: dict[str, Any] = {
        "decision_types": rule.decision_types,
        "notice_types": rule.notice_types,
        "within": format_duration(rule.within) if rule.within is not None else None,
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


# -- pricing_disclosed ----------------------------------------------------------------------


def _pricing_shown(rule: PricingDisclosedRule) -> list[Role]:
    """Return the roles of a price event shown in findings besides its text."""
    shown = [TYPE] if rule.event_types else []
    extras = [Role(f, "text") for f in rule.finding_fields if f != TEXT.name]
    return list(dict.fromkeys([*shown, *extras]))


def _pricing_scopes(rule: PricingDisclosedRule) -> tuple[str, str]:
    """Return the SQL scopes: prices shown (by type), and of those the personalised ones."""
    typed = f"{TYPE.column} IN {sql_list(rule.event_types)}" if rule.event_types else "true"
    if rule.all_personalized:
        return typed, typed
    return typed, f"({typed}) AND {PERSONALIZED.column}"


def _pricing_disclosed(rule: PricingDisclosedRule, t: Rows) -> RuleResult:
    typed, scope = _pricing_scopes(rule)
    if not rule.all_personalized:
        t.require_present(
            PERSONALIZED, where=typed, raw_where=_raw(t, typed),
            purpose="personalized must say, for every price shown, whether personal data set it",
        )  # fmt: skip
    t.require_present(
        EVENT, where=scope, raw_where=_raw(t, scope),
        purpose="every personalised price shown needs an id to be reported",
    )  # fmt: skip
    shown = _pricing_shown(rule)
    records, values = _records_sql(t, EVENT, [TEXT, *shown], scope)
    alias = dict(values)
    matches = _pattern_sql(rule, t, [rule.disclosure_pattern], alias[TEXT])
    extra_cols = "".join(f", {alias[r]} AS {quote_ident(r.name)}" for r in shown)
    sql = f"""
        SELECT _id, true AS _applies, _conflict,
          CASE WHEN NOT {matches} THEN 'not_disclosed' END AS _reason,
          {alias[TEXT]} AS text{extra_cols}
        FROM ({records}) AS _records"""

    def message(reason: str, row: Mapping[str, Any]) -> str:
        what = f"{row['type']} " if row.get("type") else ""
        if row["text"] is None or not str(row["text"]).strip():
            return f"a personalised {what}price was shown with no disclosure text at all"
        return (
            f"a personalised {what}price was shown without the statement {rule.disclosure_text!r}"
        )

    verdicts = Verdicts(
        sql=sql,
        fields=["text", *(r.name for r in shown)],
        table=t,
        id_role=EVENT,
        noun="personalised prices shown",
    )
    parameters: dict[str, Any] = {
        "disclosure_text": rule.disclosure_text,
        "event_types": rule.event_types or None,
        "all_personalized": rule.all_personalized,
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


def explain_transparency(rule: TransparencyRule, pack: PolicyPack | None = None) -> str:
    """Return one paragraph saying what a transparency check checks, in plain words."""
    where = f"the evidence '{rule.dataset}'"
    if isinstance(rule, BotDisclosureRule):
        when = (
            "at or before the conversation's first message (the customer's, a bot's or a "
            "person's), so before the customer writes anything"
            if rule.before == "first_message"
            else "at or before the bot's first message"
        )
        return (
            f"Every conversation in {where} in which a bot speaks must say that the customer is "
            f"dealing with an automated system, {when}."
        )
    if isinstance(rule, HumanHandoffRule):
        limit = (
            f"within {rule.within_turns} later event(s)"
            if rule.within_turns
            else f"within {format_duration(rule.window)}"
            if rule.window
            else ""
        )
        return (
            f"When a customer in {where} asks for a person, a person must join the conversation "
            f"{limit}."
        )
    if isinstance(rule, DecisionExplainedRule):
        which = f"of type {', '.join(rule.event_types)}" if rule.event_types else "(every row)"
        return (
            f"Every automated decision {which} in {where} must carry an explanation people "
            f"can read (at least {rule.min_length} character(s), not a placeholder such as "
            "'n/a')."
        )
    if isinstance(rule, AiContentLabeledRule):
        return (
            f"Every piece of AI-generated content in {where} must carry the label that says "
            "it was generated by AI."
        )
    if isinstance(rule, PricingDisclosedRule):
        which = "every price shown" if rule.all_personalized else "every personalised price"
        kinds = f" ({', '.join(rule.event_types)})" if rule.event_types else ""
        return (
            f'In {where}, {which}{kinds} must be shown with the statement "{rule.disclosure_text}".'
        )
    if isinstance(rule, DisclosedOnRequestRule):
        return (
            f"When a customer in {where} asks whether they are talking to a person or a "
            "machine, the next reply must come, and if a bot gives it, it must say (at or "
            "before that reply) that the customer is dealing with an automated system."
        )
    if isinstance(rule, PeriodicReminderRule):
        whose = "of a known minor " if rule.conversations == "of_minors" else ""
        pause = (
            f" (a pause of more than {format_duration(rule.new_session_after)} ends it)"
            if rule.new_session_after is not None
            else ""
        )
        also = (
            " and that it is not a person"
            if rule.reminder_patterns and rule.disclosure_patterns
            else ""
        )
        known = (
            " (or the user became known to be a minor)" if rule.conversations == "of_minors" else ""
        )
        return (
            f"In every conversation {whose}with a bot in {where}, the bot may not write more "
            f"than {format_duration(rule.every)} after the interaction began{known}{pause} or "
            f"after the last reminder without a new reminder to take a break{also}."
        )
    if isinstance(rule, CrisisReferralRule):
        return (
            f"When a person in {where} expresses thoughts of suicide or self-harm, a referral "
            "to a crisis service (such as 988) must follow, at or before the next reply by a "
            "bot or a person."
        )
    if isinstance(rule, NoticeBeforeDecisionRule):
        window = (
            f", at most {format_duration(rule.within)} before it" if rule.within is not None else ""
        )
        return (
            f"Every covered decision ({', '.join(rule.decision_types)}) in {where} must "
            f"come after a notice ({', '.join(rule.notice_types)}) to the same person, at or "
            f"before the decision{window}."
        )
    raise TypeError(f"unknown transparency check {rule!r}")  # pragma: no cover


def _id_checks(rule: TransparencyRule) -> list[BuiltinCheck]:
    """Return the checks of the ids a check requires, with the check's own scope.

    ``record`` lists the roles the check compares to tell a repeated record (same values: one
    record) from two records sharing an id (the dialect's ``unique_records``).
    """
    if isinstance(rule, PeriodicReminderRule) and rule.conversations == "of_minors":
        return [
            BuiltinCheck("present", CONVERSATION.name, read_as="key"),
            BuiltinCheck("present", MINOR.name, read_as="flag"),
        ]
    if isinstance(
        rule,
        (
            BotDisclosureRule,
            HumanHandoffRule,
            DisclosedOnRequestRule,
            PeriodicReminderRule,
            CrisisReferralRule,
        ),
    ):
        return [BuiltinCheck("present", CONVERSATION.name, read_as="key")]
    if isinstance(rule, PricingDisclosedRule):
        scope: tuple[Scope, ...] = (
            (Scope(TYPE.name, "text", tuple(rule.event_types)),) if rule.event_types else ()
        )
        checks = []
        if not rule.all_personalized:
            checks.append(BuiltinCheck("present", PERSONALIZED.name, read_as="flag", scope=scope))
            scope = (*scope, Scope(PERSONALIZED.name, "flag"))
        record = tuple(dict.fromkeys([TEXT, *_pricing_shown(rule)]))
        return [
            *checks,
            BuiltinCheck("present", EVENT.name, read_as="key", scope=scope),
            BuiltinCheck("unique_id", EVENT.name, read_as="key", scope=scope, record=record),
        ]
    if isinstance(rule, NoticeBeforeDecisionRule):
        decisions = (Scope(TYPE.name, "text", tuple(rule.decision_types)),)
        record = tuple(dict.fromkeys([SUBJECT, TS, TYPE, *_notice_extras(rule)]))
        return [
            BuiltinCheck("present", EVENT.name, read_as="key", scope=decisions),
            BuiltinCheck("unique_id", EVENT.name, read_as="key", scope=decisions, record=record),
        ]
    typed: tuple[Scope, ...] = ()
    if isinstance(rule, (DecisionExplainedRule, AiContentLabeledRule)) and rule.event_types:
        typed = (Scope(TYPE.name, "text", tuple(rule.event_types)),)
    if isinstance(rule, DecisionExplainedRule):
        extras = [Role(f, "text") for f in rule.finding_fields if f != EXPLANATION.name]
        record = tuple(dict.fromkeys([EXPLANATION, *extras]))
        return [
            BuiltinCheck("present", DECISION.name, read_as="key", scope=typed),
            BuiltinCheck("unique_id", DECISION.name, read_as="key", scope=typed, record=record),
        ]
    assert isinstance(rule, AiContentLabeledRule)
    checks = []
    scope = typed
    if not rule.all_generated:
        checks.append(BuiltinCheck("present", AI_GENERATED.name, read_as="flag", scope=typed))
        scope = (*typed, Scope(AI_GENERATED.name, "flag"))
    shown = ([TYPE] if rule.event_types else []) + [Role(f, "text") for f in rule.finding_fields]
    record = tuple(dict.fromkeys([AI_LABEL, *shown]))
    return [
        *checks,
        BuiltinCheck("present", EVENT.name, read_as="key", scope=scope),
        BuiltinCheck("unique_id", EVENT.name, read_as="key", scope=scope, record=record),
    ]


class TransparencyKind(KindBase):
    """Transparency: disclosure, hand-off, explanations and AI labels over event logs."""

    name = "transparency"
    model = TransparencyCheck

    def roles(self, rule: Any) -> dict[str, list[Role]]:
        """Return the roles the check reads from its log."""
        return transparency_roles(rule)

    def evaluate(self, rule: Any, inputs: AuditInputs) -> RuleResult:
        """Evaluate the check on the typed rows of its log."""
        return evaluate_transparency(rule, inputs.rows)

    def explain(self, rule: Any, pack: PolicyPack | None) -> str:
        """Return what the check checks, in plain words."""
        return explain_transparency(rule, pack)

    def builtin_checks(self, rule: Any) -> list[tuple[str, BuiltinCheck]]:
        """Return the role checks, and the checks of the ids the check requires."""
        return [*role_checks(self.roles(rule)), *((rule.dataset, c) for c in _id_checks(rule))]
