"""Zones: their disruption state, and the rate-limited queue of nodes waiting for a NoExecute taint.

A zone's state follows from the Ready conditions of its nodes::

    no ready node, some not ready                       FullDisruption
    > 2 not ready and not-ready share >= threshold     PartialDisruption
    otherwise                                          Normal

Tainting (and so eviction) runs at ``--node-eviction-rate`` nodes per second per zone in
Normal and FullDisruption; in PartialDisruption at ``--secondary-node-eviction-rate`` if the
zone has more than ``--large-cluster-size-threshold`` nodes, else not at all. When every zone
is fully disrupted the controller assumes the problem is its own (the master is cut off) and
stops tainting altogether. So a network partition of many nodes does not wipe the cluster.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from enum import Enum

from master.api import core
from master.util.clock import Clock

__all__ = ["RateLimitedQueue", "TokenBucket", "ZoneState", "zone_of", "zone_state"]

ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"


class ZoneState(Enum):
    INITIAL = "Initial"
    NORMAL = "Normal"
    PARTIAL = "PartialDisruption"
    FULL = "FullDisruption"


def zone_of(node: core.Node) -> str:
    """``region:zone`` from the topology labels ("" for nodes without them)."""
    lbls = node.metadata.labels
    region, zone = lbls.get(REGION_LABEL, ""), lbls.get(ZONE_LABEL, "")
    if not region and not zone:
        return ""
    return f"{region}:{zone}"


def zone_state(ready: Iterable[bool], threshold: float) -> tuple[ZoneState, int, int]:
    """(state, ready nodes, not-ready nodes) of one zone."""
    flags = list(ready)
    n_ready = sum(1 for f in flags if f)
    n_not = len(flags) - n_ready
    if n_ready == 0 and n_not > 0:
        return ZoneState.FULL, n_ready, n_not
    if n_not > 2 and n_not / len(flags) >= threshold:
        return ZoneState.PARTIAL, n_ready, n_not
    return ZoneState.NORMAL, n_ready, n_not


class TokenBucket:
    """``qps`` tokens per second, at most ``burst`` saved; qps 0 never gives a token."""

    def __init__(self, qps: float, clock: Clock, burst: int = 1) -> None:
        self.clock = clock
        self.burst = burst
        self.qps = qps
        self._tokens = float(burst)
        self._at = clock.monotonic()

    def set_rate(self, qps: float) -> None:
        self._refill()
        self.qps = qps

    def _refill(self) -> None:
        now = self.clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.qps)
        self._at = now

    def try_take(self) -> bool:
        if self.qps <= 0:
            return False
        self._refill()
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


class RateLimitedQueue:
    """Node names in first-come order, handed out as the zone's bucket allows."""

    def __init__(self, bucket: TokenBucket) -> None:
        self.bucket = bucket
        self._items: OrderedDict[str, None] = OrderedDict()

    def add(self, name: str) -> bool:
        if name in self._items:
            return False
        self._items[name] = None
        return True

    def remove(self, name: str) -> bool:
        if name not in self._items:
            return False
        del self._items[name]
        return True

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)

    def take(self) -> list[str]:
        """The names the bucket lets through now (each leaves the queue)."""
        out = []
        while self._items and self.bucket.try_take():
            name, _ = self._items.popitem(last=False)
            out.append(name)
        return out

    def clear(self) -> None:
        self._items.clear()
