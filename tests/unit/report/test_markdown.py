"""Markdown reports: every value from evidence or policy reads as itself in a real renderer.

The reports are rendered with markdown-it-py (CommonMark plus GitHub's tables, as GitHub and
GitLab show report.md); the hostile categories must come out as text in the right cell, with
no HTML element, link or emphasis of their own and no extra table column.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from tests.conftest import AUDIT_D, HtmlTables

from ethicsgate.audit import run_audit
from ethicsgate.report import render_markdown
from ethicsgate.report.markdown import code_span, markdown_environment, md_text

HOSTILE = [
    '"><img src=x onerror=alert(1)>',
    "<script>alert(2)</script>",
    "[click](http://evil.example/)",
    "`code` | pipe | *bold* ~~gone~~",
    "&lt;b&gt;entity&lt;/b&gt; back\\slash",
]
POLICY = """
schema_version: 1
id: p
version: "1"
title: Hostile categories
owner: tests
rules:
  - id: parity
    kind: fairness
    dataset: d
    sensitive_features: [group, sex]
    metrics: [selection_rate, false_positive_rate]
    min_group_size: 1
    uncertainty: {bootstrap_samples: 100, seed: 1}
    assert:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.99}
  - id: ll144
    kind: fairness
    dataset: d
    sensitive_features: [group]
    impact_ratio: scoring
    score_metrics: [roc_auc, calibration]
    min_group_size: 1
    assert:
      - {metric: impact_ratio, op: ">=", value: 0.99}
"""


def _render(markdown: str) -> HtmlTables:
    page = MarkdownIt("commonmark").enable("table").render(markdown)
    parser = HtmlTables()
    parser.feed(page)
    return parser


@pytest.fixture
def report_md(write: Callable[[str, str], Path]) -> str:
    rows = ["group,sex,label,prediction,score"]
    for i in range(400):
        group = HOSTILE[i % len(HOSTILE)].replace('"', '""')
        rows.append(f'"{group}",{"FM"[i % 2]},{i % 3 % 2},{i % 5 % 2},{(i * 37 % 101) / 100}')
    write("policy.yaml", POLICY)
    write("data.csv", "\n".join(rows) + "\n")
    spec = write("audit.yaml", AUDIT_D)
    return render_markdown(run_audit(spec))


def test_hostile_categories_render_as_text_in_their_cells(report_md: str) -> None:
    page = _render(report_md)
    markup = {"script", "img", "a", "del", "s"}
    assert not markup & set(page.tags), sorted(markup & set(page.tags))
    assert page.tables, "the report has tables"
    for table in page.tables:
        width = len(table[0])
        assert all(len(row) == width for row in table), table  # no cell split by a '|'
    cells = {cell for table in page.tables for row in table for cell in row}  # entities decoded
    for category in HOSTILE:
        assert any(category in cell for cell in cells), category


def test_values_are_escaped_and_code_spans_are_whole() -> None:
    assert md_text("a | b <i>*x*</i> [l](u) `c` \\ ~~s~~ &amp;") == (
        "a \\| b \\<i\\>\\*x\\*\\</i\\> \\[l\\](u) \\`c\\` \\\\ \\~\\~s\\~\\~ \\&amp;"
    )
    assert md_text("two\nlines\t here") == "two lines here"
    assert md_text(None) == "—"
    assert md_text("a\x1b[2Jb\u202e") == "a\\\\x1b\\[2Jb\\\\u202e"  # renders as a\x1b[2Jb\u202e
    assert md_text("age_band # 1") == "age_band # 1"  # see report/markdown.py
    assert code_span("sex = 'F' || x") == "`sex = 'F' || x`"
    assert code_span("a `b` c") == "``a `b` c``"
    assert code_span("`edge`") == "`` `edge` ``"
    assert code_span("a\x1bb") == "`a\\x1bb`"
    for text in ("a `b` c", "`edge`", "x``y"):
        rendered = MarkdownIt("commonmark").renderInline(code_span(text))
        assert rendered == f"<code>{html.escape(text, quote=False)}</code>"


def test_the_environment_escapes_values_not_the_template() -> None:
    env = markdown_environment("ethicsgate.report")
    template = env.from_string("**{{ name }}** in {{ path | code }}: {{ missing }}")
    out = template.render(name="*x*", path="a|b", missing=None)
    assert out == "**\\*x\\*** in `a|b`: —"


def test_the_rule_line_keeps_the_space_before_its_groups(report_md: str) -> None:
    # finalize trims every value, so a space inside an expression's text is lost
    line = next(line for line in report_md.splitlines() if line.startswith("Rule `parity`"))
    assert line.endswith("(400 rows) · groups by group, sex"), line
