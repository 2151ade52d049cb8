"""``ethicsgate examples bakery`` and ``audit`` on automation logs: exit codes and messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ethicsgate.cli import cli
from ethicsgate.examples.bakery import EXPECTED


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def bakery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bakery")
    code, stdout, stderr = run("examples", "bakery", "--out", str(out), "--seed", "3")
    assert code == 0, stderr
    assert f"next: ethicsgate audit {out / 'audit.yaml'}" in stdout
    return out


def test_examples_bakery_writes_data_policy_and_spec(bakery: Path) -> None:
    names = sorted(p.name for p in bakery.iterdir())
    assert names == [
        "README.md",
        "audit.yaml",
        "bakery-policy.yaml",
        "chat_events.jsonl",
        "consent_ledger.csv",
        "discount_events.csv",
        "email_sends.csv",
        "loyalty_decisions.csv",
        "privacy_requests.csv",
    ]


def test_examples_bakery_json_lists_the_files_and_what_the_audit_must_find(
    tmp_path: Path,
) -> None:
    code, stdout, _ = run(
        "examples", "bakery", "--out", str(tmp_path), "--data-only", "--format", "json"
    )
    assert code == 0
    data = json.loads(stdout)
    assert data["expected"] == EXPECTED
    assert set(data["files"]) == {
        "README.md", "chat_events.jsonl", "consent_ledger.csv", "email_sends.csv",
        "loyalty_decisions.csv", "discount_events.csv", "privacy_requests.csv",
    }  # fmt: skip


def test_examples_bakery_keeps_an_edited_file_and_names_the_flags_to_change(
    tmp_path: Path,
) -> None:
    assert run("examples", "bakery", "--out", str(tmp_path))[0] == 0
    (tmp_path / "audit.yaml").write_text("# my edit\n")
    code, _, stderr = run("examples", "bakery", "--out", str(tmp_path))
    assert code == 2 and "Traceback" not in stderr
    assert (
        "1 file(s) there differ from the bakery example's and would be lost: audit.yaml" in stderr
    )
    assert "hint: pass --force to overwrite them, or choose another folder (--out)" in stderr
    assert (tmp_path / "audit.yaml").read_text() == "# my edit\n"


def test_bakery_audit_exits_1_and_finds_the_planted_violations(
    bakery: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    code, stdout, stderr = run("audit", str(bakery / "audit.yaml"), "--out", str(out))
    assert code == 1, stderr
    assert "✘ FAIL  chatbot-discloses-automation (block): 10 of " in stdout
    assert "⚠ WARN  unsubscribes-stop-email (warn): 8 of " in stdout
    report = json.loads((out / "report.json").read_text())
    assert {r["id"]: r["violations_by_reason"] for r in report["rules"]} == EXPECTED
    assert report["status"] == "fail"
    assert report["summary"]["blocking_failed"] == 13


def _copy(bakery: Path, tmp_path: Path) -> Path:
    for path in bakery.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    return tmp_path / "audit.yaml"


def test_unparsable_send_time_exits_2_naming_file_row_and_column(
    bakery: Path, tmp_path: Path
) -> None:
    spec = _copy(bakery, tmp_path)
    sends = tmp_path / "email_sends.csv"
    lines = sends.read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace(lines[5].split(",")[4], "2025-02-30 09:00:00")
    sends.write_text("".join(lines))
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 2
    assert f"error: {sends}:6: evidence 'email_sends': 'ts' is not a timestamp" in stderr
    assert "found '2025-02-30 09:00:00' in row 5 (line 6), column sent_at" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "r").exists()  # never a partial report


def test_unknown_sender_exits_2_naming_the_line(bakery: Path, tmp_path: Path) -> None:
    spec = _copy(bakery, tmp_path)
    chat = tmp_path / "chat_events.jsonl"
    lines = chat.read_text().splitlines(keepends=True)
    lines[9] = (
        lines[9]
        .replace('"sender": "customer"', '"sender": "robot"')
        .replace('"sender": "bot"', '"sender": "robot"')
    )
    chat.write_text("".join(lines))
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 2
    assert (
        f"{chat}:10: evidence 'chat': 'actor' is not one of bot, human, customer, system" in stderr
    )
    assert "found 'robot' in row 10 (line 10)" in stderr
    # the spec maps actor with a CASE already: the fix wraps it, and works as written
    case = "CASE sender WHEN 'agent' THEN 'human' ELSE sender END"
    assert f"actor: \"CASE ({case}) WHEN 'robot' THEN 'human' ELSE ({case}) END\"" in stderr
    follow_actor_hint(spec, stderr)
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 1, stderr


#: The mapping an unknown actor's hint suggests, as YAML: ``actor: "..."``.
_HINT_MAPPING = re.compile(r'hint: .*?e\.g\. (actor: "(?:[^"\\]|\\.)*")')


def follow_actor_hint(spec: Path, stderr: str) -> None:
    """Put the hint's ``actor:`` mapping, exactly as printed, in place of the spec's one."""
    found = _HINT_MAPPING.search(stderr)
    assert found, stderr
    text, n = re.subn(
        r"(?m)^( +)actor: .*$", lambda m: m.group(1) + found.group(1), spec.read_text()
    )
    assert n == 1, text
    spec.write_text(text)


def _map_actor(spec: Path, mapping: str) -> None:
    text = spec.read_text()
    old = "actor: \"CASE sender WHEN 'agent' THEN 'human' ELSE sender END\""
    assert old in text
    spec.write_text(text.replace(old, f"actor: {mapping}"))


def test_unknown_actor_hint_cases_the_mapped_column_on_the_value_found(
    bakery: Path, tmp_path: Path
) -> None:
    spec = _copy(bakery, tmp_path)
    _map_actor(spec, "sender")  # the column as is: its staff are "agent"
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 2
    assert "'actor' is not one of bot, human, customer, system" in stderr
    assert "found 'agent' in row" in stderr and "column sender" in stderr
    assert "actor: \"CASE sender WHEN 'agent' THEN 'human' ELSE sender END\"" in stderr
    follow_actor_hint(spec, stderr)
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 1, stderr  # the bakery's planted violations, read at last


def test_unknown_actor_hint_quotes_what_sql_and_yaml_need(bakery: Path, tmp_path: Path) -> None:
    spec = _copy(bakery, tmp_path)
    chat = tmp_path / "chat_events.jsonl"
    rows = [json.loads(line) for line in chat.read_text().splitlines()]
    for row in rows:
        row["Sent By"] = row.pop("sender")
    rows[4]["Sent By"] = 'the owner\'s "desk"'
    chat.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _map_actor(spec, "'\"Sent By\"'")
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 2
    assert "found 'the owner\\'s \"desk\"' in row 5" in stderr
    sql = "CASE \"Sent By\" WHEN 'the owner''s \"desk\"' THEN 'human' ELSE \"Sent By\" END"
    assert "actor: " + json.dumps(sql) in stderr
    follow_actor_hint(spec, stderr)
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 2 and "found 'agent' in row" in stderr  # the next value, and its fix
    follow_actor_hint(spec, stderr)
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 1, stderr


def test_a_missing_actor_hint_gives_it_a_value(bakery: Path, tmp_path: Path) -> None:
    spec = _copy(bakery, tmp_path)
    chat = tmp_path / "chat_events.jsonl"
    rows = [json.loads(line) for line in chat.read_text().splitlines()]
    rows[2]["sender"] = None
    chat.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _map_actor(spec, "sender")
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 2 and "found NULL (missing) in row 3" in stderr
    assert "map missing values to bot, human, customer, system under columns.actor" in stderr
    assert "actor: \"coalesce(sender, 'human')\"" in stderr
    follow_actor_hint(spec, stderr)
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 2 and "found 'agent' in row" in stderr
    assert "CASE (coalesce(sender, 'human')) WHEN 'agent'" in stderr
    follow_actor_hint(spec, stderr)
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 1, stderr


def test_mapping_to_a_missing_column_exits_2_at_the_audit_spec(
    bakery: Path, tmp_path: Path
) -> None:
    spec = _copy(bakery, tmp_path)
    spec.write_text(spec.read_text().replace("ts: sent_at", "ts: sent_on"))
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 2
    assert f"{spec}:23:11: evidence 'email_sends': the expression for 'ts' (sent_on)" in stderr
    assert "sent_at" in stderr  # the columns that do exist


def test_shipped_bakery_policy_checks(bakery: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    code, stdout, _ = run("policy", "check", str(root / "policies/bakery-customer-automation.yaml"))
    assert code == 0
    assert "(bakery-customer-automation 1.3, 14 rule(s))" in stdout
