"""ServiceAccount tokens: issued by the TokenRequest API, verified as bearer tokens.

A token is an ES256 JWT signed with the service-account signing key
(``--service-account-signing-key-file``, else ``<data dir>/pki/sa.key`` made on first start) and
verified with any of the public keys (``--service-account-key-file``, repeatable; the signing
key's own public half always counts). Its claims, as Kubernetes' bound tokens::

    {"iss": "https://kubernetes.default.svc.cluster.local", "sub": "system:serviceaccount:ns:name",
     "aud": ["https://kubernetes.default.svc.cluster.local"], "iat": ..., "nbf": ..., "exp": ...,
     "jti": "<uuid>",
     "kubernetes.io": {"namespace": "ns", "serviceaccount": {"name": "name", "uid": "..."},
                       "pod": {"name": "web-1", "uid": "..."}}}        (when bound to a pod)

Verification: signature, issuer, audience (one of the apiserver's), time window (60 s of clock
skew), and the objects it names still existing with the same uid (the ServiceAccount, and the
bound Pod or Secret): deleting a pod invalidates its tokens. The user is
``system:serviceaccount:<ns>:<name>`` in ``system:serviceaccounts`` and
``system:serviceaccounts:<ns>``.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from master.apiserver.authn import Denied, Outcome, UserInfo
from master.util import jws
from master.util.clock import Clock, RealClock

__all__ = [
    "DEFAULT_ISSUER",
    "SA_GROUP",
    "SA_PREFIX",
    "Bound",
    "ServiceAccountAuthenticator",
    "ServiceAccountKeys",
    "TokenIssuer",
    "load_keys",
    "parse_username",
]

DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
SA_PREFIX = "system:serviceaccount:"
SA_GROUP = "system:serviceaccounts"
CLOCK_SKEW = 60.0
CLAIMS = "kubernetes.io"
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)

# (plural, namespace, name) -> the object as a JSON dict, or None.
ObjectLookup = Callable[[str, str, str], Awaitable[dict[str, Any] | None]]


def parse_username(name: str) -> tuple[str, str] | None:
    """``system:serviceaccount:ns:sa`` -> ("ns", "sa"); None for any other user name."""
    if not name.startswith(SA_PREFIX):
        return None
    ns, sep, sa = name[len(SA_PREFIX):].partition(":")
    if not sep or not ns or not sa or ":" in sa:
        return None
    return ns, sa


def sa_user(namespace: str, name: str, uid: str, extra: dict[str, tuple[str, ...]] | None = None) -> UserInfo:
    return UserInfo(f"{SA_PREFIX}{namespace}:{name}", (SA_GROUP, f"{SA_GROUP}:{namespace}"), uid, extra or {})


@dataclass(frozen=True)
class ServiceAccountKeys:
    signing: ec.EllipticCurvePrivateKey
    verifying: tuple[ec.EllipticCurvePublicKey, ...]


def _read_private(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"service-account signing key {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"service-account signing key {path}: want an ECDSA P-256 private key")
    return key


def _read_public(path: Path) -> list[ec.EllipticCurvePublicKey]:
    """Public keys of a PEM file (public keys, or a private key whose public half is used)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"--service-account-key-file {path}: {exc.strerror or exc}") from exc
    out: list[ec.EllipticCurvePublicKey] = []
    for m in _PEM_BLOCK.finditer(data):
        pem, label = m.group(0), m.group(1)
        try:
            if label.endswith(b"PRIVATE KEY"):
                pub = serialization.load_pem_private_key(pem, password=None).public_key()
            else:
                pub = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"--service-account-key-file {path}: {exc}") from exc
        if not isinstance(pub, ec.EllipticCurvePublicKey):
            raise ValueError(f"--service-account-key-file {path}: only ECDSA keys are supported")
        out.append(pub)
    if not out:
        raise ValueError(f"--service-account-key-file {path}: no PEM key found")
    return out


def load_keys(pki_dir: Path, *, signing_key_file: Path | None = None,
              key_files: Sequence[Path] = ()) -> ServiceAccountKeys:
    """The signing key (made as ``pki_dir/sa.key`` + ``sa.pub`` on first start when no file is
    named) and every verifying key. ValueError for unusable files."""
    if signing_key_file is not None:
        signing = _read_private(signing_key_file)
    else:
        key_path = pki_dir / "sa.key"
        if key_path.exists():
            signing = _read_private(key_path)
        else:
            from master.util import pki

            signing = pki.new_key()
            pki_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(signing.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
            (pki_dir / "sa.pub").write_bytes(signing.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    verifying = [signing.public_key()]
    for path in key_files:
        verifying.extend(_read_public(path))
    return ServiceAccountKeys(signing, tuple(verifying))


@dataclass(frozen=True, slots=True)
class Bound:
    kind: str  # Pod or Secret
    name: str
    uid: str


class TokenIssuer:
    def __init__(self, keys: ServiceAccountKeys, *, issuer: str = DEFAULT_ISSUER,
                 clock: Clock | None = None) -> None:
        self.keys = keys
        self.issuer = issuer
        self.clock = clock or RealClock()

    def issue(self, *, namespace: str, name: str, uid: str, audiences: Sequence[str], expiration_seconds: int,
              bound: Bound | None = None) -> tuple[str, int]:
        """(token, expiry as unix seconds)."""
        now = int(self.clock.time())
        exp = now + expiration_seconds
        private: dict[str, Any] = {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}}
        if bound is not None:
            private[bound.kind.lower()] = {"name": bound.name, "uid": bound.uid}
        claims = {
            "iss": self.issuer, "sub": f"{SA_PREFIX}{namespace}:{name}", "aud": list(audiences) or [self.issuer],
            "iat": now, "nbf": now, "exp": exp, "jti": str(uuid.uuid4()), CLAIMS: private,
        }
        return jws.sign_es256(self.keys.signing, claims), exp


def _str(d: Any, *path: str) -> str:
    for p in path:
        if not isinstance(d, dict):
            return ""
        d = d.get(p)
    return d if isinstance(d, str) else ""


class ServiceAccountAuthenticator:
    def __init__(self, keys: ServiceAccountKeys, lookup: ObjectLookup, *, issuer: str = DEFAULT_ISSUER,
                 audiences: Sequence[str] = (), clock: Clock | None = None) -> None:
        self.keys = list(keys.verifying)
        self.lookup = lookup
        self.issuer = issuer
        self.audiences = frozenset(audiences or (issuer,))
        self.clock = clock or RealClock()

    async def authenticate_token(self, token: str, audiences: Sequence[str] = ()) -> Outcome:
        if token.count(".") != 2:
            return None
        try:
            _, payload, _, _ = jws.split(token)
        except jws.JWSError:
            return None
        try:
            peek = msgspec.json.decode(payload)
        except (msgspec.DecodeError, RecursionError):  # not JSON, or nested too deep to be a token of ours
            return None
        if not isinstance(peek, dict) or peek.get("iss") != self.issuer:
            return None  # not one of ours: another token authenticator may know it
        try:
            claims = jws.verify_es256(token, self.keys)
        except jws.JWSError as exc:
            return Denied(f"service account token: {exc}")
        return await self._check(claims, frozenset(audiences) or self.audiences)

    async def _check(self, claims: dict[str, Any], audiences: frozenset[str]) -> Outcome:
        now = self.clock.time()
        try:
            exp, nbf = float(claims.get("exp", 0)), float(claims.get("nbf", claims.get("iat", 0)))
        except (TypeError, ValueError):
            return Denied("service account token: bad time claims")
        if now > exp + CLOCK_SKEW:
            return Denied("service account token: expired")
        if now + CLOCK_SKEW < nbf:
            return Denied("service account token: not valid yet")
        aud = claims.get("aud")
        aud_list = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not audiences.intersection(a for a in aud_list if isinstance(a, str)):
            return Denied("service account token: audience not accepted")
        parsed = parse_username(_str(claims, "sub"))
        private = claims.get(CLAIMS)
        if parsed is None or not isinstance(private, dict):
            return Denied("service account token: malformed subject")
        ns, name = parsed
        if _str(private, "namespace") != ns or _str(private, "serviceaccount", "name") != name:
            return Denied("service account token: subject and claims disagree")
        sa_uid = _str(private, "serviceaccount", "uid")
        sa = await self.lookup("serviceaccounts", ns, name)
        if sa is None or _str(sa, "metadata", "uid") != sa_uid or _str(sa, "metadata", "deletionTimestamp"):
            return Denied(f"service account token: serviceaccount {ns}/{name} no longer exists")
        extra: dict[str, tuple[str, ...]] = {}
        if _str(claims, "jti"):
            extra["authentication.kubernetes.io/credential-id"] = (f"JTI={_str(claims, 'jti')}",)
        for kind, plural in (("pod", "pods"), ("secret", "secrets")):
            ref = private.get(kind)
            if ref is None:
                continue
            obj = await self.lookup(plural, ns, _str(ref, "name"))
            if obj is None or _str(obj, "metadata", "uid") != _str(ref, "uid") or \
                    _str(obj, "metadata", "deletionTimestamp"):
                return Denied(f"service account token: bound {kind} {ns}/{_str(ref, 'name')} no longer exists")
            if kind == "pod":
                extra["authentication.kubernetes.io/pod-name"] = (_str(ref, "name"),)
                extra["authentication.kubernetes.io/pod-uid"] = (_str(ref, "uid"),)
                node = _str(obj, "spec", "nodeName")
                if node:
                    extra["authentication.kubernetes.io/node-name"] = (node,)
        return sa_user(ns, name, sa_uid, extra)
