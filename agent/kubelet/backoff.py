"""Per-key exponential backoff: CrashLoopBackOff and ImagePullBackOff.

The kubelet's flowcontrol.Backoff: ``next(key, t)`` records a retry after a failure at time
``t`` and doubles the key's delay (10 s, 20 s, 40 s ... capped at 5 min);
``in_backoff_since(key, t)`` says whether a failure at ``t`` is still inside the current delay.
A failure more than twice the maximum after the previous retry starts over at the initial
delay, so a container that ran fine for ten minutes restarts at once again. For a container
that keeps crashing (finished at t1, t2, ...)::

    crash at t1: in_backoff_since(k, t1) False -> next(k, t1), delay 10: restart at once
    crash at t2: in_backoff_since(k, t2) True until t2 + 10 (CrashLoopBackOff), then next: 20
    crash at t3: waits until t3 + 20, then 40 ...
"""

from __future__ import annotations

from dataclasses import dataclass

from master.util.clock import Clock

__all__ = ["Backoff"]


@dataclass(slots=True)
class _Entry:
    delay: float
    last_update: float


class Backoff:
    def __init__(self, *, initial: float, maximum: float, clock: Clock) -> None:
        self.initial = initial
        self.maximum = maximum
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def _live(self, key: str, event_time: float) -> _Entry | None:
        e = self._entries.get(key)
        if e is None or event_time - e.last_update > 2 * self.maximum:
            return None
        return e

    def next(self, key: str, event_time: float | None = None) -> float:
        """Record a retry after a failure at ``event_time`` (default now); the new delay."""
        now = self._clock.time()
        e = self._live(key, now if event_time is None else event_time)
        if e is None:
            e = self._entries[key] = _Entry(self.initial, now)
        else:
            e.delay = min(e.delay * 2, self.maximum)
            e.last_update = now
        return e.delay

    def delay(self, key: str) -> float:
        """The key's current delay (0 when it has none)."""
        e = self._entries.get(key)
        return e.delay if e is not None else 0.0

    def in_backoff_since(self, key: str, event_time: float) -> bool:
        e = self._live(key, event_time)
        return e is not None and self._clock.time() - event_time < e.delay

    def remaining(self, key: str, event_time: float) -> float:
        """Seconds until a failure at ``event_time`` is out of the key's delay (0 when out)."""
        e = self._live(key, event_time)
        if e is None:
            return 0.0
        return max(0.0, event_time + e.delay - self._clock.time())

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    def gc(self) -> None:
        """Drop keys whose last retry is older than twice the maximum."""
        now = self._clock.time()
        for key in [k for k, e in self._entries.items() if now - e.last_update > 2 * self.maximum]:
            del self._entries[key]
