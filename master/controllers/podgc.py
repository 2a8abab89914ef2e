"""podgc: collect pods nobody else will, every ``pod_gc_period`` seconds.

One pass:

1. terminated pods (Succeeded/Failed) beyond ``--terminated-pod-gc-threshold``, oldest first
   (0 turns this off);
2. pods bound to a node that does not exist: such a pod waits ``orphaned_pod_quarantine``
   seconds (the node informer may simply be behind), then the node is asked for by name and,
   if it is really gone, the pod is force-deleted (grace 0): no kubelet will ever confirm it;
3. pods being deleted that were never scheduled: force-deleted at once;
4. pods being deleted on a node tainted ``node.kubernetes.io/out-of-service`` that is not
   ready: force-deleted (the administrator declared the node dead).
"""

from __future__ import annotations

import asyncio
import logging

from master.api import core, meta, timefmt
from master.api import helpers as api_helpers
from master.api.helpers import meta_key
from master.client import errors
from master.controllers.context import ControllerContext

__all__ = ["OUT_OF_SERVICE_TAINT", "PodGCController", "new"]

log = logging.getLogger(__name__)

NAME = "podgc"
OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service"
_KEY = "pass"


def new(ctx: ControllerContext) -> PodGCController:
    return PodGCController(ctx)


class PodGCController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.clock = ctx.clock
        self.threshold = ctx.settings.terminated_pod_gc_threshold
        self.period = ctx.settings.pod_gc_period
        self.quarantine = ctx.settings.orphaned_pod_quarantine
        self.pods = ctx.pods()
        self.nodes = ctx.nodes()
        # pod key -> when we first saw it bound to an unknown node (monotonic)
        self._orphan_since: dict[str, float] = {}
        self.loop = ctx.loop(NAME, self.sync)

    async def run(self) -> None:
        self.loop.enqueue_key(_KEY)
        await self.loop.run()

    async def sync(self, _key: str) -> float:
        pods = self.pods.cache.list()
        await self._gc_terminated(pods)
        await self._gc_orphaned(pods)
        await self._gc_unscheduled_terminating(pods)
        await self._gc_out_of_service(pods)
        return self.period

    async def _force_delete(self, pod: core.Pod, why: str) -> None:
        m = pod.metadata
        try:
            await self.api.delete(
                core.Pod, m.name, namespace=m.namespace, grace_period_seconds=0,
                preconditions=meta.Preconditions(uid=m.uid),
            )
        except (errors.NotFound, errors.Conflict):
            return
        log.info("podgc: deleted pod %s/%s (%s)", m.namespace, m.name, why)

    async def _gc_terminated(self, pods: list[core.Pod]) -> None:
        if self.threshold <= 0:
            return
        terminated = [p for p in pods if api_helpers.is_pod_terminal(p)]
        excess = len(terminated) - self.threshold
        if excess <= 0:
            return
        terminated.sort(key=lambda p: (timefmt.to_epoch_or(p.metadata.creation_timestamp), p.metadata.name))
        await self._force_delete_all(terminated[:excess], "terminated pods over the threshold")

    async def _gc_orphaned(self, pods: list[core.Pod]) -> None:
        now = self.clock.monotonic()
        seen: set[str] = set()
        suspects: list[core.Pod] = []
        for p in pods:
            node = p.spec.node_name
            if not node or self.nodes.cache.get(node) is not None:
                continue
            key = meta_key(p)
            seen.add(key)
            since = self._orphan_since.setdefault(key, now)
            if now - since >= self.quarantine:
                suspects.append(p)
        for key in list(self._orphan_since):
            if key not in seen:
                del self._orphan_since[key]
        gone: dict[str, bool] = {}
        for p in suspects:
            node = p.spec.node_name
            if node not in gone:
                try:
                    await self.api.get(core.Node, node)
                    gone[node] = False
                except errors.NotFound:
                    gone[node] = True
            if gone[node]:
                await self._force_delete(p, f"node {node} no longer exists")
                self._orphan_since.pop(meta_key(p), None)

    async def _gc_unscheduled_terminating(self, pods: list[core.Pod]) -> None:
        doomed = [p for p in pods if p.metadata.deletion_timestamp and not p.spec.node_name]
        await self._force_delete_all(doomed, "unscheduled and terminating")

    async def _gc_out_of_service(self, pods: list[core.Pod]) -> None:
        doomed = []
        for p in pods:
            if not p.metadata.deletion_timestamp or not p.spec.node_name:
                continue
            node = self.nodes.cache.get(p.spec.node_name)
            if node is None or api_helpers.is_node_ready(node):
                continue
            if any(t.key == OUT_OF_SERVICE_TAINT and t.effect in ("NoExecute", "NoSchedule") for t in node.spec.taints):
                doomed.append(p)
        await self._force_delete_all(doomed, "terminating on an out-of-service node")

    async def _force_delete_all(self, pods: list[core.Pod], why: str, batch: int = 20) -> None:
        for i in range(0, len(pods), batch):
            await asyncio.gather(*(self._force_delete(p, why) for p in pods[i:i + batch]))
