"""What only real containerd can show: cgroup limits, OOM kills, bind mounts, the pod network,
pod cgroups, and the CRI metrics of real calls.

The pod network is checked with curl from inside the node (the host's busybox-static wget
segfaults in this VM).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from agent.kubelet.cri import (
    ContainerConfig,
    ContainerState,
    Mount,
    Resources,
    SandboxState,
    UnavailableError,
)
from agent.kubelet.cri.containerd import ContainerdRuntime
from agent.kubelet.cri.metrics import RuntimeMetrics
from hw.testbed import Testbed
from tests.unit.agent.kubelet.cri_contract.contract import Harness, eventually, wait_state

CGROUP_V2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")


async def test_resources_reach_the_cgroup(harness: Harness) -> None:
    sid, sc = await harness.run_sandbox()
    limits = Resources(cpu_shares=256, cpu_period=100000, cpu_quota=50000, memory_limit_bytes=64 << 20)
    cid = await harness.start(sid, sc, "app", ["sleep", "3600"], resources=limits)
    # cgroup v1 (this VM) or v2 (Raspberry Pi OS): print whichever files exist.
    script = (
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us "
        "/sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max 2>/dev/null; true"
    )
    out = (
        (await harness.runtime.exec_sync(cid, ["sh", "-c", script], timeout_seconds=10))
        .stdout.decode()
        .split()
    )
    if CGROUP_V2:  # memory.max, then cpu.max's "quota period"
        assert out == [str(64 << 20), "50000", "100000"]
    else:
        assert out == [str(64 << 20), "50000", "256"]


async def test_oom_kill_is_reported(harness: Harness) -> None:
    sid, sc = await harness.run_sandbox()
    hog = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"
    cid = await harness.start(
        sid, sc, "hog", ["sh", "-c", hog], resources=Resources(memory_limit_bytes=16 << 20)
    )
    st = await wait_state(harness.runtime, cid, ContainerState.EXITED)
    assert (st.exit_code, st.reason) == (137, "OOMKilled")


async def test_bind_mounts_working_dir_env_and_hostname(harness: Harness, tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "hello").write_text("from the node\n")
    sid, sc = await harness.run_sandbox()
    cid = await harness.start(
        sid,
        sc,
        "app",
        ["sleep", "3600"],
        mounts=(Mount("/data", str(volume), readonly=True),),
        working_dir="/data",
        env={"GREETING": "hi"},
    )
    rt = harness.runtime
    r = await rt.exec_sync(
        cid, ["sh", "-c", "pwd; cat hello; echo $GREETING; cat /etc/hostname"], timeout_seconds=10
    )
    assert r.stdout.decode().splitlines() == ["/data", "from the node", "hi", sc.hostname]
    r = await rt.exec_sync(cid, ["sh", "-c", "echo x > /data/new"], timeout_seconds=10)
    assert r.exit_code != 0 and b"Read-only file system" in r.stderr


async def test_the_pod_answers_on_its_ip_inside_the_node(harness: Harness, cri_testbed: Testbed) -> None:
    rt = harness.runtime
    sid, sc = await harness.run_sandbox(hostname="web-abc")
    cid = await rt.create_container(sid, ContainerConfig(name="web", image="localhost/web:1"), sc)
    await rt.start_container(cid)
    ip = (await rt.sandbox_status(sid)).ip

    async def fetch() -> str | None:
        r = await asyncio.to_thread(
            cri_testbed.exec, "pi-1", ["curl", "-sS", "--max-time", "2", f"http://{ip}:8080/"]
        )
        return r.stdout.decode().strip() if r.returncode == 0 else None

    assert await eventually(fetch) == "1 web-abc"
    # The web image traps TERM, so a graceful stop ends with 0 long before the grace period.
    await rt.stop_container(cid, grace_period=30)
    assert (await rt.container_status(cid)).exit_code == 0


@pytest.fixture
def cgroup_parent() -> Iterator[str]:
    top = f"picluster-cri-{uuid.uuid4().hex[:8]}"
    yield f"/{top}/pod1"
    # runc creates the parent directories under every controller and leaves them behind; the
    # test has removed its sandbox by now, so they are empty.
    for base in glob.glob(f"/sys/fs/cgroup/*/{top}") + glob.glob(f"/sys/fs/cgroup/{top}"):
        for dirpath, _dirs, _files in sorted(os.walk(base), key=lambda w: -w[0].count("/")):
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)


async def test_cgroup_parent(harness: Harness, cgroup_parent: str) -> None:
    try:
        sid, sc = await harness.run_sandbox(cgroup_parent=cgroup_parent)
        cid = await harness.start(sid, sc, "app", ["sleep", "3600"])
        r = await harness.runtime.exec_sync(cid, ["cat", "/proc/self/cgroup"], timeout_seconds=10)
        assert cgroup_parent in r.stdout.decode()
    finally:
        await harness.cleanup()  # before the fixture removes the (then empty) cgroups


async def test_metrics_of_real_calls(pi1_address: str, harness: Harness) -> None:
    registry = CollectorRegistry()
    rt = ContainerdRuntime(pi1_address, metrics=RuntimeMetrics(registry))
    try:
        await rt.version()
        await rt.list_sandboxes()
        assert await rt.image_status("localhost/nosuch:1") is None
        await rt.stop_container("a" * 64, grace_period=0)  # NotFound, swallowed but counted as an error
    finally:
        await rt.close()
    get = registry.get_sample_value
    for op in ("version", "list_podsandbox", "image_status", "stop_container"):
        assert get("kubelet_runtime_operations_total", {"operation_type": op}) == 1
        assert get("kubelet_runtime_operations_duration_seconds_count", {"operation_type": op}) == 1
    assert get("kubelet_runtime_operations_errors_total", {"operation_type": "stop_container"}) == 1
    assert get("kubelet_runtime_operations_errors_total", {"operation_type": "version"}) is None


async def test_containerd_restart_keeps_pods_and_the_client_reconnects(
    harness: Harness, cri_testbed: Testbed
) -> None:
    rt = harness.runtime
    sid, sc = await harness.run_sandbox()
    cid = await harness.start(sid, sc, "app", ["sleep", "3600"])
    await asyncio.to_thread(cri_testbed.fault, "pi-1", "kill-containerd")
    try:
        with pytest.raises(UnavailableError):
            await rt.version()
    finally:
        await asyncio.to_thread(cri_testbed.fault, "pi-1", "start-containerd")

    async def running() -> bool:
        try:
            return (await rt.container_status(cid)).state is ContainerState.RUNNING
        except UnavailableError:
            return False

    # The same client, the same objects: shims kept the containers alive while containerd was down.
    assert await eventually(running)
    assert (await rt.sandbox_status(sid)).state is SandboxState.READY
