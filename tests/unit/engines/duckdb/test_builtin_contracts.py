"""Built-in data contracts (audit spec ``contracts: report``) against ``contracts: stop``.

Each case writes a small policy, audit spec and evidence, runs the real CLI and Great
Expectations, and checks both modes: ``report`` makes exactly the dependent rules ``error``
with a located, masked message (exit 1); ``stop`` keeps exit 2 with no report.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result
from tests.conftest import ROOT

from ethicsgate.audit import run_audit
from ethicsgate.audit.spec import load_audit_spec
from ethicsgate.cli import cli
from ethicsgate.engines.duckdb import open_evidence
from ethicsgate.engines.duckdb.builtin_contracts import run_builtin_contract
from ethicsgate.engines.duckdb.contracts import SQL_ENGINE
from ethicsgate.rules.registry import builtin_checks

HEADER = """
schema_version: 1
id: builtin-test
version: "1"
title: Built-in contract tests
owner: Tests
rules:
"""
FAIRNESS = """
  - id: fpr-parity
    kind: fairness
    dataset: predictions
    sensitive_features: [group]
    metrics: [false_positive_rate]
    min_group_size: 1
    assert:
      - {metric: false_positive_rate, aggregate: difference, op: "<=", value: 1}
  - id: selection
    kind: fairness
    dataset: predictions
    sensitive_features: [group]
    metrics: [selection_rate]
    min_group_size: 1
    assert:
      - {metric: selection_rate, aggregate: difference, op: "<=", value: 1}
  - id: auc
    kind: fairness
    dataset: predictions
    severity: warn
    sensitive_features: [group]
    metrics: [selection_rate]
    score_metrics: [roc_auc]
    min_group_size: 1
"""
LOGS = """
  - id: disclosure
    kind: transparency
    check: bot_disclosure
    dataset: chat
  - id: explained
    kind: transparency
    check: decision_explained
    dataset: decisions
  - id: decision-parity
    kind: fairness
    dataset: decisions
    sensitive_features: [segment]
    metrics: [selection_rate]
    min_group_size: 1
    assert:
      - {metric: selection_rate, aggregate: difference, op: "<=", value: 1}
"""
GOOD_PREDICTIONS = """\
id,group,label,prediction,score
1,a,1,1,0.9
2,a,0,0,0.1
3,b,1,1,0.7
4,b,0,0,0.3
5,a,1,1,0.8
"""
GOOD_CHAT = """\
conversation_id,ts,actor,type,text
c1,2025-03-01T10:00:00Z,bot,message,I am a virtual assistant
c1,2025-03-01T10:00:05Z,customer,message,hello
c2,2025-03-01T11:00:00Z,bot,message,I am a chatbot
"""
GOOD_DECISIONS = """\
decision_id,segment,prediction,explanation
d1,new,1,Score above threshold
d2,new,0,Too few purchases
d3,regular,1,Loyal customer
d3,regular,1,Loyal customer
"""


def _audit(mode: str, datasets: dict[str, str], columns: str | None = None) -> str:
    mapped = f"    columns: {columns}\n" if columns else ""
    evidence = "".join(f"  {name}:\n    path: {name}.csv\n{mapped}" for name in datasets)
    return (
        f"schema_version: 1\nid: builtin-test\npolicy: policy.yaml\ncontracts: {mode}\n"
        f"evidence:\n{evidence}"
    )


@dataclasses.dataclass
class Run:
    """One CLI audit run and what it wrote."""

    cli: Result
    out: Path
    spec: Path

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.out / "report.json").read_text())  # type: ignore[no-any-return]

    def rule(self, rule_id: str) -> dict[str, Any]:
        return next(r for r in self.report["rules"] if r["id"] == rule_id)

    def statuses(self) -> dict[str, str]:
        return {r["id"]: r["status"] for r in self.report["rules"]}

    def failed(self) -> list[dict[str, Any]]:
        """Return the failed built-in expectations."""
        return [
            e
            for c in self.report.get("contracts", [])
            if c.get("builtin")
            for e in c["expectations"]
            if not e["success"]
        ]


@pytest.fixture
def audit(tmp_path: Path) -> Callable[..., Run]:
    """Write policy, evidence and an audit spec in one mode; run the CLI on them."""

    def _run(mode: str, rules: str, *, columns: str | None = None, **datasets: str) -> Run:
        folder = tmp_path / mode
        folder.mkdir(exist_ok=True)
        (folder / "policy.yaml").write_text(HEADER + textwrap.dedent(rules).strip("\n") + "\n")
        for name, text in datasets.items():
            (folder / f"{name}.csv").write_text(text)
        spec = folder / "audit.yaml"
        spec.write_text(_audit(mode, datasets, columns))
        out = folder / "out"
        result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(out)])
        assert "Traceback" not in result.output + result.stderr, result.stderr
        return Run(cli=result, out=out, spec=spec)

    return _run


def _assert_stopped(run: Run, *fragments: str) -> None:
    assert run.cli.exit_code == 2, run.cli.output
    for fragment in fragments:
        assert fragment in run.cli.stderr
    assert not run.out.exists()  # no report on bad input


def test_bad_labels_make_only_the_rules_reading_label_error(audit: Callable[..., Run]) -> None:
    data = GOOD_PREDICTIONS.replace("3,b,1,1,0.7", "3,b,2,1,0.7").replace(
        "4,b,0,0,0.3", "4,b,yes,0,0.3"
    )
    run = audit("report", FAIRNESS, predictions=data)
    assert run.cli.exit_code == 1  # a block rule could not be evaluated
    assert run.statuses() == {"fpr-parity": "error", "selection": "pass", "auc": "error"}
    message = run.rule("fpr-parity")["message"]
    assert message.startswith("not evaluated: built-in data contract on 'predictions' failed")
    assert "expect_column_values_to_be_in_set on 'label': 2 of 5 row(s)" in message
    assert "(e.g. '2', 'yes')" in message  # 0/1 codes are no personal data: shown
    assert f"first at {run.spec.parent / 'predictions.csv'}:4 (row 3)" in message
    (failed,) = run.failed()
    assert failed["expect"] == "binary" and failed["guards"] == ["fpr-parity", "auc"]
    assert failed["unexpected"] == 2 and failed["location"].endswith("predictions.csv:4 (row 3)")
    assert run.report["status"] == "error"

    stop = audit("stop", FAIRNESS, predictions=data)
    _assert_stopped(stop, "'label' must be 0 or 1", "row 3")


def test_missing_column_is_a_failed_expectation_not_a_crash(audit: Callable[..., Run]) -> None:
    data = "id,group,prediction,score\n1,a,1,0.9\n2,b,0,0.2\n"
    run = audit("report", FAIRNESS, predictions=data)
    assert run.cli.exit_code == 1
    assert run.statuses() == {"fpr-parity": "error", "selection": "pass", "auc": "error"}
    (failed,) = run.failed()
    assert failed["expectation"] == "expect_column_to_exist" and failed["column"] == "label"
    assert "has no column 'label'" in failed["message"]
    assert "columns: id, group, prediction, score" in failed["message"]
    assert failed["location"].startswith(str(run.spec))  # where to map it: the audit spec
    assert "expect_column_to_exist on 'label'" in run.rule("auc")["message"]

    stop = audit("stop", FAIRNESS, predictions=data)
    _assert_stopped(stop, "has no column 'label'")


def test_a_misspelt_mapped_column_names_the_one_meant(audit: Callable[..., Run]) -> None:
    # found by QA: the columns were listed, the close one not named
    data = GOOD_PREDICTIONS.replace("label", "two_year_recid")
    run = audit("report", FAIRNESS, predictions=data, columns="{label: two_year_recd}")
    (failed,) = run.failed()
    message = failed["message"]
    assert "the expression for 'label' (two_year_recd) does not evaluate" in message
    assert "(did you mean 'two_year_recid'?); fix evidence.predictions.columns.label" in message
    stop = audit("stop", FAIRNESS, predictions=data, columns="{label: two_year_recd}")
    _assert_stopped(stop, "(did you mean 'two_year_recid'?)")


def test_non_finite_score_errors_the_score_rule_only(audit: Callable[..., Run]) -> None:
    data = GOOD_PREDICTIONS.replace("0.7", "inf").replace("0.3", "nan").replace("0.8", "")
    run = audit("report", FAIRNESS, predictions=data)
    assert run.statuses() == {"fpr-parity": "pass", "selection": "pass", "auc": "error"}
    assert run.cli.exit_code == 0  # the erroring rule only warns
    (failed,) = run.failed()
    assert failed["expect"] == "finite" and failed["unexpected"] == 3
    assert set(failed["examples"]) == {"<masked number>", "NULL (missing)"}  # scores masked
    assert failed["location"].endswith("predictions.csv:4 (row 3)")
    assert "'score' must be a finite number" in run.rule("auc")["message"]

    stop = audit("stop", FAIRNESS, predictions=data)
    _assert_stopped(stop, "'score' must be a finite number", "row 3")


def test_unparsable_timestamps_error_the_log_rule_only(audit: Callable[..., Run]) -> None:
    chat = GOOD_CHAT.replace("2025-03-01T10:00:05Z", "yesterday 5pm")
    run = audit("report", LOGS, chat=chat, decisions=GOOD_DECISIONS)
    assert run.cli.exit_code == 1
    assert run.statuses() == {"disclosure": "error", "explained": "pass", "decision-parity": "pass"}
    (failed,) = run.failed()
    assert failed["expect"] == "timestamp" and failed["column"] == "ts"
    assert failed["examples"] == ["<masked text, 13 chars>"] and failed["masked"]
    assert "yesterday" not in json.dumps(run.report)  # never the value itself
    assert failed["location"].endswith("chat.csv:3 (row 2)")
    assert "'ts' must be a timestamp" in run.rule("disclosure")["message"]
    md = (run.out / "report.md").read_text()
    assert "Built-in contract on dataset `chat`" in md and "| `disclosure` |" in md
    html = (run.out / "report.html").read_text()
    assert "Built-in contract on dataset <code>chat</code>" in html
    assert "&lt;masked text, 13 chars&gt;" in html

    stop = audit("stop", LOGS, chat=chat, decisions=GOOD_DECISIONS)
    _assert_stopped(stop, "'ts' is not a timestamp", "row 2")


def test_duplicate_ids_error_the_rule_that_needs_them(audit: Callable[..., Run]) -> None:
    # d3 repeated exactly is one record; d2 on two rows that differ names two records
    decisions = GOOD_DECISIONS + "d2,new,0,Another reason\n"
    run = audit("report", LOGS, chat=GOOD_CHAT, decisions=decisions)
    assert run.cli.exit_code == 1
    # the fairness rule on the same dataset does not read decision ids: it still runs
    assert run.statuses() == {"disclosure": "pass", "explained": "error", "decision-parity": "pass"}
    (failed,) = run.failed()
    assert failed["expectation"] == "expect_column_values_to_be_unique"
    assert failed["unexpected"] == 2 and failed["examples"] == ["<masked text, 2 chars>"]
    assert failed["location"].endswith("decisions.csv:3 (row 2)")
    assert "decision_id" in run.rule("explained")["message"]

    stop = audit("stop", LOGS, chat=GOOD_CHAT, decisions=decisions)
    _assert_stopped(stop, "names two different records")


def test_passing_data_gives_the_same_results_in_both_modes(audit: Callable[..., Run]) -> None:
    for rules, datasets in (
        (FAIRNESS, {"predictions": GOOD_PREDICTIONS}),
        (LOGS, {"chat": GOOD_CHAT, "decisions": GOOD_DECISIONS}),
    ):
        stop, report = audit("stop", rules, **datasets), audit("report", rules, **datasets)
        assert stop.cli.exit_code == report.cli.exit_code
        assert stop.report["rules"] == report.report["rules"]
        assert "contracts" not in stop.report
        assert all(c["builtin"] and c["success"] for c in report.report["contracts"])


@pytest.mark.parametrize("name", ["bakery", "compas-example", "nyc-ll144-example"])
def test_shipped_audits_give_the_same_results_in_both_modes(name: str) -> None:
    loaded = load_audit_spec(ROOT / "audits" / f"{name}.yaml")
    stop = run_audit(loaded)
    reported = dataclasses.replace(
        loaded, spec=loaded.spec.model_copy(update={"contracts": "report"})
    )
    report = run_audit(reported)
    assert [r.model_dump() for r in stop.rules] == [r.model_dump() for r in report.rules]
    builtin = [c for c in report.contracts if c.builtin]
    assert builtin and all(c.success for c in builtin)
    datasets = {r.dataset for r in loaded.policy.pack.rules} | {
        d for r in loaded.policy.pack.rules for d in r.datasets
    }
    assert {c.dataset for c in builtin} == datasets


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("1", True), ("0", True), ("true", True), ("FALSE", True), (" 1 ", True),
        ("1.0", True), ("0.0", True), ("yes", False), ("2", False), ("", False),
        ("-1", False), ("01", False),
    ],
)  # fmt: skip
def test_built_in_binary_check_accepts_exactly_what_the_reader_accepts(
    audit: Callable[..., Run], value: str, accepted: bool
) -> None:
    # an oracle for the claim "data that meets the built-in suite is data the reader reads":
    # the stop-mode reader is the oracle (DuckDB sniffs the column as BIGINT, DOUBLE, BOOLEAN
    # or VARCHAR depending on the value, so each typed path is covered)
    data = f"id,group,label,prediction,score\n1,a,{value},1,0.5\n2,b,1,0,0.5\n"
    stop = audit("stop", FAIRNESS, predictions=data)
    report = audit("report", FAIRNESS, predictions=data)
    assert (stop.cli.exit_code != 2) is accepted
    assert (not report.failed()) is accepted
    if accepted:
        assert stop.report["rules"] == report.report["rules"]
    else:
        assert "built-in data contract" in report.rule("fpr-parity")["message"]


def test_counts_do_not_depend_on_the_chunk_size(tmp_path: Path) -> None:
    rows = "".join(
        f"{i},{'ab'[i % 2]},{['1', '0', '2', 'yes'][i % 4]},{i % 2},{[0.5, 'inf'][i % 3 == 1]}\n"
        for i in range(50)
    )
    (tmp_path / "policy.yaml").write_text(HEADER + FAIRNESS.strip("\n") + "\n")
    (tmp_path / "predictions.csv").write_text("id,group,label,prediction,score\n" + rows)
    (tmp_path / "audit.yaml").write_text(_audit("report", {"predictions": ""}))
    loaded = load_audit_spec(tmp_path / "audit.yaml")
    evidence = open_evidence(
        "predictions",
        loaded.spec.evidence["predictions"],
        base_dir=tmp_path,
        locate=lambda loc: loaded.document.locate(("evidence", "predictions", *loc)),
    )
    checks = builtin_checks(loaded.policy.pack.rules)["predictions"]
    try:
        whole = run_builtin_contract(evidence, checks, validator="great_expectations")
        chunked = run_builtin_contract(
            evidence, checks, chunk_rows=7, validator="great_expectations"
        )
        sql = run_builtin_contract(evidence, checks, chunk_rows=7)  # DuckDB, the default
    finally:
        evidence.engine.close()
    # DuckDB's results equal Great Expectations' (the reference), expectation by expectation
    assert (sql.chunks, sql.engine, sql.rows) == (1, SQL_ENGINE, whole.rows)
    assert [e.model_dump() for e in sql.expectations] == [
        e.model_dump() for e in whole.expectations
    ]
    assert (whole.chunks, chunked.chunks) == (1, 8)
    counts = {(e.expect, e.column): e.unexpected for e in whole.expectations}
    assert counts == {
        **{("exists", c): 0 for c in ("group", "label", "prediction", "score")},
        ("binary", "label"): 24,  # '2' and 'yes': i % 4 in (2, 3)
        ("binary", "prediction"): 0,
        ("finite", "score"): 17,  # inf: i % 3 == 1
    }
    assert [e.model_dump() for e in whole.expectations] == [
        e.model_dump() for e in chunked.expectations
    ]


def test_stop_mode_never_imports_great_expectations(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(HEADER + FAIRNESS.strip("\n") + "\n")
    (tmp_path / "predictions.csv").write_text(GOOD_PREDICTIONS)
    (tmp_path / "audit.yaml").write_text(_audit("stop", {"predictions": ""}))
    script = tmp_path / "probe.py"  # a file, not python -c (see DEPENDENCY-NOTES: pyspark)
    script.write_text(
        "import sys\n"
        "from ethicsgate.audit import run_audit\n"
        f"result = run_audit({str(tmp_path / 'audit.yaml')!r})\n"
        "assert result.status == 'pass', result.status\n"
        "print('great_expectations' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_json_lines_with_mixed_types_are_read_as_the_reader_reads_them(tmp_path: Path) -> None:
    # one ts is a number, so DuckDB types the field JSON; the rest must still parse
    events = [
        {"conversation_id": "c1", "ts": "2025-03-01T10:00:00Z", "actor": "bot", "type": "m",
         "text": "I am a virtual assistant"},
        {"conversation_id": "c1", "ts": 1740823205, "actor": "customer", "type": "m", "text": "hi"},
        {"conversation_id": "c2", "ts": "2025-03-01T11:00:00Z", "actor": "bot", "type": "m",
         "text": "I am a chatbot"},
    ]  # fmt: skip
    (tmp_path / "chat.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (tmp_path / "policy.yaml").write_text(HEADER + LOGS.split("  - id: explained")[0])
    (tmp_path / "audit.yaml").write_text(
        "schema_version: 1\nid: t\npolicy: policy.yaml\ncontracts: report\n"
        "evidence:\n  chat: {path: chat.jsonl}\n"
    )
    result = run_audit(tmp_path / "audit.yaml")
    (contract,) = result.contracts
    failed = [e for e in contract.expectations if not e.success]
    assert [(e.expect, e.column, e.unexpected) for e in failed] == [("timestamp", "ts", 1)]
    assert failed[0].location == f"{tmp_path / 'chat.jsonl'}:2 (row 2)"
    assert result.rules[0].status == "error"


@pytest.mark.parametrize("mode", ["stop", "report"])
def test_glob_whose_files_differ_in_type_is_located_bad_input_in_both_modes(
    tmp_path: Path, mode: str
) -> None:
    """DuckDB reads a glob with the first file's schema; a later file that does not convert
    failed part-way through the contract's Arrow stream as an internal error (exit 3)."""
    (tmp_path / "policy.yaml").write_text(HEADER + FAIRNESS.split("  - id: selection")[0])
    duckdb.sql(
        f"COPY (SELECT 'a' AS \"group\", 1 AS label, 1 AS prediction) "
        f"TO '{tmp_path / 'p1.parquet'}'"
    )
    duckdb.sql(
        f"COPY (SELECT 'b' AS \"group\", 'yes' AS label, 1 AS prediction) "
        f"TO '{tmp_path / 'p2.parquet'}'"
    )
    spec = tmp_path / "audit.yaml"
    spec.write_text(
        f"schema_version: 1\nid: t\npolicy: policy.yaml\ncontracts: {mode}\n"
        "evidence:\n  predictions:\n    path: p*.parquet\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {spec}:7:11: evidence 'predictions': cannot read 2")
    assert 'the column "label" has type VARCHAR' in result.stderr
    assert "options: {union_by_name: true} under evidence.predictions" in result.stderr
    assert not out.exists()

    # as the hint says: each file by its own schema; then the bad value itself is found
    spec.write_text(spec.read_text() + "    options: {union_by_name: true}\n")
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(out)])
    if mode == "stop":
        assert result.exit_code == 2
        assert "'label' must be 0 or 1, found 'yes' in row 1" in result.stderr
        assert "p2.parquet" in result.stderr
    else:
        assert result.exit_code == 1, result.output
        report = json.loads((out / "report.json").read_text())
        assert report["rules"][0]["status"] == "error"
        assert "(e.g. 'yes')" in report["rules"][0]["message"]
