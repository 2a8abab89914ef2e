"""Endpoints and EndpointSlices from pod readiness, nodeipam, the default ServiceAccount, podgc."""

from __future__ import annotations

import ipaddress

from hw.testbed.hollow import HollowCluster
from master.api import core, discovery, meta
from master.client import errors
from master.client.rest import ApiClient
from master.controllers.endpointslice import MANAGED_BY, SERVICE_NAME_LABEL
from master.scheduler.scheduler import Scheduler
from tests.integration.controllers.conftest import StartManager, deployment, wait_for


def service(name: str, selector: dict[str, str], *, target: int | str = 8080) -> core.Service:
    return core.Service(
        metadata=meta.ObjectMeta(name=name, namespace="default"),
        spec=core.ServiceSpec(selector=selector, ports=[core.ServicePort(name="http", port=80, target_port=target)]),
    )


async def slices_of(client: ApiClient, svc: str) -> list[discovery.EndpointSlice]:
    return (await client.list(discovery.EndpointSlice, namespace="default",
                              label_selector=f"{SERVICE_NAME_LABEL}={svc}")).items


async def test_endpoints_and_slices_follow_readiness(
    client: ApiClient, hollow: HollowCluster, scheduler: Scheduler, start_manager: StartManager
) -> None:
    await hollow.add_nodes(2, zones=("zone-a",))
    await start_manager(controllers=("replicaset", "deployment", "endpoint", "endpointslice"))
    d = deployment("web", 3)
    d.spec.template.spec.containers[0].ports = [core.ContainerPort(name="web", container_port=9090)]
    await client.create(d)
    await client.create(service("web", {"app": "web"}, target="web"))

    async def three_ready() -> core.Endpoints | None:
        try:
            ep = await client.get(core.Endpoints, "web")
        except errors.NotFound:
            return None
        if len(ep.subsets) == 1 and len(ep.subsets[0].addresses) == 3:
            return ep
        return None

    ep = await wait_for(three_ready)
    assert ep.subsets[0].ports == [core.EndpointPort(name="http", port=9090, protocol="TCP")]
    assert all(a.target_ref is not None and a.target_ref.kind == "Pod" for a in ep.subsets[0].addresses)

    async def slice_ready() -> list[discovery.EndpointSlice] | None:
        slices = await slices_of(client, "web")
        if len(slices) == 1 and len(slices[0].endpoints) == 3 and all(e.conditions.ready for e in slices[0].endpoints):
            return slices
        return None

    slices = await wait_for(slice_ready)
    s = slices[0]
    assert s.metadata.labels["endpointslice.kubernetes.io/managed-by"] == MANAGED_BY
    assert s.metadata.owner_references[0].kind == "Service"
    assert s.ports == [discovery.EndpointPort(name="http", protocol="TCP", port=9090)]
    assert {e.zone for e in s.endpoints} == {"zone-a"}

    # One pod turns not ready: it moves to notReadyAddresses; its slice endpoint is not ready.
    pod = next(p for p in (await client.list(core.Pod, namespace="default", label_selector="app=web")).items)
    # (hollow nodes mark a pod Running once; its readiness is flipped by hand here)
    await client.patch(core.Pod, pod.metadata.name, {"status": {"conditions": [
        {"type": "Ready", "status": "False"}]}}, subresource="status", patch_type="strategic")

    async def moved() -> bool:
        ep = await client.get(core.Endpoints, "web")
        sub = ep.subsets[0]
        return len(sub.addresses) == 2 and [a.ip for a in sub.not_ready_addresses] == [pod.status.pod_ip]

    await wait_for(moved)

    async def slice_not_ready() -> bool:
        eps = (await slices_of(client, "web"))[0].endpoints
        flags = {e.addresses[0]: (e.conditions.ready, e.conditions.serving) for e in eps}
        return flags.get(pod.status.pod_ip) == (False, False)

    await wait_for(slice_not_ready)

    # The kubernetes Service (no selector) keeps the apiserver's endpoints.
    k8s = await client.get(core.Endpoints, "kubernetes")
    assert k8s.subsets and k8s.subsets[0].addresses[0].ip == "127.0.0.1"

    # Deleting the Service deletes its Endpoints and slices.
    await client.delete(core.Service, "web")

    async def cleaned() -> bool:
        try:
            await client.get(core.Endpoints, "web")
            return False
        except errors.NotFound:
            return not await slices_of(client, "web")

    await wait_for(cleaned)


async def test_nodeipam_serviceaccount_podgc(
    client: ApiClient, hollow: HollowCluster, start_manager: StartManager
) -> None:
    manager = await start_manager(controllers=("nodeipam", "serviceaccount", "podgc"),
                                  cluster_cidr="10.200.0.0/22", terminated_pod_gc_threshold=1)
    nodes = await hollow.add_nodes(3)

    async def cidrs() -> dict[str, str] | None:
        out = {n.name: (await client.get(core.Node, n.name)).spec.pod_cidr for n in nodes}
        return out if all(out.values()) else None

    got = await wait_for(cidrs)
    assert len(set(got.values())) == 3
    assert all(ipaddress.ip_network(c).subnet_of(ipaddress.ip_network("10.200.0.0/22")) for c in got.values())
    node = await client.get(core.Node, "hollow-0")
    assert node.spec.pod_cidrs == [node.spec.pod_cidr]

    # A fourth node takes the last /24; a fifth finds none left (an event, no crash).
    await hollow.add_node("extra-1")
    await hollow.add_node("extra-2")
    await wait_for(lambda: _has_cidr(client, "extra-1"))

    async def exhausted_event() -> bool:
        evs = (await client.list(core.Event, namespace="default")).items
        return any(e.reason == "CIDRNotAvailable" and e.involved_object.name == "extra-2" for e in evs)

    await wait_for(exhausted_event)
    # Deleting a node releases its block: the waiting node gets it (after the recheck at the latest).
    await hollow.delete_nodes(["hollow-1"])
    ipam = manager.running["nodeipam"]
    await wait_for(lambda: _async(got["hollow-1"] not in ipam.assigned.values()))  # type: ignore[attr-defined]

    # The default ServiceAccount is made for a new namespace, and again after it is deleted.
    await client.create(core.Namespace(metadata=meta.ObjectMeta(name="team")))
    await wait_for(lambda: _exists(client, core.ServiceAccount, "default", "team"))
    await client.delete(core.ServiceAccount, "default", namespace="team")
    await wait_for(lambda: _exists(client, core.ServiceAccount, "default", "team"))

    # podgc: terminated pods over the threshold (1), the oldest first; pods on a deleted node.
    for i in range(3):
        p = core.Pod(metadata=meta.ObjectMeta(name=f"done-{i}", namespace="default"),
                     spec=core.PodSpec(containers=[core.Container(name="c", image="busybox")]))
        await client.create(p)
        await client.patch(core.Pod, f"done-{i}", {"status": {"phase": "Succeeded"}}, subresource="status")
    orphan = core.Pod(metadata=meta.ObjectMeta(name="orphan", namespace="default"),
                      spec=core.PodSpec(containers=[core.Container(name="c", image="busybox")], node_name="no-such-node"))
    await client.create(orphan)

    async def collected() -> bool:
        names = {p.metadata.name for p in (await client.list(core.Pod, namespace="default")).items}
        return "orphan" not in names and len(names & {"done-0", "done-1", "done-2"}) == 1

    await wait_for(collected)


async def _has_cidr(client: ApiClient, name: str) -> bool:
    return bool((await client.get(core.Node, name)).spec.pod_cidr)


async def _exists(client: ApiClient, cls: type, name: str, namespace: str) -> bool:
    try:
        await client.get(cls, name, namespace=namespace)
        return True
    except errors.NotFound:
        return False


async def _async(value: bool) -> bool:
    return value
