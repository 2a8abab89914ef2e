"""The backend contract (master.store.backend), held against every registered backend."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from master.store.backend import Backend, Batch, Row
from master.store.backends import BACKENDS, new_backend
from master.store.backends.sqlite import SqliteBackend
from master.store.errors import StoreError
from master.store.revision import Revision
from master.store.settings import SqliteSettings, StoreSettings


def put(main: int, sub: int, key: bytes, value: bytes = b"v", version: int = 1) -> Row:
    return Row(main, sub, key, main, version, 0, value)


@pytest.fixture(params=sorted(BACKENDS))
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    b = new_backend(StoreSettings(data_dir=tmp_path / "store", backend=request.param))
    await b.open()
    try:
        yield b
    finally:
        await b.close()


async def test_rows_round_trip(backend: Backend) -> None:
    rows = [put(2, 0, b"a", b"1"), put(3, 0, b"b", b"2"), put(3, 1, b"c", b"3"), Row(4, 0, b"a", 0, 0)]
    await backend.submit(Batch(rows=rows))
    assert backend.get(Revision(3, 1)) == rows[2]
    assert backend.get(Revision(4, 0)) == rows[3]
    assert backend.get(Revision(9, 0)) is None
    assert backend.get(Revision(3, 1), value=False).key == b"c"  # type: ignore[union-attr]
    assert [(r.main, r.sub, r.key, r.value) for r in backend.load()] == [
        (2, 0, b"a", b""),
        (3, 0, b"b", b""),
        (3, 1, b"c", b""),
        (4, 0, b"a", b""),
    ]


async def test_get_many(backend: Backend) -> None:
    rows = [put(2, 0, b"a"), put(3, 0, b"b"), put(3, 1, b"c"), put(4, 5, b"d")]
    await backend.submit(Batch(rows=rows))
    want = [Revision(3, 1), Revision(2, 0), Revision(4, 5), Revision(4, 0), Revision(9, 9)]
    got = backend.get_many(want)
    assert got == {Revision(3, 1): rows[2], Revision(2, 0): rows[0], Revision(4, 5): rows[3]}
    many = [put(i, 0, b"k%d" % i) for i in range(10, 1010)]
    await backend.submit(Batch(rows=many))
    assert list(backend.get_many([r.rev for r in many]).values()) == many
    assert backend.get_many([]) == {}


async def test_scan_returns_whole_revisions(backend: Backend) -> None:
    rows = [put(2, 0, b"a"), put(3, 0, b"b"), put(3, 1, b"c"), put(3, 2, b"d"), put(4, 0, b"e"), put(5, 0, b"f")]
    await backend.submit(Batch(rows=rows))

    def scan(start: int, end: int, max_rows: int, max_bytes: int = 1 << 20) -> list[tuple[int, int]]:
        return [(r.main, r.sub) for r in backend.scan(start, end, max_rows=max_rows, max_bytes=max_bytes)]

    assert scan(0, 9, 100) == [(2, 0), (3, 0), (3, 1), (3, 2), (4, 0), (5, 0)]
    assert scan(3, 4, 100) == [(3, 0), (3, 1), (3, 2), (4, 0)]
    assert scan(2, 9, 2) == [(2, 0), (3, 0), (3, 1), (3, 2)]  # finishes revision 3
    assert scan(3, 9, 1) == [(3, 0), (3, 1), (3, 2)]
    assert scan(2, 9, 100, max_bytes=1) == [(2, 0)]
    assert scan(6, 9, 100) == []


async def test_deletes_leases_meta(backend: Backend) -> None:
    await backend.submit(Batch(rows=[put(2, 0, b"a"), put(3, 0, b"b")], leases=[(7, 30), (8, 60)], meta={"x": 1}))
    await backend.submit(Batch(deletes=[Revision(2, 0)], lease_deletes=[7], meta={"x": 2, "y": 3}))
    assert backend.get(Revision(2, 0)) is None
    assert [r.key for r in backend.load()] == [b"b"]
    assert backend.leases() == [(8, 60)]
    assert backend.meta() == {"x": 2, "y": 3}
    await backend.submit(Batch(reclaim=True))
    total, in_use = backend.size()
    assert total >= in_use > 0


async def test_queued_batches_apply_in_order(backend: Backend) -> None:
    # Submitted without waiting, so a group commit may take them all: the lease granted, then
    # revoked, and the meta written twice must end as if applied one by one.
    big = [put(10, i, b"big%03d" % i) for i in range(300)]  # more rows than one INSERT carries
    futures = [
        backend.submit(Batch(rows=[put(2, 0, b"a")], leases=[(7, 30)])),
        backend.submit(Batch(rows=[put(3, 0, b"b")], meta={"x": 1})),
        backend.submit(Batch(rows=big)),
        backend.submit(Batch(lease_deletes=[7], meta={"x": 2})),
        backend.submit(Batch(rows=[put(11, 0, b"c")], leases=[(7, 60)])),
        backend.submit(Batch(deletes=[Revision(2, 0)])),
    ]
    await asyncio.gather(*futures)
    assert [r.rev for r in backend.load()] == [Revision(3, 0), *(r.rev for r in big), Revision(11, 0)]
    assert backend.get(Revision(10, 299)) == big[299]
    assert backend.leases() == [(7, 60)]
    assert backend.meta() == {"x": 2}


async def test_futures_resolve_in_order(backend: Backend) -> None:
    done: list[int] = []
    futures = []
    for i in range(50):
        fut = backend.submit(Batch(rows=[put(i + 2, 0, b"k%d" % i)]))
        fut.add_done_callback(lambda _f, i=i: done.append(i))
        futures.append(fut)
    await asyncio.gather(*futures)
    await asyncio.sleep(0)
    assert done == list(range(50))
    assert len(list(backend.load())) == 50


async def test_sqlite_group_commit_and_durability(tmp_path: Path) -> None:
    settings = StoreSettings(data_dir=tmp_path)
    b = SqliteBackend(settings)
    commits: list[tuple[float, int]] = []
    b.observe_commits(lambda seconds, n: commits.append((seconds, n)))
    await b.open()
    try:
        await asyncio.gather(*[b.submit(Batch(rows=[put(i + 2, 0, b"k%d" % i)])) for i in range(200)])
        assert sum(n for _, n in commits) == 200
        assert len(commits) < 200  # queued batches shared commits
        assert all(seconds >= 0 for seconds, _ in commits)
    finally:
        await b.close()
    # Everything acknowledged is there after reopening.
    again = SqliteBackend(settings)
    await again.open()
    try:
        assert [r.main for r in again.load()] == list(range(2, 202))
    finally:
        await again.close()


async def test_sqlite_settings(tmp_path: Path) -> None:
    b = SqliteBackend(StoreSettings(data_dir=tmp_path))
    await b.open()
    await b.close()
    conn = sqlite3.connect(tmp_path / "store.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    finally:
        conn.close()


async def test_sqlite_data_dir_is_locked(tmp_path: Path) -> None:
    first = SqliteBackend(StoreSettings(data_dir=tmp_path))
    await first.open()
    try:
        with pytest.raises(StoreError, match="in use by another process"):
            await SqliteBackend(StoreSettings(data_dir=tmp_path)).open()
    finally:
        await first.close()
    second = SqliteBackend(StoreSettings(data_dir=tmp_path))
    await second.open()
    await second.close()


async def test_sqlite_refuses_newer_schema(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "store.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer than this picluster"):
        await SqliteBackend(StoreSettings(data_dir=tmp_path)).open()


async def test_sqlite_unusable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot use data dir"):
        await SqliteBackend(StoreSettings(data_dir=blocker / "store")).open()


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="unknown store backend 'nope'"):
        new_backend(StoreSettings(backend="nope"))


def test_sqlite_needs_a_data_dir() -> None:
    with pytest.raises(ValueError, match="needs a data dir"):
        new_backend(StoreSettings(backend="sqlite"))


async def test_sqlite_commit_delay_gathers_concurrent_writers(tmp_path: Path) -> None:
    settings = StoreSettings(data_dir=tmp_path, sqlite=SqliteSettings(commit_delay=0.5))
    b = SqliteBackend(settings)
    commits: list[int] = []
    b.observe_commits(lambda _seconds, n: commits.append(n))
    await b.open()
    try:
        # Queued in one go, so they share a commit (almost always the first time): the writer now
        # expects company.
        main = 2
        while not commits or commits[-1] < 2:
            await asyncio.gather(*[b.submit(Batch(rows=[put(main + i, 0, b"k%d" % i)])) for i in range(5)])
            main += 5
        commits.clear()
        spaced = []
        for i in range(5):
            spaced.append(b.submit(Batch(rows=[put(main + i, 0, b"s%d" % i)])))
            await asyncio.sleep(0.01)
        await asyncio.gather(*spaced)
        assert sum(commits) == 5
        assert len(commits) < 5  # batches 10 ms apart waited for each other
    finally:
        await b.close()
