"""Node-side verbs: logs and top through a fake agent (TLS, the cluster CA), and cordon, drain and
delete with hollow nodes (``hw.testbed.hollow``), which run pods and confirm graceful deletions."""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from tests.fixtures.ports import free_port
from tests.integration.cli.conftest import Cluster


@dataclass
class FakeAgent:
    node: str
    port: int
    seen: list[str]


def _node(name: str, port: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
                       "allocatable": {"cpu": "4", "memory": "8Gi"}, "capacity": {"cpu": "4", "memory": "8Gi"}}}


def _metrics(started: float) -> str:
    now = time.time()
    elapsed = now - started
    ts = int(now * 1000)
    return (
        "# TYPE node_cpu_usage_seconds_total counter\n"
        f"node_cpu_usage_seconds_total {100 + 0.5 * elapsed:.6f} {ts}\n"
        f"node_memory_working_set_bytes {2 * 1024**3} {ts}\n"
        f'pod_cpu_usage_seconds_total{{namespace="{{ns}}",pod="app"}} {1 + 0.25 * elapsed:.6f} {ts}\n'
        f'pod_memory_working_set_bytes{{namespace="{{ns}}",pod="app"}} {64 * 1024**2} {ts}\n'
        f'container_cpu_usage_seconds_total{{container="c",namespace="{{ns}}",pod="app"}} {1 + 0.25 * elapsed:.6f} {ts}\n'
        f'container_memory_working_set_bytes{{container="c",namespace="{{ns}}",pod="app"}} {64 * 1024**2} {ts}\n'
    )


@pytest.fixture
def agent(cluster: Cluster, ns: str) -> Iterator[FakeAgent]:
    """An agent on loopback with a serving certificate from the cluster CA, and its Node."""
    from master.util import pki

    d = cluster.data_dir / "pki"
    ca = pki.read_cert_key(d / "ca.crt", d / "ca.key")
    pki.write_cert_key(pki.serving_cert(ca, "fake-agent", ["127.0.0.1"]), d / "fake-agent.crt", d / "fake-agent.key")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(d / "ca.crt"))
    ctx.load_cert_chain(d / "fake-agent.crt", d / "fake-agent.key")
    ctx.verify_mode = ssl.CERT_REQUIRED
    name = f"agent-{uuid.uuid4().hex[:6]}"
    seen: list[str] = []
    started = time.time()

    async def logs(request: web.Request) -> web.StreamResponse:
        seen.append(f"{request.path}?{request.query_string}")
        lines = [f"line {i}\n" for i in range(1, 6)]
        tail = request.query.get("tailLines")
        if tail is not None:
            lines = lines[-int(tail):]
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await resp.prepare(request)
        for line in lines:
            await resp.write(line.encode())
            if request.query.get("follow") == "true":
                await asyncio.sleep(0.05)
        await resp.write_eof()
        return resp

    async def resource(request: web.Request) -> web.Response:
        return web.Response(text=_metrics(started).replace("{ns}", ns), content_type="text/plain")

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/containerLogs/{ns}/{pod}/{container}", logs)
        app.router.add_get("/metrics/resource", resource)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, ssl_context=ctx).start()
        return runner

    port = free_port()
    runner = cluster.call(start())
    try:
        code, answer = cluster.request("POST", "/api/v1/nodes", json=_node(name, port))
        assert code == 201, answer
        yield FakeAgent(name, port, seen)
    finally:
        cluster.request("DELETE", f"/api/v1/nodes/{name}")
        cluster.call(runner.cleanup())


def _pod(name: str, node: str, *, containers: tuple[str, ...] = ("c",), owner: str = "ReplicaSet",
         empty_dir: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner, "name": "owner",
                                    "uid": str(uuid.uuid4()), "controller": True}]
    spec: dict[str, Any] = {"nodeName": node, "containers": [{"name": c, "image": "busybox"} for c in containers]}
    if empty_dir:
        spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _create_pod(cluster: Cluster, ns: str, pod: dict[str, Any]) -> None:
    code, answer = cluster.request("POST", f"/api/v1/namespaces/{ns}/pods", json=pod)
    assert code == 201, answer


def test_logs(cluster: Cluster, ns: str, agent: FakeAgent) -> None:
    _create_pod(cluster, ns, _pod("app", agent.node))
    assert cluster.ok("logs", "-n", ns, "app") == "".join(f"line {i}\n" for i in range(1, 6))
    assert cluster.ok("logs", "-n", ns, "app", "--tail", "2") == "line 4\nline 5\n"
    assert cluster.ok("logs", "-n", ns, "pod/app", "-f") == "".join(f"line {i}\n" for i in range(1, 6))
    assert any("follow=true" in s for s in agent.seen)
    _create_pod(cluster, ns, _pod("two", agent.node, containers=("main", "side")))
    r = cluster.pictl("logs", "-n", ns, "two")
    assert r.code == 0 and r.err == 'Defaulted container "main" out of: main, side\n'
    assert cluster.ok("logs", "-n", ns, "two", "-c", "side", "--tail=1") == "line 5\n"
    assert agent.seen[-1].startswith(f"/containerLogs/{ns}/two/side?")
    r = cluster.pictl("logs", "-n", ns, "two", "-c", "nope")
    assert r.code == 1 and r.err == "Error from server (BadRequest): container nope is not valid for pod two\n"
    r = cluster.pictl("logs", "-n", ns, "missing")
    assert r.code == 1 and r.err == 'Error from server (NotFound): pods "missing" not found\n'


def test_top(cluster: Cluster, ns: str, agent: FakeAgent) -> None:
    _create_pod(cluster, ns, _pod("app", agent.node))
    lines = cluster.ok("top", "nodes", agent.node, "--window", "0.5").splitlines()
    assert lines[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    name, cpu, cpu_pct, mem, mem_pct = lines[1].split()
    assert name == agent.node and mem == "2048Mi" and mem_pct == "25%"
    assert 400 <= int(cpu.rstrip("m")) <= 600 and cpu_pct in ("10%", "11%", "12%", "13%", "14%", "15%", "9%")
    pods = cluster.ok("top", "pods", "-n", ns, "--window", "0.5").splitlines()
    assert pods[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert pods[1].split()[0] == "app" and pods[1].split()[2] == "64Mi"
    per_container = cluster.ok("top", "pod", "-n", ns, "--containers", "--window", "0.5").splitlines()
    assert per_container[0].split() == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert per_container[1].split()[:2] == ["app", "c"]


def test_top_without_agents(cluster: Cluster) -> None:
    name = f"dark-{uuid.uuid4().hex[:6]}"
    code, _ = cluster.request("POST", "/api/v1/nodes", json=_node(name, free_port()))
    assert code == 201
    try:
        lines = cluster.ok("top", "node", name, "--window", "0.1").splitlines()
        assert lines[1].split() == [name, "<unknown>", "<unknown>", "<unknown>", "<unknown>"]
    finally:
        cluster.request("DELETE", f"/api/v1/nodes/{name}")


@dataclass
class Hollow:
    names: list[str]
    stop_node: Any


@pytest.fixture
def hollow(cluster: Cluster) -> Iterator[Hollow]:
    """Two hollow nodes, running their pods and confirming graceful deletions."""
    from hw.testbed.hollow import HollowCluster, HollowSettings
    from master.client import kubeconfig
    from master.client.rest import ApiClient

    prefix = f"h{uuid.uuid4().hex[:5]}-"
    state: dict[str, Any] = {}

    async def start() -> list[str]:
        api = ApiClient(kubeconfig.load_client_config(str(cluster.kubeconfig)))
        hc = HollowCluster(api, HollowSettings(heartbeat_period=1, status_period=0))
        await hc.start()
        nodes = await hc.add_nodes(2, prefix=prefix)
        state.update(api=api, hc=hc)
        return [n.name for n in nodes]

    async def stop() -> None:
        hc = state.get("hc")
        if hc is not None:
            await hc.delete_nodes()
            await hc.stop()
        if "api" in state:
            await state["api"].close()

    def stop_node(name: str) -> None:
        cluster.loop.call_soon_threadsafe(state["hc"].node(name).stop)

    try:
        names = cluster.call(start())
        yield Hollow(names, stop_node)
    finally:
        cluster.call(stop())


def _phase(cluster: Cluster, ns: str, pod: str) -> str:
    r = cluster.pictl("get", "-n", ns, "pod", pod, "-o", "jsonpath={.status.phase}")
    return r.out if r.code == 0 else ""


def _wait_running(cluster: Cluster, ns: str, pods: list[str]) -> None:
    deadline = time.monotonic() + 30
    while any(_phase(cluster, ns, p) != "Running" for p in pods):
        assert time.monotonic() < deadline, "pods did not become Running"
        time.sleep(0.2)


def test_cordon_drain_uncordon(cluster: Cluster, ns: str, hollow: Hollow) -> None:
    node = hollow.names[0]
    for pod in (_pod("web", node), _pod("ds", node, owner="DaemonSet"), _pod("bare", node, owner=""),
                _pod("cache", node, empty_dir=True), _pod("elsewhere", hollow.names[1])):
        _create_pod(cluster, ns, pod)
    _wait_running(cluster, ns, ["web", "ds", "bare", "cache", "elsewhere"])

    assert cluster.ok("cordon", node) == f"node/{node} cordoned\n"
    assert cluster.ok("cordon", node) == f"node/{node} already cordoned\n"
    status = cluster.ok("get", "node", node, "--no-headers").split()[1]
    assert status == "Ready,SchedulingDisabled"

    r = cluster.pictl("drain", node)
    assert r.code == 1 and r.out == f"node/{node} already cordoned\n"
    assert r.err.splitlines() == [
        f'error: unable to drain node "{node}": cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to '
        f"ignore): {ns}/ds",
        f'error: unable to drain node "{node}": cannot delete Pods with local storage (use --delete-emptydir-data '
        f"to override): {ns}/cache",
        f'error: unable to drain node "{node}": cannot delete Pods that declare no controller (use --force to '
        f"override): {ns}/bare",
    ]
    assert _phase(cluster, ns, "web") == "Running"  # a refused drain evicts nothing

    r = cluster.pictl("drain", node, "--ignore-daemonsets", "--force", "--delete-emptydir-data", "--timeout=60s")
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0] == f"node/{node} already cordoned" and lines[-1] == f"node/{node} drained"
    assert sorted(line for line in lines if line.startswith("evicting")) == [
        f"evicting pod {ns}/bare", f"evicting pod {ns}/cache", f"evicting pod {ns}/web"]
    assert sorted(line for line in lines if line.endswith("evicted")) == [
        "pod/bare evicted", "pod/cache evicted", "pod/web evicted"]
    assert "Warning: ignoring DaemonSet-managed Pods" in r.err
    left = cluster.ok("get", "-n", ns, "pods", "-o", "name").split()
    assert left == ["pod/ds", "pod/elsewhere"]
    assert cluster.ok("uncordon", node) == f"node/{node} uncordoned\n"


def test_delete_waits_for_the_node_to_confirm(cluster: Cluster, ns: str, hollow: Hollow) -> None:
    _create_pod(cluster, ns, _pod("p", hollow.names[0]))
    _wait_running(cluster, ns, ["p"])
    r = cluster.pictl("delete", "-n", ns, "pod", "p", "--timeout=60s")
    assert r.code == 0 and r.out == 'pod "p" deleted\n'
    assert cluster.pictl("get", "-n", ns, "pod", "p").code == 1  # gone when delete returned

    _create_pod(cluster, ns, _pod("q", hollow.names[1]))
    _wait_running(cluster, ns, ["q"])
    hollow.stop_node(hollow.names[1])  # the node fails: nobody confirms the deletion
    r = cluster.pictl("delete", "-n", ns, "pod", "q", "--timeout=1s")
    assert r.code == 1 and r.out == 'pod "q" deleted\n'
    assert r.err == "error: timed out waiting for the condition on pods/q\n"
    assert "Terminating" in cluster.ok("get", "-n", ns, "pod", "q")
    r = cluster.pictl("delete", "-n", ns, "pod", "q", "--grace-period=0", "--force")
    assert r.code == 0 and r.err.startswith("Warning: Immediate deletion does not wait")
    assert cluster.pictl("get", "-n", ns, "pod", "q").code == 1
