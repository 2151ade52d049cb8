"""Verify a signed audit report or transparency statement: the signature, then its subjects.

Two outcomes are kept apart. Input that cannot be checked at all (an envelope path that does
not exist or cannot be read) raises ``VerificationError``. Anything about the *content* of an
existing envelope or subject file (tampering, a wrong key, a mismatched digest) is a result
with ``ok=False`` and exact reasons: changing any byte of a file ethicsgate wrote must read as
"not verified", never as "bad input".
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ethicsgate.attest.dsse import (
    _bad_signature_message,
    _parse_envelope,
    _serialize_envelope,
    _verifying_signatures,
)
from ethicsgate.attest.keys import key_fingerprint
from ethicsgate.attest.sign import TABLE_SUBJECT_PREFIX
from ethicsgate.attest.statement import (
    PREDICATE_TYPE,
    ParsedStatement,
    Subject,
    parse_statement,
    sha256_file,
)
from ethicsgate.canonical import (
    REPORT_FILES,
    REPORT_JSON,
    REPORT_MARKDOWN,
    STATEMENT_FILES,
    STATEMENT_JSON,
    STATEMENT_MARKDOWN,
)
from ethicsgate.errors import PolicyError, VerificationError
from ethicsgate.evidence.arrow import ARROW_IPC_SHA256
from ethicsgate.policy.packs import is_pack_ref, pack_path

__all__ = [
    "ENVELOPE_FILENAME",
    "REPORT_SUBJECT",
    "VerificationResult",
    "locate_envelope",
    "verify_attestation",
]

#: The envelope's file name when a directory is given to ``verify_attestation``.
ENVELOPE_FILENAME = "report.intoto.json"
#: The subject that is always checked; it is resolved next to the envelope, not under root.
REPORT_SUBJECT = REPORT_JSON
#: The predicate type of public transparency statements (``ethicsgate publish``).
STATEMENT_PREDICATE_TYPE = "https://ethicsgate.dev/attestation/transparency-statement/v1"
STATEMENT_ENVELOPE_FILENAME = "statement.intoto.json"
#: Documents ethicsgate signs, by predicate type: the subject that must be present and the
#: files resolved next to the envelope (every other subject is resolved under ``root``).
_DOCUMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    PREDICATE_TYPE: (REPORT_SUBJECT, REPORT_FILES),
    STATEMENT_PREDICATE_TYPE: (STATEMENT_JSON, STATEMENT_FILES),
}

#: What the envelope of each name ethicsgate writes signs, and each document's name in messages.
_SIGNED_BY_NAME = {
    ENVELOPE_FILENAME: PREDICATE_TYPE,
    STATEMENT_ENVELOPE_FILENAME: STATEMENT_PREDICATE_TYPE,
}
_KIND = {PREDICATE_TYPE: "report", STATEMENT_PREDICATE_TYPE: "transparency statement"}


@dataclass(frozen=True)
class VerificationResult:
    """Whether an attestation verified, and if not, every reason why."""

    ok: bool
    reasons: list[str]
    statement: ParsedStatement | None
    fingerprint: str
    notes: list[str] = field(default_factory=list)
    """What ``check_files`` could not re-check, and why (evidence read in a database, or a
    statement, which binds no inputs)."""
    document: Literal["report", "statement"] | None = None
    """What the envelope signs, by its signed predicate type; None when it could not be read."""
    hint: str | None = None
    """The likely fix when no input was found: verify from the folder the audit ran in."""


#: The largest envelope read: a statement names each report file, the spec, the policy and
#: every evidence file (about 200 bytes each, base64: 100,000 files are about 27 MiB).
MAX_ENVELOPE_BYTES = 128 * 2**20


def verify_attestation(
    envelope_path: Path,
    public_key: Ed25519PublicKey,
    *,
    check_files: bool = False,
    root: Path | None = None,
) -> VerificationResult:
    """Verify the envelope at ``envelope_path`` (or ``DIR/report.intoto.json``) with a key.

    Always checks the signature and the ``report.json`` subject, which is resolved next to the
    envelope. With ``check_files``, also re-hashes every other subject, resolved under
    ``root`` (default: the current working directory); a ``pack:NAME`` subject is the policy
    pack of that name shipped with this ethicsgate. A transparency statement (its envelope
    ``statement.intoto.json``) binds only its own files: ``check_files`` has no inputs to
    re-hash there, and ``notes`` says so.

    A file of the document (``groups.csv``, ``findings.parquet``, ...) beside the envelope that
    the envelope does not sign (one signed before that file existed) is a reason too.

    An envelope named ``report.intoto.json`` must sign a report, one named
    ``statement.intoto.json`` a transparency statement.

    Beyond a valid signature, the envelope must be byte-for-byte what ethicsgate writes for
    its content, and the verifying signature's keyid must be the key's fingerprint. Neither
    is trusted in place of the signature; they are required on top of it, because DSSE leaves
    the JSON layout and keyid unsigned and an edit there must still read as tampering.

    Raises:
        VerificationError: The envelope file does not exist or cannot be read, or ``root`` is
            given with ``check_files`` and is no folder.
    """
    envelope_path = locate_envelope(envelope_path)
    if check_files and root is not None and not root.is_dir():
        # a mistyped root would otherwise read as every input missing: "not verified"
        raise VerificationError(
            "no such folder, so the report's inputs cannot be looked for under it",
            location=root,
            hint="pass the folder the audit ran in as --root (root= in Python)",
        )
    fingerprint = key_fingerprint(public_key)
    source = str(envelope_path)

    def not_verified(*reasons: str) -> VerificationResult:
        return VerificationResult(
            ok=False, reasons=list(reasons), statement=None, fingerprint=fingerprint
        )

    try:
        # one open file, read at most one byte past the cap: a planted file of gigabytes, a
        # symlink to /dev/zero or a FIFO would otherwise hold the memory (or the time) of
        # `verify` and of the web app's index
        if not stat.S_ISREG(envelope_path.stat().st_mode):  # opening a FIFO would wait
            return not_verified("envelope is not a regular file (a device, a pipe?): not read")
        with envelope_path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode):
                return not_verified("envelope is not a regular file (a device, a pipe?): not read")
            too_large = status.st_size > MAX_ENVELOPE_BYTES
            data = b"" if too_large else handle.read(MAX_ENVELOPE_BYTES + 1)  # it may grow
        if too_large or len(data) > MAX_ENVELOPE_BYTES:
            return not_verified(
                "envelope is larger than any ethicsgate writes "
                f"(at most {MAX_ENVELOPE_BYTES // 2**20} MiB): not read"
            )
    except OSError as exc:
        raise VerificationError(
            f"cannot read the envelope file: {exc.strerror or exc}", location=envelope_path
        ) from exc

    try:
        envelope = _parse_envelope(data, source=source)
    except VerificationError as exc:
        return not_verified(exc.message)
    verified = _verifying_signatures(envelope, public_key)
    if not verified:
        return not_verified(_bad_signature_message(public_key))

    reasons: list[str] = []
    if _serialize_envelope(envelope) != data:
        reasons.append(
            "envelope is not byte-for-byte as ethicsgate wrote it (edited after signing?)"
        )
    if all(signature.keyid != fingerprint for signature in verified):
        keyids = ", ".join(repr(signature.keyid) for signature in verified)
        reasons.append(f"signature keyid {keyids} does not match the key fingerprint {fingerprint}")

    # the signature verified, so the declared predicate type is the signer's own
    predicate_type = _declared_predicate_type(envelope.payload)
    try:
        statement = parse_statement(envelope.payload, source=source, predicate_type=predicate_type)
    except VerificationError as exc:
        return not_verified(*reasons, exc.message)

    named_for = _SIGNED_BY_NAME.get(envelope_path.name)
    if named_for is not None and named_for != predicate_type:
        # else the files beside it of the kind its name promises would go unchecked
        reasons.append(
            f"{envelope_path.name} signs a {_KIND[predicate_type]}, not a {_KIND[named_for]} "
            "(an envelope renamed or moved?)"
        )
    primary, local_files = _DOCUMENTS[predicate_type]
    subjects = {subject.name: subject for subject in statement.subjects}
    if primary not in subjects:
        reasons.append(f"{primary}: not a subject of the attestation")
    for name in local_files:
        if name in subjects:  # the document's own files sit beside the envelope
            reasons.extend(_check_subject(subjects[name], envelope_path.parent / name))
        elif name != primary and os.path.lexists(envelope_path.parent / name):
            # an envelope signed before this file existed: it must not pass as signed
            reasons.append(
                f"{name}: beside the envelope but not signed by it (added after signing?)"
            )
    notes: list[str] = []
    document: Literal["report", "statement"] = (
        "statement" if predicate_type == STATEMENT_PREDICATE_TYPE else "report"
    )
    inputs = [subject for subject in statement.subjects if subject.name not in local_files]
    if check_files and document == "statement" and not inputs:
        notes.append(_statement_note(statement))
    hint: str | None = None
    if check_files:
        base = Path.cwd() if root is None else root
        found_before = len(reasons)
        looked_for = 0  # inputs looked for under base
        for subject in inputs:
            if subject.name.startswith(TABLE_SUBJECT_PREFIX):
                notes.append(_table_note(subject))
                continue
            if is_pack_ref(subject.name):  # a shipped pack: the bytes this install carries
                try:
                    reasons.extend(_check_subject(subject, pack_path(subject.name)))
                except PolicyError:
                    reasons.append(f"{subject.name}: this ethicsgate ships no such policy pack")
                continue
            looked_for += 1
            if subject.name.startswith(f"{ARROW_IPC_SHA256}:"):  # a frame, saved to a file
                name = subject.name.removeprefix(f"{ARROW_IPC_SHA256}:")
                reasons.extend(_check_arrow_subject(subject, base / name))
                continue
            reasons.extend(_check_subject(subject, base / subject.name))
        missing = [r for r in reasons[found_before:] if ": file not found" in r]
        if missing and len(missing) == looked_for:  # none found: base is not where it ran
            hint = (
                "the report names its inputs relative to the folder the audit ran in; they "
                f"were looked for under {base.resolve()}: verify from that folder, or pass "
                "it as --root DIR"
            )

    return VerificationResult(
        ok=not reasons,
        reasons=reasons,
        statement=statement,
        fingerprint=fingerprint,
        notes=notes,
        document=document,
        hint=hint,
    )


#: How each document ethicsgate writes gets signed, for the "not signed" error.
_HOW_TO_SIGN = {
    REPORT_JSON: "re-run the audit with a signing key: `ethicsgate keys generate --out keys` "
    "once, then `ethicsgate audit AUDIT.yaml --key keys/ethicsgate.key` writes "
    f'{ENVELOPE_FILENAME} beside report.json (in Python, `ethicsgate.generate_keypair("keys")` '
    'and `report.write(DIR, key="keys/ethicsgate.key")`); verify it with `ethicsgate verify '
    "DIR --key keys/ethicsgate.pub`",
    STATEMENT_JSON: "publish it with a signing key: `ethicsgate keys generate --out keys` once, "
    "then `ethicsgate publish SOURCE --out DIR --key keys/ethicsgate.key` writes "
    f"{STATEMENT_ENVELOPE_FILENAME} beside statement.json",
}


#: Each file of a report or statement, by name: the envelope beside it that signs it.
_ENVELOPE_BESIDE = {
    **dict.fromkeys(REPORT_FILES, ENVELOPE_FILENAME),
    **dict.fromkeys(STATEMENT_FILES, STATEMENT_ENVELOPE_FILENAME),
}


def locate_envelope(target: Path) -> Path:
    """Return the envelope to verify: ``target`` itself, or the one that signs ``target``.

    A folder means the envelope in it; a file of a report or statement (``report.html``,
    ``groups.csv``, ``statement.md``, ...) the envelope beside it, which signs it.

    Raises:
        VerificationError: there is no envelope; for an unsigned report or statement the
            message says it is not signed and how to sign it, for a signed one (its Markdown
            names the signer) that its envelope is missing.
    """
    envelope, document = target, None
    if target.is_dir():
        statement_envelope = target / STATEMENT_ENVELOPE_FILENAME
        report_envelope = target / ENVELOPE_FILENAME
        # a report in the folder is what the folder is: a statement beside it does not sign it
        # (any of its files: a forged report.html beside a statement's envelope is no report)
        report = any((target / name).is_file() for name in REPORT_FILES)
        use_statement = statement_envelope.exists() and not report_envelope.exists() and not report
        envelope = statement_envelope if use_statement else report_envelope
        # the report's files when it has any: the message is about the report, not the
        # statement beside it
        names = REPORT_FILES if report else tuple(_HOW_TO_SIGN)
        documents = [target / name for name in names if (target / name).is_file()]
        document = documents[0] if documents else None
    elif target.name in _ENVELOPE_BESIDE and target.is_file():  # a document's file: its envelope
        envelope, document = target.parent / _ENVELOPE_BESIDE[target.name], target
    if envelope.exists():
        return envelope
    if document is not None:
        primary = REPORT_JSON if document.name in REPORT_FILES else STATEMENT_JSON
        what = "report" if primary == REPORT_JSON else "statement"
        markdown = REPORT_MARKDOWN if primary == REPORT_JSON else STATEMENT_MARKDOWN
        signer = _claimed_signer(document.parent / markdown)
        expected = _ENVELOPE_BESIDE[document.name]
        if signer is not None:  # it was signed: the envelope was removed, or left behind
            raise VerificationError(
                f"this {what} says it was signed by key {signer} ({markdown}), but its "
                f"envelope {expected} is missing: it was removed, or not copied with the "
                f"{what}",
                location=document,
                hint=f"verify the {what} with the {expected} it was signed with (ask whoever "
                f"sent the {what}); without it nothing proves the {what} was not changed",
            )
        hint = _HOW_TO_SIGN[primary]
        if primary == REPORT_JSON and (document.parent / STATEMENT_ENVELOPE_FILENAME).exists():
            hint += (
                f"; the statement beside it is signed: verify {document.parent / STATEMENT_JSON}"
            )
        raise VerificationError(
            f"this {what} is not signed: there is no signed envelope beside {document.name}, "
            "so there is nothing to verify",
            location=document,
            hint=hint,
        )
    raise VerificationError(
        "envelope file not found",
        location=envelope,
        hint=f"pass the signed envelope ({ENVELOPE_FILENAME}) or the directory holding it",
    )


# What report.md and statement.md say when signed (report/templates/*.md.j2).
_SIGNED_BY = re.compile(
    rb"Signed by key `(SHA256:[0-9a-f]{64})` \((?:signature: )?`[a-z]+\.intoto\.json`"
)
_MAX_MARKDOWN_BYTES = 1024 * 1024


def _claimed_signer(markdown: Path) -> str | None:
    """Return the fingerprint ``markdown`` says signed it, or None (unsigned, or unreadable)."""
    try:
        with markdown.open("rb") as handle:
            found = _SIGNED_BY.search(handle.read(_MAX_MARKDOWN_BYTES))
    except OSError:
        return None
    return found.group(1).decode("ascii") if found else None


def _declared_predicate_type(payload: bytes) -> str:
    """Return the payload's predicateType if it is one ethicsgate signs, else the report's."""
    try:
        declared = json.loads(payload).get("predicateType")
    except (ValueError, AttributeError):
        return PREDICATE_TYPE  # parse_statement reports what is wrong with the payload
    return declared if declared in _DOCUMENTS else PREDICATE_TYPE


def _check_subject(subject: Subject, path: Path) -> list[str]:
    """Return why the file at ``path`` does not match ``subject``, or nothing if it does."""
    try:
        found = sha256_file(path)
    except FileNotFoundError:
        return [f"{subject.name}: file not found"]
    except OSError as exc:
        return [f"{subject.name}: cannot read ({exc.strerror or exc})"]
    except ValueError:
        # A signed name can still be a path no filesystem accepts (an embedded NUL byte).
        return [f"{subject.name!r}: not a usable file path"]
    if found != subject.sha256:
        return [f"{subject.name}: sha256 differs (expected {subject.sha256}, found {found})"]
    return []


def _statement_note(statement: ParsedStatement) -> str:
    """Say plainly that a transparency statement has no inputs to re-hash, and what does."""
    names = [subject.name for subject in statement.subjects]
    own = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    return (
        "a transparency statement binds no audit spec, policy or evidence files (its subjects "
        f"are its own files, {own}, checked above), so there are no inputs to re-hash; to "
        "check the audit's inputs, verify the signed report it was published from, with "
        "--evidence"
    )


def _table_note(subject: Subject) -> str:
    """Say plainly what cannot be re-checked of evidence read by an engine (no files)."""
    name = subject.name.removeprefix(TABLE_SUBJECT_PREFIX)
    return (
        f"evidence {name!r} was read by an engine (a database or Spark), not from files: its "
        "identity (the engine, the table, path or the sha256 of the query, the row count, a "
        "content digest computed by the engine, and a Delta or Iceberg version where there is "
        f"one; sha256 {subject.sha256}) is signed and shown in report.json, but re-checking "
        "it needs the engine itself (the database or Spark), which `verify` does not connect "
        "to. Re-run the audit with the same --engine and compare "
        "evidence[].table.content_digest (for a recorded version, read the table as of that "
        "version); a table changed since the audit cannot be checked against it (keep a "
        "snapshot or clone for audits kept for years)"
    )


def _check_arrow_subject(subject: Subject, path: Path) -> list[str]:
    """Return why the frame saved at ``path`` does not match ``subject``'s arrow-ipc-sha256.

    The report audited a frame in memory; it verifies against that frame saved as Parquet or
    Arrow (Feather/IPC), read back and hashed as evidence/arrow.py defines.
    """
    from ethicsgate.evidence.arrow import arrow_ipc_sha256, read_arrow_file

    try:
        found = arrow_ipc_sha256(read_arrow_file(path)).sha256
    except FileNotFoundError:
        return [f"{subject.name}: file not found (save the audited frame there as Parquet)"]
    except (OSError, ValueError) as exc:
        return [f"{subject.name}: cannot read as Parquet or Arrow ({exc})"]
    if found != subject.sha256:
        return [
            f"{subject.name}: arrow-ipc-sha256 differs (expected {subject.sha256}, found {found})"
        ]
    return []
