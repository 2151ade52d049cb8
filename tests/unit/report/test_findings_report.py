"""Findings in the HTML and Markdown reports: everything from the logs is escaped."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ethicsgate.audit import run_audit
from ethicsgate.audit.result import AuditResult
from ethicsgate.report import render_html, render_markdown

ATTACK = "<script>alert(1)</script>"
POLICY = """\
schema_version: 1
id: p
version: "1"
title: T
owner: O
rules:
  - {id: explained, kind: transparency, check: decision_explained, dataset: d,
     finding_fields: [note], max_findings: 2}
  - {id: sample, kind: oversight, check: review_sampling, dataset: d, share: 0.5, seed: 1,
     strata: [segment]}
"""


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    tmp = tmp_path_factory.mktemp("findings")
    rows = [
        {"decision_id": f"{ATTACK}{i}", "explanation": "", "note": "a|b\n<img src=x onerror=1>",
         "segment": "<b>seg</b>", "qa_reviewer": None}
        for i in range(3)
    ]  # fmt: skip
    (tmp / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp / "policy.yaml").write_text(POLICY)
    (tmp / "audit.yaml").write_text(
        "schema_version: 1\nid: a\npolicy: policy.yaml\nevidence:\n  d: {path: d.jsonl}\n"
    )
    return run_audit(tmp / "audit.yaml")


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_escapes_record_ids_and_fields(result: AuditResult) -> None:
    html = render_html(result)
    parser = _Collect()
    parser.feed(html)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert "<b>seg</b>" not in html and "&lt;b&gt;seg&lt;/b&gt;" in html
    text = "".join(parser.text)
    assert f"{ATTACK}0" in text  # shown as text, not run
    assert "&lt;script&gt;alert(1)&lt;/script&gt;0" in html
    assert (
        "Findings: 2 of 3 violating record(s) (the first 2 by id; every one is in findings.parquet beside this report: ethicsgate findings export)"
        in text
    )


def test_markdown_escapes_cells(result: AuditResult) -> None:
    markdown = render_markdown(result)
    assert ATTACK not in markdown
    assert "\\<script\\>alert(1)\\</script\\>0" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| \\<script"))
    # record, reason, details, explanation, note: the pipe in the note splits no cell
    assert row.count(" | ") == 4
    assert "a\\|b \\<img src=x onerror=1\\>" in row
    assert "| \\<b\\>seg\\</b\\> | 3 | 2 | 0 |" in markdown


def test_json_keeps_the_exact_values(result: AuditResult, tmp_path: Path) -> None:
    rule = result.rules[0]
    assert [f.record_id for f in rule.findings] == [f"{ATTACK}0", f"{ATTACK}1"]
    assert rule.findings[0].fields == {"explanation": "", "note": "a|b\n<img src=x onerror=1>"}
    assert (rule.findings_total, rule.findings_truncated) == (3, True)


def test_characters_that_reorder_or_hide_text_are_written_out(tmp_path: Path) -> None:
    """Found by the web QA: report.html held a group named with U+202E raw, so the rest of its
    line read backwards (0.3613 as 3163.0); zero-width spaces make two record ids look alike.
    HTML writes them out as <U+202E>, Markdown and the terminal as \\u202e."""
    rows = [
        {"decision_id": f"S00\u200b12-{i}", "explanation": "", "note": "ok\u202e 0.3613",
         "segment": "s", "qa_reviewer": None}
        for i in range(2)
    ]  # fmt: skip
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "audit.yaml").write_text(
        "schema_version: 1\nid: a\npolicy: policy.yaml\nevidence:\n  d: {path: d.jsonl}\n"
    )
    result = run_audit(tmp_path / "audit.yaml")
    html = render_html(result)
    assert "\u202e" not in html and "\u200b" not in html
    assert "S00&lt;U+200B&gt;12-0" in html and "ok&lt;U+202E&gt; 0.3613" in html
    markdown = render_markdown(result)
    assert "\u202e" not in markdown and "\u200b" not in markdown
    assert "S00\\\\u200b12-0" in markdown
