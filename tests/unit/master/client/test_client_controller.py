import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from master.api import core
from master.client import errors
from master.client.config import ClientConfig
from master.client.controller import Controller
from master.client.informer import Informer, InformerSettings
from master.client.rest import ApiClient
from master.util.clock import FakeClock
from tests.fixtures.fake_apiserver import FakeApiServer


async def settle(n: int = 30) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


@contextlib.asynccontextmanager
async def running(ctl: Controller) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(ctl.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def controller(sync: Callable[[str], Awaitable[float | None]], clock: FakeClock, **kw: Any) -> Controller:
    return Controller("test-" + str(id(sync)), sync, clock=clock, **kw)


async def test_success_not_found_and_timed_recheck() -> None:
    clock = FakeClock()
    calls: list[str] = []

    async def sync(key: str) -> float | None:
        calls.append(key)
        if key == "gone":
            raise errors.NotFound("not found", code=404)
        if key == "recheck":
            return 5.0
        return None

    ctl = controller(sync, clock)
    async with running(ctl):
        for key in ("ok", "gone", "recheck"):
            ctl.enqueue_key(key)
        await settle()
        assert calls == ["ok", "gone", "recheck"]
        assert ctl.queue.num_requeues("gone") == 0
        await clock.advance(5)
        await settle()
        assert calls[-1] == "recheck" and calls.count("recheck") == 2


async def test_failures_back_off_then_give_up() -> None:
    clock = FakeClock()
    calls: list[float] = []

    async def sync(key: str) -> None:
        calls.append(clock.monotonic())
        raise RuntimeError("transient")

    ctl = controller(sync, clock, max_retries=3)
    async with running(ctl):
        ctl.enqueue_key("k")
        await settle()
        assert len(calls) == 1
        for backoff, expected in ((0.005, 2), (0.010, 3), (0.020, 4)):  # client-go's 5 ms doubling
            await clock.advance(backoff * 0.9)
            await settle()
            assert len(calls) == expected - 1
            await clock.advance(backoff * 0.1)
            await settle()
            assert len(calls) == expected
        await clock.advance(1000)
        await settle()
    assert len(calls) == 4  # given up after max_retries
    assert ctl.queue.num_requeues("k") == 0


async def test_one_key_is_never_synced_twice_at_once() -> None:
    clock = FakeClock()
    release = asyncio.Event()
    active: set[str] = set()
    overlaps = 0
    runs: list[str] = []

    async def sync(key: str) -> None:
        nonlocal overlaps
        if key in active:
            overlaps += 1
        active.add(key)
        runs.append(key)
        if key == "slow":
            await release.wait()
        active.discard(key)

    ctl = controller(sync, clock, workers=3)
    async with running(ctl):
        ctl.enqueue_key("slow")
        await settle()
        ctl.enqueue_key("slow")  # while it is being synced
        ctl.enqueue_key("other")
        await settle()
        assert runs == ["slow", "other"]
        release.set()
        await settle()
        assert runs == ["slow", "other", "slow"]
    assert overlaps == 0


async def test_stopping_lets_the_current_sync_finish() -> None:
    clock = FakeClock()
    finished: list[str] = []
    started = asyncio.Event()

    async def sync(key: str) -> None:
        started.set()
        await asyncio.sleep(0.01)
        finished.append(key)

    ctl = controller(sync, clock)
    task = asyncio.create_task(ctl.run())
    ctl.enqueue_key("k")
    await started.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert finished == ["k"]
    assert ctl.queue.shutting_down


async def test_watch_informer_with_key_mapping(fake_apiserver: FakeApiServer) -> None:
    fake_apiserver.put(
        "", "pods", {"metadata": {"name": "p1", "namespace": "d"}, "spec": {"nodeName": "pi-1"}}
    )
    synced: list[str] = []
    seen = asyncio.Event()

    async def sync(key: str) -> None:
        synced.append(key)
        seen.set()

    async with ApiClient(ClientConfig(server=fake_apiserver.url)) as api:
        inf = Informer(api, core.Pod, settings=InformerSettings(backoff_initial=0.01))
        ctl = Controller("nodes-of-pods", sync)
        ctl.watch(inf, key=lambda p: [p.spec.node_name] if p.spec.node_name else [])
        inf_task = asyncio.create_task(inf.run())
        try:
            async with running(ctl), asyncio.timeout(10):
                while "pi-1" not in synced:
                    await seen.wait()
                    seen.clear()
                fake_apiserver.put(
                    "", "pods", {"metadata": {"name": "p1", "namespace": "d"}, "spec": {"nodeName": "pi-2"}}
                )
                while "pi-2" not in synced:
                    await seen.wait()
                    seen.clear()
        finally:
            inf_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await inf_task
    assert synced[0] == "pi-1"
    # The move from pi-1 to pi-2 enqueues both nodes (old and new key).
    assert synced.count("pi-1") == 2


@pytest.mark.parametrize("exc", [pytest.param(errors.Conflict("stale", code=409), id="conflict")])
async def test_conflicts_are_retried(exc: Exception) -> None:
    clock = FakeClock()
    attempts = 0

    async def sync(key: str) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise exc

    ctl = controller(sync, clock)
    async with running(ctl):
        ctl.enqueue_key("k")
        await settle()
        await clock.advance(0.005)
        await settle()
    assert attempts == 2
