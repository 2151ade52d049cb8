"""Shared by the commands that write reports (``audit``, ``gate``): key loading and writing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ethicsgate.audit.result import AuditResult

__all__ = ["key_option", "load_key_option", "render_report", "signer_of", "write_report_dir"]


def key_option(what: str) -> Callable[[Any], Any]:
    """Return the ``--key`` option of a command that signs ``what`` (e.g. "report")."""
    return click.option(
        "--key",
        "key_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help=f"Sign the {what} with this Ed25519 private key [env: ETHICSGATE_SIGNING_KEY].",
    )


def signer_of(key: Ed25519PrivateKey | None) -> str | None:
    """Return the fingerprint of the signing key, or None when not signing."""
    if key is None:
        return None
    from ethicsgate.attest import key_fingerprint

    return key_fingerprint(key.public_key())


def load_key_option(key_path: Path | None) -> Ed25519PrivateKey | None:
    """Load ``--key`` (or ``ETHICSGATE_SIGNING_KEY``); call it before a scan to fail fast.

    Raises:
        SigningError: the key is missing, unreadable or not Ed25519.
    """
    from ethicsgate.settings import Settings

    key_path = key_path or Settings().signing_key
    if key_path is None:
        return None
    from ethicsgate.cli.keys import load_signing_key

    return load_signing_key(key_path)


def render_report(
    result: AuditResult, key: Ed25519PrivateKey | None
) -> tuple[dict[str, bytes], str | None]:
    """Render the report files in memory, plus the signed envelope when a key is given."""
    from ethicsgate.report import report_files

    signer = signer_of(key)
    files = report_files(result, signer=signer)
    if key is not None:
        from ethicsgate.attest import ENVELOPE_FILENAME, sign_report

        files[ENVELOPE_FILENAME] = sign_report(result, files, key)
    return files, signer


def write_report_dir(out_dir: Path, files: dict[str, bytes]) -> dict[str, Path]:
    """Write rendered report files atomically; drop a stale envelope an unsigned run leaves."""
    from ethicsgate.attest import ENVELOPE_FILENAME
    from ethicsgate.report import write_files_atomically

    written = {p.name: p for p in write_files_atomically(out_dir, files)}
    stale = out_dir / ENVELOPE_FILENAME
    if ENVELOPE_FILENAME not in files and stale.exists():
        stale.unlink()  # it signed an earlier report and would no longer verify
    return written
