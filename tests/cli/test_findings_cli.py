"""findings.parquet: every finding of every record-level rule, signed, exported, enqueued.

The report lists a rule's first ``max_findings`` records; the file beside it holds all of
them (#23 item 4), streamed from the engine in batches, and the review queue is fed from it.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ethicsgate.audit.findings import EMPTY_FINDINGS, FINDINGS_COLUMNS, finding_batches
from ethicsgate.cli import cli

POLICY = """schema_version: 1
id: p
version: "1"
title: Denials are explained
owner: o
rules:
  - id: explained
    kind: transparency
    check: decision_explained
    title: Every denial comes with a reason
    dataset: d
    event_types: [denied]
    max_findings: 5
    review: true
"""
AUDIT = """schema_version: 1
id: a
policy: policy.yaml
evidence:
  d:
    path: d.csv
"""
ROWS = 3_000


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _unexplained(i: int) -> bool:
    return i % 5 != 0  # every fifth denial has a reason


@pytest.fixture
def audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An audit whose rule has 2,400 violations, streamed in batches of 700."""
    monkeypatch.setattr("ethicsgate.rules.records.FINDINGS_BATCH_ROWS", 700)
    lines = ["decision_id,ts,type,explanation"]
    # written out of id order: the file and the report list the records by id
    for i in reversed(range(ROWS)):
        reason = "" if _unexplained(i) else "low score"
        lines.append(f"D{i:05d},2026-01-01T00:00:{i % 60:02d}Z,denied,{reason}")
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "audit.yaml").write_text(AUDIT, encoding="utf-8")
    return tmp_path / "audit.yaml"


def test_every_finding_is_in_findings_parquet_by_id(audit: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    code, _, stderr = run("audit", str(audit), "--out", str(out))
    assert code == 1, stderr
    table = pq.read_table(out / "findings.parquet")
    assert tuple(table.column_names) == FINDINGS_COLUMNS
    expected = [f"D{i:05d}" for i in range(ROWS) if _unexplained(i)]  # the oracle: a loop
    assert table.column("record_id").to_pylist() == expected
    assert set(table.column("rule_id").to_pylist()) == {"explained"}
    rule = json.loads((out / "report.json").read_text())["rules"][0]
    assert rule["findings_total"] == rule["violations"] == len(expected) == 2_400
    assert rule["findings_truncated"] and len(rule["findings"]) == 5
    # the report's first five are the file's first five, word for word
    first = table.slice(0, 5).to_pylist()
    for listed, row in zip(rule["findings"], first, strict=True):
        assert (listed["record_id"], listed["reason"], listed["message"]) == (
            row["record_id"],
            row["reason"],
            row["message"],
        )
        assert listed["fields"] == json.loads(row["fields"])
    assert "every one is in <code>findings.parquet</code>" in (out / "report.html").read_text()


def test_a_report_without_findings_ships_the_empty_file(audit: Path, tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("decision_id,ts,type,explanation\nD1,2026-01-01,denied,ok\n")
    out = tmp_path / "r"
    assert run("audit", str(audit), "--out", str(out))[0] == 0
    from importlib import resources

    shipped = resources.files("ethicsgate.audit").joinpath(EMPTY_FINDINGS).read_bytes()
    assert (out / "findings.parquet").read_bytes() == shipped
    table = pq.read_table(out / "findings.parquet")
    assert tuple(table.column_names) == FINDINGS_COLUMNS and table.num_rows == 0
    code, stdout, _ = run("findings", "export", str(out))
    assert code == 0 and stdout == "rule_id,record_id,reason,message,fields\n"


def test_findings_parquet_is_signed_and_an_edit_is_detected(audit: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert run("keys", "generate", "--out", str(keys))[0] == 0
    out = tmp_path / "r"
    code, _, stderr = run(
        "audit", str(audit), "--out", str(out), "--key", str(keys / "ethicsgate.key")
    )
    assert code == 1, stderr
    envelope = json.loads((out / "report.intoto.json").read_text())
    import base64

    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert "findings.parquet" in {s["name"] for s in statement["subject"]}
    pub = str(keys / "ethicsgate.pub")
    assert (
        run("findings", "export", str(out), "--key", pub, "--out", str(tmp_path / "f.csv"))[0] == 0
    )
    # drop the last finding: the file still reads, but no longer verifies
    table = pq.read_table(out / "findings.parquet")
    pq.write_table(table.slice(0, table.num_rows - 1), out / "findings.parquet")
    code, _, stderr = run("verify", str(out), "--key", pub, "--evidence", "--root", str(tmp_path))
    assert code == 1 and "findings.parquet" in stderr
    target = tmp_path / "g.csv"
    code, _, stderr = run("findings", "export", str(out), "--key", pub, "--out", str(target))
    assert code == 2 and "does not verify" in stderr and not target.exists()


def test_a_parquet_file_beside_a_signed_report_is_not_exported_as_signed(
    audit: Path, tmp_path: Path
) -> None:
    # --key checks the report folder, whose signature covers findings.parquet: another file
    # named on the command line (a forged one dropped beside it) must not pass as signed
    keys = tmp_path / "keys"
    assert run("keys", "generate", "--out", str(keys))[0] == 0
    out = tmp_path / "r"
    run("audit", str(audit), "--out", str(out), "--key", str(keys / "ethicsgate.key"))
    pub = str(keys / "ethicsgate.pub")
    table = pq.read_table(out / "findings.parquet")
    pq.write_table(table.slice(0, 1), out / "forged.parquet")
    code, stdout, stderr = run("findings", "export", str(out / "forged.parquet"), "--key", pub)
    assert code == 2, stdout
    assert "forged.parquet" in stderr and "not the findings.parquet the signature covers" in stderr
    assert stdout == ""
    # a byte-for-byte copy of the signed file is what was signed: it exports
    (out / "copy.parquet").write_bytes((out / "findings.parquet").read_bytes())
    code, stdout, _ = run("findings", "export", str(out / "copy.parquet"), "--key", pub)
    assert code == 0 and len(stdout.splitlines()) == table.num_rows + 1


def test_export_csv_jsonl_and_one_rule_with_its_fields(audit: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    run("audit", str(audit), "--out", str(out))
    code, stdout, _ = run("findings", "export", str(out))
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert code == 0 and len(rows) == 2_400
    assert list(rows[0]) == ["rule_id", "record_id", "reason", "message", "fields"]
    code, stdout, _ = run("findings", "export", str(out), "--format", "jsonl")
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert [r["record_id"] for r in lines] == [r["record_id"] for r in rows]
    code, stdout, _ = run("findings", "export", str(out), "--rule", "explained")
    expanded = list(csv.DictReader(io.StringIO(stdout)))
    assert len(expanded) == 2_400 and set(json.loads(rows[0]["fields"])) <= set(expanded[0])
    target = tmp_path / "exports" / "all.csv"
    code, _, stderr = run("findings", "export", str(out / "findings.parquet"), "--out", str(target))
    assert code == 0 and "2,400 finding(s) written" in stderr
    assert target.read_text(encoding="utf-8") == run("findings", "export", str(out))[1]
    assert [p.name for p in target.parent.iterdir()] == ["all.csv"]  # no temporary left


@pytest.mark.parametrize(
    ("make", "args", "fragment"),
    [
        (None, ["findings", "export", "{tmp}/none"], "findings file not found"),
        ("junk", ["findings", "export", "{tmp}/r"], "not a readable Parquet file"),
        ("other", ["findings", "export", "{tmp}/r"], "not a findings file"),
        (
            "report",
            ["findings", "export", "{tmp}/r", "--rule", "nope"],
            "the report has no rule 'nope'",
        ),
    ],
)
def test_bad_exports_exit_2_naming_the_file(
    audit: Path, tmp_path: Path, make: str | None, args: list[str], fragment: str
) -> None:
    out = tmp_path / "r"
    if make is not None:
        run("audit", str(audit), "--out", str(out))
        if make == "junk":
            (out / "findings.parquet").write_bytes(b"PAR1 not really")
        elif make == "other":
            (out / "findings.parquet").write_bytes((out / "groups.parquet").read_bytes())
    code, stdout, stderr = run(*(a.format(tmp=tmp_path) for a in args))
    assert code == 2 and fragment in stderr and "Traceback" not in stderr and stdout == ""


def test_the_queue_gets_every_finding_not_only_the_listed_ones(
    audit: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import ethicsgate.review.enqueue  # noqa: F401 - the module, not the lazy re-export

    monkeypatch.setattr(sys.modules["ethicsgate.review.enqueue"], "ENQUEUE_BATCH", 1_000)
    db = f"sqlite:///{tmp_path / 'q.db'}"
    out = tmp_path / "r"
    code, _, stderr = run("audit", str(audit), "--out", str(out), "--enqueue", "--db", db)
    assert code == 1, stderr
    report = json.loads((out / "report.json").read_text())
    assert report["review"]["enqueued"] == 2_400
    assert len(report["rules"][0]["findings"]) == 5  # the report still lists five
    code, stdout, _ = run("review", "list", "--db", db, "--format", "json", "--limit", "5000")
    ids = sorted(item["record_id"] for item in json.loads(stdout))
    assert ids == sorted(
        r["record_id"] for b in finding_batches(out / "findings.parquet") for r in b
    )


def test_the_writer_keeps_every_row_in_order_across_many_batches(tmp_path: Path) -> None:
    from ethicsgate.audit.findings import FindingsWriter

    writer = FindingsWriter()
    expected = []
    awkward = ['quote " and \\ backslash', "new\nline\ttab", "é ü 中文 🙂", "", None]
    for batch in range(240):  # many small batches, and two large ones, read by two threads
        size = 3_000 if batch in (7, 200) else 1 + batch % 13
        rows = []
        for _ in range(size):
            n = len(expected)
            fields = {"z": str(n), "a": awkward[n % len(awkward)], "m": None if n % 3 else "x"}
            rows.append((f"R{n:07d}", "reason", f"message {awkward[n % 4]} {n}", fields))
            expected.append(
                {
                    "rule_id": f"rule-{batch % 3}",
                    "record_id": f"R{n:07d}",
                    "reason": "reason",
                    "message": f"message {awkward[n % 4]} {n}",
                    "fields": fields,
                }
            )
        writer.add_rows(f"rule-{batch % 3}", rows)
    with writer.finish() as found:
        folder = found.path.parent
        assert found.count == len(expected) and sorted(p.name for p in folder.iterdir()) == [
            "findings.parquet"
        ]  # the batches are gone once converted
        table = pq.read_table(found.path)
        assert table.column_names == list(FINDINGS_COLUMNS)
        assert all(str(t) == "string" for t in table.schema.types)
        read = [r for batch in finding_batches(found) for r in batch]
    assert read == expected
    assert not folder.exists()  # closing the file removes its temporary folder


def test_the_session_never_holds_the_findings_file_in_memory(
    audit: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethicsgate.audit.findings import FindingsFile

    def refuse(self: FindingsFile) -> bytes:
        raise AssertionError("findings.parquet was read into memory")

    monkeypatch.setattr(FindingsFile, "read_bytes", refuse)
    db = f"sqlite:///{tmp_path / 'q.db'}"
    out = tmp_path / "out"
    code, _, stderr = run("audit", str(audit), "--out", str(out), "--enqueue", "--db", db)
    assert code == 1, stderr  # the rule fails; the report, the file and the queue are there
    assert sum(len(b) for b in finding_batches(out / "findings.parquet")) == 2_400
    code, stdout, _ = run("review", "list", "--db", db, "--format", "json")
    assert code == 0 and len(json.loads(stdout)) == 2_400
    leftovers = list(Path(tempfile.gettempdir()).glob("ethicsgate-findings-*"))
    assert not [p for p in leftovers if p.stat().st_mtime >= audit.stat().st_mtime]


def test_csv_export_shows_formula_like_record_ids_as_text(tmp_path: Path) -> None:
    """A record id from the evidence such as =HYPERLINK(...) must not run in a spreadsheet."""
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "audit.yaml").write_text(AUDIT, encoding="utf-8")
    (tmp_path / "d.csv").write_text(
        'decision_id,ts,type,explanation\n"=HYPERLINK(""http://x"",""y"")",'
        "2026-01-01T00:00:00Z,denied,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, _, err = run("audit", str(tmp_path / "audit.yaml"), "--out", str(out))
    assert code == 1, err
    for extra in ((), ("--rule", "explained")):
        code, text, err = run("findings", "export", str(out), *extra)
        assert code == 0, err
        (row,) = list(csv.DictReader(io.StringIO(text)))
        assert row["record_id"] == '\'=HYPERLINK("http://x","y")'
