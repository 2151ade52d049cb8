"""Consent checks: processing events joined as of their time with a consent ledger.

For each processing event of a purpose whose legal basis is consent, the ledger record that
decides is the latest one for the same subject and purpose granted at or before the event (a
DuckDB ``ASOF LEFT JOIN``). Consent is valid on ``[granted_at, min(withdrawn_at + grace,
expires_at))``: an event at the exact grant instant is covered, one at the exact withdrawal
(with no grace) or expiry instant is not. Ledger records for the same subject, purpose and grant
instant are merged, the earliest withdrawal and expiry winning. See docs/rules-logs.md. The
join is written with the engine's dialect (DuckDB's native ``ASOF LEFT JOIN``; engines
without one use their portable form).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ethicsgate.evidence.contracts import BuiltinCheck, Scope
from ethicsgate.evidence.engine import Rows
from ethicsgate.evidence.roles import Role
from ethicsgate.evidence.sql import quote_ident, sql_literal
from ethicsgate.policy.fields import format_duration
from ethicsgate.policy.models import (
    ConsentCheck,
    ConsentRule,
    ConsentValidRule,
    OptOutHonoredRule,
    PolicyPack,
    PurposeConsentRule,
    WithdrawalHonoredRule,
)
from ethicsgate.rules.kind import AuditInputs, KindBase, role_checks
from ethicsgate.rules.records import Verdicts, fmt_time, sql_list, summarize
from ethicsgate.rules.results import RuleResult

__all__ = ["ConsentKind", "consent_roles", "evaluate_consent", "explain_consent"]

EVENT = Role("event_id", "key")
SUBJECT = Role("subject_id", "ref")
PURPOSE = Role("purpose", "text")
TS = Role("ts", "timestamp")
GRANTED = Role("granted_at", "timestamp")
WITHDRAWN = Role("withdrawn_at", "timestamp")
EXPIRES = Role("expires_at", "timestamp")
TYPE = Role("type", "text")
LEDGER_FIELDS = ("granted_at", "withdrawn_at", "expires_at")


def consent_roles(rule: ConsentRule) -> dict[str, list[Role]]:
    """Return the roles a consent rule reads from the processing events and the ledger."""
    extras = [Role(f, "text") for f in rule.finding_fields]
    if isinstance(rule, OptOutHonoredRule):
        return {
            rule.dataset: list(dict.fromkeys([EVENT, SUBJECT, TS, *_opt_out_shown(rule)])),
            rule.ledger: [SUBJECT, PURPOSE, GRANTED, WITHDRAWN],
        }
    return {
        rule.dataset: [EVENT, SUBJECT, PURPOSE, TS, *extras],
        rule.ledger: [SUBJECT, PURPOSE, GRANTED, WITHDRAWN, EXPIRES],
    }


def consent_sql(rule: PurposeConsentRule, events: Rows, ledger: Rows) -> tuple[str, list[str]]:
    """Return the verdict query of a consent rule and its finding fields."""
    extras = [Role(f, "text") for f in rule.finding_fields]
    extra_values = [(r, f"x{i}") for i, r in enumerate(extras)]
    values = [(SUBJECT, "subject_id"), (PURPOSE, "purpose"), (TS, "ts"), *extra_values]
    dialect = events.dialect
    records = dialect.unique_records(
        events.table, EVENT.column, [(r.column, quote_ident(a)) for r, a in values]
    )
    same_type = events.is_integer(SUBJECT) == ledger.is_integer(SUBJECT)
    ev_subject = "ev.subject_id" if same_type else "CAST(ev.subject_id AS VARCHAR)"
    led_subject = SUBJECT.column if same_type else f"CAST({SUBJECT.column} AS VARCHAR)"
    basis = (
        "CASE purpose "
        + " ".join(
            f"WHEN {sql_literal(p)} THEN {sql_literal(b)}" for p, b in sorted(rule.purposes.items())
        )
        + " END"
    )
    # the ASOF join matches on an integer purpose code: about twice as fast as on text
    codes = {p: i for i, p in enumerate(rule.consent_purposes)}

    def code(expr: str) -> str:
        if not codes:
            return "CAST(NULL AS INTEGER)"
        cases = " ".join(f"WHEN {sql_literal(p)} THEN {i}" for p, i in codes.items())
        return f"CASE {expr} {cases} END"

    grace = int(rule.grace.total_seconds()) * 1_000_000
    withdrawn = f"withdrawn_at IS NOT NULL AND ts >= withdrawn_at + {dialect.microseconds(grace)}"
    if isinstance(rule, ConsentValidRule):
        checks = f"""WHEN granted_at IS NULL THEN 'no_consent'
               WHEN {withdrawn} THEN 'consent_withdrawn'
               WHEN expires_at IS NOT NULL AND ts >= expires_at THEN 'consent_expired'"""
    else:
        checks = f"WHEN {withdrawn} THEN 'consent_withdrawn'"
    undeclared = "true" if rule.undeclared_purposes == "violation" else "false"
    join = dialect.asof_left_join(
        "eb AS ev",
        "led",
        equal=[(ev_subject, "led.subject_id"), ("ev._purpose", "led._purpose")],
        on="ev.ts >= led.granted_at",
    )
    extra_cols = "".join(f", {quote_ident(a)} AS {quote_ident(r.name)}" for r, a in extra_values)
    sql = f"""
        WITH ev AS ({records}),
        eb AS (SELECT *, {basis} AS basis, {code("purpose")} AS _purpose FROM ev),
        led AS (
          SELECT {led_subject} AS subject_id, {code(PURPOSE.column)} AS _purpose,
                 {GRANTED.column} AS granted_at, min({WITHDRAWN.column}) AS withdrawn_at,
                 min({EXPIRES.column}) AS expires_at
          FROM {ledger.table}
          WHERE {SUBJECT.column} IS NOT NULL AND {GRANTED.column} IS NOT NULL
            AND {PURPOSE.column} IN {sql_list(rule.consent_purposes)}
          GROUP BY 1, 2, 3),
        j AS (
          SELECT ev.*, led.granted_at, led.withdrawn_at, led.expires_at
          FROM {join})
        SELECT _id, _conflict,
          (basis = 'consent' OR (basis IS NULL AND {undeclared})) AS _applies,
          CASE WHEN basis IS NULL THEN 'no_legal_basis'
               WHEN basis <> 'consent' THEN NULL
               WHEN subject_id IS NULL THEN 'missing_subject'
               WHEN ts IS NULL THEN 'missing_timestamp'
               {checks}
          END AS _reason,
          subject_id, purpose, ts, granted_at, withdrawn_at, expires_at{extra_cols}
        FROM j"""
    fields = ["subject_id", "purpose", "ts", *LEDGER_FIELDS, *(r.name for r in extras)]
    return sql, list(dict.fromkeys(fields))


def evaluate_consent(rule: ConsentRule, tables: Mapping[str, Rows]) -> RuleResult:
    """Evaluate a consent rule on its processing events and its consent ledger.

    Raises:
        EvidenceError: an event has no id, or two different events share one.
    """
    events, ledger = tables[rule.dataset], tables[rule.ledger]
    if isinstance(rule, OptOutHonoredRule):
        return _opt_out_honored(rule, events, ledger)
    assert isinstance(rule, PurposeConsentRule)
    events.require_present(EVENT, purpose="every processing event needs an id")
    sql, fields = consent_sql(rule, events, ledger)
    grace = format_duration(rule.grace)

    def message(reason: str, row: Mapping[str, Any]) -> str:
        at = fmt_time(row["ts"])
        if reason == "no_legal_basis":
            purpose = row["purpose"]
            named = "no purpose" if purpose is None else f"purpose {purpose!r}"
            return f"processing for {named}, which has no legal basis declared in the policy"
        if reason == "missing_subject":
            return "the event names no data subject, so consent cannot be checked"
        if reason == "missing_timestamp":
            return "the event has no timestamp, so consent at its time cannot be checked"
        if reason == "no_consent":
            return f"processed at {at} with no consent granted at or before that time"
        if reason == "consent_expired":
            return f"processed at {at}, after consent expired at {fmt_time(row['expires_at'])}"
        late = f" (grace {grace})" if rule.grace.total_seconds() else ""
        return (
            f"processed at {at}, after consent was withdrawn at "
            f"{fmt_time(row['withdrawn_at'])}{late}"
        )

    noun = "processing events that need consent"
    if rule.undeclared_purposes == "violation":
        noun += " or have no declared legal basis"
    verdicts = Verdicts(sql=sql, fields=fields, table=events, id_role=EVENT, noun=noun)
    parameters: dict[str, Any] = {
        "ledger": rule.ledger,
        "purposes": dict(sorted(rule.purposes.items())),
        "grace": grace,
        "undeclared_purposes": rule.undeclared_purposes,
    }
    if isinstance(rule, WithdrawalHonoredRule):
        parameters["checks"] = "withdrawal only"
    return summarize(rule, verdicts, messages=message, parameters=parameters)


def _opt_out_shown(rule: OptOutHonoredRule) -> list[Role]:
    """Return the roles of an event shown in findings besides its subject and time."""
    shown = [TYPE] if rule.event_types else []
    return list(dict.fromkeys([*shown, *(Role(f, "text") for f in rule.finding_fields)]))


def _opt_out_scope(rule: OptOutHonoredRule) -> str:
    return f"{TYPE.column} IN {sql_list(rule.event_types)}" if rule.event_types else "true"


def _opt_out_honored(rule: OptOutHonoredRule, events: Rows, ledger: Rows) -> RuleResult:
    """No event of a person whose latest statement at or before it is an opt-out (+ grace).

    Each ledger row of an opt-out purpose states an opt-in at ``granted_at`` and an opt-out at
    ``withdrawn_at``; an opt-out and an opt-in at the same instant: the opt-out wins. Repeated
    statements collapse to the changes of state, so the opt-out that counts is the first one
    since the person last opted in.
    """
    scope = _opt_out_scope(rule)
    raw_scope = scope.replace(TYPE.column, f"({events.raw(TYPE)})") if rule.event_types else scope
    events.require_present(
        EVENT, where=scope, raw_where=raw_scope,
        purpose="every automated decision or profiling event needs an id",
    )  # fmt: skip
    shown = _opt_out_shown(rule)
    values = [(SUBJECT, "subject_id"), (TS, "ts"), *((r, f"x{i}") for i, r in enumerate(shown))]
    dialect = events.dialect
    records = dialect.unique_records(
        events.table, EVENT.column, [(r.column, quote_ident(a)) for r, a in values], where=scope
    )
    same_type = events.is_integer(SUBJECT) == ledger.is_integer(SUBJECT)
    ev_subject = "ev.subject_id" if same_type else "CAST(ev.subject_id AS VARCHAR)"
    led_subject = SUBJECT.column if same_type else f"CAST({SUBJECT.column} AS VARCHAR)"
    ledger_scope = (
        f"{SUBJECT.column} IS NOT NULL AND {PURPOSE.column} IN {sql_list(rule.opt_out_purposes)}"
    )
    grace = int(rule.grace.total_seconds()) * 1_000_000
    join = dialect.asof_left_join(
        "ev", "st", equal=[(ev_subject, "st.subject_id")], on="ev.ts >= st.changed_at"
    )
    extra_cols = "".join(f", ev.{quote_ident(a)} AS {quote_ident(r.name)}" for r, a in values[2:])
    sql = f"""
        WITH ev AS ({records}),
        said AS (
          SELECT {led_subject} AS subject_id, {GRANTED.column} AS changed_at, 0 AS opt_out
          FROM {ledger.table} WHERE {ledger_scope} AND {GRANTED.column} IS NOT NULL
          UNION ALL
          SELECT {led_subject} AS subject_id, {WITHDRAWN.column} AS changed_at, 1 AS opt_out
          FROM {ledger.table} WHERE {ledger_scope} AND {WITHDRAWN.column} IS NOT NULL),
        merged AS (
          SELECT subject_id, changed_at, max(opt_out) AS opt_out FROM said GROUP BY 1, 2),
        changes AS (
          SELECT subject_id, changed_at, opt_out,
                 lag(opt_out) OVER (PARTITION BY subject_id ORDER BY changed_at) AS prev_opt_out
          FROM merged),
        st AS (
          SELECT subject_id, changed_at, opt_out FROM changes
          WHERE prev_opt_out IS NULL OR prev_opt_out <> opt_out)
        SELECT ev._id, ev._conflict, true AS _applies,
          CASE WHEN ev.subject_id IS NULL THEN 'missing_subject'
               WHEN ev.ts IS NULL THEN 'missing_timestamp'
               WHEN st.opt_out = 1
                    AND ev.ts >= st.changed_at + {dialect.microseconds(grace)}
               THEN 'opted_out' END AS _reason,
          ev.subject_id AS subject_id, ev.ts AS ts,
          CASE WHEN st.opt_out = 1 THEN st.changed_at END AS opted_out_at{extra_cols}
        FROM {join}"""
    fields = ["subject_id", "ts", "opted_out_at", *(r.name for r in shown)]
    grace_text = format_duration(rule.grace)

    def message(reason: str, row: Mapping[str, Any]) -> str:
        if reason == "missing_subject":
            return "the event names no person, so their opt-out cannot be checked"
        if reason == "missing_timestamp":
            return "the event has no timestamp, so it cannot be placed after or before an opt-out"
        late = f" (grace {grace_text})" if rule.grace.total_seconds() else ""
        return (
            f"automated processing at {fmt_time(row['ts'])}, after the person opted out at "
            f"{fmt_time(row['opted_out_at'])}{late}"
        )

    verdicts = Verdicts(
        sql=sql,
        fields=fields,
        table=events,
        id_role=EVENT,
        noun="automated decision or profiling events",
    )
    parameters: dict[str, Any] = {
        "ledger": rule.ledger,
        "opt_out_purposes": rule.opt_out_purposes,
        "event_types": rule.event_types or None,
        "grace": grace_text,
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


def explain_consent(rule: ConsentRule, pack: PolicyPack | None = None) -> str:
    """Return one paragraph saying what a consent rule checks, in plain words."""
    where = f"the evidence '{rule.dataset}'"
    if isinstance(rule, OptOutHonoredRule):
        which = f" ({', '.join(rule.event_types)})" if rule.event_types else ""
        text = (
            f"No automated decision or profiling event{which} in {where} may concern a person "
            f"who opted out of it ({', '.join(rule.opt_out_purposes)}) in the consent ledger "
            f"'{rule.ledger}' and has not opted in again"
        )
        if rule.grace.total_seconds():
            text += f" (a grace of {format_duration(rule.grace)} after the opt-out is accepted)"
        return text + "."
    assert isinstance(rule, PurposeConsentRule)
    consent = ", ".join(rule.consent_purposes) or "none"
    text = (
        f"Every processing event in {where} for a purpose based on consent ({consent}) "
        f"must be covered by the consent ledger '{rule.ledger}'"
    )
    if isinstance(rule, WithdrawalHonoredRule):
        text += ": nothing may be processed after the person withdrew consent"
    else:
        text += ": consent given at or before the event, for that purpose, not withdrawn or expired"
    if rule.grace.total_seconds():
        text += f" (a grace of {format_duration(rule.grace)} after a withdrawal is accepted)"
    return text + "."


class ConsentKind(KindBase):
    """Consent: processing events joined as of their time with a consent ledger."""

    name = "consent"
    model = ConsentCheck

    def roles(self, rule: Any) -> dict[str, list[Role]]:
        """Return the roles of the processing events and of the ledger."""
        return consent_roles(rule)

    def evaluate(self, rule: Any, inputs: AuditInputs) -> RuleResult:
        """Evaluate the rule on the typed rows of its events and ledger."""
        return evaluate_consent(rule, inputs.rows)

    def explain(self, rule: Any, pack: PolicyPack | None) -> str:
        """Return what the rule checks, in plain words."""
        return explain_consent(rule, pack)

    def builtin_checks(self, rule: Any) -> list[tuple[str, BuiltinCheck]]:
        """Return the role checks, and that event ids are present and name one record each."""
        if isinstance(rule, OptOutHonoredRule):
            scope = (Scope(TYPE.name, "text", tuple(rule.event_types)),) if rule.event_types else ()
            shown = tuple(dict.fromkeys([SUBJECT, TS, *_opt_out_shown(rule)]))
            return [
                *role_checks(self.roles(rule)),
                (rule.dataset, BuiltinCheck("present", EVENT.name, read_as="key", scope=scope)),
                (
                    rule.dataset,
                    BuiltinCheck("unique_id", EVENT.name, read_as="key", scope=scope, record=shown),
                ),
            ]
        record = tuple(
            dict.fromkeys([SUBJECT, PURPOSE, TS, *(Role(f, "text") for f in rule.finding_fields)])
        )
        return [
            *role_checks(self.roles(rule)),
            (rule.dataset, BuiltinCheck("present", EVENT.name, read_as="key")),
            (rule.dataset, BuiltinCheck("unique_id", EVENT.name, read_as="key", record=record)),
        ]
