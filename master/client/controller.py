"""The controller loop: informer handlers -> work queue -> N workers calling ``sync(key)``.

A controller is a ``sync(key)`` coroutine plus the informers whose changes should make it
run. ``sync`` re-reads current state from the informers' caches (never from the event),
does nothing when desired == actual, and is idempotent. Its outcome decides what happens to
the key:

- returns None: done; the key's failure count is reset (``forget``);
- returns a number: done for now, run again after that many seconds (a timed recheck);
- raises ``errors.NotFound``: done (the object is gone; there is nothing left to do);
- raises anything else: retried with the queue's per-key backoff (5 ms doubling to 1000 s),
  at most ``max_retries`` times in a row, then dropped with a log line (a later event or
  resync brings it back).

Example::

    ctl = Controller("ttl", sync, workers=2)
    ctl.watch(node_informer)                         # enqueue "<ns>/<name>" of each node
    ctl.watch(pod_informer, key=lambda p: [p.spec.node_name] if p.spec.node_name else [])
    await ctl.run()                                  # until cancelled

A key is never synced by two workers at once (the work queue guarantees it), while different
keys are synced in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from master.api import meta
from master.client import errors
from master.client.cache import meta_namespace_key
from master.client.informer import Informer
from master.client.ratelimit import RateLimiter
from master.client.workqueue import WorkQueue
from master.util.clock import Clock

__all__ = ["Controller", "SyncFunc"]

log = logging.getLogger(__name__)

T = TypeVar("T", bound=meta.Object)

SyncFunc = Callable[[str], Awaitable[float | None]]


class Controller:
    def __init__(
        self,
        name: str,
        sync: SyncFunc,
        *,
        workers: int = 1,
        max_retries: int = 15,
        clock: Clock | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.name = name
        self.sync = sync
        self.workers = workers
        self.max_retries = max_retries
        self.queue: WorkQueue[str] = WorkQueue(name, clock=clock, rate_limiter=rate_limiter)

    def enqueue(self, obj: meta.Object) -> None:
        self.queue.add(meta_namespace_key(obj))

    def enqueue_key(self, key: str) -> None:
        self.queue.add(key)

    def enqueue_after(self, key: str, seconds: float) -> None:
        self.queue.add_after(key, seconds)

    def watch(self, informer: Informer[T], *, key: Callable[[T], Iterable[str]] | None = None) -> None:
        """Enqueue on every add, update (resyncs included) and delete seen by ``informer``.

        ``key`` maps an object to the keys to sync (default: the object's own key), e.g. a
        pod to its owner's key.
        """
        keys: Callable[[T], Iterable[str]] = key or (lambda o: (meta_namespace_key(o),))

        def add(obj: T) -> None:
            for k in keys(obj):
                self.queue.add(k)

        def update(old: T, new: T) -> None:
            for k in keys(new):
                self.queue.add(k)
            if old is not new:
                for k in keys(old):
                    self.queue.add(k)

        informer.add_event_handler(on_add=add, on_update=update, on_delete=add)

    async def run(self) -> None:
        """Run the workers until cancelled; each finishes its current key before stopping."""
        tasks = [
            asyncio.create_task(self._worker(), name=f"{self.name}-worker-{i}") for i in range(self.workers)
        ]
        try:
            # wait(), not gather(): cancelling run() must not cancel a worker mid-sync.
            await asyncio.wait(tasks)
        finally:
            await self.queue.aclose()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t

    async def _worker(self) -> None:
        while (key := await self.queue.get()) is not None:
            try:
                await self._process(key)
            finally:
                self.queue.done(key)

    async def _process(self, key: str) -> None:
        try:
            again = await self.sync(key)
        except errors.NotFound:
            self.queue.forget(key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(key, exc)
        else:
            self.queue.forget(key)
            if again is not None:
                self.queue.add_after(key, again)

    def _failed(self, key: str, exc: Exception) -> None:
        retries = self.queue.num_requeues(key)
        if retries < self.max_retries:
            level = logging.INFO if isinstance(exc, errors.Conflict) else logging.WARNING
            log.log(level, "%s: sync %r failed (retry %d): %s", self.name, key, retries + 1, _describe(exc))
            self.queue.add_rate_limited(key)
            return
        log.error("%s: dropping %r after %d retries: %s", self.name, key, retries, _describe(exc))
        self.queue.forget(key)


def _describe(exc: Any) -> str:
    if isinstance(exc, errors.ClientError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
