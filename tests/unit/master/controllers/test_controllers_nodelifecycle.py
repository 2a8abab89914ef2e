"""Node lifecycle: health, zone states, rate-limited tainting, NoSchedule taints, taint eviction (fake clock)."""

from __future__ import annotations

import pytest

from master.api import coordination, core, meta, timefmt
from master.api import helpers as api_helpers
from master.controllers import taints
from master.controllers.nodelifecycle import health
from master.controllers.nodelifecycle.controller import NodeLifecycleController, desired_no_schedule
from master.controllers.nodelifecycle.eviction import eviction_delay
from master.controllers.nodelifecycle.zones import RateLimitedQueue, TokenBucket, ZoneState, zone_state
from master.util.clock import FakeClock
from tests.unit.master.controllers.harness import START, Harness, harness, node, pod

ZONE = {"topology.kubernetes.io/zone": "a"}


def lease(name: str, renew: float) -> coordination.Lease:
    return coordination.Lease(
        metadata=meta.ObjectMeta(name=name, namespace="kube-node-lease"),
        spec=coordination.LeaseSpec(holder_identity=name, lease_duration_seconds=40,
                                    renew_time=timefmt.format_micro_time(renew)),
    )


def test_observe_counts_only_new_signs_of_life() -> None:
    n = node("a")
    h = health.observe(None, n, lease("a", 1.0), now=10.0)
    assert h.probe_at == 10.0
    h = health.observe(h, n, lease("a", 1.0), now=20.0)
    assert h.probe_at == 10.0, "the same lease is no news"
    h = health.observe(h, n, lease("a", 2.0), now=30.0)
    assert h.probe_at == 30.0
    beat = node("a")
    beat.status.conditions[0].last_heartbeat_time = timefmt.format_time(START + 5)
    h = health.observe(h, beat, lease("a", 2.0), now=40.0)
    assert h.probe_at == 40.0


def test_unknown_conditions() -> None:
    n = node("a")
    changed = health.unknown_conditions(n, "now")
    assert changed is not None
    by_type = {c.type: c for c in changed}
    assert by_type["Ready"].status == "Unknown" and by_type["Ready"].message == "Kubelet stopped posting node status."
    assert by_type["MemoryPressure"].reason == "NodeStatusNeverUpdated"
    unknown = node("a", ready="Unknown")
    unknown.status.conditions += [core.NodeCondition(type=t, status="Unknown") for t in
                                  ("MemoryPressure", "DiskPressure", "PIDPressure")]
    assert health.unknown_conditions(unknown, "now") is None


@pytest.mark.parametrize(
    ("ready", "want"),
    [
        pytest.param([True, True, False], ZoneState.NORMAL, id="one-down"),
        pytest.param([False, False], ZoneState.FULL, id="all-down"),
        pytest.param([True, False, False, False], ZoneState.PARTIAL, id="three-of-four-down"),
        pytest.param([True, True, False, False], ZoneState.NORMAL, id="two-down-is-not-partial"),
        pytest.param([], ZoneState.NORMAL, id="empty"),
    ],
)
def test_zone_state(ready: list[bool], want: ZoneState) -> None:
    assert zone_state(ready, 0.55)[0] == want


async def test_rate_limited_queue() -> None:
    clock = FakeClock()
    q = RateLimitedQueue(TokenBucket(0.5, clock))
    for n in ("a", "b", "c"):
        q.add(n)
    assert not q.add("a")
    assert q.take() == ["a"], "burst of one"
    assert q.take() == []
    clock._now += 2.0
    assert q.take() == ["b"]
    q.bucket.set_rate(0.0)
    clock._now += 100
    assert q.take() == [], "rate 0 stops the queue"
    assert q.remove("c") and len(q) == 0


@pytest.mark.parametrize(
    ("tolerations", "no_execute", "want"),
    [
        pytest.param([], [], None, id="no-taints"),
        pytest.param([], [core.Taint(key=taints.UNREACHABLE, effect="NoExecute")], 0.0, id="untolerated"),
        pytest.param([core.Toleration(key=taints.UNREACHABLE, operator="Exists", effect="NoExecute",
                                      toleration_seconds=300)],
                     [core.Taint(key=taints.UNREACHABLE, effect="NoExecute")], 300.0, id="default-300s"),
        pytest.param([core.Toleration(operator="Exists")], [core.Taint(key="x", effect="NoExecute")], None,
                     id="forever"),
        pytest.param([core.Toleration(key="x", operator="Exists", toleration_seconds=60),
                      core.Toleration(key="y", operator="Exists", toleration_seconds=30)],
                     [core.Taint(key="x", effect="NoExecute"), core.Taint(key="y", effect="NoExecute")], 30.0,
                     id="smallest-wins"),
        pytest.param([core.Toleration(key="x", operator="Exists", toleration_seconds=-5)],
                     [core.Taint(key="x", effect="NoExecute")], 0.0, id="negative-is-now"),
    ],
)
def test_eviction_delay(tolerations: list[core.Toleration], no_execute: list[core.Taint], want: float | None) -> None:
    p = pod("p", node="n", tolerations=tolerations)
    assert eviction_delay(p, no_execute) == want


@pytest.mark.parametrize(
    ("conditions", "unschedulable", "want"),
    [
        pytest.param([("Ready", "True")], False, set(), id="healthy"),
        pytest.param([("Ready", "False"), ("MemoryPressure", "True")], False, {taints.NOT_READY, taints.MEMORY_PRESSURE},
                     id="not-ready-memory"),
        pytest.param([("Ready", "Unknown")], True, {taints.UNREACHABLE, taints.UNSCHEDULABLE}, id="unreachable-cordoned"),
    ],
)
def test_desired_no_schedule(conditions: list[tuple[str, str]], unschedulable: bool, want: set[str]) -> None:
    n = node("a", ready=None, unschedulable=unschedulable)
    n.status.conditions = [core.NodeCondition(type=t, status=s) for t, s in conditions]
    assert desired_no_schedule(n) == want


def setup(rate: float = 100.0, **kw: float) -> tuple[Harness, NodeLifecycleController]:
    h = harness(node_eviction_rate=rate, node_monitor_grace_period=40.0, **kw)
    return h, NodeLifecycleController(h.ctx)


async def test_silent_node_goes_unknown_tainted_and_pods_not_ready() -> None:
    h, ctl = setup()
    h.load(node("a", labels=ZONE), node("b", labels=ZONE), lease("a", START), lease("b", START),
           pod("p", node="a", phase="Running", ready=True))
    await ctl.monitor_pass()
    assert h.api.writes() == []
    await h.clock.advance(41)
    h.load(lease("b", START + 41))  # b renews, a is silent
    await ctl.monitor_pass()
    a = h.api.get_now(core.Node, "a")
    assert a is not None
    ready = api_helpers.get_node_condition(a, "Ready")
    assert ready is not None and ready.status == "Unknown"
    p = h.api.get_now(core.Pod, "p", "default")
    assert p is not None and not api_helpers.is_pod_ready(p)
    h.sync_caches()
    await ctl.monitor_pass()
    await ctl.tainting_pass()
    a = h.api.get_now(core.Node, "a")
    assert a is not None and [(t.key, t.effect) for t in a.spec.taints] == [(taints.UNREACHABLE, "NoExecute")]
    assert a.spec.taints[0].time_added
    b = h.api.get_now(core.Node, "b")
    assert b is not None and b.spec.taints == []

    # NoSchedule taints follow the conditions through the work queue.
    h.sync_caches()
    await ctl.sync_no_schedule("a")
    a = h.api.get_now(core.Node, "a")
    assert a is not None and {(t.key, t.effect) for t in a.spec.taints} == {
        (taints.UNREACHABLE, "NoExecute"), (taints.UNREACHABLE, "NoSchedule")}

    # Back to life: taints go.
    alive = node("a", labels=ZONE)
    alive.status.conditions[0].last_heartbeat_time = timefmt.format_time(START + 100)
    cur = h.api.get_now(core.Node, "a")
    assert cur is not None
    h.api.objects[("Node", "", "a")] = type(cur)(metadata=cur.metadata, spec=cur.spec, status=alive.status)
    h.sync_caches()
    await ctl.monitor_pass()
    h.sync_caches()
    await ctl.sync_no_schedule("a")
    a = h.api.get_now(core.Node, "a")
    assert a is not None and a.spec.taints == []


async def test_tainting_is_rate_limited_per_zone() -> None:
    h, ctl = setup(rate=0.1)
    names = [f"n{i}" for i in range(4)]
    h.load(*(node(n, labels=ZONE) for n in names), *(lease(n, START) for n in names))
    await ctl.monitor_pass()
    await h.clock.advance(41)
    h.load(lease("n3", START + 41))
    await ctl.monitor_pass()  # three of four silent: PartialDisruption, small zone -> no tainting
    h.sync_caches()
    await ctl.monitor_pass()
    await ctl.tainting_pass()
    assert ctl.zone_states[":a"] == ZoneState.PARTIAL
    assert all(not n.spec.taints for n in h.api.all(core.Node))

    # With one silent node the zone is Normal: 0.1 nodes/s.
    h2, ctl2 = setup(rate=0.1)
    names = [f"m{i}" for i in range(5)]
    h2.load(*(node(n, labels=ZONE) for n in names), *(lease(n, START) for n in names))
    await ctl2.monitor_pass()
    await h2.clock.advance(41)
    h2.load(*(lease(n, START + 41) for n in names[2:]))
    await ctl2.monitor_pass()
    h2.sync_caches()
    await ctl2.monitor_pass()
    await ctl2.tainting_pass()
    tainted = [n.metadata.name for n in h2.api.all(core.Node) if n.spec.taints]
    assert len(tainted) == 1, "one token in the bucket"
    await h2.clock.advance(10)
    await ctl2.tainting_pass()
    assert len([n for n in h2.api.all(core.Node) if n.spec.taints]) == 2


async def test_all_nodes_down_stops_tainting() -> None:
    h, ctl = setup()
    h.load(node("a"), node("b"), lease("a", START), lease("b", START))
    await ctl.monitor_pass()
    await h.clock.advance(41)
    await ctl.monitor_pass()
    h.sync_caches()
    await ctl.monitor_pass()
    await ctl.tainting_pass()
    assert ctl.all_disrupted
    assert all(not n.spec.taints for n in h.api.all(core.Node))


async def test_taint_eviction_waits_for_toleration_seconds() -> None:
    h, ctl = setup()
    ev = ctl.eviction
    tainted = node("a", ready="Unknown", taints=[core.Taint(key=taints.UNREACHABLE, effect="NoExecute",
                                                            time_added=timefmt.format_time(START))])
    tol = [core.Toleration(key=taints.UNREACHABLE, operator="Exists", effect="NoExecute", toleration_seconds=300)]
    h.load(tainted, pod("patient", node="a", phase="Running", tolerations=tol),
           pod("eager", node="a", phase="Running"),
           pod("daemon", node="a", phase="Running", tolerations=[core.Toleration(operator="Exists")]))
    assert await ev.sync("default/eager") is None
    assert h.api.get_now(core.Pod, "eager", "default") is None
    assert await ev.sync("default/patient") == pytest.approx(300.0)
    await h.clock.advance(200)
    assert await ev.sync("default/patient") == pytest.approx(100.0)
    await h.clock.advance(100)
    assert await ev.sync("default/patient") is None
    assert h.api.get_now(core.Pod, "patient", "default") is None
    assert await ev.sync("default/daemon") is None
    assert h.api.get_now(core.Pod, "daemon", "default") is not None
    assert h.recorder.reasons() == ["TaintManagerEviction", "TaintManagerEviction"]
