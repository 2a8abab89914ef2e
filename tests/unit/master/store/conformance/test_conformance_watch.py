"""Watch: live and replayed events, ranges, prev_kv, progress, cancel, compacted starts."""

from __future__ import annotations

import asyncio

import pytest

from master.store.client import Client
from master.store.errors import CompactedError
from master.store.types import Event, EventType, OpDelete, OpPut, prefix_end
from tests.fixtures.store_targets import TIMEOUT, Collector, Target, watching


def summary(events: list[Event]) -> list[tuple[str, bytes, bytes, int]]:
    return [(ev.type.name, ev.kv.key, ev.kv.value, ev.kv.mod_revision) for ev in events]


async def test_live_events(target: Target, client: Client) -> None:
    r0 = await target.revision()
    async with watching(client, b"a", start_revision=r0 + 1) as w:
        await client.put(b"a", b"1")
        await client.put(b"b", b"1")  # not watched
        await client.put(b"a", b"2")
        await client.delete_range(b"a")
        events = await w.events_n(3)
    assert summary(events) == [
        ("PUT", b"a", b"1", r0 + 1),
        ("PUT", b"a", b"2", r0 + 3),
        ("DELETE", b"a", b"", r0 + 4),
    ]
    assert events[0].prev_kv is None  # not asked for
    delete = events[2].kv
    assert (delete.create_revision, delete.version, delete.lease) == (0, 0, 0)


async def test_range_and_prefix_watches(target: Target, client: Client) -> None:
    start = await target.revision() + 1
    async with (
        watching(client, b"p/", prefix_end(b"p/"), start_revision=start) as prefix,
        watching(client, b"b", b"d", start_revision=start) as half_open,
        watching(client, b"c", b"\0", start_revision=start) as from_key,
    ):
        for key in (b"a", b"b", b"p/1", b"c", b"z", b"p/2"):
            await client.put(key, b"v")
        assert [ev.kv.key for ev in await prefix.events_n(2)] == [b"p/1", b"p/2"]
        assert [ev.kv.key for ev in await half_open.events_n(2)] == [b"b", b"c"]
        assert [ev.kv.key for ev in await from_key.events_n(4)] == [b"p/1", b"c", b"z", b"p/2"]


async def test_replay_from_history_then_live(target: Target, client: Client) -> None:
    r0 = await target.revision()
    await client.put(b"a", b"1")
    await client.put(b"a", b"2")
    await client.delete_range(b"a")
    async with watching(client, b"a", start_revision=r0 + 2) as w:
        await client.put(b"a", b"3")
        events = await w.events_n(3)
    assert summary(events) == [
        ("PUT", b"a", b"2", r0 + 2),
        ("DELETE", b"a", b"", r0 + 3),
        ("PUT", b"a", b"3", r0 + 4),
    ]


async def test_prev_kv(target: Target, client: Client) -> None:
    r0 = await target.revision()
    await client.put(b"a", b"1")
    async with watching(client, b"a", start_revision=r0 + 1, prev_kv=True) as w:
        await client.put(b"a", b"2")
        await client.delete_range(b"a")
        await client.put(b"a", b"3")
        events = await w.events_n(4)
    prevs = [(ev.prev_kv.value, ev.prev_kv.mod_revision) if ev.prev_kv else None for ev in events]
    assert prevs == [None, (b"1", r0 + 1), (b"2", r0 + 2), None]


async def test_txn_events_share_one_revision(target: Target, client: Client) -> None:
    await client.put(b"t/old", b"x")
    r0 = await target.revision()
    async with watching(client, b"t/", prefix_end(b"t/"), start_revision=r0 + 1) as w:
        await client.txn([], [OpPut(b"t/b", b"1"), OpDelete(b"t/old"), OpPut(b"t/a", b"1")])
        events = await w.events_n(3)
    assert summary(events) == [
        ("PUT", b"t/b", b"1", r0 + 1),
        ("DELETE", b"t/old", b"", r0 + 1),
        ("PUT", b"t/a", b"1", r0 + 1),
    ]
    assert len([r for r in w.responses if r.events]) == 1  # one revision is never split


async def test_range_delete_events(target: Target, client: Client) -> None:
    for key in (b"d/1", b"d/2", b"d/3"):
        await client.put(key, b"v")
    r0 = await target.revision()
    async with watching(client, b"d/", prefix_end(b"d/"), start_revision=r0 + 1, prev_kv=True) as w:
        await client.delete_range(b"d/", prefix_end(b"d/"))
        events = await w.events_n(3)
    assert [(ev.type, ev.kv.key, ev.kv.mod_revision) for ev in events] == [
        (EventType.DELETE, b"d/1", r0 + 1),
        (EventType.DELETE, b"d/2", r0 + 1),
        (EventType.DELETE, b"d/3", r0 + 1),
    ]
    assert [ev.prev_kv.key for ev in events if ev.prev_kv] == [b"d/1", b"d/2", b"d/3"]


async def test_future_start_revision_waits(target: Target, client: Client) -> None:
    r0 = await target.revision()
    async with watching(client, b"f", start_revision=r0 + 3) as w:
        for i in range(4):
            await client.put(b"f", str(i).encode())
        events = await w.events_n(2)
    assert [ev.kv.mod_revision for ev in events] == [r0 + 3, r0 + 4]


async def test_compacted_start_revision(target: Target, client: Client) -> None:
    r0 = await target.revision()
    await client.put(b"a", b"1")
    await client.put(b"a", b"2")
    await client.put(b"a", b"3")
    await client.compact(r0 + 2)
    async with watching(client, b"a", start_revision=r0 + 1) as w:
        await w.until(lambda: w.error is not None)
    assert isinstance(w.error, CompactedError)
    assert w.error.compact_revision == r0 + 2
    assert w.events == []
    # Starting at the compact revision itself is fine.
    async with watching(client, b"a", start_revision=r0 + 2) as ok:
        assert [ev.kv.value for ev in await ok.events_n(2)] == [b"2", b"3"]


async def test_cancel_ends_iteration(target: Target, client: Client) -> None:
    stream = client.watch(b"a", start_revision=await target.revision() + 1)
    collector = Collector(stream)
    await client.put(b"a", b"1")
    await collector.events_n(1)
    await stream.cancel()
    await asyncio.wait_for(collector._task, TIMEOUT)
    assert collector.error is None
    await client.put(b"a", b"2")
    assert len(collector.events) == 1


async def test_progress_on_request(target: Target, client: Client) -> None:
    async with watching(client, b"a", start_revision=await target.revision() + 1) as w:
        await client.put(b"a", b"1")
        await client.put(b"other", b"1")
        await w.events_n(1)
        r = await target.revision()
        await w.stream.request_progress()
        await w.until(lambda: len(w.progress) >= 1)
    assert w.progress[0].header.revision == r
    assert w.responses[-1] is w.progress[0]  # after the events it covers


async def test_periodic_progress(target: Target, client: Client) -> None:
    r = await target.revision()
    async with watching(client, b"idle", start_revision=r + 1, progress_notify=True) as w:

        async def got_progress() -> bool:
            return len(w.progress) >= 1

        await target.eventually(got_progress)
    assert w.progress[0].header.revision >= r
    assert w.events == []


@pytest.mark.parametrize("n", [pytest.param(150, id="150-revisions")])
async def test_many_revisions_in_order(target: Target, client: Client, n: int) -> None:
    r0 = await target.revision()
    for i in range(n // 2):
        await client.put(f"m/{i % 7}".encode(), str(i).encode())
    async with watching(client, b"m/", prefix_end(b"m/"), start_revision=r0 + 1) as w:
        for i in range(n // 2, n):
            await client.put(f"m/{i % 7}".encode(), str(i).encode())
        events = await w.events_n(n)
    assert [ev.kv.mod_revision for ev in events] == list(range(r0 + 1, r0 + n + 1))
    assert [ev.kv.value for ev in events] == [str(i).encode() for i in range(n)]
