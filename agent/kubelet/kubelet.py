"""The kubelet: its parts wired together, started in order, stopped in reverse.

::

    kl = Kubelet(settings, api=api, runtime=rt, board=board, informers=factory, registry=reg)
    await kl.start()        # runtime check, HTTPS server, Node, informers, workers, loops
    ...
    await kl.stop()         # the agent stops; the pods keep running in the runtime

Flow of a pod: the pod informer (``spec.nodeName=<node>``) or the static pod source adds it to
the ``PodManager`` and wakes its worker (``PodWorkers``, serial per pod, parallel across pods);
the worker's ``PodSyncer.sync`` brings the runtime in line and hands the status to the
``StatusManager``. The ``PLEG`` relists the runtime every second and wakes the workers of pods
whose containers changed; probe results wake them too. Housekeeping finds orphans (runtime pods
no source knows: their workers kill them), collects garbage and rotates logs.

Nothing is killed before the pod informer has listed once and the manifest dir was read: a
restarted agent first learns what should run, then adopts what runs (same sandboxes and
containers, matched by the uid and name labels and the spec hash).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace
from typing import Any

import msgspec
from prometheus_client import CollectorRegistry

from agent.kubelet import keys, logs, resourcemetrics, staticpods
from agent.kubelet.backoff import Backoff
from agent.kubelet.configsource import ApiConfigSource, ConfigSource
from agent.kubelet.cri import CRIError, NotFoundError, Runtime
from agent.kubelet.cri.types import ContainerState
from agent.kubelet.gc import GarbageCollector
from agent.kubelet.images import ImageManager
from agent.kubelet.lease import LeaseController
from agent.kubelet.metrics import KubeletMetrics
from agent.kubelet.nodestatus import NetworkCondition, NodeStatusManager
from agent.kubelet.pleg import PLEG
from agent.kubelet.podmanager import PodManager
from agent.kubelet.podsync import PodSyncer
from agent.kubelet.podworkers import DONE, PodWorkers
from agent.kubelet.prober import Prober
from agent.kubelet.probes import ProbeManager
from agent.kubelet.runtimestate import Inspector
from agent.kubelet.satokens import ServiceAccountTokens
from agent.kubelet.server import LogRequest, Server, ServerSettings
from agent.kubelet.server import NotFoundError as LogNotFound
from agent.kubelet.settings import KubeletSettings
from agent.kubelet.statusmanager import StatusManager
from agent.kubelet.volumes import VolumeManager
from hw.board.board import Board
from master.api import codec, meta
from master.api.core import Node, Pod, Service
from master.client import errors
from master.client.events import EventRecorder
from master.client.informer import Informer, SharedInformerFactory
from master.client.rest import ApiClient
from master.util.clock import Clock, RealClock
from master.util.tasks import cancel_and_wait

__all__ = ["Kubelet"]

log = logging.getLogger("picluster.agent.kubelet")


class Kubelet:
    def __init__(
        self,
        settings: KubeletSettings,
        *,
        api: ApiClient,
        runtime: Runtime,
        board: Board,
        informers: SharedInformerFactory,
        registry: CollectorRegistry,
        clock: Clock | None = None,
        config: ConfigSource | None = None,
        pod_cidr: str | None = None,
        network: Callable[[], NetworkCondition | None] = lambda: None,
        services: Callable[[], Iterable[Service]] = list,
        ssl_context: ssl.SSLContext | None = None,
        require_client_cert: bool = True,
        nodes: Informer[Node] | None = None,
        step: Callable[[str], None] = log.info,
    ) -> None:
        self.settings = settings
        self.api = api
        self.runtime = runtime
        self.clock = clock or RealClock()
        self.registry = registry
        self.informers = informers
        self._step = step
        self.metrics = KubeletMetrics(registry)
        self.recorder = EventRecorder(api, component="kubelet", host=settings.node_name, clock=self.clock)
        self.pod_informer: Informer[Pod] = informers.informer(Pod, namespace="",
                                                              field_selector=f"spec.nodeName={settings.node_name}")
        # An informer of every Node (the agent's pod network has one) saves a watch of our own.
        self.node_informer: Informer[Node] = nodes or informers.informer(
            Node, field_selector=f"metadata.name={settings.node_name}")
        self.pods = PodManager(self.pod_informer)
        if settings.pod_manifest_path is None:
            self.pods.static_synced = True
        self.config = config or ApiConfigSource(api)
        self.inspector = Inspector(runtime)
        self.prober = Prober(runtime)
        self.probes = ProbeManager(self.prober, clock=self.clock, on_change=self._wake, on_event=self._pod_event)
        self.volumes = VolumeManager(settings.pods_dir, self.config, allocatable=None,
                                     tokens=ServiceAccountTokens(api, clock=self.clock))
        crash = Backoff(initial=settings.crash_backoff_initial, maximum=settings.crash_backoff_max, clock=self.clock)
        self.crash_backoff = crash
        self.images = ImageManager(
            runtime,
            backoff=Backoff(initial=settings.image_backoff_initial, maximum=settings.image_backoff_max, clock=self.clock),
            clock=self.clock,
        )
        self.node_status = NodeStatusManager(
            api, settings=settings, board=board, runtime=runtime, clock=self.clock, pod_cidr=pod_cidr,
            network=network, not_ready_reasons=self._not_ready, metrics=self.metrics,
        )
        self.syncer = PodSyncer(
            runtime=runtime, settings=settings, clock=self.clock, inspector=self.inspector, volumes=self.volumes,
            images=self.images, probes=self.probes, prober=self.prober, crash_backoff=crash, config=self.config,
            services=services, allocatable=self._allocatable, on_event=self._pod_event, metrics=self.metrics,
        )
        self.status = StatusManager(api, lookup=self.pods.status_target, clock=self.clock,
                                    writers=settings.status_writers)
        self.workers = PodWorkers(self._sync_pod, clock=self.clock, resync_period=settings.sync_frequency)
        self.pleg = PLEG(runtime, clock=self.clock, period=settings.relist_period,
                         threshold=settings.relist_threshold, on_change=self._wake, metrics=self.metrics)
        self.lease = LeaseController(api, node_name=settings.node_name,
                                     duration_seconds=settings.node_lease_duration_seconds,
                                     renew_interval=settings.node_lease_renew_interval, clock=self.clock,
                                     metrics=self.metrics)
        self.gc = GarbageCollector(runtime, settings=settings, clock=self.clock, known_uids=self.pods.uids)
        self.mirrors = staticpods.MirrorPods(api, node_uid=self._node_uid)
        self.server = Server(
            ServerSettings(address=settings.address, port=settings.port, require_client_cert=require_client_cert),
            ssl_context=ssl_context, registry=registry, logs=self._container_logs, pods=self._pod_list_json,
            clock_time=self.clock.time, resource_metrics=lambda: resourcemetrics.render(runtime, now=self.clock.time),
        )
        self._first_seen: dict[str, float] = {}
        self._started: set[str] = set()
        self._tasks: list[asyncio.Task[Any]] = []
        self._manifest_errors: set[str] = set()
        self.ready = asyncio.Event()

    # -- small hooks ----------------------------------------------------------------------

    def _wake(self, uid: str) -> None:
        if self.pods.synced or uid in self.workers:
            self.workers.wake(uid)

    def _pod_event(self, pod: Pod, type_: str, reason: str, message: str) -> None:
        target = pod
        if keys.is_static_pod(pod):
            target = self.pods.mirror_for(pod.metadata.uid) or pod
        self.recorder.event(target, type_, reason, message)

    def _not_ready(self) -> tuple[str, ...]:
        msg = self.pleg.health_message()
        return (msg,) if msg else ()

    def _allocatable(self) -> dict[str, str]:
        node = self.node_status.node
        return dict(node.status.allocatable) if node is not None else {}

    def _node_uid(self) -> str:
        node = self.node_status.node
        return node.metadata.uid if node is not None else ""

    # -- pod sources ----------------------------------------------------------------------

    def _on_pod(self, pod: Pod) -> None:
        if keys.is_mirror_pod(pod):
            return
        uid = pod.metadata.uid
        self._first_seen.setdefault(uid, self.clock.monotonic())
        self._wake(uid)

    def _on_pod_update(self, old: Pod, new: Pod) -> None:
        if old is new:
            return
        self._on_pod(new)

    def _on_pod_delete(self, pod: Pod) -> None:
        if keys.is_mirror_pod(pod):
            return
        self._wake(pod.metadata.uid)

    def _set_static(self, pods: dict[str, Pod]) -> None:
        before = self.pods.static
        merged = {uid: before.get(uid, pod) for uid, pod in pods.items()}
        self.pods.static = merged
        for uid in set(before) | set(merged):
            if uid not in before:
                self._first_seen.setdefault(uid, self.clock.monotonic())
                log.info("static pod %s/%s (%s) added", merged[uid].metadata.namespace, merged[uid].metadata.name, uid)
            elif uid not in merged:
                log.info("static pod %s/%s (%s) removed", before[uid].metadata.namespace, before[uid].metadata.name, uid)
            if uid not in before or uid not in merged:
                self._wake(uid)

    async def _static_loop(self) -> None:
        path = self.settings.pod_manifest_path
        assert path is not None
        while True:
            pods = await asyncio.to_thread(staticpods.scan, path, node_name=self.settings.node_name,
                                           now=self.clock.time(), seen_errors=self._manifest_errors)
            self._set_static(pods)
            first = not self.pods.static_synced
            self.pods.static_synced = True
            if first:
                for uid in self.pods.uids():
                    self._wake(uid)
            if self.pod_informer.has_synced and self.node_status.node is not None:
                await self.mirrors.sync(self.pods.static.values(), self.pod_informer.cache.list())
            await self.clock.sleep(self.settings.static_pod_check_period)

    # -- the pod worker's sync ------------------------------------------------------------

    async def _sync_pod(self, uid: str) -> float | None:
        if not self.pods.synced:
            return self.settings.relist_period
        pod = self.pods.get(uid)
        start = self.clock.monotonic()
        result = await self.syncer.sync(pod, uid)
        op = "kill" if pod is None or pod.metadata.deletion_timestamp else "sync"
        self.metrics.pod_worker.labels(op).observe(self.clock.monotonic() - start)
        if result.done:
            self.status.forget(uid)
            self._first_seen.pop(uid, None)
            self._started.discard(uid)
            return DONE
        if pod is not None and result.status is not None:
            self.status.set(uid, result.status)
        if result.running and uid not in self._started:
            self._started.add(uid)
            seen = self._first_seen.get(uid)
            if seen is not None:
                self.metrics.pod_start.observe(self.clock.monotonic() - seen)
        if result.terminated and pod is not None:
            return await self._confirm_deletion(pod)
        return result.requeue_after

    async def _confirm_deletion(self, pod: Pod) -> float | None:
        """The containers of a deleted pod have stopped: remove the pod from the API."""
        uid = pod.metadata.uid
        await self.status.flush(uid)
        if keys.is_static_pod(pod):
            return None
        try:
            await self.api.delete(Pod, pod.metadata.name, namespace=pod.metadata.namespace, grace_period_seconds=0,
                                  preconditions=meta.Preconditions(uid=uid))
        except (errors.NotFound, errors.Conflict):
            pass
        except errors.ClientError as exc:
            log.warning("pod %s/%s: confirming the deletion failed (retrying): %s", pod.metadata.namespace,
                        pod.metadata.name, exc)
            return self.settings.api_retry_max
        return None

    # -- logs and /pods for the server ----------------------------------------------------

    async def _container_logs(self, req: LogRequest) -> AsyncIterator[bytes]:
        pod = self.pods.by_name(req.namespace, req.pod)
        if pod is None:
            raise LogNotFound(f'pod "{req.pod}" in namespace "{req.namespace}" not found on this node')
        names = [c.name for c in [*pod.spec.init_containers, *pod.spec.containers]]
        if req.container not in names:
            raise LogNotFound(f'container "{req.container}" in pod "{req.pod}" not found')
        state = await self.inspector.pod(pod.metadata.uid)
        rc = state.previous(req.container) if req.previous else state.latest(req.container)
        if rc is None:
            if req.previous:
                raise LogNotFound(f'previous terminated container "{req.container}" in pod "{req.pod}" not found')
            raise ValueError(f'container "{req.container}" in pod "{req.pod}" is waiting to start: ContainerCreating')
        if not rc.status.log_path:
            raise LogNotFound(f'container "{req.container}" in pod "{req.pod}" has no log')
        cid = rc.id

        async def still_running() -> bool:
            try:
                return (await self.runtime.container_status(cid)).state is ContainerState.RUNNING
            except NotFoundError:
                return False
            except CRIError:
                return True

        return logs.read(rc.status.log_path, req.options, still_running=still_running)

    def _pod_list_json(self) -> bytes:
        items = []
        for pod in self.pods.pods():
            st = self.status.get(pod.metadata.uid)
            items.append(msgspec.structs.replace(pod, status=st) if st is not None else pod)
        return codec.encode_list(items, kind="PodList", api_version="v1")

    # -- loops ----------------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        s = self.settings
        last_container_gc = last_image_gc = self.clock.monotonic()
        while True:
            await self.clock.sleep(s.housekeeping_period)
            if not self.pods.synced:
                continue
            try:
                known = self.pods.uids()
                for uid, ref in self.pleg.pods.items():
                    if uid not in known and uid not in self.workers and (ref.running_containers or ref.ready_sandbox):
                        log.info("pod %s/%s (%s) runs but is not wanted here: stopping it", ref.namespace, ref.name, uid)
                        self.workers.wake(uid)
                for uid in self.volumes.forget_except(known | set(self.pleg.pods) | set(self.workers.uids)):
                    log.debug("removed the directory of pod %s", uid)
                self.crash_backoff.gc()
                now = self.clock.monotonic()
                await self.gc.rotate_logs()
                if now - last_container_gc >= s.container_gc_period:
                    last_container_gc = now
                    await self.gc.collect_containers()
                if now - last_image_gc >= s.image_gc_period:
                    last_image_gc = now
                    await self.gc.collect_images()
            except CRIError as exc:
                log.warning("housekeeping: %s", exc)

    def _on_node(self, node: Node) -> None:
        if node.metadata.name != self.settings.node_name:
            return
        self.node_status.observe(node)
        self.lease.observe_node(node)

    async def _wait_runtime(self) -> None:
        delay = 0.2
        while True:
            try:
                version = await self.runtime.version()
            except CRIError as exc:
                log.warning("container runtime not available (retrying in %.1fs): %s", delay, exc)
                await self.clock.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self.syncer.runtime_name = version.runtime_name
            self._step(f"kubelet: container runtime {version.runtime_name} {version.runtime_version}")
            return

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def start(self) -> None:
        s = self.settings
        await self._wait_runtime()
        await self.server.start()
        if self.server.port != s.port:
            self.node_status.settings = replace(self.node_status.settings, port=self.server.port)
        self._step(f"kubelet: serving HTTPS on {s.address}:{self.server.port} (/containerLogs, /pods, /metrics, /metrics/resource, /healthz)")
        node = await self.node_status.register()
        self.lease.observe_node(node)
        self._step(f"kubelet: node {s.node_name} registered (InternalIP {s.node_ip})")
        self.recorder.event(node, "Normal", "Starting", "Starting kubelet.")
        self.pod_informer.add_event_handler(on_add=self._on_pod, on_update=self._on_pod_update,
                                            on_delete=self._on_pod_delete)
        self.node_informer.add_event_handler(on_add=self._on_node, on_update=lambda _o, n: self._on_node(n))
        self.informers.start()
        self._spawn(self.node_status.run(), "node-status")
        self._spawn(self.lease.run(), "node-lease")
        self._spawn(self.status.run(), "pod-status")
        await self.pod_informer.wait_synced()
        self._step(f"kubelet: watching pods bound to {s.node_name} ({len(self.pod_informer.cache)} now)")
        if s.pod_manifest_path is not None:
            self._spawn(self._static_loop(), "static-pods")
            self._step(f"kubelet: static pods from {s.pod_manifest_path}")
        self._spawn(self.pleg.run(), "pleg")
        for uid in self.pods.uids():
            self._first_seen.setdefault(uid, self.clock.monotonic())
            self._wake(uid)
        self._spawn(self._housekeeping(), "housekeeping")
        self.ready.set()
        self._step("kubelet: started")

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks, ignore_errors=True)
        self._tasks.clear()
        await self.workers.stop()
        await self.probes.stop()
        await self.server.stop()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2.0):
                await self.recorder.aclose()
