"""The pod lifecycle event generator: a periodic relist of the runtime that wakes pod workers.

Every ``relist_period`` (1 s) it lists all sandboxes and containers (two CRI calls), groups the
ones the kubelet made by pod uid, and compares each pod's (id, state) pairs with the previous
relist. Pods whose set changed (a container exited, a sandbox died, something appeared or
disappeared) are reported through ``on_change(uid)``. The first relist reports every pod, so a
restarted agent looks at everything that runs.

``pods`` is the latest grouping: pod uid -> (namespace, name) of every pod the runtime has,
for finding orphans. ``healthy`` is False when no relist succeeded for ``relist_threshold``
(3 min): the node then reports NotReady ("PLEG is not healthy").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from agent.kubelet import keys
from agent.kubelet.cri import CRIError, Runtime
from agent.kubelet.cri.types import ContainerState, SandboxState
from agent.kubelet.metrics import KubeletMetrics
from master.util.clock import Clock

__all__ = ["PLEG", "RuntimePodRef"]

log = logging.getLogger("picluster.agent.kubelet")


@dataclass(frozen=True, slots=True)
class RuntimePodRef:
    uid: str
    namespace: str
    name: str
    running_containers: int
    ready_sandbox: bool


class PLEG:
    def __init__(
        self,
        runtime: Runtime,
        *,
        clock: Clock,
        period: float,
        threshold: float,
        on_change: Callable[[str], None],
        metrics: KubeletMetrics | None = None,
    ) -> None:
        self._rt = runtime
        self._clock = clock
        self._period = period
        self._threshold = threshold
        self._on_change = on_change
        self._metrics = metrics
        self._seen: dict[str, frozenset[tuple[str, str]]] = {}
        self.pods: dict[str, RuntimePodRef] = {}
        self.last_relist: float | None = None
        self.relisted = asyncio.Event()
        self.last_error = ""

    @property
    def healthy(self) -> bool:
        if self.last_relist is None:
            return True
        return self._clock.monotonic() - self.last_relist < self._threshold

    def health_message(self) -> str:
        if self.last_relist is None or self.healthy:
            return ""
        ago = int(self._clock.monotonic() - self.last_relist)
        return f"PLEG is not healthy: pleg was last seen active {ago // 60}m{ago % 60}s ago; threshold is {int(self._threshold // 60)}m0s"

    async def relist(self) -> None:
        start = self._clock.monotonic()
        sandboxes, containers = await asyncio.gather(self._rt.list_sandboxes(), self._rt.list_containers())
        groups: dict[str, set[tuple[str, str]]] = {}
        refs: dict[str, tuple[str, str]] = {}
        running: dict[str, int] = {}
        ready: set[str] = set()
        for s in sandboxes:
            uid = s.labels.get(keys.POD_UID)
            if not uid:
                continue
            groups.setdefault(uid, set()).add((s.id, s.state.value))
            refs.setdefault(uid, (s.namespace, s.name))
            if s.state is SandboxState.READY:
                ready.add(uid)
        counts: dict[str, int] = {}
        for c in containers:
            uid = c.labels.get(keys.POD_UID)
            if not uid or keys.CONTAINER_NAME not in c.labels:
                continue
            groups.setdefault(uid, set()).add((c.id, c.state.value))
            refs.setdefault(uid, (c.labels.get(keys.POD_NAMESPACE, ""), c.labels.get(keys.POD_NAME, "")))
            counts[c.state.value] = counts.get(c.state.value, 0) + 1
            if c.state is ContainerState.RUNNING:
                running[uid] = running.get(uid, 0) + 1
        fresh = {uid: frozenset(items) for uid, items in groups.items()}
        changed = [uid for uid in fresh if self._seen.get(uid) != fresh[uid]]
        changed += [uid for uid in self._seen if uid not in fresh]
        self._seen = fresh
        self.pods = {
            uid: RuntimePodRef(uid, ns, name, running.get(uid, 0), uid in ready) for uid, (ns, name) in refs.items()
        }
        self.last_relist = self._clock.monotonic()
        self.last_error = ""
        if self._metrics is not None:
            self._metrics.relist_duration.observe(self.last_relist - start)
            self._metrics.relist_last_seen.set(self._clock.time())
            self._metrics.running_pods.set(len(ready))
            for state in ContainerState:
                self._metrics.running_containers.labels(state.value.removeprefix("CONTAINER_").lower()).set(
                    counts.get(state.value, 0))
        for uid in changed:
            self._on_change(uid)
        self.relisted.set()

    async def run(self) -> None:
        while True:
            try:
                await self.relist()
            except CRIError as exc:
                if exc.message != self.last_error:
                    log.warning("PLEG relist failed: %s", exc)
                self.last_error = exc.message
            await self._clock.sleep(self._period)
