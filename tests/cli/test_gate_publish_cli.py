"""``ethicsgate gate`` and ``ethicsgate publish``: exit codes, outputs, bad input -> exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ethicsgate.cli import cli

PIPELINE = Path(__file__).resolve().parents[1] / "scenarios" / "gate_pipeline"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the pipeline fixture as the working directory."""
    root = tmp_path / "repo"
    shutil.copytree(PIPELINE, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.chdir(root)
    return root


def test_gate_writes_report_junit_sarif_and_summary(pipeline: Path) -> None:
    summary = pipeline / "summary.md"
    summary.write_text("earlier step\n")
    code, stdout, stderr = run(
        "gate",
        "candidate-fail.yaml",
        "--junit",
        "out/junit.xml",
        "--sarif",
        "out/gate.sarif",
        "--github-summary",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert code == 1, stderr
    assert (pipeline / "reports" / "candidate-fail" / "report.json").is_file()
    assert (pipeline / "out" / "junit.xml").is_file() and (
        pipeline / "out" / "gate.sarif"
    ).is_file()
    text = summary.read_text()
    assert text.startswith("earlier step\n## ethicsgate gate `candidate-fail`: ✘ Release blocked")
    sarif = json.loads((pipeline / "out" / "gate.sarif").read_text())
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "policy.yaml"  # relative to the working directory, as code scanning wants


def test_gate_summary_printed_without_github(pipeline: Path) -> None:
    code, stdout, _ = run(
        "gate", "candidate-pass.yaml", "--github-summary", env={"GITHUB_STEP_SUMMARY": ""}
    )
    assert code == 0
    assert "## ethicsgate gate `candidate-pass`: ✔ PASS" in stdout


def test_gate_format_json(pipeline: Path) -> None:
    run("gate", "released.yaml", "--out", "released")
    code, stdout, _ = run(
        "gate",
        "candidate-regressed.yaml",
        "--baseline",
        "released/report.json",
        "--significance-level",
        "1",  # count the 0.95 -> 0.85 drop although it is within noise (p = 0.46)
        "--format",
        "json",
    )
    assert code == 1
    data = json.loads(stdout)
    assert data["status"] == "fail" and data["audit_status"] == "pass"
    assert data["regressions"][0]["group"] == {"group": "B"}


def test_gate_signs_like_audit(pipeline: Path) -> None:
    assert run("keys", "generate", "--out", "keys")[0] == 0
    code, stdout, _ = run(
        "gate", "candidate-pass.yaml", "--out", "r", "--key", "keys/ethicsgate.key"
    )
    assert code == 0 and "signed: r/report.intoto.json" in stdout
    # found by QA: gate printed report.json where audit prints the page a person opens
    assert "\nreport: r/report.html\n" in stdout
    code, stdout, _ = run("audit", "candidate-pass.yaml", "--out", "a")
    assert code == 0 and "\nreport: a/report.html\n" in stdout
    assert run("verify", "r", "--key", "keys/ethicsgate.pub", "--evidence")[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gate", "missing.yaml"], "audit spec file not found"),
        (
            ["gate", "candidate-pass.yaml", "--baseline", "nope.json"],
            "nope.json: baseline report not found\n  hint: looked for ",
        ),
        (
            ["gate", "candidate-pass.yaml", "--baseline", "policy.yaml"],
            "policy.yaml: baseline report is not JSON",
        ),
        (["gate", "candidate-pass.yaml", "--key", "nokey.pem"], "nokey.pem"),
        (
            ["gate", "candidate-pass.yaml", "--max-regression", "-1"],
            "Invalid value for '--max-regression'",
        ),
        (["publish", "missing.yaml", "--out", "site"], "audit spec file not found"),
        (
            ["publish", "candidate-pass.yaml", "--out", "site", "--k", "1"],
            "Invalid value for '--k'",
        ),
        (
            ["publish", "nothing.json", "--out", "site"],
            "nothing.json: report not found\n  hint: looked for ",
        ),
    ],
)
def test_bad_input_exits_2_without_output(pipeline: Path, args: list[str], message: str) -> None:
    code, stdout, stderr = run(*args)
    assert code == 2, stdout + stderr
    assert message in stderr
    assert "Traceback" not in stderr
    assert not (pipeline / "reports").exists() and not (pipeline / "site").exists()
    assert not (pipeline / "out").exists()


def test_gate_baseline_of_another_policy_exits_2(pipeline: Path) -> None:
    assert run("gate", "released.yaml", "--out", "released")[0] == 0
    report = json.loads((pipeline / "released" / "report.json").read_text())
    report["audit"]["policy"]["id"] = "another-policy"
    (pipeline / "other.json").write_text(json.dumps(report))
    code, _, stderr = run("gate", "candidate-pass.yaml", "--baseline", "other.json", "--out", "c")
    assert code == 2
    assert "other.json: baseline audited policy 'another-policy', not 'loan-approvals'" in stderr
    assert not (pipeline / "c").exists()


def test_publish_from_audit_and_from_report(pipeline: Path) -> None:
    code, stdout, stderr = run("publish", "candidate-waived.yaml", "--out", "site")
    assert code == 0, stderr
    assert sorted(p.name for p in (pipeline / "site").iterdir()) == [
        "statement.html",
        "statement.json",
        "statement.md",
    ]
    assert run("gate", "candidate-pass.yaml", "--out", "r")[0] == 0
    code, _, stderr = run("publish", "r/report.json", "--out", "site2", "--k", "20")
    assert code == 0, stderr
    assert json.loads((pipeline / "site2" / "statement.json").read_text())["k"] == 20


def test_publish_signed(pipeline: Path) -> None:
    run("keys", "generate", "--out", "keys")
    code, _, stderr = run(
        "publish", "candidate-pass.yaml", "--out", "site", "--key", "keys/ethicsgate.key"
    )
    assert code == 0, stderr
    assert (pipeline / "site" / "statement.intoto.json").is_file()
    assert "SHA256:" in (pipeline / "site" / "statement.html").read_text()
    # `ethicsgate verify` knows statement envelopes too, by their signed predicate type
    code, stdout, stderr = run("verify", "site", "--key", "keys/ethicsgate.pub")
    assert code == 0, stderr
    html = pipeline / "site" / "statement.html"
    original = html.read_bytes()
    html.write_bytes(original.replace(b"<h1", b"<h1 data-x", 1))
    code, _, stderr = run("verify", "site/statement.intoto.json", "--key", "keys/ethicsgate.pub")
    assert code == 1 and "statement.html: sha256 differs" in stderr
    html.write_bytes(original)
    code, _, _ = run("publish", "candidate-pass.yaml", "--out", "site")
    assert code == 0 and not (pipeline / "site" / "statement.intoto.json").exists()


def test_publish_refuses_a_changed_policy(pipeline: Path) -> None:
    assert run("gate", "candidate-pass.yaml", "--out", "r")[0] == 0
    with (pipeline / "policy.yaml").open("a") as handle:
        handle.write("# edited after the audit\n")
    code, _, stderr = run("publish", "r", "--out", "site")
    assert code == 2
    assert "policy.yaml changed since the audit" in stderr
    assert not (pipeline / "site").exists()


def test_publish_needs_systems(pipeline: Path) -> None:
    text = (pipeline / "policy.yaml").read_text()
    (pipeline / "policy.yaml").write_text(text[: text.index("systems:")])
    code, _, stderr = run("publish", "candidate-pass.yaml", "--out", "site")
    assert code == 2
    assert "policy.yaml: the policy describes no automated systems" in stderr
    assert not (pipeline / "site").exists()


def test_publish_system_citing_unknown_rule_is_located(pipeline: Path) -> None:
    text = (
        (pipeline / "policy.yaml")
        .read_text()
        .replace("rules: [approval-parity]", "rules: [aproval-parity]")
    )
    (pipeline / "policy.yaml").write_text(text)
    code, _, stderr = run("policy", "check", "policy.yaml")
    assert code == 2
    assert (
        "policy.yaml:32:13: system 'preapproval-model' cites unknown rule 'aproval-parity'"
        in stderr
    )


# --- every shipped pack that describes systems publishes; the error shows what to add ----------

SHIPPED_PACKS = Path(__file__).resolve().parents[2] / "src" / "ethicsgate" / "packs"


def test_publish_the_bakery_example_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("examples", "bakery", "--out", "ex")[0] == 0
    assert run("audit", "ex/audit.yaml", "--out", "ex/report")[0] == 1
    code, _, stderr = run("publish", "ex/report", "--out", "public")
    assert code == 0, stderr
    statement = json.loads((tmp_path / "public" / "statement.json").read_text())
    names = [s["name"] for s in statement["systems"]]
    assert names == [
        "Krümel, the chat assistant on our website",
        "Newsletter, birthday and loyalty emails",
        "Loyalty discount decisions",
    ]


@pytest.mark.parametrize(
    "pack",
    [
        "bakery-customer-automation",
        "ca-feha-ads",
        "ca-sb243-companion-chatbots",
        "ccpa-admt",
        "colorado-sb26-189",
        "customer-automation",
        "eeoc-four-fifths",
        "eu-ai-act-deployer",
        "eu-ai-act-transparency",
        "gdpr-consent",
        "illinois-hb3773",
        "ny-algorithmic-pricing",
        "nyc-ll144",
        "nyc-ll144-example",
        "utah-ai-disclosure",
    ],
)
def test_shipped_packs_describe_their_systems(pack: str) -> None:
    from ethicsgate.policy import load_policy

    loaded = load_policy(SHIPPED_PACKS / f"{pack}.yaml")
    assert loaded.pack.systems
    cited = {rule for system in loaded.pack.systems for rule in system.rules}
    assert cited and cited <= {rule.id for rule in loaded.pack.rules}


@pytest.mark.parametrize("pack", sorted(p.stem for p in SHIPPED_PACKS.glob("*.yaml")))
def test_what_a_pack_leaves_to_people_reads_plainly_to_the_public(pack: str) -> None:
    # found by the owner QA: the statement told the public that the SB 243 pack left to people
    # "binding that as the minor role on every row" and "(set the reminder rule's
    # new_session_after ...)": the list is published as written, so it names no setting
    import re

    from ethicsgate.policy import load_policy

    scope = load_policy(SHIPPED_PACKS / f"{pack}.yaml").pack.scope
    for item in scope.left_to_people if scope is not None else []:
        text = " ".join(item.split())
        jargon = re.search(
            r"\b([a-z]+_[a-z_]+|roles?|binding|bind|rows?|rule's|audit spec|evidence's?)\b", text
        )
        assert jargon is None, (pack, jargon.group(0), text)


def test_publish_without_systems_shows_the_section_to_add(pipeline: Path) -> None:
    text = (pipeline / "policy.yaml").read_text()
    (pipeline / "policy.yaml").write_text(text[: text.index("systems:")])
    code, _, stderr = run("publish", "candidate-pass.yaml", "--out", "site")
    assert code == 2
    assert "add a top-level 'systems:' section to policy.yaml" in stderr
    assert "docs/transparency-statements.md" in stderr and "Traceback" not in stderr
    # the example in the message is YAML that, appended as written, makes the policy publishable
    snippet = stderr[stderr.index("systems:\n") : stderr.index("\n\n  basis is")]
    assert "rules: [approval-parity]" in snippet
    (pipeline / "policy.yaml").write_text(text[: text.index("systems:")] + snippet + "\n")
    # ... once the owner's own name and phone number replace its placeholders
    code, _, stderr = run("publish", "candidate-pass.yaml", "--out", "site")
    assert code == 2
    assert 'systems.0.human_contact: \'Type "person" in the chat, or call Replace with' in stderr
    assert "systems.0.accountable: 'Replace with your business's name" in stderr
    snippet = snippet.replace("Replace with your phone number", "030 1234 5678").replace(
        "Replace with your business's name and who answers for it", "The owner, Example Shop"
    )
    (pipeline / "policy.yaml").write_text(text[: text.index("systems:")] + snippet + "\n")
    code, _, stderr = run("publish", "candidate-pass.yaml", "--out", "site")
    assert code == 0, stderr
    statement = json.loads((pipeline / "site" / "statement.json").read_text())
    assert [s["name"] for s in statement["systems"]] == ["Website chat assistant"]


QA_POLICY = """\
schema_version: 1
id: loans
version: "1"
title: Loans
owner: QA Bank
rules:
  - {id: by-race, kind: fairness, dataset: predictions, sensitive_features: [race], metrics: [selection_rate], assert: [{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.5}]}
  - {id: by-race-sex, kind: fairness, dataset: predictions, sensitive_features: [race, sex], metrics: [selection_rate], min_group_size: 10, assert: [{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.5}]}
systems:
  - {id: m, name: Model, purpose: P, encounter: E, disclosure: D, human_contact: H, accountable: A, data: [{data: Income, basis: contract}], rules: [by-race, by-race-sex]}
"""


def test_publish_qa_repro_withholds_what_subtraction_would_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the QA report: race X shows 18 of 40 selected, X/M 13 of 24, so X/F's 5 = 18 - 13
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.yaml").write_text(QA_POLICY)
    rows = ["race,sex,prediction"]
    for x in "XY":
        rows += [f"{x},F,1"] * 5 + [f"{x},F,0"] * 11 + [f"{x},M,1"] * 13 + [f"{x},M,0"] * 11
    (tmp_path / "preds.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "audit.yaml").write_text(
        "schema_version: 1\nid: loans\npolicy: policy.yaml\n"
        "evidence:\n  predictions: {path: preds.csv}\n"
    )
    code, _, stderr = run("publish", "audit.yaml", "--out", "site")
    assert code == 0, stderr
    table = [
        line
        for line in (tmp_path / "site" / "statement.md").read_text().splitlines()
        if line.startswith("| race")
    ]
    assert table == [
        "| race = X | 40 | Got a yes: 45.0 % |",
        "| race = Y | 40 | Got a yes: 45.0 % |",
        "| race = X, sex = F | 16 | — |",
        "| race = X, sex = M | 24 | — |",
        "| race = Y, sex = F | 16 | — |",
        "| race = Y, sex = M | 24 | — |",
    ]
    assert (
        "To protect privacy, we left out 4 numbers: each is about fewer than 10 people, or "
        "would let someone work out" in (tmp_path / "site" / "statement.md").read_text()
    )


# --- a pack's template text is never published ------------------------------------------------

CHAT = """\
conversation_id,ts,actor,type,text,minor
C1,2026-03-01T10:00:00Z,bot,message,"Hi, I'm Lumi, an AI companion, not a person.",false
C1,2026-03-01T10:01:00Z,customer,message,hello,false
"""


def _companion_project(root: Path, policy: str) -> None:
    """An owner's project: the SB 243 pack copied by init, one conversation, a filled spec."""
    assert run("init", str(root), "--pack", "ca-sb243-companion-chatbots")[0] == 0
    (root / "data").mkdir()
    (root / "data" / "chat.csv").write_text(CHAT)
    (root / "audits" / "companion.yaml").write_text(
        f"schema_version: 1\nid: companion\npolicy: {policy}\n"
        "evidence:\n  chat: {path: ../data/chat.csv}\n"
    )


def test_publish_refuses_the_packs_placeholders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the QA owner published 'Transparency statement by Replace with the operator of the
    # companion chatbot platform' and a system named 'Replace with the companion chatbot's name'
    monkeypatch.chdir(tmp_path)
    _companion_project(tmp_path, "../policies/ca-sb243-companion-chatbots.yaml")
    code, stdout, stderr = run("publish", "audits/companion.yaml", "--out", "site")
    assert code == 2, stdout
    policy = Path("audits/../policies/ca-sb243-companion-chatbots.yaml")
    assert stderr.startswith(
        f"error: {policy}:5:8: owner: 'Replace with the operator of the companion chatbot "
        "platform' is the template's placeholder, not yet your own words"
    )
    lines = (Path("policies") / "ca-sb243-companion-chatbots.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.strip().startswith("name: Replace"))
    assert f"{policy}:{line}:11: systems.0.name: 'Replace with the companion" in stderr
    assert "systems.0.human_contact: 'If you have thoughts of suicide" in stderr  # mid-sentence
    assert "systems.0.data.0.data: 'Replace with what the companion reads" in stderr
    assert "the statement shows them to the public as written" in stderr
    assert "Traceback" not in stderr and not (tmp_path / "site").exists()
    # in the owner's words, it publishes
    text = (tmp_path / "policies" / "ca-sb243-companion-chatbots.yaml").read_text()
    text = text.replace("replace with your contact", "write to hi@lumi.example")
    (tmp_path / "policies" / "ca-sb243-companion-chatbots.yaml").write_text(
        text.replace("Replace with", "Lumi Inc. on")
    )
    code, _, stderr = run("publish", "audits/companion.yaml", "--out", "site")
    assert code == 0, stderr
    assert "replace with" not in (tmp_path / "site" / "statement.md").read_text().lower()


def test_publish_from_a_shipped_template_says_to_copy_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _companion_project(tmp_path, "pack:ca-sb243-companion-chatbots")
    code, _, stderr = run("publish", "audits/companion.yaml", "--out", "site")
    assert code == 2
    assert stderr.startswith("error: pack:ca-sb243-companion-chatbots:5:8: owner: 'Replace with")
    assert "`ethicsgate init --pack ca-sb243-companion-chatbots`" in stderr
    assert not (tmp_path / "site").exists()
