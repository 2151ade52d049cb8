"""The checks of issue #20 over 10 million log rows, each against a plain DuckDB query (the floor).

For each check (``notice_before_decision``, ``opt_out_honored``, ``request_answered``,
``log_retention``, ``disclosed_on_request``, ``pricing_disclosed``, and California SB 243's
``periodic_reminder`` and ``crisis_referral``) two fresh processes, each timed with its peak
RSS by the wrapper in ``_common.measure_wrapped``:

- ``ethicsgate audit``: the CLI on an audit spec with that one rule, end to end: start-up,
  reading the Parquet evidence into typed DuckDB tables (roles checked, exact duplicates
  collapsed, ids checked), the check's query through ``Rows``/``Dialect``, counts and the first
  1,000 findings, ``findings.parquet`` with every violation, the evidence hashes and the reports;
- the floor: a DuckDB query written by hand for this data that computes only the number of
  violations (no typing, no duplicate or id checks, no findings, no report): what any tool
  must at least do.

The oracle: both must count the same violations (the data has no duplicates, no missing ids and
no ties the floor would treat differently), or the run stops before the docs are touched.

The synthetic data (seeded numpy; ``--rows`` rows in each of the event log, the request log,
the chat log and a companion chatbot's log of 40-message sessions, plus a ledger of profiling
opt-outs for 5 % of the subjects) goes to
``benchmarks/data/logchecks/`` (git-ignored) and is reused when present. Results go to
``docs/benchmarks.md`` between ``<!-- bench_logchecks:start -->`` and
``<!-- bench_logchecks:end -->``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_logchecks.py               # 1e7 rows
    .venv/bin/python benchmarks/bench_logchecks.py --rows 1e5 --no-doc
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _common import ROOT, log, machine_info, measure_wrapped, parse_count, update_doc_section

from ethicsgate.policy.models import (
    DEFAULT_DISCLOSURE_PATTERNS,
    DEFAULT_IDENTITY_QUESTION_PATTERNS,
    DEFAULT_REFERRAL_PATTERNS,
    DEFAULT_REMINDER_PATTERNS,
    DEFAULT_RISK_PATTERNS,
    NY_PRICING_DISCLOSURE,
)

START = "<!-- bench_logchecks:start -->"
END = "<!-- bench_logchecks:end -->"
DATA = ROOT / "benchmarks" / "data" / "logchecks"
SEED = 20_261_205
BASE = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
DAY = 86_400
SPAN_DAYS = 200
GAP_DAYS = (120, 125)  # an outage: no row of the event log on these 5 days
REQUEST_TYPES = ["access_request", "explanation_request", "correction_request", "other"]
CHAT_TEXTS = [
    "Do you have rye bread today?",
    "We open at 8.",
    "Are you a bot?",
    "Bist du ein Mensch?",
    "Yes, I'm a virtual assistant.",
    "Sure, one moment.",
    "Thanks!",
]
ACTORS = ["customer", "bot", "human"]


def _ts(seconds: Any) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype="int64") * 1_000_000, pa.timestamp("us", tz="UTC"))


def _dictionary(codes: Any, values: list[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values)).cast(
        pa.string()
    )


COMPANION_TEXTS = [
    "tell me a story",  # the user
    "I want to die",  # the user, now and then
    "Once upon a time...",  # the companion
    "I'm really glad you told me. Please call or text 988, the Suicide and Crisis Lifeline.",
    "I'm here for you.",  # a reply to self-harm without a referral
    "Time for a break! Remember, I'm an AI, not a person.",  # a reminder event
]
SESSION = 40  # messages per companion session, one every 2-8 minutes: about 3h20m


def ensure_companion(rows: int, path: Path) -> None:
    """Write the companion chatbot's log: sessions of users (30 % known minors) and the bot.

    Known minors' sessions get a break reminder after the 20th message in 4 of 5 sessions (so
    about a fifth of them run past three hours without one); 1 user message in 200 expresses
    self-harm, and the bot's reply refers to 988 nine times in ten.
    """
    rng = np.random.default_rng(SEED + 243)
    sessions = max(rows // SESSION, 1)
    rows = sessions * SESSION
    session = np.arange(rows) // SESSION
    step = np.arange(rows) % SESSION
    gaps = rng.integers(120, 480, rows)
    gaps[step == 0] = 0
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[::SESSION], SESSION)
    start = BASE + rng.integers(0, SPAN_DAYS * DAY, sessions)
    minor = np.repeat(rng.random(sessions) < 0.3, SESSION)
    actor = np.where(step % 2 == 0, 0, 1)  # customer, bot
    text = np.where(actor == 0, 0, 2)
    risk = (actor == 0) & (rng.random(rows) < 0.005)
    text[risk] = 1
    reply = np.flatnonzero(risk) + 1  # the bot's next message
    text[reply] = np.where(rng.random(len(reply)) < 0.9, 3, 4)
    kind = np.zeros(rows, dtype="int32")
    reminded = np.repeat(rng.random(sessions) < 0.8, SESSION) & minor & (step == 21)
    actor[reminded], text[reminded], kind[reminded] = 2, 5, 1  # a system event, not the bot
    pq.write_table(
        pa.table(
            {
                "session": pa.array(session),
                "ts": _ts(np.repeat(start, SESSION) + elapsed),
                "actor": _dictionary(actor, ["customer", "bot", "system"]),
                "type": _dictionary(kind, ["message", "break_reminder"]),
                "text": _dictionary(text, COMPANION_TEXTS),
                "minor": pa.array(minor),
            }
        ),
        path,
        row_group_size=1_000_000,
    )


def ensure_data(rows: int) -> dict[str, Path]:
    """Write (or reuse) the five Parquet files for ``rows`` rows; return them by name."""
    folder = DATA / f"{rows}"
    names = ("events", "ledger", "requests", "chat", "companion")
    paths = {n: folder / f"{n}.parquet" for n in names}
    if not paths["companion"].is_file() and all(
        p.is_file() for n, p in paths.items() if n != "companion"
    ):
        log(f"writing {rows:,} companion chat events")
        ensure_companion(rows, paths["companion"])
    if all(p.is_file() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    subjects = max(rows // 10, 1)
    log(f"writing {rows:,} event rows")
    seconds = rng.integers(0, SPAN_DAYS * DAY, rows)
    gap = (seconds >= GAP_DAYS[0] * DAY) & (seconds < GAP_DAYS[1] * DAY)
    seconds[gap] += (GAP_DAYS[1] - GAP_DAYS[0]) * DAY  # move the outage's rows after it
    # one notice per subject in the first 5 days (none for 1 % of them), the rest decisions
    # and offers: decisions before the subject's notice, or without one, violate
    noticed = np.flatnonzero(rng.random(subjects) >= 0.01)
    notices = min(len(noticed), rows // 10)
    kind = rng.choice(3, rows, p=[0.5, 0.0, 0.5])  # decision, notice, offer
    kind[:notices] = 1
    subject = rng.integers(0, subjects, rows)
    subject[:notices] = noticed[:notices]
    seconds[:notices] = rng.integers(0, 5 * DAY, notices)
    offer = kind == 2
    personal = offer & (rng.random(rows) < 0.6)
    said = np.where(personal & (rng.random(rows) < 0.99), 0, 1)
    events = pa.table(
        {
            "event_id": pa.array(np.arange(rows, dtype="int64")),
            "subject_id": pa.array(subject),
            "ts": _ts(BASE + seconds),
            "type": _dictionary(kind, ["discount_decision", "adm_notice", "offer_shown"]),
            "personalized": pa.array(np.where(offer, personal, False), mask=~offer),
            "text": _dictionary(
                said, [f"Your price: EUR 3.10. {NY_PRICING_DISCLOSURE}", "Your price: EUR 3.10."]
            ),
        }
    )
    pq.write_table(events, paths["events"], row_group_size=1_000_000)
    del events
    log("writing the opt-out ledger")
    who = rng.choice(subjects, max(subjects // 20, 1), replace=False)
    out_at = BASE + rng.integers(0, SPAN_DAYS * DAY, len(who))
    back_in = rng.random(len(who)) < 0.3
    pq.write_table(
        pa.table(
            {
                "subject_id": pa.array(np.concatenate([who, who[back_in]])),
                "purpose": pa.array(["admt"] * (len(who) + int(back_in.sum()))),
                "granted_at": pa.concat_arrays(
                    [
                        pa.nulls(len(who), pa.timestamp("us", tz="UTC")),
                        _ts(out_at[back_in] + rng.integers(DAY, 20 * DAY, int(back_in.sum()))),
                    ]
                ),
                "withdrawn_at": pa.concat_arrays(
                    [_ts(out_at), pa.nulls(int(back_in.sum()), pa.timestamp("us", tz="UTC"))]
                ),
            }
        ),
        paths["ledger"],
    )
    log(f"writing {rows:,} requests")
    received = BASE + rng.integers(0, SPAN_DAYS * DAY, rows)
    waited = rng.integers(0, 46 * DAY, rows)  # 1 day in 46 past the 45-day deadline
    answered = rng.random(rows) < 0.99
    pq.write_table(
        pa.table(
            {
                "request_id": pa.array(np.arange(rows, dtype="int64")),
                "ts": _ts(received),
                "answered_at": pa.array(
                    (received + waited) * 1_000_000,
                    pa.timestamp("us", tz="UTC"),
                    mask=~answered,
                ),
                "type": _dictionary(rng.integers(0, len(REQUEST_TYPES), rows), REQUEST_TYPES),
            }
        ),
        paths["requests"],
        row_group_size=1_000_000,
    )
    log(f"writing {rows:,} chat events")
    actor = rng.choice(3, rows, p=[0.4, 0.5, 0.1])
    text = np.where(
        actor == 0,
        rng.choice([0, 2, 3, 6], rows, p=[0.8, 0.02, 0.02, 0.16]),
        rng.choice([1, 4, 5], rows, p=[0.2, 0.7, 0.1]),
    )
    pq.write_table(
        pa.table(
            {
                "conversation_id": pa.array(rng.integers(0, max(rows // 10, 1), rows)),
                "ts": _ts(BASE + rng.integers(0, SPAN_DAYS * DAY, rows)),
                "actor": _dictionary(actor, ACTORS),
                "type": _dictionary(np.zeros(rows, dtype="int32"), ["message"]),
                "text": _dictionary(text, CHAT_TEXTS),
            }
        ),
        paths["chat"],
        row_group_size=1_000_000,
    )
    log(f"writing {rows:,} companion chat events")
    ensure_companion(rows, paths["companion"])
    return paths


RULES: dict[str, dict[str, Any]] = {
    "notice_before_decision": {
        "kind": "transparency",
        "dataset": "events",
        "decision_types": ["discount_decision"],
        "notice_types": ["adm_notice"],
    },
    "opt_out_honored": {
        "kind": "consent",
        "dataset": "events",
        "ledger": "ledger",
        "opt_out_purposes": ["admt"],
        "event_types": ["discount_decision"],
    },
    "request_answered": {
        "kind": "oversight",
        "dataset": "requests",
        "within": "45d",
        "request_types": REQUEST_TYPES[:3],
    },
    "log_retention": {
        "kind": "oversight",
        "dataset": "events",
        "min_coverage": "183d",
        "max_gap_days": 2,
    },
    "disclosed_on_request": {"kind": "transparency", "dataset": "chat"},
    "pricing_disclosed": {
        "kind": "transparency",
        "dataset": "events",
        "event_types": ["offer_shown"],
    },
    "periodic_reminder": {"kind": "transparency", "dataset": "companion"},
    "crisis_referral": {"kind": "transparency", "dataset": "companion"},
}
#: The roles of the companion log under its own column names.
COLUMNS = {"companion": {"conversation_id": "session"}}


def _regex(patterns: tuple[str, ...]) -> str:
    """Return patterns as one SQL string literal's text, braces doubled for str.format."""
    joined = "|".join(f"(?:{p})" for p in patterns).replace("'", "''")
    return joined.replace("{", "{{").replace("}", "}}")


QUESTIONS, DISCLOSES = (
    _regex(DEFAULT_IDENTITY_QUESTION_PATTERNS),
    _regex(DEFAULT_DISCLOSURE_PATTERNS),
)
STATEMENT = r"\s+".join(NY_PRICING_DISCLOSURE.split())
REMINDS, RISKS, REFERS = (
    _regex(DEFAULT_REMINDER_PATTERNS),
    _regex(DEFAULT_RISK_PATTERNS),
    _regex(DEFAULT_REFERRAL_PATTERNS),
)

#: The floor of each check: a hand-written DuckDB query counting its violations.
FLOORS: dict[str, str] = {
    "notice_before_decision": """
        WITH d AS (SELECT subject_id, ts FROM '{events}' WHERE type = 'discount_decision'),
        n AS (SELECT DISTINCT subject_id, ts FROM '{events}' WHERE type = 'adm_notice')
        SELECT count(*) FILTER (WHERE n.ts IS NULL)
        FROM d ASOF LEFT JOIN n ON d.subject_id = n.subject_id AND d.ts >= n.ts""",
    "opt_out_honored": """
        WITH s AS (
          SELECT subject_id, granted_at AS changed, 0 AS o FROM '{ledger}' WHERE granted_at NOT NULL
          UNION ALL
          SELECT subject_id, withdrawn_at, 1 FROM '{ledger}' WHERE withdrawn_at NOT NULL),
        m AS (SELECT subject_id, changed, max(o) AS o FROM s GROUP BY ALL),
        d AS (SELECT subject_id, ts FROM '{events}' WHERE type = 'discount_decision')
        SELECT count(*) FILTER (WHERE m.o = 1)
        FROM d ASOF LEFT JOIN m ON d.subject_id = m.subject_id AND d.ts >= m.changed""",
    "request_answered": """
        WITH e AS (SELECT greatest(max(ts), max(answered_at)) AS ends FROM '{requests}')
        SELECT count(*) FILTER (WHERE answered_at > ts + INTERVAL 45 DAY
                                OR (answered_at IS NULL AND ends > ts + INTERVAL 45 DAY))
        FROM '{requests}', e
        WHERE type IN ('access_request', 'explanation_request', 'correction_request')""",
    "log_retention": """
        WITH d AS (SELECT DISTINCT CAST(ts AS DATE) AS d FROM '{events}'),
        w AS (SELECT d, lag(d) OVER (ORDER BY d) AS prev FROM d
              WHERE d >= (SELECT max(d) - 182 FROM d))
        SELECT count(*) FILTER (WHERE d - prev - 1 > 2) FROM w""",
    "disclosed_on_request": f"""
        WITH r AS (
          SELECT conversation_id AS conv, ts, actor,
                 actor = 'customer' AND coalesce(regexp_matches(text, '{QUESTIONS}', 'i'), false)
                   AS q,
                 actor IN ('bot', 'system')
                   AND coalesce(regexp_matches(text, '{DISCLOSES}', 'i'), false) AS dis
          FROM '{{chat}}'),
        q AS (SELECT DISTINCT conv, ts + INTERVAL 1 MICROSECOND AS after FROM r WHERE q),
        rep AS (SELECT conv, ts, max(actor = 'bot') AS bot FROM r
                WHERE actor IN ('bot', 'human') GROUP BY ALL),
        d AS (SELECT DISTINCT conv, ts FROM r WHERE dis),
        m AS (SELECT q.conv, q.after, rep.ts AS replied, rep.bot
              FROM q ASOF LEFT JOIN rep ON q.conv = rep.conv AND q.after <= rep.ts)
        SELECT count(DISTINCT m.conv) FILTER (
          WHERE m.replied IS NULL OR (m.bot AND (d.ts IS NULL OR d.ts > m.replied)))
        FROM m ASOF LEFT JOIN d ON m.conv = d.conv AND m.after <= d.ts""",
    "pricing_disclosed": f"""
        SELECT count(*) FILTER (
          WHERE NOT coalesce(regexp_matches(text, '{STATEMENT}', 'i'), false))
        FROM '{{events}}' WHERE type = 'offer_shown' AND personalized""",
    "periodic_reminder": f"""
        WITH r AS (
          SELECT session AS conv, ts, actor,
                 type = 'break_reminder' OR (actor IN ('bot', 'system')
                   AND coalesce(regexp_matches(text, '{REMINDS}', 'i'), false)
                   AND coalesce(regexp_matches(text, '{DISCLOSES}', 'i'), false)) AS rem
          FROM '{{companion}}' WHERE minor),
        s AS (SELECT conv FROM r GROUP BY conv HAVING bool_or(actor = 'bot')),
        w AS (
          SELECT r.conv, ts, actor, min(ts) OVER (PARTITION BY r.conv) AS began,
                 max(CASE WHEN rem THEN ts END) OVER (PARTITION BY r.conv ORDER BY ts) AS rem_at
          FROM r JOIN s ON r.conv = s.conv WHERE actor <> 'system' OR rem)
        SELECT count(DISTINCT conv) FILTER (
          WHERE actor = 'bot' AND ts > coalesce(rem_at, began) + INTERVAL 3 HOUR)
        FROM w""",
    "crisis_referral": f"""
        WITH r AS (
          SELECT session AS conv, ts, actor,
                 type = 'self_harm_risk' OR (actor = 'customer'
                   AND coalesce(regexp_matches(text, '{RISKS}', 'i'), false)) AS risk,
                 type = 'crisis_referral' OR (actor IN ('bot', 'human', 'system')
                   AND coalesce(regexp_matches(text, '{REFERS}', 'i'), false)) AS ref
          FROM '{{companion}}'),
        q AS (SELECT DISTINCT conv, ts AS risk_at, ts + INTERVAL 1 MICROSECOND AS after
              FROM r WHERE risk),
        rep AS (SELECT DISTINCT conv, ts FROM r WHERE actor IN ('bot', 'human')),
        rf AS (SELECT DISTINCT conv, ts FROM r WHERE ref),
        m AS (SELECT q.conv, q.risk_at, rep.ts AS replied
              FROM q ASOF LEFT JOIN rep ON q.conv = rep.conv AND q.after <= rep.ts)
        SELECT count(DISTINCT m.conv) FILTER (
          WHERE rf.ts IS NULL OR (m.replied IS NOT NULL AND rf.ts > m.replied))
        FROM m ASOF LEFT JOIN rf ON m.conv = rf.conv AND m.risk_at <= rf.ts""",
}
FLOOR_SCRIPT = """
import duckdb, sys
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
print(con.execute(sys.argv[1]).fetchall()[0][0])
"""


def _write_audit(folder: Path, check: str, paths: dict[str, Path]) -> Path:
    rule = {"id": check.replace("_", "-"), "check": check, **RULES[check]}
    policy = {
        "schema_version": 1,
        "id": "bench-logchecks",
        "version": "1",
        "title": "Log checks benchmark",
        "owner": "Benchmarks",
        "rules": [rule],
    }
    (folder / "policy.yaml").write_text(json.dumps(policy), encoding="utf-8")
    names = {rule["dataset"], *([rule["ledger"]] if "ledger" in rule else [])}
    audit = {
        "schema_version": 1,
        "id": "bench-logchecks",
        "policy": "policy.yaml",
        "evidence": {
            name: {
                "path": str(paths[name]),
                **({"columns": COLUMNS[name]} if name in COLUMNS else {}),
            }
            for name in sorted(names)
        },
    }
    spec = folder / "audit.yaml"
    spec.write_text(json.dumps(audit), encoding="utf-8")
    return spec


def main() -> None:
    """Run each check and its floor at ``--rows`` and write the table to docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1e7", help="rows per log (default 1e7)")
    parser.add_argument("--checks", default=",".join(RULES), help="comma-separated")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args()
    rows = parse_count(args.rows, noun=None)
    paths = ensure_data(rows)
    for path in paths.values():  # warm the page cache: every case starts alike
        path.read_bytes()
    lines = [
        START,
        "## Checks over automation logs (`benchmarks/bench_logchecks.py`)",
        "",
        "Generated by `benchmarks/bench_logchecks.py`; do not edit by hand between the markers.",
        f"Run {datetime.now(UTC):%Y-%m-%d}; machine: "
        + ", ".join(f"{k} {v}" for k, v in machine_info(["duckdb", "pyarrow"]).items())
        + f". {rows:,} rows in each log (Parquet): the event log (decisions, notices, "
        "personalised prices; a notice for 99 % of the subjects), the request log, the chat "
        "log, a companion chatbot's log (sessions of 40 messages, 30 % of them known minors', "
        "a break reminder in 4 of 5 of those, self-harm in 1 user message of 200); the opt-out "
        "ledger has "
        f"{pq.ParquetFile(paths['ledger']).metadata.num_rows:,} rows. `ethicsgate audit` runs "
        "one rule end to end (typed rows, duplicate and id checks, the check, every finding to "
        "findings.parquet, reports); the floor is one hand-written DuckDB query counting the "
        "violations. Both count the same violations (checked).",
        "",
        "| check | rows read | records | violations | ethicsgate s | ethicsgate MiB "
        "| floor s | floor MiB | × floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for check in args.checks.split(","):
        with tempfile.TemporaryDirectory(prefix="bench-logchecks-") as tmp:
            folder = Path(tmp)
            spec = _write_audit(folder, check, paths)
            log(f"{check}: ethicsgate audit")
            command = [sys.executable, "-m", "ethicsgate", "audit", str(spec), "--out"]
            _, wall, peak = measure_wrapped(
                [*command, str(folder / "r"), "--no-progress"],
                log_path=folder / "log.txt",
                ok_codes=(0, 1),
            )
            report = json.loads((folder / "r" / "report.json").read_text(encoding="utf-8"))
            (result,) = report["rules"]
            read = sum(e["rows"] for e in report["audit"]["evidence"])
            log(f"{check}: floor")
            sql = FLOORS[check].format(**{k: str(v) for k, v in paths.items()})
            _, floor_wall, floor_peak = measure_wrapped(
                [sys.executable, "-c", FLOOR_SCRIPT, sql], log_path=folder / "floor.txt"
            )
            floor_count = int((folder / "floor.txt").read_text().split()[-1])
            if floor_count != result["violations"]:
                raise SystemExit(
                    f"{check}: ethicsgate counts {result['violations']:,} violations, the floor "
                    f"{floor_count:,}"
                )
            lines.append(
                f"| `{check}` | {read:,} | {result['records_checked']:,} | "
                f"{result['violations']:,} | {wall:.2f} | {peak:,.0f} | {floor_wall:.2f} | "
                f"{floor_peak:,.0f} | {wall / floor_wall:.1f} |"
            )
            log(lines[-1])
    lines += [
        "",
        "Reproduce: `.venv/bin/python benchmarks/bench_logchecks.py` (data generated once into "
        "`benchmarks/data/logchecks/`).",
        END,
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_doc:
        update_doc_section(section, START, END)


if __name__ == "__main__":
    main()
