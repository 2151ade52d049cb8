"""Ed25519 key pairs: generate them, load them, and name them by fingerprint.

Private keys are PKCS#8 PEM, optionally encrypted with a passphrase, and are only ever written
with mode 0600; public keys are SubjectPublicKeyInfo PEM. A key's fingerprint is
``SHA256:<hex>`` over its raw 32 public bytes and doubles as the DSSE ``keyid``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ethicsgate.errors import EthicsgateError, SigningError, VerificationError

__all__ = [
    "KeyPair",
    "generate_keypair",
    "key_fingerprint",
    "load_private_key",
    "load_public_key",
    "load_signing_key",
    "settings_passphrase",
    "write_keypair",
]

# A PEM key is well under a kilobyte; refusing big files keeps a wrong path from being slurped.
_MAX_KEY_FILE_BYTES = 64 * 1024
_PRIVATE_MODE = 0o600
_PUBLIC_MODE = 0o644
# PKCS#8 and legacy OpenSSL encrypted PEM headers.
_ENCRYPTED_MARKERS = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")
_PASSPHRASE_HINT = "the key is encrypted: set ETHICSGATE_KEY_PASSPHRASE or enter it at the prompt"


@dataclass(frozen=True)
class KeyPair:
    """Where a generated key pair was written, and the public key's fingerprint."""

    private_path: Path
    public_path: Path
    fingerprint: str


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """Return ``SHA256:`` plus the lowercase hex SHA-256 of the raw 32-byte public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


def generate_keypair(
    out_dir: Path | str, *, passphrase: bytes | None = None, name: str = "ethicsgate"
) -> KeyPair:
    """Generate an Ed25519 key pair and write ``<name>.key`` (0600) and ``<name>.pub`` (0644).

    ``out_dir`` is the folder to write them to (made when missing).

    Raises:
        SigningError: A key file already exists, the passphrase is empty, or a file or the
            directory cannot be written.
    """
    return write_keypair(
        out_dir, passphrase=passphrase, name=name, option="out_dir= of generate_keypair"
    )


def write_keypair(
    out_dir: Path | str, *, passphrase: bytes | None, name: str, option: str
) -> KeyPair:
    """Do :func:`generate_keypair`; ``option`` names ``out_dir`` in errors' hints (``--out``).

    Raises:
        SigningError: as :func:`generate_keypair`.
    """
    if passphrase is not None and not passphrase:
        raise SigningError(
            "the passphrase is empty",
            hint="give a non-empty passphrase, or none to write an unencrypted key",
        )
    if not name or name in {".", ".."} or "/" in name or os.sep in name:
        raise SigningError(f"invalid key name {name!r}", hint="use a plain file name stem")
    out_dir = Path(out_dir)
    private_path = out_dir / f"{name}.key"
    public_path = out_dir / f"{name}.pub"
    # Check both before writing either, so a refusal never leaves half a pair behind.
    for path in (private_path, public_path):
        _refuse_existing(path, option)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SigningError(
            f"cannot create the key directory: {exc.strerror or exc}", location=out_dir
        ) from exc

    private_key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase is not None
        else serialization.NoEncryption()
    )
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public_key = private_key.public_key()
    public_pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new_file(private_path, private_pem, mode=_PRIVATE_MODE, option=option)
    try:
        _write_new_file(public_path, public_pem, mode=_PUBLIC_MODE, option=option)
    except BaseException:
        # A private key without its public half is useless and confusing; take it back.
        with contextlib.suppress(OSError):
            private_path.unlink()
        raise
    return KeyPair(
        private_path=private_path,
        public_path=public_path,
        fingerprint=key_fingerprint(public_key),
    )


def load_private_key(path: Path, *, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from a PKCS#8 PEM file, decrypting it if needed.

    A passphrase given for an unencrypted key is ignored.

    Raises:
        SigningError: The file is missing or unreadable, is not a PEM private key, is
            encrypted and the passphrase is missing or wrong, or is not an Ed25519 key.
    """
    data = _read_key_file(path, error=SigningError, what="private key")
    if _OPENSSH_PRIVATE in data:
        return _load_openssh_private_key(path, data, passphrase)
    if _openssh_public_line(data):
        raise SigningError(
            "this is an OpenSSH public key, not a private key",
            location=path,
            hint="sign with the private key (the file without .pub); the .pub is for verifying",
        )
    if b"-----BEGIN" not in data:
        raise SigningError(
            "not a PEM file",
            location=path,
            hint="pass the private key (.key) written by ethicsgate key generation",
        )
    if b"-----BEGIN PUBLIC KEY-----" in data and b"PRIVATE KEY-----" not in data:
        raise SigningError(
            "this is a public key, not a private key",
            location=path,
            hint="sign with the private key (.key); the .pub file is for verifying",
        )
    encrypted = any(marker in data for marker in _ENCRYPTED_MARKERS)
    if encrypted and passphrase is None:
        raise SigningError("the private key is encrypted", location=path, hint=_PASSPHRASE_HINT)
    try:
        key = serialization.load_pem_private_key(data, passphrase if encrypted else None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        if encrypted:
            raise SigningError(
                "wrong passphrase for the encrypted private key (or the key file is damaged)",
                location=path,
                hint="give the passphrase the key was generated with: check "
                "ETHICSGATE_KEY_PASSPHRASE (when set, it is used instead of asking) or what "
                "was typed at the prompt",
            ) from exc
        raise SigningError(
            "cannot parse the private key: not a PKCS#8 PEM private key",
            location=path,
            hint="pass the private key (.key) written by ethicsgate key generation",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(
            f"not an Ed25519 key (found {_key_kind(key)})",
            location=path,
            hint="ethicsgate signs with Ed25519 only; generate a key pair with ethicsgate",
        )
    return key


_OPENSSH_PRIVATE = b"-----BEGIN OPENSSH PRIVATE KEY-----"
#: An OpenSSH public key line: its type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, the
#: security keys' sk-...@openssh.com) then base64, after options as authorized_keys has them.
_OPENSSH_PUBLIC = re.compile(rb"(^|\s)(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) AAAA")


def _openssh_public_line(data: bytes) -> bool:
    """Return whether ``data`` holds an OpenSSH public key line (not a PEM file)."""
    return b"-----BEGIN" not in data and _OPENSSH_PUBLIC.search(data) is not None


def _openssh_encrypted(data: bytes) -> bool:
    """Return whether an OpenSSH private key file is encrypted (its cipher is not "none")."""
    import base64
    import binascii

    body = data.split(_OPENSSH_PRIVATE, 1)[-1].split(b"-----END", 1)[0]
    try:
        raw = base64.b64decode(b"".join(body.split()))
    except (binascii.Error, ValueError):
        return False
    magic = b"openssh-key-v1\0"
    if not raw.startswith(magic) or len(raw) < len(magic) + 4:
        return False
    size = int.from_bytes(raw[len(magic) : len(magic) + 4], "big")
    return raw[len(magic) + 4 : len(magic) + 4 + size] != b"none"


def _load_openssh_private_key(
    path: Path, data: bytes, passphrase: bytes | None
) -> Ed25519PrivateKey:
    """Load an Ed25519 key from an OpenSSH private key file (``ssh-keygen -t ed25519``).

    Raises:
        SigningError: it is encrypted and the passphrase is missing or wrong (or bcrypt,
            which decrypts it, is not installed: ``ethicsgate[ssh]``), damaged, or not an
            Ed25519 key.
    """
    encrypted = _openssh_encrypted(data)
    if encrypted and passphrase is None:
        raise SigningError("the private key is encrypted", location=path, hint=_PASSPHRASE_HINT)
    try:
        key = serialization.load_ssh_private_key(data, passphrase if encrypted else None)
    except UnsupportedAlgorithm as exc:
        raise SigningError(
            "the OpenSSH private key is encrypted, and bcrypt, which decrypts it, is not installed",
            location=path,
            hint="pip install 'ethicsgate[ssh]' (or bcrypt)",
        ) from exc
    except (ValueError, TypeError) as exc:
        if encrypted:
            raise SigningError(
                "wrong passphrase for the encrypted private key (or the key file is damaged)",
                location=path,
                hint="give the passphrase the key was made with: check "
                "ETHICSGATE_KEY_PASSPHRASE (when set, it is used instead of asking) or what "
                "was typed at the prompt",
            ) from exc
        raise SigningError(
            "cannot parse the OpenSSH private key (damaged?)",
            location=path,
            hint="pass an ssh-keygen -t ed25519 private key, or a key ethicsgate generated",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(
            f"not an Ed25519 key (found {_key_kind(key)})",
            location=path,
            hint="ethicsgate signs with Ed25519 only: ssh-keygen -t ed25519, or ethicsgate "
            "keys generate",
        )
    return key


def settings_passphrase() -> bytes | None:
    """Return the private keys' passphrase from ``ETHICSGATE_KEY_PASSPHRASE``, or None."""
    from ethicsgate.settings import load_settings

    secret = load_settings().key_passphrase
    return secret.get_secret_value().encode() if secret else None


def load_signing_key(
    path: Path | None = None, *, ask_passphrase: Callable[[Path], bytes] | None = None
) -> Ed25519PrivateKey | None:
    """Load the signing key at ``path``, else at ``ETHICSGATE_SIGNING_KEY``; None when neither.

    The passphrase of an encrypted key comes from ``ETHICSGATE_KEY_PASSPHRASE``; when that is
    not set, ``ask_passphrase(path)`` is asked for it (a prompt, in a terminal).

    Raises:
        SigningError: The key is missing, unreadable, not Ed25519, or the passphrase is wrong;
            ``ETHICSGATE_SIGNING_KEY`` is set but empty.
    """
    from ethicsgate.settings import load_settings

    from_setting = path is None
    path = path or load_settings().signing_key
    if path is None:
        return None
    if from_setting and path == Path():  # "" reads as ".": a secret that is not there
        raise SigningError(
            "set, but empty",
            location="ETHICSGATE_SIGNING_KEY",
            hint="set it to the private key's path (e.g. keys/ethicsgate.key), or unset it to "
            "write an unsigned report",
        )
    passphrase = settings_passphrase()
    if passphrase is None and ask_passphrase is not None and _is_encrypted(path):
        passphrase = ask_passphrase(path)
    try:
        return load_private_key(path, passphrase=passphrase)
    except SigningError as exc:
        if from_setting:  # say where a path the user did not type came from
            origin = "the path is ETHICSGATE_SIGNING_KEY's (--key overrides it)"
            exc.hint = f"{exc.hint}; {origin}" if exc.hint else origin
        raise


def exposed_key_note(path: Path | None = None) -> str | None:
    """Return a note when the private key file is readable by other users, else None.

    ``path``, else the setting's key; readable: group or others have any permission. Always
    None off POSIX.
    """
    import os
    import stat

    from ethicsgate.settings import load_settings

    path = path or load_settings().signing_key
    if path is None or os.name != "posix":
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"the private key {path} can be read by other users (mode {mode:04o}); anyone who "
        f"reads it can sign reports as you: chmod 600 {path}"
    )


def _is_encrypted(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False  # load_private_key reports the missing file with its fix
    if _OPENSSH_PRIVATE in data[:100]:
        return _openssh_encrypted(data)
    return b"ENCRYPTED" in data[:100]


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Load an Ed25519 public key from a SubjectPublicKeyInfo PEM file.

    Raises:
        VerificationError: The file is missing or unreadable, is a private key, is not a PEM
            public key, or is not an Ed25519 key.
    """
    data = _read_key_file(path, error=VerificationError, what="public key")
    if b"PRIVATE KEY-----" in data:
        # Say nothing about the content: it is a secret the user did not mean to hand over.
        raise VerificationError(
            "this is a private key, not a public key",
            location=path,
            hint="pass the public key file (.pub) to verify",
        )
    try:
        if _openssh_public_line(data):
            key = _openssh_public_key(path, data)
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise VerificationError(
            "not a PEM public key",
            location=path,
            hint="pass the public key file (.pub) written next to the signing key",
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise VerificationError(
            f"not an Ed25519 public key (found {_key_kind(key)})",
            location=path,
            hint="ethicsgate attestations are signed with Ed25519 keys",
        )
    return key


def _openssh_public_key(path: Path, data: bytes) -> object:
    """Read the one key of an OpenSSH public key file (``ssh-ed25519 AAAA... comment``).

    Raises:
        VerificationError: the file holds several keys (an authorized_keys file, a GitHub
            user's .keys): which one signed cannot be guessed.
        ValueError: the line is not an OpenSSH public key.
    """
    lines = [line.strip() for line in data.splitlines()]
    keys = [line for line in lines if line and not line.startswith(b"#")]
    if len(keys) > 1:
        raise VerificationError(
            f"{len(keys)} OpenSSH public keys in one file; verifying needs the one that signed",
            location=path,
            hint="keep the signer's line alone in a file (ssh-keygen -l -f FILE lists them)",
        )
    found = _OPENSSH_PUBLIC.search(keys[0]) if keys else None
    if found is None:
        raise ValueError("not an OpenSSH public key line")
    line = keys[0][found.start(2) :]  # an authorized_keys line's options before the type
    kind = found.group(2).decode("ascii", "replace")
    if kind.startswith("sk-"):
        raise VerificationError(
            f"a security-key public key ({kind}): ethicsgate signs with plain Ed25519 keys",
            location=path,
            hint="sign and verify with ssh-keygen -t ed25519 keys, or ethicsgate keys generate",
        )
    return serialization.load_ssh_public_key(line)


def _key_kind(key: object) -> str:
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return f"EC {key.curve.name}"
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return f"RSA {key.key_size}-bit"
    return type(key).__name__.removesuffix("PrivateKey").removesuffix("PublicKey") or "unknown"


def _read_key_file(path: Path, *, error: type[EthicsgateError], what: str) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError as exc:
        raise error(f"{what} file not found", location=path, hint="check the path") from exc
    except OSError as exc:
        raise error(f"cannot read the {what} file: {exc.strerror or exc}", location=path) from exc
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise error(f"file is too large to be a {what}", location=path, hint="check the path")
    return data


def _refuse_existing(path: Path, option: str) -> None:
    if os.path.lexists(path):
        raise SigningError(
            "file already exists; refusing to overwrite it",
            location=path,
            hint=f"remove it or choose another {option}",
        )


def _write_new_file(path: Path, data: bytes, *, mode: int, option: str) -> None:
    """Write ``data`` to a new file at ``path`` with ``mode``, all at once or not at all."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        # Created 0600 from the first instant (umask can only narrow it), so a private key
        # is never readable by others, not even while it is being written.
        fd = os.open(tmp, flags, _PRIVATE_MODE)
    except OSError as exc:
        raise SigningError(
            f"cannot write the key file: {exc.strerror or exc}", location=path
        ) from exc
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), mode)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            _publish(tmp, path, option)
        except OSError as exc:
            raise SigningError(
                f"cannot write the key file: {exc.strerror or exc}", location=path
            ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)


def _publish(tmp: Path, path: Path, option: str) -> None:
    # A hard link fails if the target exists, closing the gap between the existence check and
    # the rename; filesystems without hard links fall back to check-then-replace.
    try:
        os.link(tmp, path)
    except FileExistsError:
        _refuse_existing(path, option)
        raise
    except OSError as exc:
        if exc.errno not in {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}:
            raise
        _refuse_existing(path, option)
        os.replace(tmp, path)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
