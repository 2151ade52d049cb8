"""Sign audit reports and verify them: in-toto Statement v1 in a DSSE envelope, Ed25519.

Signing: hash the report and its inputs into ``Subject``s, ``build_statement`` them with a
predicate, then ``sign_envelope`` the exact statement bytes. Verifying: ``verify_attestation``
checks the signature and the subjects' digests and returns a ``VerificationResult``.
"""

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
from ethicsgate.attest.sign import attestation_subjects, audit_predicate, sign_report
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
