"""A rule kind from outside the package registers through the public interface and runs end to end.

This is the worked example of docs/architecture.md ("Where to add a rule kind"): a model, a kind
module, and nothing else of ethicsgate's changed. The kind checks that every record of a log
carries a note; it reads typed rows, writes its verdicts with the engine's dialect, and lets
``rules.records.summarize`` count them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import pytest
from click.testing import CliRunner

from ethicsgate.cli import cli
from ethicsgate.evidence import Role
from ethicsgate.policy.loader import load_policy
from ethicsgate.policy.models import PolicyPack, RecordRuleBase
from ethicsgate.rules.kind import AuditInputs, KindBase
from ethicsgate.rules.records import Verdicts, blank_sql, summarize
from ethicsgate.rules.registry import KINDS, register, unregister
from ethicsgate.rules.results import RuleResult

RECORD = Role("record_id", "key")
NOTE = Role("note", "text")


class NotePresentRule(RecordRuleBase):
    """Every record carries a note (the model: a RecordRuleBase with its own ``kind``)."""

    kind: Literal["note_present"]


class NotePresentKind(KindBase):
    """The kind: which rows it reads, how it judges them, how it explains itself."""

    name = "note_present"
    model = NotePresentRule

    def roles(self, rule: Any) -> dict[str, list[Role]]:
        return {rule.dataset: [RECORD, NOTE]}

    def evaluate(self, rule: Any, inputs: AuditInputs) -> RuleResult:
        rows = inputs.rows[rule.dataset]
        rows.require_present(RECORD, purpose="every record needs an id")
        records = rows.dialect.unique_records(rows.table, RECORD.column, [(NOTE.column, "note")])
        sql = f"""
            SELECT _id, true AS _applies, _conflict,
                   CASE WHEN {blank_sql(rows.dialect, "note")} THEN 'no_note' END AS _reason, note
            FROM ({records})"""

        def message(reason: str, row: Mapping[str, Any]) -> str:
            return "the record carries no note"

        verdicts = Verdicts(sql=sql, fields=["note"], table=rows, id_role=RECORD, noun="records")
        return summarize(rule, verdicts, messages=message, parameters={})

    def explain(self, rule: Any, pack: PolicyPack | None) -> str:
        return f"Every record in the evidence '{rule.dataset}' must carry a note."


POLICY = """
schema_version: 1
id: notes
version: "1"
title: Notes policy
owner: Tests
rules:
  - id: notes-present
    kind: note_present
    dataset: log
    max_findings: 10
"""

AUDIT = """
schema_version: 1
id: notes-audit
policy: policy.yaml
contracts: {contracts}
evidence:
  log:
    path: log.csv
"""


@pytest.fixture
def note_kind() -> Iterator[NotePresentKind]:
    kind = NotePresentKind()
    register(kind)
    try:
        yield kind
    finally:
        unregister(kind.name)


def _write(write: Callable[[str, str], Path], contracts: str = "stop") -> Path:
    write("policy.yaml", POLICY)
    write("log.csv", "record_id,note\n1,called back\n2,\n3,  \n4,ok\n")
    return write("audit.yaml", AUDIT.format(contracts=contracts))


def test_a_registered_kind_runs_end_to_end(
    note_kind: NotePresentKind, write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    audit = _write(write)
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["audit", str(audit), "--out", str(out)])
    assert result.exit_code == 1, result.output  # a blocking rule failed
    report = json.loads((out / "report.json").read_text())
    (rule,) = report["rules"]
    assert (rule["kind"], rule["status"]) == ("note_present", "fail")
    assert (rule["records_checked"], rule["violations"]) == (4, 2)
    assert [f["record_id"] for f in rule["findings"]] == ["2", "3"]
    assert "notes-present" in (out / "report.html").read_text()
    assert "notes-present" in (out / "report.md").read_text()


def test_a_registered_kind_is_explained_and_guarded_by_builtin_contracts(
    note_kind: NotePresentKind, write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    audit = _write(write, contracts="report")
    explained = CliRunner().invoke(cli, ["policy", "explain", str(tmp_path / "policy.yaml")])
    assert explained.exit_code == 0, explained.output
    assert "must carry a note" in explained.output
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["audit", str(audit), "--out", str(out)])
    assert result.exit_code == 1, result.output
    report = json.loads((out / "report.json").read_text())
    (contract,) = report["contracts"]
    checks = {(e["expect"], e["column"]) for e in contract["expectations"]}
    assert {("exists", "record_id"), ("exists", "note")} <= checks


def test_an_unregistered_kind_is_unknown_to_the_policy_language(
    write: Callable[[str, str], Path],
) -> None:
    assert "note_present" not in KINDS
    from ethicsgate.errors import PolicyError

    with pytest.raises(PolicyError, match="note_present"):
        load_policy(write("policy.yaml", POLICY))


def test_a_second_kind_of_the_same_name_is_refused(note_kind: NotePresentKind) -> None:
    with pytest.raises(ValueError, match="registered already"):
        register(NotePresentKind())
