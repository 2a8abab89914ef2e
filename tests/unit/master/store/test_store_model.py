"""Random operation sequences against a simple model of etcd (hypothesis state machine).

The model is a dict per revision: key -> KeyValue. Every step applies the same operation to the
store and the model and compares responses; a watcher opened at the start must have seen
exactly the model's events so far; the sqlite variant also restarts the store now and then and
expects the same state and revision back.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from master.store.errors import CompactedError, LeaseNotFoundError
from master.store.settings import StoreSettings
from master.store.store import Store
from master.store.types import (
    Compare,
    CompareResult,
    CompareTarget,
    Event,
    EventType,
    KeyValue,
    OpDelete,
    OpPut,
    OpRange,
    OpTxn,
    TxnResponse,
)
from master.store.watch import Watcher
from master.util.clock import FakeClock

KEYS = [b"a", b"a/1", b"a/2", b"b", b"c"]
keys = st.sampled_from(KEYS)
values = st.binary(max_size=3)
ranges = st.sampled_from(
    [(b"a", b""), (b"a/", b"a0"), (b"a", b"b"), (b"b", b"\0"), (b"\0", b"\0"), (b"c", b"a")]
)


def in_range(key: bytes, start: bytes, end: bytes) -> bool:
    if not end:
        return key == start
    if end == b"\0":
        return key >= start
    return start <= key < end


class Model:
    def __init__(self) -> None:
        self.rev = 1
        self.compacted = 0
        self.history: dict[int, dict[bytes, KeyValue]] = {1: {}}
        self.events: list[Event] = []
        self.leases: dict[int, set[bytes]] = {}

    @property
    def now(self) -> dict[bytes, KeyValue]:
        return self.history[self.rev]

    def write(self, changes: list[tuple[bytes, bytes | None, int]]) -> int:
        """Apply puts (value) and deletes (None) as one revision; returns the revision."""
        if not changes:
            return self.rev
        rev = self.rev + 1
        state = dict(self.now)
        for key, value, lease in changes:
            prev = state.get(key)
            old_lease = prev.lease if prev else 0
            if old_lease:
                self.leases[old_lease].discard(key)
            if value is None:
                del state[key]
                self.events.append(Event(EventType.DELETE, KeyValue(key, 0, rev, 0), prev))
            else:
                kv = KeyValue(key, prev.create_revision if prev else rev, rev, prev.version + 1 if prev else 1, value, lease)
                state[key] = kv
                if lease:
                    self.leases[lease].add(key)
                self.events.append(Event(EventType.PUT, kv, prev))
        self.rev = rev
        self.history[rev] = state
        return rev


class StoreMachine(RuleBasedStateMachine):
    backend = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = Path(tempfile.mkdtemp(prefix="store-model-"))
        self.clock = FakeClock()
        self.model = Model()
        self.store = self._open()
        self.watcher: Watcher = self.store.watch(b"\0", b"\0", start_revision=2)
        self.seen: list[Event] = []

    def _open(self) -> Store:
        settings = StoreSettings(
            data_dir=self.dir, backend=self.backend, clock=self.clock, compaction_retain_seconds=0
        )
        store = Store(settings)
        self.run(store.open())
        return store

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            self.run(self.store.close())
        finally:
            self.loop.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- writes -------------------------------------------------------------------------------

    @rule(key=keys, value=values)
    def put(self, key: bytes, value: bytes) -> None:
        prev = self.model.now.get(key)
        resp = self.run(self.store.put(OpPut(key, value, prev_kv=True)))
        assert resp.header.revision == self.model.write([(key, value, 0)])
        assert resp.prev_kv == prev

    @rule(r=ranges)
    def delete(self, r: tuple[bytes, bytes]) -> None:
        gone = [kv for k, kv in sorted(self.model.now.items()) if in_range(k, *r)]
        resp = self.run(self.store.delete_range(OpDelete(r[0], r[1], prev_kv=True)))
        assert resp.deleted == len(gone)
        assert list(resp.prev_kvs) == gone
        assert resp.header.revision == self.model.write([(kv.key, None, 0) for kv in gone])

    @rule(key=keys, version=st.integers(0, 3), value=values, other=keys)
    def txn(self, key: bytes, version: int, value: bytes, other: bytes) -> None:
        ok = (self.model.now[key].version if key in self.model.now else 0) == version
        success = (OpPut(key, value), OpRange(other))
        failure = (OpDelete(other),) if other != key else (OpRange(key),)
        resp = self.run(
            self.store.txn(OpTxn((Compare(key, CompareTarget.VERSION, CompareResult.EQUAL, version),), success, failure))
        )
        assert isinstance(resp, TxnResponse) and resp.succeeded is ok
        if ok:
            self.model.write([(key, value, 0)])
        elif other != key and other in self.model.now:
            self.model.write([(other, None, 0)])
        assert resp.header.revision == self.model.rev

    @rule(key=keys, value=values)
    def put_with_lease(self, key: bytes, value: bytes) -> None:
        if not self.model.leases:
            lease = self.run(self.store.lease_grant(60))
            self.model.leases[lease.id] = set()
        lease_id = min(self.model.leases)
        self.run(self.store.put(OpPut(key, value, lease_id)))
        self.model.write([(key, value, lease_id)])

    @precondition(lambda self: bool(self.model.leases))
    @rule()
    def revoke(self) -> None:
        lease_id = min(self.model.leases)
        self.run(self.store.lease_revoke(lease_id))
        self.model.write([(k, None, 0) for k in sorted(self.model.leases[lease_id])])
        del self.model.leases[lease_id]
        with pytest.raises(LeaseNotFoundError):
            self.run(self.store.lease_revoke(lease_id))

    @rule(data=st.data())
    def compact(self, data: st.DataObject) -> None:
        if self.model.rev <= self.model.compacted:
            return
        rev = data.draw(st.integers(self.model.compacted + 1, self.model.rev))
        self.run(self.store.compact(rev, physical=data.draw(st.booleans())))
        self.model.compacted = rev

    @precondition(lambda self: self.backend == "sqlite")
    @rule()
    def restart(self) -> None:
        self.drain()
        self.run(self.store.close())
        self.store = self._open()
        assert self.store.kv.committed == self.model.rev
        # The watch ended with the old store; resume from the next revision, as a client would.
        self.watcher = self.store.watch(b"\0", b"\0", start_revision=self.model.rev + 1)

    # -- reads --------------------------------------------------------------------------------

    @rule(r=ranges, data=st.data(), limit=st.integers(0, 3))
    def range(self, r: tuple[bytes, bytes], data: st.DataObject, limit: int) -> None:
        rev = data.draw(st.integers(max(self.model.compacted, 1), self.model.rev))
        want = [kv for k, kv in sorted(self.model.history[rev].items()) if in_range(k, *r)]
        resp = self.store.range(OpRange(r[0], r[1], limit=limit, revision=rev))
        assert resp.header.revision == self.model.rev
        assert resp.count == len(want)
        assert list(resp.kvs) == (want[:limit] if limit else want)
        assert resp.more == (0 < limit < len(want))

    @precondition(lambda self: self.model.compacted > 1)
    @rule()
    def range_compacted(self) -> None:
        with pytest.raises(CompactedError):
            self.store.range(OpRange(b"a", revision=self.model.compacted - 1))

    # -- invariants ---------------------------------------------------------------------------

    def drain(self) -> None:
        while self.watcher.queue:
            self.seen.extend(self.watcher.queue.popleft().events)

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """A watch from any retained revision replays exactly the model's events (with prev_kv,
        except where compaction removed it), in order, then is live."""
        start = data.draw(st.integers(max(self.model.compacted, 2), self.model.rev + 1))
        w = self.store.watch(b"\0", b"\0", start_revision=start, prev_kv=True)
        got: list[Event] = []
        while not w.synced:
            self.store.hub.replay(w)
        while w.queue:
            resp = self.run(asyncio.wait_for(w.next(), 5))
            assert resp is not None
            got.extend(resp.events)
        w.cancel()
        c = self.model.compacted
        want = [
            replace(ev, prev_kv=None) if ev.kv.mod_revision == c else ev
            for ev in self.model.events
            if ev.kv.mod_revision >= start and not (ev.kv.mod_revision == c and ev.type == EventType.DELETE)
        ]
        assert got == want

    @invariant()
    def watcher_saw_every_event(self) -> None:
        self.drain()
        assert self.seen == [replace(ev, prev_kv=None) for ev in self.model.events]

    @invariant()
    def current_state(self) -> None:
        resp = self.store.range(OpRange(b"\0", b"\0"))
        assert list(resp.kvs) == [kv for _, kv in sorted(self.model.now.items())]
        assert self.store.stats().keys_total == len(self.model.now)


class SqliteStoreMachine(StoreMachine):
    backend = "sqlite"


TestMemoryStore = StoreMachine.TestCase
TestMemoryStore.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None, suppress_health_check=list(HealthCheck)
)
TestSqliteStore = SqliteStoreMachine.TestCase
TestSqliteStore.settings = settings(
    max_examples=15, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
)
