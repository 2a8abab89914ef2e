"""Watch delivery across a store restart: ordered and gapless when resuming from the last
revision + 1, whether ``GrpcClient`` resumes by itself or the consumer does it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from master.store import errors
from master.store.grpcclient import GrpcClient, GrpcClientSettings
from master.store.types import Event, EventType, prefix_end
from tests.fixtures.store_process import StoreProcess

pytestmark = [pytest.mark.slow]

PREFIX = b"/watched/"
END = prefix_end(PREFIX)


async def _write(client: GrpcClient, n: int, done: asyncio.Event) -> None:
    """Make n puts in order. A put that fails may still have landed, so the next attempt
    writes a new key: every revision under the prefix then holds a key of its own."""
    i = attempt = 0
    while i < n:
        attempt += 1
        try:
            await client.put(PREFIX + f"{i:05d}-{attempt}".encode(), str(i).encode())
            i += 1
        except errors.StoreError:
            await asyncio.sleep(0.05)
    done.set()


async def _history(client: GrpcClient, start: int) -> list[tuple[bytes, int, bytes]]:
    """What the store holds under the prefix now, in revision order: the events to expect."""
    resp = await client.range(PREFIX, END)
    rows = sorted((kv.mod_revision, kv.key, kv.value) for kv in resp.kvs if kv.mod_revision >= start)
    return [(key, rev, value) for rev, key, value in rows]


def _seen(events: list[Event]) -> list[tuple[bytes, int, bytes]]:
    assert all(ev.type is EventType.PUT for ev in events)
    return [(ev.kv.key, ev.kv.mod_revision, ev.kv.value) for ev in events]


def _assert_gapless(events: list[Event], expected: list[tuple[bytes, int, bytes]]) -> None:
    revs = [ev.kv.mod_revision for ev in events]
    assert revs == sorted(set(revs)), "events out of order or repeated"
    assert _seen(events) == expected


async def _crash_and_restart(proc: StoreProcess, *, clean: bool) -> None:
    if clean:
        assert await asyncio.to_thread(proc.terminate) == 0
    else:
        await asyncio.to_thread(proc.kill)
    await asyncio.sleep(0.3)
    await asyncio.to_thread(proc.restart)


@pytest.mark.parametrize("clean", [pytest.param(False, id="kill-9"), pytest.param(True, id="sigterm")])
async def test_grpc_client_resumes_watch_across_restart(store_process: StoreProcess, clean: bool) -> None:
    n = 300
    settings = GrpcClientSettings(timeout=2.0, watch_reconnect_timeout=60.0)
    async with GrpcClient([store_process.endpoint], settings) as client:
        start = (await client.range(b"\0", b"\0", count_only=True)).header.revision + 1
        stream = client.watch(PREFIX, END, start_revision=start)
        seen = _Seen()

        async def consume() -> None:
            async for resp in stream:
                seen.extend(resp.events)

        try:
            expected = await _restart_while_watching(client, store_process, consume, seen, n=n, start=start,
                                                     clean=clean)
        finally:
            await stream.cancel()
    _assert_gapless(seen.events, expected)


async def _restart_while_watching(
    client: GrpcClient, store_process: StoreProcess, consume: Callable[[], Coroutine[Any, Any, None]], seen: _Seen, *,
    n: int, start: int, clean: bool,
) -> list[tuple[bytes, int, bytes]]:
    """Write ``n`` keys while ``consume`` watches them; a third of the way, crash (or stop) and
    restart the store; return the history to expect once the consumer has seen that much."""
    consumer = asyncio.create_task(consume())
    writer = asyncio.create_task(_write(client, n, asyncio.Event()))
    try:
        await seen.at_least(n // 3)
        await _crash_and_restart(store_process, clean=clean)
        await asyncio.wait_for(writer, 60)
        expected = await _history(client, start)
        await seen.at_least(len(expected))
        return expected
    finally:
        writer.cancel()
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer


class _Seen:
    """Events a consumer has seen, with a way to wait until there are enough."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def extend(self, events: tuple[Event, ...]) -> None:
        self.events.extend(events)
        self._changed.set()

    async def at_least(self, n: int, within: float = 60.0) -> None:
        async def wait() -> None:
            while len(self.events) < n:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), within)


async def test_consumer_resumes_from_last_revision_plus_one(store_process: StoreProcess) -> None:
    """The client gives up quickly (no transparent resume); the consumer starts a new watch
    from its last revision + 1 after the restart and sees every event exactly once."""
    n = 200
    impatient = GrpcClientSettings(timeout=2.0, watch_reconnect_timeout=0.2, retry_backoff=0.05)
    async with GrpcClient([store_process.endpoint], impatient) as client:
        start = (await client.range(b"\0", b"\0", count_only=True)).header.revision + 1
        seen = _Seen()
        resumed = 0

        async def consume() -> None:
            nonlocal resumed
            next_rev = start
            while True:
                stream = client.watch(PREFIX, END, start_revision=next_rev)
                try:
                    async for resp in stream:
                        seen.extend(resp.events)
                        next_rev = resp.events[-1].kv.mod_revision + 1
                except errors.UnavailableError:
                    resumed += 1
                    await asyncio.sleep(0.2)  # the store is restarting; resume from next_rev
                finally:
                    await stream.cancel()

        expected = await _restart_while_watching(client, store_process, consume, seen, n=n, start=start,
                                                 clean=False)
    assert resumed >= 1
    _assert_gapless(seen.events, expected)
