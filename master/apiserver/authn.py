"""Authentication: who is making this request.

An ``Authenticator`` looks at a request and answers a ``UserInfo``, or ``None`` when it has
nothing to say (the chain then asks the next one). The chain is a plain list, so issue 8 adds
bearer tokens, bootstrap tokens and ServiceAccount JWTs by appending objects. Today there is one:
x509 client certificates verified by the TLS layer against the cluster CA (CN = user,
O = groups), as Kubernetes reads them.
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
    "Authenticator",
    "UserInfo",
    "X509Authenticator",
    "authenticate",
]


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def authenticated(self) -> bool:
        return "system:authenticated" in self.groups


ANONYMOUS = UserInfo("system:anonymous", ("system:unauthenticated",))


class Authenticator(Protocol):
    def authenticate(self, request: web.Request) -> UserInfo | None: ...


class X509Authenticator:
    """The peer certificate the TLS handshake verified (the server asks for, but does not require, one)."""

    def authenticate(self, request: web.Request) -> UserInfo | None:
        transport = request.transport
        if transport is None:
            return None
        sslobj = transport.get_extra_info("ssl_object")
        if not isinstance(sslobj, ssl.SSLObject):
            return None
        der = sslobj.getpeercert(binary_form=True)
        if not der:
            return None
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            return None
        user, groups = subject_identity(cert)
        if not user:
            return None
        return UserInfo(user, (*groups, "system:authenticated"))


def authenticate(chain: Sequence[Authenticator], request: web.Request) -> UserInfo:
    for authenticator in chain:
        info = authenticator.authenticate(request)
        if info is not None:
            return info
    return ANONYMOUS
