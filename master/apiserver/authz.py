"""Authorization: may this user do this verb on this resource.

An ``Authorizer`` answers ALLOW, DENY or NO_OPINION for ``Attributes`` (the user plus the
parsed request, as Kubernetes' authorizer.Attributes); the chain asks each in turn and the
first ALLOW or DENY wins, no opinion from anyone is a deny. ``--authorization-mode`` picks the
chain, in order (``build_chain``)::

    Node          authz_node: what an agent (system:node:<name>) may do, from its pods
    RBAC          authz_rbac: Roles, ClusterRoles and their bindings
    AlwaysAllow   every request (what every cluster did before issue 8)
    AlwaysDeny    nothing

Whatever the modes, members of ``system:masters`` are allowed everything first, as Kubernetes'
privileged group is, so the admin kubeconfig works before any role exists.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from master.apiserver.authn import UserInfo
from master.apiserver.requestinfo import RequestInfo

__all__ = [
    "MODES",
    "SUPERUSER_GROUP",
    "AlwaysAllow",
    "AlwaysAllowAuthenticated",
    "AlwaysDeny",
    "Attributes",
    "Authorizer",
    "Decision",
    "Superuser",
    "authorize",
    "build_chain",
    "parse_modes",
]

SUPERUSER_GROUP = "system:masters"
MODES = ("Node", "RBAC", "AlwaysAllow", "AlwaysDeny")


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    NO_OPINION = "no-opinion"


@dataclass(frozen=True, slots=True)
class Attributes:
    user: UserInfo
    info: RequestInfo


class Authorizer(Protocol):
    def authorize(self, attrs: Attributes) -> tuple[Decision, str]: ...


class AlwaysAllow:
    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        return Decision.ALLOW, ""


class AlwaysDeny:
    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        return Decision.DENY, "the AlwaysDeny authorizer denies every request"


class AlwaysAllowAuthenticated:
    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        if attrs.user.authenticated:
            return Decision.ALLOW, ""
        return Decision.NO_OPINION, ""


class Superuser:
    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        if SUPERUSER_GROUP in attrs.user.groups:
            return Decision.ALLOW, ""
        return Decision.NO_OPINION, ""


def parse_modes(text: str | Sequence[str]) -> tuple[str, ...]:
    """``Node,RBAC`` -> ("Node", "RBAC"); ValueError for unknown, repeated or no modes."""
    items = text.split(",") if isinstance(text, str) else list(text)
    modes = tuple(m.strip() for m in items if m.strip())
    if not modes:
        raise ValueError(f"invalid --authorization-mode: name at least one of {','.join(MODES)}")
    for m in modes:
        if m not in MODES:
            raise ValueError(f"invalid --authorization-mode: unknown mode {m!r} (known: {','.join(MODES)})")
    if len(set(modes)) != len(modes):
        raise ValueError("invalid --authorization-mode: a mode is named twice")
    return modes


def build_chain(modes: Sequence[str], factories: dict[str, Callable[[], Authorizer]]) -> list[Authorizer]:
    """The authorizers of ``modes``, behind the system:masters short cut. ``factories`` makes
    the Node and RBAC authorizers (they need the server's caches)."""
    chain: list[Authorizer] = [Superuser()]
    for m in modes:
        if m == "AlwaysAllow":
            chain.append(AlwaysAllow())
        elif m == "AlwaysDeny":
            chain.append(AlwaysDeny())
        else:
            chain.append(factories[m]())
    return chain


def authorize(chain: Sequence[Authorizer], attrs: Attributes) -> tuple[Decision, str]:
    reasons: list[str] = []
    for authorizer in chain:
        decision, reason = authorizer.authorize(attrs)
        if decision is not Decision.NO_OPINION:
            return decision, reason
        if reason:
            reasons.append(reason)
    return Decision.DENY, "; ".join(reasons)
