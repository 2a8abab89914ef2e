"""The SQLite backend's row cache: LRU order, the byte budget, dropping compacted rows."""

from __future__ import annotations

from pathlib import Path

from master.store.backend import Batch, Row
from master.store.backends.rowcache import ROW_OVERHEAD, RowCache
from master.store.backends.sqlite import SqliteBackend
from master.store.revision import Revision
from master.store.settings import SqliteSettings, StoreSettings


def row(main: int, value: bytes = b"v" * 50) -> Row:
    return Row(main, 0, b"k%d" % main, main, 1, 0, value)


def size(r: Row) -> int:
    return len(r.key) + len(r.value) + ROW_OVERHEAD


def test_least_recently_used_goes_first() -> None:
    rows = [row(i) for i in range(2, 6)]
    cache = RowCache(max_bytes=3 * size(rows[0]))
    for r in rows[:3]:
        cache.add(r)
    assert cache.get(Revision(2)) == rows[0]  # 2 is now the most recently used
    cache.add(rows[3])
    assert cache.get(Revision(3)) is None
    assert [cache.get(Revision(m)) for m in (2, 4, 5)] == [rows[0], rows[2], rows[3]]
    assert len(cache) == 3
    assert cache.bytes == 3 * size(rows[0])


def test_budget_and_drop() -> None:
    cache = RowCache(max_bytes=1000)
    cache.add(row(2, b"x" * 2000))  # larger than the whole budget: not kept
    assert cache.get(Revision(2)) is None
    assert cache.bytes == 0
    cache.add(row(3))
    cache.add(row(3))  # the same revision again counts once
    assert cache.bytes == size(row(3))
    cache.drop([Revision(3), Revision(9)])
    assert cache.get(Revision(3)) is None
    assert cache.bytes == 0
    off = RowCache(max_bytes=0)
    off.add(row(4))
    assert len(off) == 0


async def test_sqlite_reads_fill_it_and_compaction_empties_it(tmp_path: Path) -> None:
    b = SqliteBackend(StoreSettings(data_dir=tmp_path, sqlite=SqliteSettings(row_cache_bytes=1 << 20)))
    await b.open()
    try:
        rows = [row(i) for i in range(2, 12)]
        await b.submit(Batch(rows=rows))
        assert b.get(Revision(2), value=False) is not None  # without its value: not cached
        assert len(b._cache) == 0
        assert b.get_many([r.rev for r in rows]) == {r.rev: r for r in rows}
        assert len(b._cache) == 10
        assert b.get(Revision(5)) == rows[3]
        await b.submit(Batch(deletes=[Revision(2), Revision(3)]))
        assert len(b._cache) == 8
        assert b.get(Revision(2)) is None
        assert b.get_many([Revision(3), Revision(4)]) == {Revision(4): rows[2]}
    finally:
        await b.close()
