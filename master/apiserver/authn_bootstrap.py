"""Bootstrap tokens (``<id>.<secret>``) as bearer tokens: how a new agent first talks to us.

The token's Secret ``kube-system/bootstrap-token-<id>`` (``master.util.jointoken`` describes it)
must exist, not be deleted or expired, allow ``usage-bootstrap-authentication`` and hold the same
secret (compared in constant time). The user is ``system:bootstrap:<id>`` in
``system:bootstrappers`` plus the Secret's ``auth-extra-groups``; what it may do is RBAC's
business (by default: create CertificateSigningRequests and read them, see ``authz_policy``).
A token of this shape that fails any check is Denied (401).
"""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from master.apiserver.authn import Denied, Outcome, UserInfo
from master.util import jointoken
from master.util.clock import Clock, RealClock

__all__ = ["BootstrapTokenAuthenticator", "SecretLookup"]

# (namespace, name) -> the Secret as a JSON dict, or None when there is none.
SecretLookup = Callable[[str, str], Awaitable[dict[str, Any] | None]]


class BootstrapTokenAuthenticator:
    def __init__(self, lookup: SecretLookup, *, clock: Clock | None = None) -> None:
        self.lookup = lookup
        self.clock = clock or RealClock()

    async def authenticate_token(self, token: str) -> Outcome:
        try:
            presented = jointoken.parse_bootstrap_token(token)
        except ValueError:
            return None
        secret = await self.lookup(jointoken.SECRET_NAMESPACE, presented.secret_name)
        if secret is None:
            return Denied(f"bootstrap token {presented.id}: no such token")
        if (secret.get("metadata") or {}).get("deletionTimestamp"):
            return Denied(f"bootstrap token {presented.id}: being deleted")
        stored = jointoken.stored_token(secret)
        if stored is None:
            return Denied(f"bootstrap token {presented.id}: its Secret is malformed")
        if not hmac.compare_digest(stored.token.secret.encode(), presented.secret.encode()):
            return Denied(f"bootstrap token {presented.id}: wrong secret")
        now = datetime.datetime.fromtimestamp(self.clock.time(), datetime.UTC)
        if stored.expired(now):
            return Denied(f"bootstrap token {presented.id}: expired")
        if "authentication" not in stored.usages:
            return Denied(f"bootstrap token {presented.id}: not usable for authentication")
        return UserInfo(presented.user, (jointoken.BOOTSTRAP_GROUP, *stored.groups))
