"""The garbage collector: delete objects whose owners are gone; foreground and orphan deletion.

It watches every resource that can own or be owned (all served resources but events and
namespaces) into the ownership ``graph``, and works two queues of uids:

attempt to delete (``sync_delete``)
    - a virtual owner: ask the API; if it does not exist, its dependents are looked at;
    - an object in foreground deletion: while dependents with blockOwnerDeletion exist, make
      sure they are being deleted; once none is left, remove the foregroundDeletion finalizer
      (the apiserver then removes the object);
    - a dependent: its ownerReferences are read from the API and sorted into *solid* (owner
      exists), *dangling* (owner gone, or a namesake with another uid) and *waiting* (owner in
      foreground deletion). With a solid owner, dangling and waiting references are removed
      from it; with none, it is deleted: in the foreground if an owner waits for it and it has
      dependents of its own, else by its own finalizers (orphan, foreground) or in the
      background.

attempt to orphan (``sync_orphan``)
    an owner deleted with propagationPolicy Orphan: remove its ownerReference from every
    dependent, then the orphan finalizer from it.

The apiserver records propagationPolicy as finalizers on DELETE (Foreground ->
foregroundDeletion, Orphan -> orphan); Background (the default) deletes the owner at once and
leaves the dependents to this collector.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from master.api import meta, registry
from master.client import errors
from master.client.informer import Informer
from master.controllers.context import ControllerContext
from master.controllers.garbagecollector.graph import FOREGROUND, ORPHAN, Graph, GraphNode, Identity, Work
from master.util.tasks import cancel_and_wait

__all__ = ["IGNORED_RESOURCES", "GarbageCollector", "new"]

log = logging.getLogger(__name__)

NAME = "garbagecollector"
DELETE_QUEUE = "garbage_collector_attempt_to_delete"
ORPHAN_QUEUE = "garbage_collector_attempt_to_orphan"
# Never owners nor owned in practice, and (events) numerous.
IGNORED_RESOURCES = frozenset({"events", "namespaces"})


def new(ctx: ControllerContext) -> GarbageCollector:
    return GarbageCollector(ctx)


class GarbageCollector:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.resources = ctx.resources
        self.graph = Graph()
        self.namespaced = {(r.api_version, r.kind): r.namespaced for r in ctx.resources.all()}
        self._unknown_kinds: set[tuple[str, str]] = set()
        self.monitors: list[Informer[Any]] = []
        workers = ctx.settings.concurrent_gc_syncs
        self.delete_loop = ctx.loop(DELETE_QUEUE, self.sync_delete, workers=workers)
        self.orphan_loop = ctx.loop(ORPHAN_QUEUE, self.sync_orphan, workers=max(1, workers // 4))
        for res in ctx.resources.all():
            if res.plural in IGNORED_RESOURCES or not {"list", "watch", "delete"} <= set(res.verbs):
                continue
            inf = ctx.informers.informer(res.type)
            inf.add_event_handler(on_add=self._upsert, on_update=self._updated, on_delete=self._removed)
            self.monitors.append(inf)

    async def run(self) -> None:
        tasks = [asyncio.create_task(self.delete_loop.run()), asyncio.create_task(self.orphan_loop.run())]
        try:
            await asyncio.wait(tasks)
        finally:
            await cancel_and_wait(tasks)

    # ---- graph builder (informer handlers) --------------------------------------------------

    def _schedule(self, work: Work) -> None:
        for uid in work.delete:
            self.delete_loop.enqueue_key(uid)
        for uid in work.orphan:
            self.orphan_loop.enqueue_key(uid)

    def _upsert(self, obj: meta.Object) -> None:
        self._schedule(self.graph.upsert(obj, self.namespaced))

    def _updated(self, old: meta.Object, new: meta.Object) -> None:
        if old is not new and old.metadata.resource_version == new.metadata.resource_version:
            return
        self._upsert(new)

    def _removed(self, obj: meta.Object) -> None:
        node = self.graph.get(obj.metadata.uid)
        if node is not None and node.identity.kind != obj.kind:
            return
        self._schedule(self.graph.remove(obj.metadata.uid))

    # ---- API helpers -----------------------------------------------------------------------

    def _resource(self, api_version: str, kind: str) -> registry.Resource | None:
        res = self.resources.by_kind(api_version, kind)
        if res is None and (api_version, kind) not in self._unknown_kinds:
            self._unknown_kinds.add((api_version, kind))
            log.warning("garbagecollector: %s %s is not a resource we serve; its dependents are kept", api_version, kind)
        return res

    async def _get(self, ident: Identity) -> meta.Object | None:
        """The live object, None when it is gone (or replaced by a namesake)."""
        res = self._resource(ident.api_version, ident.kind)
        if res is None:
            raise _UnknownKind(ident)
        try:
            obj = await self.api.get(res.type, ident.name, namespace=ident.namespace if res.namespaced else None)
        except errors.NotFound:
            return None
        return obj if obj.metadata.uid == ident.uid else None

    async def _delete(self, ident: Identity, policy: str) -> None:
        res = self._resource(ident.api_version, ident.kind)
        if res is None:
            return
        log.info("garbagecollector: deleting %s (propagation %s)", ident, policy)
        with contextlib.suppress(errors.NotFound, errors.Conflict):
            await self.api.delete(
                res.type, ident.name, namespace=ident.namespace or None, propagation_policy=policy,
                preconditions=meta.Preconditions(uid=ident.uid),
            )

    async def _patch_meta(self, ident: Identity, patch: dict[str, Any]) -> None:
        res = self._resource(ident.api_version, ident.kind)
        if res is None:
            return
        body = {"metadata": {**patch, "uid": ident.uid}}
        with contextlib.suppress(errors.NotFound, errors.Invalid):
            await self.api.patch(res.type, ident.name, body, namespace=ident.namespace or None,
                                 patch_type="strategic")

    async def _remove_owner_refs(self, ident: Identity, uids: set[str]) -> None:
        await self._patch_meta(ident, {"ownerReferences": [{"$patch": "delete", "uid": u} for u in sorted(uids)]})

    async def _remove_finalizer(self, ident: Identity, finalizer: str) -> None:
        await self._patch_meta(ident, {"$deleteFromPrimitiveList/finalizers": [finalizer]})

    # ---- attempt to delete -----------------------------------------------------------------

    async def sync_delete(self, uid: str) -> None:
        node = self.graph.get(uid)
        if node is None:
            return
        try:
            if node.virtual:
                await self._verify_virtual(node)
                return
            latest = await self._get(node.identity)
        except _UnknownKind:
            return
        if latest is None:
            self._schedule(self.graph.remove(uid))
            return
        m = latest.metadata
        if m.deletion_timestamp:
            if FOREGROUND in m.finalizers:
                await self._deleting_dependents(node, latest)
            return
        if not m.owner_references:
            return
        solid, dangling, waiting = await self._classify(latest)
        if solid:
            if dangling or waiting:
                log.info("garbagecollector: %s: removing references to gone or foreground-deleted owners",
                         node.identity)
                await self._remove_owner_refs(node.identity, dangling | waiting)
            return
        if waiting and node.dependents:
            policy = "Foreground"
        elif ORPHAN in m.finalizers:
            policy = "Orphan"
        elif FOREGROUND in m.finalizers:
            policy = "Foreground"
        else:
            policy = "Background"
        await self._delete(node.identity, policy)

    async def _verify_virtual(self, node: GraphNode) -> None:
        if await self._get(node.identity) is not None:
            return  # it exists; its informer (if we watch its kind) will make it real
        self._schedule(self.graph.remove(node.identity.uid))

    async def _classify(self, obj: meta.Object) -> tuple[set[str], set[str], set[str]]:
        solid: set[str] = set()
        dangling: set[str] = set()
        waiting: set[str] = set()
        for ref in obj.metadata.owner_references:
            owner = self.graph.get(ref.uid)
            if owner is not None and not owner.virtual:
                (waiting if owner.deleting_dependents else solid).add(ref.uid)
                continue
            if ref.uid in self.graph.absent:
                dangling.add(ref.uid)
                continue
            namespaced = self.namespaced.get((ref.api_version, ref.kind), True)
            ident = Identity(ref.api_version, ref.kind, obj.metadata.namespace if namespaced else "", ref.name, ref.uid)
            try:
                live = await self._get(ident)
            except _UnknownKind:
                solid.add(ref.uid)  # we cannot tell: keep the dependent
                continue
            if live is None:
                self.graph.mark_absent(ref.uid)
                dangling.add(ref.uid)
            elif live.metadata.deletion_timestamp and FOREGROUND in live.metadata.finalizers:
                waiting.add(ref.uid)
            else:
                solid.add(ref.uid)
        return solid, dangling, waiting

    async def _deleting_dependents(self, node: GraphNode, latest: meta.Object) -> None:
        blocking = self.graph.blocking_dependents(node.identity.uid)
        if not blocking:
            log.info("garbagecollector: %s: dependents gone; removing the %s finalizer", node.identity, FOREGROUND)
            await self._remove_finalizer(node.identity, FOREGROUND)
            return
        for dep in blocking:
            if not dep.deleting:
                self.delete_loop.enqueue_key(dep.identity.uid)

    # ---- attempt to orphan -----------------------------------------------------------------

    async def sync_orphan(self, uid: str) -> None:
        node = self.graph.get(uid)
        if node is None or node.virtual:
            return
        try:
            latest = await self._get(node.identity)
        except _UnknownKind:
            return
        if latest is None or ORPHAN not in latest.metadata.finalizers:
            return
        await asyncio.gather(*(
            self._remove_owner_refs(dep.identity, {uid})
            for dep in (self.graph.get(d) for d in list(node.dependents)) if dep is not None
        ))
        log.info("garbagecollector: %s: dependents orphaned; removing the %s finalizer", node.identity, ORPHAN)
        await self._remove_finalizer(node.identity, ORPHAN)


class _UnknownKind(Exception):
    def __init__(self, ident: Identity) -> None:
        super().__init__(f"unknown kind {ident.api_version} {ident.kind}")
