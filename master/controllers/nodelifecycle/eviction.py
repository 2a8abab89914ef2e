"""Taint-based eviction: pods on a node with NoExecute taints they do not tolerate are deleted.

``sync("ns/pod")`` (a work queue of pod keys, fed by node taint changes and pod changes):

- no NoExecute taint on the pod's node: nothing (a pending eviction is forgotten);
- a NoExecute taint the pod does not tolerate: delete the pod now;
- all tolerated: the smallest ``tolerationSeconds`` of the tolerations used (none: forever)
  counts from when the taint was added (its ``timeAdded``, else when we first saw it); the
  pod is deleted once that has passed, and looked at again then.

The DefaultTolerationSeconds admission gives every pod 300 s for not-ready and unreachable,
so a failed node's pods go after five minutes; DaemonSet pods tolerate both forever. The
node lifecycle controller rate-limits the tainting, which is what keeps a partition of many
nodes from emptying the cluster.
"""

from __future__ import annotations

import logging

from master.api import core, scheduling, timefmt
from master.api.helpers import meta_key
from master.client import errors
from master.client.events import NORMAL
from master.controllers import taints as taint_util
from master.controllers.context import ControllerContext, pods_by_node
from master.controllers.nodelifecycle.zones import zone_of

__all__ = ["TaintEviction", "eviction_delay"]

log = logging.getLogger(__name__)

NAME = "taint-eviction"


def eviction_delay(pod: core.Pod, no_execute: list[core.Taint]) -> float | None:
    """0 to evict now, seconds of toleration left from the taint, or None to keep the pod."""
    if not no_execute:
        return None
    tolerations = pod.spec.tolerations
    if taint_util.untolerated(tolerations, no_execute):
        return 0.0
    used = [t for t in tolerations if any(scheduling.tolerates(t, taint) for taint in no_execute)]
    seconds = [t.toleration_seconds for t in used if t.toleration_seconds is not None]
    if not seconds:
        return None
    return float(max(min(seconds), 0))


class TaintEviction:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.metrics = ctx.metrics
        self.pods = ctx.pods()
        self.nodes = ctx.nodes()
        # pod key -> wall time (clock.time) we first saw it on a NoExecute-tainted node
        self._first_seen: dict[str, float] = {}
        self.loop = ctx.loop(NAME, self.sync, workers=4)
        self.nodes.add_event_handler(on_add=self._node, on_update=self._node_updated)
        self.pods.add_event_handler(on_add=self._pod, on_update=self._pod_updated, on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.loop.run()

    def _node(self, node: core.Node) -> None:
        if any(t.effect == taint_util.NO_EXECUTE for t in node.spec.taints):
            for pod in pods_by_node(self.pods, node.metadata.name):
                self.loop.enqueue(pod)

    def _node_updated(self, old: core.Node, new: core.Node) -> None:
        if old is new or _no_execute(old) != _no_execute(new):
            for pod in pods_by_node(self.pods, new.metadata.name):
                self.loop.enqueue(pod)

    def _pod(self, pod: core.Pod) -> None:
        if pod.spec.node_name:
            self.loop.enqueue(pod)

    def _pod_updated(self, old: core.Pod, new: core.Pod) -> None:
        if new.spec.node_name and (
            old is new or old.spec.node_name != new.spec.node_name or old.spec.tolerations != new.spec.tolerations
        ):
            self.loop.enqueue(new)

    def _pod_deleted(self, pod: core.Pod) -> None:
        self._first_seen.pop(meta_key(pod), None)

    async def sync(self, key: str) -> float | None:
        pod = self.pods.cache.get(key)
        if pod is None or not pod.spec.node_name or pod.metadata.deletion_timestamp or pod.status.phase in (
            "Succeeded", "Failed"
        ):
            self._first_seen.pop(key, None)
            return None
        node = self.nodes.cache.get(pod.spec.node_name)
        no_execute = _no_execute(node) if node is not None else []
        delay = eviction_delay(pod, no_execute)
        if delay is None:
            self._first_seen.pop(key, None)
            return None
        now = self.clock.time()
        start = self._first_seen.setdefault(key, now)
        added = [timefmt.to_epoch_or(t.time_added) for t in no_execute if t.time_added]
        if added:
            start = min(start, max(added))
        remaining = start + delay - now
        if remaining > 0:
            return remaining
        assert node is not None
        await self._evict(pod, node)
        self._first_seen.pop(key, None)
        return None

    async def _evict(self, pod: core.Pod, node: core.Node) -> None:
        m = pod.metadata
        self.recorder.event(pod, NORMAL, "TaintManagerEviction", f"Marking for deletion Pod {m.namespace}/{m.name}")
        try:
            await self.api.delete(core.Pod, m.name, namespace=m.namespace)
        except errors.NotFound:
            return
        self.metrics.evictions.labels(zone_of(node)).inc()
        log.info("taint eviction: deleted pod %s/%s from node %s", m.namespace, m.name, node.metadata.name)


def _no_execute(node: core.Node) -> list[core.Taint]:
    return [t for t in node.spec.taints if t.effect == taint_util.NO_EXECUTE]
