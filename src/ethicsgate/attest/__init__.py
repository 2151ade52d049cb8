"""Sign audit reports and verify them: in-toto Statement v1 in a DSSE envelope, Ed25519.

Signing: hash the report and its inputs into ``Subject``s, ``build_statement`` them with a
predicate, then ``sign_envelope`` the exact statement bytes. Verifying: ``verify_attestation``
checks the signature and the subjects' digests and returns a ``VerificationResult``.
Names are imported on first use, so loading a key does not load verification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethicsgate.lazy import lazy_exports

if TYPE_CHECKING:
    from ethicsgate.attest.dsse import PAYLOAD_TYPE, pae, sign_envelope, verify_envelope
    from ethicsgate.attest.keys import (
        KeyPair,
        generate_keypair,
        key_fingerprint,
        load_private_key,
        load_public_key,
        load_signing_key,
        settings_passphrase,
    )
    from ethicsgate.attest.sign import (
        attestation_subjects,
        audit_predicate,
        file_digests,
        sign_report,
    )
    from ethicsgate.attest.statement import (
        PREDICATE_TYPE,
        STATEMENT_TYPE,
        ParsedStatement,
        Subject,
        build_statement,
        parse_statement,
        sha256_file,
    )
    from ethicsgate.attest.verify import (
        ENVELOPE_FILENAME,
        REPORT_SUBJECT,
        VerificationResult,
        verify_attestation,
    )

__all__ = [
    "ENVELOPE_FILENAME",
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "REPORT_SUBJECT",
    "STATEMENT_TYPE",
    "KeyPair",
    "ParsedStatement",
    "Subject",
    "VerificationResult",
    "attestation_subjects",
    "audit_predicate",
    "file_digests",
    "sign_report",
    "build_statement",
    "generate_keypair",
    "key_fingerprint",
    "load_private_key",
    "load_public_key",
    "load_signing_key",
    "pae",
    "parse_statement",
    "settings_passphrase",
    "sha256_file",
    "sign_envelope",
    "verify_attestation",
    "verify_envelope",
]

_HOMES = {
    "PAYLOAD_TYPE": "dsse",
    "pae": "dsse",
    "sign_envelope": "dsse",
    "verify_envelope": "dsse",
    "KeyPair": "keys",
    "generate_keypair": "keys",
    "key_fingerprint": "keys",
    "load_private_key": "keys",
    "load_public_key": "keys",
    "load_signing_key": "keys",
    "settings_passphrase": "keys",
    "attestation_subjects": "sign",
    "audit_predicate": "sign",
    "file_digests": "sign",
    "sign_report": "sign",
    "PREDICATE_TYPE": "statement",
    "STATEMENT_TYPE": "statement",
    "ParsedStatement": "statement",
    "Subject": "statement",
    "build_statement": "statement",
    "parse_statement": "statement",
    "sha256_file": "statement",
    "ENVELOPE_FILENAME": "verify",
    "REPORT_SUBJECT": "verify",
    "VerificationResult": "verify",
    "verify_attestation": "verify",
}

__getattr__ = lazy_exports(__name__, _HOMES)
