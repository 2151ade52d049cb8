"""What every engine's built-in checks share: their wording, masking and result.

The engines differ in how they count a built-in check (the SQL of DuckDB, PostgreSQL or Spark);
they do not differ in what the check requires, which failing values a report may show, or how
the result reads. Those are here, once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ethicsgate.evidence.contracts import BuiltinCheck, ExpectationResult
from ethicsgate.evidence.roles import ACTORS

__all__ = [
    "MAX_EXAMPLES",
    "REQUIRES",
    "SAFE_KINDS",
    "Tally",
    "builtin_result",
    "show_value",
    "shown_examples",
]

#: What each built-in check requires of a value, in the words every report uses.
REQUIRES: dict[str, str] = {
    "exists": "the column or expression exists",
    "binary": "0/1 or true/false",
    "finite": "a finite number (not missing, NaN or infinite)",
    "number": "a number (or missing)",
    "timestamp": "a timestamp, ISO 8601 (or missing)",
    "flag": "true/false, 1/0 or yes/no (or missing)",
    "actor": f"one of {', '.join(ACTORS)}",
    "present": "present (not missing)",
    "unique_id": "an id naming one record (rows that share it are the same record)",
}
#: Checks whose failing values a report may show as they are (they reveal no person).
SAFE_KINDS = ("binary", "flag", "actor")
#: Failing values kept per check as examples.
MAX_EXAMPLES = 5


@dataclass
class Tally:
    """A check's counts: rows it read, values that failed, and the first failing values."""

    rows: int = 0
    unexpected: int = 0
    examples: list[Any] = field(default_factory=list)


def show_value(value: Any, *, safe: bool) -> str:
    """Return a failing value for the report: as is when safe, else only its type and length.

    A hash would let a reader confirm a guessed value (a birth date, a postcode), so masked
    values keep only their shape; the location names the row for those allowed to look.
    """
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NULL (missing)"
    if safe:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, str):
        return f"<masked text, {len(value)} chars>"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "<masked number>"
    return f"<masked {type(value).__name__}>"


def shown_examples(values: Iterable[Any], *, safe: bool) -> list[str]:
    """Return the failing values as the report shows them, each shown once, in order.

    Distinct values can look alike once shown: a NaN and an empty cell are both missing, two
    masked texts of one length the same shape; the report lists each look once.
    """
    return list(dict.fromkeys(show_value(v, safe=safe) for v in values))


def builtin_result(
    check: BuiltinCheck,
    tally: Tally,
    exprs: dict[str, str],
    *,
    note: str,
    problem: str | None,
    where: str,
    location: str | None = None,
    located: str = "at",
    source: str | None = None,
) -> ExpectationResult:
    """Return one built-in check's result, worded alike on every engine.

    ``note``: the engine's word on a column whose type cannot hold what the check needs;
    ``problem``: why an ``exists`` check failed; ``where``: where that is in the audit spec;
    ``location``: the first failing row (``first <located> <location>`` in the message);
    ``source``: the table or query, named after the column where rows have no location.
    """
    column = check.column
    requires = REQUIRES[check.expect]
    rules = ", ".join(check.guards)
    parameters: dict[str, Any] = {"requires": requires}
    if check.scope:
        parameters["scope"] = " and ".join(
            f"{s.role} in [{', '.join(s.values)}]" if s.kind == "text" else f"{s.role} is true"
            for s in check.scope
        )
    if check.expect == "exists":
        success = tally.unexpected == 0
        gx_name = "expect_column_to_exist"
        return ExpectationResult(
            expect="exists",
            expectation=gx_name,
            column=column,
            expression=exprs.get(column),
            parameters=parameters,
            success=success,
            rows=0,
            unexpected=tally.unexpected,
            unexpected_percent=None,
            masked=False,
            location=None if success else where,
            message=f"{gx_name} on {column!r}: exists ({exprs[column]})"
            if success
            else f"{gx_name} on {column!r}: {problem}; needed by {rules}",
            guards=list(check.guards),
        )
    gx_name = (
        "expect_column_values_to_be_unique"
        if check.expect == "unique_id"
        else "expect_column_values_to_be_in_set"
    )
    safe = check.expect in SAFE_KINDS
    examples = shown_examples(tally.examples, safe=safe)
    percent = 100.0 * tally.unexpected / tally.rows if tally.rows else None
    success = tally.unexpected == 0
    if success:
        message = f"{gx_name} on {column!r}: met by all {tally.rows:,} value(s) ({requires})"
    else:
        shown = f" (e.g. {', '.join(examples[:3])})" if examples else ""
        message = (
            f"{gx_name} on {column!r}: {tally.unexpected:,} of {tally.rows:,} row(s) "
            f"unexpected ({percent:.2f} %){shown}: {column!r} must be {requires}{note}"
            + (f"; first {located} {location}" if location else "")
            + f"; column {exprs[column]}"
            + (f" of {source}" if source else "")
            + f"; needed by {rules}"
        )
    return ExpectationResult(
        expect=check.expect,
        expectation=gx_name,
        column=column,
        expression=exprs.get(column),
        parameters=parameters,
        success=success,
        rows=tally.rows,
        unexpected=tally.unexpected,
        unexpected_percent=percent,
        examples=examples,
        masked=not safe,
        location=location,
        message=message,
        guards=list(check.guards),
    )
