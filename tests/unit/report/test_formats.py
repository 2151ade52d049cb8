"""The renderer registry: every format listed once, each renderer equal to its render function."""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from tests.conftest import ROOT

import ethicsgate.report.formats.base as formats_base
from ethicsgate.audit import AuditResult, load_audit_spec, run_audit
from ethicsgate.canonical import RENDERED_REPORT_FILES, STATEMENT_FILES
from ethicsgate.gate import GateResult, evaluate_gate
from ethicsgate.publish import build_statement, load_publish_inputs
from ethicsgate.report import (
    FORMATS,
    REPORT_FORMATS,
    Format,
    ReportInput,
    ReportView,
    get_format,
    group_table,
    render_groups_csv,
    render_groups_parquet,
    render_html,
    render_json,
    render_junit,
    render_markdown,
    render_sarif,
    render_statement_html,
    render_statement_json,
    render_statement_markdown,
    render_summary,
    report_files,
    statement_files,
)

PIPELINE = ROOT / "tests" / "scenarios" / "gate_pipeline"
SRC = ROOT / "src" / "ethicsgate"


@pytest.fixture(scope="module")
def gate() -> tuple[AuditResult, GateResult]:
    def clock() -> datetime:
        return datetime.fromisoformat("2026-01-02T03:04:05+00:00")

    loaded = load_audit_spec(PIPELINE / "candidate-regressed.yaml")
    result = run_audit(loaded, clock=clock)
    previous = run_audit(PIPELINE / "released.yaml", clock=clock)
    outcome = evaluate_gate(
        loaded, result, baseline=previous, baseline_name="released", today=clock().date()
    )
    return result, outcome


def test_registry_lists_every_format() -> None:
    assert {document: list(formats) for document, formats in FORMATS.items()} == {
        "report": ["json", "html", "markdown", "parquet", "csv"],
        "gate": ["junit", "sarif", "summary"],
        "statement": ["json", "html", "markdown"],
    }
    for formats in FORMATS.values():
        for name, renderer in formats.items():
            assert renderer.name == name
    assert tuple(r.filename for r in FORMATS["report"].values()) == RENDERED_REPORT_FILES
    assert tuple(r.filename for r in FORMATS["statement"].values()) == STATEMENT_FILES


def test_each_renderer_equals_its_render_function(
    gate: tuple[AuditResult, GateResult], frozen_clock: Callable[[], datetime]
) -> None:
    result, outcome = gate
    signer = "SHA256:" + "ab" * 32
    assert report_files(result, signer=signer) == {
        "report.json": render_json(result),
        "report.html": render_html(result, signer=signer).encode("utf-8"),
        "report.md": render_markdown(result, signer=signer).encode("utf-8"),
        "groups.parquet": render_groups_parquet(group_table(result)),
        "groups.csv": render_groups_csv(group_table(result)),
    }
    assert get_format("gate", "junit").render(outcome) == render_junit(outcome)
    assert get_format("gate", "sarif").render(outcome) == render_sarif(outcome)
    assert get_format("gate", "summary").render(outcome) == render_summary(outcome).encode()

    pack, audited = load_publish_inputs(PIPELINE / "candidate-waived.yaml", clock=frozen_clock)
    statement = build_statement(pack, audited)
    assert statement_files(statement, signer=signer) == {
        "statement.json": render_statement_json(statement),
        "statement.html": render_statement_html(statement, signer=signer).encode("utf-8"),
        "statement.md": render_statement_markdown(statement, signer=signer).encode("utf-8"),
    }


def test_a_format_registered_at_run_time_is_rendered(
    gate: tuple[AuditResult, GateResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _ = gate

    def headline(source: ReportInput) -> bytes:
        return f"{source.view.headline} ({source.signer})\n".encode()

    text = Format("text", "report.txt", headline)
    monkeypatch.setitem(REPORT_FORMATS, "text", text)
    assert get_format("report", "text") is text
    files = report_files(result, signer="me")
    assert list(files) == [*RENDERED_REPORT_FILES, "report.txt"]
    assert files["report.txt"] == b"Every blocking rule passed. (me)\n"


def test_the_view_is_built_once_per_report(
    gate: tuple[AuditResult, GateResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _ = gate
    built: list[ReportView] = []
    real = formats_base.report_view

    def counting(audit: AuditResult) -> ReportView:
        built.append(real(audit))
        return built[-1]

    monkeypatch.setattr(formats_base, "report_view", counting)
    report_files(result)
    assert len(built) == 1


def test_an_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(
        KeyError, match="unknown gate format 'pdf' \\(known: junit, sarif, summary\\)"
    ):
        get_format("gate", "pdf")
    with pytest.raises(KeyError, match="unknown document 'memo'"):
        get_format("memo", "html")


@pytest.mark.parametrize("module", ["vocabulary.py", "canonical.py"])
def test_ground_floor_modules_import_nothing_from_ethicsgate(module: str) -> None:
    tree = ast.parse((SRC / module).read_text())
    imported = [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ] + [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    assert not [name for name in imported if name.startswith("ethicsgate")]


def test_views_have_no_cycle() -> None:
    base = (SRC / "report" / "views" / "base.py").read_text()
    assert "ethicsgate.report" not in base, "views/base.py is imported by the builders only"
    for builder in ("fairness.py", "records.py"):
        text = (SRC / "report" / "views" / builder).read_text()
        assert "ethicsgate.report.views import" not in text
        assert "ethicsgate.report.formats" not in text


def test_jinja2_is_imported_only_in_report() -> None:
    """Reports render in report/; the reviewer web app renders its own pages in web/."""
    outside = [
        path.relative_to(SRC)
        for path in SRC.rglob("*.py")
        if "jinja2" in path.read_text() and path.relative_to(SRC).parts[0] not in ("report", "web")
    ]
    assert outside == []
    assert Path(SRC / "report" / "templates" / "statement.html.j2").is_file()


@pytest.mark.parametrize(
    "spec", ["compas-example.yaml", "nyc-ll144-example.yaml", "bakery.yaml", "windowed"]
)
def test_report_json_is_the_whole_dump_written_a_model_at_a_time(spec: str, tmp_path: Path) -> None:
    """render_json dumps lists of models item by item: the bytes are the whole dump's."""
    from ethicsgate.canonical import canonical_json

    if spec == "windowed":
        from tests.unit.rules.windows_data import DRIFT_POLICY, write_audit, year_of_decisions

        path = write_audit(tmp_path, year_of_decisions(), policy=DRIFT_POLICY)
    else:
        path = ROOT / "audits" / spec
    result = run_audit(path)
    if spec == "windowed":
        assert result.rules[0].windows and result.rules[0].drift
    assert render_json(result) == canonical_json(result.model_dump(mode="json"))
