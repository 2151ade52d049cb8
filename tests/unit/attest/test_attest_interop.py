"""Interop with securesystemslib's DSSE implementation, in both directions."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib import exceptions as sslib_exceptions
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

from ethicsgate.attest import (
    PAYLOAD_TYPE,
    Subject,
    build_statement,
    key_fingerprint,
    pae,
    sign_envelope,
    verify_envelope,
)
from ethicsgate.errors import VerificationError

STATEMENT = build_statement([Subject("report.json", "ab" * 32)], {"outcome": "pass", "n": 3})


def _sslib_key(key: Ed25519PrivateKey, keyid: str | None = None) -> SSlibKey:
    return SSlibKey.from_crypto(key.public_key(), keyid=keyid)


def test_our_envelope_verifies_with_securesystemslib(signing_key: Ed25519PrivateKey) -> None:
    envelope = Envelope.from_dict(json.loads(sign_envelope(STATEMENT, signing_key)))
    assert envelope.payload == STATEMENT
    assert envelope.payload_type == PAYLOAD_TYPE
    assert envelope.pae() == pae(PAYLOAD_TYPE, STATEMENT)
    # securesystemslib only tries keys whose keyid matches, so give it our fingerprint.
    fingerprint = key_fingerprint(signing_key.public_key())
    accepted = envelope.verify([_sslib_key(signing_key, fingerprint)], 1)
    assert list(accepted) == [fingerprint]


def test_securesystemslib_rejects_our_envelope_for_another_key(
    signing_key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    envelope = Envelope.from_dict(json.loads(sign_envelope(STATEMENT, signing_key)))
    impostor = _sslib_key(other_key, key_fingerprint(signing_key.public_key()))
    with pytest.raises(sslib_exceptions.VerificationError):
        envelope.verify([impostor], 1)


def _sslib_signed(key: Ed25519PrivateKey, payload: bytes) -> bytes:
    signer = CryptoSigner(key, _sslib_key(key))
    envelope = Envelope(payload=payload, payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    return json.dumps(envelope.to_dict()).encode()


def test_securesystemslib_envelope_verifies_with_ours(signing_key: Ed25519PrivateKey) -> None:
    data = _sslib_signed(signing_key, STATEMENT)
    # Its keyid is securesystemslib's own, not our fingerprint: irrelevant to verification.
    assert json.loads(data)["signatures"][0]["keyid"] != key_fingerprint(signing_key.public_key())
    assert verify_envelope(data, signing_key.public_key(), source="sslib.json") == STATEMENT


def test_securesystemslib_envelope_fails_ours_with_another_key(
    signing_key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    data = _sslib_signed(signing_key, STATEMENT)
    with pytest.raises(VerificationError, match="signature does not verify"):
        verify_envelope(data, other_key.public_key(), source="sslib.json")
