"""The scheduler: informers feed the queue and the cache; one loop schedules one pod at a time.

::

    pod informer ─┬─ unassigned pods of our profiles (spec.schedulerName) -> SchedulingQueue
                  └─ assigned pods -> SchedulerCache (+ cluster events to the queue)
    node informer ── nodes -> SchedulerCache (+ cluster events to the queue)

    loop: pop -> Framework: PreFilter, Filter, (PostFilter), PreScore, Score -> assume in
          the cache -> Reserve -> bind in a background task (DefaultBinder: pods/binding)

The cycle from pop to Reserve never yields to the event loop, so it sees one cache state;
binding runs concurrently with the next cycles. A failed bind forgets the assumed pod and
sends the pod to backoff. Pods with ``spec.nodeName`` are never queued (manual scheduling);
pods naming another scheduler are left alone. Each outcome records an Event (Scheduled, or
FailedScheduling with the summary) and, on failure, sets the pod's PodScheduled condition to
False with the same message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from typing import Any

from master.api import core, timefmt
from master.client import errors
from master.client.events import NORMAL, WARNING, EventRecorder
from master.client.informer import EventHandler, Informer, SharedInformerFactory
from master.client.rest import ApiClient
from master.scheduler import algorithm
from master.scheduler.algorithm import FitError, SchedulingError
from master.scheduler.cache import SchedulerCache
from master.scheduler.config import SchedulerConfig
from master.scheduler.framework.interface import ActionType, ClusterEvent, CycleState
from master.scheduler.framework.registry import Registry
from master.scheduler.framework.runtime import Framework
from master.scheduler.framework.types import NodeInfo, PodInfo
from master.scheduler.metrics import SchedulerMetrics
from master.scheduler.queue import QueuedPodInfo, QueueSettings, SchedulingQueue
from master.util.clock import Clock, RealClock
from master.util.tasks import cancel_and_wait

__all__ = ["POD_FIELD_SELECTOR", "Scheduler", "node_update_actions"]

log = logging.getLogger(__name__)

# Finished pods hold no resources: the scheduler never sees them.
POD_FIELD_SELECTOR = "status.phase!=Succeeded,status.phase!=Failed"

NODE_ADD = ClusterEvent("Node", ActionType.ADD, "NodeAdd")
NODE_DELETE = ClusterEvent("Node", ActionType.DELETE, "NodeDelete")
POD_ADD = ClusterEvent("Pod", ActionType.ADD, "AssignedPodAdd")
POD_DELETE = ClusterEvent("Pod", ActionType.DELETE, "AssignedPodDelete")
POD_LABEL = ClusterEvent("Pod", ActionType.UPDATE_POD_LABEL, "AssignedPodUpdate")


def node_update_actions(old: core.Node, new: core.Node) -> ActionType:
    """What changed in a node update that could matter to scheduling (heartbeats do not)."""
    actions = ActionType(0)
    if old.status.allocatable != new.status.allocatable:
        actions |= ActionType.UPDATE_NODE_ALLOCATABLE
    if old.metadata.labels != new.metadata.labels:
        actions |= ActionType.UPDATE_NODE_LABEL
    if old.spec.taints != new.spec.taints or old.spec.unschedulable != new.spec.unschedulable:
        actions |= ActionType.UPDATE_NODE_TAINT
    if [(c.type, c.status) for c in old.status.conditions] != [(c.type, c.status) for c in new.status.conditions]:
        actions |= ActionType.UPDATE_NODE_CONDITION
    return actions


class _Handle:
    """The framework Handle: the cache's view of the cluster and the API client."""

    def __init__(self, cache: SchedulerCache, api: Any) -> None:
        self._cache = cache
        self._api = api

    def node_infos(self) -> list[NodeInfo]:
        return self._cache.node_infos()

    def node_info(self, name: str) -> NodeInfo | None:
        return self._cache.node_info(name)

    def image_node_count(self, image: str) -> int:
        return self._cache.image_node_count(image)

    @property
    def api(self) -> Any:
        return self._api


class Scheduler:
    """One scheduler instance (all its profiles). ``run()`` schedules until cancelled.

    The informers come from ``informers`` (shared with the rest of the process) and may be
    started already; ``run()`` starts any that are not and waits for their first sync.
    """

    def __init__(
        self,
        api: ApiClient,
        *,
        config: SchedulerConfig | None = None,
        informers: SharedInformerFactory | None = None,
        registry: Registry | None = None,
        metrics: SchedulerMetrics | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        queue_settings: QueueSettings | None = None,
        recorders: Mapping[str, EventRecorder] | None = None,
        max_inflight_binds: int = 64,
    ) -> None:
        from master.scheduler.plugins import IN_TREE

        self.api = api
        self.config = config or SchedulerConfig()
        self.clock = clock or RealClock()
        self.rng = rng or random.Random()
        self.metrics = metrics or SchedulerMetrics()
        self.cache = SchedulerCache()
        self.handle = _Handle(self.cache, api)
        reg = registry if registry is not None else IN_TREE
        self.frameworks: dict[str, Framework] = {
            p.scheduler_name: Framework(p, reg, self.handle) for p in self.config.profiles
        }
        events: dict[str, list[ClusterEvent]] = {}
        for fwk in self.frameworks.values():
            events.update(fwk.events)
        qs = queue_settings or QueueSettings(
            initial_backoff=self.config.pod_initial_backoff, max_backoff=self.config.pod_max_backoff
        )
        self.queue = SchedulingQueue(qs, plugin_events=events, clock=self.clock)
        self.metrics.pending_source = self.queue.pending
        self.informers = informers or SharedInformerFactory(api, clock=self.clock)
        self._owns_informers = informers is None
        self.pod_informer: Informer[core.Pod] = self.informers.informer(
            core.Pod, namespace=None, field_selector=POD_FIELD_SELECTOR
        )
        self.node_informer: Informer[core.Node] = self.informers.informer(core.Node, namespace=None)
        self.recorders: dict[str, EventRecorder] = dict(recorders or {})
        for name in self.frameworks:
            self.recorders.setdefault(name, EventRecorder(api, component=name, clock=self.clock))
        self._handlers: list[tuple[Informer[Any], EventHandler[Any]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        # Bindings in flight at once: beyond this the loop waits before the next cycle, so the
        # scheduler does not assume far ahead of what the apiserver has accepted.
        self._bind_slots = asyncio.Semaphore(max_inflight_binds)
        self._next_start = 0
        self.scheduled = 0
        self.failed = 0

    # ---- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        flusher: asyncio.Task[None] | None = None
        try:
            self._handlers = [
                (self.node_informer, self.node_informer.add_event_handler(
                    on_add=self._on_node_add, on_update=self._on_node_update, on_delete=self._on_node_delete)),
                (self.pod_informer, self.pod_informer.add_event_handler(
                    on_add=self._on_pod_add, on_update=self._on_pod_update, on_delete=self._on_pod_delete)),
            ]
            self.informers.start()
            await self.informers.wait_for_cache_sync()
            log.info("scheduler: caches synced (%d nodes, %d pods), profiles %s",
                     len(self.node_informer.cache), len(self.pod_informer.cache), ", ".join(self.frameworks))
            flusher = asyncio.create_task(self.queue.run_flusher(), name="scheduler-flush-unschedulable")
            while True:
                await self._bind_slots.acquire()
                qpi = await self.queue.pop()
                if qpi is None:
                    break
                if not await self.schedule_one(qpi):
                    self._bind_slots.release()
                # The cycle itself never yields: let watch events and bindings in between cycles.
                await asyncio.sleep(0)
        finally:
            self.queue.close()
            for informer, handler in self._handlers:
                with contextlib.suppress(ValueError):
                    informer.remove_event_handler(handler)
            self._handlers = []
            tasks = [*self._tasks, *([flusher] if flusher is not None else [])]
            await cancel_and_wait(tasks, ignore_errors=True)
            for recorder in self.recorders.values():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(recorder.aclose(), 5)
            if self._owns_informers:
                await self.informers.stop()

    async def wait_idle(self) -> None:
        """Wait until no binding or status write started so far is still running (for tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ---- informer handlers (only enqueue and account; never block) -------------------------

    def _responsible(self, pod: core.Pod) -> bool:
        return pod.spec.scheduler_name in self.frameworks

    def _on_node_add(self, node: core.Node) -> None:
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff(NODE_ADD)

    def _on_node_update(self, old: core.Node, new: core.Node) -> None:
        if old is new:
            return
        self.cache.update_node(new)
        actions = node_update_actions(old, new)
        if actions:
            self.queue.move_all_to_active_or_backoff(ClusterEvent("Node", actions, "NodeUpdate"))

    def _on_node_delete(self, node: core.Node) -> None:
        self.cache.remove_node(node.metadata.name)
        self.queue.move_all_to_active_or_backoff(NODE_DELETE)

    def _on_pod_add(self, pod: core.Pod) -> None:
        if pod.spec.node_name:
            self.queue.delete(_key(pod))
            self.cache.add_pod(pod)
            self.queue.move_all_to_active_or_backoff(POD_ADD)
        elif self._responsible(pod) and not pod.metadata.deletion_timestamp:
            self.queue.add(PodInfo(pod))

    def _on_pod_update(self, old: core.Pod, new: core.Pod) -> None:
        if old is new:
            return
        key = _key(new)
        if new.spec.node_name:
            if not old.spec.node_name:
                self.queue.delete(key)
                self.cache.add_pod(new)
                self.queue.move_all_to_active_or_backoff(POD_ADD)
                return
            self.cache.update_pod(old, new)
            if old.metadata.labels != new.metadata.labels:
                self.queue.move_all_to_active_or_backoff(POD_LABEL)
        elif self._responsible(new):
            if new.metadata.deletion_timestamp:
                self.queue.delete(key)
            else:
                self.queue.update(old, PodInfo(new))

    def _on_pod_delete(self, pod: core.Pod) -> None:
        key = _key(pod)
        self.queue.delete(key)
        if self.cache.pod_node(key) is not None:
            self.cache.remove_pod(pod)
            self.queue.move_all_to_active_or_backoff(POD_DELETE)

    # ---- one cycle -------------------------------------------------------------------------

    def _still_pending(self, info: PodInfo) -> core.Pod | None:
        """The informer's current version of the pod, if it still wants scheduling."""
        latest = self.pod_informer.cache.get(info.key)
        if (
            latest is None
            or latest.metadata.uid != info.uid
            or latest.spec.node_name
            or latest.metadata.deletion_timestamp
        ):
            return None
        return latest

    async def schedule_one(self, qpi: QueuedPodInfo) -> bool:
        """One scheduling cycle; True when it ends in a binding (running in the background)."""
        info = qpi.info
        key = info.key
        fwk = self.frameworks.get(info.pod.spec.scheduler_name)
        if fwk is None or self._still_pending(info) is None or self.cache.pod_node(key) is not None:
            self.queue.done(key)
            return False
        started = self.clock.monotonic()
        state = CycleState()
        nodes = self.cache.node_infos()
        pct = fwk.percentage_of_nodes_to_score
        try:
            result, processed = algorithm.schedule_pod(
                fwk, state, info, nodes, start=self._next_start,
                percentage=self.config.percentage_of_nodes_to_score if pct is None else pct, rng=self.rng,
            )
        except SchedulingError as exc:
            self._failed(fwk, qpi, started, error=str(exc))
            return False
        except Exception as exc:  # a plugin bug must not stop the scheduler
            log.exception("scheduler: cycle for %s failed", key)
            self._failed(fwk, qpi, started, error=f"{type(exc).__name__}: {exc}")
            return False
        self.metrics.algorithm_duration.observe(self.clock.monotonic() - started)
        if nodes:
            self._next_start = (self._next_start + processed) % len(nodes)
        if isinstance(result, FitError):
            if fwk.post_filter_plugins:
                _, st = await fwk.run_post_filter(state, info, result.diagnosis.node_statuses)
                if st is not None and st.reasons:
                    result.diagnosis.post_filter_message = st.message + "."
            self._failed(fwk, qpi, started, fit_error=result)
            return False
        node = result.node
        self.cache.assume(info, node)
        st = fwk.run_reserve(state, info, node)
        if st is not None:
            fwk.run_unreserve(state, info, node)
            self.cache.forget(key, info.uid)
            self._failed(fwk, qpi, started, error=f"reserve: {st.message}")
            return False
        self.queue.done(key)
        task = self._spawn(self._bind(fwk, state, qpi, node, started), f"bind {key}")
        task.add_done_callback(lambda _t: self._bind_slots.release())
        return True

    async def _bind(self, fwk: Framework, state: CycleState, qpi: QueuedPodInfo, node: str, started: float) -> None:
        info = qpi.info
        try:
            st = await fwk.run_bind(state, info, node)
        except Exception as exc:
            log.exception("scheduler: binding %s failed", info.key)
            st = None
            error: str | None = f"{type(exc).__name__}: {exc}"
        else:
            error = None if st is None else st.message
        if error is None:
            self.cache.finish_binding(info.key)
            now = self.clock.monotonic()
            self.scheduled += 1
            self.metrics.attempts.labels("scheduled", fwk.profile_name).inc()
            self.metrics.attempt_duration.labels("scheduled", fwk.profile_name).observe(now - started)
            self.metrics.sli_duration.labels(str(min(qpi.attempts, 15))).observe(now - qpi.added)
            self.recorders[fwk.profile_name].event(
                info.pod, NORMAL, "Scheduled", f"Successfully assigned {info.key} to {node}"
            )
            return
        fwk.run_unreserve(state, info, node)
        self.cache.forget(info.key, info.uid)
        self._failed(fwk, qpi, started, error=error, in_flight=False)

    def _failed(
        self,
        fwk: Framework,
        qpi: QueuedPodInfo,
        started: float,
        *,
        fit_error: FitError | None = None,
        error: str | None = None,
        in_flight: bool = True,
    ) -> None:
        result = "unschedulable" if fit_error is not None else "error"
        self.failed += 1
        self.metrics.attempts.labels(result, fwk.profile_name).inc()
        self.metrics.attempt_duration.labels(result, fwk.profile_name).observe(self.clock.monotonic() - started)
        message = fit_error.message() if fit_error is not None else (error or "unknown error")
        qpi.unschedulable_plugins = (
            frozenset(fit_error.diagnosis.unschedulable_plugins) if fit_error is not None else frozenset()
        )
        latest = self._still_pending(qpi.info)
        if latest is None:
            self.queue.done(qpi.key)
        else:
            if latest is not qpi.info.pod:
                qpi.info = PodInfo(latest)
            if not in_flight:
                # A failed bind: the attempt is long over; count it as a fresh one for the queue.
                qpi.cycle = self.queue.scheduling_cycle
            self.queue.add_unschedulable_if_not_present(qpi, error=fit_error is None)
        pod = latest or qpi.info.pod
        log.info("scheduler: %s: %s", qpi.key, message)
        self.recorders[fwk.profile_name].event(pod, WARNING, "FailedScheduling", message)
        if latest is not None:
            reason = "Unschedulable" if fit_error is not None else "SchedulerError"
            self._spawn(self._set_unschedulable(latest, reason, message), f"status {qpi.key}")

    async def _set_unschedulable(self, pod: core.Pod, reason: str, message: str) -> None:
        for c in pod.status.conditions:
            if c.type == "PodScheduled" and c.status == "False" and c.reason == reason and c.message == message:
                return
        now = timefmt.format_time(self.clock.time())
        patch = {"status": {"conditions": [{
            "type": "PodScheduled", "status": "False", "reason": reason, "message": message,
            "lastTransitionTime": now, "lastProbeTime": None,
        }]}}
        try:
            await self.api.patch(
                core.Pod, pod.metadata.name, patch, namespace=pod.metadata.namespace,
                subresource="status", patch_type="strategic",
            )
        except errors.NotFound:
            pass
        except errors.ClientError as exc:
            log.warning("scheduler: could not update the status of %s: %s", _key(pod), exc)

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _key(pod: core.Pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"
