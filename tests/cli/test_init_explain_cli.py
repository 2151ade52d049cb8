"""``ethicsgate init`` and ``ethicsgate policy explain`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ethicsgate.cli import cli

ROOT = Path(__file__).resolve().parents[2]
PACKS = sorted((ROOT / "policies").glob("*.yaml"))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_init_then_audit_runs_as_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, stdout, _ = run("init", str(tmp_path / "proj"))
    assert code == 0
    assert "policies/customer-offers.yaml" in stdout
    monkeypatch.chdir(tmp_path / "proj")
    code, stdout, stderr = run("audit", "audits/sample.yaml")
    assert code in (0, 1), stderr
    assert code == 0, stdout
    report = json.loads(Path("reports/sample/report.json").read_text())
    assert report["contracts"][0]["success"]
    code, _, _ = run("policy", "check", "policies/customer-offers.yaml")
    assert code == 0


def test_init_points_to_what_the_owner_has_not_to_the_repositorys_docs(tmp_path: Path) -> None:
    # found by the owner QA: ETHICSGATE.md and the files init writes said "see
    # docs/policy-packs.md" and "docs/concepts.md", which a folder outside the repository lacks
    assert run("init", str(tmp_path / "proj"))[0] == 0
    assert run("init", str(tmp_path / "pack"), "--pack", "customer-automation")[0] == 0
    written = [
        tmp_path / "proj" / "ETHICSGATE.md",
        tmp_path / "proj" / "policies" / "customer-offers.yaml",
        tmp_path / "proj" / "audits" / "sample.yaml",
        tmp_path / "pack" / "audits" / "customer-automation.yaml",
    ]
    for path in written:
        assert "docs/" not in path.read_text(), path
    guide = (tmp_path / "proj" / "ETHICSGATE.md").read_text()
    assert "`ethicsgate policy list`" in guide and "`ethicsgate init --pack NAME`" in guide
    assert "`ethicsgate publish reports/sample --out public`" in guide


def test_init_pack_lists_the_roles_each_dataset_needs_ready_to_map(tmp_path: Path) -> None:
    # found by the SB 243 QA: the spec said `columns: {}` with "e.g. label: hired", for a
    # chatbot log whose rules read conversation_id, ts, actor, type, text and minor
    folder = tmp_path / "companion"
    assert run("init", str(folder), "--pack", "ca-sb243-companion-chatbots")[0] == 0
    spec = folder / "audits" / "ca-sb243-companion-chatbots.yaml"
    text = spec.read_text()
    assert "label: hired" not in text
    roles = ["conversation_id", "ts", "actor", "type", "text", "minor"]
    assert [line.strip() for line in text.splitlines() if "<your column>" in line] == [
        f"#   {role}: <your column>" for role in roles
    ]
    # uncommented and filled in, it is the mapping the audit reads
    (folder / "data").mkdir()
    (folder / "data" / "chat.csv").write_text(
        "session,at,who,kind,body,kid\n"
        'c1,2026-02-02T10:00:00Z,bot,message,"Hi, I\'m an AI companion.",true\n'
    )
    mapped = {"conversation_id": "session", "ts": "at", "actor": "who", "type": "kind",
              "text": "body", "minor": "kid"}  # fmt: skip
    filled = text.replace("    # columns:\n", "    columns:\n").replace("    columns: {}", "   ")
    for role, column in mapped.items():
        filled = filled.replace(f"    #   {role}: <your column>", f"      {role}: {column}")
    spec.write_text(filled)
    code, stdout, stderr = run("audit", str(spec), "--out", str(tmp_path / "out"))
    assert code == 0, stdout + stderr


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    existing = tmp_path / "policies" / "customer-offers.yaml"
    existing.write_text("mine")
    code, _, stderr = run("init", str(tmp_path))
    assert code == 2
    assert "refusing to overwrite" in stderr and "customer-offers.yaml" in stderr
    assert existing.read_text() == "mine"
    assert not (tmp_path / "audits").exists()  # nothing written


def test_init_into_a_file_is_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    code, _, stderr = run("init", str(target))
    assert code == 2 and "is a file" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.stem)
def test_explain_every_shipped_pack(pack: Path) -> None:
    code, stdout, _ = run("policy", "explain", str(pack))
    assert code == 0
    code, out_json, _ = run("policy", "explain", str(pack), "--format", "json")
    described = json.loads(out_json)
    assert code == 0
    for number, rule in enumerate(described["rules"], start=1):
        assert f"{number}. {rule['title']}" in stdout
        assert rule["checks"] and rule["severity"]


def test_explain_describes_contracts_and_fairness() -> None:
    code, stdout, _ = run("policy", "explain", str(ROOT / "policies" / "eeoc-four-fifths.yaml"))
    assert code == 0
    text = " ".join(stdout.split())  # undo the wrapping
    # in plain words (found by the owner QA: "checks with Great Expectations' expectations
    # (run as DuckDB queries)", which is jargon, and untrue on PostgreSQL or Spark)
    assert "Before the other rules run, checks that the evidence 'applicants':" in text
    assert "Great Expectations" not in text and "DuckDB" not in text
    assert "not evaluated (error): four-fifths-sex, four-fifths-race-ethnicity" in text
    assert "its selection rate divided by the reference group's is not at least 0.8" in text
    # people who declined are not a group (found by QA: "Decline to state" was compared)
    assert (
        "groups under 30 people and groups of an unknown value (Unknown, Decline to state or "
        "missing) are shown but not compared"
    ) in text
    assert (
        "<https://www.ecfr.gov/current/title-29/subtitle-B/chapter-XIV/part-1607/section-1607.4>"
        in stdout
    )


@pytest.mark.parametrize(
    ("pack", "tables"),
    [
        ("pack:nyc-ll144", "It also produces the NYC Local Law 144 tables: per category"),
        ("pack:nyc-ll144-example", "It also produces the NYC Local Law 144 tables: per category"),
    ],
)
def test_explain_names_a_law_only_where_the_pack_cites_it(pack: str, tables: str) -> None:
    code, stdout, _ = run("policy", "explain", pack)
    assert code == 0
    text = " ".join(stdout.split())
    assert tables in text


def test_explain_names_impact_ratio_tables_by_what_they_are_without_ll144(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "schema_version: 1\nid: p\nversion: '1'\ntitle: t\nowner: o\nreferences:\n"
        "  - {id: ugesp, title: 'Uniform Guidelines, 29 CFR 1607.4(D)'}\nrules:\n"
        "  - {id: r, kind: fairness, dataset: d, sensitive_features: [sex], references: [ugesp],"
        " impact_ratio: selection, severity: info}\n",
        encoding="utf-8",
    )
    code, stdout, _ = run("policy", "explain", str(policy))
    assert code == 0
    text = " ".join(stdout.split())
    assert "It also produces impact-ratio tables: per category" in text
    assert "Local Law 144" not in text and "LL144" not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "policy file not found"), ("rules: [", "policy.yaml:2:1: invalid YAML")],
)
def test_explain_bad_input_is_exit_2(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "policy.yaml"
    if content is not None:
        path.write_text(content)
    code, _, stderr = run("policy", "explain", str(path))
    assert code == 2 and message in stderr and "Traceback" not in stderr
