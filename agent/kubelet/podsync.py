"""One pod's sync: level-based, idempotent, the body of a pod worker.

``PodSyncer.sync(pod, uid)`` reads what the runtime has of the pod, decides what to do
(``podactions``), does it, reads the runtime again and computes the pod's API status
(``podstatus``). It is called again whenever something about the pod may have changed (the API
object, a PLEG event, a probe result, a backoff expiring) and at least every sync period, and
does nothing when the runtime already matches the spec. Three situations::

    pod active          volumes, sandbox, images, init containers, containers, restarts with
                        CrashLoopBackOff, liveness kills; returns the status to write
    pod being deleted   preStop hooks, TERM, the grace period, KILL (all containers at once),
                        then the sandbox is stopped; ``terminated`` tells the kubelet to confirm
                        the deletion to the apiserver (delete with grace 0)
    pod gone (None)     an orphan: kill with the grace recorded on its containers, remove its
                        sandboxes and its directory; ``done`` ends the worker

Failures to start a container are values the status shows (waiting reason and message) and
events, and set ``requeue_after``; nothing is raised for them. CRI errors that stop the sync
itself (the runtime is down) propagate, and the worker retries.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import msgspec

from agent.kubelet import hooks, keys, logs, podactions, podstatus
from agent.kubelet.backoff import Backoff
from agent.kubelet.configsource import ConfigSource
from agent.kubelet.cri import AlreadyExistsError, CRIError, Runtime
from agent.kubelet.cri.types import (
    ContainerConfig,
    DNSConfig,
    PortMapping,
    Resources,
    SandboxConfig,
)
from agent.kubelet.envvars import EnvError, expand, make_env
from agent.kubelet.images import ImageManager
from agent.kubelet.metrics import KubeletMetrics
from agent.kubelet.prober import Prober
from agent.kubelet.probes import ProbeManager
from agent.kubelet.runtimestate import Inspector, PodRuntime, RuntimeContainer
from agent.kubelet.settings import KubeletSettings
from agent.kubelet.volumes import VolumeError, VolumeManager
from master.api import quantity, timefmt
from master.api.core import Container, Pod, PodStatus, Service
from master.util.clock import Clock

__all__ = ["EventHook", "PodSyncer", "SyncResult", "grace_period", "sandbox_config"]

log = logging.getLogger("picluster.agent.kubelet")

EventHook = Callable[[Pod, str, str, str], None]  # (pod, type, reason, message)

_LOG_TAIL_LINES = 80
_LOG_TAIL_BYTES = 2048


@dataclass(frozen=True, slots=True)
class SyncResult:
    status: PodStatus | None = None
    requeue_after: float | None = None
    terminated: bool = False  # a pod being deleted has stopped: confirm the deletion
    done: bool = False  # the pod is gone from the node: end its worker
    running: bool = False  # every container of the pod runs (for the start latency metric)


@dataclass(slots=True)
class _PodMemo:
    """What the syncer remembers about a pod between syncs."""

    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)
    status: PodStatus | None = None
    volumes_at: float | None = None  # monotonic time of the last volume set-up


def grace_period(pod: Pod, settings: KubeletSettings) -> float:
    """Seconds a deleted pod's containers get between TERM and KILL."""
    g = pod.metadata.deletion_grace_period_seconds
    if g is None:
        g = pod.spec.termination_grace_period_seconds
    if g is None:
        g = 30
    # The kubelet gives at least 2 s, so a grace-0 delete still lets the process see TERM.
    return float(min(max(g, 2), settings.max_grace_period))


def _dns(pod: Pod, settings: KubeletSettings) -> DNSConfig | None:
    spec = pod.spec
    policy = spec.dns_policy or "ClusterFirst"
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    cluster_first = policy == "ClusterFirstWithHostNet" or (policy == "ClusterFirst" and not spec.host_network)
    if cluster_first and settings.cluster_dns:
        ns = pod.metadata.namespace or "default"
        d = settings.cluster_domain
        servers = list(settings.cluster_dns)
        searches = [f"{ns}.svc.{d}", f"svc.{d}", d]
        options = ["ndots:5"]
    if spec.dns_config is not None:
        servers += [s for s in spec.dns_config.nameservers if s not in servers]
        searches += [s for s in spec.dns_config.searches if s not in searches]
        for o in spec.dns_config.options:
            options.append(f"{o.name}:{o.value}" if o.value is not None else o.name)
    if not (servers or searches or options):
        return None
    return DNSConfig(servers=tuple(servers), searches=tuple(searches), options=tuple(options))


def sandbox_config(pod: Pod, settings: KubeletSettings, attempt: int) -> SandboxConfig:
    m = pod.metadata
    ports = tuple(
        PortMapping(container_port=p.container_port, host_port=p.host_port, protocol=p.protocol or "TCP",
                    host_ip=p.host_ip)
        for c in pod.spec.containers
        for p in c.ports
        if p.host_port > 0 and not pod.spec.host_network
    )
    # A host-network pod shares the node's UTS namespace too: it keeps the node's hostname (the
    # runtime refuses to set one there).
    hostname = "" if pod.spec.host_network else (pod.spec.hostname or m.name)[:63].rstrip("-.")
    grace = pod.spec.termination_grace_period_seconds
    return SandboxConfig(
        name=m.name,
        uid=m.uid,
        namespace=m.namespace,
        attempt=attempt,
        hostname=hostname,
        log_directory=str(settings.log_root / keys.log_dir_name(m.namespace, m.name, m.uid)),
        dns=_dns(pod, settings),
        port_mappings=ports,
        labels=keys.sandbox_labels(pod),
        annotations={keys.GRACE_PERIOD: str(30 if grace is None else grace)},
        host_network=pod.spec.host_network,
    )


def resources(c: Container) -> Resources:
    """The kubelet's cgroup mapping of a container's cpu and memory."""

    def milli(values: Mapping[str, str], name: str) -> int:
        v = values.get(name)
        if not v:
            return 0
        try:
            return quantity.milli_value(v)
        except quantity.QuantityError:
            return 0

    req_cpu = milli(c.resources.requests, "cpu")
    lim_cpu = milli(c.resources.limits, "cpu")
    mem = milli(c.resources.limits, "memory") // 1000
    return Resources(
        cpu_shares=max(2, req_cpu * 1024 // 1000) if req_cpu else 2 if lim_cpu == 0 else max(2, lim_cpu * 1024 // 1000),
        cpu_period=100000 if lim_cpu else 0,
        cpu_quota=max(1000, lim_cpu * 100) if lim_cpu else 0,
        memory_limit_bytes=mem,
    )


class PodSyncer:
    def __init__(
        self,
        *,
        runtime: Runtime,
        settings: KubeletSettings,
        clock: Clock,
        inspector: Inspector,
        volumes: VolumeManager,
        images: ImageManager,
        probes: ProbeManager,
        prober: Prober,
        crash_backoff: Backoff,
        config: ConfigSource,
        services: Callable[[], Iterable[Service]] = list,
        allocatable: Callable[[], Mapping[str, str]] = dict,
        on_event: EventHook | None = None,
        metrics: KubeletMetrics | None = None,
        runtime_name: str = "containerd",
    ) -> None:
        self._rt = runtime
        self.settings = settings
        self._clock = clock
        self.inspector = inspector
        self._volumes = volumes
        self._images = images
        self._probes = probes
        self._prober = prober
        self._crash = crash_backoff
        self._config = config
        self._services = services
        self._allocatable = allocatable
        self._on_event = on_event
        self._metrics = metrics
        self.runtime_name = runtime_name
        self._memo: dict[str, _PodMemo] = {}
        self._starting = asyncio.Semaphore(max(1, settings.start_concurrency))

    def _event(self, pod: Pod, type_: str, reason: str, message: str) -> None:
        if self._on_event is not None:
            self._on_event(pod, type_, reason, message)

    def last_status(self, uid: str) -> PodStatus | None:
        memo = self._memo.get(uid)
        return memo.status if memo is not None else None

    def forget(self, uid: str) -> None:
        self._memo.pop(uid, None)

    # -- the sync --------------------------------------------------------------------------

    async def sync(self, pod: Pod | None, uid: str) -> SyncResult:
        state = await self.inspector.pod(uid)
        if pod is None:
            return await self._sync_orphan(uid, state)
        memo = self._memo.setdefault(uid, _PodMemo())
        if pod.metadata.deletion_timestamp:
            return await self._sync_terminating(pod, state, memo)
        return await self._sync_active(pod, state, memo)

    async def _sync_orphan(self, uid: str, state: PodRuntime) -> SyncResult:
        running = state.running()
        if running:
            grace = next((rc.grace_period for rc in running if rc.grace_period is not None), None)
            if grace is None and state.sandbox is not None:
                grace = state.sandbox.grace_period
            seconds = min(self.settings.orphan_grace_period if grace is None else grace, self.settings.max_grace_period)
            log.info("pod %s is gone from the API: stopping %d containers (grace %gs)", uid, len(running), seconds)
            await asyncio.gather(*(self._rt.stop_container(rc.id, seconds) for rc in running))
        for sb in state.sandboxes:
            await self._rt.stop_sandbox(sb.id)
            await self._rt.remove_sandbox(sb.id)
        for rc in state.containers:
            await self._rt.remove_container(rc.id)
        self.inspector.forget(rc.id for rc in state.containers)
        self._probes.remove_pod(uid, [rc.id for rc in state.containers])
        self._volumes.cleanup(uid)
        self._images.forget(uid)
        self._crash.forget_prefix(uid + "|")
        self.forget(uid)
        return SyncResult(done=True)

    async def _kill(self, pod: Pod, containers: list[RuntimeContainer], grace: float, reasons: Mapping[str, str],
                    pod_ip: str) -> None:
        if not containers:
            return
        specs = {c.name: c for c in [*pod.spec.init_containers, *pod.spec.containers]}

        async def one(rc: RuntimeContainer) -> None:
            self._event(pod, "Normal", "Killing", reasons.get(rc.id) or f"Stopping container {rc.name}")
            left = grace
            spec = specs.get(rc.name)
            if spec is not None and spec.lifecycle is not None and spec.lifecycle.pre_stop is not None and rc.running:
                start = self._clock.monotonic()
                try:
                    async with asyncio.timeout(max(grace, 1.0)):
                        err = await hooks.run(spec.lifecycle.pre_stop, runtime=self._rt, prober=self._prober,
                                              clock=self._clock, container=spec, container_id=rc.id, pod_ip=pod_ip,
                                              budget=grace)
                except TimeoutError:
                    err = f"PreStop hook for Container {rc.name!r} did not finish within the grace period"
                if err:
                    self._event(pod, "Warning", "FailedPreStopHook", err)
                left = max(0.0, grace - (self._clock.monotonic() - start))
            await self._rt.stop_container(rc.id, math.ceil(left))

        await asyncio.gather(*(one(rc) for rc in containers))
        self.inspector.forget(rc.id for rc in containers)

    async def _sync_terminating(self, pod: Pod, state: PodRuntime, memo: _PodMemo) -> SyncResult:
        uid = pod.metadata.uid
        grace = grace_period(pod, self.settings)
        running = state.running()
        pod_ip = state.sandbox.ip if state.sandbox is not None else ""
        if running:
            await self._kill(pod, running, grace, {}, pod_ip)
            state = await self.inspector.pod(uid)
        self._probes.remove_pod(uid, [rc.id for rc in state.containers])
        for sb in state.sandboxes:
            if sb.ready:
                await self._rt.stop_sandbox(sb.id)
        phase = "Succeeded" if all(
            (rc := state.latest(c.name)) is not None and rc.exited and rc.status.exit_code == 0
            for c in pod.spec.containers
        ) else "Failed"
        status = self._status(pod, state, memo, forced_phase=phase)
        return SyncResult(status=status, terminated=True)

    def _status(self, pod: Pod, state: PodRuntime, memo: _PodMemo, *, forced_phase: str = "",
                reason: str = "", message: str = "") -> PodStatus:
        previous = memo.status
        base = pod
        if previous is not None:
            # Keep what we reported last (start time, IPs, phase) and the API's foreign conditions.
            ours = {"Initialized", "ContainersReady", "Ready"}
            conditions = [c for c in pod.status.conditions if c.type not in ours]
            conditions += [c for c in previous.conditions if c.type in ours]
            base = msgspec.structs.replace(pod, status=msgspec.structs.replace(previous, conditions=conditions))
        status = podstatus.compute(base, podstatus.StatusInput(
            runtime=state,
            host_ip=self.settings.node_ip,
            now=self._clock.time(),
            runtime_name=self.runtime_name,
            waiting=dict(memo.waiting),
            is_ready=self._probes.is_ready,
            is_started=self._probes.is_started,
            termination_message=lambda rc: self._termination_message(pod, rc),
            pod_reason=reason,
            pod_message=message,
            forced_phase=forced_phase,
        ))
        memo.status = status
        return status

    def _termination_message(self, pod: Pod, rc: RuntimeContainer) -> str:
        spec = next((c for c in [*pod.spec.init_containers, *pod.spec.containers] if c.name == rc.name), None)
        msg = self._volumes.termination_message(pod.metadata.uid, rc.name, rc.restart_count)
        if msg or spec is None:
            return msg
        if spec.termination_message_policy == "FallbackToLogsOnError" and rc.status.exit_code != 0 and rc.status.log_path:
            return logs.tail_text(rc.status.log_path, lines=_LOG_TAIL_LINES, max_bytes=_LOG_TAIL_BYTES)
        return ""

    async def _sync_active(self, pod: Pod, state: PodRuntime, memo: _PodMemo) -> SyncResult:
        uid = pod.metadata.uid
        requeue: list[float] = []
        reason = message = forced = ""
        previous = memo.status or pod.status
        if previous.phase in ("Succeeded", "Failed"):
            running = state.running()
            if running:
                await self._kill(pod, running, grace_period(pod, self.settings), {}, "")
            for sb in state.sandboxes:
                if sb.ready:
                    await self._rt.stop_sandbox(sb.id)
            if running or any(sb.ready for sb in state.sandboxes):
                state = await self.inspector.pod(uid)
            self._probes.remove_pod(uid, [rc.id for rc in state.containers])
            return SyncResult(status=self._status(pod, state, memo))

        deadline = pod.spec.active_deadline_seconds
        if deadline is not None:
            try:
                started = timefmt.to_epoch(previous.start_time) if previous.start_time else self._clock.time()
            except timefmt.TimeFormatError:
                started = self._clock.time()
            left = started + deadline - self._clock.time()
            if left <= 0:
                self._event(pod, "Warning", "DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
                await self._kill(pod, state.running(), grace_period(pod, self.settings), {}, "")
                for sb in state.sandboxes:
                    if sb.ready:
                        await self._rt.stop_sandbox(sb.id)
                state = await self.inspector.pod(uid)
                return SyncResult(status=self._status(
                    pod, state, memo, forced_phase="Failed", reason="DeadlineExceeded",
                    message="Pod was active on the node longer than the specified deadline"))
            requeue.append(left)

        actions = podactions.compute(pod, state, liveness_failed=self._probes.liveness_failed)
        pod_ip = state.sandbox.ip if state.sandbox is not None and state.sandbox.ready else ""
        if actions.kill:
            grace = float(pod.spec.termination_grace_period_seconds or 30)
            await self._kill(pod, [k.container for k in actions.kill], min(grace, self.settings.max_grace_period),
                             {k.container.id: k.reason for k in actions.kill}, pod_ip)
            if self._metrics is not None:
                self._metrics.restarted_containers.inc(sum(1 for k in actions.kill if k.container.running))
            state = await self.inspector.pod(uid)
            actions = podactions.compute(pod, state, liveness_failed=self._probes.liveness_failed)
        for rc in actions.remove:
            await self._rt.remove_container(rc.id)
        if actions.init_failed:
            forced = "Failed"
            reason, message = "", actions.init_failed
        if actions.create_sandbox or actions.start:
            async with self._starting:
                state, pod_ip, stop = await self._create_and_start(pod, state, actions, memo, pod_ip, requeue)
            memo.volumes_at = self._clock.monotonic()
            if stop is not None:
                return stop
        else:
            await self._refresh_volumes(pod, memo, pod_ip)
        # Containers that run or wait for good reason keep their recorded waiting reason only
        # while they have not started since.
        for c in pod.spec.containers + pod.spec.init_containers:
            now_running = state.latest(c.name)
            if now_running is not None and now_running.running:
                memo.waiting.pop(c.name, None)
        self._probes.sync_pod(pod, state, pod_ip=(self.settings.node_ip if pod.spec.host_network else pod_ip),
                              ready_ids=_ready_ids(pod))
        status = self._status(pod, state, memo, forced_phase=forced, reason=reason, message=message)
        all_running = bool(pod.spec.containers) and all(
            (latest := state.latest(c.name)) is not None and latest.running for c in pod.spec.containers)
        if podstatus.terminal(status.phase):
            requeue.append(0.0)  # once more, to stop the sandbox of a finished pod
        return SyncResult(status=status, requeue_after=min(requeue) if requeue else None, running=all_running)

    async def _create_and_start(self, pod: Pod, state: PodRuntime, actions: podactions.Actions, memo: _PodMemo,
                                pod_ip: str, requeue: list[float]) -> tuple[PodRuntime, str, SyncResult | None]:
        uid = pod.metadata.uid
        if actions.create_sandbox:
            ok, retry = await self._create_sandbox(pod, state, actions, memo)
            if retry is not None:
                requeue.append(retry)
            state = await self.inspector.pod(uid)
            if not ok:
                return state, pod_ip, SyncResult(status=self._status(pod, state, memo), requeue_after=min(requeue))
            pod_ip = state.sandbox.ip if state.sandbox is not None else ""
        if actions.start:
            host_ip = self.settings.node_ip
            ip = host_ip if pod.spec.host_network else pod_ip
            try:
                await self._volumes.setup(pod, host_ip=host_ip, pod_ip=ip)
            except VolumeError as exc:
                self._event(pod, "Warning", "FailedMount", str(exc))
                for s in actions.start:
                    memo.waiting[s.container.name] = ("ContainerCreating", str(exc))
                requeue.append(2.0)
            else:
                sandbox = state.sandbox
                assert sandbox is not None
                sbc = sandbox_config(pod, self.settings, sandbox.attempt)
                for s in actions.start:
                    retry = await self._start(pod, s, sandbox.id, sbc, ip, memo)
                    if retry is not None:
                        requeue.append(retry)
                    if s.init:
                        break
            state = await self.inspector.pod(uid)
        return state, pod_ip, None

    async def _refresh_volumes(self, pod: Pod, memo: _PodMemo, pod_ip: str) -> None:
        """Running containers see configMap and secret updates: re-write their volumes now and
        then (only changed content is written)."""
        refreshable = any(v.config_map or v.secret or v.projected or v.downward_api for v in pod.spec.volumes)
        now = self._clock.monotonic()
        if not refreshable or (memo.volumes_at is not None and now - memo.volumes_at < self.settings.volume_refresh_period):
            return
        memo.volumes_at = now
        try:
            await self._volumes.setup(pod, host_ip=self.settings.node_ip, pod_ip=pod_ip)
        except VolumeError as exc:
            log.warning("pod %s/%s: refreshing volumes failed: %s", pod.metadata.namespace, pod.metadata.name, exc)

    async def _create_sandbox(self, pod: Pod, state: PodRuntime, actions: podactions.Actions,
                              memo: _PodMemo) -> tuple[bool, float | None]:
        uid = pod.metadata.uid
        if actions.sandbox_changed:
            self._event(pod, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
        for sb in state.sandboxes:
            if sb.ready:
                await self._rt.stop_sandbox(sb.id)
        try:
            await self._volumes.setup(pod, host_ip=self.settings.node_ip)
        except VolumeError as exc:
            self._event(pod, "Warning", "FailedMount", str(exc))
            for c in [*pod.spec.init_containers, *pod.spec.containers]:
                memo.waiting[c.name] = ("ContainerCreating", str(exc))
            return False, 2.0
        config = sandbox_config(pod, self.settings, actions.sandbox_attempt)
        key = f"{uid}|sandbox"
        try:
            await self._rt.run_sandbox(config)
        except AlreadyExistsError:
            return True, None
        except CRIError as exc:
            msg = f"Failed to create pod sandbox: {exc}"
            self._event(pod, "Warning", "FailedCreatePodSandBox", msg)
            for c in [*pod.spec.init_containers, *pod.spec.containers]:
                memo.waiting[c.name] = ("ContainerCreating", msg)
            return False, self._crash.next(key)
        self._crash.reset(key)
        for c in [*pod.spec.init_containers, *pod.spec.containers]:
            if memo.waiting.get(c.name, ("",))[0] == "ContainerCreating":
                memo.waiting.pop(c.name, None)
        return True, None

    async def _start(self, pod: Pod, s: podactions.Start, sandbox_id: str, sbc: SandboxConfig, pod_ip: str,
                     memo: _PodMemo) -> float | None:
        c = s.container
        uid = pod.metadata.uid
        name = c.name
        if s.previous is not None and s.previous.exited:
            key = f"{uid}|{name}|{keys.container_hash(c)}"
            finished = max(s.previous.status.finished_at, s.previous.status.started_at) / 1e9
            if self._crash.in_backoff_since(key, finished):
                delay = self._crash.delay(key)
                msg = (f"back-off {_duration(delay)} restarting failed container={name} "
                       f"pod={pod.metadata.name}_{pod.metadata.namespace}({uid})")
                memo.waiting[name] = ("CrashLoopBackOff", msg)
                self._event(pod, "Warning", "BackOff", "Back-off restarting failed container " + name)
                return max(0.05, self._crash.remaining(key, finished))
            self._crash.next(key, finished)
        img = await self._images.ensure(c.image, c.image_pull_policy, backoff_key=uid, sandbox_config=sbc)
        for type_, reason, message in img.events:
            self._event(pod, type_, reason, message)
        if not img.ok:
            memo.waiting[name] = (img.reason, img.message)
            if self._metrics is not None:
                self._metrics.started_container_errors.labels(img.reason).inc()
            return img.retry_after if img.retry_after is not None else self.settings.image_backoff_initial
        try:
            env = await make_env(pod, c, source=self._config, host_ip=self.settings.node_ip, pod_ip=pod_ip,
                                 services=self._services(), allocatable=self._allocatable())
            mounts = self._volumes.mounts(pod, c, restart_count=s.restart_count)
        except (EnvError, VolumeError) as exc:
            memo.waiting[name] = ("CreateContainerConfigError", str(exc))
            self._event(pod, "Warning", "Failed", f"Error: {exc}")
            if self._metrics is not None:
                self._metrics.started_container_errors.labels("CreateContainerConfigError").inc()
            return self.settings.image_backoff_initial
        grace = pod.spec.termination_grace_period_seconds
        config = ContainerConfig(
            name=name,
            image=img.ref,
            attempt=s.restart_count,
            command=tuple(expand(a, env) for a in c.command),
            args=tuple(expand(a, env) for a in c.args),
            working_dir=c.working_dir,
            env=env,
            mounts=tuple(mounts),
            labels=keys.container_labels(pod, c),
            annotations={
                keys.CONTAINER_HASH: keys.container_hash(c),
                keys.RESTART_COUNT: str(s.restart_count),
                keys.GRACE_PERIOD: str(30 if grace is None else grace),
            },
            log_path=f"{name}/{s.restart_count}.log",
            resources=resources(c),
        )
        try:
            cid = await self._rt.create_container(sandbox_id, config, sbc)
        except AlreadyExistsError:
            return 0.1  # a container of that name and attempt exists already: relist and adopt it
        except CRIError as exc:
            memo.waiting[name] = ("CreateContainerError", str(exc))
            self._event(pod, "Warning", "Failed", f"Error: {exc}")
            if self._metrics is not None:
                self._metrics.started_container_errors.labels("CreateContainerError").inc()
            return self.settings.image_backoff_initial
        self._event(pod, "Normal", "Created", f"Created container {name}")
        try:
            await self._rt.start_container(cid)
        except CRIError as exc:
            memo.waiting[name] = ("RunContainerError", str(exc))
            self._event(pod, "Warning", "Failed", f"Error: {exc}")
            if self._metrics is not None:
                self._metrics.started_container_errors.labels("RunContainerError").inc()
            return self.settings.image_backoff_initial
        memo.waiting.pop(name, None)
        self._event(pod, "Normal", "Started", f"Started container {name}")
        if self._metrics is not None:
            self._metrics.started_containers.inc()
        if c.lifecycle is not None and c.lifecycle.post_start is not None:
            err = await hooks.run(c.lifecycle.post_start, runtime=self._rt, prober=self._prober, clock=self._clock,
                                  container=c, container_id=cid, pod_ip=pod_ip,
                                  budget=float(self.settings.max_grace_period))
            if err:
                self._event(pod, "Warning", "FailedPostStartHook", err)
                await self._rt.stop_container(cid, float(grace if grace is not None else 30))
                memo.waiting[name] = ("PostStartHookError", err)
        return None


def _ready_ids(pod: Pod) -> list[str]:
    out = []
    for s in pod.status.container_statuses:
        if s.ready and s.container_id:
            out.append(s.container_id.partition("://")[2])
    return out


def _duration(seconds: float) -> str:
    """Go's time.Duration text for whole seconds: 10s, 1m20s, 5m0s."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    return f"{s // 60}m{s % 60}s"
