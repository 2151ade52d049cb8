"""Reports: canonical JSON matching its published schema and a golden file; safe, readable HTML."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from tests.conftest import ROOT, HtmlTables
from tests.goldens import assert_matches_golden

import ethicsgate.files as files
import ethicsgate.report.render as render
from ethicsgate.audit import AuditResult, run_audit
from ethicsgate.canonical import canonical_json
from ethicsgate.report import (
    REPORT_FORMATS,
    Format,
    render_html,
    render_json,
    render_markdown,
    write_report,
)
from ethicsgate.schemas import SCHEMA_KINDS, json_schema

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "intersectional-small"
GOLDEN = SCENARIO / "expected-report.json"


@pytest.fixture
def scenario_result(
    monkeypatch: pytest.MonkeyPatch, frozen_clock: Callable[[], datetime]
) -> AuditResult:
    monkeypatch.chdir(SCENARIO)
    return run_audit("audit.yaml", clock=frozen_clock)


def test_report_json_matches_golden(scenario_result: AuditResult) -> None:
    # byte for byte, apart from the library versions (they vary between machines)
    assert_matches_golden(render_json(scenario_result), GOLDEN)


def test_report_json_is_canonical(scenario_result: AuditResult) -> None:
    produced = render_json(scenario_result)
    assert produced.endswith(b"\n")
    data = json.loads(produced)
    assert produced == canonical_json(data)
    # keys are sorted: laid out again as they stand, they give the sorted document
    as_written = json.dumps(data, indent=2, ensure_ascii=False)
    assert as_written == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_published_schemas_are_current(kind: str) -> None:
    published = json.loads((ROOT / "docs" / "schemas" / f"{kind}.schema.json").read_text())
    assert published == json_schema(kind), (
        f"docs/schemas/{kind}.schema.json is stale: run "
        f"`ethicsgate policy schema --kind {kind} > docs/schemas/{kind}.schema.json`"
    )


def test_report_validates_against_its_schema(scenario_result: AuditResult) -> None:
    schema = json.loads((ROOT / "docs" / "schemas" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(render_json(scenario_result)))


def test_report_has_the_required_fields(scenario_result: AuditResult) -> None:
    data = json.loads(render_json(scenario_result))
    assert data["schema_version"] == 1 and data["status"] == "fail"
    audit = data["audit"]
    assert audit["started_at"] == "2026-01-02T03:04:05+00:00"
    assert {"id", "version", "sha256"} <= set(audit["policy"])
    evidence = audit["evidence"][0]
    assert evidence["name"] == "applications" and len(evidence["sha256"]) == 64
    assert (evidence["rows_read"], evidence["rows"]) == (240, 234)
    rule = data["rules"][0]
    assert {"id", "kind", "severity", "status", "message", "assertions", "groups"} <= set(rule)
    a = rule["assertions"][0]
    assert {"metric", "aggregate", "op", "threshold", "observed", "group", "status"} <= set(a)
    g = rule["groups"][0]
    assert {"group", "count", "excluded", "metrics"} <= set(g)
    assert sum(g["count"] for g in rule["groups"]) == 234


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_escapes_evidence_values_and_is_self_contained(scenario_result: AuditResult) -> None:
    html = render_html(scenario_result)
    parser = _Text()
    parser.feed(html)
    assert "script" not in parser.tags, "a value from the evidence became markup"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Offers &lt;b&gt;across&lt;/b&gt; sex &amp; age" in html
    text = " ".join(parser.text)
    assert "Overall result: Failed" in text
    assert "Not signed" in text
    assert parser.tags.count("figure") == 3  # one bar chart per assertion
    assert parser.tags.count("svg") == 4  # the charts and the shared hatch pattern
    for external in ("<link", 'src="http', "<script"):
        assert external not in html


def test_html_names_the_signer_when_signed(scenario_result: AuditResult) -> None:
    html = render_html(scenario_result, signer="SHA256:abcd")
    assert "SHA256:abcd" in html and "Not signed" not in html


def test_markdown_tables(scenario_result: AuditResult) -> None:
    md = render_markdown(scenario_result)
    assert md.startswith("# Audit report: Loan offers, first quarter")
    assert "| sex = F, age_band = 25-45 |" in md
    assert "Not signed" in md
    for line in md.splitlines():
        if line.startswith("|"):
            assert line.endswith("|"), line


def test_the_group_table_shows_the_count_once(scenario_result: AuditResult) -> None:
    # the policy asks for the count metric: it is the People column, not a second column
    page = HtmlTables()
    page.feed(render_html(scenario_result))
    headers = [t[0] for t in page.tables if t and t[0][:2] == ["Group", "People"]]
    md = [
        line
        for line in render_markdown(scenario_result).splitlines()
        if line.startswith("| Group | People |")
    ]
    assert headers and md
    for header in headers:
        assert "Count" not in header and "Precision" in header, header
    for line in md:
        assert "| Count |" not in line and "| Precision |" in line, line


def test_write_report_is_all_or_nothing(
    scenario_result: AuditResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_report(scenario_result, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("template bug")

    monkeypatch.setitem(REPORT_FORMATS, "markdown", Format("markdown", "report.md", broken))
    with pytest.raises(RuntimeError):
        render.write_report(scenario_result, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    monkeypatch.undo()
    real_fdopen = os.fdopen
    calls = {"n": 0}

    def failing_fdopen(fd: int, mode: str = "r", *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            os.close(fd)
            raise OSError(28, "No space left on device")
        return real_fdopen(fd, mode, *args, **kwargs)

    monkeypatch.setattr(files.os, "fdopen", failing_fdopen)
    with pytest.raises(OSError):
        render.write_report(scenario_result, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "no partial or temp files"
