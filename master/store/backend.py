"""The backend contract: durable rows of key revisions, leases and a little metadata.

A backend knows nothing of MVCC. It stores one ``Row`` per change (a put or a tombstone), keyed
by ``Revision(main, sub)``; the MVCC store above decides which rows exist and which compaction
removes. Implementations are registered by name in ``master.store.backends.BACKENDS`` and held
to one contract suite (``tests/unit/master/store/test_backend.py``).

Writes go through ``submit(batch)``, which queues the batch *synchronously* (so batches commit
in the order they were submitted) and returns a future that resolves once the batch is durable.
A backend may commit several queued batches in one transaction (group commit), but never
reorders them and never resolves a future before its batch is on disk.

Reads (``get``, ``scan``) see every batch whose future has resolved, and run on the event loop's
thread; they must not wait for the writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from master.store.revision import Revision
from master.store.types import KeyValue

__all__ = ["Backend", "Batch", "Row", "row_size"]


@dataclass(frozen=True, slots=True)
class Row:
    """One change of one key. A tombstone (a delete) has version 0, create_revision 0, lease 0
    and an empty value, which is exactly the ``kv`` of an etcd DELETE event."""

    main: int
    sub: int
    key: bytes
    create_revision: int
    version: int
    lease: int = 0
    value: bytes = b""
    # The row's KeyValue, made on first use and kept: a row from the SQLite backend's row cache
    # is read again and again, and building 1000 KeyValues is most of a 1000-key range's cost.
    _kv: KeyValue | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def rev(self) -> Revision:
        return Revision(self.main, self.sub)

    @property
    def tombstone(self) -> bool:
        return self.version == 0

    def kv(self) -> KeyValue:
        kv = self._kv
        if kv is None:
            kv = KeyValue(self.key, self.create_revision, self.main, self.version, self.value, self.lease)
            object.__setattr__(self, "_kv", kv)  # a cache of a value derived from frozen fields
        return kv


def row_size(row: Row) -> int:
    return len(row.key) + len(row.value) + 48


@dataclass(slots=True)
class Batch:
    """What one write (or one compaction step) changes, applied atomically."""

    rows: list[Row] = field(default_factory=list)
    deletes: list[Revision] = field(default_factory=list)
    leases: list[tuple[int, int]] = field(default_factory=list)  # (id, ttl) granted
    lease_deletes: list[int] = field(default_factory=list)
    meta: dict[str, int] = field(default_factory=dict)
    # After this batch, give free space back: checkpoint and truncate the WAL, vacuum free pages.
    reclaim: bool = False

    def size(self) -> int:
        return sum(row_size(r) for r in self.rows) + 16 * (len(self.deletes) + len(self.leases))


class Backend(Protocol):
    async def open(self) -> None:
        """Create or open the storage."""
        ...

    def load(self) -> Iterator[Row]:
        """Every row in revision order, with empty values (to rebuild the index on open)."""
        ...

    def meta(self) -> dict[str, int]: ...

    def leases(self) -> list[tuple[int, int]]:
        """Every stored lease as (id, ttl)."""
        ...

    def get(self, rev: Revision, *, value: bool = True) -> Row | None:
        """The row at ``rev``; with ``value=False`` its value may be left empty."""
        ...

    def get_many(self, revs: Sequence[Revision], *, value: bool = True) -> dict[Revision, Row]:
        """The rows at ``revs`` that exist (a range reads hundreds at once)."""
        ...

    def scan(self, start: int, end: int, *, max_rows: int, max_bytes: int) -> list[Row]:
        """Rows with ``start <= main <= end`` in revision order, whole revisions only: the scan
        stops after the revision in which ``max_rows`` or ``max_bytes`` was reached."""
        ...

    def submit(self, batch: Batch) -> asyncio.Future[None]:
        """Queue ``batch``; the future resolves once it is durable, or fails with the error that
        prevented it."""
        ...

    def observe_commits(self, observer: Callable[[float, int], None]) -> None:
        """Call ``observer(fsync_seconds, batches)`` on the event loop after each durable commit."""
        ...

    def size(self) -> tuple[int, int]:
        """(bytes on disk, bytes in use) of the storage, WAL included."""
        ...

    async def close(self) -> None:
        """Commit what is queued, then release everything."""
        ...
