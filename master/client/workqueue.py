"""A deduplicating work queue of keys, with delays, per-key rate limiting and metrics.

Semantics (client-go's ``workqueue``):

- ``add(key)`` queues a key once: adding a key that is already waiting does nothing.
- A key handed out by ``get()`` is *processing* until ``done(key)``. While it is processing
  it is never handed out again; an ``add`` meanwhile marks it dirty and it is queued again
  at ``done``. So one key is never worked on by two workers at once, and no change is lost.
- ``add_after(key, seconds)`` adds later (an earlier pending deadline for the same key wins);
  ``add_rate_limited(key)`` adds after the rate limiter's delay for that key; ``forget(key)``
  resets the key's failure count after a success.
- ``shutdown()`` makes every ``get()`` return None; adds after it are ignored.

Worked example::

    add(a); add(b); add(a)      queue [a, b]
    get() -> a                  queue [b], processing {a}
    add(a)                      queue [b], a is dirty (not queued: it is processing)
    get() -> b; done(b)         queue []
    done(a)                     queue [a]

Time comes from a ``Clock`` so tests drive delays with ``FakeClock``. Metrics are client-go's
``workqueue_*`` families, labelled with the queue's ``name``.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from prometheus_client import Counter, Gauge, Histogram

from master.client.ratelimit import RateLimiter, default_controller_rate_limiter
from master.util.clock import Clock, RealClock

__all__ = ["WorkQueue"]

K = TypeVar("K", bound=Hashable)

_BUCKETS = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
_DEPTH = Gauge("workqueue_depth", "Current depth of workqueue", ["name"])
_ADDS = Counter("workqueue_adds", "Total number of adds handled by workqueue", ["name"])
_LATENCY = Histogram(
    "workqueue_queue_duration_seconds",
    "How long in seconds an item stays in workqueue before being requested",
    ["name"],
    buckets=_BUCKETS,
)
_WORK = Histogram(
    "workqueue_work_duration_seconds",
    "How long in seconds processing an item from workqueue takes",
    ["name"],
    buckets=_BUCKETS,
)
_RETRIES = Counter("workqueue_retries", "Total number of retries handled by workqueue", ["name"])


class WorkQueue(Generic[K]):
    def __init__(
        self,
        name: str = "",
        *,
        clock: Clock | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.name = name
        self.clock = clock or RealClock()
        self.rate_limiter = rate_limiter or default_controller_rate_limiter(self.clock)
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._queued_at: dict[K, float] = {}
        self._started_at: dict[K, float] = {}
        self._getters: deque[asyncio.Future[None]] = deque()
        self._shutting_down = False
        # Delayed adds: a heap of (ready_at, seq, key) and the earliest deadline per key;
        # heap entries whose deadline no longer matches ``_ready_at[key]`` are stale.
        self._delayed: list[tuple[float, int, K]] = []
        self._ready_at: dict[K, float] = {}
        self._seq = itertools.count()
        self._delay_wake = asyncio.Event()
        self._delay_task: asyncio.Task[None] | None = None
        self._depth = _DEPTH.labels(name)
        self._adds = _ADDS.labels(name)
        self._latency = _LATENCY.labels(name)
        self._work = _WORK.labels(name)
        self._retries = _RETRIES.labels(name)

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def add(self, key: K) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._adds.inc()
        self._dirty.add(key)
        if key in self._processing:
            return
        self._enqueue(key)

    def _enqueue(self, key: K) -> None:
        self._queue.append(key)
        self._queued_at.setdefault(key, self.clock.monotonic())
        self._depth.set(len(self._queue))
        self._wake_one()

    def _wake_one(self) -> None:
        while self._getters:
            fut = self._getters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    async def get(self) -> K | None:
        """The next key to work on (the caller must call ``done(key)``), or None after shutdown."""
        while not self._queue:
            if self._shutting_down:
                return None
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._getters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                # A wake-up meant for us must not be lost: hand it on.
                if fut.done() and not fut.cancelled():
                    self._wake_one()
                raise
        if self._shutting_down:
            return None
        key = self._queue.popleft()
        now = self.clock.monotonic()
        self._depth.set(len(self._queue))
        queued = self._queued_at.pop(key, None)
        if queued is not None:
            self._latency.observe(now - queued)
        self._started_at[key] = now
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: K) -> None:
        """Finish processing ``key``; if it was added meanwhile, it is queued again now."""
        self._processing.discard(key)
        started = self._started_at.pop(key, None)
        if started is not None:
            self._work.observe(self.clock.monotonic() - started)
        if key in self._dirty and not self._shutting_down:
            self._enqueue(key)

    def add_after(self, key: K, seconds: float) -> None:
        if self._shutting_down:
            return
        if seconds <= 0:
            self.add(key)
            return
        ready = self.clock.monotonic() + seconds
        current = self._ready_at.get(key)
        if current is not None and current <= ready:
            return
        self._ready_at[key] = ready
        heapq.heappush(self._delayed, (ready, next(self._seq), key))
        self._delay_wake.set()
        if self._delay_task is None:
            self._delay_task = asyncio.get_running_loop().create_task(self._run_delays())

    def add_rate_limited(self, key: K) -> None:
        self._retries.inc()
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: K) -> None:
        self.rate_limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        return self.rate_limiter.num_requeues(key)

    def pending_delayed(self) -> int:
        """Keys waiting for an ``add_after`` deadline (not yet in the queue)."""
        return len(self._ready_at)

    def shutdown(self) -> None:
        """Stop handing out keys. Workers see None from ``get()``; pending delays are dropped."""
        self._shutting_down = True
        while self._getters:
            fut = self._getters.popleft()
            if not fut.done():
                fut.set_result(None)
        if self._delay_task is not None:
            self._delay_task.cancel()
        self._delayed.clear()
        self._ready_at.clear()

    async def aclose(self) -> None:
        """``shutdown()`` and wait for the delay task to finish."""
        self.shutdown()
        if self._delay_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._delay_task
            self._delay_task = None

    async def _run_delays(self) -> None:
        while not self._shutting_down:
            now = self.clock.monotonic()
            while self._delayed and self._delayed[0][0] <= now:
                ready, _, key = heapq.heappop(self._delayed)
                if self._ready_at.get(key) == ready:
                    del self._ready_at[key]
                    self.add(key)
            self._delay_wake.clear()
            if not self._delayed:
                await self._delay_wake.wait()
                continue
            sleeper = asyncio.ensure_future(self.clock.sleep(self._delayed[0][0] - now))
            waker = asyncio.ensure_future(self._delay_wake.wait())
            try:
                await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()
