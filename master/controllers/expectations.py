"""Expectations: what a controller is waiting to see in its informer after its own writes.

A ReplicaSet that asked for 3 pods must not count the cache's 0 and ask again before the 3
show up. So before creating, the controller records ``expect_creations(key, 3)``; the pod
informer's add handler calls ``creation_observed(key)`` for each; ``satisfied(key)`` is true
once all were seen (or the record is older than ``ttl``, in case a watch event was lost).
Deletions are tracked by pod key, so a delete that was already observed is not counted twice::

    expect_creations("ns/rs", 2)     satisfied -> False
    creation_observed("ns/rs")       satisfied -> False
    creation_observed("ns/rs")       satisfied -> True
    lower_expectations("ns/rs", 1)   (a create that failed will never be observed)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from master.util.clock import Clock

__all__ = ["Expectations"]

# client-go's ExpectationsTimeout.
DEFAULT_TTL = 300.0


@dataclass(slots=True)
class _Record:
    adds: int
    deletes: set[str] = field(default_factory=set)
    at: float = 0.0


class Expectations:
    def __init__(self, clock: Clock, ttl: float = DEFAULT_TTL) -> None:
        self.clock = clock
        self.ttl = ttl
        self._records: dict[str, _Record] = {}

    def satisfied(self, key: str) -> bool:
        rec = self._records.get(key)
        if rec is None:
            return True
        if rec.adds <= 0 and not rec.deletes:
            return True
        return self.clock.monotonic() - rec.at > self.ttl

    def expect_creations(self, key: str, count: int) -> None:
        self._records[key] = _Record(adds=count, at=self.clock.monotonic())

    def expect_deletions(self, key: str, pod_keys: Iterable[str]) -> None:
        self._records[key] = _Record(adds=0, deletes=set(pod_keys), at=self.clock.monotonic())

    def creation_observed(self, key: str) -> None:
        rec = self._records.get(key)
        if rec is not None and rec.adds > 0:
            rec.adds -= 1

    def lower_expectations(self, key: str, adds: int = 0, deletes: Iterable[str] = ()) -> None:
        """Creations or deletions that failed: they will never be observed."""
        rec = self._records.get(key)
        if rec is None:
            return
        rec.adds = max(0, rec.adds - adds)
        rec.deletes.difference_update(deletes)

    def deletion_observed(self, key: str, pod_key: str) -> None:
        rec = self._records.get(key)
        if rec is not None:
            rec.deletes.discard(pod_key)

    def forget(self, key: str) -> None:
        self._records.pop(key, None)
