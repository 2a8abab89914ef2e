"""The multi-version key-value store: the index, the backend, and three revisions.

    rev          the latest revision, counting writes whose batch is not yet durable
    committed    the latest durable revision: plain reads and watches see exactly this much
    compact_rev  reads below it fail with CompactedError; history at and after it is kept

A write runs synchronously on the event loop in a ``WriteTxn``: it reads at ``rev`` (so writes
queued before it count, which keeps compares serializable), changes the index at once, and
hands its rows to the backend. Only when the backend has made the batch durable does
``committed`` move, in revision order, and the watch hub hear of it. Until then the rows are in
``pending``, so that later writes and their prev_kv can see them while reads at ``committed``
cannot. Worked example::

    committed 5, rev 5
    put a (txn 6 submitted)   -> rev 6, committed 5: range a -> the old a; a txn compare sees 6
    batch 6 durable           -> committed 6; watchers get revision 6; the put returns

A write that fails after changing the index (a bug, or a backend that cannot write) leaves
memory ahead of disk: the store then refuses everything (``failed``) until it is reopened.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from master.store.backend import Backend, Batch, Row
from master.store.errors import StoreError, UnavailableError
from master.store.index import TreeIndex
from master.store.revision import Revision

__all__ = ["KV", "Change", "WriteTxn"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Change:
    """One row a write created, and the revision of the key it replaced (for prev_kv)."""

    row: Row
    prev: Revision | None


class _Inflight:
    __slots__ = ("changes", "done", "main", "submitted")

    def __init__(
        self, main: int, changes: list[Change], submitted: asyncio.Future[None], done: asyncio.Future[None]
    ) -> None:
        self.main = main
        self.changes = changes
        self.submitted = submitted
        self.done = done


class KV:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.index = TreeIndex()
        self.rev = 1  # a fresh store is at revision 1, like etcd
        self.committed = 1
        self.compact_rev = 0
        self.failed: BaseException | None = None
        # Called with (revision, changes) once a write is durable, in revision order.
        self.on_commit: Callable[[int, list[Change]], None] = lambda rev, changes: None
        self._pending: dict[Revision, Row] = {}
        self._inflight: deque[_Inflight] = deque()

    def load(self) -> dict[bytes, int]:
        """Rebuild the index from the backend; returns the lease of every live key that has one."""
        leases: dict[bytes, int] = {}
        last = 1
        for row in self.backend.load():
            if row.tombstone:
                self.index.tombstone(row.key, row.rev, loading=True)
                leases.pop(row.key, None)
            else:
                self.index.put(row.key, row.rev, created=row.create_revision, version=row.version)
                if row.lease:
                    leases[row.key] = row.lease
                else:
                    leases.pop(row.key, None)
            last = row.main
        self.compact_rev = self.backend.meta().get("compact_revision", 0)
        # A compaction may have removed the newest rows (a delete), but never past compact_rev.
        self.rev = self.committed = max(last, self.compact_rev, 1)
        return leases

    # -- reads --------------------------------------------------------------------------------

    def check(self) -> None:
        if self.failed is not None:
            raise UnavailableError(f"etcdserver: store failed, reopen it: {self.failed}")

    def visible(self, key: bytes, end: bytes, at: int) -> list[tuple[bytes, Revision]]:
        """(key, revision) of the keys in the range that exist at ``at``, in key order."""
        out: list[tuple[bytes, Revision]] = []
        for ki in self.index.between(key, end):
            got = ki.get(at)
            if got is not None:
                out.append((ki.key, got[0]))
        return out

    def current(self, key: bytes, at: int) -> tuple[Revision, int, int] | None:
        """(revision, create_revision, version) of ``key`` at ``at``, or None."""
        ki = self.index.get(key)
        return ki.get(at) if ki is not None else None

    def row(self, rev: Revision, *, value: bool = True) -> Row:
        row = self._pending.get(rev) or self.backend.get(rev, value=value)
        if row is None:
            raise StoreError(f"store: row {rev.main}.{rev.sub} is missing from the backend")
        return row

    def rows(self, revs: Sequence[Revision], *, value: bool = True) -> list[Row]:
        """The rows at ``revs``, in that order."""
        found = self.backend.get_many([r for r in revs if r not in self._pending], value=value)
        out: list[Row] = []
        for rev in revs:
            row = self._pending.get(rev) or found.get(rev)
            if row is None:
                raise StoreError(f"store: row {rev.main}.{rev.sub} is missing from the backend")
            out.append(row)
        return out

    def prev(self, key: bytes, rev: Revision) -> Revision | None:
        ki = self.index.get(key)
        return ki.prev(rev) if ki is not None else None

    # -- writes -------------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[WriteTxn]:
        """A write transaction; it must not await. Its rows become a batch (``WriteTxn.batch``)
        that the caller passes to ``commit`` right away."""
        self.check()
        txn = WriteTxn(self)
        try:
            yield txn
        except BaseException as exc:
            if txn.changes:
                self.failed = exc
                log.error("store: a write failed half-way; the store refuses requests until reopened")
            raise
        if txn.changes:
            self.rev = txn.main

    def commit(self, batch: Batch, main: int = 0, changes: Sequence[Change] = ()) -> asyncio.Future[None]:
        """Hand ``batch`` to the backend. The future resolves once it is durable and, for a
        write at revision ``main``, once ``committed`` and the watchers have caught up with it."""
        self.check()
        try:
            submitted = self.backend.submit(batch)
        except Exception as exc:
            if main:  # the index already has this write: memory is ahead of disk now
                self.failed = exc
            raise UnavailableError(f"etcdserver: store write failed: {exc}") from exc
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight.append(_Inflight(main, list(changes), submitted, done))
        submitted.add_done_callback(self._drain)
        # A caller that gives up waiting must not cancel what other waiters share.
        return asyncio.shield(done)

    def barrier(self) -> asyncio.Future[None] | None:
        """A future that resolves when every write submitted so far is durable (None: already)."""
        if not self._inflight:
            return None
        return asyncio.shield(self._inflight[-1].done)

    def _drain(self, _: object = None) -> None:
        while self._inflight and self._inflight[0].submitted.done():
            entry = self._inflight.popleft()
            exc = entry.submitted.exception() if not entry.submitted.cancelled() else UnavailableError()
            if exc is not None:
                self._fail(exc, entry)
                return
            if entry.main:
                self.committed = entry.main
                for change in entry.changes:
                    self._pending.pop(change.row.rev, None)
                try:
                    self.on_commit(entry.main, entry.changes)
                except Exception:
                    log.exception("store: notifying revision %d failed", entry.main)
            if not entry.done.done():
                entry.done.set_result(None)

    def _fail(self, exc: BaseException, first: _Inflight) -> None:
        self.failed = exc
        log.error("store: a write could not be made durable (%s); refusing requests until reopened", exc)
        for entry in (first, *self._inflight):
            if not entry.done.done():
                err = UnavailableError(f"etcdserver: store write failed: {exc}")
                err.__cause__ = exc
                entry.done.set_exception(err)
                entry.done.exception()  # mark retrieved: a cancelled caller must not log noise
        self._inflight.clear()

    def compact(self, at: int) -> list[Revision]:
        """Compact the index at ``at``; returns the revisions whose rows the backend can drop."""
        victims = self.index.compact(at)
        self.compact_rev = at
        return victims


class WriteTxn:
    """The changes of one write request, all at revision ``main``."""

    def __init__(self, kv: KV) -> None:
        self.kv = kv
        self.main = kv.rev + 1
        self.changes: list[Change] = []

    @property
    def rev(self) -> int:
        """The revision this transaction reads at: its own changes count once there are some."""
        return self.main if self.changes else self.main - 1

    def put(self, key: bytes, value: bytes, lease: int) -> Revision | None:
        """Write ``key``; returns the revision it replaced."""
        kv = self.kv
        cur = kv.current(key, self.main)
        rev = Revision(self.main, len(self.changes))
        if cur is None:
            row = Row(rev.main, rev.sub, key, rev.main, 1, lease, value)
        else:
            row = Row(rev.main, rev.sub, key, cur[1], cur[2] + 1, lease, value)
        kv.index.put(key, rev)
        kv._pending[rev] = row
        prev = cur[0] if cur is not None else None
        self.changes.append(Change(row, prev))
        return prev

    def delete(self, key: bytes, end: bytes) -> list[tuple[bytes, Revision]]:
        """Delete every key in the range; returns (key, revision deleted), in key order."""
        kv = self.kv
        deleted = kv.visible(key, end, self.main)
        for k, prev in deleted:
            rev = Revision(self.main, len(self.changes))
            row = Row(rev.main, rev.sub, k, 0, 0)
            kv.index.tombstone(k, rev)
            kv._pending[rev] = row
            self.changes.append(Change(row, prev))
        return deleted

    def batch(self) -> Batch:
        return Batch(rows=[c.row for c in self.changes])
