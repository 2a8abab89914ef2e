"""Hollow nodes against the real apiserver: registration, leases, pods Running, deletion, failure."""

from __future__ import annotations

import asyncio

import pytest

from hw.testbed.hollow import HOLLOW_LABEL, HollowCluster, HollowSettings
from master.api import coordination, core, helpers, meta
from master.client import errors
from master.client.rest import ApiClient
from tests.fixtures.waiting import eventually
from tests.integration.scheduler.helpers_sched import wait_for

FAST = HollowSettings(heartbeat_period=0.2, lease_duration=2, status_period=0.5)


def pod(name: str, node: str = "") -> core.Pod:
    return core.Pod(
        metadata=meta.ObjectMeta(name=name, namespace="default"),
        spec=core.PodSpec(containers=[core.Container(name="c", image="busybox")], node_name=node),
    )


async def test_register_heartbeat_run_and_delete(client: ApiClient) -> None:
    async with HollowCluster(client, FAST) as cluster:
        nodes = await cluster.add_nodes(3, zones=("zone-a", "zone-b"), cpu="2", memory="4Gi")
        assert [n.name for n in nodes] == ["hollow-0", "hollow-1", "hollow-2"]
        n1 = await client.get(core.Node, "hollow-1")
        assert n1.metadata.labels[HOLLOW_LABEL] == "true"
        assert n1.metadata.labels["topology.kubernetes.io/zone"] == "zone-b"
        assert n1.status.allocatable["cpu"] == "2" and n1.status.allocatable["pods"] == "110"
        assert helpers.is_node_ready(n1)

        lease = await client.get(coordination.Lease, "hollow-0", namespace="kube-node-lease")
        first = lease.spec.renew_time
        assert lease.spec.holder_identity == "hollow-0"

        async def renewed() -> bool:
            cur = await client.get(coordination.Lease, "hollow-0", namespace="kube-node-lease")
            return cur.spec.renew_time != first

        await wait_for(renewed)

        await client.create(pod("p1", node="hollow-1"))
        await wait_for(lambda: running(client, "p1"))
        p1 = await client.get(core.Pod, "p1")
        assert p1.status.pod_ip and p1.status.host_ip == nodes[1].internal_ip
        assert helpers.is_pod_ready(p1) and p1.status.container_statuses[0].ready
        assert [p.metadata.name for p in nodes[1].pods()] == ["p1"]

        # Graceful deletion: the node confirms it with the final delete.
        await client.delete(core.Pod, "p1", grace_period_seconds=30)
        await wait_for(lambda: gone(client, "p1"))

        # A stopped node neither renews its lease nor runs pods.
        nodes[2].stop()
        await eventually(lambda: not nodes[2].renewing)  # one already sent may still land
        before = nodes[2].renewals
        await client.create(pod("p2", node="hollow-2"))
        await cluster_idle(cluster)
        assert (await client.get(core.Pod, "p2")).status.phase == "Pending"
        assert nodes[2].renewals == before
        nodes[2].start()
        await wait_for(lambda: running(client, "p2"))

        await cluster.delete_nodes()
    with pytest.raises(errors.NotFound):
        await client.get(core.Node, "hollow-0")


async def test_reregistration_takes_over(client: ApiClient) -> None:
    async with HollowCluster(client, FAST) as cluster:
        await cluster.add_node("pi-x", cpu="1")
    async with HollowCluster(client, FAST) as cluster:
        await cluster.add_node("pi-x", cpu="3", labels={"role": "edge"})
        node = await client.get(core.Node, "pi-x")
        assert node.status.allocatable["cpu"] == "3" and node.metadata.labels["role"] == "edge"


async def running(client: ApiClient, name: str) -> bool:
    return (await client.get(core.Pod, name)).status.phase == "Running"


async def gone(client: ApiClient, name: str) -> bool:
    try:
        await client.get(core.Pod, name)
    except errors.NotFound:
        return True
    return False


async def cluster_idle(cluster: HollowCluster) -> None:
    """A negative check: give a stopped node time to (wrongly) act on its pods."""
    await asyncio.sleep(0.5)

