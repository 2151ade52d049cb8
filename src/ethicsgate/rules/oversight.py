"""Human-oversight checks over decision logs (GDPR Art. 22, EU AI Act Art. 14).

``human_review_required``: adverse automated decisions carry a human reviewer or were routed to
review. ``review_sampling``: a seeded, stratified sample of decisions is selected for human
quality review and every sampled decision has been reviewed. The sample is the same for the
same decisions and seed: within each group, decisions are ranked by
``md5("<seed>:<decision_id>")`` and the first ``min(n, max(min_per_group, ceil(share * n)))``
are sampled. ``select_review_sample`` computes the same sample in Python.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from ethicsgate.evidence.contracts import BuiltinCheck, Scope
from ethicsgate.evidence.engine import Dialect, Rows
from ethicsgate.evidence.roles import Role
from ethicsgate.evidence.sql import quote_ident, sql_literal
from ethicsgate.policy.fields import format_duration
from ethicsgate.policy.models import (
    HumanReviewRequiredRule,
    LogRetentionRule,
    OversightCheck,
    OversightRule,
    PolicyPack,
    RequestAnsweredRule,
    ReviewSamplingRule,
)
from ethicsgate.rules.kind import AuditInputs, KindBase, role_checks
from ethicsgate.rules.records import (
    WHITESPACE,
    Verdicts,
    blank_sql,
    fmt_time,
    sql_list,
    summarize,
    trim_sql,
)
from ethicsgate.rules.results import RuleResult, StratumResult

__all__ = [
    "OversightKind",
    "evaluate_oversight",
    "explain_oversight",
    "oversight_roles",
    "sample_size",
    "select_review_sample",
]

DECISION = Role("decision_id", "key")
OUTCOME = Role("outcome", "required_text")
SCORE = Role("score", "number")
ADVERSE = Role("adverse", "flag")
REVIEWER = Role("reviewer", "text")
ROUTED = Role("routed_to_review", "flag_or_false")
QA_REVIEWER = Role("qa_reviewer", "text")
REQUEST = Role("request_id", "key")
TS = Role("ts", "timestamp")
ANSWERED = Role("answered_at", "timestamp")
TYPE = Role("type", "text")
MAX_STRATA_SHOWN = 1000


def sample_size(n: int, share: float, min_per_group: int) -> int:
    """Return how many of a group's ``n`` decisions are sampled.

    ``min(n, max(min_per_group, ceil(share * n)))``, with ``share`` taken as the decimal it is
    written as (0.1 is exactly one tenth, so 30 decisions give 3, not 4).
    """
    exact = Fraction(str(share))
    return min(n, max(min_per_group, -(-n * exact.numerator // exact.denominator)))


def select_review_sample(
    decisions: Iterable[tuple[str, Hashable]], *, share: float, seed: int, min_per_group: int = 1
) -> set[str]:
    """Return the ids of the seeded, stratified review sample of ``(id, group)`` pairs."""
    groups: dict[Hashable, list[str]] = defaultdict(list)
    for decision_id, group in decisions:
        groups[group].append(decision_id)
    chosen: set[str] = set()
    for ids in groups.values():
        ranked = sorted(ids, key=lambda i: (_rank_key(seed, i), i))
        chosen.update(ranked[: sample_size(len(ids), share, min_per_group)])
    return chosen


def _rank_key(seed: int, decision_id: str) -> str:
    return hashlib.md5(f"{seed}:{decision_id}".encode(), usedforsecurity=False).hexdigest()


def oversight_roles(rule: OversightRule) -> dict[str, list[Role]]:
    """Return the roles an oversight rule reads from its decision log."""
    extras = [Role(f, "text") for f in rule.finding_fields]
    if isinstance(rule, RequestAnsweredRule):
        return {rule.dataset: list(dict.fromkeys([REQUEST, TS, ANSWERED, *_request_shown(rule)]))}
    if isinstance(rule, LogRetentionRule):
        return {rule.dataset: [TS]}
    roles: list[Role] = [DECISION]
    if isinstance(rule, HumanReviewRequiredRule):
        if rule.adverse is None:
            roles.append(ADVERSE)
        else:
            roles.append(OUTCOME)
            if rule.adverse.score_min is not None or rule.adverse.score_max is not None:
                roles.append(SCORE)
        if "reviewer" in rule.review_evidence:
            roles.append(REVIEWER)
        if "routed_to_review" in rule.review_evidence:
            roles.append(ROUTED)
    elif isinstance(rule, ReviewSamplingRule):
        roles += [Role(s, "text") for s in rule.strata]
        roles.append(QA_REVIEWER)
    else:  # pragma: no cover - the policy models admit no other check
        raise TypeError(f"unknown oversight check {rule!r}")
    return {rule.dataset: list(dict.fromkeys([*roles, *extras]))}


def evaluate_oversight(rule: OversightRule, tables: Mapping[str, Rows]) -> RuleResult:
    """Evaluate an oversight rule on its decision log.

    Raises:
        EvidenceError: a decision has no id or no adverse flag, or two decisions share an id.
    """
    table = tables[rule.dataset]
    if isinstance(rule, RequestAnsweredRule):
        return _request_answered(rule, table)
    if isinstance(rule, LogRetentionRule):
        return _log_retention(rule, table)
    table.require_present(DECISION, purpose="every decision needs an id")
    if isinstance(rule, HumanReviewRequiredRule):
        return _human_review_required(rule, table)
    if isinstance(rule, ReviewSamplingRule):
        return _review_sampling(rule, table)
    raise TypeError(f"unknown oversight check {rule!r}")  # pragma: no cover


def _records(t: Rows, roles: list[Role]) -> tuple[str, dict[Role, str]]:
    values = {r: f"v{i}" for i, r in enumerate(roles)}
    sql = t.dialect.unique_records(
        t.table, DECISION.column, [(r.column, a) for r, a in values.items()]
    )
    return sql, values


def _human(dialect: Dialect, expr: str, automated: list[str]) -> tuple[str, str]:
    """Return SQL conditions: a human is named in ``expr``; a machine is named in it."""
    machines = sorted({a.strip(WHITESPACE).lower() for a in automated})
    blank = blank_sql(dialect, expr)
    machine = f"(NOT {blank} AND lower({trim_sql(dialect, expr)}) IN {sql_list(machines)})"
    return f"(NOT {blank} AND NOT {machine})", machine


def _human_review_required(rule: HumanReviewRequiredRule, t: Rows) -> RuleResult:
    extras = [Role(f, "text") for f in rule.finding_fields]
    if rule.adverse is None:
        t.require_present(ADVERSE, purpose="adverse must say whether each decision is")
    roles = [r for r in oversight_roles(rule)[rule.dataset] if r != DECISION]
    records, v = _records(t, roles)
    shown: list[tuple[str, str]] = []
    if rule.adverse is None:
        adverse = v[ADVERSE]
    else:
        parts = [f"{v[OUTCOME]} IN {sql_list(rule.adverse.outcomes)}"]
        # a missing score cannot show the decision is outside the band: it counts as inside
        if rule.adverse.score_min is not None:
            parts.append(f"({v[SCORE]} IS NULL OR {v[SCORE]} >= {rule.adverse.score_min!r})")
        if rule.adverse.score_max is not None:
            parts.append(f"({v[SCORE]} IS NULL OR {v[SCORE]} <= {rule.adverse.score_max!r})")
        adverse = " AND ".join(parts)
        shown.append(("outcome", v[OUTCOME]))
        if SCORE in v:
            shown.append(("score", v[SCORE]))
    reviewed = []
    machine = "false"
    if REVIEWER in v:
        human, machine = _human(t.dialect, v[REVIEWER], rule.automated_reviewers)
        reviewed.append(human)
        shown.append(("reviewer", v[REVIEWER]))
    if ROUTED in v:
        reviewed.append(v[ROUTED])
        shown.append(("routed_to_review", v[ROUTED]))
    shown += [(r.name, v[r]) for r in extras if r.name not in dict(shown)]
    cols = "".join(f", {alias} AS {quote_ident(name)}" for name, alias in shown)
    sql = f"""
        SELECT _id, ({adverse}) AS _applies, _conflict,
          CASE WHEN {" OR ".join(reviewed)} THEN NULL
               WHEN {machine} THEN 'automated_reviewer'
               ELSE 'no_human_review' END AS _reason{cols}
        FROM ({records}) AS _records"""

    def message(reason: str, row: Mapping[str, Any]) -> str:
        if reason == "automated_reviewer":
            return f"adverse decision 'reviewed' by {row['reviewer']!r}, which is not a person"
        ways = " or ".join(
            {"reviewer": "a human reviewer", "routed_to_review": "routing to review"}[e]
            for e in rule.review_evidence
        )
        return f"adverse automated decision without {ways}"

    verdicts = Verdicts(
        sql=sql,
        fields=[name for name, _ in shown],
        table=t,
        id_role=DECISION,
        noun="adverse automated decisions",
    )
    parameters: dict[str, Any] = {
        "adverse": "role adverse" if rule.adverse is None else _describe(rule),
        "review_evidence": rule.review_evidence,
        "automated_reviewers": rule.automated_reviewers,
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


def _describe(rule: HumanReviewRequiredRule) -> str:
    assert rule.adverse is not None
    text = f"outcome in {', '.join(rule.adverse.outcomes)}"
    low, high = rule.adverse.score_min, rule.adverse.score_max
    if low is not None and high is not None:
        text += f" and {low:g} <= score <= {high:g}"
    elif low is not None:
        text += f" and score >= {low:g}"
    elif high is not None:
        text += f" and score <= {high:g}"
    return text


def _review_sampling(rule: ReviewSamplingRule, t: Rows) -> RuleResult:
    strata = [Role(s, "text") for s in rule.strata]
    extras = [Role(f, "text") for f in rule.finding_fields]
    roles = [r for r in oversight_roles(rule)[rule.dataset] if r != DECISION]
    records, v = _records(t, roles)
    exact = Fraction(str(rule.share))
    partition = f"PARTITION BY {', '.join(v[s] for s in strata)}" if strata else ""
    prefix = sql_literal(f"{rule.seed}:")
    human, machine = _human(t.dialect, v[QA_REVIEWER], rule.automated_reviewers)
    dialect = t.dialect
    share = dialect.ceil_div_exact("n_g", exact.numerator, exact.denominator)
    k = f"least(n_g, greatest({int(rule.min_per_group)}, {share}))"
    rank = dialect.stable_hash_text(f"{prefix} || CAST(_id AS VARCHAR)")
    sample = f"""
        WITH recs AS ({records}),
        g AS (
          SELECT *, count(*) OVER ({partition}) AS n_g,
                 row_number() OVER ({partition} ORDER BY {rank},
                                    CAST(_id AS VARCHAR)) AS rk
          FROM recs)
        SELECT *, rk <= {k} AS sampled, {human} AS reviewed, {machine} AS machine FROM g"""
    shown = [(s.name, v[s]) for s in strata] + [("qa_reviewer", v[QA_REVIEWER])]
    shown += [(r.name, v[r]) for r in extras if r.name not in dict(shown)]
    cols = "".join(f", {alias} AS {quote_ident(name)}" for name, alias in shown)
    sql = f"""
        SELECT _id, sampled AS _applies, _conflict,
          CASE WHEN reviewed THEN NULL WHEN machine THEN 'automated_reviewer'
               ELSE 'not_reviewed' END AS _reason{cols}
        FROM ({sample}) AS _sample"""
    group_cols = ", ".join(v[s] for s in strata)
    # NULLS LAST spelt out: Spark sorts NULL first, DuckDB and PostgreSQL last, so the
    # group without a value moved (or fell past the LIMIT) with the engine
    order_cols = ", ".join(f"{v[s]} NULLS LAST" for s in strata)
    strata_sql = (
        f"SELECT {group_cols + ', ' if group_cols else ''}count(*), "
        "count(*) FILTER (WHERE sampled), count(*) FILTER (WHERE sampled AND reviewed) "
        f"FROM ({sample}) AS _sample "
        f"{'GROUP BY ' + group_cols + ' ORDER BY ' + order_cols if strata else ''}"
        f" LIMIT {MAX_STRATA_SHOWN}"
    )
    strata_rows = t.fetch(strata_sql)
    n = len(strata)
    strata_results = [
        StratumResult(
            group={
                s.name: None if val is None else str(val)
                for s, val in zip(strata, row[:n], strict=True)
            },
            decisions=int(row[n]),
            sampled=int(row[n + 1]),
            reviewed=int(row[n + 2]),
        )
        for row in strata_rows
        if int(row[n])  # an empty log still returns one row without groups
    ]

    def message(reason: str, row: Mapping[str, Any]) -> str:
        if reason == "automated_reviewer":
            return (
                f"sampled for human quality review, but 'reviewed' by {row['qa_reviewer']!r}, "
                "which is not a person"
            )
        return "sampled for human quality review, but not reviewed yet"

    verdicts = Verdicts(
        sql=sql,
        fields=[name for name, _ in shown],
        table=t,
        id_role=DECISION,
        noun="decisions sampled for review",
    )
    parameters: dict[str, Any] = {
        "share": rule.share,
        "seed": rule.seed,
        "strata": rule.strata,
        "min_per_group": rule.min_per_group,
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters, strata=strata_results)


# -- request_answered -----------------------------------------------------------------------


def _request_shown(rule: RequestAnsweredRule) -> list[Role]:
    """Return the roles of a request shown in findings besides its times."""
    shown = [TYPE] if rule.request_types else []
    return list(dict.fromkeys([*shown, *(Role(f, "text") for f in rule.finding_fields)]))


def _request_scope(rule: RequestAnsweredRule) -> str:
    return f"{TYPE.column} IN {sql_list(rule.request_types)}" if rule.request_types else "true"


def _request_answered(rule: RequestAnsweredRule, t: Rows) -> RuleResult:
    """Requests answered within ``within``; an open request past its deadline is overdue.

    The log ends at its latest timestamp (``ts`` or ``answered_at``, of any row): an open
    request whose deadline is at or after that instant may still be answered in time, so it
    is not judged (not a record).
    """
    scope = _request_scope(rule)
    raw_scope = scope.replace(TYPE.column, f"({t.raw(TYPE)})") if rule.request_types else scope
    t.require_present(
        REQUEST, where=scope, raw_where=raw_scope, purpose="every request needs an id"
    )
    shown = _request_shown(rule)
    values = {r: f"v{i}" for i, r in enumerate([TS, ANSWERED, *shown])}
    dialect = t.dialect
    records = dialect.unique_records(
        t.table, REQUEST.column, [(r.column, a) for r, a in values.items()], where=scope
    )
    window = dialect.microseconds(int(rule.within.total_seconds()) * 1_000_000)
    ts, answered = values[TS], values[ANSWERED]
    cols = "".join(f", {values[r]} AS {quote_ident(r.name)}" for r in shown)
    sql = f"""
        WITH ends AS (
          SELECT max({TS.column}) AS t_end, max({ANSWERED.column}) AS a_end FROM {t.table}),
        log_end AS (
          SELECT CASE WHEN a_end IS NULL THEN t_end WHEN t_end IS NULL THEN a_end
                      WHEN a_end > t_end THEN a_end ELSE t_end END AS ends_at FROM ends),
        r AS (SELECT recs.*, {ts} + {window} AS due_at FROM ({records}) AS recs)
        SELECT _id, _conflict,
          NOT ({answered} IS NULL AND {ts} IS NOT NULL AND ends_at <= due_at) AS _applies,
          CASE WHEN {ts} IS NULL THEN 'missing_timestamp'
               WHEN {answered} IS NULL THEN 'overdue'
               WHEN {answered} > due_at THEN 'answered_late' END AS _reason,
          {ts} AS requested_at, due_at, {answered} AS answered_at{cols}
        FROM r CROSS JOIN log_end"""
    limit = format_duration(rule.within)

    def message(reason: str, row: Mapping[str, Any]) -> str:
        what = f"{row['type']} " if row.get("type") else "request "
        if reason == "missing_timestamp":
            return f"the {what.strip()} has no time of receipt, so its deadline cannot be checked"
        asked, due = fmt_time(row["requested_at"]), fmt_time(row["due_at"])
        if reason == "overdue":
            return f"{what}received at {asked} is still unanswered, past its deadline {due}"
        return (
            f"{what}received at {asked} was answered only at {fmt_time(row['answered_at'])}, "
            f"after its deadline {due} ({limit})"
        )

    verdicts = Verdicts(
        sql=sql,
        fields=["requested_at", "due_at", "answered_at", *(r.name for r in shown)],
        table=t,
        id_role=REQUEST,
        noun="requests due by the end of the log",
    )
    parameters: dict[str, Any] = {
        "within": limit,
        "request_types": rule.request_types or None,
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


# -- log_retention --------------------------------------------------------------------------

US_PER_DAY = 86_400_000_000
EPOCH = date(1970, 1, 1)


def day_text(day: int | None) -> str | None:
    """Return a UTC day number (days since 1970-01-01) as an ISO date."""
    return None if day is None else (EPOCH + timedelta(days=int(day))).isoformat()


def _log_retention(rule: LogRetentionRule, t: Rows) -> RuleResult:
    """Split the last ``min_coverage`` days up to the log's last day into runs of days.

    Runs with log rows comply; a run without any (a gap, UTC days) violates when it is longer
    than ``max_gap_days``, and the run before the log's first day always does (the logs were
    not kept that long).
    """
    dialect = t.dialect
    n = rule.min_coverage.days
    day = f"CAST(floor({dialect.epoch_us(TS.column)} / {US_PER_DAY}.0) AS BIGINT)"
    sql = f"""
        WITH days AS (SELECT DISTINCT {day} AS d FROM {t.table} WHERE {TS.column} IS NOT NULL),
        bounds AS (SELECT min(d) AS first_day, max(d) - {n - 1} AS ws FROM days),
        w AS (SELECT d FROM days CROSS JOIN bounds WHERE d >= ws),
        isl AS (SELECT d, d - row_number() OVER (ORDER BY d) AS g FROM w),
        covered AS (SELECT min(d) AS run_from, max(d) AS run_to FROM isl GROUP BY g),
        nx AS (
          SELECT run_from, run_to, lead(run_from) OVER (ORDER BY run_from) AS next_from
          FROM covered),
        runs AS (
          SELECT run_from, run_to, CAST(NULL AS VARCHAR) AS _reason FROM covered
          UNION ALL
          SELECT run_to + 1, next_from - 1,
                 CASE WHEN next_from - run_to - 1 > {rule.max_gap_days}
                      THEN 'gap_too_long' END
          FROM nx WHERE next_from > run_to + 1
          UNION ALL
          SELECT ws, first_w - 1,
                 CASE WHEN first_day >= ws THEN 'not_retained'
                      WHEN first_w - ws > {rule.max_gap_days} THEN 'gap_too_long' END
          FROM (SELECT ws, first_day, (SELECT min(d) FROM w) AS first_w FROM bounds) AS b
          WHERE first_w > ws)
        SELECT run_from AS _id, false AS _conflict, true AS _applies, _reason,
               run_from AS gap_from, run_to AS gap_to, run_to - run_from + 1 AS gap_days
        FROM runs"""

    def convert(row: Mapping[str, Any]) -> Mapping[str, Any]:
        return {
            **row,
            "_id": day_text(row["_id"]),
            "gap_from": day_text(row["gap_from"]),
            "gap_to": day_text(row["gap_to"]),
        }

    def message(reason: str, row: Mapping[str, Any]) -> str:
        span = f"from {row['gap_from']} to {row['gap_to']} ({row['gap_days']} day(s))"
        if reason == "not_retained":
            return (
                f"no log rows {span}: the logs begin only on the day after, so they do not "
                f"cover {n} days"
            )
        return f"no log rows {span}; at most {rule.max_gap_days} day(s) without rows allowed"

    verdicts = Verdicts(
        sql=sql,
        fields=["gap_from", "gap_to", "gap_days"],
        table=t,
        id_role=TS,
        noun=f"runs of days with or without log rows in the last {n} days",
        convert=convert,
    )
    parameters: dict[str, Any] = {
        "min_coverage": format_duration(rule.min_coverage),
        "max_gap_days": rule.max_gap_days,
    }
    return summarize(rule, verdicts, messages=message, parameters=parameters)


def explain_oversight(rule: OversightRule, pack: PolicyPack | None = None) -> str:
    """Return one paragraph saying what an oversight check checks, in plain words."""
    where = f"the evidence '{rule.dataset}'"
    if isinstance(rule, HumanReviewRequiredRule):
        if rule.adverse is not None:
            adverse = f"with outcome {', '.join(rule.adverse.outcomes)}"
            if rule.adverse.score_min is not None or rule.adverse.score_max is not None:
                adverse += (
                    f" and a score between {rule.adverse.score_min} and {rule.adverse.score_max}"
                )
        else:
            adverse = "marked adverse"
        evidence = " or ".join(
            "a named human reviewer" if e == "reviewer" else "being routed to review"
            for e in rule.review_evidence
        )
        return f"Every automated decision {adverse} in {where} must show {evidence}."
    if isinstance(rule, ReviewSamplingRule):
        strata = f" in every group of {', '.join(rule.strata)}" if rule.strata else ""
        return (
            f"A seeded random sample of {rule.share:.0%} of the decisions in {where}{strata} "
            "must be selected for, and get, a human quality review."
        )
    if isinstance(rule, RequestAnsweredRule):
        which = f"({', '.join(rule.request_types)})" if rule.request_types else "(every row is one)"
        return (
            f"Every request about an automated decision {which} in {where} must be answered "
            f"within {format_duration(rule.within)} of its receipt; a request still open when "
            "the log ends is a violation once its deadline has passed."
        )
    if isinstance(rule, LogRetentionRule):
        gaps = (
            f"with no more than {rule.max_gap_days} day(s) in a row without a log row"
            if rule.max_gap_days
            else "with a log row on every day"
        )
        return (
            f"The automation logs in {where} must go back at least {rule.min_coverage.days} "
            f"days from their last day, {gaps} (days in UTC)."
        )
    raise TypeError(f"unknown oversight check {rule!r}")  # pragma: no cover


class OversightKind(KindBase):
    """Human oversight: adverse decisions reviewed, and a seeded sample quality-reviewed."""

    name = "oversight"
    model = OversightCheck

    def roles(self, rule: Any) -> dict[str, list[Role]]:
        """Return the roles the check reads from its decision log."""
        return oversight_roles(rule)

    def evaluate(self, rule: Any, inputs: AuditInputs) -> RuleResult:
        """Evaluate the check on the typed rows of its decision log."""
        return evaluate_oversight(rule, inputs.rows)

    def explain(self, rule: Any, pack: PolicyPack | None) -> str:
        """Return what the check checks, in plain words."""
        return explain_oversight(rule, pack)

    def builtin_checks(self, rule: Any) -> list[tuple[str, BuiltinCheck]]:
        """Return the role checks, and that decision ids are present and name one record."""
        read = self.roles(rule)
        if isinstance(rule, LogRetentionRule):
            return role_checks(read)
        if isinstance(rule, RequestAnsweredRule):
            scope = (
                (Scope(TYPE.name, "text", tuple(rule.request_types)),) if rule.request_types else ()
            )
            record = tuple(r for r in read[rule.dataset] if r.name != REQUEST.name)
            return [
                *role_checks(read),
                (rule.dataset, BuiltinCheck("present", REQUEST.name, read_as="key", scope=scope)),
                (
                    rule.dataset,
                    BuiltinCheck(
                        "unique_id", REQUEST.name, read_as="key", scope=scope, record=record
                    ),
                ),
            ]
        checks = [BuiltinCheck("present", DECISION.name, read_as="key")]
        if isinstance(rule, HumanReviewRequiredRule) and rule.adverse is None:
            checks.append(BuiltinCheck("present", ADVERSE.name, read_as="flag"))
        record = tuple(r for r in read[rule.dataset] if r.name != DECISION.name)
        checks.append(BuiltinCheck("unique_id", DECISION.name, read_as="key", record=record))
        return [*role_checks(read), *((rule.dataset, c) for c in checks)]
