"""tokencleaner: delete bootstrap-token Secrets once they expire.

``sync(kube-system/bootstrap-token-<id>)`` deletes the Secret when its ``expiration`` has
passed, and otherwise asks to be called again at that moment. (An expired token is refused by
the apiserver anyway; this only tidies up.)
"""

from __future__ import annotations

import datetime
import logging

import msgspec

from master.api import core, meta
from master.client import errors
from master.controllers.context import ControllerContext
from master.util import jointoken

__all__ = ["TokenCleaner", "new"]

log = logging.getLogger(__name__)

NAME = "tokencleaner"


def new(ctx: ControllerContext) -> TokenCleaner:
    return TokenCleaner(ctx)


class TokenCleaner:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.clock = ctx.clock
        self.secrets = ctx.informers.informer(core.Secret, namespace=jointoken.SECRET_NAMESPACE,
                                              field_selector=f"type={jointoken.SECRET_TYPE}")
        self.loop = ctx.loop(NAME, self.sync)
        self.loop.watch(self.secrets)

    async def run(self) -> None:
        await self.loop.run()

    async def sync(self, key: str) -> float | None:
        secret = self.secrets.cache.get(key)
        if secret is None or secret.metadata.deletion_timestamp:
            return None
        stored = jointoken.stored_token(msgspec.to_builtins(secret))
        if stored is None or stored.expires is None:
            return None
        now = datetime.datetime.fromtimestamp(self.clock.time(), datetime.UTC)
        if not stored.expired(now):
            return (stored.expires - now).total_seconds() + 1
        try:
            await self.api.delete(core.Secret, secret.metadata.name, namespace=secret.metadata.namespace,
                                  preconditions=meta.Preconditions(uid=secret.metadata.uid))
        except (errors.NotFound, errors.Conflict):
            return None
        log.info("tokencleaner: deleted expired bootstrap token %s", stored.token.id)
        return None
