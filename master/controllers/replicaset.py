"""The ReplicaSet controller: keep ``spec.replicas`` active pods matching the selector.

``sync("ns/name")``, level based:

1. active pods (not terminal, not being deleted) in the namespace are claimed: owned ones that
   match are kept, owned ones that no longer match are released, matching orphans adopted;
2. unless creations or deletions of an earlier sync are still unobserved (expectations), the
   difference is closed: missing pods are created in slow-start batches (1, 2, 4 ...; at most
   500 per sync), surplus pods deleted, the least valuable first (``deletion_rank``);
3. status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
   observedGeneration, a ReplicaFailure condition while creates or deletes fail) is written
   when it changed. With ``minReadySeconds`` the key is looked at again once ready pods
   should have become available.
"""

from __future__ import annotations

import logging
from typing import Any

from master.api import apps, core, labels, timefmt
from master.api import helpers as api_helpers
from master.api.helpers import meta_key
from master.client import errors
from master.client.cache import NAMESPACE_INDEX
from master.controllers import claims
from master.controllers.context import ControllerContext, pods_by_controller
from master.controllers.expectations import Expectations
from master.controllers.podcontrol import PodControl, pod_from_template
from master.controllers.util import SelectorCache, update_status

__all__ = ["BURST_REPLICAS", "ReplicaSetController", "deletion_rank", "new"]

log = logging.getLogger(__name__)

NAME = "replicaset"
# At most this many creations or deletions per sync (upstream's burstReplicas).
BURST_REPLICAS = 500

_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def new(ctx: ControllerContext) -> ReplicaSetController:
    return ReplicaSetController(ctx)


class ReplicaSetController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.api = ctx.api
        self.clock = ctx.clock
        self.replicasets = ctx.indexed(apps.ReplicaSet)
        self.pods = ctx.pods()
        self.expectations = Expectations(ctx.clock)
        self.selectors = SelectorCache()
        self.pod_control = PodControl(ctx.api, ctx.recorder)
        self.loop = ctx.loop(NAME, self.sync, workers=ctx.settings.concurrent_replicaset_syncs)
        self.replicasets.add_event_handler(
            on_add=self.loop.enqueue,
            on_update=lambda _old, new: self.loop.enqueue(new),
            on_delete=self._rs_deleted,
        )
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.loop.run()

    # ---- handlers: only bookkeeping of expectations and enqueueing ---------------------------

    def _rs_deleted(self, rs: apps.ReplicaSet) -> None:
        key = meta_key(rs)
        self.expectations.forget(key)
        self.selectors.forget(rs.metadata.uid)
        self.loop.enqueue_key(key)

    def _owner_of(self, pod: core.Pod) -> apps.ReplicaSet | None:
        ref = api_helpers.controller_ref(pod)
        if ref is None or ref.kind != "ReplicaSet":
            return None
        rs = self.replicasets.cache.get_by_name(ref.name, pod.metadata.namespace)
        if rs is None or rs.metadata.uid != ref.uid:
            return None
        return rs

    def _matching(self, pod: core.Pod) -> list[apps.ReplicaSet]:
        out = []
        for rs in self.replicasets.cache.by_index(NAMESPACE_INDEX, pod.metadata.namespace):
            if self.selectors.of(rs).matches(pod.metadata.labels):
                out.append(rs)
        return out

    def _pod_added(self, pod: core.Pod) -> None:
        if pod.metadata.deletion_timestamp:
            self._pod_deleted(pod)
            return
        rs = self._owner_of(pod)
        if rs is not None:
            key = meta_key(rs)
            self.expectations.creation_observed(key)
            self.loop.enqueue_key(key)
            return
        if api_helpers.controller_ref(pod) is None:
            for rs in self._matching(pod):
                self.loop.enqueue(rs)

    def _pod_updated(self, old: core.Pod, new: core.Pod) -> None:
        if old is not new and old.metadata.resource_version == new.metadata.resource_version:
            return
        if new.metadata.deletion_timestamp:
            self._pod_deleted(new)
            if old.metadata.labels != new.metadata.labels:
                self._pod_deleted(old)
            return
        old_ref, new_ref = api_helpers.controller_ref(old), api_helpers.controller_ref(new)
        if old_ref is not None and old_ref != new_ref:
            old_rs = self._owner_of(old)
            if old_rs is not None:
                self.loop.enqueue(old_rs)
        rs = self._owner_of(new)
        if rs is not None:
            self.loop.enqueue(rs)
            return
        if new_ref is None and (old.metadata.labels != new.metadata.labels or old_ref != new_ref):
            for rs in self._matching(new):
                self.loop.enqueue(rs)

    def _pod_deleted(self, pod: core.Pod) -> None:
        rs = self._owner_of(pod)
        if rs is None:
            return
        key = meta_key(rs)
        self.expectations.deletion_observed(key, meta_key(pod))
        self.loop.enqueue_key(key)

    # ---- sync --------------------------------------------------------------------------------

    async def sync(self, key: str) -> float | None:
        rs = self.replicasets.cache.get(key)
        if rs is None:
            self.expectations.forget(key)
            return None
        needs_sync = self.expectations.satisfied(key) and not rs.metadata.deletion_timestamp
        pods = await claims.claim(
            self.api,
            rs,
            self.selectors.of(rs),
            self._candidates(rs),
            fresh_owner=lambda: self._fresh(rs),
        )
        manage_error: BaseException | None = None
        if needs_sync:
            try:
                await self._manage(key, rs, pods)
            except errors.ClientError as exc:
                manage_error = exc
        replicas = rs.spec.replicas if rs.spec.replicas is not None else 1
        status = calculate_status(rs, pods, manage_error, self.clock.time(), len(pods) - replicas)
        written = await update_status(self.api, rs, status)
        if manage_error is not None:
            raise manage_error
        min_ready = written.spec.min_ready_seconds
        if min_ready > 0 and status.ready_replicas == replicas and status.available_replicas != replicas:
            return float(min_ready)
        return None

    def _candidates(self, rs: apps.ReplicaSet) -> list[core.Pod]:
        """Active pods that are ours or orphans in the namespace (others' pods are never claimed)."""
        owned = pods_by_controller(self.pods, rs.metadata.uid)
        orphans = [
            p
            for p in self.pods.cache.by_index(NAMESPACE_INDEX, rs.metadata.namespace)
            if api_helpers.controller_ref(p) is None
        ]
        return [p for p in (*owned, *orphans) if api_helpers.is_pod_active(p)]

    async def _fresh(self, rs: apps.ReplicaSet) -> apps.ReplicaSet | None:
        try:
            return await self.api.get(apps.ReplicaSet, rs.metadata.name, namespace=rs.metadata.namespace)
        except errors.NotFound:
            return None

    async def _manage(self, key: str, rs: apps.ReplicaSet, pods: list[core.Pod]) -> None:
        replicas = rs.spec.replicas if rs.spec.replicas is not None else 1
        diff = len(pods) - replicas
        if diff < 0:
            count = min(-diff, BURST_REPLICAS)
            new = [pod_from_template(rs.spec.template, rs) for _ in range(count)]
            await self.pod_control.create_many(new, rs, expectations=self.expectations, key=key)
        elif diff > 0:
            count = min(diff, BURST_REPLICAS)
            victims = sorted(pods, key=lambda p: deletion_rank(p, pods))[:count]
            await self.pod_control.delete_many(victims, rs, expectations=self.expectations, key=key)


def deletion_rank(pod: core.Pod, siblings: list[core.Pod]) -> tuple[Any, ...]:
    """Sort key: smallest first = deleted first (upstream's ActivePodsWithRanks order).

    Unscheduled before scheduled; Pending before Unknown before Running; not ready before
    ready; more siblings on the same node first; ready for a shorter time first; more
    restarts first; newer first.
    """
    node = pod.spec.node_name
    same_node = sum(1 for p in siblings if node and p.spec.node_name == node)
    ready = api_helpers.is_pod_ready(pod)
    ready_since = 0.0
    if ready:
        cond = api_helpers.get_pod_condition(pod, "Ready")
        ready_since = timefmt.to_epoch_or(cond.last_transition_time if cond is not None else None)
    restarts = max((c.restart_count for c in pod.status.container_statuses), default=0)
    created = timefmt.to_epoch_or(pod.metadata.creation_timestamp)
    return (
        1 if node else 0,
        _PHASE_ORDER.get(pod.status.phase, 0),
        1 if ready else 0,
        -same_node,
        -ready_since,
        -restarts,
        -created if created else float("-inf"),
    )


def calculate_status(
    rs: apps.ReplicaSet, pods: list[core.Pod], manage_error: BaseException | None, now: float, diff: int
) -> apps.ReplicaSetStatus:
    template_labels = labels.from_set(rs.spec.template.metadata.labels)
    min_ready = rs.spec.min_ready_seconds
    conditions = [c for c in rs.status.conditions if c.type != "ReplicaFailure"]
    old_failure = next((c for c in rs.status.conditions if c.type == "ReplicaFailure"), None)
    if manage_error is not None:
        reason = "FailedCreate" if diff < 0 else "FailedDelete"
        failure = apps.ReplicaSetCondition(
            type="ReplicaFailure",
            status="True",
            reason=reason,
            message=str(manage_error),
            last_transition_time=(old_failure.last_transition_time if old_failure is not None
                                  else timefmt.format_time(now)),
        )
        conditions.append(failure)
    return apps.ReplicaSetStatus(
        replicas=len(pods),
        fully_labeled_replicas=sum(1 for p in pods if template_labels.matches(p.metadata.labels)),
        ready_replicas=sum(1 for p in pods if api_helpers.is_pod_ready(p)),
        available_replicas=sum(1 for p in pods if api_helpers.is_pod_available(p, min_ready, now)),
        observed_generation=rs.metadata.generation,
        conditions=conditions,
    )
