"""Probe workers: one task per (running container, probe kind), and their latest results.

A worker waits ``initialDelaySeconds`` after the container started, then runs its probe every
``periodSeconds`` (timeout ``timeoutSeconds``), and changes its result only after
``successThreshold`` successes or ``failureThreshold`` failures in a row. Until the startup
probe has succeeded, liveness and readiness probes do not run. Results start as::

    readiness   not ready (ready at once when the API said this very container was ready:
                a restarted agent does not flap its pods to NotReady)
    liveness    alive
    startup     not started

A liveness or startup failure ends its worker: the pod worker kills the container and a new
container id gets new workers. Every change of a result calls ``on_change(pod uid)`` so the pod
worker syncs at once; failures are reported through ``on_event`` (Warning Unhealthy).
Results are kept by container id, so they never leak from one container to its restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from agent.kubelet.prober import Outcome, Prober, Result
from agent.kubelet.runtimestate import PodRuntime
from master.api.core import Container, Pod, Probe
from master.util.clock import Clock
from master.util.tasks import cancel_and_wait

__all__ = ["LIVENESS", "READINESS", "STARTUP", "ProbeManager", "Results"]

log = logging.getLogger("picluster.agent.kubelet")

READINESS = "Readiness"
LIVENESS = "Liveness"
STARTUP = "Startup"

EventHook = Callable[[Pod, str, str, str], None]  # (pod, type, reason, message)


@dataclass(slots=True)
class Results:
    """A container's probe results (by container id)."""

    ready: bool = False
    alive: bool = True
    started: bool = False
    liveness_message: str = ""
    startup_message: str = ""


@dataclass(slots=True)
class _Worker:
    uid: str
    container_id: str
    kind: str
    task: asyncio.Task[None] | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _period(p: Probe) -> float:
    return float(p.period_seconds or 10)


class ProbeManager:
    def __init__(
        self,
        prober: Prober,
        *,
        clock: Clock,
        on_change: Callable[[str], None],
        on_event: EventHook | None = None,
    ) -> None:
        self._prober = prober
        self._clock = clock
        self._on_change = on_change
        self._on_event = on_event
        self._results: dict[str, Results] = {}
        self._workers: dict[tuple[str, str, str], _Worker] = {}  # (uid, container name, kind)

    # -- reading --------------------------------------------------------------------------

    def results(self, container_id: str) -> Results | None:
        return self._results.get(container_id)

    def is_ready(self, container: Container, container_id: str) -> bool:
        """Readiness of a running container (no readiness probe: ready once started)."""
        r = self._results.get(container_id)
        if container.startup_probe is not None and (r is None or not r.started):
            return False
        if container.readiness_probe is None:
            return True
        return r is not None and r.ready

    def is_started(self, container: Container, container_id: str) -> bool:
        if container.startup_probe is None:
            return True
        r = self._results.get(container_id)
        return r is not None and r.started

    def liveness_failed(self, container_id: str) -> str | None:
        """"failed liveness probe" / "failed startup probe" when the container must be killed."""
        r = self._results.get(container_id)
        if r is None:
            return None
        if not r.alive:
            return "failed liveness probe"
        if r.startup_message:
            return "failed startup probe"
        return None

    # -- keeping workers in step with the pod ---------------------------------------------

    def sync_pod(self, pod: Pod, runtime: PodRuntime, *, pod_ip: str, ready_ids: Iterable[str] = ()) -> None:
        """Start workers for the pod's running containers with probes; stop stale ones."""
        uid = pod.metadata.uid
        ready = set(ready_ids)
        wanted: dict[tuple[str, str, str], tuple[Container, str, Probe, int]] = {}
        for c in pod.spec.containers:
            rc = runtime.latest(c.name)
            if rc is None or not rc.running:
                continue
            if rc.id not in self._results:
                self._results[rc.id] = Results(ready=rc.id in ready, started=rc.id in ready)
            for kind, probe in ((STARTUP, c.startup_probe), (LIVENESS, c.liveness_probe), (READINESS, c.readiness_probe)):
                if probe is not None:
                    wanted[(uid, c.name, kind)] = (c, rc.id, probe, rc.status.started_at)
        for key, w in list(self._workers.items()):
            if key[0] != uid:
                continue
            want = wanted.get(key)
            if want is None or want[1] != w.container_id:
                self._stop(key)
        for key, (c, cid, probe, started_at) in wanted.items():
            if key in self._workers:
                continue
            r = self._results[cid]
            if key[2] == STARTUP and r.started:
                continue
            if key[2] in (LIVENESS, STARTUP) and self.liveness_failed(cid):
                continue
            w = _Worker(uid, cid, key[2])
            self._workers[key] = w
            w.task = asyncio.get_running_loop().create_task(
                self._run(w, pod, c, probe, started_at, pod_ip), name=f"probe {key[2]} {pod.metadata.name}/{c.name}"
            )
        live = {rc.id for rc in runtime.containers if rc.running}
        for cid in [cid for cid, _ in self._by_pod(uid) if cid not in live]:
            self._results.pop(cid, None)

    def _by_pod(self, uid: str) -> list[tuple[str, Results]]:
        ids = {w.container_id for (u, _, _), w in self._workers.items() if u == uid}
        return [(cid, r) for cid, r in self._results.items() if cid in ids]

    def _stop(self, key: tuple[str, str, str]) -> None:
        w = self._workers.pop(key, None)
        if w is not None and w.task is not None and w.task is not asyncio.current_task():
            w.task.cancel()

    def remove_pod(self, uid: str, container_ids: Iterable[str] = ()) -> None:
        for key in [k for k in self._workers if k[0] == uid]:
            self._stop(key)
        for cid in container_ids:
            self._results.pop(cid, None)

    async def stop(self) -> None:
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        self._workers.clear()
        await cancel_and_wait(tasks)
        await self._prober.close()

    # -- one worker -----------------------------------------------------------------------

    async def _run(self, w: _Worker, pod: Pod, c: Container, probe: Probe, started_at: int, pod_ip: str) -> None:
        try:
            await self._loop(w, pod, c, probe, started_at, pod_ip)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("probe worker %s %s/%s failed", w.kind, pod.metadata.name, c.name)
        finally:
            key = (w.uid, c.name, w.kind)
            if self._workers.get(key) is w:
                del self._workers[key]

    async def _loop(self, w: _Worker, pod: Pod, c: Container, probe: Probe, started_at: int, pod_ip: str) -> None:
        started = started_at / 1e9 if started_at else self._clock.time()
        delay = started + probe.initial_delay_seconds - self._clock.time()
        if delay > 0:
            await self._clock.sleep(delay)
        success_needed = max(1, probe.success_threshold or 1)
        failure_needed = max(1, probe.failure_threshold or 3)
        last: Result | None = None
        streak = 0
        while True:
            r = self._results.get(w.container_id)
            if r is None:
                return
            if w.kind != STARTUP and c.startup_probe is not None and not r.started:
                await self._clock.sleep(_period(probe))
                continue
            outcome = await self._prober.probe(probe, c, w.container_id, pod_ip)
            r = self._results.get(w.container_id)
            if r is None:
                return
            if outcome.result is Result.UNKNOWN:
                log.debug("%s probe of %s/%s: %s", w.kind, pod.metadata.name, c.name, outcome.message)
                await self._clock.sleep(_period(probe))
                continue
            streak = streak + 1 if outcome.result is last else 1
            last = outcome.result
            if outcome.result is Result.FAILURE and self._on_event is not None:
                self._on_event(pod, "Warning", "Unhealthy", f"{w.kind} probe failed: {outcome.message}".rstrip(": "))
            if self._apply(w, r, outcome, streak, success_needed, failure_needed):
                self._on_change(w.uid)
                if w.kind == STARTUP and r.started:
                    return
                if w.kind in (LIVENESS, STARTUP) and outcome.result is Result.FAILURE:
                    return
            await self._clock.sleep(_period(probe))

    @staticmethod
    def _apply(w: _Worker, r: Results, outcome: Outcome, streak: int, success_needed: int, failure_needed: int) -> bool:
        ok = outcome.result is Result.SUCCESS
        needed = success_needed if ok else failure_needed
        if w.kind == LIVENESS or w.kind == STARTUP:
            needed = 1 if ok else failure_needed
        if streak < needed:
            return False
        if w.kind == READINESS:
            changed = r.ready != ok
            r.ready = ok
            return changed
        if w.kind == LIVENESS:
            changed = r.alive != ok
            r.alive = ok
            r.liveness_message = "" if ok else outcome.message
            return changed
        if ok:
            changed = not r.started
            r.started = True
            r.startup_message = ""
            return changed
        r.startup_message = outcome.message or "startup probe failed"
        return True
