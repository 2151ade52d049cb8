"""Sign an audit report: an in-toto Statement over the report and every input, in DSSE."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ethicsgate.attest.dsse import sign_envelope
from ethicsgate.attest.keys import key_fingerprint
from ethicsgate.attest.statement import Subject, build_statement
from ethicsgate.canonical import REPORT_FILES

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult

__all__ = [
    "PYTHON_SPEC_PREFIX",
    "TABLE_SUBJECT_PREFIX",
    "attestation_subjects",
    "audit_predicate",
    "file_digests",
    "sign_report",
    "table_subject",
]

#: How a report names an audit run from Python (``python:ethicsgate.audit``): its spec is the
#: call's arguments, hashed in ``spec_sha256`` (report.json, a subject) but no file to rehash.
PYTHON_SPEC_PREFIX = "python:"


#: The subject name of evidence read in a database: ``evidence-table:NAME`` (NAME: the set).
TABLE_SUBJECT_PREFIX = "evidence-table:"


def table_subject(name: str) -> str:
    """Return the subject name of a table or query evidence set (it has no file to hash)."""
    return f"{TABLE_SUBJECT_PREFIX}{name}"


def file_digests(files: Mapping[str, bytes]) -> dict[str, str]:
    """Return the SHA-256 (hex) of each file's bytes, by name: what :func:`sign_report` signs."""
    return {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}


def attestation_subjects(result: AuditResult, report_digests: Mapping[str, str]) -> list[Subject]:
    """Return the subjects: the report files, the audit spec, the policy, every evidence file.

    ``report_digests``: each report file's SHA-256 (hex) by file name (:func:`file_digests`,
    or computed as the file was written). Report files are named by file name (they sit
    beside the envelope); inputs by the path the report records, relative to the working
    directory of the audit (``./groups.csv`` for an input named as a report file is).
    """
    subjects: dict[str, Subject] = {}
    for name in REPORT_FILES:
        if name in report_digests:
            subjects[name] = Subject(name, report_digests[name])
    audit = result.audit
    inputs = [(audit.policy.path, audit.policy.sha256)]
    if not audit.spec_path.startswith(PYTHON_SPEC_PREFIX):  # no file: nothing to rehash
        inputs.insert(0, (audit.spec_path, audit.spec_sha256))
    inputs += [(f.path, f.sha256) for e in audit.evidence for f in e.files]
    # evidence that is no file (a database table or query): its identity, computed in the engine
    inputs += [(table_subject(e.name), e.sha256) for e in audit.evidence if e.table is not None]
    for path, digest in inputs:
        if path in REPORT_FILES:  # an input named as a report file is: it would be left out
            path = f"./{path}"
        subjects.setdefault(path, Subject(path, digest))
    return list(subjects.values())


def audit_predicate(result: AuditResult, *, signer: str) -> dict[str, Any]:
    """Return the predicate: what was audited, the outcome per rule, and by which version."""
    audit = result.audit
    return {
        "audit": {"id": audit.id, "title": audit.title, "spec": audit.spec_path},
        "status": result.status,
        "policy": {
            "id": audit.policy.id,
            "version": audit.policy.version,
            "path": audit.policy.path,
            "sha256": audit.policy.sha256,
        },
        "evidence": [
            {"name": e.name, "sha256": e.sha256, "rows": e.rows, "files": len(e.files)}
            for e in audit.evidence
        ],
        "rules": [
            {"id": r.id, "kind": r.kind, "severity": r.severity, "status": r.status.value}
            for r in result.rules
        ],
        "summary": result.summary.model_dump(mode="json"),
        "started_at": audit.started_at,
        "finished_at": audit.finished_at,
        "ethicsgate_version": audit.ethicsgate_version,
        "signer": signer,
    }


def sign_report(
    result: AuditResult, report_digests: Mapping[str, str], key: Ed25519PrivateKey
) -> bytes:
    """Return the DSSE envelope (``report.intoto.json`` bytes) signing the exact report bytes.

    ``report_digests``: each report file's SHA-256 (hex) by file name (:func:`file_digests`).
    """
    signer = key_fingerprint(key.public_key())
    statement = build_statement(
        attestation_subjects(result, report_digests), audit_predicate(result, signer=signer)
    )
    return sign_envelope(statement, key)
