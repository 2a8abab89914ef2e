"""SyncRunner on a fake clock: immediate first run, bounded rate, coalescing, full syncs, retries."""

from __future__ import annotations

import asyncio

import pytest

from agent.proxy.runner import SyncRunner, SyncSettings
from master.util.clock import FakeClock


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


class Recorder:
    def __init__(self, clock: FakeClock, failures: int = 0) -> None:
        self.clock = clock
        self.calls: list[tuple[float, bool]] = []
        self.failures = failures

    async def __call__(self, full: bool) -> None:
        self.calls.append((self.clock.monotonic() - 1_000_000.0, full))
        if self.failures:
            self.failures -= 1
            raise RuntimeError("kernel said no")


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock(start=1_000_000.0)


@pytest.fixture
async def running(clock: FakeClock):
    made: list[asyncio.Task[None]] = []

    async def run(sync: Recorder, **settings: float) -> SyncRunner:
        runner = SyncRunner(sync, SyncSettings(clock=clock, **settings))
        made.append(asyncio.create_task(runner.run()))
        await settle()
        return runner

    yield run
    for task in made:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_first_run_at_once_then_bounded_and_coalesced(clock, running):
    sync = Recorder(clock)
    runner = await running(sync, min_sync_period=1.0, full_sync_period=100.0)
    assert sync.calls == [(0.0, False)]
    runner.request()
    await clock.advance(0.2)
    runner.request()
    runner.request()
    await clock.advance(0.3)
    assert len(sync.calls) == 1  # still inside the minimum period
    await clock.advance(0.5)
    assert sync.calls == [(0.0, False), (1.0, False)]  # three requests, one run
    await clock.advance(10.0)
    assert len(sync.calls) == 2  # nothing asked, nothing done
    runner.request()
    await settle()
    assert sync.calls[-1] == (11.0, False)  # long enough since the last run: at once


async def test_full_sync_every_period(clock, running):
    sync = Recorder(clock)
    await running(sync, min_sync_period=1.0, full_sync_period=30.0)
    await clock.advance(30.0)
    await clock.advance(30.0)
    assert sync.calls == [(0.0, False), (30.0, True), (60.0, True)]


async def test_failures_retry_with_backoff(clock, running):
    sync = Recorder(clock, failures=3)
    runner = await running(sync, min_sync_period=0.0, full_sync_period=1000.0, retry_period=1.0)
    for _ in range(8):
        await clock.advance(1.0)
    assert [t for t, _ in sync.calls] == [0.0, 1.0, 3.0, 7.0]  # waits 1, 2, 4 s; then succeeds
    assert runner.failures == 3 and runner.runs == 1


def test_bad_settings():
    with pytest.raises(ValueError, match="positive"):
        SyncSettings(full_sync_period=0)
