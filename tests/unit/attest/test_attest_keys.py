"""Key files: generation, permissions, passphrases, refusal to overwrite, clear errors."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ethicsgate.attest import (
    generate_keypair,
    key_fingerprint,
    load_private_key,
    load_public_key,
)
from ethicsgate.errors import SigningError, VerificationError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """Run with the common umask, whatever the test runner's is."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_generate_writes_a_usable_pair(tmp_path: Path, umask_022: None) -> None:
    pair = generate_keypair(tmp_path)
    assert pair.private_path == tmp_path / "ethicsgate.key"
    assert pair.public_path == tmp_path / "ethicsgate.pub"
    assert pair.private_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert pair.public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert _mode(pair.private_path) == 0o600
    assert _mode(pair.public_path) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ethicsgate.key", "ethicsgate.pub"]

    private = load_private_key(pair.private_path)
    public = load_public_key(pair.public_path)
    assert key_fingerprint(private.public_key()) == key_fingerprint(public) == pair.fingerprint
    assert re.fullmatch(r"SHA256:[0-9a-f]{64}", pair.fingerprint)
    public.verify(private.sign(b"m"), b"m")


def test_generate_creates_the_directory_and_uses_the_name(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    pair = generate_keypair(out, name="release")
    assert pair.private_path == out / "release.key"
    assert pair.public_path.is_file()


def test_modes_do_not_depend_on_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        pair = generate_keypair(tmp_path)
    finally:
        os.umask(old)
    assert _mode(pair.private_path) == 0o600
    assert _mode(pair.public_path) == 0o644


def test_private_key_is_never_created_readable_by_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every file the generator creates must be born 0600 and exclusive; the final name then
    # appears only by link/rename of a complete file.
    calls: list[tuple[str, int, int]] = []
    real_open = os.open

    def spy(path: Any, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            calls.append((os.fspath(path), flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    pair = generate_keypair(tmp_path)
    monkeypatch.undo()
    created = [c for c in calls if Path(c[0]).parent == tmp_path]
    assert len(created) == 2  # one temporary file per key file
    for path, flags, mode in created:
        assert Path(path).name.startswith(".")
        assert Path(path) not in {pair.private_path, pair.public_path}
        assert flags & os.O_EXCL
        assert mode == 0o600


def test_encrypted_key_needs_its_passphrase(tmp_path: Path) -> None:
    pair = generate_keypair(tmp_path, passphrase=b"correct horse")
    assert pair.private_path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")

    with pytest.raises(SigningError, match="set ETHICSGATE_KEY_PASSPHRASE or enter it") as info:
        load_private_key(pair.private_path)
    assert str(pair.private_path) in str(info.value)
    assert "the key is encrypted" in str(info.value)

    with pytest.raises(SigningError, match="wrong passphrase") as info:
        load_private_key(pair.private_path, passphrase=b"wrong horse")
    assert str(pair.private_path) in str(info.value)
    # the passphrase was given: the hint does not say to set it (found by review)
    assert "set ETHICSGATE_KEY_PASSPHRASE or enter it" not in str(info.value)
    assert "check ETHICSGATE_KEY_PASSPHRASE" in str(info.value)

    key = load_private_key(pair.private_path, passphrase=b"correct horse")
    assert key_fingerprint(key.public_key()) == pair.fingerprint


def test_passphrase_for_an_unencrypted_key_is_ignored(tmp_path: Path) -> None:
    pair = generate_keypair(tmp_path)
    key = load_private_key(pair.private_path, passphrase=b"unused")
    assert key_fingerprint(key.public_key()) == pair.fingerprint


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="passphrase is empty"):
        generate_keypair(tmp_path, passphrase=b"")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("existing", ["ethicsgate.key", "ethicsgate.pub"])
def test_overwrite_is_refused(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_bytes(b"keep me")
    with pytest.raises(SigningError, match="refusing to overwrite") as info:
        generate_keypair(tmp_path)
    assert str(tmp_path / existing) in str(info.value)
    # called from Python: the hint names the parameter (the command's is --out, test_sign_cli)
    assert info.value.hint == "remove it or choose another out_dir= of generate_keypair"
    assert (tmp_path / existing).read_bytes() == b"keep me"
    assert [p.name for p in tmp_path.iterdir()] == [existing]


def test_second_generation_leaves_the_first_pair_intact(tmp_path: Path) -> None:
    pair = generate_keypair(tmp_path)
    before = pair.private_path.read_bytes(), pair.public_path.read_bytes()
    with pytest.raises(SigningError, match="refusing to overwrite"):
        generate_keypair(tmp_path)
    assert (pair.private_path.read_bytes(), pair.public_path.read_bytes()) == before


def test_dangling_symlink_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.key"
    (tmp_path / "ethicsgate.key").symlink_to(target)
    with pytest.raises(SigningError, match="refusing to overwrite"):
        generate_keypair(tmp_path)
    assert not target.exists()


def test_bad_key_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="invalid key name"):
        generate_keypair(tmp_path, name="../escape")


def test_unwritable_directory_is_a_signing_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SigningError, match="cannot create the key directory") as info:
        generate_keypair(blocker / "keys")
    assert str(blocker / "keys") in str(info.value)


# --- load_private_key errors -----------------------------------------------------------------


def _ec_pems() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def test_private_key_errors_name_the_path_and_the_fix(tmp_path: Path) -> None:
    pair = generate_keypair(tmp_path / "keys")
    ec_private, _ = _ec_pems()
    cases: list[tuple[Path, str]] = [
        (tmp_path / "missing.key", "private key file not found"),
        (tmp_path / "text.key", "not a PEM file"),
        (tmp_path / "damaged.key", "cannot parse the private key"),
        (tmp_path / "ec.key", r"not an Ed25519 key \(found EC secp256r1\)"),
        (pair.public_path, "this is a public key"),
        (tmp_path, "cannot read the private key file"),
        (tmp_path / "huge.key", "too large"),
    ]
    (tmp_path / "text.key").write_text("hello\n")
    (tmp_path / "damaged.key").write_text(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    )
    (tmp_path / "ec.key").write_bytes(ec_private)
    (tmp_path / "huge.key").write_bytes(b"x" * 1_000_000)
    for path, message in cases:
        with pytest.raises(SigningError, match=message) as info:
            load_private_key(path)
        assert info.value.location is not None
        assert info.value.location.path == str(path)
        assert str(info.value).startswith(f"{path}: ")


# --- load_public_key errors ------------------------------------------------------------------


def test_private_key_given_as_public_key_says_to_pass_the_pub_file(tmp_path: Path) -> None:
    pair = generate_keypair(tmp_path)
    pem = pair.private_path.read_bytes()
    with pytest.raises(VerificationError, match="private key, not a public key") as info:
        load_public_key(pair.private_path)
    text = str(info.value)
    assert str(pair.private_path) in text
    assert ".pub" in text
    body = b"".join(pem.splitlines()[1:-1]).decode()
    assert body not in text


def test_public_key_errors_name_the_path(tmp_path: Path) -> None:
    _, ec_public = _ec_pems()
    (tmp_path / "text.pub").write_text("ssh-ed25519 AAAA... user@host\n")
    (tmp_path / "ec.pub").write_bytes(ec_public)
    cases = [
        (tmp_path / "missing.pub", "public key file not found"),
        (tmp_path / "text.pub", "not a PEM public key"),
        (tmp_path / "ec.pub", r"not an Ed25519 public key \(found EC secp256r1\)"),
        (tmp_path, "cannot read the public key file"),
    ]
    for path, message in cases:
        with pytest.raises(VerificationError, match=message) as info:
            load_public_key(path)
        assert info.value.location is not None
        assert info.value.location.path == str(path)


def test_a_key_named_by_the_environment_says_so_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethicsgate.attest import load_signing_key

    monkeypatch.delenv("ETHICSGATE_KEY_PASSPHRASE", raising=False)
    # an empty variable (a CI secret that is not there) is no key file, not the folder "."
    monkeypatch.setenv("ETHICSGATE_SIGNING_KEY", "")
    with pytest.raises(SigningError) as info:
        load_signing_key()
    assert str(info.value).startswith("ETHICSGATE_SIGNING_KEY: set, but empty")
    assert "Is a directory" not in str(info.value)
    # a path from the variable that fails: the hint says where the path came from
    monkeypatch.setenv("ETHICSGATE_SIGNING_KEY", str(tmp_path / "gone.key"))
    with pytest.raises(SigningError, match="private key file not found") as info:
        load_signing_key()
    assert "the path is ETHICSGATE_SIGNING_KEY's" in str(info.value)
    # --key given: the variable has nothing to do with it
    with pytest.raises(SigningError) as info:
        load_signing_key(tmp_path / "other.key")
    assert "ETHICSGATE_SIGNING_KEY" not in str(info.value)
