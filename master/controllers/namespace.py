"""The Namespace controller: deleting a namespace deletes its contents, then the namespace.

When a namespace has a ``deletionTimestamp`` and still carries the ``kubernetes`` finalizer
(``spec.finalizers``), ``sync(name)``:

1. deletes every namespaced resource of the registry in it (one deletecollection each; pods
   go gracefully, so their kubelets get to stop them);
2. lists them again; while anything is left, records the NamespaceContentRemaining condition
   and looks again after ``namespace_recheck_period``;
3. once empty, removes ``kubernetes`` through ``namespaces/<name>/finalize``: the apiserver
   then removes the namespace (when no ``metadata.finalizers`` hold it).

Creation in a terminating namespace is already refused by the apiserver's NamespaceLifecycle
admission, so the content can only shrink.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec

from master.api import codec, core, registry, timefmt
from master.client import errors
from master.client.rest import resource_path
from master.controllers.context import ControllerContext

__all__ = ["FINALIZER", "NamespaceController", "new"]

log = logging.getLogger(__name__)

NAME = "namespace"
FINALIZER = "kubernetes"
# Leases, Events and the like are content too; nothing namespaced is skipped.


def new(ctx: ControllerContext) -> NamespaceController:
    return NamespaceController(ctx)


class NamespaceController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.clock = ctx.clock
        self.recheck = ctx.settings.namespace_recheck_period
        self.resources = [
            r for r in ctx.resources.all() if r.namespaced and "deletecollection" in r.verbs and "list" in r.verbs
        ]
        self.namespaces = ctx.informers.informer(core.Namespace)
        self.loop = ctx.loop(NAME, self.sync, workers=ctx.settings.concurrent_namespace_syncs)
        self.namespaces.add_event_handler(on_add=self.loop.enqueue, on_update=lambda _o, n: self.loop.enqueue(n))

    async def run(self) -> None:
        await self.loop.run()

    async def sync(self, name: str) -> float | None:
        ns = self.namespaces.cache.get(name)
        if ns is None or not ns.metadata.deletion_timestamp or FINALIZER not in ns.spec.finalizers:
            return None
        await asyncio.gather(*(self._delete_all(r, name) for r in self.resources))
        remaining = await self._remaining(name)
        if remaining:
            await self._set_condition(ns, remaining)
            return self.recheck
        await self._finalize(ns)
        return None

    async def _delete_all(self, res: registry.Resource, namespace: str) -> None:
        try:
            await self.api.delete_collection(res.type, namespace=namespace)
        except (errors.NotFound, errors.MethodNotAllowed):
            pass

    async def _remaining(self, namespace: str) -> dict[str, int]:
        async def count(res: registry.Resource) -> tuple[str, int]:
            try:
                page = await self.api.list(res.type, namespace=namespace)
            except errors.NotFound:
                return res.group_resource, 0
            return res.group_resource, len(page.items)

        counts = await asyncio.gather(*(count(r) for r in self.resources))
        return {name: n for name, n in counts if n}

    async def _set_condition(self, ns: core.Namespace, remaining: dict[str, int]) -> None:
        message = "Some resources are remaining: " + ", ".join(
            f"{res} has {n} resource instances" for res, n in sorted(remaining.items())
        )
        cond = core.NamespaceCondition(
            type="NamespaceContentRemaining", status="True", reason="SomeResourcesRemain", message=message,
            last_transition_time=timefmt.format_time(self.clock.time()),
        )
        old = next((c for c in ns.status.conditions if c.type == cond.type), None)
        if old is not None and old.status == cond.status and old.message == cond.message:
            return
        conditions = [c for c in ns.status.conditions if c.type != cond.type] + [cond]
        status = msgspec.structs.replace(ns.status, conditions=conditions)
        try:
            await self.api.update_status(msgspec.structs.replace(ns, status=status))
        except (errors.Conflict, errors.NotFound):
            pass  # informational only; the next look writes it

    async def _finalize(self, ns: core.Namespace) -> None:
        spec = core.NamespaceSpec(finalizers=[f for f in ns.spec.finalizers if f != FINALIZER])
        body: Any = msgspec.structs.replace(ns, spec=spec)
        path = resource_path(self.api.resource(core.Namespace), None, ns.metadata.name, "finalize")
        try:
            await self.api.request("PUT", path, body=codec.encode(body))
        except errors.NotFound:
            return
        log.info("namespace %s: content deleted, finalized", ns.metadata.name)
