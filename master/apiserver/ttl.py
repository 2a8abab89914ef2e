"""Objects that expire: Events, ``--event-ttl`` (1h) after their last write, as in kube-apiserver.

Without it every Event ever recorded stays in the store and in the watch cache, and a long-lived
master's memory only grows. A write attaches the object to a store lease; when the lease expires
the store deletes the key (a DELETED watch event, as for any delete). One lease serves all the
writes of a ``reuse`` window (5% of the ttl, at most a minute, as kube-apiserver's lease manager)
and is granted for ttl + reuse, so an object lives between ttl and ttl + reuse after its last
write, with one lease per minute in the store, not one per Event::

    t=0    write e1  -> grant L1 (ttl + 60 s)    e1 expires at ttl + 60
    t=30   write e2  -> L1 again                 e2 expires with L1: ttl + 30 after its write
    t=61   write e1  -> grant L2                 e1 now expires at 61 + ttl + 60
"""

from __future__ import annotations

import asyncio

from master.apiserver.storage import store_call
from master.store.client import Client
from master.util.clock import Clock

__all__ = ["EXPIRING", "ExpiringLeases"]

# The resources whose objects expire.
EXPIRING = frozenset({"events"})
MAX_REUSE_SECONDS = 60.0
REUSE_FRACTION = 0.05


class ExpiringLeases:
    """The store lease to attach an expiring object's write to."""

    def __init__(self, client: Client, *, ttl: float, clock: Clock) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self.reuse = min(ttl * REUSE_FRACTION, MAX_REUSE_SECONDS)
        self._lease = 0
        self._granted = 0.0
        self._lock = asyncio.Lock()

    async def lease(self) -> int:
        if self._lease and self.clock.monotonic() < self._granted + self.reuse:
            return self._lease
        async with self._lock:
            now = self.clock.monotonic()
            if not self._lease or now >= self._granted + self.reuse:
                resp = await store_call(self.client.lease_grant(max(1, round(self.ttl + self.reuse))))
                self._lease, self._granted = resp.id, now
            return self._lease

    def forget(self, lease: int) -> None:
        """``lease`` is gone from the store (revoked behind our back): the next write grants one."""
        if self._lease == lease:
            self._lease = 0
