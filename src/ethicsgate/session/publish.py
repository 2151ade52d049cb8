"""One publishing session: build a transparency statement, render, sign and write it.

``ethicsgate publish`` is :func:`publish_statement` plus printing; nothing here prints or exits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ethicsgate.publish.statement import DEFAULT_K

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ethicsgate.publish.statement import Statement

__all__ = ["PublishRun", "publish_statement"]


@dataclass(frozen=True)
class PublishRun:
    """A published statement: the statement, its files' bytes, where they were written."""

    statement: Statement
    files: Mapping[str, bytes]
    """The statement files by name (``statement.intoto.json`` too when signed)."""
    written: list[Path]
    """The written paths, in the order of ``files``."""
    signer: str | None
    """The signing key's fingerprint, or None when the statement is not signed."""


def publish_statement(
    source: Path,
    out: Path,
    *,
    k: int = DEFAULT_K,
    policy: Path | None = None,
    key: Ed25519PrivateKey | None = None,
    clock: Callable[[], datetime] | None = None,
) -> PublishRun:
    """Build the statement of ``source`` (an audit spec, run now, or a report) into ``out``.

    Everything is rendered (and signed, with ``key``) before anything is written; an unsigned
    run removes the envelope an earlier signed run left, which would no longer verify.

    Args:
        source: ``audits/*.yaml``, a ``report.json`` or its folder.
        out: The folder for ``statement.html``, ``statement.md`` and ``statement.json``.
        k: Publish no value computed from fewer than this many people.
        policy: The policy a report was made with [default: the path the report records].
        key: Sign the statement with this private key.
        clock: Where an audit run now takes its times from.

    Raises:
        PublishError, PolicyError, AuditSpecError, EvidenceError: the inputs are wrong.
    """
    from ethicsgate.files import check_writable, write_signed_files
    from ethicsgate.publish import (
        STATEMENT_ENVELOPE,
        build_statement,
        load_publish_inputs,
        sign_statement,
    )
    from ethicsgate.report import statement_files
    from ethicsgate.session.audit import signer_fingerprint

    check_writable(out)  # before an audit the statement may run
    pack, result = load_publish_inputs(source, policy=policy, clock=clock)
    statement = build_statement(pack, result, k=k)
    signer = signer_fingerprint(key)
    files = statement_files(statement, signer=signer)
    if key is not None:
        files[STATEMENT_ENVELOPE] = sign_statement(statement, files, key)
    written = write_signed_files(out, files, envelope=STATEMENT_ENVELOPE)
    return PublishRun(statement=statement, files=files, written=written, signer=signer)
