"""DSSE: PAE, envelope signing and verification, base64 variants, keyid as a hint only."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ethicsgate.attest import PAYLOAD_TYPE, key_fingerprint, pae, sign_envelope, verify_envelope
from ethicsgate.errors import VerificationError

# A payload whose standard base64 holds both '+' and '/', so URL-safe encoding differs.
PAYLOAD = b'{"_type":"https://in-toto.io/Statement/v1"}\xfb\xef\xff\xfe\xbf!'


def _load(envelope: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(envelope)
    return document


def _dump(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


# --- PAE ---------------------------------------------------------------------------------


def test_pae_matches_the_dsse_spec_test_vector() -> None:
    # protocol.md, "Test Vectors" (secure-systems-lab/dsse).
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_verifies_the_dsse_spec_signature() -> None:
    # protocol.md's vector also prints an ECDSA P-256 key and the signature it made over
    # PAE; checking that signature against our PAE bytes ties us to an independent signer.
    x = 46950820868899156662930047687818585632848591499744589407958293238635476079160
    y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
    sig = base64.b64decode(
        "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="
    )
    public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public.verify(
        der, pae("http://example.com/HelloWorld", b"hello world"), ec.ECDSA(hashes.SHA256())
    )


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("t/€", "€".encode()) == "DSSEv1 5 t/€ 3 €".encode()
    assert pae("x", b"") == b"DSSEv1 1 x 0 "


# --- sign / verify -------------------------------------------------------------------------


def test_sign_then_verify_returns_the_exact_payload(signing_key: Ed25519PrivateKey) -> None:
    envelope = sign_envelope(PAYLOAD, signing_key)
    assert verify_envelope(envelope, signing_key.public_key(), source="env.json") == PAYLOAD


def test_envelope_layout(signing_key: Ed25519PrivateKey) -> None:
    envelope = sign_envelope(PAYLOAD, signing_key)
    document = _load(envelope)
    assert envelope == (json.dumps(document, sort_keys=True, indent=2) + "\n").encode()
    assert document["payloadType"] == PAYLOAD_TYPE == "application/vnd.in-toto+json"
    assert base64.b64decode(document["payload"], validate=True) == PAYLOAD
    [signature] = document["signatures"]
    assert signature["keyid"] == key_fingerprint(signing_key.public_key())
    sig = base64.b64decode(signature["sig"], validate=True)
    signing_key.public_key().verify(sig, pae(PAYLOAD_TYPE, PAYLOAD))


def test_fingerprint_is_sha256_of_the_raw_public_key(signing_key: Ed25519PrivateKey) -> None:
    from cryptography.hazmat.primitives import serialization

    raw = signing_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    expected = "SHA256:" + hashlib.sha256(raw).hexdigest()
    assert key_fingerprint(signing_key.public_key()) == expected


def _std_nopad(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def _url_nopad(data: bytes) -> str:
    return _url(data).rstrip("=")


@pytest.mark.parametrize("encode", [_std_nopad, _url, _url_nopad])
def test_url_safe_and_unpadded_base64_verify(
    signing_key: Ed25519PrivateKey, encode: Callable[[bytes], str]
) -> None:
    document = _load(sign_envelope(PAYLOAD, signing_key))
    sig = base64.b64decode(document["signatures"][0]["sig"])
    document["payload"] = encode(PAYLOAD)
    document["signatures"][0]["sig"] = encode(sig)
    # The test is only worth something if the spelling really changed.
    assert document["payload"] != base64.b64encode(PAYLOAD).decode()
    assert verify_envelope(_dump(document), signing_key.public_key(), source="env") == PAYLOAD


@pytest.mark.parametrize(
    "payload",
    [
        "aGVsbG8gd29ybGQ=!",  # not a base64 character
        "aGVsbG8g d29ybGQ=",  # whitespace is not silently skipped
        "aGVsbG8gd29ybGQ=\n",
        "aGVsbG8gd29ybGQ==",  # too much padding
        "aGVsbG8gd29ybG=Q",  # padding in the middle
        "a",  # a lone symbol encodes no whole byte
        "eB==",  # non-zero trailing bits: a second spelling of "eA=="
        "eB",
        "+/-_",  # mixed standard and URL-safe alphabets
        "aGVsbG8gd29ybGQ\u00e9",  # non-ASCII
    ],
)
def test_bad_base64_payload_is_rejected(signing_key: Ed25519PrivateKey, payload: str) -> None:
    document = _load(sign_envelope(b"hello world", signing_key))
    document["payload"] = payload
    with pytest.raises(VerificationError, match="payload is not valid base64"):
        verify_envelope(_dump(document), signing_key.public_key(), source="e")


def test_the_signed_spelling_of_the_payload_is_not_required(
    signing_key: Ed25519PrivateKey,
) -> None:
    # The same bytes, unpadded: decoding is what is signed over, not the spelling.
    document = _load(sign_envelope(b"hello world", signing_key))
    assert document["payload"] == "aGVsbG8gd29ybGQ="
    document["payload"] = "aGVsbG8gd29ybGQ"
    assert verify_envelope(_dump(document), signing_key.public_key(), source="e")


def test_bad_base64_signature_is_rejected(signing_key: Ed25519PrivateKey) -> None:
    document = _load(sign_envelope(PAYLOAD, signing_key))
    document["signatures"][0]["sig"] += "*"
    with pytest.raises(VerificationError, match=r"signatures\[0\]\.sig is not valid base64"):
        verify_envelope(_dump(document), signing_key.public_key(), source="e")


def test_wrong_key_fails_and_names_its_fingerprint(
    signing_key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    envelope = sign_envelope(PAYLOAD, signing_key)
    fingerprint = key_fingerprint(other_key.public_key())
    with pytest.raises(VerificationError) as info:
        verify_envelope(envelope, other_key.public_key(), source="out/report.intoto.json")
    assert info.value.message == (
        f"signature does not verify with the given public key (fingerprint {fingerprint})"
    )
    assert str(info.value).startswith("out/report.intoto.json: ")


def test_tampered_payload_fails(signing_key: Ed25519PrivateKey) -> None:
    document = _load(sign_envelope(PAYLOAD, signing_key))
    document["payload"] = base64.b64encode(PAYLOAD + b" ").decode()
    with pytest.raises(VerificationError, match="signature does not verify"):
        verify_envelope(_dump(document), signing_key.public_key(), source="e")


def test_signature_over_another_payload_type_fails(signing_key: Ed25519PrivateKey) -> None:
    # Same payload, signature made for another type: PAE binds the type.
    document = _load(sign_envelope(PAYLOAD, signing_key, payload_type="application/json"))
    with pytest.raises(VerificationError, match="payloadType is 'application/json'"):
        verify_envelope(_dump(document), signing_key.public_key(), source="e")
    document["payloadType"] = PAYLOAD_TYPE
    with pytest.raises(VerificationError, match="signature does not verify"):
        verify_envelope(_dump(document), signing_key.public_key(), source="e")


# --- keyid is a hint, never trusted ---------------------------------------------------------


@pytest.mark.parametrize("keyid", ["SHA256:" + "0" * 64, "", None, "missing"])
def test_edited_or_missing_keyid_still_verifies(
    signing_key: Ed25519PrivateKey, keyid: str | None
) -> None:
    document = _load(sign_envelope(PAYLOAD, signing_key))
    if keyid == "missing":
        del document["signatures"][0]["keyid"]
    else:
        document["signatures"][0]["keyid"] = keyid
    assert verify_envelope(_dump(document), signing_key.public_key(), source="e") == PAYLOAD


def test_matching_keyid_does_not_rescue_another_keys_signature(
    signing_key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    document = _load(sign_envelope(PAYLOAD, signing_key))
    foreign = _load(sign_envelope(PAYLOAD, other_key))
    # Keep our keyid, put in a signature that is valid, but for another key.
    document["signatures"][0]["sig"] = foreign["signatures"][0]["sig"]
    assert document["signatures"][0]["keyid"] == key_fingerprint(signing_key.public_key())
    with pytest.raises(VerificationError, match="signature does not verify"):
        verify_envelope(_dump(document), signing_key.public_key(), source="e")


def test_any_valid_signature_verifies_whatever_the_keyids(
    signing_key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    ours = _load(sign_envelope(PAYLOAD, signing_key))["signatures"][0]
    theirs = _load(sign_envelope(PAYLOAD, other_key))["signatures"][0]
    document = _load(sign_envelope(PAYLOAD, signing_key))
    # The key's own keyid on a signature it did not make, and a foreign keyid on its real one.
    document["signatures"] = [
        {"keyid": ours["keyid"], "sig": theirs["sig"]},
        {"keyid": theirs["keyid"], "sig": ours["sig"]},
    ]
    assert verify_envelope(_dump(document), signing_key.public_key(), source="e") == PAYLOAD


def test_no_signatures_fails(signing_key: Ed25519PrivateKey) -> None:
    document = _load(sign_envelope(PAYLOAD, signing_key))
    document["signatures"] = []
    with pytest.raises(VerificationError, match="no signatures"):
        verify_envelope(_dump(document), signing_key.public_key(), source="e")


# --- malformed envelopes name their source ---------------------------------------------------


def _mutations() -> list[tuple[str, Callable[[dict[str, Any]], Any], str]]:
    def set_(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda d: d.__setitem__(key, value)

    def delete(key: str) -> Callable[[dict[str, Any]], Any]:
        return lambda d: d.__delitem__(key)

    def set_sig(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda d: d["signatures"][0].__setitem__(key, value)

    return [
        ("no payload", delete("payload"), "missing field 'payload'"),
        ("no payloadType", delete("payloadType"), "missing field 'payloadType'"),
        ("no signatures", delete("signatures"), "missing field 'signatures'"),
        ("payload number", set_("payload", 1), "field 'payload' must be a string"),
        ("type list", set_("payloadType", []), "field 'payloadType' must be a string"),
        ("signatures object", set_("signatures", {}), "field 'signatures' must be a list"),
        ("signature string", set_("signatures", ["x"]), r"signatures\[0\] must be an object"),
        ("sig missing", lambda d: d["signatures"][0].pop("sig"), r"signatures\[0\]\.sig must"),
        ("sig null", set_sig("sig", None), r"signatures\[0\]\.sig must be a string"),
        ("keyid number", set_sig("keyid", 7), r"signatures\[0\]\.keyid must be a string"),
        ("other type", set_("payloadType", "application/json"), "payloadType is"),
    ]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [(m, msg) for _, m, msg in _mutations()],
    ids=[name for name, _, _ in _mutations()],
)
def test_malformed_envelope_names_the_source(
    signing_key: Ed25519PrivateKey, mutate: Callable[[dict[str, Any]], Any], message: str
) -> None:
    document = _load(sign_envelope(PAYLOAD, signing_key))
    mutate(document)
    with pytest.raises(VerificationError, match=message) as info:
        verify_envelope(_dump(document), signing_key.public_key(), source="signed/env.json")
    assert info.value.location is not None
    assert info.value.location.path == "signed/env.json"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'"string"',
        b"\xff\xfe{}",
        b'{"payload": "", "payload": "", "payloadType": "", "signatures": []}',
        b"[" * 100_000,
        b'{"payload": NaN}',
    ],
    ids=["empty", "text", "list", "string", "not-utf8", "duplicate-key", "deep", "nan"],
)
def test_not_an_envelope(signing_key: Ed25519PrivateKey, raw: bytes) -> None:
    with pytest.raises(VerificationError, match="not a DSSE envelope") as info:
        verify_envelope(raw, signing_key.public_key(), source="x.json")
    assert "x.json" in str(info.value)
