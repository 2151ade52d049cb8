"""Transparency checks over conversation and event logs, each one DuckDB query.

Events are ordered by their timestamp only: events logged at the same instant are simultaneous
(a disclosure at the same instant as the first bot message is "at" it). Exact duplicate events
count once. A missing timestamp never helps a record pass: see docs/rules-logs.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ethicsgate.errors import PolicyError
from ethicsgate.evidence.reader import _quote_ident, _sql_literal
from ethicsgate.evidence.rows import Role, RowsTable, check_patterns, require_present
from ethicsgate.policy.fields import format_duration
from ethicsgate.policy.models import (
    AiContentLabeledRule,
    BotDisclosureRule,
    DecisionExplainedRule,
    HumanHandoffRule,
    TransparencyRule,
)
from ethicsgate.rules.records import (
    Verdicts,
    blank_sql,
    fmt_time,
    sql_list,
    summarize,
    trim_sql,
    unique_records_sql,
)
from ethicsgate.rules.results import RuleResult

if TYPE_CHECKING:
    import duckdb

__all__ = ["evaluate_transparency", "transparency_roles"]

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
    else:  # pragma: no cover - the policy models admit no other check
        raise TypeError(f"unknown transparency check {rule!r}")
    return {rule.dataset: roles}


def evaluate_transparency(
    con: duckdb.DuckDBPyConnection, rule: TransparencyRule, tables: Mapping[str, RowsTable]
) -> RuleResult:
    """Evaluate a transparency rule on the rows of its dataset.

    Raises:
        EvidenceError: a record has no id, a needed flag is missing, or two rows share an id.
        PolicyError: a text pattern is not valid in DuckDB's regular expression engine.
    """
    table = tables[rule.dataset]
    if isinstance(rule, BotDisclosureRule):
        return _bot_disclosure(con, rule, table)
    if isinstance(rule, HumanHandoffRule):
        return _human_handoff(con, rule, table)
    if isinstance(rule, DecisionExplainedRule):
        return _decision_explained(con, rule, table)
    if isinstance(rule, AiContentLabeledRule):
        return _ai_content_labeled(con, rule, table)
    raise TypeError(f"unknown transparency check {rule!r}")  # pragma: no cover


def _pattern_sql(
    con: duckdb.DuckDBPyConnection, rule: TransparencyRule, patterns: list[str], text: str
) -> str:
    bad, why = check_patterns(con, patterns)
    if bad:
        raise PolicyError(
            f"rule {rule.id!r}: pattern {bad!r} is not valid in DuckDB's regular expressions "
            f"(RE2): {why}",
            hint="simplify the pattern; RE2 syntax is described at "
            "https://github.com/google/re2/wiki/Syntax",
        )
    combined = "|".join(f"(?:{p})" for p in patterns)
    return f"coalesce(regexp_matches({text}, {_sql_literal(combined)}, 'i'), false)"


def _any(conditions: list[str]) -> str:
    return "(" + " OR ".join(conditions) + ")" if conditions else "false"


# -- bot_disclosure -------------------------------------------------------------------------


def _bot_disclosure(
    con: duckdb.DuckDBPyConnection, rule: BotDisclosureRule, t: RowsTable
) -> RuleResult:
    conv, ts, actor = CONVERSATION.column, TS.column, ACTOR.column
    require_present(con, t, CONVERSATION, purpose="every event needs its conversation")
    conditions = []
    if rule.disclosure_types:
        conditions.append(f"{TYPE.column} IN {sql_list(rule.disclosure_types)}")
    if rule.disclosure_patterns:
        matches = _pattern_sql(con, rule, rule.disclosure_patterns, TEXT.column)
        conditions.append(f"({actor} IN ('bot', 'system') AND {matches})")
    disclosure = _any(conditions)
    first_bot = f"min({ts}) FILTER (WHERE {actor} = 'bot')"
    disclosed = f"min({ts}) FILTER (WHERE {disclosure})"
    sql = f"""
        SELECT {conv} AS _id, bool_or({actor} = 'bot') AS _applies, false AS _conflict,
          CASE WHEN bool_or({actor} = 'bot' AND {ts} IS NULL) THEN 'missing_timestamp'
               WHEN {disclosed} IS NULL THEN 'not_disclosed'
               WHEN {disclosed} > {first_bot} THEN 'disclosed_late' END AS _reason,
          {first_bot} AS first_bot_at, {disclosed} AS disclosed_at
        FROM {t.table} GROUP BY {conv}"""

    def message(reason: str, row: Mapping[str, Any]) -> str:
        if reason == "missing_timestamp":
            return "a bot message has no timestamp, so no disclosure can be shown to come first"
        if reason == "not_disclosed":
            return (
                f"a bot wrote (first at {fmt_time(row['first_bot_at'])}) but the conversation "
                "never discloses that it is automated"
            )
        return (
            f"the first bot message came at {fmt_time(row['first_bot_at'])}, the disclosure "
            f"only at {fmt_time(row['disclosed_at'])}"
        )

    verdicts = Verdicts(
        sql=sql,
        fields=["first_bot_at", "disclosed_at"],
        table=t,
        id_role=CONVERSATION,
        noun="conversations with a bot message",
    )
    parameters = {
        "disclosure_types": rule.disclosure_types,
        "disclosure_patterns": f"{len(rule.disclosure_patterns)} pattern(s)",
    }
    return summarize(con, rule, verdicts, messages=message, parameters=parameters)


# -- human_handoff --------------------------------------------------------------------------


def _human_handoff(
    con: duckdb.DuckDBPyConnection, rule: HumanHandoffRule, t: RowsTable
) -> RuleResult:
    conv, ts, actor = CONVERSATION.column, TS.column, ACTOR.column
    require_present(con, t, CONVERSATION, purpose="every event needs its conversation")
    requests = []
    if rule.request_types:
        requests.append(f"{TYPE.column} IN {sql_list(rule.request_types)}")
    if rule.request_patterns:
        matches = _pattern_sql(con, rule, rule.request_patterns, TEXT.column)
        requests.append(f"({actor} = 'customer' AND {matches})")
    humans = [f"{actor} = 'human'"]
    if rule.human_join_types:
        humans.append(f"{TYPE.column} IN {sql_list(rule.human_join_types)}")
    # exact duplicates over the roles this rule reads (the table may hold more, for others)
    columns = [role.column for role in transparency_roles(rule)[rule.dataset]]
    window = rule.window
    if window is not None:
        micros = int(window.total_seconds()) * 1_000_000
        answered = f"human_joined_at <= requested_at + to_microseconds({micros})"
        turns = "NULL AS lt, NULL AS le"  # no need to sort every conversation's events
    else:
        order = f"OVER (PARTITION BY {conv} ORDER BY {ts} ASC NULLS LAST)"
        turns = f"rank() {order} - 1 AS lt, count(*) {order} AS le"
        # h_lt: events before the human's instant; r_le: events up to the request's instant.
        # The human joined within N turns when fewer than N events lie strictly between.
        answered = f"h_lt - r_le < {int(rule.within_turns or 1)}"
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
          FROM req ASOF LEFT JOIN hum ON req.conv = hum.conv AND req.ts <= hum.ts),
        v AS (
          SELECT conv, requested_at, human_joined_at,
            CASE WHEN requested_at IS NULL THEN 'missing_timestamp'
                 WHEN human_joined_at IS NULL THEN 'not_answered'
                 WHEN NOT ({answered}) THEN 'answered_late' END AS reason
          FROM m),
        c AS (
          SELECT conv,
            arg_min({{'reason': reason, 'requested_at': requested_at,
                      'human_joined_at': human_joined_at}},
                    coalesce(epoch_us(requested_at), -9223372036854775807))
              FILTER (WHERE reason IS NOT NULL) AS first_failure
          FROM v GROUP BY conv)
        SELECT conv AS _id, true AS _applies, false AS _conflict,
               first_failure.reason AS _reason,
               first_failure.requested_at AS requested_at,
               first_failure.human_joined_at AS human_joined_at
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
    return summarize(con, rule, verdicts, messages=message, parameters=parameters)


# -- decision_explained and ai_content_labeled: one verdict per event id ---------------------


def _records_sql(
    t: RowsTable, key: Role, roles: list[Role], where: str
) -> tuple[str, list[tuple[Role, str]]]:
    """Return SQL collapsing rows to one per id (with a conflict flag) and the value columns."""
    values = [(r, f"v{i}") for i, r in enumerate(roles) if r != key]
    sql = unique_records_sql(t.table, key.column, [(r.column, a) for r, a in values], where=where)
    return sql, values


def _raw(t: RowsTable, condition: str) -> str:
    """Rewrite a condition over table columns into one over the raw files (for locating)."""
    for role in t.roles:
        condition = condition.replace(role.column, f"({t.raw[role]})")
    return condition


def _decision_explained(
    con: duckdb.DuckDBPyConnection, rule: DecisionExplainedRule, t: RowsTable
) -> RuleResult:
    scope = f"{TYPE.column} IN {sql_list(rule.event_types)}" if rule.event_types else "true"
    require_present(
        con, t, DECISION, where=scope, raw_where=_raw(t, scope),
        purpose="every automated decision needs an id to be reported",
    )  # fmt: skip
    extras = [Role(f, "text") for f in rule.finding_fields if f != EXPLANATION.name]
    records, values = _records_sql(t, DECISION, [EXPLANATION, *extras], scope)
    alias = dict(values)
    expl = alias[EXPLANATION]
    trimmed = trim_sql(expl)
    placeholders = sorted({p.strip(" \t\n\r\x0b\x0c").lower() for p in rule.placeholders})
    extra_cols = "".join(f", {alias[r]} AS {_quote_ident(r.name)}" for r in extras)
    sql = f"""
        SELECT _id, true AS _applies, _conflict,
          CASE WHEN {blank_sql(expl)} THEN 'missing_explanation'
               WHEN lower({trimmed}) IN {sql_list(placeholders)} THEN 'placeholder_explanation'
               WHEN length({trimmed}) < {int(rule.min_length)} THEN 'explanation_too_short'
          END AS _reason,
          {expl} AS explanation{extra_cols}
        FROM ({records})"""

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
    return summarize(con, rule, verdicts, messages=message, parameters=parameters)


def _ai_content_labeled(
    con: duckdb.DuckDBPyConnection, rule: AiContentLabeledRule, t: RowsTable
) -> RuleResult:
    typed_scope = f"{TYPE.column} IN {sql_list(rule.event_types)}" if rule.event_types else "true"
    scope = typed_scope
    if not rule.all_generated:
        require_present(
            con, t, AI_GENERATED, where=typed_scope, raw_where=_raw(t, typed_scope),
            purpose="ai_generated must say, for all content in scope, whether it was generated",
        )  # fmt: skip
        scope = f"({typed_scope}) AND {AI_GENERATED.column}"
    require_present(
        con, t, EVENT, where=scope, raw_where=_raw(t, scope),
        purpose="every piece of generated content needs an id to be reported",
    )  # fmt: skip
    extras = [Role(f, "text") for f in rule.finding_fields]
    shown = list(dict.fromkeys(([TYPE] if rule.event_types else []) + extras))
    records, values = _records_sql(t, EVENT, [AI_LABEL, *shown], scope)
    alias = dict(values)
    extra_cols = "".join(f", {alias[r]} AS {_quote_ident(r.name)}" for r in shown)
    sql = f"""
        SELECT _id, true AS _applies, _conflict,
          CASE WHEN NOT {alias[AI_LABEL]} THEN 'unlabeled' END AS _reason{extra_cols}
        FROM ({records})"""

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
    return summarize(con, rule, verdicts, messages=message, parameters=parameters)
