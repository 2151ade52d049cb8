"""``ethicsgate.verify``: check a signed report (and, with ``evidence=True``, its inputs)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from ethicsgate.attest import KeyPair
    from ethicsgate.attest.verify import VerificationResult

__all__ = ["verify"]


def verify(
    target: Path | str,
    key: Ed25519PublicKey | KeyPair | Path | str,
    *,
    evidence: bool = False,
    root: Path | str | None = None,
) -> VerificationResult:
    """Verify a signed report folder (one of its files, or its envelope) with the signer's key.

    With ``evidence``, also rehash the policy and evidence the report names, under ``root``
    [default: the working directory]; a frame audited in memory is checked against the file it
    was saved to (Parquet or Arrow), as ``ethicsgate verify --evidence`` does. A signed
    transparency statement verifies too (``document`` is ``"statement"``); it binds no inputs,
    which ``notes`` says when ``evidence`` is asked for. ``key``: the public key, its file,
    or the pair :func:`ethicsgate.generate_keypair` returned.

    Returns:
        ``ok``, every reason when not verified (a tampered file, a wrong key, ...), and
        ``notes``: what could not be re-checked, and why.

    Raises:
        VerificationError: the report is not signed, its envelope cannot be read, the key
            file cannot be read (missing, not a PEM public key, a private key), or ``root``
            is no folder (with ``evidence``).
        TypeError: ``key`` is not a public key, its path or a key pair (a private key, say).
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from ethicsgate.attest import KeyPair, load_public_key, verify_attestation

    if isinstance(key, KeyPair):
        key = key.public_path
    if not isinstance(key, str | Path | Ed25519PublicKey):
        raise TypeError(
            "key= of ethicsgate.verify is the public key: its file's path, the pair "
            "ethicsgate.generate_keypair returned, or an Ed25519PublicKey; "
            f"not {type(key).__name__}"
        )
    public = load_public_key(Path(key)) if isinstance(key, str | Path) else key
    return verify_attestation(
        Path(target),
        public,
        check_files=evidence,
        root=Path(root) if root is not None else None,
    )
