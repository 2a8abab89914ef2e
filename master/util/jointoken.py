"""Join tokens: bootstrap tokens, and the CA pin that travels with them.

A bootstrap token is ``<id>.<secret>`` (``[a-z0-9]{6}.[a-z0-9]{16}``), stored as the Secret
``kube-system/bootstrap-token-<id>`` of type ``bootstrap.kubernetes.io/token``, as kubeadm stores
them::

    data:  token-id: abcdef            token-secret: 0123456789abcdef
           expiration: 2030-01-01T00:00:00Z          (optional, RFC 3339)
           usage-bootstrap-authentication: "true"    (may authenticate as system:bootstrap:<id>)
           usage-bootstrap-signing: "true"           (may sign kube-public/cluster-info)
           auth-extra-groups: system:bootstrappers:picluster:default-node-token
           description: ...

A join token pins the cluster CA the way k3s's tokens do::

    K10<sha256 of the CA certificate's DER, 64 hex digits>::<id>.<secret>

The hash is of the DER encoding of the CA certificate (not of its PEM text, so line wrapping
does not matter). An agent refuses a server whose CA hashes to anything else before it sends
the secret.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

__all__ = [
    "BOOTSTRAP_GROUP",
    "BOOTSTRAP_USER_PREFIX",
    "DEFAULT_EXTRA_GROUP",
    "SECRET_NAMESPACE",
    "SECRET_PREFIX",
    "SECRET_TYPE",
    "BootstrapToken",
    "JoinToken",
    "StoredToken",
    "ca_hash",
    "generate",
    "parse_bootstrap_token",
    "parse_join_token",
    "secret_data",
    "stored_token",
    "valid_token_id",
]

SECRET_NAMESPACE = "kube-system"
SECRET_PREFIX = "bootstrap-token-"
SECRET_TYPE = "bootstrap.kubernetes.io/token"
BOOTSTRAP_USER_PREFIX = "system:bootstrap:"
BOOTSTRAP_GROUP = "system:bootstrappers"
DEFAULT_EXTRA_GROUP = "system:bootstrappers:picluster:default-node-token"
JOIN_PREFIX = "K10"

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_TOKEN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
_ID = re.compile(r"^[a-z0-9]{6}$")
_EXTRA_GROUP = re.compile(r"^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class BootstrapToken:
    id: str
    secret: str

    def __str__(self) -> str:
        return f"{self.id}.{self.secret}"

    @property
    def secret_name(self) -> str:
        return SECRET_PREFIX + self.id

    @property
    def user(self) -> str:
        return BOOTSTRAP_USER_PREFIX + self.id


@dataclass(frozen=True, slots=True)
class JoinToken:
    ca_hash: str
    token: BootstrapToken

    def __str__(self) -> str:
        return f"{JOIN_PREFIX}{self.ca_hash}::{self.token}"


def generate() -> BootstrapToken:
    pick = secrets.choice
    return BootstrapToken("".join(pick(_ALPHABET) for _ in range(6)), "".join(pick(_ALPHABET) for _ in range(16)))


def parse_bootstrap_token(text: str) -> BootstrapToken:
    """``abcdef.0123456789abcdef`` -> BootstrapToken; ValueError (never echoing the secret) otherwise."""
    m = _TOKEN.match(text.strip())
    if m is None:
        raise ValueError("a bootstrap token looks like [a-z0-9]{6}.[a-z0-9]{16}")
    return BootstrapToken(m.group(1), m.group(2))


def parse_join_token(text: str) -> JoinToken:
    """``K10<hash>::<id>.<secret>`` -> JoinToken; ValueError naming what is wrong otherwise."""
    t = text.strip()
    if not t.startswith(JOIN_PREFIX) or "::" not in t:
        raise ValueError("a join token looks like K10<sha256 of the cluster CA>::<id>.<secret> "
                         "(pictl token create prints one)")
    digest, _, rest = t[len(JOIN_PREFIX):].partition("::")
    digest = digest.lower().removeprefix("sha256:")
    if not _HASH.match(digest):
        raise ValueError("the CA hash of a join token is 64 hex digits (SHA-256)")
    return JoinToken(digest, parse_bootstrap_token(rest))


def valid_token_id(text: str) -> bool:
    return bool(_ID.match(text))


def ca_hash(ca_pem: bytes) -> str:
    """SHA-256 (hex) of the DER of the first certificate in ``ca_pem``. ValueError if there is none."""
    cert = x509.load_pem_x509_certificate(ca_pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _rfc3339(ts: datetime.datetime) -> str:
    return ts.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def secret_data(
    token: BootstrapToken,
    *,
    expires: datetime.datetime | None,
    usages: Iterable[str] = ("authentication", "signing"),
    groups: Iterable[str] = (DEFAULT_EXTRA_GROUP,),
    description: str = "",
) -> dict[str, str]:
    """The ``data`` (base64 values) of the token's Secret. ValueError for a bad usage or group."""
    data = {"token-id": token.id, "token-secret": token.secret}
    if expires is not None:
        data["expiration"] = _rfc3339(expires)
    for usage in usages:
        if usage not in ("authentication", "signing"):
            raise ValueError(f"invalid token usage {usage!r}: want authentication and/or signing")
        data[f"usage-bootstrap-{usage}"] = "true"
    extra = list(groups)
    for g in extra:
        if not _EXTRA_GROUP.match(g):
            raise ValueError(f"invalid extra group {g!r}: must start with system:bootstrappers: "
                             "and use [a-z0-9:-]")
    if extra:
        data["auth-extra-groups"] = ",".join(extra)
    if description:
        data["description"] = description
    return {k: _b64(v) for k, v in data.items()}


@dataclass(frozen=True, slots=True)
class StoredToken:
    """What a bootstrap-token Secret says (decoded)."""

    token: BootstrapToken
    expires: datetime.datetime | None
    usages: frozenset[str]
    groups: tuple[str, ...]
    description: str

    def expired(self, now: datetime.datetime) -> bool:
        return self.expires is not None and now >= self.expires


def stored_token(secret: Mapping[str, object]) -> StoredToken | None:
    """Read a bootstrap-token Secret (a JSON dict); None when it is not a well-formed one."""
    meta = secret.get("metadata")
    name = meta.get("name", "") if isinstance(meta, dict) else ""
    if secret.get("type") != SECRET_TYPE or not isinstance(name, str) or not name.startswith(SECRET_PREFIX):
        return None
    raw = secret.get("data")
    if not isinstance(raw, dict):
        return None
    data: dict[str, str] = {}
    for k, v in raw.items():
        if not isinstance(k, str) or not isinstance(v, str):
            return None
        try:
            data[k] = base64.b64decode(v, validate=True).decode()
        except (binascii.Error, ValueError):
            return None
    tid, sec = data.get("token-id", ""), data.get("token-secret", "")
    if not _TOKEN.match(f"{tid}.{sec}") or name != SECRET_PREFIX + tid:
        return None
    expires: datetime.datetime | None = None
    if data.get("expiration"):
        try:
            expires = datetime.datetime.fromisoformat(data["expiration"].replace("Z", "+00:00"))
        except ValueError:
            return None
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=datetime.UTC)
    usages = frozenset(k.removeprefix("usage-bootstrap-") for k, v in data.items()
                       if k.startswith("usage-bootstrap-") and v == "true")
    groups = tuple(g.strip() for g in data.get("auth-extra-groups", "").split(",") if g.strip())
    if any(not _EXTRA_GROUP.match(g) for g in groups):
        return None
    return StoredToken(BootstrapToken(tid, sec), expires, usages, groups, data.get("description", ""))
