"""Sign a transparency statement: an in-toto statement over its exact files, in DSSE."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ethicsgate.attest.verify import STATEMENT_ENVELOPE_FILENAME as STATEMENT_ENVELOPE
from ethicsgate.attest.verify import STATEMENT_PREDICATE_TYPE
from ethicsgate.canonical import STATEMENT_FILES
from ethicsgate.publish.statement import Statement

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["STATEMENT_ENVELOPE", "STATEMENT_FILES", "STATEMENT_PREDICATE_TYPE", "sign_statement"]


def sign_statement(
    statement: Statement, files: Mapping[str, bytes], key: Ed25519PrivateKey
) -> bytes:
    """Return a DSSE envelope of an in-toto statement over the exact statement files."""
    from ethicsgate.attest import Subject, build_statement, key_fingerprint, sign_envelope

    subjects = [
        Subject(name, hashlib.sha256(files[name]).hexdigest())
        for name in STATEMENT_FILES
        if name in files
    ]
    predicate = {
        "policy": statement.policy,
        "audit": statement.audit,
        "k": statement.k,
        "signer": key_fingerprint(key.public_key()),
    }
    payload = build_statement(subjects, predicate, predicate_type=STATEMENT_PREDICATE_TYPE)
    return sign_envelope(payload, key)
