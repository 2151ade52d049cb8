"""verify_attestation: bad input raises; every change to what was signed reads as not verified."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ethicsgate.attest import (
    ENVELOPE_FILENAME,
    Subject,
    build_statement,
    generate_keypair,
    key_fingerprint,
    load_private_key,
    sha256_file,
    sign_envelope,
    verify_attestation,
    verify_envelope,
)
from ethicsgate.errors import VerificationError

# Each example rewrites one file in the per-test workspace and restores it afterwards.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _flip(data: bytes, index: int, mask: int) -> bytes:
    """Return ``data`` with the byte at ``index`` XORed with a non-zero ``mask``."""
    index %= len(data)
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]


def _verify(ws: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("root", ws.root)
    return verify_attestation(ws.envelope, ws.key.public_key(), **kwargs)


# --- what verifies ---------------------------------------------------------------------------


def test_fresh_attestation_verifies(workspace: Any) -> None:
    result = _verify(workspace, check_files=True)
    assert result.ok, result.reasons
    assert result.reasons == []
    assert result.fingerprint == key_fingerprint(workspace.key.public_key())
    assert result.statement is not None
    assert [s.name for s in result.statement.subjects] == [
        "report.json",
        "policies/hiring.yaml",
        "data/decisions.jsonl",
    ]
    assert result.statement.predicate == {"outcome": "pass", "policy": "hiring"}


def test_a_directory_means_its_report_intoto_json(workspace: Any) -> None:
    result = verify_attestation(workspace.out, workspace.key.public_key())
    assert result.ok, result.reasons


def test_root_defaults_to_the_working_directory(
    workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace.root)
    result = verify_attestation(workspace.envelope, workspace.key.public_key(), check_files=True)
    assert result.ok, result.reasons
    monkeypatch.chdir(workspace.out)
    result = verify_attestation(workspace.envelope, workspace.key.public_key(), check_files=True)
    assert not result.ok
    assert "policies/hiring.yaml: file not found" in result.reasons


def test_report_json_is_found_next_to_the_envelope_not_under_root(
    workspace: Any, tmp_path: Path
) -> None:
    result = verify_attestation(workspace.envelope, workspace.key.public_key(), root=tmp_path)
    assert result.ok, result.reasons


def test_a_generated_key_file_round_trip(workspace: Any, tmp_path: Path) -> None:
    from ethicsgate.attest import load_public_key

    pair = generate_keypair(tmp_path / "keys", passphrase=b"pw")
    key = load_private_key(pair.private_path, passphrase=b"pw")
    workspace.envelope.write_bytes(sign_envelope(workspace.statement, key))
    result = verify_attestation(workspace.envelope, load_public_key(pair.public_path))
    assert result.ok, result.reasons
    assert result.fingerprint == pair.fingerprint


# --- bad input raises --------------------------------------------------------------------------


def test_missing_envelope_is_bad_input(tmp_path: Path, signing_key: Ed25519PrivateKey) -> None:
    with pytest.raises(VerificationError, match="envelope file not found") as info:
        verify_attestation(tmp_path / "nope.json", signing_key.public_key())
    assert str(tmp_path / "nope.json") in str(info.value)


def test_directory_without_an_envelope_is_bad_input(
    tmp_path: Path, signing_key: Ed25519PrivateKey
) -> None:
    with pytest.raises(VerificationError, match="envelope file not found") as info:
        verify_attestation(tmp_path, signing_key.public_key())
    assert str(tmp_path / ENVELOPE_FILENAME) in str(info.value)


def test_a_root_that_is_no_folder_is_bad_input(workspace: Any, tmp_path: Path) -> None:
    # a mistyped --root is not "every input is missing" (not verified): it is bad input
    missing = tmp_path / "nope"
    with pytest.raises(VerificationError, match="no such folder") as info:
        _verify(workspace, check_files=True, root=missing)
    assert str(missing) in str(info.value)
    with pytest.raises(VerificationError, match="no such folder"):
        _verify(workspace, check_files=True, root=workspace.policy)


# --- what does not verify, and why --------------------------------------------------------------


def test_wrong_key(workspace: Any, other_key: Ed25519PrivateKey) -> None:
    result = verify_attestation(workspace.envelope, other_key.public_key())
    fingerprint = key_fingerprint(other_key.public_key())
    assert not result.ok
    assert result.reasons == [
        f"signature does not verify with the given public key (fingerprint {fingerprint})"
    ]
    assert result.statement is None
    assert result.fingerprint == fingerprint


def test_changed_report(workspace: Any) -> None:
    expected = sha256_file(workspace.report)
    workspace.report.write_text('{"outcome": "pass", "rules": []}\n')
    found = sha256_file(workspace.report)
    result = _verify(workspace)
    assert not result.ok
    assert result.reasons == [f"report.json: sha256 differs (expected {expected}, found {found})"]
    assert result.statement is not None


def test_missing_report(workspace: Any) -> None:
    workspace.report.unlink()
    assert _verify(workspace).reasons == ["report.json: file not found"]


def test_report_must_be_a_subject(workspace: Any) -> None:
    statement = build_statement(
        [Subject("policies/hiring.yaml", sha256_file(workspace.policy))], {"outcome": "pass"}
    )
    workspace.envelope.write_bytes(sign_envelope(statement, workspace.key))
    result = _verify(workspace, check_files=True)
    assert result.reasons == ["report.json: not a subject of the attestation"]


@pytest.mark.parametrize("name", ["groups.csv", "findings.parquet", "report.html"])
def test_a_report_file_beside_the_envelope_that_it_does_not_sign_is_a_reason(
    workspace: Any, name: str
) -> None:
    # an envelope signed before a file existed (only report.json here) signs no file of that
    # name: one that appears beside it was added afterwards, and must not pass as signed
    (workspace.out / name).write_bytes(b"forged,rows\n")
    result = _verify(workspace)
    assert not result.ok
    assert result.reasons == [
        f"{name}: beside the envelope but not signed by it (added after signing?)"
    ]


def test_a_file_ethicsgate_does_not_write_beside_the_envelope_is_no_reason(
    workspace: Any,
) -> None:
    (workspace.out / "notes.txt").write_text("reviewed by A. on Monday\n")
    assert _verify(workspace).ok


def test_subject_files_are_checked_only_when_asked(workspace: Any) -> None:
    workspace.policy.unlink()
    workspace.evidence.write_text("changed\n")
    assert _verify(workspace).ok
    result = _verify(workspace, check_files=True)
    assert not result.ok
    assert result.reasons[0] == "policies/hiring.yaml: file not found"
    assert result.reasons[1].startswith("data/decisions.jsonl: sha256 differs (expected ")
    assert len(result.reasons) == 2


def test_the_root_hint_only_when_no_input_is_found_under_it(workspace: Any, tmp_path: Path) -> None:
    # every input missing: the wrong folder, most likely; say which and how to name the right one
    result = _verify(workspace, check_files=True, root=tmp_path)
    assert result.hint is not None and "--root DIR" in result.hint
    # one input missing in the folder the audit ran in: that file is gone, not the folder wrong
    workspace.evidence.unlink()
    result = _verify(workspace, check_files=True)
    assert result.reasons == ["data/decisions.jsonl: file not found"]
    assert result.hint is None


def test_unreadable_subject_is_a_reason(workspace: Any) -> None:
    workspace.policy.unlink()
    workspace.policy.mkdir()
    result = _verify(workspace, check_files=True)
    assert result.reasons == ["policies/hiring.yaml: cannot read (Is a directory)"]


def test_subject_name_that_is_no_path_is_a_reason(workspace: Any) -> None:
    statement = build_statement(
        [
            Subject("report.json", sha256_file(workspace.report)),
            Subject("bad\x00name", "00" * 32),
        ],
        {},
    )
    workspace.envelope.write_bytes(sign_envelope(statement, workspace.key))
    assert _verify(workspace, check_files=True).reasons == [
        "'bad\\x00name': not a usable file path"
    ]


def test_envelope_that_is_not_json_is_not_verified_not_bad_input(workspace: Any) -> None:
    workspace.envelope.write_bytes(b"\x00garbage")
    result = _verify(workspace)
    assert not result.ok
    assert result.reasons[0].startswith("not a DSSE envelope: invalid JSON")


def test_signed_statement_of_another_kind_is_not_verified(workspace: Any) -> None:
    workspace.envelope.write_bytes(sign_envelope(b'{"_type": "other"}', workspace.key))
    result = _verify(workspace)
    assert not result.ok
    assert result.reasons == [
        "statement: _type is 'other', expected 'https://in-toto.io/Statement/v1'"
    ]


def test_an_envelope_named_for_a_report_must_sign_a_report(workspace: Any) -> None:
    # a signed transparency statement's envelope, renamed report.intoto.json beside a forged
    # report.json, verified "as a statement" with exit 0, and report.json went unchecked
    from ethicsgate.attest.verify import STATEMENT_ENVELOPE_FILENAME, STATEMENT_PREDICATE_TYPE

    statement_json = workspace.out / "statement.json"
    statement_json.write_text('{"published": true}\n')
    statement = build_statement(
        [Subject("statement.json", sha256_file(statement_json))],
        {},
        predicate_type=STATEMENT_PREDICATE_TYPE,
    )
    workspace.envelope.write_bytes(sign_envelope(statement, workspace.key))
    result = _verify(workspace)
    assert not result.ok
    assert result.reasons == [
        "report.intoto.json signs a transparency statement, not a report (an envelope renamed "
        "or moved?)"
    ]
    # under its own name it verifies, as the statement it is
    renamed = workspace.envelope.rename(workspace.out / STATEMENT_ENVELOPE_FILENAME)
    result = verify_attestation(renamed, workspace.key.public_key())
    assert result.ok and result.document == "statement"


def test_edited_keyid_passes_dsse_but_not_the_attestation(workspace: Any) -> None:
    # DSSE leaves keyid unsigned, so verify_envelope must ignore it; but the file ethicsgate
    # wrote was changed, and the attestation check must say so.
    document = json.loads(workspace.envelope.read_bytes())
    document["signatures"][0]["keyid"] = "SHA256:" + "0" * 64
    edited = (json.dumps(document, sort_keys=True, indent=2) + "\n").encode()
    workspace.envelope.write_bytes(edited)
    assert verify_envelope(edited, workspace.key.public_key(), source="e") == workspace.statement
    result = _verify(workspace)
    assert not result.ok
    fingerprint = key_fingerprint(workspace.key.public_key())
    assert result.reasons == [
        f"signature keyid 'SHA256:{'0' * 64}' does not match the key fingerprint {fingerprint}"
    ]


def test_reformatted_envelope_is_not_verified(workspace: Any) -> None:
    document = json.loads(workspace.envelope.read_bytes())
    compact = json.dumps(document).encode()
    workspace.envelope.write_bytes(compact)
    assert verify_envelope(compact, workspace.key.public_key(), source="e")
    result = _verify(workspace)
    assert result.reasons == [
        "envelope is not byte-for-byte as ethicsgate wrote it (edited after signing?)"
    ]


def test_private_key_never_reaches_the_envelope(tmp_path: Path, workspace: Any) -> None:
    pair = generate_keypair(tmp_path / "keys")
    key = load_private_key(pair.private_path)
    envelope = sign_envelope(workspace.statement, key)
    pem = pair.private_path.read_bytes()
    body = b"".join(pem.splitlines()[1:-1])
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    document = json.loads(envelope)
    decoded = base64.b64decode(document["payload"]) + base64.b64decode(
        document["signatures"][0]["sig"]
    )
    for haystack in (envelope, decoded, workspace.statement):
        for secret in (body, raw, raw.hex().encode(), base64.b64encode(raw).rstrip(b"=")):
            assert secret not in haystack
    assert b"PRIVATE KEY" not in envelope


# --- properties: any single-byte change is "not verified", never an exception ------------------


@PROPERTY
@given(index=st.integers(min_value=0), mask=st.integers(min_value=1, max_value=255))
def test_flipping_any_envelope_byte_fails(workspace: Any, index: int, mask: int) -> None:
    original = workspace.envelope.read_bytes()
    try:
        workspace.envelope.write_bytes(_flip(original, index, mask))
        result = _verify(workspace)
    finally:
        workspace.envelope.write_bytes(original)
    assert not result.ok
    assert result.reasons


@PROPERTY
@given(index=st.integers(min_value=0), mask=st.integers(min_value=1, max_value=255))
def test_flipping_any_report_byte_fails(workspace: Any, index: int, mask: int) -> None:
    original = workspace.report.read_bytes()
    try:
        workspace.report.write_bytes(_flip(original, index, mask))
        result = _verify(workspace)
    finally:
        workspace.report.write_bytes(original)
    assert not result.ok
    assert [r.split(" (")[0] for r in result.reasons] == ["report.json: sha256 differs"]


@PROPERTY
@given(
    which=st.sampled_from(["policy", "evidence"]),
    index=st.integers(min_value=0),
    mask=st.integers(min_value=1, max_value=255),
)
def test_flipping_any_subject_byte_fails_with_check_files(
    workspace: Any, which: str, index: int, mask: int
) -> None:
    path: Path = getattr(workspace, which)
    original = path.read_bytes()
    try:
        path.write_bytes(_flip(original, index, mask))
        result = _verify(workspace, check_files=True)
    finally:
        path.write_bytes(original)
    name = path.relative_to(workspace.root).as_posix()
    assert not result.ok
    assert [r.split(" (")[0] for r in result.reasons] == [f"{name}: sha256 differs"]


@pytest.mark.parametrize("mask", [0x01, 0x20, 0x80])
def test_flipping_every_envelope_byte_fails(workspace: Any, mask: int) -> None:
    # Exhaustive companion to the property test: every position, a few masks (0x20 swaps
    # letter case, e.g. in hex digits; 0x80 breaks UTF-8).
    original = workspace.envelope.read_bytes()
    try:
        for index in range(len(original)):
            workspace.envelope.write_bytes(_flip(original, index, mask))
            result = _verify(workspace)
            assert not result.ok, (index, chr(original[index]))
    finally:
        workspace.envelope.write_bytes(original)
    assert _verify(workspace).ok
