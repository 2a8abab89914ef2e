"""Each plugin at work, against the real apiserver with hollow nodes and a running scheduler."""

from __future__ import annotations

import textwrap

from hw.testbed.hollow import HollowCluster
from master.api import core, helpers, meta
from master.client import errors
from master.client.rest import ApiClient
from master.scheduler.config import loads
from master.scheduler.scheduler import Scheduler
from tests.integration.scheduler.helpers_sched import StartScheduler, bound, node_of, pod, wait_for

ZONE = "topology.kubernetes.io/zone"
GPU = core.Taint(key="dedicated", value="gpu", effect="NoSchedule")


async def failed_scheduling(client: ApiClient, name: str, contains: str = "") -> str:
    """Wait for the pod's PodScheduled=False condition (with ``contains``); its message."""

    async def check() -> str | None:
        p = await client.get(core.Pod, name)
        c = helpers.get_pod_condition(p, "PodScheduled")
        if c is not None and c.status == "False" and contains in c.message:
            return c.message
        return None

    return await wait_for(check)


async def event_messages(client: ApiClient, name: str, reason: str) -> list[str]:
    evs = await client.list(core.Event, namespace="default")
    return [e.message for e in evs.items if e.involved_object.name == name and e.reason == reason]


async def test_taints_and_tolerations(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    await hollow.add_nodes(2, taints=[GPU])
    await start_scheduler()
    await client.create(pod("plain"))
    msg = await failed_scheduling(client, "plain")
    assert msg == "0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}."
    assert msg in await wait_for(lambda: event_messages(client, "plain", "FailedScheduling"))
    toleration = core.Toleration(key="dedicated", operator="Equal", value="gpu", effect="NoSchedule")
    await client.create(pod("tolerant", tolerations=[toleration]))
    await bound(client, "tolerant")
    # An untainted node arrives: the pending pod is retried on that event and lands there.
    await hollow.add_node("clean")
    assert (await bound(client, "plain")) == {"plain": "clean"}


async def test_cordon_and_node_name(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    await hollow.add_node("cordoned", unschedulable=True)
    sched = await start_scheduler()
    await client.create(pod("p"))
    assert "1 node(s) were unschedulable" in await failed_scheduling(client, "p")
    await client.patch(core.Node, "cordoned", {"spec": {"unschedulable": False}})
    await bound(client, "p")
    # Manual scheduling: spec.nodeName set by the user; the scheduler leaves it alone.
    attempts = sched.scheduled + sched.failed
    await client.create(_manual("manual", "cordoned"))
    await wait_for(lambda: _phase(client, "manual", "Running"))
    assert sched.scheduled + sched.failed == attempts


def _manual(name: str, node: str) -> core.Pod:
    p = pod(name)
    p.spec.node_name = node
    return p


async def _phase(client: ApiClient, name: str, phase: str) -> bool:
    return (await client.get(core.Pod, name)).status.phase == phase


async def test_node_selector_and_affinity(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    await hollow.add_node("ssd-1", labels={"disk": "ssd"})
    await hollow.add_node("hdd-1", labels={"disk": "hdd"})
    await hollow.add_node("hdd-2", labels={"disk": "hdd", "fast-net": "yes"})
    await start_scheduler()
    await client.create(pod("sel", node_selector={"disk": "ssd"}))
    required = core.Affinity(node_affinity=core.NodeAffinity(
        required_during_scheduling_ignored_during_execution=core.NodeSelector(node_selector_terms=[
            core.NodeSelectorTerm(match_expressions=[
                core.NodeSelectorRequirement(key="disk", operator="In", values=["hdd"])])]),
        preferred_during_scheduling_ignored_during_execution=[core.PreferredSchedulingTerm(
            weight=100, preference=core.NodeSelectorTerm(match_expressions=[
                core.NodeSelectorRequirement(key="fast-net", operator="Exists")]))],
    ))
    await client.create(pod("aff", affinity=required))
    await client.create(pod("nowhere", node_selector={"disk": "nvme"}))
    assert await bound(client, "sel", "aff") == {"sel": "ssd-1", "aff": "hdd-2"}
    assert await failed_scheduling(client, "nowhere") == (
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.")
    await client.patch(core.Node, "hdd-1", {"metadata": {"labels": {"disk": "nvme"}}})
    assert await bound(client, "nowhere") == {"nowhere": "hdd-1"}


async def test_host_ports(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    await hollow.add_node("only")
    await start_scheduler()
    port = [core.ContainerPort(container_port=80, host_port=8080)]
    await client.create(pod("first", ports=port))
    await bound(client, "first")
    await client.create(pod("second", ports=port))
    assert await failed_scheduling(client, "second") == (
        "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.")
    await client.delete(core.Pod, "first", grace_period_seconds=0)
    await bound(client, "second")


async def test_resources_fit_and_spread(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    await hollow.add_nodes(2, cpu="2", memory="4Gi")
    await start_scheduler()
    await client.create(pod("big-1", cpu="1500m"))
    await client.create(pod("big-2", cpu="1500m"))
    placed = await bound(client, "big-1", "big-2")
    assert set(placed.values()) == {"hollow-0", "hollow-1"}, "LeastAllocated spreads"
    await client.create(pod("big-3", cpu="1500m", memory="5Gi"))
    assert await failed_scheduling(client, "big-3") == (
        "0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory.")
    await client.delete(core.Pod, "big-3", grace_period_seconds=0)
    await client.create(pod("big-4", cpu="1500m"))
    await failed_scheduling(client, "big-4", "Insufficient cpu")
    await client.delete(core.Pod, "big-1", grace_period_seconds=0)
    assert await bound(client, "big-4") == {"big-4": placed["big-1"]}


async def test_too_many_pods(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    await hollow.add_node("tiny", pods=1)
    await start_scheduler()
    await client.create(pod("a"))
    await bound(client, "a")
    await client.create(pod("b"))
    assert await failed_scheduling(client, "b") == "0/1 nodes are available: 1 Too many pods."


async def test_topology_spread(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    await hollow.add_nodes(6, zones=("a", "b", "c"))
    await start_scheduler()
    constraint = core.TopologySpreadConstraint(
        max_skew=1, topology_key=ZONE, when_unsatisfiable="DoNotSchedule",
        label_selector=meta.LabelSelector(match_labels={"app": "web"}))
    names = [f"web-{i}" for i in range(6)]
    for n in names:
        await client.create(pod(n, labels={"app": "web"}, topology_spread_constraints=[constraint]))
        await bound(client, n)
    placed = await bound(client, *names)
    zones = [hollow.node(node).config.zone for node in placed.values()]
    assert sorted(zones) == ["a", "a", "b", "b", "c", "c"]


async def test_image_locality_profile(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    big = core.ContainerImage(names=["docker.io/library/app:1"], size_bytes=800 * 1024 * 1024)
    await hollow.add_node("cold-1")
    await hollow.add_node("warm", images=[big])
    await hollow.add_node("cold-2")
    config = loads(textwrap.dedent("""
        profiles:
        - schedulerName: default-scheduler
          plugins:
            score:
              disabled: [{name: "*"}]
              enabled: [{name: ImageLocality}]
    """))
    await start_scheduler(config=config)
    for i in range(3):
        await client.create(pod(f"img-{i}", image="app:1"))
    assert set((await bound(client, "img-0", "img-1", "img-2")).values()) == {"warm"}


async def test_multiple_schedulers(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    await hollow.add_nodes(3)
    config = loads(textwrap.dedent("""
        profiles:
        - schedulerName: default-scheduler
        - schedulerName: bin-packer
          plugins:
            score:
              disabled: [{name: NodeResourcesFit}, {name: NodeResourcesBalancedAllocation}]
              enabled: [{name: NodeResourcesFit, weight: 5}]
          pluginConfig:
          - name: NodeResourcesFit
            args: {scoringStrategy: {type: MostAllocated}}
    """))
    sched = await start_scheduler(config=config)
    await client.create(pod("packed-0", cpu="1", scheduler_name="bin-packer"))
    first = (await bound(client, "packed-0"))["packed-0"]
    for i in range(1, 3):
        await client.create(pod(f"packed-{i}", cpu="1", scheduler_name="bin-packer"))
    assert set((await bound(client, "packed-1", "packed-2")).values()) == {first}, "MostAllocated packs"
    await client.create(pod("foreign", scheduler_name="someone-else"))
    await client.create(pod("mine"))
    await bound(client, "mine")
    assert await node_of(client, "foreign") == "", "a pod naming another scheduler is left alone"
    assert "foreign" not in str(sched.queue.pending())
    evs = await wait_for(lambda: _events_from(client, "packed-0"))
    assert evs == ["bin-packer"]


async def _events_from(client: ApiClient, name: str) -> list[str]:
    evs = await client.list(core.Event, namespace="default")
    return [e.source.component for e in evs.items if e.involved_object.name == name and e.reason == "Scheduled"]


async def test_deleted_pending_pod_leaves_the_queue(client: ApiClient, hollow: HollowCluster,
                                                    start_scheduler: StartScheduler) -> None:
    await hollow.add_node("n", cpu="1")
    sched: Scheduler = await start_scheduler()
    await client.create(pod("huge", cpu="8"))
    await failed_scheduling(client, "huge")
    assert sched.queue.where("default/huge") in ("unschedulable", "backoff")
    await client.delete(core.Pod, "huge")

    async def gone() -> bool:
        try:
            await client.get(core.Pod, "huge")
        except errors.NotFound:
            return sched.queue.where("default/huge") == ""
        return False

    await wait_for(gone)


async def test_metrics(client: ApiClient, hollow: HollowCluster, start_scheduler: StartScheduler) -> None:
    from prometheus_client import generate_latest

    await hollow.add_node("n", cpu="1")
    sched = await start_scheduler()
    await client.create(pod("ok"))
    await client.create(pod("too-big", cpu="2"))
    await bound(client, "ok")
    await failed_scheduling(client, "too-big")
    text = generate_latest(sched.metrics.registry).decode()
    assert 'scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"} 1.0' in text
    assert 'scheduler_schedule_attempts_total{profile="default-scheduler",result="unschedulable"}' in text
    assert "scheduler_scheduling_attempt_duration_seconds_bucket" in text
    assert "scheduler_pod_scheduling_sli_duration_seconds_count" in text
    assert 'scheduler_pending_pods{queue="unschedulable"}' in text or 'scheduler_pending_pods{queue="backoff"}' in text


async def test_balanced_allocation_profile(client: ApiClient, hollow: HollowCluster,
                                           start_scheduler: StartScheduler) -> None:
    await hollow.add_node("cpu-busy", cpu="4", memory="8Gi")
    await hollow.add_node("empty", cpu="4", memory="8Gi")
    busy = pod("busy", cpu="3", memory="512Mi")
    busy.spec.node_name = "cpu-busy"
    await client.create(busy)
    config = loads(textwrap.dedent("""
        profiles:
        - plugins:
            score:
              disabled: [{name: "*"}]
              enabled: [{name: NodeResourcesBalancedAllocation}]
    """))
    await start_scheduler(config=config)
    # cpu-busy: cpu 3.5/4, memory 6.5/8 -> 96; empty: cpu 0.5/4, memory 6/8 -> 68.
    await client.create(pod("memory-heavy", cpu="500m", memory="6Gi"))
    assert await bound(client, "memory-heavy") == {"memory-heavy": "cpu-busy"}
