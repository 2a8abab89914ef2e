"""Leases: TTLs, the keys attached to each, and when each expires.

The lessor is memory only; the store persists grants and revokes through the backend (the
``lease`` table: id and granted TTL) and deletes a lease's keys in the same revision as the
revoke, so both survive a restart together. Expiry times are not persisted: on open every lease
gets its full TTL again from that moment, as etcd does when a new leader takes over
(``Promote``). A lease therefore never expires earlier than a client expects, and a crashed
store does not mass-expire leases when it comes back.

Time comes from a ``Clock`` (monotonic), so tests drive expiry with a ``FakeClock``. A lease
whose expiry has passed is "not found" to keep-alive and time-to-live at once, even before the
store's expiry loop has revoked it and deleted its keys.
"""

from __future__ import annotations

import secrets

from master.store.errors import LeaseExistsError, LeaseTTLTooLargeError
from master.util.clock import Clock

__all__ = ["Lease", "Lessor"]


class Lease:
    __slots__ = ("expiry", "id", "keys", "ttl")

    def __init__(self, lease_id: int, ttl: int, expiry: float) -> None:
        self.id = lease_id
        self.ttl = ttl  # granted TTL in seconds
        self.expiry = expiry  # clock.monotonic() deadline
        self.keys: set[bytes] = set()


class Lessor:
    def __init__(self, clock: Clock, *, min_ttl: int, max_ttl: int) -> None:
        self.clock = clock
        self.min_ttl = min_ttl
        self.max_ttl = max_ttl
        self.leases: dict[int, Lease] = {}
        self._items: dict[bytes, int] = {}  # key -> lease attached to it

    def load(self, leases: list[tuple[int, int]], items: dict[bytes, int]) -> None:
        now = self.clock.monotonic()
        for lease_id, ttl in leases:
            self.leases[lease_id] = Lease(lease_id, ttl, now + ttl)
        for key, lease_id in items.items():
            self.attach(lease_id, key)

    def effective_ttl(self, ttl: int) -> int:
        if ttl > self.max_ttl:
            raise LeaseTTLTooLargeError()
        return max(ttl, self.min_ttl)

    def new_id(self) -> int:
        while True:
            lease_id = secrets.randbits(62) + 1
            if lease_id not in self.leases:
                return lease_id

    def grant(self, lease_id: int, ttl: int) -> Lease:
        """Add a lease; ``ttl`` must be effective already (see ``effective_ttl``)."""
        if lease_id in self.leases:
            raise LeaseExistsError()
        lease = self.leases[lease_id] = Lease(lease_id, ttl, self.clock.monotonic() + ttl)
        return lease

    def lookup(self, lease_id: int) -> Lease | None:
        """The lease, unless it does not exist or has expired."""
        lease = self.leases.get(lease_id)
        if lease is None or lease.expiry <= self.clock.monotonic():
            return None
        return lease

    def remove(self, lease_id: int) -> None:
        lease = self.leases.pop(lease_id, None)
        if lease is not None:
            for key in lease.keys:
                self._items.pop(key, None)

    def lease_of(self, key: bytes) -> int:
        return self._items.get(key, 0)

    def attach(self, lease_id: int, key: bytes) -> None:
        """Attach ``key`` to ``lease_id`` (0: to none), detaching it from its previous lease."""
        old = self._items.pop(key, 0)
        if old and old in self.leases:
            self.leases[old].keys.discard(key)
        if lease_id and lease_id in self.leases:
            self.leases[lease_id].keys.add(key)
            self._items[key] = lease_id

    def renew(self, lease_id: int) -> int:
        """Restart the lease's TTL; returns the TTL, or 0 when the lease is gone or expired."""
        lease = self.lookup(lease_id)
        if lease is None:
            return 0
        lease.expiry = self.clock.monotonic() + lease.ttl
        return lease.ttl

    def remaining(self, lease: Lease) -> int:
        # etcd truncates: 8.8 s left reads as 8.
        return max(0, int(lease.expiry - self.clock.monotonic()))

    def expired(self) -> list[int]:
        now = self.clock.monotonic()
        return sorted(lease.id for lease in self.leases.values() if lease.expiry <= now)
