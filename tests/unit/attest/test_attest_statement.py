"""in-toto Statement v1: canonical bytes, validation on both sides, file hashing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ethicsgate.attest import (
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    Subject,
    build_statement,
    parse_statement,
    sha256_file,
)
from ethicsgate.errors import VerificationError

DIGEST_A = hashlib.sha256(b"a").hexdigest()
DIGEST_B = hashlib.sha256(b"b").hexdigest()


def test_build_statement_is_canonical_json() -> None:
    statement = build_statement(
        [Subject("report.json", DIGEST_A), Subject("policies/p.yaml", DIGEST_B)],
        {"z": 1, "a": {"é": [True, None]}},
    )
    expected = (
        '{"_type":"https://in-toto.io/Statement/v1",'
        '"predicate":{"a":{"é":[true,null]},"z":1},'
        '"predicateType":"https://ethicsgate.dev/attestation/audit-report/v1",'
        '"subject":[{"digest":{"sha256":"' + DIGEST_A + '"},"name":"report.json"},'
        '{"digest":{"sha256":"' + DIGEST_B + '"},"name":"policies/p.yaml"}]}'
    ).encode()
    assert statement == expected
    assert STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert PREDICATE_TYPE == "https://ethicsgate.dev/attestation/audit-report/v1"


def test_parse_inverts_build() -> None:
    subjects = (Subject("report.json", DIGEST_A), Subject("data/x.csv", DIGEST_B))
    predicate = {"outcome": "fail", "counts": {"pass": 3, "fail": 1}, "note": "naïve"}
    parsed = parse_statement(build_statement(subjects, predicate), source="s")
    assert parsed.subjects == subjects
    assert parsed.predicate == predicate


@pytest.mark.parametrize(
    ("subjects", "predicate", "message"),
    [
        ([], {}, "at least one subject"),
        ([Subject("a", DIGEST_A), Subject("a", DIGEST_B)], {}, "duplicate subject name 'a'"),
        ([Subject("a", DIGEST_A)], {"x": float("nan")}, "Out of range float"),
        ([Subject("a", DIGEST_A)], {"x": object()}, "not JSON-serializable"),
    ],
)
def test_build_rejects_programming_errors(
    subjects: list[Subject], predicate: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_statement(subjects, predicate)


@pytest.mark.parametrize(
    ("name", "digest"),
    [
        ("", DIGEST_A),
        ("a", DIGEST_A.upper()),
        ("a", DIGEST_A[:-1]),
        ("a", DIGEST_A + "0"),
        ("a", "g" * 64),
        ("a", "sha256:" + DIGEST_A),
    ],
)
def test_subject_rejects_bad_names_and_digests(name: str, digest: str) -> None:
    with pytest.raises(ValueError, match="subject"):
        Subject(name, digest)


def _statement(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": "report.json", "digest": {"sha256": DIGEST_A}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"outcome": "pass"},
    }
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_statement(_type="https://in-toto.io/Statement/v0.1"), "_type is"),
        (_statement(predicateType="https://slsa.dev/provenance/v1"), "predicateType is"),
        (_statement(predicate=[1]), "predicate must be a JSON object"),
        (_statement(subject=[]), "subject must be a non-empty list"),
        (_statement(subject={"name": "a"}), "subject must be a non-empty list"),
        (_statement(subject=["report.json"]), r"subject\[0\] must be an object"),
        (_statement(subject=[{"digest": {"sha256": DIGEST_A}}]), r"subject\[0\]\.name"),
        (_statement(subject=[{"name": "a", "digest": {"sha512": "00"}}]), "no sha256 digest"),
        (_statement(subject=[{"name": "a", "digest": {"sha256": "AB"}}]), "64 lowercase hex"),
        (
            _statement(
                subject=[
                    {"name": "a", "digest": {"sha256": DIGEST_A}},
                    {"name": "a", "digest": {"sha256": DIGEST_B}},
                ]
            ),
            "appears twice",
        ),
        ([], "expected a JSON object"),
    ],
)
def test_parse_rejects_what_is_not_our_statement(document: Any, message: str) -> None:
    with pytest.raises(VerificationError, match=message) as info:
        parse_statement(json.dumps(document).encode(), source="out/report.intoto.json")
    assert str(info.value).startswith("out/report.intoto.json: statement: ")


@pytest.mark.parametrize("raw", [b"", b"{", b'{"a": 1, "a": 2}', b"\xff"])
def test_parse_rejects_non_json(raw: bytes) -> None:
    with pytest.raises(VerificationError, match="not valid JSON"):
        parse_statement(raw, source="e")


def test_parse_ignores_unknown_fields_and_other_digests() -> None:
    document = _statement(
        subject=[{"name": "report.json", "digest": {"sha256": DIGEST_A, "sha512": "ab"}, "x": 1}],
        extension={"k": "v"},
    )
    parsed = parse_statement(json.dumps(document).encode(), source="e")
    assert parsed.subjects == (Subject("report.json", DIGEST_A),)


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024, 2 * 1024 * 1024 + 17])
def test_sha256_file_matches_hashlib(tmp_path: Path, size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_sha256_file_raises_oserror_for_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sha256_file(tmp_path / "nope")
