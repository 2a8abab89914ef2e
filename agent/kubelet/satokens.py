"""ServiceAccount tokens for projected volumes (``serviceAccountToken`` sources).

For a pod's projection ``{audience, expirationSeconds, path}`` the agent asks the apiserver for a
token bound to the pod (``POST serviceaccounts/<name>/token`` with ``boundObjectRef`` the pod:
the Node authorizer lets an agent ask only for its own pods' accounts, and the token dies with
the pod). Tokens are kept per (pod, account, audience, lifetime) and asked for again once 80 %
of their lifetime has passed or after 24 hours, as the kubelet's token manager does; the
volume refresh (``volumes.VolumeManager.setup``) then writes the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from master.api.core import Pod, ServiceAccountTokenProjection
from master.client import errors
from master.client.rest import ApiClient
from master.util.clock import Clock, RealClock

__all__ = ["DEFAULT_EXPIRATION", "ServiceAccountTokens", "TokenUnavailable"]

DEFAULT_EXPIRATION = 3600
MAX_AGE = 24 * 3600.0
REFRESH_AT = 0.8


class TokenUnavailable(Exception):
    """The apiserver would not issue the token (the pod waits: FailedMount)."""


@dataclass(frozen=True, slots=True)
class _Token:
    value: bytes
    issued: float
    expires: float

    def fresh(self, now: float) -> bool:
        return now < self.issued + min((self.expires - self.issued) * REFRESH_AT, MAX_AGE)


class ServiceAccountTokens:
    def __init__(self, api: ApiClient, *, clock: Clock | None = None) -> None:
        self.api = api
        self.clock = clock or RealClock()
        self._tokens: dict[tuple[str, str, str, str, int], _Token] = {}

    async def token(self, pod: Pod, projection: ServiceAccountTokenProjection) -> bytes:
        m = pod.metadata
        account = pod.spec.service_account_name or "default"
        seconds = projection.expiration_seconds or DEFAULT_EXPIRATION
        key = (m.uid, m.namespace, account, projection.audience, seconds)
        now = self.clock.time()
        cached = self._tokens.get(key)
        if cached is not None and cached.fresh(now):
            return cached.value
        spec: dict[str, Any] = {"expirationSeconds": seconds,
                                "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": m.name, "uid": m.uid}}
        if projection.audience:
            spec["audiences"] = [projection.audience]
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
        try:
            data = await self.api.request("POST", f"/api/v1/namespaces/{m.namespace}/serviceaccounts/{account}/token",
                                          body=msgspec.json.encode(body))
        except errors.ApiError as exc:
            raise TokenUnavailable(f"service account token for {m.namespace}/{account}: {exc}") from exc
        status = (msgspec.json.decode(data) or {}).get("status") or {}
        value = str(status.get("token") or "").encode()
        if not value:
            raise TokenUnavailable(f"service account token for {m.namespace}/{account}: the answer held no token")
        # The lifetime asked for (the server only shortens requests above 48 h).
        self._tokens[key] = _Token(value, now, now + seconds)
        return value

    def forget(self, pod_uid: str) -> None:
        """Drop the tokens of a pod that is gone."""
        for key in [k for k in self._tokens if k[0] == pod_uid]:
            del self._tokens[key]
