"""``ethicsgate review`` and ``audit --enqueue`` end to end on a SQLite store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import POLICY

from ethicsgate.cli import cli
from ethicsgate.review import open_store

# two groups fail the four-fifths rule against group a
DATA = (
    "group,label,prediction\n"
    + "a,1,1\na,0,1\n" * 5
    + "b,1,0\nb,0,0\n" * 5
    + "c,1,1\nc,0,0\nc,1,0\nc,0,0\n" * 2
)
REVIEWED = POLICY.replace(
    "    references: [eeoc]\n", "    references: [eeoc]\n    review: {sla: 2d}\n"
)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'review.db'}"


@pytest.fixture
def enqueued(make_audit: Callable[..., Path], tmp_path: Path, db: str) -> Path:
    spec = make_audit(DATA, policy=REVIEWED)
    code, stdout, stderr = run(
        "audit", str(spec), "--out", str(tmp_path / "out"), "--enqueue", "--db", db
    )
    assert code == 1, stderr
    return spec


def review(db: str, *args: str, who: str = "alice") -> tuple[int, str, str]:
    return run("review", *args, "--db", db, "--as", who)


def test_enqueue_twice_adds_each_failing_group_once(
    enqueued: Path, tmp_path: Path, db: str
) -> None:
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["review"]["enqueued"] == 2
    assert report["review"]["rules"] == [
        {"rule_id": "parity", "open": 2, "overdue": 0, "decided": 0, "escalated": 0, "dismissed": 0}
    ]
    code, _, _ = run(
        "audit", str(enqueued), "--out", str(tmp_path / "out"), "--enqueue", "--db", db
    )
    assert code == 1
    again = json.loads((tmp_path / "out" / "report.json").read_text())["review"]
    assert (again["enqueued"], again["already_queued"]) == (0, 2)
    code, stdout, _ = review(db, "list", "--format", "json")
    items = json.loads(stdout)
    assert [i["record_id"] for i in items] == ["group:group=b", "group:group=c"]
    assert items[0]["fields"]["metric"] == "selection_rate"
    assert items[0]["audit_id"] == "test-audit" and items[0]["severity"] == "block"


def test_claim_decide_and_the_next_report_shows_it(enqueued: Path, tmp_path: Path, db: str) -> None:
    code, stdout, _ = review(db, "claim", "--format", "json")
    first = json.loads(stdout)
    assert code == 0 and first["status"] == "claimed" and first["assignee"] == "alice"
    code, stdout, _ = review(
        db, "decide", str(first["id"]), "--outcome", "dismissed", "--note", "small sample"
    )
    assert code == 0 and "dismissed by alice" in stdout and "note: small sample" in stdout
    code, stdout, _ = run("review", "claim", "--db", db, env={"ETHICSGATE_REVIEWER": "bob"})
    assert code == 0 and "[bob]" in stdout
    code, stdout, _ = review(db, "claim", "--format", "json")
    assert json.loads(stdout) is None  # nothing left to claim
    code, stdout, _ = review(db, "list", "--assignee", "bob")
    assert "1 item(s)" in stdout
    code, stdout, _ = review(db, "show", str(first["id"]), "--format", "json")
    assert json.loads(stdout)["outcome"] == "dismissed"

    out = tmp_path / "next"
    run("audit", str(enqueued), "--out", str(out), "--db", db)
    summary = json.loads((out / "report.json").read_text())["review"]
    assert summary["enqueued"] == 0
    assert summary["rules"][0] == {
        "rule_id": "parity",
        "open": 1,
        "overdue": 0,
        "decided": 1,
        "escalated": 0,
        "dismissed": 1,
    }
    md = (out / "report.md").read_text()
    assert "## Human review queue" in md and "| `parity` | 1 | 0 | 1 | 0 | 1 |" in md
    assert "Human review queue" in (out / "report.html").read_text()


def test_decide_next_claims_the_next_item_in_the_same_step(enqueued: Path, db: str) -> None:
    code, stdout, _ = review(db, "claim", "--format", "json")
    first = json.loads(stdout)
    code, stdout, stderr = review(
        db, "decide", str(first["id"]), "--outcome", "confirmed", "--next", "--format", "json"
    )
    assert code == 0, stderr
    both = json.loads(stdout)
    assert both["decided"]["id"] == first["id"] and both["decided"]["outcome"] == "confirmed"
    second = both["next"]
    assert second["id"] != first["id"] and (second["status"], second["assignee"]) == (
        "claimed",
        "alice",
    )
    code, stdout, _ = review(
        db, "decide", str(second["id"]), "--outcome", "escalated", "--note", "legal", "--next"
    )
    assert code == 0 and f"#{second['id']}" in stdout and "escalated" in stdout
    assert "nothing more to claim: the queue is empty" in stdout
    # a refused decision claims nothing either, and exits 2 with the reason
    code, _, stderr = review(db, "decide", str(second["id"]), "--outcome", "confirmed", "--next")
    assert code == 2 and "it is escalated, not claimed" in stderr and "Traceback" not in stderr
    code, stdout, _ = run("review", "verify-log", "--db", db)
    assert code == 0, stdout


def test_an_approver_claims_and_decides_escalated_items_from_the_cli(
    enqueued: Path, db: str
) -> None:
    code, stdout, _ = review(db, "claim", "--format", "json")
    first = json.loads(stdout)
    code, _, stderr = review(db, "decide", str(first["id"]), "--outcome", "escalated", "--next")
    assert code == 0, stderr
    code, stdout, _ = review(db, "claim", "--escalated", "--format", "json", who="carol")
    taken = json.loads(stdout)
    assert (taken["id"], taken["assignee"]) == (first["id"], "carol")
    code, stdout, stderr = review(
        db, "decide", str(taken["id"]), "--outcome", "confirmed", "--next", "--escalated",
        who="carol",
    )  # fmt: skip
    assert code == 0, stderr
    assert "nothing more to claim: no escalated item is waiting" in stdout
    code, stdout, _ = review(db, "claim", "--escalated", who="carol")
    assert code == 0 and "nothing to claim: no escalated item is waiting" in stdout
    for args, message in [
        (("decide", "1", "--outcome", "confirmed", "--escalated"), "add --next"),
        (("claim", "1", "--escalated"), "give ITEM or --escalated, not both"),
    ]:
        code, _, stderr = review(db, *args)
        assert code == 2 and message in stderr and "Traceback" not in stderr
    code, stdout, _ = run("review", "verify-log", "--db", db)
    assert code == 0, stdout


def test_report_without_a_store_has_no_review_section(
    make_audit: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ETHICSGATE_DB_URL", raising=False)
    spec = make_audit(DATA, policy=REVIEWED)
    run("audit", str(spec), "--out", str(tmp_path / "out"))
    assert "review" not in json.loads((tmp_path / "out" / "report.json").read_text())
    assert "review queue" not in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "99"), "no review item 99"),
        (("show", "99999999999999999999"), "no review item 99999999999999999999"),
        (("claim", "99999999999999999999"), "no review item 99999999999999999999"),
        (("decide", "1", "--outcome", "confirmed"), "it is open, not claimed"),
        (("release", "1"), "it is open, not claimed"),
        (("list", "--lease", "soon"), "bad lease 'soon'"),
    ],
)
def test_bad_requests_exit_2(enqueued: Path, db: str, args: tuple[str, ...], message: str):
    code, _, stderr = review(db, *args)
    assert code == 2
    assert message in stderr and "Traceback" not in stderr


def test_dismissal_needs_a_note_and_claims_are_personal(enqueued: Path, db: str) -> None:
    review(db, "claim")
    code, _, stderr = review(db, "decide", "1", "--outcome", "dismissed")
    assert code == 2 and "needs a note" in stderr
    code, _, stderr = review(db, "decide", "1", "--outcome", "confirmed", who="mallory")
    assert code == 2 and "claimed by alice, not mallory" in stderr
    code, _, stderr = review(db, "decide", "1", "--outcome", "confirmed", "--note", "n" * 4001)
    assert code == 2 and "Traceback" not in stderr  # as the web app and the API refuse it
    assert "is 4,001 characters long; a note holds at most 4,000" in stderr
    assert "hint: shorten it" in stderr
    code, _, _ = review(db, "release", "1")
    assert code == 0


def test_a_sqlite_store_under_a_file_names_the_store_and_the_file(tmp_path: Path) -> None:
    """Found by QA: the error was "/tmp/.../data.csv: File exists", naming no store."""
    (tmp_path / "a-file").write_text("x\n")
    url = f"sqlite:///{tmp_path / 'a-file' / 'review.db'}"
    code, _, stderr = run("review", "claim", "--db", url)
    assert code == 2 and "Traceback" not in stderr
    assert (
        f"error: cannot make the folder of review database {url}: "
        f"{tmp_path / 'a-file'} is a file, not a folder"
    ) in stderr
    assert "hint: pass --db (or ETHICSGATE_DB_URL) a sqlite:///path.db in a folder" in stderr


def test_a_blank_reviewer_name_is_refused_not_replaced_by_the_os_user(
    enqueued: Path, db: str
) -> None:
    """Found by QA: --as '   ' was logged as '   ', and --as '' acted as the OS user."""
    for name in ("", "   "):
        code, stdout, stderr = run("review", "claim", "--db", db, "--as", name)
        assert code == 2 and "Traceback" not in stderr and stdout == ""
        assert f"--as gives the reviewer's name as {name!r}, which is blank" in stderr
        assert "hint: give --as the reviewer's name" in stderr
    code, _, _ = run("review", "claim", "--db", db, "--as", "  alice ")
    assert code == 0
    code, stdout, _ = run("review", "list", "--db", db, "--status", "claimed", "--format", "json")
    assert [i["assignee"] for i in json.loads(stdout)] == ["alice"]  # nothing else claimed


def test_a_reviewer_name_longer_than_the_log_takes_is_refused_naming_the_flag(
    enqueued: Path, db: str
) -> None:
    """A 129-character --as was logged on SQLite and a DataError (exit 3) on PostgreSQL."""
    code, stdout, stderr = run("review", "claim", "--db", db, "--as", "a" * 129)
    assert code == 2 and "Traceback" not in stderr and stdout == ""
    assert "--as gives a reviewer's name 129 characters long; a name holds at most 128" in stderr
    assert "hint: give --as a name of at most 128 characters" in stderr
    env = {"ETHICSGATE_REVIEWER": "b" * 129}
    code, _, stderr = run("review", "claim", "--db", db, env=env)
    assert code == 2 and "Traceback" not in stderr
    assert "ETHICSGATE_REVIEWER gives a reviewer's name 129 characters long" in stderr
    code, stdout, _ = run("review", "list", "--db", db, "--status", "claimed", "--format", "json")
    assert json.loads(stdout) == []  # nothing claimed


def test_bad_db_url_exits_2(tmp_path: Path) -> None:
    code, _, stderr = run("review", "list", "--db", "oracle://x/y")
    assert code == 2 and "only sqlite and postgresql" in stderr


def test_an_unknown_sqlite_synchronous_mode_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "review.db"
    env = {"ETHICSGATE_SQLITE_SYNCHRONOUS": "sometimes"}
    code, _, stderr = run("review", "list", "--db", f"sqlite:///{path}", env=env)
    assert code == 2, stderr
    assert "ETHICSGATE_SQLITE_SYNCHRONOUS" in stderr and "'sometimes'" in stderr
    assert "FULL (the default), NORMAL or EXTRA" in stderr and "Traceback" not in stderr
    assert not path.exists()


def test_a_file_that_is_not_sqlite_exits_2(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("these are my notes, not a database\n")
    code, _, stderr = run("review", "list", "--db", f"sqlite:///{tmp_path / 'notes.db'}")
    assert code == 2, stderr
    assert "cannot open review database" in stderr and "file is not a database" in stderr
    assert "Traceback" not in stderr
    assert (tmp_path / "notes.db").read_text() == "these are my notes, not a database\n"


def test_export_and_verify_log(enqueued: Path, tmp_path: Path, db: str) -> None:
    review(db, "claim")
    review(db, "decide", "1", "--outcome", "confirmed")
    code, stdout, _ = run("review", "export", "--db", db, "--format", "jsonl")
    assert code == 0 and len(stdout.splitlines()) == 2
    out = tmp_path / "items.csv"
    code, _, _ = run("review", "export", "--db", db, "--format", "csv", "--out", str(out))
    assert code == 0 and out.read_text().startswith("id,policy_id,policy_version,rule_id,")
    assert len(out.read_text().splitlines()) == 3
    code, stdout, _ = run("review", "export", "--db", db, "--log")
    log = json.loads(stdout)
    assert [e["action"] for e in log] == ["enqueue", "enqueue", "claim", "decide"]
    assert log[1]["prev_hash"] == log[0]["hash"]
    code, stdout, _ = run("review", "verify-log", "--db", db)
    assert code == 0 and "decision log intact: 4 entries" in stdout

    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as con:
        con.execute("UPDATE review_log SET data = replace(data, 'confirmed', 'dismissed')")
    code, stdout, _ = run("review", "verify-log", "--db", db, "--format", "json")
    assert code == 1
    result = json.loads(stdout)
    assert not result["ok"] and any("entry 4: hash does not match" in p for p in result["problems"])


def test_export_filters_items_like_list(enqueued: Path, tmp_path: Path, db: str) -> None:
    review(db, "claim")
    review(db, "decide", "1", "--outcome", "confirmed")
    code, stdout, _ = run("review", "export", "--db", db, "--status", "decided")
    assert code == 0 and [i["id"] for i in json.loads(stdout)] == [1]
    code, stdout, _ = run("review", "export", "--db", db, "--status", "open", "--format", "jsonl")
    assert code == 0 and [json.loads(line)["id"] for line in stdout.splitlines()] == [2]
    code, stdout, _ = run("review", "export", "--db", db, "--rule", "no-such-rule")
    assert code == 0 and json.loads(stdout) == []
    code, stdout, _ = run("review", "export", "--db", db, "--limit", "1")
    assert code == 0 and len(json.loads(stdout)) == 1
    # the log is exported whole: a filtered part of a hash chain could not be verified
    out = tmp_path / "log.json"
    code, _, stderr = run(
        "review", "export", "--db", db, "--log", "--status", "open", "--out", str(out)
    )
    assert code == 2 and "--log exports the whole decision log; --status filter" in stderr
    assert not out.exists()


def test_cli_start_does_not_import_sqlalchemy(tmp_path: Path) -> None:
    # run from a file, not `python -c` (see DEPENDENCY-NOTES: -c can hide an early exit)
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\nimport ethicsgate.cli\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'psycopg') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


CHAT_POLICY = """
schema_version: 1
id: chat-policy
version: "1"
title: Chat
owner: Tests
rules:
  - id: disclosure
    kind: transparency
    check: bot_disclosure
    dataset: chats
    max_findings: 1
    review: true
"""
CHAT_AUDIT = """
schema_version: 1
id: chat-audit
policy: policy.yaml
evidence:
  chats:
    path: chats.jsonl
"""


def test_record_findings_are_all_enqueued_while_the_report_keeps_max_findings(
    make_audit: Callable[..., Path], tmp_path: Path, db: str
) -> None:
    events = [
        {
            "conversation_id": f"c{i}",
            "ts": f"2026-01-01T00:0{i}:00Z",
            "actor": "bot",
            "type": "message",
            "text": "Hello, how can I help?",
        }
        for i in range(3)
    ] + [
        {
            "conversation_id": "c9",
            "ts": "2026-01-01T00:09:00Z",
            "actor": "bot",
            "type": "message",
            "text": "Hi, I am a bot",
        }
    ]
    data = "".join(json.dumps(e) + "\n" for e in events)
    spec = make_audit(data, policy=CHAT_POLICY, audit=CHAT_AUDIT, data_name="chats.jsonl")
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "q"), "--enqueue", "--db", db)
    assert code == 1, stderr
    queued = json.loads((tmp_path / "q" / "report.json").read_text())
    run("audit", str(spec), "--out", str(tmp_path / "plain"))
    plain = json.loads((tmp_path / "plain" / "report.json").read_text())

    assert queued.pop("review")["enqueued"] == 3  # every violating conversation
    rule = queued["rules"][0]
    assert len(rule["findings"]) == 1 and rule["findings_total"] == 3
    assert rule["findings_truncated"]
    for report in (queued, plain):  # the same report with or without --enqueue
        report["audit"].pop("started_at")
        report["audit"].pop("finished_at")
    assert queued == plain

    code, stdout, _ = review(db, "list", "--format", "json")
    items = json.loads(stdout)
    assert [i["record_id"] for i in items] == ["c0", "c1", "c2"]
    assert items[0]["reason"] == "not_disclosed"
    assert set(items[0]["fields"]) == set(rule["findings"][0]["fields"])  # only the named fields


LL144_POLICY = """
schema_version: 1
id: ll144-test
version: "1"
title: LL144 test
owner: Tests
rules:
  - id: ll144-selection
    kind: fairness
    dataset: predictions
    severity: block
    sensitive_features: [sex]
    impact_ratio: selection
    metrics: [selection_rate]
    min_group_size: 1
    uncertainty: {bootstrap_samples: 200, confidence_level: 0.9, seed: 7}
    assert:
      - {metric: impact_ratio, op: ">=", value: 0.8, significant_at: 0.05}
"""
# men: 40 of 50 selected; women: 10 of 50 -> impact ratio 0.25
LL144_DATA = (
    "sex,label,prediction\n"
    + "Male,1,1\n" * 40
    + "Male,0,0\n" * 10
    + "Female,1,1\n" * 10
    + "Female,0,0\n" * 40
)


def test_a_failing_ll144_category_shows_its_numbers_in_claim_show_and_json(
    make_audit: Callable[..., Path], tmp_path: Path, db: str
) -> None:
    import math

    spec = make_audit(LL144_DATA, policy=LL144_POLICY)
    code, _, stderr = run(
        "audit", str(spec), "--out", str(tmp_path / "out"), "--enqueue", "--db", db
    )
    assert code == 1, stderr
    # the oracle: the pooled two-proportion z-test written out by hand
    pooled = 50 / 100
    z = (10 / 50 - 40 / 50) / math.sqrt(pooled * (1 - pooled) * (1 / 50 + 1 / 50))
    p = math.erfc(abs(z) / math.sqrt(2))
    row = json.loads((tmp_path / "out" / "report.json").read_text())["rules"][0]
    female = next(
        r
        for t in row["impact_ratio"]["tables"]
        for r in t["rows"]
        if r["category"]["sex"] == "Female"
    )
    code, stdout, _ = review(db, "claim", "--format", "json")
    fields = json.loads(stdout)["fields"]
    assert fields["observed"] == fields["ratio"] == "0.25"
    assert fields["group"] == "sex = Female" and fields["sex"] == "Female"
    assert fields["group_rate"] == "0.2" and fields["group_counts"] == "10 of 50"
    assert fields["reference_group"] == "sex = Male"
    assert fields["reference_rate"] == "0.8" and fields["reference_counts"] == "40 of 50"
    interval = female["impact_ratio_interval"]
    assert fields["interval_low"] == f"{interval['low']:.6g}"
    assert fields["interval_high"] == f"{interval['high']:.6g}"
    assert fields["confidence_level"] == "0.9"
    assert float(fields["p_value"]) == pytest.approx(p, rel=1e-5)
    assert fields["test"] == "two-proportion z-test" and fields["significant_at"] == "0.05"
    assert fields["requirement"] == ">= 0.8"
    assert fields["summary"].startswith(
        "Applicants in sex = Female were selected at 20.0 % (10 of 50), against 80.0 % "
        "(40 of 50) in the most selected category, sex = Male. The impact ratio is 0.25 (90 % "
        "confidence interval"
    )
    assert "two-proportion z-test" in fields["summary"]
    assert "(significant at the 0.05 level)" in fields["summary"]
    # the text of show (and claim) leads with the sentence, then every number by name
    code, text, _ = review(db, "show", "1")
    assert code == 0
    assert "(missing)" not in text
    lines = text.splitlines()
    assert lines[0].endswith(
        "ll144-selection group:sex=Female: impact_ratio_value (impact_ratio 0.25, required >= 0.8) "
        "[alice]"
    )
    assert lines[2].startswith("  Applicants in sex = Female were selected at 20.0 %")
    for line in ("ratio: 0.25", "reference_group: sex = Male", "test: two-proportion z-test"):
        assert f"  {line}" in lines


@pytest.mark.parametrize("command", ["list", "export"])
def test_an_audit_the_queue_has_never_seen_is_said_with_the_ones_it_has(
    enqueued: Path, tmp_path: Path, db: str, command: str
) -> None:
    # found by QA: a mistyped --audit printed [] and exited 0 without a word, as if nothing
    # were to review. It still lists nothing and exits 0 (an audit with nothing to review
    # queues nothing, so its id is unknown too, and scripts list right after it), with a note
    out = tmp_path / "items.json"
    args = ("--out", str(out)) if command == "export" else ()
    code, stdout, stderr = run(
        "review", command, "--db", db, "--audit", "test-audti", "--format", "json", *args
    )
    assert code == 0 and "Traceback" not in stderr
    assert json.loads(out.read_text() if command == "export" else stdout) == []
    assert "note: no review item of audit 'test-audti' (did you mean 'test-audit'?)" in stderr
    assert "the queue holds items of the audits test-audit (an audit queues" in stderr
    # the audit is known: no item matching the other filters is an empty answer, no note
    filtered = ("--audit", "test-audit", "--status", "decided", "--format", "json")
    code, stdout, stderr = run("review", command, "--db", db, *filtered)
    assert code == 0 and json.loads(stdout) == [] and "note:" not in stderr, stderr
    code, stdout, _ = run(
        "review", command, "--db", db, "--audit", "test-audit", "--format", "json"
    )
    assert code == 0 and len(json.loads(stdout)) == 2
    # a mistyped --rule likewise
    with open_store(db) as store:
        rule = store.list_items()[0].rule_id
    code, stdout, stderr = run("review", command, "--db", db, "--rule", rule[:-1] + "x")
    assert code == 0 and f"(did you mean {rule!r}?)" in stderr, stderr
    assert f"note: no review item of rule {rule[:-1] + 'x'!r}" in stderr
