"""Two ``pictl master --components scheduler`` processes against one apiserver: exactly one
schedules; kill -9 the leader and the other takes over within the lease duration."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from hw.testbed.hollow import HollowCluster
from master.api import coordination
from master.client.rest import ApiClient
from tests.fixtures.apiserver import PICTL, ROOT, Api
from tests.fixtures.ports import free_port
from tests.integration.scheduler.helpers_sched import bound, pod, wait_for

pytestmark = pytest.mark.slow

LEASE = ("--leader-elect-lease-duration", "3s", "--leader-elect-renew-deadline", "2s",
         "--leader-elect-retry-period", "250ms")


class Procs:
    def __init__(self, tmp: Path, kubeconfig: Path) -> None:
        self.tmp = tmp
        self.kubeconfig = kubeconfig
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, metrics: str = "off") -> subprocess.Popen[bytes]:
        cmd = [str(PICTL) if PICTL.exists() else sys.executable,
               *([] if PICTL.exists() else ["-m", "master.cli.main"]),
               "master", "--components", "scheduler", "--kubeconfig", str(self.kubeconfig),
               "--metrics-bind-address", metrics, *LEASE]
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process below
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()

    def leader(self) -> str | None:
        leaders = [n for n in self.procs if "is scheduling" in self.log(n) and self.procs[n].poll() is None]
        return leaders[0] if len(leaders) == 1 else None

    async def stop_all(self) -> None:
        """SIGTERM, then SIGKILL after 15 s; waits without blocking the in-process apiserver."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await wait_for(lambda: asyncio.sleep(0, all(p.poll() is not None for p in self.procs.values())), 15)
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)


@pytest.fixture
async def procs(apiserver: Api, tmp_path: Path) -> AsyncIterator[Procs]:
    p = Procs(tmp_path, apiserver.data_dir / "admin.kubeconfig")
    try:
        yield p
    finally:
        await p.stop_all()


@pytest.fixture
async def cluster(client: ApiClient) -> AsyncIterator[HollowCluster]:
    async with HollowCluster(client) as c:
        await c.add_nodes(2)
        yield c


async def holder(client: ApiClient) -> str:
    try:
        lease = await client.get(coordination.Lease, "kube-scheduler", namespace="kube-system")
    except Exception:
        return ""
    return lease.spec.holder_identity or ""


async def test_leader_hand_over_after_kill(client: ApiClient, cluster: HollowCluster, procs: Procs) -> None:
    port = free_port()
    procs.start("a", metrics=f"127.0.0.1:{port}")
    first = await wait_for(lambda: holder(client), within=30)
    procs.start("b")
    await wait_for(lambda: asyncio.sleep(0, procs.leader()), within=30)
    leader = procs.leader()
    assert leader == "a"
    await client.create(pod("before"))
    await bound(client, "before", within=30)
    await wait_for(lambda: asyncio.sleep(0, "the leader is" in procs.log("b")), within=30)
    assert "is scheduling" not in procs.log("b"), "exactly one scheduler is active"
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/metrics") as resp:
        text = await resp.text()
    assert 'scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"} 1.0' in text

    procs.procs["a"].kill()  # kill -9: no lease release
    await wait_for(lambda: asyncio.sleep(0, procs.procs["a"].poll() is not None), 10)
    await client.create(pod("after"))
    await bound(client, "after", within=30)
    assert "is scheduling" in procs.log("b")
    lease = await client.get(coordination.Lease, "kube-scheduler", namespace="kube-system")
    assert lease.spec.holder_identity not in ("", first)
    assert (lease.spec.lease_transitions or 0) >= 1
