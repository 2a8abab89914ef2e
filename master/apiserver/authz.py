"""Authorization: may this user do this verb on this resource.

An ``Authorizer`` answers ALLOW, DENY or NO_OPINION for ``Attributes`` (the user plus the
parsed request, as Kubernetes' authorizer.Attributes); the chain asks each in turn and the
first ALLOW or DENY wins, no opinion from anyone is a deny. Issue 8 adds the RBAC and Node
authorizers to the list; today every authenticated user is allowed.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from master.apiserver.authn import UserInfo
from master.apiserver.requestinfo import RequestInfo

__all__ = ["AlwaysAllowAuthenticated", "Attributes", "Authorizer", "Decision", "authorize"]


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


class AlwaysAllowAuthenticated:
    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        if attrs.user.authenticated:
            return Decision.ALLOW, ""
        return Decision.NO_OPINION, ""


def authorize(chain: Sequence[Authorizer], attrs: Attributes) -> tuple[Decision, str]:
    for authorizer in chain:
        decision, reason = authorizer.authorize(attrs)
        if decision is not Decision.NO_OPINION:
            return decision, reason
    return Decision.DENY, "no authorizer allowed the request"
