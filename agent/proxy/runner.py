"""Run a sync function when asked, no more often than a minimum period, and fully now and then.

``request()`` is cheap and may be called for every event; requests that arrive while a
sync is running or while the minimum period has not yet passed coalesce into one run.
Every ``full_sync_period`` a run is marked full (the proxy then rewrites its whole table,
repairing whatever was changed behind its back). A failed run is retried after a backoff
that doubles up to ``max_retry_period``.

Timeline with ``min_sync_period=1``::

    t=0.0  request -> sync        t=0.2 request, t=0.5 request -> (wait) -> t=1.0 sync
    t=5.0  request -> sync        (more than a period since the last run: at once)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from master.util.clock import Clock, RealClock

__all__ = ["SyncRunner", "SyncSettings"]

log = logging.getLogger("picluster.agent.proxy")


@dataclass(frozen=True, slots=True)
class SyncSettings:
    min_sync_period: float = 1.0
    full_sync_period: float = 3600.0
    retry_period: float = 1.0
    max_retry_period: float = 60.0
    clock: Clock = field(default_factory=RealClock)

    def __post_init__(self) -> None:
        if self.min_sync_period < 0 or self.full_sync_period <= 0 or self.retry_period <= 0:
            raise ValueError("proxy: sync periods must be positive")


class SyncRunner:
    def __init__(self, sync: Callable[[bool], Awaitable[object]], settings: SyncSettings) -> None:
        self._sync = sync
        self._settings = settings
        self._clock = settings.clock
        self._wake = asyncio.Event()
        self._pending = True  # the first run happens at once
        self.runs = 0
        self.failures = 0

    def request(self) -> None:
        self._pending = True
        self._wake.set()

    async def _wait(self, seconds: float) -> None:
        """Until ``request()`` is called or ``seconds`` of the clock pass."""
        if seconds <= 0:
            return
        wake = asyncio.ensure_future(self._wake.wait())
        timer = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait({wake, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            timer.cancel()

    async def run(self) -> None:
        """Loop until cancelled."""
        s = self._settings
        last_run: float | None = None
        next_full = self._clock.monotonic() + s.full_sync_period
        backoff = s.retry_period
        while True:
            while not self._pending and self._clock.monotonic() < next_full:
                self._wake.clear()
                if self._pending:
                    break
                await self._wait(next_full - self._clock.monotonic())
            if last_run is not None:
                # Bound the rate; what arrives meanwhile joins this run.
                wait = last_run + s.min_sync_period - self._clock.monotonic()
                if wait > 0:
                    await self._clock.sleep(wait)
            full = self._clock.monotonic() >= next_full
            self._pending = False
            self._wake.clear()
            last_run = self._clock.monotonic()
            try:
                await self._sync(full)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                log.warning("proxy sync failed (retrying in %.1fs): %s", backoff, exc)
                await self._clock.sleep(backoff)
                backoff = min(backoff * 2, s.max_retry_period)
                self._pending = True
                continue
            self.runs += 1
            backoff = s.retry_period
            if full:
                next_full = last_run + s.full_sync_period
