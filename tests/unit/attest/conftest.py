"""Fixtures for the attest tests: keys made per test and a signed audit workspace."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ethicsgate.attest import (
    ENVELOPE_FILENAME,
    Subject,
    build_statement,
    sha256_file,
    sign_envelope,
)


@dataclass(frozen=True)
class Workspace:
    """A signed audit: inputs under ``root``, report and envelope under ``out``."""

    root: Path
    out: Path
    envelope: Path
    report: Path
    policy: Path
    evidence: Path
    key: Ed25519PrivateKey
    statement: bytes


def make_workspace(base: Path, key: Ed25519PrivateKey) -> Workspace:
    """Write a report and its inputs, then sign a statement over them."""
    root = base / "project"
    out = root / "reports" / "run-1"
    (root / "policies").mkdir(parents=True)
    (root / "data").mkdir()
    out.mkdir(parents=True)
    policy = root / "policies" / "hiring.yaml"
    policy.write_text("schema_version: 1\nrules:\n  - id: selection_rate_ratio\n")
    evidence = root / "data" / "decisions.jsonl"
    evidence.write_text('{"group": "a", "selected": 1}\n{"group": "b", "selected": 0}\n')
    report = out / "report.json"
    report.write_text('{"outcome": "pass", "rules": [{"id": "selection_rate_ratio"}]}\n')
    subjects = [
        Subject(name="report.json", sha256=sha256_file(report)),
        Subject(name="policies/hiring.yaml", sha256=sha256_file(policy)),
        Subject(name="data/decisions.jsonl", sha256=sha256_file(evidence)),
    ]
    statement = build_statement(subjects, {"outcome": "pass", "policy": "hiring"})
    envelope = out / ENVELOPE_FILENAME
    envelope.write_bytes(sign_envelope(statement, key))
    return Workspace(
        root=root,
        out=out,
        envelope=envelope,
        report=report,
        policy=policy,
        evidence=evidence,
        key=key,
        statement=statement,
    )


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    """Return a fresh Ed25519 key for this test only."""
    return Ed25519PrivateKey.generate()


@pytest.fixture
def other_key() -> Ed25519PrivateKey:
    """Return a second, unrelated Ed25519 key."""
    return Ed25519PrivateKey.generate()


@pytest.fixture
def workspace(tmp_path: Path, signing_key: Ed25519PrivateKey) -> Workspace:
    """Return a freshly signed audit workspace under ``tmp_path``."""
    return make_workspace(tmp_path, signing_key)
