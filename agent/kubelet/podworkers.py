"""Per-pod serial workers, parallel across pods (kopf's workers, the kubelet's podWorkers).

Each pod uid gets one task that runs ``sync(uid)`` whenever it is woken, never twice at once::

    workers = PodWorkers(sync, clock=clock, resync_period=10)
    workers.wake(uid)               sync soon (wakes that arrive during a sync coalesce into one more)
    workers.wake(uid, after=10.0)   sync in 10 s, unless woken earlier
    await workers.stop()

``sync`` returns the seconds until it wants to run again (None: the resync period), or
``DONE`` to end the worker (the pod is gone from the node). An exception is logged and retried
after a backoff that doubles from 1 s up to the resync period. The worker reads everything it
needs from the current state (level-based); a wake carries no data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from master.util.clock import Clock
from master.util.tasks import cancel_and_wait

__all__ = ["DONE", "PodWorkers"]

log = logging.getLogger("picluster.agent.kubelet")

DONE = -1.0


class _Worker:
    __slots__ = ("due", "event", "pending", "task")

    def __init__(self) -> None:
        self.event = asyncio.Event()  # set on every wake, to re-evaluate the wait
        self.pending = True  # a sync is wanted now
        self.due: float | None = None  # monotonic time of the earliest timed wake
        self.task: asyncio.Task[None] | None = None


class PodWorkers:
    def __init__(
        self,
        sync: Callable[[str], Awaitable[float | None]],
        *,
        clock: Clock,
        resync_period: float,
        error_backoff: float = 1.0,
    ) -> None:
        self._sync = sync
        self._clock = clock
        self._resync = resync_period
        self._error_backoff = error_backoff
        self._workers: dict[str, _Worker] = {}
        self._stopping = False

    def __contains__(self, uid: str) -> bool:
        return uid in self._workers

    def __len__(self) -> int:
        return len(self._workers)

    @property
    def uids(self) -> list[str]:
        return list(self._workers)

    def wake(self, uid: str, *, after: float | None = None) -> None:
        if self._stopping:
            return
        w = self._workers.get(uid)
        if w is None:
            w = self._workers[uid] = _Worker()
            w.task = asyncio.get_running_loop().create_task(self._run(uid, w), name=f"pod-worker {uid}")
            return  # a new worker syncs at once
        if after is None or after <= 0:
            w.pending = True
        else:
            due = self._clock.monotonic() + after
            if w.due is not None and w.due <= due:
                return
            w.due = due
        w.event.set()

    async def _wait(self, w: _Worker, seconds: float) -> None:
        """Until woken or ``seconds`` pass."""
        waiter = asyncio.ensure_future(w.event.wait())
        timer = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            timer.cancel()

    async def _run(self, uid: str, w: _Worker) -> None:
        backoff = self._error_backoff
        try:
            while True:
                w.pending = False
                w.due = None
                try:
                    nxt = await self._sync(uid)
                    backoff = self._error_backoff
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("pod %s: sync failed (retrying in %.1fs): %s", uid, backoff, exc,
                                exc_info=log.isEnabledFor(logging.DEBUG))
                    nxt = backoff
                    backoff = min(backoff * 2, self._resync)
                if nxt == DONE:
                    return
                due = self._clock.monotonic() + (self._resync if nxt is None else max(0.0, min(nxt, self._resync)))
                if w.due is None or due < w.due:
                    w.due = due
                while not w.pending:
                    left = w.due - self._clock.monotonic()
                    if left <= 0:
                        break
                    w.event.clear()
                    await self._wait(w, left)
        finally:
            if self._workers.get(uid) is w:
                del self._workers[uid]

    async def stop(self) -> None:
        self._stopping = True
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        self._workers.clear()
        await cancel_and_wait(tasks)
