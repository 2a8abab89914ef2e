"""The pod syncer on a real containerd (one testbed node, no master, the testbed's CNI config).

What the fake cannot show: volumes really mounted and readable in the container, env in the
process, cgroup limits applied, CRI log files in the kubelet's layout, TERM then KILL with real
processes, OOMKilled, and a new agent adopting what runs. Every test removes its pods (an orphan
sync), and the testbed goes at the end of the module.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import pytest

from agent.kubelet import logs
from agent.kubelet.cri.containerd import ContainerdRuntime
from agent.kubelet.cri.types import ContainerState
from agent.kubelet.logs import LogOptions
from agent.kubelet.podsync import SyncResult
from hw.testbed import Testbed
from master.api import meta
from master.api.core import ConfigMap, Pod, Secret
from master.util.clock import RealClock
from tests.unit.agent.kubelet.kubelet_helpers import SyncHarness, container, make_pod

pytestmark = [pytest.mark.root, pytest.mark.containerd, pytest.mark.slow]


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, containerd)"
    for tool in ("containerd", "runc", "ctr", "nsenter"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    return None


@pytest.fixture(scope="module")
def node() -> Iterator[Testbed]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    tb = Testbed(f"kc{uuid.uuid4().hex[:6]}")
    try:
        tb.up(nodes=1, master=False, agents=False)
        yield tb
    finally:
        tb.down()


@dataclass
class RealHarness(SyncHarness):
    made: list[str] = field(default_factory=list)  # uids to remove at the end


@pytest.fixture
async def h(node: Testbed, tmp_path: Path) -> AsyncIterator[RealHarness]:
    rt = ContainerdRuntime(node.node("pi-1").containerd_address)
    harness = RealHarness(tmp_path, clock=RealClock(), runtime=rt)  # type: ignore[arg-type]
    harness.syncer.runtime_name = "containerd"
    try:
        yield harness
    finally:
        for uid in harness.made:
            await harness.syncer.sync(None, uid)
        await harness.probes.stop()
        await rt.close()


async def start(h: RealHarness, pod: Pod, within: float = 60.0) -> SyncResult:
    h.made.append(pod.metadata.uid)
    deadline = time.monotonic() + within
    while True:
        r = await h.sync(pod)
        if r.running or time.monotonic() > deadline:
            return r
        await _sleep(0.2)


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


def cid_of(result: SyncResult) -> str:
    assert result.status is not None
    return result.status.container_statuses[0].container_id.partition("://")[2]


async def run(h: RealHarness, cid: str, script: str) -> str:
    r = await h.runtime.exec_sync(cid, ["sh", "-c", script], 10)
    return (r.stdout + r.stderr).decode().strip()


async def test_volumes_env_and_limits_in_a_real_container(h: RealHarness, tmp_path: Path) -> None:
    h.config.add(ConfigMap(metadata=meta.ObjectMeta(name="cfg", namespace="default"), data={"color": "blue"}))
    h.config.add(Secret(metadata=meta.ObjectMeta(name="sec", namespace="default"),
                        data={"password": base64.b64encode(b"s3cret").decode()}))
    host = tmp_path / "host"
    host.mkdir()
    (host / "hello").write_text("from the node")
    c = container(
        image="localhost/busybox:latest", imagePullPolicy="IfNotPresent", command=["sleep", "3600"],
        env=[{"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}}},
             {"name": "GREETING", "value": "hi $(COLOR)"}],
        volumeMounts=[{"name": "cfg", "mountPath": "/etc/cfg"}, {"name": "sec", "mountPath": "/etc/sec"},
                      {"name": "scratch", "mountPath": "/scratch"}, {"name": "host", "mountPath": "/host"}],
        resources={"limits": {"memory": "64Mi", "cpu": "500m"}},
    )
    pod = make_pod(containers=[c], volumes=[
        {"name": "cfg", "configMap": {"name": "cfg"}}, {"name": "sec", "secret": {"secretName": "sec"}},
        {"name": "scratch", "emptyDir": {}}, {"name": "host", "hostPath": {"path": str(host)}}],
        terminationGracePeriodSeconds=1)  # sleep as PID 1 ignores TERM: the teardown's kill waits it out
    r = await start(h, pod)
    assert r.running, r
    cid = cid_of(r)
    assert await run(h, cid, "echo $COLOR/$GREETING") == "blue/hi blue"
    assert await run(h, cid, "cat /etc/cfg/color /etc/sec/password /host/hello") == "blues3cretfrom the node"
    assert "rc=0" not in await run(h, cid, "touch /etc/cfg/x 2>/dev/null; echo rc=$?")  # read-only
    assert await run(h, cid, "echo ok > /scratch/f && cat /scratch/f") == "ok"
    limit = await run(h, cid, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max")
    assert limit == str(64 << 20)


async def test_logs_are_written_in_the_kubelets_layout(h: RealHarness) -> None:
    c = container(image="localhost/busybox:latest", imagePullPolicy="IfNotPresent",
                  command=["sh", "-c", "echo one; echo two >&2; sleep 3600"])
    pod = make_pod(containers=[c], terminationGracePeriodSeconds=1)
    r = await start(h, pod)
    st = await h.runtime.container_status(cid_of(r))
    m = pod.metadata
    assert st.log_path == str(h.settings.log_root / f"{m.namespace}_{m.name}_{m.uid}" / "app" / "0.log")
    deadline = time.monotonic() + 10
    text = ""
    while time.monotonic() < deadline and "two" not in text:
        text = b"".join([c async for c in logs.read(st.log_path, LogOptions())]).decode()
        await _sleep(0.1)
    assert text.splitlines() == ["one", "two"] or sorted(text.splitlines()) == ["one", "two"]


async def test_delete_sends_term_then_kill(h: RealHarness) -> None:
    polite = make_pod("polite", containers=[container(image="localhost/web:1")])
    stubborn = make_pod("stubborn", containers=[container(image="localhost/busybox:latest",
                                                          imagePullPolicy="IfNotPresent",
                                                          command=["sh", "-c", "trap '' TERM; while true; do sleep 1; done"])],
                        terminationGracePeriodSeconds=2)
    await start(h, polite)
    await start(h, stubborn)
    results = {}
    for pod in (polite, stubborn):
        deleting = msgspec.structs.replace(pod, metadata=msgspec.structs.replace(
            pod.metadata, deletion_timestamp="2030-01-01T00:00:00Z", deletion_grace_period_seconds=2))
        t0 = time.monotonic()
        r = await h.sync(deleting)
        results[pod.metadata.name] = (r, time.monotonic() - t0)
    polite_r, _ = results["polite"]
    stubborn_r, _ = results["stubborn"]
    assert polite_r.terminated and polite_r.status.container_statuses[0].state.terminated.exit_code == 0
    assert stubborn_r.terminated and stubborn_r.status.container_statuses[0].state.terminated.exit_code == 137


async def test_oom_killed_container(h: RealHarness) -> None:
    c = container(image="localhost/busybox:latest", imagePullPolicy="IfNotPresent",
                  command=["sh", "-c", "x=a; while true; do x=$x$x; done"], resources={"limits": {"memory": "16Mi"}})
    pod = make_pod(containers=[c], restartPolicy="Never")
    h.made.append(pod.metadata.uid)
    deadline = time.monotonic() + 60
    while True:
        r = await h.sync(pod)
        t = r.status.container_statuses[0].state.terminated
        if t is not None or time.monotonic() > deadline:
            break
        await _sleep(0.3)
    assert t is not None and t.reason == "OOMKilled" and r.status.phase == "Failed"


async def test_a_new_agent_adopts_the_running_pod(h: RealHarness, node: Testbed, tmp_path: Path) -> None:
    pod = make_pod("adopt", containers=[container(image="localhost/web:1")])
    r = await start(h, pod)
    before = [c.id for c in await h.runtime.list_containers(state=ContainerState.RUNNING)]
    rt2 = ContainerdRuntime(node.node("pi-1").containerd_address)
    again = SyncHarness(tmp_path, clock=h.clock, runtime=rt2)  # type: ignore[arg-type]
    try:
        r2 = await again.sync(pod)
        assert r2.running and cid_of(r2) == cid_of(r)
        assert r2.status is not None and r.status is not None and r2.status.pod_ip == r.status.pod_ip
        assert [c.id for c in await rt2.list_containers(state=ContainerState.RUNNING)] == before
    finally:
        await again.probes.stop()
        await rt2.close()
