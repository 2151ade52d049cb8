"""The review workflow and export without click: leases, settings, export formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from ethicsgate.errors import ReviewError
from ethicsgate.review import NewReviewItem, open_store
from ethicsgate.review.export import export_items, export_log, serialise_rows, write_export
from ethicsgate.review.workflow import open_review_store, parse_lease, review_actor


def _items(n: int) -> list[NewReviewItem]:
    return [
        NewReviewItem(
            policy_id="chat",
            policy_version="1",
            rule_id="disclosure",
            record_id=f"conv-{i}",
            audit_id="chat-audit",
            severity="block",
            fields={"conversation_id": f"conv-{i}", "channel": None},
            reason="not_disclosed",
            due_at=f"2030-01-01T00:00:0{i}.000000Z",
        )
        for i in range(n)
    ]


def test_parse_lease() -> None:
    assert parse_lease("15m") == timedelta(minutes=15)
    with pytest.raises(ReviewError, match="bad lease 'soon'"):
        parse_lease("soon")
    with pytest.raises(ReviewError, match="longer than 0s"):
        parse_lease("0s")


def test_store_and_actor_come_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETHICSGATE_DB_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("ETHICSGATE_REVIEW_LEASE", "never")
    with pytest.raises(ReviewError, match="bad lease 'never'"):
        open_review_store()
    with open_review_store(lease="5m") as store:
        assert store.lease == timedelta(minutes=5)
    assert (tmp_path / "env.db").is_file()
    monkeypatch.setenv("ETHICSGATE_REVIEWER", "ada")
    assert review_actor() == "ada"
    assert review_actor("grace") == "grace"


def test_export_items_and_log(db_url: str, tmp_path: Path) -> None:
    with open_store(db_url) as store:
        store.enqueue(_items(3), actor="tests")
        items = export_items(store, "json", limit=2)
        lines = export_items(store, "jsonl")
        table = export_items(store, "csv", rule_id="nothing-like-it")
        log = export_log(store, "csv")
    assert items.rows == 2
    assert [r["record_id"] for r in json.loads(items.text)] == ["conv-0", "conv-1"]
    assert lines.rows == 3 and len(lines.text.splitlines()) == 3
    assert table.rows == 0 and table.text == ""
    entries = list(csv.DictReader(io.StringIO(log.text)))
    assert log.rows == len(entries) >= 1
    written = write_export(tmp_path / "sub" / "items.json", items)
    assert written.read_text(encoding="utf-8") == items.text


def test_csv_keeps_nested_values_as_json() -> None:
    text = serialise_rows([{"id": 1, "fields": {"a": None}, "tags": ["x"]}], "csv")
    assert text == 'id,fields,tags\n1,"{""a"": null}","[""x""]"\n'


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_text() -> None:
    rows = [
        {"id": 1, "record_id": "+1 555 0100", "note": '=HYPERLINK("http://x","y")', "n": -2},
        {"id": 2, "record_id": "@SUM(A1)", "note": "-cmd", "n": 0.5},
        {"id": 3, "record_id": "\tx", "note": "fine = ok", "n": None},
    ]
    read = list(csv.DictReader(io.StringIO(serialise_rows(rows, "csv"))))
    assert [r["record_id"] for r in read] == ["'+1 555 0100", "'@SUM(A1)", "'\tx"]
    assert [r["note"] for r in read] == ['\'=HYPERLINK("http://x","y")', "'-cmd", "fine = ok"]
    assert [r["n"] for r in read] == ["-2", "0.5", ""]  # numbers stay numbers
    # numbers written as text are no formulas: a record id -3 still matches its row
    numbers = [{"record_id": t} for t in ("-3", "+0.5", "-1e-3", "-.5", "-3 pts", "-3-4")]
    read = list(csv.DictReader(io.StringIO(serialise_rows(numbers, "csv"))))
    assert [r["record_id"] for r in read] == ["-3", "+0.5", "-1e-3", "-.5", "'-3 pts", "'-3-4"]
    # JSON and JSON lines keep the text as it is
    assert json.loads(serialise_rows(rows, "json"))[0]["note"].startswith("=HYPERLINK")
