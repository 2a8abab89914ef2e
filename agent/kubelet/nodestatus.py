"""The agent's Node: registration, then status updates from real readings.

Registration creates the Node with its labels (``nodeinfo.node_labels``), and, when the agent was
given ``--pod-cidr``, its podCIDR. If the Node exists (an agent restart, or an admin made it) its
spec (podCIDR, taints, unschedulable) is kept and only our labels are merged in.

Every ``node_status_update_frequency`` (10 s) the status is computed: capacity and allocatable,
addresses (InternalIP = --node-ip, Hostname), the kubelet endpoint port, nodeInfo (kernel, OS,
architecture, containerd's version, ours), images, and the conditions: MemoryPressure,
DiskPressure, PIDPressure and Ready from ``nodeinfo.ConditionTracker`` (Ready needs the runtime
and its network ready and a healthy PLEG), plus NetworkUnavailable from the pod network when the
agent runs it. The status is written when it changed (heartbeat times aside) and at least every
``node_status_report_frequency`` (5 min); the Lease is the frequent heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from agent.kubelet import nodeinfo
from agent.kubelet.cri import CRIError, Runtime
from agent.kubelet.cri.types import RuntimeVersion
from agent.kubelet.metrics import KubeletMetrics
from agent.kubelet.settings import KubeletSettings
from hw.board.board import Board
from master.api import timefmt
from master.api.core import (
    ContainerImage,
    DaemonEndpoint,
    Node,
    NodeCondition,
    NodeDaemonEndpoints,
    NodeSpec,
    NodeStatus,
)
from master.api.meta import ObjectMeta
from master.client import errors
from master.client.rest import ApiClient
from master.util.clock import Clock

__all__ = ["NetworkCondition", "NodeStatusManager"]

log = logging.getLogger("picluster.agent.kubelet")

_MAX_IMAGES = 50


@dataclass(frozen=True, slots=True)
class NetworkCondition:
    """NetworkUnavailable as the pod network reports it (``available`` -> status False)."""

    available: bool
    reason: str
    message: str


def _strip_heartbeats(status: NodeStatus) -> NodeStatus:
    conds = [msgspec.structs.replace(c, last_heartbeat_time=None) for c in status.conditions]
    return msgspec.structs.replace(status, conditions=conds)


class NodeStatusManager:
    def __init__(
        self,
        api: ApiClient,
        *,
        settings: KubeletSettings,
        board: Board,
        runtime: Runtime,
        clock: Clock,
        pod_cidr: str | None = None,
        network: Callable[[], NetworkCondition | None] = lambda: None,
        not_ready_reasons: Callable[[], tuple[str, ...]] = tuple,
        metrics: KubeletMetrics | None = None,
    ) -> None:
        self._api = api
        self.settings = settings
        self._board = board
        self._rt = runtime
        self._clock = clock
        self._pod_cidr = pod_cidr
        self._network = network
        self._not_ready = not_ready_reasons
        self._metrics = metrics
        self._tracker = nodeinfo.ConditionTracker(settings.node, clock)
        self._version: RuntimeVersion | None = None
        self.node: Node | None = None
        self._last_written: NodeStatus | None = None
        self._last_write_at: float | None = None
        self.registered = asyncio.Event()
        self.changed = asyncio.Event()  # set to ask for an update before the period ends

    @property
    def name(self) -> str:
        return self.settings.node_name

    @property
    def ready(self) -> bool:
        node = self.node
        if node is None:
            return False
        return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)

    # -- registration ---------------------------------------------------------------------

    async def register(self) -> Node:
        """Create or adopt the Node (retrying until the apiserver answers)."""
        s = self.settings
        delay = s.api_retry_initial
        while True:
            try:
                node = await self._register_once()
            except errors.ClientError as exc:
                log.warning("registering node %s failed (retrying in %.1fs): %s", self.name, delay, exc)
                await self._clock.sleep(delay)
                delay = min(delay * 2, s.api_retry_max)
                continue
            self.node = node
            self.registered.set()
            return node

    async def _register_once(self) -> Node:
        info = self._board.info()
        labels = nodeinfo.node_labels(self.name, info)
        status = await self.compute()
        spec = NodeSpec(pod_cidr=self._pod_cidr or "", pod_cidrs=[self._pod_cidr] if self._pod_cidr else [])
        node = Node(metadata=ObjectMeta(name=self.name, labels=labels), spec=spec, status=status)
        try:
            created = await self._api.create(node)
            log.info("registered node %s", self.name)
            self._note_written(created.status)
            return created
        except errors.AlreadyExists:
            pass
        for _ in range(5):
            existing = await self._api.get(Node, self.name)
            want_labels = {**existing.metadata.labels, **labels}
            new_spec = existing.spec
            if self._pod_cidr and not existing.spec.pod_cidr:
                new_spec = msgspec.structs.replace(existing.spec, pod_cidr=self._pod_cidr, pod_cidrs=[self._pod_cidr])
            if want_labels == existing.metadata.labels and new_spec == existing.spec:
                log.info("node %s was registered already", self.name)
                return existing
            updated = msgspec.structs.replace(
                existing, metadata=msgspec.structs.replace(existing.metadata, labels=want_labels), spec=new_spec
            )
            try:
                node = await self._api.update(updated)
            except errors.Conflict:
                continue
            log.info("node %s was registered already; updated its labels", self.name)
            return node
        raise errors.Conflict(f"node {self.name}: could not update after repeated conflicts", code=409)

    # -- status ---------------------------------------------------------------------------

    async def _runtime_version(self) -> RuntimeVersion | None:
        if self._version is None:
            try:
                self._version = await self._rt.version()
            except CRIError:
                return None
        return self._version

    async def compute(self) -> NodeStatus:
        s = self.settings
        info = self._board.info()
        readings = await asyncio.to_thread(self._board.read)
        version = await self._runtime_version()
        runtime_error = ""
        try:
            rt_status = await self._rt.status()
        except CRIError as exc:
            rt_status, runtime_error = None, exc.message
        conditions = self._tracker.update(readings, rt_status, runtime_error=runtime_error,
                                          extra_not_ready=self._not_ready())
        now = timefmt.format_time(self._clock.time())
        net = self._network()
        if net is not None:
            conditions.insert(0, NodeCondition(
                type="NetworkUnavailable",
                status="False" if net.available else "True",
                last_heartbeat_time=now,
                last_transition_time=now,
                reason=net.reason,
                message=net.message,
            ))
        images: list[ContainerImage] = []
        try:
            for img in sorted(await self._rt.list_images(), key=lambda i: -i.size)[:_MAX_IMAGES]:
                names = [*img.repo_tags, *img.repo_digests] or [img.id]
                images.append(ContainerImage(names=names, size_bytes=img.size))
        except CRIError:
            pass
        return NodeStatus(
            capacity=nodeinfo.capacity(info, readings, s.node),
            allocatable=nodeinfo.allocatable(info, readings, s.node),
            conditions=conditions,
            addresses=nodeinfo.addresses(s.node_ip, s.node_name),
            daemon_endpoints=NodeDaemonEndpoints(kubelet_endpoint=DaemonEndpoint(port=s.port)),
            node_info=nodeinfo.system_info(info, version, s.node),
            images=images,
        )

    def _note_written(self, status: NodeStatus) -> None:
        self._last_written = _strip_heartbeats(status)
        self._last_write_at = self._clock.monotonic()

    def _keep_transitions(self, node: Node, status: NodeStatus) -> NodeStatus:
        """Conditions keep the API's lastTransitionTime while their status stays (also across
        agent restarts); NetworkUnavailable, set each time, too."""
        old = {c.type: c for c in node.status.conditions}
        conds = []
        for c in status.conditions:
            o = old.get(c.type)
            if o is not None and o.status == c.status and o.last_transition_time:
                c = msgspec.structs.replace(c, last_transition_time=o.last_transition_time)
            conds.append(c)
        ours = {c.type for c in conds}
        conds += [c for c in node.status.conditions if c.type not in ours]
        return msgspec.structs.replace(status, conditions=conds)

    async def update(self, *, force: bool = False) -> bool:
        """Compute the status and write it if it changed or is due; whether it was written."""
        node = self.node
        if node is None:
            return False
        status = self._keep_transitions(node, await self.compute())
        due = self._last_write_at is None or (
            self._clock.monotonic() - self._last_write_at >= self.settings.node_status_report_frequency)
        if not force and not due and _strip_heartbeats(status) == self._last_written:
            return False
        for _ in range(5):
            try:
                written = await self._api.update_status(msgspec.structs.replace(node, status=status))
            except errors.Conflict:
                node = await self._api.get(Node, self.name)
                status = self._keep_transitions(node, status)
                continue
            except errors.NotFound:
                log.warning("node %s was deleted from the API: registering it again", self.name)
                self.node = await self._register_once()
                return True
            self.node = written
            self._note_written(written.status)
            if self._metrics is not None:
                self._metrics.node_status_updates.labels("ok").inc()
            return True
        return False

    def observe(self, node: Node) -> None:
        """The node informer saw our Node: keep the freshest copy (spec changes, rv)."""
        if self.node is None or node.metadata.resource_version != self.node.metadata.resource_version:
            self.node = node

    async def run(self) -> None:
        if self.node is None:
            await self.register()
        delay = self.settings.api_retry_initial
        while True:
            try:
                await self.update()
                delay = self.settings.api_retry_initial
                wait = self.settings.node_status_update_frequency
                if not self.ready:
                    # Not Ready yet (containerd may pick up the CNI config any moment): look
                    # again soon; a write only happens when something changed.
                    wait = min(wait, 1.0)
            except errors.ClientError as exc:
                if self._metrics is not None:
                    self._metrics.node_status_updates.labels("error").inc()
                log.warning("updating node %s status failed (retrying in %.1fs): %s", self.name, delay, exc)
                wait = delay
                delay = min(delay * 2, self.settings.api_retry_max)
            self.changed.clear()
            waiter = asyncio.ensure_future(self.changed.wait())
            timer = asyncio.ensure_future(self._clock.sleep(wait))
            try:
                await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                timer.cancel()
