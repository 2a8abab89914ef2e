"""Authentication: who is making this request.

An ``Authenticator`` looks at a request and answers a ``UserInfo`` (who it is), ``Denied``
(credentials of its kind were presented and are not valid: the request gets 401 whatever the
others say) or ``None`` (nothing to say; the chain asks the next one). The chain::

    X509Authenticator          the client certificate the TLS layer verified against the cluster CA
                               (CN = user, O = groups), as Kubernetes reads them
    BearerAuthenticator        ``Authorization: Bearer <token>``, asked of each TokenAuthenticator:
        authn_tokenfile          the static token file (--token-auth-file)
        authn_bootstrap          bootstrap tokens (Secrets in kube-system) -> system:bootstrap:<id>
        authn_serviceaccount     ServiceAccount JWTs -> system:serviceaccount:<ns>:<name>

A request with no credentials at all is ``ANONYMOUS`` (``system:anonymous`` in
``system:unauthenticated``): the authorizers decide what it may do (only the health checks,
/version and kube-public/cluster-info by default), anything else is 401. Every authenticated
user is in ``system:authenticated``. Impersonation (``authn_impersonation``) runs after this,
once the real user is known.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web
from cryptography import x509

from master.util.pki import subject_identity

__all__ = [
    "ANONYMOUS",
    "AUTHENTICATED",
    "UNAUTHENTICATED",
    "Authenticator",
    "BearerAuthenticator",
    "Denied",
    "TokenAuthenticator",
    "UserInfo",
    "X509Authenticator",
    "authenticate",
    "bearer_token",
]

AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def authenticated(self) -> bool:
        return AUTHENTICATED in self.groups

    def with_authenticated(self) -> UserInfo:
        if self.authenticated:
            return self
        return UserInfo(self.name, (*self.groups, AUTHENTICATED), self.uid, self.extra)


ANONYMOUS = UserInfo("system:anonymous", (UNAUTHENTICATED,))


@dataclass(frozen=True, slots=True)
class Denied:
    """Credentials were presented and are not valid (the reason is for the log, not the client)."""

    reason: str


Outcome = UserInfo | Denied | None


class Authenticator(Protocol):
    async def authenticate(self, request: web.Request) -> Outcome: ...


class TokenAuthenticator(Protocol):
    """One kind of bearer token; also what a TokenReview asks."""

    async def authenticate_token(self, token: str) -> Outcome: ...


# Client certificates whose identity is remembered (a few per node and component in a cluster).
KNOWN_CERTS = 1024


class X509Authenticator:
    """The peer certificate the TLS handshake verified (the server asks for, but does not require, one)."""

    def __init__(self) -> None:
        # DER bytes -> what they say. A certificate's identity is a function of its bytes (the
        # handshake verified them); parsing them on every request was ~6% of the apiserver's CPU.
        self._known: dict[bytes, UserInfo | Denied] = {}

    async def authenticate(self, request: web.Request) -> Outcome:
        transport = request.transport
        if transport is None:
            return None
        sslobj = transport.get_extra_info("ssl_object")
        if not isinstance(sslobj, ssl.SSLObject):
            return None
        der = sslobj.getpeercert(binary_form=True)
        if not der:
            return None
        outcome = self._known.get(der)
        if outcome is None:
            if len(self._known) >= KNOWN_CERTS:
                self._known.clear()
            outcome = self._known[der] = _identity(der)
        return outcome


def _identity(der: bytes) -> UserInfo | Denied:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return Denied("unparsable client certificate")
    user, groups = subject_identity(cert)
    if not user:
        return Denied("client certificate without a common name")
    return UserInfo(user, (*groups, AUTHENTICATED))


def bearer_token(request: web.Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``; None without one (other schemes included)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = value.strip()
    return token or None


class BearerAuthenticator:
    """Asks each token authenticator in turn; a bearer token that none accepts is Denied."""

    def __init__(self, authenticators: Sequence[TokenAuthenticator]) -> None:
        self.authenticators = list(authenticators)

    async def authenticate(self, request: web.Request) -> Outcome:
        token = bearer_token(request)
        if token is None:
            return None
        return await self.authenticate_token(token)

    async def authenticate_token(self, token: str) -> Outcome:
        if len(token) > 16 * 1024 or not token.isascii() or not token.isprintable():
            return Denied("malformed bearer token")
        for a in self.authenticators:
            outcome = await a.authenticate_token(token)
            if outcome is not None:
                return outcome.with_authenticated() if isinstance(outcome, UserInfo) else outcome
        return Denied("unknown bearer token")


async def authenticate(chain: Sequence[Authenticator], request: web.Request) -> UserInfo | Denied:
    """The user of ``request``; ``Denied`` when it presented bad credentials; ANONYMOUS without any."""
    denied: Denied | None = None
    for authenticator in chain:
        outcome = await authenticator.authenticate(request)
        if isinstance(outcome, UserInfo):
            return outcome.with_authenticated()
        if isinstance(outcome, Denied) and denied is None:
            denied = outcome
    return denied if denied is not None else ANONYMOUS
