"""``ethicsgate keys generate``, and the passphrase prompt of the commands that sign."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ethicsgate.cli._options import out_dir_option
from ethicsgate.cli._output import echo

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["keys", "load_cli_signing_key", "passphrase_prompt"]


def passphrase_prompt() -> Callable[[Path], bytes] | None:
    """Return a prompt for an encrypted key's passphrase on a terminal, else None."""
    if sys.stdin is None or not sys.stdin.isatty():
        return None

    def ask(path: Path) -> bytes:
        answer: str = click.prompt(f"passphrase for {path}", hide_input=True, err=True)
        return answer.encode()

    return ask


def load_cli_signing_key(key_path: Path | None) -> Ed25519PrivateKey | None:
    """Load the signing key for a command (prompting for a passphrase on a terminal).

    A private key file that other users can read is used, with a note on stderr that says
    so and how to fix it (``ssh`` refuses such a key; a CI runner's secrets written with the
    default umask are common, so this warns rather than stops).
    """
    from ethicsgate.attest import load_signing_key
    from ethicsgate.attest.keys import exposed_key_note

    key = load_signing_key(key_path, ask_passphrase=passphrase_prompt())
    if key is not None:
        note = exposed_key_note(key_path)
        if note:
            click.echo(f"note: {note}", err=True)
    return key


@click.group()
def keys() -> None:
    """Make signing keys."""


@keys.command("generate")
@out_dir_option("Folder for NAME.key (private, mode 0600) and NAME.pub.", required=True)
@click.option("--name", default="ethicsgate", show_default=True, help="File name stem.")
@click.option(
    "--passphrase/--no-passphrase",
    default=False,
    help="Encrypt the private key (read from ETHICSGATE_KEY_PASSPHRASE or a prompt).",
)
def generate(out: Path, name: str, passphrase: bool) -> None:
    """Write a new Ed25519 key pair for signing reports."""
    from ethicsgate.attest import settings_passphrase
    from ethicsgate.attest.keys import write_keypair
    from ethicsgate.errors import SigningError

    secret: bytes | None = None
    if passphrase:
        secret = settings_passphrase()
        if secret is None and passphrase_prompt() is None:  # not a terminal: nobody to ask
            raise SigningError(
                "--passphrase: no passphrase, and no terminal to ask for one",
                hint="set ETHICSGATE_KEY_PASSPHRASE, run in a terminal to be asked, or leave "
                "--passphrase out to write an unencrypted key",
            )
        if secret is None:
            secret = click.prompt(
                "passphrase", hide_input=True, confirmation_prompt=True, err=True
            ).encode()
    pair = write_keypair(out, passphrase=secret, name=name, option="--out")
    echo(f"private key: {pair.private_path} (keep it secret; mode 0600)")
    echo(f"public key:  {pair.public_path}")
    echo(f"fingerprint: {pair.fingerprint}")
