"""Per-key retry delays for work queues, as client-go's default controller rate limiter computes them.

``default_controller_rate_limiter()`` is the maximum of two limiters:

- ``ExponentialFailure``: the n-th requeue of one key waits ``base * 2**n``, capped at ``cap``
  (5 ms, 10 ms, 20 ms, ... 1000 s). ``forget(key)`` resets the key after a success.
- ``Bucket``: a token bucket over all keys (10 per second, burst 100), so a storm of failing
  keys cannot spin the controller.

Worked example (fresh limiter, the bucket still full)::

    when("a") -> 0.005    when("a") -> 0.010    when("b") -> 0.005    when("a") -> 0.020
    forget("a");  when("a") -> 0.005
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from master.util.clock import Clock, RealClock

__all__ = [
    "Bucket",
    "ExponentialFailure",
    "MaxOf",
    "RateLimiter",
    "default_controller_rate_limiter",
]


class RateLimiter(Protocol):
    def when(self, key: Hashable) -> float:
        """Seconds to wait before ``key`` is processed again; counts one requeue of ``key``."""
        ...

    def forget(self, key: Hashable) -> None:
        """Stop tracking ``key`` (it succeeded or was given up)."""
        ...

    def num_requeues(self, key: Hashable) -> int: ...


class ExponentialFailure:
    def __init__(self, base: float = 0.005, cap: float = 1000.0) -> None:
        self.base = base
        self.cap = cap
        self._failures: dict[Hashable, int] = {}

    def when(self, key: Hashable) -> float:
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        # 2**n overflows a float long after the cap is reached; stop growing once it is.
        if n > 64:
            return self.cap
        return min(self.base * (2**n), self.cap)

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: Hashable) -> int:
        return self._failures.get(key, 0)


class Bucket:
    """A token bucket shared by all keys: ``qps`` tokens per second, at most ``burst`` saved.

    Each ``when`` takes a token now or reserves the next free one, returning the wait.
    """

    def __init__(self, qps: float = 10.0, burst: int = 100, *, clock: Clock | None = None) -> None:
        self.qps = qps
        self.burst = burst
        self._clock = clock or RealClock()
        self._tokens = float(burst)
        self._last = self._clock.monotonic()

    def when(self, key: Hashable) -> float:
        now = self._clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def forget(self, key: Hashable) -> None:
        pass

    def num_requeues(self, key: Hashable) -> int:
        return 0


class MaxOf:
    """The longest wait any of ``limiters`` asks for."""

    def __init__(self, *limiters: RateLimiter) -> None:
        self.limiters = limiters

    def when(self, key: Hashable) -> float:
        return max(limiter.when(key) for limiter in self.limiters)

    def forget(self, key: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(key)

    def num_requeues(self, key: Hashable) -> int:
        return max(limiter.num_requeues(key) for limiter in self.limiters)


def default_controller_rate_limiter(clock: Clock | None = None) -> RateLimiter:
    return MaxOf(ExponentialFailure(0.005, 1000.0), Bucket(10.0, 100, clock=clock))
