"""The node lifecycle controller: node health, condition and NoExecute taints, zone disruption.

Every ``--node-monitor-period`` (``monitor_pass``):

1. each node's health is observed (``health``); after the grace period without a sign of
   life its Ready (and pressure) conditions become Unknown, "Kubelet stopped posting node
   status.", and its pods are marked not ready (so Services drop them);
2. a node whose Ready is Unknown should carry ``node.kubernetes.io/unreachable:NoExecute``,
   one with Ready False ``node.kubernetes.io/not-ready:NoExecute``: swapping one for the other
   happens at once, adding one waits in its zone's rate-limited queue (``zones``); a Ready
   node loses both;
3. zone states are recomputed and the queues' rates set from them.

Every 100 ms the zone queues hand out the nodes their rate allows, which get their taint.
Independently, a work queue of node names keeps the NoSchedule taints in step with the
conditions (not-ready, unreachable, memory/disk/pid pressure, network-unavailable) and with
``spec.unschedulable``. Pods are evicted by ``eviction.TaintEviction`` once their
toleration of the NoExecute taints runs out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import msgspec

from master.api import codec, coordination, core, timefmt
from master.api import helpers as api_helpers
from master.client import errors
from master.controllers import taints as taint_util
from master.controllers.context import ControllerContext, pods_by_node
from master.controllers.nodelifecycle import health as health_util
from master.controllers.nodelifecycle.eviction import TaintEviction
from master.controllers.nodelifecycle.zones import (
    RateLimitedQueue,
    TokenBucket,
    ZoneState,
    zone_of,
    zone_state,
)
from master.util.tasks import cancel_and_wait

__all__ = ["NodeLifecycleController", "desired_no_schedule", "new"]

log = logging.getLogger(__name__)

NAME = "nodelifecycle"
NODE_LEASE_NAMESPACE = "kube-node-lease"
# How often the zone queues are served (upstream's NodeEvictionPeriod).
EVICTION_PASS_PERIOD = 0.1

# Condition (type, status) -> the NoSchedule taint it means.
_CONDITION_TAINTS = {
    ("Ready", "False"): taint_util.NOT_READY,
    ("Ready", "Unknown"): taint_util.UNREACHABLE,
    ("MemoryPressure", "True"): taint_util.MEMORY_PRESSURE,
    ("DiskPressure", "True"): taint_util.DISK_PRESSURE,
    ("PIDPressure", "True"): taint_util.PID_PRESSURE,
    ("NetworkUnavailable", "True"): taint_util.NETWORK_UNAVAILABLE,
}
_MANAGED_NO_SCHEDULE = frozenset({*_CONDITION_TAINTS.values(), taint_util.UNSCHEDULABLE})
_NO_EXECUTE_KEYS = (taint_util.NOT_READY, taint_util.UNREACHABLE)


def new(ctx: ControllerContext) -> NodeLifecycleController:
    return NodeLifecycleController(ctx)


def desired_no_schedule(node: core.Node) -> set[str]:
    """The controller-managed NoSchedule taint keys the node should carry."""
    keys = {_CONDITION_TAINTS[(c.type, c.status)] for c in node.status.conditions if (c.type, c.status) in _CONDITION_TAINTS}
    if node.spec.unschedulable:
        keys.add(taint_util.UNSCHEDULABLE)
    return keys


class NodeLifecycleController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        s = ctx.settings
        self.ctx = ctx
        self.api = ctx.api
        self.clock = ctx.clock
        self.settings = s
        self.metrics = ctx.metrics
        self.nodes = ctx.nodes()
        self.leases = ctx.informers.informer(coordination.Lease, namespace=NODE_LEASE_NAMESPACE)
        self.pods = ctx.pods()
        self.eviction = TaintEviction(ctx)
        self.health: dict[str, health_util.NodeHealth] = {}
        self.zone_states: dict[str, ZoneState] = {}
        self.zone_queues: dict[str, RateLimitedQueue] = {}
        self.all_disrupted = False
        self.loop = ctx.loop(NAME, self.sync_no_schedule)
        self.nodes.add_event_handler(
            on_add=self.loop.enqueue, on_update=self._node_updated, on_delete=self._node_deleted
        )

    def _node_updated(self, old: core.Node, new: core.Node) -> None:
        if (old is new or old.spec.unschedulable != new.spec.unschedulable or old.spec.taints != new.spec.taints
                or [(c.type, c.status) for c in old.status.conditions]
                != [(c.type, c.status) for c in new.status.conditions]):
            self.loop.enqueue(new)

    def _node_deleted(self, node: core.Node) -> None:
        name = node.metadata.name
        self.health.pop(name, None)
        for q in self.zone_queues.values():
            q.remove(name)

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(self.loop.run(), name="nodelifecycle-noschedule"),
            asyncio.create_task(self.eviction.run(), name="nodelifecycle-eviction"),
            asyncio.create_task(self._every(self.settings.node_monitor_period, self.monitor_pass), name="node-monitor"),
            asyncio.create_task(self._every(EVICTION_PASS_PERIOD, self.tainting_pass), name="node-tainting"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in tasks:
                if t.done() and not t.cancelled() and t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
        finally:
            await cancel_and_wait(tasks)

    async def _every(self, period: float, fn: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await fn()
            except asyncio.CancelledError:
                raise
            except errors.ClientError as exc:
                log.warning("nodelifecycle: %s", exc)
            except Exception:
                log.exception("nodelifecycle: pass failed")
            await self.clock.sleep(period)

    # ---- monitor -------------------------------------------------------------------------

    def _queue(self, zone: str) -> RateLimitedQueue:
        q = self.zone_queues.get(zone)
        if q is None:
            q = RateLimitedQueue(TokenBucket(self.settings.node_eviction_rate, self.clock))
            self.zone_queues[zone] = q
        return q

    async def monitor_pass(self) -> None:
        now = self.clock.monotonic()
        stamp = timefmt.format_time(self.clock.time())
        nodes = self.nodes.cache.list()
        live = {n.metadata.name for n in nodes}
        for name in list(self.health):
            if name not in live:
                del self.health[name]
        zones: dict[str, list[bool]] = {}
        for node in nodes:
            node = await self._update_health(node, now, stamp)
            ready = api_helpers.get_node_condition(node, "Ready")
            zones.setdefault(zone_of(node), []).append(ready is not None and ready.status == "True")
            if ready is None:
                continue  # never posted status, still within the startup grace period
            await self._handle_no_execute(node, ready.status)
            await self._handle_pods_ready(node, ready.status, stamp)
        self._handle_disruption(zones)

    async def _update_health(self, node: core.Node, now: float, stamp: str) -> core.Node:
        name = node.metadata.name
        lease = self.leases.cache.get(f"{NODE_LEASE_NAMESPACE}/{name}")
        h = health_util.observe(self.health.get(name), node, lease, now)
        self.health[name] = h
        posted = api_helpers.get_node_condition(node, "Ready") is not None
        grace = self.settings.node_monitor_grace_period if posted else self.settings.node_startup_grace_period
        if now <= h.probe_at + grace:
            return node
        changed = health_util.unknown_conditions(node, stamp)
        if changed is None:
            return node
        log.info("nodelifecycle: node %s: no heartbeat for %.0fs; conditions Unknown", name, now - h.probe_at)
        patch = {"metadata": {"uid": node.metadata.uid},
                 "status": {"conditions": [codec.to_builtins(c) for c in changed]}}
        try:
            return await self.api.patch(core.Node, name, patch, patch_type="strategic", subresource="status")
        except errors.NotFound:
            return node

    async def _handle_no_execute(self, node: core.Node, status: str) -> None:
        name = node.metadata.name
        zone = zone_of(node)
        if status == "True":
            self._queue(zone).remove(name)
            await self._swap(node, add=None, remove=_NO_EXECUTE_KEYS)
            return
        if self.all_disrupted:
            return
        want = taint_util.UNREACHABLE if status == "Unknown" else taint_util.NOT_READY
        other = taint_util.NOT_READY if want == taint_util.UNREACHABLE else taint_util.UNREACHABLE
        keys = {t.key for t in node.spec.taints if t.effect == taint_util.NO_EXECUTE}
        if want in keys and other not in keys:
            self._queue(zone).remove(name)
            return
        if other in keys:
            # Already tainted (rate limit paid): switch the kind without waiting.
            self._queue(zone).remove(name)
            await self._swap(node, add=want, remove=(other,))
            return
        self._queue(zone).add(name)

    async def _handle_pods_ready(self, node: core.Node, status: str, stamp: str) -> None:
        h = self.health[node.metadata.name]
        if status == "True":
            h.pods_marked = False
            return
        if h.pods_marked:
            return
        patch = {"status": {"conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": stamp}]}}
        failed = False
        for pod in pods_by_node(self.pods, node.metadata.name):
            if not api_helpers.is_pod_ready(pod) or pod.status.phase in ("Succeeded", "Failed"):
                continue
            try:
                await self.api.patch(core.Pod, pod.metadata.name, patch, namespace=pod.metadata.namespace,
                                     patch_type="strategic", subresource="status")
            except errors.NotFound:
                continue
            except errors.ClientError as exc:
                log.warning("nodelifecycle: marking pod %s not ready: %s", pod.metadata.name, exc)
                failed = True
        h.pods_marked = not failed

    def _handle_disruption(self, zones: dict[str, list[bool]]) -> None:
        s = self.settings
        states: dict[str, tuple[ZoneState, int]] = {}
        for zone, flags in zones.items():
            state, n_ready, _ = zone_state(flags, s.unhealthy_zone_threshold)
            states[zone] = (state, len(flags))
            self.metrics.zone_size.labels(zone).set(len(flags))
            self.metrics.zone_health.labels(zone).set(100.0 * n_ready / len(flags) if flags else 100.0)
        all_full = bool(states) and all(st == ZoneState.FULL for st, _ in states.values())
        if all_full and not self.all_disrupted:
            log.warning("nodelifecycle: every node is not ready; assuming the master is cut off: no tainting")
            for q in self.zone_queues.values():
                q.clear()
                q.bucket.set_rate(0.0)
        elif self.all_disrupted and not all_full:
            log.info("nodelifecycle: some nodes are ready again; tainting resumes")
        self.all_disrupted = all_full
        if all_full:
            self.zone_states = {z: st for z, (st, _) in states.items()}
            return
        for zone, (state, size) in states.items():
            self._queue(zone).bucket.set_rate(self._rate(state, size))
            if self.zone_states.get(zone) != state:
                log.info("nodelifecycle: zone %r is %s", zone, state.value)
        self.zone_states = {z: st for z, (st, _) in states.items()}

    def _rate(self, state: ZoneState, size: int) -> float:
        s = self.settings
        if state == ZoneState.PARTIAL:
            return s.secondary_node_eviction_rate if size > s.large_cluster_size_threshold else 0.0
        return s.node_eviction_rate

    async def tainting_pass(self) -> None:
        for queue in list(self.zone_queues.values()):
            for name in queue.take():
                node = self.nodes.cache.get(name)
                if node is None:
                    continue
                ready = api_helpers.get_node_condition(node, "Ready")
                status = ready.status if ready is not None else "Unknown"
                if status == "True":
                    continue
                want = taint_util.UNREACHABLE if status == "Unknown" else taint_util.NOT_READY
                other = taint_util.NOT_READY if want == taint_util.UNREACHABLE else taint_util.UNREACHABLE
                try:
                    await self._swap(node, add=want, remove=(other,))
                except errors.ClientError as exc:
                    log.warning("nodelifecycle: tainting node %s: %s", name, exc)
                    queue.add(name)

    async def _swap(self, node: core.Node, *, add: str | None, remove: tuple[str, ...]) -> None:
        """Add the NoExecute taint ``add`` and remove NoExecute ``remove`` (re-reading on conflicts)."""
        stamp = timefmt.format_time(self.clock.time())
        new = [core.Taint(key=add, effect=taint_util.NO_EXECUTE, time_added=stamp)] if add else []
        drop = [(k, taint_util.NO_EXECUTE) for k in remove]
        current = node
        for _ in range(3):
            taints = taint_util.with_taints(current.spec.taints, add=new, remove=drop)
            if taints is None:
                return
            try:
                await self.api.update(msgspec.structs.replace(
                    current, spec=msgspec.structs.replace(current.spec, taints=taints)
                ))
                if add:
                    log.info("nodelifecycle: node %s tainted %s:NoExecute", node.metadata.name, add)
                return
            except errors.Conflict:
                current = await self.api.get(core.Node, node.metadata.name)
            except errors.NotFound:
                return

    # ---- NoSchedule taints (work queue) ----------------------------------------------------

    async def sync_no_schedule(self, name: str) -> None:
        node = self.nodes.cache.get(name)
        if node is None:
            return
        want = desired_no_schedule(node)
        have = {t.key for t in node.spec.taints if t.effect == taint_util.NO_SCHEDULE and t.key in _MANAGED_NO_SCHEDULE}
        if want == have:
            return
        add = [core.Taint(key=k, effect=taint_util.NO_SCHEDULE) for k in sorted(want - have)]
        remove = [(k, taint_util.NO_SCHEDULE) for k in have - want]
        taints = taint_util.with_taints(node.spec.taints, add=add, remove=remove)
        if taints is None:
            return
        await self.api.update(msgspec.structs.replace(node, spec=msgspec.structs.replace(node.spec, taints=taints)))
