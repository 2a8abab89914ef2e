"""Pod workers (serial per pod, parallel across pods), the PLEG relist, and the backoff."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agent.kubelet import keys
from agent.kubelet.backoff import Backoff
from agent.kubelet.cri import ContainerConfig, SandboxConfig
from agent.kubelet.cri.fake import FakeRuntime
from agent.kubelet.pleg import PLEG
from agent.kubelet.podworkers import DONE, PodWorkers
from master.util.clock import FakeClock
from tests.fixtures.waiting import eventually


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.active: dict[str, int] = {}
        self.max_active: dict[str, int] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self.answers: dict[str, list[float | None]] = {}
        self.fail: set[str] = set()

    async def sync(self, uid: str) -> float | None:
        self.calls.append(uid)
        self.active[uid] = self.active.get(uid, 0) + 1
        self.max_active[uid] = max(self.max_active.get(uid, 0), self.active[uid])
        try:
            gate = self.gates.get(uid)
            if gate is not None:
                await gate.wait()
            if uid in self.fail:
                raise RuntimeError("boom")
            answers = self.answers.get(uid)
            return answers.pop(0) if answers else None
        finally:
            self.active[uid] -= 1


@pytest.fixture
async def workers() -> AsyncIterator[tuple[PodWorkers, Recorder, FakeClock]]:
    clock = FakeClock()
    rec = Recorder()
    w = PodWorkers(rec.sync, clock=clock, resync_period=10)
    yield w, rec, clock
    await w.stop()


async def test_each_pod_syncs_serially_and_pods_in_parallel(workers: tuple[PodWorkers, Recorder, FakeClock]) -> None:
    w, rec, _ = workers
    rec.gates = {"a": asyncio.Event(), "b": asyncio.Event()}
    w.wake("a")
    w.wake("b")
    await eventually(lambda: rec.active.get("a") == 1 and rec.active.get("b") == 1)
    for _ in range(5):
        w.wake("a")  # wakes during a sync coalesce into one more sync
    rec.gates["a"].set()
    rec.gates["b"].set()
    await eventually(lambda: rec.calls.count("a") == 2)
    await asyncio.sleep(0.01)
    assert rec.calls.count("a") == 2 and rec.max_active["a"] == 1


async def test_timed_wake_and_resync(workers: tuple[PodWorkers, Recorder, FakeClock]) -> None:
    w, rec, clock = workers
    rec.answers["a"] = [3.0, None]
    w.wake("a")
    await eventually(lambda: rec.calls == ["a"])
    await clock.advance(2.9)
    assert rec.calls == ["a"]
    await clock.advance(0.2)
    await eventually(lambda: rec.calls == ["a", "a"])
    # None: the resync period (10 s); an earlier timed wake wins.
    w.wake("a", after=4)
    await clock.advance(4.1)
    await eventually(lambda: len(rec.calls) == 3)


async def test_done_ends_the_worker(workers: tuple[PodWorkers, Recorder, FakeClock]) -> None:
    w, rec, _ = workers
    rec.answers["a"] = [DONE]
    w.wake("a")
    await eventually(lambda: "a" not in w)
    w.wake("a")  # a new worker
    await eventually(lambda: rec.calls == ["a", "a"])


async def test_failures_are_retried_with_backoff(workers: tuple[PodWorkers, Recorder, FakeClock]) -> None:
    w, rec, clock = workers
    rec.fail.add("a")
    w.wake("a")
    await eventually(lambda: len(rec.calls) == 1)
    await clock.advance(1.0)
    await eventually(lambda: len(rec.calls) == 2)
    await clock.advance(1.0)
    await asyncio.sleep(0.01)
    assert len(rec.calls) == 2  # the second retry waits 2 s
    await clock.advance(1.0)
    await eventually(lambda: len(rec.calls) == 3)


async def test_pleg_reports_changed_pods() -> None:
    rt = FakeRuntime()
    changes: list[str] = []
    pleg = PLEG(rt, clock=FakeClock(), period=1, threshold=180, on_change=changes.append)
    labels = {keys.POD_UID: "u1", keys.POD_NAME: "web", keys.POD_NAMESPACE: "default"}
    sc = SandboxConfig(name="web", uid="u1", namespace="default", labels=labels)
    sid = await rt.run_sandbox(sc)
    await pleg.relist()
    assert changes == ["u1"] and pleg.pods["u1"].ready_sandbox
    await pleg.relist()
    assert changes == ["u1"]  # nothing changed
    cid = await rt.create_container(sid, ContainerConfig(name="app", image="localhost/web:1",
                                                         labels={**labels, keys.CONTAINER_NAME: "app"}), sc)
    await rt.start_container(cid)
    await pleg.relist()
    assert changes == ["u1", "u1"] and pleg.pods["u1"].running_containers == 1
    await rt.remove_sandbox(sid)
    await pleg.relist()
    assert changes == ["u1", "u1", "u1"] and "u1" not in pleg.pods
    await rt.close()


async def test_pleg_health() -> None:
    clock = FakeClock()
    pleg = PLEG(FakeRuntime(clock=clock), clock=clock, period=1, threshold=180, on_change=lambda uid: None)
    await pleg.relist()
    assert pleg.healthy and pleg.health_message() == ""
    await clock.advance(200)
    assert not pleg.healthy
    assert pleg.health_message().startswith("PLEG is not healthy: pleg was last seen active 3m20s ago")


def test_backoff_doubles_caps_and_resets() -> None:
    clock = FakeClock(start=1000)
    b = Backoff(initial=10, maximum=40, clock=clock)
    assert not b.in_backoff_since("k", 1000)
    assert b.next("k", 1000) == 10
    assert b.in_backoff_since("k", 1000) and b.remaining("k", 1000) == 10
    clock._now = 1011
    assert not b.in_backoff_since("k", 1000)
    assert [b.next("k", clock.time()) for _ in range(3)] == [20, 40, 40]
    clock._now += 200  # more than twice the maximum after the last retry: start over
    assert not b.in_backoff_since("k", clock.time() - 1)
    assert b.next("k", clock.time()) == 10
    b.forget_prefix("k")
    assert b.delay("k") == 0
