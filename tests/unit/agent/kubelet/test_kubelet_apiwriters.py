"""What the kubelet writes to the API: pod statuses, the Node, the Lease (on the fake apiserver)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from agent.kubelet.cri.fake import FakeRuntime
from agent.kubelet.lease import LeaseController
from agent.kubelet.nodestatus import NetworkCondition, NodeStatusManager
from agent.kubelet.settings import KubeletSettings
from agent.kubelet.statusmanager import StatusManager
from hw.board.fake import FakeBoard
from master.api import codec
from master.api.core import Node, Pod, PodCondition, PodStatus
from master.client.config import ClientConfig
from master.client.rest import ApiClient
from master.util.clock import FakeClock
from tests.fixtures.fake_apiserver import FakeApiServer
from tests.fixtures.waiting import eventually


@pytest.fixture
async def api(fake_apiserver: FakeApiServer) -> AsyncIterator[ApiClient]:
    client = ApiClient(ClientConfig(server=fake_apiserver.url, retries=0))
    yield client
    await client.close()


def put_pod(fake: FakeApiServer, name: str = "web") -> Pod:
    doc = fake.put("", "pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                                "spec": {"nodeName": "pi-1", "containers": [{"name": "app", "image": "x"}]},
                                "status": {"phase": "Pending", "conditions": [
                                    {"type": "PodScheduled", "status": "True"},
                                    {"type": "DisruptionTarget", "status": "True", "reason": "Test"}]}})
    return codec.convert(doc, Pod)


def running(ready: str = "True") -> PodStatus:
    return PodStatus(phase="Running", pod_ip="10.244.1.5", conditions=[
        PodCondition(type="PodScheduled", status="True"), PodCondition(type="Ready", status=ready)])


async def test_status_is_written_once_and_foreign_conditions_kept(fake_apiserver: FakeApiServer, api: ApiClient) -> None:
    pod = put_pod(fake_apiserver)
    cache = {pod.metadata.uid: pod}
    sm = StatusManager(api, lookup=cache.get, clock=FakeClock())
    sm.set(pod.metadata.uid, running())
    assert await sm.flush(pod.metadata.uid)
    doc = fake_apiserver.get("", "pods", "web", "default")
    assert doc["status"]["phase"] == "Running" and doc["status"]["podIP"] == "10.244.1.5"
    assert {c["type"] for c in doc["status"]["conditions"]} == {"PodScheduled", "DisruptionTarget", "Ready"}
    assert sm.writes == 1 and sm.pending() == []
    sm.set(pod.metadata.uid, running())
    assert sm.pending() == []  # unchanged: nothing queued


async def test_conflict_is_retried_from_a_fresh_read(fake_apiserver: FakeApiServer, api: ApiClient) -> None:
    stale = put_pod(fake_apiserver)
    doc = fake_apiserver.get("", "pods", "web", "default")
    doc["metadata"]["labels"] = {"touched": "yes"}
    fake_apiserver.put("", "pods", doc)  # a newer resourceVersion than the cached copy
    sm = StatusManager(api, lookup={stale.metadata.uid: stale}.get, clock=FakeClock())
    sm.set(stale.metadata.uid, running())
    assert await sm.flush(stale.metadata.uid)
    assert fake_apiserver.get("", "pods", "web", "default")["status"]["phase"] == "Running"


async def test_status_of_a_pod_gone_from_the_api_is_dropped(fake_apiserver: FakeApiServer, api: ApiClient) -> None:
    pod = put_pod(fake_apiserver)
    fake_apiserver.remove("", "pods", "web", "default")
    sm = StatusManager(api, lookup={pod.metadata.uid: pod}.get, clock=FakeClock())
    sm.set(pod.metadata.uid, running())
    assert await sm.flush(pod.metadata.uid)


def api_pod(fake: FakeApiServer, name: str = "web") -> Pod:
    """The pod as an informer that caught up would have it."""
    doc = fake.get("", "pods", name, "default")
    assert doc is not None
    return codec.convert(copy.deepcopy(doc), Pod)


async def test_status_overwritten_behind_the_kubelets_back_is_written_again(
        fake_apiserver: FakeApiServer, api: ApiClient) -> None:
    # The node lifecycle controller marks the pods of a NotReady node not ready; when the node
    # is Ready again the kubelet computes the very status it wrote before, and must still
    # write it (a regression: the DaemonSet pod of a new node stayed not ready for good).
    pod = put_pod(fake_apiserver)
    uid = pod.metadata.uid
    cache = {uid: pod}
    sm = StatusManager(api, lookup=cache.get, clock=FakeClock())
    sm.set(uid, running())
    assert await sm.flush(uid)
    assert sm.pending() == []  # the informer has not seen the write yet: no drift
    cache[uid] = api_pod(fake_apiserver)
    assert sm.pending() == []
    doc = fake_apiserver.get("", "pods", "web", "default")
    assert doc is not None
    for c in doc["status"]["conditions"]:
        if c["type"] == "Ready":
            c["status"] = "False"
    fake_apiserver.put("", "pods", doc)
    cache[uid] = api_pod(fake_apiserver)
    sm.set(uid, running())
    assert sm.pending() == [uid]
    assert await sm.flush(uid)
    ready = [c for c in api_pod(fake_apiserver).status.conditions if c.type == "Ready"]
    assert [c.status for c in ready] == ["True"] and sm.writes == 2


async def test_a_finished_pod_is_not_written_back_to_running(fake_apiserver: FakeApiServer, api: ApiClient) -> None:
    pod = put_pod(fake_apiserver)
    doc = fake_apiserver.get("", "pods", "web", "default")
    assert doc is not None
    doc["status"]["phase"] = "Failed"
    fake_apiserver.put("", "pods", doc)
    sm = StatusManager(api, lookup={pod.metadata.uid: api_pod(fake_apiserver)}.get, clock=FakeClock())
    sm._written[pod.metadata.uid] = running()
    sm.set(pod.metadata.uid, running())
    assert sm.pending() == []


class _GatedApi:
    """An ApiClient whose status writes of not-ready statuses wait for ``gate``."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.gate = asyncio.Event()
        self.held = asyncio.Event()

    async def update_status(self, pod: Pod) -> Pod:
        if any(c.type == "Ready" and c.status == "False" for c in pod.status.conditions):
            self.held.set()
            await self.gate.wait()
        return await self.api.update_status(pod)

    async def get(self, *args: Any, **kw: Any) -> Any:
        return await self.api.get(*args, **kw)


async def test_the_latest_status_lands_last_when_writes_overlap(fake_apiserver: FakeApiServer, api: ApiClient) -> None:
    # Two writers on one pod: the older status (not ready), slow to write, used to land after
    # the newer one (ready) through its conflict retry, and stay.
    pod = put_pod(fake_apiserver)
    uid = pod.metadata.uid
    gated = _GatedApi(api)
    sm = StatusManager(gated, lookup=lambda _uid: api_pod(fake_apiserver), clock=FakeClock(),  # type: ignore[arg-type]
                       writers=2)
    task = asyncio.create_task(sm.run())
    try:
        sm.set(uid, running(ready="False"))
        await asyncio.wait_for(gated.held.wait(), 10)
        sm.set(uid, running(ready="True"))
        for _ in range(20):
            await asyncio.sleep(0)
        gated.gate.set()
        await eventually(lambda: sm.pending() == [] and sm.writes == 2)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    ready = [c for c in api_pod(fake_apiserver).status.conditions if c.type == "Ready"]
    assert [c.status for c in ready] == ["True"]


def node_settings(tmp_path: Path) -> KubeletSettings:
    return KubeletSettings(node_name="pi-1", node_ip="10.77.0.11", data_dir=tmp_path)


async def test_registration_creates_the_node_with_pod_cidr(fake_apiserver: FakeApiServer, api: ApiClient,
                                                          tmp_path: Path) -> None:
    rt = FakeRuntime()
    nsm = NodeStatusManager(api, settings=node_settings(tmp_path), board=FakeBoard(), runtime=rt, clock=FakeClock(),
                            pod_cidr="10.244.7.0/24",
                            network=lambda: NetworkCondition(True, "PiclusterNetworkReady", "ok"))
    node = await nsm.register()
    assert node.spec.pod_cidr == "10.244.7.0/24"
    conds = {c.type: c.status for c in node.status.conditions}
    assert conds == {"NetworkUnavailable": "False", "MemoryPressure": "False", "DiskPressure": "False",
                     "PIDPressure": "False", "Ready": "True"}
    assert node.status.images and any("localhost/web:1" in i.names for i in node.status.images)


async def test_registration_keeps_an_existing_spec_and_merges_labels(fake_apiserver: FakeApiServer, api: ApiClient,
                                                                     tmp_path: Path) -> None:
    fake_apiserver.put("", "nodes", {"apiVersion": "v1", "kind": "Node",
                                     "metadata": {"name": "pi-1", "labels": {"role": "edge"}},
                                     "spec": {"podCIDR": "10.244.3.0/24", "unschedulable": True,
                                              "taints": [{"key": "k", "effect": "NoSchedule"}]}})
    nsm = NodeStatusManager(api, settings=node_settings(tmp_path), board=FakeBoard(), runtime=FakeRuntime(),
                            clock=FakeClock(), pod_cidr="10.244.9.0/24")
    node = await nsm.register()
    assert node.spec.pod_cidr == "10.244.3.0/24" and node.spec.unschedulable and node.spec.taints
    assert node.metadata.labels["role"] == "edge" and node.metadata.labels["kubernetes.io/hostname"] == "pi-1"


async def test_status_written_on_change_and_when_due(fake_apiserver: FakeApiServer, api: ApiClient,
                                                    tmp_path: Path) -> None:
    clock = FakeClock()
    board = FakeBoard()
    settings = node_settings(tmp_path)
    nsm = NodeStatusManager(api, settings=settings, board=board, runtime=FakeRuntime(clock=clock), clock=clock)
    await nsm.register()
    await clock.advance(10)
    assert not await nsm.update()  # nothing changed, not due
    board.set(memory_available_bytes=50 << 20)
    assert await nsm.update()
    node = codec.convert(fake_apiserver.get("", "nodes", "pi-1"), Node)
    pressure = next(c for c in node.status.conditions if c.type == "MemoryPressure")
    assert pressure.status == "True" and pressure.reason == "KubeletHasInsufficientMemory"
    await clock.advance(settings.node_status_report_frequency)
    assert await nsm.update()


async def test_runtime_down_makes_the_node_not_ready(fake_apiserver: FakeApiServer, api: ApiClient,
                                                    tmp_path: Path) -> None:
    rt = FakeRuntime()
    nsm = NodeStatusManager(api, settings=node_settings(tmp_path), board=FakeBoard(), runtime=rt, clock=FakeClock())
    await nsm.register()
    rt.unavailable = True
    assert await nsm.update()
    ready = next(c for c in nsm.node.status.conditions if c.type == "Ready")  # type: ignore[union-attr]
    assert ready.status == "False" and "container runtime is down" in ready.message


async def test_lease_is_created_then_renewed(fake_apiserver: FakeApiServer, api: ApiClient) -> None:
    clock = FakeClock(start=1_700_000_000)
    lc = LeaseController(api, node_name="pi-1", duration_seconds=40, renew_interval=10, clock=clock, node_uid="n-1")
    first = await lc.renew()
    assert first.spec.holder_identity == "pi-1" and first.spec.lease_duration_seconds == 40
    assert first.metadata.owner_references[0].uid == "n-1"
    await clock.advance(10)
    second = await lc.renew()
    assert second.spec.renew_time != first.spec.renew_time
    assert second.spec.acquire_time == first.spec.acquire_time
    # Someone else wrote it meanwhile: a conflict, then a fresh read and a renewal.
    doc = fake_apiserver.get("coordination.k8s.io", "leases", "pi-1", "kube-node-lease")
    fake_apiserver.put("coordination.k8s.io", "leases", doc)
    await clock.advance(10)
    third = await lc.renew()
    assert third.spec.renew_time != second.spec.renew_time and lc.renewals == 3


def test_merged_conditions_order() -> None:
    from agent.kubelet.statusmanager import merged

    api_pod = msgspec.convert({"metadata": {"name": "p"}, "spec": {"containers": []}, "status": {"conditions": [
        {"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"}]}}, Pod)
    st = merged(api_pod, running())
    assert [c.type for c in st.conditions] == ["PodScheduled", "Ready"]
    assert st.conditions[1].status == "True"
