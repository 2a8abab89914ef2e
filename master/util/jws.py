"""JSON Web Signatures, compact form (RFC 7515): what ServiceAccount tokens and the cluster-info
signatures are made of.

Two algorithms, the ones we sign with: ``ES256`` (ECDSA P-256 with SHA-256; the signature is
r || s, 32 bytes each) for ServiceAccount tokens, and ``HS256`` (HMAC-SHA-256) for the
bootstrap signer's detached signatures of kube-public/cluster-info, as kubeadm makes them::

    compact     = b64url(header) "." b64url(payload) "." b64url(signature)
    detached    = b64url(header) ".." b64url(signature)          (the payload travels apart)

``verify`` never raises anything but ``JWSError``, whatever bytes it is given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

__all__ = ["JWSError", "b64url", "b64url_decode", "key_id", "sign_es256", "sign_hs256_detached",
           "split", "verify_es256", "verify_hs256_detached"]

_MAX_TOKEN = 16 * 1024
_json = msgspec.json.Encoder()


class JWSError(Exception):
    """A token that is not a well-formed, validly signed JWS."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    if not text.isascii():
        raise JWSError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JWSError("not base64url") from exc


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """A stable id of a public key: b64url(SHA-256(DER SubjectPublicKeyInfo))."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64url(hashlib.sha256(der).digest())


def sign_es256(key: ec.EllipticCurvePrivateKey, claims: dict[str, Any]) -> str:
    header = {"alg": "ES256", "kid": key_id(key.public_key()), "typ": "JWT"}
    signing_input = f"{b64url(_json.encode(header))}.{b64url(_json.encode(claims))}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def split(token: str) -> tuple[dict[str, Any], bytes, bytes, str]:
    """(header, payload bytes, signature bytes, signing input) of a compact JWS; JWSError if malformed."""
    if len(token) > _MAX_TOKEN:
        raise JWSError("token too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise JWSError("not a compact JWS")
    try:
        header = msgspec.json.decode(b64url_decode(parts[0]))
    except (msgspec.DecodeError, RecursionError) as exc:  # "[[[[...]]]]" thousands deep overflows the decoder
        raise JWSError("header is not JSON") from exc
    if not isinstance(header, dict):
        raise JWSError("header is not an object")
    return header, b64url_decode(parts[1]), b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}"


def verify_es256(token: str, keys: list[ec.EllipticCurvePublicKey]) -> dict[str, Any]:
    """The claims of an ES256 token signed by one of ``keys``; JWSError otherwise."""
    header, payload, signature, signing_input = split(token)
    if header.get("alg") != "ES256":
        raise JWSError(f"unsupported alg {str(header.get('alg'))[:20]!r}")
    if len(signature) != 64:
        raise JWSError("bad signature length")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    kid = header.get("kid")
    candidates = [k for k in keys if key_id(k) == kid] or keys
    for k in candidates:
        try:
            k.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            continue
        try:
            claims = msgspec.json.decode(payload)
        except msgspec.DecodeError as exc:
            raise JWSError("payload is not JSON") from exc
        if not isinstance(claims, dict):
            raise JWSError("payload is not an object")
        return claims
    raise JWSError("signature does not verify")


def sign_hs256_detached(secret: bytes, payload: bytes, kid: str) -> str:
    header = b64url(_json.encode({"alg": "HS256", "kid": kid}))
    mac = hmac.new(secret, f"{header}.{b64url(payload)}".encode(), hashlib.sha256).digest()
    return f"{header}..{b64url(mac)}"


def verify_hs256_detached(detached: str, secret: bytes, payload: bytes) -> bool:
    parts = detached.split(".")
    if len(parts) != 3 or parts[1]:
        return False
    try:
        header = msgspec.json.decode(b64url_decode(parts[0]))
        mac = b64url_decode(parts[2])
    except (JWSError, msgspec.DecodeError, RecursionError):
        return False
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        return False
    want = hmac.new(secret, f"{parts[0]}.{b64url(payload)}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(want, mac)
