"""Record-level rules: turn a check's per-record verdicts into counts, findings and a status.

Each check (transparency, consent, oversight) writes one SQL query, its *verdicts*, with one row
per candidate record and these columns:

* ``_id``: the record's id (a conversation, event or decision);
* ``_applies``: whether the check applies to the record (it counts in ``records_checked``);
* ``_reason``: NULL when the record complies, else a stable reason code;
* ``_conflict``: true when two different rows share the record's id;
* one column per finding field.

``summarize`` has the engine read the verdicts in one pass (:meth:`Rows.verdicts`): the counts,
the violations by reason and the first ``max_findings`` violating records by id, so a check over
millions of records never materialises its violations in Python. While a findings sink is
collecting (:func:`collecting_findings`, which the audit session sets up for
``findings.parquet``), every violating record is handed to it too, streamed from the engine in
batches when there are more than the report lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any, Protocol

from ethicsgate.evidence.engine import Dialect, Rows
from ethicsgate.evidence.roles import Role
from ethicsgate.evidence.sql import sql_literal
from ethicsgate.policy.fields import format_duration
from ethicsgate.policy.models import RecordRuleBase, Severity
from ethicsgate.rules.results import Finding, RuleResult, RuleStatus, StratumResult

__all__ = [
    "FINDINGS_BATCH_ROWS",
    "WHITESPACE",
    "FindingsSink",
    "MessageFn",
    "Verdicts",
    "blank_sql",
    "collecting_findings",
    "emit_findings",
    "fmt_time",
    "fmt_value",
    "sql_list",
    "summarize",
    "trim_sql",
]

#: Characters trimmed from text before it is judged blank: ASCII whitespace.
WHITESPACE = " \t\n\r\x0b\x0c"

MessageFn = Callable[[str, Mapping[str, Any]], str]

#: Violating records per batch streamed from the engine into a findings sink.
FINDINGS_BATCH_ROWS = 50_000


class FindingsSink(Protocol):
    """Where every finding of an audit goes (``findings.parquet``), rule by rule, by id."""

    def add(self, rule_id: str, findings: Sequence[Finding]) -> None:
        """Add a batch of a rule's findings, in record-id order."""
        ...

    def add_rows(
        self, rule_id: str, rows: Sequence[tuple[str, str, str, Mapping[str, Any]]]
    ) -> None:
        """Add a batch of a rule's findings as (record id, reason, message, fields) rows."""
        ...


_SINK: ContextVar[FindingsSink | None] = ContextVar("ethicsgate_findings_sink", default=None)


@contextmanager
def collecting_findings(sink: FindingsSink) -> Iterator[FindingsSink]:
    """Hand every finding of the record-level rules evaluated inside the block to ``sink``."""
    token = _SINK.set(sink)
    try:
        yield sink
    finally:
        _SINK.reset(token)


def emit_findings(rule_id: str, findings: Sequence[Finding]) -> None:
    """Hand a rule's findings to the audit's findings sink, if one is collecting.

    For kinds whose findings are few and computed in Python (not streamed from a verdict
    query), so that ``findings.parquet`` holds them like every other rule's.
    """
    sink = _SINK.get()
    if sink is not None and findings:
        sink.add(rule_id, findings)


@dataclass(frozen=True)
class Verdicts:
    """A check's verdict query, its finding fields and where its record ids come from."""

    sql: str
    fields: Sequence[str]
    table: Rows
    id_role: Role
    noun: str  # what a record is, plural: "conversations with a bot message"
    #: turns a violating record as the engine returns it into the one findings show (e.g.
    #: day numbers into dates); None: as returned
    convert: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None


def sql_list(values: Sequence[str]) -> str:
    """Return ``('a', 'b')`` for a SQL IN list (``(NULL)`` when empty: matches nothing)."""
    return "(" + (", ".join(sql_literal(v) for v in values) or "NULL") + ")"


def trim_sql(dialect: Dialect, expr: str) -> str:
    """Return SQL that trims ASCII whitespace from both ends of ``expr``."""
    return dialect.trim(expr, WHITESPACE)


def blank_sql(dialect: Dialect, expr: str) -> str:
    """Return a SQL condition: ``expr`` is missing or only whitespace."""
    return f"({expr} IS NULL OR {trim_sql(dialect, expr)} = '')"


def fmt_time(value: Any) -> str | None:
    """Format a timestamp as UTC ISO 8601 with ``Z`` (None stays None)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"
    return str(value)


def fmt_value(value: Any) -> str | None:
    """Format a finding field: timestamps in UTC, numbers as written, None as None."""
    if value is None or type(value) is str:  # most fields are text: the first test
        return value
    if isinstance(value, datetime):
        return fmt_time(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, timedelta):
        return format_duration(value)
    return str(value)


def _rate_text(rate: float) -> str:
    return f"{rate * 100:.2f} %"


def summarize(
    rule: RecordRuleBase,
    verdicts: Verdicts,
    *,
    messages: MessageFn,
    parameters: dict[str, Any],
    strata: list[StratumResult] | None = None,
) -> RuleResult:
    """Count, list and judge a check's verdicts; the rule's status follows its threshold.

    ``violation_rate = violations / records_checked``; the rule fails (block) or warns
    (warn, info) when it exceeds ``max_violation_rate``, and is an error when no record applies
    (or skipped, if the rule says ``if_no_records: skip``).

    Raises:
        EvidenceError: two different rows share a record id.
    """
    limit = max(rule.max_findings, 1)
    counted = verdicts.table.verdicts(
        verdicts.sql, verdicts.fields, limit=limit, id_role=verdicts.id_role
    )
    records, violations, by_reason = counted.records, counted.violations, counted.by_reason

    convert = verdicts.convert
    # the report lists the fields in the check's order; findings.parquet writes them as a JSON
    # object with the names sorted
    shown, by_name = list(verdicts.fields), sorted(verdicts.fields)

    def finding_row(
        row: Mapping[str, Any], names: Sequence[str] = by_name
    ) -> tuple[str, str, str, dict[str, str | None]]:
        if convert is not None:
            row = convert(row)
        reason = row["_reason"]
        fields = {f: fmt_value(row[f]) for f in names}
        return str(row["_id"]), reason, messages(reason, row), fields

    findings = [
        Finding(record_id=i, reason=r, message=m, fields=f)
        for i, r, m, f in (finding_row(row, shown) for row in counted.listed[: rule.max_findings])
    ]
    sink = _SINK.get()
    if sink is not None and violations:
        # plain rows, not a Finding (a validated model) per violation: the sink may take
        # millions
        if len(counted.listed) >= violations:  # the engine listed them all already
            sink.add_rows(rule.id, [finding_row(row) for row in counted.listed])
        else:
            for batch in verdicts.table.violation_batches(
                verdicts.sql, verdicts.fields, batch_rows=FINDINGS_BATCH_ROWS
            ):
                sink.add_rows(rule.id, [finding_row(row) for row in batch])
    base: dict[str, Any] = {
        "id": rule.id,
        "kind": rule.kind,  # type: ignore[attr-defined]  # each subclass declares it
        "title": rule.title,
        "severity": rule.severity.value,
        "dataset": rule.dataset,
        "references": list(rule.references),
        "rows": verdicts.table.rows,
        "check": getattr(rule, "check", None),
        "parameters": {k: _param(v) for k, v in parameters.items()},
        "records_checked": records,
        "violations": violations,
        "max_violation_rate": rule.max_violation_rate,
        "violations_by_reason": by_reason,
        "findings": findings,
        "findings_total": violations,
        "findings_truncated": len(findings) < violations,
        "strata": strata or [],
    }
    if records == 0:
        status = RuleStatus.SKIPPED if rule.if_no_records == "skip" else RuleStatus.ERROR
        what = "is skipped" if status == RuleStatus.SKIPPED else "cannot be evaluated"
        message = (
            f"no {verdicts.noun} in {verdicts.table.rows:,} row(s) of {rule.dataset!r}: the "
            f"check {what} (with nothing to check, it cannot pass)"
        )
        return RuleResult(status=status, message=message, violation_rate=None, **base)
    rate = Fraction(violations, records)
    allowed = Fraction(str(rule.max_violation_rate))
    reasons = ", ".join(f"{k} {v:,}" for k, v in by_reason.items())
    summary = (
        f"{violations:,} of {records:,} {verdicts.noun} violate the check "
        f"({_rate_text(float(rate))}{'; ' + reasons if reasons else ''})"
    )
    if rate > allowed:
        status = RuleStatus.FAIL if rule.severity == Severity.BLOCK else RuleStatus.WARN
        message = f"{summary}; at most {_rate_text(rule.max_violation_rate)} allowed"
    else:
        status = RuleStatus.PASS
        message = (
            f"none of {records:,} {verdicts.noun} violate the check"
            if violations == 0
            else f"{summary}, within the allowed {_rate_text(rule.max_violation_rate)}"
        )
    return RuleResult(status=status, message=message, violation_rate=float(rate), **base)


def _param(value: Any) -> str | int | float | bool | list[str] | None:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, dict):
        return [f"{k}: {v}" for k, v in value.items()]
    return str(value)
