"""The in-memory index: every key, in byte order, with its revision history (``KeyIndex``).

Values are not here; they stay in the backend and are fetched by revision. On a Pi with 50k
keys and a few retained revisions each, the index costs a few hundred bytes per key.

Range ends follow etcd (see ``master.store.types``)::

    keys [a, b, c, d]:  between(b"b", b"")   -> [b]            a single key
                        between(b"b", b"d")  -> [b, c]         [key, range_end)
                        between(b"b", b"\\0") -> [b, c, d]      every key >= key
                        between(b"d", b"b")  -> []             an empty range
"""

from __future__ import annotations

from bisect import bisect_left, insort

from master.store.key_index import KeyIndex
from master.store.revision import Revision

__all__ = ["TreeIndex", "in_range"]


def in_range(key: bytes, start: bytes, end: bytes) -> bool:
    """Whether ``key`` is in the etcd range (``start``, ``end``)."""
    if not end:
        return key == start
    if end == b"\0":
        return key >= start
    return start <= key < end


class TreeIndex:
    def __init__(self) -> None:
        self._keys: list[bytes] = []  # sorted
        self._index: dict[bytes, KeyIndex] = {}
        # Keys a compaction may shrink: written since they were last compacted down to one revision.
        self._dirty: set[bytes] = set()
        self.alive = 0  # keys that exist at the latest revision

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, key: bytes) -> KeyIndex | None:
        return self._index.get(key)

    def between(self, key: bytes, end: bytes) -> list[KeyIndex]:
        if not end:
            ki = self._index.get(key)
            return [ki] if ki is not None else []
        lo = bisect_left(self._keys, key)
        hi = len(self._keys) if end == b"\0" else bisect_left(self._keys, end)
        return [self._index[k] for k in self._keys[lo:hi]]

    def _key_index(self, key: bytes) -> KeyIndex:
        ki = self._index.get(key)
        if ki is None:
            ki = self._index[key] = KeyIndex(key)
            insort(self._keys, key)
        return ki

    def put(self, key: bytes, rev: Revision, *, created: int = 0, version: int = 0) -> None:
        ki = self._key_index(key)
        if not ki.alive:
            self.alive += 1
        ki.put(rev, created=created, version=version)
        self._dirty.add(key)

    def tombstone(self, key: bytes, rev: Revision, *, loading: bool = False) -> None:
        ki = self._key_index(key)
        if ki.alive:
            self.alive -= 1
        ki.tombstone(rev, loading=loading)
        self._dirty.add(key)

    def compact(self, at: int) -> list[Revision]:
        """Compact every key at ``at`` (see ``KeyIndex.compact``); returns the dropped revisions."""
        victims: list[Revision] = []
        gone: set[bytes] = set()
        for key in list(self._dirty):
            ki = self._index[key]
            ki.compact(at, victims)
            if not ki.generations:
                gone.add(key)
                del self._index[key]
            if not ki.compactable():
                self._dirty.discard(key)
        if gone:
            self._keys = [k for k in self._keys if k not in gone]
        victims.sort()
        return victims
