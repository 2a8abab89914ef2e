"""The whole Kubelet against the fake apiserver and FakeRuntime (real time, short periods)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from agent.kubelet import keys
from agent.kubelet.cri.fake import FakeRuntime
from agent.kubelet.cri.types import ContainerState
from agent.kubelet.kubelet import Kubelet
from agent.kubelet.settings import KubeletSettings
from hw.board.fake import FakeBoard
from master.client.config import ClientConfig
from master.client.informer import InformerSettings, SharedInformerFactory
from master.client.rest import ApiClient
from tests.fixtures.fake_apiserver import FakeApiServer
from tests.fixtures.waiting import eventually


def pod_doc(name: str, *, node: str = "pi-1", image: str = "localhost/web:1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "nodeName": node,
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "containers": [{"name": "app", "image": image, "imagePullPolicy": "IfNotPresent"}],
            **spec,
        },
        "status": {"phase": "Pending"},
    }


@dataclass
class Env:
    fake: FakeApiServer
    runtime: FakeRuntime
    settings: KubeletSettings
    make: Callable[..., Any]
    kubelets: list[Kubelet]

    def pod(self, name: str) -> dict[str, Any] | None:
        return self.fake.get("", "pods", name, "default")


@pytest.fixture
async def env(fake_apiserver: FakeApiServer, tmp_path: Path) -> AsyncIterator[Env]:
    runtime = FakeRuntime()
    settings = KubeletSettings(
        node_name="pi-1", node_ip="10.77.0.11", data_dir=tmp_path / "agent", port=0, address="127.0.0.1",
        node_status_update_frequency=0.2, node_lease_renew_interval=0.2, relist_period=0.05, sync_frequency=0.5,
        housekeeping_period=0.1, static_pod_check_period=0.1, pod_manifest_path=tmp_path / "manifests",
        crash_backoff_initial=0.2, image_backoff_initial=0.2,
    )
    (tmp_path / "manifests").mkdir()
    made: list[Kubelet] = []
    clients: list[ApiClient] = []

    async def make(**changes: Any) -> Kubelet:
        api = ApiClient(ClientConfig(server=fake_apiserver.url, retries=0))
        clients.append(api)
        factory = SharedInformerFactory(api, settings=InformerSettings(backoff_initial=0.05, backoff_max=0.2))
        kl = Kubelet(replace(settings, **changes), api=api, runtime=runtime, board=FakeBoard(), informers=factory,
                     registry=CollectorRegistry(), require_client_cert=False)
        made.append(kl)
        await asyncio.wait_for(kl.start(), 10)
        return kl

    e = Env(fake_apiserver, runtime, settings, make, made)
    try:
        yield e
    finally:
        for kl in made:
            await kl.stop()
            await kl.informers.stop()
        for api in clients:
            await api.close()
        await runtime.close()


def condition(obj: dict[str, Any] | None, kind: str) -> str | None:
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c["type"] == kind:
            return str(c["status"])
    return None


async def test_registers_the_node_and_renews_its_lease(env: Env) -> None:
    await env.make()
    node = env.fake.get("", "nodes", "pi-1")
    assert node is not None
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "pi-1" and labels["kubernetes.io/arch"] == "arm64"
    assert labels["picluster.io/model"].startswith("Raspberry-Pi-4")
    status = node["status"]
    assert {a["type"]: a["address"] for a in status["addresses"]} == {"InternalIP": "10.77.0.11", "Hostname": "pi-1"}
    assert status["capacity"]["cpu"] == "4" and status["allocatable"]["pods"] == "110"
    assert status["nodeInfo"]["containerRuntimeVersion"] == "fake://0.1.0"
    assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == env.kubelets[0].server.port > 0
    await eventually(lambda: condition(env.fake.get("", "nodes", "pi-1"), "Ready") == "True", 5)
    await eventually(lambda: env.fake.get("coordination.k8s.io", "leases", "pi-1", "kube-node-lease"), 5)
    lease = env.fake.get("coordination.k8s.io", "leases", "pi-1", "kube-node-lease")
    assert lease is not None and lease["spec"]["holderIdentity"] == "pi-1"
    assert lease["spec"]["leaseDurationSeconds"] == 40
    first = lease["spec"]["renewTime"]
    await eventually(lambda: env.fake.get("coordination.k8s.io", "leases", "pi-1", "kube-node-lease")["spec"]
                     ["renewTime"] != first, 5)


async def test_runs_a_bound_pod_and_reports_running(env: Env) -> None:
    await env.make()
    env.fake.put("", "pods", pod_doc("web"))
    env.fake.put("", "pods", pod_doc("elsewhere", node="pi-2"))
    await eventually(lambda: ((env.pod("web") or {}).get("status") or {}).get("phase") == "Running", 5)
    st = env.pod("web")["status"]  # type: ignore[index]
    assert st["podIP"].startswith("10.244.") and st["hostIP"] == "10.77.0.11"
    assert st["containerStatuses"][0]["ready"] is True
    assert condition(env.pod("web"), "Ready") == "True"
    assert {s.name for s in await env.runtime.list_sandboxes()} == {"web"}


async def test_graceful_delete_is_confirmed_with_grace_zero(env: Env) -> None:
    await env.make()
    env.fake.put("", "pods", pod_doc("web"))
    await eventually(lambda: ((env.pod("web") or {}).get("status") or {}).get("phase") == "Running", 5)
    doc = env.pod("web")
    assert doc is not None
    doc["metadata"]["deletionTimestamp"] = "2030-01-01T00:00:00Z"
    doc["metadata"]["deletionGracePeriodSeconds"] = 30
    env.fake.put("", "pods", doc)
    await eventually(lambda: env.pod("web") is None, 5)
    await eventually(lambda: not env.runtime._sandboxes, 5)


async def test_pod_deleted_from_the_api_is_stopped(env: Env) -> None:
    await env.make()
    env.fake.put("", "pods", pod_doc("web"))
    await eventually(lambda: ((env.pod("web") or {}).get("status") or {}).get("phase") == "Running", 5)
    env.fake.remove("", "pods", "web", "default")
    await eventually(lambda: not env.runtime._sandboxes and not env.runtime._containers, 5)


async def test_restarted_kubelet_adopts_running_pods(env: Env) -> None:
    first = await env.make()
    env.fake.put("", "pods", pod_doc("web"))
    await eventually(lambda: ((env.pod("web") or {}).get("status") or {}).get("phase") == "Running", 5)
    containers = sorted(env.runtime._containers)
    await first.stop()
    await first.informers.stop()
    env.kubelets.remove(first)
    calls = len(env.runtime.calls)
    second = await env.make()
    await eventually(lambda: "web" in [p.metadata.name for p in second.pods.pods()], 5)
    await asyncio.sleep(0.5)
    assert sorted(env.runtime._containers) == containers
    assert not any(op in ("run_sandbox", "create_container", "stop_container", "remove_sandbox")
                   for op, _ in env.runtime.calls[calls:])


async def test_static_pod_runs_with_a_mirror_pod(env: Env, tmp_path: Path) -> None:
    await env.make()
    manifest = tmp_path / "manifests" / "etcd.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: static-web, namespace: kube-system}\n"
        "spec:\n  containers:\n  - {name: app, image: localhost/web:1, imagePullPolicy: IfNotPresent}\n"
    )
    await eventually(lambda: env.fake.get("", "pods", "static-web-pi-1", "kube-system") is not None, 5)
    mirror = env.fake.get("", "pods", "static-web-pi-1", "kube-system")
    assert mirror is not None and keys.CONFIG_MIRROR in mirror["metadata"]["annotations"]
    assert mirror["metadata"]["ownerReferences"][0]["kind"] == "Node"
    await eventually(lambda: ((env.fake.get("", "pods", "static-web-pi-1", "kube-system") or {}).get("status") or {})
                     .get("phase") == "Running", 5)
    # Deleting the mirror does not stop the static pod: the mirror comes back.
    running = [c.id for c in await env.runtime.list_containers(state=ContainerState.RUNNING)]
    env.fake.remove("", "pods", "static-web-pi-1", "kube-system")
    await eventually(lambda: env.fake.get("", "pods", "static-web-pi-1", "kube-system") is not None, 5)
    assert [c.id for c in await env.runtime.list_containers(state=ContainerState.RUNNING)] == running
    manifest.unlink()
    await eventually(lambda: env.fake.get("", "pods", "static-web-pi-1", "kube-system") is None, 5)
    await eventually(lambda: not env.runtime._sandboxes, 5)


async def test_invalid_manifest_is_skipped(env: Env, tmp_path: Path) -> None:
    kl = await env.make()
    (tmp_path / "manifests" / "bad.yaml").write_text("kind: Pod\nmetadata: {name: x}\nspec: {containers: 3}\n")
    (tmp_path / "manifests" / "notes.txt").write_text("not a manifest")
    await asyncio.sleep(0.3)
    assert kl.pods.static == {}


async def test_crashing_pod_reports_crash_loop(env: Env) -> None:
    await env.make()
    doc = pod_doc("crash", image="localhost/busybox:latest")
    doc["spec"]["containers"][0]["command"] = ["sh", "-c", "exit 1"]
    env.fake.put("", "pods", doc)

    def waiting_reason() -> str:
        st = (env.pod("crash") or {}).get("status") or {}
        cs = (st.get("containerStatuses") or [{}])[0]
        return str(((cs.get("state") or {}).get("waiting") or {}).get("reason", ""))

    await eventually(lambda: waiting_reason() == "CrashLoopBackOff", 10)
    cs = env.pod("crash")["status"]["containerStatuses"][0]  # type: ignore[index]
    assert cs["restartCount"] >= 1 and cs["lastState"]["terminated"]["exitCode"] == 1
