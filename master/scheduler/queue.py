"""The scheduling queue: pods waiting for a scheduling attempt, in three parts (kube-scheduler's).

- activeQ: ready to try now; popped by priority (higher first), then by queue timestamp.
- backoffQ: failed recently; each pod waits ``initial_backoff * 2^(attempts-1)`` seconds
  (1 s doubling to 10 s by default) after its last attempt, then moves to activeQ.
- unschedulable: no node fit. Such a pod moves back (to backoffQ while its backoff lasts,
  else activeQ) only when a cluster event could help it: an event one of the plugins that
  rejected it registered for (``events_to_register``), or any event when none is known; a
  pod updated in a way that matters (spec, labels, annotations; not status); or after
  ``max_unschedulable`` seconds without such an event (the periodic flush).

Events that happen while a pod is *in flight* (popped, its attempt not finished) are
remembered, so the pod cannot miss the one that would have helped it::

    p is popped (in flight); a node is added; p's attempt fails on NodeResourcesFit
    -> the node-add is in p's in-flight events and NodeResourcesFit registered for it,
       so p goes to backoffQ (retried soon), not to the unschedulable pods

Everything is single-threaded asyncio; ``pop()`` is the only coroutine (it waits for a pod
or for the earliest backoff to expire). Time comes from a ``Clock``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from master.api import core
from master.scheduler.framework.interface import ClusterEvent
from master.scheduler.framework.types import PodInfo
from master.util.clock import Clock, RealClock

__all__ = ["QueueSettings", "QueuedPodInfo", "SchedulingQueue", "is_pod_updated"]

ACTIVE = "active"
BACKOFF = "backoff"
UNSCHEDULABLE = "unschedulable"


@dataclass(frozen=True, slots=True)
class QueueSettings:
    initial_backoff: float = 1.0
    max_backoff: float = 10.0
    # A pod unschedulable this long without a helpful event is retried anyway.
    max_unschedulable: float = 60.0
    flush_period: float = 30.0


@dataclass(slots=True, eq=False)
class QueuedPodInfo:
    info: PodInfo
    # When the pod entered (or re-entered) the queue: activeQ order and the backoff start.
    timestamp: float
    # When the pod was first added: for the end-to-end scheduling latency.
    added: float
    attempts: int = 0
    unschedulable_plugins: frozenset[str] = frozenset()
    # The scheduling cycle of the pod's latest attempt.
    cycle: int = 0
    where: str = field(default="")

    @property
    def key(self) -> str:
        return self.info.key


def is_pod_updated(old: core.Pod, new: core.Pod) -> bool:
    """Whether an update could change the scheduling outcome (status-only writes do not)."""
    if old is new:
        return False
    return (
        old.spec != new.spec
        or old.metadata.labels != new.metadata.labels
        or old.metadata.annotations != new.metadata.annotations
    )


class SchedulingQueue:
    def __init__(
        self,
        settings: QueueSettings | None = None,
        *,
        plugin_events: Mapping[str, Sequence[ClusterEvent]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or QueueSettings()
        self.clock = clock or RealClock()
        self.plugin_events = dict(plugin_events or {})
        self._active: dict[str, QueuedPodInfo] = {}
        self._active_heap: list[tuple[int, float, int, QueuedPodInfo]] = []
        self._backoff: dict[str, QueuedPodInfo] = {}
        self._backoff_heap: list[tuple[float, int, QueuedPodInfo]] = []
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._closed = False
        self.scheduling_cycle = 0
        # Popped pods whose attempt is not finished (key -> cycle), and the cluster events seen
        # meanwhile (cycle at the time, event); cleared whenever nothing is in flight.
        self._in_flight: dict[str, int] = {}
        self._in_flight_events: deque[tuple[int, ClusterEvent]] = deque()
        # How many unschedulable pods each plugin rejected; pods whose rejectors are unknown
        # (or registered no events) are "wildcards": every event may help them.
        self._plugin_refs: dict[str, int] = {}
        self._wildcards = 0

    # ---- sizes -----------------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        return {ACTIVE: len(self._active), BACKOFF: len(self._backoff), UNSCHEDULABLE: len(self._unschedulable)}

    def __len__(self) -> int:
        return len(self._active) + len(self._backoff) + len(self._unschedulable)

    def __contains__(self, key: str) -> bool:
        return key in self._active or key in self._backoff or key in self._unschedulable

    def where(self, key: str) -> str:
        """"active", "backoff", "unschedulable" or "" (not queued)."""
        for name, part in ((ACTIVE, self._active), (BACKOFF, self._backoff), (UNSCHEDULABLE, self._unschedulable)):
            if key in part:
                return name
        return ""

    # ---- adds and updates ------------------------------------------------------------------

    def add(self, info: PodInfo) -> None:
        """A new pending pod (or a re-add of one already queued: then an update)."""
        if info.key in self:
            self._replace(info)
            return
        now = self.clock.monotonic()
        self._push_active(QueuedPodInfo(info, timestamp=now, added=now))

    def update(self, old: core.Pod, info: PodInfo) -> None:
        key = info.key
        qpi = self._active.get(key) or self._backoff.get(key)
        if qpi is not None:
            qpi.info = info
            return
        qpi = self._unschedulable.get(key)
        if qpi is None:
            self.add(info)
            return
        qpi.info = info
        if is_pod_updated(old, info.pod):
            self._unpark(key)
            self._requeue(qpi)

    def _replace(self, info: PodInfo) -> None:
        for part in (self._active, self._backoff, self._unschedulable):
            qpi = part.get(info.key)
            if qpi is not None:
                qpi.info = info

    def delete(self, key: str) -> None:
        self._active.pop(key, None)
        self._backoff.pop(key, None)
        self._unpark(key)

    def add_unschedulable_if_not_present(self, qpi: QueuedPodInfo, *, error: bool = False) -> None:
        """Return a pod after a failed attempt: to backoffQ after an error or when an event
        during its attempt may have helped it, else to the unschedulable pods."""
        self._in_flight.pop(qpi.key, None)
        helped = any(cycle >= qpi.cycle and self._helps(qpi, ev) for cycle, ev in self._in_flight_events)
        if not self._in_flight:
            self._in_flight_events.clear()
        if qpi.key in self:
            return
        qpi.timestamp = self.clock.monotonic()
        if error or helped:
            self._push_backoff(qpi)
        else:
            self._park(qpi)

    def done(self, key: str) -> None:
        """The attempt for ``key`` is over without a requeue (the pod was assumed, or dropped)."""
        self._in_flight.pop(key, None)
        if not self._in_flight:
            self._in_flight_events.clear()

    def move_all_to_active_or_backoff(self, event: ClusterEvent) -> int:
        """A cluster event: move the unschedulable pods it may help. Returns how many moved."""
        if self._in_flight:
            self._in_flight_events.append((self.scheduling_cycle, event))
        if not self._unschedulable:
            return 0
        if not self._wildcards:
            interested = [p for p, evs in self.plugin_events.items() if any(e.matches(event) for e in evs)]
            if not any(self._plugin_refs.get(p) for p in interested):
                return 0
        moved = 0
        for key, qpi in list(self._unschedulable.items()):
            if self._helps(qpi, event):
                self._unpark(key)
                self._requeue(qpi)
                moved += 1
        return moved

    def _is_wildcard(self, qpi: QueuedPodInfo) -> bool:
        return not qpi.unschedulable_plugins or any(p not in self.plugin_events for p in qpi.unschedulable_plugins)

    def _park(self, qpi: QueuedPodInfo) -> None:
        qpi.where = UNSCHEDULABLE
        self._unschedulable[qpi.key] = qpi
        if self._is_wildcard(qpi):
            self._wildcards += 1
        for p in qpi.unschedulable_plugins:
            self._plugin_refs[p] = self._plugin_refs.get(p, 0) + 1

    def _unpark(self, key: str) -> QueuedPodInfo | None:
        qpi = self._unschedulable.pop(key, None)
        if qpi is None:
            return None
        if self._is_wildcard(qpi):
            self._wildcards -= 1
        for p in qpi.unschedulable_plugins:
            left = self._plugin_refs.get(p, 0) - 1
            if left > 0:
                self._plugin_refs[p] = left
            else:
                self._plugin_refs.pop(p, None)
        return qpi

    def _helps(self, qpi: QueuedPodInfo, event: ClusterEvent) -> bool:
        if not qpi.unschedulable_plugins:
            return True
        for plugin in qpi.unschedulable_plugins:
            registered = self.plugin_events.get(plugin)
            if registered is None or any(e.matches(event) for e in registered):
                return True
        return False

    def flush_unschedulable_leftover(self) -> int:
        now = self.clock.monotonic()
        stale = [k for k, q in self._unschedulable.items() if now - q.timestamp >= self.settings.max_unschedulable]
        for key in stale:
            qpi = self._unpark(key)
            if qpi is not None:
                self._requeue(qpi)
        return len(stale)

    def _requeue(self, qpi: QueuedPodInfo) -> None:
        if self._backoff_expiry(qpi) > self.clock.monotonic():
            self._push_backoff(qpi)
        else:
            self._push_active(qpi)

    def backoff_duration(self, attempts: int) -> float:
        s = self.settings
        if attempts <= 0:
            return 0.0
        return min(s.initial_backoff * (2 ** min(attempts - 1, 62)), s.max_backoff)

    def _backoff_expiry(self, qpi: QueuedPodInfo) -> float:
        return qpi.timestamp + self.backoff_duration(qpi.attempts)

    def _push_active(self, qpi: QueuedPodInfo) -> None:
        qpi.where = ACTIVE
        self._active[qpi.key] = qpi
        heapq.heappush(self._active_heap, (-qpi.info.priority, qpi.timestamp, next(self._seq), qpi))
        self._wake.set()

    def _push_backoff(self, qpi: QueuedPodInfo) -> None:
        qpi.where = BACKOFF
        self._backoff[qpi.key] = qpi
        heapq.heappush(self._backoff_heap, (self._backoff_expiry(qpi), next(self._seq), qpi))
        self._wake.set()

    # ---- pops ------------------------------------------------------------------------------

    def flush_backoff_completed(self) -> float | None:
        """Move pods whose backoff ended to activeQ; the next expiry (monotonic), if any."""
        now = self.clock.monotonic()
        heap = self._backoff_heap
        while heap:
            expiry, _, qpi = heap[0]
            if self._backoff.get(qpi.key) is not qpi:
                heapq.heappop(heap)
                continue
            if expiry > now:
                return expiry
            heapq.heappop(heap)
            del self._backoff[qpi.key]
            self._push_active(qpi)
        return None

    def pop_nowait(self) -> QueuedPodInfo | None:
        self.flush_backoff_completed()
        heap = self._active_heap
        while heap:
            qpi = heapq.heappop(heap)[3]
            if self._active.get(qpi.key) is qpi:
                del self._active[qpi.key]
                qpi.where = ""
                qpi.attempts += 1
                self.scheduling_cycle += 1
                qpi.cycle = self.scheduling_cycle
                self._in_flight[qpi.key] = qpi.cycle
                return qpi
        return None

    async def pop(self) -> QueuedPodInfo | None:
        """The next pod to schedule, waiting as long as needed; None once closed."""
        while not self._closed:
            qpi = self.pop_nowait()
            if qpi is not None:
                return qpi
            next_expiry = self.flush_backoff_completed()
            self._wake.clear()
            if next_expiry is None:
                await self._wake.wait()
                continue
            delay = max(next_expiry - self.clock.monotonic(), 0.0)
            sleeper = asyncio.ensure_future(self.clock.sleep(delay))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()
        return None

    async def run_flusher(self, on_flush: Callable[[int], None] | None = None) -> None:
        """Every ``flush_period`` seconds, retry pods unschedulable for too long (until cancelled)."""
        while not self._closed:
            await self.clock.sleep(self.settings.flush_period)
            moved = self.flush_unschedulable_leftover()
            if on_flush is not None and moved:
                on_flush(moved)

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    @property
    def closed(self) -> bool:
        return self._closed

