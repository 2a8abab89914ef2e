"""bootstrapsigner: sign kube-public/cluster-info with every bootstrap token that may sign.

cluster-info's ``kubeconfig`` key holds the server URL and the cluster CA (the apiserver writes
it). For each unexpired token with ``usage-bootstrap-signing``, this controller keeps a key
``jws-kubeconfig-<token id>``: a detached JWS (HS256, keyed with the token's secret) of that
kubeconfig, as kubeadm's bootstrap signer does; a key whose token is gone is removed. A joining
agent that knows a token can check that the cluster-info it read was signed by the holder of
that token (picluster's join tokens also pin the CA's hash, which is checked first).
"""

from __future__ import annotations

import datetime
import logging

import msgspec

from master.api import core
from master.client import errors
from master.controllers.context import ControllerContext
from master.util import jointoken, jws

__all__ = ["CLUSTER_INFO", "JWS_PREFIX", "BootstrapSigner", "new"]

log = logging.getLogger(__name__)

NAME = "bootstrapsigner"
CLUSTER_INFO = ("kube-public", "cluster-info")
JWS_PREFIX = "jws-kubeconfig-"
_KEY = "kube-public/cluster-info"


def new(ctx: ControllerContext) -> BootstrapSigner:
    return BootstrapSigner(ctx)


class BootstrapSigner:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.clock = ctx.clock
        self.secrets = ctx.informers.informer(core.Secret, namespace=jointoken.SECRET_NAMESPACE,
                                              field_selector=f"type={jointoken.SECRET_TYPE}")
        self.config_maps = ctx.informers.informer(core.ConfigMap, namespace=CLUSTER_INFO[0],
                                                  field_selector=f"metadata.name={CLUSTER_INFO[1]}")
        self.loop = ctx.loop(NAME, self.sync)
        self.loop.watch(self.secrets, key=lambda _s: (_KEY,))
        self.loop.watch(self.config_maps, key=lambda _c: (_KEY,))

    async def run(self) -> None:
        await self.loop.run()

    async def sync(self, _key: str) -> float | None:
        cm = self.config_maps.cache.get(_KEY)
        if cm is None or "kubeconfig" not in cm.data:
            return None
        content = cm.data["kubeconfig"].encode()
        now = datetime.datetime.fromtimestamp(self.clock.time(), datetime.UTC)
        wanted: dict[str, str] = {}
        next_expiry: float | None = None
        for secret in self.secrets.cache.list():
            if secret.metadata.deletion_timestamp:
                continue
            stored = jointoken.stored_token(msgspec.to_builtins(secret))
            if stored is None or "signing" not in stored.usages or stored.expired(now):
                continue
            if stored.expires is not None:
                left = (stored.expires - now).total_seconds() + 1
                next_expiry = left if next_expiry is None else min(next_expiry, left)
            wanted[JWS_PREFIX + stored.token.id] = jws.sign_hs256_detached(
                stored.token.secret.encode(), content, stored.token.id)
        current = {k: v for k, v in cm.data.items() if k.startswith(JWS_PREFIX)}
        if current == wanted:
            return next_expiry
        data = {k: v for k, v in cm.data.items() if not k.startswith(JWS_PREFIX)}
        data.update(wanted)
        updated = msgspec.structs.replace(cm, data=data)
        try:
            await self.api.update(updated)
        except (errors.NotFound, errors.Conflict):
            return 1.0
        log.info("bootstrapsigner: cluster-info signed by %d token(s)", len(wanted))
        return next_expiry
