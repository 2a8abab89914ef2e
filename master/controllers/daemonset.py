"""The DaemonSet controller: one pod per eligible node, rolled when the template changes.

``sync("ns/name")``:

1. claim pods (as ReplicaSets do); group them by node;
2. for each node decide (``should_run``): should a new pod go there (node selector, required
   node affinity, NoSchedule/NoExecute taints tolerated) and may an existing one stay (only
   NoExecute taints matter then). Missing pods are created (slow start), pods on nodes that
   no longer qualify, failed pods and all but the oldest of duplicates are deleted; a node
   whose pod is still terminating waits for it;
3. RollingUpdate: pods whose ``controller-revision-hash`` label is not the template's hash are
   deleted, unavailable ones first, then as many available ones as ``maxUnavailable`` allows;
   the next syncs create their replacements. (``maxSurge`` is treated as 0; OnDelete waits
   for the user to delete pods);
4. status (desired/current/misscheduled/ready/updated/available/unavailable, observedGeneration).

Pods are placed the way upstream (>= 1.12) does it: a required node affinity
``matchFields metadata.name In [node]`` replaces the template's required terms (they were
checked here already), and the scheduler binds them. They get the tolerations every daemon
pod has: not-ready and unreachable (NoExecute, forever), disk/memory/pid pressure and
unschedulable (NoSchedule), and network-unavailable with hostNetwork.

ControllerRevision objects are not in our API: the template hash (``hashing``) labels pods
directly and is the revision; there is no revision history to roll back to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import msgspec

from master.api import apps, core, scheduling
from master.api import helpers as api_helpers
from master.api.helpers import meta_key
from master.client import errors
from master.client.cache import NAMESPACE_INDEX
from master.client.events import WARNING
from master.controllers import claims
from master.controllers import taints as taint_util
from master.controllers.context import ControllerContext, pods_by_controller
from master.controllers.expectations import Expectations
from master.controllers.hashing import compute_hash
from master.controllers.podcontrol import PodControl, pod_from_template
from master.controllers.util import SelectorCache, scaled_value, update_status

__all__ = ["HASH_LABEL", "DaemonSetController", "daemon_pod_spec", "new", "should_run"]

log = logging.getLogger(__name__)

NAME = "daemonset"
HASH_LABEL = "controller-revision-hash"
BURST_REPLICAS = 250


def new(ctx: ControllerContext) -> DaemonSetController:
    return DaemonSetController(ctx)


def _exists(key: str, effect: str) -> core.Toleration:
    return core.Toleration(key=key, operator="Exists", effect=effect)


_DAEMON_TOLERATIONS = (
    _exists(taint_util.NOT_READY, "NoExecute"),
    _exists(taint_util.UNREACHABLE, "NoExecute"),
    _exists(taint_util.DISK_PRESSURE, "NoSchedule"),
    _exists(taint_util.MEMORY_PRESSURE, "NoSchedule"),
    _exists(taint_util.PID_PRESSURE, "NoSchedule"),
    _exists(taint_util.UNSCHEDULABLE, "NoSchedule"),
)


def daemon_tolerations(spec: core.PodSpec) -> list[core.Toleration]:
    wanted = list(_DAEMON_TOLERATIONS)
    if spec.host_network:
        wanted.append(_exists(taint_util.NETWORK_UNAVAILABLE, "NoSchedule"))
    have = list(spec.tolerations)
    for t in wanted:
        if not any(h.key == t.key and h.effect == t.effect and h.operator == "Exists" for h in have):
            have.append(t)
    return have


def daemon_pod_spec(template: core.PodSpec, node: str) -> core.PodSpec:
    """The template's spec with the daemon tolerations and a node affinity for ``node``."""
    term = core.NodeSelectorTerm(
        match_fields=[core.NodeSelectorRequirement(key="metadata.name", operator="In", values=[node])]
    )
    required = core.NodeSelector(node_selector_terms=[term])
    affinity = template.affinity or core.Affinity()
    node_affinity = affinity.node_affinity or core.NodeAffinity()
    node_affinity = msgspec.structs.replace(
        node_affinity, required_during_scheduling_ignored_during_execution=required
    )
    affinity = msgspec.structs.replace(affinity, node_affinity=node_affinity)
    return msgspec.structs.replace(template, affinity=affinity, tolerations=daemon_tolerations(template))


def should_run(ds: apps.DaemonSet, node: core.Node) -> tuple[bool, bool]:
    """(should a new daemon pod go on ``node``, may an existing one stay)."""
    spec = ds.spec.template.spec
    if spec.node_name and spec.node_name != node.metadata.name:
        return False, False
    if not scheduling.matches_node(spec, node):
        return False, False
    tolerations = daemon_tolerations(spec)
    relevant = [t for t in node.spec.taints if t.effect in ("NoSchedule", "NoExecute")]
    untolerated = taint_util.untolerated(tolerations, relevant)
    if untolerated:
        return False, not any(t.effect == "NoExecute" for t in untolerated)
    return True, True


def _node_of(pod: core.Pod) -> str:
    if pod.spec.node_name:
        return pod.spec.node_name
    aff = pod.spec.affinity.node_affinity if pod.spec.affinity and pod.spec.affinity.node_affinity else None
    req = aff.required_during_scheduling_ignored_during_execution if aff is not None else None
    if req is not None:
        for term in req.node_selector_terms:
            for f in term.match_fields:
                if f.key == "metadata.name" and f.operator == "In" and len(f.values) == 1:
                    return f.values[0]
    return ""


def _created(pod: core.Pod) -> tuple[str, str]:
    return (pod.metadata.creation_timestamp or "", pod.metadata.name)


@dataclass(slots=True)
class _Plan:
    create: list[str]
    delete: list[core.Pod]


class DaemonSetController:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.api = ctx.api
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.daemonsets = ctx.informers.informer(apps.DaemonSet)
        self.pods = ctx.pods()
        self.nodes = ctx.nodes()
        self.expectations = Expectations(ctx.clock)
        self.selectors = SelectorCache()
        self.pod_control = PodControl(ctx.api, ctx.recorder)
        self.loop = ctx.loop(NAME, self.sync, workers=ctx.settings.concurrent_daemonset_syncs)
        self.daemonsets.add_event_handler(
            on_add=self.loop.enqueue, on_update=lambda _o, n: self.loop.enqueue(n), on_delete=self._ds_deleted
        )
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted)
        self.nodes.add_event_handler(on_add=self._all, on_update=self._node_updated, on_delete=self._all)

    async def run(self) -> None:
        await self.loop.run()

    # ---- handlers --------------------------------------------------------------------------

    def _all(self, _node: core.Node) -> None:
        for ds in self.daemonsets.cache.list():
            self.loop.enqueue(ds)

    def _node_updated(self, old: core.Node, new: core.Node) -> None:
        if (old is new or old.metadata.labels != new.metadata.labels or old.spec.taints != new.spec.taints
                or old.spec.unschedulable != new.spec.unschedulable):
            self._all(new)

    def _ds_deleted(self, ds: apps.DaemonSet) -> None:
        self.expectations.forget(meta_key(ds))
        self.selectors.forget(ds.metadata.uid)

    def _owner_of(self, pod: core.Pod) -> apps.DaemonSet | None:
        ref = api_helpers.controller_ref(pod)
        if ref is None or ref.kind != "DaemonSet":
            return None
        ds = self.daemonsets.cache.get_by_name(ref.name, pod.metadata.namespace)
        return ds if ds is not None and ds.metadata.uid == ref.uid else None

    def _matching(self, pod: core.Pod) -> None:
        for ds in self.daemonsets.cache.by_index(NAMESPACE_INDEX, pod.metadata.namespace):
            if self.selectors.of(ds).matches(pod.metadata.labels):
                self.loop.enqueue(ds)

    def _pod_added(self, pod: core.Pod) -> None:
        if pod.metadata.deletion_timestamp:
            self._pod_deleted(pod)
            return
        ds = self._owner_of(pod)
        if ds is not None:
            self.expectations.creation_observed(meta_key(ds))
            self.loop.enqueue(ds)
        elif api_helpers.controller_ref(pod) is None:
            self._matching(pod)

    def _pod_updated(self, old: core.Pod, new: core.Pod) -> None:
        if old is not new and old.metadata.resource_version == new.metadata.resource_version:
            return
        if new.metadata.deletion_timestamp and not old.metadata.deletion_timestamp:
            self._pod_deleted(new)
            return
        prev = self._owner_of(old)
        if prev is not None and api_helpers.controller_ref(old) != api_helpers.controller_ref(new):
            self.loop.enqueue(prev)
        ds = self._owner_of(new)
        if ds is not None:
            self.loop.enqueue(ds)
        elif api_helpers.controller_ref(new) is None:
            self._matching(new)

    def _pod_deleted(self, pod: core.Pod) -> None:
        ds = self._owner_of(pod)
        if ds is None:
            return
        self.expectations.deletion_observed(meta_key(ds), meta_key(pod))
        self.loop.enqueue(ds)

    # ---- sync ------------------------------------------------------------------------------

    async def sync(self, key: str) -> float | None:
        ds = self.daemonsets.cache.get(key)
        if ds is None:
            self.expectations.forget(key)
            return None
        candidates = [
            p for p in (*pods_by_controller(self.pods, ds.metadata.uid),
                        *(p for p in self.pods.cache.by_index(NAMESPACE_INDEX, ds.metadata.namespace)
                          if api_helpers.controller_ref(p) is None))
            if not (api_helpers.is_pod_terminal(p) and p.metadata.deletion_timestamp)
        ]

        async def fresh() -> apps.DaemonSet | None:
            try:
                return await self.api.get(apps.DaemonSet, ds.metadata.name, namespace=ds.metadata.namespace)
            except errors.NotFound:
                return None

        pods = await claims.claim(self.api, ds, self.selectors.of(ds), candidates, fresh_owner=fresh)
        by_node: dict[str, list[core.Pod]] = {}
        for p in pods:
            by_node.setdefault(_node_of(p), []).append(p)
        nodes = self.nodes.cache.list()
        pod_hash = compute_hash(ds.spec.template, ds.status.collision_count)
        error: BaseException | None = None
        if self.expectations.satisfied(key) and not ds.metadata.deletion_timestamp:
            plan = self._plan(ds, nodes, by_node)
            if ds.spec.update_strategy.type != "OnDelete":
                plan.delete.extend(self._rolling(ds, nodes, by_node, pod_hash, plan))
            try:
                await self._apply(key, ds, plan, pod_hash)
            except errors.ClientError as exc:
                error = exc
        now = self.clock.time()
        status = self._status(ds, nodes, by_node, pod_hash, now)
        await update_status(self.api, ds, status)
        if error is not None:
            raise error
        min_ready = ds.spec.min_ready_seconds
        if min_ready > 0 and status.number_ready != status.number_available:
            return float(min_ready)
        return None

    def _plan(self, ds: apps.DaemonSet, nodes: list[core.Node], by_node: dict[str, list[core.Pod]]) -> _Plan:
        plan = _Plan(create=[], delete=[])
        names = set()
        for node in nodes:
            name = node.metadata.name
            names.add(name)
            run, keep = should_run(ds, node)
            here = by_node.get(name, [])
            if run and not here:
                plan.create.append(name)
            elif keep:
                alive = []
                for p in here:
                    if p.metadata.deletion_timestamp:
                        continue
                    if p.status.phase == "Failed":
                        self.recorder.event(ds, WARNING, "FailedDaemonPod",
                                            f"Found failed daemon pod {p.metadata.namespace}/{p.metadata.name} "
                                            f"on node {name}, will try to kill it")
                        plan.delete.append(p)
                        continue
                    alive.append(p)
                # More than one: keep the oldest.
                plan.delete.extend(sorted(alive, key=_created)[1:])
            else:
                plan.delete.extend(p for p in here if not p.metadata.deletion_timestamp)
        for name, here in by_node.items():
            if name not in names:
                # Pods for nodes that are gone (or never existed), and unplaceable ones.
                plan.delete.extend(p for p in here if not p.metadata.deletion_timestamp)
        return plan

    def _rolling(
        self, ds: apps.DaemonSet, nodes: list[core.Node], by_node: dict[str, list[core.Pod]], pod_hash: str,
        plan: _Plan,
    ) -> list[core.Pod]:
        """Old-revision pods to delete now, within maxUnavailable."""
        doomed = {p.metadata.uid for p in plan.delete}
        eligible = [n for n in nodes if should_run(ds, n)[0]]
        ru = ds.spec.update_strategy.rolling_update
        max_unavailable = scaled_value(ru.max_unavailable if ru else 1, len(eligible), round_up=True)
        if max_unavailable == 0:
            max_unavailable = 1
        now = self.clock.time()
        min_ready = ds.spec.min_ready_seconds
        unavailable = 0
        old_available: list[core.Pod] = []
        out: list[core.Pod] = []
        for node in eligible:
            here = [p for p in by_node.get(node.metadata.name, [])
                    if not p.metadata.deletion_timestamp and p.metadata.uid not in doomed]
            if not here:
                unavailable += 1
                continue
            pod = sorted(here, key=_created)[0]
            available = api_helpers.is_pod_available(pod, min_ready, now)
            if pod.metadata.labels.get(HASH_LABEL) == pod_hash:
                if not available:
                    unavailable += 1
                continue
            if not available:
                out.append(pod)  # an unavailable old pod costs nothing to replace
                unavailable += 1
            else:
                old_available.append(pod)
        budget = max_unavailable - unavailable
        old_available.sort(key=lambda p: _node_of(p))
        out.extend(old_available[:max(budget, 0)])
        return out

    async def _apply(self, key: str, ds: apps.DaemonSet, plan: _Plan, pod_hash: str) -> None:
        create = plan.create[:BURST_REPLICAS]
        delete = list({p.metadata.uid: p for p in plan.delete}.values())[:BURST_REPLICAS]
        if create:
            tmeta = ds.spec.template.metadata
            template = msgspec.structs.replace(
                ds.spec.template,
                metadata=msgspec.structs.replace(tmeta, labels={**tmeta.labels, HASH_LABEL: pod_hash}),
            )
            pods = [pod_from_template(template, ds, spec=daemon_pod_spec(ds.spec.template.spec, node))
                    for node in create]
            await self.pod_control.create_many(pods, ds, expectations=self.expectations, key=key)
        if delete:
            await self.pod_control.delete_many(delete, ds, expectations=self.expectations, key=key)

    def _status(
        self, ds: apps.DaemonSet, nodes: list[core.Node], by_node: dict[str, list[core.Pod]], pod_hash: str,
        now: float,
    ) -> apps.DaemonSetStatus:
        desired = current = misscheduled = ready = updated = available = 0
        min_ready = ds.spec.min_ready_seconds
        for node in nodes:
            run, _ = should_run(ds, node)
            here = sorted((p for p in by_node.get(node.metadata.name, []) if not p.metadata.deletion_timestamp),
                          key=_created)
            if run:
                desired += 1
            if not here:
                continue
            if not run:
                misscheduled += 1
                continue
            current += 1
            pod = here[0]
            if api_helpers.is_pod_ready(pod):
                ready += 1
                if api_helpers.is_pod_available(pod, min_ready, now):
                    available += 1
            if pod.metadata.labels.get(HASH_LABEL) == pod_hash:
                updated += 1
        return apps.DaemonSetStatus(
            current_number_scheduled=current,
            number_misscheduled=misscheduled,
            desired_number_scheduled=desired,
            number_ready=ready,
            observed_generation=ds.metadata.generation,
            updated_number_scheduled=updated,
            number_available=available,
            number_unavailable=max(desired - available, 0),
            collision_count=ds.status.collision_count,
            conditions=list(ds.status.conditions),
        )
