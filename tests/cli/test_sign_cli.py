"""Signed reports end to end: keys generate, audit --key, verify [--evidence]."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.cli.test_audit_cli import FAILING

from ethicsgate.cli import cli


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def signed(
    make_audit: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Path]]:
    monkeypatch.chdir(tmp_path)
    make_audit(FAILING)
    assert run("keys", "generate", "--out", "keys")[0] == 0
    code, stdout, stderr = run(
        "audit", "audit.yaml", "--out", "report", "--key", "keys/ethicsgate.key"
    )
    assert code == 1, stderr
    assert "signed: report/report.intoto.json" in stdout
    yield {
        "dir": tmp_path / "report",
        "envelope": tmp_path / "report" / "report.intoto.json",
        "report": tmp_path / "report" / "report.json",
        "policy": tmp_path / "policy.yaml",
        "evidence": tmp_path / "data.csv",
        "pub": tmp_path / "keys" / "ethicsgate.pub",
        "key": tmp_path / "keys" / "ethicsgate.key",
    }


def test_round_trip(signed: dict[str, Path]) -> None:
    code, stdout, _ = run("verify", str(signed["dir"]), "--key", str(signed["pub"]), "--evidence")
    assert code == 0, stdout
    assert "verified" in stdout
    code, stdout, _ = run(
        "verify", str(signed["envelope"]), "--key", str(signed["pub"]), "--format", "json"
    )
    data = json.loads(stdout)
    assert code == 0 and data["verified"] is True
    assert {
        "report.json",
        "report.html",
        "report.md",
        "groups.parquet",
        "groups.csv",
        "findings.parquet",
        "audit.yaml",
        "policy.yaml",
        "data.csv",
    } == set(data["subjects"])


def test_statement_content(signed: dict[str, Path]) -> None:
    import base64

    envelope = json.loads(signed["envelope"].read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://ethicsgate.dev/attestation/audit-report/v1"
    predicate = statement["predicate"]
    assert predicate["audit"]["id"] == "test-audit"
    assert predicate["status"] == "fail"
    assert predicate["policy"]["id"] == "test-policy"
    assert predicate["rules"] == [
        {"id": "parity", "kind": "fairness", "severity": "block", "status": "fail"}
    ]
    assert predicate["ethicsgate_version"]
    html = (signed["dir"] / "report.html").read_text()
    assert predicate["signer"] in html and "Not signed" not in html


def test_wrong_key_fails(signed: dict[str, Path], tmp_path: Path) -> None:
    run("keys", "generate", "--out", str(tmp_path / "other"))
    code, _, stderr = run(
        "verify", str(signed["dir"]), "--key", str(tmp_path / "other" / "ethicsgate.pub")
    )
    assert code == 1
    assert "signature does not verify" in stderr


def test_edited_evidence_needs_the_evidence_flag(signed: dict[str, Path]) -> None:
    signed["evidence"].write_text(signed["evidence"].read_text().replace("a,0,1", "a,0,0", 1))
    assert run("verify", str(signed["dir"]), "--key", str(signed["pub"]))[0] == 0
    code, _, stderr = run("verify", str(signed["dir"]), "--key", str(signed["pub"]), "--evidence")
    assert code == 1
    assert "data.csv: sha256 differs" in stderr


_TARGETS = ["envelope", "report", "policy", "evidence"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    target=st.sampled_from(_TARGETS),
    position=st.floats(0, 1, exclude_max=True),
    bit=st.integers(0, 7),
)
def test_flipping_any_byte_fails_verification(
    signed: dict[str, Path], target: str, position: float, bit: int
) -> None:
    path = signed[target]
    original = path.read_bytes()
    index = int(position * len(original))
    changed = bytearray(original)
    changed[index] ^= 1 << bit
    path.write_bytes(bytes(changed))
    try:
        code, _, stderr = run(
            "verify", str(signed["dir"]), "--key", str(signed["pub"]), "--evidence"
        )
        assert code == 1, f"flipping bit {bit} of byte {index} in {target} verified"
        assert "NOT verified" in stderr
    finally:
        path.write_bytes(original)
    assert run("verify", str(signed["dir"]), "--key", str(signed["pub"]), "--evidence")[0] == 0


def test_keys_never_leak(signed: dict[str, Path]) -> None:
    private = signed["key"].read_bytes()
    body = b"".join(line for line in private.splitlines() if not line.startswith(b"-----"))
    assert oct(signed["key"].stat().st_mode & 0o777) == "0o600"
    for produced in signed["dir"].iterdir():
        assert body not in produced.read_bytes(), produced


def test_unsigned_rerun_removes_the_stale_envelope(signed: dict[str, Path]) -> None:
    code, _, _ = run("audit", "audit.yaml", "--out", "report")
    assert code == 1
    assert not signed["envelope"].exists()
    assert "Not signed" in (signed["dir"] / "report.html").read_text()


def test_evidence_named_like_a_report_file_is_signed_and_rehashed(
    make_audit: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # evidence at the root of the audit's folder named groups.csv shared its subject name
    # with the report's own groups.csv: it was left out of the statement, so a change to it
    # verified with --evidence as "report and its inputs"
    from tests.conftest import AUDIT

    name = "groups.csv"
    monkeypatch.chdir(tmp_path)
    make_audit(FAILING, audit=AUDIT.replace("data.csv", name), data_name=name)
    assert run("keys", "generate", "--out", "keys")[0] == 0
    assert run("audit", "audit.yaml", "--out", "report", "--key", "keys/ethicsgate.key")[0] == 1
    args = ("verify", "report", "--key", "keys/ethicsgate.pub", "--evidence")
    code, stdout, stderr = run(*args)
    assert code == 0, stderr
    assert f"./{name}" in run(*args, "--format", "json")[1]
    with (tmp_path / name).open("a") as handle:
        handle.write("changed\n")
    code, _, stderr = run(*args)
    assert code == 1
    assert f"./{name}: sha256 differs" in stderr


def test_signing_key_from_environment_and_passphrase(
    make_audit: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_audit(FAILING)
    env = {"ETHICSGATE_KEY_PASSPHRASE": "correct horse"}
    assert run("keys", "generate", "--out", "k", "--passphrase", env=env)[0] == 0
    assert b"ENCRYPTED" in (tmp_path / "k" / "ethicsgate.key").read_bytes()
    env["ETHICSGATE_SIGNING_KEY"] = "k/ethicsgate.key"
    code, stdout, stderr = run("audit", "audit.yaml", "--out", "r", env=env)
    assert code == 1 and "signed:" in stdout, stderr
    env["ETHICSGATE_KEY_PASSPHRASE"] = "wrong"
    code, _, stderr = run("audit", "audit.yaml", "--out", "r2", env=env)
    assert code == 2 and "k/ethicsgate.key" in stderr
    assert not (tmp_path / "r2").exists(), "a bad key must fail before anything is written"


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_private_key_others_can_read_signs_with_a_note_saying_how_to_fix_it(
    signed: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = signed["key"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600  # keys generate writes it private
    code, _, stderr = run("audit", "audit.yaml", "--out", "r600", "--key", str(key))
    assert code == 1 and "note:" not in stderr
    key.chmod(0o644)  # as a secret written with the default umask
    code, stdout, stderr = run("audit", "audit.yaml", "--out", "r644", "--key", str(key))
    assert code == 1 and "signed: r644/report.intoto.json" in stdout
    assert (
        f"note: the private key {key} can be read by other users (mode 0644); anyone who "
        f"reads it can sign reports as you: chmod 600 {key}"
    ) in stderr
    monkeypatch.setenv("ETHICSGATE_SIGNING_KEY", str(key))  # the setting's key too
    code, _, stderr = run("publish", "policy.yaml", "--out", "statement")
    assert "can be read by other users (mode 0644)" in stderr


def test_an_envelope_larger_than_any_ethicsgate_writes_is_not_read(
    signed: dict[str, Path],
) -> None:
    """Noted at the signing QA: a planted envelope of 300 MB was read whole into memory."""
    import tracemalloc

    from ethicsgate.attest.verify import MAX_ENVELOPE_BYTES

    with signed["envelope"].open("r+b") as handle:
        handle.truncate(MAX_ENVELOPE_BYTES + 1)  # sparse: no disk is written
    tracemalloc.start()
    code, stdout, stderr = run("verify", str(signed["dir"]), "--key", str(signed["pub"]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 1, stderr
    assert "envelope is larger than any ethicsgate writes (at most 128 MiB): not read" in (
        stdout + stderr
    )
    assert peak < 32 * 2**20


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_envelope_that_is_a_device_is_not_read(signed: dict[str, Path]) -> None:
    """Found by the review: a size check by stat() passed /dev/zero (size 0), which was then
    read forever; the file is opened once and only a regular file is read."""
    signed["envelope"].unlink()
    signed["envelope"].symlink_to("/dev/zero")
    code, stdout, stderr = run("verify", str(signed["dir"]), "--key", str(signed["pub"]))
    assert code == 1, stderr
    assert "envelope is not a regular file (a device, a pipe?): not read" in stdout + stderr
    signed["envelope"].unlink()
    os.mkfifo(signed["envelope"])  # opened, it would wait for a writer
    code, stdout, stderr = run("verify", str(signed["dir"]), "--key", str(signed["pub"]))
    assert code == 1 and "not a regular file" in stdout + stderr


def _ssh_keygen(path: Path, *args: str) -> Path:
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-f", str(path), "-C", "ci@example", *args], check=True)
    return path


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs OpenSSH's ssh-keygen")
def test_openssh_ed25519_keys_sign_and_verify(
    make_audit: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team's existing ssh-keygen -t ed25519 key signs; its .pub line verifies."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ETHICSGATE_KEY_PASSPHRASE", raising=False)
    make_audit(FAILING)
    plain = _ssh_keygen(tmp_path / "id_ed25519", "-t", "ed25519", "-N", "")
    code, stdout, stderr = run("audit", "audit.yaml", "--out", "r1", "--key", str(plain))
    assert code == 1 and "signed: r1/report.intoto.json" in stdout, stderr
    assert run("verify", "r1", "--key", f"{plain}.pub")[0] == 0
    # an authorized_keys line, with its options before the key
    options = tmp_path / "authorized.pub"
    options.write_text('from="10.0.0.1",no-pty ' + Path(f"{plain}.pub").read_text())
    assert run("verify", "r1", "--key", str(options))[0] == 0
    # an encrypted one: its passphrase, as for an ethicsgate key
    locked = _ssh_keygen(tmp_path / "locked", "-t", "ed25519", "-N", "s3cret")
    code, _, stderr = run("audit", "audit.yaml", "--out", "r2", "--key", str(locked))
    assert code == 2 and "the private key is encrypted" in stderr
    assert not (tmp_path / "r2").exists()
    env = {"ETHICSGATE_KEY_PASSPHRASE": "s3cret"}
    code, _, stderr = run("audit", "audit.yaml", "--out", "r2", "--key", str(locked), env=env)
    assert code == 1, stderr
    assert run("verify", "r2", "--key", f"{locked}.pub")[0] == 0
    code, _, stderr = run("verify", "r2", "--key", f"{plain}.pub")
    assert code == 1 and "does not verify with the given public key" in stderr + _


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs OpenSSH's ssh-keygen")
def test_openssh_keys_that_cannot_sign_or_verify_say_why(
    make_audit: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_audit(FAILING)
    ed = _ssh_keygen(tmp_path / "ed", "-t", "ed25519", "-N", "")
    rsa = _ssh_keygen(tmp_path / "rsa", "-t", "rsa", "-b", "2048", "-N", "")
    assert run("audit", "audit.yaml", "--out", "r", "--key", str(ed))[0] == 1
    cases = [
        (("audit", "audit.yaml", "--out", "o", "--key", str(rsa)), "not an Ed25519 key (found RSA 2048-bit)"),
        (("audit", "audit.yaml", "--out", "o", "--key", f"{ed}.pub"), "this is an OpenSSH public key, not a private key"),
        (("verify", "r", "--key", f"{rsa}.pub"), "not an Ed25519 public key (found RSA 2048-bit)"),
    ]  # fmt: skip
    ec = _ssh_keygen(tmp_path / "ec", "-t", "ecdsa", "-N", "")
    cases.append((("verify", "r", "--key", f"{ec}.pub"), "not an Ed25519 public key (found EC"))
    (tmp_path / "sk.pub").write_text(
        "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIE key\n"
    )
    cases.append((("verify", "r", "--key", "sk.pub"), "a security-key public key"))
    (tmp_path / "both.pub").write_bytes(Path(f"{ed}.pub").read_bytes() * 2)
    cases.append((("verify", "r", "--key", "both.pub"), "2 OpenSSH public keys in one file"))
    for args, said in cases:
        code, _, stderr = run(*args)
        assert code == 2 and said in stderr, (args, stderr)
        assert "Traceback" not in stderr
    assert not (tmp_path / "o").exists()


def test_generate_with_passphrase_and_nobody_to_ask_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no ETHICSGATE_KEY_PASSPHRASE and no terminal (CI): say how to give it, write nothing
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ETHICSGATE_KEY_PASSPHRASE", raising=False)
    code, _, stderr = run("keys", "generate", "--out", "k", "--passphrase")
    assert code == 2, stderr
    assert "--passphrase: no passphrase" in stderr and "ETHICSGATE_KEY_PASSPHRASE" in stderr
    assert "Aborted" not in stderr
    assert not (tmp_path / "k").exists()


def test_bad_key_input_exits_2(signed: dict[str, Path], tmp_path: Path) -> None:
    code, _, stderr = run("verify", str(signed["dir"]), "--key", str(tmp_path / "missing.pub"))
    assert code == 2 and "missing.pub" in stderr
    code, _, stderr = run("verify", str(tmp_path / "nowhere"), "--key", str(signed["pub"]))
    assert code == 2 and "envelope file not found" in stderr
    code, _, stderr = run("audit", "audit.yaml", "--key", str(signed["policy"]))
    assert code == 2 and "policy.yaml" in stderr
    code, _, stderr = run("keys", "generate", "--out", str(signed["key"].parent))
    assert code == 2 and "remove it or choose another --out" in stderr


# --- an unsigned report: say so, and how to sign it ---------------------------------------------


@pytest.mark.parametrize("with_key", [False, True])
@pytest.mark.parametrize("target", ["report", "report/report.json"])
def test_verify_an_unsigned_report_says_it_is_unsigned(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    with_key: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    make_audit(FAILING)
    assert run("keys", "generate", "--out", "keys")[0] == 0
    assert run("audit", "audit.yaml", "--out", "report")[0] == 1
    key = ["--key", "keys/ethicsgate.pub"] if with_key else []
    code, _, stderr = run("verify", target, *key)
    assert code == 2
    assert "report/report.json: this report is not signed" in stderr
    assert "ethicsgate audit AUDIT.yaml --key keys/ethicsgate.key" in stderr
    assert "Missing option" not in stderr and "Traceback" not in stderr


def test_verify_an_unsigned_statement_says_how_to_sign_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    pipeline = Path(__file__).resolve().parents[1] / "scenarios" / "gate_pipeline"
    for name in ("policy.yaml", "candidate-pass.yaml"):
        (tmp_path / name).write_bytes((pipeline / name).read_bytes())
    for data in pipeline.glob("*.csv"):
        (tmp_path / data.name).write_bytes(data.read_bytes())
    assert run("publish", "candidate-pass.yaml", "--out", "site")[0] == 0
    code, _, stderr = run("verify", "site")
    assert code == 2
    assert "site/statement.json: this statement is not signed" in stderr
    assert "ethicsgate publish SOURCE --out DIR --key keys/ethicsgate.key" in stderr


@pytest.mark.parametrize(
    "name", ["report.json", "report.html", "report.md", "groups.csv", "findings.parquet"]
)
def test_verify_a_file_of_a_signed_report_verifies_the_report(
    signed: dict[str, Path], name: str
) -> None:
    # a reviewer sent report.html checks that file: the envelope beside it signs it
    target = str(signed["dir"] / name)
    code, stdout, stderr = run("verify", target, "--key", str(signed["pub"]))
    assert code == 0, stderr
    assert f"verified: {target} (report; 9 subject(s))" in stdout


def test_verify_a_file_of_an_unsigned_report_says_it_is_unsigned(signed: dict[str, Path]) -> None:
    assert run("audit", "audit.yaml", "--out", "report")[0] == 1  # unsigned now
    code, _, stderr = run("verify", "report/report.html", "--key", str(signed["pub"]))
    assert code == 2
    assert "report/report.html: this report is not signed" in stderr
    assert "not a DSSE envelope" not in stderr


@pytest.mark.parametrize("target", ["report", "report/report.html"])
def test_verify_a_signed_report_whose_envelope_was_removed_says_so(
    signed: dict[str, Path], target: str
) -> None:
    # report.md and .html say "Signed by key ...": "not signed, re-run the audit" would be wrong
    signed["envelope"].unlink()
    code, _, stderr = run("verify", target, "--key", str(signed["pub"]))
    assert code == 2
    fingerprint = (signed["dir"] / "report.md").read_text().split("Signed by key `")[1][:71]
    assert (
        f"this report says it was signed by key {fingerprint} (report.md), but its envelope "
        "report.intoto.json is missing: it was removed, or not copied with the report"
    ) in stderr
    assert "re-run the audit" not in stderr


def test_verify_a_signed_statement_whose_envelope_was_removed_says_so(
    signed_statement: Path,
) -> None:
    (signed_statement / "site" / "statement.intoto.json").unlink()
    code, _, stderr = run("verify", "site", "--key", "keys/ethicsgate.pub")
    assert code == 2
    assert "this statement says it was signed by key SHA256:" in stderr
    assert "its envelope statement.intoto.json is missing" in stderr


def test_verify_a_signed_report_without_key_asks_for_it(signed: dict[str, Path]) -> None:
    code, _, stderr = run("verify", "report")
    assert code == 2
    assert "report/report.intoto.json: verifying needs the signer's public key" in stderr
    assert "ethicsgate verify report --key keys/ethicsgate.pub" in stderr


@pytest.fixture
def signed_statement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A transparency statement published with a key into site/, from the pipeline's audit."""
    monkeypatch.chdir(tmp_path)
    pipeline = Path(__file__).resolve().parents[1] / "scenarios" / "gate_pipeline"
    for name in ("policy.yaml", "candidate-pass.yaml"):
        (tmp_path / name).write_bytes((pipeline / name).read_bytes())
    for data in pipeline.glob("*.csv"):
        (tmp_path / data.name).write_bytes(data.read_bytes())
    assert run("keys", "generate", "--out", "keys")[0] == 0
    code, _, stderr = run(
        "publish", "candidate-pass.yaml", "--out", "site", "--key", "keys/ethicsgate.key"
    )
    assert code == 0, stderr
    return tmp_path


def test_verify_a_statement_names_it_a_statement_and_claims_no_inputs(
    signed_statement: Path,
) -> None:
    with (signed_statement / "candidate-pass.csv").open("a") as handle:
        handle.write("x\n")  # the evidence changed; the statement binds no evidence file
    code, stdout, _ = run("verify", "site", "--key", "keys/ethicsgate.pub", "--evidence")
    assert code == 0, stdout
    assert "verified: site (transparency statement; 3 subject(s))" in stdout
    assert "report" not in stdout.splitlines()[0] and "inputs;" not in stdout
    assert (
        "not re-checked: a transparency statement binds no audit spec, policy or evidence "
        "files (its subjects are its own files, statement.json, statement.html and statement.md, "
        "checked above), so there are no inputs "
        "to re-hash"
    ) in stdout
    code, stdout, _ = run(
        "verify", "site", "--key", "keys/ethicsgate.pub", "--evidence", "--format", "json"
    )
    data = json.loads(stdout)
    assert code == 0 and data["verified"] is True
    assert data["document"] == "statement" and data["checked_inputs"] is False
    assert data["not_rechecked"] and "binds no audit spec" in data["not_rechecked"][0]

    # without --evidence: a statement, and no advice to add a flag that cannot help
    code, stdout, _ = run("verify", "site", "--key", "keys/ethicsgate.pub")
    assert code == 0
    assert "verified: site (transparency statement; 3 subject(s))" in stdout
    assert "--evidence" not in stdout and "not re-checked" not in stdout


def test_verify_a_file_of_a_signed_statement_verifies_the_statement(
    signed_statement: Path,
) -> None:
    code, stdout, stderr = run("verify", "site/statement.html", "--key", "keys/ethicsgate.pub")
    assert code == 0, stderr
    assert "verified: site/statement.html (transparency statement; 3 subject(s))" in stdout


def test_a_folder_with_an_unsigned_report_and_a_signed_statement_is_not_verified(
    signed_statement: Path,
) -> None:
    # the statement published into the folder of an unsigned report: verifying the folder
    # verified the statement (exit 0), and nothing said the report in it was unsigned
    report = signed_statement / "site" / "report.json"
    report.write_text('{"status": "pass"}\n')
    code, stdout, stderr = run("verify", "site", "--key", "keys/ethicsgate.pub")
    assert code == 2, stdout
    assert "site/report.json: this report is not signed" in stderr
    assert "verify site/statement.json" in stderr
    code, stdout, _ = run("verify", "site/statement.json", "--key", "keys/ethicsgate.pub")
    assert code == 0 and "transparency statement" in stdout


@pytest.mark.parametrize("forged", ["report.html", "report.md", "groups.csv"])
def test_report_files_without_report_json_beside_a_statement_are_not_verified(
    signed_statement: Path, forged: str
) -> None:
    # found by review: only report.json made the folder a report's, so forged report files
    # beside a signed statement verified as the statement (exit 0)
    (signed_statement / "site" / forged).write_text("forged\n")
    code, stdout, stderr = run("verify", "site", "--key", "keys/ethicsgate.pub")
    assert code == 2, stdout
    assert "this report is not signed" in stderr


def test_verify_a_report_still_says_what_it_checked(signed: dict[str, Path]) -> None:
    code, stdout, _ = run("verify", str(signed["dir"]), "--key", str(signed["pub"]))
    assert code == 0
    assert f"verified: {signed['dir']} (report; 9 subject(s))" in stdout
    assert "inputs not re-hashed: add --evidence to check the policy and evidence" in stdout
    code, stdout, _ = run("verify", str(signed["dir"]), "--key", str(signed["pub"]), "--evidence")
    assert f"verified: {signed['dir']} (report and its inputs; 9 subject(s))" in stdout
    code, stdout, _ = run(
        "verify", str(signed["dir"]), "--key", str(signed["pub"]), "--format", "json"
    )
    data = json.loads(stdout)
    assert data["document"] == "report" and data["checked_inputs"] is False


def test_verify_from_another_folder_says_to_pass_root(
    signed: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the inputs are named relative to tmp_path, where it ran
    args = ("verify", str(signed["dir"]), "--key", str(signed["pub"]), "--evidence")
    code, _, stderr = run(*args)
    assert code == 1
    assert "policy.yaml: file not found" in stderr
    assert "hint: the report names its inputs relative to the folder the audit ran in; " in stderr
    assert "--root" in stderr and str(elsewhere) in stderr
    assert run(*args, "--root", str(tmp_path))[0] == 0
    code, stdout, stderr = run(*args, "--root", str(tmp_path / "mistyped"))
    assert code == 2, stdout
    assert "mistyped: no such folder" in stderr
    # --root alone re-hashes nothing: it was ignored in silence (found by the signing QA)
    code, stdout, stderr = run(*args[:-1], "--root", str(tmp_path))
    assert code == 2, stdout
    assert "only --evidence re-hashes them: add --evidence, or leave out --root" in stderr
    assert "Traceback" not in stderr
