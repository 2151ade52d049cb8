"""Policy packs ship with the package: ``policy list``, ``init --pack``, ``policy: pack:NAME``."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ethicsgate.audit import load_audit_spec
from ethicsgate.cli import cli

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "ethicsgate"
PACKS = sorted((PACKAGE / "packs").glob("*.yaml"), key=lambda p: p.stem)
APPLICANTS = ROOT / "examples" / "hiring" / "applicants.csv"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the packs are package data, kept once in the repository --------------------------------


def test_every_data_file_of_the_package_is_in_the_wheel_config() -> None:
    """Each non-Python file under src/ethicsgate matches a package-data glob of pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["ethicsgate"]
    files = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert len(PACKS) == 16
    assert {p.relative_to(PACKAGE).as_posix() for p in PACKS} <= set(files)
    missing = [f for f in files if not any(fnmatch.fnmatchcase(f, g) for g in globs)]
    assert missing == []


def test_policies_folder_is_the_packaged_packs_not_a_copy() -> None:
    assert (ROOT / "policies").resolve() == (PACKAGE / "packs").resolve()
    assert sorted(p.name for p in (ROOT / "policies").glob("*.yaml")) == sorted(
        p.name for p in PACKS
    )
    # no second copy of a pack anywhere in the package (the bakery example reads the pack)
    digests = {sha256(p) for p in PACKS}
    copies = [
        p for p in PACKAGE.rglob("*.yaml") if p.parent.name != "packs" and sha256(p) in digests
    ]
    assert copies == []


# --- ethicsgate policy list ------------------------------------------------------------------


def test_policy_list_shows_every_shipped_pack() -> None:
    code, stdout, _ = run("policy", "list")
    assert code == 0
    for path in PACKS:
        pack = yaml.safe_load(path.read_text())
        assert f"pack:{path.stem}  {pack['version']}  ({len(pack['rules'])} rule(s)" in stdout
        assert pack["title"] in stdout
    assert "EEOC Uniform Guidelines on Employee Selection Procedures" in stdout  # references
    assert "policy: pack:NAME" in stdout


def test_policy_list_json() -> None:
    code, stdout, _ = run("policy", "list", "--format", "json")
    assert code == 0
    listed = json.loads(stdout)
    assert [p["name"] for p in listed] == [p.stem for p in PACKS]
    for entry, path in zip(listed, PACKS, strict=True):
        pack = yaml.safe_load(path.read_text())
        assert entry["version"] == pack["version"] and entry["title"] == pack["title"]
        assert entry["rules"] == len(pack["rules"])
        assert entry["systems"] == len(pack.get("systems", []))
        assert entry["references"] == [r["title"] for r in pack["references"]]
        assert entry["sha256"] == sha256(path)


def test_check_and_explain_take_a_pack_name() -> None:
    code, stdout, _ = run("policy", "check", "pack:nyc-ll144")
    assert code == 0 and "ok  pack:nyc-ll144  (nyc-ll144 1.2, 3 rule(s))" in stdout
    code, stdout, _ = run("policy", "explain", "pack:gdpr-consent")
    assert code == 0 and "GDPR consent" in stdout
    code, _, stderr = run("policy", "explain", "pack:nyc-ll14")
    assert code == 2
    assert "no shipped policy pack is named 'nyc-ll14' (did you mean pack:nyc-ll144?)" in stderr
    assert "Traceback" not in stderr


# --- policy: pack:NAME in an audit spec --------------------------------------------------------


def _pack_spec(tmp_path: Path, policy: str) -> Path:
    shutil.copy(APPLICANTS, tmp_path / "applicants.csv")
    spec = tmp_path / "audit.yaml"
    spec.write_text(
        "schema_version: 1\n"
        "id: hiring\n"
        f"policy: {policy}\n"
        "evidence:\n"
        "  applicants:\n"
        "    path: applicants.csv\n"
        "    columns: {prediction: advanced, score: match_score, label: hired}\n"
    )
    return spec


def test_audit_spec_names_a_shipped_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _pack_spec(tmp_path, "pack:nyc-ll144-example")
    code, _, stderr = run("audit", "audit.yaml", "--out", "r")
    assert code == 1, stderr  # the example's planted disparity blocks
    policy = json.loads((tmp_path / "r" / "report.json").read_text())["audit"]["policy"]
    packed = PACKAGE / "packs" / "nyc-ll144-example.yaml"
    assert policy["path"] == "pack:nyc-ll144-example"
    assert policy["sha256"] == sha256(packed)
    assert policy["version"] == yaml.safe_load(packed.read_text())["version"]
    # the same pack read from a file gives the same rules' results
    _pack_spec(tmp_path, str(packed))
    assert run("audit", "audit.yaml", "--out", "f")[0] == 1
    by_pack = json.loads((tmp_path / "r" / "report.json").read_text())
    by_file = json.loads((tmp_path / "f" / "report.json").read_text())
    assert by_pack["rules"] == by_file["rules"]
    assert by_pack["audit"]["policy"]["sha256"] == by_file["audit"]["policy"]["sha256"]


def test_unknown_pack_in_a_spec_is_located(tmp_path: Path) -> None:
    spec = _pack_spec(tmp_path, "pack:nyc-ll-144")
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "r"))
    assert code == 2
    assert f"{spec}:3:9: no shipped policy pack is named 'nyc-ll-144'" in stderr
    assert "ethicsgate policy list" in stderr
    assert not (tmp_path / "r").exists()


def test_signed_pack_report_binds_the_pack_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _pack_spec(tmp_path, "pack:nyc-ll144-example")
    assert run("keys", "generate", "--out", "keys")[0] == 0
    assert run("audit", "audit.yaml", "--out", "r", "--key", "keys/ethicsgate.key")[0] == 1
    envelope = json.loads((tmp_path / "r" / "report.intoto.json").read_text())
    import base64

    statement = json.loads(base64.b64decode(envelope["payload"]))
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    packed = PACKAGE / "packs" / "nyc-ll144-example.yaml"
    assert subjects["pack:nyc-ll144-example"] == sha256(packed)
    code, stdout, stderr = run("verify", "r", "--key", "keys/ethicsgate.pub", "--evidence")
    assert code == 0, stderr
    # an ethicsgate whose pack of that name has other bytes does not verify the report
    other = tmp_path / "other-install"
    other.mkdir()
    (other / packed.name).write_bytes(packed.read_bytes() + b"# edited\n")
    monkeypatch.setattr("ethicsgate.policy.packs._packs_dir", lambda: other)
    code, _, stderr = run("verify", "r", "--key", "keys/ethicsgate.pub", "--evidence")
    assert code == 1
    assert "pack:nyc-ll144-example: sha256 differs" in stderr


def test_publish_from_a_pack_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _pack_spec(tmp_path, "pack:nyc-ll144-example")
    assert run("audit", "audit.yaml", "--out", "r")[0] == 1
    code, _, stderr = run("publish", "r", "--out", "site")
    assert code == 0, stderr
    statement = json.loads((tmp_path / "site" / "statement.json").read_text())
    assert [s["name"] for s in statement["systems"]] == ["Resume screening tool"]


# --- ethicsgate init --pack NAME -------------------------------------------------------------


def test_init_pack_copies_the_pack_and_writes_a_spec_to_fill_in(tmp_path: Path) -> None:
    code, stdout, _ = run("init", str(tmp_path / "proj"), "--pack", "gdpr-consent")
    assert code == 0
    proj = tmp_path / "proj"
    copy, spec = proj / "policies" / "gdpr-consent.yaml", proj / "audits" / "gdpr-consent.yaml"
    assert f"wrote {copy}" in stdout and f"wrote {spec}" in stdout
    assert copy.read_bytes() == (PACKAGE / "packs" / "gdpr-consent.yaml").read_bytes()
    loaded = load_audit_spec(spec)  # valid: the policy resolves and every dataset is bound
    assert loaded.policy.path.resolve() == copy
    assert set(loaded.spec.evidence) == {"consent_ledger", "processing", "decisions"}
    assert loaded.spec.evidence["processing"].path == "../data/processing.csv"
    assert f"ethicsgate audit {spec}" in stdout
    code, _, stderr = run("init", str(proj), "--pack", "gdpr-consent")
    assert code == 2 and "refusing to overwrite" in stderr


def test_init_unknown_pack_is_exit_2(tmp_path: Path) -> None:
    code, _, stderr = run("init", str(tmp_path), "--pack", "eeoc")
    assert code == 2 and "no shipped policy pack is named 'eeoc'" in stderr
    assert "eeoc-four-fifths" in stderr
    assert list(tmp_path.iterdir()) == []


def test_every_shipped_pack_says_where_and_from_when_it_applies() -> None:
    from ethicsgate.policy.loader import list_packs, pack_names

    packs = list_packs()
    assert {p.name for p in packs} == set(pack_names())
    for pack in packs:
        assert pack.jurisdiction, f"pack {pack.name} has no scope.jurisdiction"
    code, stdout, _ = run("policy", "explain", "pack:eu-ai-act-transparency")
    assert code == 0
    assert "Jurisdiction: European Union" in stdout
    assert "2026-08-02: Art. 50" in stdout
    assert "Not checked here, left to people:" in stdout
    code, stdout, _ = run("policy", "explain", "pack:eu-ai-act-transparency", "--format", "json")
    scope = json.loads(stdout)["scope"]
    assert [d["date"] for d in scope["in_force"]] == ["2026-08-02", "2027-12-02"]


def test_no_pack_cites_repealed_or_withdrawn_sources() -> None:
    """Colorado SB 24-205 was repealed by SB 26-189; the EEOC's 2023 AI technical assistance
    was withdrawn in 2025: a reference to either is out of date (a mention as history is not)."""
    from ethicsgate.policy import load_policy
    from ethicsgate.policy.loader import pack_names
    from ethicsgate.policy.packs import PACK_PREFIX

    for name in pack_names():
        pack = load_policy(f"{PACK_PREFIX}{name}").pack
        for ref in pack.references:
            cited = f"{ref.title} {ref.url or ''}".lower()
            # SB 24-205 may be named only as what SB 26-189 repealed, never as the law cited
            assert "24-205" not in cited or "26-189" in cited, (name, ref.id)
            assert "technical assistance" not in cited, (name, ref.id)
            assert "eeoc.gov/laws/guidance/select-issues" not in cited, (name, ref.id)
