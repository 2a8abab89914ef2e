"""A bounded cache of stored rows by revision, least recently used first out.

Rows never change once written (a revision is written once and only compaction removes it), so
a cached row is never stale: the cache needs no invalidation for correctness, only to give
memory back when compaction drops rows. The SQLite backend fills it from reads, so a range
that is read again (a list the apiserver repeats, a hot prefix) costs dictionary lookups
instead of a query and a Python object per row.

The budget counts key and value bytes plus ``ROW_OVERHEAD`` per row, about what the Row, its
bytes objects and the dictionary entry take in CPython.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from master.store.backend import Row
from master.store.revision import Revision

__all__ = ["ROW_OVERHEAD", "RowCache"]

ROW_OVERHEAD = 250


class RowCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._rows: OrderedDict[Revision, Row] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, rev: Revision) -> Row | None:
        row = self._rows.get(rev)
        if row is not None:
            self._rows.move_to_end(rev)
        return row

    def add(self, row: Row) -> None:
        size = _size(row)
        if size > self.max_bytes:
            return
        rev = Revision(row.main, row.sub)
        old = self._rows.pop(rev, None)
        if old is not None:
            self.bytes -= _size(old)
        self._rows[rev] = row
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, victim = self._rows.popitem(last=False)
            self.bytes -= _size(victim)

    def drop(self, revs: Iterable[Revision]) -> None:
        rows = self._rows
        for rev in revs:
            row = rows.pop(rev, None)
            if row is not None:
                self.bytes -= _size(row)


def _size(row: Row) -> int:
    return len(row.key) + len(row.value) + ROW_OVERHEAD
