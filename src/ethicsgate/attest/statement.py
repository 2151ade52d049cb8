"""in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md).

A statement binds subjects (files, each named and pinned by its SHA-256) to a predicate. The
predicate type ``https://ethicsgate.dev/attestation/audit-report/v1`` is ours: its predicate is
the summary of an ethicsgate audit report, and its subjects are the report (``report.json``)
plus the policies and evidence the audit read. The URI names the schema; it need not resolve.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ethicsgate.attest._json import loads_strict
from ethicsgate.errors import VerificationError

__all__ = [
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "ParsedStatement",
    "Subject",
    "build_statement",
    "parse_statement",
    "sha256_file",
]

#: The in-toto Statement type this module reads and writes.
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
#: ethicsgate's own predicate type: an audit report and the inputs it was computed from.
PREDICATE_TYPE = "https://ethicsgate.dev/attestation/audit-report/v1"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Subject:
    """A file the statement is about: its name and lowercase hex SHA-256 digest."""

    name: str
    sha256: str

    def __post_init__(self) -> None:
        """Reject an empty name or a digest that is not 64 lowercase hex digits."""
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"subject name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.sha256, str) or not _SHA256_HEX.fullmatch(self.sha256):
            raise ValueError(
                f"subject {self.name!r}: sha256 must be 64 lowercase hex digits, "
                f"got {self.sha256!r}"
            )


@dataclass(frozen=True)
class ParsedStatement:
    """The parts of a verified statement that ethicsgate uses."""

    subjects: tuple[Subject, ...]
    predicate: dict[str, Any]


def build_statement(
    subjects: Sequence[Subject],
    predicate: Mapping[str, Any],
    *,
    predicate_type: str = PREDICATE_TYPE,
) -> bytes:
    """Return the canonical JSON bytes of an in-toto statement with ethicsgate's predicate.

    ``predicate_type`` is the audit-report type unless another ethicsgate document (a
    transparency statement) is signed.

    Raises:
        ValueError: ``subjects`` is empty or repeats a name, a subject is malformed, or the
            predicate holds a value JSON cannot represent (NaN, infinity, a non-str key).
    """
    if not subjects:
        raise ValueError("a statement needs at least one subject")
    seen: set[str] = set()
    for subject in subjects:
        if not isinstance(subject, Subject):
            raise ValueError(f"expected a Subject, got {type(subject).__name__}")
        # Re-run the dataclass checks: a Subject can be mutated through object.__setattr__.
        subject.__post_init__()
        if subject.name in seen:
            raise ValueError(f"duplicate subject name {subject.name!r}")
        seen.add(subject.name)
    if not isinstance(predicate, Mapping):
        raise ValueError(f"predicate must be a mapping, got {type(predicate).__name__}")
    document = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": s.name, "digest": {"sha256": s.sha256}} for s in subjects],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }
    try:
        text = json.dumps(
            document,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
    except TypeError as exc:
        raise ValueError(f"predicate is not JSON-serializable: {exc}") from exc
    return text.encode("utf-8")


def parse_statement(
    payload: bytes, *, source: str, predicate_type: str = PREDICATE_TYPE
) -> ParsedStatement:
    """Parse and validate the in-toto statement in ``payload``.

    Unknown fields are ignored, as the in-toto parsing rules require, and so are digests
    other than ``sha256``.

    Raises:
        VerificationError: ``payload`` is not JSON, is not an in-toto v1 statement with
            ethicsgate's predicate type, or has a malformed or repeated subject.
    """

    def fail(message: str) -> NoReturn:
        raise VerificationError(f"statement: {message}", location=source)

    try:
        document = loads_strict(payload)
    except (ValueError, RecursionError) as exc:
        raise VerificationError(
            f"statement: not valid JSON ({str(exc)[:120]})", location=source
        ) from exc
    if not isinstance(document, dict):
        fail("expected a JSON object")
    if document.get("_type") != STATEMENT_TYPE:
        fail(f"_type is {document.get('_type')!r}, expected {STATEMENT_TYPE!r}")
    if document.get("predicateType") != predicate_type:
        fail(f"predicateType is {document.get('predicateType')!r}, expected {predicate_type!r}")
    predicate = document.get("predicate")
    if not isinstance(predicate, dict):
        fail("predicate must be a JSON object")
    raw_subjects = document.get("subject")
    if not isinstance(raw_subjects, list) or not raw_subjects:
        fail("subject must be a non-empty list")
    subjects: list[Subject] = []
    names: set[str] = set()
    for index, entry in enumerate(raw_subjects):
        where = f"subject[{index}]"
        if not isinstance(entry, dict):
            fail(f"{where} must be an object")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            fail(f"{where}.name must be a non-empty string")
        digest = entry.get("digest")
        if not isinstance(digest, dict) or "sha256" not in digest:
            fail(f"{where} ({name}) has no sha256 digest")
        sha256 = digest["sha256"]
        if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
            fail(f"{where} ({name}): sha256 must be 64 lowercase hex digits")
        if name in names:
            fail(f"subject name {name!r} appears twice")
        names.add(name)
        subjects.append(Subject(name=name, sha256=sha256))
    return ParsedStatement(subjects=tuple(subjects), predicate=predicate)


def sha256_file(path: Path) -> str:
    """Return the lowercase hex SHA-256 of the file at ``path``, read in 1 MiB chunks.

    Raises:
        OSError: The file cannot be opened or read.
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
