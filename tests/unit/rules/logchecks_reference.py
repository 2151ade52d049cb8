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
from datetime import datetime
from typing import Any

from logs_reference import Verdicts, parse_ts, records_by_id


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
