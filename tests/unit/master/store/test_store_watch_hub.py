"""The watch hub's own rules: slow watchers, replay-to-live handover, progress, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from master.store.errors import CompactedError, WatcherCanceledError
from master.store.settings import StoreSettings
from master.store.store import Store
from master.store.types import Event, OpPut, OpRange
from master.store.watch import Watcher
from master.util.clock import FakeClock


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    s = StoreSettings(
        data_dir=tmp_path,
        backend=request.param,
        clock=FakeClock(),
        compaction_retain_seconds=0,
        watch_max_pending_events=20,
        watch_replay_rows=3,
        watch_progress_interval=5,
    )
    async with Store(s) as st:
        yield st


async def take(w: Watcher, n: int) -> list[Event]:
    events: list[Event] = []
    while len(events) < n:
        resp = await asyncio.wait_for(w.next(), 5)
        assert resp is not None
        events.extend(resp.events)
    return events


async def test_slow_watcher_is_cancelled_and_resumes(store: Store) -> None:
    w = store.watch(b"k", start_revision=2)
    for i in range(30):
        await store.put(OpPut(b"k", b"%d" % i))
    with pytest.raises(WatcherCanceledError, match="fell behind"):
        await asyncio.wait_for(w.next(), 5)
    assert store.stats().watchers_slow_canceled_total == 1
    assert not w.queue  # the backlog was dropped with it
    # The consumer saw nothing; it resumes from its start and gets everything, in order.
    again = store.watch(b"k", start_revision=2)
    assert [ev.kv.mod_revision for ev in await take(again, 30)] == list(range(2, 32))


async def test_replay_hands_over_to_live_without_gaps(store: Store) -> None:
    for i in range(10):
        await store.put(OpPut(b"k%d" % (i % 3), b"%d" % i))
    w = store.watch(b"k", b"l", start_revision=2)
    seen: list[int] = []

    async def consume() -> None:
        while len(seen) < 40:
            resp = await asyncio.wait_for(w.next(), 5)
            assert resp is not None
            seen.extend(ev.kv.mod_revision for ev in resp.events)
            await asyncio.sleep(0)

    async def produce() -> None:
        for i in range(10, 40):
            await store.put(OpPut(b"k%d" % (i % 3), b"%d" % i))
            await asyncio.sleep(0)

    await asyncio.gather(consume(), produce())
    assert seen == list(range(2, 42))


async def test_compaction_overtakes_a_replaying_watcher(store: Store) -> None:
    for i in range(10):
        await store.put(OpPut(b"k", b"%d" % i))
    w = store.watch(b"k", start_revision=2)
    first = await asyncio.wait_for(w.next(), 5)
    assert first is not None and [ev.kv.mod_revision for ev in first.events] == [2, 3, 4]
    await store.compact(8)
    with pytest.raises(CompactedError) as info:
        await asyncio.wait_for(w.next(), 5)
    assert info.value.compact_revision == 8


async def test_progress_requested_during_replay_follows_the_replay(store: Store) -> None:
    for i in range(7):
        await store.put(OpPut(b"k", b"%d" % i))
    w = store.watch(b"k", start_revision=2)
    w.request_progress()
    revisions: list[int] = []
    while True:
        resp = await asyncio.wait_for(w.next(), 5)
        assert resp is not None
        if not resp.events:
            assert resp.header.revision == 8
            break
        revisions.extend(ev.kv.mod_revision for ev in resp.events)
    assert revisions == list(range(2, 9))


async def test_periodic_progress_only_when_asked_and_idle(store: Store) -> None:
    clock = store.clock
    assert isinstance(clock, FakeClock)
    quiet = store.watch(b"q", progress_notify=True)
    busy = store.watch(b"b", progress_notify=True)
    plain = store.watch(b"q")
    await clock.advance(5)  # the first tick: everyone idle
    assert [len(w.queue) for w in (quiet, busy, plain)] == [1, 1, 0]
    for w in (quiet, busy):
        w.queue.clear()
    await store.put(OpPut(b"b", b"1"))
    busy.queue.clear()
    await clock.advance(5)  # busy had an event since the last tick: no progress for it
    assert [len(w.queue) for w in (quiet, busy, plain)] == [1, 0, 0]
    assert quiet.queue[0].header.revision == store.kv.committed


async def test_close_cancels_watchers(tmp_path: Path) -> None:
    store = Store(StoreSettings(backend="memory", clock=FakeClock()))
    await store.open()
    w = store.watch(b"k")
    waiting = asyncio.create_task(w.next())
    await asyncio.sleep(0)
    await store.close()
    with pytest.raises(WatcherCanceledError, match="shutting down"):
        await asyncio.wait_for(waiting, 5)


async def test_byte_bound(tmp_path: Path) -> None:
    s = StoreSettings(backend="memory", clock=FakeClock(), watch_max_pending_bytes=10_000)
    async with Store(s) as store:
        w = store.watch(b"big")
        await store.put(OpPut(b"big", b"x" * 6000))
        assert w.error is None
        await store.put(OpPut(b"big", b"x" * 6000))
        assert isinstance(w.error, WatcherCanceledError)


async def test_consumer_cancel_ends_next(tmp_path: Path) -> None:
    s = StoreSettings(backend="memory", clock=FakeClock())
    async with Store(s) as store:
        w = store.watch(b"k")
        waiting = asyncio.create_task(w.next())
        await asyncio.sleep(0)
        w.cancel()
        assert await asyncio.wait_for(waiting, 5) is None
        assert store.stats().watchers == 0
        assert store.range(OpRange(b"k")).count == 0
