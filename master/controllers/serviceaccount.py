"""The ServiceAccount controller: a ``default`` ServiceAccount in every active namespace.

``sync(namespace)`` creates ``<namespace>/default`` when the namespace is active and the
account is missing (also after someone deleted it). Terminating namespaces are left alone.
"""

from __future__ import annotations

from master.api import core, meta
from master.client import errors
from master.controllers.context import ControllerContext

__all__ = ["DEFAULT_ACCOUNT", "ServiceAccountController", "new"]

NAME = "serviceaccount"
DEFAULT_ACCOUNT = "default"


def new(ctx: ControllerContext) -> ServiceAccountController:
    return ServiceAccountController(ctx)


class ServiceAccountController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.namespaces = ctx.informers.informer(core.Namespace)
        self.accounts = ctx.informers.informer(core.ServiceAccount)
        self.loop = ctx.loop(NAME, self.sync)
        self.namespaces.add_event_handler(on_add=self.loop.enqueue, on_update=lambda _o, n: self.loop.enqueue(n))
        self.accounts.add_event_handler(on_delete=self._account_deleted)

    async def run(self) -> None:
        await self.loop.run()

    def _account_deleted(self, sa: core.ServiceAccount) -> None:
        if sa.metadata.name == DEFAULT_ACCOUNT:
            self.loop.enqueue_key(sa.metadata.namespace)

    async def sync(self, name: str) -> None:
        ns = self.namespaces.cache.get(name)
        if ns is None or ns.metadata.deletion_timestamp or ns.status.phase == "Terminating":
            return
        if self.accounts.cache.get(f"{name}/{DEFAULT_ACCOUNT}") is not None:
            return
        sa = core.ServiceAccount(metadata=meta.ObjectMeta(name=DEFAULT_ACCOUNT, namespace=name))
        try:
            await self.api.create(sa)
        except errors.AlreadyExists:
            pass
        except errors.Forbidden as exc:
            if "being terminated" not in str(exc):
                raise
