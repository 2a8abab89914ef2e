"""The store: MVCC key-value store, leases, watches and compaction behind one object.

Lifecycle is explicit::

    async with Store(StoreSettings(data_dir=path)) as store:    # open: load, start background tasks
        resp = await store.put(OpPut(b"a", b"1"))
    # close: stop background tasks, cancel watches, flush and close the backend

Background tasks: lease expiry (every ``lease_check_interval``), automatic compaction (every
``compaction_check_interval``, see ``master.store.compactor``), periodic watch progress.

Reads (``range``, lease time-to-live, ``status``) are synchronous and see every acknowledged
write. Writes are ``async`` and return once durable. Every request runs on the event loop's
thread; only the SQLite backend's group commit runs on a thread of its own.

Hooks for metrics (the gRPC server's ``metrics.py`` uses them): ``stats()`` returns a snapshot
of gauges and counters, and ``observe_fsync(fn)`` calls ``fn(seconds)`` after every commit
(one call per group commit, the time of its COMMIT, WAL fsync included).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from master.store import check
from master.store.apply import Applier
from master.store.backend import Batch
from master.store.backends import new_backend
from master.store.compactor import Compactor
from master.store.errors import (
    CompactedError,
    FutureRevisionError,
    LeaseNotFoundError,
    UnavailableError,
)
from master.store.kv import KV, WriteTxn
from master.store.lease import Lessor
from master.store.revision import Revision
from master.store.settings import StoreSettings
from master.store.types import (
    CompactResponse,
    DeleteRangeResponse,
    LeaseGrantResponse,
    LeaseKeepAliveResponse,
    LeaseStatus,
    LeaseTimeToLiveResponse,
    Member,
    OpDelete,
    OpPut,
    OpRange,
    OpTxn,
    PutResponse,
    RangeResponse,
    ResponseHeader,
    StatusResponse,
    TxnResponse,
)
from master.store.watch import Watcher, WatchHub
from master.util.tasks import cancel_and_wait

__all__ = ["ETCD_VERSION", "Store", "StoreStats"]

log = logging.getLogger(__name__)

# The etcd API version this store speaks (what Status reports; etcdctl prints it).
ETCD_VERSION = "3.4.0"
RAFT_TERM = 1

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoreStats:
    """A snapshot for metrics. Counters only grow while the store is open."""

    revision: int
    compact_revision: int
    keys_total: int  # keys that exist now
    index_keys: int  # keys with any retained history
    db_size_bytes: int
    db_size_in_use_bytes: int
    watchers: int
    watchers_slow_canceled_total: int
    leases: int
    puts_total: int
    deletes_total: int
    ranges_total: int
    txns_total: int
    commits_total: int  # group commits (fsyncs)
    batches_total: int  # write batches those commits carried


class Store:
    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        self.clock = settings.clock
        self.backend = new_backend(settings)
        self.kv = KV(self.backend)
        self.lessor = Lessor(self.clock, min_ttl=settings.min_lease_ttl, max_ttl=settings.max_lease_ttl)
        self.applier = Applier(self.kv, self.lessor)
        self.hub = WatchHub(self.kv, settings, self.header)
        self.kv.on_commit = self.hub.notify
        self.compactor = Compactor(
            retain_revisions=settings.compaction_retain_revisions,
            retain_seconds=settings.compaction_retain_seconds,
        )
        self.cluster_id = 0
        self.member_id = 0
        self._open = False
        self._tasks: list[asyncio.Task[None]] = []
        self._compaction: asyncio.Task[None] | None = None
        self._txns = 0
        self._commits = 0
        self._batches = 0
        self.backend.observe_commits(self._count_commit)

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        await self.backend.open()
        try:
            items = self.kv.load()
            self.lessor.load(self.backend.leases(), items)
            meta = self.backend.meta()
            self.cluster_id = meta.get("cluster_id", 0)
            self.member_id = meta.get("member_id", 0)
            if not self.cluster_id or not self.member_id:
                self.cluster_id = secrets.randbits(63) or 1
                self.member_id = secrets.randbits(63) or 1
                await self.kv.commit(Batch(meta={"cluster_id": self.cluster_id, "member_id": self.member_id}))
            if self.kv.compact_rev:
                # Finish a compaction that a restart interrupted.
                self._drop(self.kv.compact(self.kv.compact_rev))
        except BaseException:
            await self.backend.close()
            raise
        self._open = True
        self._spawn(self._expire_leases(), "store-lease-expiry")
        if self.compactor.enabled:
            self._spawn(self._auto_compact(), "store-auto-compaction")
        self._spawn(self._progress(), "store-watch-progress")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def close(self) -> None:
        if not self._open:
            return
        self._open = False
        await cancel_and_wait(self._tasks, ignore_errors=True)
        self._tasks.clear()
        self.hub.close()
        if self._compaction is not None:
            # Deleting compacted rows is resumed on the next open; stop now.
            self._compaction.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._compaction
        barrier = self.kv.barrier()
        if barrier is not None:
            with contextlib.suppress(Exception):
                await barrier
        await self.backend.close()

    def _check(self) -> None:
        if not self._open:
            raise UnavailableError("etcdserver: the store is not open")
        self.kv.check()

    # -- identity -----------------------------------------------------------------------------

    def header(self, revision: int | None = None) -> ResponseHeader:
        rev = self.kv.committed if revision is None else revision
        return ResponseHeader(rev, self.cluster_id, self.member_id, RAFT_TERM)

    # -- kv -----------------------------------------------------------------------------------

    def range(self, op: OpRange) -> RangeResponse:
        self._check()
        check.check_range(op)
        view = self.kv.committed
        self.applier.check_range(op, view)
        return self.applier.range(op, view, self.header(view))

    async def put(self, op: OpPut) -> PutResponse:
        self._check()
        check.check_put(op)
        check.check_size(op, self.settings.max_request_bytes)

        def apply(w: WriteTxn) -> PutResponse:
            self.applier.check_put(op, w.rev)
            return self.applier.put(w, op)

        resp, rev = await self._write(apply)
        return PutResponse(self.header(rev), resp.prev_kv)

    async def delete_range(self, op: OpDelete) -> DeleteRangeResponse:
        self._check()
        check.check_delete(op)
        check.check_size(op, self.settings.max_request_bytes)
        resp, rev = await self._write(lambda w: self.applier.delete(w, op))
        return DeleteRangeResponse(self.header(rev), resp.deleted, resp.prev_kvs)

    async def txn(self, op: OpTxn) -> TxnResponse:
        self._check()
        check.check_txn(op, self.settings.max_txn_ops)
        check.check_size(op, self.settings.max_request_bytes)
        self._txns += 1
        resp, rev = await self._write(lambda w: self.applier.txn(w, op))
        return TxnResponse(self.header(rev), resp.succeeded, resp.responses)

    async def _write(self, apply: Callable[[WriteTxn], T]) -> tuple[T, int]:
        """Apply a write now; return its result and revision once it is durable. A write that
        changed nothing (read-only txn, delete of nothing) still waits for earlier writes it may
        have seen to become durable."""
        with self.kv.write() as w:
            result = apply(w)
        if w.changes:
            await self.kv.commit(w.batch(), w.main, w.changes)
            return result, w.main
        barrier = self.kv.barrier()
        if barrier is not None:
            await barrier
        return result, w.rev

    # -- compaction ---------------------------------------------------------------------------

    async def compact(self, revision: int, *, physical: bool = False) -> CompactResponse:
        """Forget history before ``revision``. Returns once that is durable; with ``physical``,
        once the backend has dropped the rows too."""
        self._check()
        if revision <= self.kv.compact_rev:
            raise CompactedError(self.kv.compact_rev)
        if revision > self.kv.committed:
            raise FutureRevisionError()
        victims = self.kv.compact(revision)
        recorded = self.kv.commit(Batch(meta={"compact_revision": revision}))
        task = self._drop(victims)
        await recorded
        if physical:
            await asyncio.shield(task)
        return CompactResponse(self.header())

    def _drop(self, victims: list[Revision]) -> asyncio.Task[None]:
        """Delete compacted rows in bounded batches (writes interleave), then reclaim space."""
        before = self._compaction
        step = self.settings.compaction_batch_rows

        async def run() -> None:
            if before is not None:
                with contextlib.suppress(Exception):
                    await before
            for i in range(0, len(victims), step):
                await self.kv.commit(Batch(deletes=victims[i : i + step]))
            await self.kv.commit(Batch(reclaim=True))

        task = asyncio.create_task(run(), name="store-compaction")
        task.add_done_callback(_log_failure)
        self._compaction = task
        return task

    async def _auto_compact(self) -> None:
        while True:
            await self.clock.sleep(self.settings.compaction_check_interval)
            target = self.compactor.target(self.clock.monotonic(), self.kv.committed)
            if target > self.kv.compact_rev:
                try:
                    await self.compact(target, physical=True)
                    log.info("store: compacted at revision %d", target)
                except Exception as exc:
                    log.warning("store: automatic compaction at %d failed: %s", target, exc)

    # -- watch --------------------------------------------------------------------------------

    def watch(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        start_revision: int = 0,
        prev_kv: bool = False,
        progress_notify: bool = False,
    ) -> Watcher:
        """A watcher: ``await w.next()`` for batches (None after ``w.cancel()``);
        ``w.request_progress()``; errors as in ``master.store.client``."""
        self._check()
        return self.hub.watch(
            key, range_end, start_revision=start_revision, prev_kv=prev_kv, progress_notify=progress_notify
        )

    async def _progress(self) -> None:
        while True:
            await self.clock.sleep(self.settings.watch_progress_interval)
            self.hub.progress_tick()

    # -- leases -------------------------------------------------------------------------------

    async def lease_grant(self, ttl: int, lease_id: int = 0) -> LeaseGrantResponse:
        self._check()
        ttl = self.lessor.effective_ttl(ttl)
        lease = self.lessor.grant(lease_id or self.lessor.new_id(), ttl)
        await self.kv.commit(Batch(leases=[(lease.id, ttl)]))
        return LeaseGrantResponse(self.header(), lease.id, ttl)

    async def lease_revoke(self, lease_id: int) -> ResponseHeader:
        self._check()
        if lease_id not in self.lessor.leases:
            raise LeaseNotFoundError()
        await self._revoke(lease_id)
        return self.header()

    def _revoke(self, lease_id: int) -> asyncio.Future[None]:
        """Delete the lease and its keys in one revision (keys in order, as etcd does)."""
        lease = self.lessor.leases[lease_id]
        with self.kv.write() as w:
            for key in sorted(lease.keys):
                self.applier.delete(w, OpDelete(key))
            self.lessor.remove(lease_id)
        batch = w.batch()
        batch.lease_deletes.append(lease_id)
        return self.kv.commit(batch, w.main if w.changes else 0, w.changes)

    def lease_keep_alive(self, lease_id: int) -> LeaseKeepAliveResponse:
        self._check()
        return LeaseKeepAliveResponse(self.header(), lease_id, self.lessor.renew(lease_id))

    def lease_time_to_live(self, lease_id: int, *, keys: bool = False) -> LeaseTimeToLiveResponse:
        self._check()
        lease = self.lessor.lookup(lease_id)
        if lease is None:
            return LeaseTimeToLiveResponse(self.header(), lease_id, -1, 0)
        attached = tuple(sorted(lease.keys)) if keys else ()
        return LeaseTimeToLiveResponse(self.header(), lease_id, self.lessor.remaining(lease), lease.ttl, attached)

    def lease_leases(self) -> tuple[LeaseStatus, ...]:
        self._check()
        return tuple(LeaseStatus(i) for i in sorted(self.lessor.leases))

    async def _expire_leases(self) -> None:
        while True:
            await self.clock.sleep(self.settings.lease_check_interval)
            expired = self.lessor.expired()
            if not expired:
                continue
            try:
                self.kv.check()
                pending = [self._revoke(i) for i in expired]
                await asyncio.gather(*pending)
            except Exception as exc:
                log.warning("store: revoking expired leases failed: %s", exc)

    # -- maintenance --------------------------------------------------------------------------

    def status(self) -> StatusResponse:
        self._check()
        size, in_use = self.backend.size()
        return StatusResponse(
            self.header(),
            version=ETCD_VERSION,
            db_size=size,
            leader=self.member_id,
            raft_index=self.kv.committed,
            raft_term=RAFT_TERM,
            db_size_in_use=in_use,
        )

    def member_list(self) -> tuple[Member, ...]:
        self._check()
        s = self.settings
        return (Member(self.member_id, s.name, s.peer_urls, s.client_urls),)

    def stats(self) -> StoreStats:
        size, in_use = self.backend.size() if self._open else (0, 0)
        return StoreStats(
            revision=self.kv.committed,
            compact_revision=self.kv.compact_rev,
            keys_total=self.kv.index.alive,
            index_keys=len(self.kv.index),
            db_size_bytes=size,
            db_size_in_use_bytes=in_use,
            watchers=len(self.hub.watchers),
            watchers_slow_canceled_total=self.hub.slow_canceled,
            leases=len(self.lessor.leases),
            puts_total=self.applier.puts,
            deletes_total=self.applier.deletes,
            ranges_total=self.applier.ranges,
            txns_total=self._txns,
            commits_total=self._commits,
            batches_total=self._batches,
        )

    def observe_fsync(self, observer: Callable[[float], None]) -> None:
        self.backend.observe_commits(lambda seconds, _batches: observer(seconds))

    def _count_commit(self, _seconds: float, batches: int) -> None:
        self._commits += 1
        self._batches += batches


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("store: deleting compacted rows failed: %s", task.exception())
