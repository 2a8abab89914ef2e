"""SchedulingQueue: ordering, backoff, unschedulable pods and cluster events (fake clock)."""

from __future__ import annotations

import asyncio

from master.api import core
from master.scheduler.framework.interface import ActionType, ClusterEvent
from master.scheduler.framework.types import PodInfo
from master.scheduler.queue import QueueSettings, SchedulingQueue, is_pod_updated
from master.util.clock import FakeClock
from tests.unit.master.scheduler.sched_testing import make_pod

NODE_ADD = ClusterEvent("Node", ActionType.ADD)
NODE_LABEL = ClusterEvent("Node", ActionType.UPDATE_NODE_LABEL)
POD_DELETE = ClusterEvent("Pod", ActionType.DELETE)
EVENTS = {
    "NodeResourcesFit": [ClusterEvent("Pod", ActionType.DELETE), ClusterEvent("Node", ActionType.ADD)],
    "NodeAffinity": [ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_LABEL)],
}


def new_queue(clock: FakeClock) -> SchedulingQueue:
    return SchedulingQueue(QueueSettings(initial_backoff=1, max_backoff=10, max_unschedulable=60),
                           plugin_events=EVENTS, clock=clock)


def info(name: str, priority: int = 0, **kw: object) -> PodInfo:
    return PodInfo(make_pod(name, priority=priority, **kw))  # type: ignore[arg-type]


def fail(q: SchedulingQueue, name: str, *plugins: str, error: bool = False) -> None:
    qpi = q.pop_nowait()
    assert qpi is not None and qpi.info.name == name
    qpi.unschedulable_plugins = frozenset(plugins)
    q.add_unschedulable_if_not_present(qpi, error=error)


def test_priority_then_fifo() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    q.add(info("low-1"))
    q.add(info("high", priority=100))
    q.add(info("low-2"))
    popped = [q.pop_nowait() for _ in range(3)]
    assert [p.info.name for p in popped if p] == ["high", "low-1", "low-2"]
    assert q.pop_nowait() is None


async def test_backoff_doubles_and_caps() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    assert [q.backoff_duration(n) for n in (1, 2, 3, 4, 5, 9)] == [1, 2, 4, 8, 10, 10]
    q.add(info("p"))
    fail(q, "p", error=True)
    assert q.where("default/p") == "backoff"
    await clock.advance(0.9)
    assert q.pop_nowait() is None
    await clock.advance(0.2)
    fail(q, "p", error=True)  # second attempt: 2 s
    await clock.advance(1.5)
    assert q.pop_nowait() is None
    await clock.advance(0.6)
    assert q.pop_nowait() is not None


async def test_pop_waits_for_backoff_expiry() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    q.add(info("p"))
    fail(q, "p", error=True)
    popper = asyncio.ensure_future(q.pop())
    for _ in range(3):  # let pop() start its fake-clock sleep
        await asyncio.sleep(0)
    assert not popper.done()
    await clock.advance(1.0)
    qpi = await asyncio.wait_for(popper, 1)
    assert qpi is not None and qpi.attempts == 2


async def test_unschedulable_moves_only_on_relevant_events() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    q.add(info("fit"))
    q.add(info("affinity"))
    fail(q, "fit", "NodeResourcesFit")
    fail(q, "affinity", "NodeAffinity")
    assert q.pending() == {"active": 0, "backoff": 0, "unschedulable": 2}
    assert q.move_all_to_active_or_backoff(NODE_LABEL) == 1
    assert q.where("default/affinity") == "backoff" and q.where("default/fit") == "unschedulable"
    assert q.move_all_to_active_or_backoff(ClusterEvent("Pod", ActionType.ADD)) == 0
    await clock.advance(5)
    assert q.move_all_to_active_or_backoff(POD_DELETE) == 1
    assert q.where("default/fit") == "active", "its backoff is over: straight to activeQ"


async def test_unknown_plugins_are_wildcards_and_leftover_flush() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    q.add(info("custom"))
    q.add(info("fit"))
    fail(q, "custom", "SomeOutOfTreePlugin")
    fail(q, "fit", "NodeResourcesFit")
    assert q.move_all_to_active_or_backoff(NODE_LABEL) == 1
    assert q.where("default/custom") == "backoff"
    await clock.advance(59)
    assert q.flush_unschedulable_leftover() == 0
    await clock.advance(2)
    assert q.flush_unschedulable_leftover() == 1 and q.where("default/fit") == "active"


def test_event_during_attempt_sends_pod_to_backoff() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    q.add(info("p"))
    qpi = q.pop_nowait()
    assert qpi is not None
    q.move_all_to_active_or_backoff(NODE_ADD)  # while p is in flight
    qpi.unschedulable_plugins = frozenset({"NodeResourcesFit"})
    q.add_unschedulable_if_not_present(qpi)
    assert q.where("default/p") == "backoff"
    q.add(info("p2"))
    qpi = q.pop_nowait()
    assert qpi is not None and qpi.info.name == "p2"
    q.move_all_to_active_or_backoff(NODE_LABEL)  # does not help NodeResourcesFit
    qpi.unschedulable_plugins = frozenset({"NodeResourcesFit"})
    q.add_unschedulable_if_not_present(qpi)
    assert q.where("default/p2") == "unschedulable"


def test_updates() -> None:
    clock = FakeClock()
    q = new_queue(clock)
    old = make_pod("p")
    q.add(PodInfo(old))
    fail(q, "p", "NodeAffinity")
    status_only = make_pod("p")
    status_only.status = core.PodStatus(phase="Pending", conditions=[core.PodCondition(type="PodScheduled", status="False")])
    assert not is_pod_updated(old, status_only)
    q.update(old, PodInfo(status_only))
    assert q.where("default/p") == "unschedulable"
    relabeled = make_pod("p", labels={"x": "1"})
    q.update(status_only, PodInfo(relabeled))
    assert q.where("default/p") == "backoff"
    q.delete("default/p")
    assert len(q) == 0
    q.update(old, PodInfo(old))  # an update of an unknown pod adds it
    assert q.where("default/p") == "active"


async def test_close_wakes_pop() -> None:
    q = new_queue(FakeClock())
    popper = asyncio.ensure_future(q.pop())
    await asyncio.sleep(0)
    q.close()
    assert await asyncio.wait_for(popper, 1) is None
