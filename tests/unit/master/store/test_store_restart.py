"""SQLite: close and reopen give back exactly the acknowledged state; disk stays bounded."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path

import pytest

from master.store.settings import SqliteSettings, StoreSettings
from master.store.store import Store
from master.store.types import OpDelete, OpPut, OpRange, OpTxn
from master.util.clock import FakeClock


def settings(path: Path, clock: FakeClock | None = None, **kw: object) -> StoreSettings:
    return StoreSettings(data_dir=path, clock=clock or FakeClock(), compaction_retain_seconds=0, **kw)  # type: ignore[arg-type]


def everything(store: Store, revision: int = 0) -> list[tuple[bytes, bytes, int, int, int, int]]:
    resp = store.range(OpRange(b"\0", b"\0", revision=revision))
    return [(kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease) for kv in resp.kvs]


async def test_reopen_gives_back_the_same_state(tmp_path: Path) -> None:
    s = settings(tmp_path)
    async with Store(s) as store:
        lease = await store.lease_grant(60)
        for i in range(20):
            await store.put(OpPut(b"k%d" % (i % 7), b"v%d" % i))
        await store.put(OpPut(b"leased", b"x", lease.id))
        await store.delete_range(OpDelete(b"k3"))
        await store.txn(OpTxn((), (OpPut(b"t1", b"1"), OpPut(b"t2", b"2"))))
        await store.compact(10)
        before = everything(store)
        history = everything(store, 15)
        rev = store.kv.committed
        ids = (store.cluster_id, store.member_id)
    async with Store(s) as store:
        assert store.kv.committed == rev
        assert store.kv.compact_rev == 10
        assert everything(store) == before
        assert everything(store, 15) == history
        assert (store.cluster_id, store.member_id) == ids
        ttl = store.lease_time_to_live(lease.id, keys=True)
        assert (ttl.granted_ttl, ttl.keys) == (60, (b"leased",))
        assert (await store.put(OpPut(b"next", b"1"))).header.revision == rev + 1


async def test_revision_survives_compaction_of_the_newest_rows(tmp_path: Path) -> None:
    s = settings(tmp_path)
    async with Store(s) as store:
        await store.put(OpPut(b"a", b"1"))
        resp = await store.delete_range(OpDelete(b"a"))
        await store.compact(resp.header.revision, physical=True)
        assert list(store.backend.load()) == []  # the tombstone is gone too
    async with Store(s) as store:
        assert store.kv.committed == 3
        assert (await store.put(OpPut(b"a", b"2"))).header.revision == 4


async def test_leases_get_their_full_ttl_again(tmp_path: Path) -> None:
    clock = FakeClock()
    s = settings(tmp_path, clock)
    async with Store(s) as store:
        lease = await store.lease_grant(10)
        await store.put(OpPut(b"a", b"1", lease.id))
        await clock.advance(8)
        assert store.lease_time_to_live(lease.id).ttl == 2
    await clock.advance(100)  # down for longer than the TTL
    async with Store(s) as store:
        assert store.lease_time_to_live(lease.id).ttl == 10
        await clock.advance(9)
        assert store.range(OpRange(b"a")).count == 1
        await clock.advance(2)
        for _ in range(100):
            if store.range(OpRange(b"a")).count == 0:
                break
            await asyncio.sleep(0.01)
        assert store.range(OpRange(b"a")).count == 0
        assert store.lease_time_to_live(lease.id).ttl == -1


async def test_interrupted_compaction_is_finished_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(tmp_path)
    async with Store(s) as store:
        for i in range(10):
            await store.put(OpPut(b"a", b"%d" % i))
        # Record the compaction but "crash" before deleting any row.
        monkeypatch.setattr(store, "_drop", lambda victims: asyncio.ensure_future(asyncio.sleep(0)))
        await store.compact(8)
        assert len(list(store.backend.load())) == 10
    monkeypatch.undo()
    async with Store(s) as store:
        assert store._compaction is not None
        await store._compaction
        assert [r.main for r in store.backend.load()] == [8, 9, 10, 11]
        assert everything(store, 8)[0][1] == b"6"


async def test_concurrent_writes_share_commits(tmp_path: Path) -> None:
    async with Store(settings(tmp_path)) as store:
        before = store.stats()
        resps = await asyncio.gather(*[store.put(OpPut(b"k%d" % i, b"v")) for i in range(100)])
        assert sorted(r.header.revision for r in resps) == list(range(2, 102))
        after = store.stats()
        assert after.batches_total - before.batches_total == 100
        assert after.commits_total - before.commits_total < 100


def disk(path: Path) -> int:
    return sum(os.path.getsize(path / name) for name in ("store.db", "store.db-wal") if (path / name).exists())


async def test_disk_stays_bounded_under_churn(tmp_path: Path) -> None:
    clock = FakeClock()
    s = replace(
        settings(tmp_path, clock),
        compaction_retain_revisions=300,
        compaction_check_interval=10,
        sqlite=SqliteSettings(wal_autocheckpoint_pages=200, journal_size_limit=512 * 1024),
    )
    value = os.urandom(1024)
    sizes = []
    async with Store(s) as store:
        for _ in range(8):
            for _ in range(10):
                await asyncio.gather(*[store.put(OpPut(b"/registry/pods/p%03d" % i, value)) for i in range(60)])
            target = store.kv.committed - 300
            await clock.advance(10)  # the auto compactor runs
            for _ in range(500):
                done = store._compaction is not None and store._compaction.done()
                if store.kv.compact_rev >= target and done:
                    break
                await asyncio.sleep(0.01)
            assert store.kv.compact_rev >= target
            sizes.append(disk(tmp_path))
        assert store.stats().keys_total == 60
        assert len(list(store.backend.load())) <= 60 + 300 + 600
    # 4800 puts of 1 KiB went in; the files hold about the retained history, not all of it.
    assert max(sizes[2:]) <= 2 * sizes[1]
    assert sizes[-1] < 2 * 1024 * 1024


async def test_compaction_gives_space_back(tmp_path: Path) -> None:
    async with Store(settings(tmp_path)) as store:
        value = os.urandom(2048)
        for _ in range(4):
            await asyncio.gather(*[store.put(OpPut(b"k%d" % i, value)) for i in range(500)])
        full = store.stats().db_size_bytes
        await store.compact(store.kv.committed, physical=True)
        stats = store.stats()
        # Three of four revisions of every key are gone, and so is their space (WAL included).
        assert stats.db_size_bytes < 0.5 * full
        assert stats.db_size_bytes - stats.db_size_in_use_bytes < 0.3 * stats.db_size_bytes
        assert (tmp_path / "store.db-wal").stat().st_size == 0
