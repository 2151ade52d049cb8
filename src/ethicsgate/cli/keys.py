"""``ethicsgate keys generate`` and private-key loading for the commands that sign."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ethicsgate.cli._output import echo

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["keys", "load_signing_key"]


def _passphrase_from_env() -> bytes | None:
    from ethicsgate.settings import Settings

    secret = Settings().key_passphrase
    return secret.get_secret_value().encode() if secret else None


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load a private key, asking for its passphrase when it is encrypted and none is set.

    Raises:
        SigningError: the key is missing, unreadable, not Ed25519, or the passphrase is wrong.
    """
    from ethicsgate.attest import load_private_key

    passphrase = _passphrase_from_env()
    interactive = sys.stdin is not None and sys.stdin.isatty()
    if passphrase is None and _is_encrypted(path) and interactive:
        answer: str = click.prompt(f"passphrase for {path}", hide_input=True, err=True)
        passphrase = answer.encode()
    return load_private_key(path, passphrase=passphrase)


def _is_encrypted(path: Path) -> bool:
    try:
        return b"ENCRYPTED" in path.read_bytes()[:100]
    except OSError:
        return False  # load_private_key reports the missing file with its fix


@click.group()
def keys() -> None:
    """Make signing keys."""


@keys.command("generate")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for NAME.key (private, mode 0600) and NAME.pub.",
)
@click.option("--name", default="ethicsgate", show_default=True, help="File name stem.")
@click.option(
    "--passphrase/--no-passphrase",
    default=False,
    help="Encrypt the private key (read from ETHICSGATE_KEY_PASSPHRASE or a prompt).",
)
def generate(out: Path, name: str, passphrase: bool) -> None:
    """Write a new Ed25519 key pair for signing reports."""
    from ethicsgate.attest import generate_keypair

    secret: bytes | None = None
    if passphrase:
        secret = _passphrase_from_env()
        if secret is None:
            secret = click.prompt(
                "passphrase", hide_input=True, confirmation_prompt=True, err=True
            ).encode()
    pair = generate_keypair(out, passphrase=secret, name=name)
    echo(f"private key: {pair.private_path} (keep it secret; mode 0600)")
    echo(f"public key:  {pair.public_path}")
    echo(f"fingerprint: {pair.fingerprint}")
