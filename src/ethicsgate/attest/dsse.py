"""DSSE v1 envelopes signed with Ed25519 (https://github.com/secure-systems-lab/dsse).

The signature covers ``PAE(payloadType, payload)``, never the JSON around it. ``keyid`` is an
unauthenticated hint: verification tries every signature with the given key and never uses
``keyid`` to pick, skip or trust one.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ethicsgate.attest._json import loads_strict
from ethicsgate.attest.keys import key_fingerprint
from ethicsgate.errors import VerificationError

__all__ = ["PAYLOAD_TYPE", "pae", "sign_envelope", "verify_envelope"]

#: The DSSE payload type of an in-toto Statement.
PAYLOAD_TYPE = "application/vnd.in-toto+json"

_B64_BODY = re.compile(r"[A-Za-z0-9+/_-]*")
_URLSAFE_TO_STD = str.maketrans("-_", "+/")


@dataclass(frozen=True)
class _Signature:
    keyid: str | None
    sig: bytes


@dataclass(frozen=True)
class _Envelope:
    payload: bytes
    payload_type: str
    signatures: tuple[_Signature, ...]


def pae(payload_type: str, payload: bytes) -> bytes:
    """Return the DSSE v1 pre-authentication encoding of ``payload_type`` and ``payload``.

    ``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``, lengths in ASCII decimal bytes.
    """
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def sign_envelope(
    payload: bytes, key: Ed25519PrivateKey, *, payload_type: str = PAYLOAD_TYPE
) -> bytes:
    """Sign ``payload`` and return the DSSE JSON envelope as UTF-8 bytes."""
    signature = _Signature(
        keyid=key_fingerprint(key.public_key()), sig=key.sign(pae(payload_type, payload))
    )
    return _serialize_envelope(
        _Envelope(payload=payload, payload_type=payload_type, signatures=(signature,))
    )


def verify_envelope(envelope: bytes, key: Ed25519PublicKey, *, source: str) -> bytes:
    """Return the exact payload bytes if any signature in ``envelope`` verifies with ``key``.

    Raises:
        VerificationError: The envelope is not valid JSON, lacks a field, has a field of the
            wrong type or bad base64, is not an in-toto envelope, or no signature verifies.
    """
    parsed = _parse_envelope(envelope, source=source)
    if not _verifying_signatures(parsed, key):
        raise VerificationError(_bad_signature_message(key), location=source)
    return parsed.payload


def _bad_signature_message(key: Ed25519PublicKey) -> str:
    return (
        f"signature does not verify with the given public key (fingerprint {key_fingerprint(key)})"
    )


def _verifying_signatures(envelope: _Envelope, key: Ed25519PublicKey) -> list[_Signature]:
    """Return the signatures in ``envelope`` that verify with ``key``, ignoring every keyid."""
    message = pae(envelope.payload_type, envelope.payload)
    verified = []
    for signature in envelope.signatures:
        try:
            key.verify(signature.sig, message)
        except InvalidSignature:
            continue
        verified.append(signature)
    return verified


def _serialize_envelope(envelope: _Envelope) -> bytes:
    signatures: list[dict[str, str]] = []
    for signature in envelope.signatures:
        entry = {"sig": base64.b64encode(signature.sig).decode("ascii")}
        if signature.keyid is not None:
            entry["keyid"] = signature.keyid
        signatures.append(entry)
    document = {
        "payload": base64.b64encode(envelope.payload).decode("ascii"),
        "payloadType": envelope.payload_type,
        "signatures": signatures,
    }
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode("utf-8")


def _parse_envelope(envelope: bytes, *, source: str) -> _Envelope:
    """Decode a DSSE JSON envelope without checking any signature.

    Raises:
        VerificationError: The envelope is malformed or its payloadType is not in-toto's.
    """

    def fail(message: str) -> NoReturn:
        raise VerificationError(message, location=source)

    try:
        document = loads_strict(envelope)
    except (ValueError, RecursionError) as exc:
        raise VerificationError(
            f"not a DSSE envelope: invalid JSON ({_short(exc)})", location=source
        ) from exc
    if not isinstance(document, dict):
        fail("not a DSSE envelope: expected a JSON object")
    for field, kind, kind_name in (
        ("payload", str, "a string"),
        ("payloadType", str, "a string"),
        ("signatures", list, "a list"),
    ):
        if field not in document:
            fail(f"not a DSSE envelope: missing field {field!r}")
        if not isinstance(document[field], kind):
            fail(f"not a DSSE envelope: field {field!r} must be {kind_name}")
    payload_type: str = document["payloadType"]
    if payload_type != PAYLOAD_TYPE:
        fail(f"payloadType is {payload_type!r}, expected {PAYLOAD_TYPE!r}")
    payload = _b64decode(document["payload"], what="payload", source=source)
    signatures = []
    for index, entry in enumerate(document["signatures"]):
        where = f"signatures[{index}]"
        if not isinstance(entry, dict):
            fail(f"not a DSSE envelope: {where} must be an object")
        if not isinstance(entry.get("sig"), str):
            fail(f"not a DSSE envelope: {where}.sig must be a string")
        keyid = entry.get("keyid")
        if keyid is not None and not isinstance(keyid, str):
            fail(f"not a DSSE envelope: {where}.keyid must be a string")
        sig = _b64decode(entry["sig"], what=f"{where}.sig", source=source)
        signatures.append(_Signature(keyid=keyid, sig=sig))
    if not signatures:
        fail("the envelope has no signatures")
    return _Envelope(payload=payload, payload_type=payload_type, signatures=tuple(signatures))


def _b64decode(text: str, *, what: str, source: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not; reject anything else.

    Only the canonical spelling of each byte string is accepted (no mixed alphabets, no
    stray padding, no non-zero trailing bits), so no two envelopes decode to the same bytes.

    Raises:
        VerificationError: ``text`` is not canonical base64.
    """
    body = text.rstrip("=")
    padding = len(text) - len(body)
    urlsafe = "-" in body or "_" in body
    valid = (
        _B64_BODY.fullmatch(body) is not None
        and not (urlsafe and ("+" in body or "/" in body))
        and len(body) % 4 != 1
        and (padding == 0 or (padding <= 2 and len(text) % 4 == 0))
    )
    if valid:
        standard = body.translate(_URLSAFE_TO_STD) if urlsafe else body
        try:
            data = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
        except binascii.Error:
            valid = False
        else:
            valid = base64.b64encode(data).decode("ascii").rstrip("=") == standard
    if not valid:
        raise VerificationError(f"not a DSSE envelope: {what} is not valid base64", location=source)
    return data


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
