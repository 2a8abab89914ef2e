"""The in-memory backend: dicts and a sorted list, gone on close. For fast tests."""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from master.store.backend import Batch, Row, row_size
from master.store.revision import Revision
from master.store.settings import StoreSettings

__all__ = ["MemoryBackend"]


class MemoryBackend:
    def __init__(self, settings: StoreSettings | None = None) -> None:
        self._rows: dict[Revision, Row] = {}
        self._revs: list[Revision] = []  # sorted
        self._leases: dict[int, int] = {}
        self._meta: dict[str, int] = {}

    async def open(self) -> None:
        return None

    def load(self) -> Iterator[Row]:
        for rev in self._revs:
            yield replace(self._rows[rev], value=b"")

    def meta(self) -> dict[str, int]:
        return dict(self._meta)

    def leases(self) -> list[tuple[int, int]]:
        return sorted(self._leases.items())

    def get(self, rev: Revision, *, value: bool = True) -> Row | None:
        return self._rows.get(rev)

    def get_many(self, revs: Sequence[Revision], *, value: bool = True) -> dict[Revision, Row]:
        rows = self._rows
        return {rev: rows[rev] for rev in revs if rev in rows}

    def scan(self, start: int, end: int, *, max_rows: int, max_bytes: int) -> list[Row]:
        out: list[Row] = []
        size = 0
        for i in range(bisect_left(self._revs, Revision(start, 0)), len(self._revs)):
            rev = self._revs[i]
            if rev.main > end or ((len(out) >= max_rows or size >= max_bytes) and rev.main != out[-1].main):
                break
            row = self._rows[rev]
            out.append(row)
            size += row_size(row)
        return out

    def submit(self, batch: Batch) -> asyncio.Future[None]:
        for row in batch.rows:
            self._rows[row.rev] = row
            self._revs.append(row.rev)
        if batch.deletes:
            for rev in batch.deletes:
                self._rows.pop(rev, None)
            self._revs = [r for r in self._revs if r in self._rows]
        self._leases.update(batch.leases)
        for lease_id in batch.lease_deletes:
            self._leases.pop(lease_id, None)
        self._meta.update(batch.meta)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut

    def observe_commits(self, observer: Callable[[float, int], None]) -> None:
        return None  # nothing is ever synced to disk

    def size(self) -> tuple[int, int]:
        used = sum(row_size(r) for r in self._rows.values())
        return used, used

    async def close(self) -> None:
        return None
