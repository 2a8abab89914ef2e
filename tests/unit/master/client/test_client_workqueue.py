import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from master.client.ratelimit import Bucket, ExponentialFailure, MaxOf, default_controller_rate_limiter
from master.client.workqueue import WorkQueue
from master.util.clock import FakeClock


async def settle(n: int = 20) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def queue(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[WorkQueue[str]]:
    q: WorkQueue[str] = WorkQueue(request.node.name, clock=clock)
    yield q
    await q.aclose()


async def test_dedup_and_fifo(queue: WorkQueue[str]) -> None:
    for k in ("a", "b", "a", "c", "b"):
        queue.add(k)
    assert len(queue) == 3
    assert [await queue.get() for _ in range(3)] == ["a", "b", "c"]


async def test_key_processing_is_exclusive_and_readds_are_kept(queue: WorkQueue[str]) -> None:
    queue.add("a")
    queue.add("b")
    assert await queue.get() == "a"
    queue.add("a")  # while processing: marked dirty, not handed out
    assert await queue.get() == "b"
    queue.done("b")
    assert len(queue) == 0
    getter = asyncio.create_task(queue.get())
    await settle()
    assert not getter.done()
    queue.done("a")
    assert await getter == "a"


async def test_get_waits_for_an_add(queue: WorkQueue[str]) -> None:
    getters = [asyncio.create_task(queue.get()) for _ in range(2)]
    await settle()
    queue.add("x")
    await settle()
    assert [g.done() for g in getters].count(True) == 1
    queue.add("y")
    assert sorted([await g for g in getters]) == ["x", "y"]  # type: ignore[type-var]


async def test_cancelled_getter_does_not_lose_a_wakeup(queue: WorkQueue[str]) -> None:
    first = asyncio.create_task(queue.get())
    second = asyncio.create_task(queue.get())
    await settle()
    queue.add("x")  # wakes `first`...
    first.cancel()  # ...which is cancelled before it runs
    await settle()
    assert second.done() and second.result() == "x"


async def test_shutdown_wakes_getters_and_ignores_adds(queue: WorkQueue[str]) -> None:
    getter = asyncio.create_task(queue.get())
    await settle()
    queue.shutdown()
    assert await getter is None
    queue.add("a")
    assert await queue.get() is None
    assert queue.shutting_down


async def test_add_after_uses_the_clock(queue: WorkQueue[str], clock: FakeClock) -> None:
    queue.add_after("late", 10)
    queue.add_after("early", 1)
    queue.add_after("late", 20)  # a later deadline does not replace an earlier one
    await settle()
    assert len(queue) == 0 and queue.pending_delayed() == 2
    await clock.advance(1)
    await settle()
    assert await queue.get() == "early"
    await clock.advance(8.5)
    await settle()
    assert len(queue) == 0
    await clock.advance(0.5)
    await settle()
    assert await queue.get() == "late"
    assert queue.pending_delayed() == 0


async def test_add_after_earlier_deadline_wins(queue: WorkQueue[str], clock: FakeClock) -> None:
    queue.add_after("k", 100)
    await settle()
    queue.add_after("k", 1)
    await settle()
    await clock.advance(1)
    await settle()
    assert await queue.get() == "k"
    queue.done("k")
    await clock.advance(200)
    await settle()
    assert len(queue) == 0  # the stale 100 s entry does not add it twice


async def test_add_rate_limited_backs_off_per_key(queue: WorkQueue[str], clock: FakeClock) -> None:
    queue.add_rate_limited("k")  # 5 ms
    queue.add_rate_limited("k")  # already pending earlier; failure count 2
    assert queue.num_requeues("k") == 2
    await clock.advance(0.005)
    await settle()
    assert await queue.get() == "k"
    queue.done("k")
    queue.forget("k")
    assert queue.num_requeues("k") == 0
    before = REGISTRY.get_sample_value("workqueue_retries_total", {"name": queue.name})
    assert before == 2


async def test_metrics(queue: WorkQueue[str], clock: FakeClock) -> None:
    labels = {"name": queue.name}
    queue.add("a")
    queue.add("a")
    queue.add("b")
    assert REGISTRY.get_sample_value("workqueue_depth", labels) == 2
    assert REGISTRY.get_sample_value("workqueue_adds_total", labels) == 2
    await clock.advance(3)
    key = await queue.get()
    assert key == "a"
    await clock.advance(2)
    queue.done(key)
    assert REGISTRY.get_sample_value("workqueue_queue_duration_seconds_sum", labels) == 3
    assert REGISTRY.get_sample_value("workqueue_work_duration_seconds_sum", labels) == 2
    assert REGISTRY.get_sample_value("workqueue_depth", labels) == 1


def test_exponential_failure() -> None:
    rl = ExponentialFailure(0.005, 1000)
    assert [rl.when("a") for _ in range(4)] == [0.005, 0.01, 0.02, 0.04]
    assert rl.when("b") == 0.005
    for _ in range(100):
        last = rl.when("a")
    assert last == 1000
    rl.forget("a")
    assert rl.when("a") == 0.005


def test_bucket_and_default(clock: FakeClock) -> None:
    bucket = Bucket(qps=10, burst=2, clock=clock)
    assert [bucket.when(i) for i in range(4)] == [0, 0, pytest.approx(0.1), pytest.approx(0.2)]
    rl = MaxOf(ExponentialFailure(1, 10), Bucket(qps=1, burst=1, clock=clock))
    assert rl.when("a") == 1
    assert rl.when("b") == pytest.approx(1)
    default = default_controller_rate_limiter(clock)
    assert default.when("x") == 0.005
