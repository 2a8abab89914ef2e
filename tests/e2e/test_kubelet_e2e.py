"""The agent on the testbed with real containerd, the real master and real pod networking.

One testbed (master + 2 Pis, agents with ``--pod-manifest-path manifests``) for the module,
taken down at the end even when tests fail. Scenarios, as the issue lists them: a pod reaches
Running with an IP and its HTTP answers from a node; env, configMap and secret volumes show up in
the container; a crashing container backs off; a failing liveness probe restarts it; readiness
flips Ready; delete terminates gracefully; kill -9 the agent and restart it: same containers, no
duplicates; stop the master: pods keep running; logs stream; static pods get mirror pods.
"""

from __future__ import annotations

import asyncio
import base64
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import msgspec
import pytest

from hw.testbed import Testbed
from master.api import codec, meta
from master.api.core import ConfigMap, Node, Pod, Secret
from master.client import errors, kubeconfig
from master.client.rest import ApiClient
from tests.fixtures.testbed import http_get_in, require_testbed_tools, unique_name

pytestmark = [pytest.mark.root, pytest.mark.containerd, pytest.mark.slow]

NS = "default"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Testbed]:
    require_testbed_tools()
    tb = Testbed(unique_name("kl"))
    try:
        tb.up(2, agent_args=["--pod-manifest-path", "manifests", "--node-status-update-frequency", "2s"])
        yield tb
    finally:
        tb.down()


@pytest.fixture
async def api(cluster: Testbed) -> AsyncIterator[ApiClient]:
    client = ApiClient(kubeconfig.load_client_config(str(cluster.kubeconfig)))
    try:
        yield client
    finally:
        pods, _ = await client.list_all(Pod, namespace=NS)
        for p in pods:
            if not p.metadata.annotations.get("kubernetes.io/config.mirror"):
                await _quiet(client.delete(Pod, p.metadata.name, namespace=NS, grace_period_seconds=0))
        await client.close()


async def _quiet(aw: Awaitable[Any]) -> None:
    try:
        await aw
    except errors.ClientError:
        pass


def pod(name: str, containers: list[dict[str, Any]], **spec: Any) -> Pod:
    return codec.convert({"metadata": {"name": name, "namespace": NS},
                          "spec": {"containers": containers, "terminationGracePeriodSeconds": 5, **spec}}, Pod)


def busybox(script: str, name: str = "app", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "localhost/busybox:latest", "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", script], **extra}


async def until(check: Callable[[], Awaitable[Any]], within: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await check()
        except errors.ClientError as exc:
            last = exc
        else:
            if last:
                return last
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what} not reached within {within:g}s (last: {last!r})")


async def running(api: ApiClient, name: str, within: float = 60.0) -> Pod:
    async def check() -> Pod | None:
        p = await api.get(Pod, name, namespace=NS)
        return p if p.status.phase == "Running" and p.status.pod_ip else None

    result: Pod = await until(check, within, f"pod {name} Running")
    return result


def container_status(p: Pod, name: str = "app") -> Any:
    return next(s for s in p.status.container_statuses if s.name == name)


async def test_pod_runs_with_an_ip_and_answers_from_a_node(api: ApiClient, cluster: Testbed) -> None:
    await api.create(pod("web", [{"name": "app", "image": "localhost/web:1", "ports": [{"containerPort": 8080}]}]))
    p = await running(api, "web")
    assert p.status.host_ip in {n.ip for n in cluster.nodes}
    assert p.status.pod_ip.startswith("10.244.")
    assert {c.type: c.status for c in p.status.conditions}["Ready"] == "True"
    cs = container_status(p)
    assert cs.container_id.startswith("containerd://") and cs.image_id
    other = next(n.name for n in cluster.nodes if n.ip != p.status.host_ip)
    # From the other node: across the LAN through the host-gw route.
    assert await asyncio.to_thread(http_get_in, cluster, other, f"http://{p.status.pod_ip}:8080/") == "1 web\n"


async def test_ready_condition_overwritten_by_the_controller_comes_back(api: ApiClient) -> None:
    # What the node lifecycle controller does to the pods of a node it sees NotReady (a node
    # just added, before its first Ready status, included): only the kubelet sets them ready
    # again, also when its own status did not change meanwhile.
    await api.create(pod("marked", [{"name": "app", "image": "localhost/web:1"}]))
    await running(api, "marked")

    async def ready() -> bool:
        p = await api.get(Pod, "marked", namespace=NS)
        return {c.type: c.status for c in p.status.conditions}.get("Ready") == "True"

    await until(ready, 60, "pod marked Ready")
    patch = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    await api.patch(Pod, "marked", patch, namespace=NS, patch_type="strategic", subresource="status")
    await until(ready, 60, "pod marked Ready again after the controller's Ready=False")


async def test_env_configmap_and_secret_volumes(api: ApiClient) -> None:
    await api.create(ConfigMap(metadata=meta.ObjectMeta(name="cfg", namespace=NS), data={"color": "blue"}))
    await api.create(Secret(metadata=meta.ObjectMeta(name="sec", namespace=NS),
                            data={"password": base64.b64encode(b"s3cret").decode()}))
    try:
        script = ("echo env=$COLOR/$PASSWORD/$MY_NAME; echo file=$(cat /etc/cfg/color)/$(cat /etc/sec/password); "
                  "sleep 3600")
        c = busybox(script, env=[
            {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}}},
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "password"}}},
            {"name": "MY_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ], volumeMounts=[{"name": "cfg", "mountPath": "/etc/cfg"}, {"name": "sec", "mountPath": "/etc/sec"}])
        await api.create(pod("envy", [c], volumes=[{"name": "cfg", "configMap": {"name": "cfg"}},
                                                    {"name": "sec", "secret": {"secretName": "sec"}}]))
        await running(api, "envy")

        async def logged() -> str | None:
            text = (await api.read_log("envy", namespace=NS)).decode()
            return text if "file=" in text else None

        text = await until(logged, 30, "log lines")
        assert "env=blue/s3cret/envy" in text and "file=blue/s3cret" in text
    finally:
        await _quiet(api.delete(ConfigMap, "cfg", namespace=NS))
        await _quiet(api.delete(Secret, "sec", namespace=NS))


async def test_crashing_container_backs_off_and_keeps_its_previous_log(api: ApiClient) -> None:
    await api.create(pod("crash", [busybox("echo attempt; exit 3")]))

    async def looping() -> Pod | None:
        p = await api.get(Pod, "crash", namespace=NS)
        cs = container_status(p) if p.status.container_statuses else None
        if cs and cs.state.waiting and cs.state.waiting.reason == "CrashLoopBackOff":
            return p
        return None

    p = await until(looping, 60, "CrashLoopBackOff")
    cs = container_status(p)
    assert cs.restart_count >= 1 and cs.last_state.terminated.exit_code == 3
    assert cs.last_state.terminated.reason == "Error"
    assert (await api.read_log("crash", namespace=NS, previous=True)).decode() == "attempt\n"


async def test_failing_liveness_probe_restarts_the_container(api: ApiClient) -> None:
    probe = {"httpGet": {"path": "/missing", "port": 8080}, "periodSeconds": 1, "failureThreshold": 2}
    await api.create(pod("unwell", [{"name": "app", "image": "localhost/web:1", "livenessProbe": probe}]))

    async def restarted() -> bool:
        p = await api.get(Pod, "unwell", namespace=NS)
        return bool(p.status.container_statuses) and container_status(p).restart_count >= 1

    await until(restarted, 60, "a liveness restart")


async def test_readiness_flips_ready(api: ApiClient) -> None:
    script = "sleep 2; touch /tmp/ready; sleep 6; rm /tmp/ready; sleep 3600"
    probe = {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 1}
    await api.create(pod("flip", [busybox(script, readinessProbe=probe)]))
    seen: list[bool] = []

    async def flipped() -> bool:
        p = await api.get(Pod, "flip", namespace=NS)
        ready = {c.type: c.status for c in p.status.conditions}.get("Ready") == "True"
        if not seen or seen[-1] != ready:
            seen.append(ready)
        return seen[-3:] == [False, True, False]

    await until(flipped, 60, "Ready False -> True -> False")
    p = await api.get(Pod, "flip", namespace=NS)
    assert container_status(p).restart_count == 0


async def test_delete_terminates_gracefully(api: ApiClient, cluster: Testbed) -> None:
    # web traps TERM and exits 0; a shell that ignores TERM is killed when the grace runs out.
    await api.create(pod("polite", [{"name": "app", "image": "localhost/web:1"}]))
    await api.create(pod("stubborn", [busybox("trap '' TERM; while true; do sleep 1; done")],
                          terminationGracePeriodSeconds=2))
    await running(api, "polite")
    await running(api, "stubborn")
    for name in ("polite", "stubborn"):
        deleted = await api.delete(Pod, name, namespace=NS)
        assert deleted is not None and deleted.metadata.deletion_timestamp

    async def gone() -> bool:
        for name in ("polite", "stubborn"):
            try:
                await api.get(Pod, name, namespace=NS)
                return False
            except errors.NotFound:
                pass
        return True

    await until(gone, 30, "both pods gone")


async def test_killed_agent_adopts_its_containers(api: ApiClient, cluster: Testbed) -> None:
    await api.create(pod("steady", [{"name": "app", "image": "localhost/web:1"}]))
    before = await running(api, "steady")
    node = next(n.name for n in cluster.nodes if n.ip == before.status.host_ip)
    await asyncio.to_thread(cluster.stop_component, node, "agent", signal.SIGKILL)
    await asyncio.to_thread(cluster.start_component, node, "agent")
    await asyncio.to_thread(cluster.wait_nodes_ready)
    await asyncio.sleep(3)  # a few PLEG relists and syncs of the new agent
    after = await running(api, "steady")
    assert container_status(after).container_id == container_status(before).container_id
    assert container_status(after).restart_count == 0
    assert after.status.pod_ip == before.status.pod_ip
    out = await asyncio.to_thread(cluster.exec, node, ["ctr", "-a", str(cluster.node(node).containerd_socket), "-n",
                                                      "k8s.io", "containers", "ls", "-q"])
    ids = out.stdout.decode().split()
    assert len(ids) == len(set(ids))
    assert sum(1 for i in ids if i == container_status(after).container_id.partition("://")[2]) == 1


async def test_stopped_master_leaves_pods_running(api: ApiClient, cluster: Testbed) -> None:
    await api.create(pod("survivor", [{"name": "app", "image": "localhost/web:1"}]))
    p = await running(api, "survivor")
    node = next(n.name for n in cluster.nodes if n.ip == p.status.host_ip)
    await asyncio.to_thread(cluster.stop_component, "master", "master", signal.SIGTERM)
    try:
        await asyncio.sleep(12)  # longer than a node status period and a lease renewal
        url = f"http://{p.status.pod_ip}:8080/"
        assert await asyncio.to_thread(http_get_in, cluster, node, url) == "1 survivor\n"
    finally:
        await asyncio.to_thread(cluster.start_component, "master", "master")
    after = await running(api, "survivor")
    assert container_status(after).container_id == container_status(p).container_id
    # The agents catch up: a pod made now still starts.
    await api.create(pod("after-master", [{"name": "app", "image": "localhost/web:1"}]))
    await running(api, "after-master")


async def test_logs_stream(api: ApiClient) -> None:
    await api.create(pod("talker", [busybox("i=0; while true; do echo line $i; i=$((i+1)); sleep 0.3; done")]))
    await running(api, "talker")
    got = b""
    async with asyncio.timeout(30):
        async with api.stream_log("talker", namespace=NS) as stream:
            async for chunk in stream:
                got += chunk
                if got.count(b"\n") >= 5:
                    break
    lines = got.decode().splitlines()
    assert lines[0] == "line 0" and lines[4] == "line 4"
    tail = (await api.read_log("talker", namespace=NS, tail_lines=2)).decode().splitlines()
    assert len(tail) == 2 and all(t.startswith("line ") for t in tail)


async def test_static_pod_gets_a_mirror_pod(api: ApiClient, cluster: Testbed) -> None:
    node = cluster.nodes[0]
    manifest = node.paths.agent_dir / "manifests" / "static-web.yaml"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: static-web}\nspec:\n"
                        "  containers: [{name: app, image: 'localhost/web:1'}]\n")
    name = f"static-web-{node.name}"
    try:
        mirror = await running(api, name)
        assert "kubernetes.io/config.mirror" in mirror.metadata.annotations
        assert mirror.spec.node_name == node.name
        ip = mirror.status.pod_ip
        assert await asyncio.to_thread(http_get_in, cluster, node.name, f"http://{ip}:8080/") == f"1 {name}\n"
    finally:
        manifest.unlink()

    async def gone() -> bool:
        try:
            await api.get(Pod, name, namespace=NS)
            return False
        except errors.NotFound:
            return True

    await until(gone, 30, "the mirror pod removed")


async def test_node_reports_real_readings(api: ApiClient, cluster: Testbed) -> None:
    node = await api.get(Node, cluster.nodes[0].name)
    conds = {c.type: c for c in node.status.conditions}
    assert conds["Ready"].status == "True" and conds["NetworkUnavailable"].status == "False"
    for kind in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        assert conds[kind].status in ("True", "False")
    assert set(node.status.capacity) >= {"cpu", "memory", "pods", "ephemeral-storage"}
    assert node.spec.pod_cidr
    assert node.status.node_info.container_runtime_version.startswith("containerd://")
    assert msgspec.structs.asdict(node.status.daemon_endpoints.kubelet_endpoint)["port"] == 10250


async def test_metrics_and_healthz_on_port_10250(cluster: Testbed) -> None:
    import ssl
    import urllib.request

    from hw.testbed import netns

    node = cluster.nodes[0]
    ctx = ssl.create_default_context(cafile=str(cluster.paths.master_dir / "pki" / "ca.crt"))
    ctx.check_hostname = False

    def get(path: str) -> str:
        with urllib.request.urlopen(f"https://{node.ip}:10250{path}", context=ctx, timeout=5) as resp:
            return resp.read().decode()

    assert await asyncio.to_thread(netns.run_in, node.netns, lambda: get("/healthz")) == "ok"
    text = await asyncio.to_thread(netns.run_in, node.netns, lambda: get("/metrics"))
    for family in ("kubelet_runtime_operations_duration_seconds", "kubelet_pod_start_duration_seconds",
                   "kubelet_running_pods", "kubelet_running_containers", "picluster_node_memory_available_bytes",
                   "picluster_node_cpu_usage_ratio", "kubeproxy_sync_proxy_rules_duration_seconds"):
        assert family in text, family


async def test_top_nodes_and_pods_show_real_numbers(api: ApiClient, cluster: Testbed) -> None:
    """``pictl top`` reads the agents' /metrics/resource through the apiserver's nodes/proxy."""
    import re
    import subprocess

    from tests.fixtures.apiserver import PICTL

    # ~20 MB held in a shell variable, and a little CPU every 0.2 s.
    script = ("x=$(head -c 20000000 /dev/zero | tr '\\0' a); "
              "while true; do i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; sleep 0.2; done")
    await api.create(pod("burner", [busybox(script, name="burn")]))
    await running(api, "burner")

    def top(*args: str) -> list[list[str]]:
        out = subprocess.run([str(PICTL), "--kubeconfig", str(cluster.kubeconfig), "top", *args, "--window", "2",
                              "--no-headers"], capture_output=True, text=True, timeout=60, check=True).stdout
        return [line.split() for line in out.splitlines() if line.strip()]

    async def nodes_known() -> list[list[str]] | None:
        rows = await asyncio.to_thread(top, "nodes")
        return rows if rows and all("<unknown>" not in r for r in rows) else None

    rows = await until(nodes_known, 60, "every node's usage")
    assert {r[0] for r in rows} == {n.name for n in cluster.nodes}
    for _name, cpu, cpu_pct, mem, mem_pct in rows:
        assert re.fullmatch(r"\d+m", cpu) and re.fullmatch(r"\d+%", cpu_pct), rows
        assert re.fullmatch(r"[1-9]\d*Mi", mem) and re.fullmatch(r"\d+%", mem_pct), rows

    async def burner_busy() -> list[str] | None:
        rows = await asyncio.to_thread(top, "pods", "--containers")
        row = next((r for r in rows if r[:2] == ["burner", "burn"]), None)
        return row if row is not None and int(row[2].rstrip("m")) > 0 and int(row[3].rstrip("Mi")) >= 10 else None

    row = await until(burner_busy, 60, "the burner's CPU and memory")
    assert re.fullmatch(r"\d+m", row[2]) and re.fullmatch(r"\d+Mi", row[3])
