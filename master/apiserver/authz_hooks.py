"""Read-your-writes for authorization: a write (or delete) of a Role, ClusterRole or binding
answers only once the watch cache the RBAC authorizer reads has it, so the very next request of
the user it concerns is decided with it (waiting at most a few seconds)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from master.apiserver.hooks import Hooks
from master.apiserver.storage import store_call

if TYPE_CHECKING:
    from master.apiserver.verbs.common import Call

__all__ = ["RBACHooks"]

CACHE_WAIT = 5.0


class RBACHooks(Hooks):
    async def _seen(self, call: Call, obj: dict[str, Any]) -> None:
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv:
            await call.cache.wait_for(int(rv), CACHE_WAIT)

    async def after_create(self, call: Call, obj: dict[str, Any]) -> None:
        await self._seen(call, obj)

    async def after_update(self, call: Call, new: dict[str, Any], old: dict[str, Any]) -> None:
        await self._seen(call, new)

    async def after_delete(self, call: Call, obj: dict[str, Any]) -> None:
        # The delete's own revision is not returned: the store's current one is at least it.
        resp = await store_call(call.storage.client.range(call.storage.prefix, count_only=True))
        await call.cache.wait_for(resp.header.revision, CACHE_WAIT)
