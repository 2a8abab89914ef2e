"""Hollow nodes: in-process fake nodes that talk to a real apiserver through ``master.client``.

A hollow node does what a kubelet does on the API, without containers: it registers its Node
(capacity, allocatable, labels, taints, images), keeps a Lease in ``kube-node-lease`` renewed,
marks the pods bound to it Running (a fake pod IP from the node's range, Ready conditions,
ready container statuses) and confirms their graceful deletion with the final delete. Tests and
benchmarks of the scheduler and the controllers use them instead of real agents::

    async with HollowCluster(api, HollowSettings(heartbeat_period=1)) as cluster:
        await cluster.add_nodes(500, zones=("zone-a", "zone-b"))
        node = cluster.node("hollow-7")
        node.stop()              # node failure: no more lease renewals, pods left as they are
        node.start()             # back to life

Many hollow nodes in one process stay cheap: one pod informer (``spec.nodeName!=``) serves all
of them, indexed by node name; one heartbeat loop renews every lease, spread over the period;
one work queue of pod keys with a few workers writes pod status.

Pod IPs come from ``spec.podCIDR`` when the node has one at registration, else from a private
/24 per node inside ``HollowSettings.pod_network`` (node *i* gets the *i*-th /24). Nothing ever
sends traffic to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import msgspec

from master.api import codec, coordination, core, meta, timefmt
from master.client import errors
from master.client.cache import split_key
from master.client.controller import Controller
from master.client.informer import Informer, InformerSettings
from master.client.rest import ApiClient
from master.util.clock import Clock, RealClock
from master.util.tasks import cancel_and_wait

__all__ = ["HOLLOW_LABEL", "HollowCluster", "HollowNode", "HollowNodeConfig", "HollowSettings"]

log = logging.getLogger(__name__)

HOLLOW_LABEL = "picluster.io/hollow"
NODE_LEASE_NAMESPACE = "kube-node-lease"
ZONE_LABEL = "topology.kubernetes.io/zone"
HOSTNAME_LABEL = "kubernetes.io/hostname"
_NODE_INDEX = "node"


@dataclass(frozen=True, slots=True)
class HollowSettings:
    """Timings and behaviour shared by every node of a ``HollowCluster`` (tests shrink them)."""

    # Lease renewal (the kubelet's 10 s / 40 s).
    heartbeat_period: float = 10.0
    lease_duration: int = 40
    # How often the Ready condition's lastHeartbeatTime is refreshed (0: only at registration).
    status_period: float = 60.0
    # Mark bound pods Running (off: leave them Pending, as scheduler_perf does).
    mark_running: bool = True
    # Confirm graceful deletions of pods on live nodes with the final delete (grace 0).
    confirm_deletion: bool = True
    pod_workers: int = 8
    # Concurrent API writes of the heartbeat loop and of add_nodes.
    concurrency: int = 32
    pod_network: str = "10.128.0.0/9"
    node_network: str = "10.240.0.0/12"
    informer: InformerSettings = field(default_factory=InformerSettings)


@dataclass(frozen=True, slots=True)
class HollowNodeConfig:
    """What a hollow node reports about itself."""

    cpu: str = "4"
    memory: str = "8Gi"
    pods: int = 110
    ephemeral_storage: str = "30Gi"
    zone: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[core.Taint] = ()
    images: Sequence[core.ContainerImage] = ()
    unschedulable: bool = False
    # Extra allocatable/capacity entries (e.g. {"example.com/gpu": "1"}).
    extra_resources: Mapping[str, str] = field(default_factory=dict)


class HollowNode:
    """One fake node. ``alive`` nodes heartbeat and run their pods; ``stop()`` simulates a failure."""

    def __init__(self, cluster: HollowCluster, name: str, index: int, config: HollowNodeConfig) -> None:
        self.cluster = cluster
        self.name = name
        self.index = index
        self.config = config
        self.alive = True
        self.internal_ip = _nth_address(cluster.settings.node_network, index + 1)
        self.pod_network = _nth_subnet(cluster.settings.pod_network, index)
        self._next_ip = 1
        self._lease: coordination.Lease | None = None
        # Registration and the heartbeat loop may renew at the same moment; one at a time, or
        # both see no Lease and both create it.
        self._renew_lock = asyncio.Lock()
        self.renewals = 0

    def __repr__(self) -> str:
        return f"HollowNode({self.name!r}, alive={self.alive})"

    def stop(self) -> None:
        """Stop heartbeating and handling pods (the node "fails"; its objects stay as they are).

        A renewal already on the wire still lands (and counts): wait for ``not renewing``
        before taking ``renewals`` as final.
        """
        self.alive = False

    @property
    def renewing(self) -> bool:
        """A lease renewal is under way."""
        return self._renew_lock.locked()

    def start(self) -> None:
        """Resume: renew the lease at once, refresh the Ready condition, and handle pending pods."""
        if self.alive:
            return
        self.alive = True
        self.cluster._wake(self)

    def pods(self) -> list[core.Pod]:
        """The pods bound to this node, from the shared informer's cache."""
        return self.cluster._pods_of(self.name)

    def node_object(self) -> core.Node:
        c = self.config
        labels = {
            HOSTNAME_LABEL: self.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "arm64",
            HOLLOW_LABEL: "true",
            **({ZONE_LABEL: c.zone} if c.zone else {}),
            **c.labels,
        }
        resources = {
            "cpu": c.cpu,
            "memory": c.memory,
            "pods": str(c.pods),
            "ephemeral-storage": c.ephemeral_storage,
            **c.extra_resources,
        }
        now = timefmt.format_time(self.cluster.clock.time())
        return core.Node(
            metadata=meta.ObjectMeta(name=self.name, labels=labels),
            spec=core.NodeSpec(taints=list(c.taints), unschedulable=c.unschedulable),
            status=core.NodeStatus(
                capacity=dict(resources),
                allocatable=dict(resources),
                phase="Running",
                conditions=_conditions(now),
                addresses=[
                    core.NodeAddress(type="InternalIP", address=self.internal_ip),
                    core.NodeAddress(type="Hostname", address=self.name),
                ],
                node_info=core.NodeSystemInfo(
                    kubelet_version="v1.32.0+picluster.hollow",
                    kube_proxy_version="v1.32.0+picluster.hollow",
                    operating_system="linux",
                    architecture="arm64",
                    os_image="hollow",
                    container_runtime_version="hollow://0",
                ),
                images=list(c.images),
            ),
        )

    def _allocate_ip(self) -> str:
        net = self.pod_network
        hosts = net.num_addresses - 2
        ip = str(net.network_address + 1 + (self._next_ip - 1) % hosts)
        self._next_ip += 1
        return ip


def _conditions(now: str) -> list[core.NodeCondition]:
    def cond(ctype: str, status: str, reason: str, message: str) -> core.NodeCondition:
        return core.NodeCondition(
            type=ctype, status=status, reason=reason, message=message,
            last_heartbeat_time=now, last_transition_time=now,
        )

    return [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]


def _nth_subnet(network: str, index: int) -> ipaddress.IPv4Network:
    net = ipaddress.IPv4Network(network)
    count = 1 << (24 - net.prefixlen) if net.prefixlen <= 24 else 1
    if index >= count:
        raise ValueError(f"hollow: pod network {network} has no /24 number {index}")
    return ipaddress.IPv4Network((int(net.network_address) + (index << 8), 24))


def _nth_address(network: str, n: int) -> str:
    net = ipaddress.IPv4Network(network)
    if n >= net.num_addresses - 1:
        raise ValueError(f"hollow: node network {network} has no address number {n}")
    return str(net.network_address + n)


class HollowCluster:
    """A set of hollow nodes sharing one pod informer, one heartbeat loop and one pod queue.

    ``start()`` (or ``async with``) runs the shared machinery; ``add_node``/``add_nodes``
    register nodes (and their leases); ``stop()`` ends everything without deleting the nodes
    (``delete_nodes()`` removes them from the API).
    """

    def __init__(
        self,
        api: ApiClient,
        settings: HollowSettings | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.api = api
        self.settings = settings or HollowSettings()
        self.clock = clock or RealClock()
        self.nodes: dict[str, HollowNode] = {}
        self.pod_informer: Informer[core.Pod] = Informer(
            api,
            core.Pod,
            field_selector="spec.nodeName!=",
            indexers={_NODE_INDEX: _pod_node},
            settings=self.settings.informer,
            clock=self.clock,
        )
        self._controller = Controller(
            "hollow-pods", self._sync_pod, workers=self.settings.pod_workers, clock=self.clock
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._limit = asyncio.Semaphore(self.settings.concurrency)
        self._wake_event = asyncio.Event()
        self._woken: set[str] = set()
        self.marked_running = 0
        self.deleted = 0

    async def __aenter__(self) -> HollowCluster:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._tasks:
            return
        self.pod_informer.add_event_handler(
            on_add=self._on_pod, on_update=lambda _old, new: self._on_pod(new), on_delete=None
        )
        self._tasks = [
            asyncio.create_task(self.pod_informer.run(), name="hollow-pod-informer"),
            asyncio.create_task(self._controller.run(), name="hollow-pod-workers"),
            asyncio.create_task(self._heartbeat_loop(), name="hollow-heartbeats"),
        ]
        if self.settings.status_period > 0:
            self._tasks.append(asyncio.create_task(self._status_loop(), name="hollow-status"))
        await self.pod_informer.wait_synced()

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(tasks)

    def node(self, name: str) -> HollowNode:
        try:
            return self.nodes[name]
        except KeyError:
            raise KeyError(f"no hollow node {name!r}") from None

    async def add_node(self, name: str, config: HollowNodeConfig | None = None, **overrides: Any) -> HollowNode:
        """Register one node (Node object and Lease) and start heartbeating it.

        ``overrides`` are ``HollowNodeConfig`` fields (``cpu="2"``, ``zone="zone-a"`` ...).
        """
        if name in self.nodes:
            raise ValueError(f"hollow node {name!r} already exists")
        cfg = config or HollowNodeConfig()
        if overrides:
            cfg = dataclasses.replace(cfg, **overrides)
        node = HollowNode(self, name, len(self.nodes), cfg)
        self.nodes[name] = node
        try:
            async with self._limit:
                created = await self._register(node)
                if created.spec.pod_cidr:
                    node.pod_network = ipaddress.IPv4Network(created.spec.pod_cidr, strict=False)
                await self._renew(node)
        except BaseException:
            self.nodes.pop(name, None)
            raise
        for pod in self._pods_of(name):
            self._controller.enqueue(pod)
        return node

    async def add_nodes(
        self,
        count: int,
        *,
        prefix: str = "hollow-",
        zones: Sequence[str] = (),
        start: int = 0,
        config: HollowNodeConfig | None = None,
        **overrides: Any,
    ) -> list[HollowNode]:
        """Register ``prefix0 .. prefix<count-1>`` concurrently, zones assigned round-robin."""
        names = [f"{prefix}{start + i}" for i in range(count)]

        async def one(i: int, name: str) -> HollowNode:
            extra = dict(overrides)
            if zones:
                extra["zone"] = zones[i % len(zones)]
            return await self.add_node(name, config, **extra)

        return list(await asyncio.gather(*(one(i, n) for i, n in enumerate(names))))

    async def delete_nodes(self, names: Iterable[str] | None = None) -> None:
        """Delete nodes (default: all) and their leases from the API, and forget them."""
        targets = list(self.nodes) if names is None else list(names)

        async def one(name: str) -> None:
            node = self.nodes.pop(name, None)
            if node is None:
                return
            node.alive = False
            async with self._limit:
                with contextlib.suppress(errors.NotFound):
                    await self.api.delete(core.Node, name)
                with contextlib.suppress(errors.NotFound):
                    await self.api.delete(coordination.Lease, name, namespace=NODE_LEASE_NAMESPACE)

        await asyncio.gather(*(one(n) for n in targets))

    # ---- registration and heartbeats -------------------------------------------------------

    async def _register(self, node: HollowNode) -> core.Node:
        obj = node.node_object()
        try:
            return await self.api.create(obj)
        except errors.AlreadyExists:
            # Re-registration (a restarted test process): take the node over, as a kubelet does.
            current = await self.api.get(core.Node, node.name)
            labels = {**current.metadata.labels, **obj.metadata.labels}
            fresh = await self.api.update(msgspec.structs.replace(
                current, metadata=msgspec.structs.replace(current.metadata, labels=labels), spec=obj.spec
            ))
            return await self.api.update_status(msgspec.structs.replace(fresh, status=obj.status))

    async def _renew(self, node: HollowNode) -> None:
        async with node._renew_lock:
            if node.alive:  # not stopped while this renewal waited for the one before
                await self._renew_locked(node)

    async def _renew_locked(self, node: HollowNode) -> None:
        now = timefmt.format_micro_time(self.clock.time())
        lease = node._lease
        if lease is not None:
            spec = coordination.LeaseSpec(
                holder_identity=node.name,
                lease_duration_seconds=self.settings.lease_duration,
                renew_time=now,
            )
            try:
                node._lease = await self.api.update(coordination.Lease(metadata=lease.metadata, spec=spec))
                node.renewals += 1
                return
            except (errors.Conflict, errors.NotFound):
                node._lease = None
        try:
            current = await self.api.get(coordination.Lease, node.name, namespace=NODE_LEASE_NAMESPACE)
        except errors.NotFound:
            fresh = coordination.Lease(
                metadata=meta.ObjectMeta(name=node.name, namespace=NODE_LEASE_NAMESPACE),
                spec=coordination.LeaseSpec(
                    holder_identity=node.name,
                    lease_duration_seconds=self.settings.lease_duration,
                    renew_time=now,
                ),
            )
            node._lease = await self.api.create(fresh)
        else:
            spec = coordination.LeaseSpec(
                holder_identity=node.name, lease_duration_seconds=self.settings.lease_duration, renew_time=now
            )
            node._lease = await self.api.update(coordination.Lease(metadata=current.metadata, spec=spec))
        node.renewals += 1

    async def _refresh_status(self, node: HollowNode) -> None:
        now = timefmt.format_time(self.clock.time())
        current = await self.api.get(core.Node, node.name)
        conds = []
        fresh = {c.type: c for c in _conditions(now)}
        for c in current.status.conditions:
            want = fresh.pop(c.type, None)
            if want is None:
                conds.append(c)
            elif want.status == c.status:
                conds.append(msgspec.structs.replace(want, last_transition_time=c.last_transition_time))
            else:
                conds.append(want)
        conds.extend(fresh.values())
        await self.api.patch(
            core.Node,
            node.name,
            {"status": {"conditions": [codec.to_builtins(c) for c in conds]}},
            subresource="status",
        )

    def _wake(self, node: HollowNode) -> None:
        self._woken.add(node.name)
        self._wake_event.set()
        for pod in self._pods_of(node.name):
            self._controller.enqueue(pod)

    async def _heartbeat_loop(self) -> None:
        period = self.settings.heartbeat_period
        while True:
            started = self.clock.monotonic()
            self._woken.clear()
            live = [n for n in self.nodes.values() if n.alive]
            await asyncio.gather(*(self._guarded(self._renew, n) for n in live))
            remaining = period - (self.clock.monotonic() - started)
            if remaining > 0:
                await self._sleep_or_wake(remaining)
            woken = [self.nodes[n] for n in list(self._woken) if n in self.nodes and self.nodes[n].alive]
            self._woken.clear()
            if woken:
                await asyncio.gather(*(self._guarded(self._renew, n) for n in woken))
                await asyncio.gather(*(self._guarded(self._refresh_status, n) for n in woken))

    async def _sleep_or_wake(self, seconds: float) -> None:
        self._wake_event.clear()
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake_event.wait())
        try:
            await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    async def _status_loop(self) -> None:
        while True:
            await self.clock.sleep(self.settings.status_period)
            live = [n for n in self.nodes.values() if n.alive]
            await asyncio.gather(*(self._guarded(self._refresh_status, n) for n in live))

    async def _guarded(self, fn: Any, node: HollowNode) -> None:
        async with self._limit:
            if not node.alive:
                return
            try:
                await fn(node)
            except errors.ClientError as exc:
                log.warning("hollow node %s: %s", node.name, exc)

    # ---- pods ------------------------------------------------------------------------------

    def _pods_of(self, node_name: str) -> list[core.Pod]:
        return self.pod_informer.cache.by_index(_NODE_INDEX, node_name)

    def _on_pod(self, pod: core.Pod) -> None:
        node = self.nodes.get(pod.spec.node_name)
        if node is not None and node.alive:
            self._controller.enqueue(pod)

    async def _sync_pod(self, key: str) -> None:
        pod = self.pod_informer.cache.get(key)
        if pod is None:
            return
        node = self.nodes.get(pod.spec.node_name)
        if node is None or not node.alive:
            return
        ns, name = split_key(key)
        if pod.metadata.deletion_timestamp:
            if not self.settings.confirm_deletion:
                return
            try:
                await self.api.delete(
                    core.Pod, name, namespace=ns, grace_period_seconds=0,
                    preconditions=meta.Preconditions(uid=pod.metadata.uid),
                )
            except (errors.NotFound, errors.Conflict):
                return
            self.deleted += 1
            return
        if not self.settings.mark_running or pod.status.phase in ("Running", "Succeeded", "Failed"):
            return
        await self.api.patch(core.Pod, name, _running_patch(pod, node), namespace=ns, subresource="status")
        self.marked_running += 1


def _running_patch(pod: core.Pod, node: HollowNode) -> dict[str, Any]:
    now = timefmt.format_time(node.cluster.clock.time())
    ip = pod.status.pod_ip or node._allocate_ip()
    conditions = [
        {"type": t, "status": "True", "lastTransitionTime": now}
        for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
    ]
    statuses = [
        {
            "name": c.name,
            "ready": True,
            "started": True,
            "restartCount": 0,
            "image": c.image,
            "imageID": f"hollow://{c.image}",
            "containerID": f"hollow://{pod.metadata.uid}/{c.name}",
            "state": {"running": {"startedAt": now}},
        }
        for c in pod.spec.containers
    ]
    return {
        "status": {
            "phase": "Running",
            "conditions": conditions,
            "hostIP": node.internal_ip,
            "hostIPs": [{"ip": node.internal_ip}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": pod.status.start_time or now,
            "containerStatuses": statuses,
        }
    }


def _pod_node(pod: core.Pod) -> list[str]:
    return [pod.spec.node_name] if pod.spec.node_name else []
